"""``python cli.py report --data STORE.gpkg [--period P] --out FILE``: export a progress report.

A period the store does not know (no saved snapshot, not its current period) is refused with
the list of known ones; without ``--period`` the latest known period is used.

The format follows the extension of FILE: ``.pdf`` (A4 report), ``.pptx`` (slides), ``.xlsx``
(tables), ``.html`` (standalone offline gap map) or ``.gpkg`` (gap layers for QGIS/ArcGIS).
"""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from auth.model import layers_for
from commands._users import UnknownUser, acting_user, add_as_argument, refuse
from data.snapshots import SnapshotError
from data.store import open_store
from reports.build import FORMATS, ReportError, build_report
from reports.fonts import FontMissingError

HELP = (
    "export a progress report of a period (PDF, PPTX, XLSX, HTML map or GeoPackage, by extension)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", default=None, help="GeoPackage store (default: $GRIDMAP_STORE or the demo store)"
    )
    parser.add_argument(
        "--period",
        default=None,
        help="period of the report, e.g. 2026-Q3: a saved snapshot or the store's current "
        "period (default: the latest of them, compared as dates)",
    )
    parser.add_argument("--out", required=True, help=f"output file ({', '.join(FORMATS)})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_as_argument(parser)


def run(args: argparse.Namespace) -> int:
    store = open_store(args.data)
    if not store.exists():
        print(
            f"store {store.label} does not exist; run `python cli.py demo --out {store.path}`",
            file=sys.stderr,
        )
        return 2
    try:
        user = acting_user(store, args.as_user)
    except UnknownUser as exc:
        return refuse("report", exc)
    layers = None if user is None else layers_for(user, store.read_layers())
    bar = tqdm(total=100, desc="report", unit="%", file=sys.stderr, disable=args.quiet, leave=False)

    def progress(share: float, text: str) -> None:
        bar.set_postfix_str(text, refresh=False)
        bar.update(max(0, round(share * 100) - bar.n))

    try:
        out = build_report(store, args.period, args.out, progress=progress, layers=layers)
    except (ReportError, SnapshotError, FontMissingError) as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bar.close()
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB)")
    return 0
