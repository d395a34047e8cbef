import cv2
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.visualization.tsne import plot_tsne, tsne_points


@pytest.fixture(autouse=True)
def one_thread():
    """scikit-learn's OpenMP threads spin for seconds on a busy machine; these sets are tiny."""
    with threadpool_limits(1):
        yield


def _clusters():
    """3 identities x 8 features in 16 dimensions: tight clusters around distant centres, both modalities."""
    rng = np.random.default_rng(0)
    centres = np.eye(16)[[0, 5, 10]] * 10
    pids = np.repeat([4, 7, 9], 8)
    features = centres[np.repeat([0, 1, 2], 8)] + 0.05 * rng.standard_normal((24, 16))
    return features, pids, np.tile([0, 1], 12)


def test_tsne_keeps_identities_apart_and_is_seeded():
    features, pids, _ = _clusters()
    points = tsne_points(features, metric="euclidean", seed=3)
    assert points.shape == (24, 2) and np.isfinite(points).all()
    d = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_array_equal(pids[d.argmin(1)], pids)  # every nearest neighbour shares the identity
    np.testing.assert_array_equal(tsne_points(features, metric="euclidean", seed=3), points)


def test_tsne_cosine_ignores_feature_scale():
    features, _, _ = _clusters()
    scaled = features * np.linspace(1, 50, 24)[:, None]
    np.testing.assert_allclose(tsne_points(scaled, seed=0), tsne_points(features, seed=0), atol=1e-6)


def test_tsne_small_sets_lower_the_perplexity():
    assert tsne_points(np.random.default_rng(1).random((4, 3)), seed=0).shape == (4, 2)


def test_plot_tsne_writes_a_png_with_both_markers(tmp_path):
    features, pids, modalities = _clusters()
    out = tmp_path / "tsne.png"
    plot_tsne(str(out), tsne_points(features, seed=0), pids, modalities, title="t-SNE")
    image = cv2.imread(str(out))
    assert image.shape == (572, 704, 3)  # 6.4 x 5.2 inches at 110 dpi
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 10  # drawn, not blank
