"""Train/test loaders for cross-modality data, in the style of ``fastreid.data.build``, on a plain
``DataLoader`` (FastReID's ``DataLoaderX`` needs CUDA); training batches come from ``loader.batch_sampler``
(a :class:`SeededBatchSampler`: ``set_epoch`` before re-creating the iterator), with persistent workers.
"""
import logging
import os
from collections.abc import Iterable

import torch
import torchvision.transforms as T
from fastreid.config import CfgNode, configurable
from fastreid.data.build import fast_batch_collator
from fastreid.data.datasets import DATASET_REGISTRY
from fastreid.data.samplers import InferenceSampler
from fastreid.utils import comm

from .common import CMDataset
from .datasets.bases import CrossModalityDataset
from .image_cache import ImageCache
from .samplers import SAMPLER_REGISTRY, SeededBatchSampler
from .transforms import CrossModalityTransform, build_cm_transforms

logger = logging.getLogger(__name__)


def build_cm_dataset(cfg: CfgNode, name: str) -> CrossModalityDataset:
    """The registered dataset ``name`` with its options from ``cfg`` (``DATASETS.ROOT``, ``DATASETS.<NAME>.*``)."""
    return DATASET_REGISTRY.get(name)(cfg)


def resolve_num_workers(num_workers: int) -> int:
    """``DATALOADER.NUM_WORKERS``; -1 ("auto"): the CPUs this process may use, shared by the training
    processes of this machine, less one for the process itself (at least 1)."""
    if num_workers >= 0:
        return num_workers
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cpus // max(1, comm.get_local_size()) - 1)


def build_image_cache(items: Iterable[tuple], transforms: CrossModalityTransform, num_workers: int) -> ImageCache:
    """An :class:`ImageCache` of ``items`` resized by the first step of ``transforms`` (which must be a
    ``Resize``, so applying it again to a cached image changes nothing)."""
    first = transforms.common.transforms[0]
    if not isinstance(first, T.Resize):
        raise ValueError(f"DATALOADER.CACHE_IMAGES caches resized images, but the training pipeline starts "
                         f"with {type(first).__name__}, not a Resize (turn off INPUT.AUTOAUG or "
                         "DATALOADER.CACHE_IMAGES)")
    return ImageCache([item[0] for item in items], first.size, first, threads=num_workers)


def _train_loader_from_config(cfg, *, train_set=None, transforms=None, sampler=None):
    num_workers = resolve_num_workers(cfg.DATALOADER.NUM_WORKERS)
    if train_set is None:
        transforms = build_cm_transforms(cfg, is_train=True) if transforms is None else transforms
        items = []
        for name in cfg.DATASETS.NAMES:
            data = build_cm_dataset(cfg, name)
            if comm.is_main_process():
                data.show_train()
            items.extend(data.train)
        cache = build_image_cache(items, transforms, num_workers) if cfg.DATALOADER.CACHE_IMAGES else None
        train_set = CMDataset(items, transforms, relabel=True, image_cache=cache)
    seed = cfg.SEED if cfg.SEED >= 0 else comm.shared_random_seed()
    if sampler is None:
        mini_batch_size = cfg.SOLVER.IMS_PER_BATCH // comm.get_world_size()
        logger.info("Using training sampler %s", cfg.DATALOADER.SAMPLER_TRAIN)
        sampler = SAMPLER_REGISTRY.get(cfg.DATALOADER.SAMPLER_TRAIN)(
            train_set.img_items, mini_batch_size, cfg.DATALOADER.NUM_INSTANCE, seed=seed)
    return {
        "train_set": train_set,
        "sampler": sampler,
        "total_batch_size": cfg.SOLVER.IMS_PER_BATCH,
        "num_workers": num_workers,
        "seed": seed,
    }


@configurable(from_config=_train_loader_from_config)
def build_cm_train_loader(train_set: torch.utils.data.Dataset, *, sampler: torch.utils.data.Sampler,
                          total_batch_size: int, seed: int, num_workers: int = 0) -> torch.utils.data.DataLoader:
    """Infinite training loader of batch dicts (see :class:`CMDataset`), ``total_batch_size / world_size`` per rank.

    Every item is transformed under its own seed, drawn from ``(seed, epoch, rank)`` by the
    :class:`SeededBatchSampler`, so the batches do not depend on ``num_workers`` and the workers persist.
    """
    mini_batch_size = total_batch_size // comm.get_world_size()
    batch_sampler = SeededBatchSampler(sampler, mini_batch_size, seed, comm.get_rank())
    return torch.utils.data.DataLoader(
        train_set, batch_sampler=batch_sampler, num_workers=num_workers, collate_fn=fast_batch_collator,
        persistent_workers=num_workers > 0, pin_memory=torch.cuda.is_available())


def _test_loader_from_config(cfg, items, *, transforms=None):
    transforms = build_cm_transforms(cfg, is_train=False) if transforms is None else transforms
    return {
        "test_set": CMDataset(items, transforms, relabel=False),
        "test_batch_size": cfg.TEST.IMS_PER_BATCH,
        "num_workers": resolve_num_workers(cfg.DATALOADER.NUM_WORKERS),
    }


@configurable(from_config=_test_loader_from_config)
def build_cm_test_loader(test_set: torch.utils.data.Dataset, *, test_batch_size: int,
                         num_workers: int = 0) -> torch.utils.data.DataLoader:
    """Loader over ``test_set`` in order (``build_cm_test_loader(cfg, query + gallery)``), each rank a share."""
    batch_sampler = torch.utils.data.BatchSampler(
        InferenceSampler(len(test_set)), test_batch_size // comm.get_world_size(), drop_last=False)
    return torch.utils.data.DataLoader(
        test_set, batch_sampler=batch_sampler, num_workers=num_workers, collate_fn=fast_batch_collator,
        pin_memory=torch.cuda.is_available())
