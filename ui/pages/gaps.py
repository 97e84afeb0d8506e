"""Service gaps: coverage, shelter capacity, rural sanitation, grid checks, what-if and siting.

A thin page over ``geo/``: it gathers parameters (defaults from the city profile), asks the one
analysis object (``geo.analysis.Analysis``, kept in Streamlit's cache by ``ui/gaps/compute.py``)
for its parts and shows one tab per part
(``ui/gaps/*_tab.py``). Session-state keys are in ``ui/gaps/keys.py``.
"""

from __future__ import annotations

import time

import streamlit as st

from geo.network import NetworkError
from ui import data_access as da
from ui.gaps.capacity_tab import show_capacity
from ui.gaps.compute import run_analysis
from ui.gaps.coverage_tab import show_coverage
from ui.gaps.grid_tab import show_grid_checks
from ui.gaps.map_tab import show_map
from ui.gaps.params import parameter_controls
from ui.gaps.sanitation_tab import show_sanitation
from ui.gaps.siting_tab import show_siting
from ui.gaps.whatif_tab import show_whatif
from ui.i18n import tr
from ui.map_controls import basemap_select, open_map_store
from ui.text import safe


def main() -> None:
    st.title(tr("服务缺口", "Service gaps"))
    store = open_map_store(
        tr(
            "还没有数据：请先导入数据或生成示例数据。",
            "No data yet: import data or generate the demo data first.",
        )
    )
    if store is None:
        return
    st.sidebar.subheader(tr("分析参数", "Parameters"))
    profile = parameter_controls(da.profile())
    basemap = basemap_select(st.sidebar)
    path, version = str(store.path), da.data_version(store)

    start = time.perf_counter()
    with st.status(tr("正在分析…", "Analysing…"), expanded=False) as status:
        bar = st.progress(0.0)
        try:
            analysis = run_analysis(
                path, version, profile, lambda s, text: bar.progress(min(s, 1.0), text=text)
            )
        except NetworkError as exc:  # walking distance asked for, but the store has no roads
            st.error(
                tr("无法按道路计算步行距离：", "Walking distance is not available: ")
                + safe(str(exc))
            )
            profile = profile.with_distance("straight")
            analysis = run_analysis(
                path, version, profile, lambda s, text: bar.progress(min(s, 1.0), text=text)
            )
        took = time.perf_counter() - start
        status.update(
            label=tr(f"分析完成（{took:.1f} s）", f"Analysis done ({took:.1f} s)"),
            state="complete",
            expanded=False,
        )
    if analysis.population.empty:
        st.warning(
            tr(
                "没有人口点数据，无法计算覆盖。",
                "No population points: coverage cannot be computed.",
            )
        )

    names = [
        tr("覆盖", "Coverage"),
        tr("地图", "Map"),
        tr("避难容量", "Shelter capacity"),
        tr("农村人居环境", "Rural sanitation"),
        tr("网格检查", "Grid checks"),
        tr("假设分析", "What-if"),
        tr("选址建议", "Suggest sites"),
    ]
    tabs = st.tabs(names)
    with tabs[0]:
        show_coverage(analysis)
    with tabs[1]:
        show_map(analysis, basemap)
    with tabs[2]:
        show_capacity(analysis)
    with tabs[3]:
        show_sanitation(analysis)
    with tabs[4]:
        show_grid_checks(analysis)
    with tabs[5]:
        show_whatif(analysis, basemap)
    with tabs[6]:
        show_siting(analysis, path, version, basemap)


main()
