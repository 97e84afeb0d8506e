"""Period snapshots of the indicators, kept in the store as attribute tables.

Tables
------
``indicator_snapshots``
    One row per period, area and indicator (columns of :data:`geo.indicators.COLUMNS` plus
    ``period``).
``snapshot_params``
    One row per period: when it was saved, the store version it was computed from and the
    parameters used (the city profile and analysis options) as JSON.
``plan_values``
    Non-spatial targets entered per period (green-space ratio, good-air days, satisfaction).

Saving a period replaces that period's rows and keeps every other period. Two periods are
compared with :func:`compare_periods`.

Example::

    store = open_store("city.gpkg")
    save_snapshot(store, "2026-Q3", table, params={"radii": {...}})
    compare_periods(load_snapshot(store, "2026-Q2"), load_snapshot(store, "2026-Q3"), profile)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from auth.model import User
from auth.storage import AuditEntry
from data.store import Store
from geo.indicators import COLUMNS, LEVELS, PLAN_KEYS, get_indicator

SNAPSHOTS = "indicator_snapshots"
PARAMS = "snapshot_params"
PLAN = "plan_values"
PERIOD_RE = re.compile(r"^\d{4}(-(Q[1-4]|H[12]|(0[1-9]|1[0-2])))?$")
TRENDS = ("improved", "worsened", "unchanged", "new", "removed")
TREND_LABELS = {
    "improved": ("改善", "Improved"),
    "worsened": ("变差", "Worsened"),
    "unchanged": ("持平", "Unchanged"),
    "new": ("新增", "New"),
    "removed": ("缺失", "Missing"),
}
# Changes smaller than this (in the indicator's own unit) count as unchanged.
CHANGE_TOLERANCE = 1e-9
TEXT_COLUMNS = ("level", "area_code", "area_name", "parent_code", "indicator", "status")
NUMBER_COLUMNS = ("value", "numerator", "denominator", "target")


class SnapshotError(ValueError):
    """A snapshot cannot be saved, found or compared."""


def check_period(period: str) -> str:
    """Return `period` if it looks like ``2026``, ``2026-Q3``, ``2026-H1`` or ``2026-07``."""
    text = str(period).strip()
    if not PERIOD_RE.match(text):
        raise SnapshotError(
            f"period {period!r}: expected a year, quarter, half or month such as 2026-Q3"
        )
    return text


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of `period` (``2026``, ``2026-H2``, ``2026-Q1``, ``2026-07``).

    >>> period_bounds("2026-H2")
    (datetime.date(2026, 7, 1), datetime.date(2026, 12, 31))
    """
    text = check_period(period)
    year = int(text[:4])
    part = text[5:]
    if not part:
        first, last = 1, 12
    elif part[0] == "Q":
        first = 3 * (int(part[1]) - 1) + 1
        last = first + 2
    elif part[0] == "H":
        first = 6 * (int(part[1]) - 1) + 1
        last = first + 5
    else:
        first = last = int(part)
    end = date(year + 1, 1, 1) if last == 12 else date(year, last + 1, 1)
    return date(year, first, 1), date.fromordinal(end.toordinal() - 1)


def period_order(period: str) -> tuple[date, date]:
    """Sort key of a period as dates: by its last day, then its first day.

    ``2026-Q1`` comes before ``2026-H2`` (as text it would come after), a year before the half,
    quarter and month that end with it.
    """
    first, last = period_bounds(period)
    return last, first


def sort_periods(periods: Iterable[str]) -> list[str]:
    """Distinct `periods`, oldest first, compared as dates (:func:`period_order`)."""
    return sorted({check_period(p) for p in periods}, key=period_order)


def current_period(meta: Mapping[str, str], *, today: date | None = None) -> str:
    """The period the store's data belong to: ``meta["period"]``, else today's quarter."""
    if meta.get("period"):
        return check_period(str(meta["period"]))
    today = today or date.today()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def known_periods(store: Store) -> list[str]:
    """Periods a report can be made of, oldest first: the saved snapshots and the store's
    current period (:func:`current_period`, its data as they are now)."""
    return sort_periods([*list_periods(store), current_period(store.meta())])


