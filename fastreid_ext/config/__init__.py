from .config import get_cfg
from .defaults import CONFIG_EXTENSIONS, add_cm_config
from .projects import ENTRY_POINT_GROUP, load_projects

__all__ = ["get_cfg", "add_cm_config", "CONFIG_EXTENSIONS", "ENTRY_POINT_GROUP", "load_projects"]
