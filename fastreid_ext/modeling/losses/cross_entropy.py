"""Identity loss: FastReID's label-smoothed cross entropy on the head's ``cls_outputs``."""
import torch
from fastreid.config import CfgNode, configurable
from fastreid.modeling.losses import cross_entropy_loss
from torch import nn

from .build import CM_LOSS_REGISTRY

__all__ = ["CrossEntropyLoss"]


@CM_LOSS_REGISTRY.register()
class CrossEntropyLoss(nn.Module):
    """``scale * cross_entropy_loss(outputs["cls_outputs"], batch["targets"], eps, alpha)``.

    ``cls_outputs``: (B, num_classes) logits; ``targets``: (B,) long. ``eps`` is the label smoothing
    (0: none, < 0: FastReID's adaptive smoothing with ``alpha``).
    """

    loss_name = "loss_cls"

    @configurable
    def __init__(self, *, eps: float = 0.0, alpha: float = 0.2, scale: float = 1.0) -> None:
        super().__init__()
        self.eps = eps
        self.alpha = alpha
        self.scale = scale

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        ce = cfg.MODEL.LOSSES.CE
        return {"eps": ce.EPSILON, "alpha": ce.ALPHA, "scale": ce.SCALE}

    def forward(self, outputs: dict, batch: dict) -> torch.Tensor:
        return cross_entropy_loss(outputs["cls_outputs"], batch["targets"], self.eps, self.alpha) * self.scale
