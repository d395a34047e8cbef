"""tools/reproduce.py and paenet.reproduce: the paper's tables as train_net runs, their Markdown, the dry run."""
import importlib.util
import json
import os
import re

import pytest

from fastreid_ext.ablation.runner import last_evaluation
from paenet.reproduce import SEEDS, TABLES, run_table
from tests.ablation.test_runner import TINY
from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("reproduce_tool", os.path.join(REPO, "tools", "reproduce.py"))
_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tool)
PAPER_SIZE = ("MODEL.BACKBONE.PRETRAIN", "False")  # sysu.yml asks for ImageNet weights, absent here


def _reproduce(argv):
    _tool.main(_tool.parse_args(argv))


def test_every_paper_table_runs_sysu_yml_on_both_settings():
    for table, grid in TABLES.items():
        runs = grid().runs()
        assert {config for config, _, _ in runs.values()} == {"projects/PAENet/configs/sysu.yml"}, table
        assert "TEST.SETTINGS" in grid().common_opts
    assert len(TABLES[3]().runs()) == 4 and len(TABLES[6]().runs()) == 6 and len(TABLES[1]().runs()) == 1
    # Table 1's run is Table 3's (d) and Table 6's MMD + PAE + AAL: one training serves the three.
    assert TABLES[1]().runs()["mmd+pae+aal"] == TABLES[3]().runs()["mmd+pae+aal"] == TABLES[6]().runs()["mmd+pae+aal"]


def test_dry_run_prints_table3_runs_and_projected_times(tmp_path, capsys):
    scale = tmp_path / "paper_scale.json"
    scale.write_text(json.dumps({"cpu": {"projected_total_h": 900.0}, "cuda": {"projected_total_h": 10.0}}))
    _reproduce(["--table", "3", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--dry-run",
          "--gpus", "2", "--paper-scale", str(scale)])
    out = capsys.readouterr().out
    commands = [line for line in out.splitlines() if "fastreid_ext.engine.launch" in line]
    assert len(commands) == 4
    assert all("--num-gpus 2" in line and "projects/PAENet/configs/sysu.yml" in line for line in commands)
    assert sorted(re.findall(r"OUTPUT_DIR \S+/runs/(\S+)/seed0", out)) == sorted(
        ["mmd", "mmd+pae", "mmd+aal", "mmd+pae+aal"])
    assert "4 runs" in out and "GPU 5.0 h a run on 2 GPUs, 20.0 h in all" in out
    assert "CPU 900.0 h a run, 3600.0 h in all" in out
    assert not (tmp_path / "out").exists()


def test_dry_run_without_measurements(tmp_path, capsys):
    _reproduce(["--table", "1", "--data", str(tmp_path), "--out", str(tmp_path / "out"), "--dry-run",
          "--paper-scale", str(tmp_path / "absent.json")])
    assert "GPU not measured a run" in capsys.readouterr().out


@pytest.mark.slow
def test_table1_end_to_end_writes_markdown_and_skips_finished_runs(synthvi_root, tmp_path, capsys):
    out = tmp_path / "out"
    _reproduce(["--table", "1", "--data", synthvi_root, "--out", str(out), *TINY, *PAPER_SIZE])
    written = (out / "table1.md").read_text()
    assert capsys.readouterr().out.endswith(written + "\n")  # printed after the runner's log lines
    record = last_evaluation(str(out), "mmd+pae+aal", SEEDS[0])
    for setting, label in (("all", "all-search"), ("indoor", "indoor-search")):
        cells = {source: " / ".join(f"{record[f'SYSUMM01/{setting}-1shot-seeded/{source}/{key}']:.2f}"
                                    for key in ("Rank-1", "mAP")) for source in ("pred", "gt")}
        assert f"| SYSU-MM01 {label} | " in written
        assert f"| {cells['pred']} | {cells['gt']} |" in written
    log = out / "runs" / "mmd+pae+aal" / "seed0" / "stdout.txt"
    size = os.path.getsize(log)
    assert run_table(1, synthvi_root, str(out), [*TINY, *PAPER_SIZE]) == written
    assert os.path.getsize(log) == size  # finished: not trained again
