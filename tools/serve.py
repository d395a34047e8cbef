#!/usr/bin/env python
r"""Serve a web page to search a saved gallery index (``tools/retrieve.py build``) with query images.

    python tools/serve.py --config-file CFG --index gallery/ --samples queries/ [--port 8000] \
        MODEL.WEIGHTS model_final.pth

Then open http://127.0.0.1:8000/: upload a query image (infrared for a visible gallery, unless
--query-modality) or pick one of the sample queries, and see the top-k gallery matches. The server
binds 127.0.0.1 unless --host says otherwise; it has no authentication. Uploads: at most 10 MB and
--max-pixels (40 MP), raw (curl --data-binary @q.jpg "http://127.0.0.1:8000/api/search?k=10") or as a form
file (curl -F image=@q.jpg ...).
"""
import logging
import sys

import fastreid_ext  # noqa: F401  (patches FastReID and registers everything)
from fastreid_ext.data import MODALITY_NAMES
from fastreid_ext.engine import load_trained_model
from fastreid_ext.engine.args import ArgumentParser, run_tool
from fastreid_ext.search.pipeline import default_query_modality, inference_config, open_index
from fastreid_ext.search.server import MAX_PIXELS, SearchService, make_server, pick_samples
from fastreid_ext.search.sources import image_items, modality_code

logger = logging.getLogger("fastreid_ext.serve")


def parse_args(argv=None):
    parser = ArgumentParser(__doc__)
    parser.add_argument("--config-file", required=True, metavar="FILE", help="the model's config")
    parser.add_argument("--index", required=True, metavar="DIR", help="index directory")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (0: a free one)")
    parser.add_argument("--samples", action="append", default=[], metavar="PATH",
                        help="a query image or a folder of them to list as samples; repeatable")
    parser.add_argument("--num-samples", type=int, default=8, help="samples listed, spread over --samples")
    parser.add_argument("--query-modality", choices=sorted(MODALITY_NAMES.values()),
                        help="modality of the queries; default: the other one than the gallery's")
    parser.add_argument("--topk", type=int, default=10, help="matches shown by default")
    parser.add_argument("--attribute-threshold", type=float, default=0.5,
                        help="the page's attribute toggles take 'yes' as a predicted probability at least this")
    parser.add_argument("--max-pixels", type=int, default=MAX_PIXELS,
                        help="largest upload in pixels, read from the image header before decoding (413 above)")
    parser.add_argument("--workers", type=int, default=2,
                        help="threads decoding uploads and extracting their features, at most this many at once")
    parser.add_argument("--image-root", metavar="DIR",
                        help="the folder that now holds the gallery images (default: the one recorded at build)")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the SHA-256 check of the index files (saves reading a very large index)")
    return parser.parse_args(argv)


def main(args):
    cfg = inference_config(args.config_file, args.opts)
    index, extraction = open_index(args.index, cfg, not args.no_verify, args.image_root)
    modality = modality_code(args.query_modality) if args.query_modality else default_query_modality(extraction)
    if modality is None:
        sys.exit(f"{args.index} holds visible and infrared images: give --query-modality")
    samples = pick_samples(image_items(args.samples, modality), args.num_samples) if args.samples else []
    model, cfg = load_trained_model(cfg)
    service = SearchService(model, cfg, index, extraction, modality, samples, args.topk,
                            args.attribute_threshold, args.max_pixels, args.workers)
    server = make_server(service, args.host, args.port)
    host, port = server.server_address[:2]
    logger.info("Searching %r at http://%s:%d/ (Ctrl-C to stop)", index, host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="[%(asctime)s %(name)s]: %(message)s",
                        datefmt="%m/%d %H:%M:%S")
    run_tool(main, parse_args())
