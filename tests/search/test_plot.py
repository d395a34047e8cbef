import numpy as np
import pytest
from PIL import Image

from fastreid_ext.search.plot import TITLE, plot_search_results, rank_list_inputs
from fastreid_ext.visualization.rank_list import MATCH_COLOR, MISMATCH_COLOR, UNKNOWN_COLOR


def _match(rank, gallery_id, pid, path="g.png", score=0.5):
    return {"rank": rank, "score": score, "id": gallery_id, "img_path": path, "pid": pid, "camid": 1, "modality": 0}


RESULTS = [
    {"query": {"img_path": "q1.png", "pid": 1, "camid": 3, "modality": 1},
     "matches": [_match(1, 7, 1, "a.png", 0.9), _match(2, 4, 2, "b.png", 0.8), _match(3, 5, None, "c.png", 0.7)]},
    {"query": {"img_path": "upload.png", "pid": None, "camid": None, "modality": 1},
     "matches": [_match(1, 4, 2, "b.png", 0.6)]},
]


def test_rank_list_inputs():
    inputs = rank_list_inputs(RESULTS)
    assert inputs["query_paths"] == ["q1.png", "upload.png"]
    assert inputs["query_captions"] == ["query id 1 cam3", "query id ? cam?"]
    # Gallery id 4 is matched by both queries, with a score each.
    assert inputs["gallery_paths"] == ["a.png", "b.png", "c.png", "b.png"]
    assert inputs["gallery_captions"] == ["id 1 cam1 0.900", "id 2 cam1 0.800", "id ? cam1 0.700", "id 2 cam1 0.600"]
    np.testing.assert_array_equal(inputs["ranked"], [[0, 1, 2], [3, -1, -1]])
    # Only a known identity on both sides can match; an unknown one on either side is marked (framed grey).
    np.testing.assert_array_equal(inputs["matches"], [[True, False, False], [False, False, False]])
    np.testing.assert_array_equal(inputs["unknown"], [[False, False, True], [True, False, False]])
    assert inputs["title"] == TITLE and inputs["query_notes"] == ["", ""]
    assert rank_list_inputs(RESULTS, max_queries=1)["query_paths"] == ["q1.png"]
    with pytest.raises(ValueError, match="no search result to draw"):
        rank_list_inputs([])


def test_plot_writes_a_png(tmp_path):
    path = str(tmp_path / "person.png")
    Image.new("RGB", (20, 40), (255, 255, 255)).save(path)
    results = [{"query": dict(r["query"], img_path=path), "matches": [dict(m, img_path=path) for m in r["matches"]]}
               for r in RESULTS]
    heights = []
    for rows in (1, 2):
        plot_search_results(results, str(tmp_path / f"{rows}.png"), max_queries=rows, size=(32, 16))
        with Image.open(tmp_path / f"{rows}.png") as picture:
            assert picture.format == "PNG"
            heights.append(picture.height)
    assert heights[0] < heights[1]


def _count(path, colour):
    """Pixels of exactly ``colour`` (RGB) in the PNG ``path``."""
    with Image.open(path) as picture:
        pixels = np.asarray(picture.convert("RGB")).reshape(-1, 3)
    return int((pixels == colour).all(1).sum())


def test_unknown_identities_are_framed_grey_not_red(tmp_path):
    white = str(tmp_path / "person.png")
    Image.new("RGB", (20, 40), (255, 255, 255)).save(white)
    # An upload (unknown identity) with two matches; a known query with a true and a false match.
    upload = [{"query": dict(RESULTS[1]["query"], img_path=white),
               "matches": [_match(1, 4, 2, white), _match(2, 5, None, white)]}]
    known = [{"query": dict(RESULTS[0]["query"], img_path=white),
              "matches": [_match(1, 7, 1, white), _match(2, 4, 2, white)]}]
    plot_search_results(upload, str(tmp_path / "upload.png"), size=(32, 16))
    plot_search_results(known, str(tmp_path / "known.png"), size=(32, 16))
    frame = _count(tmp_path / "known.png", MATCH_COLOR)  # the pixels of one frame
    assert frame > 0 and _count(tmp_path / "known.png", MISMATCH_COLOR) == frame
    assert _count(tmp_path / "upload.png", MISMATCH_COLOR) == 0 == _count(tmp_path / "upload.png", MATCH_COLOR)
    # Two grey frames (a few grey pixels of the captions' anti-aliasing come on top).
    assert _count(tmp_path / "upload.png", UNKNOWN_COLOR) == pytest.approx(2 * frame, rel=0.01)
    assert _count(tmp_path / "known.png", UNKNOWN_COLOR) < 0.01 * frame
