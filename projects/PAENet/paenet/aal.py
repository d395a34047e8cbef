"""Attribute-based auxiliary learning (AAL), PAENet Sec. 3.3-3.4, Eq. 8-10: the attribute branch
(:class:`AttributeAuxiliaryLearning`, training only) and the identity attention W2 (:func:`identity_weights`).
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .pae import PAEOutput

__all__ = ["AttributeAuxiliaryLearning", "identity_weights", "sigmoid_bn2d"]


class AttributeAuxiliaryLearning(nn.Module):
    """Eq. 8-9: W1 = sigmoid([f_1, ..., f_n]); f_atr_i = FC_i(W1_i * f); logit_i = cls_i(f_atr_i).

    f_i are the pooled fused maps of PAE, f the pooled backbone feature (n copies of it are scaled by
    W1, "to avoid losing global information"). FC_i is a linear C -> ``feat_dim`` followed by BatchNorm
    and ReLU (the paper gives no size; without a non-linearity FC_i and cls_i would be one linear map),
    cls_i a linear ``feat_dim`` -> 1. The n branches are grouped 1x1 convolutions, one group each.

    Eq. 9 prints only the positive term -q log p, but the text says binary cross-entropy is used: the loss
    (``AttributeBCELoss`` of fastreid_ext) is the standard BCE -[q log p + (1 - q) log(1 - p)] on these logits.
    With ``sigmoid_bn``, a BatchNorm (no shift) of the n*C values precedes the sigmoid of W1, as in the
    released code: f_i >= 0 after ReLU, so without it W1 stays in [0.5, 1).
    """

    def __init__(self, channels: int, num_attributes: int, feat_dim: int = 256, sigmoid_bn: bool = False):
        super().__init__()
        n = num_attributes
        self.num_attributes = n
        self.w1_norm = _no_shift_bn(nn.BatchNorm1d(n * channels)) if sigmoid_bn else None
        self.fc = nn.Conv1d(n * channels, n * feat_dim, kernel_size=1, groups=n, bias=False)
        self.bn = nn.BatchNorm1d(n * feat_dim)
        self.classifier = nn.Conv1d(n * feat_dim, n, kernel_size=1, groups=n)

    def forward(self, pooled_fused: torch.Tensor, pooled_feat: torch.Tensor) -> torch.Tensor:
        """pooled_fused: (B, n, C) the pooled F_i; pooled_feat: (B, C) the pooled backbone feature f.
        Returns attribute logits: (B, n)."""
        if self.w1_norm is not None:
            pooled_fused = self.w1_norm(pooled_fused.flatten(1)).view_as(pooled_fused)
        w1 = pooled_fused.sigmoid()
        x = (w1 * pooled_feat[:, None]).flatten(1)[..., None]
        f_atr = F.relu(self.bn(self.fc(x)))
        return self.classifier(f_atr)[..., 0]


def identity_weights(pae_out: PAEOutput, norm: Optional[nn.Module] = None) -> torch.Tensor:
    """Eq. 10: W2 = sigmoid((1/n) sum_i F_i), (B, C, h, w); the identity feature pools W2 * F.

    ``norm``: a BatchNorm2d applied before the sigmoid (the released code's), or None (the text's).
    """
    mean_map = pae_out.mean_map()
    return (mean_map if norm is None else norm(mean_map)).sigmoid()


def sigmoid_bn2d(channels: int) -> nn.BatchNorm2d:
    """The BatchNorm (no shift) before the sigmoid of W2 in the released code."""
    return _no_shift_bn(nn.BatchNorm2d(channels))


def _no_shift_bn(bn):
    bn.bias.requires_grad_(False)
    return bn
