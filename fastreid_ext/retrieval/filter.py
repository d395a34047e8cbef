"""Searches restricted to a subset of the gallery ids: a faiss ``IDSelector`` where the kind filters
natively, else a search whose k widens until enough allowed items are found."""
import math
from collections.abc import Callable

import faiss
import numpy as np


def id_selector(ids: np.ndarray) -> tuple[faiss.IDSelector, np.ndarray]:
    """A faiss selector admitting exactly ``ids`` ((M,) int64): a bitmap when they are non-negative and
    at most 64·M + 1023 (one bit per possible id: at most 8 bytes an allowed item), else a hash set.

    Returns:
        (selector, the arrays it points to, to keep alive while it is used).
    """
    ids = np.asarray(ids, np.int64)
    if len(ids) and ids.min() >= 0 and ids.max() < 64 * len(ids) + 1024:
        bitmap = np.zeros(int(ids.max()) // 8 + 1, np.uint8)
        np.bitwise_or.at(bitmap, ids >> 3, (1 << (ids & 7)).astype(np.uint8))
        return faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap)), bitmap
    return faiss.IDSelectorBatch(ids), ids


def widening_search(search: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]], queries: np.ndarray, k: int,
                    allowed: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k among ``allowed`` ids with an unfiltered ``search(queries, k') -> (scores, ids)``: k' starts
    at k·total/len(allowed) (the expected need if allowed items were spread evenly) and doubles until
    every query has k allowed items or k' reaches the gallery size ``total``.

    Returns:
        scores (Q, k) float32 and ids (Q, k) int64, best first, padded with -1 (and NaN scores) where
        fewer than k allowed items exist.
    """
    out_scores = np.full((len(queries), k), np.nan, np.float32)
    out_ids = np.full((len(queries), k), -1, np.int64)
    if not len(allowed):
        return out_scores, out_ids
    wide = min(total, math.ceil(k * total / len(allowed)))
    while True:
        scores, ids = search(queries, wide)
        keep = np.isin(ids, allowed)
        if (keep.sum(1) >= k).all() or wide >= total:
            break
        wide = min(total, 2 * wide)
    for row in range(len(queries)):
        pick = np.flatnonzero(keep[row])[:k]
        out_scores[row, :len(pick)], out_ids[row, :len(pick)] = scores[row, pick], ids[row, pick]
    return out_scores, out_ids
