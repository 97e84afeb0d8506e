"""PostGIS implementation of :class:`auth.storage.Accounts` (users, sessions, audit log).

Every call runs in its own transaction as the group role ``gridmap_accounts``, which may read
and write users, sessions and sign-in attempts, and only add and read audit rows: the audit log
cannot be changed or emptied through the app's connection. Sessions live in the database, so
any app replica validates a browser's session cookie.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

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
    utcnow,
)
from data.pg_schema import ACCOUNTS_ROLE, SCHEMA


def insert_audit(cur, entries: Sequence[AuditEntry]) -> None:
    """Add audit rows on `cur` (inside the caller's transaction)."""
    cur.executemany(
        audit_insert(f"{SCHEMA}.audit_log", mark="%s", json_cast="::jsonb"), audit_rows(entries)
    )


class PostGISAccounts:
    """Users, sessions, sign-in attempts and the audit log of a :class:`PostGISStore`."""

    def __init__(self, store) -> None:
        self.store = store

    def _tx(self):
        return self.store.transaction(group_role=ACCOUNTS_ROLE)

    # ----------------------------------------------------------------- users
    def get_user(self, name: str) -> tuple[User, str] | None:
        with self._tx() as cur:
            cur.execute(
                "SELECT name, display_name, role, scope, disabled, demo, password_hash"
                f" FROM {SCHEMA}.users WHERE name = %s",
                (name,),
            )
            row = cur.fetchone()
        return None if row is None else (user_from_row(row), row[6])

    def list_users(self) -> list[User]:
        with self._tx() as cur:
            cur.execute(
                "SELECT name, display_name, role, scope, disabled, demo"
                f" FROM {SCHEMA}.users ORDER BY name"
            )
            return [user_from_row(r) for r in cur.fetchall()]

    def put_user(self, user: User, *, password_hash: str | None = None) -> None:
        now = utcnow()
        values = (user.display_name, user.role, str(user.scope), user.disabled, user.demo, now)
        with self._tx() as cur:
            cur.execute(f"SELECT 1 FROM {SCHEMA}.users WHERE name = %s", (user.name,))
            if cur.fetchone():
                cur.execute(
                    f"UPDATE {SCHEMA}.users SET display_name=%s, role=%s, scope=%s, disabled=%s,"
                    " demo=%s, updated_at=%s WHERE name=%s",
                    (*values, user.name),
                )
                if password_hash:
                    cur.execute(
                        f"UPDATE {SCHEMA}.users SET password_hash=%s WHERE name=%s",
                        (password_hash, user.name),
                    )
            else:
                if not password_hash:
                    raise ValueError(f"new user {user.name!r} needs a password")
                cur.execute(
                    f"INSERT INTO {SCHEMA}.users (display_name, role, scope, disabled, demo,"
                    " updated_at, name, password_hash, created_at)"
                    " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (*values, user.name, password_hash, now),
                )

    # ----------------------------------------------------------------- sessions
    def create_session(self, session: Session) -> None:
        with self._tx() as cur:
            cur.execute(
                f"INSERT INTO {SCHEMA}.auth_sessions VALUES (%s,%s,%s,%s,%s)",
                (
                    session.token_hash,
                    session.user_name,
                    session.created_at,
                    session.expires_at,
                    session.client,
                ),
            )

    def get_session(self, token_hash: str) -> Session | None:
        with self._tx() as cur:
            cur.execute(
                "SELECT token_hash, user_name, created_at, expires_at, client"
                f" FROM {SCHEMA}.auth_sessions WHERE token_hash = %s",
                (token_hash,),
            )
            row = cur.fetchone()
        return None if row is None else Session(*row)

    def delete_session(self, token_hash: str) -> None:
        with self._tx() as cur:
            cur.execute(f"DELETE FROM {SCHEMA}.auth_sessions WHERE token_hash = %s", (token_hash,))

    def delete_sessions_of(self, user_name: str) -> None:
        with self._tx() as cur:
            cur.execute(f"DELETE FROM {SCHEMA}.auth_sessions WHERE user_name = %s", (user_name,))

    def delete_expired_sessions(self, now: datetime) -> int:
        with self._tx() as cur:
            cur.execute(f"DELETE FROM {SCHEMA}.auth_sessions WHERE expires_at < %s", (now,))
            return cur.rowcount

    # ----------------------------------------------------------------- throttling
    def record_attempt(self, *, user_name: str, client: str, ok: bool, at: datetime) -> None:
        with self._tx() as cur:
            cur.execute(
                f"INSERT INTO {SCHEMA}.auth_attempts VALUES (%s,%s,%s,%s)",
                (at, user_name, client, ok),
            )

    def count_failures(
        self, *, since: datetime, user_name: str | None = None, client: str | None = None
    ) -> int:
        more, params = failures_filter(mark="%s", since=since, user_name=user_name, client=client)
        with self._tx() as cur:
            cur.execute(f"SELECT count(*) FROM {SCHEMA}.auth_attempts WHERE NOT ok" + more, params)
            return int(cur.fetchone()[0])

    # ----------------------------------------------------------------- audit
    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        if entries:
            with self._tx() as cur:
                insert_audit(cur, entries)

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
            mark="%s", since=since, until=until, user_name=user_name, action=action, layer=layer
        )
        with self._tx() as cur:
            cur.execute(
                f"SELECT {', '.join(AUDIT_COLUMNS)} FROM {SCHEMA}.audit_log{where}"
                " ORDER BY id DESC",
                params,
            )
            rows = cur.fetchall()
        frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        frame["detail"] = frame["detail"].map(_detail) if len(frame) else frame["detail"]
        return frame


def _detail(value: object) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value or {})
