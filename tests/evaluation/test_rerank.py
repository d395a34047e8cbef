import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastreid.utils.compute_dist import build_dist, compute_jaccard_distance

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.evaluation.rerank import jaccard_distance, re_ranking


def _features(seed, num_q, num_g, dim):
    rng = np.random.default_rng(seed)
    # Clustered, so that k-reciprocal sets are large and the candidate-expansion rule fires.
    centers = rng.standard_normal((6, dim))
    q = centers[rng.integers(0, 6, num_q)] + 0.6 * rng.standard_normal((num_q, dim))
    g = centers[rng.integers(0, 6, num_g)] + 0.6 * rng.standard_normal((num_g, dim))
    return q.astype(np.float32), g.astype(np.float32)


def _fastreid_dense(q, g, k1, k2, lambda_value, metric):
    """FastReID's own dense definition (ReidEvaluator's mixing of compute_jaccard_distance), on CPU."""
    tq, tg = torch.from_numpy(q), torch.from_numpy(g)
    dist = build_dist(tq, tg, metric)
    if metric == "cosine":
        tq, tg = F.normalize(tq, dim=1), F.normalize(tg, dim=1)
    jaccard = compute_jaccard_distance(torch.cat([tq, tg]), k1=k1, k2=k2, search_option=3)[:len(q), len(q):]
    return jaccard, jaccard * (1 - lambda_value) + dist * lambda_value


@pytest.mark.filterwarnings("ignore:This overload of addmm_ is deprecated")  # inside FastReID's euclidean
@pytest.mark.parametrize("k1,k2,metric", [(20, 6, "cosine"), (6, 3, "euclidean"), (5, 1, "cosine")])
def test_equals_fastreid_dense_definition(k1, k2, metric):
    q, g = _features(0, 30, 50, 8)
    expected_jaccard, expected = _fastreid_dense(q, g, k1, k2, 0.3, metric)
    assert (expected_jaccard < 0.9).sum() > 30  # the neighbour sets do overlap: not a trivial all-ones case
    result = re_ranking(q, g, k1=k1, k2=k2, lambda_value=0.3, metric=metric, block_size=7)
    assert result.shape == (30, 50) and result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-5)


def test_jaccard_blocks_do_not_change_the_result():
    q, g = _features(1, 23, 31, 5)
    np.testing.assert_allclose(jaccard_distance(q, g, 8, 3, block_size=4),
                               jaccard_distance(q, g, 8, 3, block_size=100), rtol=0, atol=1e-6)


def test_runs_without_cuda(monkeypatch):
    def no_cuda(*args, **kwargs):
        raise AssertionError("CUDA was requested")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.Tensor, "cuda", no_cuda)
    q, g = _features(2, 12, 20, 4)
    assert np.isfinite(re_ranking(q, g, k1=6, k2=3)).all()
