#!/usr/bin/env python
"""Check the datasets of a config (DATASETS.NAMES and DATASETS.TESTS) before training: per split and camera
the identities, images, items without attributes, bad image files and the cross-camera disagreement of the
attributes. Exits 1 naming every problem.

    python tools/check_dataset.py --config-file projects/PAENet/configs/sysu.yml [--decode] \
        DATASETS.ROOT datasets [KEY VALUE ...]
"""
import sys

import fastreid_ext  # noqa: F401  (patches FastReID and registers everything)
from fastreid_ext.data.check import check_datasets, format_check
from fastreid_ext.engine.args import ArgumentParser, run_tool
from fastreid_ext.engine.defaults import build_config


def parse_args(argv=None):
    parser = ArgumentParser(__doc__)
    parser.add_argument("--config-file", default="", metavar="FILE", help="path to config file")
    parser.add_argument("--decode", action="store_true",
                        help="decode every image (slow) instead of reading headers and end markers")
    return parser.parse_args(argv)


def check(args):
    results = check_datasets(build_config(args.config_file, args.opts), args.decode)
    print("\n\n".join(format_check(result) for result in results))
    return 1 if any(result.problems for result in results) else 0


def main(argv=None):
    return run_tool(check, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
