"""My grid (community grid workers): one grid, what is in it and what is nearest.

``?grid=CODE`` in the URL opens straight to a grid; picking a grid updates the URL, so a worker
can bookmark it.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from auth.model import PermissionDenied, can
from data.edits import EditError, edit_grid, editable_fields
from geo.crs import LONLAT_CRS
from layers import LAYERS, facility_layers, shelters
from layers.kinds import GENERIC_LAYER, kinds_on_layer
from layers.schema import mask_phone
from maps import display as dp
from maps import render
from ui import data_access as da
from ui import state
from ui.auth import signed_in_user
from ui.field.my_grid import field_section
from ui.i18n import lang, selectbox, tr
from ui.map_controls import basemap_select, open_map_store, tianditu_key
from ui.map_view import digest, shared_map
from ui.text import safe

FACILITY_LAYERS = facility_layers()
INSIDE_LAYERS = (*FACILITY_LAYERS, "population")


def grid_labels(grids: pd.DataFrame) -> dict[str, str]:
    """Grid code -> "code · name · worker" (what the searchable select shows and matches)."""
    worker = grids["worker_name"].astype(object).where(grids["worker_name"].notna(), None)
    worker = worker.fillna(tr("无网格员", "no worker")).astype(str)
    codes = grids["grid_code"].astype(str)
    text = codes + " · " + grids["grid_name"].astype(str) + " · " + worker
    return dict(zip(codes, text, strict=True))


def pick_grid(grids: gpd.GeoDataFrame) -> str | None:
    """Searchable select of grids; synced with ``?grid=`` in the URL."""
    codes = grids["grid_code"].astype(str).tolist()
    labels = grid_labels(grids)
    wanted = st.query_params.get("grid")
    user = signed_in_user()
    if wanted and wanted not in labels and not user.scope.is_city:
        # outside the user's scope: the same answer whether or not the grid exists
        st.error(
            tr(
                f"网格“{safe(wanted)}”不在您的负责范围内，无法查看。请在下面选择您的网格。",
                f"Grid “{safe(wanted)}” is not yours: you cannot see it. Pick one of your grids below.",
            )
        )
    elif wanted and wanted not in labels:
        st.error(
            tr(
                f"没有编码为“{safe(wanted)}”的网格。请在下面选择一个网格。",
                f"There is no grid with code “{safe(wanted)}”. Pick a grid below.",
            )
        )
    elif wanted and st.session_state.get(state.GRID_URL_APPLIED) != wanted:
        # a new ?grid= (opened from a link): it wins over the previous pick
        st.session_state[state.GRID_PICK] = wanted
    st.session_state[state.GRID_URL_APPLIED] = wanted
    if st.session_state.get(state.GRID_PICK) not in labels:
        # a user with one grid (most grid workers) starts on it
        st.session_state[state.GRID_PICK] = codes[0] if len(codes) == 1 else None
    code = selectbox(
        st,
        tr(
            "选择网格（可输入编码、名称或网格员姓名搜索）",
            "Pick a grid (type a code, name or worker's name)",
        ),
        codes,
        key=state.GRID_PICK,
        index=None,
        format_func=lambda c: labels.get(c, c),
        placeholder=tr("输入以搜索…", "Type to search…"),
    )
    if code and st.query_params.get("grid") != code:
        st.query_params["grid"] = code
        st.session_state[state.GRID_URL_APPLIED] = code
    return code


def main() -> None:
    st.title(tr("我的网格", "My grid"))
    if (
        open_map_store(tr("还没有数据：请先导入网格数据。", "No data yet: import the grids first."))
        is None
    ):
        return
    basemap = basemap_select(st.sidebar)
    roads = roads_toggle(st.sidebar)
    grids = da.load_layer("grids")
    if grids.empty:
        st.warning(tr("数据中没有网格图层。", "The store has no grids layer."))
        return
    code = pick_grid(grids)
    if not code:
        st.info(
            tr(
                "请选择一个网格；也可以用 ?grid=网格编码 的链接直接打开。",
                "Pick a grid; a link ending in ?grid=CODE opens it directly.",
            )
        )
        return
    grid = grids[grids["grid_code"].astype(str) == code].iloc[[0]]
    row = grid.iloc[0]
    prof = da.profile()
    shape = grid.geometry.iloc[0]

    inside = {}
    for layer in INSIDE_LAYERS:
        frame = da.load_layer(layer)
        inside[layer] = dp.within(frame, shape)

    nearest = nearest_table(row.geometry, prof)
    key_facts(row, prof, nearest)  # first, so a phone shows them on the first screen
    map_col, panel = st.columns([3, 2], gap="medium")
    with panel:
        grid_panel(row, inside, nearest)
        edit_form(row)
    with map_col:
        grid_map(grid, inside, basemap=basemap, roads=roads)
    field_section(grid, basemap=basemap)


def edit_form(row: pd.Series) -> None:
    """Update the grid's households, residents and worker contact (and name, for staff)."""
    user = signed_in_user()
    fields = editable_fields(user)
    if not fields:
        return
    code = str(row["grid_code"])
    with st.expander(tr("更新网格信息", "Update this grid")), st.form(f"my_grid_edit_{code}"):
        values: dict[str, object] = {}
        if "grid_name" in fields:
            values["grid_name"] = st.text_input(
                tr("网格名称", "Grid name"), value=str(row["grid_name"] or "")
            )
        c1, c2 = st.columns(2)
        for col, field, zh, en in (
            (c1, "households", "户数", "Households"),
            (c2, "residents", "常住人口", "Residents"),
        ):
            current = row[field]
            values[field] = col.number_input(
                tr(zh, en),
                min_value=0,
                step=1,
                value=int(current) if pd.notna(current) else 0,
                key=f"my_grid_edit_{field}",
            )
        values["worker_name"] = c1.text_input(
            tr("网格员", "Grid worker"),
            value=str(row["worker_name"] or ""),
            key="my_grid_edit_worker",
        )
        values["worker_phone"] = c2.text_input(
            tr("网格员电话", "Worker phone"),
            value=str(row.get("worker_phone") or ""),
            key="my_grid_edit_phone",
        )
        submitted = st.form_submit_button(tr("保存", "Save"), key="my_grid_edit_save")
    if submitted:
        try:
            entry = edit_grid(da.current_store(), code, values, user=user)
        except (EditError, PermissionDenied) as exc:
            st.error(safe(exc))
        else:
            if entry is None:
                st.info(tr("没有改动。", "Nothing changed."))
            else:
                st.toast(tr("已保存并记录。", "Saved and recorded."))
                st.rerun()


