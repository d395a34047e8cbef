import faiss
import numpy as np
import pytest

import fastreid_ext  # noqa: F401
from fastreid_ext.config import get_cfg
from fastreid_ext.retrieval import GalleryIndex
from fastreid_ext.retrieval import index as index_module

KINDS = ["flat", "ivf", "ivfpq", "hnsw"]


def _ids(n, offset=1000):
    # Arbitrary, non-contiguous int64 ids: row i of the gallery has id offset + 7 * i.
    return offset + 7 * np.arange(n, dtype=np.int64)


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_flat_equals_brute_force(clustered, exact_topk, metric):
    gallery, queries = clustered
    index = GalleryIndex(32, "flat", metric)
    index.add(gallery, _ids(len(gallery)))
    scores, ids = index.search(queries, 10)
    ref_scores, ref_rows = exact_topk(gallery, queries, 10, metric)
    np.testing.assert_array_equal(ids, _ids(len(gallery))[ref_rows])
    np.testing.assert_allclose(scores, ref_scores, atol=1e-5, rtol=0)
    assert scores.shape == ids.shape == (30, 10)
    assert scores.dtype == np.float32 and ids.dtype == np.int64


@pytest.mark.parametrize("kind, min_recall", [("ivf", 1.0), ("ivfpq", 0.9), ("hnsw", 1.0)])
def test_approximate_kinds_recall_on_clustered_set(clustered, exact_topk, recall, kind, min_recall):
    gallery, queries = clustered
    index = GalleryIndex(32, kind)
    index.add(gallery, _ids(len(gallery)))
    _, ids = index.search(queries, 6)
    _, ref_rows = exact_topk(gallery, queries, 6, "cosine")
    assert recall(ids, _ids(len(gallery))[ref_rows]) >= min_recall


