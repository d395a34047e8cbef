"""Trained models for inference: ``load_trained_model`` (every tool's entry), ``evaluate_checkpoint`` (--eval-only)."""
import torch
from fastreid.config import CfgNode

from ..data.datasets.regdb import check_trial
from ..utils import CheckpointError
from .checkpoint import read_checkpoint
from .trainer import CMTrainer


def load_trained_model(cfg: CfgNode) -> tuple[torch.nn.Module, CfgNode]:
    """Build the model of ``cfg`` and load ``MODEL.WEIGHTS`` strictly; returns ``(model in eval mode, cfg)``.

    The checkpoint's own config (saved by :class:`~fastreid_ext.engine.checkpoint.CMCheckpointer`)
    supplies ``MODEL.HEADS.NUM_CLASSES`` when ``cfg`` leaves it at 0, and guards against evaluating a
    RegDB model on another trial's test set (a leak of training images). The returned ``cfg`` is
    frozen and has those values.
    """
    trained = _checkpoint_config(cfg.MODEL.WEIGHTS)
    cfg = cfg.clone()
    cfg.defrost()
    if trained is not None:
        if not cfg.MODEL.HEADS.NUM_CLASSES:
            cfg.MODEL.HEADS.NUM_CLASSES = trained.MODEL.HEADS.NUM_CLASSES
        if "RegDB" in cfg.DATASETS.TESTS and "RegDB" in trained.DATASETS.NAMES:
            check_trial(trained.DATASETS.REGDB.TRIAL, cfg.DATASETS.REGDB.TRIAL,
                        cfg.DATASETS.REGDB.FORCE_TRIAL_MISMATCH)
    cfg.freeze()
    model = CMTrainer.build_model(cfg)
    CMTrainer.build_checkpointer(cfg, model).load(cfg.MODEL.WEIGHTS)
    model.eval()
    return model, cfg


def evaluate_checkpoint(cfg: CfgNode) -> dict:
    """Evaluate ``MODEL.WEIGHTS`` on ``DATASETS.TESTS`` (results also appended to ``OUTPUT_DIR/metrics.json``)."""
    model, cfg = load_trained_model(cfg)
    return CMTrainer.test(cfg, model)


def _checkpoint_config(path):
    """The config stored in a checkpoint written by this package, or None (e.g. a FastReID checkpoint)."""
    if not path:
        raise CheckpointError("MODEL.WEIGHTS is empty: give the trained checkpoint, e.g. MODEL.WEIGHTS "
                              "output/run/model_final.pth")
    text = read_checkpoint(path).get("config")
    return CfgNode.load_cfg(text) if text else None