def resolve_period(store: Store, period: str | None = None) -> str:
    """`period` if the store knows it (see :func:`known_periods`), the latest one if ``None``.

    Raises
    ------
    SnapshotError
        For a period that has no snapshot and is not the store's current period, listing the
        known ones.
    """
    known = known_periods(store)
    if period is None:
        return known[-1]
    period = check_period(period)
    if period not in known:
        current = current_period(store.meta())
        saved = ", ".join(list_periods(store)) or "none"
        raise SnapshotError(
            f"{store.path.name}: unknown period {period}. Known periods: {', '.join(known)} "
            f"(saved snapshots: {saved}; current data: {current}). Save a snapshot of "
            f"{period} first (cli.py snapshot), or choose a known period."
        )
    return period


def _read(store: Store, name: str) -> pd.DataFrame:
    return store.read_table(name) if store.exists() else pd.DataFrame()


def _now() -> str:
    """The current UTC time as stored in the tables (ISO 8601, seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    """Indicator rows with text columns as objects (None when missing) and numbers as floats."""
    for col in TEXT_COLUMNS:
        rows[col] = rows[col].astype(object).where(rows[col].notna(), None)
    for col in NUMBER_COLUMNS:
        rows[col] = pd.to_numeric(rows[col], errors="coerce").astype(float)
    return rows


def _period_values(plan: pd.DataFrame, period: str) -> dict[str, float]:
    """Indicator key -> value of the finite plan values of `period` in a ``plan_values`` table."""
    rows = plan[plan["period"].astype(str) == period]
    return {
        str(k): float(v)
        for k, v in zip(rows["indicator"], rows["value"], strict=True)
        if np.isfinite(v)
    }


def _without_period(table: pd.DataFrame, period: str) -> pd.DataFrame:
    if table.empty or "period" not in table:
        return pd.DataFrame()
    return table[table["period"].astype(str) != period]


# --------------------------------------------------------------------------- snapshots
def _snapshot_rows(period: str, table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise SnapshotError(
            f"snapshot {period}: indicator table lacks columns {', '.join(missing)}"
        )
    rows = table[COLUMNS].copy()
    rows.insert(0, "period", period)
    return _typed(rows)


def snapshot_tables(
    snapshots: Mapping[str, tuple[pd.DataFrame, Mapping[str, Any] | None]],
    *,
    store: Store | None = None,
    source_version: str = "",
) -> dict[str, pd.DataFrame]:
    """The ``indicator_snapshots`` and ``snapshot_params`` tables with `snapshots` saved.

    `snapshots` maps period -> (indicator table, parameters). Other periods already in `store`
    are kept. Nothing is written: pass the result to ``store.write`` (one atomic step, possibly
    with other tables).
    """
    saved_at = _now()
    snap = _read(store, SNAPSHOTS) if store is not None else pd.DataFrame()
    params_table = _read(store, PARAMS) if store is not None else pd.DataFrame()
    for period, (table, params) in snapshots.items():
        period = check_period(period)
        snap = pd.concat(
            [_without_period(snap, period), _snapshot_rows(period, table)], ignore_index=True
        )
        row = pd.DataFrame(
            {
                "period": [period],
                "saved_at": [saved_at],
                "source_version": [source_version],
                "params_json": [
                    json.dumps(dict(params or {}), ensure_ascii=False, sort_keys=True, default=str)
                ],
            }
        )
        params_table = pd.concat([_without_period(params_table, period), row], ignore_index=True)
    return {SNAPSHOTS: snap, PARAMS: params_table}


def save_snapshot(
    store: Store,
    period: str,
    table: pd.DataFrame,
    *,
    params: Mapping[str, Any] | None = None,
    extra_tables: Mapping[str, pd.DataFrame] | None = None,
    user: User | None = None,
) -> None:
    """Store the indicator table of `period` with the parameters used (one atomic write).

    The audit log gets a ``snapshot`` row by `user` (``None``: the command line) in the same
    write.

    Parameters
    ----------
    store
        The GeoPackage store.
    period
        Period label, e.g. ``"2026-Q3"``.
    table
        Long indicator table (:func:`geo.indicators.compute_indicators`).
    params
        Parameters used (profile values, options); stored as JSON.
    extra_tables
        Other tables to write in the same step (used when plan values are saved too).
    user
        Who saves it, for the audit log.
    """
    with store.lock():  # the tables written are read from the store: hold it across both
        replaced = period in list_periods(store)
        tables = snapshot_tables(
            {period: (table, params)}, store=store, source_version=store.version()
        )
        tables.update(extra_tables or {})
        entry = AuditEntry.by(
            user,
            "snapshot",
            layer=SNAPSHOTS,
            rows_added=0 if replaced else len(table),
            rows_changed=len(table) if replaced else 0,
            detail={"period": period, "replaced": replaced, "tables": sorted(tables)},
        )
        store.write(tables, audit=[entry])


def analysis_params(profile, **extra: Any) -> dict[str, Any]:
    """The parameters a snapshot records: the whole city profile plus any options."""
    return {"profile": profile.to_dict(), "profile_source": profile.source, **extra}


def indicators_for_layers(
    layers: Mapping[str, Any], profile, *, plan_values: Mapping[str, float] | None = None
):
    """Run the gap analysis on `layers` and return (indicator table, analysis)."""
    from geo.analysis import run_all
    from geo.indicators import indicators_from_analysis

    analysis = run_all(layers, profile)
    return indicators_from_analysis(
        analysis, analysis.layers, profile, plan_values=plan_values
    ), analysis


def take_snapshot(
    store: Store,
    period: str,
    *,
    profile=None,
    plan_values: Mapping[str, float | None] | None = None,
    progress: Callable[[float, str], None] | None = None,
    user: User | None = None,
) -> pd.DataFrame:
    """Analyse the store's layers and save them as the snapshot of `period`.

    `plan_values` (non-spatial values, shares 0-1) are entered for the period first; values
    entered before are kept. Plan values and snapshot are written in one atomic step.
    """
    from geo.settings import load_profile

    period = check_period(period)
    report = progress or (lambda share, text: None)
    profile = profile or load_profile()
    plan = plan_values_frame(store, period, plan_values or {})
    report(0.05, "reading layers")
    layers = store.read_layers()
    report(0.2, "gap analysis")
    table, _ = indicators_for_layers(layers, profile, plan_values=_period_values(plan, period))
    report(0.9, "saving")
    save_snapshot(
        store,
        period,
        table,
        params=analysis_params(profile),
        extra_tables={PLAN: plan},
        user=user,
    )
    report(1.0, "done")
    return table


def list_periods(store: Store) -> list[str]:
    """Periods that have a snapshot, oldest first (compared as dates)."""
    table = _read(store, PARAMS)
    if table.empty:
        return []
    return sort_periods(table["period"].astype(str).unique())


def _snapshot_of(store: Store, table: pd.DataFrame, period: str) -> pd.DataFrame:
    """The rows of `period` in the ``indicator_snapshots`` `table` read from `store`."""
    period = check_period(period)
    selected = table["period"].astype(str) == period if not table.empty else None
    if selected is None or not selected.any():
        known = ", ".join(list_periods(store)) or "none"
        raise SnapshotError(
            f"{store.path.name}: no snapshot for period {period} (saved periods: {known})"
        )
    return _typed(table.loc[selected, COLUMNS].reset_index(drop=True))


def load_snapshots(store: Store, periods: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The indicator tables saved for `periods` (period -> table), reading the store once."""
    periods = list(periods)
    table = _read(store, SNAPSHOTS) if periods else pd.DataFrame()
    return {period: _snapshot_of(store, table, period) for period in periods}


