"""Map explorer (planners): every layer on one map, filters, search and counts."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from layers import LAYERS, facility_layers, searchable_layers
from layers import entrances as entrance_layer
from maps import display as dp
from maps import render
from ui import data_access as da
from ui import state
from ui.grid_api import PATH as GRIDS_PATH
from ui.i18n import lang, selectbox, tr
from ui.map_controls import basemap_select, open_map_store, tianditu_key
from ui.map_view import shared_map
from ui.text import safe

FACILITY_LAYERS = facility_layers()
LINES = {"LineString", "MultiLineString"}
# the grids route as seen from streamlit-folium's frame (``<base>/component/<name>/``); a bare
# string here would be written onto the page by Streamlit's magic
GRIDS_URL = "../../" + GRIDS_PATH.lstrip("/")
SEARCHABLE = tuple(searchable_layers())


def recorded_help() -> str:
    """What "residents on record" counts, and why the Service-gaps page shows another total."""
    return tr(
        "各网格台账登记的常住人口之和（按当前筛选）。“服务缺口”页的“人口点居民”按人口点统计，"
        "来源不同，合计可能略有差异。",
        "Sum of the residents recorded for each grid (current filters). The Service-gaps page "
        "counts “residents of population points”, a different source, so the totals can differ.",
    )


def _select(label: str, options: list[str], key: str) -> str | None:
    every = tr("全部", "All")
    choices = [every, *options]
    if st.session_state.get(key) not in choices:
        st.session_state[key] = every
    value = selectbox(st, label, choices, key=key)
    return None if value == every else value


def main() -> None:
    st.title(tr("地图浏览", "Map explorer"))
    store = open_map_store(
        tr(
            "还没有数据：请在“数据管理”页导入数据，或运行 `python cli.py demo` 生成示例数据。",
            "No data yet: import data on the Data page, or run `python cli.py demo` for the demo data.",
        )
    )
    if store is None:
        return
    present = set(da.store_layers())
    kept = (
        *(state.layer_key(layer) for layer in da.MAP_LAYERS),
        state.COLOR_BY,
        state.BASEMAP,
        state.DISTRICT,
        state.STREET,
        state.COMMUNITY,
        state.SEARCH,
    )
    state.restore(*kept)

    # ---------------------------------------------------------------- sidebar: layers and style
    sb = st.sidebar
    sb.subheader(tr("图层", "Layers"))
    shown: dict[str, bool] = {}
    for layer in da.MAP_LAYERS:
        key = state.layer_key(layer)
        if key not in st.session_state:
            st.session_state[key] = LAYERS[layer].view.shown
        label = render.layer_name(layer, lang())
        if layer not in present:
            label += tr("（无数据）", " (no data)")
        shown[layer] = sb.checkbox(label, key=key)
    color_by = selectbox(
        sb,
        tr("网格着色", "Colour grids by"),
        list(render.COLOR_BY),
        key=state.COLOR_BY,
        format_func=lambda k: render.COLOR_BY[k][0 if lang() == "zh" else 1],
    )
    basemap = basemap_select(sb)

    # ---------------------------------------------------------------- filters and search
    grids = da.load_layer("grids")
    # admin names of each feature (cached); population (65k+ points) only when filtered
    tags = {layer: da.admin_tags(layer) for layer in ("grids", *FACILITY_LAYERS)}
    options = dp.admin_options(*tags.values())
    c1, c2, c3, c4 = st.columns([1, 1, 1, 1.4])
    with c1:
        district = _select(
            tr("区县", "District"), sorted(options["district"].dropna().unique()), state.DISTRICT
        )
    rows = options if district is None else options[options["district"] == district]
    with c2:
        street = _select(
            tr("街道/乡镇", "Street/township"),
            sorted(rows["street"].dropna().unique()),
            state.STREET,
        )
    rows = rows if street is None else rows[rows["street"] == street]
    with c3:
        community = _select(
            tr("社区", "Community"), sorted(rows["community"].dropna().unique()), state.COMMUNITY
        )
    with c4:
        query = st.text_input(
            tr(
                "搜索"
                + "/".join(render.layer_name(x, "zh") for x in SEARCHABLE)
                + "（名称或编码）",
                "Search "
                + "/".join(render.layer_name(x, "en").lower() for x in SEARCHABLE)
                + " (name or code)",
            ),
            key=state.SEARCH,
            placeholder=tr("例如 网格编码", "e.g. a grid code"),
        )
    filters = {"district": district, "street": street, "community": community}
    state.remember(*kept)

    frames: dict[str, gpd.GeoDataFrame] = {}
    for layer in da.MAP_LAYERS:
        if not shown[layer] or layer not in present:
            continue
        if layer == "population":
            frames[layer] = da.population_display(
                **filters,
                limit=da.profile().display.max_points_drawn,
                cell_m=da.profile().display.point_cell_m,
            )
            continue
        frame = da.display_layer(layer)
        if layer in tags:
            frame = frame[
                dp.filter_mask(tags[layer], **filters).reindex(frame.index, fill_value=False)
            ]
        elif layer == entrance_layer.SCHEMA.name:
            # drawn with the facilities they belong to: the same filters and scope
            owners = {
                owner: _kept(owner, tags[owner], filters)
                for owner in entrance_layer.FACILITY_LAYERS
                if owner in present and owner in tags
            }
            frame = dp.entrances_of_kept(frame, owners)
        elif LINES.issuperset(LAYERS[layer].geometry_types) and any(filters.values()):
            # lines (roads) are not tagged with areas: those crossing the chosen grids' extent
            chosen = grids[
                dp.filter_mask(tags["grids"], **filters).reindex(grids.index, fill_value=False)
            ]
            frame = (
                dp.within(frame, shapely.box(*chosen.total_bounds))
                if len(chosen)
                else frame.iloc[:0]
            )
        else:
            frame = _filter_admin(layer, frame, filters)
        frames[layer] = frame

    summary = None
    limit = da.profile().display.max_grids_drawn
    if "grids" in frames and len(frames["grids"]) > limit and "communities" in present:
        # too many grids to send: summed per community until a street or community is chosen
        areas = frames.get("communities")
        if areas is None:
            areas = _filter_admin("communities", da.display_layer("communities"), filters)
        sums = da.grid_summary()
        summary = sums[sums.index.isin(areas.index)]
        st.caption(
            tr(
                f"网格较多（{len(frames['grids']):,} 个，超过 {limit:,} 个）：按社区汇总显示；"
                "放大地图（或选择街道、社区）后逐个显示网格。",
                f"Many grids ({len(frames['grids']):,}, over {limit:,}): shown summed per "
                "community; zoom in (or choose a street or community) to see them one by one.",
            )
        )
        frames.pop("grids")

    found, found_id = None, None
    if query.strip():
        sources = {layer: da.load_layer(layer) for layer in SEARCHABLE if layer in present}
        hits = dp.search(sources, query)
        if hits.empty:
            st.warning(tr(f"没有找到“{safe(query)}”。", f"Nothing found for “{safe(query)}”."))
        else:
            labels = [
                f"{render.layer_name(r.layer, lang())} · {r.code} · {r.name}"
                for r in hits.itertuples()
            ]
            pick = selectbox(
                st,
                tr("搜索结果", "Results"),
                range(len(hits)),
                index=0,
                format_func=labels.__getitem__,
                key=state.search_pick_key(query.strip()),
            )
            row = hits.iloc[int(pick or 0)]
            found = sources[row["layer"]].loc[[row["row"]]]
            found_id = (row["layer"], row["row"])

    if "population" in frames and "points" in frames["population"].columns:
        st.caption(
            tr(
                f"人口点较多，按 {da.profile().display.point_cell_m:.0f} m 方格汇总显示。",
                f"Many population points: summed into {da.profile().display.point_cell_m:.0f} m cells.",
            )
        )

    # ---------------------------------------------------------------- counts
    grid_mask = (
        dp.filter_mask(tags["grids"], **filters) if "grids" in tags else pd.Series(dtype=bool)
    )
    chosen_grids = grids[grid_mask.reindex(grids.index, fill_value=False)] if len(grids) else grids
    facilities = 0
    for layer in FACILITY_LAYERS:
        if layer in present:
            mask = dp.filter_mask(tags[layer], **filters)
            facilities += int(mask.sum())
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(tr("网格", "Grids"), f"{len(chosen_grids):,}")
    m2.metric(
        tr("登记常住人口", "Residents on record"),
        f"{int(pd.to_numeric(chosen_grids.get('residents'), errors='coerce').fillna(0).sum()):,}"
        if len(chosen_grids)
        else "0",
        help=recorded_help(),
    )
    m3.metric(
        tr("户数", "Households"),
        f"{int(pd.to_numeric(chosen_grids.get('households'), errors='coerce').fillna(0).sum()):,}"
        if len(chosen_grids)
        else "0",
    )
    m4.metric(
        tr("设施", "Facilities"),
        f"{facilities:,}",
        help=tr(
            "、".join(render.layer_name(x, "zh") for x in FACILITY_LAYERS) + "（按当前筛选）",
            ", ".join(render.layer_name(x, "en") for x in FACILITY_LAYERS) + " (current filters)",
        ),
    )

    messages = []
    for layer in da.MAP_LAYERS:
        if not shown[layer]:
            continue
        if layer not in present:
            messages.append(
                tr(
                    f"数据中没有“{render.layer_name(layer, 'zh')}”图层。",
                    f"The store has no “{render.layer_name(layer, 'en')}” layer.",
                )
            )
        elif layer in frames and frames[layer].empty:
            messages.append(
                tr(
                    f"“{render.layer_name(layer, 'zh')}”在当前筛选下没有要素。",
                    f"“{render.layer_name(layer, 'en')}” has no features for these filters.",
                )
            )
    if messages:
        st.info(" ".join(messages))

    store = da.current_store()
    # everything the map depends on: it is built once per key and shared by every session
    view_key = (
        str(store.path),
        store.version(),
        tuple(sorted(frames)),
        tuple(filters.values()),
        color_by,
        basemap,
        tianditu_key(),
        lang(),
        found_id,
        da.scope_key(),  # the frames are cut to the user's scope: never shared across scopes
    )
    explorer_map(
        frames,
        summary=summary,
        basemap=basemap,
        color_by=color_by,
        found=found,
        focus=chosen_grids if any(filters.values()) else None,
        view_key=view_key,
    )


def _kept(layer: str, tags: pd.DataFrame, filters: dict[str, str | None]) -> gpd.GeoDataFrame:
    """The features of `layer` in the user's scope that match the area filters."""
    frame = da.load_layer(layer)
    return frame[dp.filter_mask(tags, **filters).reindex(frame.index, fill_value=False)]


