"""Cross-modality datasets, registered in FastReID's ``DATASET_REGISTRY`` on import."""
from .bases import INFRARED, VISIBLE, CrossModalityDataset
from .llcm import LLCM
from .regdb import RegDB, check_trial
from .sysu import SYSUMM01

__all__ = ["CrossModalityDataset", "INFRARED", "LLCM", "RegDB", "SYSUMM01", "VISIBLE", "check_trial"]
