"""``python cli.py snapshot --data STORE --period P``: save the indicators of a period in the store.

Non-spatial targets of the action plan are entered with the snapshot, as shares or percentages::

    python cli.py snapshot --data store.gpkg --period 2026-Q3 --green-space 0.37 --good-air 88.2

``--list`` shows the saved periods; ``--compare P0`` prints the city-level change from P0.
"""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from auth.model import PermissionDenied
from commands._users import UnknownUser, acting_user, add_as_argument, refuse
from data.snapshots import (
    SnapshotError,
    compare_periods,
    list_periods,
    load_snapshot,
    take_snapshot,
)
from data.store import open_store
from geo.indicators import get_indicator
from geo.settings import load_profile

HELP = "save the indicator snapshot of a period in the store (with non-spatial plan values)"
PLAN_OPTIONS = {
    "green_space": "green_space_ratio",
    "good_air": "good_air_days_share",
    "satisfaction": "resident_satisfaction",
}


def _share(text: str) -> float:
    """A share from '0.37', '37' or '37%' (values above 1 are read as percentages)."""
    value = float(str(text).strip().rstrip("%"))
    return value / 100 if value > 1 or str(text).strip().endswith("%") else value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", default=None, help="GeoPackage store (default: $GRIDMAP_STORE or the demo store)"
    )
    parser.add_argument("--period", help="period label, e.g. 2026-Q3")
    parser.add_argument(
        "--green-space", type=_share, help="green-space ratio of the built-up area (0.37 or 37%%)"
    )
    parser.add_argument(
        "--good-air", type=_share, help="share of days with good air (0.88 or 88%%)"
    )
    parser.add_argument("--satisfaction", type=_share, help="resident satisfaction (0.98 or 98%%)")
    parser.add_argument("--list", action="store_true", help="list the saved periods and stop")
    parser.add_argument(
        "--compare", metavar="PERIOD", help="after saving, print the change from PERIOD"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_as_argument(parser)


def run(args: argparse.Namespace) -> int:
    store = open_store(args.data)
    profile = load_profile()
    if not store.exists():
        print(f"store {store.label} does not exist", file=sys.stderr)
        return 2
    if args.list:
        for period in list_periods(store):
            print(period)
        return 0
    if not args.period:
        print("error: --period is required (or use --list)", file=sys.stderr)
        return 2
    try:
        user = acting_user(store, args.as_user, "snapshot")
    except (UnknownUser, PermissionDenied) as exc:
        return refuse("snapshot", exc)
    plan = {
        key: getattr(args, opt)
        for opt, key in PLAN_OPTIONS.items()
        if getattr(args, opt) is not None
    }
    bar = tqdm(
        total=100, desc="snapshot", unit="%", file=sys.stderr, disable=args.quiet, leave=False
    )

    def progress(share: float, text: str) -> None:
        bar.set_postfix_str(text, refresh=False)
        bar.update(max(0, round(share * 100) - bar.n))

    try:
        table = take_snapshot(
            store, args.period, profile=profile, plan_values=plan, progress=progress, user=user
        )
        bar.close()
        city = table[table["level"] == "city"]
        print(f"saved {args.period}: {len(table)} values, {city['indicator'].nunique()} indicators")
        for row in city.itertuples():
            ind = get_indicator(row.indicator, profile)
            print(
                f"  {ind.name_zh} / {ind.name_en}: {ind.format(row.value)} (target {ind.format(row.target)}, {row.status})"
            )
        if args.compare:
            cmp = compare_periods(load_snapshot(store, args.compare), table, profile)
            print(f"change from {args.compare}:")
            for row in cmp[cmp["level"] == "city"].itertuples():
                ind = get_indicator(row.indicator, profile)
                change = row.change * 100 if ind.kind == "share" else row.change
                unit = " pp" if ind.kind == "share" else f" {ind.unit}"
                print(f"  {ind.name_zh}: {change:+.{ind.decimals}f}{unit} ({row.trend})")
    except SnapshotError as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
