"""Site suggestion: the maximal covering location problem (MCLP), solved sparsely.

Choose ``k`` sites among candidates so that the largest weight of demand (e.g. uncovered
residents aggregated to cells) lies within ``radius_m`` of a chosen site. The model keeps
only the demand-candidate pairs within the radius (a ``cKDTree`` range query), so its size
grows with the pairs, not with demand x candidates::

    maximise   sum_i w_i y_i
    subject to y_i <= sum_{j in N_i} x_j     for every demand i  (N_i: candidates in reach)
               sum_j x_j <= k
               x_j binary, 0 <= y_i <= 1

Small enough problems are solved to proven optimality (:func:`solve_exact`): an equivalent
smaller model (dominated candidates dropped, identical demand rows merged), a greedy + swap
incumbent, the LP relaxation (HiGHS interior point), a MIP on the candidates the LP uses,
reduced-cost fixing (out and in), LP probing (warm-started dual simplex) that fixes candidates
out until the LP alone proves the incumbent optimal, then HiGHS branch and bound (``highspy``)
on what is left with the objective cutoff at the incumbent. Larger ones are solved with greedy, which reports how far
it can be from the optimum:

* the classical guarantee: greedy covers at least ``1 - (1 - 1/k)^k >= 1 - 1/e`` of the optimum
  (Nemhauser, Wolsey and Fisher 1978; coverage is monotone submodular);
* a data-dependent bound, usually much tighter: for every set ``S`` met along the way,
  ``OPT <= f(S) + (sum of the k largest marginal gains with respect to S)`` (same paper),
  and the LP relaxation's optimum when it can be solved.

Distances are straight-line in a projected CRS; a demand point exactly at the radius counts
as covered (the same rule as :mod:`geo.coverage`).

Example::

    result = suggest_sites(cells, None, k=5, radius_m=500, limits=SolverLimits.of(profile))
    result.method, result.covered, result.upper_bound
    # ("exact", 12345.0, 12345.0)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.optimize import linprog
from scipy.spatial import cKDTree

from geo.coverage import BOUNDARY_TOLERANCE_M
from geo.crs import require_projected, same_crs
from geo.settings import Profile
from layers.messages import Msg, msg

Method = Literal["auto", "exact", "greedy"]

#: Greedy's worst-case share of the optimum, ``1 - 1/e``.
GREEDY_GUARANTEE = 1.0 - 1.0 / math.e


SUPPORT_SHARE = 0.15
"""Share of the remaining time budget the MIP restricted to the LP's support may take.

That MIP is there to find a better incumbent, not a proof: on hard instances HiGHS finds its
best solution on the support early and then spends its time proving it optimal there, which
LP probing (:func:`probe_fixing`) makes unnecessary for the whole problem. On the hard bench
case (``bench/bench_siting.py --hard``) the support MIP finds the optimum within 1 s and took
2.9 s to prove it on the support; capped, the whole solve proves the optimum in about 7-8 s
instead of 9.5-10 s. Small instances finish their support MIP long before the cap."""

MIP_LP_SOLVER = "ipx"
"""HiGHS' LP solver in branch and bound (its ``mip_lp_solver`` option)."""


@dataclass(frozen=True)
class SolverLimits:
    """Limits of one site-suggestion solve; the city profile's ``[analysis]`` settings.

    The caller passes them (:meth:`of` reads them from a :class:`~geo.settings.Profile`);
    nothing in this module reads the profile on disk.
    """

    time_limit_s: float
    """Time budget of the exact solve and of greedy's LP bound, in seconds."""
    max_exact_pairs: int
    """With ``method="auto"``: exact up to this many demand-candidate pairs, greedy beyond."""
    max_lp_pairs: int
    """Greedy's LP-relaxation bound is computed up to this many pairs."""

    @classmethod
    def of(cls, profile: Profile) -> SolverLimits:
        """The limits of `profile`'s ``[analysis]`` section."""
        a = profile.analysis
        return cls(
            float(a.siting_time_limit_s), int(a.siting_max_exact_pairs), int(a.siting_max_lp_pairs)
        )


class SitingError(ValueError):
    """Inputs to site suggestion are missing or malformed."""


