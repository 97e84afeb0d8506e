"""The writes of the field tables, one SQL for both backends.

:class:`FieldWrites` holds submit, step, visits and the bulk replace of the field tables once;
the GeoPackage store (:class:`field.store.GeoPackageFieldStore`, SQLite) and the PostGIS one
(:class:`data.pg_field.PostGISFieldStore`) subclass it and say only how to open a writing
cursor and how their SQL differs (parameter marks, schema prefix, JSON and boolean columns,
row locks). Both run every write and its audit row in one transaction.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import pandas as pd

from field.photos import Photo
from field.states import check_transition
from layers.messages import msg

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


class FieldWrites:
    """Submit, step, visits and bulk replace of the field tables, for any SQL backend.

    Subclasses give :meth:`_writing` (a cursor in one write transaction) and the class
    attributes below; SQL here is written with ``?`` marks and ``{t}`` before table names.
    """

    mark = "?"
    """The driver's parameter mark (``?`` for SQLite, ``%s`` for psycopg)."""
    prefix = ""
    """Put before table names (the PostGIS schema, ``gridmap.``)."""
    json_cast = ""
    """Appended to the audit detail's mark (``::jsonb`` in PostgreSQL)."""
    for_update = ""
    """Row lock of the read-before-update (`` FOR UPDATE`` in PostgreSQL; SQLite locks the file)."""
    boolean: type = int
    """How a boolean column is written (SQLite has none: 0/1)."""

    def _writing(self) -> contextlib.AbstractContextManager[Any]:
        """A cursor in one write transaction (committed when the block ends without error)."""
        raise NotImplementedError

    def _q(self, sql: str) -> str:
        """`sql` in this backend's dialect."""
        return sql.replace("{t}", self.prefix).replace("?", self.mark)

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
        report_id = f"EV{pd.Timestamp(at).strftime('%y%m%d')}{uuid.uuid4().hex[:6].upper()}"
        with self._writing() as cur:
            cur.execute(
                self._q(
                    "INSERT INTO {t}field_reports (report_id, submission_id, category, urgency, "
                    "description, lon, lat, grid_code, community, street, district, reporter, "
                    "reporter_role, state, created_at, state_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?) "
                    "ON CONFLICT (submission_id) DO NOTHING RETURNING report_id"
                ),
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
            if cur.fetchone() is None:  # submitted before: the first report's id
                cur.execute(
                    self._q("SELECT report_id FROM {t}field_reports WHERE submission_id = ?"),
                    (report.submission_id,),
                )
                row = cur.fetchone()
                if row is None:  # stored, but outside what this identity may read
                    raise FieldStoreError(
                        f"submission {report.submission_id!r} was already stored by someone else"
                    )
                return str(row[0]), False
            step_id = self._add_step(cur, report_id, None, "new", actor, at, "")
            for photo in photos:
                self._put_photo(cur, report_id, step_id, photo, at)
            self._audit(
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
        with self._writing() as cur:
            cur.execute(
                self._q("SELECT state FROM {t}field_reports WHERE report_id = ?") + self.for_update,
                (report_id,),
            )
            row = cur.fetchone()
            if row is None:
                raise FieldStoreError(msg(f"没有事件 {report_id!r}", f"no report {report_id!r}"))
            state = str(row[0])
            check_transition(state, target, actor.role)
            if target == "duplicate":
                if not duplicate_of or duplicate_of == report_id:
                    raise FieldStoreError(
                        msg(
                            "标记为重复上报时须指明与哪一事件重复",
                            "a duplicate must name the report it repeats",
                        )
                    )
                cur.execute(
                    self._q("SELECT 1 FROM {t}field_reports WHERE report_id = ?"), (duplicate_of,)
                )
                if cur.fetchone() is None:
                    raise FieldStoreError(
                        msg(
                            f"没有事件 {duplicate_of!r}，无法标记为与之重复",
                            f"no report {duplicate_of!r} to be a duplicate of",
                        )
                    )
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
            cur.execute(
                self._q(
                    f"UPDATE {{t}}field_reports SET {', '.join(sets)} "
                    "WHERE report_id = ? AND state = ?"
                ),
                (*values, report_id, state),
            )
            if cur.rowcount != 1:
                raise FieldStoreError(
                    msg(
                        f"事件 {report_id} 已被他人处理，请刷新后重试",
                        f"report {report_id} changed meanwhile; reload it",
                    )
                )
            step_id = self._add_step(cur, report_id, state, target, actor, at, note or "")
            if photo is not None:
                self._put_photo(cur, report_id, step_id, photo, at)
            self._audit(
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
        with self._writing() as cur:
            cur.executemany(
                self._q(
                    "INSERT INTO {t}field_visits (grid_code, household, visited_on, "
                    "households_visited, worker, created_at) VALUES (?, ?, ?, ?, ?, ?)"
                ),
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
        """Replace every field table with the given rows (the synthetic demo, ``db copy``).

        `photos` (``all_photos()``) refer to the ``step_id`` of `steps`; they are linked to
        the steps' new ids.
        """
        with self._writing() as cur:
            for table in ("field_photos", "field_steps", "field_reports", "field_visits"):
                cur.execute(self._q(f"DELETE FROM {{t}}{table}"))
            self._insert(cur, "field_reports", reports, REPORT_COLUMNS)
            if photos is None or photos.empty:
                self._insert(cur, "field_steps", steps, STEP_COLUMNS[1:])
            else:
                new_ids = {
                    row[0]: self._add_step(cur, *row[1:4], _Who(*row[4:6]), *row[6:8])
                    for row in _rows(steps, STEP_COLUMNS)
                }
                self._insert(cur, "field_photos", _relinked(photos, new_ids), PHOTO_COLUMNS[1:])
            self._insert(cur, "field_visits", visits, VISIT_COLUMNS[1:])

    # ----------------------------------------------------------------- reading
    def reports(self, *, where: str = "", params: Sequence[Any] = ()):
        """Reports as points in EPSG:4326 (`where`: an SQL filter with ``?`` marks)."""
        raise NotImplementedError

    def report(self, report_id: str) -> pd.Series | None:
        """One report, or ``None``."""
        found = self.reports(where="report_id = ?", params=(report_id,))
        return None if found.empty else found.iloc[0]

    # ----------------------------------------------------------------- helpers
    def _add_step(
        self,
        cur,
        report_id: str,
        from_state: str | None,
        to_state: str,
        actor: Actor,
        at: str,
        note: str,
    ) -> int:
        """Insert a step; its new ``step_id``."""
        cur.execute(
            self._q(
                "INSERT INTO {t}field_steps (report_id, from_state, to_state, actor, role, at, "
                "note) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING step_id"
            ),
            (report_id, from_state, to_state, actor.name, actor.role, at, note),
        )
        return int(cur.fetchone()[0])

    def _put_photo(self, cur, report_id: str, step_id: int | None, photo: Photo, at: str) -> None:
        if len(photo.data) > MAX_BLOB_BYTES:
            raise FieldStoreError(
                f"photo of {len(photo.data):,} bytes is over the {MAX_BLOB_BYTES:,}-byte limit"
            )
        cur.execute(
            self._q(
                "INSERT INTO {t}field_photos (report_id, step_id, data, width, height, sha256, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            (report_id, step_id, photo.data, photo.width, photo.height, photo.sha256, at),
        )

    def _audit(self, cur, actor: Actor, action: str, detail: dict[str, Any], at: str) -> None:
        """Append a row to the store's audit log in the caller's transaction."""
        cur.execute(
            self._q(
                "INSERT INTO {t}audit_log (at, user_name, role, action, layer, rows_added, "
                "rows_changed, rows_removed, detail) "
                f"VALUES (?, ?, ?, ?, 'field_reports', ?, ?, 0, ?{self.json_cast})"
            ),
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

    def _insert(self, cur, table: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
        """Insert the rows of `frame` (its `columns`) into `table`."""
        if frame.empty:
            return
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise FieldStoreError(f"{table}: columns {', '.join(missing)} missing")
        rows = _rows(frame, columns)
        if "synthetic" in columns:
            at = list(columns).index("synthetic")
            rows = [(*r[:at], self.boolean(bool(r[at])), *r[at + 1 :]) for r in rows]
        marks = ", ".join("?" for _ in columns)
        cur.executemany(
            self._q(f"INSERT INTO {{t}}{table} ({', '.join(columns)}) VALUES ({marks})"), rows
        )


class _Who(NamedTuple):
    """The actor of a copied step (its stored name and role)."""

    name: str
    role: str


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
