"""Pedestrian-attribute recognition metrics, as FastReID's FastAttr project reports them (docs/evaluation.md).
"""
from collections import OrderedDict

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata

__all__ = ["attribute_metrics"]

_EPS = 1e-20


def attribute_metrics(gt: ArrayLike, probs: ArrayLike, threshold: float = 0.5) -> dict:
    """Attribute metrics of predicted probabilities against binary ground truth.

    Args:
        gt: (N, A) {0, 1}; probs: (N, A) float probabilities; an attribute is predicted when its
            probability is >= threshold.
    Returns:
        OrderedDict of fractions: ``mA``, ``Accu``, ``Prec``, ``Recall``, ``F1``, ``mAUC`` (floats) and
        ``mA_per_attribute``, ``AUC_per_attribute`` ((A,) float64). The AUCs (:func:`roc_auc`) do not depend
        on ``threshold``: an mA near 50% with an AUC well above it is a predictor that ranks its images
        but whose probabilities sit on one side of the threshold; both near 50% is one that has not learnt.
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
    auc = roc_auc(gt, probs)
    return OrderedDict([
        ("mA", float(per_attribute.mean())), ("Accu", float(accuracy)), ("Prec", float(precision)),
        ("Recall", float(recall)), ("F1", float(f1)),
        ("mAUC", float(np.nanmean(auc)) if not np.isnan(auc).all() else float("nan")),
        ("mA_per_attribute", per_attribute), ("AUC_per_attribute", auc),
    ])


def roc_auc(gt: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """(A,) float64: per attribute, the area under the ROC curve of ``probs`` (N, A) against ``gt`` (N, A)
    {0, 1}, i.e. the chance that a random positive image scores above a random negative one, ties counting
    half (Mann-Whitney U / (positives x negatives)); NaN for an attribute whose ``gt`` has one class only."""
    positives = gt.sum(0)
    negatives = len(gt) - positives
    ranks = rankdata(probs, axis=0)  # average ranks of tied scores
    u = (ranks * gt).sum(0) - positives * (positives + 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((positives > 0) & (negatives > 0), u / (positives * negatives), np.nan)
