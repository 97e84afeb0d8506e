"""The field-report part of every export (PDF, PPTX, XLSX): one :class:`ReportSection`.

Figures come from :func:`field.summary.summarise`, the same call the Progress page makes.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from field import kpis, states
from field.settings import FieldRules
from field.summary import FieldSummary
from reports.content import ReportFigure, ReportSection, ReportTable, format_value

KPI_FORMATS = {
    "reports": "int",
    "on_time_share": "percent",
    "median_hours_to_close": "float1",
    "overdue_now": "int",
    "per_1000_residents": "float2",
    "visit_share": "percent",
}
CHANGE_FORMATS = {
    "reports": "signed0",
    "on_time_share": "pp",
    "median_hours_to_close": "signed1",
    "overdue_now": "signed0",
    "per_1000_residents": "signed2",
    "visit_share": "pp",
}
LEVEL_ZH = {"street": "街道/乡镇", "community": "社区/村"}


def _kpi_label(col: str) -> str:
    return kpis.KPI_LABELS[col][0]


def _change_fmt(col: str) -> str:
    fmt = CHANGE_FORMATS[col]
    return "signed1" if fmt == "signed0" else fmt


def area_kpi_table(summary: FieldSummary, level: str) -> ReportTable:
    """KPIs per area with the change since the previous quarter, fewest on time first."""
    table = summary.areas[level].sort_values("on_time_share", na_position="last", kind="stable")
    frame = pd.DataFrame({LEVEL_ZH[level]: table.index.astype(str)})
    formats: dict[str, str] = {}
    for col in kpis.KPI_COLUMNS:
        frame[_kpi_label(col)] = table[col].astype(float).to_numpy()
        formats[_kpi_label(col)] = KPI_FORMATS[col]
    for col in ("on_time_share", "overdue_now"):
        name = f"{_kpi_label(col)}变化"
        frame[name] = table[f"{col}_change"].astype(float).to_numpy()
        formats[name] = _change_fmt(col)
    return ReportTable(
        f"field_{level}",
        f"网格事件：各{LEVEL_ZH[level]}（按时处置率由低到高）",
        frame.reset_index(drop=True),
        formats=formats,
    )


def category_table(summary: FieldSummary, rules: FieldRules) -> ReportTable:
    table = summary.by_category
    frame = table.rename(columns=lambda c: rules.category(c).zh).reset_index()
    frame = frame.rename(columns={"street": "街道/乡镇"})
    frame["合计"] = table.sum(axis=1).to_numpy()
    frame = frame.sort_values("合计", ascending=False, kind="stable").reset_index(drop=True)
    return ReportTable(
        "field_categories",
        "网格事件：各街道/乡镇分类上报数",
        frame,
        formats={c: "int" for c in frame.columns[1:]},
    )


def recurring_table(summary: FieldSummary, rules: FieldRules) -> ReportTable:
    rec = summary.recurring
    frame = pd.DataFrame(
        {
            "编号": rec["cluster_id"].to_numpy(),
            "类别": [rules.category(c).zh for c in rec["category"]],
            "件数": rec["n_reports"].astype(np.int64).to_numpy(),
            "范围(米)": rec["radius_m"].astype(float).round(0).to_numpy(),
            "街道/乡镇": rec["street"].to_numpy(),
            "社区/村": rec["community"].to_numpy(),
        }
    )
    note = (
        f"规则：近 {rules.cluster_periods} 个季度内同类事件不少于 {rules.cluster_min_reports} 件，"
        f"彼此相距不超过 {rules.cluster_radius_m:g} 米连成一片（不含不予受理和重复上报）。"
    )
    return ReportTable(
        "field_recurring",
        "重复发生的问题",
        frame,
        formats={"件数": "int", "范围(米)": "float1"},
        note=note,
    )


def last_twice_table(summary: FieldSummary) -> ReportTable:
    flags = summary.last_twice
    frame = pd.DataFrame(
        {
            "层级": flags["level"].map(LEVEL_ZH).to_numpy(),
            "区域": flags["area"].astype(str).to_numpy(),
            "指标": flags["indicator"].map(_kpi_label).to_numpy(),
            summary.previous_period: [
                format_value(v, KPI_FORMATS[i])
                for v, i in zip(flags["previous_value"], flags["indicator"], strict=True)
            ],
            summary.period: [
                format_value(v, KPI_FORMATS[i])
                for v, i in zip(flags["value"], flags["indicator"], strict=True)
            ],
        }
    )
    return ReportTable(
        "field_last_twice",
        "连续两个季度排名末位",
        frame,
        note="季度测评连续两次垫底的区域（每项指标分别排名；并列末位同列）。",
    )


def report_map(
    summary: FieldSummary, streets: gpd.GeoDataFrame, *, crs: str, city: str
) -> ReportFigure:
    """Reports by state over reports per 1,000 residents per street."""
    from reports.staticmap import MapLayer, figure_png, static_map

    density = streets["name"].map(summary.areas["street"]["per_1000_residents"]).astype(float)
    finite = density[np.isfinite(density)]
    bins = np.unique(np.quantile(finite, [0, 0.25, 0.5, 0.75, 1.0])) if len(finite) else []
    colors = ["#fff7ec", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"]
    classes = pd.Series("no_data", index=streets.index)
    cats: dict[object, tuple[str, str]] = {}
    for n in range(max(len(bins) - 1, 0)):
        low, high = bins[n], bins[n + 1]
        inside = (density >= low) & ((density < high) | (n == len(bins) - 2))
        classes[inside.to_numpy()] = f"c{n}"
        cats[f"c{n}"] = (colors[n], f"每千人 {low:.1f}–{high:.1f} 件")
    cats["no_data"] = ("#eeeeee", "无人口数据")
    points = summary.reports.to_crs(crs)
    layers = [
        MapLayer(
            streets.assign(cls=classes.to_numpy()),
            "上报密度",
            column="cls",
            categories=cats,
            alpha=0.6,
            edgecolor="#78909c",
            linewidth=0.4,
        ),
        MapLayer(
            points,
            "事件",
            kind="point",
            column="state",
            categories={
                s: (states.STATE_COLORS[s], states.STATE_LABELS[s][0]) for s in states.STATES
            },
            edgecolor="none",
            size=3,
            alpha=0.8,
            zorder=5,
        ),
    ]
    if len(summary.recurring):
        layers.append(
            MapLayer(
                summary.recurring.to_crs(crs),
                "重复发生的问题",
                kind="point",
                facecolor="none",
                edgecolor="#6a1b9a",
                linewidth=1.5,
                size=90,
                zorder=6,
            )
        )
    extent = points if len(points) else streets
    title = f"{city} 网格事件（{summary.period}）"
    fig = static_map(layers, crs=crs, title=title, extent=extent, legend_title="图例")
    return ReportFigure(title, figure_png(fig), "底色：各街道/乡镇每千人上报数；点：事件状态。")


def field_report_section(
    summary: FieldSummary,
    rules: FieldRules,
    *,
    streets: gpd.GeoDataFrame | None = None,
    crs: str = "EPSG:4546",
    city: str = "",
    figures: bool = True,
) -> ReportSection:
    """The export section "网格事件" for a period."""
    row = summary.city.iloc[0]
    key_figures = [
        (_kpi_label(c), format_value(float(row[c]), KPI_FORMATS[c])) for c in kpis.KPI_COLUMNS
    ]
    tables = [
        area_kpi_table(summary, "street"),
        area_kpi_table(summary, "community"),
        category_table(summary, rules),
        recurring_table(summary, rules),
        last_twice_table(summary),
    ]
    figs = []
    if figures and streets is not None and len(streets) and len(summary.reports):
        figs.append(report_map(summary, streets.to_crs(crs), crs=crs, city=city))
    title = "网格事件与入户走访" + ("（合成示例数据）" if summary.synthetic else "")
    return ReportSection("field", title, figures=figs, tables=tables, key_figures=key_figures)
