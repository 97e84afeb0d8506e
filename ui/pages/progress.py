"""Progress page (工作进展): indicators against targets, rankings, period comparison, non-spatial
values per period, presentation mode and report downloads.

The gap analysis is cached per store version; every figure comes from
:func:`reports.build.analyse_period`, the same function the exports use, so the page and the
reports show the same numbers. Presentation mode (toggle, or ``?present=1``) hides the editing
controls, enlarges the type and steps through the city and then each district.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from auth.model import can
from data.snapshots import (
    TREND_LABELS,
    SnapshotError,
    analysis_params,
    compare_periods,
    current_period,
    get_plan_values,
    list_periods,
    save_snapshot,
    set_plan_values,
    sort_periods,
)
from data.store import Store, open_store
from geo.indicators import (
    LEVEL_LABELS,
    PLAN_KEYS,
    STATUS_COLORS,
    STATUS_LABELS,
    THEMES,
    get_indicator,
    indicators,
    period_target,
    ranked,
    spatial_keys,
)
from reports.build import PeriodAnalysis, analyse_period, write_report
from ui.auth import signed_in_user
from ui.data_access import current_store, data_version, profile, store_meta
from ui.i18n import lang, selectbox, tr
from ui.text import safe

# Session-state keys of this page, in one place.
KEYS = {
    "period": "progress_period",  # the period shown (kept while presenting)
    "period_pick": "progress_period_pick",  # its selectbox
    "level": "progress_level",
    "area": "progress_area",
    "rank_indicator": "progress_rank_indicator",
    "rank_level": "progress_rank_level",
    "cmp_before": "progress_cmp_before",
    "cmp_after": "progress_cmp_after",
    "cmp_indicator": "progress_cmp_indicator",
    "cmp_level": "progress_cmp_level",
    "present": "progress_present",  # presentation mode on/off (not a widget key)
    "step": "progress_step",
    "section": "progress_section",
    "exports": "progress_exports",
}
EXPORTS = {
    "pdf": ("PDF 报告", "PDF report", "application/pdf"),
    "pptx": (
        "PPT 演示文稿",
        "PowerPoint slides",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "xlsx": (
        "Excel 表格",
        "Excel tables",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "html": ("离线交互地图 (HTML)", "Offline interactive map (HTML)", "text/html"),
    "gpkg": ("缺口图层 (GeoPackage)", "Gap layers (GeoPackage)", "application/geopackage+sqlite3"),
}
TREND_COLORS = {
    "improved": "#2e7d32",
    "worsened": "#c62828",
    "unchanged": "#b0bec5",
    "new": "#90caf9",
    "removed": "#eeeeee",
}
PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none;}
.block-container {max-width: 100% !important; padding: 0.6rem 2rem 0.4rem !important;}
[data-testid="stMain"] [data-testid="stVerticalBlock"] {gap: 0.45rem;}
[data-testid="stMarkdownContainer"] p {font-size: 1.05rem;}
h1 {font-size: 2.4rem !important; padding: 0.1rem 0 !important;}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {font-size: 2.1rem !important; line-height: 1.1;}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {font-size: 1rem !important;}
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * {font-size: 0.95rem !important;}
[data-testid="stCaptionContainer"] {font-size: 1rem;}
/* the map takes the height left under the title and the KPIs: one step, one screen */
[data-testid="stImage"] img {max-height: calc(100vh - 480px); width: auto !important; max-width: 100%; object-fit: contain;}
</style>
"""
#: KPIs per row and the bar chart's largest height in presentation mode (fits 1440 x 900).
PRESENT_COLUMNS = 7
PRESENT_CHART_MAX_PX = 380


# --------------------------------------------------------------------------- cached data
@st.cache_resource(show_spinner=False, max_entries=4)
def _gap_analysis(path: str, version: str, profile_source: str):
    """The Service-gaps page's analysis with the profile's parameters (the same parts)."""
    from ui.gaps.compute import analysis

    return analysis(path, version, profile()).result()


@st.cache_resource(show_spinner=False, max_entries=16)
def _period_analysis(path: str, version: str, profile_source: str, period: str) -> PeriodAnalysis:
    store = open_store(path)
    return analyse_period(
        store, period, profile=profile(), analysis=_gap_analysis(path, version, profile_source)
    )


