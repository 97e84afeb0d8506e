"""Standalone interactive map of the service gaps: one HTML file, every asset inline.

Built with the app's own map helpers (:mod:`maps.render`) and inlined with
:func:`maps.assets.inline_assets_html`, so it opens from disk or an e-mail attachment with no
network at all: no CDN, no tiles (the basemap is left blank on purpose).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement, Template

from geo.indicators import STATUS_COLORS, STATUS_LABELS, get_indicator
from geo.settings import Profile
from layers import LAYERS
from maps import render as rd
from maps.assets import inline_assets_html
from maps.display import prepare_geometry
from reports.gaps import GAP_KINDS, MAP_INDICATORS, gap_layer_title

GAP_COLORS = {
    "overloaded_shelters": "#6a1b9a",
    "unplaced_cells": "#ff7043",
    "villages_below_target": "#8d6e63",
    "grid_problems": "#ffb300",
}


# Uncovered residents per gap cell: class lower bounds and colours.
CELL_BREAKS = (0, 50, 200, 500)
CELL_COLORS = ("#fdd0a2", "#fd8d3c", "#e6550d", "#a63603")


def _cell_symbols(lang: str) -> dict[str, dict[str, object]]:
    bounds = [*CELL_BREAKS[1:], None]
    out = {}
    for n, (low, high, color) in enumerate(zip(CELL_BREAKS, bounds, CELL_COLORS, strict=True)):
        text = f"{max(low, 1)}-{high - 1}" if high else f"≥{low}"
        out[str(n)] = {
            "fillColor": color,
            "color": color,
            "label": text + (" 人" if lang == "zh" else ""),
        }
    return out


def _status_symbols(lang: str) -> dict[str, dict[str, object]]:
    i = 0 if lang == "zh" else 1
    return {
        s: {"fillColor": c, "color": "#37474f", "label": STATUS_LABELS[s][i]}
        for s, c in STATUS_COLORS.items()
    }


#: Screens narrower than this (CSS px, phones) get the layer panel folded and a smaller title.
PHONE_MAX_WIDTH = 700


class _FoldOnPhones(MacroElement):
    """Fold the layer panel when the page opens on a narrow screen (it would cover the map)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
if (window.innerWidth < {{ this.max_width }}) { {{ this.control }}.collapse(); }
{% endmacro %}"""
    )

    def __init__(self, control_name: str, max_width: int):
        super().__init__()
        self.control = control_name
        self.max_width = max_width


def _title_box(title: str, subtitle: str) -> Element:
    """The report's title (city and period) over the top of the map, smaller on phones."""
    sub = f'<div class="gm-report-sub">{rd.esc(subtitle)}</div>' if subtitle else ""
    return Element(
        f"""<style>
.gm-report-title {{ position: absolute; top: 8px; left: 50%; transform: translateX(-50%);
  z-index: 1000; background: rgba(255,255,255,.92); padding: 4px 12px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font: 600 16px/1.35 sans-serif; text-align: center;
  max-width: calc(100% - 140px); pointer-events: none; }}
.gm-report-sub {{ font-weight: 400; font-size: 12px; color: #455a64; }}
@media (max-width: {PHONE_MAX_WIDTH}px) {{
  .gm-report-title {{ font-size: 13px; left: auto; right: 8px; transform: none;
    max-width: calc(100% - 70px); }}
}}
</style><div class="gm-report-title">{rd.esc(title)}{sub}</div>"""
    )


