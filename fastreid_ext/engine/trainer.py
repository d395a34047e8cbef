"""``CMTrainer``: FastReID's DefaultTrainer with cross-modality data, evaluation and checkpoints."""
import logging

from fastreid.engine import DefaultTrainer
from fastreid.engine import hooks as fr_hooks
from fastreid.utils import comm

from ..data import build_cm_train_loader
from .checkpoint import CMCheckpointer
from .hooks import EpochReseed

logger = logging.getLogger(__name__)


class CMTrainer(DefaultTrainer):
    """Overrides only the builders, as FastReID projects do (see FastAttr's trainer)."""

    def build_hooks(self):
        # DefaultTrainer builds its hooks last in __init__; the checkpointer is swapped first so
        # the PeriodicCheckpointer hook saves atomically and the resume path loads strictly.
        self.checkpointer = self.build_checkpointer(self.cfg, self.model, self.optimizer, self.scheduler)
        hooks = [EpochReseed()]
        for hook in super().build_hooks():
            if isinstance(hook, fr_hooks.PeriodicWriter):
                hook = fr_hooks.PeriodicWriter(self.build_writers(), self.cfg.SOLVER.LOG_PERIOD)
            hooks.append(hook)
        return hooks

    @classmethod
    def build_checkpointer(cls, cfg, model, optimizer=None, scheduler=None):
        model = getattr(model, "module", model)
        return CMCheckpointer(
            model, cfg.OUTPUT_DIR, strict=cfg.MODEL.STRICT_LOAD, save_to_disk=comm.is_main_process(),
            extra_state={"config": cfg.dump()},
            **({"optimizer": optimizer} if optimizer is not None else {}), **(scheduler or {}))

    @classmethod
    def build_train_loader(cls, cfg):
        logger.info("Prepare training set")
        return build_cm_train_loader(cfg)