def load_snapshot(store: Store, period: str) -> pd.DataFrame:
    """The indicator table saved for `period` (columns :data:`~geo.indicators.COLUMNS`)."""
    return _snapshot_of(store, _read(store, SNAPSHOTS), period)


def snapshot_params(store: Store, period: str) -> dict[str, Any]:
    """Parameters and metadata stored with the snapshot of `period`."""
    period = check_period(period)
    table = _read(store, PARAMS)
    rows = table[table["period"].astype(str) == period] if not table.empty else table
    if rows.empty:
        raise SnapshotError(f"{store.path.name}: no snapshot for period {period}")
    row = rows.iloc[-1]
    return {
        "period": period,
        "saved_at": str(row["saved_at"]),
        "source_version": str(row["source_version"]),
        "params": json.loads(row["params_json"]),
    }


# --------------------------------------------------------------------------- plan values
def plan_values_table(store: Store) -> pd.DataFrame:
    """All non-spatial values entered: period, indicator, value, note, entered_at."""
    table = _read(store, PLAN)
    if table.empty:
        return pd.DataFrame(columns=["period", "indicator", "value", "note", "entered_at"])
    table["value"] = pd.to_numeric(table["value"], errors="coerce").astype(float)
    return table


def get_plan_values(store: Store, period: str) -> dict[str, float]:
    """Non-spatial values entered for `period` (indicator key -> value)."""
    return _period_values(plan_values_table(store), check_period(period))


