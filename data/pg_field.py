"""Field-report tables in the PostGIS store, with the interface of the GeoPackage ones.

The tables (``gridmap.field_reports``, ``field_steps``, ``field_photos``, ``field_visits``) come
from migration 3 of :mod:`data.pg_schema`. Every call runs in one transaction of the store's
identity (:meth:`data.postgis.PostGISStore.transaction`), so row-level security decides what a
worker or staff member reads and adds, exactly as for the grids. A submit, step or visit and
its audit row are stored in the same transaction: both or neither.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from data.pg_schema import SCHEMA
from data.store import StoreError
from field.photos import Photo
from field.states import check_transition
from field.store import (
    MAX_BLOB_BYTES,
    PHOTO_COLUMNS,
    REPORT_COLUMNS,
    STEP_COLUMNS,
    TIME_COLUMNS,
    VISIT_COLUMNS,
    Actor,
    FieldStoreError,
    NewReport,
    _relinked,
    _rows,
    iso,
)


def _audit(cur, actor: Actor, action: str, detail: dict[str, Any], at: str) -> None:
    """Append an audit row on `cur` (inside the caller's transaction)."""
    cur.execute(
        f"INSERT INTO {SCHEMA}.audit_log (at, user_name, role, action, layer, rows_added, "
        "rows_changed, rows_removed, detail) "
        "VALUES (%s, %s, %s, %s, 'field_reports', %s, %s, 0, %s::jsonb)",
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


def _frame(cur, columns: Sequence[str]) -> pd.DataFrame:
    rows = cur.fetchall()
    return pd.DataFrame(rows, columns=list(columns)) if rows else pd.DataFrame(columns=columns)


class PostGISFieldStore:
    """Field-report tables of a :class:`data.postgis.PostGISStore` (acting as its identity)."""

    def __init__(self, store) -> None:
        self.store = store
        self.path = store.path

    def _tx(self):
        return self.store.transaction()

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
        import psycopg

        at = iso(now)
        report_id = f"EV{pd.Timestamp(at).strftime('%y%m%d')}{uuid.uuid4().hex[:6].upper()}"
        try:
            with self._tx() as cur:
                cur.execute(
                    f"INSERT INTO {SCHEMA}.field_reports (report_id, submission_id, category, "
                    "urgency, description, lon, lat, grid_code, community, street, district, "
                    "reporter, reporter_role, state, created_at, state_at) VALUES (%s, %s, %s, "
                    "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'new', %s, %s) "
                    "ON CONFLICT (submission_id) DO NOTHING RETURNING report_id",
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
                if cur.fetchone() is None:
                    cur.execute(
                        f"SELECT report_id FROM {SCHEMA}.field_reports WHERE submission_id = %s",
                        (report.submission_id,),
                    )
                    row = cur.fetchone()
                    if row is None:
                        raise FieldStoreError(
                            f"submission {report.submission_id!r} was already stored by someone else"
                        )
                    return str(row[0]), False
                cur.execute(
                    f"INSERT INTO {SCHEMA}.field_steps (report_id, from_state, to_state, actor, "
                    "role, at, note) VALUES (%s, NULL, 'new', %s, %s, %s, '') RETURNING step_id",
                    (report_id, actor.name, actor.role, at),
                )
                step_id = cur.fetchone()[0]
                for photo in photos:
                    _put_photo(cur, report_id, step_id, photo, at)
                _audit(
                    cur,
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
        except psycopg.errors.CheckViolation as exc:
            raise FieldStoreError(f"report not stored: {exc}") from None
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
        """Move a report to `target` (see :meth:`field.store.GeoPackageFieldStore.step`)."""
        at = iso(now)
        with self._tx() as cur:
            cur.execute(
                f"SELECT state FROM {SCHEMA}.field_reports WHERE report_id = %s FOR UPDATE",
                (report_id,),
            )
            row = cur.fetchone()
            if row is None:
                raise FieldStoreError(f"no report {report_id!r}")
            state = str(row[0])
            check_transition(state, target, actor.role)
            if target == "duplicate":
                if not duplicate_of or duplicate_of == report_id:
                    raise FieldStoreError("a duplicate must name the report it repeats")
                cur.execute(
                    f"SELECT 1 FROM {SCHEMA}.field_reports WHERE report_id = %s", (duplicate_of,)
                )
                if cur.fetchone() is None:
                    raise FieldStoreError(f"no report {duplicate_of!r} to be a duplicate of")
            sets = ["state = %s", "state_at = %s"]
            values: list[Any] = [target, at]
            if f"{target}_at" in TIME_COLUMNS:
                sets.append(f"{target}_at = %s")
                values.append(at)
            if assignee is not None:
                sets.append("assignee = %s")
                values.append(assignee)
            if duplicate_of is not None:
                sets.append("duplicate_of = %s")
                values.append(duplicate_of)
            cur.execute(
                f"UPDATE {SCHEMA}.field_reports SET {', '.join(sets)} "
                "WHERE report_id = %s AND state = %s",
                (*values, report_id, state),
            )
            if cur.rowcount != 1:
                raise FieldStoreError(f"report {report_id} changed meanwhile; reload it")
            cur.execute(
                f"INSERT INTO {SCHEMA}.field_steps (report_id, from_state, to_state, actor, role, "
                "at, note) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING step_id",
                (report_id, state, target, actor.name, actor.role, at, note or ""),
            )
            step_id = cur.fetchone()[0]
            if photo is not None:
                _put_photo(cur, report_id, step_id, photo, at)
            _audit(
                cur,
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

    def add_visits(
        self, visits: Sequence[dict[str, Any]], *, actor: Actor, now: pd.Timestamp | str
    ) -> int:
        """Store validated visit records (:func:`field.visits.validate_visit`)."""
        at = iso(now)
        with self._tx() as cur:
            cur.executemany(
                f"INSERT INTO {SCHEMA}.field_visits (grid_code, household, visited_on, "
                "households_visited, worker, created_at) VALUES (%s, %s, %s, %s, %s, %s)",
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
            _audit(
                cur,
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
        """Replace every field table with the given rows (the demo; ``db copy``).

        `photos` (:meth:`all_photos`) refer to the ``step_id`` of `steps`; they are linked to
        the steps' new ids.
        """
        with self._tx() as cur:
            for table in ("field_photos", "field_steps", "field_reports", "field_visits"):
                cur.execute(f"DELETE FROM {SCHEMA}.{table}")
            _insert(cur, "field_reports", reports, REPORT_COLUMNS)
            if photos is None or photos.empty:
                _insert(cur, "field_steps", steps, STEP_COLUMNS[1:])
            else:
                new_ids = {}
                for row in _rows(steps, STEP_COLUMNS):
                    cur.execute(
                        f"INSERT INTO {SCHEMA}.field_steps (report_id, from_state, to_state, "
                        "actor, role, at, note) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                        "RETURNING step_id",
                        row[1:],
                    )
                    new_ids[row[0]] = cur.fetchone()[0]
                _insert(cur, "field_photos", _relinked(photos, new_ids), PHOTO_COLUMNS[1:])
            _insert(cur, "field_visits", visits, VISIT_COLUMNS[1:])

    def all_photos(self) -> pd.DataFrame:
        """Every photo in the scope with its report, step, size, hash and time (``db copy``)."""
        with self._tx() as cur:
            cur.execute(
                f"SELECT {', '.join(PHOTO_COLUMNS)} FROM {SCHEMA}.field_photos ORDER BY photo_id"
            )
            frame = _frame(cur, PHOTO_COLUMNS)
        frame["data"] = frame["data"].map(bytes)
        frame["created_at"] = frame["created_at"].map(iso)
        return frame

    # ----------------------------------------------------------------- reading
    def version(self) -> str:
        """A token that changes with every submit, step or visit (and per role and scope)."""
        with self._tx() as cur:
            cur.execute(
                f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.table_version "
                "WHERE name LIKE 'field\\_%%'"
            )
            version = cur.fetchone()[0]
        return f"v{version}-{self.store.identity.key()}"

    def reports(self, *, where: str = "", params: Sequence[Any] = ()) -> gpd.GeoDataFrame:
        """Reports in the scope as points in EPSG:4326 (`where`: an SQL filter, ``?`` marks)."""
        sql = f"SELECT {', '.join(REPORT_COLUMNS)} FROM {SCHEMA}.field_reports"
        if where:
            sql += " WHERE " + where.replace("?", "%s")
        with self._tx() as cur:
            cur.execute(sql + " ORDER BY created_at, report_id", list(params))
            frame = _frame(cur, REPORT_COLUMNS)
        for col in TIME_COLUMNS:
            frame[col] = pd.to_datetime(frame[col], utc=True).astype("datetime64[ns, UTC]")
        frame["synthetic"] = frame["synthetic"].astype(bool)
        for col in ("lon", "lat"):
            frame[col] = frame[col].astype(float)
        geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")
        return gpd.GeoDataFrame(frame, geometry=geometry)

    def report(self, report_id: str) -> pd.Series | None:
        found = self.reports(where="report_id = ?", params=(report_id,))
        return None if found.empty else found.iloc[0]

    def steps(self, report_id: str | None = None) -> pd.DataFrame:
        """Steps of one report (or all), oldest first, with ``photo_id`` where one was added."""
        sql = (
            f"SELECT s.{', s.'.join(STEP_COLUMNS)}, p.photo_id FROM {SCHEMA}.field_steps s "
            f"LEFT JOIN {SCHEMA}.field_photos p ON p.step_id = s.step_id"
        )
        params: tuple = ()
        if report_id is not None:
            sql += " WHERE s.report_id = %s"
            params = (report_id,)
        with self._tx() as cur:
            cur.execute(sql + " ORDER BY s.step_id", params)
            frame = _frame(cur, [*STEP_COLUMNS, "photo_id"])
        frame["at"] = pd.to_datetime(frame["at"], utc=True).astype("datetime64[ns, UTC]")
        return frame

    def photos(self, report_id: str) -> pd.DataFrame:
        """Photos of a report: photo_id, step_id, width, height, data (JPEG bytes)."""
        columns = ["photo_id", "step_id", "width", "height", "data"]
        with self._tx() as cur:
            cur.execute(
                f"SELECT {', '.join(columns)} FROM {SCHEMA}.field_photos "
                "WHERE report_id = %s ORDER BY photo_id",
                (report_id,),
            )
            frame = _frame(cur, columns)
        frame["data"] = frame["data"].map(bytes)
        return frame

    def visits(self) -> pd.DataFrame:
        """Visits in the scope; days and times as ISO text (as the GeoPackage gives them)."""
        select = [c if c != "visited_on" else "visited_on::text" for c in VISIT_COLUMNS]
        with self._tx() as cur:
            cur.execute(f"SELECT {', '.join(select)} FROM {SCHEMA}.field_visits ORDER BY visit_id")
            frame = _frame(cur, VISIT_COLUMNS)
        frame["created_at"] = frame["created_at"].map(iso)
        frame["synthetic"] = frame["synthetic"].astype(int)
        return frame


def _put_photo(cur, report_id: str, step_id: int | None, photo: Photo, at: str) -> None:
    if len(photo.data) > MAX_BLOB_BYTES:
        raise FieldStoreError(
            f"photo of {len(photo.data):,} bytes is over the {MAX_BLOB_BYTES:,}-byte limit"
        )
    cur.execute(
        f"INSERT INTO {SCHEMA}.field_photos (report_id, step_id, data, width, height, sha256, "
        "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (report_id, step_id, photo.data, photo.width, photo.height, photo.sha256, at),
    )


def _insert(cur, table: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    if frame.empty:
        return
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise StoreError(f"{table}: columns {', '.join(missing)} missing")
    rows = _rows(frame, columns)
    if "synthetic" in columns:
        at = list(columns).index("synthetic")
        rows = [(*r[:at], bool(r[at]), *r[at + 1 :]) for r in rows]
    marks = ", ".join("%s" for _ in columns)
    cur.executemany(f"INSERT INTO {SCHEMA}.{table} ({', '.join(columns)}) VALUES ({marks})", rows)
