import numpy as np
import pytest

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.evaluation.metrics import (
    PROTOCOLS,
    FeatureDistance,
    eval_llcm,
    eval_regdb,
    eval_sysu,
    evaluate_ranking,
)
from tests.evaluation.reference_loop import loop_eval


def _column(pids, cams, dists):
    """One query's gallery as arrays, plus its (1, G) distance row."""
    return np.array(pids), np.array(cams), np.array([dists], dtype=np.float64)


def test_sysu_camera3_query_ignores_camera2():
    g_pids, g_cams, row = _column([1, 2, 1, 3], [2, 1, 1, 4], [0.1, 0.2, 0.3, 0.4])
    dist = np.vstack([row, row])
    # Query 0 (cam 3): the cam-2 image of pid 1 is dropped -> ranking 2, 1, 3: first match at rank 2,
    #   AP = 1/2, INP = 1/2.
    # Query 1 (cam 6): nothing dropped -> ranking 1, 2, 1, 3: matches at ranks 1 and 3,
    #   AP = (1/1 + 2/3) / 2 = 5/6, INP = 2/3.
    cmc, mAP, mINP = eval_sysu(dist, np.array([1, 1]), g_pids, np.array([3, 6]), g_cams, max_rank=4)
    np.testing.assert_allclose(cmc, [0.5, 1.0, 1.0, 1.0])
    assert mAP == pytest.approx((1 / 2 + 5 / 6) / 2)
    assert mINP == pytest.approx((1 / 2 + 2 / 3) / 2)
    # RegDB drops nothing: both queries see the ranking of query 1.
    cmc, mAP, mINP = eval_regdb(dist, np.array([1, 1]), g_pids, max_rank=4)
    np.testing.assert_allclose(cmc, [1.0, 1.0, 1.0, 1.0])
    assert mAP == pytest.approx(5 / 6)
    assert mINP == pytest.approx(2 / 3)


