"""What-if tab: add proposed facilities and see coverage and shelter capacity change."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.analysis import GapAnalysis
from geo.crs import gcj02_to_wgs84
from geo.whatif import WhatIfError, apply_proposals, read_point_file
from layers.shelters import CLASS_LABELS
from maps import render
from ui import data_access as da
from ui.gaps.gap_map import gap_map, proposal_group
from ui.gaps.keys import (
    P_ADD,
    P_AREA,
    P_CAP,
    P_CLASS,
    P_CLEAR,
    P_CLICK,
    P_DATUM,
    P_KIND,
    P_LAST_CLICK,
    P_LAT,
    P_LEVEL,
    P_LON,
    P_NAME,
    P_REMOVE,
    P_UPLOAD,
    PROPOSALS,
    WHATIF_MAP,
)
from ui.gaps.labels import DATUMS, GROUP_LABELS, kind_label, kinds, level_radio, pair
from ui.gaps.proposals import add_proposal, proposal_frame
from ui.gaps.tables import table
from ui.i18n import lang, multiselect, selectbox, tr
from ui.text import safe


def _proposal_inputs() -> tuple[str, str | None, str, float, int]:
    c1, c2 = st.columns(2)
    kind = selectbox(
        c1, tr("设施类型", "Facility kind"), kinds(), format_func=kind_label, key=P_KIND
    )
    name = c2.text_input(tr("名称（可选）", "Name (optional)"), key=P_NAME)
    spec = da.profile().kind(kind)
    if spec.layer != "shelters":
        return kind, None, name, 0.0, 0
    values = list(spec.values)
    c3, c4, c5 = st.columns(3)
    shelter_class = (
        selectbox(
            c3,
            tr("避难场所类别", "Shelter class"),
            values,
            format_func=lambda v: pair(CLASS_LABELS[v]),
            key=P_CLASS,
        )
        if len(values) > 1
        else values[0]
    )
    area = c4.number_input(
        tr("有效面积 (m²)", "Effective area (m²)"),
        0.0,
        1e7,
        float(da.profile().analysis.proposed_shelter_area_m2),
        step=500.0,
        key=P_AREA,
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


def _degrees(container, label: str, limit: float, value: float, key: str) -> float:
    """A longitude or latitude input in degrees within ±`limit`."""
    return container.number_input(
        label, -limit, limit, float(value), step=0.001, format="%.5f", key=key
    )


def _add_from_inputs(analysis: GapAnalysis, basemap: str) -> None:
    """Proposal inputs: map click, typed coordinates, uploaded file."""
    kind, shelter_class, name, area, cap = _proposal_inputs()
    click_on = st.toggle(
        tr("点击地图添加拟建设施", "Click on the map to add a proposed facility"), key=P_CLICK
    )
    # the map itself does not change when a proposal is added (the proposals come as a feature
    # group): a new map would be a new component, and the click that added one would be lost
    # or counted again; one click adds one proposal
    m = gap_map(analysis, kind, basemap, full=False, proposals=False)
    out = st_folium(
        m,
        key=WHATIF_MAP,
        height=460,
        use_container_width=True,
        returned_objects=["last_clicked"],
        feature_group_to_add=proposal_group(kind),
    )
    clicked = (out or {}).get("last_clicked")
    if click_on and clicked and clicked != st.session_state.get(P_LAST_CLICK):
        st.session_state[P_LAST_CLICK] = clicked
        lon, lat = float(clicked["lng"]), float(clicked["lat"])
        if render.BASEMAPS.get(basemap, render.BASEMAPS["none"]).offsets == "gcj02":
            lon, lat = (float(v) for v in gcj02_to_wgs84(lon, lat))  # clicks on Gaode tiles
        add_proposal(lon, lat, kind, name, shelter_class, area, cap)
        st.rerun(scope="fragment")
    city = da.profile().city
    c1, c2, c3 = st.columns(3)
    lon = _degrees(c1, tr("经度", "Longitude"), 180.0, city.center_lon, P_LON)
    lat = _degrees(c2, tr("纬度", "Latitude"), 90.0, city.center_lat, P_LAT)
    datum = selectbox(
        c3, tr("坐标系", "Datum"), list(DATUMS), format_func=lambda d: pair(DATUMS[d]), key=P_DATUM
    )
    b1, b2 = st.columns(2)
    if b1.button(tr("按坐标添加", "Add at these coordinates"), key=P_ADD):
        if datum != "wgs84":
            point = read_point_file(f"lon,lat\n{lon},{lat}\n".encode(), "typed.csv", offsets=datum)
            lon, lat = float(point.geometry.x.iloc[0]), float(point.geometry.y.iloc[0])
        add_proposal(lon, lat, kind, name, shelter_class, area, cap)
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
            st.error(safe(exc.text(lang())))
            return
        st.session_state[f"{P_UPLOAD}_done"] = upload.file_id
        records = frame.drop(columns="geometry").to_dict("records")
        for row, geom in zip(records, frame.geometry, strict=True):
            add_proposal(
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
    """Proposal inputs, the proposals, and coverage and capacity before and after them."""
    st.caption(
        tr(
            "在地图上点击、输入坐标或上传文件添加拟建设施，重新计算覆盖与避难容量；不修改数据库。",
            "Add proposed facilities by clicking the map, typing coordinates or uploading a file; coverage and shelter capacity are recomputed. The store is not changed.",
        )
    )
    _add_from_inputs(analysis, basemap)
    props = proposal_frame()
    if props.empty:
        st.info(tr("尚未添加拟建设施。", "No proposed facilities yet."))
        return
    st.caption(tr(f"已添加 {len(props):,} 处拟建设施。", f"{len(props):,} proposed facilities."))
    labels = [f"P{i + 1} · {name}" for i, name in enumerate(props["name"])]
    r1, r2 = st.columns([3, 1])
    multiselect(
        r1,
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
        st.error(safe(exc.text(lang())))
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
    wkind = selectbox(
        c1,
        tr("按区域查看", "By area for"),
        result.kinds,
        format_func=kind_label,
        key=f"{P_LEVEL}_kind",
    )
    level = level_radio(c2, tr("层级", "Level"), P_LEVEL)
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
        cap["group"] = cap["group"].map(lambda g: pair(GROUP_LABELS[g]))
        table(cap, "gaps_whatif_capacity", csv="whatif_capacity.csv")
