"""Speed and memory of the cross-modality ranking metrics against the per-query loop that defines them.

    python benchmarks/eval_speed.py            # SYSU-MM01 size (10 trials), then 20,000 x 100,000
    python benchmarks/eval_speed.py --huge     # 100,000 x 100,000 from features, block-wise

Both sides start from the same features and compute the same cosine distances (the loop gets them as one
dense matrix, ours block by block); both results are checked to agree. The loop is the specification in
``tests/evaluation/reference_loop.py``: per query a stable argsort, a mask, ``np.unique`` and cumulative
sums, i.e. the steps of the public ``eval_sysu``. At 20,000 x 100,000 the loop runs on a subset of the
queries and its full time is extrapolated linearly (its cost per query does not depend on the others).
Peak memory is tracemalloc's peak of traced allocations (numpy arrays included) during the call; --huge
also reports the process's peak resident set size. Prints a table and writes
``benchmarks/results/eval_speed.json`` (a --huge run adds its entry to the existing file).
"""
import argparse
import importlib.util
import json
import os
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
from tabulate import tabulate

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.evaluation.metrics import DEFAULT_BLOCK_SIZE, FeatureDistance, eval_sysu

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "eval_speed.json"


def _load_loop():
    spec = importlib.util.spec_from_file_location("reference_loop", ROOT / "tests/evaluation/reference_loop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.loop_eval


loop_eval = _load_loop()


def measure(fn):
    """Run ``fn()`` -> (result, seconds, peak traced MiB)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    return result, seconds, peak


def features(pids, centers, noise, rng):
    """(N, D) float32: each identity's centre plus Gaussian noise (noise sets the accuracy)."""
    return (centers[pids] + noise * rng.standard_normal((len(pids), centers.shape[1]))).astype(np.float32)


def sysu_size(trials, dim, block_size, rng):
    """3,803 infrared queries (cameras 3, 6) x 301 visible gallery images (one per identity per camera of
    a random 301 of the 96 x 4 identity-camera pairs, redrawn each trial), like SYSU-MM01 all-search."""
    num_ids = 96
    centers = rng.standard_normal((num_ids, dim))
    q_pids = rng.integers(0, num_ids, 3803)
    q_cams = rng.choice([3, 6], 3803)
    q_feats = features(q_pids, centers, 1.2, rng)
    pairs = np.array([(pid, cam) for pid in range(num_ids) for cam in (1, 2, 4, 5)])
    ours_s = loop_s = ours_mib = loop_mib = 0.0
    max_diff = 0.0
    for _ in range(trials):
        g_pids, g_cams = pairs[rng.choice(len(pairs), 301, replace=False)].T
        g_feats = features(g_pids, centers, 1.2, rng)
        ours, seconds, mib = measure(lambda: eval_sysu(
            FeatureDistance(q_feats, g_feats), q_pids, g_pids, q_cams, g_cams, block_size=block_size))
        ours_s, ours_mib = ours_s + seconds, max(ours_mib, mib)
        ref, seconds, mib = measure(lambda: loop_eval(
            FeatureDistance(q_feats, g_feats).block(slice(None), np.arange(len(g_feats))), q_pids, g_pids, q_cams, g_cams, "sysu"))
        loop_s, loop_mib = loop_s + seconds, max(loop_mib, mib)
        max_diff = max(max_diff, np.abs(ours[0] - ref[0]).max(), abs(ours[1] - ref[1]), abs(ours[2] - ref[2]))
    return {
        "queries": 3803, "gallery": 301, "trials": trials, "dim": dim, "block_size": block_size,
        "ours_s": ours_s, "loop_s": loop_s, "speedup": loop_s / ours_s,
        "ours_peak_mib": ours_mib, "loop_peak_mib": loop_mib, "max_abs_diff": float(max_diff),
        "rank1_last_trial": float(ours[0][0]), "mAP_last_trial": float(ours[1]),
    }


def large_problem(num_q, num_g, dim, rng):
    """num_g gallery images of num_g / 4 identities (4 each, cameras 1-6); queries from cameras 3 and 6."""
    num_ids = num_g // 4
    centers = rng.standard_normal((num_ids, dim))
    g_pids = np.repeat(np.arange(num_ids), 4)
    g_cams = rng.integers(1, 7, num_g)
    q_pids = rng.integers(0, num_ids, num_q)
    q_cams = rng.choice([3, 6], num_q)
    return features(q_pids, centers, 1.0, rng), features(g_pids, centers, 1.0, rng), q_pids, g_pids, q_cams, g_cams


def large(num_q, num_g, dim, loop_queries, block_size, rng):
    q_feats, g_feats, q_pids, g_pids, q_cams, g_cams = large_problem(num_q, num_g, dim, rng)
    ours, ours_s, ours_mib = measure(lambda: eval_sysu(
        FeatureDistance(q_feats, g_feats), q_pids, g_pids, q_cams, g_cams, block_size=block_size))
    sub = slice(0, loop_queries)
    ref, loop_sub_s, loop_mib = measure(lambda: loop_eval(
        FeatureDistance(q_feats[sub], g_feats).block(slice(None), np.arange(num_g)), q_pids[sub], g_pids, q_cams[sub], g_cams, "sysu"))
    ours_sub = eval_sysu(FeatureDistance(q_feats[sub], g_feats), q_pids[sub], g_pids, q_cams[sub], g_cams,
                         block_size=block_size)
    max_diff = max(np.abs(ours_sub[0] - ref[0]).max(), abs(ours_sub[1] - ref[1]), abs(ours_sub[2] - ref[2]))
    loop_est = loop_sub_s * num_q / loop_queries
    return {
        "queries": num_q, "gallery": num_g, "dim": dim, "block_size": block_size,
        "ours_s": ours_s, "ours_peak_mib": ours_mib,
        "loop_queries_run": loop_queries, "loop_subset_s": loop_sub_s, "loop_estimated_s": loop_est,
        "loop_subset_peak_mib": loop_mib, "speedup_estimated": loop_est / ours_s,
        "max_abs_diff_on_subset": float(max_diff), "rank1": float(ours[0][0]), "mAP": float(ours[1]),
    }


def huge(num, dim, block_size, rng):
    q_feats, g_feats, q_pids, g_pids, q_cams, g_cams = large_problem(num, num, dim, rng)
    result, seconds, mib = measure(lambda: eval_sysu(
        FeatureDistance(q_feats, g_feats), q_pids, g_pids, q_cams, g_cams, block_size=block_size))
    return {
        "queries": num, "gallery": num, "dim": dim, "block_size": block_size, "ours_s": seconds,
        "ours_peak_mib": mib, "process_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rank1": float(result[0][0]), "mAP": float(result[1]), "mINP": float(result[2]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--huge", action="store_true", help="only the 100,000 x 100,000 run")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--block-size", type=int, default=DEFAULT_BLOCK_SIZE)
    parser.add_argument("--loop-queries", type=int, default=200, help="queries the loop runs at 20,000 x 100,000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = {"cpus": os.cpu_count(), "numpy": np.__version__}
    if args.huge:
        run = huge(100_000, 256, args.block_size, rng)
        results["huge_100000x100000"] = run
        rows = [["100,000 x 100,000", "ours", f"{run['ours_s']:.1f}", f"{run['ours_peak_mib']:.0f}", "",
                 f"peak RSS {run['process_peak_rss_mib']:.0f} MiB"]]
    else:
        sysu = sysu_size(args.trials, 2048, args.block_size, rng)
        big = large(20_000, 100_000, 256, args.loop_queries, args.block_size, rng)
        results["sysu_3803x301x10"] = sysu
        results["large_20000x100000"] = big
        rows = [
            ["SYSU 3,803 x 301 x 10", "ours", f"{sysu['ours_s']:.2f}", f"{sysu['ours_peak_mib']:.0f}",
             f"{sysu['speedup']:.1f}x", f"max |diff| {sysu['max_abs_diff']:.1e}"],
            ["SYSU 3,803 x 301 x 10", "loop", f"{sysu['loop_s']:.2f}", f"{sysu['loop_peak_mib']:.0f}", "", ""],
            ["20,000 x 100,000", "ours", f"{big['ours_s']:.1f}", f"{big['ours_peak_mib']:.0f}",
             f"{big['speedup_estimated']:.1f}x", f"max |diff| {big['max_abs_diff_on_subset']:.1e} on subset"],
            ["20,000 x 100,000", "loop (estimated)", f"{big['loop_estimated_s']:.0f}",
             f"{big['loop_subset_peak_mib']:.0f}", "", f"from {big['loop_queries_run']} queries"],
        ]
    print(tabulate(rows, headers=["case", "implementation", "seconds", "peak MiB", "speedup", "note"],
                   tablefmt="pipe"))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
