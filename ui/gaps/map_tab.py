"""Map tab: the gap map of one facility kind."""

from __future__ import annotations

import streamlit as st

from geo.analysis import GapAnalysis
from ui.gaps.gap_map import show_gap_map
from ui.gaps.keys import MAP, MAP_KIND, MAP_SUMMARY
from ui.gaps.labels import kind_label, kinds
from ui.i18n import selectbox, tr


@st.fragment
def show_map(analysis: GapAnalysis, basemap: str) -> None:
    """The gap map of the chosen facility kind (a fragment: choosing a kind redraws the map only)."""
    kind = selectbox(
        st, tr("设施类型", "Facility kind"), kinds(), format_func=kind_label, key=MAP_KIND
    )
    limit = analysis.profile.display.max_gap_points_drawn
    if len(analysis.uncovered_points(kind)) > limit:
        st.caption(
            tr(
                f"未覆盖人口点超过 {limit:,} 个，以热点单元显示。",
                f"More than {limit:,} uncovered points: shown as hot-spot cells.",
            )
        )
    st.session_state[MAP_SUMMARY] = show_gap_map(analysis, kind, basemap, key=MAP, height=620)
