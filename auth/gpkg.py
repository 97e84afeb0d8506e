"""The GeoPackage implementation of :class:`auth.storage.Accounts`.

A GeoPackage is an SQLite file: the account tables are plain SQLite tables in it, not
registered in ``gpkg_contents``, so GDAL (and the layer lists) never show them. Each call opens
its own short connection, under the store's file lock (:func:`data.store.store_lock`), so an
atomic layer write (copy, write, rename) never loses a row written meanwhile.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pandas as pd

from auth.model import User
from auth.storage import (
    AUDIT_COLUMNS,
    AuditEntry,
    Session,
    audit_filter,
    audit_insert,
    audit_rows,
    failures_filter,
    user_from_row,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    demo INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_sessions (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    client TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS auth_attempts (
    at TEXT NOT NULL,
    user_name TEXT NOT NULL,
    client TEXT NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_attempts_at ON auth_attempts (at);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user_name TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    layer TEXT NOT NULL DEFAULT '',
    rows_added INTEGER NOT NULL DEFAULT 0,
    rows_changed INTEGER NOT NULL DEFAULT 0,
    rows_removed INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"""
TABLES = ("users", "auth_sessions", "auth_attempts", "audit_log")


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


class GeoPackageAccounts:
    """Accounts kept in the GeoPackage at `path`.

    `locked=False` is for writing into a file the caller already holds the lock of (the
    temporary copy of an atomic store write).
    """

    def __init__(self, path: str | Path, *, locked: bool = True):
        self.path = Path(path)
        self.locked = locked

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        from data.store import StoreError, store_lock

        if not self.path.is_file():
            raise StoreError(f"store {self.path} does not exist")
        lock = store_lock(self.path) if (write and self.locked) else _nothing()
        with lock:
            con = sqlite3.connect(self.path, timeout=30)
            try:
                if write:
                    con.executescript(SCHEMA)
                yield con
                con.commit()
            finally:
                con.close()

    def _has_tables(self, con: sqlite3.Connection) -> bool:
        row = con.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='users'"
        ).fetchone()
        return bool(row[0])

    # ----------------------------------------------------------------- users
    def get_user(self, name: str) -> tuple[User, str] | None:
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                return None
            row = con.execute(
                "SELECT name, display_name, role, scope, disabled, demo, password_hash"
                " FROM users WHERE name = ?",
                (name,),
            ).fetchone()
        return None if row is None else (user_from_row(row), row[6])

    def list_users(self) -> list[User]:
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                return []
            rows = con.execute(
                "SELECT name, display_name, role, scope, disabled, demo FROM users ORDER BY name"
            ).fetchall()
        return [user_from_row(r) for r in rows]

    def put_user(self, user: User, *, password_hash: str | None = None) -> None:
        from auth.storage import utcnow

        now = _iso(utcnow())
        with self._connect(write=True) as con:
            exists = con.execute("SELECT 1 FROM users WHERE name = ?", (user.name,)).fetchone()
            values = (
                user.display_name,
                user.role,
                str(user.scope),
                int(user.disabled),
                int(user.demo),
                now,
            )
            if exists:
                con.execute(
                    "UPDATE users SET display_name=?, role=?, scope=?, disabled=?, demo=?,"
                    " updated_at=? WHERE name=?",
                    (*values, user.name),
                )
                if password_hash:
                    con.execute(
                        "UPDATE users SET password_hash=? WHERE name=?", (password_hash, user.name)
                    )
            else:
                if not password_hash:
                    raise ValueError(f"new user {user.name!r} needs a password")
                con.execute(
                    "INSERT INTO users (display_name, role, scope, disabled, demo, updated_at,"
                    " name, password_hash, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (*values, user.name, password_hash, now),
                )

    # ----------------------------------------------------------------- sessions
    def create_session(self, session: Session) -> None:
        with self._connect(write=True) as con:
            con.execute(
                "INSERT INTO auth_sessions VALUES (?,?,?,?,?)",
                (
                    session.token_hash,
                    session.user_name,
                    _iso(session.created_at),
                    _iso(session.expires_at),
                    session.client,
                ),
            )

    def get_session(self, token_hash: str) -> Session | None:
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                return None
            row = con.execute(
                "SELECT token_hash, user_name, created_at, expires_at, client"
                " FROM auth_sessions WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
        if row is None:
            return None
        return Session(row[0], row[1], _dt(row[2]), _dt(row[3]), row[4])

    def delete_session(self, token_hash: str) -> None:
        with self._connect(write=True) as con:
            con.execute("DELETE FROM auth_sessions WHERE token_hash = ?", (token_hash,))

    def delete_sessions_of(self, user_name: str) -> None:
        with self._connect(write=True) as con:
            con.execute("DELETE FROM auth_sessions WHERE user_name = ?", (user_name,))

    def delete_expired_sessions(self, now: datetime) -> int:
        with self._connect(write=True) as con:
            cur = con.execute("DELETE FROM auth_sessions WHERE expires_at < ?", (_iso(now),))
            return cur.rowcount

    # ----------------------------------------------------------------- throttling
    def record_attempt(self, *, user_name: str, client: str, ok: bool, at: datetime) -> None:
        with self._connect(write=True) as con:
            con.execute(
                "INSERT INTO auth_attempts VALUES (?,?,?,?)", (_iso(at), user_name, client, int(ok))
            )

    def count_failures(
        self, *, since: datetime, user_name: str | None = None, client: str | None = None
    ) -> int:
        more, params = failures_filter(since=_iso(since), user_name=user_name, client=client)
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                return 0
            sql = "SELECT count(*) FROM auth_attempts WHERE ok = 0" + more
            return int(con.execute(sql, params).fetchone()[0])

    # ----------------------------------------------------------------- audit
    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        with self._connect(write=True) as con:
            con.executemany(audit_insert("audit_log"), audit_rows(entries, time=_iso))

    def read_audit(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_name: str | None = None,
        action: str | None = None,
        layer: str | None = None,
    ) -> pd.DataFrame:
        where, params = audit_filter(
            time=_iso, since=since, until=until, user_name=user_name, action=action, layer=layer
        )
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                rows = []
            else:
                rows = con.execute(
                    f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log{where} ORDER BY id DESC",
                    params,
                ).fetchall()
        frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
        frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
        frame["detail"] = frame["detail"].map(json.loads) if len(frame) else frame["detail"]
        return frame


@contextmanager
def _nothing() -> Iterator[None]:
    yield