def plan_values_frame(
    store: Store, period: str, values: Mapping[str, float | None], *, note: str = ""
) -> pd.DataFrame:
    """The whole ``plan_values`` table with `period`'s values replaced by `values`."""
    period = check_period(period)
    problems = []
    for key, value in values.items():
        if key not in PLAN_KEYS:
            problems.append(f"{key}: not a non-spatial indicator (known: {', '.join(PLAN_KEYS)})")
        elif value is not None and (not np.isfinite(float(value)) or not 0 <= float(value) <= 1):
            problems.append(f"{key}: {value} is not a share between 0 and 1")
    if problems:
        raise SnapshotError(f"plan values for {period}: " + "; ".join(problems))
    table = plan_values_table(store)
    kept = {**_period_values(table, period), **{k: v for k, v in values.items() if v is not None}}
    kept = {k: v for k, v in kept.items() if values.get(k, 0) is not None}
    rows = pd.DataFrame(
        {
            "period": period,
            "indicator": list(kept),
            "value": [float(v) for v in kept.values()],
            "note": note,
            "entered_at": _now(),
        }
    )
    return pd.concat([_without_period(table, period), rows], ignore_index=True)


def set_plan_values(
    store: Store,
    period: str,
    values: Mapping[str, float | None],
    *,
    note: str = "",
    user: User | None = None,
) -> dict[str, float]:
    """Enter non-spatial values (shares 0-1) for `period`; ``None`` removes a value.

    If a snapshot of `period` exists its city rows are updated in the same atomic write, with an
    ``edit`` row in the audit log by `user` (``None``: the command line) holding the values
    before and after. Returns the period's values after the change.
    """
    period = check_period(period)
    with store.lock():  # read-modify-write of the plan and snapshot tables
        return _set_plan_values(store, period, values, note=note, user=user)


def _set_plan_values(
    store: Store,
    period: str,
    values: Mapping[str, float | None],
    *,
    note: str,
    user: User | None,
) -> dict[str, float]:
    before = get_plan_values(store, period)
    plan = plan_values_frame(store, period, values, note=note)
    tables: dict[str, pd.DataFrame] = {PLAN: plan}
    if period in list_periods(store):
        from geo.indicators import finish, plan_rows
        from geo.settings import load_profile

        snapshots = _read(store, SNAPSHOTS)
        current = _snapshot_of(store, snapshots, period)
        profile = load_profile()
        city = current[current["level"] == "city"]
        city_code = str(city["area_code"].iloc[0]) if len(city) else "city"
        city_name = str(city["area_name"].iloc[0]) if len(city) else profile.city.name_zh
        new_plan = plan_rows(
            _period_values(plan, period), profile, city_code=city_code, city_name=city_name
        )
        spatial = current[~current["indicator"].isin(PLAN_KEYS)]
        table = finish(pd.concat([spatial, new_plan], ignore_index=True), profile)
        tables[SNAPSHOTS] = pd.concat(
            [_without_period(snapshots, period), _snapshot_rows(period, table)], ignore_index=True
        )
    entry = AuditEntry.by(
        user,
        "edit",
        layer=PLAN,
        rows_changed=len(values),
        detail={"period": period, "before": before, "after": dict(values), "note": note},
    )
    store.write(tables, audit=[entry])
    return get_plan_values(store, period)


