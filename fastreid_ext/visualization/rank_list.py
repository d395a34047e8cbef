"""Rank lists: each query beside its top-k gallery images, true matches framed green and false ones red,
over the gallery the evaluator scores (:func:`~fastreid_ext.evaluation.metrics.hidden_mask`).
"""
from collections.abc import Sequence
from typing import Optional

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ..data.data_utils import read_image
from ..evaluation.metrics import RankingProtocol, hidden_mask
from .layout import add_title, title_height, wrap_title

__all__ = ["rank_lists", "frame", "draw_rank_lists", "MATCH_COLOR", "MISMATCH_COLOR", "UNKNOWN_COLOR"]

MATCH_COLOR = (0, 170, 0)
MISMATCH_COLOR = (220, 0, 0)
UNKNOWN_COLOR = (160, 160, 160)  # the search page's grey: the identity is unknown on one side


def rank_lists(distmat: ArrayLike, q_pids: ArrayLike, g_pids: ArrayLike, q_camids: ArrayLike, g_camids: ArrayLike,
               protocol: RankingProtocol, topk: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The first ``topk`` gallery items of each query under ``protocol``, and which are true matches.

    Args:
        distmat: (Q, G) float, smaller is closer; ties keep gallery order (the metrics' stable sort).
        q_pids, q_camids: (Q,) int; g_pids, g_camids: (G,) int; protocol: a ``RankingProtocol``.
    Returns:
        ranked: (Q, k) int64 gallery indices, k = min(topk, G), -1 where fewer than k items are visible;
        matches: (Q, k) bool, True where the item has the query's identity (False at -1).
    """
    dist = np.array(distmat, dtype=np.float64)
    g_pids = np.asarray(g_pids).ravel()
    hidden = hidden_mask(q_pids, q_camids, g_pids, g_camids, protocol)
    dist[hidden] = np.inf
    k = min(topk, dist.shape[1])
    ranked = np.argsort(dist, axis=1, kind="stable")[:, :k]
    ranked[np.take_along_axis(hidden, ranked, axis=1)] = -1
    matches = (ranked >= 0) & (g_pids[ranked] == np.asarray(q_pids).ravel()[:, None])
    return ranked, matches


def frame(image: ArrayLike, color: tuple[int, int, int], width: int = 3) -> np.ndarray:
    """A copy of ``image`` (H, W, 3) uint8 with a ``width``-pixel border of ``color`` (RGB)."""
    framed = np.array(image, dtype=np.uint8, copy=True)
    framed[:width], framed[-width:] = color, color
    framed[:, :width], framed[:, -width:] = color, color
    return framed


def _load(path, size):
    """The image at ``path`` as (H, W, 3) uint8 RGB, resized to ``size`` = (H, W); white for None."""
    if path is None:
        return np.full((*size, 3), 255, np.uint8)
    return np.asarray(read_image(path).resize((size[1], size[0])), dtype=np.uint8)


def draw_rank_lists(out_path: str, query_paths: Sequence[Optional[str]], query_captions: Sequence[str],
                    query_notes: Sequence[str], gallery_paths: Sequence[str], ranked: np.ndarray, matches: np.ndarray,
                    gallery_captions: Sequence[str], size: tuple[int, int] = (128, 64), title: str = "",
                    unknown: Optional[np.ndarray] = None) -> None:
    """Write a PNG: one row per query, the query (caption above, ``query_notes`` below) then its rank list.

    Args:
        query_paths: Q image paths (None: a blank, e.g. for a search by description);
            query_captions: Q short strings; query_notes: Q strings (may hold
            line breaks) printed under the query, e.g. its predicted attributes.
        gallery_paths: G image paths; ranked, matches: (Q, k) from :func:`rank_lists`;
            gallery_captions: G short strings shown above each ranked image.
        size: (H, W) every image is drawn at.
        unknown: (Q, k) bool, True where the query's or the item's identity is unknown (framed grey,
            whatever ``matches`` says); None: every identity is known.
    """
    num_q, k = ranked.shape
    cell_w = 0.9  # inches; every length below is in inches
    img_h = cell_w * size[0] / size[1]
    note_lines = max([1] + [note.count("\n") + 1 for note in query_notes])
    row_h = 0.25 + img_h + 0.13 * note_lines
    fig_w = cell_w * (k + 1.4) + 0.3
    title_lines = wrap_title(title, fig_w)
    title_h = title_height(title_lines)
    fig_h = row_h * num_q + title_h
    fig = Figure(figsize=(fig_w, fig_h), dpi=110)
    for q in range(num_q):
        top = fig_h - title_h - q * row_h - 0.22  # from the bottom edge
        cells = [(0.15, query_paths[q], None, query_captions[q])]
        for r in range(k):
            g = ranked[q, r]
            if g >= 0:
                color = MATCH_COLOR if matches[q, r] else MISMATCH_COLOR
                if unknown is not None and unknown[q, r]:
                    color = UNKNOWN_COLOR
                cells.append((0.15 + cell_w * (r + 1.4), gallery_paths[g], color, f"{r + 1}: {gallery_captions[g]}"))
        for left, path, color, caption in cells:
            ax = fig.add_axes([left / fig_w, (top - img_h) / fig_h, (cell_w - 0.06) / fig_w, img_h / fig_h])
            image = _load(path, size)
            ax.imshow(image if color is None else frame(image, color, max(2, size[1] // 20)))
            ax.set_title(caption, fontsize=6.5, pad=2)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_frame_on(color is None)  # a framed image's frame is its border
            if color is None:
                ax.set_xlabel(query_notes[q], fontsize=6, labelpad=2, linespacing=1.1, loc="left")
    add_title(fig, title_lines)
    fig.savefig(out_path)
