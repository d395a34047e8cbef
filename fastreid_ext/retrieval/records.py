"""The id and metadata table of a gallery: one row per indexed vector.

Metadata are columns of JSON values (image path, pid when known, camera, modality, capture time,
or anything else), given to ``add`` either as a list of dicts (one per vector) or as a dict of
columns. A column missing from some rows holds ``None`` there.
"""
import os
from collections.abc import Callable, Iterable
from typing import Any, Optional, Union

import numpy as np

_JSON_SCALARS = (str, int, float, bool, type(None))


def describe_ids(ids: Iterable[int], limit: int = 10) -> str:
    """``[3, 8, ...] and 12 more``: the first ``limit`` of ``ids`` (ints), for error messages."""
    ids = [int(i) for i in ids]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return f"{ids[:limit]}{more}"


def _json_value(value, column, row):
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, _JSON_SCALARS):
        raise TypeError(f"Gallery metadata column {column!r}, row {row}: {type(value).__name__} "
                        "is not a JSON scalar (str, int, float, bool or None)")
    return value


def as_columns(metadata: Optional[Union[Iterable[dict], dict[str, Iterable]]], n: int) -> dict[str, list]:
    """Return ``metadata`` (None, a list of ``n`` dicts, or a dict of ``n``-long columns) as a
    dict of ``n``-long lists of JSON scalars."""
    if metadata is None:
        return {}
    if isinstance(metadata, dict):
        columns = {str(k): list(v) for k, v in metadata.items()}
    else:
        rows = list(metadata)
        if len(rows) != n:
            raise ValueError(f"Gallery metadata has {len(rows)} rows for {n} features")
        names = list(dict.fromkeys(k for row in rows for k in row))
        columns = {str(k): [row.get(k) for row in rows] for k in names}
    for name, values in columns.items():
        if len(values) != n:
            raise ValueError(f"Gallery metadata column {name!r} has {len(values)} values "
                             f"for {n} features")
        columns[name] = [_json_value(v, name, i) for i, v in enumerate(values)]
    return columns


def check_ids(ids: np.ndarray, n: int) -> np.ndarray:
    """Return ``ids`` as an (n,) int64 array; raise on a wrong shape, non-integers, -1 (faiss'
    "no result" marker) or a repeated id."""
    ids = np.asarray(ids)
    if ids.shape != (n,):
        raise ValueError(f"Gallery ids have shape {ids.shape}; expected ({n},), one per feature")
    if n and not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"Gallery ids must be integers, got dtype {ids.dtype}")
    ids = ids.astype(np.int64)
    if (ids == -1).any():
        raise ValueError(f"Gallery id -1 (rows {describe_ids(np.flatnonzero(ids == -1))}) is "
                         "reserved: searches return it where fewer than k items were found")
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"Duplicate gallery ids within one add: {describe_ids(unique[counts > 1])}")
    return ids


class GalleryRecords:
    """Ids in insertion order and their metadata columns, aligned with them.

    Attributes:
        ids: (N,) int64.
        columns: name -> list of N JSON scalars.
    """

    def __init__(self, ids: Optional[np.ndarray] = None, columns: Optional[dict[str, list]] = None) -> None:
        self.ids = np.empty(0, np.int64) if ids is None else np.asarray(ids, np.int64)
        self.columns = dict(columns or {})
        self._lookup_cache, self._arrays = None, {}

    def __len__(self) -> int:
        return len(self.ids)

    def _lookup(self):
        if self._lookup_cache is None:
            order = np.argsort(self.ids, kind="stable")
            self._lookup_cache = (self.ids[order], order)
        return self._lookup_cache

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """(len(ids),) bool: which of ``ids`` are in the table."""
        return self._find(ids)[1]

    def _find(self, ids):
        ids = np.asarray(ids, np.int64).reshape(-1)
        sorted_ids, order = self._lookup()
        if not len(sorted_ids):
            return np.zeros(len(ids), np.int64), np.zeros(len(ids), bool)
        at = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
        return order[at], sorted_ids[at] == ids

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of ``ids``; raise ``KeyError`` naming the ids that are not in the table."""
        pos, found = self._find(ids)
        if not found.all():
            missing = np.asarray(ids, np.int64).reshape(-1)[~found]
            raise KeyError(f"Ids not in the gallery: {describe_ids(missing)}")
        return pos

    def check_new(self, ids: np.ndarray) -> None:
        """Raise naming the ids (``check_ids`` output) that are already in the table."""
        present = self.contains(ids)
        if present.any():
            raise ValueError(f"Ids already in the gallery: {describe_ids(ids[present])}")

    def append(self, ids: np.ndarray, columns: dict[str, list]) -> None:
        """Append rows; ``ids`` must be new (``check_ids`` output), ``columns`` from ``as_columns``."""
        self.check_new(ids)
        n_old, n_new = len(self.ids), len(ids)
        for name in columns.keys() - self.columns.keys():
            self.columns[name] = [None] * n_old
        for name, values in self.columns.items():
            values.extend(columns.get(name, [None] * n_new))
        self.ids = np.concatenate([self.ids, ids])
        self._lookup_cache, self._arrays = None, {}

    def array(self, name: str) -> np.ndarray:
        """(N,) numpy array of column ``name``: float64 (NaN for None) when its values are numbers, else
        object; raise ``KeyError`` naming the columns if there is no such column."""
        if name not in self.columns:
            raise KeyError(f"No gallery metadata column {name!r}; columns: {sorted(self.columns)}")
        if name not in self._arrays:
            values = self.columns[name]
            if all(v is None or isinstance(v, (int, float)) for v in values):
                self._arrays[name] = np.array([np.nan if v is None else v for v in values], np.float64)
            else:
                self._arrays[name] = np.array(values, dtype=object)
        return self._arrays[name]

    def map_column(self, name: str, fn: Callable[[Any], Any]) -> None:
        """Apply ``fn`` to every value but None of column ``name`` (``KeyError`` if there is none)."""
        if name not in self.columns:
            raise KeyError(f"No gallery metadata column {name!r}; columns: {sorted(self.columns)}")
        self.columns[name] = [None if v is None else fn(v) for v in self.columns[name]]

    def rows(self, ids: np.ndarray) -> list:
        """One metadata dict (with its ``id``) per id, ``None`` for -1.

        Args:
            ids: (n,) or (Q, k) int, e.g. the ids of a search.
        Returns:
            a list (of lists for 2-D ``ids``) of dicts.
        """
        ids = np.asarray(ids, np.int64)
        if ids.ndim not in (1, 2):
            raise ValueError(f"Expected (n,) or (Q, k) ids, got shape {ids.shape}")
        flat = ids.reshape(-1)
        valid = flat != -1
        pos = np.zeros(len(flat), np.int64)
        pos[valid] = self.positions(flat[valid])
        out = [{"id": int(i), **{n: c[p] for n, c in self.columns.items()}} if ok else None
               for i, p, ok in zip(flat, pos, valid)]
        if ids.ndim == 1:
            return out
        k = ids.shape[1]
        return [out[r * k:(r + 1) * k] for r in range(ids.shape[0])]
