"""The paper's setting for a few iterations: will an 80-epoch run fit, and is it input-bound?

Runs ``projects/PAENet/configs/sysu.yml`` unchanged (dual-stream ResNet-50 at 288x144, the paper's PAE
sizes, 8 identities x (4 + 4) images a step) on a SYSU-MM01-shaped tree (``tools/make_synthvi.py --preset
sysu``), through the project's own trainer (``CMTrainer``: its model, optimizer, loader, checkpointer and
training step), and measures:

- seconds per iteration of the model alone (training steps on batches cached in memory) and of the full
  pipeline (the training loader with its workers feeding the same steps);
- the loader alone: images/s in all and per worker, and whether it keeps up with the model step;
- peak RSS (this process, and the loader workers), and on CUDA the peak GPU memory;
- the size of a checkpoint (model + optimizer + scheduler) and of the model weights alone;
- one full evaluation: features of every test image of every evaluated trial, then the trials' metrics
  (``--eval-images N`` extracts N images only and extrapolates the extraction, marked in the output);
- the projected wall time of the config's epochs (80), with its periodic evaluations;
- on CUDA with ``SOLVER.AMP.ENABLED True``: the steps GradScaler skipped (its scale dropped).

``benchmarks/results/paper_scale.json`` keeps one entry per device kind (``cpu``, ``cuda``).

    python benchmarks/paper_scale.py --data DIR --iters 20 [--reduced-pae] [--eval-images N] [KEY VALUE ...]
    python benchmarks/paper_scale.py --data DIR --iters 50 SOLVER.AMP.ENABLED True     # on a GPU

``DIR`` holds ``SYSU-MM01/``. ImageNet weights are not loaded (``MODEL.BACKBONE.PRETRAIN False``): they
change the values, not the cost.
"""
import argparse
import itertools
import json
import os
import platform
import resource
import sys
import tempfile
import time

import numpy as np
import torch
from fastreid.utils.events import EventStorage
from tabulate import tabulate

import fastreid_ext  # noqa: F401  (applies the FastReID shims, registers PAENet)
from fastreid_ext.data import build_cm_test_loader
from fastreid_ext.data.build import resolve_num_workers
from fastreid_ext.engine import CMTrainer
from fastreid_ext.engine.defaults import build_config
from fastreid_ext.engine.trainer import attribute_source
from fastreid_ext.evaluation import extract

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = "projects/PAENet/configs/sysu.yml"
# The cheaper PAE sizes of benchmarks/model_cost.py (its "d256-r256").
REDUCED_PAE = ["MODEL.PAE.EMBED_DIM", 256, "MODEL.PAE.FFN_DIM", 256, "MODEL.PAE.GATE_DIM", 256]
CACHED_BATCHES = 2  # batches held in memory for the model-alone steps


def build_cfg(args, output_dir):
    return build_config(os.path.join(REPO, args.config_file),
                        ["DATASETS.ROOT", os.path.abspath(args.data), "MODEL.BACKBONE.PRETRAIN", False,
                         "OUTPUT_DIR", output_dir, *(REDUCED_PAE if args.reduced_pae else []), *args.opts])


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_steps(trainer, batches, iters, device):
    """Seconds per training step over ``iters`` steps (after one warm-up step) drawing from ``batches``, and
    the steps GradScaler skipped (None without AMP)."""
    inner = trainer._trainer
    inner._data_loader_iter = batches
    scaler = getattr(inner, "grad_scaler", None)
    skipped = 0
    with EventStorage(0):
        inner.run_step()
        _sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            before = scaler.get_scale() if scaler is not None else None
            inner.run_step()
            if scaler is not None and scaler.get_scale() < before:
                skipped += 1
        _sync(device)
    return (time.perf_counter() - start) / iters, (skipped if scaler is not None else None)


def time_loader(loader, batches):
    """Images/s of the training loader alone over ``batches`` batches (after the workers' first batch)."""
    it = iter(loader)
    next(it)
    start = time.perf_counter()
    images = sum(len(next(it)["images"]) for _ in range(batches))
    return images / (time.perf_counter() - start)


