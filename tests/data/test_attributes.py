import os
import runpy
import sys

import numpy as np
import pytest
from scipy.io import loadmat, savemat

from fastreid_ext.data.datasets import SYSUMM01
from fastreid_ext.data.datasets.attributes import (
    PAPER_ATTRIBUTES,
    attribute_matrices,
    read_attribute_csv,
    read_attribute_mats,
)

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "convert_attributes.py")

# Hand-written identity attributes of the SYSU tree's ids 1, 2, 3, 5, 6, 8 (3 named attributes).
CSV_ROWS = {1: (1, 0, 1), 2: (0, 0, 0), 3: (1, 1, 1), 5: (0, 1, 0), 6: (1, 0, 0), 8: (0, 0, 1)}


def write_csv(path, rows=CSV_ROWS, header="pid,gender,glasses,backpack"):
    """``rows``: pid or (pid, cam) -> values."""
    with open(path, "w") as f:
        f.write(header + "\n")
        for key, values in rows.items():
            f.write(",".join(map(str, (*(key if isinstance(key, tuple) else (key,)), *values))) + "\n")


def test_csv_names_and_values_come_from_the_file(tmp_path):
    path = str(tmp_path / "attributes.csv")
    write_csv(path, {4: (1, 0), 9: (0, 1)}, header="pid,hat,scarf")
    table = read_attribute_csv(path)
    assert table.names == ["hat", "scarf"] and not table.per_camera
    assert sorted(table.vectors) == [(None, 4), (None, 9)]
    assert table.vector(1, 4).dtype == np.float32 and table.vector(1, 4).tolist() == [1.0, 0.0]
    assert table.vector(5, 9).tolist() == [0.0, 1.0]  # the plain form holds in every camera


def test_sysu_items_carry_their_identity_attributes(sysu_dir):
    write_csv(os.path.join(sysu_dir, "attributes.csv"))
    data = SYSUMM01(root=os.path.dirname(sysu_dir))
    assert data.attribute_names == ["gender", "glasses", "backpack"]
    for _, pid, _, _, attributes in data.train + data.query + data.gallery:
        assert attributes.tolist() == list(CSV_ROWS[int(str(pid).split("_")[-1])])


def test_empty_option_means_no_attributes(sysu_dir):
    write_csv(os.path.join(sysu_dir, "attributes.csv"))
    data = SYSUMM01(root=os.path.dirname(sysu_dir), attributes="")
    assert data.attribute_names is None and all(item[4] is None for item in data.train)


def test_identity_missing_from_the_csv_is_named(sysu_dir):
    write_csv(os.path.join(sysu_dir, "attributes.csv"), {k: v for k, v in CSV_ROWS.items() if k != 6})
    with pytest.raises(ValueError, match=r"attributes.csv: no attributes for identity 6 \(image .*/0006/"):
        SYSUMM01(root=os.path.dirname(sysu_dir))


def test_unknown_identity_in_the_csv_is_named(sysu_dir):
    write_csv(os.path.join(sysu_dir, "attributes.csv"), {**CSV_ROWS, 7: (0, 0, 0)})
    with pytest.raises(ValueError, match=r"attributes.csv: unknown identities \[7\]"):
        SYSUMM01(root=os.path.dirname(sysu_dir))


@pytest.mark.parametrize("bad", ["2", "0.5", "yes", ""])
def test_value_other_than_0_or_1_names_file_line_and_attribute(sysu_dir, bad):
    path = os.path.join(sysu_dir, "attributes.csv")
    write_csv(path)
    with open(path) as f:
        lines = f.readlines()
    lines[3] = f"3,1,{bad},1\n"
    with open(path, "w") as f:
        f.writelines(lines)
    with pytest.raises(ValueError, match=rf"attributes.csv:4: attribute 'glasses' of identity 3 is '{bad}'"):
        SYSUMM01(root=os.path.dirname(sysu_dir))


def test_wrong_column_count_and_duplicate_rows(tmp_path):
    path = str(tmp_path / "a.csv")
    with open(path, "w") as f:
        f.write("pid,a,b\n1,0,1\n2,1\n")
    with pytest.raises(ValueError, match=r"a.csv:3: expected 3 columns, got 2"):
        read_attribute_csv(path)
    with open(path, "w") as f:
        f.write("pid,a\n1,0\n1,1\n")
    with pytest.raises(ValueError, match=r"a.csv:3: identity 1 appears twice \(first on line 2\)"):
        read_attribute_csv(path)


# The released per-camera files for the SYSU tree of conftest (ids 1, 2, 3, 5, 6, 8; camera -> ids with a
# folder: 1: 1 3 5 6, 2: 2 5 8, 3: 1 3 5 6, 4: 1 5 8, 5: 5 6, 6: 2 5 8). W of each camera exceeds its folder
# count; cameras 2 and 4 also label ids beyond their largest folder id.
WIDTHS = {1: 6, 2: 10, 3: 6, 4: 9, 5: 6, 6: 8}


