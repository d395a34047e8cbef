import logging
import os
import random
import shutil

import pytest

from fastreid_ext.config import get_cfg
from fastreid_ext.data.build import build_cm_dataset
from fastreid_ext.data.datasets import LLCM

VIS = [f"test_vis/cam{c}" for c in (1, 2, 3, 4, 5, 6, 7, 8, 9)]
NIR = [f"test_nir/cam{c}" for c in (1, 2, 4, 5, 6, 7, 8, 9)]


def authors_query(base, cameras, ids=(11, 12)):
    files = []
    for pid in sorted(f"{x:04d}" for x in ids):
        for cam in cameras:
            img_dir = os.path.join(base, cam, pid)
            if os.path.isdir(img_dir):
                files.extend(sorted([img_dir + "/" + i for i in os.listdir(img_dir)]))
    return files


def authors_gallery(base, cameras, trial, ids=(11, 12)):
    random.seed(trial)
    files = []
    for pid in sorted(f"{x:04d}" for x in ids):
        for cam in cameras:
            img_dir = os.path.join(base, cam, pid)
            if os.path.isdir(img_dir):
                files.append(random.choice(sorted([img_dir + "/" + i for i in os.listdir(img_dir)])))
    return files


@pytest.mark.parametrize("direction, query_cams, gallery_cams, modalities",
                         [("v2t", VIS, NIR, (0, 1)), ("t2v", NIR, VIS, (1, 0))])
def test_query_and_gallery_follow_the_authors_protocol(llcm_dir, direction, query_cams, gallery_cams, modalities):
    data = LLCM(root=os.path.dirname(llcm_dir), direction=direction)
    assert data.num_trials(direction) == 10
    for trial in range(10):
        query, gallery = data.test_split(direction, trial)
        assert [q[0] for q in query] == authors_query(llcm_dir, query_cams)
        assert [g[0] for g in gallery] == authors_gallery(llcm_dir, gallery_cams, trial)
        for item, modality in [(q, modalities[0]) for q in query] + [(g, modalities[1]) for g in gallery]:
            folder, cam, pid = item[0].split("/")[-4:-1]
            assert item[1:4] == (int(pid), int(cam[3:]), modality)
    assert data.query == data.test_split(direction, 0)[0] and data.gallery == data.test_split(direction, 0)[1]


def test_counts_and_direction_swap(llcm_dir):
    v2t = LLCM(root=os.path.dirname(llcm_dir), trial=5)
    t2v = LLCM(root=os.path.dirname(llcm_dir), trial=5, direction="t2v")
    # test ids 11, 12: visible images 2+3+1 + 1+4, infrared 2+1 + 3+2+2; one gallery image per (id, camera)
    assert (len(v2t.query), len(v2t.gallery)) == (11, 5)
    assert (len(t2v.query), len(t2v.gallery)) == (10, 5)
    assert {q[0] for q in t2v.query} == {p for p in authors_query(llcm_dir, NIR)}
    assert v2t.default_settings() == ["v2t", "t2v"]


def test_train_items(llcm_dir, trees):
    data = LLCM(root=os.path.dirname(llcm_dir))
    expected = sorted((f"LLCM_{pid}", cam, int(m == "nir"))
                      for (m, cam, pid), n in trees.LLCM_TRAIN_COUNTS.items() for _ in range(n))
    assert sorted(item[1:4] for item in data.train) == expected
    assert all(os.path.isfile(item[0]) for item in data.train)


def test_built_from_config(llcm_dir):
    cfg = get_cfg()
    cfg.DATASETS.ROOT = os.path.dirname(llcm_dir)
    cfg.DATASETS.LLCM.TRIAL = 3
    cfg.DATASETS.LLCM.DIRECTION = "t2v"
    data = build_cm_dataset(cfg, "LLCM")
    assert [g[0] for g in data.gallery] == authors_gallery(llcm_dir, VIS, 3)


def test_missing_modality_folder_is_an_error_and_missing_camera_folder_a_warning(llcm_dir, caplog):
    os.rmdir(os.path.join(llcm_dir, "test_nir", "cam6"))
    with caplog.at_level(logging.WARNING):
        data = LLCM(root=os.path.dirname(llcm_dir))
    assert "no camera folder " + os.path.join(llcm_dir, "test_nir", "cam6") + ";" in caplog.text
    assert len(data.gallery) == 5
    shutil.rmtree(os.path.join(llcm_dir, "test_nir"))
    with pytest.raises(RuntimeError, match=r"LLCM/test_nir\" is not found"):
        LLCM(root=os.path.dirname(llcm_dir))


def test_missing_split_file_is_named(llcm_dir):
    os.remove(os.path.join(llcm_dir, "idx", "train_nir.txt"))
    with pytest.raises(RuntimeError, match=r"idx/train_nir.txt\" is not found"):
        LLCM(root=os.path.dirname(llcm_dir))


def test_test_id_without_infrared_image_is_named(tmp_path, trees):
    counts = {k: n for k, n in trees.LLCM_TEST_COUNTS.items() if not (k[0] == "test_nir" and k[2] == 12)}
    base = trees.build_llcm(tmp_path, test_counts=counts)
    with pytest.raises(ValueError, match=r"test identity 12 has no infrared image in test_nir/cam\*/0012"):
        LLCM(root=os.path.dirname(base))


def test_empty_split_is_an_error(llcm_dir, trees):
    trees.write_text(os.path.join(llcm_dir, "idx", "train_vis.txt"), "\n")
    with pytest.raises(ValueError, match=r"train_vis.txt: the train split is empty"):
        LLCM(root=os.path.dirname(llcm_dir))


def test_malformed_training_path_is_named(llcm_dir, trees):
    trees.write_text(os.path.join(llcm_dir, "idx", "train_nir.txt"), "train_nir/0001/a.jpg 0\n")
    with pytest.raises(ValueError, match=r"train_nir.txt:1: path 'train_nir/0001/a.jpg' is not"):
        LLCM(root=os.path.dirname(llcm_dir))


def test_unreadable_test_image_is_left_out_when_asked(llcm_dir):
    bad = os.path.join(llcm_dir, "test_vis", "cam3", "0011", "0011_c03_0001.jpg")
    with open(bad, "wb") as f:
        f.write(b"\xff\xd8 broken")
    with pytest.raises(ValueError, match=r"0011_c03_0001.jpg: unreadable"):
        LLCM(root=os.path.dirname(llcm_dir))
    data = LLCM(root=os.path.dirname(llcm_dir), skip_bad_images=True)
    assert bad not in {q[0] for q in data.query} and len(data.query) == 10


def test_per_camera_attributes_follow_the_camera_number(llcm_dir, trees):
    def vector(pid, cam):
        return [cam % 2, pid % 2, int(cam > 4)]

    rows = "".join(f"{pid},{cam},{','.join(map(str, vector(pid, cam)))}\n"
                   for pid in (1, 2, 11, 12) for cam in range(1, 10))
    trees.write_text(os.path.join(llcm_dir, "attributes.csv"), "pid,cam,a,b,c\n" + rows)
    data = LLCM(root=os.path.dirname(llcm_dir))
    items = data.train + [item for setting in ("v2t", "t2v")
                          for split in data.test_split(setting, 0) for item in split]
    assert {item[3] for item in items} == {0, 1}
    for path, pid, camid, _, attributes in items:
        assert f"/cam{camid}/" in path and attributes.tolist() == vector(int(str(pid).split("_")[-1]), camid)
