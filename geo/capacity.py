"""Shelter capacity: nearest assignment against capacity, and an exact capacity-constrained
allocation (maximum flow).

Capacity of a shelter is its ``capacity`` field, or ``floor(effective_area_m2 / per-capita
area of its class)`` (``profile.per_capita_area_m2``) where no capacity is given.

*Nearest assignment* sends every resident to the nearest shelter of the group if it lies within
the radius (the boundary counts, as in :mod:`geo.coverage`) and compares each shelter's load
with its capacity.

*Constrained allocation* finds the largest number of residents that can be placed in shelters
within the radius without exceeding any capacity. Residents who can reach exactly the same set
of shelters are interchangeable, so points are grouped by (``cell_m`` cell, set of reachable
shelters); that grouping keeps the problem exact while making it small. Which shelters a point
reaches is decided per cell where the whole cell is in (or out of) reach, point by point only in
cells the radius crosses (:func:`cell_reach`). The flow network source -> group (its residents)
-> shelter (up to the group's residents) -> sink (the shelter's capacity) is solved with
:func:`scipy.sparse.csgraph.maximum_flow` (Dinic), which is exact for integer capacities.

Example::

    cap = shelter_capacity(shelters, profile)
    near = nearest_assignment(population, shelters, radius_m=500, capacity=cap)
    best = constrained_allocation(population, shelters, radius_m=500, capacity=cap, cell_m=250)
    best.placed, best.unplaced
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import maximum_flow
from scipy.spatial import cKDTree

from geo.areas import area_names, coordinates
from geo.coverage import (
    BOUNDARY_TOLERANCE_M,
    cell_frame,
    cell_groups,
    cell_keys,
    nearest_facility,
    radius_for,
    residents_of,
    select_facilities,
    split_facilities,
    walk_of,
)
from geo.crs import require_projected, same_crs
from geo.index import Memo, kdtree, point_set, polygon_index
from geo.settings import Profile

SHELTER_GROUPS: dict[str, str] = {
    "emergency": "shelters_emergency",
    "fixed": "shelters_fixed",
    "central": "shelters_central",
}
"""Shelter groups analysed for capacity -> the coverage kind giving their classes and radius."""

SUPPLY_GROUPS: tuple[str, ...] = ("fixed", "central")
"""Groups whose places and effective area count towards the per-resident shelter targets
(places for staying, GB/T 51327-2018 §4.2.2); emergency shelters are for the first hours."""


class CapacityError(ValueError):
    """Capacity input that cannot be used (e.g. misaligned with the shelters)."""


def _pop_frame(population: gpd.GeoDataFrame, shelters: gpd.GeoDataFrame) -> None:
    same_crs(population, shelters, names=("population", "shelters"))


def shelter_capacity(shelters: pd.DataFrame, profile) -> pd.Series:
    """Persons each shelter can hold: ``capacity`` where given, otherwise
    ``floor(effective_area_m2 / per-capita area of its class)``; 0 when neither is known.

    Uses only attributes, so any CRS is accepted. Returns an int64 Series named ``capacity``
    on the index of `shelters`.
    """
    per_capita = dataclasses.asdict(profile.per_capita_area_m2)
    n = len(shelters)

    def numbers(column: str) -> pd.Series:
        if column not in shelters.columns:
            return pd.Series(np.nan, index=shelters.index)
        return pd.to_numeric(shelters[column], errors="coerce").astype("float64")

    given = numbers("capacity")
    area = numbers("effective_area_m2")
    classes = (
        shelters["shelter_class"] if "shelter_class" in shelters.columns else pd.Series([None] * n)
    )
    per = pd.Series(classes.to_numpy()).map(per_capita).astype("float64").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        derived = np.floor(area.to_numpy() / per + 1e-9)
    derived = np.where(np.isfinite(derived) & (derived > 0), derived, 0)
    values = np.where(given.notna().to_numpy(), given.to_numpy(), derived)
    return pd.Series(np.round(values).astype(np.int64), index=shelters.index, name="capacity")


def _capacity_array(capacity: pd.Series | np.ndarray, shelters: pd.DataFrame) -> np.ndarray:
    if isinstance(capacity, pd.Series):
        if not capacity.index.equals(shelters.index):
            missing = shelters.index.difference(capacity.index)
            if len(missing):
                raise CapacityError(f"capacity: no value for shelters {list(missing[:5])}")
            capacity = capacity.reindex(shelters.index)
        capacity = capacity.to_numpy()
    arr = np.asarray(capacity, dtype=np.float64)
    if arr.shape != (len(shelters),):
        raise CapacityError(f"capacity: expected {len(shelters)} values, got {arr.shape}")
    return np.where(np.isfinite(arr) & (arr > 0), np.round(arr), 0).astype(np.int64)


def _shelter_table(shelters: pd.DataFrame, cap: np.ndarray, load: np.ndarray) -> pd.DataFrame:
    cols = [c for c in ("shelter_id", "name", "shelter_class") if c in shelters.columns]
    table = pd.DataFrame({c: shelters[c].to_numpy() for c in cols}, index=shelters.index)
    table["capacity"] = cap
    table["load"] = load
    table["spare"] = cap - load
    with np.errstate(invalid="ignore", divide="ignore"):
        table["utilisation"] = np.where(
            cap > 0, load / np.maximum(cap, 1), np.where(load > 0, np.inf, 0.0)
        )
    table["overloaded"] = load > cap
    return table


@dataclass
class NearestAssignment:
    """Each resident sent to the nearest shelter within the radius.

    ``loads`` (index of the shelters): capacity, load, spare, utilisation, overloaded.
    ``assigned``: position of each point's shelter in the shelter frame, -1 if out of reach.
    """

    radius_m: float
    loads: pd.DataFrame
    assigned: pd.Series
    residents_total: int
    residents_unassigned: int
    shelters: gpd.GeoDataFrame = field(repr=False)

    @property
    def overloaded(self) -> gpd.GeoDataFrame:
        """Overloaded shelters with geometry, the most overloaded (by persons) first."""
        over = self.loads[self.loads["overloaded"]]
        frame = gpd.GeoDataFrame(
            over.assign(excess=-over["spare"]),
            geometry=self.shelters.geometry.loc[over.index].values,
            crs=self.shelters.crs,
        )
        return frame.sort_values("excess", ascending=False, kind="stable")

    def summary(self) -> dict[str, Any]:
        over = self.loads[self.loads["overloaded"]]
        return {
            "radius_m": float(self.radius_m),
            "shelters": len(self.loads),
            "capacity": int(self.loads["capacity"].sum()),
            "residents_total": int(self.residents_total),
            "residents_assigned": int(self.residents_total - self.residents_unassigned),
            "residents_unassigned": int(self.residents_unassigned),
            "overloaded_shelters": len(over),
            "residents_over_capacity": int(-over["spare"].sum()),
        }


def nearest_assignment(
    population: gpd.GeoDataFrame,
    shelters: gpd.GeoDataFrame,
    *,
    radius_m: float,
    capacity: pd.Series | np.ndarray,
    detour_factor: float = 1.0,
    walk=None,
) -> NearestAssignment:
    """Send each resident to the nearest shelter within `radius_m` and compare loads with
    `capacity` (aligned with `shelters`). Residents with no shelter in reach stay unassigned.
    With `walk` (:class:`geo.network.Walk`) distances are walked along roads (no detour factor).
    """
    _pop_frame(population, shelters)
    cap = _capacity_array(capacity, shelters)
    res = residents_of(population)
    if walk is not None:
        dist, pos = walk.nearest(population, shelters)
        detour_factor = 1.0
    else:
        dist, pos = nearest_facility(population, shelters)
    reach = (dist.to_numpy() * detour_factor <= radius_m + BOUNDARY_TOLERANCE_M) & (
        pos.to_numpy() >= 0
    )
    p = np.where(reach, pos.to_numpy(), -1)
    load = (
        np.bincount(p[reach], weights=res[reach], minlength=len(shelters)).round().astype(np.int64)
    )
    return NearestAssignment(
        radius_m=float(radius_m),
        loads=_shelter_table(shelters, cap, load),
        assigned=pd.Series(p, index=population.index, name="shelter_position"),
        residents_total=int(res.sum()),
        residents_unassigned=int(res[~reach].sum()),
        shelters=shelters,
    )


def reach_pairs(
    points: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *, radius_m: float
) -> sp.csr_matrix:
    """Sparse ``points x facilities`` matrix of ones where a facility is within `radius_m`
    (boundary included). Point facilities use cKDTrees; polygons are measured to their edge."""
    same_crs(points, facilities, names=("points", "facilities"))
    n, m = len(points), len(facilities)
    if n == 0 or m == 0:
        return sp.csr_matrix((n, m), dtype=np.int8)
    r = radius_m + BOUNDARY_TOLERANCE_M
    xy = coordinates(points)
    points_tree = kdtree(xy)
    geoms = np.asarray(facilities.geometry.values)
    point_pos, other_pos = split_facilities(facilities)
    rows, cols = [], []
    if len(point_pos):
        fxy = np.column_stack([shapely.get_x(geoms[point_pos]), shapely.get_y(geoms[point_pos])])
        pairs = kdtree(fxy).sparse_distance_matrix(points_tree, r, output_type="ndarray")
        rows.append(pairs["j"].astype(np.int64))
        cols.append(point_pos[pairs["i"].astype(np.int64)])
    if len(other_pos):
        pi, fi = polygon_index(geoms[other_pos]).within(points_tree, shapely.points(xy), r)
        rows.append(pi)
        cols.append(other_pos[fi])
    pi, fi = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(len(pi), dtype=np.int8), (pi, fi)), shape=(n, m))


@dataclass
class ConstrainedAllocation:
    """The most residents placed in shelters within reach without exceeding any capacity.

    ``loads`` per shelter; ``unplaced_cells`` polygons (``cell_m`` squares) with
    ``residents_unplaced`` = ``residents_out_of_reach`` (no shelter within the radius) +
    ``residents_over_capacity`` (shelters in reach are full).
    """

    radius_m: float
    residents_total: int
    placed: int
    out_of_reach: int
    loads: pd.DataFrame
    unplaced_cells: gpd.GeoDataFrame
    method: str
    optimal: bool
    demand_groups: int
    edges: int

    @property
    def unplaced(self) -> int:
        return self.residents_total - self.placed

    def summary(self) -> dict[str, Any]:
        return {
            "radius_m": float(self.radius_m),
            "residents_total": int(self.residents_total),
            "residents_placed": int(self.placed),
            "residents_unplaced": int(self.unplaced),
            "residents_out_of_reach": int(self.out_of_reach),
            "residents_over_capacity": int(self.unplaced - self.out_of_reach),
            "capacity": int(self.loads["capacity"].sum()) if len(self.loads) else 0,
            "method": self.method,
            "optimal": bool(self.optimal),
            "demand_groups": int(self.demand_groups),
            "edges": int(self.edges),
        }


def _facility_keys(m: int, seed: int = 12345) -> np.ndarray:
    """Random odd 64-bit keys, one per facility, for hashing sets of facilities."""
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, np.iinfo(np.int64).max, size=m, dtype=np.int64)
    return (keys.astype(np.uint64) << np.uint64(1)) | np.uint64(1)


def _row_hash(matrix: sp.csr_matrix, keys: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's column set: the sum (mod 2**64) of the columns' random keys.

    Two different sets collide with probability about 2**-64 per pair."""
    out = np.zeros(matrix.shape[0], dtype=np.uint64)
    rows = np.flatnonzero(np.diff(matrix.indptr) > 0)
    if len(rows):
        out[rows] = np.add.reduceat(keys[matrix.indices], matrix.indptr[rows])
    return out


