"""Ranking metrics of cross-modality re-identification (CMC, mAP, mINP), computed as the VI-ReID papers do.

The definition is that of the ``eval_sysu`` / ``eval_regdb`` / ``eval_llcm`` functions in the public
evaluation code shared by DDAG, AGW, MMD-ReID and the LLCM authors. For each query:

1. the gallery is ranked by ascending distance, ties broken by gallery index (a stable sort; the public
   code uses numpy's default quicksort, which is not stable, so its results on ties are arbitrary);
2. the gallery items the protocol hides from that query are dropped (:class:`RankingProtocol`);
3. a query with no true match left is skipped: every mean is over the remaining ("valid") queries;
4. AP is the mean over its true matches of ``k / rank of the k-th match``, INP is ``number of true
   matches / rank of the last one`` (Ye et al., TPAMI 2021), ranks counted 1-based after step 2;
5. CMC at rank r is 1 when a true match is within the first r. With ``dedup_cmc`` (SYSU-MM01 and LLCM)
   the ranking is first reduced to its distinct identities, first occurrence kept, so rank r means
   "the r-th distinct identity"; where fewer distinct identities than ``max_rank`` remain (the public
   code fails there) the curve stays at its last value.

The computation is exact with respect to this definition but never sorts a gallery: each block of at most
``block_size`` query rows is scored by counting, for every true match, the items ranked before it, and
the de-duplicated CMC rank counts the identities that have an item ranked before the first match.
"""
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = [
    "RankingProtocol", "PROTOCOLS", "FeatureDistance", "evaluate_ranking",
    "eval_sysu", "eval_regdb", "eval_llcm",
]

DEFAULT_BLOCK_SIZE = 1024


@dataclass(frozen=True)
class RankingProtocol:
    """How one benchmark scores a ranking.

    remove: ``fn(q_pids (b,), q_camids (b,), g_pids (G,), g_camids (G,)) -> (b, G) bool``, the gallery
        items hidden from each query; None hides nothing.
    dedup_cmc: count the CMC over distinct identities (first occurrence kept) instead of over images.
    """
    remove: Optional[Callable[..., np.ndarray]]
    dedup_cmc: bool


def _sysu_remove(q_pids, q_camids, g_pids, g_camids):
    # SYSU-MM01: cameras 2 and 3 film the same indoor room, so a query from camera 3 ignores camera 2.
    return (q_camids[:, None] == 3) & (g_camids[None, :] == 2)


def _same_identity_camera_remove(q_pids, q_camids, g_pids, g_camids):
    # LLCM: the query's own identity seen by its own camera is not a cross-view match.
    return (q_pids[:, None] == g_pids[None, :]) & (q_camids[:, None] == g_camids[None, :])


# name -> protocol; the evaluator maps dataset names onto these.
PROTOCOLS = {
    "sysu": RankingProtocol(remove=_sysu_remove, dedup_cmc=True),
    "regdb": RankingProtocol(remove=None, dedup_cmc=False),
    "llcm": RankingProtocol(remove=_same_identity_camera_remove, dedup_cmc=True),
}


class FeatureDistance:
    """Query-gallery distances computed on demand, one block of query rows at a time.

    FastReID's definitions (``fastreid.utils.compute_dist``): ``"cosine"`` is ``1 - <q, g>`` of
    L2-normalised features, ``"euclidean"`` the squared Euclidean distance.

    Args:
        q_feats: (Q, D) float; g_feats: (G, D) float.
    """

    METRICS = ("cosine", "euclidean")

    def __init__(self, q_feats, g_feats, metric="cosine"):
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

    def __call__(self, rows):
        """rows: a slice of query indices -> (len(rows), G) float32 distances."""
        prod = self._q[rows] @ self._g_t
        if self.metric == "cosine":
            return np.subtract(1.0, prod, out=prod)
        q_sq = (self._q[rows] ** 2).sum(1, keepdims=True)
        prod *= -2.0
        prod += q_sq
        prod += self._g_sq
        return prod


