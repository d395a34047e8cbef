"""attribute_predictor_stats: the per-epoch diagnostics of the attribute predictor, on hand-computed values."""
import pytest
import torch

import fastreid_ext  # noqa: F401
from fastreid_ext.engine.hooks import attribute_predictor_stats


def test_attribute_predictor_stats_hand_computed():
    pooled = torch.tensor([[1.0, 3.0], [3.0, 5.0]])  # mean (2, 4); deviations (+-1, +-1)
    logits = torch.tensor([[0.0, 2.0], [2.0, 2.0]])  # batch std (unbiased): sqrt(2), 0
    weight = torch.tensor([[3.0, 4.0]])
    stats = attribute_predictor_stats(pooled, logits, weight)
    assert stats["mean_sq"] == pytest.approx(20.0)
    assert stats["cov_trace"] == pytest.approx(2.0)
    assert stats["weight_norm"] == pytest.approx(5.0)
    assert stats["logit_spread"] == pytest.approx(2 ** 0.5 / 2)


def test_constant_predictor_has_no_spread():
    stats = attribute_predictor_stats(torch.rand(6, 4), torch.full((6, 3), 0.7), torch.ones(3, 4))
    assert stats["logit_spread"] == 0.0
