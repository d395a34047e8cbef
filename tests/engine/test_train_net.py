"""tools/train_net.py end to end: FastReID's flags, the output directory, --eval-only round trip."""
import csv
import glob
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

TINY = ["MODEL.BACKBONE.DEPTH", "18x", "MODEL.BACKBONE.FEAT_DIM", "512", "INPUT.SIZE_TRAIN", "[64,32]",
        "INPUT.SIZE_TEST", "[64,32]", "SOLVER.IMS_PER_BATCH", "16", "SOLVER.MAX_EPOCH", "1",
        "SOLVER.WARMUP_ITERS", "0", "SOLVER.LOG_PERIOD", "2", "TEST.EVAL_PERIOD", "1", "TEST.IMS_PER_BATCH", "32",
        "DATALOADER.NUM_WORKERS", "0", "SEED", "3", "TEST.SETTINGS", "['all-1shot-seeded']"]


def _run(*args):
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tools", "train_net.py"), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _evaluations(path):
    with open(path) as f:
        return [r for r in map(json.loads, f) if r.get("evaluation")]


def test_help_lists_fastreid_flags():
    out = _run("--help")
    for flag in ("--config-file", "--resume", "--eval-only", "--num-gpus", "--num-machines", "--machine-rank",
                 "--dist-url"):
        assert flag in out


def test_train_then_eval_only(synthvi_root, tmp_path):
    out_dir = tmp_path / "run"
    log = _run("--config-file", "projects/PAENet/configs/synthvi.yml", "DATASETS.ROOT", synthvi_root,
               "OUTPUT_DIR", str(out_dir), *TINY)
    for name in ("config.yaml", "log.txt", "metrics.json", "model_final.pth", "last_checkpoint"):
        assert (out_dir / name).is_file(), name
    assert glob.glob(str(out_dir / "events.out.tfevents.*"))
    assert (out_dir / "last_checkpoint").read_text() == "model_final.pth"
    for loss in ("loss_cls", "loss_mmd", "loss_hct", "loss_attr"):
        assert loss in log
    assert "eta:" in log and "Extracting features" in log
    # The first iteration is logged although SOLVER.LOG_PERIOD is 2.
    assert "epoch/iter: 0/0 " in log and "epoch/iter: 0/1 " in log
    trained = _evaluations(out_dir / "metrics.json")
    assert len(trained) == 1 and "SYSUMM01/all-1shot-seeded/pred/Rank-1" in trained[0]

    eval_dir = tmp_path / "eval"
    # Flags after the overrides, as a user types them after a crash.
    log = _run("--config-file", "projects/PAENet/configs/synthvi.yml", "DATASETS.ROOT", synthvi_root,
               "OUTPUT_DIR", str(eval_dir), "MODEL.WEIGHTS", str(out_dir / "model_final.pth"), *TINY,
               "TEST.RERANK.ENABLED", "True", "--eval-only")
    evaluated = _evaluations(eval_dir / "metrics.json")
    assert len(evaluated) == 1
    for key, value in trained[0].items():
        if key.startswith("SYSUMM01/"):
            assert evaluated[0][key] == pytest.approx(value, abs=1e-6), key
    # Re-ranking only ever adds its own row next to the plain one.
    assert "SYSUMM01/all-1shot-seeded/pred/rerank/mAP" in evaluated[0]
    assert "SYSUMM01/all-1shot-seeded/pred/mAP" in evaluated[0]
    assert "± " in log
    # synthvi.yml evaluates the predicted and the ground-truth attributes: one file each, named once in the log.
    for source in ("pred", "gt"):
        path = eval_dir / f"SYSUMM01_{source}_trials.csv"
        with open(path) as f:
            trials = list(csv.DictReader(f))
        assert {(r["attributes"], r["rerank"], r["trial"]) for r in trials} == {
            (source, on, str(t)) for on in ("on", "off") for t in range(10)}
        assert log.count(str(path)) == 1

    log = _run("--config-file", "projects/PAENet/configs/synthvi.yml", "DATASETS.ROOT", synthvi_root,
               "OUTPUT_DIR", str(out_dir), *TINY, "SOLVER.MAX_EPOCH", "2", "--resume")
    assert f"Loading checkpoint from {out_dir / 'model_final.pth'}" in log
    assert "Starting training from epoch 1" in log and "epoch/iter: 1/" in log

    # A renamed/resized layer fails strict loading, naming the keys.
    proc = subprocess.run(
        [sys.executable, "tools/train_net.py", "--config-file", "projects/PAENet/configs/synthvi.yml", "--eval-only",
         "DATASETS.ROOT", synthvi_root, "OUTPUT_DIR", str(tmp_path / "eval2"), "MODEL.WEIGHTS",
         str(out_dir / "model_final.pth"), *TINY, "MODEL.PAE.FFN_DIM", "64"],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode != 0
    assert "shape mismatch: heads.pae" in proc.stderr


@pytest.mark.parametrize("config, losses", [
    ("projects/PAENet/configs/sysu.yml", ("loss_cls", "loss_mmd", "loss_hct", "loss_attr")),
    ("projects/PAENet/configs/sysu_agw.yml", ("loss_cls", "loss_wrt", "loss_attr")),
    ("projects/PAENet/configs/sysu_hct.yml", ("loss_cls", "loss_hct", "loss_attr")),
])
def test_paper_configs_train_on_synthvi(config, losses, synthvi_root, tmp_path):
    """The paper-setting configs, shrunk (ResNet-18, no ImageNet file), train through train_net."""
    log = _run("--config-file", config, "DATASETS.ROOT", synthvi_root, "OUTPUT_DIR", str(tmp_path),
               "MODEL.BACKBONE.PRETRAIN", "False", *TINY, "DATALOADER.NUM_INSTANCE", "4")
    for loss in losses:
        assert f"{loss}:" in log, loss
    assert (tmp_path / "model_final.pth").is_file()
