"""Service coverage: which residents have a facility of each kind within its service radius.

A resident (population point) is *covered* by a facility kind when the straight-line distance
to the nearest facility of that kind, times the detour factor, is at most the service radius:

    covered  <=>  distance_m * detour_factor <= radius_m

The boundary counts: a point exactly ``radius_m`` away is covered (a tolerance of 1e-6 m absorbs
floating-point noise). Distances are measured in a projected (metric) CRS; every function
refuses a geographic CRS with :class:`geo.crs.CRSError`. Point facilities are indexed with a
:class:`scipy.spatial.cKDTree` (cached per facility set); polygon facilities (e.g. a shelter
drawn as a park) are measured exactly to their edge (0 inside), with a cKDTree over their
representative points bounding which polygons need an exact distance (:class:`geo.index.PolygonIndex`).
Nearest-facility results are cached (:mod:`geo.index`), so coverage, capacity and what-if share
them.

Examples
--------
>>> from shapely import points
>>> population = gpd.GeoDataFrame(
...     {"residents": [10, 20, 30], "community_code": ["a", "a", "b"]},
...     geometry=points([(0, 0), (400, 0), (900, 0)]), crs="EPSG:4546")
>>> centers = gpd.GeoDataFrame(geometry=points([(0, 300)]), crs="EPSG:4546")
>>> nearest_distance(population, centers).tolist()
[300.0, 500.0, 948.6832980505138]
>>> ok = covered(population, centers, radius_m=500)
>>> ok.tolist()
[True, True, False]
>>> rollup(population, ok, by="community_code")["residents_covered"].tolist()
[30, 0]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import index
from geo.areas import LEVELS, area_names, coordinates
from geo.crs import CRSError, require_projected, same_crs
from geo.index import (  # noqa: F401  (re-exported: older callers import them from here)
    Memo,
    PolygonIndex,
    geometry_digest,
    kdtree,
    point_set,
    polygon_index,
)
from layers.kinds import FacilityKind

BOUNDARY_TOLERANCE_M = 1e-6
"""Distances within this many metres of the radius count as on the boundary (covered)."""


# --------------------------------------------------------------------------- helpers
def residents_of(population: pd.DataFrame) -> np.ndarray:
    """Residents per population point as int64 (missing counts as 0)."""
    if "residents" not in population.columns:
        raise ValueError("population: missing column 'residents'")
    values = pd.to_numeric(population["residents"], errors="coerce")
    return values.fillna(0).to_numpy(dtype=np.float64).round().astype(np.int64)


def _aligned(series: pd.Series, index: pd.Index, name: str) -> np.ndarray:
    if not series.index.equals(index):
        try:
            series = series.reindex(index)
        except ValueError as exc:
            raise ValueError(f"{name}: index does not match the population index") from exc
    if series.isna().any():
        raise ValueError(f"{name}: {int(series.isna().sum())} population points have no value")
    return series.to_numpy(dtype=bool)


_NEAREST: Memo[tuple[np.ndarray, np.ndarray]] = Memo("nearest", size=16)

clear_caches = index.clear
"""Forget cached KD-trees, polygon indexes, point sets and nearest-facility results."""


def split_facilities(facilities: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of point facilities and of the others (polygons, lines)."""
    types = shapely.get_type_id(np.asarray(facilities.geometry.values))
    return np.flatnonzero(types == shapely.GeometryType.POINT), np.flatnonzero(
        types != shapely.GeometryType.POINT
    )


