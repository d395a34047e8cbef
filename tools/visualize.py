#!/usr/bin/env python
"""Figures of a trained model on the first dataset of DATASETS.TESTS: rank lists, t-SNE, attention maps,
attribute recognition (PNG files, and a markdown table of the attributes).

    python tools/visualize.py --config-file projects/PAENet/configs/sysu.yml --out output/vis \
        [--figures rank_list tsne attention attributes] [--setting all-1shot-seeded] [--trial 0] \
        MODEL.WEIGHTS output/sysu/paenet/model_final.pth [KEY VALUE ...]

The output folder also receives the full config (config.yaml) and the log (log.txt).
"""
import fastreid_ext  # noqa: F401  (patches FastReID and registers everything)
from fastreid_ext.engine import setup
from fastreid_ext.engine.args import ArgumentParser, run_tool
from fastreid_ext.visualization import FIGURES, FigureOptions, load_split_features, visualize


def parse_args(argv=None):
    defaults = FigureOptions()
    parser = ArgumentParser(__doc__)
    parser.add_argument("--config-file", required=True, metavar="FILE", help="path to config file")
    parser.add_argument("--out", required=True, help="folder that receives the figures (its OUTPUT_DIR)")
    parser.add_argument("--figures", nargs="+", choices=list(FIGURES), default=list(FIGURES))
    parser.add_argument("--setting", default="", help="test setting (default: the first with infrared queries)")
    parser.add_argument("--trial", type=int, default=0)
    parser.add_argument("--num-queries", type=int, default=defaults.num_queries, help="rank list: queries")
    parser.add_argument("--topk", type=int, default=defaults.topk, help="rank list: gallery images per query")
    parser.add_argument("--tsne-ids", type=int, default=defaults.tsne_ids, help="t-SNE: identities")
    parser.add_argument("--attention-ids", type=int, default=defaults.attention_ids,
                        help="attention: identities (a visible and an infrared image each)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="t-SNE random state")
    return parser.parse_args(argv)


def main(args):
    args.opts = list(args.opts) + ["OUTPUT_DIR", args.out]
    cfg = setup(args)
    split = load_split_features(cfg, args.setting, args.trial)
    options = FigureOptions(num_queries=args.num_queries, topk=args.topk, tsne_ids=args.tsne_ids,
                            attention_ids=args.attention_ids, seed=args.seed)
    return visualize(split, args.out, args.figures, options)


if __name__ == "__main__":
    arguments = parse_args()
    run_tool(main, arguments)
