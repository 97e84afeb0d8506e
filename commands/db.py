"""``python cli.py db init|migrate|copy``: create and migrate the PostGIS schema, copy stores.

    python cli.py db init --owner-url postgresql://gridmap_owner@db/city --app-role gridmap_app
    python cli.py db migrate --owner-url postgresql://gridmap_owner@db/city
    python cli.py db copy --from data/demo/shiyan_demo.gpkg --to postgresql://gridmap_app@db/city

Schema changes need the owner's URL; the app and every other command use the app's login role,
which owns nothing. Put passwords in a password file (``PGPASSFILE``) or the environment
(``PGPASSWORD``), not in the URL: URLs are printed with the password masked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import pandas as pd

from auth.demo import DEMO_META_KEYS

HELP = "PostGIS store: init|migrate the schema (with the owner's URL), copy a store to another"

#: Metadata keys a copy leaves behind (the demo flag is a property of the demo store only).
SKIPPED_META = ("synthetic", *DEMO_META_KEYS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    for name, text in (
        ("init", "create the schema, group roles and the app's login role membership"),
        ("migrate", "apply the pending schema migrations"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument(
            "--owner-url",
            default=os.environ.get("GRIDMAP_OWNER_URL"),
            help="URL of the role that owns the schema (default: $GRIDMAP_OWNER_URL)",
        )
        if name == "init":
            p.add_argument(
                "--app-role",
                default="gridmap_app",
                help="login role the app connects as (created if missing; owns nothing)",
            )
            p.add_argument(
                "--app-password-file",
                default=None,
                help="file holding the app role's password (when the role is created)",
            )
    p = sub.add_parser(
        "copy", help="copy data layers, snapshots and field reports from one store to another"
    )
    p.add_argument("--from", dest="source", required=True, help="GeoPackage path or PostGIS URL")
    p.add_argument("--to", dest="target", required=True, help="GeoPackage path or PostGIS URL")


def run(args: argparse.Namespace) -> int:
    from data.store import StoreError

    try:
        if args.db_command == "copy":
            summary = copy_store(args.source, args.target)
        else:
            summary = _migrate(args)
    except (StoreError, ValueError) as exc:
        print(f"db {args.db_command}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def _migrate(args: argparse.Namespace) -> dict:
    import psycopg

    from data import pg_schema
    from data.postgis import mask_url

    if not args.owner_url:
        raise ValueError("give --owner-url (or set GRIDMAP_OWNER_URL)")
    try:
        conn = psycopg.connect(args.owner_url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ValueError(f"cannot connect to {mask_url(args.owner_url)}: {exc}") from None
    with conn:
        applied = pg_schema.migrate(conn)
        summary = {"store": mask_url(args.owner_url), "applied": applied}
        if args.db_command == "init":
            password = None
            if args.app_password_file:
                with open(args.app_password_file, encoding="utf-8") as fh:
                    password = fh.read().strip()
            pg_schema.grant_app_role(conn, args.app_role, password=password)
            summary["app_role"] = args.app_role
        with conn.cursor() as cur:
            summary["schema_version"] = pg_schema.current_version(cur)
    return summary


def copy_tables(source) -> dict:
    """The tables a copy carries: every data layer, the snapshots and the metadata.

    Never users, passwords, sessions, the audit trail or the demo flag.
    """
    from data.snapshots import PARAMS, PLAN, SNAPSHOTS

    tables: dict = dict(source.read_layers())
    for name in (SNAPSHOTS, PARAMS, PLAN):
        table = source.read_table(name)
        if not table.empty:
            tables[name] = table
    meta = {k: v for k, v in source.meta().items() if k not in SKIPPED_META}
    if meta:
        tables["gridmap_meta"] = pd.DataFrame({"key": list(meta), "value": list(meta.values())})
    return tables


def copy_store(source_value: str, target_value: str) -> dict:
    """Copy `source_value`'s data and field tables into `target_value` in one transaction.

    The layers, snapshots, metadata and field reports replace the target's all together or,
    when any part fails, not at all.
    """
    from data.store import StoreError, open_store

    source, target = open_store(source_value), open_store(target_value)
    if not source.exists():
        raise StoreError(f"store {source.label} does not exist")
    tables = copy_tables(source)
    field = read_field_tables(source)
    target.write(tables, mode="replace", also=lambda staged: write_field_tables(staged, field))
    counts = {name: len(frame) for name, frame in tables.items()}
    counts.update({name: len(frame) for name, frame in field.items()})
    return {"from": source.label, "to": target.label, "tables": counts}


def read_field_tables(source) -> dict[str, pd.DataFrame]:
    """`source`'s field reports, steps, photos and visits, by table name."""
    from field.store import field_store

    fs = field_store(source)
    return {
        "field_reports": fs.reports(),
        "field_steps": fs.steps(),
        "field_photos": fs.all_photos(),
        "field_visits": fs.visits(),
    }


def write_field_tables(target, field: dict[str, pd.DataFrame]) -> None:
    """Replace `target`'s field tables with `field` (:func:`read_field_tables`)."""
    from field.store import field_store

    field_store(target).write_bulk(
        field["field_reports"], field["field_steps"], field["field_visits"], field["field_photos"]
    )
