"""Gap layers: where service falls short, as features.

:func:`gap_layers` turns the gap analysis and the indicator table into named GeoDataFrames:
area polygons with every indicator value and status (``areas_district``, ``areas_street``),
the uncovered population points of each facility kind (``uncovered_<kind>``) and their hot spots
(``gapcells_<kind>``: uncovered residents summed in cells of ``analysis.gap_cell_m``); with
roads, the grids where straight lines overstate a kind's coverage (``overstated_<kind>``) and
the walking service area of each kind measured along roads (``servicearea_<kind>``); shelters
overloaded under nearest assignment, cells whose residents no shelter can take, villages below
target and the grids with check problems. It is the one source of gap layers: the HTML map,
the GeoPackage report (``cli.py report x.gpkg``) and ``cli.py gaps --out`` all use it.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.analysis import GapAnalysis
from geo.indicators import PLAN_KEYS, indicators_from_analysis
from geo.settings import Profile
from layers import get_layer

# Indicators drawn as street choropleths on the HTML map (first shown by default).
MAP_INDICATORS = (
    "center_street_coverage",
    "center_community_coverage",
    "shelter_emergency_coverage",
    "shelter_fixed_coverage",
    "sanitary_toilet_penetration",
)
# Facility kinds whose gap cells the HTML map draws (every kind is exported).
GAP_KINDS = (
    "neighborhood_centers_street",
    "neighborhood_centers_community",
    "shelters_emergency",
    "shelters_fixed",
)
GAP_LAYER_TITLES: dict[str, tuple[str, str]] = {
    "areas_district": ("区县指标", "District indicators"),
    "areas_street": ("街道/乡镇指标", "Street indicators"),
    "overloaded_shelters": ("超载避难场所", "Overloaded shelters"),
    "unplaced_cells": ("无法安置人口（网格单元）", "Residents no shelter can take (cells)"),
    "villages_below_target": ("未达标行政村", "Villages below target"),
    "grid_problems": ("网格问题", "Grid problems"),
}
"""Titles of the gap layers that are not per facility kind (:func:`gap_layer_title`)."""


def gap_layer_title(name: str, profile: Profile, lang: str = "zh") -> str:
    """Title of gap layer `name`: a fixed one, or ``uncovered_<kind>`` / ``gapcells_<kind>``
    built from the kind's labels. KeyError for an unknown layer or kind."""
    if name in GAP_LAYER_TITLES:
        return GAP_LAYER_TITLES[name][0 if lang == "zh" else 1]
    prefix, _, kind = name.partition("_")
    spec = profile.kind(kind)
    if prefix == "uncovered":
        titles = (f"{spec.label_zh}未覆盖人口", f"Residents beyond {spec.label_en.lower()}")
    elif prefix == "gapcells":
        titles = (f"{spec.label_zh}缺口热点", f"Gaps of {spec.label_en.lower()} (cells)")
    elif prefix == "overstated":
        titles = (
            f"{spec.label_zh}：直线距离高估的覆盖（网格）",
            f"{spec.label_en}: coverage straight lines overstate (grids)",
        )
    elif prefix == "servicearea":
        titles = (f"{spec.label_zh}步行服务范围", f"{spec.label_en}: walking service area")
    else:
        raise KeyError(f"unknown gap layer {name!r}")
    return titles[0 if lang == "zh" else 1]


# Columns of each gap layer besides the geometry (present ones are kept, in this order).
OVERLOADED_COLUMNS = (
    "shelter_id",
    "name",
    "shelter_class",
    "group",
    "capacity",
    "load",
    "excess",
    "spare",
    "utilisation",
)
# the villages layer's fields, then what the sanitation analysis adds
VILLAGE_COLUMNS = (
    *get_layer("villages").field_names,
    "toilet_penetration",
    "meets_toilet_target",
    "has_garbage_collection",
    "garbage_point_distance_m",
    "has_sewage_treatment",
    "shortfalls",
)
PROBLEM_COLUMNS = ("check", "grid_code", "grid_codes", "community_code", "detail", "value")


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
    keys = [k for k in pd.unique(rows["indicator"]) if k not in PLAN_KEYS and k in values.columns]
    wide = pd.concat([values[keys], states[[f"{k}_status" for k in keys]]], axis=1)
    base = polygons[["code", "name", "geometry"]].rename(
        columns={"code": "area_code", "name": "area_name"}
    )
    out = base.merge(wide, left_on="area_code", right_index=True, how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=polygons.crs)


def _with_geometry(frame: gpd.GeoDataFrame, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """The `columns` of `frame` that exist, then its geometry, on a fresh index."""
    keep = [c for c in columns if c in frame]
    return frame[keep + ["geometry"]].reset_index(drop=True)


def grid_problem_layer(problems: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Grid-check problems with their geometry and the check's Chinese name."""
    if problems is None or len(problems) == 0:
        return gpd.GeoDataFrame({"check": [], "check_zh": []}, geometry=gpd.GeoSeries([]))
    from geo.grid_qa import CHECKS

    out = _with_geometry(problems, PROBLEM_COLUMNS)
    out.insert(1, "check_zh", out["check"].map(lambda c: CHECKS.get(c, (c, c))[0]))
    return out


def gap_layers(
    analysis: GapAnalysis, indicators: pd.DataFrame | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """Named gap layers (metric CRS) of a gap analysis; every exported gap layer comes from here.

    Parameters
    ----------
    analysis
        The gap analysis (:func:`geo.analysis.run_all`); its prepared ``layers`` give the
        district and street polygons.
    indicators
        Indicator table of the same period (for ``areas_district``/``areas_street``); None:
        computed from `analysis` without non-spatial values (the area layers hold only
        spatial indicators, so they are the same).

    Layers without features are kept (empty); exporters drop them.
    """
    layers = analysis.layers
    if indicators is None:
        indicators = indicators_from_analysis(analysis, layers, analysis.profile)
    out: dict[str, gpd.GeoDataFrame] = {}
    for level, name in (("district", "districts"), ("street", "streets")):
        poly = layers.get(name)
        if poly is not None and len(poly):
            out[f"areas_{level}"] = area_layer(indicators, poly, level)
    for kind in analysis.coverage:
        out[f"uncovered_{kind}"] = analysis.uncovered_points(kind).reset_index(drop=True)
        cells = analysis.gap_cells.get(kind)
        if cells is not None:
            cells = cells.reset_index(drop=True)
            cells.insert(0, "kind", kind)
            out[f"gapcells_{kind}"] = cells
    if analysis.has_roads:
        for kind, res in analysis.coverage.items():
            out[f"overstated_{kind}"] = analysis.overstated_grids(kind)
            if res.distance_mode == "network":
                out[f"servicearea_{kind}"] = analysis.service_area(kind)
    cap = analysis.capacity
    out["overloaded_shelters"] = _with_geometry(cap.overloaded(), OVERLOADED_COLUMNS)
    unplaced = cap.unplaced_cells()
    if isinstance(unplaced, gpd.GeoDataFrame):
        out["unplaced_cells"] = unplaced.reset_index(drop=True)
    out["villages_below_target"] = _with_geometry(analysis.sanitation.below_target, VILLAGE_COLUMNS)
    out["grid_problems"] = grid_problem_layer(analysis.grid_checks.problems)
    return out
