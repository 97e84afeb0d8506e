"""The field-report part of My grid: 上报 (report), my reports, household visits."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from ui.field.report_form import report_section
from ui.field.visits_form import visits_section
from ui.i18n import tr


def field_section(grid: gpd.GeoDataFrame, *, basemap: str) -> None:
    """Tabs under the grid map: report a problem, household visits."""
    report_tab, visit_tab = st.tabs([tr("上报", "Report"), tr("入户走访", "Household visits")])
    with report_tab:
        report_section(grid, basemap=basemap)
    with visit_tab:
        visits_section(grid)
