"""Build a progress report of a period from the store, in the format chosen by the extension.

``.pdf`` (A4 report), ``.pptx`` (slides), ``.xlsx`` (tables), ``.html`` (standalone gap map) or
``.gpkg`` (gap layers). All formats come from one :class:`PeriodAnalysis` (gap analysis of the
store's layers, the indicator table of the period and the comparison with the previous saved
period), so every export shows the same figures as the Progress page.

Example::

    build_report(open_store("city.gpkg"), "2026-Q3", "report.pdf")
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from data.snapshots import (
    SnapshotError,
    compare_periods,
    get_plan_values,
    list_periods,
    load_snapshots,
    period_order,
    resolve_period,
)
from data.store import Store
from geo.coverage import select_facilities
from geo.indicators import (
    LEVEL_LABELS,
    STATUS_COLORS,
    STATUS_LABELS,
    THEMES,
    get_indicator,
    indicators,
    indicators_from_analysis,
    period_target,
)
from geo.settings import Profile, load_profile
from layers import get_layer
from reports.content import ReportContent, ReportFigure, ReportSection, ReportTable

Progress = Callable[[float, str], None]
FORMATS = {
    ".pdf": "pdf",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".html": "html",
    ".htm": "html",
    ".gpkg": "gpkg",
}
REPORT_TITLE = "网格治理与公共服务工作进展报告"
TREND_TEXT = {
    "improved": "改善",
    "worsened": "变差",
    "unchanged": "持平",
    "new": "新增",
    "removed": "缺失",
}


class ReportError(ValueError):
    """A report cannot be built (unknown format, missing data)."""


def _noop(share: float, text: str) -> None:
    return None


@dataclass
class PeriodAnalysis:
    """Everything the Progress page and the exports show for one period."""

    period: str
    profile: Profile
    layers: dict[str, gpd.GeoDataFrame]  # prepared, metric CRS
    analysis: Any  # geo.analysis.GapAnalysis
    indicators: pd.DataFrame
    meta: dict[str, str] = field(default_factory=dict)
    previous_period: str | None = None
    comparison: pd.DataFrame | None = None
    from_snapshot: bool = False
    field: Any = None  # field.summary.FieldSummary of the period, None without field reports

    @property
    def synthetic(self) -> bool:
        return str(self.meta.get("synthetic", "")).lower() in ("1", "true", "yes")

    @property
    def city(self) -> str:
        return self.profile.city.name_zh


def analyse_period(
    store: Store,
    period: str,
    *,
    profile: Profile | None = None,
    layers: dict[str, gpd.GeoDataFrame] | None = None,
    analysis: Any = None,
    progress: Progress | None = None,
) -> PeriodAnalysis:
    """Gap analysis of the store's layers, indicators of `period` and the period comparison.

    The indicators are computed from the layers (with the non-spatial values entered for the
    period). When the store's data belong to another period (``meta["period"]``) and a snapshot
    of `period` exists, the snapshot's indicators are used instead. A gap `analysis` of the
    store's layers already at hand (e.g. cached by the app) is reused.
    """
    from geo.analysis import STEPS, run_all

    report = progress or _noop
    profile = profile or load_profile()
    meta = store.meta()
    if analysis is None:
        report(0.02, "读取数据 / reading layers")
        raw = layers if layers is not None else store.read_layers()
        report(0.08, "空间分析 / gap analysis")
        analysis = run_all(
            raw,
            profile,
            progress=lambda name: report(0.08 + 0.5 * STEPS.index(name) / len(STEPS), name),
        )
    prepared = analysis.layers
    report(0.6, "指标 / indicators")
    periods = list_periods(store)
    data_period = meta.get("period")
    from_snapshot = period in periods and data_period is not None and data_period != period
    earlier = [p for p in periods if period_order(p) < period_order(period)]
    previous = earlier[-1] if earlier else None
    # one read of the snapshot table for both the period shown and the one before it
    wanted = ([period] if from_snapshot else []) + ([previous] if previous else [])
    snapshots = load_snapshots(store, wanted)
    if from_snapshot:
        table = snapshots[period]
    else:
        table = indicators_from_analysis(
            analysis, prepared, profile, plan_values=get_plan_values(store, period)
        )
    comparison = compare_periods(snapshots[previous], table, profile) if previous else None
    report(0.62, "网格事件 / field reports")
    field_summary = _field_summary(store, period, profile, prepared)
    return PeriodAnalysis(
        period=period,
        profile=profile,
        layers=prepared,
        analysis=analysis,
        indicators=table,
        meta=meta,
        previous_period=previous,
        comparison=comparison,
        from_snapshot=from_snapshot,
        field=field_summary,
    )


def _field_summary(
    store: Store, period: str, profile: Profile, layers: dict[str, gpd.GeoDataFrame]
):
    """Field-report figures of `period` for the areas in `layers` (None without reports)."""
    from field.settings import field_rules
    from field.store import field_store
    from field.summary import summarise

    fstore = field_store(store)
    reports = fstore.reports()
    grids = layers.get("grids")
    if reports.empty or grids is None or grids.empty:
        return None
    # only the reports of the areas analysed (a scoped export holds only the user's grids)
    streets = set(grids["street"].dropna()) | set(layers.get("villages", grids).get("township", []))
    keep = reports["grid_code"].isin(set(grids["grid_code"])) | (
        reports["grid_code"].isna() & reports["street"].isin(streets)
    )
    return summarise(
        reports[keep.to_numpy()],
        fstore.visits(),
        grids,
        field_rules(profile),
        period=period,
        now=pd.Timestamp.now(tz="UTC"),
        metric_crs=profile.metric_crs,
    )


# --------------------------------------------------------------------------- tables
def summary_table(
    table: pd.DataFrame, profile: Profile, *, comparison: pd.DataFrame | None = None
) -> ReportTable:
    """City indicators against targets (with the change since the previous period if given)."""
    city = table[table["level"] == "city"].reset_index(drop=True)
    inds = [get_indicator(k, profile) for k in city["indicator"]]
    frame = pd.DataFrame(
        {
            "主题": [THEMES[i.theme][0] for i in inds],
            "指标": [i.name_zh for i in inds],
            "当前值": city["value"].astype(float),
            "目标": city["target"].astype(float),
            "单位": [i.unit for i in inds],
            "状态": city["status"].map(lambda s: STATUS_LABELS[s][0]),
        }
    )
    fmts = [_fmt(i) for i in inds]
    row_formats = {"当前值": fmts, "目标": fmts}
    if comparison is not None:
        c = comparison[comparison["level"] == "city"].set_index("indicator")
        frame["变化"] = city["indicator"].map(c["change"]).astype(float).to_numpy()
        frame["趋势"] = city["indicator"].map(c["trend"]).map(TREND_TEXT).fillna("—").to_numpy()
        row_formats["变化"] = [_change_fmt(i) for i in inds]
    return ReportTable("summary", "指标与目标", frame, row_formats=row_formats)


def _fmt(ind) -> str:
    return "percent" if ind.kind == "share" else f"float{ind.decimals}"


def _change_fmt(ind) -> str:
    return "pp" if ind.kind == "share" else f"signed{ind.decimals}"


def comparison_table(
    comparison: pd.DataFrame, previous: str, period: str, profile: Profile
) -> ReportTable:
    """Change of every city indicator between two periods."""
    city = comparison[comparison["level"] == "city"].reset_index(drop=True)
    inds = [get_indicator(k, profile) for k in city["indicator"]]
    frame = pd.DataFrame(
        {
            "指标": [i.name_zh for i in inds],
            previous: city["value_before"].astype(float),
            period: city["value_after"].astype(float),
            "变化": city["change"].astype(float),
            "趋势": city["trend"].map(TREND_TEXT),
        }
    )
    fmts = [_fmt(i) for i in inds]
    return ReportTable(
        "comparison",
        f"与{previous}比较",
        frame,
        row_formats={previous: fmts, period: fmts, "变化": [_change_fmt(i) for i in inds]},
    )


def area_table(
    table: pd.DataFrame, level: str, keys: list[str], title: str, key: str, profile: Profile
) -> ReportTable:
    """Indicators `keys` for every area of `level` (one column per indicator, worst first)."""
    rows = table[(table["level"] == level) & table["indicator"].isin(keys)]
    names = rows.drop_duplicates("area_code").set_index("area_code")["area_name"]
    wide = rows.pivot(index="area_code", columns="indicator", values="value").astype(float)
    wide = wide.reindex(columns=[k for k in keys if k in wide.columns]).dropna(how="all")
    wide = wide.reset_index()
    wide["area_name"] = wide["area_code"].map(names)
    first = keys[0]
    if first in wide:
        wide = wide.sort_values(first, ascending=True, na_position="last", kind="stable")
    frame = pd.DataFrame({LEVEL_LABELS[level][0]: wide["area_name"].to_numpy()})
    formats: dict[str, str] = {}
    for k in keys:
        if k in wide:
            ind = get_indicator(k, profile)
            frame[ind.name_zh] = wide[k].astype(float).to_numpy()
            formats[ind.name_zh] = _fmt(ind)
    return ReportTable(key, title, frame.reset_index(drop=True), formats=formats)


def worst_grids_table(pa: PeriodAnalysis, n: int = 20) -> ReportTable:
    """Grids with the most residents beyond a street-level neighborhood center."""
    res = pa.analysis.coverage.get("neighborhood_centers_street")
    worst = res.worst("grid", n) if res is not None else pd.DataFrame()
    grids = pa.layers.get("grids")
    frame = pd.DataFrame(
        columns=["网格编码", "网格名称", "社区", "常住人口", "未覆盖人口", "覆盖率"]
    )
    if len(worst):
        info = grids.set_index("grid_code") if grids is not None and len(grids) else pd.DataFrame()
        codes = worst.index.astype(object)
        frame = pd.DataFrame(
            {
                "网格编码": codes,
                "网格名称": [info["grid_name"].get(c, "") if len(info) else "" for c in codes],
                "社区": [info["community"].get(c, "") if len(info) else "" for c in codes],
                "常住人口": worst["residents_total"].astype(np.int64).to_numpy(),
                "未覆盖人口": worst["residents_uncovered"].astype(np.int64).to_numpy(),
                "覆盖率": worst["share_covered"].astype(float).to_numpy(),
            }
        )
    return ReportTable(
        "worst_grids", "街道级邻里中心未覆盖人口最多的网格", frame, formats={"覆盖率": "percent"}
    )


def overstated_table(pa: PeriodAnalysis, n: int = 25) -> ReportTable:
    """What straight lines overstate: per street/township and kind, the residents counted as
    covered by straight line but beyond the radius on foot along roads (most first)."""
    analysis = pa.analysis
    columns = ["设施类型", "街道/乡镇", "常住人口", "直线覆盖", "步行覆盖", "高估人口", "高估占比"]
    frame = pd.DataFrame(columns=columns)
    note = "没有道路图层，无法比较直线距离与沿道路步行距离。"
    if analysis.has_roads:
        over = analysis.overstated("street")
        over = over[over["overstated"] > 0].sort_values(
            "overstated", ascending=False, kind="stable"
        )
        total = len(over)
        over = over.head(n)
        labels = {k: pa.profile.kind(k).label_zh for k in over["kind"].unique()}
        names = over["name"] if "name" in over else over["code"]
        frame = pd.DataFrame(
            {
                "设施类型": over["kind"].map(labels).to_numpy(),
                "街道/乡镇": names.fillna(over["code"]).astype(str).to_numpy(),
                "常住人口": over["residents_total"].astype(np.int64).to_numpy(),
                "直线覆盖": over["covered_straight"].astype(np.int64).to_numpy(),
                "步行覆盖": over["covered_network"].astype(np.int64).to_numpy(),
                "高估人口": over["overstated"].astype(np.int64).to_numpy(),
                "高估占比": over["share_overstated"].astype(float).to_numpy(),
            }
        )
        max_snap = pa.profile.network.max_snap_m
        note = (
            f"按直线距离（×绕行系数）算作已覆盖、但沿道路步行超出服务半径的居民；"
            f"距道路超过 {max_snap:g} m 的居民按步行不计覆盖。共 {total} 行，列出前 {len(frame)} 行。"
        )
    return ReportTable(
        "overstated",
        "直线距离高估的覆盖（各街道/乡镇）",
        frame,
        formats={"高估占比": "percent"},
        note=note,
    )


def overloaded_table(pa: PeriodAnalysis) -> ReportTable:
    """Shelters loaded beyond capacity under nearest assignment."""
    from geo.capacity import SHELTER_GROUPS
    from layers.shelters import CLASS_LABELS

    groups = pa.analysis.capacity.groups
    over = pa.analysis.capacity.overloaded()
    group = over.get("group", pd.Series(dtype=object))
    frame = pd.DataFrame(
        {
            "避难需求组": group.map(
                lambda g: (
                    f"{pa.profile.kind(SHELTER_GROUPS[g]).label_zh}，"
                    f"{groups[g].radius_m:,.0f} m 内就近分配"
                )
            ).to_numpy(),
            "场所编号": over.get("shelter_id", pd.Series(dtype=object)).to_numpy(),
            "名称": over.get("name", pd.Series(dtype=object)).to_numpy(),
            "类别": over.get("shelter_class", pd.Series(dtype=object))
            .map(lambda c: CLASS_LABELS.get(c, (c,))[0])
            .to_numpy(),
            "容纳人数": over.get("capacity", pd.Series(dtype=float)).astype(np.int64).to_numpy(),
            "就近分配人数": over.get("load", pd.Series(dtype=float)).astype(np.int64).to_numpy(),
            "超出人数": over.get("excess", pd.Series(dtype=float)).astype(np.int64).to_numpy(),
        }
    )
    return ReportTable(
        "overloaded_shelters",
        "超载避难场所（就近分配）",
        frame,
        note="同一场所服务几个需求组（紧急、固定、中心避难，各有服务半径）时，每组各占一行，"
        "分配人数按该组的半径和人口计算。",
    )


def villages_table(pa: PeriodAnalysis) -> ReportTable:
    """Villages short of the toilet target or without garbage collection."""
    below = pa.analysis.sanitation.below_target
    frame = pd.DataFrame(
        {
            "村编码": below["village_code"].to_numpy(),
            "村名": below["name"].to_numpy(),
            "乡镇": below["township"].to_numpy(),
            "区县": below["county"].to_numpy(),
            "户数": pd.to_numeric(below["households"], errors="coerce")
            .fillna(0)
            .astype(np.int64)
            .to_numpy(),
            "卫生厕所普及率": below["toilet_penetration"].astype(float).to_numpy(),
            "垃圾收运": np.where(below["has_garbage_collection"].to_numpy(dtype=bool), "有", "无"),
            "污水处理": np.where(below["has_sewage_treatment"].to_numpy(dtype=bool), "有", "无"),
        }
    )
    frame = frame.sort_values("卫生厕所普及率", kind="stable").reset_index(drop=True)
    return ReportTable(
        "villages_below_target", "未达标行政村", frame, formats={"卫生厕所普及率": "percent"}
    )


# --------------------------------------------------------------------------- figures
def _status_layer(pa: PeriodAnalysis, key: str, level: str = "street"):
    from reports.staticmap import MapLayer

    polys = pa.layers["streets" if level == "street" else "districts"]
    rows = pa.indicators[(pa.indicators["level"] == level) & (pa.indicators["indicator"] == key)]
    st = polys.assign(
        status=polys["code"].map(rows.set_index("area_code")["status"]).fillna("no_data")
    )
    cats = {
        s: (STATUS_COLORS[s], f"{STATUS_LABELS[s][0]}")
        for s in ("met", "close", "not_met", "no_data")
    }
    name = get_indicator(key, pa.profile).name_zh
    return MapLayer(
        st, name, column="status", categories=cats, alpha=0.45, edgecolor="#78909c", linewidth=0.4
    )


def map_caption(theme: str, pa: PeriodAnalysis, key: str) -> str:
    """What the colours of a theme's map show (the grids map colours grids, the others streets)."""
    if theme == "grids":
        rules = pa.profile.grids
        return (
            f"颜色为各网格：绿色户数在 {rules.households_min:,}-{rules.households_max:,} 户之间，"
            f"橙色超出该范围，红色未配网格员。"
        )
    status = "绿色达标、黄色接近、红色未达标、灰色无数据"
    return f"底色为各街道/乡镇“{get_indicator(key, pa.profile).name_zh}”的达标情况（{status}）。"