@st.cache_data(show_spinner=False, max_entries=16)
def _periods(path: str, version: str) -> list[str]:
    return list_periods(open_store(path))


@st.cache_data(show_spinner=False, max_entries=32)
def _comparison(
    path: str, version: str, profile_source: str, before: str, after: str
) -> pd.DataFrame:
    a = _period_analysis(path, version, profile_source, before).indicators
    b = _period_analysis(path, version, profile_source, after).indicators
    return compare_periods(a, b, profile())


@st.cache_data(show_spinner=False, max_entries=64)
def _area_map_png(
    path: str,
    version: str,
    profile_source: str,
    period: str,
    district: str | None,
    key: str,
    mode: str,
    other: str,
    lang: str = "zh",
) -> bytes:
    """Static map of the streets (of one district or the whole city) coloured by status or
    trend, with title and legend in language `lang`."""
    i = 0 if lang == "zh" else 1
    from reports.staticmap import MapLayer, figure_png, static_map

    pa = _period_analysis(path, version, profile_source, period)
    streets = pa.layers["streets"]
    districts = pa.layers["districts"]
    if district:
        streets = streets[streets["parent_code"] == district]
        districts = districts[districts["code"] == district]
    if mode == "trend":
        cmp = _comparison(path, version, profile_source, other, period)
        sel = cmp[(cmp["level"] == "street") & (cmp["indicator"] == key)]
        with_data = set(
            sel.loc[sel["value_before"].notna() | sel["value_after"].notna(), "area_code"]
        )
        rows = sel.set_index("area_code")["trend"]
        cats = {t: (TREND_COLORS[t], TREND_LABELS[t][i]) for t in TREND_COLORS}
        title = f"{get_indicator(key, profile()).name(lang)}{'：' if i == 0 else ': '}{other} → {period}"
        missing = "removed"
    else:
        ind_rows = pa.indicators
        sel = ind_rows[(ind_rows["level"] == "street") & (ind_rows["indicator"] == key)]
        with_data = set(sel.loc[sel["value"].notna(), "area_code"])
        rows = sel.set_index("area_code")["status"]
        cats = {s: (STATUS_COLORS[s], STATUS_LABELS[s][i]) for s in STATUS_COLORS}
        title = f"{get_indicator(key, profile()).name(lang)}" + (
            f"（{period}）" if i == 0 else f" ({period})"
        )
        missing = "no_data"
    frame = streets.assign(cls=streets["code"].map(rows).fillna(missing))
    layers = [
        MapLayer(
            frame, "", column="cls", categories=cats, alpha=0.75, edgecolor="#546e7a", linewidth=0.5
        ),
        MapLayer(
            districts,
            ("区县界", "District boundary")[i],
            kind="line",
            facecolor="#263238",
            linewidth=1.4,
            zorder=5,
        ),
    ]
    shown = streets[streets["code"].isin(with_data)]
    extent = shown if len(shown) else streets
    fig = static_map(
        layers,
        crs=pa.profile.metric_crs,
        title=title,
        labels=extent,
        extent=extent,
        legend_title=("图例", "Legend")[i],
        lang=lang,
        figsize=(7.5, 6.0),
        dpi=110,
    )
    return figure_png(fig)


# --------------------------------------------------------------------------- helpers
def _name(key: str) -> str:
    return get_indicator(key, profile()).name(lang())


def _status_text(status: str) -> str:
    return STATUS_LABELS.get(status, (status, status))[0 if lang() == "zh" else 1]


def _badge(status: str) -> str:
    color = STATUS_COLORS.get(status, "#9e9e9e")
    return (
        f"<span style='background:{color};color:white;border-radius:0.4em;padding:0.05em 0.5em;"
        f"font-size:0.85em'>{safe(_status_text(status))}</span>"
    )


def _delta(key: str, change: float | None) -> str | None:
    if change is None or not np.isfinite(change):
        return None
    return get_indicator(key, profile()).format_change(change, lang())


def _level_label(level: str) -> str:
    return LEVEL_LABELS[level][0 if lang() == "zh" else 1]


def _area_rows(table: pd.DataFrame, level: str, code: str) -> pd.DataFrame:
    return table[(table["level"] == level) & (table["area_code"] == code)].set_index("indicator")


