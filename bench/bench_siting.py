"""Benchmark site suggestion (MCLP): 10,000 demand cells x 1,000 candidates, k = 20.

Prints, for the radius of a street-level neighborhood center (1000 m, from the profile) and
for a smaller and a larger radius:

* the exact solve of :func:`geo.siting.suggest_sites` (sparse formulation, model reduction,
  LP relaxation, MIP on the LP's support, reduced-cost fixing, LP probing, HiGHS via
  ``highspy`` with the objective cutoff at the incumbent): time, status, optimum;
* the plain sparse MILP handed to HiGHS as it is (no reduction, no LP fixing);
* greedy: time, covered, its proven upper bound and gap, and the gap to the true optimum;
* (with ``--dense``) a dense formulation for comparison: the full demand x candidate distance
  matrix, thresholded, then the same MILP.

Run: ``.venv/bin/python bench/bench_siting.py [--dense] [--radii 500 1000 2000]``

``--hard`` runs the hard case of issue 12 instead: 5,000 demand cells x 800 candidates, k = 25,
radius 2,500 m, so cover sets overlap heavily (about 19 candidates per cell); it is solved with
the profile's time limit (the gap then) and again with a long one (the time to the proven
optimum), with greedy and the plain MILP beside.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geopandas as gpd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.optimize import Bounds, LinearConstraint, milp  # noqa: E402
from scipy.spatial.distance import cdist  # noqa: E402

from geo.settings import load_profile  # noqa: E402
from geo.siting import (  # noqa: E402
    CoverageModel,
    SolverLimits,
    _formulation,
    _lp_relaxation,
    build_model,
    reduce_model,
    reduced_cost_fixing,
    suggest_sites,
)

LIMITS = SolverLimits.of(load_profile())
"""The demo profile's solver limits; each run replaces the time budget it measures."""

CRS = "EPSG:4546"


