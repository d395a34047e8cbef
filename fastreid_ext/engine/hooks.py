"""Training hooks that FastReID lacks."""
import logging

import torch
from fastreid.engine.hooks import PeriodicWriter
from fastreid.engine.train_loop import HookBase
from fastreid.utils import comm
from torch import nn

from .seeding import derive_seed, seed_everything

logger = logging.getLogger(__name__)


class EpochReseed(HookBase):
    """Before each epoch: reseed every RNG from (SEED, epoch, rank) and restart the data stream.

    The batch sampler's ``set_epoch`` makes its batches, and the seed each item is augmented with,
    a function of the epoch (see :class:`~fastreid_ext.data.samplers.SeededBatchSampler`), so
    epoch e sees the same images and augmentations whether the run got there directly or was
    resumed at e, with persistent loader workers. This is what makes ``--resume`` exact.
    """

    def before_epoch(self) -> None:
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

    def before_train(self) -> None:
        self._first_iter = self.trainer.iter

    def after_step(self) -> None:
        super().after_step()
        it = self.trainer.iter
        if it == self._first_iter and (it + 1) % self._period and it != self.trainer.max_iter - 1:
            for writer in self._writers:
                writer.write()


class AMPSkippedSteps(HookBase):
    """Counts the steps the AMP GradScaler skipped (gradients with inf/NaN: the scale then drops) and
    puts the running count in the event storage as ``amp_skipped_steps`` (logged at the end)."""

    def __init__(self) -> None:
        self.skipped = 0
        self._scale = None

    def before_step(self) -> None:
        self._scale = self.trainer._trainer.grad_scaler.get_scale()

    def after_step(self) -> None:
        if self.trainer._trainer.grad_scaler.get_scale() < self._scale:
            self.skipped += 1
        self.trainer.storage.put_scalar("amp_skipped_steps", self.skipped, smoothing_hint=False)

    def after_train(self) -> None:
        logger.info("AMP: GradScaler skipped %d of %d steps", self.skipped, self.trainer.iter)


def attribute_predictor_stats(pooled: torch.Tensor, logits: torch.Tensor, weight: torch.Tensor) -> dict:
    """Why an attribute predictor may stall, from one training batch.

    pooled: (B, C) the pooled feature the predictor reads (before its own normalisation, if any);
    logits: (B, A) its output; weight: (A, C') its FC weight. Returns floats: ``mean_sq`` |mean f|^2
    (the energy of the batch mean), ``cov_trace`` trace of the feature covariance (the energy the
    attributes can be read from), ``weight_norm`` |W|_F and ``logit_spread`` the batch std of the
    logits averaged over attributes (0 when every image gets the same answer).
    """
    pooled, logits = pooled.detach().float(), logits.detach().float()
    mean = pooled.mean(dim=0)
    return {
        "mean_sq": float(mean.square().sum()),
        "cov_trace": float((pooled - mean).square().sum(dim=1).mean()),
        "weight_norm": float(weight.detach().float().norm()),
        "logit_spread": float(logits.std(dim=0).mean()),
    }


class AttributePredictorStats(HookBase):
    """After each epoch: :func:`attribute_predictor_stats` of the last training batch, logged and
    stored as ``attr_pred/<name>`` scalars (metrics.json, tensorboard). No-op without a predictor."""

    def before_train(self) -> None:
        heads = getattr(self.trainer.model, "module", self.trainer.model).heads
        self._predictor = getattr(heads, "attr_predictor", None)
        self._last = None
        if self._predictor is not None:
            self._handle = self._predictor.register_forward_hook(self._capture)

    def _capture(self, module, inputs, output):
        if module.training:
            self._last = (inputs[0], output)

    def after_epoch(self) -> None:
        if self._last is None:
            return
        fc = self._predictor[-1] if isinstance(self._predictor, nn.Sequential) else self._predictor
        stats = attribute_predictor_stats(*self._last, fc.weight)
        for name, value in stats.items():
            self.trainer.storage.put_scalar(f"attr_pred/{name}", value, smoothing_hint=False)
        logger.info("Epoch %d attribute predictor: %s", self.trainer.epoch,
                    ", ".join(f"{k} {v:.4g}" for k, v in stats.items()))

    def after_train(self) -> None:
        if self._predictor is not None:
            self._handle.remove()
