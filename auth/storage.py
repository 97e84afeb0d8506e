"""What a store keeps for sign-in and the audit trail, as a small protocol.

Every store backend (GeoPackage here, PostGIS) offers ``store.accounts()`` returning an
:class:`Accounts`. Three tables hold the state, so any app replica can validate a session:

``users``
    name (key), display_name, role, scope (text, see :meth:`auth.model.Scope.parse`),
    disabled, demo, password_hash, created_at, updated_at.
``auth_sessions``
    token_hash (SHA-256 of the cookie token; the token itself is never stored), user_name,
    created_at, expires_at, client.
``auth_attempts``
    at, user_name, client, ok: sign-in attempts, for throttling.
``audit_log``
    id, at, user_name, role, action, layer, rows_added, rows_changed, rows_removed, detail
    (JSON: before/after values of edits, file name and sha256 of imports). Append-only:
    the protocol has no method that changes or deletes a row.

Times are timezone-aware UTC datetimes in Python and ISO-8601 text in the GeoPackage.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd

from auth.model import Scope, User

AUDIT_COLUMNS = (
    "id",
    "at",
    "user_name",
    "role",
    "action",
    "layer",
    "rows_added",
    "rows_changed",
    "rows_removed",
    "detail",
)
AUDIT_ACTIONS = (
    "import",
    "edit",
    "user_add",
    "user_change",
    "snapshot",
    "field_report",
    "field_step",
    "field_visits",
)
"""Kinds of audit rows (the field-reports work adds its own)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Session:
    """A server-side sign-in session; the browser holds only the random token."""

    token_hash: str
    user_name: str
    created_at: datetime
    expires_at: datetime
    client: str = ""


@dataclass(frozen=True)
class AuditEntry:
    """One change to the data or the users."""

    user_name: str
    role: str
    action: str
    layer: str = ""
    rows_added: int = 0
    rows_changed: int = 0
    rows_removed: int = 0
    detail: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utcnow)

    def detail_json(self) -> str:
        return json.dumps(self.detail, ensure_ascii=False, sort_keys=True, default=str)

    @classmethod
    def by(cls, user: User | None, action: str, **values: Any) -> AuditEntry:
        """An entry by `user` (``None``: the command line without ``--as``)."""
        if user is None:
            return cls(user_name="cli", role="", action=action, **values)
        return cls(user_name=user.name, role=user.role, action=action, **values)


class Accounts(Protocol):
    """Users, sessions, sign-in attempts and the audit log of one store."""

    # users
    def get_user(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash, or None."""

    def list_users(self) -> list[User]: ...

    def put_user(self, user: User, *, password_hash: str | None = None) -> None:
        """Insert or update a user; ``password_hash=None`` keeps the stored hash
        (a new user needs one)."""

    # sessions
    def create_session(self, session: Session) -> None: ...

    def get_session(self, token_hash: str) -> Session | None: ...

    def delete_session(self, token_hash: str) -> None: ...

    def delete_sessions_of(self, user_name: str) -> None:
        """Sign a user out everywhere (on disable, role or password change)."""

    def delete_expired_sessions(self, now: datetime) -> int: ...

    # throttling
    def record_attempt(self, *, user_name: str, client: str, ok: bool, at: datetime) -> None: ...

    def count_failures(
        self, *, since: datetime, user_name: str | None = None, client: str | None = None
    ) -> int:
        """Failed attempts since `since` for the user, or the client (or both)."""

    # audit (append-only)
    def append_audit(self, entries: Sequence[AuditEntry]) -> None: ...

    def read_audit(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_name: str | None = None,
        action: str | None = None,
        layer: str | None = None,
    ) -> pd.DataFrame:
        """Audit rows, newest first, with :data:`AUDIT_COLUMNS`; ``at`` as UTC datetimes."""


# --------------------------------------------------------------------------- shared SQL pieces
# Both backends (auth.gpkg for SQLite, data.pg_accounts for PostgreSQL) build these the same
# way; they differ only in the parameter mark and in how a time is passed.
USER_COLUMNS = ("name", "display_name", "role", "scope", "disabled", "demo")


def user_from_row(row: Sequence) -> User:
    """A :class:`User` from a row of :data:`USER_COLUMNS`."""
    return User(
        name=row[0],
        display_name=row[1],
        role=row[2],
        scope=Scope.parse(row[3]),
        disabled=bool(row[4]),
        demo=bool(row[5]),
    )


def audit_rows(entries: Sequence[AuditEntry], *, time: Any = lambda at: at) -> list[tuple]:
    """Parameters of the audit INSERT, one tuple per entry (``time`` converts ``at``)."""
    return [
        (
            time(e.at),
            e.user_name,
            e.role,
            e.action,
            e.layer,
            int(e.rows_added),
            int(e.rows_changed),
            int(e.rows_removed),
            e.detail_json(),
        )
        for e in entries
    ]


def audit_insert(table: str, *, mark: str = "?", json_cast: str = "") -> str:
    """The INSERT of :func:`audit_rows` into `table`."""
    marks = ", ".join([mark] * 8 + [mark + json_cast])
    return (
        f"INSERT INTO {table} (at, user_name, role, action, layer, rows_added, rows_changed, "
        f"rows_removed, detail) VALUES ({marks})"
    )


def audit_filter(
    *,
    mark: str = "?",
    time: Any = lambda at: at,
    since: datetime | None = None,
    until: datetime | None = None,
    user_name: str | None = None,
    action: str | None = None,
    layer: str | None = None,
) -> tuple[str, list[object]]:
    """The WHERE clause (or ``""``) and parameters of :meth:`Accounts.read_audit`'s filters."""
    clauses, params = [], []
    for column, op, value in (
        ("at", ">=", time(since) if since else None),
        ("at", "<", time(until) if until else None),
        ("user_name", "=", user_name),
        ("action", "=", action),
        ("layer", "=", layer),
    ):
        if value is not None:
            clauses.append(f"{column} {op} {mark}")
            params.append(value)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


def failures_filter(
    *,
    mark: str = "?",
    since: object,
    user_name: str | None = None,
    client: str | None = None,
) -> tuple[str, list[object]]:
    """The conditions after ``NOT ok`` of :meth:`Accounts.count_failures`, and parameters."""
    sql, params = f" AND at >= {mark}", [since]
    for column, value in (("user_name", user_name), ("client", client)):
        if value is not None:
            sql += f" AND {column} = {mark}"
            params.append(value)
    return sql, params
