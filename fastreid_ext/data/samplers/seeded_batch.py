"""``SeededBatchSampler``: batches of ``(index, seed)`` pairs, so augmentation is a function of the epoch."""
from collections.abc import Iterator

import numpy as np
from torch.utils.data import BatchSampler, Sampler


class SeededBatchSampler(BatchSampler):
    """A ``BatchSampler`` whose items carry their augmentation seed: ``[(index, seed), ...]``.

    The seeds are a function of ``(seed, epoch, rank)`` and the item's place in the epoch's stream,
    never of the worker that loads the item, so loader workers can persist across epochs
    (``persistent_workers``), any number of them gives the same batches, and a run resumed at an
    epoch boundary sees the images and augmentations it would have seen. :class:`CMDataset` seeds
    its RNGs with the item's seed before transforming it.

    Args:
        sampler: index stream; its ``set_epoch`` (if any) is called by :meth:`set_epoch`.
        batch_size: items per batch on this rank.
        seed, rank: the run seed and this process's rank.
    """

    def __init__(self, sampler: Sampler, batch_size: int, seed: int, rank: int = 0):
        super().__init__(sampler, batch_size, drop_last=True)
        self.seed = int(seed)
        self.rank = int(rank)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The next ``iter()`` yields the batches (and seeds) of ``epoch``."""
        self.epoch = int(epoch)
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        rng = np.random.default_rng([self.seed, self.epoch, 2, self.rank])
        for batch in super().__iter__():
            yield list(zip(batch, rng.integers(0, 2 ** 32, size=len(batch)).tolist()))
