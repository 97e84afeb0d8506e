"""Shiyan grid-governance map: the Streamlit entry point.

Run with ``python -m ui.serve`` (or ``streamlit run app.py``). Pages live in ``ui/pages/``; this
file only sets up the page, the language switch, sign-in and the navigation. Signed out, the
login page is the only page: no other page (and no layer data) exists for the session. Signed
in, the navigation lists the pages the user's role allows (:data:`auth.model.PERMISSIONS`);
each page checks the permission again on the server.
"""

import streamlit as st

from auth.model import can
from ui.auth import cookie_script, current_user, login_page, sign_out_button
from ui.errors import run_page
from ui.i18n import lang, language_switch, tr
from ui.style import page_style

st.set_page_config(
    page_title="十堰网格治理地图 Shiyan Grid Map", page_icon="static/favicon.png", layout="wide"
)
language_switch()
page_style(lang())
user = current_user()
cookie_script()

# (file, zh title, en title, icon, url path, permission)
PAGES = [
    ("ui/pages/explorer.py", "地图浏览", "Map explorer", "map", "explorer", "view"),
    ("ui/pages/my_grid.py", "我的网格", "My grid", "person_pin_circle", "my_grid", "view"),
    ("ui/pages/dispatch.py", "事件处置", "Dispatch", "assignment", "dispatch", "dispatch"),
    ("ui/pages/gaps.py", "服务缺口", "Service gaps", "crisis_alert", "gaps", "view"),
    ("ui/pages/progress.py", "工作进展", "Progress", "monitoring", "progress", "view"),
    ("ui/pages/data.py", "数据管理", "Data", "database", "data", "import"),
    ("ui/pages/audit.py", "操作记录", "Audit trail", "history", "audit", "audit"),
]

if user is None:
    pages = [
        st.Page(login_page, title=tr("登录", "Sign in"), icon=":material/login:", url_path="login")
    ]
else:
    pages = [
        st.Page(path, title=tr(zh, en), icon=f":material/{icon}:", url_path=url)
        for path, zh, en, icon, url, permission in PAGES
        if can(user, permission)
    ]
    # a grid worker starts on their own grid, everyone else on the explorer
    start = next(
        p for p in pages if p.url_path == ("my_grid" if user.role == "worker" else "explorer")
    )

    def _home() -> None:
        """The root URL opens the start page at its own address.

        Streamlit serves its default page only at the root, so ``/explorer`` would be "not
        found" if the explorer were the default; a hidden default page that moves on keeps both.
        """
        st.switch_page(start, query_params=st.query_params.to_dict())

    home = st.Page(
        _home, title=tr("首页", "Home"), url_path="home", default=True, visibility="hidden"
    )
    pages = [home, *pages]
    sign_out_button()
run_page(st.navigation(pages).run)
