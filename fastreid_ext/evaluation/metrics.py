"""Ranking metrics of cross-modality re-identification (CMC, mAP, mINP), computed as the VI-ReID papers do.

Their exact definition and how it is computed without sorting a gallery: docs/evaluation.md.
"""
from dataclasses import dataclass
from typing import Union

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "RankingProtocol", "PROTOCOLS", "MatrixDistance", "FeatureDistance", "hidden_mask", "evaluate_ranking",
    "eval_sysu", "eval_regdb", "eval_llcm",
]

DEFAULT_BLOCK_SIZE = 1024


@dataclass(frozen=True)
class RankingProtocol:
    """How one benchmark scores a ranking.

    hidden_camera_pairs: ``(query camera, gallery camera)`` pairs: a query from the first camera does not
        see gallery items from the second.
    hide_same_camera_matches: a query does not see its own identity's items from its own camera.
    dedup_cmc: count the CMC over distinct identities (first occurrence kept) instead of over images.
    """
    hidden_camera_pairs: tuple[tuple[int, int], ...]
    hide_same_camera_matches: bool
    dedup_cmc: bool


# name -> protocol; the evaluator maps dataset names onto these.
PROTOCOLS = {
    # SYSU-MM01: cameras 2 and 3 film the same indoor room, so a camera-3 query ignores camera 2.
    "sysu": RankingProtocol(hidden_camera_pairs=((3, 2),), hide_same_camera_matches=False, dedup_cmc=True),
    "regdb": RankingProtocol(hidden_camera_pairs=(), hide_same_camera_matches=False, dedup_cmc=False),
    "llcm": RankingProtocol(hidden_camera_pairs=(), hide_same_camera_matches=True, dedup_cmc=True),
}


class MatrixDistance:
    """A precomputed (Q, G) distance matrix served block by block."""

    def __init__(self, matrix: ArrayLike) -> None:
        self.matrix = np.asarray(matrix)
        if self.matrix.ndim != 2:
            raise ValueError(f"distance matrix must be (Q, G), got shape {self.matrix.shape}")
        self.shape = self.matrix.shape

    def block(self, rows: slice, gallery_order: np.ndarray) -> np.ndarray:
        """rows: slice of queries; gallery_order: (G,) column order -> (len(rows), G) copy."""
        return np.take(self.matrix[rows], gallery_order, axis=1)


class FeatureDistance:
    """Query-gallery distances computed on demand, one block of query rows at a time.

    FastReID's definitions (``fastreid.utils.compute_dist``): ``"cosine"`` is ``1 - <q, g>`` of
    L2-normalised features, ``"euclidean"`` the squared Euclidean distance.

    Args:
        q_feats: (Q, D) float; g_feats: (G, D) float.
    """

    METRICS = ("cosine", "euclidean")

    def __init__(self, q_feats: ArrayLike, g_feats: ArrayLike, metric: str = "cosine") -> None:
        if metric not in self.METRICS:
            raise ValueError(f"TEST.METRIC: unknown metric {metric!r}, expected one of {self.METRICS}")
        q = np.ascontiguousarray(q_feats, dtype=np.float32)
        g = np.ascontiguousarray(g_feats, dtype=np.float32)
        if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1]:
            raise ValueError(f"features must be (Q, D) and (G, D) with the same D, got {q.shape} and {g.shape}")
        if metric == "cosine":
            q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
            g = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
        self.metric = metric
        self.shape = (len(q), len(g))
        self._q, self._g_t = q, np.ascontiguousarray(g.T)
        self._g_sq = (g * g).sum(1)
        self._order = self._g_t_ordered = self._g_sq_ordered = None

    def block(self, rows: slice, gallery_order: np.ndarray) -> np.ndarray:
        """rows: slice of queries; gallery_order: (G,) column order -> (len(rows), G) float32 distances."""
        if self._order is None or not np.array_equal(self._order, gallery_order):
            self._order = np.array(gallery_order)
            self._g_t_ordered = np.ascontiguousarray(self._g_t[:, gallery_order])
            self._g_sq_ordered = self._g_sq[gallery_order]
        prod = self._q[rows] @ self._g_t_ordered
        if self.metric == "cosine":
            return np.subtract(1.0, prod, out=prod)
        prod *= -2.0
        prod += (self._q[rows] ** 2).sum(1, keepdims=True)
        prod += self._g_sq_ordered
        return prod


