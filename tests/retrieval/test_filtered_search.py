import numpy as np
import pytest

from fastreid_ext.retrieval import GalleryIndex
from fastreid_ext.retrieval.where import WhereError

KINDS = ["flat", "ivf", "ivfpq", "hnsw"]


@pytest.fixture(scope="module")
def attributed():
    """20,000 clustered gallery features (dim 32, 500 identities) with a uniform random ``score``
    column (``score < s`` selects a fraction s), a camera (1-6) and 200 queries."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((500, 32)).astype(np.float32)
    pids = rng.integers(0, 500, 20000)
    gallery = centres[pids] + 0.4 * rng.standard_normal((20000, 32)).astype(np.float32)
    queries = centres[rng.integers(0, 500, 200)] + 0.4 * rng.standard_normal((200, 32)).astype(np.float32)
    metadata = {"score": rng.random(20000), "camid": rng.integers(1, 7, 20000)}
    return gallery, queries, metadata


def _index(attributed, kind, metric="cosine"):
    gallery, _, metadata = attributed
    index = GalleryIndex(32, kind, metric)
    index.add(gallery, 1000 + np.arange(len(gallery)), metadata=metadata)
    return index


def _exact_filtered(attributed, exact_topk, keep, k, metric="cosine"):
    gallery, queries, _ = attributed
    scores, rows = exact_topk(gallery[keep], queries, k, metric)
    return scores, (1000 + np.flatnonzero(keep))[rows]


@pytest.mark.parametrize("where", ["score < 0.5", "score < 0.1", "score < 0.01 and camid in (2, 3, 4)"])
def test_flat_filtered_topk_is_the_exact_topk_of_the_matching_items(attributed, exact_topk, where):
    _, queries, metadata = attributed
    index = _index(attributed, "flat")
    keep = index.matching(where)
    scores, ids = index.search(queries, 10, where=where)
    ref_scores, ref_ids = _exact_filtered(attributed, exact_topk, keep, 10)
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_allclose(scores, ref_scores, atol=1e-5)


@pytest.mark.parametrize("strategy", ["auto", "selector"])
@pytest.mark.parametrize("selectivity", [0.5, 0.1])
def test_ivf_filtered_recall_at_the_default_nprobe(attributed, exact_topk, recall, selectivity, strategy):
    _, queries, metadata = attributed
    index = _index(attributed, "ivf")
    assert index.params["nprobe"] == 16
    where = f"score < {selectivity}"
    keep = index.matching(where)
    assert abs(keep.mean() - selectivity) < 0.01
    _, ids = index.search(queries, 10, where=where, strategy=strategy)
    assert np.isin(ids, index.matching_ids(where)).all()  # only matching items, k of them
    assert recall(ids, _exact_filtered(attributed, exact_topk, keep, 10)[1]) >= 0.95


def test_ivf_chooses_between_its_filtered_scan_and_exact_search_by_cost(attributed):
    index = _index(attributed, "ivf")
    kind, params, n = index._kind, index.params, len(index)
    assert params["nlist"] == 512 and params["nprobe"] == 16  # 20,000 // 39 lists (at least 39 vectors each)
    assert kind.search_parameters(params).nprobe == 16  # unfiltered searches keep nprobe
    # 80%: 2 * 16 / 0.8 = 40 lists, 1,563 ids scanned at a cost of 0.75 + 7 * 0.8 each: 9,922 < 16,000.
    assert kind.filtered_nprobe(params, 0.8) == 40 and not kind.prefers_exact(params, n, 16000)
    # 10%: 320 lists, 12,500 ids scanned at 0.75 + 0.7 each: 18,125 >= 2,000 matching items.
    assert kind.filtered_nprobe(params, 0.1) == 320 and kind.prefers_exact(params, n, 2000)
    most, tenth = index.plan("score < 0.8"), index.plan("score < 0.1")
    matching = int(index.matching("score < 0.8").sum())
    assert most == {"strategy": "selector", "matching": matching, "nprobe": kind.filtered_nprobe(params, matching / n)}
    assert tenth == {"strategy": "exact", "matching": int(index.matching("score < 0.1").sum())}
    assert index.plan("score < 0.1", strategy="selector")["strategy"] == "selector"
    with pytest.raises(ValueError, match=r"strategy 'exact' is not one of index kind 'ivfpq'.*'auto', 'selector'"):
        _index(attributed, "ivfpq").search(attributed[1][:2], 5, where="score < 0.1", strategy="exact")


@pytest.mark.parametrize("metric", ["cosine", "l2"])
@pytest.mark.parametrize("where", ["score < 0.1", "score < 0.01 and camid in (2, 3, 4)"])
def test_ivf_selective_filters_are_answered_exactly(attributed, exact_topk, tmp_path, metric, where):
    _, queries, _ = attributed
    index = _index(attributed, "ivf", metric)
    keep = index.matching(where)
    ref_scores, ref_ids = _exact_filtered(attributed, exact_topk, keep, 10, metric)
    for searched in (index, None):
        if searched is None:  # the id -> vector map the exact path made is saved with the index
            index.save(tmp_path / "index")
            searched = GalleryIndex.load(tmp_path / "index")
        scores, ids = searched.search(queries, 10, where=where)
        np.testing.assert_array_equal(ids, ref_ids)
        np.testing.assert_allclose(scores, ref_scores, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_returns_only_matching_items(attributed, kind):
    _, queries, _ = attributed
    index = _index(attributed, kind)
    _, ids = index.search(queries[:20], 5, where="camid == 3 and score >= 0.5")
    allowed = index.matching_ids("camid == 3 and score >= 0.5")
    assert np.isin(ids[ids != -1], allowed).all() and (ids != -1).mean() > 0.9


def test_fewer_matches_than_k_are_padded(attributed):
    _, queries, _ = attributed
    index = _index(attributed, "flat")
    allowed = index.matching_ids("score < 0.0003")
    assert 0 < len(allowed) < 10
    _, ids = index.search(queries[:3], 10, where="score < 0.0003")
    assert (ids[:, len(allowed):] == -1).all()
    assert all(set(row[:len(allowed)]) == set(allowed) for row in ids)
    _, none = index.search(queries[:3], 4, where="score > 2")
    assert (none == -1).all()


def test_widening_fallback_equals_the_native_filter(attributed, monkeypatch):
    _, queries, _ = attributed
    index = _index(attributed, "flat")
    native = index.search(queries, 10, where="score < 0.1")
    monkeypatch.setattr(index._kind, "native_filter", False)
    widened = index.search(queries, 10, where="score < 0.1")
    np.testing.assert_array_equal(widened[1], native[1])
    np.testing.assert_allclose(widened[0], native[0], atol=1e-6)
    n = len(index.matching_ids("score < 0.0003"))
    _, padded = index.search(queries[:2], 10, where="score < 0.0003")
    assert (padded[:, n:] == -1).all() and (padded[:, :n] != -1).all()


def test_sparse_ids_use_a_hash_set_selector(attributed, exact_topk):
    gallery, queries, metadata = attributed
    index = GalleryIndex(32, "flat")
    ids = 10**12 + 7 * np.arange(len(gallery))
    index.add(gallery, ids, metadata=metadata)
    _, found = index.search(queries, 5, where="score < 0.1")
    keep = metadata["score"] < 0.1
    _, rows = exact_topk(gallery[keep], queries, 5, "cosine")
    np.testing.assert_array_equal(found, ids[keep][rows])


def test_bad_where_lists_the_columns(attributed):
    _, queries, _ = attributed
    index = _index(attributed, "flat")
    with pytest.raises(WhereError, match=r"unknown column 'backpack'; columns: \['camid', 'score'\]"):
        index.search(queries, 3, where="backpack >= 0.5")
