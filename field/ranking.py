"""The accountability rule "ranked last twice in a row" (季度测评连续两次垫底).

For each indicator and area level, the area(s) with the worst value of a period are
"ranked last" in that period (ties share the last place; areas without a value, or with
fewer than ``ranking_min_reports`` reports, are not ranked). An area ranked last in a period
and in the period just before it is flagged.
"""

from __future__ import annotations

import pandas as pd

from field.periods import shift_period


def ranked_last(values: pd.Series, *, higher_is_better: bool) -> set:
    """Areas holding the worst value of `values` (indexed by area); NaN is not ranked."""
    valid = values.dropna()
    if valid.empty:
        return set()
    worst = valid.min() if higher_is_better else valid.max()
    return set(valid.index[valid == worst])


def last_twice(
    kpis: dict[str, pd.DataFrame],
    *,
    period: str,
    directions: dict[str, bool | None],
    min_reports: int = 0,
) -> pd.DataFrame:
    """Areas ranked last in `period` and in the period before, per indicator.

    Parameters
    ----------
    kpis
        Period -> KPI frame indexed by area (as :func:`field.kpis.report_kpis` gives).
    directions
        Indicator -> True if higher is better, False if lower is better, None to skip.
    min_reports
        Areas with fewer ``reports`` than this in a period are left out of that period's ranking.

    Returns
    -------
    DataFrame with ``indicator``, ``area``, ``value``, ``previous_value``, one row per flag.
    """
    previous = shift_period(period, -1)
    rows = []
    if period not in kpis or previous not in kpis:
        return pd.DataFrame(columns=["indicator", "area", "value", "previous_value"])
    now, before = kpis[period], kpis[previous]
    for indicator, higher in directions.items():
        if higher is None or indicator not in now.columns:
            continue
        last_now = ranked_last(_rankable(now, indicator, min_reports), higher_is_better=higher)
        last_before = ranked_last(
            _rankable(before, indicator, min_reports), higher_is_better=higher
        )
        for area in sorted(last_now & last_before, key=str):
            rows.append(
                {
                    "indicator": indicator,
                    "area": area,
                    "value": now.at[area, indicator],
                    "previous_value": before.at[area, indicator],
                }
            )
    return pd.DataFrame(rows, columns=["indicator", "area", "value", "previous_value"])


def _rankable(frame: pd.DataFrame, indicator: str, min_reports: int) -> pd.Series:
    values = frame[indicator]
    if min_reports and "reports" in frame.columns and indicator != "visit_share":
        values = values.where(frame["reports"] >= min_reports)
    return values
