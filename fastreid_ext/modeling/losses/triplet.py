"""Plain triplet loss on the head's ``features``: FastReID's ``triplet_loss`` and its TRI keys."""
import torch
from fastreid.config import CfgNode, configurable
from fastreid.modeling.losses import triplet_loss
from torch import nn

from .build import CM_LOSS_REGISTRY

__all__ = ["TripletLoss"]


@CM_LOSS_REGISTRY.register()
class TripletLoss(nn.Module):
    """``scale * triplet_loss(outputs["features"], batch["targets"], margin, norm_feat, hard_mining)``.

    Batch-hard mining (Hermans et al.) when ``hard_mining`` is True; FastReID's default
    ``MODEL.LOSSES.TRI.HARD_MINING: False`` softmax-weights the pairs instead. ``margin`` 0 gives
    the soft margin. Modalities are ignored: every same-identity pair is a positive.
    """

    loss_name = "loss_triplet"

    @configurable
    def __init__(self, *, margin: float = 0.3, norm_feat: bool = False, hard_mining: bool = True,
                 scale: float = 1.0) -> None:
        super().__init__()
        self.margin = margin
        self.norm_feat = norm_feat
        self.hard_mining = hard_mining
        self.scale = scale

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        tri = cfg.MODEL.LOSSES.TRI
        return {"margin": tri.MARGIN, "norm_feat": tri.NORM_FEAT, "hard_mining": tri.HARD_MINING,
                "scale": tri.SCALE}

    def forward(self, outputs: dict, batch: dict) -> torch.Tensor:
        loss = triplet_loss(outputs["features"], batch["targets"], self.margin, self.norm_feat, self.hard_mining)
        return loss * self.scale
