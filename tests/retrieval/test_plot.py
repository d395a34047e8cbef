import numpy as np
import pytest
from PIL import Image

from fastreid_ext.retrieval.plot import CELL_SIZE, draw_rank_lists


def _result(tmp_path, query_pid, match_pids):
    path = str(tmp_path / "person.png")
    Image.new("RGB", (20, 40), (255, 255, 255)).save(path)
    matches = [{"rank": r, "score": 1 - r / 10, "id": r, "img_path": path, "pid": pid, "camid": 1, "modality": 0}
               for r, pid in enumerate(match_pids, 1)]
    return {"query": {"img_path": path, "pid": query_pid, "camid": 3, "modality": 1}, "matches": matches}


def test_rows_and_frames(tmp_path):
    results = [_result(tmp_path, 1, [1, 2, None]), _result(tmp_path, None, [4])] * 3
    picture = draw_rank_lists(results, str(tmp_path / "out.png"), max_queries=4)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out.png")), picture)
    cell_h, cell_w = CELL_SIZE[0] + 8 + 30, CELL_SIZE[1] + 8  # 4-pixel frames, 30-pixel captions
    # 4 rows of (cell, 6-pixel gap); the longest row: query, 2 gaps, 3 x (match, gap).
    assert picture.shape == (4 * (cell_h + 6), cell_w + 12 + 3 * (cell_w + 6), 3)
    # Frame colours on the left edge of each cell of the first row: query, same, other and unknown identity.
    lefts = [0, cell_w + 12, 2 * cell_w + 18, 3 * cell_w + 24]
    assert [tuple(picture[10, x]) for x in lefts] == [(40, 90, 200), (30, 160, 60), (210, 40, 40), (160, 160, 160)]
    # Second row: an unknown query identity leaves every match unknown.
    assert tuple(picture[cell_h + 6 + 10, cell_w + 12]) == (160, 160, 160)


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="no search result to draw"):
        draw_rank_lists([], str(tmp_path / "out.png"))
    with pytest.raises(ValueError, match="name a .png/.jpg/.jpeg file"):
        draw_rank_lists([_result(tmp_path, 1, [1])], str(tmp_path / "out.gif"))
