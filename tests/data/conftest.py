"""Tiny dataset trees in the real SYSU-MM01 / RegDB / LLCM layouts, written by hand with cv2."""
import os
import types

import cv2
import numpy as np
import pytest

import fastreid_ext  # noqa: F401  (shims before fastreid)


def write_image(path, value=(40, 80, 120), size=(8, 4), gray=False):
    """A constant (H, W) = ``size`` image; ``value`` is RGB (``gray``: one channel of ``value[0]``)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    h, w = size
    image = np.full((h, w), value[0], np.uint8) if gray else np.full((h, w, 3), value[::-1], np.uint8)
    assert cv2.imwrite(path, image)
    return path


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


# (camera, person id) -> number of images; cameras 3 and 6 are infrared.
SYSU_TRAIN_IDS, SYSU_VAL_IDS, SYSU_TEST_IDS = (1, 2), (3,), (5, 6, 8)
SYSU_COUNTS = {
    (1, 1): 2, (3, 1): 2, (4, 1): 1,
    (2, 2): 3, (6, 2): 1,
    (1, 3): 1, (3, 3): 1,
    (1, 5): 3, (2, 5): 2, (3, 5): 2, (4, 5): 12, (5, 5): 1, (6, 5): 1,
    (1, 6): 4, (3, 6): 1, (5, 6): 2,
    (2, 8): 1, (4, 8): 2, (6, 8): 3,
}


def build_sysu(root, counts=SYSU_COUNTS, train_ids=SYSU_TRAIN_IDS, val_ids=SYSU_VAL_IDS, test_ids=SYSU_TEST_IDS):
    """Write ``<root>/SYSU-MM01``; returns its path."""
    base = os.path.join(str(root), "SYSU-MM01")
    for cam in range(1, 7):
        os.makedirs(os.path.join(base, f"cam{cam}"), exist_ok=True)
    for (cam, pid), n in counts.items():
        for k in range(1, n + 1):
            write_image(os.path.join(base, f"cam{cam}", f"{pid:04d}", f"{k:04d}.jpg"),
                        value=(10 * k, cam, pid), gray=cam in (3, 6))
    for name, ids in (("train", train_ids), ("val", val_ids), ("test", test_ids)):
        write_text(os.path.join(base, "exp", f"{name}_id.txt"), ",".join(map(str, ids)) + "\n")
    return base


def build_regdb(root, splits, n_visible=2, n_thermal=3):
    """Write ``<root>/RegDB`` with ``splits``: trial -> (train ids, test ids); returns its path."""
    base = os.path.join(str(root), "RegDB")
    for trial, (train_ids, test_ids) in splits.items():
        for split, ids in (("train", train_ids), ("test", test_ids)):
            for folder, word, n in (("Visible", "visible", n_visible), ("Thermal", "thermal", n_thermal)):
                lines = []
                for label, pid in enumerate(ids):
                    for k in range(n):
                        rel = f"{folder}/{pid}/{word}_{pid}_{k}.bmp"
                        if not os.path.exists(os.path.join(base, rel)):
                            write_image(os.path.join(base, rel), value=(pid, k, 7), gray=folder == "Thermal")
                        lines.append(f"{rel} {label}\n")
                write_text(os.path.join(base, "idx", f"{split}_{word}_{trial}.txt"), "".join(lines))
    return base


LLCM_VIS_CAMS, LLCM_NIR_CAMS = tuple(range(1, 10)), (1, 2, 4, 5, 6, 7, 8, 9)
# (folder, camera, person id) -> number of test images
LLCM_TEST_COUNTS = {
    ("test_vis", 1, 11): 2, ("test_vis", 3, 11): 3, ("test_vis", 9, 11): 1,
    ("test_nir", 2, 11): 2, ("test_nir", 8, 11): 1,
    ("test_vis", 2, 12): 1, ("test_vis", 5, 12): 4,
    ("test_nir", 1, 12): 3, ("test_nir", 4, 12): 2, ("test_nir", 9, 12): 2,
}
# (list, camera, person id) -> number of training images
LLCM_TRAIN_COUNTS = {("vis", 1, 1): 2, ("vis", 6, 1): 1, ("nir", 2, 1): 2,
                     ("vis", 3, 2): 1, ("nir", 7, 2): 3}


def build_llcm(root, test_counts=LLCM_TEST_COUNTS, train_counts=LLCM_TRAIN_COUNTS, test_ids=(11, 12)):
    """Write ``<root>/LLCM``; returns its path."""
    base = os.path.join(str(root), "LLCM")
    for folder, cams in (("test_vis", LLCM_VIS_CAMS), ("test_nir", LLCM_NIR_CAMS)):
        for cam in cams:
            os.makedirs(os.path.join(base, folder, f"cam{cam}"), exist_ok=True)
    for (folder, cam, pid), n in test_counts.items():
        for k in range(n):
            write_image(os.path.join(base, folder, f"cam{cam}", f"{pid:04d}", f"{pid:04d}_c{cam:02d}_{k:04d}.jpg"),
                        value=(k, cam, pid), gray=folder == "test_nir")
    lines = {"vis": [], "nir": []}
    for (modality, cam, pid), n in train_counts.items():
        for k in range(n):
            rel = f"train_{modality}/cam{cam}/{pid:04d}/{pid:04d}_c{cam:02d}_{k:04d}.jpg"
            write_image(os.path.join(base, rel), value=(k, cam, pid), gray=modality == "nir")
            lines[modality].append(f"{rel} {pid - 1}\n")
    for modality, text in lines.items():
        write_text(os.path.join(base, "idx", f"train_{modality}.txt"), "".join(text))
    write_text(os.path.join(base, "idx", "test_id.txt"), ",".join(map(str, test_ids)) + "\n")
    return base


@pytest.fixture
def sysu_dir(tmp_path):
    return build_sysu(tmp_path)


@pytest.fixture
def regdb_dir(tmp_path):
    return build_regdb(tmp_path, {1: ((1, 2, 3), (4, 5)), 2: ((3, 4, 5), (1, 2))})


@pytest.fixture
def llcm_dir(tmp_path):
    return build_llcm(tmp_path)


@pytest.fixture
def trees():
    """The builders and layouts above, for tests that change a tree or write their own."""
    return types.SimpleNamespace(
        write_image=write_image, write_text=write_text, build_sysu=build_sysu, build_regdb=build_regdb,
        build_llcm=build_llcm, SYSU_COUNTS=SYSU_COUNTS, LLCM_TEST_COUNTS=LLCM_TEST_COUNTS,
        LLCM_TRAIN_COUNTS=LLCM_TRAIN_COUNTS)
