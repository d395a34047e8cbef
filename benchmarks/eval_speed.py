"""Speed and memory of the cross-modality ranking metrics against the per-query loop that defines them.

    python benchmarks/eval_speed.py            # SYSU-MM01 size (10 trials), then 20,000 x 100,000
    python benchmarks/eval_speed.py --huge     # 100,000 x 100,000 from features, block-wise

At SYSU size two comparisons: the metrics alone on the same distance matrix, and from the features
(ours computes the cosine distances block by block, the loop needs the dense matrix first); results are
checked to agree. The loop is the specification in
``tests/evaluation/reference_loop.py``: per query a stable argsort, a mask, ``np.unique`` and cumulative
sums, i.e. the steps of the public ``eval_sysu``. At 20,000 x 100,000 the loop runs on a subset of the
queries and its full time is extrapolated linearly (its cost per query does not depend on the others).
Peak memory is tracemalloc's peak of traced allocations (numpy arrays included) in a separate, untimed
run; --huge reports the process's peak resident set size. Prints a table and writes
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


def timed(fn, repeat=1):
    """Run ``fn()`` ``repeat`` times -> (result, fastest wall seconds, fastest CPU seconds of this process).
    The minima, and CPU time, filter out the time other processes take from a shared machine."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall, cpu = min(wall, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    return result, wall, cpu


def peak_mib(fn):
    """Peak MiB of traced allocations (numpy arrays included) while ``fn()`` runs (a separate, untimed run:
    tracemalloc slows Python-level allocation, which would penalise the loop)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    return peak


def max_diff(a, b):
    """Largest absolute difference between two (cmc, mAP, mINP) results."""
    return float(max(np.abs(a[0] - b[0]).max(), abs(a[1] - b[1]), abs(a[2] - b[2])))


def features(pids, centers, noise, rng):
    """(N, D) float32: each identity's centre plus Gaussian noise (noise sets the accuracy)."""
    return (centers[pids] + noise * rng.standard_normal((len(pids), centers.shape[1]))).astype(np.float32)


def dense(q_feats, g_feats):
    return FeatureDistance(q_feats, g_feats).block(slice(None), np.arange(len(g_feats)))


def sysu_size(trials, dim, block_size, repeat, rng):
    """3,803 infrared queries (cameras 3, 6) x 301 visible gallery images (one per identity and camera for
    a random 301 of the 96 x 4 identity-camera pairs, redrawn each trial), like SYSU-MM01 all-search.
    Noise set for a Rank-1 near 75%."""
    num_ids = 96
    centers = rng.standard_normal((num_ids, dim))
    q_pids, q_cams = rng.integers(0, num_ids, 3803), rng.choice([3, 6], 3803)
    q_feats = features(q_pids, centers, 4.0, rng)
    pairs = np.array([(pid, cam) for pid in range(num_ids) for cam in (1, 2, 4, 5)])
    wall, cpu = {}, {}

    def run(name, fn):
        result, seconds, cpu_seconds = timed(fn, repeat)
        wall[name], cpu[name] = wall.get(name, 0.0) + seconds, cpu.get(name, 0.0) + cpu_seconds
        return result

    diff = 0.0
    for _ in range(trials):
        g_pids, g_cams = pairs[rng.choice(len(pairs), 301, replace=False)].T
        g_feats = features(g_pids, centers, 4.0, rng)
        dist = run("loop_distances", lambda: dense(q_feats, g_feats))
        ours = run("ours_metrics", lambda: eval_sysu(dist, q_pids, g_pids, q_cams, g_cams, block_size=block_size))
        ref = run("loop_metrics", lambda: loop_eval(dist, q_pids, g_pids, q_cams, g_cams, "sysu"))
        from_features = run("ours_from_features", lambda: eval_sysu(
            FeatureDistance(q_feats, g_feats), q_pids, g_pids, q_cams, g_cams, block_size=block_size))
        diff = max(diff, max_diff(ours, ref), max_diff(from_features, ref))
    for times in (wall, cpu):
        times["loop_from_features"] = times["loop_distances"] + times["loop_metrics"]
    return {
        "queries": 3803, "gallery": 301, "trials": trials, "dim": dim, "block_size": block_size, "repeat": repeat,
        **{f"{name}_s": value for name, value in wall.items()},
        **{f"{name}_cpu_s": value for name, value in cpu.items()},
        "speedup_metrics": wall["loop_metrics"] / wall["ours_metrics"],
        "speedup_metrics_cpu": cpu["loop_metrics"] / cpu["ours_metrics"],
        "speedup_from_features": wall["loop_from_features"] / wall["ours_from_features"],
        "ours_peak_mib": peak_mib(lambda: eval_sysu(FeatureDistance(q_feats, g_feats), q_pids, g_pids, q_cams,
                                                    g_cams, block_size=block_size)),
        "loop_peak_mib": peak_mib(lambda: loop_eval(dense(q_feats, g_feats), q_pids, g_pids, q_cams, g_cams, "sysu")),
        "max_abs_diff": diff, "rank1_last_trial": float(ref[0][0]), "mAP_last_trial": ref[1],
    }


def large_problem(num_q, num_g, dim, rng):
    """num_g gallery images of num_g / 4 identities (4 each, cameras 1-6); queries from cameras 3 and 6.
    Noise set for a Rank-1 near 75%."""
    num_ids = num_g // 4
    centers = rng.standard_normal((num_ids, dim))
    g_pids = np.repeat(np.arange(num_ids), 4)
    g_cams = rng.integers(1, 7, num_g)
    q_pids = rng.integers(0, num_ids, num_q)
    q_cams = rng.choice([3, 6], num_q)
    return features(q_pids, centers, 1.7, rng), features(g_pids, centers, 1.7, rng), q_pids, g_pids, q_cams, g_cams


