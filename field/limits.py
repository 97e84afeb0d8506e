"""Time limits and overdue reports.

A report has two deadlines, both counted from when it was filed (``created_at``):

* accept by ``created_at + accept_limit_h`` (profile ``[field] accept_limit_h``);
* handle by ``created_at + limit_h(category, urgency)`` (处置时限, per category and urgency).

A report is **overdue** when it is still ``new`` after the accept deadline, or still open
(new, accepted, dispatched) after the handling deadline. A handled report was **on time**
when it reached ``handled`` by the handling deadline. Rejected and duplicate reports are
never overdue. Hours are calendar hours (the profile's documented default).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from field.periods import to_utc
from field.settings import FieldRules
from field.states import DONE_STATES, OPEN_STATES


def handle_limit_h(reports: pd.DataFrame, rules: FieldRules) -> pd.Series:
    """Handling limit in hours of each report, from its category and urgency."""
    table = {f"{c}|{u}": hours for (c, u), hours in rules.limits_table().items()}
    keys = reports["category"].astype(str) + "|" + reports["urgency"].astype(str)
    hours = keys.map(table).astype("float64")
    unknown = sorted(set(keys[hours.isna()]))
    if unknown:
        raise ValueError(
            "reports with an unknown category or urgency: "
            + ", ".join(k.replace("|", "/") for k in unknown[:5])
        )
    return pd.Series(hours.to_numpy(), index=reports.index, dtype="float64")


def deadlines(reports: pd.DataFrame, rules: FieldRules) -> pd.DataFrame:
    """``accept_due`` and ``handle_due`` (UTC timestamps) of each report."""
    created = to_utc(reports["created_at"])
    hours = handle_limit_h(reports, rules)
    return pd.DataFrame(
        {
            "accept_due": created + pd.Timedelta(hours=rules.accept_limit_h),
            "handle_due": created + pd.to_timedelta(hours, unit="h"),
        },
        index=reports.index,
    )


def overdue(reports: pd.DataFrame, rules: FieldRules, now: pd.Timestamp | str) -> pd.Series:
    """True for each report past its limit at `now` and not yet handled (see module doc)."""
    now = to_utc(now)
    due = deadlines(reports, rules)
    state = reports["state"]
    late_accept = state.eq("new") & (due["accept_due"] < now)
    late_handle = state.isin(OPEN_STATES) & (due["handle_due"] < now)
    return (late_accept | late_handle).rename("overdue")


def handled_on_time(reports: pd.DataFrame, rules: FieldRules) -> pd.Series:
    """True/False for handled reports (handled by the deadline or not), NA for the rest."""
    due = deadlines(reports, rules)["handle_due"]
    handled_at = to_utc(reports["handled_at"])
    done = reports["state"].isin(DONE_STATES) & handled_at.notna()
    values = np.where(done, handled_at <= due, False)
    return pd.Series(values, index=reports.index, dtype="boolean").where(done).rename("on_time")


def hours_to_close(reports: pd.DataFrame) -> pd.Series:
    """Hours from filing to ``closed`` (NaN for reports not closed)."""
    delta = to_utc(reports["closed_at"]) - to_utc(reports["created_at"])
    return (delta.dt.total_seconds() / 3600.0).rename("hours_to_close")


def hours_overdue(reports: pd.DataFrame, rules: FieldRules, now: pd.Timestamp | str) -> pd.Series:
    """Hours past the relevant deadline for overdue reports, 0 for the others (sort key)."""
    now = to_utc(now)
    due = deadlines(reports, rules)
    relevant = due["handle_due"].where(~reports["state"].eq("new"), due["accept_due"])
    late = overdue(reports, rules, now)
    hours = (now - relevant).dt.total_seconds() / 3600.0
    return hours.where(late, 0.0).rename("hours_overdue")
