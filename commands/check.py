"""``python cli.py check [STORE.gpkg]``: validate every layer of a store and list the problems."""

from __future__ import annotations

import argparse
import sys

from data.importing import check_store, layer_counts
from data.store import open_store

HELP = "validate every layer of a store against its schema and list the problems (exit 1 if any)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "store",
        nargs="?",
        default=None,
        help="GeoPackage to check (default: $GRIDMAP_STORE or the demo store)",
    )


def run(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    if not store.exists():
        print(f"store {store.label} does not exist", file=sys.stderr)
        return 2
    issues = check_store(store)
    for name, n in layer_counts(store).items():
        print(f"{name}: {n} rows")
    if not issues:
        print(f"{store.label}: no problems found")
        return 0
    print(f"{store.label}: {len(issues)} problem(s)")
    for issue in issues:
        print(f"  - {issue}")
    return 1
