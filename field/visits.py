"""Household visits (足印社区·户户走到): the share of households a grid worker visited.

Design: a visit row names the grid, the day, and either a ``household`` (a household or
building key, where the city keeps a household list) or, where no list exists, a count
``households_visited`` for the period. A grid's visited households in a quarter are the
distinct household keys visited plus the counts of unnamed rows, capped at the grid's
``households``; the share of an area is visited / households summed over its grids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from field.periods import period_of

VISIT_COLUMNS = ["grid_code", "household", "visited_on", "households_visited", "worker"]


class VisitError(ValueError):
    """A visit record that cannot be stored."""


def validate_visit(row: dict, grid_codes: set[str]) -> dict:
    """Check one visit record; returns it normalised or raises :class:`VisitError`."""
    problems = []
    grid = str(row.get("grid_code") or "")
    if grid not in grid_codes:
        problems.append(f"grid_code {grid!r} is not one of your grids")
    household = (row.get("household") or "").strip() or None
    try:
        count = int(row.get("households_visited") or (1 if household else 0))
    except (TypeError, ValueError):
        problems.append(f"households_visited is {row.get('households_visited')!r}, not a number")
        count = 0
    if household and count != 1:
        problems.append("a named household counts as one visit; leave households_visited empty")
    if not household and count <= 0:
        problems.append("give a household/building, or the number of households visited (> 0)")
    try:
        day = pd.Timestamp(row.get("visited_on")).date().isoformat()
    except (TypeError, ValueError):
        problems.append(f"visited_on is {row.get('visited_on')!r}, not a date")
        day = None
    if problems:
        raise VisitError("visit: " + "; ".join(problems))
    return {
        "grid_code": grid,
        "household": household,
        "visited_on": day,
        "households_visited": count,
        "worker": row.get("worker"),
    }


def visited_per_grid(visits: pd.DataFrame, *, period: str) -> pd.Series:
    """Households visited in `period` per grid code (uncapped)."""
    if visits.empty:
        return pd.Series(dtype="float64", name="visited")
    days = pd.to_datetime(visits["visited_on"]).dt.tz_localize("Asia/Shanghai")
    chosen = visits[period_of(days).eq(period).to_numpy()]
    named = chosen[chosen["household"].notna()]
    unnamed = chosen[chosen["household"].isna()]
    distinct = named.groupby("grid_code")["household"].nunique()
    counted = unnamed.groupby("grid_code")["households_visited"].sum()
    return distinct.add(counted, fill_value=0).astype("float64").rename("visited")


def visit_share(visits: pd.DataFrame, grids: pd.DataFrame, *, period: str, level: str) -> pd.Series:
    """Share (0-1) of households visited in `period`, per area of `level` (a grids column)."""
    visited = visited_per_grid(visits, period=period)
    households = pd.to_numeric(grids["households"], errors="coerce").fillna(0).to_numpy()
    done = visited.reindex(grids["grid_code"]).fillna(0).to_numpy()
    frame = pd.DataFrame(
        {"area": grids[level].to_numpy(), "hh": households, "done": np.minimum(done, households)}
    )
    sums = frame.groupby("area")[["hh", "done"]].sum()
    return (sums["done"] / sums["hh"].where(sums["hh"] > 0)).rename("visit_share")