def checkpoint_sizes(trainer, output_dir):
    """(bytes of a full checkpoint, bytes of the model weights alone)."""
    trainer.checkpointer.save("paper_scale")
    full = os.path.getsize(os.path.join(output_dir, "paper_scale.pth"))
    weights = os.path.join(output_dir, "weights.pth")
    torch.save(getattr(trainer.model, "module", trainer.model).state_dict(), weights)
    return full, os.path.getsize(weights)


def time_evaluation(cfg, model, eval_images):
    """One evaluation of ``DATASETS.TESTS[0]`` with the head's own attribute source: (extraction seconds,
    metric seconds, test images, extracted images). With ``eval_images`` > 0, only that many images are
    extracted, the time is scaled to all, and the metrics run on their features repeated to every image."""
    source = CMTrainer.test_attribute_sources(cfg, model)[0]
    _, evaluator = CMTrainer.build_evaluator(cfg, cfg.DATASETS.TESTS[0], test_attributes=source)
    items = evaluator.test_items()
    subset = items[:eval_images] if 0 < eval_images < len(items) else items
    start = time.perf_counter()
    with attribute_source(model, source):
        extracted = extract(model, build_cm_test_loader(cfg, subset), flip=cfg.TEST.FLIP.ENABLED)
    extraction = (time.perf_counter() - start) * len(items) / len(subset)
    if len(subset) < len(items):
        rows = np.arange(len(items)) % len(subset)
        extracted = {key: value[rows] for key, value in extracted.items() if key != "img_paths"}
        extracted["img_paths"] = [item[0] for item in items]
    start = time.perf_counter()
    evaluator.evaluate_features(extracted)
    return extraction, time.perf_counter() - start, len(items), len(subset)


def measure(cfg, args):
    device = cfg.MODEL.DEVICE
    trainer = CMTrainer(cfg)
    loader = trainer._trainer.data_loader
    workers = resolve_num_workers(cfg.DATALOADER.NUM_WORKERS)
    batch = cfg.SOLVER.IMS_PER_BATCH
    cached = list(itertools.islice(iter(loader), CACHED_BATCHES))
    model_s, skipped = time_steps(trainer, itertools.cycle(cached), args.iters, device)
    pipeline_s, skipped_pipeline = time_steps(trainer, iter(loader), args.iters, device)
    trainer._trainer._data_loader_iter = None  # its workers stop, so the loader is timed alone
    loader_ips = time_loader(loader, args.loader_batches)
    full_ckpt, weights = checkpoint_sizes(trainer, cfg.OUTPUT_DIR)
    extraction_s, metrics_s, test_images, extracted = time_evaluation(cfg, trainer.model, args.eval_images)
    epochs, iters_per_epoch = trainer.max_epoch, trainer.iters_per_epoch
    evaluations = epochs // cfg.TEST.EVAL_PERIOD if cfg.TEST.EVAL_PERIOD > 0 else 0
    step_s = max(model_s, pipeline_s)
    train_s = epochs * iters_per_epoch * step_s
    return {
        "config": args.config_file, "opts": [str(o) for o in args.opts], "reduced_pae": args.reduced_pae,
        "device": device, "amp": cfg.SOLVER.AMP.ENABLED, "ims_per_batch": batch,
        "input_size": list(cfg.INPUT.SIZE_TRAIN), "backbone": cfg.MODEL.BACKBONE.DEPTH,
        "train_images": len(loader.dataset), "iters": args.iters, "num_workers": workers,
        "seconds_per_iter_model": model_s, "seconds_per_iter_pipeline": pipeline_s,
        "loader_images_per_s": loader_ips, "loader_images_per_s_per_worker": loader_ips / max(workers, 1),
        "model_images_per_s": batch / model_s,
        "input_bound": bool(loader_ips < batch / model_s),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_workers_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "peak_gpu_memory_mb": torch.cuda.max_memory_allocated() / 2 ** 20 if device.startswith("cuda") else None,
        "checkpoint_mb": full_ckpt / 2 ** 20, "weights_mb": weights / 2 ** 20,
        "eval_test_images": test_images, "eval_extracted_images": extracted,
        "eval_extrapolated": extracted < test_images, "eval_extraction_s": extraction_s,
        "eval_metrics_s": metrics_s, "eval_s": extraction_s + metrics_s,
        "epochs": epochs, "iters_per_epoch": iters_per_epoch, "evaluations": evaluations,
        "projected_train_h": train_s / 3600,
        "projected_total_h": (train_s + evaluations * (extraction_s + metrics_s)) / 3600,
        "amp_skipped_steps": None if skipped is None else skipped + skipped_pipeline,
        "machine": {"cpus": os.cpu_count(), "load_average": list(os.getloadavg()), "torch": torch.__version__,
                    "threads": torch.get_num_threads(), "python": platform.python_version(),
                    "gpu": torch.cuda.get_device_name() if device.startswith("cuda") else None},
    }


