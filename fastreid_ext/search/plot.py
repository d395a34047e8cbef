"""Rank-list picture of search results, drawn by :func:`fastreid_ext.visualization.rank_list.draw_rank_lists`:
one row per query, the query then its matches, best first, framed green (the query's identity), red
(another identity) or grey (an identity that is unknown on either side), as on the search page."""
import textwrap
from collections.abc import Sequence

import numpy as np

from ..visualization.rank_list import draw_rank_lists

TITLE = "green: the query's identity; red: another identity; grey: unknown identity"


def _who(record):
    pid = "?" if record["pid"] is None else record["pid"]
    cam = "?" if record["camid"] is None else record["camid"]
    return f"id {pid} cam{cam}"


def rank_list_inputs(results: Sequence[dict], max_queries: int = 8) -> dict:
    """The arguments of ``draw_rank_lists`` (but ``out_path``) for the first ``max_queries`` of ``results``
    (from :func:`~fastreid_ext.search.pipeline.search`): every (query, match) pair is a gallery entry of its
    own, captioned with its score, and ``ranked`` (Q, k) indexes them (-1 past a query's last match); ``unknown``
    (Q, k) marks the pairs whose identity is unknown on either side."""
    results = results[:max_queries]
    if not results:
        raise ValueError("no search result to draw")
    gallery_paths, gallery_captions = [], []
    k = max(len(result["matches"]) for result in results)
    ranked = np.full((len(results), k), -1, np.int64)
    matches = np.zeros((len(results), k), bool)
    unknown = np.zeros((len(results), k), bool)
    for q, result in enumerate(results):
        query = result["query"]
        for r, match in enumerate(result["matches"]):
            ranked[q, r] = len(gallery_paths)
            gallery_paths.append(match["img_path"])
            gallery_captions.append(f"{_who(match)} {match['score']:.3f}")
            unknown[q, r] = query["pid"] is None or match["pid"] is None
            matches[q, r] = not unknown[q, r] and query["pid"] == match["pid"]
    # An attribute-only search (pipeline.describe) has no query image: a blank, its description below.
    return {"query_paths": [result["query"]["img_path"] for result in results],
            "query_captions": [f"query {_who(result['query'])}" if "where" not in result["query"] else "description"
                               for result in results],
            "query_notes": [textwrap.fill(result["query"].get("where", ""), 24) for result in results],
            "gallery_paths": gallery_paths, "ranked": ranked,
            "matches": matches, "unknown": unknown, "gallery_captions": gallery_captions, "title": TITLE}


def plot_search_results(results: Sequence[dict], path: str, max_queries: int = 8,
                        size: tuple[int, int] = (128, 64)) -> None:
    """Write the rank lists of the first ``max_queries`` of ``results`` to ``path`` (PNG), images at ``size`` (H, W)."""
    draw_rank_lists(path, size=tuple(size), **rank_list_inputs(results, max_queries))
