"""Benchmark walking distance along roads (geo.network) on the demo city at scale 1 and 7.

    .venv/bin/python bench/bench_network.py              # scale 1 and scale 7 (1,000,000 residents)
    .venv/bin/python bench/bench_network.py --scale 1    # one scale only

Prints, per scale (each measured in a fresh Python process, caches cold):

* the walking graph: build time from the roads layer, nodes, edges, length, components;
* the whole gap analysis (``run_all``, what ``cli.py gaps`` runs) with every facility kind
  measured by straight line and with every kind walked along roads (graph build included), and
  their ratio (target: network within 2x of straight);
* service areas (reached roads buffered, :func:`geo.network.service_area`) of 100 facilities
  one by one, and of each kind as a whole;
* the hard site-suggestion case of issue 12 (5,000 demand cells x 800 candidates, k = 25,
  overlapping cover sets; ``bench/bench_siting.py --hard`` reproduces it alone) and the site
  suggestion for emergency shelters with cover sets from walking distances.

Demo stores are generated with ``cli.py demo`` into bench/out/ when missing. Figures depend on
the machine's load; nothing here is a pass/fail test.
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


def child(path: str) -> dict:
    """Measure one store (runs in its own process)."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import numpy as np

    from data.store import GeoPackageStore
    from geo import coverage as cov
    from geo.analysis import prepare, run_all
    from geo.coverage import select_facilities
    from geo.network import graph_from_roads, service_area
    from geo.settings import load_profile
    from geo.siting import SolverLimits, suggest_sites

    profile = load_profile()
    layers = GeoPackageStore(path).read_layers()
    out: dict = {
        "points": len(layers["population"]),
        "residents": int(layers["population"]["residents"].sum()),
        "roads": len(layers["roads"]),
    }
    prepared = prepare(layers, profile)
    t = time.perf_counter()
    graph = graph_from_roads(prepared["roads"])
    out["graph_build_s"] = time.perf_counter() - t
    out["graph"] = graph.summary()

    from geo import index

    timings = {}
    for mode in ("straight", "network", "straight", "network"):  # second round: warm imports
        cov.clear_caches()
        t = time.perf_counter()
        result = run_all(layers, profile.with_distance(mode))
        timings[mode] = (time.perf_counter() - t, result.timings)
        if mode == "network":  # the graph is built once and shared by every kind
            memo = index.stats()
            out["graph_builds"] = memo["walking_graph"].misses
            out["graph_reuses"] = memo["walking_graph_of"].hits + memo["walking_graph"].hits
    out["run_all_straight_s"], out["steps_straight"] = timings["straight"]
    out["run_all_network_s"], out["steps_network"] = timings["network"]
    out["covered"] = {k: r.residents_covered for k, r in result.coverage.items()}

    shelters = select_facilities(prepared, profile.kind("shelters_emergency"))
    hundred = shelters.iloc[:100]
    kw = {
        "max_snap_m": profile.network.max_snap_m,
        "buffer_m": profile.network.service_area_buffer_m,
    }
    t = time.perf_counter()
    areas = service_area(
        graph, hundred, radius_m=profile.radius_m("shelters_emergency"), each=True, **kw
    )
    out["service_areas_100_s"] = time.perf_counter() - t
    out["service_areas_100_n"] = len(areas)
    out["service_areas_100_km2"] = float(areas.area.sum() / 1e6)
    per_kind = {}
    for kind in profile.facility_kinds:
        fac = select_facilities(prepared, profile.kind(kind))
        t = time.perf_counter()
        service_area(graph, fac, radius_m=profile.radius_m(kind), **kw)
        per_kind[kind] = time.perf_counter() - t
    out["service_area_per_kind_s"] = per_kind

    from bench_siting import hard_case

    demand, cands, k, radius = hard_case()
    t = time.perf_counter()
    hard = suggest_sites(
        demand,
        cands,
        k=k,
        radius_m=radius,
        weight="residents_uncovered",
        method="exact",
        limits=SolverLimits.of(profile),
    )
    out["hard_mclp"] = {
        "seconds": time.perf_counter() - t,
        "status": hard.status,
        "covered": hard.covered,
        "bound": hard.upper_bound,
        "pairs": hard.n_pairs,
    }
    cells = result.gap_cells["shelters_emergency"]
    t = time.perf_counter()
    net_sites = suggest_sites(
        cells,
        None,
        k=10,
        radius_m=profile.radius_m("shelters_emergency"),
        weight="residents_uncovered",
        limits=SolverLimits.of(profile),
        walk=cov.walk_of(result.layers, profile),
    )
    out["network_siting"] = {
        "seconds": time.perf_counter() - t,
        "cells": len(cells),
        "pairs": net_sites.n_pairs,
        "method": net_sites.method,
        "status": net_sites.status,
        "covered": net_sites.covered,
        "bound": net_sites.upper_bound,
    }
    del np
    return out


