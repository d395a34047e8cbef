"""``CMDataset``: FastReID's ``CommDataset`` for cross-modality items, returning the batch-dict fields."""
import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Callable, Optional

import numpy as np
import torch
from fastreid.data.common import CommDataset

from .data_utils import read_image
from .datasets.bases import Item
from .image_cache import ImageCache


@contextmanager
def seeded_rngs(seed: int) -> Iterator[None]:
    """Seed python's, numpy's and torch's CPU RNGs with ``seed`` inside the block, then restore them."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


class CMDataset(CommDataset):
    """Items: :class:`~fastreid_ext.data.datasets.bases.Item` (or 5-tuples in its order); ``transform(img, modality)``.

    ``__getitem__`` returns ``images`` ((3, H, W) float, 0..255), ``targets`` (pid, relabelled to
    0..N-1 when ``relabel``), ``camids`` (relabelled likewise), ``modalities`` (0 visible,
    1 infrared), ``img_paths`` and, when the items have attributes, ``attributes`` ((A,) float32).
    Items must have attributes for every identity or for none.

    ``dataset[(index, seed)]`` (what :class:`~fastreid_ext.data.samplers.SeededBatchSampler` yields)
    transforms item ``index`` with the RNGs seeded by ``seed``. ``image_cache`` (an
    :class:`~fastreid_ext.data.image_cache.ImageCache` of the items' paths, in order) replaces
    reading the files.
    """

    def __init__(self, img_items: Iterable[tuple], transform: Optional[Callable] = None, relabel: bool = True,
                 image_cache: Optional[ImageCache] = None):
        img_items = [Item._make(item) for item in img_items]
        super().__init__(img_items, transform, relabel)
        if image_cache is not None and len(image_cache) != len(img_items):
            raise ValueError(f"image_cache holds {len(image_cache)} images for {len(img_items)} items")
        self.image_cache = image_cache
        without = sorted({str(item.pid) for item in img_items if item.attributes is None})
        self.has_attributes = any(item.attributes is not None for item in img_items)
        if self.has_attributes and without:
            raise ValueError(f"some identities have attributes and these have none: {without[:10]}"
                             f"{' ...' if len(without) > 10 else ''}")
        lengths = {len(item.attributes) for item in img_items} if self.has_attributes else set()
        if len(lengths) > 1:
            raise ValueError(f"items have attribute vectors of different lengths {sorted(lengths)}")

    def __getitem__(self, index):
        if isinstance(index, tuple):
            index, seed = index
            with seeded_rngs(seed):
                return self[index]
        img_path, pid, camid, modality, attributes = self.img_items[index]
        img = read_image(img_path) if self.image_cache is None else self.image_cache[index]
        if self.transform is not None:
            img = self.transform(img, modality)
        if self.relabel:
            pid = self.pid_dict[pid]
            camid = self.cam_dict[camid]
        data = {"images": img, "targets": pid, "camids": camid, "modalities": modality, "img_paths": img_path}
        if self.has_attributes:
            data["attributes"] = torch.as_tensor(attributes, dtype=torch.float32)
        return data