class _IdentityGroups:
    """The gallery with its columns grouped by identity (stable, so a group keeps gallery order)."""

    def __init__(self, g_pids, g_camids):
        self.order = np.argsort(g_pids, kind="stable")  # sorted column -> gallery index
        self.pids = g_pids[self.order]
        self.camids = g_camids[self.order]
        boundaries = np.flatnonzero(np.diff(self.pids)) + 1
        self.starts = np.concatenate([[0], boundaries])
        self.counts = np.diff(np.concatenate([self.starts, [len(self.pids)]]))
        self.unique = self.pids[self.starts]

    def match_columns(self, q_pids):
        """(b,) pids -> (b, W) sorted-space columns of each query's identity and (b,) how many are real."""
        pos = np.minimum(np.searchsorted(self.unique, q_pids), len(self.unique) - 1)
        count = np.where(self.unique[pos] == q_pids, self.counts[pos], 0)
        width = int(count.max(initial=0))
        cols = np.minimum(self.starts[pos][:, None] + np.arange(width), len(self.pids) - 1)
        return cols, count


def _ranked_before(dist, thr, thr_index, gallery_index):
    """(b, G) bool: items strictly before each row's threshold item in the stable (distance, index) order.

    dist: (b, G); thr: (b,) threshold distances; thr_index: (b,) their gallery indices;
    gallery_index: (G,) gallery index of each column.
    """
    before = dist < thr[:, None]
    equal = dist == thr[:, None]
    tied = np.flatnonzero(np.count_nonzero(equal, axis=1) > 1)
    if len(tied):
        before[tied] |= equal[tied] & (gallery_index[None, :] < thr_index[tied, None])
    return before


def _score_block(dist, q_pids, q_camids, groups, protocol):
    """Score one block of queries; dist: (b, G) with columns in ``groups`` order (modified in place).

    Returns, for the block's valid queries only: CMC ranks (n,) int, AP (n,) and INP (n,) floats.
    """
    if protocol.remove is not None:
        np.putmask(dist, protocol.remove(q_pids, q_camids, groups.pids, groups.camids), np.inf)
    cols, count = groups.match_columns(q_pids)
    match_dist = np.take_along_axis(dist, cols, axis=1)
    match_dist[np.arange(cols.shape[1])[None, :] >= count[:, None]] = np.inf
    # Within an identity the columns follow gallery order, so a stable sort keeps index order on ties.
    order = np.argsort(match_dist, axis=1, kind="stable")
    match_dist = np.take_along_axis(match_dist, order, axis=1)
    match_index = groups.order[np.take_along_axis(cols, order, axis=1)]
    num_matches = np.count_nonzero(np.isfinite(match_dist), axis=1)

    valid = num_matches > 0
    if not valid.any():
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    if not valid.all():
        dist, match_dist, match_index, num_matches = (
            dist[valid], match_dist[valid], match_index[valid], num_matches[valid])
    width = int(num_matches.max(initial=0))
    ranks = np.ones((len(dist), width), dtype=np.int64)
    first_before = None
    for k in range(width):
        live = np.flatnonzero(num_matches > k)
        sub = dist if len(live) == len(dist) else dist[live]
        before = _ranked_before(sub, match_dist[live, k], match_index[live, k], groups.order)
        ranks[live, k] += np.count_nonzero(before, axis=1)
        if k == 0:
            first_before = before

    k = np.arange(1, width + 1)
    is_match = k[None, :] <= num_matches[:, None]
    ap = np.where(is_match, k / ranks, 0.0).sum(1) / num_matches
    inp = num_matches / ranks[np.arange(len(ranks)), num_matches - 1]
    if protocol.dedup_cmc:
        ids_before = np.logical_or.reduceat(first_before, groups.starts, axis=1)
        cmc_rank = 1 + np.count_nonzero(ids_before, axis=1)
    else:
        cmc_rank = ranks[:, 0]
    return cmc_rank, ap, inp


