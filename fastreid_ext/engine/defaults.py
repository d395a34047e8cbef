"""``setup()``: the config pipeline of every entry point (FastReID's order, plus device and seed)."""
import logging

import torch
from fastreid.engine import default_setup
from fastreid.utils import comm
from fastreid.utils.logger import setup_logger

from ..config import get_cfg, load_projects
from .seeding import seed_everything

logger = logging.getLogger(__name__)


def resolve_device(cfg):
    """Turn ``MODEL.DEVICE: auto`` into ``cuda`` or ``cpu`` and switch off what CPU cannot run.

    FastReID's ``AMPTrainer`` asserts CUDA, so ``SOLVER.AMP.ENABLED`` is turned off (with a
    warning) when the device is not CUDA.
    """
    if cfg.MODEL.DEVICE == "auto":
        cfg.MODEL.DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
    if cfg.MODEL.DEVICE.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"MODEL.DEVICE is {cfg.MODEL.DEVICE!r} but CUDA is not available; "
                           "use MODEL.DEVICE auto or cpu")
    if cfg.SOLVER.AMP.ENABLED and not cfg.MODEL.DEVICE.startswith("cuda"):
        logger.warning("SOLVER.AMP.ENABLED needs CUDA: turned off on %s", cfg.MODEL.DEVICE)
        cfg.SOLVER.AMP.ENABLED = False
    return cfg


def setup(args):
    """get_cfg -> merge_from_file -> merge_from_list -> device/seed -> freeze -> default_setup."""
    cfg = get_cfg()
    if args.config_file:
        cfg.merge_from_file(args.config_file)
    cfg.merge_from_list(args.opts)
    resolve_device(cfg)
    if cfg.SEED < 0:
        # Draw the seed once on rank 0 and record it in config.yaml, so the run can be repeated.
        cfg.SEED = int(comm.all_gather(int(torch.randint(0, 2 ** 31 - 1, ()).item()))[0])
    cfg.freeze()
    default_setup(cfg, args)
    # FastReID's default_setup only configures the "fastreid" logger.
    for name in ("fastreid_ext", *load_projects()):
        setup_logger(cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name=name)
    seed_everything(cfg.SEED, cfg.DETERMINISTIC)
    return cfg
