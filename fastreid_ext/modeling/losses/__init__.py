"""Cross-modality losses, one a file, each a pure function plus a module registered in ``CM_LOSS_REGISTRY``."""
from .attribute_bce import AttributeBCELoss, attribute_bce_loss
from .build import CM_LOSS_REGISTRY, build_losses
from .cross_entropy import CrossEntropyLoss
from .hetero_center_triplet import HeteroCenterTripletLoss, hetero_center_triplet_loss
from .margin_mmd import MarginMMDLoss, margin_mmd_loss, multi_kernel_mmd
from .triplet import TripletLoss
from .wrt import WeightedRegularizedTriplet, weighted_regularized_triplet_loss

__all__ = [
    "CM_LOSS_REGISTRY", "build_losses",
    "AttributeBCELoss", "attribute_bce_loss",
    "CrossEntropyLoss",
    "HeteroCenterTripletLoss", "hetero_center_triplet_loss",
    "MarginMMDLoss", "margin_mmd_loss", "multi_kernel_mmd",
    "TripletLoss",
    "WeightedRegularizedTriplet", "weighted_regularized_triplet_loss",
]
