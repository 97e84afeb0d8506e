"""Shiyan grid-governance map: the Streamlit entry point.

Run with ``streamlit run app.py``. Pages live in ``ui/pages/``; this file only sets up the
page, the language switch and the navigation.
"""

import streamlit as st

from ui.errors import run_page
from ui.i18n import lang, language_switch, tr
from ui.style import page_style

st.set_page_config(
    page_title="十堰网格治理地图 Shiyan Grid Map", page_icon="static/favicon.png", layout="wide"
)
language_switch()
page_style(lang())

PAGES = [
    st.Page(
        "ui/pages/explorer.py",
        title=tr("地图浏览", "Map explorer"),
        icon=":material/map:",
        url_path="explorer",
        default=True,
    ),
    st.Page(
        "ui/pages/my_grid.py",
        title=tr("我的网格", "My grid"),
        icon=":material/person_pin_circle:",
        url_path="my_grid",
    ),
    st.Page(
        "ui/pages/dispatch.py",
        title=tr("事件处置", "Dispatch"),
        icon=":material/assignment:",
        url_path="dispatch",
    ),
    st.Page(
        "ui/pages/gaps.py",
        title=tr("服务缺口", "Service gaps"),
        icon=":material/crisis_alert:",
        url_path="gaps",
    ),
    st.Page(
        "ui/pages/progress.py",
        title=tr("工作进展", "Progress"),
        icon=":material/monitoring:",
        url_path="progress",
    ),
    st.Page(
        "ui/pages/data.py",
        title=tr("数据管理", "Data"),
        icon=":material/database:",
        url_path="data",
    ),
]
run_page(st.navigation(PAGES).run)
