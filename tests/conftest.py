"""Shared fixtures: a tiny SynthVI set on disk and a tiny training config for end-to-end tests."""
import logging
import os

import pytest
from fastreid.utils.logger import setup_logger

import fastreid_ext
from fastreid_ext.config import get_cfg
from fastreid_ext.data.synthvi import make_synthvi

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_ROOT = os.path.dirname(fastreid_ext.__file__)


def package_modules():
    """(dotted module name, path) of every .py file of fastreid_ext."""
    for folder, _, files in os.walk(PACKAGE_ROOT):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                parts = os.path.relpath(path, os.path.dirname(PACKAGE_ROOT))[:-3].split(os.sep)
                yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _loggers():
    return [logging.getLogger()] + [log for log in logging.Logger.manager.loggerDict.values()
                                    if isinstance(log, logging.Logger)]


@pytest.fixture(autouse=True)
def _logging_restored():
    """Every logger's handlers as before the test: a tool run in-process attaches FastReID's handlers to the
    test's captured stream, which is closed when the test ends (a later test logging through them fails)."""
    before = {log: (list(log.handlers), log.propagate, log.level) for log in _loggers()}
    yield
    for log in _loggers():
        log.handlers[:], log.propagate, log.level = before.get(log, ([], True, logging.NOTSET))
    setup_logger.cache_clear()


@pytest.fixture(scope="session")
def synthvi_root(tmp_path_factory):
    """A SYSU-MM01-layout SynthVI set: 12 identities, 2 images per camera, 64x32 images."""
    out = tmp_path_factory.mktemp("synthvi")
    make_synthvi(str(out), format="sysu", ids=12, seed=0, images_per_camera=2, size=(64, 32),
                 processes=1, preview=False)
    return str(out)


def tiny_cfg(root, output_dir, config_file="projects/PAENet/configs/synthvi.yml", *opts):
    """``config_file`` shrunk to seconds on CPU: ResNet-18, 64x32 input, 2 identities a batch."""
    os.makedirs(output_dir, exist_ok=True)
    cfg = get_cfg()
    cfg.merge_from_file(os.path.join(REPO, config_file))
    cfg.merge_from_list([
        "DATASETS.ROOT", root, "OUTPUT_DIR", str(output_dir),
        "MODEL.BACKBONE.DEPTH", "18x", "MODEL.BACKBONE.FEAT_DIM", 512, "MODEL.BACKBONE.PRETRAIN", False,
        "INPUT.SIZE_TRAIN", [64, 32], "INPUT.SIZE_TEST", [64, 32],
        "SOLVER.IMS_PER_BATCH", 16, "DATALOADER.NUM_INSTANCE", 4, "DATALOADER.NUM_WORKERS", 0,
        "SOLVER.MAX_EPOCH", 2, "SOLVER.WARMUP_ITERS", 0, "SOLVER.CHECKPOINT_PERIOD", 1,
        "TEST.EVAL_PERIOD", 2, "TEST.IMS_PER_BATCH", 32, "SEED", 1, "DETERMINISTIC", True,
        "MODEL.DEVICE", "cpu", *opts])
    return cfg


@pytest.fixture(scope="session")
def trained_tiny(synthvi_root, tmp_path_factory):
    """A tiny PAENet trained 1 epoch on :func:`synthvi_root`; returns its frozen config
    (``MODEL.WEIGHTS`` = its final checkpoint, ``OUTPUT_DIR`` = its run directory)."""
    from fastreid_ext.engine import CMTrainer
    from fastreid_ext.engine.seeding import seed_everything

    out = tmp_path_factory.mktemp("trained_tiny")
    cfg = tiny_cfg(synthvi_root, out, "projects/PAENet/configs/synthvi.yml", "SOLVER.MAX_EPOCH", 1,
                   "TEST.EVAL_PERIOD", 1, "TEST.SETTINGS", ["all-1shot-seeded"])
    seed_everything(cfg.SEED)
    trainer = CMTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    cfg = trainer.cfg.clone()
    cfg.MODEL.WEIGHTS = str(out / "model_final.pth")
    cfg.freeze()
    return cfg