def _changes(pa: PeriodAnalysis, level: str, code: str) -> pd.Series | None:
    """Change of each indicator of one area since the previous period (None without one)."""
    if pa.comparison is None:
        return None
    return _area_rows(pa.comparison, level, code)["change"]


def _indicator_and_level(indicator_key: str, level_key: str) -> tuple[str, str]:
    """A spatial indicator and a level (district or street) picked side by side."""
    c1, c2 = st.columns(2)
    key = selectbox(
        c1,
        tr("指标", "Indicator"),
        list(spatial_keys(profile())),
        format_func=_name,
        key=indicator_key,
    )
    level = c2.radio(
        tr("层级", "Level"),
        ["district", "street"],
        format_func=_level_label,
        horizontal=True,
        key=level_key,
    )
    return key, level


def _metrics(
    rows: pd.DataFrame, changes: pd.Series | None, keys: list[str], *, columns: int = 4
) -> None:
    """One st.metric per indicator (value, change since the previous period) with its status."""
    keys = [k for k in keys if k in rows.index]
    for start in range(0, len(keys), columns):
        cols = st.columns(columns)
        for col, key in zip(cols, keys[start : start + columns], strict=False):
            ind = get_indicator(key, profile())
            row = rows.loc[key]
            change = float(changes[key]) if changes is not None and key in changes.index else None
            with col:
                st.metric(
                    _name(key),
                    ind.format(row["value"], lang()),
                    delta=_delta(key, change),
                    # no change is neutral: grey, no arrow
                    delta_color="off"
                    if ind.unchanged(change)
                    else ("normal" if ind.direction == "higher" else "inverse"),
                    delta_arrow="off" if ind.unchanged(change) else "auto",
                    help=tr(
                        f"目标 {ind.format(row['target'], lang())}",
                        f"Target {ind.format(row['target'], lang())}",
                    ),
                )
                st.markdown(
                    f"{_badge(row['status'])} {tr('目标', 'target')} {ind.format(row['target'], lang())}",
                    unsafe_allow_html=True,
                )


def _indicator_frame(rows: pd.DataFrame, changes: pd.Series | None) -> pd.DataFrame:
    keys = [i.key for i in indicators(profile()) if i.key in rows.index]
    return pd.DataFrame(
        {
            tr("主题", "Theme"): [
                THEMES[get_indicator(k, profile()).theme][0 if lang() == "zh" else 1] for k in keys
            ],
            tr("指标", "Indicator"): [_name(k) for k in keys],
            tr("当前值", "Value"): [
                get_indicator(k, profile()).format(rows.loc[k, "value"], lang()) for k in keys
            ],
            tr("目标", "Target"): [
                get_indicator(k, profile()).format(rows.loc[k, "target"], lang()) for k in keys
            ],
            tr("状态", "Status"): [_status_text(rows.loc[k, "status"]) for k in keys],
            tr("较上期", "Change"): [
                _delta(k, float(changes[k])) if changes is not None and k in changes.index else None
                for k in keys
            ],
        }
    )


def _bar_chart(
    rows: pd.DataFrame, key: str, *, height: int | None = None, large: bool = False
) -> alt.Chart:
    """Horizontal bars of areas coloured by status, with the target as a dashed rule.

    Colours and rule both follow the period's stored target (:func:`period_target`).
    """
    ind = get_indicator(key, profile())
    scale = 100.0 if ind.kind == "share" else 1.0
    data = pd.DataFrame(
        {
            "area": rows["area_name"].astype(str).to_numpy(),
            "value": rows["value"].astype(float).to_numpy() * scale,
            "status": rows["status"].map(_status_text).to_numpy(),
        }
    ).dropna(subset=["value"])
    order = [_status_text(s) for s in STATUS_COLORS]
    unit = "%" if ind.kind == "share" else ind.unit_label(lang())
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=f"{ind.name(lang())} ({unit})"),
            y=alt.Y("area:N", sort="x", title=None),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=order, range=list(STATUS_COLORS.values())),
                legend=alt.Legend(title=tr("状态", "Status"), orient="bottom"),
            ),
            tooltip=["area", alt.Tooltip("value:Q", format=".1f"), "status"],
        )
    )
    # the target the bars' statuses were judged against: the one stored with the period
    target = period_target(rows, key, profile())
    rule = (
        alt.Chart(pd.DataFrame({"target": [np.nan if target is None else target * scale]}))
        .mark_rule(color="#c62828", strokeDash=[6, 4], size=2)
        .encode(x="target:Q")
    )
    chart = (bars + rule).properties(height=height or max(120, 22 * len(data)))
    size = 16 if large else 12
    return chart.configure_axis(labelFontSize=size, titleFontSize=size).configure_legend(
        labelFontSize=size - 1, titleFontSize=size - 1
    )


