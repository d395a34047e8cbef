"""t-SNE of visible and infrared features: colour = identity, marker = modality."""
import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike
from sklearn.manifold import TSNE

from ..data.datasets.bases import INFRARED, MODALITY_NAMES, VISIBLE

__all__ = ["tsne_points", "plot_tsne", "MODALITY_MARKERS"]

MODALITY_MARKERS = {VISIBLE: "o", INFRARED: "^"}


def tsne_points(features: ArrayLike, metric: str = "cosine", seed: int = 0) -> np.ndarray:
    """(N, D) features -> (N, 2) t-SNE coordinates.

    With ``metric == "cosine"`` the features are L2-normalised first, so the embedding reflects the
    distance the ranking uses. The perplexity is scikit-learn's 30, lowered for small N (it must be < N).
    """
    x = np.asarray(features, dtype=np.float64)
    if len(x) < 3:
        raise ValueError(f"t-SNE needs at least 3 features, got {len(x)}")
    if metric == "cosine":
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    perplexity = min(30.0, (len(x) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)


def plot_tsne(out_path: str, points: np.ndarray, pids: ArrayLike, modalities: ArrayLike, title: str = "") -> None:
    """Write a scatter plot PNG of ``points`` (N, 2); ``pids``, ``modalities``: (N,) int."""
    pids, modalities = np.asarray(pids), np.asarray(modalities)
    identities = np.unique(pids)
    palette = colormaps["tab10" if len(identities) <= 10 else "tab20"]
    colors = {pid: palette(i % palette.N) for i, pid in enumerate(identities)}
    fig = Figure(figsize=(6.4, 5.2), dpi=110)
    ax = fig.add_axes([0.07, 0.08, 0.66, 0.84])
    for modality, marker in MODALITY_MARKERS.items():
        mask = modalities == modality
        if mask.any():
            ax.scatter(points[mask, 0], points[mask, 1], c=[colors[p] for p in pids[mask]], marker=marker,
                       s=26, edgecolors="black", linewidths=0.3)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    handles = [Line2D([], [], marker=MODALITY_MARKERS[m], color="grey", linestyle="", label=MODALITY_NAMES[m])
               for m in MODALITY_MARKERS if (modalities == m).any()]
    handles += [Line2D([], [], marker="s", color=colors[p], linestyle="", label=f"id {p}") for p in identities]
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(0.74, 0.5), fontsize=7, frameon=False,
               ncol=1 if len(handles) <= 24 else 2)
    fig.savefig(out_path)
