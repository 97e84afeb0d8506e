"""Quality checks on community grids (网格): topology, households, workers, codes, counts.

Checks (one function each, registered in :data:`GRID_CHECKS`; keys of :data:`CHECKS`):

* ``overlap``: two grids overlapping by more than ``profile.grids.min_area_m2`` (1 m²).
* ``uncovered_land``: land of a community covered by no grid (pieces over ``min_area_m2``).
* ``households_out_of_range``: households outside ``profile.grids.households_min..max``.
* ``no_worker``: no grid worker named.
* ``worker_multiple_grids``: one worker (name, and phone where given) responsible for several grids.
* ``duplicate_code`` and ``malformed_code`` (not matching ``profile.grids.code_pattern``, the
  CJ/T 349-2010 15-digit code, or not starting with
  the grid's ``community_code`` when that is given).
* ``residents_mismatch`` / ``households_mismatch``: recorded count differs from the population
  points inside the grid by more than ``profile.grids.population_mismatch_share`` of the
  recorded count.
* ``invalid_geometry``: a grid polygon that is not valid.

Every problem is one row of :attr:`GridCheckResult.problems` with the grid codes involved and a
geometry (the overlap, the uncovered piece, or the grids) for the map.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.areas import locate
from geo.coverage import residents_of
from geo.crs import require_projected, same_crs


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry (as MultiPolygons; None when none)."""
    out = np.full(len(geoms), None, dtype=object)
    if len(geoms) == 0:
        return out
    parts, idx = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    if keep.any():
        shapely.multipolygons(parts[keep], indices=idx[keep], out=out)
    return out


