"""Cross-modality datasets, registered in FastReID's ``DATASET_REGISTRY`` on import."""
from .bases import INFRARED, MODALITY_NAMES, VISIBLE, CrossModalityDataset, Item
from .llcm import LLCM
from .regdb import RegDB, check_trial
from .sysu import SYSUMM01

__all__ = ["CrossModalityDataset", "INFRARED", "Item", "LLCM", "MODALITY_NAMES",
           "RegDB", "SYSUMM01", "VISIBLE", "check_trial"]
