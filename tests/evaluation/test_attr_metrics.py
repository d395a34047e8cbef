import numpy as np
import pytest

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.evaluation.attr_metrics import attribute_metrics


def test_hand_computed_metrics():
    gt = [[1, 0], [1, 1], [0, 0]]
    probs = [[0.9, 0.2], [0.4, 0.7], [0.6, 0.1]]  # predicted (>= 0.5): [1, 0], [0, 1], [1, 0]
    m = attribute_metrics(gt, probs)
    # Attribute 0: positives (images 0, 1) 1/2 right, negative (image 2) 0/1 right -> (0.5 + 0) / 2.
    # Attribute 1: positive (image 1) 1/1 right, negatives (images 0, 2) 2/2 right -> 1.
    np.testing.assert_allclose(m["mA_per_attribute"], [0.25, 1.0])
    assert m["mA"] == pytest.approx(0.625)
    # Image 0: P = T = {0}: acc 1, prec 1, rec 1. Image 1: P = {1}, T = {0, 1}: acc 1/2, prec 1, rec 1/2.
    # Image 2: P = {0}, T = {}: acc 0, prec 0, rec 0 (empty denominator).
    assert m["Accu"] == pytest.approx(0.5)
    assert m["Prec"] == pytest.approx(2 / 3)
    assert m["Recall"] == pytest.approx(0.5)
    assert m["F1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_threshold_is_inclusive():
    assert attribute_metrics([[1]], [[0.5]])["Accu"] == pytest.approx(1.0)
    assert attribute_metrics([[1]], [[0.5]], threshold=0.6)["Accu"] == pytest.approx(0.0)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="must both be \\(N, A\\)"):
        attribute_metrics([[1, 0]], [[0.5]])
    with pytest.raises(ValueError, match="must be 0 or 1"):
        attribute_metrics([[2.0]], [[0.5]])


def test_auc_counts_ordered_pairs_and_ties_half():
    gt = [[1, 0], [1, 1], [0, 0], [0, 1]]
    probs = [[0.9, 0.3], [0.4, 0.3], [0.4, 0.8], [0.1, 0.3]]
    m = attribute_metrics(gt, probs)
    # Attribute 0: positives 0.9, 0.4 against negatives 0.4, 0.1: pairs won 1 + 1 + 0.5 (tie) + 1 of 4.
    # Attribute 1: positives 0.3, 0.3 against negatives 0.3, 0.8: ties 0.5 + 0.5, losses 0 + 0, of 4.
    np.testing.assert_allclose(m["AUC_per_attribute"], [3.5 / 4, 1 / 4])
    assert m["mAUC"] == pytest.approx((3.5 / 4 + 1 / 4) / 2)
    # The AUC does not depend on the threshold; mA does.
    assert attribute_metrics(gt, probs, threshold=0.95)["mAUC"] == pytest.approx(m["mAUC"])


def test_auc_is_undefined_for_an_attribute_with_one_class():
    m = attribute_metrics([[0, 1], [0, 0]], [[0.2, 0.7], [0.9, 0.1]])
    assert np.isnan(m["AUC_per_attribute"][0]) and m["AUC_per_attribute"][1] == pytest.approx(1.0)
    assert m["mAUC"] == pytest.approx(1.0)
    assert np.isnan(attribute_metrics([[1]], [[0.5]])["mAUC"])