def large(num_q, num_g, dim, loop_queries, block_size, rng):
    q_feats, g_feats, q_pids, g_pids, q_cams, g_cams = large_problem(num_q, num_g, dim, rng)
    ours, ours_s, _ = timed(lambda: eval_sysu(
        FeatureDistance(q_feats, g_feats), q_pids, g_pids, q_cams, g_cams, block_size=block_size))
    # Memory per block does not depend on the number of queries: trace the first two blocks.
    two = slice(0, 2 * block_size)
    ours_mib = peak_mib(lambda: eval_sysu(FeatureDistance(q_feats[two], g_feats), q_pids[two], g_pids,
                                          q_cams[two], g_cams, block_size=block_size))
    sub = slice(0, loop_queries)
    ref, loop_sub_s, _ = timed(lambda: loop_eval(dense(q_feats[sub], g_feats), q_pids[sub], g_pids, q_cams[sub],
                                              g_cams, "sysu"))
    ours_sub = eval_sysu(FeatureDistance(q_feats[sub], g_feats), q_pids[sub], g_pids, q_cams[sub], g_cams,
                         block_size=block_size)
    loop_est = loop_sub_s * num_q / loop_queries
    return {
        "queries": num_q, "gallery": num_g, "dim": dim, "block_size": block_size,
        "ours_s": ours_s, "ours_peak_mib": ours_mib,
        "loop_queries_run": loop_queries, "loop_subset_s": loop_sub_s, "loop_estimated_s": loop_est,
        "loop_dense_matrix_mib": num_q * num_g * 4 / 2 ** 20, "speedup_estimated": loop_est / ours_s,
        "max_abs_diff_on_subset": max_diff(ours_sub, ref), "rank1": float(ours[0][0]), "mAP": ours[1],
    }


def huge(num, dim, block_size, rng):
    q_feats, g_feats, q_pids, g_pids, q_cams, g_cams = large_problem(num, num, dim, rng)
    result, seconds, _ = timed(lambda: eval_sysu(
        FeatureDistance(q_feats, g_feats), q_pids, g_pids, q_cams, g_cams, block_size=block_size))
    return {
        "queries": num, "gallery": num, "dim": dim, "block_size": block_size, "ours_s": seconds,
        "process_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rank1": float(result[0][0]), "mAP": result[1], "mINP": result[2],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--huge", action="store_true", help="only the 100,000 x 100,000 run")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5, help="SYSU-size timings: fastest of this many runs")
    parser.add_argument("--block-size", type=int, default=DEFAULT_BLOCK_SIZE)
    parser.add_argument("--loop-queries", type=int, default=200, help="queries the loop runs at 20,000 x 100,000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = {"cpus": os.cpu_count(), "numpy": np.__version__}
    load = {"load_average_at_start": os.getloadavg()[0]}  # other processes share the CPUs
    if args.huge:
        run = huge(100_000, 256, args.block_size, rng)
        results["huge_100000x100000"] = {**run, **load}
        rows = [["100,000 x 100,000, D=256", "ours, from features", f"{run['ours_s']:.0f}",
                 f"{run['process_peak_rss_mib']:.0f} (process peak RSS)", "", ""]]
    else:
        sysu = sysu_size(args.trials, 2048, args.block_size, args.repeat, rng)
        big = large(20_000, 100_000, 256, args.loop_queries, args.block_size, rng)
        results["sysu_3803x301x10"] = {**sysu, **load}
        results["large_20000x100000"] = {**big, **load}
        case = f"SYSU 3,803 x 301 x {args.trials}"
        rows = [
            [case + ", metrics", "ours", f"{sysu['ours_metrics_s']:.2f}", "", f"{sysu['speedup_metrics']:.1f}x",
             f"same distance matrix; CPU-time speedup {sysu['speedup_metrics_cpu']:.1f}x; "
             f"max |diff| {sysu['max_abs_diff']:.1e}"],
            [case + ", metrics", "loop", f"{sysu['loop_metrics_s']:.2f}", "", "", ""],
            [case + ", from features", "ours", f"{sysu['ours_from_features_s']:.2f}",
             f"{sysu['ours_peak_mib']:.0f}", f"{sysu['speedup_from_features']:.1f}x", "D=2048, cosine, block-wise"],
            [case + ", from features", "loop", f"{sysu['loop_from_features_s']:.2f}",
             f"{sysu['loop_peak_mib']:.0f}", "", "dense matrix, then the loop"],
            ["20,000 x 100,000, from features", "ours", f"{big['ours_s']:.1f}", f"{big['ours_peak_mib']:.0f}",
             f"{big['speedup_estimated']:.0f}x",
             f"D=256; max |diff| {big['max_abs_diff_on_subset']:.1e} on the subset"],
            ["20,000 x 100,000, from features", "loop (estimated)", f"{big['loop_estimated_s']:.0f}",
             f"{big['loop_dense_matrix_mib']:.0f} (dense matrix)", "", f"timed on {big['loop_queries_run']} queries"],
        ]
    print(tabulate(rows, headers=["case", "implementation", "seconds", "peak MiB", "speedup", "note"],
                   tablefmt="pipe"))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
