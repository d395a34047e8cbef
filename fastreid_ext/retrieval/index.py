"""``GalleryIndex``: a faiss index over gallery features, with ids, metadata and persistence (docs/retrieval.md).
"""
import logging
from collections.abc import Callable, Sequence
from typing import Any, Optional, Union

import faiss
import numpy as np
from fastreid.config import CfgNode, configurable

from ..utils import GalleryIndexError
from .brute_force import brute_force_topk
from .filter import id_selector, widening_search
from .kinds import get_kind, plain_params
from .persistence import load_gallery, read_header, save_gallery, verify_files
from .records import GalleryRecords, as_columns, check_ids, describe_ids
from .where import evaluate, parse_where

logger = logging.getLogger(__name__)

# metric name -> faiss metric; "cosine" is the inner product of L2-normalised features.
METRICS = {"cosine": faiss.METRIC_INNER_PRODUCT, "l2": faiss.METRIC_L2}


class FingerprintMismatchError(GalleryIndexError):
    """The gallery features were made by another model than the one expected."""


def gpu_available() -> bool:
    """Whether faiss was built with GPU support and sees a GPU."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


class GalleryIndex:
    """Nearest-neighbour search over (N, D) gallery features with int64 ids.

    Scores: for ``cosine`` the cosine similarity (higher is better); for ``l2`` the squared
    Euclidean distance (lower is better). Either way results come best first.
    """

    @configurable
    def __init__(self, dim: int, kind: str = "flat", metric: str = "cosine", *,
                 model_fingerprint: Optional[str] = None, batch_size: int = 4096, **params: Any) -> None:
        """
        Args:
            dim: feature dimension D.
            kind: a key of :data:`~fastreid_ext.retrieval.kinds.INDEX_KIND_REGISTRY`.
            metric: ``cosine`` or ``l2``.
            model_fingerprint: identifies the model whose features are indexed (e.g.
                :func:`~fastreid_ext.retrieval.persistence.checkpoint_fingerprint` of its
                checkpoint); searches and loads may demand it.
            batch_size: queries per faiss call.
            params: the kind's parameters (``nlist``, ``nprobe``, ``train_size``, ``M``, ``nbits``,
                ``efSearch``, ``efConstruction``); unset ones take the kind's defaults.
        """
        if metric not in METRICS:
            raise KeyError(f"Unknown metric {metric!r} (RETRIEVAL.METRIC); known: {sorted(METRICS)}")
        if int(dim) <= 0 or int(batch_size) <= 0:
            raise ValueError(f"dim ({dim}) and batch_size ({batch_size}) must be positive")
        self.dim, self.kind, self.metric = int(dim), kind, metric
        self.model_fingerprint = model_fingerprint
        self.batch_size = int(batch_size)
        self._kind = get_kind(kind)
        self._kind.check(params)
        self._given = dict(params)
        self._params, self._index = None, None
        if not self._kind.needs_training:
            self._params = self._kind.resolve(self.dim, self._given)
            self._index = self._kind.build(self.dim, METRICS[metric], self._params)
        self._records = GalleryRecords()
        self._gpu = None

    @classmethod
    def from_config(cls, cfg: CfgNode, dim: int, model_fingerprint: Optional[str] = None) -> dict:
        r = cfg.RETRIEVAL
        keys = {"nlist": r.NLIST, "nprobe": r.NPROBE, "train_size": r.TRAIN_SIZE, "M": r.M,
                "nbits": r.NBITS, "efSearch": r.EF_SEARCH, "efConstruction": r.EF_CONSTRUCTION}
        taken = get_kind(r.KIND).params
        return {"dim": dim, "kind": r.KIND, "metric": r.METRIC, "batch_size": r.BATCH_SIZE,
                "model_fingerprint": model_fingerprint,
                **{k: v for k, v in keys.items() if v and k in taken}}

    def __len__(self) -> int:
        """Number of gallery items."""
        return len(self._records)

    def __repr__(self) -> str:
        return (f"GalleryIndex(kind={self.kind!r}, metric={self.metric!r}, dim={self.dim}, "
                f"count={len(self)}, params={self.params})")

    @property
    def params(self) -> dict:
        """The kind's parameters, defaults included once known (after training)."""
        return dict(self._params if self._params is not None else self._given)

    @property
    def is_trained(self) -> bool:
        return self._index is not None

    @property
    def ids(self) -> np.ndarray:
        """(N,) int64 ids in insertion order."""
        return self._records.ids.copy()

    def _prepare(self, feats, what):
        """Validate (N, D) features and return them as contiguous float32, normalised for cosine."""
        x = np.asarray(feats)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{what}: expected (N, {self.dim}) features, got shape {x.shape}"
                             + (f" (dimension {x.shape[1]} instead of {self.dim})"
                                if x.ndim == 2 else ""))
        with np.errstate(over="ignore"):  # float64 beyond float32 becomes inf, reported below
            x = np.ascontiguousarray(x, dtype=np.float32)
        bad = ~np.isfinite(x).all(axis=1)
        if bad.any():
            raise ValueError(f"{what}: feature rows {describe_ids(np.flatnonzero(bad))} contain "
                             "NaN or infinite values")
        if self.metric == "cosine":
            norms = np.linalg.norm(x, axis=1, keepdims=True)
            if (norms == 0).any():
                raise ValueError(f"{what}: feature rows {describe_ids(np.flatnonzero(norms == 0))} "
                                 "are zero: cosine similarity is undefined for them")
            x = x / norms
        return x

    def _changed(self):
        self._gpu = None

    def train(self, sample: np.ndarray) -> None:
        """Train an ``ivf``/``ivfpq`` index on ``sample`` (M, D), e.g. a random subset of the
        gallery; ``nlist`` defaults to about 4·sqrt(M). A no-op for kinds that need no training.
        """
        if not self._kind.needs_training:
            return
        if self.is_trained:
            raise ValueError(f"This {self.kind} index is already trained")
        self._train(self._prepare(sample, "train"))

    def _train(self, x):
        params = self._kind.resolve(self.dim, self._given, n_train=len(x))
        need = self._kind.min_train(params)
        if len(x) < need:
            raise ValueError(f"Index kind {self.kind!r} with {params} needs at least {need} "
                             f"training vectors, got {len(x)}: add a larger first batch, call "
                             "train() with a larger sample, or lower nlist/nbits")
        if len(x) > params["train_size"]:
            pick = np.random.default_rng(0).choice(len(x), params["train_size"], replace=False)
            x = x[np.sort(pick)]
        index = self._kind.build(self.dim, METRICS[self.metric], params)
        index.train(x)
        self._index, self._params = index, params

    def add(self, feats: np.ndarray, ids: np.ndarray,
            metadata: Optional[Union[Sequence[dict], dict[str, Sequence]]] = None) -> None:
        """Add gallery items.

        Args:
            feats: (N, D) float features.
            ids: (N,) int ids, new and distinct (-1 is reserved).
            metadata: ``None``, a list of N dicts, or a dict of N-long columns of JSON scalars
                (e.g. ``img_path``, ``pid`` (None when unknown), ``camid``, ``modality``, ``time``).
        """
        x = self._prepare(feats, "add")
        ids = check_ids(ids, len(x))
        columns = as_columns(metadata, len(x))
        self._records.check_new(ids)
        if not len(x):
            return
        if not self.is_trained:
            self._train(x)
        self._index.add_with_ids(x, ids)
        self._records.append(ids, columns)
        self._changed()

    def set_search_params(self, **params: Any) -> None:
        """Change search-time parameters (``nprobe``, ``efSearch``) of a built index."""
        self._kind.check(params, allowed=self._kind.search_params)
        params = plain_params(params)
        self._given.update(params)
        if self._params is not None:
            self._params.update(params)

    def check_fingerprint(self, expected: Optional[str]) -> None:
        """Raise :class:`FingerprintMismatchError` unless ``expected`` is None or this index's
        model fingerprint."""
        if expected is not None and expected != self.model_fingerprint:
            raise FingerprintMismatchError(
                f"The gallery features were made by model {self.model_fingerprint!r}, not by the "
                f"expected model {expected!r}: index the gallery again with that model")

    def search(self, queries: np.ndarray, k: int, where: Optional[str] = None,
               expected_fingerprint: Optional[str] = None, strategy: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """The k best gallery items of each query, among those that satisfy ``where``.

        Args:
            queries: (Q, D) float features.
            k: 1 <= k <= len(self).
            where: ``None`` (every item) or an expression over the metadata columns (see
                :mod:`~fastreid_ext.retrieval.where`), e.g. ``"backpack >= 0.5 and camid in (3, 6)"``.
            expected_fingerprint: if given, the model fingerprint the gallery must have.
            strategy: how a filtered search runs (see :meth:`plan`): ``auto`` (the cheaper of the
                kind's), or ``selector`` / ``exact`` to force one (``exact``: kinds that store vectors
                exactly, e.g. ``ivf``).
        Returns:
            scores (Q, k) float32 and ids (Q, k) int64, best first. Approximate kinds may find
            fewer than k items for a query, and fewer than k items may satisfy ``where``; the rest
            is padded with id -1.
        """
        self.check_fingerprint(expected_fingerprint)
        q = self._prepare(queries, "search")
        if len(self) == 0:
            raise ValueError("search: the gallery is empty; add features first")
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"search: k={k!r} ({type(k).__name__}) must be an integer (int or numpy "
                            "integer), not a bool or a float")
        k = int(k)
        if not 1 <= k <= len(self):
            raise ValueError(f"search: k={k!r} must be an integer from 1 to the gallery size "
                             f"{len(self)}")
        if where is None:
            return self._batched(self._search_index(), q, k, self._kind.search_parameters(self._params))
        allowed = self.matching_ids(where)
        chosen = self._strategy(len(allowed), strategy)
        if chosen == "widening":
            return widening_search(lambda x, wide: self._batched(
                self._search_index(), x, wide, self._kind.search_parameters(self._params)),
                q, k, allowed, len(self))
        if chosen == "exact":
            return self._exact_among(q, k, allowed)
        # faiss' GPU indexes take no selector: filtered searches run on the CPU index.
        selector, _alive = id_selector(allowed)
        params = self._kind.search_parameters(self._params, selector, len(allowed) / len(self))
        return self._batched(self._index, q, k, params)

    def plan(self, where: str, strategy: str = "auto") -> dict:
        """How :meth:`search` runs a search filtered by ``where``: ``"exact"`` (brute force over the
        matching items' stored vectors), ``"selector"`` (faiss scans the index, skipping the other ids)
        or ``"widening"`` (unfiltered searches of growing k), the number of matching items and the
        search parameters it uses."""
        allowed = len(self.matching_ids(where))
        chosen = self._strategy(allowed, strategy)
        if chosen != "selector":
            return {"strategy": chosen, "matching": allowed}
        params = self._kind.search_parameters(self._params, None, allowed / len(self))
        return {"strategy": chosen, "matching": allowed,
                **{name: getattr(params, name) for name in self._kind.search_params if params is not None}}

    def _strategy(self, allowed, strategy):
        """The way a search restricted to ``allowed`` items runs, given the ``strategy`` asked for."""
        possible = (["exact"] if self._kind.exact_vectors else []) + (
            ["selector"] if self._kind.native_filter else ["widening"])
        if strategy == "auto":
            if "exact" in possible and self._kind.prefers_exact(self._params, len(self), allowed):
                return "exact"
            return possible[-1]
        if strategy not in possible:
            raise ValueError(f"search: strategy {strategy!r} is not one of index kind {self.kind!r}'s: "
                             f"{['auto', *possible]}")
        return strategy

    def _exact_among(self, q, k, allowed):
        """Exact top-k among the ``allowed`` ids ((M,) int64): brute force over their stored vectors, for
        filters so selective that the kind's filtered scan would cost more. Padded as :meth:`search`."""
        scores = np.full((len(q), k), np.nan, np.float32)
        ids = np.full((len(q), k), -1, np.int64)
        if len(allowed):
            found, rows = brute_force_topk(self._kind.vectors(self._index, allowed), q, min(k, len(allowed)),
                                           metric=self.metric)
            scores[:, :found.shape[1]], ids[:, :found.shape[1]] = found, allowed[rows]
        return scores, ids

    def _batched(self, index, q, k, params):
        scores = np.empty((len(q), k), np.float32)
        ids = np.empty((len(q), k), np.int64)
        for s in range(0, len(q), self.batch_size):
            scores[s:s + self.batch_size], ids[s:s + self.batch_size] = index.search(
                q[s:s + self.batch_size], k, params=params)
        return scores, ids

    @property
    def columns(self) -> list[str]:
        """The metadata column names."""
        return sorted(self._records.columns)

    def column(self, name: str) -> np.ndarray:
        """(N,) numpy array of metadata column ``name`` in :attr:`ids` order: float64 (NaN where
        missing) for numbers, else object."""
        return self._records.array(name)

    def matching(self, where: str) -> np.ndarray:
        """(N,) bool over :attr:`ids`: the items that satisfy the expression ``where``."""
        return evaluate(parse_where(where, self.columns), self.column)

    def matching_ids(self, where: str) -> np.ndarray:
        """(M,) int64 ids of the items that satisfy ``where``, in insertion order."""
        return self._records.ids[self.matching(where)]

    def metadata(self, ids: np.ndarray) -> list:
        """Metadata dicts of ``ids`` ((n,) or (Q, k), e.g. search results); None for -1."""
        return self._records.rows(ids)

    def map_metadata(self, name: str, fn: Callable[[Any], Any]) -> None:
        """Replace every value v (but None) of the metadata column ``name`` by ``fn(v)``, e.g. to resolve
        stored relative image paths after loading."""
        self._records.map_column(name, fn)

    def _search_index(self):
        if not (self._kind.gpu and gpu_available()):
            return self._index
        if self._gpu is None:
            try:
                self._gpu = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, self._index)
            except RuntimeError as e:
                logger.warning("Searching the %s index on the CPU: faiss cannot move it to the "
                               "GPU (%s)", self.kind, e)
                self._gpu = self._index
        return self._gpu

    def save(self, directory: str, extra: Optional[dict[str, dict]] = None) -> None:
        """Write the index, ids and metadata to ``directory`` (see
        :mod:`~fastreid_ext.retrieval.persistence`); ``extra``: ``*.json`` name -> dict, written and
        checksummed with them."""
        if not self.is_trained:
            raise ValueError(f"Cannot save an untrained {self.kind} index: add or train first")
        header = {"dim": self.dim, "metric": self.metric, "normalized": self.metric == "cosine",
                  "kind": self.kind, "params": self._params, "count": len(self),
                  "model_fingerprint": self.model_fingerprint, "batch_size": self.batch_size}
        save_gallery(directory, header, self._index, self._records.ids, self._records.columns, extra)

    @classmethod
    def load(cls, directory: str, verify: bool = True) -> "GalleryIndex":
        """Read an index written by :meth:`save`. ``verify``: compare every file with the SHA-256 of
        the manifest first (:class:`~fastreid_ext.retrieval.persistence.IndexIntegrityError` on a
        mismatch); skipping it saves one read of the files of a very large index."""
        header = read_header(directory)
        if verify:
            verify_files(directory, header)
        gallery = cls(header["dim"], header["kind"], header["metric"],
                      model_fingerprint=header["model_fingerprint"],
                      batch_size=header["batch_size"], **header["params"])
        index, ids, columns = load_gallery(directory, header)
        if index.d != gallery.dim or index.ntotal != len(ids):
            raise ValueError(f"{directory}: the faiss index holds {index.ntotal} {index.d}-d "
                             f"vectors, the header {len(ids)} {gallery.dim}-d ones")
        gallery._index, gallery._params = index, dict(header["params"])
        gallery._records = GalleryRecords(ids, columns)
        return gallery