def _grouped_union(geoms: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Union of `geoms` per group 0..n-1 (None for empty groups), vectorised over groups."""
    out = np.full(n, None, dtype=object)
    if len(geoms) == 0:
        return out
    parts, idx = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    shapely.multipolygons(parts[keep], indices=groups[idx[keep]], out=out)
    # buffer(0) dissolves the touching/overlapping parts of each group into a valid union
    has = ~shapely.is_missing(out)
    out[has] = shapely.buffer(out[has], 0)
    return out


def _num(values) -> pd.Series:
    """Numbers as rounded text with thousands separators (vectorised)."""
    arr = np.round(np.asarray(values, dtype=float)).astype(np.int64)
    return pd.Series(np.char.mod("%d", arr), dtype=object).str.replace(
        r"(\d)(?=(\d{3})+$)", r"\1,", regex=True
    )


def _text(values: pd.Series) -> np.ndarray:
    return values.astype(object).where(values.notna(), None).to_numpy()


def _blank(values: pd.Series) -> np.ndarray:
    return (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()


#: Chinese names of the counted quantities in the mismatch checks.
WHAT_ZH = {"residents": "常住人口", "households": "户数"}


def _problems(
    check: str,
    grid_codes: list[str] | np.ndarray,
    detail: list[str] | np.ndarray,
    value: np.ndarray,
    geometry: np.ndarray,
    community: np.ndarray | None = None,
    *,
    detail_zh: list[str] | np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per problem; `detail` is English, `detail_zh` the same in Chinese."""
    codes = pd.Series(np.asarray(grid_codes, dtype=object), dtype=object)
    n = len(codes)
    return pd.DataFrame(
        {
            "check": np.full(n, check, dtype=object),
            "grid_code": codes.str.split(",").str[0].to_numpy(dtype=object),
            "grid_codes": codes.to_numpy(),
            "community_code": community
            if community is not None
            else np.full(n, None, dtype=object),
            "detail": np.asarray(detail, dtype=object),
            "value": np.asarray(value, dtype=np.float64),
            "detail_zh": np.asarray(detail if detail_zh is None else detail_zh, dtype=object),
            "geometry": np.asarray(geometry, dtype=object),
        }
    )


def _pieces(columns: dict[str, Any], geometry: np.ndarray | list, crs) -> gpd.GeoDataFrame:
    """Polygons with their attribute `columns` (``area_m2`` among them), largest area first."""
    return (
        gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geometry, crs=crs), crs=crs)
        .sort_values("area_m2", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def grid_overlaps(grids: gpd.GeoDataFrame, *, min_area_m2: float) -> gpd.GeoDataFrame:
    """Pairs of grids whose overlap exceeds `min_area_m2` (the profile's
    ``grids.min_area_m2`` in :func:`grid_checks`): ``grid_code_a``, ``grid_code_b``,
    ``area_m2`` and the overlap polygon (metric CRS)."""
    crs = require_projected(grids, "grids")
    min_area_m2 = float(min_area_m2)
    geoms = np.asarray(grids.geometry.values)
    tree = shapely.STRtree(geoms)
    a1, b1 = tree.query(geoms, predicate="overlaps")
    a2, b2 = tree.query(geoms, predicate="contains")
    a, b = np.concatenate([a1, a2]), np.concatenate([b1, b2])
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pairs = np.unique(np.column_stack([lo, hi])[lo != hi], axis=0)
    lo, hi = pairs[:, 0], pairs[:, 1]
    inter = _polygonal(shapely.intersection(geoms[lo], geoms[hi]))
    area = np.nan_to_num(shapely.area(inter), nan=0.0)
    keep = area > min_area_m2
    codes = grids["grid_code"].astype(object).to_numpy()
    return _pieces(
        {"grid_code_a": codes[lo[keep]], "grid_code_b": codes[hi[keep]], "area_m2": area[keep]},
        inter[keep],
        crs,
    )


def uncovered_land(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    min_area_m2: float,
) -> gpd.GeoDataFrame:
    """Pieces of community land covered by no grid, larger than `min_area_m2` (the
    profile's ``grids.min_area_m2`` in :func:`grid_checks`).

    Returns ``community_code``, ``community_name``, ``area_m2`` and the piece's polygon.
    """
    crs = same_crs(grids, communities, names=("grids", "communities"))
    min_area_m2 = float(min_area_m2)
    comm = np.asarray(communities.geometry.values)
    gg = np.asarray(grids.geometry.values)
    ci, gi = shapely.STRtree(gg).query(comm, predicate="intersects")
    union = _grouped_union(gg[gi], ci, len(comm))
    has = ~shapely.is_missing(union)
    gaps = comm.copy()
    gaps[has] = shapely.difference(comm[has], union[has])
    parts, idx = shapely.get_parts(_polygonal(gaps), return_index=True)
    area = shapely.area(parts)
    keep = area > min_area_m2
    codes = (
        communities["code"].astype(object).to_numpy()
        if "code" in communities
        else np.arange(len(comm))
    )
    names = communities["name"].astype(object).to_numpy() if "name" in communities else codes
    return _pieces(
        {
            "community_code": codes[idx[keep]],
            "community_name": names[idx[keep]],
            "area_m2": area[keep],
        },
        parts[keep],
        crs,
    )


def grid_counts(grids: gpd.GeoDataFrame, population: gpd.GeoDataFrame) -> pd.DataFrame:
    """Recorded residents/households of each grid beside the population points inside it.

    Uses the population's ``grid_code`` if present (see :func:`geo.areas.assign_areas`),
    otherwise locates the points; points whose code several grids share are located too, so
    each grid polygon counts its own residents. Index of `grids`.
    """
    same_crs(grids, population, names=("grids", "population"))
    res = residents_of(population)
    hh_known = "households" in population.columns and population["households"].notna().any()
    hh = (
        pd.to_numeric(population["households"], errors="coerce").fillna(0).to_numpy()
        if hh_known
        else np.zeros(len(population))
    )
    if "grid_code" in population.columns:
        codes = grids["grid_code"].astype(object)
        shared = codes.duplicated(keep=False).to_numpy()
        unique = pd.Series(np.flatnonzero(~shared), index=codes.to_numpy()[~shared])
        point_codes = population["grid_code"].astype(object)
        pos = point_codes.map(unique).fillna(-1).to_numpy(dtype=np.int64)
        # a code used by several grids cannot tell them apart: locate those points instead
        ambiguous = point_codes.isin(set(codes[shared])).to_numpy()
        if ambiguous.any():
            pos[ambiguous] = locate(population[ambiguous], grids)
    else:
        pos = locate(population, grids)
    inside = pos >= 0
    n = len(grids)
    table = pd.DataFrame(index=grids.index)
    table["grid_code"] = grids["grid_code"].to_numpy()
    table["residents_recorded"] = pd.to_numeric(grids["residents"], errors="coerce").to_numpy(
        dtype=float
    )
    table["residents_counted"] = (
        np.bincount(pos[inside], weights=res[inside], minlength=n).round().astype(np.int64)
    )
    table["households_recorded"] = pd.to_numeric(grids["households"], errors="coerce").to_numpy(
        dtype=float
    )
    table["households_counted"] = (
        np.bincount(pos[inside], weights=hh[inside], minlength=n).round() if hh_known else np.nan
    )
    table["points"] = np.bincount(pos[inside], minlength=n)
    return table


def _mismatch(recorded: np.ndarray, counted: np.ndarray, share: float) -> np.ndarray:
    known = ~np.isnan(recorded) & ~np.isnan(counted)
    diff = np.abs(np.nan_to_num(recorded) - np.nan_to_num(counted))
    return known & (diff > share * np.nan_to_num(recorded) + 1e-9)


@dataclass
class GridCheckResult:
    """All grid problems (``problems``: one row per problem, metric CRS) and the detail tables."""

    problems: gpd.GeoDataFrame
    overlaps: gpd.GeoDataFrame
    uncovered: gpd.GeoDataFrame
    counts: pd.DataFrame
    grids_total: int
    households_range: tuple[int, int]
    extra: dict[str, Any] = field(default_factory=dict)

    def of(self, check: str) -> gpd.GeoDataFrame:
        """Problems of one check."""
        return self.problems[self.problems["check"] == check]

    def summary(self) -> dict[str, Any]:
        counts = self.problems["check"].value_counts()
        n = self.grids_total
        out_of_range = int(counts.get("households_out_of_range", 0))
        no_worker = int(counts.get("no_worker", 0))
        return {
            "grids": n,
            "problems": int(len(self.problems)),
            "by_check": {k: int(counts.get(k, 0)) for k in CHECKS},
            "overlap_area_m2": round(float(self.overlaps["area_m2"].sum()), 1),
            "uncovered_area_m2": round(float(self.uncovered["area_m2"].sum()), 1),
            "households_range": list(self.households_range),
            "share_in_household_range": round(1 - out_of_range / n, 6) if n else None,
            "share_with_worker": round(1 - no_worker / n, 6) if n else None,
        }


@dataclass
class GridInputs:
    """What every grid check reads: the grids (one projected CRS), their communities and
    population points, the rules (``profile.grids``), and the tables several checks share."""

    grids: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame | None
    population: gpd.GeoDataFrame | None
    rules: Any

    def __post_init__(self) -> None:
        grids = self.grids
        self.crs = grids.crs
        self.geoms = np.asarray(grids.geometry.values)
        self.codes = grids["grid_code"].astype(object).to_numpy()
        self.comm_code = (
            _text(grids["community_code"])
            if "community_code" in grids
            else np.full(len(grids), None)
        )

    def of_grids(
        self,
        check: str,
        mask: np.ndarray,
        detail: Any,
        value: np.ndarray,
        grid_codes: np.ndarray | None = None,
        *,
        detail_zh: Any = None,
    ) -> pd.DataFrame:
        """One problem per grid selected by `mask` (its code, community and polygon)."""
        codes = self.codes if grid_codes is None else grid_codes
        return _problems(
            check,
            codes[mask],
            detail,
            value,
            self.geoms[mask],
            self.comm_code[mask],
            detail_zh=detail_zh,
        )

    @cached_property
    def overlaps(self) -> gpd.GeoDataFrame:
        return grid_overlaps(self.grids, min_area_m2=self.rules.min_area_m2)

    @cached_property
    def uncovered(self) -> gpd.GeoDataFrame:
        if self.communities is not None and len(self.communities):
            return uncovered_land(self.grids, self.communities, min_area_m2=self.rules.min_area_m2)
        return _pieces({"community_code": [], "community_name": [], "area_m2": []}, [], self.crs)

    @cached_property
    def counts(self) -> pd.DataFrame:
        if self.population is None:
            return pd.DataFrame(index=self.grids.index)
        return grid_counts(self.grids, self.population)

    @cached_property
    def worker(self) -> pd.Series:
        grids = self.grids
        if "worker_name" in grids:
            return grids["worker_name"]
        return pd.Series([None] * len(grids), index=grids.index)


def check_overlap(g: GridInputs) -> pd.DataFrame:
    """Two grids overlapping by more than ``min_area_m2``."""
    overlaps = g.overlaps
    return _problems(
        "overlap",
        (
            overlaps["grid_code_a"].astype(str) + "," + overlaps["grid_code_b"].astype(str)
        ).to_numpy(),
        "overlap " + _num(overlaps["area_m2"]) + " m²",
        overlaps["area_m2"].to_numpy(),
        np.asarray(overlaps.geometry.values),
        detail_zh="重叠 " + _num(overlaps["area_m2"]) + " m²",
    )


def check_uncovered_land(g: GridInputs) -> pd.DataFrame:
    """Pieces of community land over ``min_area_m2`` in no grid."""
    uncovered = g.uncovered
    return _problems(
        "uncovered_land",
        np.full(len(uncovered), "", dtype=object),
        uncovered["community_name"].astype(str)
        + ": "
        + _num(uncovered["area_m2"])
        + " m² without a grid",
        uncovered["area_m2"].to_numpy(),
        np.asarray(uncovered.geometry.values),
        community=uncovered["community_code"].to_numpy(dtype=object),
        detail_zh=uncovered["community_name"].astype(str)
        + "："
        + _num(uncovered["area_m2"])
        + " m² 未划入网格",
    )


def check_households(g: GridInputs) -> pd.DataFrame:
    """Households outside ``households_min..households_max``."""
    hh = pd.to_numeric(g.grids["households"], errors="coerce").to_numpy(dtype=float)
    lo, hi = g.rules.households_min, g.rules.households_max
    bad = ~np.isnan(hh) & ((hh < lo) | (hh > hi))
    return g.of_grids(
        "households_out_of_range",
        bad,
        _num(hh[bad]) + f" households, outside {lo:,}–{hi:,}",
        hh[bad],
        detail_zh=_num(hh[bad]) + f" 户，超出 {lo:,}–{hi:,} 户的范围",
    )


def check_no_worker(g: GridInputs) -> pd.DataFrame:
    """No grid worker named."""
    missing = _blank(g.worker)
    return g.of_grids(
        "no_worker",
        missing,
        ["no grid worker"] * int(missing.sum()),
        np.zeros(missing.sum()),
        detail_zh=["未配备网格员"] * int(missing.sum()),
    )


def check_worker_multiple_grids(g: GridInputs) -> pd.DataFrame:
    """One worker (name, and phone where given) responsible for several grids."""
    grids, worker = g.grids, g.worker
    missing = _blank(worker)
    key = worker.astype(str).str.strip()
    if "worker_phone" in grids:
        phone = grids["worker_phone"].astype(str).str.replace(r"\D", "", regex=True)
        key = key + "|" + phone.where(~_blank(grids["worker_phone"]), "")
    named = pd.DataFrame(
        {"key": key.to_numpy(), "code": g.codes.astype(str), "pos": np.arange(len(grids))}
    )[~missing]
    sizes = named.groupby("key")["code"].transform("size").to_numpy()
    multi = named[sizes > 1].sort_values(["key", "code"])
    if not len(multi):
        return _problems("worker_multiple_grids", [], [], np.zeros(0), np.zeros(0, dtype=object))
    grouped = multi.groupby("key", sort=True)
    joined = grouped["code"].agg(",".join)
    gid = grouped.ngroup().to_numpy()
    geom = _grouped_union(g.geoms[multi["pos"].to_numpy()], gid, len(joined))
    names = pd.Series(joined.index.str.split("|").str[0], dtype=object)
    n = _num(joined.str.count(",").to_numpy() + 1)
    return _problems(
        "worker_multiple_grids",
        joined.to_numpy(),
        names + " is responsible for " + n + " grids",
        (joined.str.count(",") + 1).to_numpy(),
        geom,
        detail_zh=names + " 负责 " + n + " 个网格",
    )


def check_duplicate_code(g: GridInputs) -> pd.DataFrame:
    """A grid code used by several grids (one problem per code)."""
    present = ~_blank(g.grids["grid_code"])
    dup = pd.Series(g.codes, dtype=object).duplicated(keep=False).to_numpy() & present
    if not dup.any():
        return _problems("duplicate_code", [], [], np.zeros(0), np.zeros(0, dtype=object))
    d = pd.DataFrame({"code": g.codes[dup].astype(str), "pos": np.flatnonzero(dup)})
    grouped = d.groupby("code", sort=True)
    sizes = grouped.size()
    geom = _grouped_union(g.geoms[d["pos"].to_numpy()], grouped.ngroup().to_numpy(), len(sizes))
    return _problems(
        "duplicate_code",
        sizes.index.to_numpy(dtype=object),
        "code used by " + _num(sizes) + " grids",
        sizes.to_numpy(),
        geom,
        detail_zh="编码被 " + _num(sizes) + " 个网格使用",
    )


def check_malformed_code(g: GridInputs) -> pd.DataFrame:
    """A code not matching ``code_pattern`` or not starting with its community code."""
    pattern = g.rules.code_pattern
    present = ~_blank(g.grids["grid_code"])
    text = pd.Series(g.codes, dtype=object).astype(str)
    bad_format = ~text.str.fullmatch(pattern).fillna(False).to_numpy() | ~present
    has_comm = ~pd.isna(pd.Series(g.comm_code, dtype=object)).to_numpy()
    prefixes = np.where(has_comm, g.comm_code, "").astype(str)
    starts = np.strings.startswith(text.to_numpy(dtype=str), prefixes)
    bad_prefix = has_comm & ~starts & ~bad_format
    detail = np.where(
        bad_format, f"does not match {pattern}", "does not start with its community code"
    )
    detail_zh = np.where(bad_format, f"不符合编码规则 {pattern}", "不以所属社区编码开头")
    bad = bad_format | bad_prefix
    return g.of_grids(
        "malformed_code",
        bad,
        detail[bad],
        np.zeros(bad.sum()),
        grid_codes=np.where(present, g.codes, ""),
        detail_zh=detail_zh[bad],
    )


def _count_check(what: str):
    def check(g: GridInputs) -> pd.DataFrame:
        counts = g.counts
        if f"{what}_counted" not in counts:
            return _problems(f"{what}_mismatch", [], [], np.zeros(0), np.zeros(0, dtype=object))
        rec = counts[f"{what}_recorded"].to_numpy(dtype=float)
        cnt = counts[f"{what}_counted"].to_numpy(dtype=float)
        mis = _mismatch(rec, cnt, g.rules.population_mismatch_share)
        return g.of_grids(
            f"{what}_mismatch",
            mis,
            "recorded " + _num(rec[mis]) + ", counted " + _num(cnt[mis]) + f" ({what})",
            (cnt - rec)[mis],
            detail_zh=f"{WHAT_ZH[what]}：登记 " + _num(rec[mis]) + "，统计 " + _num(cnt[mis]),
        )

    check.__doc__ = f"Recorded {what} differ from the population points inside the grid."
    return check


def check_invalid_geometry(g: GridInputs) -> pd.DataFrame:
    """A grid polygon that is not valid (with the GEOS reason)."""
    invalid = ~shapely.is_valid(g.geoms) & ~shapely.is_missing(g.geoms)
    reasons = shapely.is_valid_reason(g.geoms[invalid]) if invalid.any() else []
    return g.of_grids(
        "invalid_geometry",
        invalid,
        reasons,
        np.zeros(invalid.sum()),
        detail_zh=pd.Series(reasons, dtype=object).radd("几何无效：").to_numpy(),
    )


@dataclass(frozen=True)
class GridCheck:
    """One registered grid check: its key, labels and the function finding its problems."""

    key: str
    label_zh: str
    label_en: str
    run: Callable[[GridInputs], pd.DataFrame]


GRID_CHECKS: list[GridCheck] = [
    GridCheck("overlap", "网格重叠", "Grids overlap", check_overlap),
    GridCheck(
        "uncovered_land", "社区内无网格覆盖", "Community land without a grid", check_uncovered_land
    ),
    GridCheck(
        "households_out_of_range", "户数超出范围", "Households outside the range", check_households
    ),
    GridCheck("no_worker", "未配网格员", "No grid worker", check_no_worker),
    GridCheck(
        "worker_multiple_grids",
        "网格员兼管多个网格",
        "Worker responsible for several grids",
        check_worker_multiple_grids,
    ),
    GridCheck("duplicate_code", "网格编码重复", "Duplicate grid code", check_duplicate_code),
    GridCheck("malformed_code", "网格编码格式错误", "Malformed grid code", check_malformed_code),
    GridCheck(
        "residents_mismatch",
        "人口数与人口点不符",
        "Residents differ from population points",
        _count_check("residents"),
    ),
    GridCheck(
        "households_mismatch",
        "户数与人口点不符",
        "Households differ from population points",
        _count_check("households"),
    ),
    GridCheck("invalid_geometry", "网格图形无效", "Invalid grid geometry", check_invalid_geometry),
]
"""Every grid check, in report order: add one here, or leave one out with ``checks=``."""

CHECKS: dict[str, tuple[str, str]] = {c.key: (c.label_zh, c.label_en) for c in GRID_CHECKS}
"""Check key -> (Chinese, English) label."""


def grid_checks(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame | None,
    population: gpd.GeoDataFrame | None,
    profile,
    *,
    checks: Iterable[str] | None = None,
) -> GridCheckResult:
    """Run the grid checks of :data:`GRID_CHECKS` (or only `checks`, by key). Inputs in one
    projected CRS; the rules (household range, mismatch share, code pattern, smallest area
    reported) come from ``profile.grids``.

    Returns a :class:`GridCheckResult` whose ``problems`` frame has ``check``, ``grid_code``
    (the first code), ``grid_codes`` (all codes involved, comma-separated), ``community_code``,
    ``detail``, ``value`` and ``geometry``.
    """
    crs = require_projected(grids, "grids")
    if communities is not None:
        same_crs(grids, communities, names=("grids", "communities"))
    if population is not None:
        same_crs(grids, population, names=("grids", "population"))
    wanted = set(CHECKS) if checks is None else set(checks)
    unknown = wanted - set(CHECKS)
    if unknown:
        raise KeyError(f"unknown grid checks {sorted(unknown)}; known: {', '.join(CHECKS)}")
    g = GridInputs(grids, communities, population, profile.grids)
    frames = [c.run(g) for c in GRID_CHECKS if c.key in wanted]
    table = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else _problems("overlap", [], [], np.zeros(0), np.zeros(0, dtype=object))
    )
    problems = gpd.GeoDataFrame(
        table, geometry=gpd.GeoSeries(table["geometry"].to_numpy(), crs=crs), crs=crs
    )
    return GridCheckResult(
        problems=problems,
        overlaps=g.overlaps,
        uncovered=g.uncovered,
        counts=g.counts,
        grids_total=len(grids),
        households_range=(g.rules.households_min, g.rules.households_max),
    )
