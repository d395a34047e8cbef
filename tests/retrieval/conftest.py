import numpy as np
import pytest

import fastreid_ext  # noqa: F401  (FastReID import shims)


def _exact_topk(gallery, queries, k, metric):
    """Reference top-k by sorting the full score matrix (numpy, float64)."""
    g, q = np.asarray(gallery, np.float64), np.asarray(queries, np.float64)
    if metric == "cosine":
        g = g / np.linalg.norm(g, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        scores = q @ g.T
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    else:
        scores = ((q[:, None, :] - g[None, :, :]) ** 2).sum(-1)
        order = np.argsort(scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, 1), order


def _recall(found, exact):
    return np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact)])


@pytest.fixture
def exact_topk():
    """(gallery, queries, k, metric) -> (scores, rows): the reference top-k."""
    return _exact_topk


@pytest.fixture
def recall():
    """(found (Q, k), exact (Q, k)) -> mean fraction of the exact top-k found."""
    return _recall


@pytest.fixture
def clustered():
    """360 gallery and 30 query features (dim 32): 60 identities, 6 gallery images each."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((60, 32)).astype(np.float32)
    pids = np.repeat(np.arange(60), 6)
    gallery = centres[pids] + 0.3 * rng.standard_normal((360, 32)).astype(np.float32)
    query_pids = rng.integers(0, 60, 30)
    queries = centres[query_pids] + 0.3 * rng.standard_normal((30, 32)).astype(np.float32)
    return gallery, queries
