#!/usr/bin/env python
"""Reproduce one of the paper's tables (1, 3 or 6) at the paper's setting, and write its "Ours" columns.

    python tools/reproduce.py --table 3 --data DIR [--gpus N] [--out DIR] [--dry-run] [KEY VALUE ...]

``DIR`` holds ``SYSU-MM01/``. Each run is a ``tools/train_net.py`` run under ``<out>/runs/``: a stopped run
resumes, a finished one is skipped. The table is written to ``<out>/table<N>.md`` and printed.
``--dry-run`` prints the commands and the projected time from ``benchmarks/results/paper_scale.json``.
"""
import os

import fastreid_ext  # noqa: F401  (registers the projects and their grids)
from fastreid_ext.engine.args import ArgumentParser, run_tool
from fastreid_ext.engine.defaults import setup_logging
from fastreid_ext.utils import atomic_write
from paenet.reproduce import TABLES, dry_run, run_table

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER_SCALE = os.path.join(REPO, "benchmarks", "results", "paper_scale.json")


def parse_args(argv=None):
    parser = ArgumentParser(__doc__)
    parser.add_argument("--table", type=int, required=True, choices=sorted(TABLES))
    parser.add_argument("--data", required=True, help="folder holding SYSU-MM01/")
    parser.add_argument("--gpus", type=int, default=1, help="GPUs per run (train_net.py --num-gpus)")
    parser.add_argument("--out", default="output/reproduce")
    parser.add_argument("--dry-run", action="store_true", help="print the commands and the projected time")
    parser.add_argument("--paper-scale", default=PAPER_SCALE, help="benchmarks/paper_scale.py's JSON")
    return parser.parse_args(argv)


def main(args):
    data, out = os.path.abspath(args.data), os.path.abspath(args.out)
    if args.dry_run:
        print(dry_run(args.table, data, out, args.opts, args.gpus, args.paper_scale))
        return
    markdown = run_table(args.table, data, out, args.opts, args.gpus)
    atomic_write(os.path.join(out, f"table{args.table}.md"), lambda f: f.write(markdown), mode="w")
    print(markdown)


if __name__ == "__main__":
    setup_logging()
    run_tool(main, parse_args())
