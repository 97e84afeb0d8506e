"""Gap layers for the map exports: where service falls short, as features.

:func:`gap_layers` turns the gap analysis and the indicator table into named GeoDataFrames:
area polygons with every indicator value and status (``areas_district``, ``areas_street``),
the uncovered population points of each facility kind (``uncovered_<kind>``) and their hot spots
(``gapcells_<kind>``: uncovered residents summed in cells of about 250 m), shelters
overloaded under nearest assignment, cells whose residents no shelter can take, villages below
target and the grids with check problems. The HTML map and the GeoPackage export both use them.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.indicators import SPATIAL_KEYS

# Indicators drawn as street choropleths on the HTML map (first shown by default).
MAP_INDICATORS = (
    "center_street_coverage",
    "center_community_coverage",
    "shelter_emergency_coverage",
    "shelter_fixed_coverage",
    "sanitary_toilet_penetration",
)
# Facility kinds whose uncovered residents become gap layers.
GAP_KINDS = (
    "neighborhood_centers_street",
    "neighborhood_centers_community",
    "shelters_emergency",
    "shelters_fixed",
)
GAP_LAYER_TITLES: dict[str, tuple[str, str]] = {
    "areas_district": ("区县指标", "District indicators"),
    "areas_street": ("街道/乡镇指标", "Street indicators"),
    "uncovered_neighborhood_centers_street": (
        "街道级邻里中心未覆盖人口",
        "Residents beyond street-level centers",
    ),
    "uncovered_neighborhood_centers_community": (
        "社区级邻里中心未覆盖人口",
        "Residents beyond community-level centers",
    ),
    "uncovered_shelters_emergency": (
        "紧急避难场所未覆盖人口",
        "Residents beyond emergency shelters",
    ),
    "uncovered_shelters_fixed": ("固定避难场所未覆盖人口", "Residents beyond fixed shelters"),
    "gapcells_neighborhood_centers_street": (
        "街道级邻里中心缺口热点",
        "Gaps of street-level centers (cells)",
    ),
    "gapcells_neighborhood_centers_community": (
        "社区级邻里中心缺口热点",
        "Gaps of community-level centers (cells)",
    ),
    "gapcells_shelters_emergency": ("紧急避难场所缺口热点", "Gaps of emergency shelters (cells)"),
    "gapcells_shelters_fixed": ("固定避难场所缺口热点", "Gaps of fixed shelters (cells)"),
    "overloaded_shelters": ("超载避难场所", "Overloaded shelters"),
    "unplaced_cells": ("无法安置人口（网格单元）", "Residents no shelter can take (cells)"),
    "villages_below_target": ("未达标行政村", "Villages below target"),
    "grid_problems": ("网格问题", "Grid problems"),
}


def area_layer(
    indicators: pd.DataFrame, polygons: gpd.GeoDataFrame, level: str
) -> gpd.GeoDataFrame:
    """Polygons of `level` with one column per indicator value and ``<key>_status``."""
    rows = indicators[indicators["level"] == level]
    values = rows.pivot_table(
        index="area_code", columns="indicator", values="value", aggfunc="first", dropna=False
    )
    states = rows.pivot(index="area_code", columns="indicator", values="status").add_suffix(
        "_status"
    )
    keys = [k for k in SPATIAL_KEYS if k in values.columns]
    wide = pd.concat([values[keys], states[[f"{k}_status" for k in keys]]], axis=1)
    base = polygons[["code", "name", "geometry"]].rename(
        columns={"code": "area_code", "name": "area_name"}
    )
    out = base.merge(wide, left_on="area_code", right_index=True, how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=polygons.crs)


def uncovered_mask(population: gpd.GeoDataFrame, result: Any) -> np.ndarray:
    """True for the population points a coverage `result` leaves uncovered."""
    return ~result.covered.reindex(population.index).fillna(False).to_numpy(dtype=bool)


def _with_geometry(frame: gpd.GeoDataFrame, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """The `columns` of `frame` that exist, then its geometry, on a fresh index."""
    keep = [c for c in columns if c in frame]
    return frame[keep + ["geometry"]].reset_index(drop=True)


def _uncovered(population: gpd.GeoDataFrame, result: Any) -> gpd.GeoDataFrame:
    points = population[uncovered_mask(population, result)]
    out = _with_geometry(
        points, ("residents", "district_code", "street_code", "community_code", "grid_code")
    )
    out["residents"] = pd.to_numeric(out["residents"], errors="coerce").fillna(0).astype(np.int64)
    out["distance_m"] = np.round(result.distance.reindex(points.index).to_numpy(dtype=float), 1)
    out["radius_m"] = float(result.radius_m)
    return out


def grid_problem_layer(problems: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Grid-check problems with their geometry and the check's Chinese name."""
    if problems is None or len(problems) == 0:
        return gpd.GeoDataFrame({"check": [], "check_zh": []}, geometry=gpd.GeoSeries([]))
    from geo.grid_qa import CHECKS

    out = _with_geometry(problems, ("check", "grid_codes", "detail", "value"))
    out.insert(1, "check_zh", out["check"].map(lambda c: CHECKS.get(c, (c, c))[0]))
    return out


def gap_layers(
    analysis: Any,
    indicators: pd.DataFrame,
    layers: dict[str, gpd.GeoDataFrame],
) -> dict[str, gpd.GeoDataFrame]:
    """Named gap layers (metric CRS) from a gap analysis and its indicator table.

    Parameters
    ----------
    analysis
        :class:`geo.analysis.GapAnalysis` (``coverage``, ``capacity``, ``sanitation``,
        ``grid_checks``).
    indicators
        Indicator table of the same period.
    layers
        The prepared layers (metric CRS, population with area codes).
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    for level, name in (("district", "districts"), ("street", "streets")):
        poly = layers.get(name)
        if poly is not None and len(poly):
            out[f"areas_{level}"] = area_layer(indicators, poly, level)
    pop = layers["population"]
    cells = getattr(analysis, "gap_cells", {}) or {}
    for kind in GAP_KINDS:
        result = analysis.coverage.get(kind)
        if result is not None:
            out[f"uncovered_{kind}"] = _uncovered(pop, result)
        if kind in cells and len(cells[kind]):
            out[f"gapcells_{kind}"] = cells[kind].reset_index(drop=True)
    cap = getattr(analysis, "capacity", None)
    if cap is not None:
        over = cap.overloaded()
        if len(over):
            out["overloaded_shelters"] = _with_geometry(
                over, ("shelter_id", "name", "shelter_class", "group", "capacity", "load", "excess")
            )
        cells = cap.unplaced_cells()
        if len(cells) and isinstance(cells, gpd.GeoDataFrame):
            out["unplaced_cells"] = cells.reset_index(drop=True)
    san = getattr(analysis, "sanitation", None)
    if san is not None:
        out["villages_below_target"] = _with_geometry(
            san.below_target,
            (
                "village_code",
                "name",
                "township",
                "county",
                "households",
                "toilet_penetration",
                "has_garbage_collection",
                "has_sewage_treatment",
                "shortfalls",
            ),
        )
    checks = getattr(analysis, "grid_checks", None)
    if checks is not None:
        out["grid_problems"] = grid_problem_layer(getattr(checks, "problems", None))
    return out
