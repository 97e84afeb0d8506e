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
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from field.tables import (
    MAX_BLOB_BYTES,
    PHOTO_COLUMNS,
    REPORT_COLUMNS,
    STEP_COLUMNS,
    TIME_COLUMNS,
    VISIT_COLUMNS,
    Actor,
    FieldStoreError,
    FieldWrites,
    NewReport,
    iso,
)
from geo.crs import LONLAT_CRS

__all__ = [
    "MAX_BLOB_BYTES",
    "PHOTO_COLUMNS",
    "REPORT_COLUMNS",
    "STEP_COLUMNS",
    "TIME_COLUMNS",
    "VISIT_COLUMNS",
    "Actor",
    "FieldStoreError",
    "GeoPackageFieldStore",
    "NewReport",
    "field_store",
    "iso",
]

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


def _lock(path: Path):
    """The store's writer lock (:meth:`data.store.GeoPackageStore.lock`)."""
    from data.store import GeoPackageStore

    return GeoPackageStore(path).lock()


class GeoPackageFieldStore(FieldWrites):
    """Field-report tables in the GeoPackage at `path` (writes: :class:`FieldWrites`)."""

    def __init__(self, path: str | Path, *, locked: bool = True):
        self.path = Path(path)
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

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Cursor]:
        with self._connect(write=True) as con:
            yield con.cursor()

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
        geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs=LONLAT_CRS)
        return gpd.GeoDataFrame(frame, geometry=geometry)

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