def _outline(pa: PeriodAnalysis):
    from reports.staticmap import MapLayer

    return MapLayer(
        pa.layers["districts"], "区县界", kind="line", facecolor="#37474f", linewidth=1.2, zorder=5
    )


def _uncovered(pa: PeriodAnalysis, kind: str, color: str = "#d32f2f"):
    from reports.staticmap import MapLayer

    label = f"{pa.profile.kind(kind).label_zh}未覆盖人口"
    return MapLayer(
        pa.analysis.uncovered_points(kind),
        label,
        kind="point",
        facecolor=color,
        edgecolor="none",
        size=2.5,
        alpha=0.6,
        zorder=3,
    )


def _points(frame: gpd.GeoDataFrame, label: str, color: str, size: float, marker: str = "o"):
    from reports.staticmap import MapLayer

    return MapLayer(
        frame,
        label,
        kind="point",
        marker=marker,
        facecolor=color,
        edgecolor="white",
        size=size,
        zorder=6,
    )


def _category_points(pa: PeriodAnalysis, layer: str, values, label: str, size: float, **kw):
    """Facilities of `layer` whose category is in `values`, in the first value's colour."""
    schema = get_layer(layer)
    frame = pa.layers[layer]
    color = schema.categories(pa.profile.facility_kinds)[values[0]].color
    return _points(frame[frame[schema.view.category_field].isin(values)], label, color, size, **kw)


