"""Coverage tab: city coverage per kind, roll-up by area and gap hot spots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from geo import fmt
from geo.analysis import GapAnalysis
from geo.crs import LONLAT_CRS
from geo.indicators import STATUS_LABELS, statuses
from ui.gaps.keys import ROLLUP_KIND, ROLLUP_LEVEL, ROLLUP_TOP
from ui.gaps.labels import kind_label, kinds, level_radio, pair
from ui.gaps.locate import area_names, show_on_map
from ui.gaps.tables import table
from ui.i18n import selectbox, tr
from ui.text import safe


def coverage_table(analysis: GapAnalysis) -> pd.DataFrame:
    """City coverage per kind (the numbers of ``cli.py gaps --json``), targets and status."""
    profile = analysis.profile
    rows = []
    for kind, res in analysis.coverage.items():
        target = profile.kind(kind).indicator
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
                "target_pct": profile.target(kind) * 100 if target else np.nan,
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
        state[has] = codes.map(lambda c: pair(STATUS_LABELS[c])).to_numpy()
    out["status"] = state
    return out.drop(columns="indicator")


def population_note(analysis: GapAnalysis) -> str:
    """Where the page's residents come from, and why the explorer's total differs."""
    points = float(pd.to_numeric(analysis.population.get("residents"), errors="coerce").sum())
    grids = analysis.layers.get("grids")
    recorded = (
        float(pd.to_numeric(grids["residents"], errors="coerce").sum())
        if grids is not None and "residents" in grids
        else None
    )
    zh = f"人口点居民：人口点图层的居民数之和（{fmt.number(points)} 人）。"
    en = (
        f"Residents of population points: the sum over the population layer ({fmt.number(points)})."
    )
    if recorded is not None:
        zh += f"“地图浏览”页的“登记常住人口”是网格台账之和（{fmt.number(recorded)} 人），来源不同。"
        en += (
            f" The explorer's “residents on record” sums the grids' records "
            f"({fmt.number(recorded)}), a different source."
        )
    return tr(zh, en)


def network_note(found: dict) -> str:
    """The roads' findings (:func:`geo.network.network_findings`) in one sentence: residents off
    the roads or on road islands, facilities no walk reaches."""
    g, snap = found["graph"], found["max_snap_m"]
    off, points = found["residents_off_network"], found["points_off_network"]
    island, islands = found["residents_on_islands"], found["islands_with_residents"]
    text = tr(
        f"步行道路网：{g['length_km']:,.1f} km，{g['components']:,} 个互不连通的部分。"
        f"距道路超过 {snap:g} m 的居民 {off:,} 人（{points:,} 个人口点），步行不计覆盖；"
        f"{islands:,} 个与主路网不连通的“孤岛”路网上住有 {island:,} 人。",
        f"Walking network: {g['length_km']:,.1f} km in {g['components']:,} unconnected parts. "
        f"{off:,} residents ({points:,} population points) live more than {snap:g} m from any "
        f"road and are never covered on foot; {island:,} live on {islands:,} road islands cut "
        "off from the main network.",
    )
    unreached = {k: n for k, n in found["facilities_off_network"].items() if n}
    if unreached:
        listed = tr("、", ", ").join(f"{safe(kind_label(k))} {n:,}" for k, n in unreached.items())
        text += tr(
            f" 距道路过远、步行无法到达的设施：{listed}。", f" Facilities off the roads: {listed}."
        )
    return text


def show_coverage(analysis: GapAnalysis) -> None:
    """City coverage, areas ranked by uncovered residents and the gap hot spots of one kind."""
    st.subheader(tr("全市覆盖情况", "City coverage"))
    cov = coverage_table(analysis).drop(columns="kind")
    # kinds without a target show a dash, not an empty number
    target = cov.pop("target_pct").map(lambda v: f"{v:.1f}%" if pd.notna(v) else "—")
    cov.insert(cov.columns.get_loc("status"), "target", target)
    table(cov, "gaps_coverage_table", csv="coverage.csv")
    detour = analysis.profile.radii.detour_factor
    walked = [k for k, r in analysis.coverage.items() if r.distance_mode == "network"]
    straight_rule = tr(
        f"直线距离 × 绕行系数 {detour:g} ≤ 服务半径即为覆盖（恰在半径上也算覆盖）。",
        f"Covered: straight-line distance × detour factor {detour:g} ≤ radius (exactly on the radius counts).",
    )
    walk_rule = tr(
        "沿道路步行距离（含从住处到道路、从道路到设施的距离，不乘绕行系数）≤ 服务半径即为覆盖；"
        f"距道路超过 {analysis.profile.network.max_snap_m:g} m 的居民不计为覆盖。",
        "Covered: the walk along roads (including the way from home to the road and from the "
        "road to the facility, no detour factor) ≤ radius; residents more than "
        f"{analysis.profile.network.max_snap_m:g} m from any road are not covered.",
    )
    if not walked:
        st.caption(straight_rule)
    elif len(walked) == len(analysis.coverage):
        st.caption(walk_rule)
    else:
        names = "、".join(safe(kind_label(k)) for k in walked)  # labels from the profile file
        st.caption(tr(f"步行距离：{names}。", f"Walking distance: {names}. ") + walk_rule)
        st.caption(tr("其余类型：", "Other kinds: ") + straight_rule)
    if walked and analysis.has_roads:
        st.caption(network_note(analysis.network_findings()))
    st.caption(population_note(analysis))
    st.subheader(tr("按区域汇总：未覆盖人口最多的区域", "By area: most uncovered residents first"))
    c1, c2, c3 = st.columns([2, 2, 1])
    kind = selectbox(
        c1, tr("设施类型", "Facility kind"), kinds(), format_func=kind_label, key=ROLLUP_KIND
    )
    level = level_radio(c2, tr("汇总层级", "Level"), ROLLUP_LEVEL)
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

    show_overstated(analysis, kind, level, top)

    cell = analysis.profile.analysis.gap_cell_m
    st.subheader(
        tr(f"缺口热点（约 {cell:g} m 单元）", f"Gap hot spots (cells of about {cell:g} m)")
    )
    cells = analysis.gap_cells[kind]
    if cells.empty:
        st.success(tr("该类设施已覆盖全部常住人口。", "Every resident is covered for this kind."))
        return
    centres = cells.geometry.centroid.to_crs(LONLAT_CRS)
    where = area_names(analysis, cells)
    hot = pd.DataFrame(
        {
            "cell_id": cells["cell_id"].to_numpy(),
            "street": where["street"].to_numpy(),
            "community": where["community"].to_numpy(),
            "grid_name": where["grid_name"].to_numpy(),
            "residents_uncovered": cells["residents_uncovered"].to_numpy(),
            "points": cells["points"].to_numpy(),
            "lon": centres.x.round(5).to_numpy(),
            "lat": centres.y.round(5).to_numpy(),
        }
    )
    picked = table(hot, "gaps_cells_table", csv=f"gap_cells_{kind}.csv", rows=top, select=True)
    show_on_map(cells, picked, key="gaps_cells_map")


def show_overstated(analysis: GapAnalysis, kind: str, level: str, top: int) -> None:
    """What straight lines overstate for `kind`: residents covered by straight line but not
    along roads, per area of `level` (most first)."""
    st.subheader(tr("直线距离高估的覆盖", "What straight lines overstate"))
    if not analysis.has_roads:
        st.info(
            tr(
                "没有道路图层：导入道路（GeoJSON、Shapefile、GeoPackage 或 OSM PBF）后，"
                "可比较直线距离与沿道路步行距离。",
                "No roads layer: import roads (GeoJSON, Shapefile, GeoPackage or OSM PBF) to "
                "compare straight lines with walking along roads.",
            )
        )
        return
    over = analysis.overstated(level, [kind]).drop(columns=["kind", "level"])
    total = int(over["overstated"].sum())
    st.caption(
        tr(
            f"按直线距离算作已覆盖、但沿道路步行超出服务半径的居民：全市 {total:,} 人。"
            "河流只能经桥梁通过、山地道路稀少的地方差别最大。",
            f"Residents covered by straight line but beyond the radius on foot along roads: "
            f"{total:,} in the city. The gap is largest where rivers are crossed only at "
            "bridges and hills have few roads.",
        )
    )
    over = over[over["overstated"] > 0].reset_index(drop=True)
    if over.empty:
        st.success(tr("直线距离没有高估该类设施的覆盖。", "Straight lines overstate nothing here."))
        return
    over.insert(0, "rank", np.arange(1, len(over) + 1))
    over["share_pct"] = over.pop("share_overstated") * 100
    table(over, "gaps_overstated_table", csv=f"overstated_{kind}_{level}.csv", rows=top)
