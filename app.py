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

EXPLORER = st.Page(
    "ui/pages/explorer.py",
    title=tr("地图浏览", "Map explorer"),
    icon=":material/map:",
    url_path="explorer",
)


def _home() -> None:
    """The root URL opens the explorer at its own address.

    Streamlit serves its default page only at the root, so ``/explorer`` would be "not found"
    if the explorer were the default; a hidden default page that moves on keeps both working.
    """
    st.switch_page(EXPLORER, query_params=st.query_params.to_dict())


PAGES = [
    st.Page(_home, title=tr("首页", "Home"), url_path="home", default=True, visibility="hidden"),
    EXPLORER,
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
