import os
import runpy
import sys

import numpy as np
import pytest
from scipy.io import savemat

from fastreid_ext.data.datasets import SYSUMM01
from fastreid_ext.data.datasets.attributes import PAPER_ATTRIBUTES, read_attribute_csv

# Hand-written identity attributes of the SYSU tree's ids 1, 2, 3, 5, 6, 8 (3 named attributes).
CSV_ROWS = {1: (1, 0, 1), 2: (0, 0, 0), 3: (1, 1, 1), 5: (0, 1, 0), 6: (1, 0, 0), 8: (0, 0, 1)}


def write_csv(path, rows=CSV_ROWS, header="pid,gender,glasses,backpack"):
    with open(path, "w") as f:
        f.write(header + "\n" + "".join(f"{pid},{','.join(map(str, v))}\n" for pid, v in rows.items()))


def test_csv_names_and_values_come_from_the_file(tmp_path):
    path = str(tmp_path / "attributes.csv")
    write_csv(path, {4: (1, 0), 9: (0, 1)}, header="pid,hat,scarf")
    names, table = read_attribute_csv(path)
    assert names == ["hat", "scarf"]
    assert sorted(table) == [4, 9]
    assert table[4].dtype == np.float32 and table[4].tolist() == [1.0, 0.0] and table[9].tolist() == [0.0, 1.0]


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
    with pytest.raises(ValueError, match=r"attributes.csv: no attributes for identity 6"):
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
    with pytest.raises(ValueError, match=r"a.csv:3: identity 1 appears twice"):
        read_attribute_csv(path)


def camera_ids(trees):
    ids = {cam: [] for cam in range(1, 7)}
    for cam, pid in sorted(trees.SYSU_COUNTS):
        ids[cam].append(pid)
    return ids


def paper_vector(pid):
    """8 hand-chosen bits per identity: the binary digits of pid * 37."""
    return [(pid * 37 >> bit) & 1 for bit in range(8)]


def write_mats(mat_dir, ids_per_camera, vector=paper_vector):
    os.makedirs(mat_dir, exist_ok=True)
    for cam, ids in ids_per_camera.items():
        values = np.array([vector(pid) for pid in ids], dtype=np.uint8).T.reshape(8, len(ids))
        savemat(os.path.join(mat_dir, f"cam{cam}_att.mat"), {f"cam{cam}_att": values})


def test_released_mat_directory(sysu_dir, trees):
    write_mats(os.path.join(sysu_dir, "att"), camera_ids(trees))
    data = SYSUMM01(root=os.path.dirname(sysu_dir), attributes="att")
    assert data.attribute_names == list(PAPER_ATTRIBUTES)
    for _, pid, _, _, attributes in data.train + data.query + data.gallery:
        assert attributes.tolist() == paper_vector(int(str(pid).split("_")[-1]))


def test_mat_with_wrong_identity_count_is_named(sysu_dir, trees):
    ids = camera_ids(trees)
    ids[4] = ids[4][:-1]
    write_mats(os.path.join(sysu_dir, "att"), ids)
    with pytest.raises(ValueError, match=r"cam4_att.mat: cam4_att has 2 identity columns but camera 4 has 3"):
        SYSUMM01(root=os.path.dirname(sysu_dir), attributes="att")


def test_mat_cameras_disagreeing_on_an_identity_is_an_error(sysu_dir, trees):
    mat_dir = os.path.join(sysu_dir, "att")
    write_mats(mat_dir, camera_ids(trees))
    write_mats(mat_dir, {3: camera_ids(trees)[3]}, vector=lambda pid: [1 - b for b in paper_vector(pid)])
    with pytest.raises(ValueError, match=r"identity 1 has attributes .* in camera 1 but .* in .*cam3_att.mat"):
        SYSUMM01(root=os.path.dirname(sysu_dir), attributes="att")


def test_convert_tool_writes_the_csv_the_loader_reads(sysu_dir, trees, monkeypatch, capsys):
    mat_dir = os.path.join(sysu_dir, "att")
    write_mats(mat_dir, camera_ids(trees))
    out = os.path.join(sysu_dir, "attributes.csv")
    tool = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "convert_attributes.py")
    monkeypatch.setattr(sys, "argv", [tool, "--mat-dir", mat_dir, "--dataset-dir", sysu_dir, "--out", out])
    runpy.run_path(tool, run_name="__main__")
    assert "wrote 6 identities" in capsys.readouterr().out
    names, table = read_attribute_csv(out)
    assert names == list(PAPER_ATTRIBUTES)
    assert {pid: v.tolist() for pid, v in table.items()} == {pid: paper_vector(pid) for pid in (1, 2, 3, 5, 6, 8)}
