import math

import pytest
import torch

import fastreid_ext  # noqa: F401
from fastreid_ext.modeling.losses import CrossEntropyLoss


def test_label_smoothed_cross_entropy_by_hand():
    logits = [[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]]
    targets = [0, 2]
    eps, num_classes = 0.1, 3
    expected = 0.0
    for row, y in zip(logits, targets):
        log_z = math.log(sum(math.exp(v) for v in row))
        for c, v in enumerate(row):
            q = 1 - eps if c == y else eps / (num_classes - 1)
            expected -= q * (v - log_z)
    expected /= 2
    loss = CrossEntropyLoss(eps=eps, scale=2.0)(
        {"cls_outputs": torch.tensor(logits, dtype=torch.float64)}, {"targets": torch.tensor(targets)})
    assert CrossEntropyLoss.loss_name == "loss_cls"
    assert loss.item() == pytest.approx(2.0 * expected, rel=1e-9)
