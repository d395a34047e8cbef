import numpy as np
import pytest

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.evaluation.metrics import PROTOCOLS, evaluate_ranking
from fastreid_ext.evaluation.topk_metrics import evaluate_topk, topk_recall


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_whole_ranking_equals_the_exact_metrics(protocol):
    rng = np.random.default_rng(0)
    q_pids, g_pids = rng.integers(0, 8, 40), rng.integers(0, 8, 60)
    q_cams, g_cams = rng.choice([3, 6], 40), rng.choice([1, 2, 3, 4], 60)
    distances = rng.random((40, 60))
    ranking = np.argsort(distances, axis=1, kind="stable")
    cmc, mAP, mINP = evaluate_topk(ranking, q_pids, g_pids, q_cams, g_cams, PROTOCOLS[protocol], max_rank=20)
    exact_cmc, exact_mAP, exact_mINP = evaluate_ranking(distances, q_pids, g_pids, q_cams, g_cams,
                                                        PROTOCOLS[protocol], max_rank=20)
    np.testing.assert_allclose(cmc, exact_cmc)
    assert (mAP, mINP) == pytest.approx((exact_mAP, exact_mINP))


def test_truncated_ranking_by_hand():
    # Gallery: identity 1 in cameras 2, 1, 5 and identity 2 in cameras 1, 4.
    g_pids, g_cams = np.array([2, 1, 1, 2, 1]), np.array([1, 2, 1, 4, 5])
    # Query 0 (identity 1, camera 3) retrieved [0, 1, 2]: SYSU hides camera 2 (item 1) from it, leaving
    # identity 2 first and its match (item 2) second; item 4, its other match, was not retrieved.
    # Query 1 (identity 2, camera 6) retrieved [3, 0] and one empty slot: both matches at ranks 1 and 2.
    # Query 2 (identity 9) has no match in the gallery and is skipped.
    topk = np.array([[0, 1, 2], [3, 0, -1], [4, 2, 1]])
    q_pids, q_cams = np.array([1, 2, 9]), np.array([3, 6, 3])
    cmc, mAP, mINP = evaluate_topk(topk, q_pids, g_pids, q_cams, g_cams, PROTOCOLS["sysu"], max_rank=3)
    np.testing.assert_allclose(cmc, [1 / 2, 1, 1])
    # AP of query 0: precision 1/2 at its one retrieved match, over its 2 visible matches.
    assert mAP == pytest.approx((1 / 2 / 2 + 1) / 2)
    # INP of query 0 is 0: its last match was not retrieved.
    assert mINP == pytest.approx((0 + 1) / 2)

    # Without the camera rule (RegDB), item 1 counts: query 0 has 3 matches, found at ranks 2 and 3.
    cmc, mAP, mINP = evaluate_topk(topk, q_pids, g_pids, q_cams, g_cams, PROTOCOLS["regdb"], max_rank=3)
    np.testing.assert_allclose(cmc, [1 / 2, 1, 1])
    assert mAP == pytest.approx(((1 / 2 + 2 / 3) / 3 + 1) / 2)


def test_dedup_cmc_counts_identities_before_the_first_match():
    g_pids, g_cams = np.array([2, 2, 2, 1]), np.array([1, 1, 1, 1])
    topk = np.array([[0, 1, 2, 3]])
    sysu, _, _ = evaluate_topk(topk, [1], g_pids, [6], g_cams, PROTOCOLS["sysu"], max_rank=4)
    regdb, _, _ = evaluate_topk(topk, [1], g_pids, [6], g_cams, PROTOCOLS["regdb"], max_rank=4)
    np.testing.assert_allclose(sysu, [0, 1, 1, 1])  # one distinct identity before the match
    np.testing.assert_allclose(regdb, [0, 0, 0, 1])


def test_topk_recall():
    assert topk_recall([[1, 2, -1], [5, 4, 3]], [[1, 2, 3], [3, 4, 5]]) == pytest.approx((2 / 3 + 1) / 2)


def test_errors():
    g_pids, g_cams = np.array([1, 2]), np.array([1, 1])
    with pytest.raises(ValueError, match="top-k gallery indices must be in \\[-1, 2\\), got \\[0, 2\\]"):
        evaluate_topk([[0, 2]], [1], g_pids, [3], g_cams, PROTOCOLS["sysu"])
    with pytest.raises(ValueError, match="top-k lists \\(Q, k >= 1\\) of shape \\(1, 2\\) for 2 query pids"):
        evaluate_topk([[0, 1]], [1, 2], g_pids, [3, 3], g_cams, PROTOCOLS["sysu"])
    with pytest.raises(ValueError, match="no query has a true match"):
        evaluate_topk([[0, 1]], [7], g_pids, [3], g_cams, PROTOCOLS["sysu"])
    with pytest.raises(ValueError, match="found and exact top-k must be"):
        topk_recall([[1]], [[1, 2]])
