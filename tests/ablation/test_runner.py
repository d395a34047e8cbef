"""The ablation runner: real (tiny) training runs, rows in results.json, resumption, tables."""
import json

import pytest
from fastreid.modeling import build_model

from fastreid_ext.ablation import GRID_REGISTRY, Cell, Grid, run_grid, runner, summarise
from fastreid_ext.ablation.runner import write_tables
from tests.conftest import tiny_cfg

TINY = ("MODEL.BACKBONE.DEPTH", "18x", "MODEL.BACKBONE.FEAT_DIM", "512", "INPUT.SIZE_TRAIN", "[64,32]",
        "INPUT.SIZE_TEST", "[64,32]", "SOLVER.IMS_PER_BATCH", "16", "SOLVER.MAX_EPOCH", "1",
        "SOLVER.WARMUP_ITERS", "0", "TEST.EVAL_PERIOD", "1", "DATALOADER.NUM_WORKERS", "0")


@pytest.mark.parametrize("name", ["table3", "table6", "attributes", "budget"])
def test_every_grid_cell_builds(name, synthvi_root, tmp_path):
    grid = GRID_REGISTRY.get(name)()
    assert len({cell.config for cell in grid.cells}) == len(grid.cells)
    for run, (config_file, opts, sources) in grid.runs().items():
        cfg = tiny_cfg(synthvi_root, tmp_path, config_file, *opts, "MODEL.HEADS.NUM_CLASSES", 4)
        model = build_model(cfg)
        assert hasattr(model.heads, "test_attributes") == bool(sources), run


def test_table3_rows_are_the_papers():
    assert [cell.config for cell in GRID_REGISTRY.get("table3")().cells] == ["baseline", "pae", "aal", "pae+aal"]


@pytest.mark.slow
def test_run_resume_and_tables(synthvi_root, tmp_path, monkeypatch):
    config = "projects/PAENet/configs/synthvi.yml"
    grid = Grid("tiny", (
        Cell("baseline", "baseline", config, ("MODEL.HEADS.NAME", "CMEmbeddingHead", "MODEL.HEADS.ATTR_PRED.ENABLED",
                                              "False", "MODEL.LOSSES.NAME", "('CrossEntropyLoss',)")),
        Cell("paenet/gt", "paenet", config, (), "gt"),
        Cell("paenet/pred", "paenet", config, (), "pred"),
    ), common_opts=TINY)
    rows = run_grid(grid, [0], synthvi_root, str(tmp_path))
    assert [(r["config"], r["seed"]) for r in rows] == [("baseline", 0), ("paenet/gt", 0), ("paenet/pred", 0)]
    for row in rows:
        assert set(row) == {"grid", "config", "seed", "rank1", "mAP", "mINP", "attr_mA", "seconds"}
        assert all(0 <= row[name] <= 1 for name in ("rank1", "mAP", "mINP"))
    evaluation = runner._evaluation(str(tmp_path / "runs" / "paenet" / "seed0"))
    assert rows[0]["attr_mA"] is None  # no predictor
    attr_mA = evaluation["SYSUMM01/attributes/all/mA"] / 100
    assert rows[1]["attr_mA"] == rows[2]["attr_mA"] == pytest.approx(attr_mA)
    assert rows[1]["mAP"] == pytest.approx(evaluation["SYSUMM01/all-1shot-seeded/gt/mAP"] / 100)
    assert rows[2]["mAP"] == pytest.approx(evaluation["SYSUMM01/all-1shot-seeded/pred/mAP"] / 100)
    assert json.loads((tmp_path / "results.json").read_text()) == rows

    def no_training(*args, **kwargs):
        raise AssertionError("a finished cell was trained again")

    monkeypatch.setattr(runner, "_train", no_training)
    assert run_grid(grid, [0], synthvi_root, str(tmp_path)) == rows

    # Another grid naming the same run with the same training shares it, for the sources evaluated there;
    # with other overrides it is refused.
    shared = Grid("other", (Cell("paenet", "paenet", config, (), "pred"),), common_opts=TINY)
    assert run_grid(shared, [0], synthvi_root, str(tmp_path))[0]["mAP"] == rows[2]["mAP"]
    unevaluated = Grid("none", (Cell("paenet", "paenet", config, (), "none"),), common_opts=TINY)
    with pytest.raises(KeyError, match="lacks.*all-1shot-seeded/none/mAP"):
        run_grid(unevaluated, [0], synthvi_root, str(tmp_path))
    clash = Grid("clash", (Cell("paenet", "paenet", config, ("MODEL.PAE.ENABLED", "False"), "pred"),),
                 common_opts=TINY)
    with pytest.raises(ValueError, match=r"run\.json: run 'paenet' was trained with"):
        run_grid(clash, [0], synthvi_root, str(tmp_path))

    table = summarise(rows, grid)
    assert [e["config"] for e in table] == ["baseline", "paenet/gt", "paenet/pred"]
    assert table[0]["mAP"] == pytest.approx(rows[0]["mAP"]) and table[0]["mAP_std"] == 0
    markdown = write_tables(table, grid, str(tmp_path))
    assert "| paenet/pred | 1 |" in markdown
    for ext in ("md", "csv", "json", "png"):
        assert (tmp_path / f"tiny.{ext}").stat().st_size > 0


def test_grids_agree_on_shared_runs():
    """A run name used by several grids means one training: the grids must ask for the same one."""
    seen = {}
    for name in ("table3", "table6", "attributes", "budget"):
        for run, (config_file, opts, _) in GRID_REGISTRY.get(name)().runs().items():
            assert seen.setdefault(run, (config_file, opts)) == (config_file, opts), (name, run)
    assert {"mmd", "mmd+pae+aal"} <= set(seen) and len(seen) == 14


def test_summary_and_table_carry_the_attribute_mA(tmp_path):
    grid = Grid("hand", (Cell("base", "base", "c.yml"), Cell("paenet", "paenet", "c.yml", (), "pred")))
    metrics = {"rank1": 0.1, "mINP": 0.1, "seconds": 1.0}
    rows = [{"grid": "hand", "config": "base", "seed": s, "mAP": m, "attr_mA": None, **metrics}
            for s, m in ((0, 0.2), (1, 0.3))]
    rows += [{"grid": "hand", "config": "paenet", "seed": s, "mAP": 0.25, "attr_mA": a, **metrics}
             for s, a in ((0, 0.70), (1, 0.74))]
    base, paenet = summarise(rows, grid)
    assert base["mAP"] == pytest.approx(0.25) and base["mAP_std"] == pytest.approx(0.05)
    assert base["attr_mA"] is None and base["attr_mA_std"] is None
    assert paenet["attr_mA"] == pytest.approx(0.72) and paenet["attr_mA_std"] == pytest.approx(0.02)
    markdown = write_tables([base, paenet], grid, str(tmp_path))
    assert "| base | 2 | 10.00 ± 0.00 | 25.00 ± 5.00 | 10.00 ± 0.00 | — |" in markdown
    assert "| paenet | 2 | 10.00 ± 0.00 | 25.00 ± 0.00 | 10.00 ± 0.00 | 72.00 ± 2.00 |" in markdown