def _nearest_arrays(
    xy: np.ndarray, pts: np.ndarray, facilities: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    geoms = np.asarray(facilities.geometry.values)
    n = len(xy)
    dist = np.full(n, np.inf)
    pos = np.full(n, -1, dtype=np.int64)
    point_pos, other_pos = split_facilities(facilities)
    if len(point_pos):
        fxy = np.column_stack([shapely.get_x(geoms[point_pos]), shapely.get_y(geoms[point_pos])])
        d, i = kdtree(fxy).query(xy, k=1, workers=-1)
        dist, pos = np.asarray(d, float), point_pos[np.asarray(i, np.int64)]
    if len(other_pos):
        d, i = polygon_index(geoms[other_pos]).nearest(xy, pts, upper=dist)
        better = i >= 0
        dist[better], pos[better] = d[better], other_pos[i[better]]
    return dist, pos


def nearest_facility(
    points: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame
) -> tuple[pd.Series, pd.Series]:
    """Distance (m) to and position (0-based row in `facilities`) of each point's nearest facility.

    Point facilities are found with a cKDTree; polygon facilities are measured exactly to their
    edge (0 inside). Results are cached by the coordinates of both inputs. Returns
    ``(distance, position)`` on the index of `points`; ``inf`` and ``-1`` when there are no
    facilities.
    """
    same_crs(points, facilities, names=("points", "facilities"))
    n = len(points)
    if n and len(facilities):
        xy, pts, digest = point_set(points)
        key = digest + geometry_digest(np.asarray(facilities.geometry.values))
        dist, pos = _NEAREST.get(key, lambda: _nearest_arrays(xy, pts, facilities))
    else:
        dist, pos = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    return (
        pd.Series(dist.copy(), index=points.index, name="distance_m"),
        pd.Series(pos.copy(), index=points.index, name="facility_position"),
    )


# --------------------------------------------------------------------------- public API
def select_facilities(
    layers: Mapping[str, gpd.GeoDataFrame], spec: FacilityKind
) -> gpd.GeoDataFrame:
    """The facilities of the kind `spec` (``profile.kind(key)``) from `layers`.

    A missing layer or column gives an empty frame; index and CRS are kept.
    """
    frame = layers.get(spec.layer)
    if frame is None:
        crs = next((f.crs for f in layers.values() if isinstance(f, gpd.GeoDataFrame)), None)
        return gpd.GeoDataFrame({spec.column: []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    if spec.column not in frame.columns:
        return frame.iloc[:0]
    return frame[frame[spec.column].isin(spec.values).to_numpy()]


def nearest_distance(points: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> pd.Series:
    """Straight-line distance in metres from each point to its nearest facility.

    Both frames must share a projected CRS (:class:`CRSError` otherwise). ``inf`` where there
    are no facilities. Index of `points`.
    """
    return nearest_facility(points, facilities)[0]


def covered_from_distance(
    distance: pd.Series, *, radius_m: float, detour_factor: float = 1.0
) -> pd.Series:
    """``distance * detour_factor <= radius_m`` (the boundary counts)."""
    if radius_m < 0 or detour_factor <= 0:
        raise ValueError("radius_m must be >= 0 and detour_factor > 0")
    ok = distance.to_numpy() * detour_factor <= radius_m + BOUNDARY_TOLERANCE_M
    return pd.Series(ok, index=distance.index, name="covered")


def covered(
    points: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    radius_m: float,
    detour_factor: float = 1.0,
) -> pd.Series:
    """Whether each point has a facility within `radius_m` (walking distance estimated as
    straight-line distance times `detour_factor`). A point exactly on the radius is covered.

    Returns a bool Series on the index of `points`.
    """
    return covered_from_distance(
        nearest_distance(points, facilities), radius_m=radius_m, detour_factor=detour_factor
    )


@dataclass(frozen=True)
class Grouping:
    """Population points grouped by the values of one column (factorised once, reused).

    ``codes`` gives each point's group, ``keys`` the sorted group keys (missing last),
    ``names`` the area name of each key (empty if unknown).
    """

    by: str
    codes: np.ndarray
    keys: pd.Index
    names: np.ndarray


def grouping(population: pd.DataFrame, by: str) -> Grouping:
    """Factorise column `by` of `population`; missing values form one last group (key NaN)."""
    if by not in population.columns:
        raise ValueError(f"population: no column {by!r} to roll up by")
    codes, uniques = pd.factorize(population[by], use_na_sentinel=True, sort=True)
    keys = pd.Index(np.asarray(uniques, dtype=object), dtype=object, name=by)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(keys), codes)
        keys = keys.append(pd.Index([np.nan], dtype=object, name=by))
    names = np.zeros(0, dtype=object)
    if by.endswith("_code"):
        lookup = area_names(population, by[: -len("_code")])
        if len(lookup):
            names = keys.map(lookup).to_numpy(dtype=object)
    return Grouping(by=by, codes=codes.astype(np.int64), keys=keys, names=names)


def rollup_grouped(group: Grouping, residents: np.ndarray, ok: np.ndarray) -> pd.DataFrame:
    """:func:`rollup` on a precomputed :class:`Grouping` (fast path for many kinds)."""
    n = len(group.keys)
    total = np.bincount(group.codes, weights=residents, minlength=n).round().astype(np.int64)
    cov = np.bincount(group.codes[ok], weights=residents[ok], minlength=n).round().astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, cov / np.maximum(total, 1), np.nan)
    columns = {"name": group.names} if len(group.names) else {}
    columns.update(
        residents_total=total,
        residents_covered=cov,
        residents_uncovered=total - cov,
        share_covered=share,
    )
    return pd.DataFrame(columns, index=group.keys)


def rollup(population: gpd.GeoDataFrame, is_covered: pd.Series, *, by: str) -> pd.DataFrame:
    """Residents covered and not covered per value of column `by` of `population`.

    Points with no value in `by` (outside every area) form a group with a missing key, so the
    groups always sum to the whole. If `population` has the matching ``*_name`` column a
    ``name`` column is added.

    Returns
    -------
    DataFrame
        Indexed by `by` (sorted): ``residents_total``, ``residents_covered``,
        ``residents_uncovered``, ``share_covered`` (NaN where an area has no residents).
    """
    require_projected(population, "population")
    ok = _aligned(is_covered, population.index, "is_covered")
    return rollup_grouped(grouping(population, by), residents_of(population), ok)


def cell_keys(xy: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer column/row of the `cell_m` square cell holding each coordinate."""
    if cell_m <= 0:
        raise ValueError("cell_m must be positive")
    ij = np.floor(xy / cell_m).astype(np.int64)
    return ij[:, 0], ij[:, 1]


def cell_groups(cx: np.ndarray, cy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct cells of integer columns/rows: ``(inverse, cell_x, cell_y)`` (1-D unique)."""
    if len(cx) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    x_min, y_min = cx.min(), cy.min()
    span = int(cy.max() - y_min) + 1
    key = (cx - x_min) * span + (cy - y_min)
    uniq, inverse = np.unique(key, return_inverse=True)
    return inverse.ravel(), uniq // span + x_min, uniq % span + y_min


def cell_frame(
    cell_x: np.ndarray, cell_y: np.ndarray, columns: dict[str, np.ndarray], *, cell_m: float, crs
) -> gpd.GeoDataFrame:
    """Square cell polygons with ``cell_id`` ("column_row") and `columns`, sorted by the first
    column descending."""
    ids = (
        pd.Series(cell_x, dtype=np.int64).astype(str)
        + "_"
        + pd.Series(cell_y, dtype=np.int64).astype(str)
    )
    x0, y0 = cell_x * cell_m, cell_y * cell_m
    frame = gpd.GeoDataFrame(
        {"cell_id": ids.to_numpy(dtype=object), **columns},
        geometry=gpd.GeoSeries(shapely.box(x0, y0, x0 + cell_m, y0 + cell_m), crs=crs),
        crs=crs,
    )
    first = next(iter(columns))
    return frame.sort_values(
        [first, "cell_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def aggregate_cells(
    points: gpd.GeoDataFrame, weights: np.ndarray, *, cell_m: float, value: str
) -> gpd.GeoDataFrame:
    """Sum `weights` of `points` into square cells of `cell_m` metres (cells with weight > 0).

    Cells are aligned to multiples of `cell_m` in the points' CRS. Returns polygons with
    ``cell_id``, `value` and ``points``, sorted by `value` descending.
    """
    crs = require_projected(points, "points")
    keep = np.asarray(weights) > 0
    xy = coordinates(points)[keep]
    w = np.asarray(weights)[keep]
    cx, cy = cell_keys(xy, cell_m) if len(w) else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    inverse, kx, ky = cell_groups(cx, cy)
    sums = np.bincount(inverse, weights=w, minlength=len(kx))
    counts = np.bincount(inverse, minlength=len(kx))
    return cell_frame(
        kx,
        ky,
        {value: np.round(sums).astype(np.int64), "points": counts.astype(np.int64)},
        cell_m=cell_m,
        crs=crs,
    )


def gap_cells(
    population: gpd.GeoDataFrame, is_covered: pd.Series, *, cell_m: float = 250
) -> gpd.GeoDataFrame:
    """Uncovered residents summed into `cell_m` square cells (hot spots a planner can see).

    Returns polygons in the population's metric CRS with ``cell_id``, ``residents_uncovered``
    and ``points`` (uncovered points with residents), sorted by ``residents_uncovered``
    descending. Cells without uncovered residents are left out.
    """
    require_projected(population, "population")
    ok = _aligned(is_covered, population.index, "is_covered")
    res = np.where(ok, 0, residents_of(population))
    return aggregate_cells(population, res, cell_m=cell_m, value="residents_uncovered")


@dataclass
class CoverageResult:
    """Coverage of one facility kind.

    ``covered`` and ``distance`` (straight-line metres to the nearest facility) are on the
    population index; ``by_level`` maps ``grid``/``community``/``street``/``district`` to
    :func:`rollup` tables.
    """

    kind: str
    radius_m: float
    residents_total: int
    residents_covered: int
    share: float
    covered: pd.Series
    distance: pd.Series
    by_level: dict[str, pd.DataFrame] = field(default_factory=dict)
    detour_factor: float = 1.0
    facilities: int = 0
    spec: FacilityKind | None = None
    """The kind's record (labels); None when built without one."""
    distance_mode: str = "straight"
    """``"straight"`` (``distance`` is straight-line, times ``detour_factor`` for coverage) or
    ``"network"`` (``distance`` is the walk along roads; ``detour_factor`` is 1)."""

    @property
    def residents_uncovered(self) -> int:
        return self.residents_total - self.residents_covered

    def worst(self, level: str = "grid", n: int = 20) -> pd.DataFrame:
        """The `n` areas of `level` with the most uncovered residents."""
        table = self.by_level.get(level)
        if table is None:
            return pd.DataFrame()
        table = table[table["residents_uncovered"] > 0]
        return table.sort_values(
            ["residents_uncovered", "share_covered"], ascending=[False, True], kind="stable"
        ).head(n)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "label_zh": self.spec.label_zh if self.spec else self.kind,
            "label_en": self.spec.label_en if self.spec else self.kind,
            "radius_m": float(self.radius_m),
            "detour_factor": float(self.detour_factor),
            "facilities": int(self.facilities),
            "residents_total": int(self.residents_total),
            "residents_covered": int(self.residents_covered),
            "residents_uncovered": int(self.residents_uncovered),
            "share": None if np.isnan(self.share) else round(float(self.share), 6),
        }


def coverage_from_distance(
    population: gpd.GeoDataFrame,
    distance: pd.Series,
    *,
    kind: str,
    radius_m: float,
    detour_factor: float = 1.0,
    facilities: int = 0,
    levels: Iterable[str] = LEVELS,
    groupings: Mapping[str, Grouping] | None = None,
    residents: np.ndarray | None = None,
    spec: FacilityKind | None = None,
    distance_mode: str = "straight",
) -> CoverageResult:
    """A :class:`CoverageResult` from precomputed nearest distances (cheap when only the
    radius or detour factor changed). `groupings` (level -> :func:`grouping`) and
    `residents` (:func:`residents_of`) may be passed to reuse them across kinds."""
    require_projected(population, "population")
    ok = covered_from_distance(distance, radius_m=radius_m, detour_factor=detour_factor)
    res = residents_of(population) if residents is None else residents
    mask = ok.to_numpy()
    total, cov = int(res.sum()), int(res[mask].sum())
    if groupings is None:
        groupings = level_groupings(population, levels)
    by_level = {level: rollup_grouped(g, res, mask) for level, g in groupings.items()}
    return CoverageResult(
        kind=kind,
        radius_m=float(radius_m),
        residents_total=total,
        residents_covered=cov,
        share=cov / total if total else float("nan"),
        covered=ok,
        distance=distance,
        by_level=by_level,
        detour_factor=float(detour_factor),
        facilities=int(facilities),
        spec=spec,
        distance_mode=distance_mode,
    )


def level_groupings(
    population: pd.DataFrame, levels: Iterable[str] = LEVELS
) -> dict[str, Grouping]:
    """:func:`grouping` for each level whose ``<level>_code`` column `population` has."""
    return {
        level: grouping(population, f"{level}_code")
        for level in levels
        if f"{level}_code" in population.columns
    }


def radius_for(kind: str, profile) -> float:
    """The service radius (m) of facility kind `kind` (:meth:`geo.settings.Profile.radius_m`)."""
    return profile.radius_m(kind)


def coverage_all(
    layers: Mapping[str, gpd.GeoDataFrame],
    profile,
    *,
    population: gpd.GeoDataFrame | None = None,
    kinds: Iterable[str] | None = None,
    levels: Iterable[str] = LEVELS,
) -> dict[str, CoverageResult]:
    """Coverage of every facility kind (or `kinds`) with radii and detour factor from `profile`.

    A kind whose ``distance`` is ``"network"`` is measured along the ``roads`` layer
    (:class:`geo.network.Walk`; no detour factor); a missing roads layer raises
    :class:`geo.network.NetworkError` naming it.

    Parameters
    ----------
    layers
        Layers in the metric CRS (see :func:`geo.analysis.prepare`).
    profile
        City profile; ``profile.radii`` gives radii and ``detour_factor``.
    population
        Population points (default ``layers["population"]``), ideally with area codes.
    """
    pop = population if population is not None else layers.get("population")
    if pop is None:
        raise ValueError("coverage_all: no population layer")
    require_projected(pop, "population")
    levels = tuple(levels)
    groupings = getattr(layers, "groupings", None)  # precomputed by geo.analysis.prepare
    if groupings is None or getattr(layers, "groupings_of", None) is not pop:
        groupings = level_groupings(pop, levels)
    else:
        groupings = {level: g for level, g in groupings.items() if level in levels}
    res = residents_of(pop)
    out: dict[str, CoverageResult] = {}
    for kind in kinds if kinds is not None else profile.facility_kinds:
        spec = profile.kind(kind)
        fac = select_facilities(layers, spec)
        if fac.crs is None and len(fac) == 0:
            fac = fac.set_crs(pop.crs)
        elif fac.crs is not None and not fac.crs.is_projected:
            raise CRSError(f"{spec.layer} is in a geographic CRS; run geo.analysis.prepare() first")
        mode = profile.distance(kind)
        if mode == "network":
            dist = walk_of(layers, profile).nearest(pop, fac)[0]
            detour = 1.0
        else:
            dist = nearest_distance(pop, fac)
            detour = float(profile.radii.detour_factor)
        out[kind] = coverage_from_distance(
            pop,
            dist,
            kind=kind,
            radius_m=radius_for(kind, profile),
            detour_factor=detour,
            facilities=len(fac),
            groupings=groupings,
            residents=res,
            spec=spec,
            distance_mode=mode,
        )
    return out


def walk_of(layers: Mapping[str, gpd.GeoDataFrame], profile):
    """The :class:`geo.network.Walk` over ``layers["roads"]`` (graph cached per roads)."""
    from geo.network import Walk

    return Walk.from_layers(layers, profile)


def nearest_by_mode(
    points: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    profile,
    kind: str,
) -> tuple[pd.Series, pd.Series, float]:
    """Nearest facility as kind `kind` measures it: ``(distance, position, detour_factor)``;
    along roads for a network kind (detour 1), else straight line with the profile's detour."""
    if profile.distance(kind) == "network":
        dist, pos = walk_of(layers, profile).nearest(points, facilities)
        return dist, pos, 1.0
    dist, pos = nearest_facility(points, facilities)
    return dist, pos, float(profile.radii.detour_factor)
