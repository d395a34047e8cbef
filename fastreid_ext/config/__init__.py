from .defaults import add_cm_config, CONFIG_EXTENSIONS
from .config import get_cfg

__all__ = ["get_cfg", "add_cm_config", "CONFIG_EXTENSIONS"]
