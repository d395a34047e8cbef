"""Training hooks that FastReID lacks."""
import logging

from fastreid.engine.hooks import PeriodicWriter
from fastreid.engine.train_loop import HookBase
from fastreid.utils import comm

from .seeding import derive_seed, seed_everything

logger = logging.getLogger(__name__)


class EpochReseed(HookBase):
    """Before each epoch: reseed every RNG from (SEED, epoch, rank) and restart the data stream.

    The batch sampler's ``set_epoch`` makes its batches, and the seed each item is augmented with,
    a function of the epoch (see :class:`~fastreid_ext.data.samplers.SeededBatchSampler`), so
    epoch e sees the same images and augmentations whether the run got there directly or was
    resumed at e, with persistent loader workers. This is what makes ``--resume`` exact.
    """

    def before_epoch(self):
        trainer = self.trainer
        seed_everything(derive_seed(trainer.cfg.SEED, trainer.epoch, comm.get_rank()))
        loader = trainer.data_loader
        sampler = loader.batch_sampler
        if not hasattr(sampler, "set_epoch"):
            sampler = loader.sampler if sampler is None else sampler.sampler
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


class AMPSkippedSteps(HookBase):
    """Counts the steps the AMP GradScaler skipped (gradients with inf/NaN: the scale then drops) and
    puts the running count in the event storage as ``amp_skipped_steps`` (logged at the end)."""

    def __init__(self):
        self.skipped = 0
        self._scale = None

    def before_step(self):
        self._scale = self.trainer._trainer.grad_scaler.get_scale()

    def after_step(self):
        if self.trainer._trainer.grad_scaler.get_scale() < self._scale:
            self.skipped += 1
        self.trainer.storage.put_scalar("amp_skipped_steps", self.skipped, smoothing_hint=False)

    def after_train(self):
        logger.info("AMP: GradScaler skipped %d of %d steps", self.skipped, self.trainer.iter)
