"""Model cost on CPU: the MMD baseline against PAENet, at paper size and at the demo's size.

For each model: parameters, FLOPs per image (``torch.utils.flop_counter.FlopCounterMode``; forward
for inference, forward + backward for training), the time of a training step (forward, losses,
backward and FastReID's SGD step) and of an inference forward on a batch of random images. Models are
measured in turn within each repeat (interleaved, so that a load change on the machine hits all of
them) and the median over repeats is reported, with the ratio to the baseline of the same size.

- paper: ``projects/PAENet/configs/sysu.yml`` (dual-stream ResNet-50, 288x144) and PAENet with
  cheaper PAE settings (``MODEL.PAE.EMBED_DIM``, ``FFN_DIM``, ``GATE_DIM``);
- demo: ``projects/PAENet/configs/synthvi.yml`` (ResNet-18, 128x64) and the same variants.

The baseline is ``configs/SYSU/mmd.yml`` with the backbone, shared stages and input of the PAENet
config it is compared with, so that the two differ only in the head and its losses.

    python benchmarks/model_cost.py                          # both sizes, 3 repeats
    python benchmarks/model_cost.py --sizes demo --repeats 5
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
from fastreid.modeling import build_model
from fastreid.solver import build_optimizer
from fastreid.utils.events import EventStorage
from tabulate import tabulate
from torch.utils.flop_counter import FlopCounterMode

import fastreid_ext  # noqa: F401  (applies the FastReID shims, registers PAENet)
from fastreid_ext.config import get_cfg

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = "configs/SYSU/mmd.yml"
# Cheaper PAE settings, measured beside the paper's (name -> config overrides).
PAE_VARIANTS = {
    "d256-r256": ["MODEL.PAE.EMBED_DIM", 256, "MODEL.PAE.FFN_DIM", 256, "MODEL.PAE.GATE_DIM", 256],
    "d128-r256": ["MODEL.PAE.EMBED_DIM", 128, "MODEL.PAE.FFN_DIM", 128, "MODEL.PAE.GATE_DIM", 256],
}
SIZES = {
    "paper": {"paenet": "projects/PAENet/configs/sysu.yml", "batch": 16, "classes": 395},
    "demo": {"paenet": "projects/PAENet/configs/synthvi.yml", "batch": 32, "classes": 60},
}
# Keys the baseline takes from the PAENet config, so both run the same backbone on the same input.
SAME_AS_PAENET = ("MODEL.BACKBONE.DEPTH", "MODEL.BACKBONE.FEAT_DIM", "MODEL.BACKBONE.SHARED_FROM",
                  "INPUT.SIZE_TRAIN", "INPUT.SIZE_TEST")


def _cfg(config_file, classes, opts=()):
    cfg = get_cfg()
    cfg.merge_from_file(os.path.join(REPO, config_file))
    cfg.merge_from_list(["MODEL.DEVICE", "cpu", "MODEL.BACKBONE.PRETRAIN", False,
                         "MODEL.HEADS.NUM_CLASSES", classes, *opts])
    return cfg


def _lookup(cfg, key):
    node = cfg
    for part in key.split("."):
        node = node[part]
    return node


def model_configs(size):
    """[(name, cfg)] of one size: the baseline first, then PAENet and its variants."""
    spec = SIZES[size]
    paenet = _cfg(spec["paenet"], spec["classes"])
    same = [x for key in SAME_AS_PAENET for x in (key, _lookup(paenet, key))]
    configs = [("MMD baseline", _cfg(BASELINE, spec["classes"], same)), ("PAENet", paenet)]
    configs += [(f"PAENet {name}", _cfg(spec["paenet"], spec["classes"], opts)) for name, opts in PAE_VARIANTS.items()]
    return configs


def make_batch(batch_size, input_size, num_attributes, num_classes, seed=0):
    """Random images of P identities x (2 visible + 2 infrared), as the training sampler draws them."""
    g = torch.Generator().manual_seed(seed)
    if batch_size % 4:
        raise ValueError(f"batch size must be a multiple of 4 (2 visible + 2 infrared per identity), got {batch_size}")
    pids = torch.arange(batch_size // 4).repeat_interleave(4) % num_classes
    batch = {
        "images": torch.rand(batch_size, 3, *input_size, generator=g) * 255,
        "targets": pids,
        "camids": torch.tensor([1, 2, 3, 6]).repeat(batch_size // 4),
        "modalities": torch.tensor([0, 0, 1, 1]).repeat(batch_size // 4),
        "img_paths": [f"{i}.jpg" for i in range(batch_size)],
    }
    if num_attributes:
        per_id = torch.randint(0, 2, (num_classes, num_attributes), generator=g).float()
        batch["attributes"] = per_id[pids]
    return batch


def _train_step(model, optimizer, batch):
    losses = model(batch)
    optimizer.zero_grad()
    sum(losses.values()).backward()
    optimizer.step()


def _timed(fn):
    """(wall seconds, CPU seconds of this process over all its threads) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(configs, batch_size, repeats):
    """Rows of cost figures, one per model; timings are medians over ``repeats`` interleaved rounds."""
    entries = []
    for name, cfg in configs:
        torch.manual_seed(0)
        model = build_model(cfg)
        optimizer, _ = build_optimizer(cfg, model)
        train_batch = make_batch(batch_size, cfg.INPUT.SIZE_TRAIN, cfg.MODEL.HEADS.NUM_ATTRIBUTES,
                                 cfg.MODEL.HEADS.NUM_CLASSES)
        # Inference reads no attribute labels (PAENet's default TEST_ATTRIBUTES is "pred").
        test_batch = make_batch(batch_size, cfg.INPUT.SIZE_TEST, 0, cfg.MODEL.HEADS.NUM_CLASSES)
        entries.append({"name": name, "model": model, "optimizer": optimizer, "train": train_batch,
                        "test": test_batch, "train_s": [], "infer_s": [],
                        "train_cpu_s": [], "infer_cpu_s": []})

    for entry in entries:
        entry.update(_flops(entry["model"], entry["train"], entry["test"], batch_size))
        entry["params_m"] = sum(p.numel() for p in entry["model"].parameters()) / 1e6

    with EventStorage(0):
        for round_ in range(repeats + 1):  # round 0 warms up (allocator, oneDNN primitives)
            for entry in entries:
                model = entry["model"].train()
                wall, cpu = _timed(lambda: _train_step(model, entry["optimizer"], entry["train"]))
                if round_:
                    entry["train_s"].append(wall)
                    entry["train_cpu_s"].append(cpu)
            for entry in entries:
                model = entry["model"].eval()
                with torch.no_grad():
                    wall, cpu = _timed(lambda: model(entry["test"]))
                if round_:
                    entry["infer_s"].append(wall)
                    entry["infer_cpu_s"].append(cpu)

    base = entries[0]
    return [_row(entry, base) for entry in entries]