def released_vector(cam, pid):
    """8 hand-chosen bits of identity ``pid`` in camera ``cam``: equal in cameras 1 and 3 for identity 6,
    all zero for identity 3 in camera 1 and identity 5 in camera 5, different between cameras otherwise."""
    if (cam, pid) in ((1, 3), (5, 5)):
        return [0] * 8
    code = pid * 37 if pid == 6 and cam in (1, 3) else pid * 37 + cam * 29
    return [(code >> bit) & 1 for bit in range(8)]


def write_released_mats(mat_dir, widths=WIDTHS, vector=released_vector):
    os.makedirs(mat_dir, exist_ok=True)
    for cam, width in widths.items():
        matrix = np.array([vector(cam, pid) for pid in range(1, width + 1)], dtype=np.uint8).T
        savemat(os.path.join(mat_dir, f"cam{cam}_att.mat"), {f"cam{cam}_att": matrix})


def run_convert(monkeypatch, mat_dir, out):
    monkeypatch.setattr(sys, "argv", [TOOL, "--mat-dir", mat_dir, "--out", out])
    runpy.run_path(TOOL, run_name="__main__")


def assert_items_follow_the_released_columns(data, mat_dir):
    """Every item's vector is column pid - 1 of its own camera's file, read here with scipy alone."""
    released = {cam: loadmat(os.path.join(mat_dir, f"cam{cam}_att.mat"))[f"cam{cam}_att"] for cam in WIDTHS}
    items = data.train + data.query + data.gallery
    for path, pid, camid, _, attributes in items:
        pid = int(str(pid).split("_")[-1])
        assert f"cam{camid}/{pid:04d}/" in path
        assert attributes.dtype == np.float32, path
        assert attributes.tolist() == released[camid][:, pid - 1].tolist(), path
    by_identity = {}
    for _, pid, camid, _, attributes in items:
        by_identity.setdefault(int(str(pid).split("_")[-1]), {})[camid] = tuple(attributes)
    assert len(set(by_identity[5].values())) == 6  # one identity, six cameras, six different vectors
    assert by_identity[6][1] == by_identity[6][3] and by_identity[3][1] == (0.0,) * 8


def test_released_mat_folder_gives_every_item_its_own_camera_column(sysu_dir):
    mat_dir = os.path.join(sysu_dir, "attribute")
    write_released_mats(mat_dir)
    data = SYSUMM01(root=os.path.dirname(sysu_dir), attributes="attribute")
    assert data.attribute_names == list(PAPER_ATTRIBUTES)
    assert_items_follow_the_released_columns(data, mat_dir)


def test_converted_csv_gives_the_same_vectors(sysu_dir, monkeypatch, capsys):
    mat_dir, out = os.path.join(sysu_dir, "attribute"), os.path.join(sysu_dir, "attributes.csv")
    write_released_mats(mat_dir)
    run_convert(monkeypatch, mat_dir, out)
    assert f"wrote {sum(WIDTHS.values())} (identity, camera) rows" in capsys.readouterr().out
    with open(out) as f:
        lines = f.read().splitlines()
    assert lines[0] == "pid,cam," + ",".join(PAPER_ATTRIBUTES)
    assert lines[1] == "1,1," + ",".join(map(str, released_vector(1, 1)))
    assert "3,1,0,0,0,0,0,0,0,0" in lines  # an all-zero column is a vector, kept
    data = SYSUMM01(root=os.path.dirname(sysu_dir))
    assert_items_follow_the_released_columns(data, mat_dir)


def test_layout_written_back_is_the_released_one(sysu_dir):
    mat_dir = os.path.join(sysu_dir, "attribute")
    write_released_mats(mat_dir)
    matrices = attribute_matrices(read_attribute_mats(mat_dir))
    for cam, width in WIDTHS.items():
        released = loadmat(os.path.join(mat_dir, f"cam{cam}_att.mat"))[f"cam{cam}_att"]
        assert matrices[cam].dtype == np.uint8 and matrices[cam].shape == (8, width)
        np.testing.assert_array_equal(matrices[cam], released)


def test_identity_beyond_the_columns_names_file_camera_identity_and_width(sysu_dir):
    write_released_mats(os.path.join(sysu_dir, "attribute"), {**WIDTHS, 4: 7})
    with pytest.raises(ValueError, match=r"cam4_att.mat: camera 4, identity 8 "
                                         r"\(image .*cam4/0008/000\d.jpg\): cam4_att has W = 7 identity"):
        SYSUMM01(root=os.path.dirname(sysu_dir), attributes="attribute")