def _kind_theme_layers(pa: PeriodAnalysis, theme: str) -> list:
    """Uncovered residents of the theme's first kind and the facilities of each of its kinds."""
    kinds = [k for k, spec in pa.profile.facility_kinds.items() if spec.theme == theme]
    first = next(k for k in kinds if pa.profile.kind(k).indicator is not None)
    out = [_uncovered(pa, first)]
    for key in kinds:
        spec = pa.profile.kind(key)
        frame = select_facilities(pa.layers, spec)
        out.append(
            _points(frame[frame[spec.column].isin(spec.own_values)], spec.label_zh, spec.color, 22)
        )
    return out


def _centers_layers(pa: PeriodAnalysis) -> list:
    return [
        _uncovered(pa, "neighborhood_centers_street"),
        _category_points(pa, "neighborhood_centers", ["street"], "街道级邻里中心", 40),
        _category_points(pa, "neighborhood_centers", ["community"], "社区级邻里中心", 18),
    ]


def _shelters_layers(pa: PeriodAnalysis) -> list:
    from layers.shelters import CLASSES
    from reports.staticmap import MapLayer

    fixed = [c for c in CLASSES if c != "emergency"]
    return [
        _uncovered(pa, "shelters_emergency"),
        _category_points(pa, "shelters", ["emergency"], "紧急避难场所", 22),
        _category_points(
            pa, "shelters", ["fixed_long", *fixed], "固定/中心避难场所", 36, marker="s"
        ),
        MapLayer(
            pa.analysis.capacity.overloaded(),
            "超载避难场所",
            kind="point",
            marker="o",
            facecolor="none",
            edgecolor="#ff6f00",
            linewidth=1.6,
            size=140,
            zorder=7,
        ),
    ]


