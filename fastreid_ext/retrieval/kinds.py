"""Index kinds of :class:`~fastreid_ext.retrieval.index.GalleryIndex`, registered by name.

A kind knows which parameters it takes, their defaults (some depend on the number of training
vectors), how to build an empty faiss index whose ids are arbitrary int64, and the per-search
parameters (``nprobe``, ``efSearch``) to pass to faiss. Adding a kind is one class decorated with
``@INDEX_KIND_REGISTRY.register()``.

Search defaults come from ``benchmarks/retrieval.py`` (clustered ReID-like features, recall@10
against exact search): ``nprobe=16`` is the smallest of its sweep that keeps ``ivf`` at recall
>= 0.95 on 1,000,000 x 256 features; HNSW needs ``efSearch=128`` for that on 200,000 x 2048 and
more on the million (see the tables in the README).
"""
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Optional, Union

import faiss
import numpy as np
from fastreid.utils.registry import Registry


class KindRegistry(Registry):
    """FastReID's ``Registry`` keyed by each kind's ``name`` (the value of ``RETRIEVAL.KIND``), holding
    one instance of each kind."""

    def register(self, obj: Optional[type] = None) -> Union[Callable[[type], type], type]:
        def deco(cls):
            self._do_register(cls.name, cls())
            return cls
        return deco if obj is None else deco(obj)

    def names(self) -> list[str]:
        return sorted(self._obj_map)


INDEX_KIND_REGISTRY = KindRegistry("INDEX_KIND")


def plain_params(params: dict) -> dict:
    """``params`` with numpy scalars turned into Python ones, so the header can be JSON."""
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}


def get_kind(name: str) -> "IndexKind":
    """Return the registered kind ``name``; the error lists the known kinds."""
    if name not in INDEX_KIND_REGISTRY.names():
        raise KeyError(f"Unknown gallery index kind {name!r} (RETRIEVAL.KIND); "
                       f"known kinds: {INDEX_KIND_REGISTRY.names()}")
    return INDEX_KIND_REGISTRY.get(name)


class IndexKind:
    """One way of indexing a gallery. Subclasses set the class attributes and override the hooks.

    Attributes:
        name: the key in :data:`INDEX_KIND_REGISTRY` and the value of ``RETRIEVAL.KIND``.
        params: every parameter the kind accepts.
        search_params: the subset that only affects searching (changeable after building).
        needs_training: the faiss index must be trained before vectors are added.
        gpu: faiss can move it to a GPU.
        native_filter: faiss searches it with an id selector (``SearchParameters.sel``); otherwise
            filtered searches widen k (:func:`~fastreid_ext.retrieval.filter.widening_search`).
        exact_vectors: :meth:`vectors` reads the stored vectors back unchanged, so a filtered search
            can be answered exactly over the matching items (when :meth:`prefers_exact`).
    """
    name = ""
    params = ()
    search_params = ()
    needs_training = False
    gpu = True
    native_filter = True
    exact_vectors = False

    def check(self, given: Iterable[str], allowed: Optional[Sequence[str]] = None) -> None:
        """Raise if ``given`` names a parameter outside ``allowed`` (default: all of the kind's)."""
        allowed = self.params if allowed is None else allowed
        unknown = sorted(set(given) - set(allowed))
        if unknown:
            raise ValueError(f"Index kind {self.name!r} does not take parameter(s) {unknown} "
                             f"here; it takes {list(allowed)}")

    def resolve(self, dim: int, given: dict, n_train: Optional[int] = None) -> dict:
        """Return the complete parameter dict: ``given`` plus defaults.

        Args:
            dim: feature dimension.
            given: parameters set by the caller (``None`` values count as unset).
            n_train: number of training vectors, for kinds whose defaults depend on it.
        """
        self.check(given)
        params = {k: v for k, v in plain_params(given).items() if v is not None}
        for key, value in self.defaults(dim, params, n_train).items():
            params.setdefault(key, value)
        return params

    def defaults(self, dim: int, params: dict, n_train: Optional[int]) -> dict:
        return {}

    def min_train(self, params: dict) -> int:
        """The fewest training vectors that ``params`` allow."""
        return 0

    def build(self, dim: int, metric_type: int, params: dict) -> faiss.Index:
        """Return an empty faiss index taking ``add_with_ids`` with int64 ids."""
        raise NotImplementedError

    def search_parameters(self, params: dict, selector: Optional[faiss.IDSelector] = None,
                          selectivity: Optional[float] = None) -> Optional[faiss.SearchParameters]:
        """Return the ``faiss.SearchParameters`` for one search; ``selector`` filters ids, admitting a
        fraction ``selectivity`` of the gallery (None: an unfiltered search)."""
        return faiss.SearchParameters(sel=selector) if selector is not None else None

    def prefers_exact(self, params: dict, total: int, allowed: int) -> bool:
        """Whether a search restricted to ``allowed`` of ``total`` items is cheaper as brute force over
        the allowed items' vectors (:meth:`vectors`) than as a filtered scan of the index."""
        return False

    def vectors(self, index: faiss.Index, ids: np.ndarray) -> np.ndarray:
        """(len(ids), D) float32: the stored vectors of ``ids`` (kinds with ``exact_vectors``)."""
        raise NotImplementedError


