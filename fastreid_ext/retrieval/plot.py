"""Rank-list picture of search results: one row per query, the query then its matches, best first.

Frames: blue for the query; green for a match of the query's identity, red for another identity, grey
where either identity is unknown. Under each image: its rank and score, its person id and camera.
"""
import os

import cv2
import numpy as np

from ..data.data_utils import read_image

CELL_SIZE = (128, 64)  # (H, W) of every image
_BORDER, _GAP, _CAPTION = 4, 6, 30
_COLOURS = {"query": (40, 90, 200), "same": (30, 160, 60), "other": (210, 40, 40), "unknown": (160, 160, 160)}
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_EXTENSIONS = (".png", ".jpg", ".jpeg")


def _who(record):
    pid = "?" if record["pid"] is None else record["pid"]
    cam = "?" if record["camid"] is None else record["camid"]
    return f"id {pid} cam {cam}"


def _frame(query, match):
    if query["pid"] is None or match["pid"] is None:
        return _COLOURS["unknown"]
    return _COLOURS["same" if query["pid"] == match["pid"] else "other"]


def _cell(img_path, colour, lines):
    """(H + 2 border + caption, W + 2 border, 3) uint8 RGB: the framed image over its caption."""
    image = np.asarray(read_image(img_path).resize(CELL_SIZE[::-1]))
    framed = cv2.copyMakeBorder(image, *[_BORDER] * 4, cv2.BORDER_CONSTANT, value=colour)
    caption = np.full((_CAPTION, framed.shape[1], 3), 255, np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(caption, line, (1, 12 + 13 * i), _FONT, 0.32, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([framed, caption])


def _row(result):
    query = result["query"]
    cells = [_cell(query["img_path"], _COLOURS["query"], ["query", _who(query)])]
    cells += [_cell(m["img_path"], _frame(query, m), [f"#{m['rank']} {m['score']:.3f}", _who(m)])
              for m in result["matches"]]
    gap = np.full((cells[0].shape[0], _GAP, 3), 255, np.uint8)
    parts = [cells[0], gap, gap]  # a wider gap after the query
    for cell in cells[1:]:
        parts += [cell, gap]
    return np.hstack(parts)


def draw_rank_lists(results, path, max_queries=8):
    """Write the rank lists of the first ``max_queries`` of ``results`` (from
    :func:`~fastreid_ext.retrieval.pipeline.search`) as an image to ``path`` (.png or .jpg).

    Returns:
        the (H, W, 3) uint8 RGB picture.
    """
    if not results:
        raise ValueError("draw_rank_lists: no search result to draw")
    if not path.lower().endswith(_EXTENSIONS):
        raise ValueError(f"cannot write the rank-list picture {path}: name a {'/'.join(_EXTENSIONS)} file")
    rows = [_row(result) for result in results[:max_queries]]
    width = max(row.shape[1] for row in rows)
    padded = []
    for row in rows:
        padded += [np.pad(row, ((0, _GAP), (0, width - row.shape[1]), (0, 0)), constant_values=255)]
    picture = np.vstack(padded)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if not cv2.imwrite(path, np.ascontiguousarray(picture[..., ::-1])):
        raise OSError(f"cannot write the rank-list picture {path}")
    return picture
