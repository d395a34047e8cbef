"""Large-gallery retrieval: every GalleryIndex kind against exact brute force, on CPU.

Features are synthetic but shaped like trained ReID features: identities with a few images each
(2 to 12), grouped into "appearance groups" of similar-looking identities (clothes, build, pose);
group centres are random on the unit sphere, identity centres scatter around their group's, images
around their identity's, all L2-normalised. Queries are other images of gallery identities
(infrared crops of people seen by the visible cameras). ``--ids-per-group 1`` makes every identity
its own group: identity centres random on the sphere, so beyond an identity's own images a query's
neighbours are noise-level ties that no approximate index reproduces.

For each size it measures brute force (matrix multiply + ``torch.topk`` over gallery blocks) and,
for each kind with its default parameters: build time (training included), index size on disk,
resident memory added, queries per second (the fastest of ``--repeats`` runs over all queries,
with as many threads as brute force), recall@10 against brute force; then recall and speed over a
sweep of ``nprobe``/``efSearch``. Prints markdown tables and writes JSON.

``--filtered``: searches restricted by ``where="u < s"`` on a uniform random metadata column ``u``
(selectivity s = 50%, 10%, 1%) against exact brute force over the matching items (their rows
gathered, then matrix multiply + top-k); queries/s and recall@10, with the way each filtered search
ran (``GalleryIndex.plan``), then the same searches with the faiss selector scan forced over a sweep
of ``nprobe`` (the data behind ``IVFKind``'s filter costs).

    python benchmarks/retrieval.py            # 1,000,000 x 256 and 200,000 x 2048 (long)
    python benchmarks/retrieval.py --quick    # 50,000 x 128 and 10,000 x 512 (a minute)
    python benchmarks/retrieval.py --filtered --kinds ivf   # 1,000,000 x 256, filtered
"""
import argparse
import functools
import gc
import json
import os
import platform
import resource
import sys
import tempfile
import time

import faiss
import numpy as np
import torch

import fastreid_ext  # noqa: F401  (applies the FastReID shims)
from fastreid_ext.retrieval import GalleryIndex
from fastreid_ext.retrieval.brute_force import brute_force_topk
from fastreid_ext.retrieval.persistence import INDEX_FILE

FULL_SIZES = [(1_000_000, 256), (200_000, 2048)]
QUICK_SIZES = [(50_000, 128), (10_000, 512)]
KINDS = ["flat", "ivf", "ivfpq", "hnsw"]
SWEEPS = {"ivf": ("nprobe", [4, 8, 16, 32, 64]), "ivfpq": ("nprobe", [4, 8, 16, 32, 64]),
          "hnsw": ("efSearch", [16, 32, 64, 128, 256])}
K = 10
SELECTIVITIES = [0.5, 0.1, 0.01]
# Filtered searches with the selector scan forced: nprobe here, 2 * nprobe / s lists probed.
FILTER_SWEEPS = {"ivf": ("nprobe", [4, 16, 64])}


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _noisy(centres, labels, spread, rng, chunk=100_000):
    """L2-normalised ``centres[labels] + spread * u`` with u uniform on the unit sphere."""
    out = np.empty((len(labels), centres.shape[1]), np.float32)
    for s in range(0, len(labels), chunk):
        lab = labels[s:s + chunk]
        noise = _unit(rng.standard_normal((len(lab), centres.shape[1]), dtype=np.float32))
        out[s:s + chunk] = _unit(centres[lab] + spread * noise)
    return out


def clustered_features(n, dim, n_queries, ids_per_group=20, group_spread=1.0, image_spread=0.6,
                       seed=0):
    """Gallery (n, dim) and queries (n_queries, dim) float32 unit vectors, and their identities.

    Returns:
        gallery, gallery_pids (n,), queries, query_pids (n_queries,).
    """
    rng = np.random.default_rng(seed)
    per_id = rng.integers(2, 13, size=n)  # over-drawn; cut to n images below
    n_ids = int(np.searchsorted(np.cumsum(per_id), n)) + 1
    pids = np.repeat(np.arange(n_ids), per_id[:n_ids])[:n]
    groups = _unit(rng.standard_normal((max(1, n_ids // ids_per_group), dim), dtype=np.float32))
    id_centres = _noisy(groups, rng.integers(0, len(groups), n_ids), group_spread, rng)
    query_pids = rng.choice(pids, size=n_queries)
    return (_noisy(id_centres, pids, image_spread, rng), pids,
            _noisy(id_centres, query_pids, image_spread, rng), query_pids)


def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _timed_search(search, queries, repeats):
    """``search(queries)`` and its fastest time of ``repeats`` runs (the CPU may be shared)."""
    search(queries[:16])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = search(queries)
        best = min(best, time.perf_counter() - start)
    return out, best


def _recall(found, exact):
    return float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact)]))