def key_facts(row: pd.Series, prof, nearest: pd.DataFrame) -> None:
    """Code, worker, households against the range and the nearest center and shelter: what a
    worker needs first, above the map (on a phone, on the first screen)."""
    st.subheader(f"{safe(row['grid_name'])} · {safe(row['grid_code'])}")
    if can(signed_in_user(), "see_personal"):
        worker = row["worker_name"] or tr("未配备", "none assigned")
    else:
        worker = tr("（已隐藏）", "(hidden)")
    phone = mask_phone(row.get("worker_phone"))
    st.markdown(
        f"**{tr('网格员', 'Grid worker')}**: {safe(worker)}"
        + (f" · {safe(phone)}" if phone else "")
    )
    households = int(row["households"]) if pd.notna(row["households"]) else 0
    low, high = prof.grids.households_min, prof.grids.households_max
    n, lo, hi = f"{households:,}", f"{low:,}", f"{high:,}"
    if households < low:
        st.warning(
            tr(
                f"户数 {n}，低于 {lo}–{hi} 户的常用范围（少 {low - households:,} 户）。",
                f"{n} households: below the usual {lo}–{hi} ({low - households:,} fewer).",
            )
        )
    elif households > high:
        st.warning(
            tr(
                f"户数 {n}，超过 {lo}–{hi} 户的常用范围（多 {households - high:,} 户），可考虑拆分网格。",
                f"{n} households: above the usual {lo}–{hi} ({households - high:,} more); consider splitting.",
            )
        )
    else:
        st.success(
            tr(
                f"户数 {n}，在 {lo}–{hi} 户的常用范围内。",
                f"{n} households: within the usual {lo}–{hi}.",
            )
        )
    # the nearest center and the nearest shelter (any class): one line each
    first = nearest.drop_duplicates(subset=[nearest.columns[0]]).head(2)
    colon = tr("：", ": ")
    if len(first):
        st.markdown(
            "  \n".join(
                f"{safe(k)}{colon}**{safe(name)}** · {d}"
                for k, name, d in first.itertuples(index=False)
            )
        )


