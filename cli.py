"""Command line for the Shiyan grid-governance map.

    python cli.py demo --out data/demo/shiyan_demo.gpkg
    python cli.py import grids.csv --layer grids --into store.gpkg --replace
    python cli.py check store.gpkg
    python cli.py gaps --data store.gpkg --out gaps/ --json
    python cli.py report --data store.gpkg --period 2026-Q3 --out report.pdf

Run ``python cli.py COMMAND --help`` for each command's options.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from commands import COMMANDS


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(prog="cli.py", description="Shiyan grid-governance map")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # command not built yet
        modules[name] = module
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(modules[args.command].run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so temporary copies and folders are removed on the way."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    sys.exit(main())
