"""Service gaps: coverage, shelter capacity, rural sanitation, grid checks, what-if and siting.

A thin page over ``geo/``: it gathers parameters (defaults from the city profile), runs the
analysis with per-part caches, and shows tables, a map and downloads. Each cached part is
keyed by the store version and only the parameters it depends on, so changing one radius
recomputes one facility kind (nearest distances are never recomputed for a radius change).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from data.store import GeoPackageStore, StoreError
from geo.analysis import GapAnalysis, PreparedLayers, prepare
from geo.areas import LEVEL_LABELS, LEVELS
from geo.capacity import (
    SHELTER_GROUPS,
    SUPPLY_GROUPS,
    CapacityResult,
    ShelterGroupCapacity,
    capacity_all,
    shelter_capacity,
    shelter_supply_by_area,
)
from geo.coverage import (
    FACILITY_KINDS,
    CoverageResult,
    coverage_from_distance,
    gap_cells,
    nearest_distance,
    radius_for,
    select_facilities,
)
from geo.crs import WGS84, gcj02_to_wgs84, to_metric
from geo.grid_qa import CHECKS, GridCheckResult, grid_checks
from geo.indicators import STATUS_LABELS, statuses
from geo.sanitation import SanitationResult, sanitation_all
from geo.settings import Profile
from geo.siting import SiteSuggestion, SitingError, suggest_sites
from geo.whatif import WhatIfError, apply_proposals, read_point_file
from layers import LAYERS, render
from layers import display as dp
from layers.assets import install_assets
from layers.shelters import CLASS_LABELS, FIXED_CLASSES
from ui import data_access as da
from ui.i18n import lang, tr
from ui.map_controls import basemap_select, demo_note

# ------------------------------------------------------------------ session-state keys
KEY_PREFIX = "gaps_"
RESET = "gaps_reset"
ROLLUP_KIND = "gaps_rollup_kind"
ROLLUP_LEVEL = "gaps_rollup_level"
ROLLUP_TOP = "gaps_rollup_top"
MAP_KIND = "gaps_map_kind"
MAP = "gaps_map"
MAP_SUMMARY = "gaps_map_summary"  # {layer key: feature count} of the last gap map drawn
CAP_GROUP = "gaps_capacity_group"
PROPOSALS = "gaps_proposals"  # list of dicts (lon/lat WGS84, kind, name, attributes)
P_KIND = "gaps_proposal_kind"
P_CLASS = "gaps_proposal_class"
P_LON = "gaps_proposal_lon"
P_LAT = "gaps_proposal_lat"
P_NAME = "gaps_proposal_name"
P_AREA = "gaps_proposal_area"
P_CAP = "gaps_proposal_capacity"
P_ADD = "gaps_proposal_add"
P_CLEAR = "gaps_proposal_clear"
P_CLICK = "gaps_proposal_click"  # add a proposal where the map is clicked
P_LAST_CLICK = "gaps_proposal_last_click"
P_UPLOAD = "gaps_proposal_upload"
P_DATUM = "gaps_proposal_datum"
P_LEVEL = "gaps_whatif_level"
P_REMOVE = "gaps_proposal_remove"
WHATIF_MAP = "gaps_whatif_map"
S_KIND = "gaps_site_kind"
S_K = "gaps_site_k"
S_METHOD = "gaps_site_method"
S_SOURCE = "gaps_site_source"
S_UPLOAD = "gaps_site_upload"
S_DATUM = "gaps_site_datum"
S_RUN = "gaps_site_run"
S_RESULT = "gaps_site_result"  # parameters of the last suggestion asked for
S_TO_WHATIF = "gaps_site_to_whatif"
S_MAP = "gaps_site_map"

CELL_M = 250.0
#: Uncovered population points drawn one by one up to this many (beyond: the cells show them).
POINT_LIMIT = 3000
KINDS = list(FACILITY_KINDS)
TARGET_OF_KIND = {
    "neighborhood_centers_street": "center_street_coverage",
    "neighborhood_centers_community": "center_community_coverage",
    "shelters_emergency": "shelter_emergency_coverage",
    "shelters_fixed": "shelter_fixed_coverage",
}
GROUP_LABELS = {
    "emergency": ("紧急", "Emergency"),
    "fixed": ("固定", "Fixed"),
    "central": ("中心", "Central"),
}
DATUMS = {
    "wgs84": ("WGS84 / GPS", "WGS84 / GPS"),
    "gcj02": ("GCJ-02（高德/腾讯）", "GCJ-02 (Amap/Tencent)"),
    "bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
}


@dataclasses.dataclass(frozen=True)
class Param:
    """One editable setting: profile section and name, label, unit, input range, display scale."""

    section: str
    name: str
    label: tuple[str, str]
    unit: str
    low: float
    high: float
    step: float
    scale: float = 1.0  # shown value = profile value x scale (100 for shares shown in %)


def _params() -> dict[str, list[Param]]:
    """Inputs grouped by sidebar expander title (zh, en)."""
    radius = [
        ("neighborhood_center_street", ("街道级中心", "Street-level center")),
        ("neighborhood_center_community", ("社区级中心", "Community-level center")),
        ("shelter_emergency", ("紧急避难场所", "Emergency shelter")),
        ("shelter_fixed", ("固定避难场所", "Fixed shelter")),
        ("shelter_central", ("中心避难场所", "Central shelter")),
        ("garbage_point", ("垃圾收集点", "Garbage point")),
        ("public_toilet", ("公共厕所", "Public toilet")),
    ]
    shares = [
        ("center_street_coverage", ("街道级中心覆盖率", "Street-level center coverage")),
        ("center_community_coverage", ("社区级中心覆盖率", "Community-level center coverage")),
        ("shelter_emergency_coverage", ("紧急避难覆盖率", "Emergency shelter coverage")),
        ("shelter_fixed_coverage", ("固定避难覆盖率", "Fixed shelter coverage")),
        ("sanitary_toilet_penetration", ("卫生厕所普及率", "Sanitary toilets")),
        (
            "villages_with_garbage_collection",
            ("垃圾收运村占比", "Villages with garbage collection"),
        ),
        ("villages_with_sewage_treatment", ("污水治理村占比", "Villages with sewage treatment")),
    ]
    return {
        "radii": [Param("radii", n, pair, "m", 0, 50_000, 50) for n, pair in radius]
        + [
            Param(
                "radii",
                "detour_factor",
                ("绕行系数（步行/直线）", "Detour factor (walking / straight)"),
                "",
                1,
                3,
                0.05,
            )
        ],
        "per_capita_area_m2": [
            Param("per_capita_area_m2", n, CLASS_LABELS[n], "m²/人", 0.1, 50, 0.5)
            for n in ("emergency", "fixed_short", "fixed_medium", "fixed_long", "central")
        ],
        "targets": [Param("targets", n, pair, "%", 0, 100, 1, 100) for n, pair in shares]
        + [
            Param(
                "targets",
                "shelter_places_per_resident",
                ("人均避难容量", "Shelter places per resident"),
                "人/人",
                0,
                5,
                0.01,
            ),
            Param(
                "targets",
                "shelter_area_per_resident_m2",
                ("人均有效避难面积", "Shelter area per resident"),
                "m²/人",
                0,
                20,
                0.05,
            ),
        ],
        "grids": [
            Param(
                "grids",
                "households_min",
                ("每网格最少户数", "Min households per grid"),
                "户",
                0,
                100_000,
                10,
            ),
            Param(
                "grids",
                "households_max",
                ("每网格最多户数", "Max households per grid"),
                "户",
                0,
                100_000,
                10,
            ),
            Param(
                "grids",
                "population_mismatch_share",
                ("人口核对允许偏差", "Allowed population mismatch"),
                "%",
                0,
                100,
                5,
                100,
            ),
        ],
    }


PARAM_TITLES = {
    "radii": ("服务半径与绕行系数", "Service radii and detour"),
    "per_capita_area_m2": ("人均有效避难面积", "Effective shelter area per person"),
    "targets": ("目标", "Targets"),
    "grids": ("网格规则", "Grid rules"),
}
UNITS_EN = {"人/人": "per resident", "m²/人": "m² per person", "户": "households"}


def _pair(pair: tuple[str, str]) -> str:
    return tr(*pair)


def kind_label(kind: str) -> str:
    return FACILITY_KINDS[kind].label(lang())


# ------------------------------------------------------------------ parameters
def _widget_key(section: str, name: str) -> str:
    return f"{KEY_PREFIX}p_{section}_{name}"


def parameter_controls(base: Profile) -> Profile:
    """Sidebar inputs for radii, detour, per-capita areas, targets and grid rules.

    Defaults come from `base`; returns ``base.with_overrides(...)`` with the values entered.
    """
    sb = st.sidebar
    if sb.button(tr("恢复默认参数", "Reset parameters"), key=RESET):
        for key in [k for k in st.session_state if str(k).startswith(f"{KEY_PREFIX}p_")]:
            del st.session_state[key]
    overrides: dict[str, dict[str, float]] = {}
    for section, params in _params().items():
        values = overrides.setdefault(section, {})
        current = getattr(base, section)
        with sb.expander(_pair(PARAM_TITLES[section]), expanded=False):
            for p in params:
                key = _widget_key(section, p.name)
                default = float(getattr(current, p.name)) * p.scale
                if key not in st.session_state:
                    st.session_state[key] = round(default, 6)
                unit = p.unit if lang() == "zh" else UNITS_EN.get(p.unit, p.unit)
                label = f"{_pair(p.label)} ({unit})" if unit else _pair(p.label)
                shown = st.number_input(
                    label,
                    min_value=float(p.low),
                    max_value=float(p.high),
                    step=float(p.step),
                    key=key,
                )
                values[p.name] = float(shown) / p.scale
    return base.with_overrides(**overrides)


def _items(obj, names=None) -> tuple[tuple[str, float], ...]:
    values = dataclasses.asdict(obj)
    return tuple((k, values[k]) for k in (names or values))


def _with(base: Profile, **sections: tuple[tuple[str, float], ...]) -> Profile:
    return base.with_overrides(**{s: dict(v) for s, v in sections.items() if v})


# ------------------------------------------------------------------ cached parts
@st.cache_resource(show_spinner=False, max_entries=2)
def prepared_layers(path: str, version: str) -> PreparedLayers:
    """Every layer of the store in the metric CRS, population and facilities located."""
    store = GeoPackageStore(path)
    return prepare({name: store.read(name) for name in LAYERS}, da.profile())


@st.cache_resource(show_spinner=False, max_entries=32)
def kind_distance(path: str, version: str, kind: str) -> tuple[pd.Series, int]:
    """Distance from every population point to the nearest facility of `kind` (any radius)."""
    layers = prepared_layers(path, version)
    facilities = select_facilities(layers, kind)
    return nearest_distance(layers["population"], facilities), len(facilities)


@st.cache_resource(show_spinner=False, max_entries=64)
def kind_coverage(
    path: str, version: str, kind: str, radius_m: float, detour: float
) -> CoverageResult:
    """Coverage and roll-ups of one kind (depends on its radius and the detour factor only)."""
    distance, count = kind_distance(path, version, kind)
    pop = prepared_layers(path, version)["population"]
    return coverage_from_distance(
        pop,
        distance,
        kind=kind,
        radius_m=radius_m,
        detour_factor=detour,
        facilities=count,
        levels=LEVELS,
    )


@st.cache_resource(show_spinner=False, max_entries=64)
def kind_cells(
    path: str, version: str, kind: str, radius_m: float, detour: float
) -> gpd.GeoDataFrame:
    pop = prepared_layers(path, version)["population"]
    return gap_cells(
        pop, kind_coverage(path, version, kind, radius_m, detour).covered, cell_m=CELL_M
    )


@st.cache_resource(show_spinner=False, max_entries=32)
def group_capacity(
    path: str, version: str, group: str, radii: tuple, per_capita: tuple
) -> ShelterGroupCapacity:
    """Both capacity views of one shelter group (its radius, detour, per-capita areas)."""
    layers = prepared_layers(path, version)
    profile = _with(da.profile(), radii=radii, per_capita_area_m2=per_capita)
    shelters = layers["shelters"]
    classes = FACILITY_KINDS[SHELTER_GROUPS[group]].values
    only = shelters[shelters["shelter_class"].isin(classes).to_numpy()]
    result = capacity_all(
        {**layers, "shelters": only}, profile, population=layers["population"], levels=()
    )
    return result.groups[group]


@st.cache_resource(show_spinner=False, max_entries=16)
def shelter_supply(
    path: str, version: str, per_capita: tuple, targets: tuple
) -> tuple[pd.Series, dict]:
    """Shelter capacity of every shelter and supply per street/district against the targets."""
    layers = prepared_layers(path, version)
    profile = _with(da.profile(), per_capita_area_m2=per_capita, targets=targets)
    shelters, pop = layers["shelters"], layers["population"]
    capacity = shelter_capacity(shelters, profile)
    classes = [c for g in SUPPLY_GROUPS for c in FACILITY_KINDS[SHELTER_GROUPS[g]].values]
    stay = shelters[shelters["shelter_class"].isin(classes).to_numpy()]
    supply = {
        level: shelter_supply_by_area(
            pop, stay, capacity.loc[stay.index], by=f"{level}_code", profile=profile
        )
        for level in ("street", "district")
        if f"{level}_code" in pop.columns and f"{level}_code" in stay.columns
    }
    return capacity, supply


@st.cache_resource(show_spinner=False, max_entries=16)
def sanitation(path: str, version: str, radii: tuple, targets: tuple) -> SanitationResult:
    layers = prepared_layers(path, version)
    profile = _with(da.profile(), radii=radii, targets=targets)
    return sanitation_all(layers["villages"], layers["sanitation_facilities"], profile)


@st.cache_resource(show_spinner=False, max_entries=16)
def checks(path: str, version: str, rules: tuple) -> GridCheckResult:
    layers = prepared_layers(path, version)
    profile = _with(da.profile(), grids=rules)
    return grid_checks(layers["grids"], layers["communities"], layers["population"], profile)


@st.cache_resource(show_spinner=False, max_entries=16)
def suggestion(
    path: str,
    version: str,
    kind: str,
    radius_m: float,
    detour: float,
    k: int,
    method: str,
    upload: bytes | None,
    upload_name: str,
    datum: str,
) -> SiteSuggestion:
    """Sites for `kind` covering the most uncovered residents (cells of uncovered residents)."""
    layers = prepared_layers(path, version)
    demand = kind_cells(path, version, kind, radius_m, detour)
    candidates = None
    if upload is not None:
        candidates = to_metric(
            read_point_file(upload, upload_name, offsets=datum), layers["population"].crs
        )
    return suggest_sites(
        demand,
        candidates,
        k=k,
        radius_m=radius_m,
        detour_factor=detour,
        weight="residents_uncovered",
        method=method,
    )


def run_analysis(
    path: str, version: str, profile: Profile, progress: Callable[[float, str], None]
) -> GapAnalysis:
    """All parts for `profile`, each from its cache when its parameters did not change."""
    detour = float(profile.radii.detour_factor)
    steps = len(KINDS) + len(SHELTER_GROUPS) + 4
    done = 0

    def tick(text: str) -> None:
        nonlocal done
        done += 1
        progress(done / steps, text)

    progress(0.0, tr("读取并投影图层…", "Reading and projecting layers…"))
    layers = prepared_layers(path, version)
    tick(tr("图层就绪", "Layers ready"))
    coverage, cells = {}, {}
    for kind in KINDS:
        radius = radius_for(kind, profile)
        coverage[kind] = kind_coverage(path, version, kind, radius, detour)
        cells[kind] = kind_cells(path, version, kind, radius, detour)
        tick(tr(f"覆盖分析：{kind_label(kind)}", f"Coverage: {kind_label(kind)}"))
    per_capita = _items(profile.per_capita_area_m2)
    groups = {}
    for group, kind in SHELTER_GROUPS.items():
        radii = (
            ("detour_factor", detour),
            (FACILITY_KINDS[kind].radius_setting, radius_for(kind, profile)),
        )
        groups[group] = group_capacity(path, version, group, radii, per_capita)
        tick(
            tr(
                f"避难容量：{_pair(GROUP_LABELS[group])}",
                f"Shelter capacity: {_pair(GROUP_LABELS[group])}",
            )
        )
    shelter_targets = _items(
        profile.targets, ["shelter_places_per_resident", "shelter_area_per_resident_m2"]
    )
    capacity_series, supply = shelter_supply(path, version, per_capita, shelter_targets)
    tick(tr("人均避难指标", "Shelter supply per resident"))
    san = sanitation(
        path,
        version,
        _items(profile.radii, ["garbage_point", "detour_factor"]),
        _items(
            profile.targets,
            [
                "sanitary_toilet_penetration",
                "villages_with_garbage_collection",
                "villages_with_sewage_treatment",
            ],
        ),
    )
    tick(tr("农村人居环境", "Rural sanitation"))
    grid = checks(path, version, _items(profile.grids))
    tick(tr("网格检查", "Grid checks"))
    return GapAnalysis(
        coverage=coverage,
        gap_cells=cells,
        capacity=CapacityResult(groups=groups, capacity=capacity_series, supply=supply),
        sanitation=san,
        grid_checks=grid,
        layers=layers,
        profile=profile,
    )


# ------------------------------------------------------------------ tables
#: Column name -> (Chinese, English) header and unit; every table on the page uses these.
COLUMNS: dict[str, tuple[str, str, str]] = {
    "label": ("设施类型", "Facility kind", ""),
    "kind_label": ("类型", "Kind", ""),
    "rank": ("排名", "Rank", "#"),
    "code": ("编码", "Code", ""),
    "name": ("名称", "Name", ""),
    "radius_m": ("服务半径", "Radius", "m"),
    "facilities": ("设施数", "Facilities", "个"),
    "residents": ("常住人口", "Residents", "人"),
    "residents_total": ("常住人口", "Residents", "人"),
    "residents_covered": ("已覆盖", "Covered", "人"),
    "residents_uncovered": ("未覆盖", "Not covered", "人"),
    "share_pct": ("覆盖率", "Share covered", "%"),
    "target_pct": ("目标", "Target", "%"),
    "status": ("状态", "Status", ""),
    "cell_id": ("单元", "Cell", ""),
    "points": ("人口点", "Population points", "#"),
    "lon": ("经度", "Longitude", "°"),
    "lat": ("纬度", "Latitude", "°"),
    "shelter_id": ("编号", "ID", ""),
    "shelter_class": ("类别", "Class", ""),
    "capacity": ("容量", "Capacity", "人"),
    "load": ("就近分配", "Nearest load", "人"),
    "spare": ("剩余容量", "Spare", "人"),
    "overloaded": ("超载", "Overloaded", ""),
    "load_constrained": ("最优安置", "Constrained load", "人"),
    "utilisation_pct": ("负荷率", "Utilisation", "%"),
    "residents_unplaced": ("无法安置", "Not placed", "人"),
    "residents_out_of_reach": ("半径外", "Out of reach", "人"),
    "residents_over_capacity": ("容量不足", "Shelters full", "人"),
    "shelters": ("场所数", "Shelters", "个"),
    "places": ("避难容量", "Places", "人"),
    "effective_area_m2": ("有效面积", "Effective area", "m²"),
    "places_per_resident": ("人均容量", "Places per resident", "ratio"),
    "area_per_resident_m2": ("人均有效面积", "Area per resident", "m²/人"),
    "target_places_per_resident": ("容量目标", "Places target", "ratio"),
    "target_area_per_resident_m2": ("面积目标", "Area target", "m²/人"),
    "meets_places": ("容量达标", "Places met", ""),
    "meets_area": ("面积达标", "Area met", ""),
    "village_code": ("村编码", "Village code", ""),
    "township": ("乡镇", "Township", ""),
    "county": ("区县", "County", ""),
    "households": ("户数", "Households", "户"),
    "sanitary_toilet_households": ("卫生厕所户数", "Sanitary toilets", "户"),
    "toilet_pct": ("卫生厕所普及率", "Toilet penetration", "%"),
    "garbage_point_distance_m": ("最近垃圾收集点", "Nearest garbage point", "m"),
    "has_garbage_collection": ("垃圾收运", "Garbage collected", ""),
    "has_sewage_treatment": ("污水处理", "Sewage treated", ""),
    "shortfalls": ("不足", "Shortfalls", ""),
    "villages": ("行政村", "Villages", "个"),
    "villages_meeting_toilet": ("厕所达标村", "Villages meeting toilet target", "个"),
    "villages_with_garbage": ("垃圾收运村", "Villages with garbage collection", "个"),
    "villages_with_sewage": ("污水治理村", "Villages with sewage treatment", "个"),
    "villages_below_target": ("未达标村", "Villages below target", "个"),
    "toilet_penetration_pct": ("卫生厕所普及率", "Toilet penetration", "%"),
    "share_meeting_toilet_pct": ("厕所达标村占比", "Share meeting toilet target", "%"),
    "share_with_garbage_pct": ("垃圾收运村占比", "Share with garbage collection", "%"),
    "share_with_sewage_pct": ("污水治理村占比", "Share with sewage treatment", "%"),
    "meets_toilet_target": ("普及率达标", "Toilet target met", ""),
    "meets_garbage_target": ("垃圾收运达标", "Garbage target met", ""),
    "meets_sewage_target": ("污水治理达标", "Sewage target met", ""),
    "check": ("检查项", "Check", ""),
    "grid_code": ("网格编码", "Grid code", ""),
    "grid_codes": ("涉及网格", "Grids involved", ""),
    "community_code": ("社区编码", "Community code", ""),
    "detail": ("说明", "Detail", ""),
    "value": ("数值", "Value", ""),
    "problems": ("问题数", "Problems", "个"),
    "proposal_id": ("编号", "ID", ""),
    "newly_covered": ("新增覆盖", "Newly covered", "人"),
    "cumulative_covered": ("累计覆盖", "Cumulative", "人"),
    "cumulative_pct": ("占未覆盖人口", "Share of uncovered", "%"),
    "facilities_before": ("现状设施", "Facilities before", "个"),
    "facilities_after": ("增加后设施", "Facilities after", "个"),
    "covered_before": ("现状覆盖", "Covered before", "人"),
    "covered_after": ("增加后覆盖", "Covered after", "人"),
    "share_before_pct": ("现状覆盖率", "Share before", "%"),
    "share_after_pct": ("增加后覆盖率", "Share after", "%"),
    "group": ("类别", "Group", ""),
    "shelters_before": ("现状场所", "Shelters before", "个"),
    "shelters_after": ("增加后场所", "Shelters after", "个"),
    "capacity_before": ("现状容量", "Capacity before", "人"),
    "capacity_after": ("增加后容量", "Capacity after", "人"),
    "overloaded_before": ("现状超载场所", "Overloaded before", "个"),
    "overloaded_after": ("增加后超载场所", "Overloaded after", "个"),
    "over_capacity_before": ("现状超出容量", "Over capacity before", "人"),
    "over_capacity_after": ("增加后超出容量", "Over capacity after", "人"),
    "placed_before": ("现状可安置", "Placed before", "人"),
    "placed_after": ("增加后可安置", "Placed after", "人"),
    "newly_placed": ("新增可安置", "Newly placed", "人"),
}
FORMATS = {
    "m": "%.0f m",
    "%": "%.1f%%",
    "°": "%.5f",
    "#": "%d",
    "m²": "%.0f m²",
    "ratio": "%.3f",
    "m²/人": "%.2f m²",
}
COUNT_UNITS = ("人", "个", "户")  # counts: unit in the header, thousands separators in the cells
COUNT_UNITS_EN = {"人": "persons", "个": "count", "户": "households"}


def column_config(frame: pd.DataFrame) -> dict[str, object]:
    """Headers (Chinese or English) and number formats with units for the known columns."""
    out: dict[str, object] = {}
    for col in frame.columns:
        spec = COLUMNS.get(col)
        if spec is None:
            continue
        zh, en, unit = spec
        if unit in COUNT_UNITS:
            word = COUNT_UNITS_EN[unit]
            header = (
                f"{zh}（{unit}）"
                if lang() == "zh"
                else (en if word.rstrip("s") in en.lower() else f"{en} ({word})")
            )
            out[col] = st.column_config.NumberColumn(header, format="localized")
        elif unit:
            out[col] = st.column_config.NumberColumn(tr(zh, en), format=FORMATS[unit])
        else:
            out[col] = st.column_config.Column(tr(zh, en))
    return out


def table(
    frame: pd.DataFrame, key: str, *, csv: str | None = None, rows: int | None = None
) -> None:
    """Show `frame` with localized headers and units; optional CSV download of all rows."""
    frame = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    st.dataframe(
        frame if rows is None else frame.head(rows),
        hide_index=True,
        width="stretch",
        column_config=column_config(frame),
        key=key,
    )
    if csv:
        data = frame.to_csv(index=False).encode("utf-8-sig")  # BOM: spreadsheets read Chinese
        st.download_button(
            tr("下载 CSV", "Download CSV"), data, file_name=csv, mime="text/csv", key=f"{key}_csv"
        )


def persons(value: float) -> str:
    return tr(f"{value:,.0f} 人", f"{value:,.0f}")


def coverage_table(analysis: GapAnalysis) -> pd.DataFrame:
    """City coverage per kind (the numbers of ``cli.py gaps --json``), targets and status."""
    profile = analysis.profile
    rows = []
    for kind, res in analysis.coverage.items():
        target = TARGET_OF_KIND.get(kind)
        rows.append(
            {
                "kind": kind,
                "label": kind_label(kind),
                "radius_m": res.radius_m,
                "facilities": res.facilities,
                "residents_total": res.residents_total,
                "residents_covered": res.residents_covered,
                "residents_uncovered": res.residents_uncovered,
                "share_pct": res.share * 100 if np.isfinite(res.share) else np.nan,
                "target_pct": getattr(profile.targets, target) * 100 if target else np.nan,
                "indicator": target,
            }
        )
    out = pd.DataFrame(rows)
    has = out["indicator"].notna()
    state = pd.Series("", index=out.index, dtype=object)
    if has.any():
        codes = statuses(
            out.loc[has, "share_pct"] / 100,
            out.loc[has, "target_pct"] / 100,
            out.loc[has, "indicator"],
            profile,
        )
        state[has] = codes.map(lambda c: _pair(STATUS_LABELS[c])).to_numpy()
    out["status"] = state
    return out.drop(columns="indicator")


def show_coverage(analysis: GapAnalysis) -> None:
    st.subheader(tr("全市覆盖情况", "City coverage"))
    cov = coverage_table(analysis)
    table(cov.drop(columns="kind"), "gaps_coverage_table", csv="coverage.csv")
    st.caption(
        tr(
            f"直线距离 × 绕行系数 {analysis.profile.radii.detour_factor:g} ≤ 服务半径即为覆盖（恰在半径上也算覆盖）。",
            f"Covered: straight-line distance × detour factor {analysis.profile.radii.detour_factor:g} ≤ radius (exactly on the radius counts).",
        )
    )
    st.subheader(tr("按区域汇总：未覆盖人口最多的区域", "By area: most uncovered residents first"))
    c1, c2, c3 = st.columns([2, 2, 1])
    kind = c1.selectbox(
        tr("设施类型", "Facility kind"), KINDS, format_func=kind_label, key=ROLLUP_KIND
    )
    level = c2.radio(
        tr("汇总层级", "Level"),
        list(LEVELS)[::-1],
        format_func=lambda v: _pair(LEVEL_LABELS[v]),
        horizontal=True,
        key=ROLLUP_LEVEL,
    )
    top = int(c3.number_input(tr("显示前 N 名", "Show top N"), 5, 500, 20, step=5, key=ROLLUP_TOP))
    by = analysis.coverage[kind].by_level.get(level, pd.DataFrame())
    if by.empty:
        st.info(tr("没有该层级的区域数据。", "No areas at this level."))
    else:
        ranked = by.sort_values(
            ["residents_uncovered", "share_covered"], ascending=[False, True], kind="stable"
        ).reset_index()
        ranked = ranked.rename(columns={f"{level}_code": "code"})
        ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
        ranked["share_pct"] = ranked.pop("share_covered") * 100
        table(ranked, "gaps_rollup_table", csv=f"coverage_{kind}_{level}.csv", rows=top)

    st.subheader(tr("缺口热点（约 250 m 单元）", "Gap hot spots (cells of about 250 m)"))
    cells = analysis.gap_cells[kind]
    if cells.empty:
        st.success(tr("该类设施已覆盖全部常住人口。", "Every resident is covered for this kind."))
        return
    centres = cells.geometry.centroid.to_crs(WGS84)
    hot = pd.DataFrame(
        {
            "cell_id": cells["cell_id"].to_numpy(),
            "residents_uncovered": cells["residents_uncovered"].to_numpy(),
            "points": cells["points"].to_numpy(),
            "lon": centres.x.round(5).to_numpy(),
            "lat": centres.y.round(5).to_numpy(),
        }
    )
    table(hot, "gaps_cells_table", csv=f"gap_cells_{kind}.csv", rows=top)


def show_capacity(analysis: GapAnalysis) -> None:
    cap = analysis.capacity
    group = st.radio(
        tr("避难场所类别", "Shelter group"),
        list(SHELTER_GROUPS),
        format_func=lambda g: _pair(GROUP_LABELS[g]),
        horizontal=True,
        key=CAP_GROUP,
    )
    g = cap.groups[group]
    near, best = g.nearest.summary(), g.constrained.summary()
    st.caption(
        tr(
            f"服务半径 {g.radius_m:,.0f} m。容量 = 容纳人数；未填写时 = 有效面积 ÷ 人均有效避难面积。",
            f"Radius {g.radius_m:,.0f} m. Capacity = the capacity field, or effective area ÷ area per person.",
        )
    )
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**" + tr("视图一：就近分配", "View 1: nearest assignment") + "**")
        st.metric(tr("场所容量合计", "Total capacity"), persons(near["capacity"]))
        st.metric(
            tr("超载场所", "Overloaded shelters"),
            f"{near['overloaded_shelters']:,} / {near['shelters']:,}",
        )
        st.metric(
            tr("超出容量的居民", "Residents over capacity"),
            persons(near["residents_over_capacity"]),
        )
        st.metric(
            tr("半径内无场所的居民", "Residents with no shelter in reach"),
            persons(near["residents_unassigned"]),
        )
    with c2:
        st.markdown(
            "**"
            + tr(
                "视图二：容量约束下的最优安置（最大流，精确）",
                "View 2: capacity-constrained allocation (max flow, exact)",
            )
            + "**"
        )
        st.metric(tr("可安置居民", "Residents placed"), persons(best["residents_placed"]))
        st.metric(tr("无法安置的居民", "Residents not placed"), persons(best["residents_unplaced"]))
        st.metric(
            tr("其中容量不足", "of which: shelters full"), persons(best["residents_over_capacity"])
        )
    loads = g.nearest.loads.copy()
    loads["load_constrained"] = g.constrained.loads["load"].to_numpy()
    loads["utilisation_pct"] = loads.pop("utilisation").replace(np.inf, np.nan) * 100
    if "shelter_class" in loads.columns:
        loads["shelter_class"] = loads["shelter_class"].map(
            lambda c: _pair(CLASS_LABELS.get(c, (c, c)))
        )
    st.markdown(
        "**" + tr("各场所负荷（超载在前）", "Load of each shelter (overloaded first)") + "**"
    )
    table(
        loads.sort_values("spare", kind="stable"),
        "gaps_loads_table",
        csv=f"shelter_loads_{group}.csv",
    )
    cells = g.constrained.unplaced_cells
    if len(cells):
        st.markdown(
            "**" + tr("无法安置的居民在哪里", "Where residents who cannot be placed live") + "**"
        )
        table(pd.DataFrame(cells), "gaps_unplaced_table", csv=f"unplaced_{group}.csv", rows=50)
    st.markdown(
        "**"
        + tr(
            "人均避难容量与有效面积（固定与中心避难场所）",
            "Places and effective area per resident (fixed and central shelters)",
        )
        + "**"
    )
    for level, supply in cap.supply.items():
        st.caption(_pair(LEVEL_LABELS[level]))
        shown = supply.reset_index().rename(columns={f"{level}_code": "code"})
        table(shown, f"gaps_supply_{level}", csv=f"shelter_supply_{level}.csv")


def show_sanitation(analysis: GapAnalysis) -> None:
    san = analysis.sanitation
    s = san.summary()
    if not s["villages"]:
        st.info(tr("没有行政村数据。", "No village data."))
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(tr("行政村", "Villages"), f"{s['villages']:,}")
    c2.metric(tr("未达标村", "Villages below target"), f"{s['villages_below_target']:,}")
    c3.metric(
        tr("卫生厕所普及率", "Sanitary-toilet penetration"),
        f"{(s['toilet_penetration'] or 0) * 100:.1f}%",
    )
    c4.metric(
        tr("有垃圾收运的村", "Villages with garbage collection"),
        f"{(s['share_with_garbage'] or 0) * 100:.1f}%",
    )
    villages = pd.DataFrame(san.below_target)
    villages["toilet_pct"] = villages["toilet_penetration"] * 100
    keep = [c for c in COLUMNS if c in villages.columns and c not in ("code",)]
    st.markdown("**" + tr("未达标的行政村", "Villages below target") + "**")
    table(villages[keep], "gaps_villages_table", csv="villages_below_target.csv")
    for title, roll, key in (
        (tr("按乡镇", "By township"), san.township, "township"),
        (tr("按区县", "By county"), san.county, "county"),
    ):
        st.markdown(f"**{title}**")
        shown = roll.reset_index()
        for col in (
            "toilet_penetration",
            "share_meeting_toilet",
            "share_with_garbage",
            "share_with_sewage",
        ):
            shown[f"{col}_pct"] = shown.pop(col) * 100
        table(shown, f"gaps_san_{key}", csv=f"sanitation_{key}.csv")


def show_grid_checks(analysis: GapAnalysis) -> None:
    result = analysis.grid_checks
    s = result.summary()
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("网格", "Grids"), f"{s['grids']:,}")
    c2.metric(tr("问题", "Problems"), f"{s['problems']:,}")
    c3.metric(tr("重叠面积", "Overlap area"), f"{s['overlap_area_m2']:,.0f} m²")
    counts = pd.DataFrame(
        {
            "check": [_pair(v) for v in CHECKS.values()],
            "problems": [s["by_check"][k] for k in CHECKS],
        }
    )
    table(counts, "gaps_check_counts")
    problems = pd.DataFrame(result.problems)
    problems["check"] = problems["check"].map(lambda c: _pair(CHECKS.get(c, (c, c))))
    table(problems, "gaps_problems_table", csv="grid_problems.csv")


# ------------------------------------------------------------------ map
def _proposal_frame() -> gpd.GeoDataFrame:
    rows = st.session_state.get(PROPOSALS, [])
    columns = ["lon", "lat", "kind", "name", "shelter_class", "effective_area_m2", "capacity"]
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=WGS84
    )


def _cell_symbols(cells: gpd.GeoDataFrame) -> tuple[pd.Series, dict]:
    """Quantile classes of uncovered residents per cell, with legend labels in persons."""
    classes, bins = dp.classify(cells["residents_uncovered"], k=5)
    palette = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"][-max(len(bins), 1) :]
    labels = dp.class_labels(bins, float(cells["residents_uncovered"].min())) if bins else []
    unit = tr(" 人", " residents")
    symbols = {
        str(i): {"fillColor": palette[i], "color": palette[i], "label": labels[i] + unit}
        for i in range(len(bins))
    }
    return classes.astype(str), symbols


def _name(zh: str, en: str) -> dict[str, str]:
    return {"name": tr(zh, en)}


def _view(
    frame: gpd.GeoDataFrame, width_px: int = 900
) -> tuple[tuple[float, float] | None, int | None]:
    """Centre (lat, lon) and zoom showing `frame` in a map about `width_px` wide.

    Computed here rather than with Leaflet's fitBounds, which gives zoom 0 when the map is
    drawn inside a tab that is not visible yet.
    """
    if frame.empty:
        return None, None
    minx, miny, maxx, maxy = frame.to_crs(WGS84).total_bounds
    span = max(maxx - minx, (maxy - miny) * 1.2, 1e-4)
    zoom = int(np.clip(np.floor(np.log2(360.0 * width_px / 256.0 / span)), 3, 17))
    return ((miny + maxy) / 2, (minx + maxx) / 2), zoom


def gap_map(
    analysis: GapAnalysis, kind: str, basemap: str, *, full: bool = True, sites: bool = False
):
    """The gap map of `kind`: hot-spot cells, facilities, proposals and (when `full`) uncovered
    points, overloaded shelters, unplaced residents, villages below target, grid problems and
    suggested sites."""
    cells = analysis.gap_cells[kind]
    location, zoom = _view(cells if len(cells) else analysis.population)
    m = render.base_map(
        da.profile(), basemap, lang=lang(), view_counter=False, location=location, zoom=zoom
    )
    districts = da.display_layer("districts")
    if len(districts):
        render.add_layer(m, "districts", districts, lang=lang())
    if len(cells):
        category, symbols = _cell_symbols(cells)
        render.add_polygons(
            m,
            cells,
            key="gap_cells",
            category=category,
            symbols=symbols,
            canvas=True,
            name=tr("缺口热点（未覆盖人口）", "Gap hot spots (uncovered residents)"),
            fields={
                "residents_uncovered": tr("未覆盖人口（人）", "Uncovered residents"),
                "points": tr("人口点", "Points"),
            },
            tooltip=["residents_uncovered"],
            style={"weight": 0.5, "fillOpacity": 0.6},
        )
    uncovered = analysis.uncovered_points(kind) if full else None
    if uncovered is not None and 0 < len(uncovered) <= POINT_LIMIT:
        render.add_points(
            m,
            uncovered,
            key="uncovered_points",
            stat=None,
            name=tr("未覆盖人口点", "Uncovered population points"),
            fields={
                "residents": tr("常住人口（人）", "Residents"),
                "distance_m": tr("最近设施（m）", "Nearest facility (m)"),
            },
            style={"radius": 3, "color": "#6d4c41", "fillColor": "#8d6e63"},
        )
    facilities = select_facilities(analysis.layers, kind)
    if len(facilities):
        render.add_points(
            m,
            facilities,
            name=kind_label(kind),
            key="facilities",
            fields=_name("名称", "Name"),
            tooltip=["name"],
            style={"radius": 7, "color": "#1b5e20", "fillColor": "#43a047"},
        )
    if full:
        _problem_layers(m, analysis, kind)
    props = _proposal_frame()
    props = props if full else props[props["kind"] == kind]
    if len(props):
        render.add_points(
            m,
            props,
            name=tr("拟建设施", "Proposed facilities"),
            key="proposals",
            fields=_name("名称", "Name"),
            tooltip=["name"],
            style={"radius": 9, "color": "#0d47a1", "fillColor": "#42a5f5"},
        )
    if full or sites:
        _suggested_layer(m)
    return render.finish(m)


def _problem_layers(m, analysis: GapAnalysis, kind: str) -> None:
    """Overloaded shelters, unplaced-resident cells, villages below target and grid problems
    (all but the first start hidden; the layer control shows them)."""
    group = next((g for g, k in SHELTER_GROUPS.items() if k == kind), None)
    over = analysis.capacity.overloaded()
    if group is not None and len(over):
        over = over[(over["group"] == group).to_numpy()]
    if len(over):
        render.add_points(
            m,
            over,
            name=tr("超载避难场所", "Overloaded shelters"),
            key="overloaded",
            show=group is not None,
            fields={
                "name": tr("名称", "Name"),
                "capacity": tr("容量（人）", "Capacity"),
                "load": tr("就近分配（人）", "Nearest load"),
                "excess": tr("超出（人）", "Over by"),
            },
            tooltip=["name", "excess"],
            style={"radius": 9, "color": "#b71c1c", "fillColor": "#e53935"},
        )
    group = group or "fixed"
    unplaced = analysis.capacity.groups[group].constrained.unplaced_cells
    if len(unplaced):
        render.add_polygons(
            m,
            unplaced,
            key="unplaced",
            show=False,
            canvas=True,
            name=tr(
                f"无法安置的居民（{_pair(GROUP_LABELS[group])}）",
                f"Residents not placed ({_pair(GROUP_LABELS[group])})",
            ),
            fields={"residents_unplaced": tr("无法安置（人）", "Not placed")},
            tooltip=["residents_unplaced"],
            style={"color": "#4a148c", "fillColor": "#7b1fa2", "weight": 0.5, "fillOpacity": 0.45},
        )
    below = analysis.sanitation.below_target
    if len(below):
        render.add_points(
            m,
            below,
            name=tr("未达标行政村", "Villages below target"),
            key="villages_below",
            show=False,
            fields={"name": tr("村名", "Name"), "shortfalls": tr("不足", "Shortfalls")},
            tooltip=["name"],
            style={"radius": 6, "color": "#e65100", "fillColor": "#fb8c00"},
        )
    problems = analysis.grid_checks.problems
    problems = problems[problems.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()]
    if len(problems):
        shown = problems.assign(
            check_label=problems["check"].map(lambda c: _pair(CHECKS.get(c, (c, c))))
        )
        render.add_polygons(
            m,
            shown,
            name=tr("网格问题", "Grid problems"),
            key="grid_problems",
            show=False,
            fields={
                "check_label": tr("检查项", "Check"),
                "grid_codes": tr("网格", "Grids"),
                "detail": tr("说明", "Detail"),
            },
            tooltip=["check_label"],
            style={"color": "#f57f17", "weight": 2, "fillOpacity": 0.15},
        )


def _suggested_layer(m) -> None:
    """The sites of the last suggestion, if any."""
    asked = st.session_state.get(S_RESULT) or {}
    sites = asked.get("sites")
    if sites is not None and len(sites):
        render.add_points(
            m,
            sites,
            name=tr("建议选址", "Suggested sites"),
            key="suggested",
            fields={
                "rank": tr("序号", "Rank"),
                "newly_covered": tr("新增覆盖（人）", "Newly covered"),
            },
            tooltip=["rank", "newly_covered"],
            style={"radius": 10, "color": "#311b92", "fillColor": "#b39ddb"},
        )


@st.fragment
def show_map(analysis: GapAnalysis, basemap: str) -> None:
    kind = st.selectbox(
        tr("设施类型", "Facility kind"), KINDS, format_func=kind_label, key=MAP_KIND
    )
    m = gap_map(analysis, kind, basemap)
    st.session_state[MAP_SUMMARY] = render.summary(m)
    if len(analysis.uncovered_points(kind)) > POINT_LIMIT:
        st.caption(
            tr(
                f"未覆盖人口点超过 {POINT_LIMIT:,} 个，以热点单元显示。",
                f"More than {POINT_LIMIT:,} uncovered points: shown as hot-spot cells.",
            )
        )
    st_folium(m, key=MAP, height=620, use_container_width=True, returned_objects=[])


# ------------------------------------------------------------------ what-if
def _add_proposal(
    lon: float,
    lat: float,
    kind: str,
    name: str,
    shelter_class: str | None,
    area: float,
    capacity: int,
) -> None:
    rows = list(st.session_state.get(PROPOSALS, []))
    rows.append(
        {
            "lon": round(float(lon), 6),
            "lat": round(float(lat), 6),
            "kind": kind,
            "name": name or f"{tr('拟建', 'Proposed')} {len(rows) + 1}",
            "shelter_class": shelter_class,
            "effective_area_m2": float(area) if area else None,
            "capacity": int(capacity) if capacity else None,
        }
    )
    st.session_state[PROPOSALS] = rows


def _proposal_inputs() -> tuple[str, str | None, str, float, int]:
    c1, c2 = st.columns(2)
    kind = c1.selectbox(tr("设施类型", "Facility kind"), KINDS, format_func=kind_label, key=P_KIND)
    name = c2.text_input(tr("名称（可选）", "Name (optional)"), key=P_NAME)
    if FACILITY_KINDS[kind].layer != "shelters":
        return kind, None, name, 0.0, 0
    values = list(FACILITY_KINDS[kind].values)
    c3, c4, c5 = st.columns(3)
    shelter_class = (
        c3.selectbox(
            tr("避难场所类别", "Shelter class"),
            values,
            format_func=lambda v: _pair(CLASS_LABELS[v]),
            key=P_CLASS,
        )
        if len(values) > 1
        else values[0]
    )
    area = c4.number_input(
        tr("有效面积 (m²)", "Effective area (m²)"), 0.0, 1e7, 5000.0, step=500.0, key=P_AREA
    )
    cap = c5.number_input(
        tr("容纳人数（可选，人）", "Capacity (optional, persons)"),
        0,
        10_000_000,
        0,
        step=100,
        key=P_CAP,
    )
    return kind, shelter_class, name, area, cap


def _add_from_inputs(analysis: GapAnalysis, basemap: str) -> None:
    """Proposal inputs: map click, typed coordinates, uploaded file."""
    kind, shelter_class, name, area, cap = _proposal_inputs()
    click_on = st.toggle(
        tr("点击地图添加拟建设施", "Click on the map to add a proposed facility"), key=P_CLICK
    )
    m = gap_map(analysis, kind, basemap, full=False)
    out = st_folium(
        m, key=WHATIF_MAP, height=460, use_container_width=True, returned_objects=["last_clicked"]
    )
    clicked = (out or {}).get("last_clicked")
    if click_on and clicked and clicked != st.session_state.get(P_LAST_CLICK):
        st.session_state[P_LAST_CLICK] = clicked
        lon, lat = float(clicked["lng"]), float(clicked["lat"])
        if render.BASEMAPS.get(basemap, render.BASEMAPS["none"]).offsets == "gcj02":
            lon, lat = (float(v) for v in gcj02_to_wgs84(lon, lat))  # clicks on Gaode tiles
        _add_proposal(lon, lat, kind, name, shelter_class, area, cap)
        st.rerun(scope="fragment")
    city = da.profile().city
    c1, c2, c3 = st.columns(3)
    lon = c1.number_input(
        tr("经度", "Longitude"),
        -180.0,
        180.0,
        float(city.center_lon),
        step=0.001,
        format="%.5f",
        key=P_LON,
    )
    lat = c2.number_input(
        tr("纬度", "Latitude"),
        -90.0,
        90.0,
        float(city.center_lat),
        step=0.001,
        format="%.5f",
        key=P_LAT,
    )
    datum = c3.selectbox(
        tr("坐标系", "Datum"), list(DATUMS), format_func=lambda d: _pair(DATUMS[d]), key=P_DATUM
    )
    b1, b2 = st.columns(2)
    if b1.button(tr("按坐标添加", "Add at these coordinates"), key=P_ADD):
        if datum != "wgs84":
            point = read_point_file(f"lon,lat\n{lon},{lat}\n".encode(), "typed.csv", offsets=datum)
            lon, lat = float(point.geometry.x.iloc[0]), float(point.geometry.y.iloc[0])
        _add_proposal(lon, lat, kind, name, shelter_class, area, cap)
    if b2.button(tr("清空拟建设施", "Clear proposals"), key=P_CLEAR):
        st.session_state[PROPOSALS] = []
    upload = st.file_uploader(
        tr(
            "上传拟建设施（CSV：经度、纬度、类型；或 GeoJSON）",
            "Upload proposals (CSV: lon, lat, kind; or GeoJSON)",
        ),
        type=["csv", "geojson", "json"],
        key=P_UPLOAD,
    )
    if upload is not None and st.session_state.get(f"{P_UPLOAD}_done") != upload.file_id:
        try:
            frame = read_point_file(upload.getvalue(), upload.name, offsets=datum)
        except WhatIfError as exc:
            st.error(str(exc))
            return
        st.session_state[f"{P_UPLOAD}_done"] = upload.file_id
        records = frame.drop(columns="geometry").to_dict("records")
        for row, geom in zip(records, frame.geometry, strict=True):
            _add_proposal(
                geom.x,
                geom.y,
                str(row.get("kind", kind)),
                str(row.get("name") or ""),
                row.get("shelter_class"),
                row.get("effective_area_m2") or 0,
                row.get("capacity") or 0,
            )


def _remove() -> None:
    """Drop the proposals picked in the multiselect (read at click time, not render time)."""
    drop = set(st.session_state.get(P_REMOVE, []))
    rows = st.session_state.get(PROPOSALS, [])
    st.session_state[PROPOSALS] = [r for i, r in enumerate(rows) if i not in drop]
    st.session_state[P_REMOVE] = []


@st.fragment
def show_whatif(analysis: GapAnalysis, basemap: str) -> None:
    st.caption(
        tr(
            "在地图上点击、输入坐标或上传文件添加拟建设施，重新计算覆盖与避难容量；不修改数据库。",
            "Add proposed facilities by clicking the map, typing coordinates or uploading a file; coverage and shelter capacity are recomputed. The store is not changed.",
        )
    )
    _add_from_inputs(analysis, basemap)
    props = _proposal_frame()
    if props.empty:
        st.info(tr("尚未添加拟建设施。", "No proposed facilities yet."))
        return
    labels = [f"P{i + 1} · {name}" for i, name in enumerate(props["name"])]
    r1, r2 = st.columns([3, 1])
    r1.multiselect(
        tr("移除拟建设施", "Remove proposals"),
        range(len(labels)),
        format_func=labels.__getitem__,
        placeholder=tr("选择要移除的拟建设施", "Choose proposals to remove"),
        key=P_REMOVE,
    )
    r2.button(tr("移除所选", "Remove selected"), key=f"{P_REMOVE}_go", on_click=_remove)
    try:
        result = apply_proposals(
            analysis.layers,
            props,
            analysis.profile,
            before=analysis.coverage,
            capacity_before=analysis.capacity,
        )
    except WhatIfError as exc:
        st.error(str(exc))
        return
    shown = pd.DataFrame(result.proposals.drop(columns="geometry"))
    shown["lon"], shown["lat"] = props["lon"].to_numpy(), props["lat"].to_numpy()
    shown["kind_label"] = shown["facility_kind"].map(kind_label)
    st.markdown(
        "**"
        + tr("拟建设施及各自新增覆盖", "Proposed facilities and the residents each newly covers")
        + "**"
    )
    table(
        shown[["proposal_id", "name", "kind_label", "lon", "lat", "newly_covered"]],
        "gaps_proposals_table",
    )
    change = result.change().reset_index()
    change["label"] = change.pop("kind").map(kind_label)
    change["share_before_pct"] = change.pop("share_before") * 100
    change["share_after_pct"] = change.pop("share_after") * 100
    st.markdown("**" + tr("覆盖变化", "Change in coverage") + "**")
    table(
        change[["label", *[c for c in change.columns if c != "label"]]],
        "gaps_whatif_change",
        csv="whatif_change.csv",
    )
    c1, c2 = st.columns(2)
    wkind = c1.selectbox(
        tr("按区域查看", "By area for"), result.kinds, format_func=kind_label, key=f"{P_LEVEL}_kind"
    )
    level = c2.radio(
        tr("层级", "Level"),
        list(LEVELS)[::-1],
        format_func=lambda v: _pair(LEVEL_LABELS[v]),
        horizontal=True,
        key=P_LEVEL,
    )
    by = result.by_area(wkind, level)
    if not by.empty:
        by = by[by["newly_covered"] > 0].reset_index().rename(columns={f"{level}_code": "code"})
        by["share_before_pct"] = by.pop("share_before") * 100
        by["share_after_pct"] = by.pop("share_after") * 100
        table(by, "gaps_whatif_by_area", csv=f"whatif_{wkind}_{level}.csv")
    cap = result.capacity_change()
    if not cap.empty:
        st.markdown("**" + tr("避难容量变化", "Change in shelter capacity") + "**")
        cap = cap.reset_index()
        cap["group"] = cap["group"].map(lambda g: _pair(GROUP_LABELS[g]))
        table(cap, "gaps_whatif_capacity", csv="whatif_capacity.csv")


# ------------------------------------------------------------------ site suggestion
METHOD_LABELS = {
    "auto": ("自动（规模小则精确求解）", "Automatic (exact when small enough)"),
    "exact": ("精确（HiGHS 混合整数规划）", "Exact (HiGHS MILP)"),
    "greedy": ("贪心算法（附最优性界）", "Greedy (with a bound)"),
}


def _siting_inputs(analysis: GapAnalysis) -> tuple | None:
    c1, c2, c3 = st.columns([2, 1, 2])
    kind = c1.selectbox(tr("设施类型", "Facility kind"), KINDS, format_func=kind_label, key=S_KIND)
    k = int(c2.number_input(tr("新址数 k", "Number of sites k"), 1, 100, 5, key=S_K))
    method = c3.selectbox(
        tr("求解方法", "Method"),
        list(METHOD_LABELS),
        format_func=lambda v: _pair(METHOD_LABELS[v]),
        key=S_METHOD,
    )
    source = st.radio(
        tr("候选点", "Candidates"),
        ["generated", "upload"],
        horizontal=True,
        key=S_SOURCE,
        format_func=lambda v: (
            tr("自动生成（未覆盖单元中心）", "Generated (centres of uncovered cells)")
            if v == "generated"
            else tr("上传（CSV 经度/纬度，或 GeoJSON）", "Uploaded (CSV lon/lat, or GeoJSON)")
        ),
    )
    upload, upload_name, datum = None, "", "wgs84"
    if source == "upload":
        u1, u2 = st.columns([3, 1])
        file = u1.file_uploader(
            tr("候选点文件", "Candidate file"), type=["csv", "geojson", "json"], key=S_UPLOAD
        )
        datum = u2.selectbox(
            tr("坐标系", "Datum"), list(DATUMS), format_func=lambda d: _pair(DATUMS[d]), key=S_DATUM
        )
        if file is None:
            st.info(tr("请上传候选点文件。", "Upload a candidate file."))
            return None
        upload, upload_name = file.getvalue(), file.name
    radius = radius_for(kind, analysis.profile)
    detour = float(analysis.profile.radii.detour_factor)
    return kind, radius, detour, k, method, upload, upload_name, datum


def _bound_text(result: SiteSuggestion) -> str:
    """How far the result can be from the optimum: the guarantee and the data-dependent bound."""
    lp, g = result.lp_bound, (result.guarantee or 0) * 100
    who = (
        tr("贪心结果", "The greedy result")
        if result.method == "greedy"
        else tr(
            "达到时间上限，当前最好方案（不差于贪心）",
            "Time limit reached; the best solution so far (no worse than greedy)",
        )
    )
    return tr(
        f"{who}至少达到最优值的 {g:.1f}%（理论保证 1−(1−1/k)^k ≥ 1−1/e ≈ 63.2%）；"
        f"按本数据算出的上界（在线界 {result.online_bound or 0:,.0f} 人"
        + (f"，线性松弛 {lp:,.0f} 人" if lp is not None else "")
        + f"）证明它与最优相差不超过 {result.gap * 100:.2f}%。",
        f"{who} reaches at least {g:.1f}% of the optimum (guarantee 1-(1-1/k)^k >= 1-1/e ≈ 63.2%); "
        f"the bound from this data (online bound {result.online_bound or 0:,.0f}"
        + (f", LP relaxation {lp:,.0f}" if lp is not None else "")
        + f") proves it is at most {result.gap * 100:.2f}% below the optimum.",
    )


def show_siting(analysis: GapAnalysis, path: str, version: str, basemap: str) -> None:
    st.caption(
        tr(
            "最大覆盖选址：选 k 个新址，使当前未覆盖的居民被覆盖最多（需求 = 约 250 m 单元内的未覆盖人口）。",
            "Maximal covering location: choose k new sites covering the most currently uncovered residents (demand = uncovered residents in cells of about 250 m).",
        )
    )
    args = _siting_inputs(analysis)
    if args is not None and st.button(
        tr("计算建议选址", "Suggest sites"), key=S_RUN, type="primary"
    ):
        st.session_state[S_RESULT] = {"args": args}
    asked = st.session_state.get(S_RESULT)
    if not asked:
        return
    kind, radius, *_ = asked["args"]
    try:
        with st.spinner(tr("求解中…", "Solving…")):
            result = suggestion(path, version, *asked["args"])
    except (SitingError, WhatIfError) as exc:
        st.error(str(exc))
        return
    sites = result.sites.to_crs(WGS84)
    asked["sites"] = sites[["rank", "newly_covered", "geometry"]]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        tr("求解方法", "Method used"),
        tr("精确 MILP", "Exact MILP") if result.method == "exact" else tr("贪心", "Greedy"),
        help=_pair(METHOD_LABELS[result.method]),
    )
    c2.metric(tr("新增覆盖", "Newly covered"), persons(result.covered))
    c3.metric(tr("最优值上界", "Upper bound on the optimum"), persons(result.upper_bound))
    c4.metric(tr("与最优的最大差距", "At most below the optimum"), f"{result.gap * 100:.2f}%")
    if result.proven_optimal:
        how = (
            tr("HiGHS 混合整数规划", "HiGHS MILP")
            if result.method == "exact"
            else tr("贪心结果等于上界", "the greedy result equals the upper bound")
        )
        st.success(
            tr(
                f"已证明最优：{how}（{kind_label(kind)}，半径 {radius:,.0f} m，求解 {result.solve_time_s:.2f} s）。",
                f"Proven optimal: {how} ({kind_label(kind)}, radius {radius:,.0f} m, solved in {result.solve_time_s:.2f} s).",
            )
        )
    else:
        st.info(_bound_text(result))
    for note in result.notes:
        st.caption(note)
    found = pd.DataFrame(
        {
            "rank": sites["rank"].to_numpy(),
            "lon": sites.geometry.x.round(5).to_numpy(),
            "lat": sites.geometry.y.round(5).to_numpy(),
            "newly_covered": sites["newly_covered"].round().astype(np.int64).to_numpy(),
            "cumulative_covered": sites["cumulative_covered"].round().astype(np.int64).to_numpy(),
            "cumulative_pct": (
                sites["cumulative_covered"] / max(result.total_demand, 1) * 100
            ).to_numpy(),
        }
    )
    table(found, "gaps_sites_table", csv=f"suggested_sites_{kind}.csv")
    st.caption(
        tr(
            f"未覆盖人口 {result.total_demand:,.0f} 人，其中 {result.reachable_demand:,.0f} 人在某个候选点半径内；"
            f"{result.n_demand:,} 个需求单元 × {result.n_candidates:,} 个候选点，半径内 {result.n_pairs:,} 对。",
            f"{result.total_demand:,.0f} uncovered residents, {result.reachable_demand:,.0f} within reach of a candidate; "
            f"{result.n_demand:,} demand cells x {result.n_candidates:,} candidates, {result.n_pairs:,} pairs within the radius.",
        )
        + tr(
            "选址时以单元中心计算距离；加入“假设分析”可按每个人口点精确重算新增覆盖。",
            " Sites are chosen with distances to cell centres; add them to the What-if to recount newly covered residents point by point.",
        )
    )
    site_map = gap_map(analysis, kind, basemap, full=False, sites=True)
    st_folium(site_map, key=S_MAP, height=460, use_container_width=True, returned_objects=[])
    if st.button(
        tr("将建议选址加入假设分析", "Add the suggested sites to the what-if"),
        key=S_TO_WHATIF,
        on_click=_add_sites,  # a callback runs before the page, so the What-if tab sees them
        args=(kind, found[["rank", "lon", "lat"]].to_numpy().tolist()),
    ):
        st.success(tr("已加入，请到“假设分析”查看。", "Added: see the What-if tab."))


def _add_sites(kind: str, rows: list[list[float]]) -> None:
    shelter_class = FIXED_CLASSES[0] if kind == "shelters_fixed" else None
    for rank, lon, lat in rows:
        _add_proposal(lon, lat, kind, f"{tr('建议', 'Suggested')} {int(rank)}", shelter_class, 0, 0)


# ------------------------------------------------------------------ page
def main() -> None:
    st.title(tr("服务缺口", "Service gaps"))
    install_assets()
    try:
        store = da.current_store()
        if not store.exists():
            raise StoreError("missing")
    except StoreError:
        st.info(
            tr(
                "还没有数据：请先导入数据或生成示例数据。",
                "No data yet: import data or generate the demo data first.",
            )
        )
        return
    demo_note()
    st.sidebar.subheader(tr("分析参数", "Parameters"))
    profile = parameter_controls(da.profile())
    basemap = basemap_select(st.sidebar)
    path, version = str(store.path), store.version()

    start = time.perf_counter()
    with st.status(tr("正在分析…", "Analysing…"), expanded=False) as status:
        bar = st.progress(0.0)
        analysis = run_analysis(
            path, version, profile, lambda share, text: bar.progress(min(share, 1.0), text=text)
        )
        took = time.perf_counter() - start
        status.update(
            label=tr(f"分析完成（{took:.1f} s）", f"Analysis done ({took:.1f} s)"),
            state="complete",
            expanded=False,
        )
    if analysis.population.empty:
        st.warning(
            tr(
                "没有人口点数据，无法计算覆盖。",
                "No population points: coverage cannot be computed.",
            )
        )

    names = [
        tr("覆盖", "Coverage"),
        tr("地图", "Map"),
        tr("避难容量", "Shelter capacity"),
        tr("农村人居环境", "Rural sanitation"),
        tr("网格检查", "Grid checks"),
        tr("假设分析", "What-if"),
        tr("选址建议", "Suggest sites"),
    ]
    tabs = st.tabs(names)
    with tabs[0]:
        show_coverage(analysis)
    with tabs[1]:
        show_map(analysis, basemap)
    with tabs[2]:
        show_capacity(analysis)
    with tabs[3]:
        show_sanitation(analysis)
    with tabs[4]:
        show_grid_checks(analysis)
    with tabs[5]:
        show_whatif(analysis, basemap)
    with tabs[6]:
        show_siting(analysis, path, version, basemap)


main()
