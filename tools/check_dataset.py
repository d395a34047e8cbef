#!/usr/bin/env python
"""Check the datasets of a config (DATASETS.NAMES and DATASETS.TESTS) before training: per split and camera
the identities, images, items without attributes, bad image files and the cross-camera disagreement of the
attributes. Exits 1 naming every problem.

    python tools/check_dataset.py --config-file projects/PAENet/configs/sysu.yml [--decode] \
        DATASETS.ROOT datasets [KEY VALUE ...]
"""
import argparse
import sys

import fastreid_ext  # noqa: F401  (patches FastReID and registers everything)
from fastreid_ext.config import get_cfg
from fastreid_ext.data.check import check_datasets, format_check


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-file", default="", metavar="FILE", help="path to config file")
    parser.add_argument("--decode", action="store_true",
                        help="decode every image (slow) instead of reading headers and end markers")
    parser.add_argument("opts", nargs=argparse.REMAINDER, default=None, help="KEY VALUE config overrides")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = get_cfg()
    if args.config_file:
        cfg.merge_from_file(args.config_file)
    cfg.merge_from_list(list(args.opts or []))
    cfg.freeze()
    results = check_datasets(cfg, args.decode)
    print("\n\n".join(format_check(result) for result in results))
    return 1 if any(result.problems for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