def test_dedup_cmc_counts_distinct_identities():
    # Ranking by distance: pids 2, 2, 3, 1, 4, 1 (the gallery columns are stored shuffled).
    by_rank_pids, by_rank_dist = [2, 2, 3, 1, 4, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    shuffle = [4, 0, 5, 2, 1, 3]
    g_pids = np.array(by_rank_pids)[shuffle]
    dist = np.array([by_rank_dist])[:, shuffle]
    g_cams = np.ones(6, dtype=int)
    # Images: the first match is 4th. Distinct identities: 2, 3, 1, 4 -> pid 1 is the 3rd.
    # AP = (1/4 + 2/6) / 2 = 7/24, INP = 2/6 whatever the CMC rule.
    cmc, mAP, mINP = eval_sysu(dist, np.array([1]), g_pids, np.array([1]), g_cams, max_rank=5)
    np.testing.assert_allclose(cmc, [0, 0, 1, 1, 1])
    assert (mAP, mINP) == (pytest.approx(7 / 24), pytest.approx(1 / 3))
    cmc, mAP, mINP = eval_regdb(dist, np.array([1]), g_pids, max_rank=5)
    np.testing.assert_allclose(cmc, [0, 0, 0, 1, 1])
    assert (mAP, mINP) == (pytest.approx(7 / 24), pytest.approx(1 / 3))


def test_llcm_drops_same_identity_same_camera():
    g_pids, g_cams, dist = _column([1, 2, 1, 3], [1, 2, 2, 1], [0.1, 0.2, 0.3, 0.4])
    # The pid-1 image from the query's camera 1 is dropped -> ranking 2, 1, 3: rank 2, AP = INP = 1/2.
    cmc, mAP, mINP = eval_llcm(dist, np.array([1]), g_pids, np.array([1]), g_cams, max_rank=3)
    np.testing.assert_allclose(cmc, [0, 1, 1])
    assert (mAP, mINP) == (pytest.approx(1 / 2), pytest.approx(1 / 2))
    # SYSU keeps it (camera 1 is not camera 3): matches at ranks 1 and 3, AP = (1 + 2/3) / 2.
    cmc, mAP, mINP = eval_sysu(dist, np.array([1]), g_pids, np.array([1]), g_cams, max_rank=3)
    np.testing.assert_allclose(cmc, [1, 1, 1])
    assert (mAP, mINP) == (pytest.approx(5 / 6), pytest.approx(2 / 3))


def test_minp_and_queries_without_match_are_skipped():
    g_pids, _, row = _column([3, 1, 4, 5, 1], [1] * 5, [0.1, 0.2, 0.3, 0.4, 0.5])
    dist = np.vstack([row, row])
    # Query 0 (pid 1): matches at ranks 2 and 5 -> AP = (1/2 + 2/5) / 2 = 0.45, INP = 2/5.
    # Query 1 (pid 9) has no match and is left out of every mean.
    cmc, mAP, mINP = eval_regdb(dist, np.array([1, 9]), g_pids, max_rank=3)
    np.testing.assert_allclose(cmc, [0, 1, 1])
    assert (mAP, mINP) == (pytest.approx(0.45), pytest.approx(0.4))


def test_ties_are_broken_by_gallery_index():
    cams = np.ones(2, dtype=int)
    dist = np.array([[0.5, 0.5]])
    cmc, _, _ = eval_regdb(dist, np.array([1]), np.array([2, 1]))
    np.testing.assert_allclose(cmc, [0, 1])
    cmc, _, _ = eval_sysu(dist, np.array([1]), np.array([1, 2]), np.array([1]), cams)
    np.testing.assert_allclose(cmc, [1, 1])


def test_short_dedup_ranking_keeps_its_last_value():
    # Three images of two identities: max_rank shrinks to G = 3, the de-duplicated list has 2 entries.
    g_pids, g_cams, dist = _column([2, 1, 1], [1, 1, 1], [0.1, 0.2, 0.3])
    cmc, _, _ = eval_sysu(dist, np.array([1]), g_pids, np.array([1]), g_cams, max_rank=20)
    np.testing.assert_allclose(cmc, [0, 1, 1])


def test_errors_name_the_problem():
    g_pids, g_cams, dist = _column([2, 3], [1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="no query has a true match"):
        eval_regdb(dist, np.array([1]), g_pids)
    with pytest.raises(ValueError, match="distances are 1x2 but got 2 query pids"):
        eval_regdb(dist, np.array([1, 2]), g_pids)
    with pytest.raises(ValueError, match="non-finite distance in query rows 0:1"):
        eval_regdb(np.array([[np.nan, 0.1]]), np.array([2]), g_pids)


def _random_problem(seed, ties=False):
    rng = np.random.default_rng(seed)
    num_q, num_g = 240, 150
    q_pids, g_pids = rng.integers(0, 40, num_q), rng.integers(0, 50, num_g)  # repeats; some q pids absent
    q_cams, g_cams = rng.integers(1, 7, num_q), rng.integers(1, 7, num_g)
    dist = rng.random((num_q, num_g))
    if ties:
        dist = np.round(dist, 1)
    return dist, q_pids, g_pids, q_cams, g_cams


@pytest.fixture(scope="module")
def loop_results():
    """Reference results, computed once per (protocol, input)."""
    cache = {}

    def get(protocol, seed, ties):
        key = (protocol, seed, ties)
        if key not in cache:
            cache[key] = loop_eval(*_random_problem(seed, ties), protocol)
        return cache[key]
    return get


def _assert_same(result, expected):
    np.testing.assert_allclose(result[0], expected[0], rtol=0, atol=1e-6)
    assert result[1] == pytest.approx(expected[1], abs=1e-6)
    assert result[2] == pytest.approx(expected[2], abs=1e-6)


@pytest.mark.parametrize("protocol", ["sysu", "regdb", "llcm"])
@pytest.mark.parametrize("block_size", [1, 7, 240])
@pytest.mark.parametrize("ties", [False, True])
def test_random_inputs_equal_the_loop_definition(loop_results, protocol, block_size, ties):
    dist, q_pids, g_pids, q_cams, g_cams = _random_problem(0, ties)
    result = evaluate_ranking(dist, q_pids, g_pids, q_cams, g_cams, PROTOCOLS[protocol], block_size=block_size)
    _assert_same(result, loop_results(protocol, 0, ties))


def test_wrappers_select_their_protocol(loop_results):
    dist, q_pids, g_pids, q_cams, g_cams = _random_problem(0)
    _assert_same(eval_sysu(dist, q_pids, g_pids, q_cams, g_cams, block_size=7), loop_results("sysu", 0, False))
    _assert_same(eval_llcm(dist, q_pids, g_pids, q_cams, g_cams, block_size=7), loop_results("llcm", 0, False))
    _assert_same(eval_regdb(dist, q_pids, g_pids, block_size=7), loop_results("regdb", 0, False))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_feature_form_equals_the_loop_on_the_same_distances(metric):
    rng = np.random.default_rng(1)
    _, q_pids, g_pids, q_cams, g_cams = _random_problem(1)
    q_feats, g_feats = rng.normal(size=(240, 16)), rng.normal(size=(150, 16))
    distance = FeatureDistance(q_feats, g_feats, metric)
    dense = distance.block(slice(None), np.arange(150))
    q64, g64 = q_feats, g_feats
    if metric == "cosine":
        q64 = q_feats / np.linalg.norm(q_feats, axis=1, keepdims=True)
        g64 = g_feats / np.linalg.norm(g_feats, axis=1, keepdims=True)
        expected = 1 - q64 @ g64.T
    else:
        expected = ((q64[:, None, :] - g64[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(dense, expected, atol=1e-4)
    result = eval_sysu(distance, q_pids, g_pids, q_cams, g_cams, block_size=7)
    _assert_same(result, loop_eval(dense, q_pids, g_pids, q_cams, g_cams, "sysu"))


def test_unknown_metric_names_the_key():
    with pytest.raises(ValueError, match="TEST.METRIC: unknown metric 'hamming'"):
        FeatureDistance(np.zeros((1, 2)), np.zeros((1, 2)), "hamming")
