"""Shelter capacity tab: nearest assignment, constrained allocation, supply per area."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from geo.analysis import GapAnalysis
from geo.areas import LEVEL_LABELS
from geo.capacity import SHELTER_GROUPS
from layers.shelters import CLASS_LABELS
from ui.gaps.keys import CAP_GROUP
from ui.gaps.labels import GROUP_LABELS, pair
from ui.gaps.tables import persons, table
from ui.i18n import tr


def show_capacity(analysis: GapAnalysis) -> None:
    """Both capacity views of one shelter group, each shelter's load and supply per area."""
    cap = analysis.capacity
    group = st.radio(
        tr("避难场所类别", "Shelter group"),
        list(SHELTER_GROUPS),
        format_func=lambda g: pair(GROUP_LABELS[g]),
        horizontal=True,
        key=CAP_GROUP,
    )
    g = cap.groups[group]
    near, best = g.nearest.summary(), g.constrained.summary()
    st.caption(
        tr(
            f"服务半径 {g.radius_m:,.0f} m。容量 = 容纳人数；未填写时 = 有效面积 ÷ 人均有效避难面积。",
            f"Radius {g.radius_m:,.0f} m. Capacity = the capacity field, or effective area ÷ area per person.",
        )
    )
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**" + tr("视图一：就近分配", "View 1: nearest assignment") + "**")
        st.metric(tr("场所容量合计", "Total capacity"), persons(near["capacity"]))
        st.metric(
            tr("超载场所", "Overloaded shelters"),
            f"{near['overloaded_shelters']:,} / {near['shelters']:,}",
        )
        st.metric(
            tr("超出容量的居民", "Residents over capacity"),
            persons(near["residents_over_capacity"]),
        )
        st.metric(
            tr("半径内无场所的居民", "Residents with no shelter in reach"),
            persons(near["residents_unassigned"]),
        )
    with c2:
        st.markdown(
            "**"
            + tr(
                "视图二：容量约束下的最优安置（最大流，精确）",
                "View 2: capacity-constrained allocation (max flow, exact)",
            )
            + "**"
        )
        st.metric(tr("可安置居民", "Residents placed"), persons(best["residents_placed"]))
        st.metric(tr("无法安置的居民", "Residents not placed"), persons(best["residents_unplaced"]))
        st.metric(
            tr("其中容量不足", "of which: shelters full"), persons(best["residents_over_capacity"])
        )
    loads = g.nearest.loads.copy()
    loads["load_constrained"] = g.constrained.loads["load"].to_numpy()
    loads["utilisation_pct"] = loads.pop("utilisation").replace(np.inf, np.nan) * 100
    if "shelter_class" in loads.columns:
        loads["shelter_class"] = loads["shelter_class"].map(
            lambda c: pair(CLASS_LABELS.get(c, (c, c)))
        )
    st.markdown(
        "**" + tr("各场所负荷（超载在前）", "Load of each shelter (overloaded first)") + "**"
    )
    table(
        loads.sort_values("spare", kind="stable"),
        "gaps_loads_table",
        csv=f"shelter_loads_{group}.csv",
    )
    cells = g.constrained.unplaced_cells
    if len(cells):
        st.markdown(
            "**" + tr("无法安置的居民在哪里", "Where residents who cannot be placed live") + "**"
        )
        table(pd.DataFrame(cells), "gaps_unplaced_table", csv=f"unplaced_{group}.csv", rows=50)
    st.markdown(
        "**"
        + tr(
            "人均避难容量与有效面积（固定与中心避难场所）",
            "Places and effective area per resident (fixed and central shelters)",
        )
        + "**"
    )
    for level, supply in cap.supply.items():
        st.caption(pair(LEVEL_LABELS[level]))
        shown = supply.reset_index().rename(columns={f"{level}_code": "code"})
        table(shown, f"gaps_supply_{level}", csv=f"shelter_supply_{level}.csv")
