"""Search server under load on 127.0.0.1: small uploads alone, then with one 40 MP upload mixed in.

The model is the demo's (``projects/PAENet/configs/synthvi.yml``: ResNet-18, 64x32 input) with random
weights (timing does not depend on training); the gallery is the visible images of a small SynthVI set; each
small upload is one of its infrared 128x64 images; the big upload is that image enlarged to 8000x5000
(40 MP, the default ``--max-pixels``) as a JPEG. Each run sends ``--requests`` uploads over ``--concurrency``
connections (``fastreid_ext.search.load.run_load``), the big one at a tenth of the way. The last row
serves with one worker: decoding and extraction serialised, as when they ran inside the search lock.

    python benchmarks/serve_load.py                # 200 requests, concurrency 8
"""
import argparse
import io
import json
import os
import platform
import sys
import tempfile
import threading

import torch
from PIL import Image

import fastreid_ext  # noqa: F401  (applies the FastReID shims)
from fastreid_ext.config import get_cfg
from fastreid_ext.data.synthvi import make_synthvi
from fastreid_ext.engine import CMTrainer, load_trained_model
from fastreid_ext.search.load import run_load, summarize
from fastreid_ext.search.pipeline import build_index, open_index
from fastreid_ext.search.server import SearchService, make_server
from fastreid_ext.search.sources import image_items

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model(folder):
    cfg = get_cfg()
    cfg.merge_from_file(os.path.join(REPO, "projects/PAENet/configs/synthvi.yml"))
    cfg.merge_from_list(["MODEL.DEVICE", "cpu", "MODEL.HEADS.NUM_CLASSES", 12, "DATALOADER.NUM_WORKERS", 0,
                         "MODEL.WEIGHTS", os.path.join(folder, "random.pth")])
    torch.manual_seed(0)
    torch.save({"model": CMTrainer.build_model(cfg).state_dict()}, cfg.MODEL.WEIGHTS)
    return load_trained_model(cfg)


def _run(model, cfg, index_dir, requests, concurrency, workers):
    index, extraction = open_index(index_dir, cfg)
    service = SearchService(model, cfg, index, extraction, 1, k=10, workers=workers)
    server = make_server(service, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return run_load(f"http://127.0.0.1:{server.server_address[1]}/api/search?k=10", requests, concurrency,
                        time_limit=900)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "serve_load.json"))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        make_synthvi(folder, format="sysu", ids=12, seed=0, images_per_camera=2, processes=1, preview=False)
        sysu = os.path.join(folder, "SYSU-MM01")
        model, cfg = _model(folder)
        build_index(model, cfg, image_items([os.path.join(sysu, f"cam{c}") for c in (1, 2, 4, 5)], 0),
                    os.path.join(folder, "index"))
        query = image_items([os.path.join(sysu, "cam3")], 1)[0][0]
        with open(query, "rb") as f:
            small = f.read()
        big = io.BytesIO()
        Image.open(query).convert("RGB").resize((5000, 8000), Image.BICUBIC).save(big, "JPEG", quality=90)
        mixed = [("small", small)] * (args.requests - 1)
        mixed.insert(args.requests // 10, ("big", big.getvalue()))
        runs = [("small uploads alone", [("small", small)] * args.requests, 2),
                ("with one 40 MP upload", mixed, 2),
                ("with one 40 MP upload, one worker", mixed, 1)]
        rows = []
        for name, requests, workers in runs:
            records = _run(model, cfg, os.path.join(folder, "index"), requests, args.concurrency, workers)
            rows.append({"run": name, "workers": workers, "all": summarize(records),
                         "small": summarize(records, "small"), "big": summarize(records, "big")})
    base = rows[0]["small"]["p95_s"]
    print(f"{args.requests} requests, concurrency {args.concurrency}, 127.0.0.1; big upload "
          f"{len(big.getvalue()) / 1e6:.1f} MB JPEG; load average before {load[0]:.1f} on {os.cpu_count()} cores\n")
    print("| run | workers | answered | 5xx | small p50 s | small p95 s | p95 / alone | small max s | big s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        small, big_s = row["small"], row["big"]["max_s"]
        print(f"| {row['run']} | {row['workers']} | {row['all']['answered']}/{row['all']['count']} | "
              f"{row['all']['errors_5xx']} | {small['p50_s']:.3f} | {small['p95_s']:.3f} | "
              f"{small['p95_s'] / base:.2f} | {small['max_s']:.2f} | {'–' if big_s is None else f'{big_s:.2f}'} |")
    results = {"torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
               "cores": os.cpu_count(), "load_average_1_5_15": load, "requests": args.requests,
               "concurrency": args.concurrency, "big_upload_bytes": len(big.getvalue()), "rows": rows}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nwritten to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
