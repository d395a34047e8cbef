"""Convert the per-camera attribute files released with PAENet (``cam<N>_att.mat``) into a per-camera
``attributes.csv`` (``pid,cam,<8 names>``: column pid - 1 of each file, every column kept).

    python tools/convert_attributes.py --mat-dir path/to/attribute --out datasets/SYSU-MM01/attributes.csv
"""
import argparse

import fastreid_ext  # noqa: F401  (shims before fastreid)
from fastreid_ext.data.datasets.attributes import convert_attribute_mats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mat-dir", required=True, help="folder holding cam<N>_att.mat")
    parser.add_argument("--out", required=True, help="CSV to write")
    args = parser.parse_args(argv)
    table = convert_attribute_mats(args.mat_dir, args.out)
    widths = ", ".join(f"cam{cam}: {width}" for cam, (_, width) in sorted(table.columns.items()))
    print(f"wrote {len(table.vectors)} (identity, camera) rows to {args.out} "
          f"(identity columns W per camera: {widths})")


if __name__ == "__main__":
    main()
