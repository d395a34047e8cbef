import importlib.util
from pathlib import Path

import numpy as np
import pytest

import fastreid_ext  # noqa: F401  (compat shims first)
from fastreid_ext.data.synthvi import PRESETS, make_synthvi, plan_synthvi
from fastreid_ext.data.synthvi.camera import INFRARED, VISIBLE
from fastreid_ext.data.synthvi.plan import Shape, allocate_images

# SYSU-MM01's published counts (see fastreid_ext/data/synthvi/presets.py for the sources).
SYSU = {"train_ids": 395, "test_ids": 96, "train_visible": 22258, "train_infrared": 11909, "queries": 3803,
        "gallery_all": 301, "gallery_indoor": 112}


def _close(value, real):
    return abs(value - real) <= 0.05 * real


def _files(root):
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sysu_plan_has_sysu_mm01_counts():
    plan = plan_synthvi(**PRESETS["sysu"])
    train = np.concatenate([plan.splits["train_id"], plan.splits["val_id"]])
    test = plan.splits["test_id"]
    assert (len(plan.splits["train_id"]), len(plan.splits["val_id"]), len(test)) == (296, 99, 96)
    assert len(np.union1d(train, test)) == 491
    counts = {
        "train_ids": len(train), "test_ids": len(test),
        "train_visible": sum(plan.images(train, VISIBLE).values()),
        "train_infrared": sum(plan.images(train, INFRARED).values()),
        "queries": sum(plan.images(test, INFRARED).values()),
    }
    rows = np.isin(plan.pids, test)
    present = plan.counts[rows] > 0
    cam = {camid: c for c, camid in enumerate(plan.camids)}
    counts["gallery_all"] = int(present[:, [cam[1], cam[2], cam[4], cam[5]]].sum())
    counts["gallery_indoor"] = int(present[:, [cam[1], cam[2]]].sum())
    assert all(_close(counts[key], real) for key, real in SYSU.items()), counts
    # Every identity is seen in both modalities, and per camera the images follow its identities.
    for ids in (train, test):
        for modality in (VISIBLE, INFRARED):
            assert all(sum(plan.images([pid], modality).values()) > 0 for pid in ids)
    assert set(plan.images(train, VISIBLE)) == {1, 2, 4, 5} and set(plan.images(train, INFRARED)) == {3, 6}


def test_regdb_and_llcm_plans():
    regdb = plan_synthvi(**PRESETS["regdb"])
    assert regdb.counts.shape == (412, 2) and (regdb.counts == 10).all()
    llcm = plan_synthvi(**PRESETS["llcm"])
    train, test = llcm.splits["train"], llcm.splits["test"]
    assert (len(train), len(test)) == (713, 351) and int(llcm.counts.sum()) == 46767
    assert sum(llcm.images(train, VISIBLE).values()) == 16946
    assert sum(llcm.images(test, INFRARED).values()) == 7166


TINY = Shape(splits=(4, 2, 3), presence=(0.5, 0.5, 1.0, 1.0, 0.5, 0.5), images=((50, 20), (22, 9)))


def test_parallel_files_equal_serial_and_follow_the_plan(tmp_path):
    kwargs = dict(format="sysu", ids=9, seed=5, size=(32, 16), shape=TINY, preview=False)
    serial = make_synthvi(tmp_path / "serial", processes=1, **kwargs)
    parallel = make_synthvi(tmp_path / "parallel", processes=2, **kwargs)
    files = _files(serial)
    assert files == _files(parallel)
    plan = plan_synthvi(**kwargs)
    for c, camid in enumerate(plan.camids):
        for i, pid in enumerate(plan.pids):
            written = sorted(Path(serial).glob(f"cam{camid}/{pid:04d}/*.jpg"))
            assert [p.name for p in written] == [f"{n:04d}.jpg" for n in range(1, plan.counts[i, c] + 1)]
    assert sum(name.endswith(".jpg") for name in files) == 50 + 20 + 22 + 9
    test = [int(v) for v in (Path(serial) / "exp" / "test_id.txt").read_text().split(",")]
    assert test == plan.splits["test_id"].tolist()


def test_shape_must_match_the_identities():
    with pytest.raises(ValueError, match=r"splits \(4, 2, 3\) hold 9 identities, not ids=10"):
        plan_synthvi(format="sysu", ids=10, shape=TINY)


def test_too_few_images_for_the_present_pairs():
    present = np.array([[True, True], [True, False]])
    with pytest.raises(ValueError, match="2 images cannot cover the 3"):
        allocate_images(np.random.default_rng(0), present, (VISIBLE, VISIBLE), [np.array([0, 1])], [(2, 0)])


def test_tool_preset_sets_defaults_and_flags_win():
    spec = importlib.util.spec_from_file_location("make_synthvi_tool", Path(__file__).parents[2] / "tools" /
                                                  "make_synthvi.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    args = tool.parse_args(["--out", "x", "--preset", "regdb"])
    assert (args.format, args.ids, args.images_per_camera, args.shape) == ("regdb", 412, 10, None)
    args = tool.parse_args(["--out", "x", "--preset", "sysu", "--size", "64", "32"])
    assert (args.ids, tuple(args.size), args.shape) == (491, (64, 32), PRESETS["sysu"]["shape"])
    args = tool.parse_args(["--out", "x"])
    assert (args.format, args.ids, args.images_per_camera, args.shape) == ("sysu", 100, 10, None)