class _IdentityGroups:
    """The gallery with its columns grouped by identity (stable, so a group keeps gallery order)."""

    def __init__(self, g_pids, g_camids):
        self.order = np.argsort(g_pids, kind="stable")  # sorted column -> gallery index
        self.pids = g_pids[self.order]
        self.camids = g_camids[self.order]
        boundaries = np.flatnonzero(np.diff(self.pids)) + 1
        self.starts = np.concatenate([[0], boundaries])
        self.ends = np.concatenate([boundaries, [len(self.pids)]])
        self.counts = self.ends - self.starts
        self.unique = self.pids[self.starts]

    def match_columns(self, q_pids):
        """(b,) pids -> (b, W) sorted-space columns of each query's identity and (b,) how many are real."""
        pos = np.minimum(np.searchsorted(self.unique, q_pids), len(self.unique) - 1)
        count = np.where(self.unique[pos] == q_pids, self.counts[pos], 0)
        width = int(count.max(initial=0))
        cols = np.minimum(self.starts[pos][:, None] + np.arange(width), len(self.pids) - 1)
        return cols, count


def _row_counts(mask):
    """(b, G) bool -> (b,) number of True per row (a byte sum: about twice as fast as count_nonzero)."""
    return mask.view(np.uint8).sum(axis=1, dtype=np.int32)


def _count_before(dist, thr, thr_index, gallery_index, before, equal):
    """(b,) number of items strictly before each row's threshold item in the stable (distance, index) order.

    dist: (b, G); thr: (b,) threshold distances; thr_index: (b,) their gallery indices;
    gallery_index: (G,) gallery index of each column; before, equal: (b, G) bool scratch buffers, on
    return ``before`` marks the items counted.
    """
    np.less(dist, thr[:, None], out=before)
    np.equal(dist, thr[:, None], out=equal)
    # A finite threshold equals its own item; any further equal item is a tie (rare: rows are found only then).
    if np.count_nonzero(equal) > np.count_nonzero(np.isfinite(thr)):
        tied = np.flatnonzero(_row_counts(equal) > 1)
        before[tied] |= equal[tied] & (gallery_index[None, :] < thr_index[tied, None])
    return _row_counts(before)


def _hide(dist, q_camids, groups, cols, count, protocol):
    """Set to +inf, in place, the items ``protocol`` hides; cols, count: from ``groups.match_columns``."""
    for q_cam, g_cam in protocol.hidden_camera_pairs:
        rows, hidden = np.flatnonzero(q_camids == q_cam), np.flatnonzero(groups.camids == g_cam)
        if len(rows) and len(hidden):
            dist[np.ix_(rows, hidden)] = np.inf
    if protocol.hide_same_camera_matches:
        own = (groups.camids[cols] == q_camids[:, None]) & (np.arange(cols.shape[1]) < count[:, None])
        rows, slots = np.nonzero(own)
        dist[rows, cols[rows, slots]] = np.inf


def hidden_mask(q_pids: ArrayLike, q_camids: ArrayLike, g_pids: ArrayLike, g_camids: ArrayLike,
                protocol: RankingProtocol) -> np.ndarray:
    """(Q, G) bool: True where ``protocol`` hides gallery item g from query q (as ``evaluate_ranking`` does).

    q_pids, q_camids: (Q,) int; g_pids, g_camids: (G,) int; protocol: a ``RankingProtocol``.
    """
    q_pids, q_camids = np.asarray(q_pids).ravel(), np.asarray(q_camids).ravel()
    groups = _IdentityGroups(np.asarray(g_pids).ravel(), np.asarray(g_camids).ravel())
    cols, count = groups.match_columns(q_pids)
    grouped = np.zeros((len(q_pids), len(groups.order)))
    _hide(grouped, q_camids, groups, cols, count, protocol)
    hidden = np.empty(grouped.shape, dtype=bool)
    hidden[:, groups.order] = np.isinf(grouped)  # back from identity-grouped to gallery order
    return hidden


