import os

import pytest

from fastreid_ext.search.sources import (
    UNKNOWN,
    dataset_items,
    image_items,
    list_image_files,
    modality_code,
    parse_camera_and_pid,
)


def test_parse_camera_and_pid():
    assert parse_camera_and_pid("/data/SYSU-MM01/cam3/0107/0004.jpg") == (3, 107)
    assert parse_camera_and_pid("cam6/0012/0001.png") == (6, 12)
    assert parse_camera_and_pid("C:\\data\\cam1\\0002\\0010.jpg") == (1, 2)
    for path in ("/data/crops/0001.jpg", "/data/webcam3/0107/0004.jpg", "/data/cam3/x107/0004.jpg"):
        assert parse_camera_and_pid(path) == (UNKNOWN, UNKNOWN), path


def test_image_items_walk_folders_in_name_order(tmp_path):
    for name in ("b/cam2/0005/0001.jpg", "b/cam1/0005/0002.png", "a.bmp", "notes.txt", "b/cam1/0005/0001.JPG"):
        os.makedirs(os.path.dirname(tmp_path / name), exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    items = image_items([str(tmp_path / "b"), str(tmp_path / "a.bmp")], 1)
    assert items == [(str(tmp_path / "b/cam1/0005/0001.JPG"), 5, 1, 1, None),
                     (str(tmp_path / "b/cam1/0005/0002.png"), 5, 1, 1, None),
                     (str(tmp_path / "b/cam2/0005/0001.jpg"), 5, 2, 1, None),
                     (str(tmp_path / "a.bmp"), UNKNOWN, UNKNOWN, 1, None)]
    with pytest.raises(FileNotFoundError, match="no such image file or folder: .*missing"):
        list_image_files([str(tmp_path / "missing")])
    os.makedirs(tmp_path / "empty")
    with pytest.raises(ValueError, match="no image file \\(extensions .jpg, .jpeg, .png, .bmp\\) in"):
        list_image_files([str(tmp_path / "empty")])


def test_modality_code():
    assert (modality_code("visible"), modality_code("infrared")) == (0, 1)
    with pytest.raises(ValueError, match="unknown modality 'thermal': expected one of \\['infrared', 'visible'\\]"):
        modality_code("thermal")


def test_dataset_items_split_names_are_checked():
    with pytest.raises(ValueError, match="unknown split 'train': expected one of \\('query', 'gallery'\\)"):
        dataset_items(None, "SYSUMM01", "train", "all-1shot-seeded", 0)