@dataclass(frozen=True)
class SiteSuggestion:
    """The sites chosen, the demand they cover and how far from optimal that can be.

    Attributes
    ----------
    sites
        Chosen candidate rows (original index and CRS) in order of their marginal
        contribution, with ``rank``, ``newly_covered`` (weight covered by this site and by no
        site before it) and ``cumulative_covered``.
    covered
        Demand weight within reach of the chosen sites.
    upper_bound
        A proven upper bound on the best possible ``covered`` for this ``k``.
    gap
        ``(upper_bound - covered) / upper_bound``: 0 means proven optimal.
    method
        ``"exact"`` (HiGHS MILP) or ``"greedy"``.
    status
        Solver status in words (``"optimal"``, ``"time limit"``, ``"greedy"``...).
    demand_covered
        Boolean Series on the demand index: within reach of a chosen site.
    """

    sites: gpd.GeoDataFrame
    covered: float
    upper_bound: float
    method: str
    status: str
    solve_time_s: float
    k: int
    radius_m: float
    total_demand: float
    reachable_demand: float
    n_demand: int
    n_candidates: int
    n_pairs: int
    demand_covered: pd.Series
    guarantee: float | None = None
    online_bound: float | None = None
    lp_bound: float | None = None
    mip_bound: float | None = None
    notes: tuple[Msg, ...] = field(default=())

    @property
    def gap(self) -> float:
        if not np.isfinite(self.upper_bound):
            return 1.0  # no bound known (e.g. the MILP stopped before its first LP)
        if self.upper_bound <= 0:
            return 0.0
        return max(0.0, (self.upper_bound - self.covered) / self.upper_bound)

    @property
    def proven_optimal(self) -> bool:
        return self.gap <= 1e-9

    def summary(self) -> dict[str, object]:
        """Plain numbers for tables and JSON."""
        return {
            "method": self.method,
            "status": self.status,
            "k": self.k,
            "sites_chosen": len(self.sites),
            "radius_m": self.radius_m,
            "covered": self.covered,
            "upper_bound": self.upper_bound,
            "gap": self.gap,
            "guarantee": self.guarantee,
            "online_bound": self.online_bound,
            "lp_bound": self.lp_bound,
            "mip_bound": self.mip_bound,
            "total_demand": self.total_demand,
            "reachable_demand": self.reachable_demand,
            "n_demand": self.n_demand,
            "n_candidates": self.n_candidates,
            "n_pairs": self.n_pairs,
            "solve_time_s": self.solve_time_s,
        }


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class CoverageModel:
    """Sparse reach matrix of an MCLP instance (demand rows x candidate columns)."""

    reach: sp.csr_array
    weights: np.ndarray

    @property
    def n_pairs(self) -> int:
        return int(self.reach.nnz)

    def value(self, chosen: np.ndarray) -> float:
        """Demand weight covered by the candidate positions in `chosen`."""
        return float(self.weights[self.covered_mask(chosen)].sum())

    def covered_mask(self, chosen: np.ndarray) -> np.ndarray:
        pick = np.zeros(self.reach.shape[1])
        pick[np.asarray(chosen, dtype=np.int64)] = 1.0
        return (self.reach @ pick) > 0


def _xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(frame.geometry.values)
    if len(geoms) and shapely.is_missing(geoms).any():
        raise SitingError("a row has no geometry")
    return shapely.get_coordinates(shapely.centroid(geoms))


def build_model(
    demand_xy: np.ndarray,
    candidate_xy: np.ndarray,
    weights: np.ndarray,
    *,
    radius_m: float,
    detour_factor: float = 1.0,
) -> CoverageModel:
    """Sparse reach matrix: entry (i, j) when candidate j is within the radius of demand i.

    A pair counts when ``distance * detour_factor <= radius_m`` (the boundary counts, with the
    same 1e-6 m tolerance as :func:`geo.coverage.covered`).
    """
    n_d, n_c = len(demand_xy), len(candidate_xy)
    if n_d == 0 or n_c == 0:
        return CoverageModel(sp.csr_array((n_d, n_c), dtype=np.float64), np.asarray(weights, float))
    reach_m = radius_m / detour_factor
    pairs = cKDTree(demand_xy).sparse_distance_matrix(
        cKDTree(candidate_xy), reach_m + BOUNDARY_TOLERANCE_M, output_type="ndarray"
    )
    keep = pairs["v"] * detour_factor <= radius_m + BOUNDARY_TOLERANCE_M
    rows, cols = pairs["i"][keep], pairs["j"][keep]
    data = np.ones(len(rows))
    reach = sp.csr_array((data, (rows, cols)), shape=(n_d, n_c))
    reach.sum_duplicates()
    return CoverageModel(reach, np.asarray(weights, dtype=np.float64))


def _set_keys(reach: sp.csr_array) -> np.ndarray:
    """Two independent 64-bit keys per row identifying its column set (rows need >= 1 entry).

    Each key is the wrapping sum of random 64-bit codes of the row's columns; two different
    sets share both keys with probability about 2**-128.
    """
    codes = np.random.default_rng(20261128).integers(
        0, np.iinfo(np.int64).max, size=(reach.shape[1], 2), dtype=np.int64
    )
    return np.add.reduceat(codes.view(np.uint64)[reach.indices], reach.indptr[:-1], axis=0)


def reduce_model(model: CoverageModel) -> tuple[CoverageModel, np.ndarray]:
    """An equivalent, smaller model: same optimum, fewer rows and columns.

    * demand rows of zero weight or out of every candidate's reach are dropped;
    * a candidate whose reach is a subset of another's is dropped (swapping it for the other
      never loses coverage; of identical candidates the first is kept);
    * demand rows reached by exactly the same candidates are merged (weights summed),
      identified by two independent 64-bit random hashes of their candidate sets.

    Returns the reduced model and, for each of its columns, the original column position.
    """
    reach = model.reach.tocsr()
    weights = model.weights
    keep = (weights > 0) & (np.diff(reach.indptr) > 0)
    reach, weights = reach[keep], weights[keep]
    binary = reach.copy()
    binary.data[:] = 1.0
    size = np.asarray(binary.sum(axis=0)).ravel()
    overlap = (binary.T @ binary).tocoo()
    row, col, shared = overlap.row, overlap.col, overlap.data
    other = row != col
    row, col, shared = row[other], col[other], shared[other]
    dominated = (shared == size[row]) & ((size[col] > size[row]) | (col < row))
    keep_col = size > 0
    keep_col[row[dominated]] = False
    columns = np.flatnonzero(keep_col)
    reach = reach[:, columns].tocsr()
    reach.sort_indices()
    if reach.shape[0] and reach.shape[1]:
        keys = _set_keys(reach)
        _, first, groups = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        weights = np.bincount(groups.ravel(), weights=weights, minlength=len(first))
        reach = reach[first]
    return CoverageModel(reach.tocsr(), weights), columns