def _row(entry, base):
    """Median wall and CPU times and their ratios to the baseline's. On a loaded machine the CPU time
    (what the process itself spent) and the minimum wall time are less disturbed than the median."""
    row = {
        "model": entry["name"],
        "params_m": round(entry["params_m"], 2),
        "train_gflops_per_image": round(entry["train_gflops"], 2),
        "infer_gflops_per_image": round(entry["infer_gflops"], 2),
    }
    for kind in ("train", "infer"):
        times, base_times = entry[f"{kind}_s"], base[f"{kind}_s"]
        row[f"{kind}_s"] = round(statistics.median(times), 3)
        row[f"{kind}_x"] = round(statistics.median(times) / statistics.median(base_times), 3)
        row[f"{kind}_x_min"] = round(min(times) / min(base_times), 3)
        cpu, base_cpu = entry[f"{kind}_cpu_s"], base[f"{kind}_cpu_s"]
        row[f"{kind}_x_cpu"] = round(statistics.median(cpu) / statistics.median(base_cpu), 3)
        row[f"{kind}_s_all"] = [round(t, 3) for t in times]
        row[f"{kind}_cpu_s_all"] = [round(t, 3) for t in cpu]
    return row


def _flops(model, train_batch, test_batch, batch_size):
    """GFLOPs per image: training (forward + backward) and inference (forward)."""
    model.train()
    with EventStorage(0), FlopCounterMode(display=False) as counter:
        sum(model(train_batch).values()).backward()
    model.zero_grad()
    train = counter.get_total_flops()
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(test_batch)
    return {"train_gflops": train / batch_size / 1e9, "infer_gflops": counter.get_total_flops() / batch_size / 1e9}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds after one warm-up round")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: 16 paper, 32 demo)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "model_cost.json"))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    results = {"torch": torch.__version__, "threads": args.threads, "cpu": platform.processor() or platform.machine(),
               "repeats": args.repeats, "sizes": {}}
    for size in args.sizes:
        batch_size = args.batch or SIZES[size]["batch"]
        load_before = os.getloadavg()
        rows = measure(model_configs(size), batch_size, args.repeats)
        # Timings are only comparable on an otherwise idle machine: keep the load they ran under.
        load = [round(x, 2) for x in (*load_before, *os.getloadavg())]
        results["sizes"][size] = {"batch": batch_size, "load_average_1_5_15_before_after": load, "rows": rows}
        print(f"\n{size} size, batch {batch_size}, {args.threads} threads, {args.repeats} rounds: median "
              "wall seconds per batch; x: ratio to the baseline (of median wall times; x_min: of minimum wall "
              f"times; x_cpu: of median process CPU times); load average before/after {load[0]}/{load[3]}")
        print(tabulate([{k: v for k, v in r.items() if not k.endswith("_all")} for r in rows],
                       headers="keys", tablefmt="github"))
        sys.stdout.flush()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
