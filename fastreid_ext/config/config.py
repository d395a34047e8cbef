"""``get_cfg()``: FastReID's defaults, the keys of fastreid_ext, and those of every registered project."""
from fastreid.config import CfgNode
from fastreid.config import get_cfg as _fastreid_get_cfg

from .defaults import CONFIG_EXTENSIONS, add_cm_config


def get_cfg() -> CfgNode:
    """Return a fresh, unfrozen config with every key this package and its projects know."""
    cfg = _fastreid_get_cfg()
    add_cm_config(cfg)
    for name in sorted(CONFIG_EXTENSIONS):
        CONFIG_EXTENSIONS[name](cfg)
    return cfg