def _filter_admin(
    layer: str, frame: gpd.GeoDataFrame, filters: dict[str, str | None]
) -> gpd.GeoDataFrame:
    """Admin outlines: keep the chosen area and what lies in it."""
    if not any(filters.values()):
        return frame
    chain = dp.admin_chain(
        da.load_layer("districts"), da.load_layer("streets"), da.load_layer("communities")
    )
    names = chain.get(layer)
    if names is None:
        return frame
    depth = {"districts": 1, "streets": 2, "communities": 3}[layer]
    levels = dict(list(filters.items())[:depth])
    return frame[dp.filter_mask(names, **levels).reindex(frame.index, fill_value=False)]


@st.fragment
def explorer_map(
    frames, *, summary=None, basemap: str, color_by: str, found, focus, view_key
) -> None:
    """The map (a fragment: its interactions never re-run the page), built once per
    `view_key` (data version and view parameters) and shared by every session."""

    def build():
        prof = da.profile()
        m = render.base_map(prof, basemap, lang=lang(), tianditu=tianditu_key())
        render.draw_layers(m, frames, lang=lang(), color_by=color_by)
        if summary is not None and len(summary):
            render.add_grid_summary(m, summary, lang=lang(), color_by=color_by)
            # zoomed in, the grids of the visible area replace the sums (fetched, ui/grid_api)
            zoom = dp.grid_zoom_for(
                summary,
                counts=summary["grids"],
                floor=prof.display.grid_zoom,
                max_grids=prof.display.max_grids_in_view,
                metric_crs=prof.metric_crs,
            )
            lazy = render.LazyGrids(url=GRIDS_URL, version=view_key[1], min_zoom=zoom)
            render.add_lazy_grids(
                m,
                summary,
                da.display_layer("grids"),
                lazy=lazy,
                lang=lang(),
                color_by=color_by,
                area=da.grid_areas(),
            )
        if found is not None and len(found):
            render.add_highlight(m, found, name=tr("搜索结果", "Search result"))
            render.fit_to(m, found, pad_m=300)
        elif focus is not None and len(focus):
            render.fit_to(m, focus)
        elif "grids" in frames and len(frames["grids"]):
            render.fit_to(m, frames["grids"], pad_m=0)
        elif summary is not None and len(summary):
            render.fit_to(m, summary, pad_m=0)
        return render.finish(m)

    summary = shared_map(build, cache_key=view_key, key=state.EXPLORER_MAP, height=620)
    st.session_state[state.EXPLORER_SUMMARY] = summary


main()
