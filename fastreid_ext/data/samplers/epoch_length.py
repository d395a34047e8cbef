"""Training iterations per epoch (``DATALOADER.EPOCH_LENGTH``): FastReID's, or the anchors' identity sampler's."""
from collections.abc import Sequence

from ..datasets.bases import INFRARED, VISIBLE


def _images(modalities, ims_per_batch):
    return len(modalities) // ims_per_batch


def _modality(modalities, ims_per_batch):
    larger = max(modalities.count(VISIBLE), modalities.count(INFRARED))
    return larger // (ims_per_batch // 2) + 1


# "images": FastReID's N_images // IMS_PER_BATCH. "modality": the identity sampler of the AGW, MMD-ReID and
# PAENet code, which draws max(N_visible, N_infrared) // (P K) + 1 batches of P x (K + K) images an epoch.
EPOCH_LENGTHS = {"images": _images, "modality": _modality}


def iterations_per_epoch(items: Sequence, ims_per_batch: int, length: str) -> int:
    """Iterations of one training epoch.

    Args:
        items: the training :class:`~fastreid_ext.data.datasets.bases.Item` s (or tuples in its order).
        ims_per_batch: the global batch, 2 * P * K images.
        length: a key of :data:`EPOCH_LENGTHS`.
    """
    if length not in EPOCH_LENGTHS:
        raise ValueError(f"DATALOADER.EPOCH_LENGTH {length!r}: expected one of {sorted(EPOCH_LENGTHS)}")
    return EPOCH_LENGTHS[length]([modality for _, _, _, modality, _ in items], ims_per_batch)