def test_value_of_2_names_file_column_and_identity(sysu_dir):
    def vector(cam, pid):
        return [2, 0, 0, 0, 0, 0, 0, 1] if (cam, pid) == (3, 5) else released_vector(cam, pid)

    write_released_mats(os.path.join(sysu_dir, "attribute"), vector=vector)
    with pytest.raises(ValueError, match=r"cam3_att.mat: column 4 of cam3_att \(identity 5\) holds "
                                         r"\[2, 0, 0, 0, 0, 0, 0, 1\]; attributes must be 0 or 1"):
        SYSUMM01(root=os.path.dirname(sysu_dir), attributes="attribute")


def test_missing_variable_is_named(sysu_dir):
    mat_dir = os.path.join(sysu_dir, "attribute")
    write_released_mats(mat_dir)
    savemat(os.path.join(mat_dir, "cam2_att.mat"), {"att": np.zeros((8, 10), np.uint8)})
    with pytest.raises(ValueError, match=r"cam2_att.mat: no variable 'cam2_att' \(found \['att'\]\)"):
        SYSUMM01(root=os.path.dirname(sysu_dir), attributes="attribute")


def test_missing_camera_file_and_wrong_shape_are_named(sysu_dir):
    mat_dir = os.path.join(sysu_dir, "attribute")
    write_released_mats(mat_dir, {cam: w for cam, w in WIDTHS.items() if cam != 5})
    with pytest.raises(FileNotFoundError, match=r"cam5_att.mat is not found \(camera 5, identity 5 \(image "):
        SYSUMM01(root=os.path.dirname(sysu_dir), attributes="attribute")
    savemat(os.path.join(mat_dir, "cam5_att.mat"), {"cam5_att": np.zeros((7, 6), np.uint8)})
    with pytest.raises(ValueError, match=r"cam5_att.mat: cam5_att has shape \(7, 6\), expected \(8, W\)"):
        SYSUMM01(root=os.path.dirname(sysu_dir), attributes="attribute")
    os.remove(os.path.join(mat_dir, "cam5_att.mat"))
    write_released_mats(mat_dir, {5: 6, 7: 3})
    with pytest.raises(ValueError, match=r"cam7_att.mat is for unknown camera 7"):
        SYSUMM01(root=os.path.dirname(sysu_dir), attributes="attribute")


PER_CAMERA_HEADER = "pid,cam,gender,glasses,backpack"


def test_per_camera_csv_duplicate_row_names_file_and_lines(tmp_path):
    path = str(tmp_path / "a.csv")
    write_csv(path, {(5, 3): (1, 0, 0), (5, 4): (1, 1, 0)}, header=PER_CAMERA_HEADER)
    with open(path, "a") as f:
        f.write("5,3,1,1,1\n")
    with pytest.raises(ValueError, match=r"a.csv:4: identity 5 in camera 3 appears twice \(first on line 2"):
        read_attribute_csv(path)


def test_per_camera_csv_unknown_camera_and_mixed_forms_name_file_and_line(tmp_path):
    path = str(tmp_path / "a.csv")
    write_csv(path, {(5, 3): (1, 0, 0), (5, 7): (1, 1, 0)}, header=PER_CAMERA_HEADER)
    assert read_attribute_csv(path).vector(7, 5).tolist() == [1, 1, 0]  # cameras not checked without a list
    with pytest.raises(ValueError, match=r"a.csv:3: unknown camera 7 \(the dataset's cameras are \[1, 2, 3"):
        read_attribute_csv(path, cameras=(1, 2, 3, 4, 5, 6))
    for mixed in ("6,1,0,1\n", "6,,1,0,1\n"):
        write_csv(path, {(5, 3): (1, 0, 0)}, header=PER_CAMERA_HEADER)
        with open(path, "a") as f:
            f.write(mixed)
        with pytest.raises(ValueError, match=r"a.csv:3: a row without a camera in a file with a 'cam' col"):
            read_attribute_csv(path)
    write_csv(path, {(5, "x"): (1, 0, 0)}, header=PER_CAMERA_HEADER)
    with pytest.raises(ValueError, match=r"a.csv:2: camera 'x' is not an integer"):
        read_attribute_csv(path)


def test_per_camera_csv_missing_camera_row_is_named(sysu_dir, monkeypatch):
    mat_dir, out = os.path.join(sysu_dir, "attribute"), os.path.join(sysu_dir, "attributes.csv")
    write_released_mats(mat_dir)
    run_convert(monkeypatch, mat_dir, out)
    with open(out) as f:
        lines = [line for line in f if not line.startswith("6,5,")]
    with open(out, "w") as f:
        f.writelines(lines)
    with pytest.raises(ValueError, match=r"attributes.csv: no attributes for identity 6 in camera 5 \(image"):
        SYSUMM01(root=os.path.dirname(sysu_dir))
