"""Site suggestion (MCLP): hand-solved instances, brute force, bounds and CRS checks."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest

from geo.crs import CRSError
from geo.settings import load_profile
from geo.siting import (
    GREEDY_GUARANTEE,
    SitingError,
    SolverLimits,
    build_model,
    candidate_sites,
    reduce_model,
    suggest_sites,
)
from layers.messages import in_lang

CRS = "EPSG:4546"
LIMITS = SolverLimits.of(load_profile())
X0, Y0 = 500_000.0, 3_600_000.0


def points(xs, ys=None, crs=CRS, **columns) -> gpd.GeoDataFrame:
    ys = np.zeros(len(xs)) if ys is None else np.asarray(ys, float)
    geom = gpd.points_from_xy(np.asarray(xs, float) + X0, ys + Y0)
    return gpd.GeoDataFrame(columns, geometry=geom, crs=crs)


# Line instance: demand A..E at x = 0, 100, 200, 300, 400; candidates P=50, Q=200, R=350; r = 100.
#   P covers A, B            -> 10 + 20      = 30
#   Q covers B, C, D (B and D exactly at 100 m: the boundary counts) -> 20 + 30 + 25 = 75
#   R covers D, E            -> 25 + 15      = 40
# k=1: Q (75).  k=2: Q+R = 75 + 15 = 90 (Q+P = 85, P+R = 70).  k=3: all = 100.
@pytest.fixture
def line():
    demand = points([0, 100, 200, 300, 400], residents=[10, 20, 30, 25, 15])
    demand.index = list("ABCDE")
    cands = points([50, 200, 350], name=["P", "Q", "R"])
    cands.index = ["P", "Q", "R"]
    return demand, cands


@pytest.mark.parametrize("method", ["exact", "greedy", "auto"])
def test_line_k1(line, method):
    demand, cands = line
    s = suggest_sites(demand, cands, k=1, radius_m=100, method=method, limits=LIMITS)
    assert list(s.sites.index) == ["Q"]
    assert s.covered == 75
    assert list(s.sites["newly_covered"]) == [75]
    assert s.demand_covered.to_dict() == dict(A=False, B=True, C=True, D=True, E=False)


@pytest.mark.parametrize("method", ["exact", "greedy"])
def test_line_k2_marginals_in_order(line, method):
    demand, cands = line
    s = suggest_sites(demand, cands, k=2, radius_m=100, method=method, limits=LIMITS)
    assert list(s.sites.index) == ["Q", "R"]
    assert list(s.sites["rank"]) == [1, 2]
    assert list(s.sites["newly_covered"]) == [75, 15]
    assert list(s.sites["cumulative_covered"]) == [75, 90]
    assert s.covered == 90
    assert s.total_demand == 100
    assert s.sites.crs == cands.crs
    assert list(s.sites["name"]) == ["Q", "R"]


def test_line_exact_is_proven_optimal(line):
    demand, cands = line
    s = suggest_sites(demand, cands, k=2, radius_m=100, method="exact", limits=LIMITS)
    assert s.method == "exact"
    assert s.status == "optimal"
    assert s.upper_bound == pytest.approx(90)
    assert s.gap == 0 and s.proven_optimal


def test_boundary_just_outside_is_not_covered(line):
    demand, cands = line
    s = suggest_sites(demand, cands, k=1, radius_m=99.999, method="exact", limits=LIMITS)
    # Q now covers C only (30); P covers A, B at 50 m (30); R covers D, E at 50 m (40).
    assert list(s.sites.index) == ["R"] and s.covered == 40


def test_detour_factor_shrinks_reach(line):
    demand, cands = line
    # 100 m / 2.0 = 50 m of straight line: P -> A, B (30); Q -> C (30); R -> D, E (40).
    s = suggest_sites(
        demand, cands, k=1, radius_m=100, detour_factor=2.0, method="exact", limits=LIMITS
    )
    assert list(s.sites.index) == ["R"] and s.covered == 40


def test_k_larger_than_useful_sites(line):
    demand, cands = line
    s = suggest_sites(demand, cands, k=5, radius_m=100, method="exact", limits=LIMITS)
    assert s.covered == 100
    # in greedy order: Q (75), R (+15: E), P (+10: A)
    assert list(s.sites["newly_covered"]) == [75, 15, 10]


# Greedy trap: a=0 (4), b=100 (5), e=150 (2), c=200 (5), d=300 (4); candidates L=50, M=150,
# R=250, radius 60. L: a, b = 9; M: b, e, c = 12; R: c, d = 9.
# k=2: greedy takes M (12) then L or R (+4) = 16; the optimum is L + R = 18.
# Online bound after M: 12 + 4 + 4 = 20. LP relaxation = 18 (x_L = x_R = 1 is LP-optimal).
@pytest.fixture
def trap():
    demand = points([0, 100, 150, 200, 300], residents=[4, 5, 2, 5, 4])
    cands = points([50, 150, 250])
    cands.index = ["L", "M", "R"]
    return demand, cands


def test_greedy_trap(trap):
    demand, cands = trap
    greedy = suggest_sites(demand, cands, k=2, radius_m=60, method="greedy", limits=LIMITS)
    exact = suggest_sites(demand, cands, k=2, radius_m=60, method="exact", limits=LIMITS)
    assert greedy.method == "greedy" and greedy.covered == 16
    assert greedy.sites.index[0] == "M"
    assert exact.covered == 18 and sorted(exact.sites.index) == ["L", "R"]
    assert greedy.online_bound == pytest.approx(20)
    assert greedy.lp_bound == pytest.approx(18, abs=1e-3)
    assert greedy.upper_bound >= exact.covered
    assert greedy.upper_bound == pytest.approx(18, abs=1e-3)
    assert greedy.gap == pytest.approx(2 / 18, abs=1e-4)
    assert greedy.guarantee == pytest.approx(0.75)  # 1 - (1 - 1/2)^2
    assert not greedy.proven_optimal


def test_greedy_without_lp_uses_online_bound(trap):
    demand, cands = trap
    s = suggest_sites(
        demand, cands, k=2, radius_m=60, method="greedy", limits=replace(LIMITS, max_lp_pairs=0)
    )
    assert s.lp_bound is None
    # min(online 20, 16 / 0.75 = 21.33)
    assert s.upper_bound == pytest.approx(20)


def test_auto_switches_to_greedy_beyond_pair_limit(trap):
    demand, cands = trap
    s = suggest_sites(
        demand, cands, k=2, radius_m=60, method="auto", limits=replace(LIMITS, max_exact_pairs=3)
    )
    assert s.method == "greedy"
    assert s.n_pairs == 7  # a-L, b-L, b-M, e-M, c-M, c-R, d-R
    assert any("greedy" in note for note in s.notes)
    assert any("贪心" in in_lang(note, "zh") for note in s.notes)  # shown in the UI's language


def _brute_force(model, k):
    n_c = model.reach.shape[1]
    return max(model.value(np.array(c)) for c in itertools.combinations(range(n_c), min(k, n_c)))


@pytest.mark.parametrize("seed", range(12))
def test_exact_matches_brute_force_and_greedy_bound_holds(seed):
    rng = np.random.default_rng(seed)
    n_d, n_c = int(rng.integers(6, 25)), int(rng.integers(3, 9))
    k = int(rng.integers(1, 4))
    radius = float(rng.uniform(150, 450))
    demand = points(
        rng.uniform(0, 1000, n_d), rng.uniform(0, 1000, n_d), residents=rng.integers(0, 50, n_d)
    )
    cands = points(rng.uniform(0, 1000, n_c), rng.uniform(0, 1000, n_c))
    xy = lambda f: np.column_stack([f.geometry.x, f.geometry.y])  # noqa: E731
    model = build_model(xy(demand), xy(cands), demand["residents"].to_numpy(float), radius_m=radius)
    best = _brute_force(model, k)
    exact = suggest_sites(demand, cands, k=k, radius_m=radius, method="exact", limits=LIMITS)
    greedy = suggest_sites(demand, cands, k=k, radius_m=radius, method="greedy", limits=LIMITS)
    assert exact.covered == pytest.approx(best)
    assert exact.proven_optimal
    assert greedy.covered <= best + 1e-9
    assert greedy.upper_bound >= best - 1e-6
    assert greedy.online_bound >= best - 1e-6
    assert greedy.covered >= (1 - (1 - 1 / k) ** k) * best - 1e-9
    assert exact.sites["newly_covered"].sum() == pytest.approx(exact.covered)


def test_reduce_model_keeps_optimum():
    rng = np.random.default_rng(7)
    xy_d, xy_c = rng.uniform(0, 1000, (40, 2)), rng.uniform(0, 1000, (8, 2))
    xy_c[5] = xy_c[2]  # an identical candidate is dropped
    model = build_model(xy_d, xy_c, rng.integers(0, 9, 40).astype(float), radius_m=300)
    reduced, columns = reduce_model(model)
    assert 5 not in columns
    assert reduced.reach.shape[0] <= model.reach.shape[0]
    assert reduced.weights.sum() == pytest.approx(model.weights[model.reach.sum(axis=1) > 0].sum())
    for k in (1, 2, 3):
        full = _brute_force(model, k)
        small = max(
            reduced.value(np.array(c))
            for c in itertools.combinations(range(len(columns)), min(k, len(columns)))
        )
        assert small == pytest.approx(full)


def test_generated_candidates_are_demand_locations():
    demand = points([0, 100, 200, 200], residents=[1, 1, 1, 5])
    cands = candidate_sites(demand)
    assert len(cands) == 3  # the two points at x=200 share one site
    s = suggest_sites(demand, None, k=1, radius_m=100, limits=LIMITS)
    assert s.covered == 8
    assert s.sites.geometry.x.iloc[0] == pytest.approx(X0 + 100)


def test_polygon_demand_uses_centroids():
    cells = gpd.GeoDataFrame(
        {"residents_uncovered": [7, 3]},
        geometry=gpd.GeoSeries.from_wkt(
            [
                f"POLYGON(({X0} {Y0}, {X0 + 250} {Y0}, {X0 + 250} {Y0 + 250}, {X0} {Y0 + 250}, {X0} {Y0}))",
                f"POLYGON(({X0 + 1000} {Y0}, {X0 + 1250} {Y0}, {X0 + 1250} {Y0 + 250}, {X0 + 1000} {Y0 + 250}, {X0 + 1000} {Y0}))",
            ]
        ),
        crs=CRS,
    )
    s = suggest_sites(cells, None, k=1, radius_m=10, weight="residents_uncovered", limits=LIMITS)
    assert s.covered == 7
    assert s.sites.geometry.iloc[0].x == pytest.approx(X0 + 125)


def test_empty_inputs():
    demand = points([0, 100], residents=[0, 0])
    s = suggest_sites(demand, None, k=2, radius_m=100, limits=LIMITS)
    assert s.covered == 0 and len(s.sites) == 0 and s.gap == 0
    far = suggest_sites(
        points([0], residents=[5]), points([10_000]), k=1, radius_m=100, limits=LIMITS
    )
    assert far.covered == 0 and far.reachable_demand == 0 and len(far.sites) == 0


def test_refuses_geographic_crs(line):
    demand, cands = line
    geo_demand = demand.to_crs("EPSG:4326")
    with pytest.raises(CRSError, match="geographic"):
        suggest_sites(geo_demand, None, k=1, radius_m=100, limits=LIMITS)
    with pytest.raises(CRSError, match="geographic"):
        suggest_sites(demand, cands.to_crs("EPSG:4326"), k=1, radius_m=100, limits=LIMITS)
    with pytest.raises(CRSError, match="candidates"):
        suggest_sites(demand, cands.to_crs("EPSG:32649"), k=1, radius_m=100, limits=LIMITS)


def test_bad_inputs(line):
    demand, cands = line
    with pytest.raises(SitingError, match="'people'"):
        suggest_sites(demand, cands, k=1, radius_m=100, weight="people", limits=LIMITS)
    bad = demand.assign(residents=[1, -2, 3, 4, 5])
    with pytest.raises(SitingError, match="rows B"):
        suggest_sites(bad, cands, k=1, radius_m=100, limits=LIMITS)
    with pytest.raises(SitingError, match="k must"):
        suggest_sites(demand, cands, k=0, radius_m=100, limits=LIMITS)
    with pytest.raises(SitingError, match="method"):
        suggest_sites(demand, cands, k=1, radius_m=100, method="fast", limits=LIMITS)


def test_guarantee_constant():
    assert pytest.approx(1 - 1 / math.e) == GREEDY_GUARANTEE


def test_time_limit_never_gives_a_false_claim():
    rng = np.random.default_rng(3)
    demand = points(
        rng.uniform(0, 2000, 80), rng.uniform(0, 2000, 80), residents=rng.integers(1, 40, 80)
    )
    cands = points(rng.uniform(0, 2000, 14), rng.uniform(0, 2000, 14))
    xy = lambda f: np.column_stack([f.geometry.x, f.geometry.y])  # noqa: E731
    model = build_model(xy(demand), xy(cands), demand["residents"].to_numpy(float), radius_m=500)
    best = _brute_force(model, 3)
    for method in ("auto", "exact"):
        s = suggest_sites(
            demand,
            cands,
            k=3,
            radius_m=500,
            method=method,
            limits=replace(LIMITS, time_limit_s=0.0),
        )
        assert s.status in ("optimal", "time limit")
        if s.status == "time limit":
            assert any("time limit" in note for note in s.notes)
            assert s.online_bound is not None
        assert s.covered <= best + 1e-9
        assert s.upper_bound >= best - 1e-6
        assert not s.proven_optimal or s.covered == pytest.approx(best)


def test_swap_improve_fixes_the_greedy_trap(trap):
    from geo.siting import swap_improve

    demand, cands = trap
    xy = lambda f: np.column_stack([f.geometry.x, f.geometry.y])  # noqa: E731
    model = build_model(xy(demand), xy(cands), demand["residents"].to_numpy(float), radius_m=60)
    # greedy's {M, L} (16) -> swap M for R -> {R, L} (18)
    improved = swap_improve(model, np.array([1, 0]))
    assert sorted(improved.tolist()) == [0, 2] and model.value(improved) == 18


def _plain_milp(model, k: int) -> float:
    """Optimum of the unreduced sparse MILP, solved by HiGHS without a time limit."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from geo.siting import _formulation

    n_d, n_c = model.reach.shape
    cost, link, budget = _formulation(model)
    res = milp(
        cost,
        constraints=[LinearConstraint(link, -np.inf, 0.0), LinearConstraint(budget, 0.0, k)],
        integrality=np.concatenate([np.ones(n_c), np.zeros(n_d)]),
        bounds=Bounds(0.0, 1.0),
        options={"mip_rel_gap": 0.0},
    )
    assert res.status == 0
    return float(-res.fun)


