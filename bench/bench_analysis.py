"""Benchmark the service-gap analysis (geo.analysis.run_all) and compare coverage with a
straightforward geopandas version (buffer the facilities, dissolve, spatial join).

    .venv/bin/python bench/bench_analysis.py                 # scale 1 and scale 7 (1,000,000 residents)
    .venv/bin/python bench/bench_analysis.py --scale 1       # one scale only
    .venv/bin/python bench/bench_analysis.py --no-naive      # skip the slow geopandas comparison

Stores are generated with ``cli.py demo --scale N [--residents R] --out bench/out/...`` when
missing. Each scale is measured in a fresh Python process, so its peak resident memory
(``ru_maxrss``) is its own: read every layer, then the full ``run_all`` (cold caches), then
``coverage_all`` alone on prepared layers (caches cleared), then the geopandas version.
Targets (issue 4) at the 1,000,000-resident scale: run_all <= 10 s, peak memory <= 2 GB,
coverage <= 2 s. Figures depend on machine load; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def child(path: str, naive: bool) -> dict:
    """Measure one store (runs in its own process)."""
    import resource

    import geopandas as gpd

    from data.store import GeoPackageStore
    from geo import coverage as cov
    from geo.analysis import prepare, run_all
    from geo.settings import load_profile

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    profile = load_profile()
    store = GeoPackageStore(path)
    t = time.perf_counter()
    layers = store.read_layers()
    out: dict = {"read_s": time.perf_counter() - t, "rss_after_read_mb": rss_mb()}
    out["rows"] = {name: len(frame) for name, frame in layers.items()}
    out["residents"] = int(layers["population"]["residents"].sum())

    cov.clear_caches()
    t, c = time.perf_counter(), time.process_time()
    result = run_all(layers, profile)
    out["run_all_s"] = time.perf_counter() - t
    out["run_all_cpu_s"] = time.process_time() - c
    out["steps_s"] = result.timings
    out["peak_rss_mb"] = rss_mb()
    ours = {k: r.residents_covered for k, r in result.coverage.items()}
    del result

    prepared = prepare(layers, profile)
    cov.clear_caches()
    t, c = time.perf_counter(), time.process_time()
    cov.coverage_all(prepared, profile)
    out["coverage_s"] = time.perf_counter() - t
    out["coverage_cpu_s"] = time.process_time() - c
    t = time.perf_counter()
    cov.coverage_all(prepared, profile)
    out["coverage_cached_s"] = time.perf_counter() - t

    if naive:
        pop = prepared["population"]
        detour = profile.radii.detour_factor
        t = time.perf_counter()
        naive_counts = {}
        for kind in profile.facility_kinds:
            fac = cov.select_facilities(prepared, profile.kind(kind))
            if len(fac) == 0:
                naive_counts[kind] = 0
                continue
            zone = fac.buffer(cov.radius_for(kind, profile) / detour).union_all()
            zone_frame = gpd.GeoDataFrame(geometry=[zone], crs=pop.crs)
            hit = gpd.sjoin(pop[["residents", "geometry"]], zone_frame, predicate="intersects")
            naive_counts[kind] = int(hit.loc[~hit.index.duplicated(), "residents"].sum())
        out["naive_coverage_s"] = time.perf_counter() - t
        # buffers are polygons inscribed in the circles, so the naive count can be a little lower
        out["naive_vs_ours"] = {k: [naive_counts[k], int(ours[k])] for k in ours}
    return out


def ensure_store(scale: int, residents: int | None) -> tuple[Path, float | None]:
    name = f"scale{scale}" + (f"_r{residents}" if residents else "") + ".gpkg"
    path = OUT / name
    if path.exists():
        return path, None
    OUT.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(ROOT / "cli.py"), "demo", "--scale", str(scale), "--out", str(path)]
    if residents:
        cmd += ["--residents", str(residents)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=int, action="append", help="demo scale(s) (default 1 and 7)"
    )
    parser.add_argument(
        "--residents",
        type=int,
        default=1_000_000,
        help="urban residents for scales above 1 (default 1,000,000)",
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the geopandas comparison")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, not args.no_naive)))
        return 0

    rows = []
    for scale in args.scale or [1, 7]:
        path, gen_s = ensure_store(scale, args.residents if scale > 1 else None)
        cmd = [sys.executable, __file__, "--child", str(path)] + (
            ["--no-naive"] if args.no_naive else []
        )
        proc = subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        data["scale"], data["store"], data["generate_s"] = scale, path.name, gen_s
        rows.append(data)

    print("\nService-gap analysis benchmark (geo.analysis.run_all), this machine")
    print("=" * 96)
    head = f"{'scale':>5} {'points':>9} {'residents':>10} {'grids':>7} {'facilities':>10} {'read s':>7} "
    head += (
        f"{'run_all s':>9} {'coverage s':>10} {'peak MB':>8} {'naive cov s':>11} {'naive/ours':>10}"
    )
    print(head)
    print("-" * 96)
    for d in rows:
        r = d["rows"]
        fac = r["neighborhood_centers"] + r["shelters"] + r["sanitation_facilities"]
        naive = d.get("naive_coverage_s")
        ratio = f"{naive / d['coverage_s']:.1f}x" if naive else "-"
        naive_txt = f"{naive:.2f}" if naive else "-"
        print(
            f"{d['scale']:>5} {r['population']:>9,} {d['residents']:>10,} {r['grids']:>7,} {fac:>10,} "
            f"{d['read_s']:>7.2f} {d['run_all_s']:>9.2f} {d['coverage_s']:>10.2f} "
            f"{d['peak_rss_mb']:>8.0f} {naive_txt:>11} {ratio:>10}"
        )
    print("-" * 96)
    for d in rows:
        steps = ", ".join(f"{k} {v:.2f}" for k, v in d["steps_s"].items())
        print(f"scale {d['scale']} run_all steps (s): {steps}")
        print(
            f"scale {d['scale']} CPU time (both cores summed): run_all {d['run_all_cpu_s']:.2f} s, "
            f"coverage {d['coverage_cpu_s']:.2f} s; coverage again with warm caches: "
            f"{d['coverage_cached_s']:.2f} s"
        )
        if "naive_vs_ours" in d:
            diffs = {k: v[1] - v[0] for k, v in d["naive_vs_ours"].items()}
            print(f"scale {d['scale']} covered residents, ours minus geopandas buffers: {diffs}")
    big = [d for d in rows if d["residents"] >= 1_000_000 and d["rows"]["population"] >= 200_000]
    for d in big:
        print(
            f"\ntargets at {d['residents']:,} residents / {d['rows']['population']:,} points "
            f"(scale {d['scale']}): "
            f"run_all {d['run_all_s']:.2f} s (<= 10: {'yes' if d['run_all_s'] <= 10 else 'NO'}), "
            f"peak {d['peak_rss_mb']:.0f} MB (<= 2048: {'yes' if d['peak_rss_mb'] <= 2048 else 'NO'}), "
            f"coverage {d['coverage_s']:.2f} s (<= 2: {'yes' if d['coverage_s'] <= 2 else 'NO'})"
        )
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    print(f"load average at the end (1/5/15 min, {os.cpu_count()} CPUs): {' '.join(load)}")
    print("wall times grow with the load: other processes share the CPUs")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
