"""Exact top-k by blocked matrix multiplication: the reference that approximate indexes are
measured against, and the baseline they must beat."""
import numpy as np
import torch


def brute_force_topk(gallery: np.ndarray, queries: np.ndarray, k: int, metric: str = "cosine",
                     gallery_block: int = 65536, query_block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The k best gallery rows of each query, scoring one (query block x gallery block) matrix at
    a time and keeping a running top-k with ``torch.topk``.

    Args:
        gallery: (N, D) float; queries: (Q, D) float.
        metric: ``cosine`` (features are L2-normalised here; higher is better) or ``l2`` (squared
            Euclidean distance; lower is better).
    Returns:
        scores (Q, k) float32 and gallery row indices (Q, k) int64, best first.
    """
    g = torch.as_tensor(np.asarray(gallery, np.float32))
    q = torch.as_tensor(np.asarray(queries, np.float32))
    if metric == "cosine":
        g, q = torch.nn.functional.normalize(g, dim=1), torch.nn.functional.normalize(q, dim=1)
    sign = 1.0 if metric == "cosine" else -1.0  # rank by sign * score, largest first
    g_sq = (g * g).sum(1)
    scores, index = [], []
    for qs in range(0, len(q), query_block):
        qb = q[qs:qs + query_block]
        best_s = torch.empty(len(qb), 0)
        best_i = torch.empty(len(qb), 0, dtype=torch.long)
        for gs in range(0, len(g), gallery_block):
            s = qb @ g[gs:gs + gallery_block].T
            if metric == "l2":
                s = (qb * qb).sum(1, keepdim=True) - 2 * s + g_sq[gs:gs + gallery_block]
            top = torch.topk(sign * s, min(k, s.shape[1]), dim=1)
            best_s, pick = torch.topk(torch.cat([best_s, top.values], 1), k=min(
                k, best_s.shape[1] + top.values.shape[1]), dim=1)
            best_i = torch.gather(torch.cat([best_i, top.indices + gs], 1), 1, pick)
        scores.append(sign * best_s)
        index.append(best_i)
    return torch.cat(scores).numpy(), torch.cat(index).numpy()
