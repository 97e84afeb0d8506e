"""Progress page section "网格事件": response KPIs, map, recurring problems, last-twice flags."""

from __future__ import annotations

import branca.colormap as cm
import folium
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from field import kpis
from field.summary import FieldSummary, periods_with_reports, summarise
from maps import render
from maps.display import shift_for_basemap
from ui import data_access as da
from ui.field import actor, keys
from ui.field import data as fd
from ui.field.mapping import add_state_points
from ui.i18n import lang, selectbox, tr
from ui.map_controls import tianditu_key
from ui.text import safe

MAP_POINTS = 3000
"""Most report points drawn on the Progress map (the density layer counts them all)."""
LEVEL_LAYERS = {"street": "streets", "community": "communities"}


@st.cache_resource(show_spinner=False, max_entries=16)
def _summary(
    path: str,
    field_version: str,
    data_version: str,
    scope: str,
    period: str,
    minute: str,
    _store=None,
) -> FieldSummary:
    """Summary of the reports and grids inside `scope` (cached per data, scope and minute)."""
    from auth.model import Scope, scope_mask
    from data.store import open_store
    from field.store import field_store

    store = _store if _store is not None else open_store(path)
    field = field_store(store)
    user_scope = Scope.parse(scope)
    reports = field.reports()
    reports = reports[scope_mask(user_scope, reports).to_numpy()]
    grids = store.read("grids")
    grids = grids[scope_mask(user_scope, grids).to_numpy()]
    return summarise(
        reports,
        field.visits(),
        grids,
        fd.rules(),
        period=period,
        now=pd.Timestamp(minute),
        metric_crs=da.profile().metric_crs,
    )


def field_summary(period: str) -> FieldSummary:
    """The summary of `period` for the current user's scope."""
    user = actor.current_user()
    store = da.current_store()
    minute = fd.now().ceil("min").isoformat()  # the reference time, to the next minute
    return _summary(
        str(store.path),
        fd.field_store().version(),
        store.version(),
        str(user.scope),
        period,
        minute,
        store,
    )


def _label(col: str) -> str:
    zh, en = kpis.KPI_LABELS[col]
    return tr(zh, en)


def _fmt(col: str, value: float) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    if col in ("on_time_share", "visit_share"):
        return f"{value:.1%}"
    if col in ("reports", "overdue_now"):
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _delta(col: str, value: float) -> str | None:
    if value is None or not np.isfinite(value):
        return None
    if col in ("on_time_share", "visit_share"):
        return tr(f"{value * 100:+.1f} 个百分点", f"{value * 100:+.1f} pp")
    return f"{value:+,.1f}" if col not in ("reports", "overdue_now") else f"{value:+,.0f}"


def field_progress(period: str, *, basemap: str = "none") -> None:
    """The section for `period` (quarter); quarters with reports can be picked too."""
    options = sorted(set(periods_with_reports(fd.reports())) | {period})
    if st.session_state.get(keys.PROGRESS_PERIOD) not in options:
        st.session_state[keys.PROGRESS_PERIOD] = period
    period = selectbox(st, tr("季度", "Quarter"), options, key=keys.PROGRESS_PERIOD)
    summary = field_summary(period)
    if summary.empty:
        st.info(tr(f"{safe(period)} 没有上报的事件。", f"No field reports in {safe(period)}."))
        return
    if summary.synthetic:
        st.caption(tr("合成示例事件，非真实数据。", "Synthetic demo reports, not real data."))
    city = summary.city.iloc[0]
    cols = st.columns(3)
    for n, col in enumerate(kpis.KPI_COLUMNS):
        directions = kpis.HIGHER_IS_BETTER[col]
        cols[n % 3].metric(
            _label(col),
            _fmt(col, city[col]),
            _delta(col, city[f"{col}_change"]),
            delta_color="normal" if directions else ("inverse" if directions is False else "off"),
        )
    st.caption(
        tr(
            f"与 {summary.previous_period} 相比。按时处置：处置时限见城市配置；超时未办按期末（当前季度按现在）计。",
            f"Change since {summary.previous_period}. Limits from the city profile; overdue at "
            "the period's end (now for the current quarter).",
        )
    )
    flags = summary.last_twice
    if len(flags):
        lines = [
            f"- {safe(_level_name(r.level))} **{safe(r.area)}** · {safe(_label(r.indicator))}: "
            f"{safe(_fmt(r.indicator, r.previous_value))} → {safe(_fmt(r.indicator, r.value))}"
            for r in flags.itertuples()
        ]
        st.warning(
            tr("连续两个季度排名末位（约谈）：", "Ranked last two quarters in a row:")
            + "\n"
            + "\n".join(lines)
        )
    level = st.radio(
        tr("区域", "Areas"),
        list(LEVEL_LAYERS),
        format_func=_level_name,
        horizontal=True,
        key=keys.PROGRESS_LEVEL,
    )
    table = summary.areas[level]
    shown = pd.DataFrame({_level_name(level): table.index})
    for col in kpis.KPI_COLUMNS:
        shown[_label(col)] = [_fmt(col, v) for v in table[col]]
        shown[tr("变化", "Change") + " · " + _label(col)] = [
            _delta(col, v) or "" for v in table[f"{col}_change"]
        ]
    st.dataframe(shown, hide_index=True, use_container_width=True, height=320)
    report_map(summary, level, basemap=basemap)
    st.markdown(f"**{tr('重复发生的问题', 'Recurring problems')}**")
    rules = fd.rules()
    rec = summary.recurring
    if rec.empty:
        st.caption(tr("没有。", "None."))
    else:
        st.caption(
            tr(
                f"规则：近 {rules.cluster_periods} 个季度内同类事件 ≥ {rules.cluster_min_reports} 件，"
                f"彼此相距 ≤ {rules.cluster_radius_m:,.0f} m 连成一片。",
                f"Rule: ≥ {rules.cluster_min_reports} reports of one category over the last "
                f"{rules.cluster_periods} quarters, chained within {rules.cluster_radius_m:,.0f} m.",
            )
        )
        st.dataframe(
            pd.DataFrame(
                {
                    tr("编号", "ID"): rec["cluster_id"],
                    tr("类别", "Category"): [
                        rules.category(c).label(lang()) for c in rec["category"]
                    ],
                    tr("件数", "Reports"): rec["n_reports"],
                    tr("范围 (m)", "Radius (m)"): rec["radius_m"].round(0),
                    tr("街道", "Street"): rec["street"],
                    tr("社区", "Community"): rec["community"],
                }
            ),
            hide_index=True,
            use_container_width=True,
        )
    st.markdown(f"**{tr('各街道分类上报数', 'Reports by category and street')}**")
    by_cat = summary.by_category.rename(columns=lambda c: rules.category(c).label(lang()))
    st.dataframe(by_cat, use_container_width=True, height=260)