# --------------------------------------------------------------------------- solvers
def _formulation(model: CoverageModel) -> tuple[np.ndarray, sp.csr_array, sp.csr_array]:
    """Objective and constraint rows over variables ``[x_0..x_{n_c-1}, y_0..y_{n_d-1}]``.

    Returns ``cost`` (minimise ``-w . y``), ``link`` (rows ``y_i - sum_{j in N_i} x_j <= 0``)
    and ``budget`` (the row ``sum_j x_j``).
    """
    n_d, n_c = model.reach.shape
    cost = np.concatenate([np.zeros(n_c), -model.weights])
    link = sp.hstack([-model.reach, sp.eye_array(n_d, format="csr")], format="csr")
    budget = sp.csr_array(np.concatenate([np.ones(n_c), np.zeros(n_d)])[None, :])
    return cost, link, budget


@dataclass(frozen=True)
class _Solution:
    chosen: np.ndarray
    status: str
    upper_bound: float
    seconds: float
    mip_bound: float | None = None
    online_bound: float | None = None
    lp_bound: float | None = None
    guarantee: float | None = None


@dataclass(frozen=True)
class LPRelaxation:
    """Optimum of the LP relaxation and, per candidate, its value and reduced costs.

    ``drop_if_in[j]`` (``drop_if_out[j]``) is the least the LP optimum falls when candidate
    ``j`` is forced into (out of) the selection: LP duality, read off the optimal duals.
    """

    value: float
    x: np.ndarray
    drop_if_in: np.ndarray
    drop_if_out: np.ndarray


def reduced_cost_fixing(lp: LPRelaxation, target: float) -> tuple[np.ndarray, np.ndarray]:
    """Candidates that LP duality fixes for every solution covering at least `target`.

    A selection containing candidate ``j`` covers at most ``lp.value - lp.drop_if_in[j]``
    (the optimum of the LP with ``j`` forced in), so below `target` ``j`` is in no solution
    reaching `target`; likewise with ``drop_if_out`` ``j`` is in all of them. A relative
    tolerance of 1e-6 keeps solver round-off from fixing a candidate wrongly.

    Returns
    -------
    tuple of numpy.ndarray
        Boolean masks ``(out, in_)`` over the candidates.
    """
    slack = target - 1e-6 * max(1.0, abs(lp.value))
    return lp.value - lp.drop_if_in < slack, lp.value - lp.drop_if_out < slack


@dataclass(frozen=True)
class ProbeFixing:
    """What LP probing proved about the solutions covering at least a target.

    ``out[j]``: candidate ``j`` is in none of them. ``bound``: none covers more than this (the
    LP optimum with the fixings; ``-inf`` when the fixings leave no selection reaching the
    target, ``inf`` when the LP was not solved). ``probes``: LPs solved with one ``x_j = 1``.
    """

    out: np.ndarray
    bound: float
    probes: int


PROBE_ITERATION_LIMIT = 400
"""Dual simplex iterations one probe may take before it is given up (the candidate stays)."""


