"""Hetero-centre triplet loss (Liu et al., IEEE TMM 2020): the L_Hc-Tri term of Eq. 2, on per-(identity,
modality) feature centres instead of single images.
"""
import torch
import torch.nn.functional as F
from fastreid.config import CfgNode, configurable
from torch import nn

from .build import CM_LOSS_REGISTRY

__all__ = ["HeteroCenterTripletLoss", "hetero_center_triplet_loss"]


def hetero_center_triplet_loss(feats: torch.Tensor, pids: torch.Tensor, modalities: torch.Tensor,
                               margin: float = 0.3) -> torch.Tensor:
    """Mean over anchor centres of ``max(0, d_pos - d_neg + margin)``.

    Args:
        feats: (N, D) float features.
        pids: (N,) long identity labels.
        modalities: (N,) long, 0 visible / 1 infrared.
        margin: float.
    Returns:
        () float. One centre (mean feature) per (identity, modality) present; distances are
        Euclidean. A centre is an anchor when its identity also has a centre in the other modality
        (its positive, at d_pos) and some other identity exists; d_neg is the distance to the
        nearest centre of another identity, in either modality. Centres of identities seen in one
        modality only are no anchors but still serve as negatives. 0 when there is no anchor.
        Independent of the row order.
    """
    keys, group = torch.unique(torch.stack([pids, modalities], dim=1), dim=0, return_inverse=True)
    centers = torch.zeros(len(keys), feats.shape[1], dtype=feats.dtype, device=feats.device)
    centers = centers.index_add(0, group, feats) / torch.bincount(group, minlength=len(keys))[:, None]
    dist = torch.cdist(centers, centers)
    center_pids, center_mods = keys[:, 0], keys[:, 1]
    same_pid = center_pids[:, None] == center_pids[None, :]
    positive = same_pid & (center_mods[:, None] != center_mods[None, :])
    is_anchor = positive.any(1) & (~same_pid).any(1)
    if not is_anchor.any():
        return feats.sum() * 0.0
    d_pos = dist.masked_fill(~positive, 0.0).sum(1)  # a centre has at most one positive
    d_neg = dist.masked_fill(same_pid, float("inf")).min(1).values
    return F.relu(d_pos - d_neg + margin)[is_anchor].mean()


@CM_LOSS_REGISTRY.register()
class HeteroCenterTripletLoss(nn.Module):
    """``scale * hetero_center_triplet_loss(outputs["features"], batch["targets"], batch["modalities"], margin)``."""

    loss_name = "loss_hct"

    @configurable
    def __init__(self, *, margin: float = 0.3, scale: float = 1.0) -> None:
        super().__init__()
        self.margin = margin
        self.scale = scale

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        return {"margin": cfg.MODEL.LOSSES.HCT.MARGIN, "scale": cfg.MODEL.LOSSES.HCT.SCALE}

    def forward(self, outputs: dict, batch: dict) -> torch.Tensor:
        loss = hetero_center_triplet_loss(outputs["features"], batch["targets"], batch["modalities"], self.margin)
        return loss * self.scale