def _score_block(dist, q_pids, q_camids, groups, protocol, scratch):
    """Score one block of queries; dist: (b, G) with columns in ``groups`` order (modified in place);
    scratch: (2, b, G) bool buffer.

    Returns (b,) bool valid (a true match is left), then for every row CMC rank (int), AP and INP
    (meaningless where not valid).
    """
    cols, count = groups.match_columns(q_pids)
    _hide(dist, q_camids, groups, cols, count, protocol)
    match_dist = np.take_along_axis(dist, cols, axis=1)
    match_dist[np.arange(cols.shape[1]) >= count[:, None]] = np.inf
    # Within an identity the columns follow gallery order, so a stable sort keeps index order on ties.
    order = np.argsort(match_dist, axis=1, kind="stable")
    match_dist = np.take_along_axis(match_dist, order, axis=1)
    match_index = groups.order[np.take_along_axis(cols, order, axis=1)]
    num_matches = np.count_nonzero(np.isfinite(match_dist), axis=1)
    # Absent matches get a threshold of -inf: nothing is ranked before them, and no row is copied out.
    thresholds = np.where(np.isfinite(match_dist), match_dist, -np.inf)

    width = int(num_matches.max(initial=0))
    ranks = np.ones((len(dist), max(width, 1)), dtype=np.int64)
    before, equal = scratch
    cmc_rank = None
    for k in range(width):
        ranks[:, k] += _count_before(dist, thresholds[:, k], match_index[:, k], groups.order, before, equal)
        if k == 0 and protocol.dedup_cmc:
            # Distinct identities ranked before the first match: those whose columns raise the running count.
            running = np.cumsum(before, axis=1, dtype=np.int32)[:, groups.ends - 1]
            cmc_rank = 1 + _row_counts(np.diff(running, axis=1, prepend=0) > 0)
    if cmc_rank is None:
        cmc_rank = ranks[:, 0]

    valid = num_matches > 0
    k = np.arange(1, ranks.shape[1] + 1)
    safe_num = np.maximum(num_matches, 1)
    ap = np.where(k <= num_matches[:, None], k / ranks, 0.0).sum(1) / safe_num
    inp = safe_num / ranks[np.arange(len(ranks)), safe_num - 1]
    return valid, cmc_rank, ap, inp