def demand_cells(n: int = 10_000, seed: int = 0) -> gpd.GeoDataFrame:
    """`n` distinct 250 m cells of uncovered residents in ~20 clustered gap areas."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 30_000, (20, 2))
    pts = centres[rng.integers(0, 20, 4 * n)] + rng.normal(0, 2_000, (4 * n, 2))
    cells = np.unique(np.floor(pts / 250).astype(np.int64), axis=0)
    cells = cells[rng.permutation(len(cells))[:n]]
    xy = (cells + 0.5) * 250 + np.array([480_000.0, 3_600_000.0])
    weights = np.maximum(1, rng.lognormal(3.5, 1.0, len(xy)).round())
    return gpd.GeoDataFrame(
        {"residents_uncovered": weights}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS
    )


HARD_RADIUS_M = 2500.0


def hard_case() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, int, float]:
    """The hard instance: ``(demand, candidates, k, radius_m)``."""
    demand = demand_cells(5_000)
    rng = np.random.default_rng(1)
    cands = demand.iloc[rng.choice(len(demand), 800, replace=False)][["geometry"]]
    return demand, cands, 25, HARD_RADIUS_M


def run_hard(long_limit: float) -> None:
    demand, cands, k, radius = hard_case()
    w = demand["residents_uncovered"].to_numpy(float)
    dxy = np.column_stack([demand.geometry.x, demand.geometry.y])
    cxy = np.column_stack([cands.geometry.x, cands.geometry.y])
    model = build_model(dxy, cxy, w, radius_m=radius)
    print(
        f"hard MCLP: {len(demand):,} cells x {len(cands):,} candidates, k = {k}, radius "
        f"{radius:,.0f} m, {model.n_pairs:,} pairs ({model.n_pairs / len(demand):.1f} per cell)"
    )
    for limit in (None, long_limit):
        t = time.perf_counter()
        res = suggest_sites(
            demand, cands, k=k, radius_m=radius, weight="residents_uncovered",
            method="exact", limits=replace(LIMITS, time_limit_s=limit or LIMITS.time_limit_s),
        )  # fmt: skip
        print(
            f"exact, time limit {limit or LIMITS.time_limit_s:g} s: "
            f"{time.perf_counter() - t:.1f} s, {res.status}, covered {res.covered:,.0f}, "
            f"bound {res.upper_bound:,.0f}, gap {res.gap:.4%}"
        )
    fixing_left(model, k, res.covered)
    t = time.perf_counter()
    greedy = suggest_sites(
        demand, cands, k=k, radius_m=radius, weight="residents_uncovered", method="greedy",
        limits=LIMITS,
    )  # fmt: skip
    print(
        f"greedy: {time.perf_counter() - t:.2f} s, covered {greedy.covered:,.0f}, "
        f"bound {greedy.upper_bound:,.0f}, gap {greedy.gap:.4%}"
    )
    secs, status, value = raw_milp(model, k, long_limit)
    print(f"plain sparse MILP (HiGHS): {secs:.1f} s, {status}, value {value:,.0f}")


def fixing_left(model: CoverageModel, k: int, incumbent: float) -> None:
    """How much of the reduced model survives reduced-cost fixing for beating `incumbent`."""
    reduced, _ = reduce_model(model)
    lp = _lp_relaxation(reduced, k, time_limit_s=120)
    if lp is None:
        return
    out, in_ = reduced_cost_fixing(lp, incumbent + 1)
    free = ~out & ~in_
    rows = int((reduced.reach[:, np.flatnonzero(free)].sum(axis=1) > 0).sum())
    print(
        f"reduced model {reduced.reach.shape[0]:,} rows x {reduced.reach.shape[1]:,} candidates, "
        f"LP {lp.value:,.1f}; fixing for > {incumbent:,.0f}: {int(free.sum()):,} candidates and "
        f"{rows:,} rows left, {int(in_.sum())} fixed in"
    )


def raw_milp(model: CoverageModel, k: int, time_limit_s: float) -> tuple[float, str, float]:
    """The sparse MILP on the unreduced model (for comparison)."""
    start = time.perf_counter()
    n_d, n_c = model.reach.shape
    cost, link, budget = _formulation(model)
    res = milp(
        cost,
        constraints=[LinearConstraint(link, -np.inf, 0), LinearConstraint(budget, 0, k)],
        integrality=np.concatenate([np.ones(n_c), np.zeros(n_d)]),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit_s, "mip_rel_gap": 0.0},
    )
    status = {0: "optimal", 1: "time limit"}.get(res.status, str(res.status))
    value = -res.fun if res.x is not None else float("nan")
    return time.perf_counter() - start, status, value


def dense_milp(
    demand_xy: np.ndarray, cand_xy: np.ndarray, w: np.ndarray, radius: float, k: int, tl: float
):
    """Dense formulation: full distance matrix, thresholded, every pair a coefficient."""
    start = time.perf_counter()
    reach = (cdist(demand_xy, cand_xy) <= radius).astype(np.float64)  # n_d x n_c dense
    n_d, n_c = reach.shape
    link = np.hstack([-reach, np.eye(n_d)]) if n_d * (n_c + n_d) < 3e8 else None
    if link is None:  # the identity block alone would not fit: keep it sparse
        link = sp.hstack([sp.csr_array(-reach), sp.eye_array(n_d)], format="csr")
    setup = time.perf_counter() - start
    res = milp(
        np.concatenate([np.zeros(n_c), -w]),
        constraints=[
            LinearConstraint(link, -np.inf, 0),
            LinearConstraint(np.concatenate([np.ones(n_c), np.zeros(n_d)])[None, :], 0, k),
        ],
        integrality=np.concatenate([np.ones(n_c), np.zeros(n_d)]),
        bounds=Bounds(0, 1),
        options={"time_limit": tl, "mip_rel_gap": 0.0},
    )
    status = {0: "optimal", 1: "time limit"}.get(res.status, str(res.status))
    return time.perf_counter() - start, setup, status, (-res.fun if res.x is not None else np.nan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    profile = load_profile()
    street = profile.radii.neighborhood_center_street
    parser.add_argument("--radii", type=float, nargs="+", default=[500.0, street, 2000.0])
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--demand", type=int, default=10_000)
    parser.add_argument("--candidates", type=int, default=1_000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--dense", action="store_true", help="also time a dense formulation")
    parser.add_argument("--hard", action="store_true", help="the hard case of issue 12 only")
    args = parser.parse_args()
    if args.hard:
        run_hard(args.time_limit)
        return

    demand = demand_cells(args.demand)
    rng = np.random.default_rng(1)
    cands = demand.iloc[rng.choice(len(demand), args.candidates, replace=False)][["geometry"]]
    w = demand["residents_uncovered"].to_numpy(float)
    dxy = np.column_stack([demand.geometry.x, demand.geometry.y])
    cxy = np.column_stack([cands.geometry.x, cands.geometry.y])
    print(
        f"MCLP bench: {len(demand):,} demand cells ({w.sum():,.0f} uncovered residents) x "
        f"{len(cands):,} candidates, k = {args.k}"
    )
    for radius in args.radii:
        print(f"\n--- radius {radius:,.0f} m")
        t = time.perf_counter()
        model = build_model(dxy, cxy, w, radius_m=radius)
        print(f"sparse pairs within radius: {model.n_pairs:,} ({time.perf_counter() - t:.3f} s)")

        t = time.perf_counter()
        exact = suggest_sites(
            demand,
            cands,
            k=args.k,
            radius_m=radius,
            weight="residents_uncovered",
            method="exact",
            limits=replace(LIMITS, time_limit_s=args.time_limit),
        )
        total = time.perf_counter() - t
        print(
            f"exact (geo.siting: sparse, reduced, LP fixing, HiGHS): {total:.3f} s total, solver {exact.solve_time_s:.3f} s, "
            f"status {exact.status}, covered {exact.covered:,.0f}, bound {exact.upper_bound:,.0f}, "
            f"gap {exact.gap:.4%}"
        )
        secs, status, value = raw_milp(model, args.k, args.time_limit)
        print(
            f"plain sparse MILP (no reduction, no LP fixing): {secs:.3f} s, status {status}, value {value:,.0f}"
        )

        t = time.perf_counter()
        greedy = suggest_sites(
            demand,
            cands,
            k=args.k,
            radius_m=radius,
            weight="residents_uncovered",
            method="greedy",
            limits=LIMITS,
        )
        total = time.perf_counter() - t
        true_gap = (
            (exact.covered - greedy.covered) / exact.covered if exact.proven_optimal else None
        )
        print(
            f"greedy: {total:.3f} s, covered {greedy.covered:,.0f}, proven bound "
            f"{greedy.upper_bound:,.0f} (online {greedy.online_bound:,.0f}, LP "
            f"{greedy.lp_bound if greedy.lp_bound is None else round(greedy.lp_bound):,}, "
            f"1-1/e guarantee {greedy.covered / greedy.guarantee:,.0f}), bound gap {greedy.gap:.4%}"
            + (f", true gap {true_gap:.4%}" if true_gap is not None else "")
        )
        t = time.perf_counter()
        suggest_sites(
            demand,
            cands,
            k=args.k,
            radius_m=radius,
            weight="residents_uncovered",
            method="greedy",
            limits=replace(LIMITS, max_lp_pairs=0),
        )
        print(f"greedy without the LP bound: {time.perf_counter() - t:.3f} s")
        if args.dense:
            secs, setup, status, value = dense_milp(dxy, cxy, w, radius, args.k, args.time_limit)
            print(
                f"dense formulation (full {len(dxy):,} x {len(cxy):,} matrix): {secs:.3f} s "
                f"(setup {setup:.3f} s), status {status}, value {value:,.0f}"
            )


if __name__ == "__main__":
    main()
