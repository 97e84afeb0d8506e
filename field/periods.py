"""Quarterly periods ("2026-Q3") of timestamps, as the progress meetings count them."""

from __future__ import annotations

import re

import pandas as pd

_PERIOD = re.compile(r"^(\d{4})-Q([1-4])$")


def to_utc(values: pd.Series | pd.Timestamp | str) -> pd.Series | pd.Timestamp:
    """Timestamps as tz-aware UTC (naive ones are taken as UTC)."""
    if isinstance(values, pd.Series):
        out = pd.to_datetime(values, utc=True, format="ISO8601")
        return out
    ts = pd.Timestamp(values)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def period_of(times: pd.Series) -> pd.Series:
    """The quarter of each timestamp, e.g. ``"2026-Q3"`` (Beijing time, UTC+8)."""
    local = to_utc(times).dt.tz_convert("Asia/Shanghai")
    out = local.dt.year.astype("Int64").astype(str) + "-Q" + local.dt.quarter.astype(str)
    return out.where(local.notna(), None)


def period_bounds(period: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start (inclusive) and end (exclusive) of `period` as UTC timestamps."""
    match = _PERIOD.match(period)
    if not match:
        raise ValueError(f"period must look like 2026-Q3, not {period!r}")
    year, quarter = int(match[1]), int(match[2])
    start = pd.Timestamp(year=year, month=3 * quarter - 2, day=1, tz="Asia/Shanghai")
    return start.tz_convert("UTC"), (start + pd.DateOffset(months=3)).tz_convert("UTC")


def shift_period(period: str, quarters: int) -> str:
    """`period` moved by `quarters` (negative: earlier)."""
    match = _PERIOD.match(period)
    if not match:
        raise ValueError(f"period must look like 2026-Q3, not {period!r}")
    index = int(match[1]) * 4 + int(match[2]) - 1 + quarters
    return f"{index // 4}-Q{index % 4 + 1}"