def _grids_layers(pa: PeriodAnalysis) -> list:
    from reports.staticmap import MapLayer

    g = pa.layers["grids"]
    hh = pd.to_numeric(g["households"], errors="coerce")
    rules = pa.profile.grids
    in_range = hh.between(rules.households_min, rules.households_max)
    worker = g["worker_name"].astype(object)
    no_worker = worker.isna() | (worker.astype(str).str.strip() == "")
    cls = np.where(no_worker, "no_worker", np.where(in_range, "ok", "out"))
    cats = {
        "ok": ("#a5d6a7", f"户数{rules.households_min}-{rules.households_max}户"),
        "out": ("#ffcc80", "户数超出范围"),
        "no_worker": ("#ef9a9a", "未配网格员"),
    }
    return [
        MapLayer(
            g.assign(cls=cls),
            "网格",
            column="cls",
            categories=cats,
            alpha=0.8,
            edgecolor="#90a4ae",
            linewidth=0.2,
        )
    ]


def _sanitation_layers(pa: PeriodAnalysis) -> list:
    from reports.staticmap import MapLayer

    v = pa.analysis.sanitation.villages
    cls = np.where(v["below_target"].to_numpy(dtype=bool), "below", "ok")
    cats = {"ok": ("#2e7d32", "达标行政村"), "below": ("#c62828", "未达标行政村")}
    return [
        MapLayer(
            v.assign(cls=cls),
            "行政村",
            kind="point",
            column="cls",
            categories=cats,
            edgecolor="white",
            size=16,
            zorder=6,
        )
    ]