def bench_size(n, dim, kinds, n_queries, seed, repeats):
    gallery, _, queries, _ = clustered_features(n, dim, n_queries, seed=seed)
    (_, exact), seconds = _timed_search(lambda q: brute_force_topk(gallery, q, K), queries,
                                       repeats)
    rows = [{"method": "brute force (torch)", "n": n, "dim": dim, "params": {},
             "build_s": 0.0, "index_mb": gallery.nbytes / 2 ** 20, "rss_mb": None,
             "qps": n_queries / seconds, "recall@10": 1.0}]
    base_qps = rows[0]["qps"]
    print(f"  brute force: {base_qps:.1f} q/s", flush=True)
    sweeps = []
    for kind in kinds:
        gc.collect()
        rss = _rss_mb()
        start = time.perf_counter()
        index = GalleryIndex(dim, kind)
        index.add(gallery, np.arange(n))
        build = time.perf_counter() - start
        gc.collect()
        rss = _rss_mb() - rss
        with tempfile.TemporaryDirectory() as tmp:
            index.save(tmp)
            size = os.path.getsize(os.path.join(tmp, INDEX_FILE)) / 2 ** 20
        (_, ids), seconds = _timed_search(functools.partial(index.search, k=K), queries, repeats)
        rows.append({"method": kind, "n": n, "dim": dim, "params": index.params,
                     "build_s": build, "index_mb": size, "rss_mb": rss,
                     "qps": n_queries / seconds, "recall@10": _recall(ids, exact)})
        print(f"  {kind}: build {build:.1f} s, {rows[-1]['qps']:.0f} q/s, "
              f"recall@10 {rows[-1]['recall@10']:.3f}", flush=True)
        if kind in SWEEPS:
            name, values = SWEEPS[kind]
            for value in values:
                index.set_search_params(**{name: value})
                (_, ids), seconds = _timed_search(functools.partial(index.search, k=K), queries, repeats)
                sweeps.append({"method": kind, "n": n, "dim": dim, name: value,
                               "qps": n_queries / seconds, "recall@10": _recall(ids, exact),
                               "speedup": n_queries / seconds / base_qps})
        del index
    for row in rows:
        row["speedup"] = row["qps"] / base_qps
    return rows, sweeps


def bench_filtered(n, dim, kinds, n_queries, seed, repeats):
    """Filtered search at each of :data:`SELECTIVITIES`: exact brute force over the matching items, and
    each kind's ``search(..., where="u < s")``."""
    gallery, _, queries, _ = clustered_features(n, dim, n_queries, seed=seed)
    u = np.random.default_rng(seed + 1).random(n)
    rows, sweeps, exact = [], [], {}
    for s in SELECTIVITIES:
        keep = np.flatnonzero(u < s)
        (_, found), seconds = _timed_search(lambda q: brute_force_topk(gallery[keep], q, K), queries, repeats)
        exact[s] = keep[found]
        rows.append({"method": "brute force (torch) over the matching items", "n": n, "dim": dim,
                     "selectivity": s, "params": {}, "qps": n_queries / seconds, "recall@10": 1.0})
        print(f"  {s:.0%} brute force: {rows[-1]['qps']:.1f} q/s", flush=True)
    for kind in kinds:
        start = time.perf_counter()
        index = GalleryIndex(dim, kind)
        index.add(gallery, np.arange(n), metadata={"u": u})
        print(f"  {kind}: built in {time.perf_counter() - start:.0f} s", flush=True)
        for s in SELECTIVITIES:
            def search(q, index=index, s=s):
                return index.search(q, K, where=f"u < {s}")
            (_, ids), seconds = _timed_search(search, queries, repeats)
            rows.append({"method": kind, "n": n, "dim": dim, "selectivity": s, "params": index.params,
                         "plan": index.plan(f"u < {s}"), "qps": n_queries / seconds,
                         "recall@10": _recall(ids, exact[s])})
            print(f"  {s:.0%} {kind}: {rows[-1]['plan']}, {rows[-1]['qps']:.0f} q/s, "
                  f"recall@10 {rows[-1]['recall@10']:.3f}", flush=True)
        if kind in FILTER_SWEEPS:  # the faiss selector scan forced, over the kind's search parameter
            name, values = FILTER_SWEEPS[kind]
            for value in values:
                index.set_search_params(**{name: value})
                for s in SELECTIVITIES:
                    def scan(q, index=index, s=s):
                        return index.search(q, K, where=f"u < {s}", strategy="selector")
                    (_, ids), seconds = _timed_search(scan, queries, repeats)
                    sweeps.append({"method": kind, "n": n, "dim": dim, "selectivity": s, name: value,
                                   "plan": index.plan(f"u < {s}", strategy="selector"),
                                   "qps": n_queries / seconds, "recall@10": _recall(ids, exact[s])})
                    print(f"  {s:.0%} {kind} scan {sweeps[-1]['plan']}: {sweeps[-1]['qps']:.0f} q/s, "
                          f"recall@10 {sweeps[-1]['recall@10']:.3f}", flush=True)
        del index
    base = {r["selectivity"]: r["qps"] for r in rows[:len(SELECTIVITIES)]}
    for row in rows + sweeps:
        row["speedup"] = row["qps"] / base[row["selectivity"]]
    return rows, sweeps


