#!/usr/bin/env python
"""Reproduce one of the paper's tables (1, 3 or 6) at the paper's setting, and write its "Ours" columns.

    python tools/reproduce.py --table 3 --data DIR [--gpus N] [--out DIR] [--dry-run] [KEY VALUE ...]

``DIR`` holds ``SYSU-MM01/``. Each run is a ``tools/train_net.py`` run under ``<out>/runs/``: a stopped run
resumes, a finished one is skipped. The table is written to ``<out>/table<N>.md`` and printed.
``--dry-run`` prints the commands and the projected time from ``benchmarks/results/paper_scale.json``.
"""
import argparse
import json
import logging
import os
import shlex

from fastreid.utils.logger import setup_logger

import fastreid_ext  # noqa: F401  (registers the projects and their grids)
from paenet.reproduce import TABLES, projected_hours, run_table, table_commands

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER_SCALE = os.path.join(REPO, "benchmarks", "results", "paper_scale.json")


def _hours(value):
    return "not measured" if value is None else f"{value:.1f} h"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", type=int, required=True, choices=sorted(TABLES))
    parser.add_argument("--data", required=True, help="folder holding SYSU-MM01/")
    parser.add_argument("--gpus", type=int, default=1, help="GPUs per run (train_net.py --num-gpus)")
    parser.add_argument("--out", default="output/reproduce")
    parser.add_argument("--dry-run", action="store_true", help="print the commands and the projected time")
    parser.add_argument("--paper-scale", default=PAPER_SCALE, help="benchmarks/paper_scale.py's JSON")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides for every run")
    args = parser.parse_args(argv)
    data, out = os.path.abspath(args.data), os.path.abspath(args.out)
    if args.dry_run:
        commands = table_commands(args.table, data, out, args.opts, args.gpus)
        paper_scale = {}
        if os.path.isfile(args.paper_scale):
            with open(args.paper_scale) as f:
                paper_scale = json.load(f)
        hours = projected_hours(paper_scale, args.gpus)
        for run_dir, command in commands:
            print(f"# {os.path.relpath(run_dir, out)}\n{shlex.join(command)}")
        total = {kind: h and h * len(commands) for kind, h in hours.items()}
        gpus = f" on {args.gpus} GPUs" if args.gpus > 1 else ""
        print(f"{len(commands)} runs; projected from {os.path.relpath(args.paper_scale)} (one sysu.yml run, "
              f"80 epochs and its evaluations): GPU {_hours(hours['gpu'])} a run{gpus}, "
              f"{_hours(total['gpu'])} in all; CPU {_hours(hours['cpu'])} a run, {_hours(total['cpu'])} in all")
        return
    setup_logger(name="fastreid_ext")
    logging.getLogger("fastreid_ext").setLevel(logging.INFO)
    markdown = run_table(args.table, data, out, args.opts, args.gpus)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"table{args.table}.md"), "w") as f:
        f.write(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
