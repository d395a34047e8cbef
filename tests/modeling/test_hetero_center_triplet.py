import math

import numpy as np
import pytest
import torch

import fastreid_ext  # noqa: F401
from fastreid_ext.modeling.losses import HeteroCenterTripletLoss, hetero_center_triplet_loss


def reference_hct(points, pids, mods, margin):
    """Loop version: centres per (pid, modality), anchors = centres with an other-modality partner."""
    groups = {}
    for p, pid, m in zip(points, pids, mods):
        groups.setdefault((pid, m), []).append(np.asarray(p, dtype=np.float64))
    centres = {key: np.mean(rows, axis=0) for key, rows in groups.items()}
    terms = []
    for (pid, m), c in centres.items():
        if (pid, 1 - m) not in centres:
            continue
        negatives = [math.dist(c, o) for (opid, _), o in centres.items() if opid != pid]
        if not negatives:
            continue
        terms.append(max(0.0, math.dist(c, centres[(pid, 1 - m)]) - min(negatives) + margin))
    return sum(terms) / len(terms) if terms else 0.0


def t(rows):
    return torch.tensor(rows, dtype=torch.float64)


def test_toy_points_by_hand():
    # Centres: id 0 visible (1, 0), infrared (1, 2); id 1 visible (4, 1), infrared (2, 1).
    feats = t([[0, 0], [2, 0], [1, 1], [1, 3], [4, 0], [4, 2], [2, 1], [2, 1]])
    pids = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    mods = torch.tensor([0, 0, 1, 1, 0, 0, 1, 1])
    s2 = math.sqrt(2)
    # anchor: (d_pos, d_neg): 0v: (2, min(3.162, 1.414)); 0i: (2, min(3.162, 1.414));
    #                         1v: (2, min(3.162, 3.162)); 1i: (2, min(1.414, 1.414)).
    expected = (max(0, 2 - s2 + 0.3) * 3 + max(0, 2 - math.sqrt(10) + 0.3)) / 4
    loss = hetero_center_triplet_loss(feats, pids, mods, margin=0.3)
    assert loss.item() == pytest.approx(expected, rel=1e-9)


def test_matches_reference_on_random_batch_with_uneven_counts():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(11, 5))
    pids = [0, 0, 1, 1, 1, 2, 2, 0, 1, 2, 2]
    mods = [0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0]
    loss = hetero_center_triplet_loss(t(pts), torch.tensor(pids), torch.tensor(mods), margin=0.3)
    assert loss.item() == pytest.approx(reference_hct(pts, pids, mods, 0.3), rel=1e-9)


def test_one_modality_identity_is_a_negative_but_no_anchor():
    feats = t([[0, 0], [0, 2], [10, 0], [10, 2], [0, 1.5]])
    pids = torch.tensor([0, 0, 1, 1, 2])
    mods = torch.tensor([0, 1, 0, 1, 0])
    # Without identity 2 both identities are far apart: loss 0. Identity 2 (visible only) sits
    # near identity 0's centres: it becomes their nearest negative, but has no anchor term.
    assert hetero_center_triplet_loss(feats[:4], pids[:4], mods[:4], margin=0.3).item() == 0.0
    # anchors 0v: max(0, 2 - 1.5 + 0.3) = 0.8; 0i: max(0, 2 - 0.5 + 0.3) = 1.8; 1v, 1i: 0.
    loss = hetero_center_triplet_loss(feats, pids, mods, margin=0.3)
    assert loss.item() == pytest.approx((0.8 + 1.8) / 4, rel=1e-9)
    assert loss.item() == pytest.approx(reference_hct(feats.numpy(), pids.tolist(), mods.tolist(), 0.3))


def test_no_anchor_gives_zero_with_a_graph():
    feats = t([[0, 0], [1, 1]]).requires_grad_()
    loss = hetero_center_triplet_loss(feats, torch.tensor([0, 1]), torch.tensor([0, 1]))
    assert loss.item() == 0.0
    loss.backward()


def test_permuting_the_batch_leaves_the_loss_unchanged():
    rng = np.random.default_rng(2)
    feats = t(rng.normal(size=(12, 4)))
    pids = torch.tensor([3, 3, 3, 3, 5, 5, 5, 5, 9, 9, 9, 9])
    mods = torch.tensor([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1])
    loss = hetero_center_triplet_loss(feats, pids, mods, margin=1.0)
    assert loss.item() > 0
    perm = torch.from_numpy(rng.permutation(12))
    assert hetero_center_triplet_loss(feats[perm], pids[perm], mods[perm], margin=1.0).item() == pytest.approx(
        loss.item(), rel=1e-12)


def test_module_scales_and_names_its_entry():
    feats = t([[0, 0], [2, 0], [1, 1], [1, 3], [4, 0], [4, 2], [2, 1], [2, 1]])
    batch = {"targets": torch.tensor([0, 0, 0, 0, 1, 1, 1, 1]), "modalities": torch.tensor([0, 0, 1, 1, 0, 0, 1, 1])}
    loss = HeteroCenterTripletLoss(margin=0.3, scale=2.0)({"features": feats}, batch)
    assert HeteroCenterTripletLoss.loss_name == "loss_hct"
    assert loss.item() == pytest.approx(2.0 * reference_hct(feats.numpy(), [0] * 4 + [1] * 4, [0, 0, 1, 1] * 2, 0.3))