def table(r):
    bound = "yes: the loader is slower than the model step" if r["input_bound"] else "no: the loader keeps up"
    eval_note = (f"extrapolated from {r['eval_extracted_images']} of {r['eval_test_images']} images"
                 if r["eval_extrapolated"] else f"all {r['eval_test_images']} images")
    rows = [
        ("setting", f"{r['config']} {' '.join(r['opts'])} ({r['backbone']}, {r['input_size'][0]}x"
                    f"{r['input_size'][1]}, batch {r['ims_per_batch']}, {r['device']}, AMP {r['amp']}"
                    f"{', reduced PAE' if r['reduced_pae'] else ''})"),
        ("s/iter, model alone (cached batches)", f"{r['seconds_per_iter_model']:.2f}"),
        ("s/iter, full pipeline (loader included)", f"{r['seconds_per_iter_pipeline']:.2f}"),
        ("loader images/s (all workers / per worker)",
         f"{r['loader_images_per_s']:.1f} / {r['loader_images_per_s_per_worker']:.1f} ({r['num_workers']} workers)"),
        ("model images/s", f"{r['model_images_per_s']:.1f}"),
        ("input-bound", bound),
        ("peak RSS, MB (main / largest ended loader worker)",
         f"{r['peak_rss_mb']:.0f} / {r['peak_rss_workers_mb']:.0f}"),
        ("peak GPU memory, MB", "n/a" if r["peak_gpu_memory_mb"] is None else f"{r['peak_gpu_memory_mb']:.0f}"),
        ("checkpoint, MB (model + optimizer / weights)", f"{r['checkpoint_mb']:.0f} / {r['weights_mb']:.0f}"),
        ("one evaluation, s (extraction + metrics)",
         f"{r['eval_s']:.0f} ({r['eval_extraction_s']:.0f} + {r['eval_metrics_s']:.1f}; {eval_note})"),
        (f"projected {r['epochs']} epochs x {r['iters_per_epoch']} iters + {r['evaluations']} evaluations, h",
         f"{r['projected_total_h']:.1f}"),
        ("AMP skipped steps", "n/a" if r["amp_skipped_steps"] is None else str(r["amp_skipped_steps"])),
    ]
    return tabulate(rows, tablefmt="github", headers=("measure", "value"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="folder holding SYSU-MM01/ (tools/make_synthvi.py --preset sysu)")
    parser.add_argument("--config-file", default=CONFIG)
    parser.add_argument("--iters", type=int, default=20, help="timed training steps, each way")
    parser.add_argument("--loader-batches", type=int, default=10, help="batches timed for the loader alone")
    parser.add_argument("--reduced-pae", action="store_true", help="PAE at d=256 (benchmarks/model_cost.py)")
    parser.add_argument("--eval-images", type=int, default=0,
                        help="extract this many test images and extrapolate (0: every test image)")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "paper_scale.json"))
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE config overrides")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as output_dir:
        result = measure(build_cfg(args, output_dir), args)
    result["command"] = " ".join(["python", "benchmarks/paper_scale.py", *sys.argv[1:]])
    print(table(result))
    # One entry per device kind, so that a GPU run is kept beside the CPU one (tools/reproduce.py reads both).
    results = {}
    if os.path.isfile(args.out):
        with open(args.out) as f:
            results = json.load(f)
    results["cuda" if result["device"].startswith("cuda") else "cpu"] = result
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
