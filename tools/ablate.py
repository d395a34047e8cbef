#!/usr/bin/env python
"""Run a named ablation grid over several seeds and write its table (Markdown, CSV, JSON) and bar chart.

    python tools/ablate.py --grid table3 --seeds 3 [--data DIR] [--out DIR] [--difficulty hard|normal] [KEY VALUE ...]

Without ``--data`` a default-size SynthVI set (SYSU-MM01 layout, seed 0; the hard variant unless
``--difficulty normal``) is generated under ``<out>/data-<difficulty>`` once. Finished cells are not run
again; grids writing to the same ``--out`` share the runs they have in common.
"""
import os

import fastreid_ext  # noqa: F401  (registers every grid)
from fastreid_ext.ablation import GRID_REGISTRY, run_grid, summarise
from fastreid_ext.ablation.runner import write_tables
from fastreid_ext.data.synthvi import make_synthvi
from fastreid_ext.engine.args import ArgumentParser, run_tool
from fastreid_ext.engine.defaults import setup_logging


def parse_args(argv=None):
    parser = ArgumentParser(__doc__)
    parser.add_argument("--grid", required=True, help="grid name: " + ", ".join(sorted(GRID_REGISTRY._obj_map)))
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    parser.add_argument("--data", help="an existing SynthVI directory (holding SYSU-MM01/)")
    parser.add_argument("--out", default="output/ablation")
    parser.add_argument("--difficulty", choices=("hard", "normal"), default="hard",
                        help="the SynthVI variant generated without --data (hard: shared colours, stronger "
                             "light and viewpoint changes, so that no baseline saturates)")
    parser.add_argument("--ids", type=int, default=100, help="identities of the generated SynthVI set")
    return parser.parse_args(argv)


def main(args):
    grid = GRID_REGISTRY.get(args.grid)()
    data = args.data
    if data is None:
        data = os.path.join(args.out, f"data-{args.difficulty}")
        if not os.path.isdir(os.path.join(data, "SYSU-MM01")):
            make_synthvi(data, format="sysu", ids=args.ids, seed=0, hard=args.difficulty == "hard")
    rows = run_grid(grid, range(args.seeds), os.path.abspath(data), os.path.abspath(args.out), args.opts)
    print(write_tables(summarise(rows, grid), grid, args.out))


if __name__ == "__main__":
    setup_logging()
    arguments = parse_args()
    run_tool(main, arguments)
