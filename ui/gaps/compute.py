"""Cached parts of the gap analysis, each keyed by the versions of the layers it reads and its
own parameters.

Changing one radius recomputes one facility kind; nearest distances are never recomputed for a
radius change. An import of one layer recomputes only the parts that read it (importing
shelters keeps the neighborhood-centre coverage, importing villages keeps everything but rural
sanitation): each part takes ``deps``, the (layer, version) pairs of :func:`deps`, as its cache
key, and the store's whole version as ``_version`` (not part of the key) to reach the prepared
layers when it does have to compute.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import streamlit as st

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
from ui.gaps.labels import GROUP_LABELS, kind_label, kinds, pair
from ui.i18n import tr
from ui.text import safe


def _items(obj, names=None) -> tuple[tuple[str, float], ...]:
    """Settings of a profile section as a hashable cache key (all or `names`)."""
    values = dataclasses.asdict(obj)
    return tuple((k, values[k]) for k in (names or values))


def _with(base: Profile, **sections: tuple[tuple[str, float], ...]) -> Profile:
    """`base` with the settings of :func:`_items` keys applied."""
    return base.with_overrides(**{s: dict(v) for s, v in sections.items() if v})


ADMIN = ("grids", "districts", "streets", "communities")
Deps = tuple[tuple[str, str], ...]


def deps(*layers: str) -> Deps:
    """(layer, version) of each of `layers` and of the admin areas results are rolled up to."""
    names = tuple(dict.fromkeys(layers))
    return tuple(zip(names, da.layer_versions(*names), strict=True))


def kind_deps(kind: str, mode: str = "straight") -> Deps:
    """What the coverage of `kind` reads: population, its facilities, the admin areas, and
    the roads when it is walked along them."""
    roads = ("roads",) if mode == "network" else ()
    return deps("population", da.profile().kind(kind).layer, *roads, *ADMIN)


@st.cache_resource(show_spinner=False, max_entries=2)
def prepared_layers(path: str, version: str) -> PreparedLayers:
    """Every layer in the user's scope in the metric CRS, population and facilities located.

    `version` is :func:`ui.data_access.data_version` (store version and the user's scope).
    """
    return prepare(da.scoped_layers(path, version), da.profile())


@st.cache_resource(show_spinner=False, max_entries=32)
def kind_distance(
    path: str, deps: Deps, kind: str, _version: str, mode: str = "straight"
) -> tuple[pd.Series, int]:
    """Distance from every population point to the nearest facility of `kind` (any radius):
    straight line, or with `mode` ``"network"`` walked along the roads layer."""
    layers = prepared_layers(path, _version)
    facilities = select_facilities(layers, da.profile().kind(kind))
    if mode == "network":
        walk = gc.walk_of(layers, da.profile())
        return walk.nearest(layers["population"], facilities)[0], len(facilities)
    return gc.nearest_distance(layers["population"], facilities), len(facilities)


@st.cache_resource(show_spinner=False, max_entries=64)
def kind_coverage(
    path: str,
    deps: Deps,
    kind: str,
    radius_m: float,
    detour: float,
    _version: str,
    mode: str = "straight",
) -> CoverageResult:
    """Coverage and roll-ups of one kind (depends on its radius, the detour factor and the
    distance mode only; a walk along roads takes no detour factor)."""
    distance, count = kind_distance(path, deps, kind, _version, mode)
    pop = prepared_layers(path, _version)["population"]
    return gc.coverage_from_distance(
        pop,
        distance,
        kind=kind,
        radius_m=radius_m,
        detour_factor=1.0 if mode == "network" else detour,
        facilities=count,
        levels=LEVELS,
        spec=da.profile().kind(kind),
        distance_mode=mode,
    )


@st.cache_resource(show_spinner=False, max_entries=64)
def kind_cells(
    path: str,
    deps: Deps,
    kind: str,
    radius_m: float,
    detour: float,
    _version: str,
    mode: str = "straight",
) -> gpd.GeoDataFrame:
    """Uncovered residents of one kind summed into cells of the profile's ``gap_cell_m``."""
    pop = prepared_layers(path, _version)["population"]
    covered = kind_coverage(path, deps, kind, radius_m, detour, _version, mode).covered
    return gap_cells(pop, covered, cell_m=da.profile().analysis.gap_cell_m)


@st.cache_resource(show_spinner=False, max_entries=32)
def group_capacity(
    path: str,
    deps: Deps,
    group: str,
    radii: tuple,
    per_capita: tuple,
    _version: str,
    mode: str = "straight",
) -> ShelterGroupCapacity:
    """Both capacity views of one shelter group (its radius, detour, per-capita areas and
    distance mode)."""
    layers = prepared_layers(path, _version)
    profile = _with(da.profile(), radii=radii, per_capita_area_m2=per_capita)
    profile = profile.with_distance({SHELTER_GROUPS[group]: mode})
    shelters = layers["shelters"]
    classes = profile.kind(SHELTER_GROUPS[group]).values
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
    path: str, deps: Deps, per_capita: tuple, targets: tuple, _version: str
) -> tuple[pd.Series, dict]:
    """Shelter capacity of every shelter and supply per street/district against the targets."""
    layers = prepared_layers(path, _version)
    profile = _with(da.profile(), per_capita_area_m2=per_capita, targets=targets)
    shelters, pop = layers["shelters"], layers["population"]
    capacity = shelter_capacity(shelters, profile)
    classes = [c for g in SUPPLY_GROUPS for c in profile.kind(SHELTER_GROUPS[g]).values]
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
def sanitation(
    path: str, deps: Deps, radii: tuple, targets: tuple, _version: str
) -> SanitationResult:
    layers = prepared_layers(path, _version)
    profile = _with(da.profile(), radii=radii, targets=targets)
    return sanitation_all(layers["villages"], layers["sanitation_facilities"], profile)


