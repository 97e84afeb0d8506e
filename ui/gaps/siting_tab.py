"""Suggest-sites tab: maximal covering location of k new sites."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from geo.analysis import GapAnalysis
from geo.coverage import radius_for
from geo.crs import LONLAT_CRS
from geo.siting import SiteSuggestion, SitingError
from geo.whatif import WhatIfError
from layers.messages import in_lang
from layers.shelters import FIXED_CLASSES
from ui import data_access as da
from ui.gaps.compute import suggestion
from ui.gaps.gap_map import show_gap_map
from ui.gaps.keys import (
    S_AREA,
    S_DATUM,
    S_K,
    S_KIND,
    S_MAP,
    S_METHOD,
    S_RESULT,
    S_RUN,
    S_SOURCE,
    S_TO_WHATIF,
    S_UPLOAD,
)
from ui.gaps.labels import DATUMS, kind_label, kinds, pair
from ui.gaps.proposals import add_proposal
from ui.gaps.tables import persons, table
from ui.i18n import lang, selectbox, tr
from ui.text import safe

METHOD_LABELS = {
    "auto": ("自动（规模小则精确求解）", "Automatic (exact when small enough)"),
    "exact": ("精确（HiGHS 混合整数规划）", "Exact (HiGHS MILP)"),
    "greedy": ("贪心算法（附最优性界）", "Greedy (with a bound)"),
}


def _siting_inputs(analysis: GapAnalysis) -> tuple | None:
    c1, c2, c3 = st.columns([2, 1, 2])
    kind = selectbox(
        c1, tr("设施类型", "Facility kind"), kinds(), format_func=kind_label, key=S_KIND
    )
    k = int(c2.number_input(tr("新址数 k", "Number of sites k"), 1, 100, 5, key=S_K))
    method = selectbox(
        c3,
        tr("求解方法", "Method"),
        list(METHOD_LABELS),
        format_func=lambda v: pair(METHOD_LABELS[v]),
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
        datum = selectbox(
            u2,
            tr("坐标系", "Datum"),
            list(DATUMS),
            format_func=lambda d: pair(DATUMS[d]),
            key=S_DATUM,
        )
        if file is None:
            st.info(tr("请上传候选点文件。", "Upload a candidate file."))
            return None
        upload, upload_name = file.getvalue(), file.name
    radius = radius_for(kind, analysis.profile)
    detour = float(analysis.profile.radii.detour_factor)
    return (
        kind,
        radius,
        detour,
        k,
        method,
        upload,
        upload_name,
        datum,
        analysis.profile.distance(kind),
    )


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
    """Inputs, the suggested sites with their bound, a map, and a button adding them to the what-if."""
    cell = analysis.profile.analysis.gap_cell_m
    st.caption(
        tr(
            f"最大覆盖选址：选 k 个新址，使当前未覆盖的居民被覆盖最多（需求 = 约 {cell:g} m 单元内的未覆盖人口）。",
            f"Maximal covering location: choose k new sites covering the most currently uncovered residents (demand = uncovered residents in cells of about {cell:g} m).",
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
        st.error(safe(exc.text(lang()) if isinstance(exc, WhatIfError) else exc))
        return
    sites = result.sites.to_crs(LONLAT_CRS)
    asked["sites"] = sites[["rank", "newly_covered", "geometry"]]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        tr("求解方法", "Method used"),
        tr("精确 MILP", "Exact MILP") if result.method == "exact" else tr("贪心", "Greedy"),
        help=pair(METHOD_LABELS[result.method]),
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
                f"已证明最优：{how}（{safe(kind_label(kind))}，半径 {radius:,.0f} m，求解 {result.solve_time_s:.2f} s）。",
                f"Proven optimal: {how} ({safe(kind_label(kind))}, radius {radius:,.0f} m, solved in {result.solve_time_s:.2f} s).",
            )
        )
    else:
        st.info(_bound_text(result))
    for note in result.notes:
        st.caption(safe(in_lang(note, lang())))
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
    show_gap_map(analysis, kind, basemap, key=S_MAP, height=460, full=False, sites=True)
    area = _site_area(analysis, kind)
    if st.button(
        tr("将建议选址加入假设分析", "Add the suggested sites to the what-if"),
        key=S_TO_WHATIF,
        on_click=_add_sites,  # a callback runs before the page, so the What-if tab sees them
        args=(kind, found[["rank", "lon", "lat"]].to_numpy().tolist(), area),
    ):
        st.success(tr("已加入，请到“假设分析”查看。", "Added: see the What-if tab."))


def _site_area(analysis: GapAnalysis, kind: str) -> float:
    """Effective area (m²) each suggested shelter gets in the what-if (0 for other kinds).

    Without an area a new shelter would hold nobody and the shelters' loads would not change;
    the default comes from the profile (``analysis.proposed_shelter_area_m2``) and is editable.
    """
    if da.profile().kind(kind).layer != "shelters":
        return 0.0
    area = st.number_input(
        tr("每处建议避难场所的有效面积 (m²)", "Effective area of each suggested shelter (m²)"),
        0.0,
        1e7,
        float(analysis.profile.analysis.proposed_shelter_area_m2),
        step=500.0,
        key=S_AREA,
    )
    shelter_class = _site_class(kind)
    per = getattr(analysis.profile.per_capita_area_m2, shelter_class)
    st.caption(
        tr(
            f"加入假设分析时，每处建议避难场所按有效面积 {area:,.0f} m² 计入避难容量"
            f"（÷ 人均 {per:g} m² ≈ {int(area // per):,} 人）；默认值来自城市配置，可修改。",
            f"In the what-if each suggested shelter counts with an effective area of {area:,.0f} m² "
            f"(÷ {per:g} m² per person ≈ {int(area // per):,} persons); the default comes from "
            "the city profile and can be changed.",
        )
    )
    return float(area)


def _site_class(kind: str) -> str:
    """The shelter class a suggested site of `kind` gets (the first class of the kind)."""
    return FIXED_CLASSES[0] if kind == "shelters_fixed" else da.profile().kind(kind).values[0]


def _add_sites(kind: str, rows: list[list[float]], area: float = 0.0) -> None:
    is_shelter = da.profile().kind(kind).layer == "shelters"
    shelter_class = _site_class(kind) if is_shelter else None
    for rank, lon, lat in rows:
        name = f"{tr('建议', 'Suggested')} {int(rank)}"
        add_proposal(lon, lat, kind, name, shelter_class, area if is_shelter else 0, 0)
