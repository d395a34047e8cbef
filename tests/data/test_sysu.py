import os
import random

import numpy as np
import pytest
from scipy.io import savemat

from fastreid_ext.config import get_cfg
from fastreid_ext.data.build import build_cm_dataset
from fastreid_ext.data.datasets import INFRARED, SYSUMM01, Item
from fastreid_ext.utils import DatasetError


def public_seeded_gallery(base, test_ids, mode, shots, trial):
    """The public evaluation code's draw, written out as it does it."""
    random.seed(trial)
    cameras = ["cam1", "cam2", "cam4", "cam5"] if mode == "all" else ["cam1", "cam2"]
    ids = [f"{x:04d}" for x in test_ids]
    files = []
    for pid in sorted(ids):
        for cam in cameras:
            img_dir = os.path.join(base, cam, pid)
            if os.path.isdir(img_dir):
                new_files = sorted([img_dir + "/" + i for i in os.listdir(img_dir)])
                if shots == 1:
                    files.append(random.choice(new_files))
                else:
                    files.extend(random.sample(new_files, min(10, len(new_files))))
    return [(f, int(f.split("/")[-2]), int(f.split("/")[-3][3:])) for f in files]


def test_train_is_train_and_val_ids_with_all_cameras(sysu_dir, trees):
    data = SYSUMM01(root=os.path.dirname(sysu_dir))
    expected = sorted((os.path.join(sysu_dir, f"cam{cam}", f"{pid:04d}", f"{k:04d}.jpg"), f"SYSUMM01_{pid}", cam,
                       int(cam in (3, 6)))
                      for (cam, pid), n in trees.SYSU_COUNTS.items() if pid in (1, 2, 3) for k in range(1, n + 1))
    assert sorted(item[:4] for item in data.train) == expected
    assert all(item[4] is None for item in data.train) and data.attribute_names is None


def test_query_is_every_infrared_image_of_the_test_ids(sysu_dir):
    data = SYSUMM01(root=os.path.dirname(sysu_dir))
    expected = [(os.path.join(sysu_dir, f"cam{cam}", f"{pid:04d}", f"{k:04d}.jpg"), pid, cam, 1)
                for pid, cam, n in ((5, 3, 2), (5, 6, 1), (6, 3, 1), (8, 6, 3)) for k in range(1, n + 1)]
    assert [item[:4] for item in data.query] == expected


@pytest.mark.parametrize("mode", ["all", "indoor"])
@pytest.mark.parametrize("shots", [1, 10])
def test_seeded_gallery_is_the_public_draw_for_all_trials(sysu_dir, mode, shots):
    data = SYSUMM01(root=os.path.dirname(sysu_dir), mode=mode, shots=shots, check_images=False)
    for trial in range(10):
        query, gallery = data.test_split(f"{mode}-{shots}shot-seeded", trial)
        assert [g[:3] for g in gallery] == public_seeded_gallery(sysu_dir, (5, 6, 8), mode, shots, trial)
        assert {g[3] for g in gallery} == {0}
        assert query == data.query
    assert [g[:3] for g in data.gallery] == public_seeded_gallery(sysu_dir, (5, 6, 8), mode, shots, 0)


def test_seeded_draw_leaves_the_global_rng_alone(sysu_dir):
    random.seed(123)
    expected = random.random()
    random.seed(123)
    SYSUMM01(root=os.path.dirname(sysu_dir), trial=4)
    assert random.random() == expected


def write_rand_perm(sysu_dir, perms, num_ids=9):
    """perms: (camera, pid) -> 10 x n array of 1-based image numbers."""
    cameras = np.empty((6, 1), dtype=object)
    for cam in range(1, 7):
        per_id = np.empty((num_ids, 1), dtype=object)
        for pid in range(1, num_ids + 1):
            per_id[pid - 1, 0] = np.asarray(perms.get((cam, pid), np.zeros((0, 0))), dtype=np.float64)
        cameras[cam - 1, 0] = per_id
    savemat(os.path.join(sysu_dir, "exp", "rand_perm_cam.mat"), {"rand_perm_cam": cameras})


@pytest.mark.parametrize("shots", [1, 10])
def test_official_gallery_follows_rand_perm_cam(sysu_dir, trees, shots):
    # Row r of each 10 x n array: the image numbers rotated by r.
    perms = {key: np.array([np.roll(np.arange(1, n + 1), -r) for r in range(10)])
             for key, n in trees.SYSU_COUNTS.items() if key[1] in (5, 6, 8)}
    write_rand_perm(sysu_dir, perms)
    data = SYSUMM01(root=os.path.dirname(sysu_dir), shots=shots, sampler="official", trial=3)
    assert data.default_settings() == ["all-1shot-seeded", "indoor-1shot-seeded",
                                       "all-1shot-official", "indoor-1shot-official"]
    for trial in (0, 3, 9):
        _, gallery = data.test_split(f"all-{shots}shot-official", trial)
        expected = [(os.path.join(sysu_dir, f"cam{cam}", f"{pid:04d}", f"{int(k):04d}.jpg"), pid, cam)
                    for pid in (5, 6, 8) for cam in (1, 2, 4, 5) if (cam, pid) in perms
                    for k in perms[cam, pid][trial][:shots]]
        assert [g[:3] for g in gallery] == expected
    assert data.gallery == data.test_split(f"all-{shots}shot-official", 3)[1]


