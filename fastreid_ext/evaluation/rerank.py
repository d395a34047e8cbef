"""k-reciprocal re-ranking (Zhong et al., CVPR 2017) on CPU, without an N x N matrix.

FastReID's definition, computed block by block: docs/evaluation.md.
"""
import faiss
import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse

from .metrics import FeatureDistance

__all__ = ["re_ranking", "jaccard_distance"]


def _reciprocal_neighbours(initial_rank, k):
    """(N, k+1) int: row i's k-reciprocal neighbours among its k+1 nearest, -1 where not reciprocal.

    j is kept when i is also among j's k+1 nearest (FastReID's ``k_reciprocal_neigh``).
    """
    forward = initial_rank[:, :k + 1]
    backward = forward[forward]  # (N, k+1, k+1): the nearest of each neighbour
    mutual = (backward == np.arange(len(forward))[:, None, None]).any(-1)
    return np.where(mutual, forward, -1)


def _expansions(r_k1, r_half, rows):
    """(b, W) int: the k-reciprocal set of each row in ``rows`` grown by its candidates' half-size sets,
    sorted, -1 padded on the left to the longest set.

    A candidate c in R(i, k1) adds R(c, k1/2) when more than 2/3 of R(c, k1/2) lies in R(i, k1).
    """
    own = r_k1[rows]                                   # (b, w1)
    halves = r_half[own]                               # (b, w1, wh); own == -1 rows masked below
    present = (halves >= 0) & (own >= 0)[:, :, None]
    shared = (halves[..., None] == own[:, None, None, :]).any(-1) & present
    accept = shared.sum(-1) > 2 / 3 * present.sum(-1)
    grown = np.where(accept[..., None] & present, halves, -1).reshape(len(own), -1)
    members = np.sort(np.concatenate([own, grown], axis=1), axis=1)
    members[:, 1:][members[:, 1:] == members[:, :-1]] = -1  # drop repeats (sorted, so adjacent)
    members = np.sort(members, axis=1)
    return members[:, members.shape[1] - int((members >= 0).sum(1).max(initial=0)):]


def _neighbour_weights(feats, initial_rank, k1, block_size):
    """(N, N) sparse CSR float32 V: softmax of minus squared distances over each row's expansion set."""
    r_k1 = _reciprocal_neighbours(initial_rank, k1)
    r_half = _reciprocal_neighbours(initial_rank, int(np.around(k1 / 2)))
    sq_norm = (feats * feats).sum(1)
    rows_all, cols_all, vals_all = [], [], []
    for start in range(0, len(feats), block_size):
        rows = np.arange(start, min(start + block_size, len(feats)))
        members = _expansions(r_k1, r_half, rows)
        real = members >= 0
        safe = np.where(real, members, 0)
        dots = np.einsum("bd,bed->be", feats[rows], feats[safe])
        sq_dist = sq_norm[rows, None] + sq_norm[safe] - 2 * dots
        logits = np.where(real, -sq_dist, -np.inf)
        peak = np.where(real.any(1, keepdims=True), logits.max(1, keepdims=True), 0)
        weights = np.exp(logits - peak)
        weights /= weights.sum(1, keepdims=True)
        r, c = np.nonzero(real)
        rows_all.append(rows[r])
        cols_all.append(members[r, c])
        vals_all.append(weights[r, c].astype(np.float32))
    n = len(feats)
    return sparse.csr_matrix(
        (np.concatenate(vals_all), (np.concatenate(rows_all), np.concatenate(cols_all))), shape=(n, n))


def _min_overlap(v_rows, v_cols_csc, num_cols):
    """(b, num_cols) float64: sum_k min(v_rows[i, k], v_cols[j, k]) over shared nonzeros k.

    v_rows: (b, N) CSR; v_cols_csc: (num_cols, N) CSC.
    """
    v_rows = v_rows.tocoo()
    starts, ends = v_cols_csc.indptr[v_rows.col], v_cols_csc.indptr[v_rows.col + 1]
    counts = ends - starts
    entry = np.repeat(np.arange(len(counts)), counts)
    offset = np.arange(len(entry)) - np.repeat(np.cumsum(counts) - counts, counts)
    pos = starts[entry] + offset
    overlap = np.minimum(v_rows.data[entry], v_cols_csc.data[pos])
    flat = v_rows.row[entry] * num_cols + v_cols_csc.indices[pos]
    return np.bincount(flat, weights=overlap, minlength=v_rows.shape[0] * num_cols).reshape(-1, num_cols)


def jaccard_distance(q_feats: ArrayLike, g_feats: ArrayLike, k1: int = 20, k2: int = 6,
                     block_size: int = 256) -> np.ndarray:
    """(Q, G) float32 k-reciprocal Jaccard distance between queries and gallery.

    q_feats: (Q, D), g_feats: (G, D) float; neighbours by squared Euclidean distance over all Q + G
    features. k1 and k2 are capped at Q + G.
    """
    feats = np.ascontiguousarray(np.concatenate([q_feats, g_feats]), dtype=np.float32)
    num_q, n = len(q_feats), len(feats)
    k1 = min(k1, n)
    index = faiss.IndexFlatL2(feats.shape[1])
    index.add(feats)
    _, initial_rank = index.search(feats, k1)
    v = _neighbour_weights(feats, initial_rank, k1, block_size)
    k2 = min(k2, k1)
    if k2 != 1:
        # Query expansion: each row becomes the mean of the rows of its k2 nearest neighbours.
        averaging = sparse.csr_matrix(
            (np.full(n * k2, 1.0 / k2, np.float32), (np.repeat(np.arange(n), k2), initial_rank[:, :k2].ravel())),
            shape=(n, n))
        v = (averaging @ v).tocsr()
    v_gallery = v[num_q:].tocsc()  # column k -> the gallery rows where it is nonzero
    out = np.empty((num_q, n - num_q), dtype=np.float32)
    for start in range(0, num_q, block_size):
        stop = min(start + block_size, num_q)
        overlap = _min_overlap(v[start:stop], v_gallery, n - num_q)
        out[start:stop] = np.maximum(1 - overlap / (2 - overlap), 0)
    return out


def re_ranking(q_feats: ArrayLike, g_feats: ArrayLike, k1: int = 20, k2: int = 6, lambda_value: float = 0.3,
               metric: str = "cosine", block_size: int = 256) -> np.ndarray:
    """(Q, G) float32 re-ranked distance: ``jaccard * (1 - lambda) + original * lambda``.

    q_feats: (Q, D), g_feats: (G, D) float; metric: ``TEST.METRIC`` of the original distance.
    """
    original = FeatureDistance(q_feats, g_feats, metric)
    q, g = np.asarray(q_feats, np.float32), np.asarray(g_feats, np.float32)
    if metric == "cosine":
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        g = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    jaccard = jaccard_distance(q, g, k1, k2, block_size)
    return jaccard * (1 - lambda_value) + original.block(slice(None), np.arange(len(g))) * lambda_value
