"""Train/test loaders for cross-modality data, in the style of ``fastreid.data.build``, on a plain
``DataLoader`` (FastReID's ``DataLoaderX`` needs CUDA); the training sampler is ``loader.batch_sampler.sampler``.
"""
import logging
import random

import numpy as np
import torch
from fastreid.config import CfgNode, configurable
from fastreid.data.build import fast_batch_collator
from fastreid.data.datasets import DATASET_REGISTRY
from fastreid.data.samplers import InferenceSampler
from fastreid.utils import comm

from .common import CMDataset
from .datasets.bases import CrossModalityDataset
from .samplers import SAMPLER_REGISTRY
from .transforms import build_cm_transforms

logger = logging.getLogger(__name__)


def build_cm_dataset(cfg: CfgNode, name: str) -> CrossModalityDataset:
    """The registered dataset ``name`` with its options from ``cfg`` (``DATASETS.ROOT``, ``DATASETS.<NAME>.*``)."""
    return DATASET_REGISTRY.get(name)(cfg)


def seed_worker(worker_id):
    """Seed ``random`` and ``numpy`` of a loader worker from its torch seed (itself drawn from the
    loader's ``generator``), so augmentation is a function of that generator."""
    seed = torch.initial_seed() % 2 ** 32
    random.seed(seed)
    np.random.seed(seed)


def _train_loader_from_config(cfg, *, train_set=None, transforms=None, sampler=None, generator=None):
    if train_set is None:
        transforms = build_cm_transforms(cfg, is_train=True) if transforms is None else transforms
        items = []
        for name in cfg.DATASETS.NAMES:
            data = build_cm_dataset(cfg, name)
            if comm.is_main_process():
                data.show_train()
            items.extend(data.train)
        train_set = CMDataset(items, transforms, relabel=True)
    if sampler is None:
        mini_batch_size = cfg.SOLVER.IMS_PER_BATCH // comm.get_world_size()
        logger.info("Using training sampler %s", cfg.DATALOADER.SAMPLER_TRAIN)
        sampler = SAMPLER_REGISTRY.get(cfg.DATALOADER.SAMPLER_TRAIN)(
            train_set.img_items, mini_batch_size, cfg.DATALOADER.NUM_INSTANCE,
            seed=cfg.SEED if cfg.SEED >= 0 else None)
    return {
        "train_set": train_set,
        "sampler": sampler,
        "total_batch_size": cfg.SOLVER.IMS_PER_BATCH,
        "num_workers": cfg.DATALOADER.NUM_WORKERS,
        "generator": generator,
    }


@configurable(from_config=_train_loader_from_config)
def build_cm_train_loader(train_set, *, sampler, total_batch_size, num_workers=0, generator=None):
    """Infinite training loader of batch dicts (see :class:`CMDataset`), ``total_batch_size / world_size`` per rank.

    ``generator`` (a ``torch.Generator``) seeds the workers; without one they draw from torch's global RNG.
    """
    mini_batch_size = total_batch_size // comm.get_world_size()
    batch_sampler = torch.utils.data.BatchSampler(sampler, mini_batch_size, drop_last=True)
    return torch.utils.data.DataLoader(
        train_set, batch_sampler=batch_sampler, num_workers=num_workers, collate_fn=fast_batch_collator,
        worker_init_fn=seed_worker, generator=generator, pin_memory=torch.cuda.is_available())


def _test_loader_from_config(cfg, items, *, transforms=None):
    transforms = build_cm_transforms(cfg, is_train=False) if transforms is None else transforms
    return {
        "test_set": CMDataset(items, transforms, relabel=False),
        "test_batch_size": cfg.TEST.IMS_PER_BATCH,
        "num_workers": cfg.DATALOADER.NUM_WORKERS,
    }


@configurable(from_config=_test_loader_from_config)
def build_cm_test_loader(test_set, *, test_batch_size, num_workers=0):
    """Loader over ``test_set`` in order (``build_cm_test_loader(cfg, query + gallery)``), each rank a share."""
    batch_sampler = torch.utils.data.BatchSampler(
        InferenceSampler(len(test_set)), test_batch_size // comm.get_world_size(), drop_last=False)
    return torch.utils.data.DataLoader(
        test_set, batch_sampler=batch_sampler, num_workers=num_workers, collate_fn=fast_batch_collator,
        pin_memory=torch.cuda.is_available())
