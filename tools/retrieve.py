#!/usr/bin/env python
r"""Index a gallery with a trained model, search it, describe an index.

    # the visible gallery of SYSU-MM01 (all-1shot-seeded, trial 0), or a folder of visible images
    python tools/retrieve.py build --config-file CFG --index gallery/ \
        --dataset SYSUMM01 --split gallery --setting all-1shot-seeded --trial 0 MODEL.WEIGHTS model_final.pth
    python tools/retrieve.py build --config-file CFG --index gallery/ --images crops/ --modality visible \
        MODEL.WEIGHTS model_final.pth [RETRIEVAL.KIND ivf TEST.IMS_PER_BATCH 256 DATALOADER.NUM_WORKERS 8 ...]
    # top-k of infrared crops (the other modality than the gallery's unless --query-modality)
    python tools/retrieve.py query --config-file CFG --index gallery/ --images queries/ --topk 10 \
        --format csv --output top10.csv --plot top10.png MODEL.WEIGHTS model_final.pth
    # only those who carry a backpack, or no query image at all: the gallery items the description fits,
    # ranked by the joint probability of the described attributes
    python tools/retrieve.py query ... --where "backpack >= 0.5 and camid in (3, 6)"
    python tools/retrieve.py describe --index gallery/ --where "gender >= 0.5 and hair_length >= 0.5" --topk 20
    python tools/retrieve.py info --index gallery/
    # the index's files are checked against their SHA-256 unless --no-verify; gallery images moved since the
    # build: query ... --image-root NEW_FOLDER (info shows the recorded image_root)

``KEY VALUE`` pairs, anywhere among the flags, override the config, as in ``tools/train_net.py``.
"""
import sys

import fastreid_ext  # noqa: F401  (patches FastReID and registers everything)
from fastreid_ext.data import MODALITY_NAMES
from fastreid_ext.engine import load_trained_model
from fastreid_ext.engine.args import ArgumentParser, run_tool
from fastreid_ext.engine.defaults import setup_logging
from fastreid_ext.search.pipeline import (
    build_index,
    default_query_modality,
    describe,
    index_info,
    inference_config,
    open_gallery,
    open_index,
    search,
)
from fastreid_ext.search.plot import plot_search_results
from fastreid_ext.search.results import RESULT_FORMATS
from fastreid_ext.search.sources import dataset_items, image_items, modality_code

MODALITIES = sorted(MODALITY_NAMES.values())


def _add_model_and_source(parser, split):
    parser.add_argument("--config-file", required=True, metavar="FILE", help="the model's config")
    parser.add_argument("--index", required=True, metavar="DIR", help="index directory")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", action="append", metavar="PATH",
                        help="an image file or a folder of images (searched recursively); repeatable")
    source.add_argument("--dataset", metavar="NAME", help="a registered dataset, e.g. SYSUMM01 (DATASETS.ROOT)")
    parser.add_argument("--split", default=split, choices=("query", "gallery"), help="the dataset's split")
    parser.add_argument("--setting", help="the dataset's evaluation setting, e.g. all-1shot-seeded or v2t "
                                          "(default: its first default setting)")
    parser.add_argument("--trial", type=int, default=0, help="the setting's trial")


def _add_verify(parser):
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the SHA-256 check of the index files (saves reading a very large index)")


def parse_args(argv=None):
    parser = ArgumentParser(__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="extract and index gallery features")
    _add_model_and_source(build, "gallery")
    build.add_argument("--modality", choices=MODALITIES, help="modality of the --images (required with them)")
    build.add_argument("--chunk-size", type=int, default=50000, help="images extracted and added at a time")
    query = commands.add_parser("query", help="top-k gallery matches of query images")
    _add_model_and_source(query, "query")
    query.add_argument("--query-modality", choices=MODALITIES,
                       help="modality of the --images; default: the other one than the gallery's")
    query.add_argument("--where", help="only gallery items whose metadata satisfy this expression, e.g. "
                                       "\"backpack >= 0.5 and camid in (3, 6)\"")
    describe_ = commands.add_parser("describe", help="gallery items fitting a description of attributes, no "
                                                     "query image", overrides=False)
    describe_.add_argument("--index", required=True, metavar="DIR", help="index directory")
    describe_.add_argument("--where", required=True, help="the description, e.g. \"backpack >= 0.5 and "
                                                          "gender < 0.5\" (columns: tools/retrieve.py info)")
    for command in (query, describe_):
        command.add_argument("--topk", type=int, default=10, help="matches per query")
        command.add_argument("--format", default="json", choices=sorted(RESULT_FORMATS), help="output format")
        command.add_argument("--output", metavar="FILE", help="write the results here instead of standard output")
        command.add_argument("--plot", metavar="PNG", help="also draw the rank lists of the first queries")
        command.add_argument("--plot-queries", type=int, default=8, help="queries drawn by --plot")
        command.add_argument("--image-root", metavar="DIR",
                             help="the folder that now holds the gallery images (default: the one recorded at build)")
        _add_verify(command)
    info = commands.add_parser("info", help="print an index's header", overrides=False)
    info.add_argument("--index", required=True, metavar="DIR", help="index directory")
    _add_verify(info)
    args = parser.parse_args(argv)
    if args.command in ("info", "describe") and args.opts:
        parser.error(f"{args.command} takes no config overrides: {' '.join(args.opts)}")
    if args.command == "build" and bool(args.images) != bool(args.modality):
        parser.error("--modality goes with --images (and --images needs it): dataset items know their modality")
    if args.command == "query" and args.dataset and args.query_modality:
        parser.error("--query-modality goes with --images: dataset items know their modality")
    return args


def _items(args, cfg, modality):
    if args.images:
        return image_items(args.images, modality)
    return dataset_items(cfg, args.dataset, args.split, args.setting, args.trial)


def build(args):
    cfg = inference_config(args.config_file, args.opts)
    model, cfg = load_trained_model(cfg)
    items = _items(args, cfg, args.modality and modality_code(args.modality))
    build_index(model, cfg, items, args.index, args.chunk_size)


def query(args):
    cfg = inference_config(args.config_file, args.opts)
    index, extraction = open_index(args.index, cfg, not args.no_verify, args.image_root)
    modality = None
    if args.images:
        modality = modality_code(args.query_modality) if args.query_modality else default_query_modality(extraction)
        if modality is None:
            sys.exit(f"{args.index} holds visible and infrared images: give --query-modality")
    model, cfg = load_trained_model(cfg)
    results = search(model, cfg, index, _items(args, cfg, modality), args.topk, args.where)
    _write(args, results, cfg.INPUT.SIZE_TEST)


def describe_(args):
    index, extraction = open_gallery(args.index, not args.no_verify, args.image_root)
    results = [describe(index, extraction, args.where, args.topk)]
    _write(args, results, extraction["settings"]["INPUT.SIZE_TEST"])


def _write(args, results, size):
    write = RESULT_FORMATS[args.format]
    if args.output:
        with open(args.output, "w", newline="") as f:
            write(results, f)
    else:
        write(results, sys.stdout)
    if args.plot:
        plot_search_results(results, args.plot, args.plot_queries, size)


def info(args):
    for key, value in index_info(args.index, not args.no_verify).items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    # Logs go to standard error: query results may go to standard output.
    setup_logging(stream=sys.stderr)
    arguments = parse_args()
    run_tool({"build": build, "query": query, "describe": describe_, "info": info}[arguments.command], arguments)