def default_nlist(n_train: int) -> int:
    """About 4·sqrt(N) inverted lists, with at least 39 training vectors per list (faiss' minimum
    for a stable k-means)."""
    return max(1, min(round(4 * math.sqrt(n_train)), n_train // 39))


def default_pq_m(dim: int) -> int:
    """The largest divisor of ``dim`` not above ``dim / 8``: sub-vectors of at least 8 dimensions,
    each coded on one byte (a 4·8 = 32x compression of float32 features at ``nbits=8``)."""
    return max(m for m in range(1, max(1, dim // 8) + 1) if dim % m == 0)


@INDEX_KIND_REGISTRY.register()
class FlatKind(IndexKind):
    """Exact search: every query is compared with every gallery vector."""
    name = "flat"

    def build(self, dim: int, metric_type: int, params: dict) -> faiss.Index:
        return faiss.IndexIDMap2(faiss.IndexFlat(dim, metric_type))


@INDEX_KIND_REGISTRY.register()
class IVFKind(IndexKind):
    """IVF-Flat: k-means cells (``nlist``); a query scans the ``nprobe`` nearest cells exactly.

    Params: ``nlist`` (default :func:`default_nlist` of the training size), ``nprobe``,
    ``train_size`` (k-means runs on at most this many vectors, default 64·nlist).
    """
    name = "ivf"
    params = ("nlist", "nprobe", "train_size")
    search_params = ("nprobe",)
    needs_training = True
    default_nprobe = 16

    def defaults(self, dim: int, params: dict, n_train: Optional[int]) -> dict:
        if "nlist" not in params and n_train is None:
            raise ValueError(f"Index kind {self.name!r}: nlist defaults to 4*sqrt(N) of the "
                             "training vectors; give nlist or train first")
        nlist = params.get("nlist") or default_nlist(n_train)
        return {"nlist": nlist, "nprobe": min(self.default_nprobe, nlist),
                "train_size": 64 * nlist}

    def min_train(self, params: dict) -> int:
        return params["nlist"]

    def build(self, dim: int, metric_type: int, params: dict) -> faiss.Index:
        return faiss.IndexIVFFlat(faiss.IndexFlat(dim, metric_type), dim, params["nlist"],
                                  metric_type)

    exact_vectors = True
    # Filtered searches probe FILTER_PROBE_FACTOR * nprobe / s lists, s the admitted fraction: the k best
    # matching items are about the k / s best of all, and a filter keeps s of each list. The factor 2 is
    # what keeps recall@10 at 0.95 at s = 50% on benchmarks/retrieval.py's 1,000,000 x 256 features.
    FILTER_PROBE_FACTOR = 2
    # Costs of a filtered scan, in units of one matching item of exact search (a matrix product over a
    # batch of queries), fitted to the nprobe sweep of ``benchmarks/retrieval.py --filtered`` at
    # 1,000,000 x 256: checking one scanned id against the filter, and one distance to a matching id.
    ID_CHECK_COST = 0.75
    DISTANCE_COST = 7.0

    def filtered_nprobe(self, params: dict, selectivity: float) -> int:
        """Lists a filtered search probes (at most ``nlist``)."""
        wanted = self.FILTER_PROBE_FACTOR * params["nprobe"] / max(selectivity, 1e-12)
        return min(params["nlist"], math.ceil(wanted))

    def search_parameters(self, params: dict, selector: Optional[faiss.IDSelector] = None,
                          selectivity: Optional[float] = None) -> faiss.SearchParametersIVF:
        nprobe = params["nprobe"] if selectivity is None else self.filtered_nprobe(params, selectivity)
        return faiss.SearchParametersIVF(nprobe=nprobe, sel=selector)

    def prefers_exact(self, params: dict, total: int, allowed: int) -> bool:
        # Ids a filtered search scans (its lists' share of the gallery), of which a fraction s matches.
        s = allowed / total
        scanned = self.filtered_nprobe(params, s) * total / params["nlist"]
        return scanned * (self.ID_CHECK_COST + self.DISTANCE_COST * s) >= allowed

    def vectors(self, index: faiss.Index, ids: np.ndarray) -> np.ndarray:
        """(len(ids), D) float32: the stored vectors of ``ids``, read through an id -> list position map
        that faiss keeps up to date from then on (and saves with the index)."""
        ivf = faiss.extract_index_ivf(index)
        if ivf.direct_map.type != faiss.DirectMap.Hashtable:
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        return index.reconstruct_batch(np.asarray(ids, np.int64))


@INDEX_KIND_REGISTRY.register()
class IVFPQKind(IVFKind):
    """IVF with product-quantised residuals: ``M`` sub-quantizers of ``nbits`` bits per vector
    (default ``M`` = :func:`default_pq_m`), so memory is ``M·nbits/8`` bytes a vector; distances
    are approximate, which caps recall below IVF-Flat's at the same ``nprobe``."""
    name = "ivfpq"
    params = ("nlist", "nprobe", "train_size", "M", "nbits")

    def defaults(self, dim: int, params: dict, n_train: Optional[int]) -> dict:
        return {**super().defaults(dim, params, n_train), "M": default_pq_m(dim), "nbits": 8}

    def resolve(self, dim: int, given: dict, n_train: Optional[int] = None) -> dict:
        params = super().resolve(dim, given, n_train)
        if dim % params["M"]:
            raise ValueError(f"Index kind 'ivfpq': M={params['M']} sub-quantizers must divide "
                             f"the feature dimension {dim}")
        return params

    # Its stored vectors are lossy codes: brute force over them would not be exact.
    exact_vectors = False

    def min_train(self, params: dict) -> int:
        # Every sub-quantizer is a k-means with 2**nbits centroids.
        return max(params["nlist"], 2 ** params["nbits"])

    def build(self, dim: int, metric_type: int, params: dict) -> faiss.Index:
        return faiss.IndexIVFPQ(faiss.IndexFlat(dim, metric_type), dim, params["nlist"],
                                params["M"], params["nbits"], metric_type)


@INDEX_KIND_REGISTRY.register()
class HNSWKind(IndexKind):
    """HNSW graph over the raw vectors: ``M`` neighbours a node, ``efConstruction`` candidates
    while inserting, ``efSearch`` while searching. No training."""
    name = "hnsw"
    params = ("M", "efConstruction", "efSearch")
    search_params = ("efSearch",)
    gpu = False

    def defaults(self, dim: int, params: dict, n_train: Optional[int]) -> dict:
        return {"M": 32, "efConstruction": 40, "efSearch": 128}

    def build(self, dim: int, metric_type: int, params: dict) -> faiss.Index:
        hnsw = faiss.IndexHNSWFlat(dim, params["M"], metric_type)
        hnsw.hnsw.efConstruction = params["efConstruction"]
        return faiss.IndexIDMap2(hnsw)

    def search_parameters(self, params: dict, selector: Optional[faiss.IDSelector] = None,
                          selectivity: Optional[float] = None) -> faiss.SearchParametersHNSW:
        return faiss.SearchParametersHNSW(efSearch=params["efSearch"], sel=selector)
