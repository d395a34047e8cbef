"""tools/retrieve.py end to end: index the visible gallery of a SynthVI set with the trained tiny model, query
it with the infrared query crops, and find the evaluator's Rank-1 and mAP again from the returned lists."""
import csv
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.data.build import build_cm_dataset, build_cm_test_loader
from fastreid_ext.data.datasets.attributes import PAPER_ATTRIBUTES
from fastreid_ext.data.synthvi import make_synthvi
from fastreid_ext.engine import load_trained_model
from fastreid_ext.evaluation import CrossModalityEvaluator, extract
from fastreid_ext.evaluation.metrics import PROTOCOLS
from fastreid_ext.retrieval import FingerprintMismatchError, checkpoint_fingerprint

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SETTING = "all-1shot-seeded"


def _load_tool():
    spec = importlib.util.spec_from_file_location("retrieve_tool", os.path.join(REPO, "tools", "retrieve.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*args, cwd=REPO):
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tools", "retrieve.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def setup(trained_tiny, tmp_path_factory):
    """The trained tiny model's config on a SynthVI set whose test identities have camera-3 queries (the
    test set of the training fixture has none), written to a config file; the trial-0 split; the index."""
    out = tmp_path_factory.mktemp("retrieve")
    make_synthvi(str(out / "data"), format="sysu", ids=30, seed=1, images_per_camera=2, size=(64, 32),
                 processes=1, preview=False)
    cfg = trained_tiny.clone()
    cfg.defrost()
    cfg.DATASETS.ROOT = str(out / "data")
    cfg.MODEL.HEADS.NUM_CLASSES = 0  # as in a training config: the tools take it from the checkpoint
    cfg.freeze()
    config_file = out / "config.yaml"
    config_file.write_text(cfg.dump())
    dataset = build_cm_dataset(cfg, "SYSUMM01")
    query, gallery = dataset.test_split(SETTING, 0)
    index = str(out / "index")
    assert dataset.default_settings()[0] == SETTING  # what build takes without --setting
    _run("build", "--config-file", str(config_file), "--index", index, "--dataset", "SYSUMM01")
    return cfg, str(config_file), dataset, query, gallery, index, out


def _evaluator_trial0(cfg, dataset, output_dir):
    """Rank-1 and mAP (percent) of trial 0 as the evaluator reports them (its per-trial CSV)."""
    model, cfg = load_trained_model(cfg)
    evaluator = CrossModalityEvaluator(cfg, dataset, output_dir=str(output_dir))
    assert evaluator.settings == [SETTING]
    evaluator.evaluate_features(extract(model, build_cm_test_loader(cfg, evaluator.test_items())))
    with open(output_dir / "SYSUMM01_trials.csv") as f:
        row = next(r for r in csv.DictReader(f) if r["trial"] == "0")
    return float(row["Rank-1"]), float(row["mAP"])


def test_query_lists_give_the_evaluator_rank1(setup, tmp_path):
    cfg, config_file, dataset, query, gallery, index, _ = setup
    out = tmp_path / "results.json"
    _run("query", "--config-file", config_file, "--index", index, "--dataset", "SYSUMM01", "--split", "query",
         "--setting", SETTING, "--trial", "0", "--topk", str(len(gallery)), "--output", str(out))
    with open(out) as f:
        results = json.load(f)
    assert [r["query"]["img_path"] for r in results] == [item[0] for item in query]
    assert all(len(r["matches"]) == len(gallery) for r in results)
    assert all(m["modality"] == 0 for r in results for m in r["matches"])
    assert all(np.all(np.diff([m["score"] for m in r["matches"]]) <= 0) for r in results)

    # The evaluator hides camera-2 gallery images from camera-3 queries (SYSU-MM01's protocol); a plain index
    # search does not. Apply the same rule to the returned lists before comparing.
    hidden = PROTOCOLS["sysu"].hidden_camera_pairs
    assert hidden == ((3, 2),)
    assert any(r["query"]["camid"] == 3 for r in results) and any(item[2] == 2 for item in gallery)
    top1, aps = [], []
    for r in results:
        visible = [m for m in r["matches"] if (r["query"]["camid"], m["camid"]) not in hidden]
        hits = [m["pid"] == r["query"]["pid"] for m in visible]
        if not any(hits):
            continue  # no true match left: skipped by the evaluator too
        top1.append(hits[0])
        ranks = np.flatnonzero(hits) + 1
        aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
    rank1, mAP = _evaluator_trial0(cfg, dataset, tmp_path)
    assert 100 * np.mean(top1) == pytest.approx(rank1, abs=1e-3)
    # The tool extracts queries and gallery in other batches than the evaluator: float rounding of order
    # 1e-6 can swap near-tied gallery items below rank 1, which moves AP slightly but not Rank-1.
    assert 100 * np.mean(aps) == pytest.approx(mAP, abs=0.5)


def test_query_images_csv_plot_and_info(setup, tmp_path, capsys):
    cfg, config_file, _, query, gallery, index, _ = setup
    tool = _load_tool()
    tool.info(tool.parse_args(["info", "--index", index]))
    printed = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert printed["kind"] == "flat" and printed["metric"] == "cosine" and printed["count"] == str(len(gallery))
    assert printed["model_fingerprint"] == checkpoint_fingerprint(cfg.MODEL.WEIGHTS)
    assert printed["modalities"] == "['visible']" and printed["dim"] == "512"

    folder = os.path.dirname(next(item[0] for item in query if item[2] == 3))
    images = sorted(os.listdir(folder))
    tool.query(tool.parse_args(["query", "--config-file", config_file, "--index", index, "--images", folder,
                                "--topk", "3", "--format", "csv", "--output", str(tmp_path / "top3.csv"),
                                "--plot", str(tmp_path / "top3.png")]))
    with open(tmp_path / "top3.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(os.path.basename(r["query_img_path"]), r["rank"]) for r in rows] == [
        (name, str(rank)) for name in images for rank in (1, 2, 3)]
    camid, pid = int(folder.split("cam")[-1][0]), int(os.path.basename(folder))
    assert {(r["query_camid"], r["query_pid"], r["query_modality"]) for r in rows} == {(str(camid), str(pid), "1")}
    assert os.path.getsize(tmp_path / "top3.png") > 0

    other = tmp_path / "other.pth"
    other.write_bytes(open(cfg.MODEL.WEIGHTS, "rb").read() + b"\0")
    with pytest.raises(FingerprintMismatchError, match=f"but MODEL.WEIGHTS is {other}"):
        tool.query(tool.parse_args(["query", "--config-file", config_file, "--index", index, "--images", folder,
                                    "MODEL.WEIGHTS", str(other)]))


def _gallery_rows(index):
    """The index's metadata rows, read from its metadata.jsonl."""
    with open(os.path.join(index, "metadata.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_the_index_stores_predicted_attributes(setup):
    *_, gallery, index, _ = setup
    rows = _gallery_rows(index)
    with open(os.path.join(index, "extraction.json")) as f:
        root = json.load(f)["image_root"]
    assert len(rows) == len(gallery)
    for row, item in zip(rows, gallery):
        path = os.path.join(root, row["img_path"])
        assert (path, row["camid"], row["modality"]) == (os.path.abspath(item[0]), item[2], item[3])
        assert all(0 <= row[name] <= 1 for name in PAPER_ATTRIBUTES)


def test_describe_ranks_the_matching_items_by_joint_probability(setup, tmp_path):
    *_, index, _ = setup
    rows = _gallery_rows(index)
    cut = float(np.median([row["backpack"] for row in rows]))
    # The camid term keeps the matches a strict subset when the briefly trained model saturates.
    where = f"backpack >= {cut} and not gender >= 0.5 and camid != 1 or camid == 2"
    _run("describe", "--index", index, "--where", where, "--topk", str(len(rows)), "--output",
         str(tmp_path / "described.json"), "--plot", str(tmp_path / "described.png"))
    with open(tmp_path / "described.json") as f:
        (result,) = json.load(f)
    fits = [r for r in rows
            if (r["backpack"] >= cut and not r["gender"] >= 0.5 and r["camid"] != 1) or r["camid"] == 2]
    assert 0 < len(fits) < len(rows)
    # Joint probability: p(backpack) * (1 - p(gender)); the camid term is a filter, not an attribute.
    expected = sorted(fits, key=lambda r: (-r["backpack"] * (1 - r["gender"]), r["id"]))
    assert [m["id"] for m in result["matches"]] == [r["id"] for r in expected]
    scores = [m["score"] for m in result["matches"]]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(expected[0]["backpack"] * (1 - expected[0]["gender"]))
    assert result["query"]["where"] == where and os.path.getsize(tmp_path / "described.png") > 0

    proc = subprocess.run([sys.executable, os.path.join(REPO, "tools", "retrieve.py"), "describe", "--index", index,
                           "--where", "backpak >= 0.5"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr  # a user's error: one message
    assert "unknown column 'backpak'" in proc.stderr and "'backpack'" in proc.stderr


def test_filtered_query_is_the_full_ranking_restricted_to_matching_items(setup, tmp_path):
    _, config_file, _, query, gallery, index, _ = setup
    folder = os.path.dirname(next(item[0] for item in query if item[2] == 3))
    rows = _gallery_rows(index)
    cut = float(np.median([row["satchel"] for row in rows]))
    common = ["query", "--config-file", config_file, "--index", index, "--images", folder]
    _run(*common, "--topk", str(len(gallery)), "--output", str(tmp_path / "all.json"))
    _run(*common, "--topk", "4", "--where", f"satchel < {cut}", "--output", str(tmp_path / "some.json"))
    with open(tmp_path / "all.json") as f:
        everything = json.load(f)
    with open(tmp_path / "some.json") as f:
        filtered = json.load(f)
    for full, some in zip(everything, filtered):
        assert all(m["satchel"] < cut for m in some["matches"])
        assert [m["id"] for m in some["matches"]] == [m["id"] for m in full["matches"] if m["satchel"] < cut][:4]


def test_an_index_built_in_one_directory_is_queried_from_another(setup, tmp_path):
    """Built with a relative DATASETS.ROOT from the data's parent folder, queried (with --plot) from elsewhere."""
    cfg, config_file, _, query, gallery, _, out = setup
    _run("build", "--config-file", config_file, "--index", "relative_index", "--dataset", "SYSUMM01",
         "DATASETS.ROOT", "data", cwd=str(out))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = os.path.dirname(query[0][0])
    _run("query", "--config-file", config_file, "--index", str(out / "relative_index"), "--images", folder,
         "--topk", "3", "--format", "csv", "--output", "top3.csv", "--plot", "top3.png", cwd=str(elsewhere))
    with open(elsewhere / "top3.csv") as f:
        paths = [row["img_path"] for row in csv.DictReader(f)]
    assert paths and all(os.path.isabs(p) and os.path.isfile(p) for p in paths)
    assert set(paths) <= {os.path.abspath(item[0]) for item in gallery}
    assert os.path.getsize(elsewhere / "top3.png") > 0
    info = _run("info", "--index", str(out / "relative_index"), cwd=str(elsewhere)).stdout
    assert f"image_root: {out / 'data'}" in info and "checksums: verified" in info
