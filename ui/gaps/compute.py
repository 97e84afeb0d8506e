"""Cached parts of the gap analysis, each keyed by the store version and its own parameters.

Changing one radius recomputes one facility kind; nearest distances are never recomputed for a
radius change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import streamlit as st

from data.store import open_store
from geo import coverage as gc  # called as gc.<name>: a test counts calls by patching them
from geo.analysis import GapAnalysis, PreparedLayers, prepare
from geo.areas import LEVELS
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
    gap_cells,
    radius_for,
    select_facilities,
)
from geo.crs import to_metric
from geo.grid_qa import GridCheckResult, grid_checks
from geo.sanitation import SanitationResult, sanitation_all
from geo.settings import Profile
from geo.siting import SiteSuggestion, suggest_sites
from geo.whatif import read_point_file
from ui import data_access as da
from ui.gaps.labels import GROUP_LABELS, KINDS, kind_label, pair
from ui.i18n import tr


def _items(obj, names=None) -> tuple[tuple[str, float], ...]:
    """Settings of a profile section as a hashable cache key (all or `names`)."""
    values = dataclasses.asdict(obj)
    return tuple((k, values[k]) for k in (names or values))


def _with(base: Profile, **sections: tuple[tuple[str, float], ...]) -> Profile:
    """`base` with the settings of :func:`_items` keys applied."""
    return base.with_overrides(**{s: dict(v) for s, v in sections.items() if v})


@st.cache_resource(show_spinner=False, max_entries=2)
def prepared_layers(path: str, version: str) -> PreparedLayers:
    """Every layer of the store in the metric CRS, population and facilities located."""
    store = open_store(path)
    return prepare(store.read_layers(), da.profile())


@st.cache_resource(show_spinner=False, max_entries=32)
def kind_distance(path: str, version: str, kind: str) -> tuple[pd.Series, int]:
    """Distance from every population point to the nearest facility of `kind` (any radius)."""
    layers = prepared_layers(path, version)
    facilities = select_facilities(layers, kind)
    return gc.nearest_distance(layers["population"], facilities), len(facilities)


@st.cache_resource(show_spinner=False, max_entries=64)
def kind_coverage(
    path: str, version: str, kind: str, radius_m: float, detour: float
) -> CoverageResult:
    """Coverage and roll-ups of one kind (depends on its radius and the detour factor only)."""
    distance, count = kind_distance(path, version, kind)
    pop = prepared_layers(path, version)["population"]
    return gc.coverage_from_distance(
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
    """Uncovered residents of one kind summed into cells of the profile's ``gap_cell_m``."""
    pop = prepared_layers(path, version)["population"]
    covered = kind_coverage(path, version, kind, radius_m, detour).covered
    return gap_cells(pop, covered, cell_m=da.profile().analysis.gap_cell_m)


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
        {**layers, "shelters": only},
        profile,
        population=layers["population"],
        levels=(),
        cell_m=profile.analysis.gap_cell_m,
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
    limits = da.profile().analysis
    return suggest_sites(
        demand,
        candidates,
        k=k,
        radius_m=radius_m,
        detour_factor=detour,
        weight="residents_uncovered",
        method=method,
        time_limit_s=limits.siting_time_limit_s,
        max_exact_pairs=limits.siting_max_exact_pairs,
        max_lp_pairs=limits.siting_max_lp_pairs,
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
                f"避难容量：{pair(GROUP_LABELS[group])}",
                f"Shelter capacity: {pair(GROUP_LABELS[group])}",
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
