"""The paper's Tables 1, 3 and 6 at the paper's setting (``configs/sysu.yml``: ResNet-50, 288x144, 80 epochs):
their runs as ablation grids, and the README's "Ours" columns (test-time attributes ``pred`` and ``gt``).

Every run is evaluated in SYSU-MM01 all-search and indoor-search (single-shot, seeded gallery) with each
test-time attribute source, so the three tables share their runs: Table 1 is Table 3's (d) and Table 6's
MMD + PAE + AAL. Run them with ``tools/reproduce.py --table N --data DIR``.
"""
import json
import os
import shlex

from fastreid_ext.ablation import GRID_REGISTRY, Grid
from fastreid_ext.ablation.runner import grid_commands, last_evaluation, run_grid

from .ablation import _baseline, _cell, _paenet

CONFIG = "projects/PAENet/configs/sysu.yml"
SETTINGS = ("all-1shot-seeded", "indoor-1shot-seeded")
SEEDS = (0,)  # the paper reports one training per row
_COMMON = ("TEST.SETTINGS", str(list(SETTINGS)))

# The paper's numbers (percent), as the README quotes them: cell -> setting -> (R1, mAP, mINP or None).
PAPER = {
    "table1": {"pae+aal": {"all": (74.22, 73.90, None), "indoor": (78.04, 83.54, None)}},
    "table3": {"baseline": {"all": (66.75, 62.25, 46.08)}, "pae": {"all": (60.67, 56.97, 42.00)},
               "aal": {"all": (69.32, 66.55, 53.43)}, "pae+aal": {"all": (74.22, 73.90, 64.29)}},
    "table6": {"agw": {"all": (47.50, 47.65, None)}, "agw+pae+aal": {"all": (69.80, 68.75, None)},
               "hct": {"all": (61.68, 57.51, None)}, "hct+pae+aal": {"all": (70.70, 69.23, None)},
               "mmd": {"all": (66.75, 62.25, None)}, "mmd+pae+aal": {"all": (74.22, 73.90, None)}},
}
# Table 3's rows: cell -> (row label, PAE, AAL).
TABLE3_ROWS = {"baseline": ("(a)", False, False), "pae": ("(b)", True, False), "aal": ("(c)", False, True),
               "pae+aal": ("(d)", True, True)}


def _grid(name, cells, description):
    return Grid(name, tuple(cells), setting=SETTINGS[0], common_opts=_COMMON, description=description)


@GRID_REGISTRY.register()
def paper_table1():
    """Table 1: PAENet (MMD baseline + PAE + AAL) on SYSU-MM01, all-search and indoor-search."""
    return _grid("paper_table1", [_cell("pae+aal", _paenet("mmd", config=CONFIG))], paper_table1.__doc__)


@GRID_REGISTRY.register()
def paper_table3():
    """Table 3: the MMD baseline, +PAE, +AAL, +PAE+AAL on SYSU-MM01 all-search."""
    return _grid("paper_table3", [
        _cell("baseline", _baseline("mmd", config=CONFIG)),
        _cell("pae", _paenet("mmd", aal=False, config=CONFIG)),
        _cell("aal", _paenet("mmd", pae=False, config=CONFIG)),
        _cell("pae+aal", _paenet("mmd", config=CONFIG)),
    ], paper_table3.__doc__)


@GRID_REGISTRY.register()
def paper_table6():
    """Table 6 (SYSU-MM01 columns): PAE+AAL plugged into the AGW, HCT and MMD baselines."""
    cells = []
    for name in ("agw", "hct", "mmd"):
        cells += [_cell(name, _baseline(name, config=CONFIG)), _cell(f"{name}+pae+aal", _paenet(name, config=CONFIG))]
    return _grid("paper_table6", cells, paper_table6.__doc__)


TABLES = {1: paper_table1, 3: paper_table3, 6: paper_table6}


def table_commands(table, data_root, out_dir, extra_opts=(), gpus=1):
    """(run dir, ``tools/train_net.py`` command) of each run of paper table ``table``."""
    return grid_commands(TABLES[table](), SEEDS, data_root, out_dir, extra_opts, _train_args(gpus))


def run_table(table, data_root, out_dir, extra_opts=(), gpus=1):
    """Train (or resume, or skip when finished) every run of paper table ``table``; returns its Markdown."""
    grid = TABLES[table]()
    run_grid(grid, SEEDS, data_root, out_dir, extra_opts, _train_args(gpus))
    return table_markdown(table, out_dir)


def _train_args(gpus):
    return ("--num-gpus", str(gpus)) if gpus > 1 else ()


def _metrics(record, dataset, setting, source):
    """(R1, mAP, mINP) in percent of one evaluated setting and attribute source, or None if absent."""
    prefix = f"{dataset}/{setting}/{source}"
    keys = [f"{prefix}/{key}" for key in ("Rank-1", "mAP", "mINP")]
    return tuple(record[key] for key in keys) if record and all(key in record for key in keys) else None


def _fmt(values, count):
    if values is None:
        return "—"
    return " / ".join(f"{v:.2f}" for v in values[:count] if v is not None)