def grid_panel(row: pd.Series, inside: dict[str, gpd.GeoDataFrame], table: pd.DataFrame) -> None:
    """Where the grid lies, its records, what is inside it and the nearest services."""
    st.markdown(
        f"**{tr('社区', 'Community')}**: {safe(row['community'])} · **{tr('街道', 'Street')}**: {safe(row['street'])} · "
        f"**{tr('区县', 'District')}**: {safe(row['district'])}"
    )
    households = int(row["households"]) if pd.notna(row["households"]) else 0
    c1, c2 = st.columns(2)
    c1.metric(tr("户数", "Households"), f"{households:,}")
    c2.metric(
        tr("登记常住人口", "Residents on record"),
        f"{int(row['residents']):,}" if pd.notna(row["residents"]) else "—",
    )

    st.markdown(f"**{tr('网格内', 'Inside the grid')}**")
    lines = []
    for layer in FACILITY_LAYERS:
        frame = inside[layer]
        if frame.empty:
            continue
        kinds = ""
        category = LAYERS[layer].view.category_field
        if category is not None:
            text = dp.format_column(frame[category], layer=layer, field=category, lang=lang())
            kinds = text.tolist()
        names = frame["name"].astype(str).tolist()
        items = [
            f"{n}（{k}）" if kinds else n
            for n, k in zip(names, kinds or [""] * len(names), strict=True)
        ]
        lines.append(
            f"- {render.layer_name(layer, lang())} {len(frame)}: "
            + "、".join(safe(i) for i in items)
        )
    pop = inside["population"]
    if len(pop):
        lines.append(
            f"- {tr('人口点', 'Population points')} {len(pop)}: "
            f"{int(pd.to_numeric(pop['residents'], errors='coerce').fillna(0).sum()):,} {tr('人', 'residents')}"
        )
    st.markdown(
        "\n".join(lines) if lines else tr("网格内没有设施。", "No facilities inside this grid.")
    )

    st.markdown(
        f"**{tr('最近的服务设施（直线距离；有道路数据时另列沿道路步行距离）', 'Nearest services (straight line; with roads, also the walk along roads)')}**"
    )
    if table.empty:
        st.info(tr("没有邻里中心或避难场所数据。", "No neighborhood center or shelter data."))
    else:
        colon = tr("：", ": ")
        st.markdown(
            "\n".join(
                f"- {safe(k)}{colon}**{safe(n)}** · {d}"
                for k, n, d in table.itertuples(index=False)
            )
        )


def _walker(origin, prof):
    """``describe(features, position) -> text``: the walk along roads from `origin` to one
    feature ("步行 1.1 km"; "步行 1.1 km，经北门" when it ends at one of a park's entrances),
    or None when the store has no roads."""
    roads = da.load_layer("roads")
    if not len(roads):
        return None
    from geo.network import Walk, walking_graph

    entrances = da.load_layer("entrances") if "entrances" in da.store_layers() else None
    if entrances is not None:
        entrances = entrances.to_crs(prof.metric_crs) if len(entrances) else None
    walk = Walk(
        walking_graph(roads.to_crs(prof.metric_crs)), float(prof.network.max_snap_m), entrances
    )
    start = gpd.GeoDataFrame(geometry=[origin], crs=LONLAT_CRS).to_crs(prof.metric_crs)

    def describe(features: gpd.GeoDataFrame, label) -> str:
        one = features.loc[[label]].to_crs(prof.metric_crs)
        text = dp.describe_walk(float(walk.nearest(start, one)[0].iloc[0]), lang())
        gate = walk.entrance_used(start, one).iloc[0]
        if gate is None:
            return text
        name = entrances.loc[gate, "name"]
        name = (
            name if isinstance(name, str) and name.strip() else entrances.loc[gate, "entrance_id"]
        )
        return text + tr(f"，经{safe(name)}", f" via {safe(name)}")

    return describe


