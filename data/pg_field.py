"""Field-report tables in the PostGIS store, with the interface of the GeoPackage ones.

The tables (``gridmap.field_reports``, ``field_steps``, ``field_photos``, ``field_visits``) come
from migration 3 of :mod:`data.pg_schema`. Every call runs in one transaction of the store's
identity (:meth:`data.postgis.PostGISStore.transaction`), so row-level security decides what a
worker or staff member reads and adds, exactly as for the grids. A submit, step or visit and
its audit row are stored in the same transaction: both or neither.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from data.pg_schema import SCHEMA
from field.tables import (
    PHOTO_COLUMNS,
    REPORT_COLUMNS,
    STEP_COLUMNS,
    TIME_COLUMNS,
    VISIT_COLUMNS,
    FieldStoreError,
    FieldWrites,
    iso,
)
from geo.crs import LONLAT_CRS


def _frame(cur, columns: Sequence[str]) -> pd.DataFrame:
    rows = cur.fetchall()
    return pd.DataFrame(rows, columns=list(columns)) if rows else pd.DataFrame(columns=columns)


class PostGISFieldStore(FieldWrites):
    """Field-report tables of a :class:`data.postgis.PostGISStore` (acting as its identity).

    The writes are :class:`field.tables.FieldWrites`' in PostgreSQL's dialect.
    """

    mark = "%s"
    prefix = f"{SCHEMA}."
    json_cast = "::jsonb"
    for_update = " FOR UPDATE"
    boolean = bool

    def __init__(self, store) -> None:
        self.store = store
        self.path = store.path

    def _tx(self):
        return self.store.transaction()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Any]:
        import psycopg

        try:
            with self._tx() as cur:
                yield cur
        except psycopg.errors.CheckViolation as exc:
            raise FieldStoreError(f"not stored: {exc}") from None

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
        geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs=LONLAT_CRS)
        return gpd.GeoDataFrame(frame, geometry=geometry)

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
