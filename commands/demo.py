"""``python cli.py demo --out PATH``: write the synthetic Shiyan demo city to a GeoPackage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

HELP = "write the SYNTHETIC Shiyan demo city (all layers) to a GeoPackage"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="GeoPackage to write (default: $GRIDMAP_STORE or data/demo/shiyan_demo.gpkg)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply residents, population points, grids, villages and facilities (default 1)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument(
        "--residents",
        type=int,
        default=None,
        help="total urban residents (default 1,000,000 x scale); grid and point counts keep their scale",
    )
    parser.add_argument(
        "--no-snapshots",
        action="store_true",
        help="skip the indicator snapshots of both demo periods (faster, for benchmarks)",
    )


def run(args: argparse.Namespace) -> int:
    from data.demo import write_demo
    from geo.settings import store_path

    out = args.out if args.out is not None else store_path()
    if args.scale <= 0:
        print("--scale must be positive", file=sys.stderr)
        return 2
    if args.residents is not None and args.residents <= 0:
        print("--residents must be positive", file=sys.stderr)
        return 2
    with tqdm(total=100, desc="demo", unit="%", file=sys.stderr, leave=False) as bar:

        def progress(share: float, text: str) -> None:
            bar.set_description(text)
            bar.update(max(0, round(share * 100) - bar.n))

        city = write_demo(
            out,
            seed=args.seed,
            scale=args.scale,
            residents=args.residents,
            progress=progress,
            snapshots=not args.no_snapshots,
        )
    print(f"wrote {out} (SYNTHETIC demo data, seed {args.seed}, scale {args.scale:g})")
    summary = city.summary()
    width = max(len(name) for name in summary["layer"])
    print(f"{'layer':<{width}}  {city.period:>9}  {city.previous_period:>9}")
    for row in summary.itertuples(index=False):
        print(f"{row[0]:<{width}}  {row[1]:>9,}  {row[2]:>9,}")
    print(f"total urban residents: {int(city.layers['grids']['residents'].sum()):,}")
    return 0
