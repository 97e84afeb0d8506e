"""Response KPIs of field reports per area and quarter, for the progress meetings.

For a period (quarter) and an area level (``district``, ``street``, ``community`` or
``grid_code``), each area gets:

* ``reports`` — reports filed in the period (rejected and duplicate ones excluded);
* ``on_time_share`` — of those reports that were handled or whose handling deadline had passed
  by the reference time, the share handled by the deadline (0-1);
* ``median_hours_to_close`` — median hours from filing to ``closed``, over closed reports;
* ``overdue_now`` — reports (filed in any period) overdue at the reference time;
* ``per_1000_residents`` — ``reports`` per 1,000 residents of the area;
* ``visit_share`` — share of households visited in the period (from :mod:`field.visits`).

The reference time is ``now`` for the current period and the period's end for a past one,
and the state of a report at that time is read from its step timestamps, so a past quarter's
figures do not change when its reports are closed later.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from field.limits import deadlines
from field.periods import period_bounds, period_of, shift_period, to_utc
from field.settings import FieldRules
from field.states import DROPPED_STATES

LEVELS = ("city", "district", "street", "community", "grid_code")
CITY = "全市"
"""Area name of the whole city (level ``"city"``)."""
KPI_COLUMNS = [
    "reports",
    "on_time_share",
    "median_hours_to_close",
    "overdue_now",
    "per_1000_residents",
    "visit_share",
]
HIGHER_IS_BETTER = {
    "reports": None,  # neither: more reports can mean more problems or more diligent workers
    "on_time_share": True,
    "median_hours_to_close": False,
    "overdue_now": False,
    "per_1000_residents": None,
    "visit_share": True,
}
"""Direction of each KPI for rankings; ``None`` = not ranked."""
KPI_LABELS = {
    "reports": ("上报数", "Reports"),
    "on_time_share": ("按时处置率", "Handled on time"),
    "median_hours_to_close": ("结案时长中位数(小时)", "Median hours to close"),
    "overdue_now": ("超时未办", "Overdue now"),
    "per_1000_residents": ("每千人上报数", "Reports per 1,000 residents"),
    "visit_share": ("入户走访率", "Households visited"),
}


def _dropped_by(reports: pd.DataFrame, at: pd.Timestamp) -> pd.Series:
    state_at = to_utc(reports["state_at"]) if "state_at" in reports else None
    dropped = reports["state"].isin(DROPPED_STATES)
    if state_at is None:
        return dropped
    return dropped & (state_at <= at)


def overdue_at(reports: pd.DataFrame, rules: FieldRules, at: pd.Timestamp | str) -> pd.Series:
    """Overdue at time `at`, judged from the step timestamps (see :mod:`field.limits`)."""
    at = to_utc(at)
    due = deadlines(reports, rules)
    created = to_utc(reports["created_at"])
    accepted = to_utc(reports["accepted_at"])
    handled = to_utc(reports["handled_at"])
    live = (created <= at) & ~_dropped_by(reports, at)
    not_accepted = accepted.isna() | (accepted > at)
    not_handled = handled.isna() | (handled > at)
    late = not_handled & ((not_accepted & (due["accept_due"] < at)) | (due["handle_due"] < at))
    return (live & late).rename("overdue")


def reference_time(period: str, now: pd.Timestamp | str) -> pd.Timestamp:
    """`now` for a current or future period, the period's end for a past one."""
    now = to_utc(now)
    _, end = period_bounds(period)
    return min(now, end)


def report_kpis(
    reports: pd.DataFrame,
    rules: FieldRules,
    *,
    period: str,
    level: str,
    now: pd.Timestamp | str,
    residents: pd.Series | None = None,
    visit_share: pd.Series | None = None,
) -> pd.DataFrame:
    """KPIs per area of `level` for `period` (see module doc), one row per area.

    `residents` and `visit_share` are Series indexed by area name; their areas are listed
    even without reports.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    if level == "city":
        reports = reports.assign(city=CITY)
    at = reference_time(period, now)
    in_period = period_of(reports["created_at"]).eq(period).to_numpy()
    counted = reports[in_period & ~_dropped_by(reports, at).to_numpy()]
    counted = counted[to_utc(counted["created_at"]) <= at]
    due = deadlines(counted, rules)["handle_due"]
    handled = to_utc(counted["handled_at"])
    handled = handled.where(handled <= at)
    is_due = handled.notna() | (due < at)
    on_time = handled.notna() & (handled <= due)
    closed = to_utc(counted["closed_at"])
    closed = closed.where(closed <= at)
    hours = (closed - to_utc(counted["created_at"])).dt.total_seconds() / 3600.0
    area = counted[level]
    grouped = pd.DataFrame(
        {"area": area, "due": is_due, "on_time": on_time & is_due, "hours": hours}
    ).groupby("area", dropna=True)
    out = pd.DataFrame(
        {
            "reports": grouped.size(),
            "on_time_share": grouped["on_time"].sum() / grouped["due"].sum().replace(0, np.nan),
            "median_hours_to_close": grouped["hours"].median(),
        }
    )
    late = overdue_at(reports, rules, at)
    overdue_counts = reports.loc[late.to_numpy(), level].value_counts()
    index = out.index
    for extra in (residents, visit_share, overdue_counts):
        if extra is not None:
            index = index.union(extra.index)
    out = out.reindex(index)
    out["reports"] = out["reports"].fillna(0).astype("int64")
    out["overdue_now"] = overdue_counts.reindex(index).fillna(0).astype("int64")
    if residents is not None:
        res = residents.reindex(index).astype("float64")
        out["per_1000_residents"] = out["reports"] / res.where(res > 0) * 1000.0
    else:
        out["per_1000_residents"] = np.nan
    out["visit_share"] = (
        visit_share.reindex(index).astype("float64") if visit_share is not None else np.nan
    )
    out.index.name = level
    return out[KPI_COLUMNS]


def kpis_with_change(
    reports: pd.DataFrame,
    rules: FieldRules,
    *,
    period: str,
    level: str,
    now: pd.Timestamp | str,
    residents: pd.Series | None = None,
    visit_share: dict[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """:func:`report_kpis` for `period` with ``<kpi>_change`` columns against the period before.

    `visit_share` maps period -> share per area.
    """
    previous = shift_period(period, -1)
    visits = visit_share or {}
    now_kpi = report_kpis(
        reports,
        rules,
        period=period,
        level=level,
        now=now,
        residents=residents,
        visit_share=visits.get(period),
    )
    before = report_kpis(
        reports,
        rules,
        period=previous,
        level=level,
        now=now,
        residents=residents,
        visit_share=visits.get(previous),
    )
    return with_change(now_kpi, before)


def with_change(current: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """`current` KPIs with ``<kpi>_change`` columns: current minus `before` (same areas)."""
    out = current.copy()
    before = before.reindex(out.index)
    for col in KPI_COLUMNS:
        out[f"{col}_change"] = out[col] - before[col]
    return out


def counts_by_category(
    reports: pd.DataFrame, *, period: str, level: str, categories: tuple[str, ...]
) -> pd.DataFrame:
    """Reports filed in `period` per area (rows) and category (columns), dropped ones excluded."""
    mask = period_of(reports["created_at"]).eq(period) & ~reports["state"].isin(DROPPED_STATES)
    chosen = reports[mask.to_numpy()]
    table = pd.crosstab(chosen[level], chosen["category"])
    return table.reindex(columns=list(categories), fill_value=0)
