import logging
import os

import pytest

from fastreid_ext.config import get_cfg
from fastreid_ext.data.build import build_cm_dataset
from fastreid_ext.data.datasets import RegDB, check_trial


@pytest.mark.parametrize("trial, train_ids, test_ids", [(1, (1, 2, 3), (4, 5)), (2, (3, 4, 5), (1, 2))])
def test_counts_ids_and_cameras_per_trial(regdb_dir, trial, train_ids, test_ids):
    data = RegDB(root=os.path.dirname(regdb_dir), trial=trial)
    # 2 visible and 3 thermal images per identity
    assert len(data.train) == 5 * len(train_ids)
    assert sorted({item[1] for item in data.train}) == [f"RegDB_{pid}" for pid in train_ids]
    assert {(item[2], item[3]) for item in data.train} == {(1, 0), (2, 1)}
    assert len(data.query) == 2 * len(test_ids) and len(data.gallery) == 3 * len(test_ids)
    assert [item[1:4] for item in data.query] == [(pid, 1, 0) for pid in test_ids for _ in range(2)]
    assert [item[1:4] for item in data.gallery] == [(pid, 2, 1) for pid in test_ids for _ in range(3)]
    assert data.query[0][0] == os.path.join(regdb_dir, "Visible", str(test_ids[0]), f"visible_{test_ids[0]}_0.bmp")


def test_direction_swaps_query_and_gallery(regdb_dir):
    v2t = RegDB(root=os.path.dirname(regdb_dir), direction="v2t")
    t2v = RegDB(root=os.path.dirname(regdb_dir), direction="t2v")
    assert t2v.query == v2t.gallery and t2v.gallery == v2t.query
    assert v2t.test_split("t2v", 0) == (t2v.query, t2v.gallery)
    assert v2t.default_settings() == ["v2t", "t2v"] and v2t.num_trials("t2v") == 1


def test_only_trial_index_0_exists(regdb_dir):
    data = RegDB(root=os.path.dirname(regdb_dir), trial=2)
    with pytest.raises(ValueError, match=r"index 0 = split 2"):
        data.test_split("v2t", 1)
    with pytest.raises(ValueError, match=r"unknown RegDB direction 'x2y'"):
        data.test_split("x2y", 0)
    with pytest.raises(ValueError, match=r"trial 11 out of 1..10"):
        RegDB(root=os.path.dirname(regdb_dir), trial=11)


def test_built_from_config(regdb_dir):
    cfg = get_cfg()
    cfg.DATASETS.ROOT = os.path.dirname(regdb_dir)
    cfg.DATASETS.REGDB.TRIAL = 2
    cfg.DATASETS.REGDB.DIRECTION = "t2v"
    data = build_cm_dataset(cfg, "RegDB")
    assert data.trial == 2 and {item[3] for item in data.query} == {1}


def test_check_trial(caplog):
    check_trial(3, 3)
    check_trial(None, 5)
    with pytest.raises(ValueError, match=r"trained on RegDB trial 3 but is evaluated on trial 5.*FORCE_TRIAL_MISMATCH"):
        check_trial(3, 5)
    with caplog.at_level(logging.WARNING):
        check_trial(3, 5, force=True)
    assert "trained on RegDB trial 3 but is evaluated on trial 5" in caplog.text


def test_missing_split_file_is_named(regdb_dir):
    os.remove(os.path.join(regdb_dir, "idx", "test_thermal_1.txt"))
    with pytest.raises(RuntimeError, match=r"idx/test_thermal_1.txt\" is not found"):
        RegDB(root=os.path.dirname(regdb_dir))


def test_malformed_list_line_is_named(regdb_dir, trees):
    trees.write_text(os.path.join(regdb_dir, "idx", "train_visible_1.txt"),
                     "Visible/1/visible_1_0.bmp 0\nThermal/1/x.bmp 0\n")
    with pytest.raises(ValueError,
                       match=r"train_visible_1.txt:2: path 'Thermal/1/x.bmp' is not Visible/<person id>/<file>"):
        RegDB(root=os.path.dirname(regdb_dir))
    trees.write_text(os.path.join(regdb_dir, "idx", "train_visible_1.txt"), "Visible/1/visible_1_0.bmp\n")
    with pytest.raises(ValueError, match=r"train_visible_1.txt:1: expected '<relative path> <label>'"):
        RegDB(root=os.path.dirname(regdb_dir))


def test_empty_split_is_an_error(regdb_dir, trees):
    trees.write_text(os.path.join(regdb_dir, "idx", "test_visible_1.txt"), "")
    with pytest.raises(ValueError, match=r"test_visible_1.txt: the test visible split is empty"):
        RegDB(root=os.path.dirname(regdb_dir))


def test_test_id_without_thermal_image_is_named(regdb_dir, trees):
    trees.write_text(os.path.join(regdb_dir, "idx", "test_thermal_1.txt"), "Thermal/4/thermal_4_0.bmp 0\n")
    with pytest.raises(ValueError, match=r"test identities \[5\] have no thermal image"):
        RegDB(root=os.path.dirname(regdb_dir))


def test_truncated_bmp_is_found(regdb_dir):
    path = os.path.join(regdb_dir, "Thermal", "5", "thermal_5_1.bmp")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:-8])
    with pytest.raises(ValueError, match=r"thermal_5_1.bmp: truncated BMP"):
        RegDB(root=os.path.dirname(regdb_dir))
    data = RegDB(root=os.path.dirname(regdb_dir), skip_bad_images=True)
    assert [p for p, _ in data.bad_images] == [path] and len(data.gallery) == 5


def test_attributes_are_keyed_by_folder_id(regdb_dir, trees):
    trees.write_text(os.path.join(regdb_dir, "attributes.csv"),
                     "pid,a,b\n" + "".join(f"{pid},{pid % 2},{int(pid > 2)}\n" for pid in range(1, 6)))
    data = RegDB(root=os.path.dirname(regdb_dir))
    assert data.attribute_names == ["a", "b"]
    for _, pid, _, _, attributes in data.train + data.query + data.gallery:
        pid = int(str(pid).split("_")[-1])
        assert attributes.tolist() == [pid % 2, int(pid > 2)]


def test_per_camera_attributes_visible_1_thermal_2(regdb_dir, trees):
    rows = "".join(f"{pid},{cam},{pid % 2},{int(cam == 1 and pid > 2)}\n"
                   for pid in range(1, 6) for cam in (1, 2))
    trees.write_text(os.path.join(regdb_dir, "attributes.csv"), "pid,cam,a,glasses\n" + rows)
    data = RegDB(root=os.path.dirname(regdb_dir))
    seen = set()
    for path, pid, camid, _, attributes in data.train + data.query + data.gallery:
        pid = int(str(pid).split("_")[-1])
        assert path.split("/")[-3] == {1: "Visible", 2: "Thermal"}[camid]
        assert attributes.tolist() == [pid % 2, int(camid == 1 and pid > 2)]
        seen.add((camid, tuple(attributes)))
    assert (1, (1.0, 1.0)) in seen and (2, (1.0, 0.0)) in seen  # identity 3 differs between the cameras
    trees.write_text(os.path.join(regdb_dir, "attributes.csv"), "pid,cam,a,glasses\n" + rows + "4,3,0,0\n")
    with pytest.raises(ValueError, match=r"attributes.csv:12: unknown camera 3 \(the dataset's cameras are"):
        RegDB(root=os.path.dirname(regdb_dir))
