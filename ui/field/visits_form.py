"""My grid "入户走访": record household visits and see this quarter's share (户户走到)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import streamlit as st

from field.periods import period_bounds, period_of, shift_period
from field.visits import VisitError, validate_visit, visited_per_grid
from ui.dates import day_picker
from ui.field import actor
from ui.field import data as fd
from ui.i18n import tr
from ui.text import safe


def visit_days(period: str, today: dt.date) -> list[dt.date]:
    """Days a visit can be recorded for: from the start of the quarter before `period` (a late
    entry) to `today`, newest first (Beijing days)."""
    start = period_bounds(shift_period(period, -1))[0].tz_convert("Asia/Shanghai").date()
    return [today - dt.timedelta(days=n) for n in range((today - start).days + 1)]


def visits_section(grid: gpd.GeoDataFrame) -> None:
    row = grid.iloc[0]
    code = str(row["grid_code"])
    user = actor.current_user(grid_code=code)
    now = fd.now()
    period = str(period_of(pd.Series([now])).iloc[0])
    households = int(row["households"]) if pd.notna(row["households"]) else 0
    visited = float(visited_per_grid(fd.visits(), period=period).get(code, 0.0))
    share = min(visited, households) / households if households else float("nan")
    st.metric(
        tr(f"本季度（{period}）入户走访", f"Households visited this quarter ({period})"),
        f"{share:.0%}" if households else "—",
        help=tr(
            f"已走访 {int(visited):,} 户 / 共 {households:,} 户",
            f"{int(visited):,} of {households:,} households",
        ),
    )
    if user.role not in ("worker", "staff", "admin"):
        return
    with st.form(f"field_visit_{code}", clear_on_submit=True):
        today = now.tz_convert("Asia/Shanghai").date()
        day = day_picker(
            st,
            tr("走访日期", "Day"),
            days=visit_days(period, today),
            today=today,
            key=f"field_visit_day_{code}",
        )
        household = st.text_input(
            tr("户/楼栋（有户名册时填写）", "Household or building (where a list exists)")
        )
        count = st.number_input(
            tr("走访户数（无户名册时填写）", "Households visited (where no list exists)"),
            min_value=0,
            max_value=max(households, 1) * 2,
            value=0,
            step=1,
        )
        sent = st.form_submit_button(tr("记录走访", "Record visit"))
    if sent:
        try:
            visit = validate_visit(
                {
                    "grid_code": code,
                    "household": household,
                    "households_visited": count or None,
                    "visited_on": day,
                    "worker": user.name,
                },
                set(grid["grid_code"].astype(str)) if actor.in_scope(user, grid).all() else set(),
            )
            fd.field_store().add_visits([visit], actor=user, now=now)
        except VisitError as err:
            st.error(safe(err))
            return
        st.success(tr("已记录。", "Recorded."))
        st.rerun()
