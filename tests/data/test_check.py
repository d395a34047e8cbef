import importlib.util
import os
import zlib

import cv2
import numpy as np
from scipy.io import savemat

from fastreid_ext.config import get_cfg
from fastreid_ext.data.check import CameraRow, check_dataset, format_check
from fastreid_ext.data.data_utils import check_image
from fastreid_ext.data.synthvi import make_synthvi

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SYNTHVI_CONFIG = os.path.join(REPO, "projects", "PAENet", "configs", "synthvi.yml")

# Per-camera rows of the conftest SYSU tree: identity 1 looks the same in cameras 1 and 4 but not in
# camera 3; every other identity looks the same everywhere.
VECTORS = {(1, 1): (1, 0), (1, 3): (0, 0), (1, 4): (1, 0)}


def run_tool(*args):
    path = os.path.join(REPO, "tools", "check_dataset.py")
    spec = importlib.util.spec_from_file_location("check_dataset_tool", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool.main(list(args))


def write_per_camera_csv(sysu_dir, trees, leave_out=()):
    rows = [f"{pid},{cam},{','.join(map(str, VECTORS.get((pid, cam), (pid % 2, 1))))}\n"
            for cam, pid in sorted(trees.SYSU_COUNTS) if (pid, cam) not in leave_out]
    trees.write_text(os.path.join(sysu_dir, "attributes.csv"), "pid,cam,a,b\n" + "".join(rows))


def sysu_cfg(root):
    cfg = get_cfg()
    cfg.DATASETS.ROOT = root
    cfg.DATASETS.NAMES = ("SYSUMM01",)
    cfg.DATASETS.TESTS = ("SYSUMM01",)
    return cfg


def test_rows_count_identities_images_coverage_and_disagreement(sysu_dir, trees):
    write_per_camera_csv(sysu_dir, trees, leave_out=[(5, 4)])
    result = check_dataset(sysu_cfg(os.path.dirname(sysu_dir)), "SYSUMM01")
    train = [row for row in result.rows if row.split == "train"]
    # train ids 1, 2, 3: camera pairs (1, 3): ids 1 and 3, 1 differs; (1, 4), (3, 4): id 1; (2, 6): id 2
    assert train == [CameraRow("train", "1", "visible", 2, 3, 0, 0, 1, 3),
                     CameraRow("train", "2", "visible", 1, 3, 0, 0, 0, 1),
                     CameraRow("train", "3", "infrared", 2, 3, 0, 0, 2, 3),
                     CameraRow("train", "4", "visible", 1, 1, 0, 0, 1, 2),
                     CameraRow("train", "6", "infrared", 1, 1, 0, 0, 0, 1),
                     CameraRow("train", "all", "", 3, 11, 0, 0, 2, 5)]
    gallery = {row.camera: row for row in result.rows if row.split == "gallery"}
    assert (gallery["4"].identities, gallery["4"].images, gallery["4"].without_attributes) == (2, 2, 1)
    assert gallery["all"].without_attributes == 1 and gallery["all"].differ == 0
    assert len(result.problems) == 1
    assert "attributes.csv: no attributes for identity 5 in camera 4 (image " in result.problems[0]
    text = format_check(result)
    assert "train    1       visible" in text and "1/3 (33.3%)" in text and "1 problem(s):" in text


def test_truncated_jpeg_and_identity_beyond_the_columns_are_both_named(sysu_dir, capsys):
    os.makedirs(os.path.join(sysu_dir, "attributes"))
    for cam in range(1, 7):
        width = 7 if cam == 4 else 9  # identity 8 has a cam4 folder
        savemat(os.path.join(sysu_dir, "attributes", f"cam{cam}_att.mat"),
                {f"cam{cam}_att": np.ones((8, width), np.uint8)})
    truncated = os.path.join(sysu_dir, "cam2", "0005", "0002.jpg")  # a test image, not in trial 0's gallery
    noise = np.random.default_rng(0).integers(0, 256, (64, 32, 3), dtype=np.uint8)
    assert cv2.imwrite(truncated, noise)
    with open(truncated, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[: len(data) * 3 // 4])  # the header and part of the scan: a download cut short
    root = os.path.dirname(sysu_dir)
    assert run_tool("--config-file", SYNTHVI_CONFIG, "--decode", "DATASETS.ROOT", root) == 1
    out = capsys.readouterr().out
    assert f"{truncated}: truncated JPEG (no end-of-image marker)" in out
    assert "cam4_att.mat: camera 4, identity 8 (image " in out and "W = 7" in out
    assert "2 problem(s):" in out


def test_synthvi_passes(tmp_path, capsys):
    make_synthvi(str(tmp_path), "sysu", ids=8, seed=0, images_per_camera=2, size=(32, 16), processes=1,
                 preview=False)
    assert run_tool("--config-file", SYNTHVI_CONFIG, "DATASETS.ROOT", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert f"attributes: {tmp_path}/SYSU-MM01/attributes (8 attributes, per camera)" in out
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines if line.startswith("train")] == \
        [["train", str(cam)] for cam in range(1, 7)] + [["train", "all"]]
    assert lines[-1] == "0 problem(s)"


def test_decode_finds_damage_that_headers_do_not_show(tmp_path):
    """A PNG whose compressed pixels are damaged but whose chunk checksums were recomputed: the header check
    (PIL's verify) passes, decoding fails."""
    path = str(tmp_path / "damaged.png")
    assert cv2.imwrite(path, np.random.default_rng(0).integers(0, 256, (16, 8, 3), dtype=np.uint8))
    with open(path, "rb") as f:
        data = bytearray(f.read())
    start = data.index(b"IDAT")
    length = int.from_bytes(data[start - 4:start], "big")
    data[start + 4 + length // 2:start + 4 + length] = bytes(length - length // 2)
    crc = zlib.crc32(bytes(data[start:start + 4 + length]))
    data[start + 4 + length:start + 8 + length] = crc.to_bytes(4, "big")
    with open(path, "wb") as f:
        f.write(bytes(data))
    assert check_image(path) is None
    assert check_image(path, decode=True).startswith("undecodable (")
