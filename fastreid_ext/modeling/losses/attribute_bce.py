"""Attribute loss (Eq. 9 of PAENet): binary cross entropy of attribute logits against the labels."""
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from fastreid.config import CfgNode, configurable
from torch import nn

from .build import CM_LOSS_REGISTRY

__all__ = ["AttributeBCELoss", "attribute_bce_loss"]


def attribute_bce_loss(logits: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
    """Binary cross entropy with logits, averaged over persons and attributes.

    Args:
        logits: (B, A) float attribute logits.
        attributes: (B, A) float labels, 1 positive / 0 negative.
    Returns:
        () float. Eq. 9 sums over the M persons of the batch; the mean keeps the weight λ of
        Eq. 11 independent of the batch size and of the number of attributes.
    """
    return F.binary_cross_entropy_with_logits(logits, attributes.to(logits.dtype))


@CM_LOSS_REGISTRY.register()
class AttributeBCELoss(nn.Module):
    """``scale * sum(attribute_bce_loss(outputs[key], batch["attributes"]))`` over ``outputs`` present.

    ``outputs``: the head output keys holding (B, A) attribute logits, e.g. ``attr_logits`` (the
    AAL branch of PAENet) and ``attr_pred_logits`` (the test-time attribute predictor).
    """

    loss_name = "loss_attr"

    @configurable
    def __init__(self, *, outputs: Sequence[str] = ("attr_logits", "attr_pred_logits"), scale: float = 1.0) -> None:
        super().__init__()
        self.outputs = tuple(outputs)
        self.scale = scale

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        return {"outputs": cfg.MODEL.LOSSES.ATTR.OUTPUTS, "scale": cfg.MODEL.LOSSES.ATTR.SCALE}

    def forward(self, outputs: dict, batch: dict) -> torch.Tensor:
        present = [key for key in self.outputs if key in outputs]
        if not present:
            raise KeyError(f"AttributeBCELoss: the head returned none of MODEL.LOSSES.ATTR.OUTPUTS "
                           f"{list(self.outputs)} (it returned {sorted(outputs)}); enable an attribute "
                           f"branch (e.g. MODEL.HEADS.ATTR_PRED.ENABLED) or drop AttributeBCELoss")
        if "attributes" not in batch:
            raise KeyError("AttributeBCELoss: the batch has no 'attributes'; the training dataset "
                           "must provide attribute labels")
        return sum(attribute_bce_loss(outputs[key], batch["attributes"]) for key in present) * self.scale