def markdown_filtered(rows, sweeps):
    lines = ["| gallery | selectivity | method | params | how it searched | queries/s | × exact filtered | "
             "recall@10 |", "|---|---:|---|---|---|---:|---:|---:|"]
    for r in sorted(rows, key=lambda r: -r["selectivity"]):
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items() if k != "train_size")
        plan = r.get("plan", {})
        how = {"exact": "exact over the matching items", "selector": "faiss selector"}.get(plan.get("strategy"), "")
        how += "".join(f", {k}={v}" for k, v in plan.items() if k not in ("strategy", "matching"))
        lines.append(f"| {r['n']:,} × {r['dim']} | {r['selectivity']:.0%} | {r['method']} | {params} | {how} | "
                     f"{r['qps']:,.0f} | {r['speedup']:.1f} | {r['recall@10']:.3f} |")
    lines += ["", "| gallery | selectivity | method, selector scan forced | lists probed | queries/s | "
              "× exact filtered | recall@10 |", "|---|---:|---|---:|---:|---:|---:|"]
    for r in sorted(sweeps, key=lambda r: (-r["selectivity"], r["plan"]["nprobe"])):
        lines.append(f"| {r['n']:,} × {r['dim']} | {r['selectivity']:.0%} | {r['method']} | {r['plan']['nprobe']} | "
                     f"{r['qps']:,.0f} | {r['speedup']:.1f} | {r['recall@10']:.3f} |")
    return "\n".join(lines)


def _fmt(value, spec):
    return "–" if value is None else format(value, spec)


def markdown(rows, sweeps):
    lines = ["| gallery | method | params | build s | index MB | RSS +MB | queries/s | "
             "× brute force | recall@10 |", "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items() if k != "train_size")
        lines.append(f"| {r['n']:,} × {r['dim']} | {r['method']} | {params} | "
                     f"{r['build_s']:.1f} | {r['index_mb']:.0f} | {_fmt(r['rss_mb'], '.0f')} | "
                     f"{r['qps']:,.0f} | {r['speedup']:.1f} | {r['recall@10']:.3f} |")
    lines += ["", "| gallery | method | search param | queries/s | × brute force | recall@10 |",
              "|---|---|---|---:|---:|---:|"]
    for s in sweeps:
        name = SWEEPS[s["method"]][0]
        lines.append(f"| {s['n']:,} × {s['dim']} | {s['method']} | {name}={s[name]} | "
                     f"{s['qps']:,.0f} | {s['speedup']:.1f} | {s['recall@10']:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--filtered", action="store_true", help="filtered search at the first size only")
    parser.add_argument("--kinds", nargs="+", default=KINDS, choices=KINDS)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="timings are the fastest of these")
    parser.add_argument("--out", help="JSON file (default: benchmarks/results/retrieval.json, "
                                      "or retrieval_quick.json with --quick)")
    args = parser.parse_args(argv)
    args.out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                        "retrieval{}{}.json".format("_filtered" if args.filtered else "",
                                                                    "_quick" if args.quick else ""))
    torch.set_num_threads(faiss.omp_get_max_threads())  # same threads for both sides
    load_at_start = os.getloadavg()[0]  # other processes share the CPUs
    rows, sweeps = [], []
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    for n, dim in sizes[:1] if args.filtered else sizes:
        print(f"{n:,} x {dim}:", flush=True)
        if args.filtered:
            r, s = bench_filtered(n, dim, args.kinds, args.queries, args.seed, args.repeats)
            rows += r
            sweeps += s
            continue
        r, s = bench_size(n, dim, args.kinds, args.queries, args.seed, args.repeats)
        rows += r
        sweeps += s
    table = markdown_filtered(rows, sweeps) if args.filtered else markdown(rows, sweeps)
    print(table)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"machine": {"cpu_threads": faiss.omp_get_max_threads(),
                               "platform": platform.platform(), "python": sys.version.split()[0],
                               "faiss": faiss.__version__, "torch": torch.__version__,
                               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                               / 1024, "load_average_at_start": load_at_start,
                               "load_average_at_end": os.getloadavg()[0]},
                   "quick": args.quick, "queries": args.queries, "repeats": args.repeats, "k": K,
                   "results": rows, "sweeps": sweeps, "markdown": table}, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