def test_incremental_adds_equal_one_add_and_batches_do_not_matter(clustered):
    gallery, queries = clustered
    whole = GalleryIndex(32, "flat")
    whole.add(gallery, _ids(360))
    parts = GalleryIndex(32, "flat", batch_size=7)
    parts.add(gallery[:100], _ids(360)[:100])
    parts.add(gallery[100:], _ids(360)[100:])
    for a, b in zip(whole.search(queries, 5), parts.search(queries, 5)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(parts.ids, _ids(360))


def test_metadata_rows_follow_ids(clustered):
    gallery, queries = clustered
    index = GalleryIndex(32, "flat")
    index.add(gallery[:2], [5, 9], metadata=[{"img_path": "a.jpg", "pid": 3, "camid": 1,
                                              "modality": 0}, {"img_path": "b.jpg", "camid": 2,
                                                               "modality": 0}])
    index.add(gallery[2:3], [7], metadata={"img_path": ["c.jpg"], "pid": [np.int64(4)],
                                           "camid": [3], "modality": [1], "time": [12.5]})
    assert index.metadata([7, -1, 9]) == [
        {"id": 7, "img_path": "c.jpg", "pid": 4, "camid": 3, "modality": 1, "time": 12.5}, None,
        {"id": 9, "img_path": "b.jpg", "pid": None, "camid": 2, "modality": 0, "time": None}]
    _, ids = index.search(gallery[:1], 1)
    rows = index.metadata(ids)
    assert [[r["img_path"] for r in row] for row in rows] == [["a.jpg"]]


def test_training_lazily_on_first_add_or_explicitly(clustered):
    gallery, _ = clustered
    lazy = GalleryIndex(32, "ivf")
    assert not lazy.is_trained
    lazy.add(gallery, _ids(360))
    # nlist = min(round(4 * sqrt(360)), 360 // 39) = min(76, 9)
    assert lazy.params == {"nlist": 9, "nprobe": 9, "train_size": 9 * 64}
    explicit = GalleryIndex(32, "ivf", nlist=4, nprobe=2)
    explicit.train(gallery)
    for start in range(0, 360, 30):  # small adds after training
        explicit.add(gallery[start:start + 30], _ids(360)[start:start + 30])
    assert len(explicit) == 360 and explicit.params["nlist"] == 4
    with pytest.raises(ValueError, match="already trained"):
        explicit.train(gallery)
    too_few = GalleryIndex(32, "ivf", nlist=50)
    with pytest.raises(ValueError, match="at least 50 training vectors, got 20"):
        too_few.add(gallery[:20], np.arange(20))
    assert not too_few.is_trained and len(too_few) == 0


def test_search_params_can_change_but_build_params_cannot(clustered):
    gallery, queries = clustered
    index = GalleryIndex(32, "ivf", nlist=8, nprobe=1)
    index.add(gallery, _ids(360))
    index.set_search_params(nprobe=8)
    assert index.params["nprobe"] == 8
    with pytest.raises(ValueError, match=r"\['nlist'\]"):
        index.set_search_params(nlist=16)
    with pytest.raises(ValueError, match=r"'hnsw' does not take parameter\(s\) \['nprobe'\]"):
        GalleryIndex(32, "hnsw", nprobe=3)


def test_from_config_takes_the_kinds_keys():
    cfg = get_cfg()
    cfg.RETRIEVAL.KIND = "hnsw"
    cfg.RETRIEVAL.METRIC = "l2"
    cfg.RETRIEVAL.EF_SEARCH = 77
    cfg.RETRIEVAL.NPROBE = 5  # not an hnsw parameter: ignored
    index = GalleryIndex(cfg, dim=8, model_fingerprint="abc")
    assert (index.kind, index.metric, index.model_fingerprint) == ("hnsw", "l2", "abc")
    assert index.params == {"M": 32, "efConstruction": 40, "efSearch": 77}


def test_gpu_copy_is_searched_and_refreshed_after_changes(clustered, monkeypatch):
    gallery, _ = clustered
    copies = []

    def to_gpu(resources, device, index):
        copies.append(faiss.clone_index(index))
        return copies[-1]

    monkeypatch.setattr(index_module, "gpu_available", lambda: True)
    monkeypatch.setattr(faiss, "StandardGpuResources", object, raising=False)
    monkeypatch.setattr(faiss, "index_cpu_to_gpu", to_gpu, raising=False)
    index = GalleryIndex(32, "flat")
    index.add(gallery[:5], np.arange(5))
    index.search(gallery[:1], 1)
    index.search(gallery[:1], 1)
    assert len(copies) == 1 and copies[0].ntotal == 5
    index.add(gallery[5:6], [5])
    _, ids = index.search(gallery[5:6], 1)
    assert len(copies) == 2 and ids[0, 0] == 5
    hnsw = GalleryIndex(32, "hnsw")  # faiss has no GPU HNSW
    hnsw.add(gallery[:5], np.arange(5))
    hnsw.search(gallery[:1], 1)
    assert len(copies) == 2


# Bad input


def test_search_on_an_empty_gallery():
    for index in (GalleryIndex(8, "flat"), GalleryIndex(8, "ivf"), GalleryIndex(8, "hnsw")):
        with pytest.raises(ValueError, match="gallery is empty"):
            index.search(np.ones((1, 8), np.float32), 1)


@pytest.mark.parametrize("kind", KINDS)
def test_non_finite_features_name_their_rows(clustered, kind):
    gallery, queries = clustered
    bad = gallery.copy()
    bad[2, 5], bad[300, 0] = np.nan, -np.inf
    index = GalleryIndex(32, kind)
    with pytest.raises(ValueError, match=r"add: feature rows \[2, 300\] contain NaN or infinite"):
        index.add(bad, _ids(360))
    assert len(index) == 0
    index.add(gallery, _ids(360))
    bad_queries = queries.copy()
    bad_queries[7, 1] = np.inf
    with pytest.raises(ValueError, match=r"search: feature rows \[7\]"):
        index.search(bad_queries, 3)


def test_float64_values_beyond_float32_are_infinite():
    index = GalleryIndex(2, "flat", "l2")
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        index.add(np.array([[1.0, 2.0], [1e39, 0.0]]), [0, 1])


def test_zero_feature_under_cosine():
    index = GalleryIndex(2, "flat")
    with pytest.raises(ValueError, match=r"rows \[0\] are zero"):
        index.add(np.zeros((1, 2)), [0])


def test_dimension_mismatch(clustered):
    gallery, queries = clustered
    index = GalleryIndex(32, "flat")
    with pytest.raises(ValueError, match=r"add: expected \(N, 32\).*\(dimension 16 instead of 32\)"):
        index.add(gallery[:, :16], _ids(360))
    index.add(gallery, _ids(360))
    with pytest.raises(ValueError, match=r"search: .*dimension 64 instead of 32"):
        index.search(np.ones((2, 64), np.float32), 3)
    with pytest.raises(ValueError, match=r"got shape \(32,\)"):
        index.search(queries[0], 3)


@pytest.mark.parametrize("kind", KINDS)
def test_k_larger_than_the_gallery(clustered, kind):
    gallery, queries = clustered
    index = GalleryIndex(32, kind)
    index.add(gallery, _ids(360))
    with pytest.raises(ValueError, match=r"k=361 .* gallery size 360"):
        index.search(queries, 361)
    with pytest.raises(ValueError, match=r"k=0 "):
        index.search(queries, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_k_as_a_numpy_integer(clustered, kind):
    gallery, queries = clustered
    index = GalleryIndex(32, kind)
    index.add(gallery, _ids(360))
    scores, ids = index.search(queries, np.int64(2))
    np.testing.assert_array_equal(ids, index.search(queries, 2)[1])
    assert scores.shape == (30, 2) and index.search(queries, np.uint8(3))[1].shape == (30, 3)
    for bad in (True, np.bool_(True), 2.0, np.float32(2)):
        with pytest.raises(TypeError, match=r"must be an integer \(int or numpy integer\), not a bool"):
            index.search(queries, bad)


@pytest.mark.parametrize("kind", KINDS)
def test_duplicate_ids(clustered, kind):
    gallery, _ = clustered
    index = GalleryIndex(32, kind)
    ids = _ids(360)
    ids[[10, 20, 30]] = ids[0]
    with pytest.raises(ValueError, match=r"Duplicate gallery ids within one add: \[1000\]"):
        index.add(gallery, ids)
    index.add(gallery[:300], _ids(360)[:300])
    with pytest.raises(ValueError, match=r"already in the gallery: \[1000, 1007\]"):
        index.add(gallery[300:302], _ids(2))
    assert len(index) == 300 and index._index.ntotal == 300


def test_bad_ids_and_metadata(clustered):
    gallery, _ = clustered
    index = GalleryIndex(32, "flat")
    with pytest.raises(ValueError, match=r"shape \(3,\); expected \(4,\)"):
        index.add(gallery[:4], [1, 2, 3])
    with pytest.raises(TypeError, match="integers"):
        index.add(gallery[:2], [1.5, 2.0])
    with pytest.raises(ValueError, match="-1"):
        index.add(gallery[:2], [0, -1])
    with pytest.raises(ValueError, match="3 rows for 2 features"):
        index.add(gallery[:2], [0, 1], metadata=[{}, {}, {}])
    with pytest.raises(TypeError, match=r"column 'attributes', row 1: ndarray"):
        index.add(gallery[:2], [0, 1], metadata={"attributes": [None, np.zeros(3)]})
    assert len(index) == 0


def test_unknown_kind_and_metric():
    with pytest.raises(KeyError, match=r"'annoy'.*\['flat', 'hnsw', 'ivf', 'ivfpq'\]"):
        GalleryIndex(8, "annoy")
    with pytest.raises(KeyError, match="RETRIEVAL.METRIC"):
        GalleryIndex(8, "flat", "dot")
