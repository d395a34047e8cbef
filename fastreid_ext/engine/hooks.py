"""Training hooks that FastReID lacks."""
from fastreid.engine.hooks import PeriodicWriter
from fastreid.engine.train_loop import HookBase
from fastreid.utils import comm

from .seeding import derive_seed, seed_everything


class EpochReseed(HookBase):
    """Before each epoch: reseed every RNG from (SEED, epoch, rank) and restart the data stream.

    The sampler's ``set_epoch`` makes its batches a function of the epoch, and the loader's
    workers draw their seeds from the freshly seeded torch RNG, so epoch e sees the same images
    and augmentations whether the run got there directly or was resumed at e. This is what makes
    ``--resume`` exact.
    """

    def before_epoch(self):
        trainer = self.trainer
        seed_everything(derive_seed(trainer.cfg.SEED, trainer.epoch, comm.get_rank()))
        loader = trainer.data_loader
        sampler = loader.sampler if loader.batch_sampler is None else loader.batch_sampler.sampler
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(trainer.epoch)
        trainer._trainer._data_loader_iter = iter(loader)


class FirstIterationWriter(PeriodicWriter):
    """FastReID's ``PeriodicWriter`` (every ``SOLVER.LOG_PERIOD`` iterations and after the last), which also
    writes after the first iteration of a run, so that a new or resumed run shows its losses at once."""

    def before_train(self):
        self._first_iter = self.trainer.iter

    def after_step(self):
        super().after_step()
        it = self.trainer.iter
        if it == self._first_iter and (it + 1) % self._period and it != self.trainer.max_iter - 1:
            for writer in self._writers:
                writer.write()
