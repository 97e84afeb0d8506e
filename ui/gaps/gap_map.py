"""The gap map shared by the Map, What-if and Suggest-sites tabs."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo.analysis import GapAnalysis
from geo.capacity import SHELTER_GROUPS
from geo.coverage import select_facilities
from geo.crs import LONLAT_CRS
from geo.grid_qa import CHECKS
from geo.network import entrances_of
from maps import display as dp
from maps import render
from ui import data_access as da
from ui.gaps.keys import PROPOSALS, S_RESULT
from ui.gaps.labels import GROUP_LABELS, in_language, kind_label, pair
from ui.gaps.proposals import proposal_frame
from ui.i18n import lang, tr
from ui.map_controls import tianditu_key
from ui.map_view import digest, shared_map

#: Uncovered population points drawn one by one up to this many (beyond: the cells show them).


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
    minx, miny, maxx, maxy = frame.to_crs(LONLAT_CRS).total_bounds
    span = max(maxx - minx, (maxy - miny) * 1.2, 1e-4)
    zoom = int(np.clip(np.floor(np.log2(360.0 * width_px / 256.0 / span)), 3, 17))
    return ((miny + maxy) / 2, (minx + maxx) / 2), zoom


def gap_map(
    analysis: GapAnalysis,
    kind: str,
    basemap: str,
    *,
    full: bool = True,
    sites: bool = False,
    proposals: bool = True,
):
    """The gap map of `kind`: hot-spot cells, facilities, proposals (unless `proposals` is
    False: the what-if adds them with :func:`proposal_group`) and (when `full`) uncovered
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
            render.LayerSpec(
                key="gap_cells",
                symbols=symbols,
                canvas=True,
                name=tr("缺口热点（未覆盖人口）", "Gap hot spots (uncovered residents)"),
                fields={
                    "residents_uncovered": tr("未覆盖人口（人）", "Uncovered residents"),
                    "points": tr("人口点", "Points"),
                },
                tooltip=["residents_uncovered"],
                style={"weight": 0.5, "fillOpacity": 0.6},
            ),
            category=category,
        )
    if full and analysis.has_roads:
        _walking_layers(m, analysis, kind)
    uncovered = analysis.uncovered_points(kind) if full else None
    limit = analysis.profile.display.max_gap_points_drawn
    if uncovered is not None and 0 < len(uncovered) <= limit:
        render.add_points(
            m,
            uncovered,
            render.LayerSpec(
                key="uncovered_points",
                name=tr("未覆盖人口点", "Uncovered population points"),
                fields={
                    "residents": tr("常住人口（人）", "Residents"),
                    "distance_m": tr("最近设施（m）", "Nearest facility (m)"),
                },
                style={"radius": 3, "color": "#6d4c41", "fillColor": "#8d6e63"},
            ),
        )
    facilities = select_facilities(analysis.layers, analysis.profile.kind(kind))
    if len(facilities):
        render.add_points(
            m,
            facilities,
            render.LayerSpec(
                name=kind_label(kind),
                key="facilities",
                fields=_name("名称", "Name"),
                tooltip=["name"],
                style={"radius": 7, "color": "#1b5e20", "fillColor": "#43a047"},
                stat="facilities",
            ),
        )
        gates = entrances_of(facilities, analysis.layers.get("entrances"))
        if gates is not None:
            render.add_layer(m, "entrances", gates, lang=lang())
    if full:
        _problem_layers(m, analysis, kind)
    props = proposal_frame()
    props = props if full else props[props["kind"] == kind]
    if proposals and len(props):
        render.add_points(
            m,
            props,
            render.LayerSpec(
                name=tr("拟建设施", "Proposed facilities"),
                key="proposals",
                fields=_name("名称", "Name"),
                tooltip=["name"],
                style={"radius": 9, "color": "#0d47a1", "fillColor": "#42a5f5"},
                stat="facilities",
            ),
        )
    if full or sites:
        _suggested_layer(m)
    # the browser refits to the same area with room for the legend once the map has a size
    render.fit_to(m, cells if len(cells) else analysis.population, pad_m=0)
    return render.finish(m)


def show_gap_map(
    analysis: GapAnalysis,
    kind: str,
    basemap: str,
    *,
    key: str,
    height: int,
    full: bool = True,
    sites: bool = False,
) -> dict[str, int]:
    """Show :func:`gap_map`, built once per data version, user scope, analysis parameters, kind
    and view (and this session's proposals and suggested sites, when drawn) and shared by every
    session asking for the same. Returns the map's feature counts by layer key."""
    store = da.current_store()
    asked = st.session_state.get(S_RESULT) or {}
    chosen = asked.get("sites") if (full or sites) else None
    view_key = (
        "gap_map",
        str(store.path),
        da.data_version(store),  # the store's version and the user's scope
        digest(analysis.profile),
        kind,
        basemap,
        tianditu_key(),
        lang(),
        full,
        sites,
        digest(st.session_state.get(PROPOSALS, [])),
        None
        if chosen is None
        else digest(
            chosen.drop(columns=chosen.geometry.name).to_numpy().tolist(),
            chosen.geometry.to_wkb().tolist(),
        ),
    )
    return shared_map(
        lambda: gap_map(analysis, kind, basemap, full=full, sites=sites),
        cache_key=view_key,
        key=key,
        height=height,
    )


