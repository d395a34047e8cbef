"""The one config builder and logging setup of every tool; ``setup()`` for training (FastReID's order)."""
import argparse
import difflib
import logging
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Optional, TextIO

import torch
from fastreid.config import CfgNode
from fastreid.engine import default_setup
from fastreid.utils import comm
from fastreid.utils.logger import setup_logger

from ..config import get_cfg, load_projects
from ..utils import ConfigError, remove_stale_temporaries
from .seeding import seed_everything

logger = logging.getLogger(__name__)

# The messages of yacs for a key the config does not have (merge_from_file / merge_from_list).
_UNKNOWN_KEY = re.compile(r"Non-existent (?:config )?key: (\S+)")


def resolve_device(cfg: CfgNode) -> CfgNode:
    """Turn ``MODEL.DEVICE: auto`` into ``cuda`` or ``cpu`` and switch off what CPU cannot run.

    FastReID's ``AMPTrainer`` asserts CUDA, so ``SOLVER.AMP.ENABLED`` is turned off (with a
    warning) when the device is not CUDA.
    """
    if cfg.MODEL.DEVICE == "auto":
        cfg.MODEL.DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
    if cfg.MODEL.DEVICE.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"MODEL.DEVICE is {cfg.MODEL.DEVICE!r} but CUDA is not available; "
                          "use MODEL.DEVICE auto or cpu")
    if cfg.SOLVER.AMP.ENABLED and not cfg.MODEL.DEVICE.startswith("cuda"):
        logger.warning("SOLVER.AMP.ENABLED needs CUDA: turned off on %s", cfg.MODEL.DEVICE)
        cfg.SOLVER.AMP.ENABLED = False
    return cfg


def _keys(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, CfgNode):
            yield from _keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def _config_error(cfg, error, where):
    """A :class:`ConfigError` for a yacs merge error, with the closest valid key of an unknown one."""
    message = str(error.args[0]) if error.args else str(error)
    unknown = _UNKNOWN_KEY.search(message)
    if unknown is None:
        return ConfigError(f"{where}: {message}")
    key = unknown.group(1)
    close = difflib.get_close_matches(key, list(_keys(cfg)), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    return ConfigError(f"{where}: unknown config key {key}{hint}")


def build_config(config_file: str = "", opts: Optional[Sequence[str]] = (), freeze: bool = True) -> CfgNode:
    """get_cfg -> merge_from_file -> merge_from_list -> device (-> freeze): the config of every tool.

    Raises:
        ConfigError: a missing config file, an unknown key (naming the closest valid one), a value of the
            wrong type, or an odd override list.
    """
    cfg = get_cfg()
    if config_file:
        if not os.path.isfile(config_file):
            raise ConfigError(f"--config-file {config_file}: no such file")
        try:
            cfg.merge_from_file(config_file)
        except (AssertionError, KeyError, ValueError) as error:
            raise _config_error(cfg, error, config_file) from error
    opts = list(opts or [])
    if len(opts) % 2:
        raise ConfigError(f"config overrides come in KEY VALUE pairs, got {len(opts)} words: {' '.join(opts)}")
    try:
        cfg.merge_from_list(opts)
    except (AssertionError, KeyError, ValueError) as error:
        raise _config_error(cfg, error, "KEY VALUE overrides") from error
    resolve_device(cfg)
    if freeze:
        cfg.freeze()
    return cfg


def setup_logging(output_dir: str = "", rank: int = 0, names: Optional[Iterable[str]] = None,
                  stream: Optional[TextIO] = None) -> None:
    """FastReID's log format for ``names`` (default: FastReID, ours and every project's) at level INFO
    on standard output (``stream``: another one, e.g.
    ``sys.stderr`` for tools whose results go to standard output), and into ``output_dir/log.txt`` when given.

    The handlers replace the loggers' earlier ones: FastReID's ``setup_logger`` adds a set per new output
    directory, so a second run in one process would print every line twice and write into the first
    run's log.txt.
    """
    for name in names or ("fastreid", "fastreid_ext", *load_projects()):
        _without_handlers(name)
        named = setup_logger(output_dir or None, distributed_rank=rank, name=name)
        named.setLevel(logging.INFO)
        for handler in named.handlers:
            if stream is not None and getattr(handler, "stream", None) is sys.stdout:
                handler.setStream(stream)


def _without_handlers(name):
    """Remove logger ``name``'s handlers and forget FastReID's cached ``setup_logger`` calls, whose cache
    would otherwise add nothing for arguments it has seen before."""
    named = logging.getLogger(name)
    for handler in list(named.handlers):
        named.removeHandler(handler)
    setup_logger.cache_clear()


def setup(args: argparse.Namespace) -> CfgNode:
    """The config of ``args.config_file`` and ``args.opts`` (:func:`build_config`), a drawn seed when
    ``SEED`` < 0, frozen -> FastReID's default_setup (OUTPUT_DIR, config.yaml, log) -> seeding."""
    cfg = build_config(args.config_file, args.opts, freeze=False)
    if cfg.SEED < 0:
        # Draw the seed once on rank 0 and record it in config.yaml, so the run can be repeated.
        cfg.SEED = int(comm.all_gather(int(torch.randint(0, 2 ** 31 - 1, ()).item()))[0])
    cfg.freeze()
    # FastReID's default_setup configures the "fastreid" logger through its cached setup_logger, which adds
    # handlers only for an output directory it has not seen: start from none, so that a second run in one
    # process logs each line once and only into its own log.txt.
    _without_handlers("fastreid")
    default_setup(cfg, args)
    setup_logging(cfg.OUTPUT_DIR, comm.get_rank(), names=("fastreid_ext", *load_projects()))
    if comm.is_main_process():
        for path in remove_stale_temporaries(cfg.OUTPUT_DIR):
            logger.info("Removed %s, left by a write that was interrupted", path)
    seed_everything(cfg.SEED, cfg.DETERMINISTIC)
    return cfg
