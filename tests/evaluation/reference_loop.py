"""The specification of the ranking metrics: a plain per-query loop, written for reading, not for speed.

Per query: full stable sort, filter, de-duplicate, then the textbook formulas (the same steps as the
public ``eval_sysu``/``eval_regdb``/``eval_llcm``, with a stable sort). The block-wise
``fastreid_ext.evaluation.metrics`` must agree with it; ``benchmarks/eval_speed.py`` times it.
"""
import numpy as np


def _hidden(protocol, q_pid, q_camid, g_pids, g_camids):
    """(G,) bool: the gallery items the protocol hides from one query."""
    if protocol == "sysu":
        return (g_camids == 2) & (q_camid == 3)
    if protocol == "llcm":
        return (g_pids == q_pid) & (g_camids == q_camid)
    if protocol == "regdb":
        return np.zeros(len(g_pids), dtype=bool)
    raise ValueError(f"unknown protocol {protocol!r}")


def loop_eval(distmat, q_pids, g_pids, q_camids, g_camids, protocol, max_rank=20):
    """Same arguments and result as ``metrics.evaluate_ranking``, the protocol given by name."""
    dedup = protocol in ("sysu", "llcm")
    max_rank = min(max_rank, distmat.shape[1])
    cmc_ranks, aps, inps = [], [], []
    for i in range(distmat.shape[0]):
        order = np.argsort(distmat[i], kind="stable")
        keep = ~_hidden(protocol, q_pids[i], q_camids[i], g_pids[order], g_camids[order])
        ranked_pids = g_pids[order][keep]
        match_ranks = np.flatnonzero(ranked_pids == q_pids[i]) + 1
        if len(match_ranks) == 0:
            continue
        if dedup:
            _, first_positions = np.unique(ranked_pids, return_index=True)
            distinct_pids = ranked_pids[np.sort(first_positions)]
            cmc_ranks.append(np.flatnonzero(distinct_pids == q_pids[i])[0] + 1)
        else:
            cmc_ranks.append(match_ranks[0])
        aps.append(np.mean(np.arange(1, len(match_ranks) + 1) / match_ranks))
        inps.append(len(match_ranks) / match_ranks[-1])
    cmc_ranks = np.array(cmc_ranks)
    cmc = np.array([np.mean(cmc_ranks <= r) for r in range(1, max_rank + 1)])
    return cmc, float(np.mean(aps)), float(np.mean(inps))