def probe_fixing(model: CoverageModel, k: int, target: float, *, deadline: float) -> ProbeFixing:
    """Fix candidates out by LP probing, one at a time, until the LP proves the target out of reach.

    Let ``F`` be the candidates fixed so far, each in no selection covering at least `target`.
    Then every such selection lies in the LP with ``x_j = 0`` for ``j`` in ``F``, so:

    * if that LP's optimum is below `target`, no selection reaches it (``bound = -inf``);
    * if the LP with also ``x_j = 1`` stays below `target`, no such selection contains ``j``:
      ``j`` joins ``F`` (probing); likewise when the LP's duals bound the selections with
      ``j`` below it (:func:`reduced_cost_fixing`'s reasoning on the current LP).

    The probes are dual simplex runs warm-started from the LP's optimal basis (HiGHS stops
    one as soon as its objective proves the target out of reach), first on the candidates the
    LP uses fractionally, smallest ``x_j`` first: fixing those lowers the LP optimum. After each
    fix the LP is solved again. A probe that fails is retried only once the LP optimum has
    fallen. Stops at `deadline` or when no probe fixes anything more; the LP optimum last
    solved stays a valid bound. The same relative tolerance as :func:`reduced_cost_fixing`
    keeps round-off from fixing a candidate wrongly.
    """
    n_d, n_c = model.reach.shape
    out = np.zeros(n_c, dtype=bool)
    highs = _highs(model, k, integer=False)
    highs.setOptionValue("presolve", "off")  # the basis is needed for the warm starts
    highs.setOptionValue("solver", "ipm")
    highs.setOptionValue("run_crossover", "on")
    ok = {highspy.HighsModelStatus.kObjectiveBound, highspy.HighsModelStatus.kInfeasible}
    optimal = highspy.HighsModelStatus.kOptimal

    def run(**options: object) -> highspy.HighsModelStatus | None:
        left = deadline - time.perf_counter()
        if left <= 0:
            return None
        # HiGHS' time limit counts the time of every run of this instance so far
        highs.setOptionValue("time_limit", highs.getRunTime() + left)
        for name, value in options.items():
            highs.setOptionValue(name, value)
        highs.run()
        return highs.getModelStatus()

    if run() != optimal:
        return ProbeFixing(out, np.inf, 0)
    highs.setOptionValue("solver", "simplex")
    highs.setOptionValue("simplex_strategy", 1)  # dual
    bound, failed_at, probes = np.inf, np.full(n_c, np.inf), 0
    while True:
        resolve = bound < np.inf  # the first LP is solved above
        if resolve and run(objective_bound=np.inf, simplex_iteration_limit=2**31 - 1) != optimal:
            break  # out of time (or trouble): the last LP optimum stays the bound
        value = -highs.getInfo().objective_function_value
        slack = target - 1e-6 * max(1.0, abs(value))
        bound = value
        if value < slack:
            return ProbeFixing(out, -np.inf, probes)
        solution = highs.getSolution()
        x = np.asarray(solution.col_value[:n_c])
        free = np.flatnonzero(~out)
        lagrange_in, _ = lagrangian_bounds(
            CoverageModel(model.reach[:, free].tocsr(), model.weights),
            k,
            np.maximum(-np.asarray(solution.row_dual[:n_d]), 0.0),
        )
        reduced_cost = np.maximum(np.asarray(solution.col_dual[:n_c])[free], 0.0)
        if_in = np.minimum(value - reduced_cost, lagrange_in)
        fixed = free[if_in < slack]
        for j in fixed:
            highs.changeColBounds(int(j), 0.0, 0.0)
        out[fixed] = True
        if len(fixed):
            continue
        fractional = (x > 1e-6) & (x < 1 - 1e-6)
        retry = ~out & (failed_at > value + 1e-9 * max(1.0, abs(value)))
        first = np.flatnonzero(retry & fractional)
        rest = np.flatnonzero(retry[free] & (x[free] <= 1e-6))  # unused by the LP: likeliest first
        order = np.r_[
            first[np.argsort(x[first], kind="stable")],
            free[rest[np.argsort(if_in[rest], kind="stable")]],
        ]
        home = highs.getBasis()
        highs.setOptionValue("objective_bound", -slack)
        highs.setOptionValue("simplex_iteration_limit", PROBE_ITERATION_LIMIT)
        fixed_one = False
        for j in order:
            highs.changeColBounds(int(j), 1.0, 1.0)
            status = run()
            probes += 1
            if status is None:
                highs.changeColBounds(int(j), 0.0, 1.0)
                return ProbeFixing(out, bound, probes)
            objective = highs.getInfo().objective_function_value
            if status in ok or (status == optimal and -objective < slack):
                highs.changeColBounds(int(j), 0.0, 0.0)
                highs.setBasis(home)  # the LP's optimum, one bound away from the new one
                out[j] = fixed_one = True
                break
            highs.changeColBounds(int(j), 0.0, 1.0)
            highs.setBasis(home)
            failed_at[j] = value
        if not fixed_one:
            break
    return ProbeFixing(out, bound, probes)


