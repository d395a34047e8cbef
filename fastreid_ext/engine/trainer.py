"""``CMTrainer``: FastReID's DefaultTrainer with cross-modality data, evaluation and checkpoints."""
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

import torch
from fastreid.config import CfgNode
from fastreid.engine import DefaultTrainer
from fastreid.engine import hooks as fr_hooks
from fastreid.solver import build_optimizer
from fastreid.utils import comm

from ..data import build_cm_dataset, build_cm_test_loader, build_cm_train_loader
from ..data.samplers import iterations_per_epoch
from ..evaluation import CrossModalityEvaluator, extract
from ..evaluation.extractor import concat_results
from ..utils import ConfigError
from .checkpoint import CMCheckpointer
from .hooks import AMPSkippedSteps, AttributePredictorStats, EpochReseed, FirstIterationWriter

logger = logging.getLogger(__name__)


def _heads(model):
    return getattr(model, "module", model).heads


class CMTrainer(DefaultTrainer):
    """Overrides only the builders and the test step, as FastReID projects do (see FastAttr's trainer)."""

    def build_hooks(self) -> list[fr_hooks.HookBase]:
        # DefaultTrainer builds its hooks last in __init__; the checkpointer is swapped first so
        # the PeriodicCheckpointer hook saves atomically and the resume path loads strictly.
        self.checkpointer = self.build_checkpointer(self.cfg, self.model, self.optimizer, self.scheduler)
        hooks = [EpochReseed(), AttributePredictorStats()]
        if self.cfg.SOLVER.AMP.ENABLED:
            hooks.append(AMPSkippedSteps())
        for hook in super().build_hooks():
            if isinstance(hook, fr_hooks.PeriodicWriter):
                hook = FirstIterationWriter(self.build_writers(), self.cfg.SOLVER.LOG_PERIOD)
            hooks.append(hook)
        return hooks

    def train(self) -> Optional[dict]:
        """FastReID's loop from ``start_epoch``; returns the last evaluation's results. A run resumed after
        its last epoch returns {} without training (FastReID's hooks fail on a run without epochs)."""
        if self.start_epoch >= self.max_epoch:
            logger.info("%s has finished its %d epochs: nothing to resume (raise SOLVER.MAX_EPOCH to train on, "
                        "or evaluate with --eval-only)", self.cfg.OUTPUT_DIR, self.max_epoch)
            return {}
        return super().train()

    def build_lr_scheduler(self, cfg: CfgNode, optimizer: torch.optim.Optimizer, iters_per_epoch: int) -> dict:
        # DefaultTrainer.__init__ sets self.iters_per_epoch (N_images // IMS_PER_BATCH) just before this call
        # and derives max_iter and the training loop from it afterwards: DATALOADER.EPOCH_LENGTH sets it here.
        self.iters_per_epoch = iterations_per_epoch(self._trainer.data_loader.dataset.img_items,
                                                    cfg.SOLVER.IMS_PER_BATCH, cfg.DATALOADER.EPOCH_LENGTH)
        return super().build_lr_scheduler(cfg, optimizer, self.iters_per_epoch)

    @classmethod
    def build_checkpointer(cls, cfg: CfgNode, model: torch.nn.Module, optimizer: Optional[torch.optim.Optimizer] = None,
                           scheduler: Optional[dict] = None) -> CMCheckpointer:
        """A strict, atomic checkpointer that also stores the run's config (``checkpoint["config"]``) and
        keeps ``SOLVER.CHECKPOINT_KEEP`` periodic files."""
        model = getattr(model, "module", model)
        optimizer = {"optimizer": optimizer} if optimizer is not None else {}
        return CMCheckpointer(model, cfg.OUTPUT_DIR, strict=cfg.MODEL.STRICT_LOAD,
                              save_to_disk=comm.is_main_process(), extra_state={"config": cfg.dump()},
                              keep=cfg.SOLVER.CHECKPOINT_KEEP,
                              final_weights_only=cfg.SOLVER.FINAL_WEIGHTS_ONLY,
                              **optimizer, **(scheduler or {}))

    @classmethod
    def build_optimizer(cls, cfg: CfgNode, model: torch.nn.Module) -> tuple[torch.optim.Optimizer, list[dict]]:
        # FastReID's default flattens the parameters into one buffer whose gradients are views
        # (ContiguousParams). torch >= 2.0's ``zero_grad()`` sets gradients to None, which cuts those
        # views: backward then fills new tensors and the optimizer steps on stale zeros, so nothing
        # learns. Plain parameter groups avoid it.
        optimizer, params = build_optimizer(cfg, model, contiguous=False)
        predictor = getattr(_heads(model), "attr_predictor", None)
        if predictor is not None:
            # FastReID makes one group per parameter; the schedulers read each group's rate later.
            ours = {id(p) for p in predictor.parameters()}
            for group in optimizer.param_groups:
                if any(id(p) in ours for p in group["params"]):
                    group["lr"] *= cfg.SOLVER.ATTR_PRED_LR_FACTOR
        return optimizer, params

    @classmethod
    def build_train_loader(cls, cfg: CfgNode) -> torch.utils.data.DataLoader:
        logger.info("Prepare training set")
        loader = build_cm_train_loader(cfg)
        _check_attributes(cfg, loader.dataset)
        return loader

    @classmethod
    def build_evaluator(cls, cfg: CfgNode, dataset_name: str, output_dir: Optional[str] = None,
                        test_attributes: str = "n/a") -> tuple[torch.utils.data.DataLoader, CrossModalityEvaluator]:
        """(test loader over every image of every evaluated trial, :class:`CrossModalityEvaluator`)."""
        evaluator = CrossModalityEvaluator(cfg, build_cm_dataset(cfg, dataset_name),
                                           output_dir=output_dir or cfg.OUTPUT_DIR, test_attributes=test_attributes)
        return build_cm_test_loader(cfg, evaluator.test_items()), evaluator

    @staticmethod
    def test_attribute_sources(cfg: CfgNode, model: torch.nn.Module) -> list[str]:
        """The test-time attribute sources :meth:`test` evaluates, in order: ``TEST.ATTRIBUTES``, else the
        head's own ``test_attributes`` (``["n/a"]`` for a head that reads no attributes)."""
        heads = _heads(model)
        own = getattr(heads, "test_attributes", None)
        sources = list(cfg.TEST.ATTRIBUTES) or [own or "n/a"]
        if own is None and sources != ["n/a"]:
            raise ConfigError(f"TEST.ATTRIBUTES {sources} needs a head that reads attributes; "
                              f"{type(heads).__name__} does not")
        return sources

    @classmethod
    def test(cls, cfg: CfgNode, model: torch.nn.Module) -> dict:
        """Evaluate every dataset of ``DATASETS.TESTS`` under each test-time attribute source of
        ``TEST.ATTRIBUTES``; returns the flat metrics dict (empty on ranks other than 0), also appended
        as one line to ``OUTPUT_DIR/metrics.json``."""
        sources = cls.test_attribute_sources(cfg, model)
        results = OrderedDict()
        for name in cfg.DATASETS.TESTS:
            for source in sources:
                with attribute_source(model, source):
                    loader, evaluator = cls.build_evaluator(cfg, name, test_attributes=source)
                    extracted = extract(model, loader, flip=cfg.TEST.FLIP.ENABLED)
                if comm.get_world_size() > 1:
                    parts = comm.gather(extracted, dst=0)
                    if not comm.is_main_process():
                        continue
                    extracted = concat_results(parts)
                results.update(evaluator.evaluate_features(extracted))
        if comm.is_main_process() and cfg.OUTPUT_DIR and results:
            _append_metrics(cfg.OUTPUT_DIR, {"evaluation": True, "weights": cfg.MODEL.WEIGHTS, **results})
        return results