def ensure_store(scale: int, residents: int | None) -> Path:
    name = f"network_scale{scale}" + (f"_r{residents}" if residents else "") + ".gpkg"
    path = OUT / name
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            str(ROOT / "cli.py"),
            "demo",
            "--scale",
            str(scale),
            "--out",
            str(path),
        ]
        if residents:
            cmd += ["--residents", str(residents)]
        subprocess.run(
            cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=int, action="append", help="demo scale(s) (default 1 and 7)"
    )
    parser.add_argument(
        "--residents", type=int, default=1_000_000, help="urban residents above scale 1"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    for scale in args.scale or [1, 7]:
        path = ensure_store(scale, args.residents if scale > 1 else None)
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        d = json.loads(proc.stdout.strip().splitlines()[-1])
        g = d["graph"]
        ratio = d["run_all_network_s"] / d["run_all_straight_s"]
        print(
            f"\n=== scale {scale}: {d['points']:,} population points, {d['residents']:,} residents, {d['roads']:,} roads"
        )
        print(
            f"walking graph: built in {d['graph_build_s']:.2f} s; {g['nodes']:,} nodes, "
            f"{g['edges']:,} edges, {g['length_km']:,.0f} km, {g['components']} component(s)"
        )
        print(
            f"  built {d['graph_builds']} time(s) in the network run, reused "
            f"{d['graph_reuses']} time(s) by the kinds and steps"
        )
        print(
            f"gaps (run_all, all {len(d['covered'])} kinds): straight {d['run_all_straight_s']:.2f} s, "
            f"network {d['run_all_network_s']:.2f} s -> {ratio:.2f}x "
            f"(target <= 2x: {'yes' if ratio <= 2 else 'NO'})"
        )
        for mode in ("straight", "network"):
            steps = ", ".join(f"{k} {v:.2f}" for k, v in d[f"steps_{mode}"].items())
            print(f"  {mode:8s} steps (s): {steps}")
        print(
            f"service areas, {d['service_areas_100_n']} emergency shelters one by one: "
            f"{d['service_areas_100_s']:.2f} s ({d['service_areas_100_km2']:.1f} km² in all)"
        )
        kinds = ", ".join(f"{k} {v:.2f}" for k, v in d["service_area_per_kind_s"].items())
        print(f"service area of each kind as a whole (s): {kinds}")
        h = d["hard_mclp"]
        print(
            f"hard MCLP (5,000 cells x 800 candidates, k = 25, {h['pairs']:,} pairs): "
            f"{h['seconds']:.1f} s, {h['status']}, covered {h['covered']:,.0f}, bound {h['bound']:,.0f}"
        )
        n = d["network_siting"]
        print(
            f"site suggestion, emergency shelters, walking cover sets ({n['cells']:,} cells, "
            f"{n['pairs']:,} pairs): {n['seconds']:.2f} s, {n['method']} {n['status']}, "
            f"covered {n['covered']:,.0f} of bound {n['bound']:,.0f}"
        )
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    print(f"\nload average at the end (1/5/15 min, {os.cpu_count()} CPUs): {' '.join(load)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
