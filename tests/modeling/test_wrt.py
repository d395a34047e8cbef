import math

import numpy as np
import pytest
import torch

import fastreid_ext  # noqa: F401
from fastreid_ext.modeling.losses import WeightedRegularizedTriplet, weighted_regularized_triplet_loss


def reference_wrt(points, pids):
    """AGW's WRT with loops: softmax(d)-weighted positives, softmax(-d)-weighted negatives, soft margin."""
    n = len(points)
    d = [[math.dist(points[i], points[j]) for j in range(n)] for i in range(n)]
    total = 0.0
    for i in range(n):
        pos = [d[i][j] for j in range(n) if pids[j] == pids[i]]
        neg = [d[i][j] for j in range(n) if pids[j] != pids[i]]
        wp = [math.exp(v - max(pos)) for v in pos]
        wn = [math.exp(-v + min(neg)) for v in neg]
        d_p = sum(w * v for w, v in zip(wp, pos)) / sum(wp)
        d_n = sum(w * v for w, v in zip(wn, neg)) / sum(wn)
        total += math.log(1 + math.exp(-(d_n - d_p)))
    return total / n


def test_toy_points_by_hand():
    # Identity 0 at (0, 0) and (0.3, 0.4); identity 1 at (0.6, 0.8). Anchor (0, 0): positives at
    # 0 (itself) and 0.5, negative at 1. (Small distances: AGW's softmax adds 1e-6 to its
    # normaliser, which only matters when every exp(-d) is tiny.)
    feats = torch.tensor([[0.0, 0.0], [0.3, 0.4], [0.6, 0.8]], dtype=torch.float64)
    pids = torch.tensor([0, 0, 1])
    e = math.exp(0.5)
    d_p = 0.5 * e / (1 + e)  # softmax over (0, 0.5) weights the far positive most
    anchor0 = math.log(1 + math.exp(-(1.0 - d_p)))
    anchor1 = math.log(1 + math.exp(-(0.5 - d_p)))
    # anchor (0.6, 0.8): positive itself (0), negatives at 1 and 0.5, weighted by softmax(-d).
    w1, w2 = math.exp(-1.0), math.exp(-0.5)
    d_n = (1.0 * w1 + 0.5 * w2) / (w1 + w2)
    anchor2 = math.log(1 + math.exp(-d_n))
    expected = (anchor0 + anchor1 + anchor2) / 3
    assert weighted_regularized_triplet_loss(feats, pids).item() == pytest.approx(expected, rel=1e-5)


def test_matches_reference_and_is_order_free():
    rng = np.random.default_rng(0)
    pts = 0.3 * rng.normal(size=(10, 6))
    pids = [0, 1, 2, 0, 1, 2, 0, 1, 2, 2]
    loss = weighted_regularized_triplet_loss(torch.tensor(pts), torch.tensor(pids))
    assert loss.item() == pytest.approx(reference_wrt(pts, pids), rel=1e-5)
    perm = rng.permutation(10)
    assert weighted_regularized_triplet_loss(torch.tensor(pts[perm]), torch.tensor(pids)[perm]).item() == (
        pytest.approx(loss.item(), rel=1e-9))


def test_module():
    pts = np.array([[0.0, 0.2], [0.2, 0.0], [0.4, 0.4], [0.6, 0.2]])
    batch = {"targets": torch.tensor([0, 0, 1, 1])}
    loss = WeightedRegularizedTriplet(scale=3.0)({"features": torch.tensor(pts)}, batch)
    assert WeightedRegularizedTriplet.loss_name == "loss_wrt"
    assert loss.item() == pytest.approx(3.0 * reference_wrt(pts, [0, 0, 1, 1]), rel=1e-5)