# --------------------------------------------------------------------------- comparison
def compare_periods(before: pd.DataFrame, after: pd.DataFrame, profile) -> pd.DataFrame:
    """Change of every indicator in every area between two snapshots.

    Returns one row per (level, area_code, indicator) present in either period with
    ``value_before``, ``value_after``, ``change`` (after - before, in the indicator's unit),
    ``status_before``, ``status_after`` and ``trend``: ``improved`` / ``worsened`` (taking the
    indicator's direction into account), ``unchanged``, ``new`` (only after) or ``removed``.
    """
    keys = ["level", "area_code", "indicator"]
    a = before[keys + ["area_name", "parent_code", "value", "status", "target"]].rename(
        columns={"value": "value_before", "status": "status_before", "target": "target_before"}
    )
    b = after[keys + ["area_name", "parent_code", "value", "status", "target"]].rename(
        columns={"value": "value_after", "status": "status_after", "target": "target_after"}
    )
    merged = a.merge(b, on=keys, how="outer", suffixes=("_b", "_a"))
    merged["area_name"] = merged["area_name_a"].where(
        merged["area_name_a"].notna(), merged["area_name_b"]
    )
    merged["parent_code"] = merged["parent_code_a"].where(
        merged["parent_code_a"].notna(), merged["parent_code_b"]
    )
    merged = merged.drop(columns=["area_name_a", "area_name_b", "parent_code_a", "parent_code_b"])
    vb = merged["value_before"].astype(float)
    va = merged["value_after"].astype(float)
    merged["change"] = va - vb
    sign = merged["indicator"].map(
        lambda k: 1.0 if get_indicator(k, profile).direction == "higher" else -1.0
    )
    signed = merged["change"] * sign
    trend = np.select(
        [
            vb.isna() & va.notna(),
            va.isna(),
            signed > CHANGE_TOLERANCE,
            signed < -CHANGE_TOLERANCE,
        ],
        ["new", "removed", "improved", "worsened"],
        default="unchanged",
    )
    merged["trend"] = trend
    # the tables are in indicator order (geo.indicators.finish): keep it
    seen = pd.unique(pd.concat([after["indicator"], before["indicator"]], ignore_index=True))
    order = {k: n for n, k in enumerate(seen)}
    lvl = {k: n for n, k in enumerate(LEVELS)}
    merged = merged.assign(_i=merged["indicator"].map(order), _l=merged["level"].map(lvl))
    merged = merged.sort_values(["_i", "_l", "area_code"], kind="stable").drop(columns=["_i", "_l"])
    cols = [
        "level",
        "area_code",
        "area_name",
        "parent_code",
        "indicator",
        "value_before",
        "value_after",
        "change",
        "status_before",
        "status_after",
        "target_after",
        "trend",
    ]
    return merged[cols].reset_index(drop=True)


def area_trends(
    comparison: pd.DataFrame, level: str, indicators: list[str] | None = None
) -> pd.DataFrame:
    """Per area of `level`: how many indicators improved and worsened, and the net trend.

    ``net`` is ``improved`` when more indicators improved than worsened, ``worsened`` when
    the reverse, otherwise ``unchanged``.
    """
    rows = comparison[comparison["level"] == level]
    if indicators is not None:
        rows = rows[rows["indicator"].isin(indicators)]
    counts = pd.crosstab(rows["area_code"], rows["trend"]).reindex(
        columns=list(TRENDS), fill_value=0
    )
    names = rows.drop_duplicates("area_code").set_index("area_code")["area_name"]
    out = counts[["improved", "worsened", "unchanged"]].copy()
    out["net"] = np.select(
        [out["improved"] > out["worsened"], out["worsened"] > out["improved"]],
        ["improved", "worsened"],
        "unchanged",
    )
    out.insert(0, "area_name", names.reindex(out.index))
    return out.reset_index().rename_axis(None, axis=1)


# Non-spatial values of the demo city (synthetic, like the rest of the demo data):
# (previous period, current period).
DEMO_PLAN_VALUES: tuple[dict[str, float], dict[str, float]] = (
    {"green_space_ratio": 0.352, "good_air_days_share": 0.861, "resident_satisfaction": 0.975},
    {"green_space_ratio": 0.364, "good_air_days_share": 0.879, "resident_satisfaction": 0.981},
)


def demo_snapshot_tables(city: Any, *, profile=None) -> dict[str, pd.DataFrame]:
    """Snapshot and plan-value tables of both periods of a demo city (``data.demo.DemoCity``).

    The demo store ships with these so the Progress page compares two periods out of the box.
    """
    from geo.settings import load_profile

    profile = profile or load_profile()
    snaps: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = {}
    plan_rows_: list[pd.DataFrame] = []
    pairs = ((city.previous_period, city.previous_layers), (city.period, city.layers))
    for (period, layers), plan in zip(pairs, DEMO_PLAN_VALUES, strict=True):
        table, _ = indicators_for_layers(layers, profile, plan_values=plan)
        snaps[period] = (table, analysis_params(profile, source="synthetic demo"))
        plan_rows_.append(
            pd.DataFrame(
                {
                    "period": period,
                    "indicator": list(plan),
                    "value": list(plan.values()),
                    "note": "合成示例数据 synthetic demo value",
                    "entered_at": _now(),
                }
            )
        )
    tables = snapshot_tables(snaps, source_version="demo")
    tables[PLAN] = pd.concat(plan_rows_, ignore_index=True)
    return tables
