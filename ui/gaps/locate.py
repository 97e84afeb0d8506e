"""Where a table row lies: area names for gap rows, and a small map of the selected row."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.analysis import GapAnalysis
from maps import render
from ui import data_access as da
from ui import state
from ui.i18n import lang, tr
from ui.map_controls import tianditu_key

#: Height of the map that shows the selected row, px.
MAP_HEIGHT = 380


def area_names(analysis: GapAnalysis, frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Street, community and grid (code and name) in which each row of `frame` lies (at a point
    inside its geometry); index of `frame` kept, empty text outside every area."""
    points = gpd.GeoDataFrame(
        index=frame.index, geometry=frame.geometry.representative_point(), crs=frame.crs
    )
    out = pd.DataFrame(index=frame.index)
    for layer, columns in (
        ("streets", {"name": "street"}),
        ("communities", {"name": "community"}),
        ("grids", {"grid_code": "grid_code", "grid_name": "grid_name"}),
    ):
        areas = analysis.layers.get(layer)
        if areas is None or areas.empty or not set(columns) <= set(areas.columns):
            for target in columns.values():
                out[target] = ""
            continue
        areas = areas[[*columns, areas.geometry.name]].to_crs(frame.crs)
        hit = gpd.sjoin(points, areas, how="left", predicate="within")
        hit = hit[~hit.index.duplicated(keep="first")]
        for source, target in columns.items():
            out[target] = hit[source].reindex(frame.index).astype(object).fillna("").to_numpy()
    return out


def with_grid_names(analysis: GapAnalysis, problems: pd.DataFrame) -> pd.DataFrame:
    """`problems` (rows naming a ``grid_code``) with the grid's name, community and street."""
    grids = analysis.layers.get("grids")
    if grids is None or grids.empty or "grid_code" not in problems:
        return problems
    names = (
        pd.DataFrame(grids.drop(columns=grids.geometry.name))
        .drop_duplicates("grid_code")
        .set_index("grid_code")
    )
    out = problems.copy()
    at = out.columns.get_loc("grid_code") + 1
    for offset, col in enumerate(("grid_name", "community", "street")):
        values = out["grid_code"].map(names[col]) if col in names else np.nan
        out.insert(at + offset, col, pd.Series(values, index=out.index).astype(object).fillna(""))
    return out


def selected_rows(event) -> list[int]:
    """Positions of the rows picked in a ``st.dataframe(on_select=...)``."""
    try:
        return list(event.selection.rows)
    except AttributeError:
        return []


def show_on_map(frame: gpd.GeoDataFrame, rows: list[int], *, key: str) -> None:
    """A small map zoomed to the selected rows of `frame`, or a hint to select one."""
    if not rows:
        st.caption(
            tr("在表格左侧勾选一行，可在地图上查看它的位置。", "Select a row to see it on the map.")
        )
        return
    chosen = frame.iloc[rows]
    chosen = chosen[~chosen.geometry.is_empty & chosen.geometry.notna()]
    if chosen.empty:
        return
    basemap = st.session_state.get(state.BASEMAP, "none")
    m = render.base_map(
        da.profile(), basemap, lang=lang(), view_counter=False, tianditu=tianditu_key()
    )
    render.draw_layers(m, {"streets": da.display_layer("streets")}, lang=lang())
    render.add_highlight(m, chosen, name=tr("所选行", "Selected row"), key="selected_row")
    render.fit_to(m, chosen, pad_m=400)
    render.finish(m)
    st.session_state[f"{key}_summary"] = render.summary(m)
    st_folium(m, key=key, height=MAP_HEIGHT, use_container_width=True, returned_objects=[])
