"""Tables of the gaps page: localized headers, units, number formats, CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo import fmt
from ui.gaps.locate import selected_rows
from ui.i18n import lang, tr

#: Column name -> (Chinese, English) header and unit; every table on the page uses these.
COLUMNS: dict[str, tuple[str, str, str]] = {
    "label": ("设施类型", "Facility kind", ""),
    "kind_label": ("类型", "Kind", ""),
    "rank": ("排名", "Rank", "#"),
    "code": ("编码", "Code", ""),
    "name": ("名称", "Name", ""),
    "radius_m": ("服务半径", "Radius", "m"),
    "facilities": ("设施数", "Facilities", "个"),
    "residents": ("常住人口", "Residents", "人"),
    "residents_total": ("人口点居民", "Residents of population points", "人"),
    "residents_covered": ("已覆盖", "Covered", "人"),
    "residents_uncovered": ("未覆盖", "Not covered", "人"),
    "share_pct": ("覆盖率", "Share covered", "%"),
    "target_pct": ("目标", "Target", "%"),
    "target": ("目标", "Target", ""),
    "status": ("状态", "Status", ""),
    "cell_id": ("单元", "Cell", ""),
    "points": ("人口点", "Population points", "#"),
    "lon": ("经度", "Longitude", "°"),
    "lat": ("纬度", "Latitude", "°"),
    "shelter_id": ("编号", "ID", ""),
    "shelter_class": ("类别", "Class", ""),
    "capacity": ("容量", "Capacity", "人"),
    "load": ("就近分配", "Nearest load", "人"),
    "spare": ("剩余容量", "Spare", "人"),
    "overloaded": ("超载", "Overloaded", ""),
    "load_constrained": ("最优安置", "Constrained load", "人"),
    "utilisation_pct": ("负荷率", "Utilisation", "%"),
    "residents_unplaced": ("无法安置", "Not placed", "人"),
    "residents_out_of_reach": ("半径外", "Out of reach", "人"),
    "residents_over_capacity": ("容量不足", "Shelters full", "人"),
    "shelters": ("场所数", "Shelters", "个"),
    "places": ("避难容量", "Places", "人"),
    "effective_area_m2": ("有效面积", "Effective area", "m²"),
    "places_per_resident": ("人均容量", "Places per resident", "ratio"),
    "area_per_resident_m2": ("人均有效面积", "Area per resident", "m²/人"),
    "target_places_per_resident": ("容量目标", "Places target", "ratio"),
    "target_area_per_resident_m2": ("面积目标", "Area target", "m²/人"),
    "meets_places": ("容量达标", "Places met", ""),
    "meets_area": ("面积达标", "Area met", ""),
    "village_code": ("村编码", "Village code", ""),
    "township": ("乡镇", "Township", ""),
    "county": ("区县", "County", ""),
    "households": ("户数", "Households", "户"),
    "sanitary_toilet_households": ("卫生厕所户数", "Sanitary toilets", "户"),
    "toilet_pct": ("卫生厕所普及率", "Toilet penetration", "%"),
    "garbage_point_distance_m": ("最近垃圾收集点", "Nearest garbage point", "m"),
    "has_garbage_collection": ("垃圾收运", "Garbage collected", ""),
    "has_sewage_treatment": ("污水处理", "Sewage treated", ""),
    "shortfalls": ("不足", "Shortfalls", ""),
    "villages": ("行政村", "Villages", "个"),
    "villages_meeting_toilet": ("厕所达标村", "Villages meeting toilet target", "个"),
    "villages_with_garbage": ("垃圾收运村", "Villages with garbage collection", "个"),
    "villages_with_sewage": ("污水治理村", "Villages with sewage treatment", "个"),
    "villages_below_target": ("未达标村", "Villages below target", "个"),
    "toilet_penetration_pct": ("卫生厕所普及率", "Toilet penetration", "%"),
    "share_meeting_toilet_pct": ("厕所达标村占比", "Share meeting toilet target", "%"),
    "share_with_garbage_pct": ("垃圾收运村占比", "Share with garbage collection", "%"),
    "share_with_sewage_pct": ("污水治理村占比", "Share with sewage treatment", "%"),
    "meets_toilet_target": ("普及率达标", "Toilet target met", ""),
    "meets_garbage_target": ("垃圾收运达标", "Garbage target met", ""),
    "meets_sewage_target": ("污水治理达标", "Sewage target met", ""),
    "check": ("检查项", "Check", ""),
    "grid_code": ("网格编码", "Grid code", ""),
    "grid_name": ("网格名称", "Grid name", ""),
    "community": ("社区", "Community", ""),
    "street": ("街道/乡镇", "Street/township", ""),
    "grid_codes": ("涉及网格", "Grids involved", ""),
    "community_code": ("社区编码", "Community code", ""),
    "detail": ("说明", "Detail", ""),
    "value": ("数值", "Value", ""),
    "problems": ("问题数", "Problems", "个"),
    "proposal_id": ("编号", "ID", ""),
    "newly_covered": ("新增覆盖", "Newly covered", "人"),
    "cumulative_covered": ("累计覆盖", "Cumulative", "人"),
    "cumulative_pct": ("占未覆盖人口", "Share of uncovered", "%"),
    "facilities_before": ("现状设施", "Facilities before", "个"),
    "facilities_after": ("增加后设施", "Facilities after", "个"),
    "covered_before": ("现状覆盖", "Covered before", "人"),
    "covered_after": ("增加后覆盖", "Covered after", "人"),
    "share_before_pct": ("现状覆盖率", "Share before", "%"),
    "share_after_pct": ("增加后覆盖率", "Share after", "%"),
    "group": ("类别", "Group", ""),
    "shelters_before": ("现状场所", "Shelters before", "个"),
    "shelters_after": ("增加后场所", "Shelters after", "个"),
    "capacity_before": ("现状容量", "Capacity before", "人"),
    "capacity_after": ("增加后容量", "Capacity after", "人"),
    "overloaded_before": ("现状超载场所", "Overloaded before", "个"),
    "overloaded_after": ("增加后超载场所", "Overloaded after", "个"),
    "over_capacity_before": ("现状超出容量", "Over capacity before", "人"),
    "over_capacity_after": ("增加后超出容量", "Over capacity after", "人"),
    "placed_before": ("现状可安置", "Placed before", "人"),
    "placed_after": ("增加后可安置", "Placed after", "人"),
    "newly_placed": ("新增可安置", "Newly placed", "人"),
}
FORMATS = {
    "m": "%.0f m",
    "%": "%.1f%%",
    "°": "%.5f",
    "#": "%d",
    "m²": "%.0f m²",
    "ratio": "%.3f",
    "m²/人": "%.2f m²",
}
#: Lengths and areas: unit in the header, thousands separators and these decimals in the cells.
SEPARATED_UNITS = {"m": 0, "m²": 0}
COUNT_UNITS = ("人", "个", "户")  # counts: unit in the header, thousands separators in the cells
COUNT_UNITS_EN = {"人": "persons", "个": "count", "户": "households"}


def column_config(frame: pd.DataFrame) -> dict[str, object]:
    """Headers (Chinese or English) and number formats with units for the known columns."""
    out: dict[str, object] = {}
    for col in frame.columns:
        spec = COLUMNS.get(col)
        if spec is None:
            continue
        zh, en, unit = spec
        if unit in COUNT_UNITS:
            word = COUNT_UNITS_EN[unit]
            header = (
                f"{zh}（{unit}）"
                if lang() == "zh"
                else (en if word.rstrip("s") in en.lower() else f"{en} ({word})")
            )
            out[col] = st.column_config.NumberColumn(header, format="localized")
        elif unit in SEPARATED_UNITS:
            out[col] = st.column_config.NumberColumn(_with_unit(zh, en, unit), format="localized")
        elif unit == "m²/人":
            out[col] = st.column_config.NumberColumn(_with_unit(zh, en, unit), format="%.2f")
        elif unit:
            out[col] = st.column_config.NumberColumn(tr(zh, en), format=FORMATS[unit])
        else:
            out[col] = st.column_config.Column(tr(zh, en))
    return out


def _with_unit(zh: str, en: str, unit: str) -> str:
    """A header with its unit in the UI language: 服务半径（m）, Area per resident (m²/person)."""
    return f"{zh}（{fmt.unit(unit, 'zh')}）" if lang() == "zh" else f"{en} ({fmt.unit(unit, 'en')})"


def table(
    frame: pd.DataFrame,
    key: str,
    *,
    csv: str | None = None,
    rows: int | None = None,
    select: bool = False,
) -> list[int]:
    """Show `frame` with localized headers and units; optional CSV download of all rows.

    With `select`, the user can pick one row; returns the positions of the picked rows.
    """
    frame = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    shown = frame if rows is None else frame.head(rows)
    for col, decimals in SEPARATED_UNITS.items():
        for name in [c for c in shown.columns if COLUMNS.get(c, ("", "", ""))[2] == col]:
            shown = shown.assign(**{name: pd.to_numeric(shown[name]).round(decimals)})
    event = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=column_config(frame),
        key=key,
        **({"on_select": "rerun", "selection_mode": "single-row"} if select else {}),
    )
    if csv:
        data = frame.to_csv(index=False).encode("utf-8-sig")  # BOM: spreadsheets read Chinese
        st.download_button(
            tr("下载 CSV", "Download CSV"), data, file_name=csv, mime="text/csv", key=f"{key}_csv"
        )
    return selected_rows(event) if select else []


def persons(value: float) -> str:
    return tr(f"{value:,.0f} 人", f"{value:,.0f}")
