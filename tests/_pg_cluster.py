"""A throwaway PostgreSQL + PostGIS cluster for the tests (Debian's postgresql-15-postgis-3).

``initdb``/``pg_ctl`` run as the ``postgres`` OS user on a data folder whose parent belongs to
``postgres``; the server listens only on a Unix socket (``listen_addresses=''``) with
``fsync=off``. Starting takes about a second. Roles made by :meth:`PgCluster.new_database`:

* ``postgres``: superuser, creates the database and the PostGIS extension;
* ``gridmap_owner``: owns the database and the ``gridmap`` schema (``db init --owner-url``);
* ``gridmap_app``: the app's login role, owns nothing.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
_numbers = itertools.count(1)


class PgCluster:
    """One temporary cluster; :meth:`stop` removes it."""

    def __init__(self) -> None:
        missing = [str(p) for p in (PG_BIN / "initdb", POSTGIS_CONTROL) if not p.exists()]
        if missing:
            raise RuntimeError(
                f"PostgreSQL/PostGIS not installed ({', '.join(missing)} missing): "
                "run `bash scripts/setup.sh --test`"
            )
        self.base = Path(tempfile.mkdtemp(prefix="gridmap-pg-"))
        self.data = self.base / "data"
        self.socket = self.base / "socket"
        self.socket.mkdir()
        shutil.chown(self.base, "postgres", "postgres")
        shutil.chown(self.socket, "postgres", "postgres")
        self._as_postgres(
            PG_BIN / "initdb",
            "-D",
            self.data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories={self.socket} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._as_postgres(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-o",
            options,
            "-l",
            self.base / "log",
            "-w",
            "start",
        )
        self.psql("postgres", "CREATE ROLE gridmap_owner LOGIN CREATEROLE")

    def _as_postgres(self, *cmd) -> None:
        args = [str(c) for c in cmd]
        if os.geteuid() == 0:
            args = ["runuser", "-u", "postgres", "--", *args]
        subprocess.run(args, check=True, capture_output=True, cwd="/")

    def url(self, user: str, database: str) -> str:
        """A ``postgresql://`` URL over the Unix socket."""
        return f"postgresql://{user}@/{database}?host={quote(str(self.socket), safe='')}"

    def psql(self, database: str, sql: str, *, user: str = "postgres") -> str:
        out = subprocess.run(
            ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql],
            env={**os.environ, "PGHOST": str(self.socket), "PGUSER": user, "PGDATABASE": database},
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def new_database(self, *, template: str | None = None) -> str:
        """A fresh database owned by ``gridmap_owner`` with PostGIS; returns its name."""
        name = f"city{next(_numbers)}"
        tmpl = f" TEMPLATE {template}" if template else ""
        self.psql("postgres", f"CREATE DATABASE {name} OWNER gridmap_owner{tmpl}")
        if not template:
            self.psql(name, "CREATE EXTENSION postgis")
        return name

    def stop(self) -> None:
        try:
            self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