def _level_name(level: str) -> str:
    return {
        "street": tr("街道/乡镇", "Street/township"),
        "community": tr("社区/村", "Community/village"),
    }[level]


@st.fragment
def report_map(summary: FieldSummary, level: str, *, basemap: str) -> None:
    """Reports by state and reports per 1,000 residents per area."""
    prof = da.profile()
    m = render.base_map(prof, basemap, lang=lang(), view_counter=False, tianditu=tianditu_key())
    offsets = m.offsets
    polys = da.display_layer(LEVEL_LAYERS[level])
    density = summary.areas[level]["per_1000_residents"]
    if len(polys):
        values = polys["name"].map(density)
        finite = values[np.isfinite(values.astype(float))]
        if len(finite):
            scale = cm.LinearColormap(
                ["#fff7ec", "#fc8d59", "#b30000"],
                vmin=float(finite.min()),
                vmax=float(finite.max()),
            )
            shapes = shift_for_basemap(
                polys.assign(_v=values.astype(float))[["name", "_v", "geometry"]], offsets
            )
            folium.GeoJson(
                shapes.to_json(),
                name=tr("上报密度", "Report density"),
                style_function=lambda f: {
                    "fillColor": scale(f["properties"]["_v"])
                    if f["properties"]["_v"] is not None
                    else "#eeeeee",
                    "color": "#78909c",
                    "weight": 0.6,
                    "fillOpacity": 0.55,
                },
                tooltip=folium.GeoJsonTooltip(["name"], labels=False),
            ).add_to(m)
            # no scale.add_to(m): branca's colour bar loads d3 from a CDN; the caption says it
            st.caption(
                tr(
                    f"底色：每千人上报数，浅 {finite.min():,.1f} → 深 {finite.max():,.1f}。",
                    f"Shading: reports per 1,000 residents, light {finite.min():,.1f} → "
                    f"dark {finite.max():,.1f}.",
                )
            )
    add_state_points(m, summary.reports.head(MAP_POINTS), lang=lang(), radius=3)
    rec = shift_for_basemap(summary.recurring, offsets)
    if len(rec):
        group = folium.FeatureGroup(name=tr("重复发生的问题", "Recurring problems"))
        for cid, n, x, y in zip(
            rec["cluster_id"], rec["n_reports"], rec.geometry.x, rec.geometry.y, strict=True
        ):
            folium.CircleMarker(
                [y, x],
                radius=8 + float(n),
                color="#6a1b9a",
                weight=3,
                fill=False,
                tooltip=f"{cid} · {n}",
            ).add_to(group)
        group.add_to(m)
    render.finish(m)
    st_folium(m, key=keys.PROGRESS_MAP, height=460, use_container_width=True, returned_objects=[])
