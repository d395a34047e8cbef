"""The specification of the ranking metrics: a plain per-query loop, written for reading, not for speed.

Full stable sort, filter, de-duplicate with a loop, then the textbook formulas. The vectorised
``fastreid_ext.evaluation.metrics`` must agree with it; ``benchmarks/eval_speed.py`` times it.
"""
import numpy as np


def _hidden(protocol, q_pid, q_camid, g_pid, g_camid):
    if protocol == "sysu":
        return q_camid == 3 and g_camid == 2
    if protocol == "llcm":
        return g_pid == q_pid and g_camid == q_camid
    if protocol == "regdb":
        return False
    raise ValueError(protocol)


def loop_eval(distmat, q_pids, g_pids, q_camids, g_camids, protocol, max_rank=20):
    """Same arguments and result as ``metrics.evaluate_ranking`` with a protocol name ("sysu"/"regdb"/"llcm")."""
    dedup = protocol in ("sysu", "llcm")
    max_rank = min(max_rank, distmat.shape[1])
    cmc_ranks, aps, inps = [], [], []
    for i in range(distmat.shape[0]):
        order = np.argsort(distmat[i], kind="stable")
        ranked_pids = [g_pids[j] for j in order
                       if not _hidden(protocol, q_pids[i], q_camids[i], g_pids[j], g_camids[j])]
        match_positions = [pos + 1 for pos, pid in enumerate(ranked_pids) if pid == q_pids[i]]
        if not match_positions:
            continue
        if dedup:
            distinct = []
            for pid in ranked_pids:
                if pid not in distinct:
                    distinct.append(pid)
            cmc_ranks.append(distinct.index(q_pids[i]) + 1)
        else:
            cmc_ranks.append(match_positions[0])
        aps.append(np.mean([k / pos for k, pos in enumerate(match_positions, start=1)]))
        inps.append(len(match_positions) / match_positions[-1])
    cmc = np.array([np.mean([rank <= r for rank in cmc_ranks]) for r in range(1, max_rank + 1)])
    return cmc, float(np.mean(aps)), float(np.mean(inps))
