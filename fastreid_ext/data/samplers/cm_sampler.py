"""Cross-modality identity sampler: P identities x (K visible + K infrared) images per batch (paper: P=8, K=4)."""
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Optional

import numpy as np
from fastreid.utils import comm
from torch.utils.data.sampler import Sampler

from ..datasets.bases import INFRARED, VISIBLE, Item
from . import SAMPLER_REGISTRY

logger = logging.getLogger(__name__)


@SAMPLER_REGISTRY.register()
class CrossModalityIdentitySampler(Sampler):
    """Infinite stream of training indices, ``mini_batch_size`` per batch, for FastReID's loader.

    Each batch holds P = ``mini_batch_size // (2 * num_instances)`` identities, laid out as a visible
    block then an infrared block with the identities in the same order::

        [id_1 vis x K, ..., id_P vis x K, id_1 ir x K, ..., id_P ir x K]

    An identity with fewer than K images of a modality is drawn with replacement; an identity
    missing a modality is left out (one warning names them all). Identities are shuffled in rounds,
    each cut to a multiple of P * world_size. With several ranks, ``SOLVER.IMS_PER_BATCH`` is the
    global batch: every rank draws the same global batch of P * world_size identities and their
    images, and rank r keeps every world_size-th identity, so the ranks' batches hold disjoint
    identities whose union is the one-process batch of the same seed, image for image.

    The stream is a function of ``(seed, epoch)`` only: ``set_epoch(e)`` makes the next ``iter()``
    start the fresh stream of epoch e, so a trainer that re-creates its iterator at each epoch
    boundary gets the same batches whether or not it was interrupted.

    Args:
        data_source: :class:`~fastreid_ext.data.datasets.bases.Item` s (or 5-tuples in its order).
        mini_batch_size: images per batch on this rank.
        num_instances: K, images per identity and modality.
        seed: shared by all ranks; None draws one shared seed.
        rank, world_size: default to ``fastreid.utils.comm``'s.
    """

    def __init__(self, data_source: Iterable[tuple], mini_batch_size: int, num_instances: int,
                 seed: Optional[int] = None, rank: Optional[int] = None, world_size: Optional[int] = None):
        if num_instances < 1 or mini_batch_size % (2 * num_instances) or mini_batch_size == 0:
            raise ValueError(f"mini_batch_size {mini_batch_size} must be a positive multiple of "
                             f"2 * num_instances = {2 * num_instances} (SOLVER.IMS_PER_BATCH per rank, "
                             f"DATALOADER.NUM_INSTANCE)")
        self.num_instances = num_instances
        self.num_pids_per_batch = mini_batch_size // (2 * num_instances)
        self._rank = comm.get_rank() if rank is None else rank
        self._world_size = comm.get_world_size() if world_size is None else world_size

        index = defaultdict(lambda: {VISIBLE: [], INFRARED: []})
        for i, item in enumerate(map(Item._make, data_source)):
            index[item.pid][item.modality].append(i)
        incomplete = sorted(pid for pid, by_modality in index.items() if not all(by_modality.values()))
        if incomplete:
            logger.warning("%d identities lack visible or infrared images and are left out of training "
                           "batches: %s", len(incomplete), ", ".join(map(str, incomplete)))
        self.pids = sorted(set(index) - set(incomplete))
        self._index = {pid: (index[pid][VISIBLE], index[pid][INFRARED]) for pid in self.pids}
        per_round = self.num_pids_per_batch * self._world_size
        if len(self.pids) < per_round:
            raise ValueError(f"{len(self.pids)} identities with both modalities, fewer than "
                             f"{self.num_pids_per_batch} per batch x {self._world_size} ranks")

        self._seed = int(comm.shared_random_seed() if seed is None else seed)
        self._epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The next ``iter()`` yields the stream of ``epoch``."""
        self._epoch = int(epoch)

    def __iter__(self):
        return self._infinite_indices(self._epoch)

    def _infinite_indices(self, epoch):
        # Both streams are shared by all ranks and do not depend on world_size (the image key's
        # trailing 0 keeps one-process runs drawing what they always drew).
        id_rng = np.random.default_rng([self._seed, epoch, 0])
        image_rng = np.random.default_rng([self._seed, epoch, 1, 0])
        per_round = self.num_pids_per_batch * self._world_size
        K = self.num_instances
        while True:
            order = id_rng.permutation(len(self.pids))
            order = order[:len(order) - len(order) % per_round]
            for start in range(0, len(order), per_round):
                pids = [self.pids[k] for k in order[start:start + per_round]]
                # self._index[pid] is (visible indices, infrared indices): the global batch's visible
                # draws, then its infrared ones; this rank keeps its identities, visible block first.
                draws = [[self._draw(image_rng, self._index[pid][m], K) for pid in pids] for m in (0, 1)]
                mine = slice(self._rank, None, self._world_size)
                yield from [i for m in (0, 1) for drawn in draws[m][mine] for i in drawn]

    @staticmethod
    def _draw(rng, indices, k):
        return [int(i) for i in rng.choice(indices, size=k, replace=len(indices) < k)]