def _known_periods(path: str, version: str, meta: dict[str, str]) -> list[str]:
    """Saved snapshots and the store's current period, oldest first (as dates), the same
    list ``cli.py report`` accepts; the page opens on the last one."""
    return sort_periods([*_periods(path, version), current_period(meta)])


# --------------------------------------------------------------------------- sections
def overview(pa: PeriodAnalysis) -> None:
    table = pa.indicators
    levels = list(LEVEL_LABELS)
    level = st.radio(
        tr("范围", "Scope"),
        levels,
        format_func=_level_label,
        horizontal=True,
        key=KEYS["level"],
    )
    if level == "city":
        code = table.loc[table["level"] == "city", "area_code"].iloc[0]
    else:
        areas = table[table["level"] == level].drop_duplicates("area_code")
        names = dict(zip(areas["area_code"], areas["area_name"], strict=True))
        code = selectbox(
            st, tr("区域", "Area"), list(names), format_func=names.get, key=KEYS["area"]
        )
    rows = _area_rows(table, level, code)
    changes = _changes(pa, level, code)
    if changes is not None:
        prev = safe(pa.previous_period)
        st.caption(tr(f"变化：与 {prev} 相比", f"Changes since {prev}"))
    for theme, (zh, en) in THEMES.items():
        keys = [i.key for i in indicators(profile()) if i.theme == theme and i.key in rows.index]
        if not keys:
            continue
        st.subheader(zh if lang() == "zh" else en)
        _metrics(rows, changes, keys)
    with st.expander(tr("指标明细表", "All indicators as a table")):
        st.dataframe(_indicator_frame(rows, changes), hide_index=True, width="stretch")


def ranking(pa: PeriodAnalysis) -> None:
    key, level = _indicator_and_level(KEYS["rank_indicator"], KEYS["rank_level"])
    rows = ranked(pa.indicators, key, level, profile())
    rows = rows[rows["value"].notna()]
    if rows.empty:
        st.info(tr("该层级没有此指标的数据。", "No data for this indicator at this level."))
        return
    ind = get_indicator(key, profile())
    left, right = st.columns([1, 1])
    with left:
        st.dataframe(
            pd.DataFrame(
                {
                    tr("排名", "Rank"): rows["rank"],
                    tr("区域", "Area"): rows["area_name"],
                    tr("数值", "Value"): rows["value"].map(lambda v: ind.format(v, lang())),
                    tr("状态", "Status"): rows["status"].map(_status_text),
                }
            ),
            hide_index=True,
            width="stretch",
        )
    with right:
        chart_height = 28 * len(rows) + 170  # axis, title and legend take about 170 px
        st.altair_chart(
            _bar_chart(rows, key, height=chart_height), width="stretch", height=chart_height
        )
        st.caption(
            tr(
                "柱的颜色与红色虚线目标均按该时期保存的目标（目标在配置中修改后，过去时期不变）。",
                "Bar colours and the dashed target both use the target saved with the period "
                "(a target changed in the profile later does not alter past periods).",
            )
        )


