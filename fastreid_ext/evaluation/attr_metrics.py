"""Pedestrian-attribute recognition metrics, as FastReID's FastAttr project reports them (docs/evaluation.md).
"""
from collections import OrderedDict

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["attribute_metrics"]

_EPS = 1e-20


def attribute_metrics(gt: ArrayLike, probs: ArrayLike, threshold: float = 0.5) -> dict:
    """Attribute metrics of predicted probabilities against binary ground truth.

    Args:
        gt: (N, A) {0, 1}; probs: (N, A) float probabilities; an attribute is predicted when its
            probability is >= threshold.
    Returns:
        OrderedDict of fractions: ``mA``, ``Accu``, ``Prec``, ``Recall``, ``F1`` (floats) and
        ``mA_per_attribute`` ((A,) float64).
    """
    gt = np.asarray(gt, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    if gt.shape != probs.shape or gt.ndim != 2:
        raise ValueError(f"ground truth {gt.shape} and probabilities {probs.shape} must both be (N, A)")
    if not np.isin(gt, (0.0, 1.0)).all():
        raise ValueError(f"ground-truth attributes must be 0 or 1, got values {np.unique(gt)[:10]}")
    pred = (probs >= threshold).astype(np.float64)

    positive_acc = (pred * gt).sum(0) / (gt.sum(0) + _EPS)
    negative_acc = ((1 - pred) * (1 - gt)).sum(0) / ((1 - gt).sum(0) + _EPS)
    per_attribute = (positive_acc + negative_acc) / 2

    intersection = (pred * gt).sum(1)
    union = np.maximum(pred, gt).sum(1)
    accuracy = (intersection / (union + _EPS)).mean()
    precision = (intersection / (pred.sum(1) + _EPS)).mean()
    recall = (intersection / (gt.sum(1) + _EPS)).mean()
    f1 = 2 * precision * recall / (precision + recall + _EPS)
    return OrderedDict([
        ("mA", float(per_attribute.mean())), ("Accu", float(accuracy)), ("Prec", float(precision)),
        ("Recall", float(recall)), ("F1", float(f1)), ("mA_per_attribute", per_attribute),
    ])
