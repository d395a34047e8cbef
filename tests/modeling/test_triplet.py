import math

import numpy as np
import pytest
import torch

import fastreid_ext  # noqa: F401
from fastreid_ext.modeling.losses import TripletLoss


def reference_batch_hard(points, pids, margin):
    n = len(points)
    total = 0.0
    for i in range(n):
        d_ap = max(math.dist(points[i], points[j]) for j in range(n) if pids[j] == pids[i])
        d_an = min(math.dist(points[i], points[j]) for j in range(n) if pids[j] != pids[i])
        total += max(0.0, d_ap - d_an + margin)
    return total / n


def test_batch_hard_matches_reference():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(8, 3))
    pids = [0, 0, 1, 1, 2, 2, 0, 1]
    batch = {"targets": torch.tensor(pids)}
    loss = TripletLoss(margin=0.3, hard_mining=True, scale=0.5)({"features": torch.tensor(pts)}, batch)
    assert TripletLoss.loss_name == "loss_triplet"
    assert loss.item() == pytest.approx(0.5 * reference_batch_hard(pts, pids, 0.3), rel=1e-6)


def test_toy_points_by_hand():
    # Identity 0 at 0 and 1 on a line, identity 1 at 1.5: anchors give (1 - 1.5), (1 - 0.5), (0 - 1.5).
    feats = torch.tensor([[0.0], [1.0], [1.5]], dtype=torch.float64)
    loss = TripletLoss(margin=0.3, hard_mining=True)({"features": feats}, {"targets": torch.tensor([0, 0, 1])})
    assert loss.item() == pytest.approx((0.0 + 0.8 + 0.0) / 3, rel=1e-6)