@dataclass(frozen=True)
class ThemeMap:
    """The static map of a report theme: its layers, the indicator shaded below them, title."""

    title: str
    """Map title; ``{city}`` and ``{period}`` are filled in."""
    layers: Callable[[PeriodAnalysis], list]
    indicator: str | None = None
    """Indicator shaded per street; None: the first indicator of the theme."""
    status_layer: bool = True
    focus: str = "grids"
    """Layer whose extent the map shows (districts when it is empty)."""
    labels: str = "streets"


THEME_MAPS: dict[str, ThemeMap] = {
    "centers": ThemeMap("{city} 党群邻里中心服务覆盖（{period}）", _centers_layers),
    "shelters": ThemeMap(
        "{city} 应急避难场所覆盖（{period}）", _shelters_layers, "shelter_emergency_coverage"
    ),
    "grids": ThemeMap(
        "{city} 网格户数规模与网格员配备（{period}）",
        _grids_layers,
        "grids_in_household_range",
        status_layer=False,
    ),
    "sanitation": ThemeMap(
        "{city} 农村卫生厕所与垃圾收运（{period}）",
        _sanitation_layers,
        "sanitary_toilet_penetration",
        focus="villages",
        labels="districts",
    ),
    "facilities": ThemeMap(
        "{city} 公共服务设施覆盖（{period}）", lambda pa: _kind_theme_layers(pa, "facilities")
    ),
}
"""Every report theme's map. A facility kind names its theme in the profile (``theme``)."""