def solve_exact(model: CoverageModel, k: int, *, time_limit_s: float) -> _Solution:
    """Solve the MCLP to proven optimality (HiGHS), helped by LP bounds, within a time budget.

    1. Reduce the model (:func:`reduce_model`).
    2. Incumbent: greedy (which also gives the online bound), improved by swaps; then the LP
       solution's k largest ``x_j``, improved by swaps; then HiGHS on the candidates the LP
       uses (``x_j > 0``), improved by swaps.
    3. LP relaxation (HiGHS interior point): if the incumbent reaches its value, it is optimal.
    4. Reduced-cost fixing (:func:`reduced_cost_fixing`) with the value a better solution must
       reach (incumbent + 1 for integer weights): candidates out of, or in, every better
       solution are dropped, or chosen with the demand they cover taken out.
    5. LP probing (:func:`probe_fixing`) on what is left: candidates fixed out one at a time
       until the LP proves that nothing reaches that value (the incumbent is then optimal) or
       no probe fixes more; its LP optimum is a bound even when the time runs out.
    6. HiGHS branch and bound on what is left, with the objective cutoff at that value: if
       it finds no solution there, the incumbent is optimal.

    `time_limit_s` bounds the whole solve (:attr:`SolverLimits.time_limit_s`). When
    it runs out, the best solution found is returned with status ``"time limit"`` and the best
    proven bound (online, LP or MILP).
    """
    start = time.perf_counter()
    deadline = start + max(float(time_limit_s), 0.0)
    full = model
    model, columns = reduce_model(full)
    n_c = model.reach.shape[1]
    if n_c == 0:
        return _Solution(np.array([], dtype=np.int64), "optimal", 0.0, time.perf_counter() - start)
    k = min(k, n_c)
    integral = bool(np.array_equal(model.weights, np.round(model.weights)))
    picks, online = _greedy(model, k)
    online = _valid_bound(online, integral)
    budget = deadline - start
    best = swap_improve(model, picks, deadline=start + 0.2 * budget)  # leave time for the LP
    guarantee = 1.0 - (1.0 - 1.0 / k) ** k

    def result(chosen: np.ndarray, status: str, bound: float, lp: float | None) -> _Solution:
        value = model.value(chosen)
        return _Solution(
            np.sort(columns[chosen]),
            status,
            max(bound, value),
            time.perf_counter() - start,
            mip_bound=bound,
            online_bound=online,
            lp_bound=lp,
            guarantee=guarantee,
        )

    def better_than(value: float) -> tuple[float, float]:
        """What a better solution must cover, and the objective cutoff safely below it."""
        if integral:
            return value + 1.0, value + 0.5
        return value, value - 1e-9 * max(1.0, abs(value))

    remaining = deadline - time.perf_counter()
    lp = _lp_relaxation(model, k, time_limit_s=remaining) if remaining > 0 else None
    if lp is None:
        return result(best, "time limit", online, None)
    lp_bound = min(_valid_bound(lp.value, integral), online)
    rounded = swap_improve(
        model,
        np.argsort(-lp.x, kind="stable")[:k],
        deadline=min(deadline, time.perf_counter() + 0.1 * budget),
    )
    if model.value(rounded) > model.value(best):
        best = rounded
    incumbent = model.value(best)
    if incumbent >= lp_bound - 1e-9:
        return result(best, "optimal", incumbent, lp_bound)
    # restricted MIP on the LP's support (the candidates with x_j > 0), then swaps: on
    # instances with heavily overlapping cover sets it finds far better incumbents than
    # greedy or rounding, which also makes the reduced-cost fixing below bite
    support = np.flatnonzero(lp.x > 1e-6)
    remaining = deadline - time.perf_counter()
    if k < len(support) < n_c and remaining > 0:
        sub, sub_columns = reduce_model(
            CoverageModel(model.reach[:, support].tocsr(), model.weights)
        )
        found, _, _ = _branch_and_bound(
            sub,
            min(k, sub.reach.shape[1]),
            SUPPORT_SHARE * remaining,
            cutoff=better_than(incumbent)[1],
        )
        if found is not None and len(found):
            found = support[sub_columns[found]]
            found = np.r_[found, np.setdiff1d(best, found)[: k - len(found)]]
            found = swap_improve(
                model, found, deadline=min(deadline, time.perf_counter() + 0.05 * budget)
            )
            if model.value(found) > incumbent:
                best, incumbent = found, model.value(found)
        if incumbent >= lp_bound - 1e-9:
            return result(best, "optimal", incumbent, lp_bound)
    target, cutoff = better_than(incumbent)
    out, in_ = reduced_cost_fixing(lp, target)
    if (out & in_).any() or in_.sum() > k:  # no selection can reach the target
        return result(best, "optimal", incumbent, lp_bound)
    forced = np.flatnonzero(in_)
    free_rows = ~model.covered_mask(forced)
    base = model.value(forced)
    keep = np.flatnonzero(~out & ~in_)
    sub, sub_columns = reduce_model(
        CoverageModel(model.reach[free_rows][:, keep].tocsr(), model.weights[free_rows])
    )
    sub_columns = keep[sub_columns]
    k_sub = min(k - len(forced), sub.reach.shape[1])
    if k_sub == 0:  # the forced candidates are the only selection that could reach the target
        if base >= target:
            best = _fill(forced, best, k)
        return result(best, "optimal", model.value(best), lp_bound)
    probe = probe_fixing(sub, k_sub, target - base, deadline=deadline)
    if probe.bound == -np.inf:  # no selection reaches the target
        return result(best, "optimal", incumbent, lp_bound)
    # every selection outside what is still open covers less than the target
    bound = min(lp_bound, max(_valid_bound(base + probe.bound, integral), incumbent))
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return result(best, "time limit", bound, lp_bound)
    keep = np.flatnonzero(~probe.out)
    sub, kept = reduce_model(CoverageModel(sub.reach[:, keep].tocsr(), sub.weights))
    sub_columns = sub_columns[keep[kept]]
    k_sub = min(k_sub, sub.reach.shape[1])
    if k_sub == 0:  # as above
        if base >= target:
            best = _fill(forced, best, k)
        return result(best, "optimal", model.value(best), lp_bound)
    found, status, sub_bound = _branch_and_bound(sub, k_sub, remaining, cutoff=cutoff - base)
    if found is not None:
        chosen = np.r_[forced, sub_columns[found]].astype(np.int64)
        if model.value(chosen) > incumbent:
            best = _fill(chosen, best, k)
    if status in ("optimal", "infeasible"):  # infeasible: nothing reaches the cutoff
        return result(best, "optimal", model.value(best), lp_bound)
    bound = min(bound, max(_valid_bound(base + sub_bound, integral), model.value(best)))
    return result(best, status, bound, lp_bound)