def nearest_table(shape, prof) -> pd.DataFrame:
    """Nearest neighborhood center and nearest shelter of each class from the grid's centre:
    direction and straight-line distance, and the walk along roads when the store has roads
    ("东北 620 m，步行 1.1 km")."""
    origin = shape.representative_point() if not shape.is_empty else shape
    rows = []
    walk = _walker(origin, prof)
    sep = tr("，", ", ")

    def text(features: gpd.GeoDataFrame, r) -> str:
        straight = dp.describe_distance(r["distance_m"], r["direction"])
        return straight if walk is None else straight + sep + walk(features, r.name)

    centers = da.load_layer("neighborhood_centers")
    if len(centers):
        near = dp.nearest(origin, centers, metric_crs=prof.metric_crs, lang=lang())
        r = near.iloc[0]
        rows.append((tr("党群邻里中心", "Neighborhood center"), r["name"], text(centers, r)))
    shelter_frame = da.load_layer("shelters")
    if len(shelter_frame):
        near = dp.nearest(
            origin, shelter_frame, metric_crs=prof.metric_crs, by="shelter_class", lang=lang()
        )
        order = {c: n for n, c in enumerate(shelters.CLASSES)}
        near = near.assign(_o=near["shelter_class"].map(order)).sort_values("_o")
        for _, r in near.iterrows():
            label = shelters.CLASS_LABELS.get(r["shelter_class"], (r["shelter_class"],) * 2)[
                0 if lang() == "zh" else 1
            ]
            rows.append((label, r["name"], text(shelter_frame, r)))
    generic = da.load_layer(GENERIC_LAYER) if GENERIC_LAYER in da.store_layers() else None
    for spec in kinds_on_layer(prof.facility_kinds, GENERIC_LAYER).values():
        if generic is None:
            break
        frame = generic[generic[spec.column].isin(spec.own_values)]
        if len(frame):
            r = dp.nearest(origin, frame, metric_crs=prof.metric_crs, lang=lang()).iloc[0]
            rows.append((spec.label(lang()), r["name"], text(frame, r)))
    return pd.DataFrame(
        rows,
        columns=[
            tr("类型", "Kind"),
            tr("名称", "Name"),
            tr("方向与距离", "Direction and distance"),
        ],
    )


#: Colours of the lines to the nearest services on the My grid map.
NEAREST_STYLE = {"center": "#2e7d32", "shelter": "#c62828"}


def nearest_links(shape, prof) -> gpd.GeoDataFrame:
    """Lines from the grid to its nearest neighborhood center and nearest shelter of each class
    (the ones the panel lists), with ``kind``, ``label`` and ``distance`` text columns."""
    origin = shape.representative_point() if not shape.is_empty else shape
    parts = []
    sources = (
        ("center", "neighborhood_centers", None, ("党群邻里中心", "Neighborhood center")),
        ("shelter", "shelters", "shelter_class", ("避难场所", "Shelter")),
    )
    for kind, layer, by, title in sources:
        frame = da.load_layer(layer)
        if frame.empty:
            continue
        links = dp.nearest_links(origin, frame, metric_crs=prof.metric_crs, by=by, lang=lang())
        if by:
            classes = links[by].map(lambda c: shelters.CLASS_LABELS.get(c, (c, c)))
            kinds = [c[0] if lang() == "zh" else c[1] for c in classes]
        else:
            kinds = [title[0] if lang() == "zh" else title[1]] * len(links)
        parts.append(
            links.assign(
                kind=kind,
                label=[f"{k} · {n}" for k, n in zip(kinds, links["name"], strict=True)],
                distance=[
                    dp.describe_distance(d, w)
                    for d, w in zip(links["distance_m"], links["direction"], strict=True)
                ],
            )[["kind", "label", "distance", "geometry"]]
        )
    if not parts:
        return gpd.GeoDataFrame({"kind": [], "label": [], "distance": []}, geometry=[], crs=4326)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)


