"""Run an ablation grid through ``python -m fastreid_ext.engine.launch`` (``tools/train_net.py``), resumably.

Every run trains in ``<out>/runs/<run>/seed<s>``; grids that name the same run with the same
training share it (``run.json`` records what it was trained with, and a grid that asks for something
else under the same name is refused). A shared run serves a grid only with the test-time attribute
sources it was evaluated with, so grids that share runs evaluate every source (PAENet's do). Each
finished cell is a row of ``<out>/results.json`` (``{"grid", "config", "seed", "rank1", "mAP",
"mINP", "attr_mA", "seconds"}``, metrics as fractions, ``attr_mA`` null without an attribute predictor,
seconds the run's training and evaluation time). Rows already there are not run again, and a run
stopped mid-way resumes from its last checkpoint (``--resume``).
"""
import csv
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Optional

import numpy as np

from ..evaluation import metric_key
from ..utils import atomic_write
from .grid import Grid

logger = logging.getLogger(__name__)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METRICS = (("rank1", "Rank-1"), ("mAP", "mAP"), ("mINP", "mINP"))


def _evaluation(run_dir):
    """The last evaluation record of a run's metrics.json, or None."""
    path = os.path.join(run_dir, "metrics.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        records = [r for r in map(json.loads, filter(str.strip, f)) if r.get("evaluation")]
    return records[-1] if records else None


def _training(grid, config_file, opts, seed, data_root, extra_opts):
    """What one run trains: ``{"config_file", "opts"}`` (train_net.py's ``KEY VALUE`` list, without
    OUTPUT_DIR and the evaluated attribute sources)."""
    args = ["DATASETS.ROOT", data_root, "SEED", str(seed),
            "DATASETS.NAMES", f"('{grid.dataset}',)", "DATASETS.TESTS", f"('{grid.dataset}',)",
            "TEST.SETTINGS", f"['{grid.setting}']"]
    return {"config_file": config_file, "opts": args + [str(o) for o in (*grid.common_opts, *opts, *extra_opts)]}


def _claim(run_dir, run, training):
    """Record what ``run_dir`` trains (``run.json``); refuse a run dir trained with something else."""
    path = os.path.join(run_dir, "run.json")
    if os.path.isfile(path):
        with open(path) as f:
            recorded = json.load(f)
        if {k: recorded[k] for k in training} != training:
            raise ValueError(f"{path}: run {run!r} was trained with\n  {_command(recorded)}\n"
                             f"but is now asked for with\n  {_command(training)}\n"
                             "give the new configuration another run name, or use another --out")
        return recorded
    os.makedirs(run_dir, exist_ok=True)
    _record(run_dir, training)
    return training


def _command(training):
    return " ".join(["--config-file", training["config_file"], *training["opts"]])


def _record(run_dir, recorded):
    _write_json(os.path.join(run_dir, "run.json"), recorded)


def _write_json(path, obj):
    atomic_write(path, lambda f: json.dump(obj, f, indent=1), mode="w")


def train_command(training: dict, sources: Sequence[str], run_dir: str,
                  train_args: Sequence[str] = ()) -> list[str]:
    """The ``tools/train_net.py`` command line of a run (``--resume`` when it has a checkpoint);
    ``train_args``: train_net's own flags, e.g. ``("--num-gpus", "2")``."""
    # The config file is relative to the repository, the run's cwd. TEST.ATTRIBUTES is always set (an
    # empty list leaves a head without attribute input on its own setting); the opts may override it.
    args = [sys.executable, "-m", "fastreid_ext.engine.launch", *train_args, "--config-file", training["config_file"],
            "TEST.ATTRIBUTES", str(list(sources)), *training["opts"], "OUTPUT_DIR", run_dir]
    if os.path.isfile(os.path.join(run_dir, "last_checkpoint")):
        args.append("--resume")
    return args


def grid_commands(grid: Grid, seeds: Iterable[int], data_root: str, out_dir: str, extra_opts: Sequence[str] = (),
                  train_args: Sequence[str] = ()) -> list[tuple[str, list[str]]]:
    """(run dir, train_net command) of every run of ``grid`` for each seed, trained or not."""
    commands = []
    for seed in seeds:
        for run, (config_file, opts, sources) in grid.runs().items():
            run_dir = run_directory(out_dir, run, seed)
            training = _training(grid, config_file, opts, seed, data_root, extra_opts)
            commands.append((run_dir, train_command(training, sources, run_dir, train_args)))
    return commands


def run_directory(out_dir: str, run: str, seed: int) -> str:
    return os.path.join(out_dir, "runs", run, f"seed{seed}")


def last_evaluation(out_dir: str, run: str, seed: int) -> Optional[dict]:
    """The last evaluation record (``metrics.json``) of ``run``/``seed`` under ``out_dir``, or None."""
    return _evaluation(run_directory(out_dir, run, seed))


def _train(training, sources, run_dir, train_args=()):
    args = train_command(training, sources, run_dir, train_args)
    with open(os.path.join(run_dir, "stdout.txt"), "a") as log:
        proc = subprocess.run(args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise RuntimeError(f"training run failed (exit {proc.returncode}): {' '.join(args)}\n"
                           f"see {os.path.join(run_dir, 'log.txt')}")


def _row(grid, cell, seed, record, seconds):
    keys = {name: metric_key(grid.dataset, grid.setting, cell.attributes or "n/a", key) for name, key in METRICS}
    missing = [key for key in keys.values() if key not in record]
    if missing:
        raise KeyError(f"grid {grid.name}, cell {cell.config}, seed {seed}: metrics.json lacks {missing} "
                       "(a run shared with another grid has only the attribute sources that grid evaluated)")
    row = {"grid": grid.name, "config": cell.config, "seed": seed}
    row.update({name: record[key] / 100.0 for name, key in keys.items()})
    # The predictor's test-image mA (it does not depend on the attributes PAE reads); None without one.
    attr_key = f"{grid.dataset}/attributes/all/mA"
    row["attr_mA"] = record[attr_key] / 100.0 if attr_key in record else None
    row["seconds"] = round(seconds, 1)
    return row


def load_results(out_dir: str) -> list[dict]:
    path = os.path.join(out_dir, "results.json")
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        return json.load(f)


def _save_results(out_dir, rows):
    _write_json(os.path.join(out_dir, "results.json"), rows)


def run_grid(grid: Grid, seeds: Iterable[int], data_root: str, out_dir: str,
             extra_opts: Sequence[str] = (), train_args: Sequence[str] = ()) -> list[dict]:
    """Train and evaluate every cell of ``grid`` for each seed in ``seeds``; returns the grid's rows.
    ``train_args``: train_net's own flags for every run (e.g. ``("--num-gpus", "2")``)."""
    rows = load_results(out_dir)
    for seed in seeds:
        for run, (config_file, opts, sources) in grid.runs().items():
            cells = [cell for cell in grid.cells if cell.run == run]
            done = {(r["grid"], r["config"], r["seed"]) for r in rows}
            if all((grid.name, cell.config, seed) in done for cell in cells):
                continue
            run_dir = run_directory(out_dir, run, seed)
            recorded = _claim(run_dir, run, _training(grid, config_file, opts, seed, data_root, extra_opts))
            record = _evaluation(run_dir)
            if record is None:
                logger.info("grid %s: training %s, seed %d", grid.name, run, seed)
                start = time.perf_counter()
                _train(recorded, sources, run_dir, train_args)
                record = _evaluation(run_dir)
                recorded["seconds"] = recorded.get("seconds", 0) + time.perf_counter() - start
                _record(run_dir, recorded)
            else:
                logger.info("grid %s: %s, seed %d already trained in %s", grid.name, run, seed, run_dir)
            rows.extend(_row(grid, cell, seed, record, recorded.get("seconds", 0)) for cell in cells
                        if (grid.name, cell.config, seed) not in done)
            _save_results(out_dir, rows)
    return [r for r in rows if r["grid"] == grid.name]


def summarise(rows: list[dict], grid: Grid) -> list[dict]:
    """One dict per cell, in grid order: config, seeds, mean and std (population) of each metric and of
    ``attr_mA`` (None for both when no seed of the cell has an attribute predictor)."""
    table = []
    for cell in grid.cells:
        mine = [r for r in rows if r["grid"] == grid.name and r["config"] == cell.config]
        if not mine:
            continue
        entry = {"config": cell.config, "seeds": len(mine), "seconds": sum(r.get("seconds", 0) for r in mine)}
        for name, _ in METRICS:
            values = np.array([r[name] for r in mine])
            entry[name], entry[f"{name}_std"] = float(values.mean()), float(values.std())
        attr = np.array([r["attr_mA"] for r in mine if r.get("attr_mA") is not None])
        entry["attr_mA"], entry["attr_mA_std"] = (float(attr.mean()), float(attr.std())) if attr.size else (None, None)
        table.append(entry)
    return table


def write_tables(table: list[dict], grid: Grid, out_dir: str) -> str:
    """``<grid>.md``, ``<grid>.csv``, ``<grid>.json`` and the bar chart ``<grid>.png`` under ``out_dir``."""
    header = "| Config | Seeds | " + " | ".join(key for _, key in METRICS) + " | Attribute mA |"
    lines = [f"**{grid.name}**: {grid.dataset} {grid.setting}, mean ± std over seeds (percent; attribute mA: "
             "the predictor's on the test images, — without one).", "", header, "|" + "---|" * (len(METRICS) + 3)]
    for e in table:
        cells = ["—" if e[n] is None else f"{100 * e[n]:.2f} ± {100 * e[n + '_std']:.2f}"
                 for n in (*(name for name, _ in METRICS), "attr_mA")]
        lines.append(f"| {e['config']} | {e['seeds']} | " + " | ".join(cells) + " |")
    markdown = "\n".join(lines) + "\n"
    atomic_write(os.path.join(out_dir, f"{grid.name}.md"), lambda f: f.write(markdown), mode="w")
    _write_json(os.path.join(out_dir, f"{grid.name}.json"), table)

    def write_csv(f):
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)

    atomic_write(os.path.join(out_dir, f"{grid.name}.csv"), write_csv, mode="w")
    _bar_chart(table, grid, os.path.join(out_dir, f"{grid.name}.png"))
    return markdown


def _bar_chart(table, grid, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(table), 3.6))
    width = 0.8 / len(METRICS)
    x = np.arange(len(table))
    for i, (name, label) in enumerate(METRICS):
        ax.bar(x + (i - (len(METRICS) - 1) / 2) * width, [100 * e[name] for e in table], width,
               yerr=[100 * e[f"{name}_std"] for e in table], capsize=3, label=label)
    ax.set_xticks(x, [e["config"] for e in table], rotation=15)
    ax.set_ylabel("percent")
    ax.set_title(f"{grid.name}: {grid.dataset} {grid.setting} (mean ± std over seeds)")
    top = max(100 * (e[name] + e[f"{name}_std"]) for e in table for name, _ in METRICS)
    ax.set_ylim(0, min(100, 1.25 * top))
    ax.legend(loc="upper left", fontsize=8, ncol=len(METRICS))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