def theme_indicators(profile: Profile) -> dict[str, list[str]]:
    """Indicator keys of each report theme that has any (themes of :data:`THEME_MAPS`)."""
    out: dict[str, list[str]] = {}
    for ind in indicators(profile):
        if ind.theme in THEME_MAPS:
            out.setdefault(ind.theme, []).append(ind.key)
    return out


def theme_figures(pa: PeriodAnalysis, theme: str) -> list[ReportFigure]:
    """The static map (and a bar chart of its indicator by district) of a theme.

    Raises KeyError for a theme that is not in :data:`THEME_MAPS`.
    """
    from reports.staticmap import bar_chart, figure_png, static_map

    try:
        spec = THEME_MAPS[theme]
    except KeyError:
        raise KeyError(f"unknown report theme {theme!r}; known: {', '.join(THEME_MAPS)}") from None
    keys = theme_indicators(pa.profile).get(theme, [])
    key = spec.indicator or (keys[0] if keys else None)
    if key is None:
        return []
    lay = pa.layers
    districts = lay["districts"]
    layers = [_status_layer(pa, key)] if spec.status_layer else []
    layers += [_outline(pa), *spec.layers(pa)]
    title = spec.title.format(city=pa.city, period=pa.period)
    focus = lay[spec.focus]
    extent = focus if len(focus) else districts
    fig = static_map(
        layers,
        crs=pa.profile.metric_crs,
        title=title,
        labels=_in_extent(lay[spec.labels], extent),
        extent=extent,
        legend_title="图例",
    )
    figs = [ReportFigure(title, figure_png(fig), map_caption(theme, pa, key))]
    rows = pa.indicators[
        (pa.indicators["level"] == "district") & (pa.indicators["indicator"] == key)
    ]
    rows = rows[rows["value"].notna()]
    if len(rows):
        ind = get_indicator(key, pa.profile)
        chart = bar_chart(
            rows["area_name"].tolist(),
            rows["value"].tolist(),
            target=period_target(rows, key, pa.profile),  # the target the colours used
            colors=[STATUS_COLORS[s] for s in rows["status"]],
            title=f"各区县{ind.name_zh}",
            percent=ind.kind == "share",
            figsize=(10.0, 0.9 + 0.32 * len(rows)),
        )
        figs.append(ReportFigure(f"各区县{ind.name_zh}", figure_png(chart)))
    return figs


