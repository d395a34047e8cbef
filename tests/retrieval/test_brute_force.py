import numpy as np
import pytest

from fastreid_ext.retrieval.brute_force import brute_force_topk


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_blocked_topk_equals_a_full_sort(exact_topk, metric):
    rng = np.random.default_rng(1)
    gallery = rng.standard_normal((50, 8)).astype(np.float32)
    queries = rng.standard_normal((7, 8)).astype(np.float32)
    scores, rows = brute_force_topk(gallery, queries, 6, metric, gallery_block=4, query_block=3)
    ref_scores, ref_rows = exact_topk(gallery, queries, 6, metric)
    np.testing.assert_array_equal(rows, ref_rows)
    np.testing.assert_allclose(scores, ref_scores, atol=1e-5, rtol=0)
    _, everything = brute_force_topk(gallery, queries, 50, metric, gallery_block=64)
    np.testing.assert_array_equal(everything, exact_topk(gallery, queries, 50, metric)[1])
