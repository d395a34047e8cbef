import math

import numpy as np
import pytest
import torch

import fastreid_ext  # noqa: F401
from fastreid_ext.modeling.losses import MarginMMDLoss, margin_mmd_loss

SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)


def reference_mmd(xs, ys):
    """Biased multi-bandwidth MMD between two lists of points, with plain Python loops."""
    zs = [np.asarray(p, dtype=np.float64) for p in list(xs) + list(ys)]
    n = len(zs)
    d = [[float(((a - b) ** 2).sum()) for b in zs] for a in zs]
    bandwidth = sum(map(sum, d)) / (n * n - n)
    k = [[sum(math.exp(-d[i][j] / (s * bandwidth)) for s in SCALES) for j in range(n)] for i in range(n)]
    nx = len(xs)
    X, Y = range(nx), range(nx, n)

    def mean(rows, cols):
        return sum(k[i][j] for i in rows for j in cols) / (len(rows) * len(cols))

    return mean(X, X) + mean(Y, Y) - mean(X, Y) - mean(Y, X)


def t(rows):
    return torch.tensor(rows, dtype=torch.float64)


def test_two_points_by_hand():
    # One identity: visible (0, 0), infrared (1, 0). d² = 1, bandwidth = (1 + 1) / (4 - 2) = 1.
    feats = t([[0.0, 0.0], [1.0, 0.0]])
    cross = sum(math.exp(-1.0 / s) for s in SCALES)
    expected = 5.0 + 5.0 - 2 * cross  # k(x,x) = k(y,y) = 5 (exp(0) on each of the 5 scales)
    loss = margin_mmd_loss(feats, torch.tensor([7, 7]), torch.tensor([0, 1]), margin=None)
    assert loss.item() == pytest.approx(expected, rel=1e-9)


def test_matches_reference_with_unequal_modalities():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(9, 3))
    pids = [0, 0, 0, 1, 1, 0, 1, 1, 1]
    mods = [0, 0, 1, 0, 1, 1, 1, 1, 0]
    expected = []
    for pid in (0, 1):
        xs = [pts[i] for i in range(9) if pids[i] == pid and mods[i] == 0]
        ys = [pts[i] for i in range(9) if pids[i] == pid and mods[i] == 1]
        expected.append(reference_mmd(xs, ys))
    loss = margin_mmd_loss(t(pts), torch.tensor(pids), torch.tensor(mods), margin=None)
    assert loss.item() == pytest.approx(sum(expected) / 2, rel=1e-9)


def test_identity_below_margin_contributes_zero_and_above_counts_whole():
    # Identity 0: far apart modalities (MMD about 6.19 > 1.4); identity 1: slightly shifted copies.
    far_x, far_y = [[0.0, 0.0]], [[1.0, 0.0]]
    near_x, near_y = [[0.0, 0.0], [1.0, 0.0]], [[0.1, 0.0], [1.1, 0.0]]
    mmd_far, mmd_near = reference_mmd(far_x, far_y), reference_mmd(near_x, near_y)
    assert mmd_far > 1.4 > mmd_near > 0.0
    feats = t(far_x + far_y + near_x + near_y)
    pids = torch.tensor([0, 0, 1, 1, 1, 1])
    mods = torch.tensor([0, 1, 0, 0, 1, 1])
    assert margin_mmd_loss(feats, pids, mods, margin=1.4).item() == pytest.approx(mmd_far / 2, rel=1e-9)
    assert margin_mmd_loss(feats, pids, mods, margin=None).item() == pytest.approx(
        (mmd_far + mmd_near) / 2, rel=1e-9)
    assert margin_mmd_loss(feats, pids, mods, margin=100.0).item() == 0.0
    feats.requires_grad_()
    margin_mmd_loss(feats, pids, mods, margin=1.4).backward()
    assert feats.grad[:2].abs().sum() > 0 and torch.equal(feats.grad[2:], torch.zeros(4, 2, dtype=feats.dtype))


def test_one_modality_identities_are_ignored():
    base = t([[0.0, 0.0], [1.0, 0.0]])
    pids, mods = torch.tensor([0, 0]), torch.tensor([0, 1])
    expected = margin_mmd_loss(base, pids, mods, margin=None)
    feats = torch.cat([base, t([[5.0, 5.0], [6.0, 5.0], [9.0, 9.0]])])
    loss = margin_mmd_loss(feats, torch.tensor([0, 0, 1, 1, 2]), torch.tensor([0, 1, 0, 0, 1]), margin=None)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    only_one = margin_mmd_loss(feats[2:].requires_grad_(), torch.tensor([1, 1, 2]), torch.tensor([0, 0, 1]))
    assert only_one.item() == 0.0
    only_one.backward()


def test_permuting_the_batch_leaves_the_loss_unchanged():
    rng = np.random.default_rng(1)
    feats = t(rng.normal(size=(12, 4)))
    pids = torch.tensor([3, 3, 3, 3, 5, 5, 5, 5, 9, 9, 9, 9])
    mods = torch.tensor([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1])
    loss = margin_mmd_loss(feats, pids, mods, margin=None)
    perm = torch.from_numpy(rng.permutation(12))
    assert margin_mmd_loss(feats[perm], pids[perm], mods[perm], margin=None).item() == pytest.approx(
        loss.item(), rel=1e-12)


def test_bandwidth_carries_no_gradient():
    x = t([[0.0, 0.0], [0.5, 1.0], [2.0, 0.0]]).requires_grad_()
    margin_mmd_loss(x, torch.tensor([0, 0, 0]), torch.tensor([0, 1, 1]), margin=None).backward()
    # Same kernel sum with the bandwidth frozen as a Python float.
    y = x.detach().clone().requires_grad_()
    d = ((y[:, None] - y[None]) ** 2).sum(-1)
    b = d.sum().item() / 6
    k = sum(torch.exp(-d / (s * b)) for s in SCALES)
    (k[:1, :1].mean() + k[1:, 1:].mean() - 2 * k[:1, 1:].mean()).backward()
    assert torch.allclose(x.grad, y.grad, rtol=1e-7, atol=1e-9)


def test_module_reads_features_targets_modalities_and_scales():
    feats = t([[0.0, 0.0], [1.0, 0.0]])
    batch = {"targets": torch.tensor([4, 4]), "modalities": torch.tensor([1, 0])}
    loss = MarginMMDLoss(margin=None, scale=0.25)({"features": feats}, batch)
    assert MarginMMDLoss.loss_name == "loss_mmd"
    assert loss.item() == pytest.approx(0.25 * reference_mmd([[1.0, 0.0]], [[0.0, 0.0]]), rel=1e-9)
