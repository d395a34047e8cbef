"""Margin MMD-ID loss of MMD-ReID (Jambhale et al., BMVC 2021): the L_MMD term of Eq. 2, between the visible
and infrared features of every identity seen in both modalities.
"""
from typing import Optional

import torch
from fastreid.config import CfgNode, configurable
from torch import nn

from .build import CM_LOSS_REGISTRY

__all__ = ["MarginMMDLoss", "margin_mmd_loss", "multi_kernel_mmd"]

# The Gaussian kernel is summed over these multiples of the data-driven bandwidth (MMD-ReID's
# kernel_mul=2, kernel_num=5: bandwidth / 4 ... bandwidth * 4).
_BANDWIDTH_MULTIPLIERS = (0.25, 0.5, 1.0, 2.0, 4.0)
# Added to each bandwidth so that identical points (zero bandwidth) give kernel 1, not 0/0.
_BANDWIDTH_EPS = 1e-9


def multi_kernel_mmd(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Biased MMD estimate between two sets of features with a multi-bandwidth Gaussian kernel.

    Args:
        x: (n_x, D) float, e.g. one identity's visible features.
        y: (n_y, D) float, the same identity's infrared features; n_x + n_y >= 2.
    Returns:
        () float: mean k(x, x) + mean k(y, y) - mean k(x, y) - mean k(y, x), where k sums
        exp(-d² / (s·b)) over s in {1/4, 1/2, 1, 2, 4}, d² is the squared Euclidean distance and
        b = sum(d²) / (n² - n) over all pairs of z = [x; y] (n = n_x + n_y), taken without gradient.
    """
    z = torch.cat([x, y])
    n = z.shape[0]
    sq_dist = (z[:, None, :] - z[None, :, :]).pow(2).sum(-1)
    bandwidth = sq_dist.detach().sum() / (n * n - n)
    kernel = sum(torch.exp(-sq_dist / (bandwidth * s + _BANDWIDTH_EPS)) for s in _BANDWIDTH_MULTIPLIERS)
    nx = x.shape[0]
    return (kernel[:nx, :nx].mean() + kernel[nx:, nx:].mean()
            - kernel[:nx, nx:].mean() - kernel[nx:, :nx].mean())


def margin_mmd_loss(feats: torch.Tensor, pids: torch.Tensor, modalities: torch.Tensor,
                    margin: Optional[float] = 1.4) -> torch.Tensor:
    """Class-wise MMD between modalities, each identity's term counting only above ``margin``.

    Args:
        feats: (N, D) float features.
        pids: (N,) long identity labels.
        modalities: (N,) long, 0 visible / 1 infrared.
        margin: an identity's MMD counts only when it is greater than ``margin``; otherwise it
            contributes 0 (and no gradient), as in MMD-ReID's released code. ``None`` keeps every
            term (the plain class-wise MMD).
    Returns:
        () float: the mean of the terms over the identities present in both modalities (those in
        one modality only are ignored); 0 when there is none. Independent of the row order.
    """
    terms = []
    for pid in torch.unique(pids):
        of_pid = pids == pid
        x = feats[of_pid & (modalities == 0)]
        y = feats[of_pid & (modalities == 1)]
        if len(x) == 0 or len(y) == 0:
            continue
        mmd = multi_kernel_mmd(x, y)
        terms.append(mmd if margin is None else torch.where(mmd > margin, mmd, torch.zeros_like(mmd)))
    if not terms:
        return feats.sum() * 0.0
    return torch.stack(terms).mean()


@CM_LOSS_REGISTRY.register()
class MarginMMDLoss(nn.Module):
    """``scale * margin_mmd_loss(outputs["features"], batch["targets"], batch["modalities"], margin)``."""

    loss_name = "loss_mmd"

    @configurable
    def __init__(self, *, margin: Optional[float] = 1.4, scale: float = 1.0) -> None:
        super().__init__()
        self.margin = margin
        self.scale = scale

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        return {"margin": cfg.MODEL.LOSSES.MMD.MARGIN, "scale": cfg.MODEL.LOSSES.MMD.SCALE}

    def forward(self, outputs: dict, batch: dict) -> torch.Tensor:
        loss = margin_mmd_loss(outputs["features"], batch["targets"], batch["modalities"], self.margin)
        return loss * self.scale