def test_official_gallery_names_a_missing_image(sysu_dir):
    write_rand_perm(sysu_dir, {(1, 5): np.full((10, 1), 7)})
    data = SYSUMM01(root=os.path.dirname(sysu_dir))
    with pytest.raises(FileNotFoundError, match=r"camera 1, identity 5 names image 7.*cam1/0005/0007.jpg"):
        data.test_split("all-1shot-official", 0)


def test_settings_and_trials(sysu_dir):
    data = SYSUMM01(root=os.path.dirname(sysu_dir))
    assert data.name == "SYSUMM01"
    assert data.default_settings() == ["all-1shot-seeded", "indoor-1shot-seeded"]
    assert data.num_trials("indoor-10shot-seeded") == 10
    with pytest.raises(ValueError, match="unknown SYSU-MM01 setting 'all-3shot-seeded'"):
        data.test_split("all-3shot-seeded", 0)
    with pytest.raises(ValueError, match="trial 10 out of range"):
        data.test_split("all-1shot-seeded", 10)
    with pytest.raises(FileNotFoundError, match="rand_perm_cam.mat"):
        data.test_split("all-1shot-official", 0)


def test_built_from_config(sysu_dir):
    cfg = get_cfg()
    cfg.DATASETS.ROOT = os.path.dirname(sysu_dir)
    cfg.DATASETS.SYSU.MODE = "indoor"
    cfg.DATASETS.SYSU.SHOTS = 10
    cfg.DATASETS.SYSU.TRIAL = 7
    data = build_cm_dataset(cfg, "SYSUMM01")
    assert [g[:3] for g in data.gallery] == public_seeded_gallery(sysu_dir, (5, 6, 8), "indoor", 10, 7)


def test_missing_split_file_is_named(sysu_dir):
    os.remove(os.path.join(sysu_dir, "exp", "val_id.txt"))
    with pytest.raises(FileNotFoundError, match=r"exp/val_id.txt is not found"):
        SYSUMM01(root=os.path.dirname(sysu_dir))


def test_missing_camera_folder_is_named(sysu_dir):
    os.rename(os.path.join(sysu_dir, "cam5"), os.path.join(sysu_dir, "cam5_moved"))
    with pytest.raises(RuntimeError, match=r"SYSU-MM01/cam5\" is not found"):
        SYSUMM01(root=os.path.dirname(sysu_dir))


def test_missing_dataset_folder_names_datasets_root(tmp_path):
    with pytest.raises(DatasetError, match=rf"\"{tmp_path}/SYSU-MM01\" is not found: set DATASETS.ROOT "
                                           rf"\(now '{tmp_path}'\) to the folder that holds SYSU-MM01/"):
        SYSUMM01(root=str(tmp_path))


def test_empty_split_is_an_error(sysu_dir, trees):
    trees.write_text(os.path.join(sysu_dir, "exp", "test_id.txt"), "\n")
    with pytest.raises(ValueError, match=r"exp/test_id.txt: empty split"):
        SYSUMM01(root=os.path.dirname(sysu_dir))


def test_bad_id_token_names_the_file(sysu_dir, trees):
    trees.write_text(os.path.join(sysu_dir, "exp", "train_id.txt"), "1,2,x3\n")
    with pytest.raises(ValueError, match=r"train_id.txt:1: person id 'x3' is not an integer"):
        SYSUMM01(root=os.path.dirname(sysu_dir))


def test_test_id_without_infrared_image_is_named(tmp_path, trees):
    counts = {key: n for key, n in trees.SYSU_COUNTS.items() if key not in ((3, 6),)}
    base = trees.build_sysu(tmp_path, counts=counts)
    with pytest.raises(ValueError, match=r"test identity 6 has no infrared image"):
        SYSUMM01(root=os.path.dirname(base))


def test_identity_in_train_and_test_is_an_error(tmp_path, trees):
    base = trees.build_sysu(tmp_path, val_ids=(3, 5))
    with pytest.raises(ValueError, match=r"identities \[5\] are in both"):
        SYSUMM01(root=os.path.dirname(base))


def test_truncated_and_unreadable_images(sysu_dir):
    truncated = os.path.join(sysu_dir, "cam4", "0005", "0003.jpg")
    with open(truncated, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[:-2])  # drop the end-of-image marker
    garbage = os.path.join(sysu_dir, "cam1", "0001", "0002.jpg")
    with open(garbage, "wb") as f:
        f.write(b"not an image at all")
    root = os.path.dirname(sysu_dir)
    with pytest.raises(ValueError, match=r"2 unreadable or truncated image\(s\)") as error:
        SYSUMM01(root=root)
    assert f"{truncated}: truncated JPEG" in str(error.value) and f"{garbage}: unreadable" in str(error.value)

    dataset = SYSUMM01(root=root, skip_bad_images=True, shots=10)
    assert sorted(p for p, _ in dataset.bad_images) == sorted([truncated, garbage])
    paths = {item[0] for item in dataset.train + dataset.gallery}
    assert truncated not in paths and garbage not in paths
    assert len([g for g in dataset.gallery if g[1:3] == (5, 4)]) == 10  # 11 good images left, 10 drawn
    assert SYSUMM01(root=root, check_images=False).bad_images == []


def test_items_are_named_tuples(sysu_dir):
    data = SYSUMM01(root=os.path.dirname(sysu_dir))
    item = data.query[0]
    assert type(item) is Item and isinstance(item, tuple)
    assert (item.img_path, item.pid, item.camid, item.modality, item.attributes) == tuple(item)
    assert item.modality == INFRARED and item.camid in (3, 6) and data.train[0].pid.startswith("SYSUMM01_")