def evaluate_ranking(distance: Union[np.ndarray, MatrixDistance, FeatureDistance], q_pids: ArrayLike,
                     g_pids: ArrayLike, q_camids: ArrayLike, g_camids: ArrayLike, protocol: RankingProtocol,
                     max_rank: int = 20,
                     block_size: int = DEFAULT_BLOCK_SIZE) -> tuple[np.ndarray, float, float]:
    """CMC, mAP and mINP of a query-gallery ranking under ``protocol`` (see the module docstring).

    Args:
        distance: (Q, G) float array, or an object with ``shape`` and ``block(rows, gallery_order)``
            (:class:`MatrixDistance`, :class:`FeatureDistance`); smaller is closer; finite.
        q_pids, q_camids: (Q,) int; g_pids, g_camids: (G,) int.
        protocol: a :class:`RankingProtocol`.
        max_rank: length of the CMC curve (at most G).
        block_size: query rows scored at once; memory is O(block_size * G).
    Returns:
        cmc: (min(max_rank, G),) float64 fractions; mAP, mINP: floats (fractions).
    """
    if isinstance(distance, np.ndarray):
        distance = MatrixDistance(distance)
    q_pids, g_pids = np.asarray(q_pids).ravel(), np.asarray(g_pids).ravel()
    q_camids, g_camids = np.asarray(q_camids).ravel(), np.asarray(g_camids).ravel()
    num_q, num_g = distance.shape
    if (len(q_pids), len(g_pids)) != (num_q, num_g) or len(q_camids) != num_q or len(g_camids) != num_g:
        raise ValueError(
            f"distances are {num_q}x{num_g} but got {len(q_pids)} query pids, {len(q_camids)} query "
            f"camids, {len(g_pids)} gallery pids, {len(g_camids)} gallery camids")
    if num_g == 0 or block_size < 1:
        raise ValueError(f"need a non-empty gallery and block_size >= 1, got G={num_g}, block_size={block_size}")
    groups = _IdentityGroups(g_pids, g_camids)
    max_rank = min(max_rank, num_g)

    scratch = np.empty((2, min(block_size, num_q), num_g), dtype=bool)
    cmc_hits = np.zeros(max_rank + 1, dtype=np.int64)
    ap_sum = inp_sum = 0.0
    num_valid = 0
    for start in range(0, num_q, block_size):
        rows = slice(start, min(start + block_size, num_q))
        dist = distance.block(rows, groups.order)
        if dist.shape != (rows.stop - start, num_g):
            raise ValueError(f"distance block for query rows {start}:{rows.stop} has shape {dist.shape}, "
                             f"expected {(rows.stop - start, num_g)}")
        # One float64 reduction instead of an elementwise mask: NaN and inf propagate into the sum.
        if not np.isfinite(dist.sum(dtype=np.float64)):
            raise ValueError(f"non-finite distance in query rows {start}:{rows.stop}")
        valid, cmc_rank, ap, inp = _score_block(
            dist, q_pids[rows], q_camids[rows], groups, protocol, scratch[:, :len(dist)])
        cmc_hits += np.bincount(np.minimum(cmc_rank[valid], max_rank + 1) - 1, minlength=max_rank + 1)
        ap_sum += ap[valid].sum()
        inp_sum += inp[valid].sum()
        num_valid += int(valid.sum())
    if num_valid == 0:
        raise ValueError("no query has a true match in its gallery (after the protocol's removals)")
    cmc = np.cumsum(cmc_hits[:max_rank]) / num_valid
    return cmc, float(ap_sum / num_valid), float(inp_sum / num_valid)


def eval_sysu(distmat: Union[np.ndarray, MatrixDistance, FeatureDistance], q_pids: ArrayLike, g_pids: ArrayLike,
              q_camids: ArrayLike, g_camids: ArrayLike, max_rank: int = 20,
              block_size: int = DEFAULT_BLOCK_SIZE) -> tuple[np.ndarray, float, float]:
    """SYSU-MM01: cam-3 queries ignore cam-2 items; de-duplicated CMC. Arguments as :func:`evaluate_ranking`."""
    return evaluate_ranking(distmat, q_pids, g_pids, q_camids, g_camids, PROTOCOLS["sysu"], max_rank, block_size)


def eval_regdb(distmat: Union[np.ndarray, MatrixDistance, FeatureDistance], q_pids: ArrayLike, g_pids: ArrayLike,
               max_rank: int = 20, block_size: int = DEFAULT_BLOCK_SIZE) -> tuple[np.ndarray, float, float]:
    """RegDB: nothing removed, plain CMC over images. Arguments as :func:`evaluate_ranking`."""
    q_camids, g_camids = np.zeros(len(q_pids), np.int64), np.zeros(len(g_pids), np.int64)
    return evaluate_ranking(distmat, q_pids, g_pids, q_camids, g_camids, PROTOCOLS["regdb"], max_rank, block_size)


def eval_llcm(distmat: Union[np.ndarray, MatrixDistance, FeatureDistance], q_pids: ArrayLike, g_pids: ArrayLike,
              q_camids: ArrayLike, g_camids: ArrayLike, max_rank: int = 20,
              block_size: int = DEFAULT_BLOCK_SIZE) -> tuple[np.ndarray, float, float]:
    """LLCM: same-identity same-camera items removed; de-duplicated CMC. Arguments as :func:`evaluate_ranking`."""
    return evaluate_ranking(distmat, q_pids, g_pids, q_camids, g_camids, PROTOCOLS["llcm"], max_rank, block_size)
