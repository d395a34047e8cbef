"""Ranking metrics from each query's retrieved top-k only, as an approximate index returns them
(definitions: docs/evaluation.md).
"""
from collections import Counter

import numpy as np
from numpy.typing import ArrayLike

from .metrics import RankingProtocol

__all__ = ["evaluate_topk", "topk_recall"]


def _num_true_matches(q_pids, q_camids, g_pids, g_camids, protocol):
    """(Q,) gallery items of each query's identity that ``protocol`` leaves it."""
    per_pid = Counter(g_pids.tolist())
    per_pid_cam = Counter(zip(g_pids.tolist(), g_camids.tolist()))
    total = np.empty(len(q_pids), np.int64)
    for row, (pid, cam) in enumerate(zip(q_pids.tolist(), q_camids.tolist())):
        hidden = {g for q, g in protocol.hidden_camera_pairs if q == cam}
        if protocol.hide_same_camera_matches:
            hidden.add(cam)
        total[row] = per_pid[pid] - sum(per_pid_cam[pid, g] for g in hidden)
    return total


def _first_of_identity(pids, keep):
    """(Q, k) bool: kept slots whose identity no earlier kept slot of the row has."""
    first = keep.copy()
    for j in range(1, pids.shape[1]):
        first[:, j] &= ~((pids[:, :j] == pids[:, j:j + 1]) & keep[:, :j]).any(1)
    return first


def evaluate_topk(topk: ArrayLike, q_pids: ArrayLike, g_pids: ArrayLike, q_camids: ArrayLike, g_camids: ArrayLike,
                  protocol: RankingProtocol, max_rank: int = 20) -> tuple[np.ndarray, float, float]:
    """CMC, mAP and mINP of retrieved top-k lists under ``protocol`` (see the module docstring).

    Args:
        topk: (Q, k) int gallery indices, best first; -1 where fewer than k items were found.
        q_pids, q_camids: (Q,) int; g_pids, g_camids: (G,) int.
        protocol: a :class:`~fastreid_ext.evaluation.metrics.RankingProtocol`.
        max_rank: length of the CMC curve (at most G).
    Returns:
        cmc: (min(max_rank, G),) float64 fractions; mAP, mINP: floats (fractions).
    """
    topk = np.asarray(topk, np.int64)
    q_pids, g_pids = np.asarray(q_pids).ravel(), np.asarray(g_pids).ravel()
    q_camids, g_camids = np.asarray(q_camids).ravel(), np.asarray(g_camids).ravel()
    shapes_agree = len(topk) == len(q_pids) == len(q_camids) and len(g_camids) == len(g_pids)
    if topk.ndim != 2 or not topk.shape[1] or not shapes_agree:
        raise ValueError(f"top-k lists (Q, k >= 1) of shape {topk.shape} for {len(q_pids)} query pids, "
                         f"{len(q_camids)} query camids, {len(g_pids)} gallery pids and {len(g_camids)} gallery camids")
    if topk.max() >= len(g_pids) or topk.min() < -1:
        raise ValueError(f"top-k gallery indices must be in [-1, {len(g_pids)}), got [{topk.min()}, {topk.max()}]")
    found = topk >= 0
    rows = np.where(found, topk, 0)
    pids, cams = g_pids[rows], g_camids[rows]
    same = pids == q_pids[:, None]
    hidden = np.zeros(topk.shape, bool)
    for q_cam, g_cam in protocol.hidden_camera_pairs:
        hidden |= (q_camids[:, None] == q_cam) & (cams == g_cam)
    if protocol.hide_same_camera_matches:
        hidden |= same & (cams == q_camids[:, None])
    keep = found & ~hidden
    match = keep & same
    total = _num_true_matches(q_pids, q_camids, g_pids, g_camids, protocol)
    valid = total > 0
    if not valid.any():
        raise ValueError("no query has a true match in its gallery (after the protocol's removals)")

    rank = np.cumsum(keep, axis=1)  # 1-based rank of each kept slot
    hits = np.cumsum(match, axis=1)
    safe_total = np.maximum(total, 1)
    ap = np.where(match, hits / np.maximum(rank, 1), 0.0).sum(1) / safe_total
    last_rank = np.where(match, rank, 0).max(1, initial=0)
    inp = np.where(match.sum(1) == total, safe_total / np.maximum(last_rank, 1), 0.0)

    position = np.cumsum(_first_of_identity(pids, keep), axis=1) if protocol.dedup_cmc else rank
    cmc_rank = np.where(match.any(1), position[np.arange(len(topk)), match.argmax(1)], np.inf)
    cmc = (cmc_rank[valid, None] <= np.arange(1, min(max_rank, len(g_pids)) + 1)).mean(0)
    return cmc, float(ap[valid].mean()), float(inp[valid].mean())


def topk_recall(found: ArrayLike, exact: ArrayLike) -> float:
    """Mean over queries of the fraction of the exact top-k that ``found`` holds.

    Args:
        found: (Q, k) int ids from an approximate search (-1 = nothing); exact: (Q, k) int ids.
    """
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape or found.ndim != 2 or not found.shape[1]:
        raise ValueError(f"found and exact top-k must be (Q, k) with k >= 1, got {found.shape} and {exact.shape}")
    hits = (found[:, :, None] == exact[:, None, :]).any(1)
    return float(hits.mean())
