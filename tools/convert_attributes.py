"""Convert the per-camera attribute files released with PAENet (``cam<N>_att.mat``) into an ``attributes.csv``.

    python tools/convert_attributes.py --mat-dir path/to/att --dataset-dir datasets/SYSU-MM01 \
        --out datasets/SYSU-MM01/attributes.csv
"""
import argparse

import fastreid_ext  # noqa: F401  (shims before fastreid)
from fastreid_ext.data.datasets.attributes import convert_attribute_mats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mat-dir", required=True, help="directory holding cam<N>_att.mat")
    parser.add_argument("--dataset-dir", required=True,
                        help="dataset directory whose cam<N>/<id> folders give each file's column order")
    parser.add_argument("--out", required=True, help="CSV to write")
    args = parser.parse_args(argv)
    count = convert_attribute_mats(args.mat_dir, args.dataset_dir, args.out)
    print(f"wrote {count} identities to {args.out}")


if __name__ == "__main__":
    main()
