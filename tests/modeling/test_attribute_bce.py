import math

import pytest
import torch

import fastreid_ext  # noqa: F401
from fastreid_ext.modeling.losses import AttributeBCELoss


def bce(logits, labels):
    terms = [-(y * math.log(1 / (1 + math.exp(-z))) + (1 - y) * math.log(1 - 1 / (1 + math.exp(-z))))
             for row, lrow in zip(logits, labels) for z, y in zip(row, lrow)]
    return sum(terms) / len(terms)


LABELS = [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
AAL = [[0.3, -1.0, 2.0], [1.5, -0.2, 0.0]]
PRED = [[-0.7, 0.1, 0.4], [0.0, 2.0, -3.0]]


def test_sums_the_configured_outputs_present():
    outputs = {"attr_logits": torch.tensor(AAL), "attr_pred_logits": torch.tensor(PRED)}
    batch = {"attributes": torch.tensor(LABELS)}
    loss = AttributeBCELoss(scale=0.5)(outputs, batch)
    assert AttributeBCELoss.loss_name == "loss_attr"
    assert loss.item() == pytest.approx(0.5 * (bce(AAL, LABELS) + bce(PRED, LABELS)), rel=1e-6)
    only_pred = AttributeBCELoss()({"attr_pred_logits": torch.tensor(PRED)}, batch)
    assert only_pred.item() == pytest.approx(bce(PRED, LABELS), rel=1e-6)
    only_aal = AttributeBCELoss(outputs=("attr_logits",))(outputs, batch)
    assert only_aal.item() == pytest.approx(bce(AAL, LABELS), rel=1e-6)


def test_errors_name_what_is_missing():
    with pytest.raises(KeyError, match="MODEL.LOSSES.ATTR.OUTPUTS"):
        AttributeBCELoss()({"features": torch.zeros(2, 4)}, {"attributes": torch.tensor(LABELS)})
    with pytest.raises(KeyError, match="attributes"):
        AttributeBCELoss()({"attr_logits": torch.tensor(AAL)}, {"targets": torch.tensor([0, 1])})
