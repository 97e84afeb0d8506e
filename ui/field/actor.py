"""Who is acting on the field-report pages: the signed-in user (:mod:`auth`).

The sign-in page keeps the :class:`auth.model.User` in ``st.session_state["auth_user"]``.
Until a store has sign-in set up, the pages act as a demo user of the role the page is for
(a worker of the picked grid on My grid, a city-wide planner elsewhere) and say so.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from auth.model import Scope, User, scope_mask
from ui.i18n import tr

USER_KEY = "auth_user"


def current_user(*, grid_code: str | None = None) -> User:
    """The signed-in user; without sign-in a demo worker of `grid_code` or a demo planner."""
    user = st.session_state.get(USER_KEY)
    if isinstance(user, User):
        return user
    st.caption(
        tr(
            "未登录：以演示身份操作（登录功能启用后按账号权限）。",
            "Not signed in: acting as a demo user (accounts apply once sign-in is set up).",
        )
    )
    if grid_code:
        return User(
            "demo_worker", "演示网格员 / Demo worker", "worker", Scope("grids", (grid_code,))
        )
    return User("demo_planner", "演示规划人员 / Demo planner", "planner", Scope())


def in_scope(user: User, frame: pd.DataFrame) -> pd.Series:
    """Rows of a frame with grid_code/community/street/district inside the user's scope."""
    return scope_mask(user.scope, frame)


def scoped_reports(user: User, reports: pd.DataFrame) -> pd.DataFrame:
    """The reports `user` may see: those in their scope (server-side filter)."""
    return reports[in_scope(user, reports).to_numpy()]