def ours(table, out_dir):
    """cell -> setting ("all", "indoor") -> source ("pred", "gt", or "na" for a model without attributes)
    -> (R1, mAP, mINP) or None, from each run's last evaluation (seed 0)."""
    grid = TABLES[table]()
    found = {}
    for cell in grid.cells:
        record = last_evaluation(out_dir, cell.run, SEEDS[0])
        sources = ("pred", "gt") if cell.attributes is not None else ("na",)
        found[cell.config] = {setting.split("-")[0]: {source: _metrics(record, grid.dataset, setting, source)
                                                      for source in sources} for setting in SETTINGS}
    return found


def _pred_gt(result):
    """(pred column, gt column) of one cell and setting: a model without attributes has one result."""
    if "na" in result:
        return result["na"], result["na"]
    return result["pred"], result["gt"]


def table_markdown(table, out_dir):
    """The README's table ``table`` with its "Ours" columns (``pred`` and ``gt``) filled from ``out_dir``."""
    found, paper = ours(table, out_dir), PAPER[f"table{table}"]
    if table == 1:
        lines = ["| Setting | Paper R1 | Paper mAP | Ours (`pred`) | Ours (`gt`) |", "|---|---|---|---|---|"]
        for setting, label in (("all", "all-search"), ("indoor", "indoor-search")):
            pred, gt = _pred_gt(found["pae+aal"][setting])
            r1, mAP, _ = paper["pae+aal"][setting]
            lines.append(f"| SYSU-MM01 {label} | {r1:.2f} | {mAP:.2f} | {_fmt(pred, 2)} | {_fmt(gt, 2)} |")
    elif table == 3:
        lines = ["| | PAE | AAL | Paper | Ours (`pred`) | Ours (`gt`) |", "|---|---|---|---|---|---|"]
        for cell, (label, pae, aal) in TABLE3_ROWS.items():
            pred, gt = _pred_gt(found[cell]["all"])
            marks = " | ".join("✓" if on else "✗" for on in (pae, aal))
            lines.append(f"| {label} | {marks} | {_fmt(paper[cell]['all'], 3)} | {_fmt(pred, 3)} | {_fmt(gt, 3)} |")
    else:
        lines = ["| Baseline | Paper SYSU | Paper +PAE+AAL | Ours | Ours +PAE+AAL (`pred`) | Ours +PAE+AAL (`gt`) |",
                 "|---|---|---|---|---|---|"]
        for name in ("agw", "hct", "mmd"):
            base, _ = _pred_gt(found[name]["all"])
            pred, gt = _pred_gt(found[f"{name}+pae+aal"]["all"])
            lines.append(f"| {name.upper()} | {_fmt(paper[name]['all'], 2)} | "
                         f"{_fmt(paper[f'{name}+pae+aal']['all'], 2)} | {_fmt(base, 2)} | {_fmt(pred, 2)} | "
                         f"{_fmt(gt, 2)} |")
    caption = (f"Table {table}: SYSU-MM01 single-shot, seeded gallery, 10 trials; R1 / mAP"
               f"{' / mINP' if table == 3 else ''} (percent); `pred`/`gt`: test-time attributes; "
               f"— : not measured.")
    return caption + "\n\n" + "\n".join(lines) + "\n"


def dry_run(table, data_root, out_dir, extra_opts=(), gpus=1, paper_scale_file=None):
    """What ``run_table`` would run, as text: each run's command after a ``# <run dir>`` line, then the
    number of runs and the time projected from ``paper_scale_file`` (``benchmarks/paper_scale.py``'s JSON;
    "not measured" where it is absent or lacks the device)."""
    commands = table_commands(table, data_root, out_dir, extra_opts, gpus)
    paper_scale = {}
    if paper_scale_file and os.path.isfile(paper_scale_file):
        with open(paper_scale_file) as f:
            paper_scale = json.load(f)
    hours = projected_hours(paper_scale, gpus)
    total = {kind: h and h * len(commands) for kind, h in hours.items()}
    lines = [f"# {os.path.relpath(run_dir, out_dir)}\n{shlex.join(command)}" for run_dir, command in commands]
    on_gpus = f" on {gpus} GPUs" if gpus > 1 else ""
    lines.append(f"{len(commands)} runs; projected from {paper_scale_file and os.path.relpath(paper_scale_file)} "
                 f"(one sysu.yml run, 80 epochs and its evaluations): GPU {_hours(hours['gpu'])} a run{on_gpus}, "
                 f"{_hours(total['gpu'])} in all; CPU {_hours(hours['cpu'])} a run, {_hours(total['cpu'])} in all")
    return "\n".join(lines)


def _hours(value):
    return "not measured" if value is None else f"{value:.1f} h"


def projected_hours(paper_scale, gpus=1):
    """Projected hours of one run from ``benchmarks/results/paper_scale.json`` (its entries per device kind):
    {"cpu": h or None, "gpu": h or None}; the GPU time is divided by ``gpus`` (ideal scaling)."""
    cpu, cuda = paper_scale.get("cpu"), paper_scale.get("cuda")
    return {"cpu": cpu["projected_total_h"] if cpu else None,
            "gpu": cuda["projected_total_h"] / gpus if cuda else None}
