"""Field-report tables in the GeoPackage store: reports, steps, photos and household visits.

Like the account tables, these are plain SQLite tables inside the GeoPackage (not layers, so
the layer lists never show them), written in place in short transactions under the store's
file lock, so a concurrent atomic layer write never loses a report.

* ``field_reports`` — one row per report; ``submission_id`` (made by the phone's form) is
  UNIQUE, so a resubmitted form creates one report (idempotent submit).
* ``field_steps`` — every state change: who, role, when, note, optional photo.
* ``field_photos`` — cleaned JPEG blobs (:mod:`field.photos`), at most :data:`MAX_BLOB_BYTES`.
* ``field_visits`` — household visits (:mod:`field.visits`).

Every submit, step and visit also appends a row to the audit trail (``audit_log`` of
:mod:`auth.gpkg`, append-only) in the same transaction: both are stored or neither.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd

from field.photos import Photo
from field.states import check_transition

MAX_BLOB_BYTES = 2 * 1024 * 1024
"""Hard cap on one stored photo (the profile's ``photo_max_stored_kb`` is the working limit)."""

TIME_COLUMNS = (
    "created_at",
    "state_at",
    "accepted_at",
    "dispatched_at",
    "handled_at",
    "checked_at",
    "closed_at",
)
REPORT_COLUMNS = (
    "report_id",
    "submission_id",
    "category",
    "urgency",
    "description",
    "lon",
    "lat",
    "grid_code",
    "community",
    "street",
    "district",
    "reporter",
    "reporter_role",
    "state",
    "assignee",
    "duplicate_of",
    "synthetic",
    *TIME_COLUMNS,
)
STEP_COLUMNS = ("step_id", "report_id", "from_state", "to_state", "actor", "role", "at", "note")
PHOTO_COLUMNS = (
    "photo_id",
    "report_id",
    "step_id",
    "data",
    "width",
    "height",
    "sha256",
    "created_at",
)
VISIT_COLUMNS = (
    "visit_id",
    "grid_code",
    "household",
    "visited_on",
    "households_visited",
    "worker",
    "created_at",
    "synthetic",
)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS field_reports (
    report_id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL UNIQUE,
    category TEXT NOT NULL,
    urgency TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    grid_code TEXT,
    community TEXT,
    street TEXT,
    district TEXT,
    reporter TEXT NOT NULL,
    reporter_role TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'new',
    assignee TEXT,
    duplicate_of TEXT,
    synthetic INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    state_at TEXT NOT NULL,
    accepted_at TEXT,
    dispatched_at TEXT,
    handled_at TEXT,
    checked_at TEXT,
    closed_at TEXT
);
CREATE INDEX IF NOT EXISTS field_reports_grid ON field_reports (grid_code);
CREATE INDEX IF NOT EXISTS field_reports_created ON field_reports (created_at);
CREATE TABLE IF NOT EXISTS field_steps (
    step_id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL REFERENCES field_reports (report_id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS field_steps_report ON field_steps (report_id);
CREATE TABLE IF NOT EXISTS field_photos (
    photo_id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL REFERENCES field_reports (report_id),
    step_id INTEGER,
    data BLOB NOT NULL CHECK (length(data) <= {MAX_BLOB_BYTES}),
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS field_photos_report ON field_photos (report_id);
CREATE TABLE IF NOT EXISTS field_visits (
    visit_id INTEGER PRIMARY KEY AUTOINCREMENT,
    grid_code TEXT NOT NULL,
    household TEXT,
    visited_on TEXT NOT NULL,
    households_visited INTEGER NOT NULL DEFAULT 1 CHECK (households_visited > 0),
    worker TEXT,
    created_at TEXT NOT NULL,
    synthetic INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS field_visits_grid ON field_visits (grid_code);
"""
TABLES = ("field_reports", "field_steps", "field_photos", "field_visits")


class FieldStoreError(ValueError):
    """A report, step or visit that cannot be stored (unknown report, changed meanwhile)."""


class Actor(Protocol):
    """Who acts: a signed-in user (:class:`auth.model.User` fits)."""

    name: str
    role: str


@dataclass(frozen=True)
class NewReport:
    """A validated report from the form (see :mod:`field.submit`)."""

    submission_id: str
    category: str
    urgency: str
    description: str
    lon: float
    lat: float
    grid_code: str | None
    community: str | None
    street: str | None
    district: str | None


def iso(at: pd.Timestamp | str) -> str:
    """A timestamp as ISO text in UTC (how the tables keep times)."""
    ts = pd.Timestamp(at)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.isoformat()


def _lock(path: Path):
    """The store's writer lock (:meth:`data.store.GeoPackageStore.lock`)."""
    from data.store import GeoPackageStore

    return GeoPackageStore(path).lock()


AuditHook = Callable[[sqlite3.Connection, Actor, str, dict[str, Any], str], None]


def _audit_in_store(
    con: sqlite3.Connection, actor: Actor, action: str, detail: dict[str, Any], at: str
) -> None:
    """Append a row to the store's audit log (:mod:`auth.gpkg`) in the same transaction."""
    con.execute(
        "INSERT INTO audit_log (at, user_name, role, action, layer, rows_added, rows_changed, "
        "rows_removed, detail) VALUES (?, ?, ?, ?, 'field_reports', ?, ?, 0, ?)",
        (
            at,
            actor.name,
            actor.role,
            action,
            1 if action == "field_report" else 0,
            0 if action == "field_report" else 1,
            json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        ),
    )


class GeoPackageFieldStore:
    """Field-report tables in the GeoPackage at `path`."""

    def __init__(
        self, path: str | Path, *, audit: AuditHook = _audit_in_store, locked: bool = True
    ):
        self.path = Path(path)
        self._audit = audit
        # False for the staged copy of an atomic store write, whose writer holds the lock
        self.locked = locked

    @contextlib.contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        if not self.path.is_file():
            raise FieldStoreError(f"store {self.path} does not exist")
        with _lock(self.path) if (write and self.locked) else contextlib.nullcontext():
            con = sqlite3.connect(self.path, timeout=30)
            try:
                if write:
                    from auth.gpkg import SCHEMA as AUDIT_SCHEMA

                    con.executescript(AUDIT_SCHEMA + SCHEMA)
                    con.execute("BEGIN IMMEDIATE")
                yield con
                if write:
                    con.commit()
            except BaseException:
                if write:
                    con.rollback()
                raise
            finally:
                con.close()

    def _has_tables(self, con: sqlite3.Connection) -> bool:
        row = con.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='field_reports'"
        ).fetchone()
        return bool(row[0])

    # ----------------------------------------------------------------- writing
    def submit(
        self,
        report: NewReport,
        photos: Sequence[Photo],
        *,
        actor: Actor,
        now: pd.Timestamp | str,
    ) -> tuple[str, bool]:
        """Store a new report with its photos; returns ``(report_id, created)``.

        A second submit with the same ``submission_id`` stores nothing and returns the first
        report's id with ``created=False``.
        """
        at = iso(now)
        with self._connect(write=True) as con:
            row = con.execute(
                "SELECT report_id FROM field_reports WHERE submission_id = ?",
                (report.submission_id,),
            ).fetchone()
            if row:
                return str(row[0]), False
            report_id = f"EV{pd.Timestamp(at).strftime('%y%m%d')}{uuid.uuid4().hex[:6].upper()}"
            con.execute(
                "INSERT INTO field_reports (report_id, submission_id, category, urgency, "
                "description, lon, lat, grid_code, community, street, district, reporter, "
                "reporter_role, state, created_at, state_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?)",
                (
                    report_id,
                    report.submission_id,
                    report.category,
                    report.urgency,
                    report.description,
                    float(report.lon),
                    float(report.lat),
                    report.grid_code,
                    report.community,
                    report.street,
                    report.district,
                    actor.name,
                    actor.role,
                    at,
                    at,
                ),
            )
            cur = con.execute(
                "INSERT INTO field_steps (report_id, from_state, to_state, actor, role, at, note) "
                "VALUES (?, NULL, 'new', ?, ?, ?, '')",
                (report_id, actor.name, actor.role, at),
            )
            for photo in photos:
                self._put_photo(con, report_id, cur.lastrowid, photo, at)
            self._audit(
                con,
                actor,
                "field_report",
                {
                    "report_id": report_id,
                    "category": report.category,
                    "grid_code": report.grid_code,
                    "photos": len(photos),
                },
                at,
            )
        return report_id, True

    def step(
        self,
        report_id: str,
        target: str,
        *,
        actor: Actor,
        now: pd.Timestamp | str,
        note: str = "",
        photo: Photo | None = None,
        assignee: str | None = None,
        duplicate_of: str | None = None,
    ) -> None:
        """Move a report to `target` (checked against :mod:`field.states`), recording the step.

        Raises :class:`field.states.TransitionError` for a step the flow or the role does not
        allow, :class:`FieldStoreError` for an unknown report or one changed meanwhile.
        """
        at = iso(now)
        with self._connect(write=True) as con:
            row = con.execute(
                "SELECT state FROM field_reports WHERE report_id = ?", (report_id,)
            ).fetchone()
            if row is None:
                raise FieldStoreError(f"no report {report_id!r}")
            state = str(row[0])
            check_transition(state, target, actor.role)
            if target == "duplicate":
                if not duplicate_of or duplicate_of == report_id:
                    raise FieldStoreError("a duplicate must name the report it repeats")
                if not con.execute(
                    "SELECT 1 FROM field_reports WHERE report_id = ?", (duplicate_of,)
                ).fetchone():
                    raise FieldStoreError(f"no report {duplicate_of!r} to be a duplicate of")
            sets = ["state = ?", "state_at = ?"]
            values: list[Any] = [target, at]
            if f"{target}_at" in TIME_COLUMNS:
                sets.append(f"{target}_at = ?")
                values.append(at)
            if assignee is not None:
                sets.append("assignee = ?")
                values.append(assignee)
            if duplicate_of is not None:
                sets.append("duplicate_of = ?")
                values.append(duplicate_of)
            cur = con.execute(
                f"UPDATE field_reports SET {', '.join(sets)} WHERE report_id = ? AND state = ?",
                (*values, report_id, state),
            )
            if cur.rowcount != 1:
                raise FieldStoreError(f"report {report_id} changed meanwhile; reload it")
            cur = con.execute(
                "INSERT INTO field_steps (report_id, from_state, to_state, actor, role, at, note) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (report_id, state, target, actor.name, actor.role, at, note or ""),
            )
            if photo is not None:
                self._put_photo(con, report_id, cur.lastrowid, photo, at)
            self._audit(
                con,
                actor,
                "field_step",
                {
                    "report_id": report_id,
                    "from": state,
                    "to": target,
                    "note": note,
                    "assignee": assignee,
                    "duplicate_of": duplicate_of,
                },
                at,
            )

    def _put_photo(
        self, con: sqlite3.Connection, report_id: str, step_id: int | None, photo: Photo, at: str
    ) -> None:
        if len(photo.data) > MAX_BLOB_BYTES:
            raise FieldStoreError(
                f"photo of {len(photo.data):,} bytes is over the {MAX_BLOB_BYTES:,}-byte limit"
            )
        con.execute(
            "INSERT INTO field_photos (report_id, step_id, data, width, height, sha256, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (report_id, step_id, photo.data, photo.width, photo.height, photo.sha256, at),
        )

    def add_visits(
        self, visits: Sequence[dict[str, Any]], *, actor: Actor, now: pd.Timestamp | str
    ) -> int:
        """Store validated visit records (:func:`field.visits.validate_visit`)."""
        at = iso(now)
        with self._connect(write=True) as con:
            con.executemany(
                "INSERT INTO field_visits (grid_code, household, visited_on, households_visited, "
                "worker, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        v["grid_code"],
                        v.get("household"),
                        v["visited_on"],
                        int(v["households_visited"]),
                        v.get("worker") or actor.name,
                        at,
                    )
                    for v in visits
                ],
            )
            self._audit(
                con,
                actor,
                "field_visits",
                {"grids": sorted({v["grid_code"] for v in visits}), "rows": len(visits)},
                at,
            )
        return len(visits)

    def write_bulk(
        self,
        reports: pd.DataFrame,
        steps: pd.DataFrame,
        visits: pd.DataFrame,
        photos: pd.DataFrame | None = None,
    ) -> None:
        """Replace every field table with the given rows (the synthetic demo, ``db copy``).

        `photos` (:meth:`all_photos`) refer to the ``step_id`` of `steps`; they are linked to
        the steps' new ids.
        """
        with self._connect(write=True) as con:
            for table in ("field_photos", "field_steps", "field_reports", "field_visits"):
                con.execute(f"DELETE FROM {table}")
            _insert(con, "field_reports", reports, REPORT_COLUMNS)
            if photos is None or photos.empty:
                _insert(con, "field_steps", steps, STEP_COLUMNS[1:])
            else:
                new_ids = {}
                for row in _rows(steps, STEP_COLUMNS):
                    cur = con.execute(
                        "INSERT INTO field_steps (report_id, from_state, to_state, actor, role, "
                        "at, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        row[1:],
                    )
                    new_ids[row[0]] = cur.lastrowid
                _insert(con, "field_photos", _relinked(photos, new_ids), PHOTO_COLUMNS[1:])
            _insert(con, "field_visits", visits, VISIT_COLUMNS[1:])

    def all_photos(self) -> pd.DataFrame:
        """Every photo with its report, step, size, hash and time (for ``db copy``)."""
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                return pd.DataFrame(columns=list(PHOTO_COLUMNS))
            return pd.read_sql_query(
                f"SELECT {', '.join(PHOTO_COLUMNS)} FROM field_photos ORDER BY photo_id", con
            )

    # ----------------------------------------------------------------- reading
    def version(self) -> str:
        """A cheap token that changes with every submit, step or visit (for caches)."""
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                return "none"
            row = con.execute(
                "SELECT (SELECT count(*) FROM field_reports), (SELECT max(step_id) FROM "
                "field_steps), (SELECT max(visit_id) FROM field_visits)"
            ).fetchone()
        return "-".join(str(v) for v in row)

    def reports(self, *, where: str = "", params: Sequence[Any] = ()) -> gpd.GeoDataFrame:
        """Reports as points in EPSG:4326, times as UTC timestamps (`where`: an SQL filter)."""
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                frame = pd.DataFrame(columns=list(REPORT_COLUMNS))
            else:
                sql = f"SELECT {', '.join(REPORT_COLUMNS)} FROM field_reports"
                frame = pd.read_sql_query(
                    sql + (f" WHERE {where}" if where else ""), con, params=list(params)
                )
        for col in TIME_COLUMNS:
            frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601")
        frame["synthetic"] = frame["synthetic"].astype(bool)
        geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")
        return gpd.GeoDataFrame(frame, geometry=geometry)

    def report(self, report_id: str) -> pd.Series | None:
        found = self.reports(where="report_id = ?", params=(report_id,))
        return None if found.empty else found.iloc[0]

    def steps(self, report_id: str | None = None) -> pd.DataFrame:
        """Steps of one report (or all), oldest first, with ``photo_id`` where one was added."""
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                return pd.DataFrame(columns=[*STEP_COLUMNS, "photo_id"])
            sql = (
                "SELECT s.*, p.photo_id FROM field_steps s LEFT JOIN field_photos p "
                "ON p.step_id = s.step_id"
            )
            params: tuple = ()
            if report_id is not None:
                sql += " WHERE s.report_id = ?"
                params = (report_id,)
            frame = pd.read_sql_query(sql + " ORDER BY s.step_id", con, params=params)
        frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
        return frame

    def photos(self, report_id: str) -> pd.DataFrame:
        """Photos of a report: photo_id, step_id, width, height, data (JPEG bytes)."""
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                return pd.DataFrame(columns=["photo_id", "step_id", "width", "height", "data"])
            return pd.read_sql_query(
                "SELECT photo_id, step_id, width, height, data FROM field_photos "
                "WHERE report_id = ? ORDER BY photo_id",
                con,
                params=(report_id,),
            )

    def visits(self) -> pd.DataFrame:
        with self._connect(write=False) as con:
            if not self._has_tables(con):
                return pd.DataFrame(columns=list(VISIT_COLUMNS))
            return pd.read_sql_query(f"SELECT {', '.join(VISIT_COLUMNS)} FROM field_visits", con)


def _rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple]:
    """Rows of `frame` as plain Python values (times as ISO text, booleans as 0/1, NULLs)."""
    data = frame[list(columns)].copy()
    for col in data.columns:
        if pd.api.types.is_datetime64_any_dtype(data[col]):
            data[col] = data[col].map(lambda t: None if pd.isna(t) else t.isoformat())
        elif pd.api.types.is_bool_dtype(data[col]):
            data[col] = data[col].astype(int)
    rows = data.astype(object).where(data.notna(), None).itertuples(index=False, name=None)
    return [tuple(v.item() if hasattr(v, "item") else v for v in row) for row in rows]


def _relinked(photos: pd.DataFrame, new_ids: dict) -> pd.DataFrame:
    """`photos` with ``step_id`` replaced by the ids the steps got in the target store."""
    out = photos.copy()
    out["step_id"] = [
        None if pd.isna(s) else new_ids.get(int(s)) for s in out["step_id"].astype(object)
    ]
    return out


def _insert(con: sqlite3.Connection, table: str, frame: pd.DataFrame, columns: Sequence[str]):
    if frame.empty:
        return
    rows = _rows(frame, columns)
    marks = ", ".join("?" for _ in columns)
    con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def field_store(store: Any) -> GeoPackageFieldStore:
    """The field tables of `store`, on either backend.

    A :class:`data.postgis.PostGISStore` gives a :class:`data.pg_field.PostGISFieldStore`
    acting as the store's identity (row-level security applies); any other store value
    (a store or a path) the GeoPackage tables; the staged copy of an atomic write (the store
    :meth:`data.store.GeoPackageStore.write` hands to its `also`) is written without taking
    the lock its writer holds.
    """
    from data.postgis import PostGISStore

    if isinstance(store, PostGISStore):
        from data.pg_field import PostGISFieldStore

        return PostGISFieldStore(store)
    if isinstance(store, str) and store.startswith(("postgresql://", "postgres://")):
        from data.store import open_store

        return field_store(open_store(store))
    return GeoPackageFieldStore(
        getattr(store, "path", store), locked=not getattr(store, "staged", False)
    )
