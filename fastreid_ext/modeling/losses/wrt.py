"""Weighted regularised triplet (WRT) loss of AGW (Ye et al., TPAMI 2021): every pair of an anchor, weighted
by a softmax over its distance, through the soft margin log(1 + exp(-(d_n - d_p))); no margin to tune.
"""
import torch
import torch.nn.functional as F
from fastreid.config import CfgNode, configurable
from fastreid.modeling.losses.triplet_loss import weighted_example_mining
from fastreid.modeling.losses.utils import euclidean_dist
from torch import nn

from .build import CM_LOSS_REGISTRY

__all__ = ["WeightedRegularizedTriplet", "weighted_regularized_triplet_loss"]


def weighted_regularized_triplet_loss(feats: torch.Tensor, pids: torch.Tensor) -> torch.Tensor:
    """Mean over anchors of ``softplus(d_p - d_n)``.

    Args:
        feats: (N, D) float features (not normalised, as in AGW).
        pids: (N,) long identity labels.
    Returns:
        () float. For anchor i with Euclidean distances d_ij, d_p = sum_j w_ij d_ij over its
        positives (same identity, i itself included as in AGW) with w = softmax(d) over them,
        d_n = sum_j w_ij d_ij over its negatives with w = softmax(-d) over them (the softmax
        normalisers carry AGW's +1e-6, which shows only when all distances are large).
    """
    dist = euclidean_dist(feats, feats)
    is_pos = (pids[:, None] == pids[None, :]).float()
    dist_ap, dist_an = weighted_example_mining(dist, is_pos, 1.0 - is_pos)
    return F.softplus(dist_ap - dist_an).mean()


@CM_LOSS_REGISTRY.register()
class WeightedRegularizedTriplet(nn.Module):
    """``scale * weighted_regularized_triplet_loss(outputs["features"], batch["targets"])``."""

    loss_name = "loss_wrt"

    @configurable
    def __init__(self, *, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        return {"scale": cfg.MODEL.LOSSES.WRT.SCALE}

    def forward(self, outputs: dict, batch: dict) -> torch.Tensor:
        return weighted_regularized_triplet_loss(outputs["features"], batch["targets"]) * self.scale
