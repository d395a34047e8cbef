import pytest

import fastreid_ext  # noqa: F401
from fastreid_ext.retrieval.kinds import INDEX_KIND_REGISTRY, default_nlist, default_pq_m, get_kind


def test_registered_kinds():
    assert INDEX_KIND_REGISTRY.names() == ["flat", "hnsw", "ivf", "ivfpq"]
    assert [get_kind(k).name for k in ("flat", "ivf", "ivfpq", "hnsw")] == ["flat", "ivf", "ivfpq", "hnsw"]


def test_default_nlist_is_4_sqrt_n_with_39_vectors_a_list():
    assert default_nlist(1_000_000) == 4000
    assert default_nlist(200_000) == 1789
    assert default_nlist(1000) == 25  # 4 * sqrt(1000) = 126 lists would get < 39 vectors each
    assert default_nlist(10) == 1


def test_default_pq_m_divides_the_dimension():
    assert [default_pq_m(d) for d in (256, 2048, 100, 4)] == [32, 256, 10, 1]


def test_resolve_fills_defaults_and_checks():
    ivfpq = get_kind("ivfpq")
    assert ivfpq.resolve(256, {"nprobe": 4, "M": None}, n_train=1_000_000) == {
        "nlist": 4000, "nprobe": 4, "train_size": 256_000, "M": 32, "nbits": 8}
    assert ivfpq.min_train({"nlist": 10, "nbits": 8}) == 256
    with pytest.raises(ValueError, match="M=24 sub-quantizers must divide the feature dimension 256"):
        ivfpq.resolve(256, {"M": 24}, n_train=10_000)
    with pytest.raises(ValueError, match="give nlist or train first"):
        get_kind("ivf").resolve(256, {})
    with pytest.raises(ValueError, match=r"does not take parameter\(s\) \['efSearch'\]"):
        get_kind("flat").resolve(8, {"efSearch": 3})
