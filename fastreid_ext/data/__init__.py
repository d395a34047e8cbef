"""Cross-modality data: datasets, identity sampler, modality-aware transforms and loaders."""
from . import datasets, samplers, transforms
from .build import build_cm_dataset, build_cm_test_loader, build_cm_train_loader
from .common import CMDataset
from .data_utils import read_image
from .datasets import INFRARED, MODALITY_NAMES, VISIBLE, Item

__all__ = ["CMDataset", "INFRARED", "Item", "MODALITY_NAMES", "VISIBLE", "build_cm_dataset",
           "build_cm_test_loader", "build_cm_train_loader", "read_image"]
