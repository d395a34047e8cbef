"""Write the synthetic visible-infrared dataset SynthVI in the on-disk format of SYSU-MM01, RegDB or LLCM.

    python tools/make_synthvi.py --out datasets --format sysu --ids 100 --seed 0 [--hard]
    python tools/make_synthvi.py --out datasets --preset sysu     # SYSU-MM01's identities, splits and counts

A preset sets the format, identities, image size and counts of the real set; other flags still apply.
"""
import argparse
import os

from fastreid_ext.data.synthvi import PRESETS, WRITERS, make_synthvi


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder that receives SYSU-MM01/, RegDB/ or LLCM/")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="the shape of the real set")
    parser.add_argument("--format", default="sysu", choices=sorted(WRITERS))
    parser.add_argument("--ids", type=int, default=100, help="number of identities")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hard", action="store_true", help="shared colours, stronger light/viewpoint changes, noise")
    parser.add_argument("--images-per-camera", type=int, default=10)
    parser.add_argument("--size", type=int, nargs=2, default=(128, 64), metavar=("H", "W"), help="image size")
    parser.add_argument("--processes", type=int, default=os.cpu_count(),
                        help="rendering processes (the files are the same for any number)")
    args = parser.parse_args(argv)
    args.shape = None
    if args.preset:
        # The preset replaces the defaults; flags given on the command line still win.
        parser.set_defaults(**{key.replace("-", "_"): value for key, value in PRESETS[args.preset].items()})
        args = parser.parse_args(argv)
        args.shape = PRESETS[args.preset].get("shape")
    return args


def main(argv=None):
    args = parse_args(argv)
    root = make_synthvi(args.out, format=args.format, ids=args.ids, seed=args.seed, hard=args.hard,
                        images_per_camera=args.images_per_camera, size=tuple(args.size), processes=args.processes,
                        shape=args.shape)
    print(f"wrote {root}")


if __name__ == "__main__":
    main()
