"""``python cli.py gaps``: run the service-gap analysis and write gap layers and tables.

    python cli.py gaps --data store.gpkg --out gaps/ --json
    python cli.py gaps --distance network                 # every kind walked along the roads
    python cli.py gaps --distance shelters_emergency=network public_toilet=network
    python cli.py gaps --out gaps/ --radius shelters_emergency=400 --detour 1.3 \\
        --per-capita emergency=0.8 --target sanitary_toilet_penetration=0.85

Writes ``DIR/gaps.gpkg`` (the gap layers of :func:`reports.gaps.gap_layers`, the same as
``cli.py report x.gpkg``: indicator areas, uncovered points and gap cells per facility kind,
overloaded shelters, unplaced-resident cells, villages below target, grid problems, and the
indicator table; EPSG:4326) and CSV tables
(UTF-8 with BOM, so Excel shows Chinese). ``--json`` prints the summary on stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from commands._users import add_as_argument
from geo.analysis import STEPS, GapAnalysis, run_all
from geo.network import NetworkError
from geo.settings import load_profile
from layers.kinds import DISTANCES

HELP = "service-gap analysis: coverage, shelter capacity, sanitation and grid checks"


class OptionError(ValueError):
    """A command-line parameter that cannot be applied."""


def _pairs(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    return name.strip(), value.strip()


def _add_pairs(parser: argparse.ArgumentParser, flag: str, metavar: str, help: str) -> None:
    """An option taking NAME=VALUE pairs; several may follow one flag and the flag may repeat."""
    parser.add_argument(
        flag, action="extend", nargs="+", type=_pairs, default=[], metavar=metavar, help=help
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", default=None, help="GeoPackage store (default: $GRIDMAP_STORE or the demo store)"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="folder for gaps.gpkg and the CSV tables (omit to write nothing)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    _add_pairs(
        parser,
        "--radius",
        "KIND=METRES",
        "service radius of a facility kind declared in the profile "
        f"({', '.join(_declared_kinds())}) or a radii setting; several may follow one flag",
    )
    parser.add_argument(
        "--detour", type=float, default=None, help="detour factor (walking / straight line)"
    )
    parser.add_argument(
        "--distance",
        action="extend",
        nargs="+",
        default=[],
        metavar="MODE|KIND=MODE",
        help="straight or network (walking along the roads layer, no detour factor): for every "
        "kind, or KIND=MODE for one kind; default: each kind's distance in the profile",
    )
    _add_pairs(
        parser,
        "--per-capita",
        "CLASS=M2",
        "effective shelter area per person of a shelter class (emergency, fixed_short, "
        "fixed_medium, fixed_long, central)",
    )
    _add_pairs(
        parser,
        "--target",
        "NAME=VALUE",
        "a coverage target of a facility kind (e.g. elderly_care=0.9), or a target or grid "
        "rule of the profile (e.g. sanitary_toilet_penetration=0.85, households_max=600)",
    )
    parser.add_argument(
        "--cell",
        type=float,
        default=None,
        help="gap cell size in metres (default: the profile's analysis.gap_cell_m, 250)",
    )
    parser.add_argument("--profile", default=None, help="city profile TOML (default: Shiyan)")
    add_as_argument(parser)


def _declared_kinds() -> list[str]:
    """Kinds of the profile in ``$GRIDMAP_PROFILE`` (or Shiyan), for the help text."""
    try:
        return list(load_profile().facility_kinds)
    except (OSError, ValueError):
        return []


def _number(name: str, value: str, *, positive: bool = True) -> float:
    try:
        number = float(value)
    except ValueError:
        raise OptionError(f"{name}: {value!r} is not a number") from None
    if positive and not number > 0:
        raise OptionError(f"{name}: must be greater than 0, got {value}")
    if number < 0:
        raise OptionError(f"{name}: must not be negative, got {value}")
    return number


def profile_from_args(args: argparse.Namespace):
    """The city profile with the command line's overrides applied (raises :class:`OptionError`)."""
    profile = load_profile(args.profile)
    radii_fields = {f.name for f in dataclasses.fields(profile.radii)}
    per_capita_fields = {f.name for f in dataclasses.fields(profile.per_capita_area_m2)}
    target_fields = {f.name for f in dataclasses.fields(profile.targets)}
    grid_fields = {f.name for f in dataclasses.fields(profile.grids) if f.type != "str"}
    kinds = profile.facility_kinds
    radii: dict[str, float] = {}
    kind_changes: dict[str, dict[str, float]] = {}
    for name, value in args.radius:
        spec = kinds.get(name)
        setting = spec.radius_setting if spec is not None else name
        if spec is not None and setting is None:
            kind_changes.setdefault(name, {})["radius_m"] = _number(f"--radius {name}", value)
            continue
        if setting not in radii_fields or setting == "detour_factor":
            known = ", ".join([*kinds, *sorted(radii_fields - {"detour_factor"})])
            raise OptionError(f"--radius: unknown kind {name!r} (known: {known})")
        radii[setting] = _number(f"--radius {name}", value)
    if args.detour is not None:
        if not args.detour > 0:
            raise OptionError(f"--detour: must be greater than 0, got {args.detour}")
        radii["detour_factor"] = args.detour
    per_capita = {}
    for name, value in args.per_capita:
        if name not in per_capita_fields:
            raise OptionError(
                f"--per-capita: unknown class {name!r} (known: {', '.join(sorted(per_capita_fields))})"
            )
        per_capita[name] = _number(f"--per-capita {name}", value)
    targets, grids = {}, {}
    for name, value in args.target:
        spec = kinds.get(name)
        if spec is not None and spec.target_setting is not None:
            name = spec.target_setting
        elif spec is not None:
            share = _number(f"--target {name}", value, positive=False)
            if share > 1:
                raise OptionError(f"--target {name}: a share 0-1, got {value}")
            kind_changes.setdefault(name, {})["target"] = share
            continue
        if name in target_fields:
            targets[name] = _number(f"--target {name}", value, positive=False)
        elif name in grid_fields:
            grids[name] = _number(f"--target {name}", value, positive=False)
        else:
            known = ", ".join([*kinds, *sorted(target_fields | grid_fields)])
            raise OptionError(f"--target: unknown name {name!r} (known: {known})")
    if args.cell is not None and not args.cell > 0:
        raise OptionError(f"--cell: must be greater than 0, got {args.cell:g}")
    for item in getattr(args, "distance", []):
        name, _, mode = item.rpartition("=")
        if mode not in DISTANCES:
            raise OptionError(
                f"--distance: {mode!r} is not one of {', '.join(DISTANCES)} (use MODE or KIND=MODE)"
            )
        for key in [name] if name else list(kinds):
            if key not in kinds:
                raise OptionError(
                    f"--distance: unknown kind {key!r} (declared kinds: {', '.join(kinds)})"
                )
            kind_changes.setdefault(key, {})["distance"] = mode
    sections = {
        k: v
        for k, v in (
            ("radii", radii),
            ("per_capita_area_m2", per_capita),
            ("targets", targets),
            ("grids", grids),
            ("facility_kinds", kind_changes),
        )
        if v
    }
    return profile.with_overrides(**sections) if sections else profile


