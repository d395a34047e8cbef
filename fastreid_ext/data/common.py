"""``CMDataset``: FastReID's ``CommDataset`` for cross-modality items, returning the batch-dict fields."""
import torch
from fastreid.data.common import CommDataset

from .data_utils import read_image
from .datasets.bases import Item


class CMDataset(CommDataset):
    """Items: :class:`~fastreid_ext.data.datasets.bases.Item` (or 5-tuples in its order); ``transform(img, modality)``.

    ``__getitem__`` returns ``images`` ((3, H, W) float, 0..255), ``targets`` (pid, relabelled to
    0..N-1 when ``relabel``), ``camids`` (relabelled likewise), ``modalities`` (0 visible,
    1 infrared), ``img_paths`` and, when the items have attributes, ``attributes`` ((A,) float32).
    Items must have attributes for every identity or for none.
    """

    def __init__(self, img_items, transform=None, relabel=True):
        img_items = [Item._make(item) for item in img_items]
        super().__init__(img_items, transform, relabel)
        without = sorted({str(item.pid) for item in img_items if item.attributes is None})
        self.has_attributes = any(item.attributes is not None for item in img_items)
        if self.has_attributes and without:
            raise ValueError(f"some identities have attributes and these have none: {without[:10]}"
                             f"{' ...' if len(without) > 10 else ''}")
        lengths = {len(item.attributes) for item in img_items} if self.has_attributes else set()
        if len(lengths) > 1:
            raise ValueError(f"items have attribute vectors of different lengths {sorted(lengths)}")

    def __getitem__(self, index):
        img_path, pid, camid, modality, attributes = self.img_items[index]
        img = read_image(img_path)
        if self.transform is not None:
            img = self.transform(img, modality)
        if self.relabel:
            pid = self.pid_dict[pid]
            camid = self.cam_dict[camid]
        data = {"images": img, "targets": pid, "camids": camid, "modalities": modality, "img_paths": img_path}
        if self.has_attributes:
            data["attributes"] = torch.as_tensor(attributes, dtype=torch.float32)
        return data