def comparison(pa: PeriodAnalysis, periods: list[str], ctx: tuple[str, str, str]) -> None:
    if len(periods) < 2:
        st.info(
            tr(
                "至少需要两个时期的快照才能比较。请在“非空间指标与快照”中保存本期快照。",
                "Comparing needs snapshots of two periods: save this period's snapshot first.",
            )
        )
        return
    c1, c2 = st.columns(2)
    after_default = periods.index(pa.period) if pa.period in periods else len(periods) - 1
    before = selectbox(
        c1, tr("基期", "From"), periods, index=max(after_default - 1, 0), key=KEYS["cmp_before"]
    )
    after = selectbox(c2, tr("对比期", "To"), periods, index=after_default, key=KEYS["cmp_after"])
    if before == after:
        st.warning(tr("请选择两个不同的时期。", "Choose two different periods."))
        return
    cmp = _comparison(*ctx, before, after)
    city = cmp[cmp["level"] == "city"]
    trend_text = {t: v[0 if lang() == "zh" else 1] for t, v in TREND_LABELS.items()}
    st.subheader(tr("全市指标变化", "City indicators"))
    st.dataframe(
        pd.DataFrame(
            {
                tr("指标", "Indicator"): city["indicator"].map(_name),
                before: [
                    get_indicator(k, profile()).format(v, lang())
                    for k, v in zip(city["indicator"], city["value_before"], strict=True)
                ],
                after: [
                    get_indicator(k, profile()).format(v, lang())
                    for k, v in zip(city["indicator"], city["value_after"], strict=True)
                ],
                tr("变化", "Change"): [
                    _delta(k, v) for k, v in zip(city["indicator"], city["change"], strict=True)
                ],
                tr("趋势", "Trend"): city["trend"].map(trend_text),
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.subheader(tr("各区域变化", "Change per area"))
    key, level = _indicator_and_level(KEYS["cmp_indicator"], KEYS["cmp_level"])
    rows = cmp[(cmp["level"] == level) & (cmp["indicator"] == key)]
    rows = rows[rows["value_before"].notna() | rows["value_after"].notna()]
    counts = rows["trend"].value_counts()
    m1, m2, m3 = st.columns(3)
    m1.metric(tr("改善的区域", "Areas improved"), int(counts.get("improved", 0)))
    m2.metric(tr("变差的区域", "Areas worsened"), int(counts.get("worsened", 0)))
    m3.metric(tr("持平的区域", "Areas unchanged"), int(counts.get("unchanged", 0)))
    ind = get_indicator(key, profile())
    left, right = st.columns([1, 1])
    with left:
        st.dataframe(
            pd.DataFrame(
                {
                    tr("区域", "Area"): rows["area_name"],
                    before: rows["value_before"].map(lambda v: ind.format(v, lang())),
                    after: rows["value_after"].map(lambda v: ind.format(v, lang())),
                    tr("变化", "Change"): [_delta(key, v) for v in rows["change"]],
                    tr("趋势", "Trend"): rows["trend"].map(trend_text),
                }
            ).sort_values(tr("趋势", "Trend")),
            hide_index=True,
            width="stretch",
        )
    with right:
        if after == pa.period:
            st.image(
                _area_map_png(*ctx, after, None, key, "trend", before, lang()), width="stretch"
            )
            st.caption(
                tr(
                    "各街道/乡镇该指标的改善与变差",
                    "Where this indicator improved or worsened, by street",
                )
            )
        else:
            st.caption(
                tr(
                    "地图显示当前数据时期的比较。",
                    "The map shows comparisons ending at the current period.",
                )
            )


def plan_entry(pa: PeriodAnalysis, store: Store) -> None:
    st.markdown(
        tr(
            "行动计划中的非空间指标按时期录入（百分比），与空间指标一起显示、比较和导出。",
            "Targets of the action plan that are not spatial are entered per period (percent).",
        )
    )
    current = get_plan_values(store, pa.period)
    user = signed_in_user()
    if not can(user, "snapshot"):  # enforced here, not only hidden: the form is never built
        st.info(
            tr(
                "只有规划人员和管理员可以录入数值、保存快照。",
                "Only planners and administrators can enter values and save snapshots.",
            )
        )
        return
    with st.form("progress_plan_form"):
        values: dict[str, float | None] = {}
        cols = st.columns(len(PLAN_KEYS))
        for col, key in zip(cols, PLAN_KEYS, strict=True):
            ind = get_indicator(key, profile())
            shown = current.get(key)
            entered = col.number_input(
                f"{_name(key)} (%)",
                min_value=0.0,
                max_value=100.0,
                value=None if shown is None else round(shown * 100, 2),
                step=0.1,
                help=tr(
                    f"目标 {ind.format(ind.target(profile()), lang())}",
                    f"Target {ind.format(ind.target(profile()), lang())}",
                ),
                key=f"progress_plan_{key}",
            )
            values[key] = None if entered is None else entered / 100.0
        submitted = st.form_submit_button(
            tr(f"保存 {safe(pa.period)} 的数值", f"Save values for {safe(pa.period)}")
        )
    if submitted:
        try:
            set_plan_values(store, pa.period, values, user=user)
        except SnapshotError as exc:
            st.error(safe(exc))
        else:
            st.success(tr("已保存。", "Saved."))
            st.rerun()
    st.divider()
    saved = pa.period in _periods(str(store.path), store.version())
    st.markdown(
        tr(
            f"本期（{safe(pa.period)}）快照：{'已保存' if saved else '未保存'}。保存后可与其他时期比较。",
            f"Snapshot of {safe(pa.period)}: {'saved' if saved else 'not saved'}. Saved snapshots can be compared.",
        )
    )
    if not pa.from_snapshot and st.button(
        tr("保存本期快照", "Save this period's snapshot"), key="progress_save_snapshot"
    ):
        save_snapshot(
            store,
            pa.period,
            pa.indicators,
            params=analysis_params(pa.profile, source="app"),
            user=user,
        )
        st.success(tr("快照已保存。", "Snapshot saved."))
        st.rerun()


def _bar_progress(bar):
    return lambda share, text: bar.progress(min(max(share, 0.0), 1.0), text=text)


def downloads(pa: PeriodAnalysis, version: str) -> None:
    built: dict = st.session_state.setdefault(KEYS["exports"], {})
    for fmt, (zh, en, mime) in EXPORTS.items():
        ident = (version, pa.period, fmt)
        c1, c2 = st.columns([1, 2])
        if c1.button(tr(f"生成{zh}", f"Build {en}"), key=f"progress_build_{fmt}"):
            with st.status(tr(f"正在生成{zh}…", f"Building the {en}…"), expanded=True) as status:
                bar = st.progress(0.0)
                with tempfile.TemporaryDirectory() as tmp:
                    out = Path(tmp) / f"report.{fmt}"
                    write_report(pa, out, progress=_bar_progress(bar))
                    built[ident] = out.read_bytes()
                status.update(
                    label=tr(f"{zh}已生成", f"{en} ready"), state="complete", expanded=False
                )
        if ident in built:
            c2.download_button(
                tr(f"下载{zh}", f"Download {en}"),
                data=built[ident],
                file_name=f"{pa.profile.city.name_en.lower()}_progress_{pa.period}.{fmt}",
                mime=mime,
                key=f"progress_download_{fmt}",
            )


def _move(by: int) -> None:
    """Step the presentation forward or back (a button callback, so buttons render updated)."""
    st.session_state[KEYS["step"]] = int(st.session_state.get(KEYS["step"], 0)) + by


def presentation(pa: PeriodAnalysis, ctx: tuple[str, str, str]) -> None:
    st.markdown(PRESENT_CSS, unsafe_allow_html=True)
    table = pa.indicators
    districts = table[table["level"] == "district"].drop_duplicates("area_code")
    steps = [("city", str(table.loc[table["level"] == "city", "area_code"].iloc[0]), pa.city)]
    steps += [
        ("district", str(c), str(n))
        for c, n in zip(districts["area_code"], districts["area_name"], strict=True)
    ]
    step = min(max(int(st.session_state.get(KEYS["step"], 0)), 0), len(steps) - 1)
    nav = st.columns([1, 1, 3, 1])
    nav[0].button(
        "◀ " + tr("上一页", "Previous"),
        disabled=step == 0,
        key="progress_prev",
        on_click=_move,
        args=(-1,),
    )
    nav[1].button(
        tr("下一页", "Next") + " ▶",
        disabled=step == len(steps) - 1,
        key="progress_next",
        on_click=_move,
        args=(1,),
    )
    if nav[3].button(tr("退出演示", "Exit"), key="progress_exit"):
        st.session_state[KEYS["present"]] = False
        st.query_params.pop("present", None)
        st.rerun()
    level, code, name = steps[step]
    st.title(f"{safe(name)} · {safe(pa.period)}")
    st.caption(
        f"{step + 1} / {len(steps)}"
        + (tr(" · 合成示例数据", " · synthetic demo data") if pa.synthetic else "")
    )
    rows = _area_rows(table, level, code)
    changes = _changes(pa, level, code)
    keys = [
        k for k in spatial_keys(profile()) if k in rows.index and np.isfinite(rows.loc[k, "value"])
    ]
    if level == "city":
        keys += [k for k in PLAN_KEYS if k in rows.index]
    _metrics(rows, changes, keys, columns=PRESENT_COLUMNS)
    key = (
        "center_street_coverage"
        if "center_street_coverage" in keys
        else (keys[0] if keys else None)
    )
    if key is None:
        return
    left, right = st.columns([3, 2])
    with left:
        st.image(
            _area_map_png(
                *ctx, pa.period, None if level == "city" else code, key, "status", "", lang()
            ),
            width="stretch",
        )
    with right:
        sub = table[
            (table["indicator"] == key)
            & (table["level"] == ("district" if level == "city" else "street"))
        ]
        if level != "city":
            sub = sub[sub["parent_code"] == code]
        sub = sub[sub["value"].notna()]
        if len(sub):
            chart_height = min(44 * len(sub) + 190, PRESENT_CHART_MAX_PX)
            st.altair_chart(
                _bar_chart(sub, key, height=chart_height, large=len(sub) <= 6),
                width="stretch",
                height=chart_height,
            )


# --------------------------------------------------------------------------- page
def main() -> None:
    store = current_store()
    prof = profile()
    version = data_version(store)
    path = str(store.path)
    ctx = (path, version, prof.source)
    meta = store_meta()
    periods = _known_periods(path, version, meta)
    if KEYS["present"] not in st.session_state:
        st.session_state[KEYS["present"]] = st.query_params.get("present") in ("1", "true")
    present = bool(st.session_state[KEYS["present"]])
    period = st.session_state.get(KEYS["period"], periods[-1])
    if period not in periods:
        period = periods[-1]
    if not present:
        st.title(tr("工作进展", "Progress"))
        c1, c2 = st.columns([3, 1])
        period = selectbox(
            c1, tr("时期", "Period"), periods, index=periods.index(period), key=KEYS["period_pick"]
        )
        if c2.button(
            tr("演示模式", "Presentation mode"),
            icon=":material/slideshow:",
            key="progress_enter_present",
        ):
            st.session_state[KEYS["present"]] = True
            st.session_state[KEYS["step"]] = 0
            st.session_state[KEYS["period"]] = period
            st.rerun()
    st.session_state[KEYS["period"]] = period
    try:
        with st.spinner(tr("正在分析…", "Analysing…")):
            pa = _period_analysis(*ctx, period)
    except (ValueError, KeyError) as exc:
        st.error(
            tr(f"无法计算指标：{safe(exc)}", f"The indicators cannot be computed: {safe(exc)}")
        )
        return
    if present:
        presentation(pa, ctx)
        return
    if pa.synthetic:
        st.warning(
            tr("合成示例数据，并非真实统计。", "Synthetic demo data, not real statistics."),
            icon=":material/warning:",
        )
    if pa.from_snapshot:
        st.info(
            tr(
                f"指标取自 {safe(period)} 的快照；当前数据属于 {safe(meta.get('period'))}。",
                f"Indicators come from the {safe(period)} snapshot; the current data belong to {safe(meta.get('period'))}.",
            )
        )
    sections = {
        "overview": tr("指标与目标", "Indicators vs targets"),
        "ranking": tr("排名", "Rankings"),
        "comparison": tr("时期对比", "Period comparison"),
        "plan": tr("非空间指标与快照", "Plan values and snapshots"),
        "field": tr("网格事件", "Field reports"),
        "export": tr("导出", "Export"),
    }
    # Only the chosen section is built (faster than tabs, and charts get their real size).
    section = st.segmented_control(
        tr("内容", "Section"),
        list(sections),
        format_func=sections.get,
        default="overview",
        key=KEYS["section"],
        label_visibility="collapsed",
    )
    if section == "ranking":
        ranking(pa)
    elif section == "comparison":
        comparison(pa, periods, ctx)
    elif section == "plan":
        plan_entry(pa, store)
    elif section == "export":
        downloads(pa, version)
    elif section == "field":
        from ui.field.progress import field_progress

        field_progress(period)
    else:
        overview(pa)


main()