def gap_tables(result: GapAnalysis) -> dict[str, pd.DataFrame]:
    """The CSV tables: file stem -> table."""
    summary = pd.DataFrame([{"kind": k, **r.summary()} for k, r in result.coverage.items()])
    cap = result.capacity
    tables = {
        "coverage_summary": summary,
        "coverage_by_level": result.coverage_table(),
        "worst_grids": result.worst_areas("grid"),
        "worst_communities": result.worst_areas("community"),
        "shelter_loads": cap.loads().reset_index(drop=True),
        "sanitation_villages": pd.DataFrame(result.sanitation.villages.drop(columns="geometry")),
        "sanitation_township": result.sanitation.township.reset_index(),
        "sanitation_county": result.sanitation.county.reset_index(),
        "grid_problems": pd.DataFrame(result.grid_checks.problems.drop(columns="geometry")),
        "grid_counts": result.grid_checks.counts.reset_index(drop=True),
    }
    for level, table in cap.supply.items():
        tables[f"shelter_supply_{level}"] = table.reset_index()
    if result.has_roads:  # what straight lines overstate, per street/township and per grid
        for level in ("street", "grid"):
            tables[f"overstated_{level}"] = result.overstated(level)
    return tables


def write_outputs(
    result: GapAnalysis,
    out: Path,
    *,
    period: str | None = None,
    plan_values: dict[str, float] | None = None,
) -> list[Path]:
    """Write ``gaps.gpkg`` (atomically replaced) and the CSV tables into `out`.

    ``gaps.gpkg`` holds the layers of :func:`reports.gaps.gap_layers` and the indicator table
    of `period`, exactly as ``cli.py report x.gpkg`` writes them.
    """
    from geo.indicators import indicators_from_analysis
    from reports.gaps import gap_layers
    from reports.gpkg import write_gpkg

    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".gaps.tmp.gpkg"
    tmp.unlink(missing_ok=True)
    indicators = indicators_from_analysis(
        result, result.layers, result.profile, plan_values=plan_values
    )
    write_gpkg(
        gap_layers(result, indicators), tmp, tables={"indicators": indicators.assign(period=period)}
    )
    target = out / "gaps.gpkg"
    os.replace(tmp, target)
    written = [target]
    for name, table in gap_tables(result).items():
        path = out / f"{name}.csv"
        table.to_csv(path, index=False, encoding="utf-8-sig")
        written.append(path)
    summary_path = out / "summary.json"
    summary_path.write_text(
        json.dumps(result.summary(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    written.append(summary_path)
    return written


def _text_report(summary: dict[str, Any]) -> str:
    lines = ["coverage (residents within the service radius):"]
    modes = summary["parameters"].get("facility_kinds", {})
    for kind, c in summary["coverage"].items():
        share = "n/a" if c["share"] is None else f"{c['share']:.1%}"
        mode = modes.get(kind, {}).get("distance", "straight")
        lines.append(
            f"  {kind:32s} {c['radius_m']:>7.0f} m {mode:>8s}  {c['residents_covered']:>10,} / "
            f"{c['residents_total']:,}  {share}"
        )
    lines.append("shelter capacity (nearest assignment / constrained allocation):")
    for group in ("emergency", "fixed", "central"):
        g = summary["capacity"].get(group)
        if g:
            lines.append(
                f"  {group:10s} overloaded {g['nearest']['overloaded_shelters']:>4}  "
                f"placed {g['constrained']['residents_placed']:>10,}  "
                f"unplaced {g['constrained']['residents_unplaced']:>10,}"
            )
    s = summary["sanitation"]
    lines.append(f"sanitation: {s['villages']} villages, {s['villages_below_target']} below target")
    gc = summary["grid_checks"]
    lines.append(f"grid checks: {gc['grids']} grids, {gc['problems']} problems")
    for check, n in gc["by_check"].items():
        if n:
            lines.append(f"  {check:28s} {n}")
    if "network" in summary:
        lines.extend(_network_lines(summary["network"]))
    return "\n".join(lines)


def _network_lines(found: dict[str, Any]) -> list[str]:
    """The roads' findings (:func:`geo.network.network_findings`) as lines of the text report."""
    g = found["graph"]
    lines = [
        f"walking network: {g['nodes']:,} nodes, {g['edges']:,} edges, {g['length_km']:,.1f} km, "
        f"{g['components']:,} connected parts",
        f"  off the roads (over {found['max_snap_m']:g} m): {found['residents_off_network']:,} "
        f"residents ({found['points_off_network']:,} points), never covered on foot",
        f"  on road islands cut off from the main network: {found['residents_on_islands']:,} "
        f"residents in {found['islands_with_residents']:,} islands",
    ]
    unreached = {k: n for k, n in found["facilities_off_network"].items() if n}
    for kind, n in unreached.items():
        lines.append(f"  {kind:32s} {n:,} facilities off the roads")
    return lines


def run(args: argparse.Namespace) -> int:
    from auth.model import layers_for
    from commands._users import UnknownUser, acting_user, refuse
    from data.snapshots import get_plan_values
    from data.store import StoreError, open_store

    try:
        profile = profile_from_args(args)
    except (OptionError, KeyError, ValueError) as exc:
        print(f"gaps: {exc}", file=sys.stderr)
        return 2
    store = open_store(args.data)
    if not store.exists():
        print(
            f"gaps: store {store.label} does not exist; run `python cli.py demo`", file=sys.stderr
        )
        return 2
    try:
        user = acting_user(store, args.as_user)
    except UnknownUser as exc:
        return refuse("gaps", exc)
    total = 1 + len(STEPS) + (1 if args.out else 0)
    with tqdm(total=total, desc="reading", file=sys.stderr, leave=False) as bar:
        try:
            layers = layers_for(user, store.read_layers())
        except StoreError as exc:
            print(f"gaps: {exc}", file=sys.stderr)
            return 2
        bar.update(1)

        def progress(step: str) -> None:
            bar.set_description(step)
            bar.update(1)

        try:
            result = run_all(layers, profile, progress=progress, cell_m=args.cell)
        except NetworkError as exc:
            print(f"gaps: {exc}", file=sys.stderr)
            return 2
        written: list[Path] = []
        if args.out:
            bar.set_description("writing")
            period = store.meta().get("period")
            plan = get_plan_values(store, period) if period else None
            written = write_outputs(result, Path(args.out), period=period, plan_values=plan)
            bar.update(1)
    summary = result.summary()
    summary["store"] = store.label
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(_text_report(summary))
        if written:
            print(f"wrote {len(written)} files to {args.out}")
    return 0