def proposal_group(kind: str) -> folium.FeatureGroup:
    """The proposals of `kind` as a feature group streamlit-folium adds to a map already drawn.

    The what-if map itself stays the same when a proposal is added, so the map is not
    re-created (which would lose or repeat the click that added it).
    """
    props = proposal_frame()
    props = props[props["kind"] == kind]
    group = folium.FeatureGroup(name=tr("拟建设施", "Proposed facilities"))
    for n, row in enumerate(props.itertuples(), start=1):
        folium.CircleMarker(
            location=[row.lat, row.lon],
            radius=9,
            color="#0d47a1",
            weight=2,
            fill=True,
            fill_color="#42a5f5",
            fill_opacity=0.9,
            # folium puts the text in a JS template literal: no backtick or backslash either
            tooltip=render.esc(f"P{n} · {row.name}").replace("`", "&#96;").replace("\\", "&#92;"),
        ).add_to(group)
    return group


def _walking_layers(m, analysis: GapAnalysis, kind: str) -> None:
    """The grids where straight lines overstate `kind`'s coverage and, when `kind` is measured
    along roads, its walking service area."""
    over = analysis.overstated_grids(kind)
    if len(over):
        render.add_polygons(
            m,
            over,
            render.LayerSpec(
                key="overstated",
                canvas=True,
                name=tr("直线距离高估的覆盖（网格）", "Coverage straight lines overstate (grids)"),
                fields={
                    "grid_code": tr("网格", "Grid"),
                    "overstated": tr("高估（人）", "Overstated (residents)"),
                    "covered_straight": tr("直线覆盖（人）", "Covered, straight line"),
                    "covered_network": tr("步行覆盖（人）", "Covered, walking"),
                },
                tooltip=["grid_code", "overstated"],
                style={
                    "color": "#ad1457",
                    "fillColor": "#ec407a",
                    "weight": 1,
                    "fillOpacity": 0.35,
                },
            ),
        )
    if analysis.coverage[kind].distance_mode == "network":
        area = analysis.service_area(kind)
        if len(area) and not area.geometry.iloc[0].is_empty:
            render.add_polygons(
                m,
                area,
                render.LayerSpec(
                    key="service_area",
                    name=tr("步行服务范围", "Walking service area"),
                    fields={"radius_m": tr("服务半径（m）", "Radius (m)")},
                    style={
                        "color": "#1565c0",
                        "fillColor": "#42a5f5",
                        "weight": 1,
                        "fillOpacity": 0.2,
                    },
                ),
            )


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
            render.LayerSpec(
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
                stat="facilities",
            ),
        )
    group = group or "fixed"
    unplaced = analysis.capacity.groups[group].constrained.unplaced_cells
    if len(unplaced):
        render.add_polygons(
            m,
            unplaced,
            render.LayerSpec(
                key="unplaced",
                show=False,
                canvas=True,
                name=tr(
                    f"无法安置的居民（{pair(GROUP_LABELS[group])}）",
                    f"Residents not placed ({pair(GROUP_LABELS[group])})",
                ),
                fields={"residents_unplaced": tr("无法安置（人）", "Not placed")},
                tooltip=["residents_unplaced"],
                style={
                    "color": "#4a148c",
                    "fillColor": "#7b1fa2",
                    "weight": 0.5,
                    "fillOpacity": 0.45,
                },
            ),
        )
    below = in_language(analysis.sanitation.below_target, "shortfalls")
    if len(below):
        render.add_points(
            m,
            below,
            render.LayerSpec(
                name=tr("未达标行政村", "Villages below target"),
                key="villages_below",
                show=False,
                fields={"name": tr("村名", "Name"), "shortfalls": tr("不足", "Shortfalls")},
                tooltip=["name"],
                style={"radius": 6, "color": "#e65100", "fillColor": "#fb8c00"},
                stat="facilities",
            ),
        )
    problems = in_language(analysis.grid_checks.problems, "detail")
    problems = problems[problems.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()]
    if len(problems):
        shown = problems.assign(
            check_label=problems["check"].map(lambda c: pair(CHECKS.get(c, (c, c))))
        )
        render.add_polygons(
            m,
            shown,
            render.LayerSpec(
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
            ),
        )


def _suggested_layer(m) -> None:
    """The sites of the last suggestion, if any."""
    asked = st.session_state.get(S_RESULT) or {}
    sites = asked.get("sites")
    if sites is not None and len(sites):
        render.add_points(
            m,
            site_labels(sites),
            render.LayerSpec(
                name=tr("建议选址", "Suggested sites"),
                key="suggested",
                fields={
                    "rank": tr("序号", "Rank"),
                    "rank_text": tr("建议选址", "Suggested site"),
                    "newly_text": tr("新增覆盖", "Newly covered"),
                },
                tooltip=["rank_text", "newly_text"],
                mark="rank",
                style={"radius": 11, "color": "#311b92", "fillColor": "#7e57c2"},
                stat="facilities",
            ),
        )


def site_labels(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Suggested sites with their tooltip texts: "建议选址 #4" and "新增覆盖 6,171 人"."""
    covered = pd.to_numeric(sites["newly_covered"], errors="coerce").fillna(0).round()
    rank = sites["rank"].astype(int)
    return sites.assign(
        rank=rank,
        rank_text=[tr(f"建议选址 #{r}", f"Suggested site #{r}") for r in rank],
        newly_text=[
            tr(f"新增覆盖 {int(c):,} 人", f"newly covers {int(c):,} residents") for c in covered
        ],
    )