@contextmanager
def attribute_source(model: torch.nn.Module, source: str) -> Iterator[None]:
    """Within the block, a head that reads attributes (``test_attributes``) reads them from ``source``;
    its own setting is restored after. A head that reads none is left alone."""
    heads = _heads(model)
    own = getattr(heads, "test_attributes", None)
    if own is not None:
        heads.test_attributes = source
    try:
        yield
    finally:
        if own is not None:
            heads.test_attributes = own


def _append_metrics(output_dir, record):
    """One JSON line in ``output_dir/metrics.json``, beside FastReID's training scalars."""
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, "metrics.json"), "a") as f:
        f.write(json.dumps(record) + "\n")


def _check_attributes(cfg, train_set):
    """The model's attribute count (``MODEL.HEADS.NUM_ATTRIBUTES``) must match the training data's."""
    wanted = cfg.MODEL.HEADS.NUM_ATTRIBUTES
    if not wanted:
        return
    if not train_set.has_attributes:
        raise ConfigError(f"MODEL.HEADS.NUM_ATTRIBUTES is {wanted} but the training set "
                         f"{tuple(cfg.DATASETS.NAMES)} has no attributes: set DATASETS.<NAME>.ATTRIBUTES")
    found = len(train_set.img_items[0].attributes)
    if found != wanted:
        raise ConfigError(f"MODEL.HEADS.NUM_ATTRIBUTES is {wanted} but the training set has {found} attributes")