def _in_extent(areas: gpd.GeoDataFrame, extent: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Areas whose representative point lies inside the bounds of `extent` (for labels)."""
    if areas.empty or extent.empty:
        return areas
    minx, miny, maxx, maxy = extent.to_crs(areas.crs).total_bounds
    pts = areas.geometry.representative_point()
    return areas[(pts.x >= minx) & (pts.x <= maxx) & (pts.y >= miny) & (pts.y <= maxy)]


def summary_figure(table: pd.DataFrame, profile: Profile) -> ReportFigure:
    """Bar chart of each city indicator as a share of its target, coloured by status."""
    from reports.staticmap import bar_chart, figure_png

    city = table[(table["level"] == "city") & table["value"].notna()]
    inds = [get_indicator(k, profile) for k in city["indicator"]]
    with np.errstate(invalid="ignore", divide="ignore"):
        achieved = (city["value"] / city["target"]).to_numpy(dtype=float)
    fig = bar_chart(
        [i.name_zh for i in inds],
        achieved,
        target=1.0,
        colors=[STATUS_COLORS[s] for s in city["status"]],
        title="目标完成度（当前值 ÷ 目标）",
        figsize=(8.5, 0.9 + 0.34 * len(inds)),
    )
    return ReportFigure("目标完成度", figure_png(fig), "100% 为达到目标；颜色表示达标状态。")


def report_content(
    pa: PeriodAnalysis, *, progress: Progress | None = None, figures: bool = True
) -> ReportContent:
    """Fill a :class:`ReportContent` from a period analysis."""
    report = progress or _noop
    table = pa.indicators
    sections: list[ReportSection] = []
    themes = theme_indicators(pa.profile)
    for n, (theme, keys) in enumerate(themes.items()):
        report(0.62 + 0.25 * n / len(themes), f"{THEMES[theme][0]}")
        city = table[(table["level"] == "city") & table["indicator"].isin(keys)].set_index(
            "indicator"
        )
        key_figures = [
            (
                get_indicator(k, pa.profile).name_zh,
                get_indicator(k, pa.profile).format(city.loc[k, "value"]),
            )
            for k in keys
            if k in city.index
        ]
        status = [
            (get_indicator(k, pa.profile).name_zh, STATUS_LABELS[city.loc[k, "status"]][0])
            for k in keys
            if k in city.index
        ]
        tables = [
            area_table(
                table,
                "district",
                keys,
                f"{THEMES[theme][0]}：各区县",
                f"{theme}_district",
                pa.profile,
            ),
            area_table(
                table,
                "street",
                keys,
                f"{THEMES[theme][0]}：各街道/乡镇（由低到高）",
                f"{theme}_street",
                pa.profile,
            ),
        ]
        sections.append(
            ReportSection(
                theme,
                THEMES[theme][0],
                figures=theme_figures(pa, theme) if figures else [],
                tables=tables,
                key_figures=key_figures,
                status=status,
            )
        )
    if pa.field is not None and not pa.field.empty:
        from field.settings import field_rules
        from reports.field import field_report_section

        report(0.87, "网格事件 / field reports")
        sections.append(
            field_report_section(
                pa.field,
                field_rules(pa.profile),
                streets=pa.layers.get("streets"),
                crs=pa.profile.metric_crs,
                city=pa.city,
                figures=figures,
            )
        )
    report(0.88, "清单 / lists")
    radii = pa.profile.radii
    parameters = [
        (
            "服务半径",
            "，".join(
                f"{spec.label_zh} {pa.profile.radius_m(key):g} m"
                for key, spec in pa.profile.facility_kinds.items()
            ),
        ),
        ("绕行系数", f"{radii.detour_factor:g}"),
        ("距离", distance_summary(pa.profile)),
        ("数据", f"{pa.meta.get('city', pa.city)}，数据时期 {pa.meta.get('period', '—')}"),
    ]
    if pa.from_snapshot:
        parameters.append(
            (
                "说明",
                f"指标取自 {pa.period} 的快照；地图与清单基于当前数据（{pa.meta.get('period')}）。",
            )
        )
    return ReportContent(
        title=REPORT_TITLE,
        city=pa.city,
        period=pa.period,
        period_note=period_note(pa),
        date=date.today().isoformat(),
        synthetic=pa.synthetic,
        summary=summary_table(table, pa.profile, comparison=pa.comparison),
        sections=sections,
        lists=[
            worst_grids_table(pa),
            overstated_table(pa),
            overloaded_table(pa),
            villages_table(pa),
        ],
        comparison=comparison_table(pa.comparison, pa.previous_period, pa.period, pa.profile)
        if pa.comparison is not None
        else None,
        previous_period=pa.previous_period,
        parameters=parameters,
        summary_figures=[summary_figure(table, pa.profile)] if figures else [],
    )


def distance_summary(profile: Profile) -> str:
    """How each facility kind's distances are measured, for a report's parameters and the HTML
    export's subtitle: ``"紧急避难场所：沿道路步行、…"``."""
    return "、".join(
        f"{spec.label_zh}：{'沿道路步行' if spec.distance == 'network' else '直线'}"
        for spec in profile.facility_kinds.values()
    )


def indicator_sheet(table: pd.DataFrame, profile: Profile) -> ReportTable:
    """The full long indicator table (every area and indicator) with Chinese headers."""
    inds = table["indicator"].map(lambda key: get_indicator(key, profile))
    frame = pd.DataFrame(
        {
            "层级": table["level"].map(lambda s: LEVEL_LABELS[s][0]),
            "区域编码": table["area_code"],
            "区域名称": table["area_name"],
            "指标代码": table["indicator"],
            "指标": inds.map(lambda i: i.name_zh),
            "数值": table["value"].astype(float),
            "分子": table["numerator"].astype(float),
            "分母": table["denominator"].astype(float),
            "目标": table["target"].astype(float),
            "状态": table["status"].map(lambda s: STATUS_LABELS[s][0]),
        }
    ).reset_index(drop=True)
    fmts = [_fmt(i) for i in inds]
    return ReportTable(
        "indicators",
        "全部指标",
        frame,
        formats={"分子": "float2", "分母": "float2"},
        row_formats={"数值": fmts, "目标": fmts},
    )


# --------------------------------------------------------------------------- entry point
def report_format(path: str | os.PathLike) -> str:
    """The export format of `path` from its extension; :class:`ReportError` if unknown."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ReportError(
            f"{path}: unknown report format {suffix or '(none)'}; use one of {', '.join(FORMATS)}"
        )
    return FORMATS[suffix]


def write_report(
    pa: PeriodAnalysis, out_path: str | os.PathLike, *, progress: Progress | None = None
) -> Path:
    """Write the export of `pa` to `out_path` (format from the extension)."""
    report = progress or _noop
    out = Path(out_path)
    kind = report_format(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    title = f"{pa.city} {REPORT_TITLE}（{pa.period}）"
    if kind in ("html", "gpkg"):
        from reports.gaps import gap_layers

        gaps = gap_layers(pa.analysis, pa.indicators)
        report(0.8, "写出 / writing")
        if kind == "html":
            from reports.html import write_html

            subtitle = (
                f"生成日期 {date.today().isoformat()} · "
                + ("指标取自已保存的快照" if pa.from_snapshot else "当前数据")
                + f" · 距离 {distance_summary(pa.profile)}"
            )
            write_html(gaps, pa.profile, out, title=title, subtitle=subtitle)
        else:
            from reports.gpkg import write_gpkg

            write_gpkg(gaps, out, tables={"indicators": pa.indicators.assign(period=pa.period)})
    else:
        content = report_content(pa, progress=report, figures=kind != "xlsx")
        report(0.9, "写出 / writing")
        if kind == "pdf":
            from reports.pdf import write_pdf

            write_pdf(content, out)
        elif kind == "pptx":
            from reports.pptx import write_pptx

            write_pptx(content, out)
        else:
            from reports.xlsx import write_xlsx

            # the parameters (radii, detour factor, straight or walked per kind) as the PDF has them
            parameters = ReportTable(
                "parameters", "分析参数", pd.DataFrame(content.parameters, columns=["参数", "取值"])
            )
            write_xlsx(
                [*content.all_tables(), indicator_sheet(pa.indicators, pa.profile), parameters],
                out,
            )
    report(1.0, "完成 / done")
    return out


def period_note(pa: PeriodAnalysis) -> str:
    """Where the figures of the report come from, for its cover."""
    if pa.from_snapshot:
        return f"指标取自已保存的 {pa.period} 快照 · indicators from the saved {pa.period} snapshot"
    return (
        f"{pa.period} 为数据库的当前时期：数字为当前数据（截至生成日期），不是已保存的快照 · "
        f"{pa.period} is the store's current period: figures are its data as they are now"
    )


def build_report(
    store: Store,
    period: str | None,
    out_path: str | os.PathLike,
    *,
    progress: Progress | None = None,
    profile: Profile | None = None,
    layers: dict[str, gpd.GeoDataFrame] | None = None,
) -> Path:
    """Analyse the store for `period` and write the report to `out_path`.

    Parameters
    ----------
    store
        The GeoPackage store.
    period
        Period label, e.g. ``"2026-Q3"``: a saved snapshot or the store's current period
        (:func:`data.snapshots.known_periods`); the latest of them when ``None``. Another
        period raises :class:`ReportError` listing the known ones.
    out_path
        Output file; ``.pdf``, ``.pptx``, ``.xlsx``, ``.html`` or ``.gpkg``.
    progress
        Optional ``progress(share, text)`` callback.
    layers
        The layers to analyse (e.g. cut to a user's scope); the store's when ``None``.
    """
    report_format(out_path)
    if not store.exists():
        raise ReportError(f"store {store.label} does not exist")
    try:
        period = resolve_period(store, period)
        pa = analyse_period(store, period, profile=profile, layers=layers, progress=progress)
    except SnapshotError as exc:
        raise ReportError(str(exc)) from exc
    return write_report(pa, out_path, progress=progress)
