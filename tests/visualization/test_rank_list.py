import cv2
import numpy as np
import pytest

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.evaluation.metrics import PROTOCOLS, evaluate_ranking, hidden_mask
from fastreid_ext.visualization.rank_list import MATCH_COLOR, MISMATCH_COLOR, draw_rank_lists, frame, rank_lists

# Two infrared queries and five visible gallery images, SYSU-MM01 camera numbers.
Q_PIDS, Q_CAMS = [1, 2], [3, 6]
G_PIDS, G_CAMS = [1, 2, 1, 3, 2], [2, 1, 1, 4, 2]
DIST = np.array([[0.0, 0.1, 0.3, 0.2, 0.4],
                 [0.5, 0.2, 0.2, 0.1, 0.3]])


def test_hidden_mask_sysu_hides_camera_2_from_camera_3_queries():
    hidden = hidden_mask(Q_PIDS, Q_CAMS, G_PIDS, G_CAMS, PROTOCOLS["sysu"])
    np.testing.assert_array_equal(hidden, [[True, False, False, False, True], [False] * 5])


def test_hidden_mask_llcm_hides_same_identity_same_camera():
    hidden = hidden_mask([1, 2], [2, 1], G_PIDS, G_CAMS, PROTOCOLS["llcm"])
    np.testing.assert_array_equal(hidden, [[True, False, False, False, False],
                                           [False, True, False, False, False]])


def test_rank_lists_skip_hidden_items_keep_ties_in_gallery_order():
    ranked, matches = rank_lists(DIST, Q_PIDS, G_PIDS, Q_CAMS, G_CAMS, PROTOCOLS["sysu"], topk=5)
    # Query 0 (camera 3) never sees the camera-2 items 0 and 4, closest as item 0 is.
    np.testing.assert_array_equal(ranked, [[1, 3, 2, -1, -1], [3, 1, 2, 4, 0]])
    np.testing.assert_array_equal(matches, [[False, False, True, False, False],
                                            [False, True, False, True, False]])


def test_rank_lists_topk_truncates_and_regdb_hides_nothing():
    ranked, matches = rank_lists(DIST, Q_PIDS, G_PIDS, Q_CAMS, G_CAMS, PROTOCOLS["regdb"], topk=2)
    np.testing.assert_array_equal(ranked, [[0, 1], [3, 1]])
    np.testing.assert_array_equal(matches, [[True, False], [False, True]])


def _average_precision(match_row):
    ranks = np.flatnonzero(match_row) + 1
    return np.mean(np.arange(1, len(ranks) + 1) / ranks)


def test_full_rank_lists_give_the_metrics_map():
    rng = np.random.default_rng(0)
    q_pids, q_cams = rng.integers(0, 6, 30), rng.choice([3, 6], 30)
    g_pids, g_cams = rng.integers(0, 6, 40), rng.choice([1, 2, 4, 5], 40)
    dist = rng.random((30, 40)).round(1)  # many ties
    _, matches = rank_lists(dist, q_pids, g_pids, q_cams, g_cams, PROTOCOLS["sysu"], topk=40)
    _, mAP, _ = evaluate_ranking(dist, q_pids, g_pids, q_cams, g_cams, PROTOCOLS["sysu"])
    assert np.mean([_average_precision(m) for m in matches if m.any()]) == pytest.approx(mAP, abs=1e-12)


def test_frame_paints_only_the_border():
    image = np.full((10, 6, 3), 7, dtype=np.uint8)
    framed = frame(image, MATCH_COLOR, width=2)
    assert (framed[:2] == MATCH_COLOR).all() and (framed[-2:] == MATCH_COLOR).all()
    assert (framed[:, :2] == MATCH_COLOR).all() and (framed[:, -2:] == MATCH_COLOR).all()
    assert (framed[2:-2, 2:-2] == 7).all() and (image == 7).all()


def _person(path, value):
    cv2.imwrite(str(path), np.full((32, 16, 3), value, dtype=np.uint8))
    return str(path)


def test_draw_rank_lists_writes_a_png_with_green_and_red_frames(tmp_path):
    gallery = [_person(tmp_path / f"g{i}.png", 40 * i) for i in range(5)]
    queries = [_person(tmp_path / f"q{i}.png", 250) for i in range(2)]
    ranked, matches = rank_lists(DIST, Q_PIDS, G_PIDS, Q_CAMS, G_CAMS, PROTOCOLS["sysu"], topk=5)
    out = tmp_path / "rank_list.png"
    draw_rank_lists(str(out), queries, ["q 1", "q 2"], ["predicted:\ngender\nbackpack", ""], gallery, ranked,
                    matches, [f"id {p}" for p in G_PIDS], size=(32, 16), title="test")
    image = cv2.imread(str(out))[..., ::-1]
    assert image.shape[0] > 200 and image.shape[1] > 500
    pixels = image.reshape(-1, 3).astype(int)
    green = (np.abs(pixels - MATCH_COLOR) < 30).all(1).sum()
    red = (np.abs(pixels - MISMATCH_COLOR) < 30).all(1).sum()
    # Frames of 3 true matches and 5 false ones (the 2 hidden slots of query 0 stay empty).
    assert green > 0 and red == pytest.approx(5 / 3 * green, rel=0.2)