@st.cache_resource(show_spinner=False, max_entries=16)
def checks(path: str, deps: Deps, rules: tuple, _version: str) -> GridCheckResult:
    layers = prepared_layers(path, _version)
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
    mode: str = "straight",
) -> SiteSuggestion:
    """Sites for `kind` covering the most uncovered residents (cells of uncovered residents);
    with `mode` ``"network"`` a site covers the cells within a walk of `radius_m` along roads."""
    layers = prepared_layers(path, version)
    demand = kind_cells(path, kind_deps(kind, mode), kind, radius_m, detour, version, mode)
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
        walk=gc.walk_of(layers, da.profile()) if mode == "network" else None,
    )


def run_analysis(
    path: str, version: str, profile: Profile, progress: Callable[[float, str], None]
) -> GapAnalysis:
    """All parts for `profile`, each from its cache when its parameters did not change."""
    detour = float(profile.radii.detour_factor)
    steps = len(kinds()) + len(SHELTER_GROUPS) + 4
    done = 0

    def tick(text: str) -> None:
        nonlocal done
        done += 1
        progress(done / steps, text)

    progress(0.0, tr("读取并投影图层…", "Reading and projecting layers…"))
    layers = prepared_layers(path, version)
    tick(tr("图层就绪", "Layers ready"))
    coverage, cells = {}, {}
    for kind in kinds():
        radius = radius_for(kind, profile)
        mode = profile.distance(kind)
        needs = kind_deps(kind, mode)
        coverage[kind] = kind_coverage(path, needs, kind, radius, detour, version, mode)
        cells[kind] = kind_cells(path, needs, kind, radius, detour, version, mode)
        label = safe(kind_label(kind))  # from the profile file, shown as Markdown
        tick(tr(f"覆盖分析：{label}", f"Coverage: {label}"))
    per_capita = _items(profile.per_capita_area_m2)
    groups = {}
    for group, kind in SHELTER_GROUPS.items():
        radii = (
            ("detour_factor", detour),
            (profile.kind(kind).radius_setting, radius_for(kind, profile)),
        )
        mode = profile.distance(kind)
        groups[group] = group_capacity(
            path,
            deps("population", "shelters", *(("roads",) if mode == "network" else ())),
            group,
            radii,
            per_capita,
            version,
            mode,
        )
        tick(
            tr(
                f"避难容量：{pair(GROUP_LABELS[group])}",
                f"Shelter capacity: {pair(GROUP_LABELS[group])}",
            )
        )
    shelter_targets = _items(
        profile.targets, ["shelter_places_per_resident", "shelter_area_per_resident_m2"]
    )
    capacity_series, supply = shelter_supply(
        path, deps("population", "shelters", *ADMIN), per_capita, shelter_targets, version
    )
    tick(tr("人均避难指标", "Shelter supply per resident"))
    san = sanitation(
        path,
        deps("villages", "sanitation_facilities"),
        _items(profile.radii, ["garbage_point", "detour_factor"]),
        _items(
            profile.targets,
            [
                "sanitary_toilet_penetration",
                "villages_with_garbage_collection",
                "villages_with_sewage_treatment",
            ],
        ),
        version,
    )
    tick(tr("农村人居环境", "Rural sanitation"))
    grid = checks(path, deps("grids", "communities", "population"), _items(profile.grids), version)
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
