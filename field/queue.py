"""The dispatch queue's order: overdue first (most late first), then newest."""

from __future__ import annotations

import pandas as pd

from field import limits
from field.settings import FieldRules


def queue_order(reports: pd.DataFrame, rules: FieldRules, now: pd.Timestamp | str) -> pd.DataFrame:
    """Reports with ``overdue`` and ``hours_overdue`` columns, in queue order."""
    out = reports.copy()
    out["overdue"] = limits.overdue(out, rules, now)
    out["hours_overdue"] = limits.hours_overdue(out, rules, now)
    return out.sort_values(
        ["overdue", "hours_overdue", "created_at"], ascending=[False, False, False], kind="stable"
    )
