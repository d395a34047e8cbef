import csv
import dataclasses
import importlib.util
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io

import fastreid_ext  # noqa: F401  (compat shims first)
from fastreid_ext.data.synthvi import ATTRIBUTE_NAMES, make_synthvi
from fastreid_ext.data.synthvi.body import GLASSES, SKIN, Pose, paint_person
from fastreid_ext.data.synthvi.camera import INFRARED, VISIBLE, draw_camera
from fastreid_ext.data.synthvi.person import HARD_PALETTE, draw_people, draw_person
from fastreid_ext.data.synthvi.render import render_image

VISIBLE_CAMS, INFRARED_CAMS = {1, 2, 4, 5}, {3, 6}


def _files(root):
    """relative path -> bytes of every file under root."""
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _read_csv(path):
    """The header and ``(pid, cam) -> values`` of a per-camera attributes.csv."""
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], {(int(row[0]), int(row[1])): [int(v) for v in row[2:]] for row in rows[1:]}


def _ids_line(path):
    lines = Path(path).read_text().splitlines()
    assert len(lines) == 1, path
    return [int(v) for v in lines[0].split(",")]


def _presence(root):
    """pid -> set of SYSU cameras that have a folder for it."""
    present = {}
    for cam in range(1, 7):
        for folder in (Path(root) / f"cam{cam}").iterdir():
            present.setdefault(int(folder.name), set()).add(cam)
    return present


@pytest.fixture(scope="module")
def sysu(tmp_path_factory):
    return make_synthvi(tmp_path_factory.mktemp("sysu"), "sysu", ids=6, seed=0, images_per_camera=2, processes=1)


def test_sysu_layout(sysu):
    root = Path(sysu)
    assert root.name == "SYSU-MM01"
    for path in root.glob("cam*/**/*.jpg"):
        assert re.fullmatch(r"cam[1-6]/\d{4}/\d{4}\.jpg", str(path.relative_to(root))), path
    present = _presence(root)
    assert set(present) == set(range(1, 7))
    for pid, cams in present.items():
        assert cams & VISIBLE_CAMS and cams & INFRARED_CAMS, (pid, cams)
        for cam in cams:
            assert sorted(p.name for p in (root / f"cam{cam}" / f"{pid:04d}").iterdir()) == ["0001.jpg", "0002.jpg"]
    assert cv2.imread(str(next(root.glob("cam*/0001/0001.jpg")))).shape == (128, 64, 3)