def gap_map(
    gaps: Mapping[str, gpd.GeoDataFrame],
    profile: Profile,
    *,
    title: str,
    lang: str = "zh",
    subtitle: str = "",
):
    """A folium map of the gap layers (see :func:`reports.gaps.gap_layers`).

    The page shows `title` (with the city and the period) and `subtitle` over the map; on a
    phone-sized screen the layer panel starts folded.
    """
    m = rd.base_map(profile, "none", lang=lang, view_counter=False)
    dec = profile.display.coordinate_decimals
    crs = profile.metric_crs

    def prep(frame: gpd.GeoDataFrame, tol: float = 0.0) -> gpd.GeoDataFrame:
        return prepare_geometry(frame, decimals=dec, tolerance_m=tol, metric_crs=crs)

    streets = gaps.get("areas_street")
    if streets is not None and len(streets):
        shown = prep(streets, profile.display.simplify_tolerance_m)
        for n, key in enumerate(MAP_INDICATORS):
            col = f"{key}_status"
            if col not in shown.columns:
                continue
            ind = get_indicator(key, profile)
            frame = shown.assign(value_text=shown[key].map(ind.format))
            rd.add_polygons(
                m,
                frame,
                rd.LayerSpec(
                    name=ind.name(lang),
                    key=f"st_{key}",
                    fields={
                        "area_name": "街道/乡镇" if lang == "zh" else "Street",
                        "value_text": ind.name(lang),
                    },
                    tooltip=["area_name", "value_text"],
                    style={"weight": 1, "color": "#37474f", "fillOpacity": 0.55},
                    symbols=_status_symbols(lang),
                    legend_title=ind.name(lang),
                    show=n == 0,
                    canvas=False,
                ),
                category=frame[col].astype(str),
            )
    districts = gaps.get("areas_district")
    if districts is not None and len(districts):
        style = {
            **LAYERS["districts"].view.style,
            "fillOpacity": 0.0,
            "fill": False,
            "interactive": False,
        }
        rd.add_polygons(
            m,
            prep(districts, profile.display.simplify_tolerance_m),
            rd.LayerSpec(
                name="区县" if lang == "zh" else "Districts",
                key="districts",
                fields={"area_name": "区县" if lang == "zh" else "District"},
                style=style,
                legend=[
                    (
                        "ln",
                        f"border-top-color:{style['color']}",
                        "区县" if lang == "zh" else "Districts",
                    )
                ],
                canvas=False,
            ),
        )
    first = True
    for kind in GAP_KINDS:
        cells = gaps.get(f"gapcells_{kind}")
        if cells is None or cells.empty:
            continue
        name = f"gapcells_{kind}"
        label = gap_layer_title(name, profile, lang)
        shown = prep(cells)
        value = pd.to_numeric(shown["residents_uncovered"], errors="coerce").fillna(0)
        cls = np.searchsorted(CELL_BREAKS, value.to_numpy(), side="right") - 1
        rd.add_polygons(
            m,
            shown.assign(residents_uncovered=value.astype(int)),
            rd.LayerSpec(
                name=label,
                key=name,
                fields={
                    "residents_uncovered": "未覆盖人口" if lang == "zh" else "Residents not covered"
                },
                tooltip=["residents_uncovered"],
                style={"weight": 0.5, "color": "#b71c1c", "fillOpacity": 0.6},
                symbols=_cell_symbols(lang),
                legend_title=label,
                show=first,
                canvas=True,
            ),
            category=pd.Series(cls.astype(str), index=shown.index),
        )
        first = False
    for name in ("unplaced_cells", "overloaded_shelters", "villages_below_target", "grid_problems"):
        frame = gaps.get(name)
        if frame is None or frame.empty:
            continue
        label = gap_layer_title(name, profile, lang)
        fields = {c: c for c in frame.columns if c != "geometry"}
        shown = prep(frame)
        polygons = shown.geom_type.isin(["Polygon", "MultiPolygon"]).all()
        color = GAP_COLORS[name]
        if polygons:
            rd.add_polygons(
                m,
                shown,
                rd.LayerSpec(
                    name=label,
                    key=name,
                    fields=fields,
                    style={
                        "weight": 2,
                        "color": color,
                        "fillColor": color,
                        "fillOpacity": 0.25,
                        "label": label,
                    },
                    show=name not in ("grid_problems", "unplaced_cells"),
                    canvas=False,
                ),
            )
        else:
            rd.add_points(
                m,
                shown,
                rd.LayerSpec(
                    name=label,
                    key=name,
                    fields=fields,
                    style={
                        "radius": 7,
                        "weight": 2,
                        "color": "#212121",
                        "fillColor": color,
                        "fillOpacity": 0.9,
                        "label": label,
                    },
                    stat="facilities",
                ),
            )
    extent = districts if districts is not None and len(districts) else streets
    if streets is not None and MAP_INDICATORS[0] in streets.columns:
        with_data = streets[streets[MAP_INDICATORS[0]].notna()]
        extent = with_data if len(with_data) else extent
    if extent is not None and len(extent):
        rd.fit_to(m, extent, pad_m=300)
    m.get_root().header.add_child(Element(f"<title>{rd.esc(title)}</title>"), name="gridmap_title")
    m.get_root().html.add_child(_title_box(title, subtitle), name="gridmap_report_title")
    m = rd.finish(m, collapsed=False)
    control = m._children["gridmap_layer_control"]
    m.add_child(_FoldOnPhones(control.get_name(), PHONE_MAX_WIDTH), name="gridmap_fold_on_phones")
    return m


def write_html(
    gaps: Mapping[str, gpd.GeoDataFrame],
    profile: Profile,
    path: str | os.PathLike,
    *,
    title: str,
    lang: str = "zh",
    subtitle: str = "",
) -> None:
    """Write the standalone gap map to `path` (UTF-8)."""
    html = inline_assets_html(gap_map(gaps, profile, title=title, lang=lang, subtitle=subtitle))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(html)