def add_nearest(m, links: gpd.GeoDataFrame) -> None:
    """The lines to the nearest services and a ring at each service's end of its line."""
    names = {
        "center": tr("到最近的邻里中心", "To the nearest center"),
        "shelter": tr("到最近的避难场所", "To the nearest shelters"),
    }
    fields = {
        "label": tr("设施", "Facility"),
        "distance": tr("方向与距离", "Direction and distance"),
    }
    present = [k for k in NEAREST_STYLE if (links["kind"] == k).any()]
    render.add_polygons(
        m,
        links,
        render.LayerSpec(
            name=tr("最近的服务设施", "Nearest services"),
            key="nearest",
            fields=fields,
            tooltip=["label", "distance"],
            style={"weight": 3, "dashArray": "6 4", "fillOpacity": 0},
            symbols={k: {"color": NEAREST_STYLE[k], "label": names[k]} for k in present},
            legend=[("ln", f"border-top-color:{NEAREST_STYLE[k]}", names[k]) for k in present],
        ),
        category=links["kind"],
    )
    ends = links.assign(geometry=links.geometry.map(lambda line: shapely.Point(line.coords[-1])))
    render.add_points(
        m,
        gpd.GeoDataFrame(ends, crs=links.crs),
        render.LayerSpec(
            name=tr("最近的服务设施", "Nearest services"),
            key="nearest_end",
            fields=fields,
            tooltip=["label", "distance"],
            symbols={k: {"color": NEAREST_STYLE[k], "radius": 8} for k in present},
            style={"weight": 3, "fillOpacity": 0.25},
            legend=False,
        ),
        category=ends["kind"],
    )


def roads_toggle(container) -> bool:
    """The roads layer switch (off at first, as the layer's record says); False without roads."""
    if "roads" not in da.store_layers():
        return False
    if state.MY_GRID_ROADS not in st.session_state:
        st.session_state[state.MY_GRID_ROADS] = LAYERS["roads"].view.shown
    return container.checkbox(render.layer_name("roads", lang()), key=state.MY_GRID_ROADS)


@st.fragment
def grid_map(
    grid: gpd.GeoDataFrame,
    inside: dict[str, gpd.GeoDataFrame],
    *,
    basemap: str,
    roads: bool = False,
) -> None:
    """The grid with what lies around it and the lines to its nearest services: built once per
    data version, user scope, grid and view, and shared by every session asking for the same."""
    prof = da.profile()

    def build():
        m = render.base_map(prof, basemap, lang=lang(), view_counter=False, tianditu=tianditu_key())
        around = (
            grid.to_crs(prof.metric_crs).buffer(prof.display.around_grid_m).to_crs(grid.crs).iloc[0]
        )
        frames = {}
        present = set(da.store_layers())
        for layer in ("grids", *FACILITY_LAYERS, "entrances", *(("roads",) if roads else ())):
            if layer in present:
                frames[layer] = dp.within(da.display_layer(layer), around)
        render.draw_layers(m, frames, lang=lang())
        render.add_highlight(m, grid, name=tr("我的网格", "My grid"), key="my_grid")
        links = nearest_links(grid.geometry.iloc[0], prof)
        if len(links):
            add_nearest(m, links)
        shown = pd.concat([grid.geometry, links.geometry]) if len(links) else grid.geometry
        render.fit_to(m, gpd.GeoDataFrame(geometry=shown, crs=grid.crs), pad_m=120)
        return render.finish(m)

    store = da.current_store()
    view_key = (
        "my_grid",
        str(store.path),
        da.data_version(store),  # the store's version and the user's scope
        tuple(grid.index),
        roads,
        basemap,
        tianditu_key(),
        lang(),
        digest(prof),
    )
    st.session_state[state.MY_GRID_SUMMARY] = shared_map(
        build, cache_key=view_key, key=state.MY_GRID_MAP, height=480
    )


main()