def test_sysu_splits(sysu):
    exp = Path(sysu) / "exp"
    train, val, test = (_ids_line(exp / f"{name}_id.txt") for name in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (3, 1, 2)
    assert sorted(train + val + test) == list(range(1, 7))
    assert train == sorted(train) and test == sorted(test)


def test_sysu_rand_perm_cam(sysu):
    cell = scipy.io.loadmat(str(Path(sysu) / "exp" / "rand_perm_cam.mat"))["rand_perm_cam"]
    assert cell.shape == (6, 1)
    present = _presence(sysu)
    for cam in range(1, 7):
        row = cell[cam - 1, 0]
        assert row.shape == (1, 6)
        for pid in range(1, 7):
            perms = row[0, pid - 1]
            if cam in present[pid]:
                assert perms.shape == (10, 2) and perms.dtype == np.float64
                assert all(sorted(p) == [1, 2] for p in perms)
            else:
                assert perms.size == 0


def test_sysu_attributes_per_camera_csv_and_released_mats_agree(sysu):
    header, rows = _read_csv(Path(sysu) / "attributes.csv")
    assert header == ["pid", "cam"] + list(ATTRIBUTE_NAMES)
    present = _presence(sysu)
    assert sorted(rows) == sorted((pid, cam) for pid, cams in present.items() for cam in cams)
    assert all(set(values) <= {0, 1} for values in rows.values())
    for cam in range(1, 7):
        matrix = scipy.io.loadmat(str(Path(sysu) / "attributes" / f"cam{cam}_att.mat"))[f"cam{cam}_att"]
        pids = [pid for pid, cams in present.items() if cam in cams]
        assert matrix.dtype == np.uint8 and matrix.shape == (8, max(pids))  # W: the largest id of the camera
        for pid in range(1, max(pids) + 1):
            expected = rows[pid, cam] if pid in pids else [0] * 8
            assert matrix[:, pid - 1].tolist() == expected, (cam, pid)


def test_infrared_images_are_single_channel(sysu):
    infrared = sorted(Path(sysu).glob("cam[36]/*/*.jpg"))
    visible = sorted(Path(sysu).glob("cam[1245]/*/*.jpg"))
    assert infrared and visible
    for path in infrared:
        image = cv2.imread(str(path))
        assert (image[:, :, 0] == image[:, :, 1]).all() and (image[:, :, 0] == image[:, :, 2]).all(), path
    image = cv2.imread(str(visible[0]))
    assert not (image[:, :, 0] == image[:, :, 1]).all()


def test_preview_written(sysu):
    preview = cv2.imread(str(Path(sysu) / "preview.png"))
    assert preview is not None and preview.shape[0] > 2 * 128 and preview.shape[1] > 3 * 4 * 64


def test_same_seed_same_bytes_whatever_the_processes(tmp_path):
    a = make_synthvi(tmp_path / "a", "sysu", ids=4, seed=3, images_per_camera=1, processes=1)
    b = make_synthvi(tmp_path / "b", "sysu", ids=4, seed=3, images_per_camera=1, processes=2)
    c = make_synthvi(tmp_path / "c", "sysu", ids=4, seed=4, images_per_camera=1, processes=1)
    files_a, files_c = _files(a), _files(c)
    assert files_a == _files(b)
    common = set(files_a) & set(files_c)
    images = [name for name in common if name.endswith(".jpg")]
    assert images and all(files_a[name] != files_c[name] for name in images)


def test_regdb_layout(tmp_path):
    root = Path(make_synthvi(tmp_path, "regdb", ids=5, seed=0, images_per_camera=2, processes=1))
    assert root.name == "RegDB"
    for folder in ("Visible", "Thermal"):
        assert sorted(int(p.name) for p in (root / folder).iterdir()) == [1, 2, 3, 4, 5]
        assert len(list((root / folder).glob("*/*.bmp"))) == 10
    image = cv2.imread(str(next((root / "Thermal").glob("1/*.bmp"))))
    assert image.shape == (128, 64, 3) and (image[:, :, 0] == image[:, :, 2]).all()
    for trial in range(1, 11):
        labels = {}
        for split in ("train", "test"):
            for modality, folder in (("visible", "Visible"), ("thermal", "Thermal")):
                lines = (root / "idx" / f"{split}_{modality}_{trial}.txt").read_text().splitlines()
                pairs = [line.split(" ") for line in lines]
                mapping = {}
                for path, label in pairs:
                    assert path.startswith(folder + "/") and (root / path).is_file(), path
                    mapping.setdefault(int(path.split("/")[1]), set()).add(int(label))
                assert all(len(v) == 1 for v in mapping.values())
                mapping = {pid: v.pop() for pid, v in mapping.items()}
                assert [mapping[pid] for pid in sorted(mapping)] == list(range(len(mapping)))
                assert labels.setdefault(split, mapping) == mapping  # same relabelling in both modalities
        assert len(labels["train"]) == 2 and sorted(labels["train"].keys() | labels["test"].keys()) == [1, 2, 3, 4, 5]
    header, rows = _read_csv(root / "attributes.csv")
    assert header[:2] == ["pid", "cam"]
    assert sorted(rows) == [(pid, cam) for pid in range(1, 6) for cam in (1, 2)]


def test_llcm_layout(tmp_path):
    root = Path(make_synthvi(tmp_path, "llcm", ids=6, seed=0, images_per_camera=1, processes=1))
    assert root.name == "LLCM"
    test_ids = _ids_line(root / "idx" / "test_id.txt")
    assert len(test_ids) == 2
    images = [p.relative_to(root) for p in root.glob("*/cam*/*/*.jpg")]
    seen = {}
    for path in images:
        split_modality, cam, pid, name = path.parts
        split, modality = split_modality.split("_")
        assert re.fullmatch(rf"{pid}_c{int(cam[3:]):02d}_\d{{4}}_{modality}\.jpg", name), path
        assert split == ("test" if int(pid) in test_ids else "train"), path
        assert not (modality == "nir" and cam == "cam3")
        seen.setdefault(int(pid), set()).add(modality)
    assert seen == {pid: {"vis", "nir"} for pid in range(1, 7)}
    train_ids = sorted(set(range(1, 7)) - set(test_ids))
    for modality in ("vis", "nir"):
        for line in (root / "idx" / f"train_{modality}.txt").read_text().splitlines():
            path, label = line.split(" ")
            assert path.startswith(f"train_{modality}/") and (root / path).is_file()
            assert train_ids[int(label)] == int(path.split("/")[2])
    # one row per identity and camera number, whether the camera showed it in visible light or infrared
    cameras = {}
    for path in images:
        cameras.setdefault(int(path.parts[2]), set()).add(int(path.parts[1][3:]))
    expected = sorted((pid, cam) for pid, cams in cameras.items() for cam in cams)
    assert sorted(_read_csv(root / "attributes.csv")[1]) == expected


def test_infrared_ignores_clothing_colour():
    person = draw_person(1, seed=0)
    recoloured = dataclasses.replace(
        person, top=person.top[::-1] + 40, print_colour=255 - person.print_colour, bottom=255 - person.bottom,
        bag=255 - person.bag, shoes=person.shoes + 60, hair=person.hair + 80, skin=person.skin[::-1],
    )
    material = "leather" if person.top_material != "leather" else "cotton"
    other_material = dataclasses.replace(person, top_material=material)
    infrared, visible = draw_camera(3, INFRARED, 3, seed=0), draw_camera(1, VISIBLE, 1, seed=0)

    def render(p, camera):
        return render_image(p, camera, np.random.default_rng(5))

    np.testing.assert_array_equal(render(person, infrared), render(recoloured, infrared))
    assert not np.array_equal(render(person, visible), render(recoloured, visible))
    assert not np.array_equal(render(person, infrared), render(other_material, infrared))


@pytest.mark.parametrize("back", [False, True])
def test_every_attribute_changes_the_silhouette(back):
    pose = Pose(back=back, arms=(0.1, 0.1), elbows=(0.0, 0.0), legs=(0.05, 0.05))
    person = draw_person(1, seed=0)

    def paint(index, value):
        attributes = person.attributes.copy()
        attributes[index] = value
        return paint_person(dataclasses.replace(person, attributes=attributes), pose, (256, 128))

    for index, name in enumerate(ATTRIBUTE_NAMES):
        labels, without = paint(index, 1), paint(index, 0)
        changed = not np.array_equal(labels, without)
        # gender is a matter of build (drawn with it), glasses are seen from the front only
        assert changed == (name != "gender" and not (name == "glasses" and back)), name
        if name == "glasses":
            assert (labels == GLASSES).any() == (not back) and not (without == GLASSES).any()
        if name == "sleeve_length":
            assert (labels == SKIN).sum() < (without == SKIN).sum()


def test_people_do_not_depend_on_the_number_of_ids_and_hard_shares_colours():
    few, many = draw_people(3, seed=0), draw_people(8, seed=0)
    assert all(np.array_equal(a.attributes, b.attributes) and np.array_equal(a.top, b.top) for a, b in zip(few, many))
    hard = draw_people(20, seed=0, hard=True)
    palette = {tuple(c) for c in HARD_PALETTE}
    assert all(tuple(p.top) in palette and tuple(p.bottom) in palette for p in hard)
    assert len({tuple(p.top) for p in draw_people(20, seed=0)}) == 20


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'market'"):
        make_synthvi(tmp_path, "market", ids=6)
    with pytest.raises(ValueError, match="SYSU-MM01: ids=3 is too few; at least 4"):
        make_synthvi(tmp_path, "sysu", ids=3, processes=1)


def test_command_line_tool(tmp_path):
    path = Path(__file__).resolve().parents[2] / "tools" / "make_synthvi.py"
    spec = importlib.util.spec_from_file_location("make_synthvi_tool", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main(["--out", str(tmp_path), "--format", "regdb", "--ids", "2", "--images-per-camera", "1",
               "--size", "64", "32", "--processes", "1"])
    image = cv2.imread(str(tmp_path / "RegDB" / "Visible" / "2" / "v_00002_01.bmp"))
    assert image.shape == (64, 32, 3)
    assert os.path.isfile(tmp_path / "RegDB" / "idx" / "test_thermal_10.txt")