def _expand(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(k, column)`` for every stored entry of ``matrix[rows[k]]`` (vectorised row gather)."""
    starts, ends = matrix.indptr[rows], matrix.indptr[rows + 1]
    counts = ends - starts
    k = np.repeat(np.arange(len(rows)), counts)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts)
    return k, matrix.indices[np.arange(counts.sum()) + offsets]


@dataclass
class CellReach:
    """Which facilities the points reach, stated per cell where the whole cell is in reach.

    ``full`` (cells x facilities): every point of the cell is within the radius;
    ``partial`` (points x facilities): reached by that point only (cells straddling the radius).
    """

    cell: np.ndarray
    cell_x: np.ndarray
    cell_y: np.ndarray
    full: sp.csr_matrix
    partial: sp.csr_matrix


class _CellLayout:
    """Points sorted by their `cell_m` cell (shared by the shelter groups of one run)."""

    def __init__(self, xy: np.ndarray, cell_m: float):
        empty = np.zeros(0, np.int64)
        cx, cy = cell_keys(xy, cell_m) if len(xy) else (empty, empty)
        self.cell, self.kx, self.ky = cell_groups(cx, cy)
        self.order = np.argsort(self.cell, kind="stable")
        self.per_cell = np.bincount(self.cell, minlength=len(self.kx))
        self.start = np.r_[0, np.cumsum(self.per_cell)[:-1]].astype(np.int64)


_LAYOUTS: Memo[_CellLayout] = Memo("cell_layout", size=4)


def cell_reach(
    points: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    radius_m: float,
    cell_m: float,
) -> CellReach:
    """Points -> facilities within `radius_m` (boundary included), computed per `cell_m` cell:
    a cell wholly inside a facility's radius needs no per-point distance; only cells the
    radius crosses are checked point by point (exactly; polygons measured to their edge).
    `cell_m` is the profile's ``analysis.gap_cell_m`` where the analysis runs."""
    same_crs(points, facilities, names=("points", "facilities"))
    cell_m = float(cell_m)
    n, m = len(points), len(facilities)
    xy, pts, digest = point_set(points)
    layout = _LAYOUTS.get(f"{digest}/{cell_m}", lambda: _CellLayout(xy, cell_m))
    cell, kx, ky = layout.cell, layout.kx, layout.ky
    n_c = len(kx)
    empty_full = sp.csr_matrix((n_c, m), dtype=np.int8)
    empty_partial = sp.csr_matrix((n, m), dtype=np.int8)
    if n == 0 or m == 0:
        return CellReach(cell, kx, ky, empty_full, empty_partial)
    r = radius_m + BOUNDARY_TOLERANCE_M
    half = cell_m / 2
    centres = np.column_stack([(kx + 0.5) * cell_m, (ky + 0.5) * cell_m])
    geoms = np.asarray(facilities.geometry.values)
    point_pos, other_pos = split_facilities(facilities)
    anchor = [np.column_stack([shapely.get_x(geoms[point_pos]), shapely.get_y(geoms[point_pos])])]
    slack = [np.zeros(len(point_pos))]
    if len(other_pos):
        index = polygon_index(geoms[other_pos])
        anchor.append(index.xy)
        slack.append(index.reach)
    anchor, slack = np.concatenate(anchor), np.concatenate(slack)
    fpos = np.concatenate([point_pos, other_pos])
    is_poly = np.r_[np.zeros(len(point_pos), bool), np.ones(len(other_pos), bool)]

    pairs = cKDTree(anchor).sparse_distance_matrix(
        cKDTree(centres), r + half * np.sqrt(2) + slack.max(), output_type="ndarray"
    )
    fi, ci = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    ddx = np.abs(anchor[fi, 0] - centres[ci, 0])
    ddy = np.abs(anchor[fi, 1] - centres[ci, 1])
    min_d = np.hypot(np.maximum(ddx - half, 0), np.maximum(ddy - half, 0))
    max_d = np.hypot(ddx + half, ddy + half)
    # an anchor lies inside its facility, so d(p, facility) <= |p - anchor| <= max_d
    full = max_d <= r
    partial = ~full & (min_d - slack[fi] <= r)

    pc, pf = ci[partial], fi[partial]
    k = layout.per_cell[pc]
    pair_of = np.repeat(np.arange(len(pc)), k)
    within = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    point = layout.order[np.repeat(layout.start[pc], k) + within]
    fac = pf[pair_of]
    d = np.hypot(xy[point, 0] - anchor[fac, 0], xy[point, 1] - anchor[fac, 1])
    # polygons: |p - anchor| <= r is surely in, |p - anchor| - reach > r surely out; else exact
    band = np.flatnonzero(is_poly[fac] & (d > r) & (d - slack[fac] <= r))
    if len(band):
        d[band] = index.distance(pts[point[band]], fac[band] - len(point_pos))
    keep = d <= r
    full_m = sp.csr_matrix(
        (np.ones(int(full.sum()), np.int8), (ci[full], fpos[fi[full]])), shape=(n_c, m)
    )
    partial_m = sp.csr_matrix(
        (np.ones(int(keep.sum()), np.int8), (point[keep], fpos[fac[keep]])), shape=(n, m)
    )
    full_m.sort_indices()
    partial_m.sort_indices()
    return CellReach(cell, kx, ky, full_m, partial_m)


def constrained_allocation(
    population: gpd.GeoDataFrame,
    shelters: gpd.GeoDataFrame,
    *,
    radius_m: float,
    capacity: pd.Series | np.ndarray,
    cell_m: float,
    detour_factor: float = 1.0,
    walk=None,
) -> ConstrainedAllocation:
    """Place as many residents as possible in shelters within `radius_m` without exceeding any
    `capacity`: an exact maximum flow on integer residents grouped by (cell, reachable set).
    With `walk` (:class:`geo.network.Walk`) "within" means a walk along roads of at most
    `radius_m` (no detour factor).

    Returns a :class:`ConstrainedAllocation`; ``unplaced_cells`` shows where residents who
    cannot be placed live (cells of `cell_m` metres in the metric CRS, the profile's
    ``analysis.gap_cell_m`` where the analysis runs).
    """
    _pop_frame(population, shelters)
    cell_m = float(cell_m)
    crs = population.crs
    cap = _capacity_array(capacity, shelters)
    res = residents_of(population)
    total = int(res.sum())
    n_s = len(shelters)
    if walk is not None:
        layout = cell_reach(population, shelters.iloc[:0], radius_m=radius_m, cell_m=cell_m)
        reach = CellReach(
            layout.cell,
            layout.cell_x,
            layout.cell_y,
            sp.csr_matrix((len(layout.cell_x), n_s), dtype=np.int8),
            walk.pairs(population, shelters, radius_m=radius_m),
        )
    else:
        reach = cell_reach(population, shelters, radius_m=radius_m / detour_factor, cell_m=cell_m)
    cell = reach.cell
    n_full = np.diff(reach.full.indptr)[cell] if len(cell) else np.zeros(0, np.int64)
    has = ((n_full + np.diff(reach.partial.indptr)) > 0) & (res > 0)

    # group points by (cell, reachable set): one 64-bit key mixing the cell and the set's hash
    keys = _facility_keys(n_s)
    idx = np.flatnonzero(has)
    with np.errstate(over="ignore"):
        key = (
            _row_hash(reach.full, keys)[cell[idx]]
            + _row_hash(reach.partial, keys)[idx]
            + cell[idx].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        )
    _, first, group = np.unique(key, return_index=True, return_inverse=True)
    group = group.ravel()
    n_d = len(first)
    demand = np.bincount(group, weights=res[idx], minlength=n_d).round().astype(np.int64)

    # edges group -> shelter from each group's first point (all its points share the set)
    rep = idx[first]
    k_full, s_full = _expand(reach.full, cell[rep])
    k_part, s_part = _expand(reach.partial, rep)
    edge_src = np.concatenate([k_full, k_part])
    edge_dst = np.concatenate([s_full, s_part])

    placed_per_group = np.zeros(n_d, np.int64)
    load = np.zeros(n_s, np.int64)
    if n_d and n_s and total:
        source, sink = 0, n_d + n_s + 1
        big = int(min(demand.sum(), np.iinfo(np.int32).max))
        rows = np.concatenate([np.zeros(n_d, np.int64), 1 + edge_src, 1 + n_d + np.arange(n_s)])
        cols = np.concatenate([1 + np.arange(n_d), 1 + n_d + edge_dst, np.full(n_s, sink)])
        caps = np.concatenate([demand, np.minimum(demand[edge_src], big), np.minimum(cap, big)])
        graph = sp.csr_matrix((caps.astype(np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
        flow = maximum_flow(graph, source, sink, method="dinic").flow.tocsr()
        placed_per_group = np.asarray(flow[source, 1 : 1 + n_d].todense()).ravel().astype(np.int64)
        load = np.asarray(flow[1 + n_d : 1 + n_d + n_s, sink].todense()).ravel().astype(np.int64)

    # where unplaced residents live
    out_of_reach = np.where(has | (res == 0), 0, res)
    over = np.zeros(len(res), np.int64)
    if n_d:
        # each group's unplaced residents go on its first point (its cell is what is reported)
        np.add.at(over, rep, demand - placed_per_group)
    cells = _cells(
        reach.cell_x[cell], reach.cell_y[cell], out_of_reach, over, cell_m=cell_m, crs=crs
    )
    return ConstrainedAllocation(
        radius_m=float(radius_m),
        residents_total=total,
        placed=int(placed_per_group.sum()),
        out_of_reach=int(out_of_reach.sum()),
        loads=_shelter_table(shelters, cap, load),
        unplaced_cells=cells,
        method="max-flow (scipy.sparse.csgraph.maximum_flow, Dinic)",
        optimal=True,
        demand_groups=n_d,
        edges=len(edge_src),
    )


def _cells(
    cx: np.ndarray,
    cy: np.ndarray,
    out_of_reach: np.ndarray,
    over: np.ndarray,
    *,
    cell_m: float,
    crs,
) -> gpd.GeoDataFrame:
    keep = (out_of_reach > 0) | (over > 0)
    inv, kx, ky = cell_groups(cx[keep], cy[keep])
    oor = np.bincount(inv, weights=out_of_reach[keep], minlength=len(kx)).round().astype(np.int64)
    ovc = np.bincount(inv, weights=over[keep], minlength=len(kx)).round().astype(np.int64)
    columns = {
        "residents_unplaced": oor + ovc,
        "residents_out_of_reach": oor,
        "residents_over_capacity": ovc,
    }
    return cell_frame(kx, ky, columns, cell_m=cell_m, crs=crs)


def shelter_supply_by_area(
    population: gpd.GeoDataFrame,
    shelters: gpd.GeoDataFrame,
    capacity: pd.Series | np.ndarray,
    *,
    by: str,
    profile: Profile,
) -> pd.DataFrame:
    """Shelter places and effective area per resident for each area of column `by` (present
    in both frames, e.g. ``street_code`` attached by :func:`geo.areas.assign_areas`), against
    ``profile.targets.shelter_places_per_resident`` and ``shelter_area_per_resident_m2``.
    """
    _pop_frame(population, shelters)
    for name, frame in (("population", population), ("shelters", shelters)):
        if by not in frame.columns:
            raise ValueError(f"{name}: no column {by!r}; locate it with geo.areas.assign_areas")
    cap = _capacity_array(capacity, shelters)
    area = (
        pd.to_numeric(shelters["effective_area_m2"], errors="coerce").fillna(0).to_numpy()
        if "effective_area_m2" in shelters.columns
        else np.zeros(len(shelters))
    )
    pop = pd.DataFrame(
        {by: population[by].astype(object).to_numpy(), "residents": residents_of(population)}
    )
    pop = pop.groupby(by, dropna=False).sum()
    sup = (
        pd.DataFrame(
            {
                by: shelters[by].astype(object).to_numpy(),
                "shelters": 1,
                "places": cap,
                "effective_area_m2": area,
            }
        )
        .groupby(by, dropna=False)
        .sum()
    )
    table = pop.join(sup, how="outer").fillna(0)
    table["shelters"] = table["shelters"].astype(np.int64)
    table["places"] = table["places"].astype(np.int64)
    table["residents"] = table["residents"].astype(np.int64)
    r = table["residents"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        table["places_per_resident"] = np.where(r > 0, table["places"] / np.maximum(r, 1), np.nan)
        table["area_per_resident_m2"] = np.where(
            r > 0, table["effective_area_m2"] / np.maximum(r, 1), np.nan
        )
    t = profile.targets
    table["target_places_per_resident"] = float(t.shelter_places_per_resident)
    table["target_area_per_resident_m2"] = float(t.shelter_area_per_resident_m2)
    table["meets_places"] = table["places_per_resident"] >= t.shelter_places_per_resident - 1e-12
    table["meets_area"] = table["area_per_resident_m2"] >= t.shelter_area_per_resident_m2 - 1e-12
    if by.endswith("_code"):
        names = area_names(population, by[: -len("_code")])
        if len(names):
            table.insert(0, "name", table.index.map(names).astype(object))
    table.index.name = by
    return table


@dataclass
class ShelterGroupCapacity:
    """Both capacity views for one shelter group (emergency, fixed or central)."""

    group: str
    kind: str
    radius_m: float
    nearest: NearestAssignment
    constrained: ConstrainedAllocation

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "radius_m": float(self.radius_m),
            "nearest": self.nearest.summary(),
            "constrained": self.constrained.summary(),
        }


@dataclass
class CapacityResult:
    """Capacity views per shelter group and shelter supply per street and district."""

    groups: dict[str, ShelterGroupCapacity]
    capacity: pd.Series
    supply: dict[str, pd.DataFrame]

    def loads(self) -> pd.DataFrame:
        """One table of shelter loads: nearest and constrained, every group."""
        parts = []
        for name, g in self.groups.items():
            near = g.nearest.loads
            t = near.rename(
                columns={
                    "load": "load_nearest",
                    "spare": "spare_nearest",
                    "utilisation": "utilisation_nearest",
                }
            )
            t["load_constrained"] = g.constrained.loads["load"].to_numpy()
            t.insert(0, "group", name)
            parts.append(t)
        return pd.concat(parts) if parts else pd.DataFrame()

    def overloaded(self) -> gpd.GeoDataFrame:
        parts = [g.nearest.overloaded.assign(group=name) for name, g in self.groups.items()]
        parts = [p for p in parts if len(p)]
        if not parts:
            first = next(iter(self.groups.values()), None)
            crs = first.nearest.shelters.crs if first else None
            return gpd.GeoDataFrame({"group": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
        return pd.concat(parts)

    def unplaced_cells(self) -> gpd.GeoDataFrame:
        parts = [g.constrained.unplaced_cells.assign(group=name) for name, g in self.groups.items()]
        return pd.concat(parts, ignore_index=True) if parts else gpd.GeoDataFrame()

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: g.summary() for name, g in self.groups.items()}
        for level, table in self.supply.items():
            r = int(table["residents"].sum())
            out[f"supply_{level}"] = {
                "areas": len(table),
                "areas_meeting_places": int(table["meets_places"].sum()),
                "areas_meeting_area": int(table["meets_area"].sum()),
                "places_per_resident": float(table["places"].sum() / r) if r else None,
                "area_per_resident_m2": float(table["effective_area_m2"].sum() / r) if r else None,
            }
        return out


def _shelters_of(layers: Mapping[str, gpd.GeoDataFrame], pop: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The shelters layer (metric CRS checked); an empty one in the population's CRS if absent."""
    shelters = layers.get("shelters")
    if shelters is None:
        shelters = gpd.GeoDataFrame(
            {"shelter_class": []}, geometry=gpd.GeoSeries([], crs=pop.crs), crs=pop.crs
        )
    require_projected(shelters, "shelters")
    return shelters


def group_capacity(
    layers: Mapping[str, gpd.GeoDataFrame],
    profile: Profile,
    group: str,
    *,
    population: gpd.GeoDataFrame,
    cell_m: float,
) -> ShelterGroupCapacity:
    """Nearest assignment and constrained allocation of one shelter group (a key of
    :data:`SHELTER_GROUPS`) with its kind's radius, the detour factor (or the walk along roads
    for a network kind) and the per-capita areas of `profile`. Layers in the metric CRS."""
    require_projected(population, "population")
    layers = {**layers, "shelters": _shelters_of(layers, population)}
    kind = SHELTER_GROUPS[group]
    sel = select_facilities(layers, profile.kind(kind))
    cap = shelter_capacity(sel, profile)
    radius = radius_for(kind, profile)
    detour = float(profile.radii.detour_factor)
    walk = walk_of(layers, profile) if profile.distance(kind) == "network" else None
    return ShelterGroupCapacity(
        group=group,
        kind=kind,
        radius_m=radius,
        nearest=nearest_assignment(
            population, sel, radius_m=radius, capacity=cap, detour_factor=detour, walk=walk
        ),
        constrained=constrained_allocation(
            population,
            sel,
            radius_m=radius,
            capacity=cap,
            cell_m=cell_m,
            detour_factor=detour,
            walk=walk,
        ),
    )


def shelter_supply(
    layers: Mapping[str, gpd.GeoDataFrame],
    profile: Profile,
    *,
    population: gpd.GeoDataFrame,
    levels: tuple[str, ...] = ("street", "district"),
) -> tuple[pd.Series, dict[str, pd.DataFrame]]:
    """Capacity of every shelter, and the supply of the staying shelters (:data:`SUPPLY_GROUPS`)
    per area of each of `levels` against the per-resident targets (:func:`shelter_supply_by_area`)."""
    require_projected(population, "population")
    shelters = _shelters_of(layers, population)
    cap_all = shelter_capacity(shelters, profile)
    classes = tuple(c for g in SUPPLY_GROUPS for c in profile.kind(SHELTER_GROUPS[g]).values)
    stay = (
        shelters[shelters["shelter_class"].isin(classes).to_numpy()] if len(shelters) else shelters
    )
    supply = {
        level: shelter_supply_by_area(
            population, stay, cap_all.loc[stay.index], by=f"{level}_code", profile=profile
        )
        for level in levels
        if f"{level}_code" in population.columns and f"{level}_code" in stay.columns
    }
    return cap_all, supply


def capacity_all(
    layers: Mapping[str, gpd.GeoDataFrame],
    profile: Profile,
    *,
    population: gpd.GeoDataFrame | None = None,
    cell_m: float | None = None,
    levels: tuple[str, ...] = ("street", "district"),
) -> CapacityResult:
    """Nearest assignment and constrained allocation for every shelter group
    (:func:`group_capacity`), and shelter supply (fixed and central shelters) per street and
    district (:func:`shelter_supply`). Layers in the metric CRS.

    `cell_m` (grouping cells of the constrained allocation) defaults to the profile's
    ``analysis.gap_cell_m``.
    """
    if cell_m is None:
        cell_m = float(profile.analysis.gap_cell_m)
    pop = population if population is not None else layers["population"]
    groups = {
        group: group_capacity(layers, profile, group, population=pop, cell_m=cell_m)
        for group in SHELTER_GROUPS
    }
    cap_all, supply = shelter_supply(layers, profile, population=pop, levels=levels)
    return CapacityResult(groups=groups, capacity=cap_all, supply=supply)