# seeds and radii (m) where the LP relaxation is 9 and 6 residents above the optimum
@pytest.mark.parametrize(("seed", "radius"), [(1, 5_000.0), (4, 6_000.0)])
def test_exact_equals_plain_milp_where_the_lp_bound_is_not_tight(seed, radius):
    """Clustered demand with heavily overlapping cover sets: the LP relaxation is fractional,
    so the whole exact path (support MIP, reduced-cost fixing, branch and bound) runs."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 30_000, (8, 2))
    xy = centres[rng.integers(0, 8, 500)] + rng.normal(0, 2_000, (500, 2))
    demand = points(xy[:, 0], xy[:, 1], residents=rng.integers(1, 80, 500))
    cands = demand.iloc[rng.choice(500, 100, replace=False)][["geometry"]]
    model = build_model(xy, xy[cands.index], demand["residents"].to_numpy(float), radius_m=radius)
    s = suggest_sites(
        demand, cands, k=6, radius_m=radius, method="exact", limits=replace(LIMITS, time_limit_s=60)
    )
    assert s.lp_bound > s.covered + 0.5  # the LP alone does not prove it
    assert s.proven_optimal
    assert s.covered == pytest.approx(_plain_milp(model, 6))


def _random_model(seed: int, n_d: int = 30, n_c: int = 9, radius: float = 350.0):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1000, (3, 2))
    xy_d = centres[rng.integers(0, 3, n_d)] + rng.normal(0, 200, (n_d, 2))
    xy_c = xy_d[rng.choice(n_d, n_c, replace=False)]
    return build_model(xy_d, xy_c, rng.integers(1, 30, n_d).astype(float), radius_m=radius)


def test_reduced_cost_fixing_keeps_every_solution_reaching_the_target():
    """Brute force: every selection covering at least the target avoids the candidates fixed
    out and contains those fixed in; both kinds of fixing happen on these instances."""
    from geo.siting import _lp_relaxation, reduced_cost_fixing

    fixed_out = fixed_in = 0
    for seed in range(40):
        model, _ = reduce_model(_random_model(seed))
        k = 1 + seed % 3
        n_c = model.reach.shape[1]
        lp = _lp_relaxation(model, k, time_limit_s=10)
        values = {c: model.value(np.array(c)) for c in itertools.combinations(range(n_c), k)}
        best = max(values.values())
        assert lp.value >= best - 1e-6
        for target in (best, best - 5):
            out, in_ = reduced_cost_fixing(lp, target)
            fixed_out, fixed_in = fixed_out + out.sum(), fixed_in + in_.sum()
            for chosen, value in values.items():
                if value >= target:
                    assert not out[list(chosen)].any(), (seed, target, chosen)
                    assert set(np.flatnonzero(in_)) <= set(chosen), (seed, target, chosen)
    assert fixed_out > 0 and fixed_in > 0


@pytest.mark.parametrize("seed", range(8))
def test_exact_matches_brute_force_on_overlapping_cover_sets(seed):
    """Clustered demand, fractional LPs: the support MIP, the fixing and the cutoff all run;
    the weights are fractional on odd seeds (no integer rounding of bounds or cutoffs)."""
    from geo.siting import solve_exact

    model = _random_model(seed, n_d=40, n_c=10, radius=300.0)
    if seed % 2:
        model = type(model)(model.reach, model.weights + 0.37 * (np.arange(40) % 3))
    for k in (2, 3):
        best = _brute_force(model, k)
        sol = solve_exact(model, k, time_limit_s=30)
        assert sol.status == "optimal"
        assert len(sol.chosen) <= k
        assert model.value(sol.chosen) == pytest.approx(best)
        assert sol.upper_bound == pytest.approx(best, abs=1e-5)


def test_branch_and_bound_cutoff(line):
    """HiGHS with an objective cutoff: finds the optimum (90) at or below it, reports
    "infeasible" above it."""
    from geo.siting import _branch_and_bound

    demand, cands = line
    xy = lambda f: np.column_stack([f.geometry.x, f.geometry.y])  # noqa: E731
    model = build_model(xy(demand), xy(cands), demand["residents"].to_numpy(float), radius_m=100)
    for cutoff in (None, 80.0, 89.5):
        chosen, status, bound = _branch_and_bound(model, 2, 10, cutoff=cutoff)
        assert status == "optimal" and sorted(chosen.tolist()) == [1, 2]
        assert bound == pytest.approx(90)
    chosen, status, _ = _branch_and_bound(model, 2, 10, cutoff=90.5)
    assert chosen is None and status == "infeasible"


def test_branch_and_bound_cutoff_above_the_optimum_finds_nothing():
    """Clustered instances: above the optimum (brute force) the answer is always "infeasible"
    with no selection, never a point below the cutoff; at the optimum it is found."""
    from geo.siting import _branch_and_bound

    for seed in range(6):
        model, _ = reduce_model(_random_model(seed, n_d=40, n_c=10, radius=300.0))
        best = _brute_force(model, 3)
        chosen, status, _ = _branch_and_bound(model, 3, 30, cutoff=best + 0.5)
        assert chosen is None and status == "infeasible"
        chosen, status, bound = _branch_and_bound(model, 3, 30, cutoff=best - 0.5)
        assert status == "optimal" and model.value(chosen) == pytest.approx(best)
        assert bound >= best - 1e-6


def test_time_limit_in_branch_and_bound_gives_a_valid_bound(monkeypatch):
    """When HiGHS stops on its time limit, the answer says so and its bound still holds."""
    import geo.siting as siting

    rng = np.random.default_rng(1)
    centres = rng.uniform(0, 30_000, (8, 2))
    xy = centres[rng.integers(0, 8, 500)] + rng.normal(0, 2_000, (500, 2))
    weights = rng.integers(1, 80, 500).astype(float)
    cands = rng.choice(500, 100, replace=False)  # the instance of the test above, seed 1
    model = build_model(xy, xy[cands], weights, radius_m=5_000.0)
    optimum = _plain_milp(model, 6)
    real = siting._branch_and_bound

    def stopped(sub, k, time_limit_s, *, cutoff=None):
        return real(sub, k, 1e-3, cutoff=cutoff)

    def no_probing(sub, k, target, *, deadline):
        return siting.ProbeFixing(np.zeros(sub.reach.shape[1], dtype=bool), np.inf, 0)

    monkeypatch.setattr(siting, "_branch_and_bound", stopped)
    monkeypatch.setattr(siting, "probe_fixing", no_probing)
    sol = siting.solve_exact(model, 6, time_limit_s=60)
    assert sol.status == "time limit"
    assert model.value(sol.chosen) <= optimum + 1e-9
    assert sol.upper_bound >= optimum
    assert sol.lp_bound >= sol.upper_bound


def test_lagrangian_bounds_hold_for_any_multipliers():
    """For random multipliers u >= 0, no selection with a candidate in (out) covers more than
    the bound for it; with u = 0 the bound is the total weight, hand-checkable."""
    from geo.siting import lagrangian_bounds

    rng = np.random.default_rng(11)
    for seed in range(15):
        model = _random_model(seed, n_d=20, n_c=7)
        k = 1 + seed % 3
        n_c = model.reach.shape[1]
        for u in (rng.uniform(0, 1, 20) * model.weights, rng.uniform(0, 40, 20)):
            bound_in, bound_out = lagrangian_bounds(model, k, u)
            for chosen in itertools.combinations(range(n_c), k):
                value = model.value(np.array(chosen))
                for j in range(n_c):
                    assert value <= (bound_in if j in chosen else bound_out)[j] + 1e-9
    model = _random_model(0, n_d=20, n_c=7)
    bound_in, bound_out = lagrangian_bounds(model, 2, np.zeros(20))
    assert np.allclose(bound_in, model.weights.sum()) and np.allclose(
        bound_out, model.weights.sum()
    )


def test_probe_fixing_keeps_every_solution_reaching_the_target():
    """Brute force: no selection covering at least the target uses a candidate fixed out by
    probing or covers more than the probing bound; above the optimum probing proves that
    nothing reaches the target (bound -inf) on most instances, and it fixes candidates."""
    import time

    from geo.siting import probe_fixing

    fixed = proofs = 0
    for seed in range(30):
        model, _ = reduce_model(_random_model(seed, n_d=40, n_c=12, radius=300.0))
        k = 2 + seed % 3
        n_c = model.reach.shape[1]
        values = {c: model.value(np.array(c)) for c in itertools.combinations(range(n_c), k)}
        best = max(values.values())
        for target in (best + 1, best, best - 10):
            probe = probe_fixing(model, k, target, deadline=time.perf_counter() + 30)
            fixed += int(probe.out.sum())
            proofs += probe.bound == -np.inf
            for chosen, value in values.items():
                if value >= target:
                    assert not probe.out[list(chosen)].any(), (seed, target, chosen)
                    assert value <= probe.bound + 1e-6, (seed, target, chosen)
    assert fixed > 0 and proofs >= 25


def test_probe_fixing_stops_at_the_deadline():
    """A deadline already past: nothing is fixed and no bound is claimed."""
    import time

    from geo.siting import probe_fixing

    model, _ = reduce_model(_random_model(3, n_d=40, n_c=12, radius=300.0))
    probe = probe_fixing(model, 2, 1.0, deadline=time.perf_counter() - 1)
    assert not probe.out.any() and probe.bound == np.inf and probe.probes == 0