def _fill(chosen: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """`chosen` topped up to `k` positions from `other` (a superset never covers less)."""
    extra = np.setdiff1d(other, chosen)[: max(0, k - len(chosen))]
    return np.r_[chosen, extra].astype(np.int64)


def _valid_bound(value: float, integral: bool) -> float:
    """A solver's bound made safe against its tolerances (and rounded down for integer weights)."""
    if not np.isfinite(value):
        return np.inf if value > 0 else -np.inf
    safe = value * (1 + 1e-7) + 1e-6  # HiGHS' feasibility tolerances are 1e-7
    return float(np.floor(safe + 1e-9)) if integral else safe


def _highs(model: CoverageModel, k: int, *, integer: bool) -> highspy.Highs:
    """A quiet HiGHS instance holding the MCLP (:func:`_formulation`), as a MIP or its LP."""
    n_d, n_c = model.reach.shape
    cost, link, budget = _formulation(model)
    matrix = sp.vstack([link, budget], format="csc")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_c + n_d, n_d + 1
    lp.col_cost_ = cost
    lp.col_lower_, lp.col_upper_ = np.zeros(n_c + n_d), np.ones(n_c + n_d)
    lp.row_lower_ = np.full(n_d + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.r_[np.zeros(n_d), float(k)]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_c + [
            highspy.HighsVarType.kContinuous
        ] * n_d
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    return highs


def _branch_and_bound(
    model: CoverageModel, k: int, time_limit_s: float, *, cutoff: float | None = None
) -> tuple[np.ndarray | None, str, float]:
    """HiGHS branch and bound: chosen positions (None if none found), status, best bound.

    With `cutoff`, only selections covering at least `cutoff` are searched for: HiGHS prunes
    every node whose bound is below it, and the status is ``"infeasible"`` when it has proven
    that there is none (the bound is then ``-inf``). The root LP is solved by interior point
    (IPX), much faster than the dual simplex on these degenerate LPs.
    """
    n_c = model.reach.shape[1]
    highs = _highs(model, k, integer=True)
    highs.setOptionValue("time_limit", max(float(time_limit_s), 1e-3))
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_lp_solver", MIP_LP_SOLVER)
    if cutoff is not None:
        highs.setOptionValue("objective_bound", -float(cutoff))
    highs.run()
    status = _STATUS.get(highs.getModelStatus(), "solver error")
    info = highs.getInfo()
    chosen = None
    if status != "infeasible" and info.primal_solution_status == 2:  # a feasible solution
        x = np.asarray(highs.getSolution().col_value[:n_c])
        order = np.argsort(-x, kind="stable")[:k]
        chosen = order[x[order] > 0.5]
        if cutoff is not None and model.value(chosen) < cutoff:
            # HiGHS may finish "optimal" with a point below the cutoff: the search is
            # complete, so nothing reaches the cutoff
            chosen = None
    if status == "optimal" and chosen is None:
        status = "infeasible"
    if status == "infeasible":
        return None, status, -np.inf
    dual = float(info.mip_dual_bound)
    return chosen, status, (-dual if np.isfinite(dual) else np.inf)


_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kTimeLimit: "time limit",
}


def _greedy(model: CoverageModel, k: int) -> tuple[np.ndarray, float]:
    """Greedy picks (in order) and the online bound ``min_t f(S_t) + top-k gains``."""
    k = min(k, model.reach.shape[1])
    by_candidate = model.reach.T.tocsr()  # candidate -> demand rows
    remaining = model.weights.copy()
    chosen: list[int] = []
    value = 0.0
    online = np.inf
    for _ in range(k + 1):
        gains = by_candidate @ remaining
        if chosen:
            gains[np.asarray(chosen)] = 0.0
        top = np.partition(gains, -k)[-k:] if k else np.zeros(0)
        online = min(online, value + float(top.sum()))
        if len(chosen) == k:
            break
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append(best)
        value += float(gains[best])
        remaining[
            by_candidate.indices[by_candidate.indptr[best] : by_candidate.indptr[best + 1]]
        ] = 0.0
    return np.asarray(chosen, dtype=np.int64), online


def swap_improve(
    model: CoverageModel,
    chosen: np.ndarray,
    *,
    max_rounds: int | None = None,
    deadline: float | None = None,
) -> np.ndarray:
    """Local search: swap one chosen site for another while that covers more (best swap first).

    Each round costs one sparse product per chosen site; by default the rounds are capped so
    that at most about 4,000 products are spent.
    """
    chosen = np.asarray(chosen, dtype=np.int64).copy()
    if len(chosen) == 0:
        return chosen
    if max_rounds is None:
        max_rounds = min(100, max(5, 4000 // len(chosen)))
    by_candidate = model.reach.T.tocsr()
    w = model.weights
    for _ in range(max_rounds):
        if deadline is not None and time.perf_counter() > deadline:
            break
        pick = np.zeros(model.reach.shape[1])
        pick[chosen] = 1.0
        count = model.reach @ pick  # chosen sites reaching each demand row
        best_delta, best_move = 1e-9 * max(1.0, float(w.sum())), None
        for pos, site in enumerate(chosen):  # k sites, not features
            rows = by_candidate.indices[by_candidate.indptr[site] : by_candidate.indptr[site + 1]]
            lost = float(w[rows[count[rows] == 1]].sum())
            left = count.copy()
            left[rows] -= 1
            gains = by_candidate @ np.where(left == 0, w, 0.0)
            gains[chosen] = -np.inf
            other = int(np.argmax(gains))
            if gains[other] - lost > best_delta:
                best_delta, best_move = gains[other] - lost, (pos, other)
        if best_move is None:
            break
        chosen[best_move[0]] = best_move[1]
    return chosen


def solve_greedy(
    model: CoverageModel,
    k: int,
    *,
    lp_bound: bool = True,
    time_limit_s: float,
) -> _Solution:
    """Greedy MCLP with the online bound and, optionally, the LP-relaxation bound.

    `time_limit_s` bounds the LP (:attr:`SolverLimits.time_limit_s`).
    """
    start = time.perf_counter()
    k_eff = min(k, model.reach.shape[1])
    picks, online = _greedy(model, k_eff)
    chosen_arr = np.sort(picks)
    value = model.value(chosen_arr)
    guarantee = 1.0 - (1.0 - 1.0 / k_eff) ** k_eff if k_eff else 1.0
    bounds = [online, value / guarantee if guarantee > 0 else np.inf]
    lp = None
    if lp_bound and model.n_pairs:
        lp = _lp_bound(model, k_eff, time_limit_s=time_limit_s)
        if lp is not None:
            bounds.append(lp)
    return _Solution(
        chosen_arr,
        "greedy",
        max(min(bounds), value),
        time.perf_counter() - start,
        online_bound=online,
        lp_bound=lp,
        guarantee=guarantee,
    )


def _lp_relaxation(model: CoverageModel, k: int, *, time_limit_s: float) -> LPRelaxation | None:
    """LP relaxation by HiGHS' interior-point method (with crossover), much faster than simplex
    on these degenerate LPs; None if not solved in time."""
    n_d, n_c = model.reach.shape
    if n_c == 0 or n_d == 0:
        return LPRelaxation(0.0, np.zeros(n_c), np.zeros(n_c), np.zeros(n_c))
    cost, link, budget = _formulation(model)
    res = linprog(
        cost,
        A_ub=sp.vstack([link, budget], format="csr"),
        b_ub=np.concatenate([np.zeros(n_d), [float(k)]]),
        bounds=(0.0, 1.0),
        method="highs-ipm",
        options={"time_limit": max(float(time_limit_s), 1e-3)},
    )
    if res.status != 0:
        return None
    # minimising -w.y: raising x_j off 0 costs at least lower.marginals[j] >= 0, lowering it
    # off 1 at least -upper.marginals[j] >= 0
    value = float(-res.fun)
    bound_in = value - np.maximum(np.asarray(res.lower.marginals[:n_c], dtype=float), 0.0)
    bound_out = value - np.maximum(-np.asarray(res.upper.marginals[:n_c], dtype=float), 0.0)
    # the same duals in the Lagrangian form often bound more tightly (the LP is degenerate)
    lagrange_in, lagrange_out = lagrangian_bounds(
        model, k, np.maximum(-np.asarray(res.ineqlin.marginals[:n_d], dtype=float), 0.0)
    )
    return LPRelaxation(
        value,
        np.asarray(res.x[:n_c]),
        value - np.minimum(bound_in, lagrange_in),
        value - np.minimum(bound_out, lagrange_out),
    )


def lagrangian_bounds(model: CoverageModel, k: int, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper bounds on the weight covered by any selection with candidate ``j`` in (and out).

    Relaxing ``y_i <= sum_{j in N_i} x_j`` with multipliers ``u_i >= 0`` gives, for every
    selection ``S`` of at most ``k`` candidates, ``covered(S) <= sum_i max(0, w_i - u_i) +
    sum_{j in S} c_j`` with ``c_j = sum_{i in N_j} u_i``; the best ``S`` with ``j`` forced in
    (out) is found by sorting ``c``. Valid for any ``u >= 0`` (e.g. the LP's duals).
    """
    n_c = model.reach.shape[1]
    k = min(k, n_c)
    u = np.clip(u, 0.0, model.weights)  # beyond w_i a multiplier only loosens the bound
    c = model.reach.T @ u
    order = np.argsort(-c, kind="stable")
    base = float(np.maximum(model.weights - u, 0.0).sum())
    top = base + float(c[order[:k]].sum())
    kth = c[order[k - 1]] if k else 0.0
    next_ = c[order[k]] if k < n_c else 0.0
    in_top = np.zeros(n_c, dtype=bool)
    in_top[order[:k]] = True
    if k == 0:
        return np.full(n_c, -np.inf), np.full(n_c, top)
    forced_in = np.where(in_top, top, top - kth + c)
    forced_out = np.where(in_top, top - c + next_, top)
    return forced_in, forced_out


def _lp_bound(model: CoverageModel, k: int, *, time_limit_s: float) -> float | None:
    """Optimum of the LP relaxation of the reduced model (same integer optimum, LP value no
    larger), made safe against solver tolerances; None if not solved."""
    reduced, _ = reduce_model(model)
    lp = _lp_relaxation(reduced, k, time_limit_s=time_limit_s)
    if lp is None:
        return None
    return _valid_bound(lp.value, bool(np.array_equal(reduced.weights, np.round(reduced.weights))))


def marginal_order(model: CoverageModel, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order chosen candidates greedily; return (positions in order, marginal weight of each)."""
    chosen = np.asarray(chosen, dtype=np.int64)
    sub = (
        model.reach[:, chosen].T.tocsr() if len(chosen) else sp.csr_array((0, model.reach.shape[0]))
    )
    remaining = model.weights.copy()
    order: list[int] = []
    gains_out: list[float] = []
    left = np.ones(len(chosen), dtype=bool)
    for _ in range(len(chosen)):
        gains = np.where(left, sub @ remaining, -1.0)
        best = int(np.argmax(gains))
        order.append(best)
        gains_out.append(float(gains[best]))
        left[best] = False
        remaining[sub.indices[sub.indptr[best] : sub.indptr[best + 1]]] = 0.0
    return chosen[np.asarray(order, dtype=np.int64)], np.asarray(gains_out, dtype=float)


# --------------------------------------------------------------------------- public API
def suggest_sites(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None,
    *,
    k: int,
    radius_m: float,
    weight: str = "residents",
    method: Method = "auto",
    detour_factor: float = 1.0,
    limits: SolverLimits,
    walk=None,
) -> SiteSuggestion:
    """Choose `k` sites covering the most demand weight within `radius_m`.

    With `walk` (:class:`geo.network.Walk`) a site covers a demand point within a walk of
    `radius_m` along roads (no detour factor); the same solvers run on those cover sets.

    Parameters
    ----------
    demand
        Demand points (polygons are reduced to centroids) in a projected CRS, with a
        non-negative `weight` column, e.g. uncovered residents aggregated to 250 m cells.
    candidates
        Candidate sites in the same CRS, or None to use the demand locations themselves
        (the centres of the uncovered cells).
    k
        Number of sites to choose (at least 1).
    radius_m
        Service radius in metres; a demand point at exactly the radius is covered.
    method
        ``"exact"`` (HiGHS MILP), ``"greedy"``, or ``"auto"``: exact when the model has at
        most `max_exact_pairs` demand-candidate pairs, greedy beyond.
    limits
        The solver's limits (:class:`SolverLimits`, from the city profile): the time budget of
        the exact solve and of greedy's LP bound (when it runs out, the best solution found, at
        least as good as greedy, is returned with status ``"time limit"`` and a proven upper
        bound), and the pair limits of the exact solve (with ``"auto"``) and of greedy's LP
        bound.

    Returns
    -------
    SiteSuggestion
        The chosen sites with the weight each newly covers, the total, the method used and a
        proven upper bound on the optimum.
    """
    if k < 1:
        raise SitingError(f"k must be at least 1, not {k}")
    time_limit_s = limits.time_limit_s
    max_exact_pairs = limits.max_exact_pairs
    max_lp_pairs = limits.max_lp_pairs
    if radius_m <= 0 or detour_factor <= 0:
        raise SitingError("radius_m and detour_factor must be positive")
    if method not in ("auto", "exact", "greedy"):
        raise SitingError(f"method must be 'auto', 'exact' or 'greedy', not {method!r}")
    require_projected(demand, "demand")
    if weight not in demand.columns:
        raise SitingError(
            f"demand: missing weight column '{weight}' (columns: {', '.join(map(str, demand.columns))})"
        )
    weights = pd.to_numeric(demand[weight], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if len(bad):
        rows = ", ".join(str(demand.index[i]) for i in bad[:5])
        raise SitingError(f"demand: field '{weight}' must be a non-negative number (rows {rows})")
    if candidates is None:
        candidates = candidate_sites(demand)
    else:
        same_crs(demand, candidates, names=("demand", "candidates"))

    if walk is not None:
        points = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(*_xy(demand).T, crs=demand.crs), index=demand.index
        )
        reach = walk.pairs(points, candidates, radius_m=radius_m).astype(np.float64)
        model = CoverageModel(sp.csr_array(reach), weights)
    else:
        model = build_model(
            _xy(demand), _xy(candidates), weights, radius_m=radius_m, detour_factor=detour_factor
        )
    reachable = model.reach.sum(axis=1) > 0
    notes: list[str] = []
    use = method
    if method == "auto":
        use = "exact" if model.n_pairs <= max_exact_pairs else "greedy"
        if use == "greedy":
            notes.append(
                msg(
                    f"需求点-候选点组合 {model.n_pairs:,} 个，超过 {max_exact_pairs:,}：使用贪心算法",
                    f"{model.n_pairs:,} pairs > {max_exact_pairs:,}: greedy used",
                )
            )

    if use == "exact":
        sol = solve_exact(model, k, time_limit_s=time_limit_s)
        if sol.status != "optimal":
            notes.append(
                msg(
                    f"已到求解时限（{time_limit_s:g} s）：给出已找到的最好解，并附已证明的上界",
                    f"time limit ({time_limit_s:g} s) reached: best solution found, "
                    "with a proven bound",
                )
            )
    else:
        sol = solve_greedy(
            model, k, lp_bound=model.n_pairs <= max_lp_pairs, time_limit_s=time_limit_s
        )

    ordered, gains = marginal_order(model, sol.chosen)
    useful = gains > 0
    if (~useful).any():
        left = int((~useful).sum())
        notes.append(
            msg(
                f"{left:,} 个选中的新址不增加覆盖需求，已略去",
                f"{left:,} chosen site(s) add no demand and are left out",
            )
        )
    ordered, gains = ordered[useful], gains[useful]
    sites = candidates.iloc[ordered].copy()
    sites["rank"] = np.arange(1, len(sites) + 1)
    sites["newly_covered"] = gains
    sites["cumulative_covered"] = np.cumsum(gains)
    covered_mask = model.covered_mask(ordered)
    covered = float(model.weights[covered_mask].sum())
    upper = sol.upper_bound
    if np.isfinite(upper) and np.array_equal(weights, np.round(weights)):
        upper = math.floor(upper + 1e-9)  # integer weights: the optimum is an integer too
    return SiteSuggestion(
        sites=sites,
        covered=covered,
        upper_bound=max(upper, covered),
        method=use,
        status=sol.status,
        solve_time_s=sol.seconds,
        k=k,
        radius_m=float(radius_m),
        total_demand=float(weights.sum()),
        reachable_demand=float(weights[reachable].sum()),
        n_demand=len(demand),
        n_candidates=len(candidates),
        n_pairs=model.n_pairs,
        demand_covered=pd.Series(covered_mask, index=demand.index, name="covered_by_suggestion"),
        guarantee=sol.guarantee,
        online_bound=sol.online_bound,
        lp_bound=sol.lp_bound,
        mip_bound=sol.mip_bound,
        notes=tuple(notes),
    )


def candidate_sites(demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Generated candidates: one site at each distinct demand location (e.g. cell centres)."""
    require_projected(demand, "demand")
    xy = _xy(demand)
    if len(xy) == 0:
        return gpd.GeoDataFrame(
            {"source": []}, geometry=gpd.GeoSeries([], crs=demand.crs), crs=demand.crs
        )
    _, first = np.unique(np.round(xy, 3), axis=0, return_index=True)
    first = np.sort(first)
    return gpd.GeoDataFrame(
        {"source": "generated"},
        geometry=gpd.points_from_xy(xy[first, 0], xy[first, 1]),
        index=demand.index[first],
        crs=demand.crs,
    )