def evaluate_ranking(distance, q_pids, g_pids, q_camids, g_camids, protocol,
                     max_rank=20, block_size=DEFAULT_BLOCK_SIZE):
    """CMC, mAP and mINP of a query-gallery ranking under ``protocol`` (see the module docstring).

    Args:
        distance: (Q, G) float array, or a callable ``rows (slice) -> (len(rows), G)`` distance block
            with a ``shape`` attribute (e.g. :class:`FeatureDistance`); smaller is closer, finite.
        q_pids, q_camids: (Q,) int; g_pids, g_camids: (G,) int.
        protocol: a :class:`RankingProtocol`.
        max_rank: length of the CMC curve (at most G).
        block_size: query rows scored at once; memory is O(block_size * G).
    Returns:
        cmc: (min(max_rank, G),) float64 fractions; mAP, mINP: floats (fractions).
    """
    q_pids, g_pids = np.asarray(q_pids).ravel(), np.asarray(g_pids).ravel()
    q_camids, g_camids = np.asarray(q_camids).ravel(), np.asarray(g_camids).ravel()
    num_q, num_g = distance.shape
    if (len(q_pids), len(g_pids)) != (num_q, num_g) or len(q_camids) != num_q or len(g_camids) != num_g:
        raise ValueError(
            f"distances are {num_q}x{num_g} but got {len(q_pids)} query pids, {len(q_camids)} query "
            f"camids, {len(g_pids)} gallery pids, {len(g_camids)} gallery camids")
    if num_g == 0 or block_size < 1:
        raise ValueError(f"need a non-empty gallery and block_size >= 1, got G={num_g}, block_size={block_size}")
    block_of = distance.__getitem__ if isinstance(distance, np.ndarray) else distance
    groups = _IdentityGroups(g_pids, g_camids)
    max_rank = min(max_rank, num_g)

    cmc_hits = np.zeros(max_rank + 1, dtype=np.int64)
    ap_sum = inp_sum = 0.0
    num_valid = 0
    for start in range(0, num_q, block_size):
        rows = slice(start, min(start + block_size, num_q))
        block = np.asarray(block_of(rows))
        if block.shape != (rows.stop - start, num_g):
            raise ValueError(f"distance block for query rows {start}:{rows.stop} has shape {block.shape}, "
                             f"expected {(rows.stop - start, num_g)}")
        if not np.isfinite(block).all():
            raise ValueError(f"non-finite distance in query rows {start}:{rows.stop}")
        dist = np.take(block, groups.order, axis=1)
        cmc_rank, ap, inp = _score_block(dist, q_pids[rows], q_camids[rows], groups, protocol)
        cmc_hits += np.bincount(np.minimum(cmc_rank, max_rank + 1) - 1, minlength=max_rank + 1)
        ap_sum += ap.sum()
        inp_sum += inp.sum()
        num_valid += len(ap)
    if num_valid == 0:
        raise ValueError("no query has a true match in its gallery (after the protocol's removals)")
    cmc = np.cumsum(cmc_hits[:max_rank]) / num_valid
    return cmc, ap_sum / num_valid, inp_sum / num_valid


def eval_sysu(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=20, block_size=DEFAULT_BLOCK_SIZE):
    """SYSU-MM01: cam-3 queries ignore cam-2 items; de-duplicated CMC. Arguments as :func:`evaluate_ranking`."""
    return evaluate_ranking(distmat, q_pids, g_pids, q_camids, g_camids, PROTOCOLS["sysu"], max_rank, block_size)


def eval_regdb(distmat, q_pids, g_pids, max_rank=20, block_size=DEFAULT_BLOCK_SIZE):
    """RegDB: nothing removed, plain CMC over images. Arguments as :func:`evaluate_ranking`."""
    q_camids, g_camids = np.zeros(len(q_pids), np.int64), np.zeros(len(g_pids), np.int64)
    return evaluate_ranking(distmat, q_pids, g_pids, q_camids, g_camids, PROTOCOLS["regdb"], max_rank, block_size)


def eval_llcm(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=20, block_size=DEFAULT_BLOCK_SIZE):
    """LLCM: same-identity same-camera items removed; de-duplicated CMC. Arguments as :func:`evaluate_ranking`."""
    return evaluate_ranking(distmat, q_pids, g_pids, q_camids, g_camids, PROTOCOLS["llcm"], max_rank, block_size)
