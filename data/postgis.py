"""PostGIS implementation of the :class:`data.store.Store` interface.

Selected by a ``postgresql://`` store value (``GRIDMAP_STORE`` or a command's store option)
through :func:`data.store.open_store`. Results are the same as from the GeoPackage:

* reads are bulk: one ``COPY (SELECT ..., hex WKB) TO STDOUT`` per layer, parsed by Arrow's
  CSV reader, geometries by ``shapely.from_wkb``;
* writes run in one transaction (all or nothing), loaded with ``COPY FROM STDIN``;
* every transaction takes the identity's group role (``SET LOCAL ROLE``) and scope (the
  ``gridmap.scope`` setting), so row-level security limits what the connection sees and changes;
* :meth:`PostGISStore.version` is the database's data-version counter (bumped by a trigger on
  every change) together with the role and scope, so caches keyed by it are shared by sessions
  with the same role and scope and never across scopes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from data.pg_schema import GROUP_ROLES, SCHEMA
from data.store import StoreError, _restore_types, _to_bool, storage_crs, storage_srid
from layers import LAYERS
from layers.messages import msg

if TYPE_CHECKING:
    from auth.storage import AuditEntry
    from data.store import Store

META = "gridmap_meta"
SCOPE_LEVELS = ("city", "district", "street", "community", "grids")
ACCOUNT_TABLES = ("users", "auth_sessions", "auth_attempts", "audit_log")


def mask_url(url: str) -> str:
    """`url` with any password replaced by ``***`` (safe to print or show).

    >>> mask_url("postgresql://app:secret@db/city")
    'postgresql://app:***@db/city'
    """
    parts = urlsplit(str(url))
    if parts.password is None:
        return str(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class StoreURL(str):
    """A store URL as shown everywhere: the password masked (``.name`` for messages)."""

    @property
    def name(self) -> str:
        return str(self)

    def resolve(self) -> StoreURL:
        return self


# masked URL -> full URL, so a masked URL used as a cache key can be opened again in-process
_FULL_URLS: dict[str, str] = {}
_CONNECTIONS: dict[str, object] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class DbIdentity:
    """Who a transaction acts for: an app role and a scope.

    ``scope_level`` is one of :data:`SCOPE_LEVELS`; ``scope_values`` the names (district,
    street, community) or grid codes of the scope.
    """

    role: str = "planner"
    scope_level: str = "city"
    scope_values: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.role not in GROUP_ROLES:
            raise ValueError(f"role {self.role!r}: expected one of {', '.join(GROUP_ROLES)}")
        if self.scope_level not in SCOPE_LEVELS:
            raise ValueError(
                f"scope {self.scope_level!r}: expected one of {', '.join(SCOPE_LEVELS)}"
            )

    @classmethod
    def of(cls, user) -> DbIdentity:
        """The identity of a signed-in :class:`auth.model.User` (its role and scope)."""
        return cls(user.role, user.scope.level, tuple(user.scope.values))

    @property
    def group_role(self) -> str:
        return GROUP_ROLES[self.role]

    def scope_json(self) -> str:
        return json.dumps(
            {"level": self.scope_level, "values": list(self.scope_values)}, ensure_ascii=False
        )

    def key(self) -> str:
        """Short token naming the role and scope (part of the cache key)."""
        digest = hashlib.sha256(self.scope_json().encode()).hexdigest()[:12]
        return f"{self.role}-{digest}"


_SESSION = threading.local()
_HELD = threading.local()


def set_session_identity(identity: DbIdentity | None) -> None:
    """Identity of the signed-in user for stores opened later in this thread (a page run)."""
    _SESSION.identity = identity


def default_identity() -> DbIdentity:
    """The signed-in user's identity (:func:`set_session_identity`), else the server's.

    Commands run on the server act as ``$GRIDMAP_DB_ROLE`` (default planner) for the city.
    """
    current = getattr(_SESSION, "identity", None)
    if current is not None:
        return current
    return DbIdentity(role=os.environ.get("GRIDMAP_DB_ROLE", "planner"))


class PostGISStore:
    """A PostGIS database holding every layer in the ``gridmap`` schema."""

    def __init__(self, url: str, *, identity: DbIdentity | None = None):
        full = _FULL_URLS.get(str(url), str(url))
        self._url = full
        self.path = StoreURL(mask_url(full))
        _FULL_URLS[str(self.path)] = full
        self.identity = identity or default_identity()

    def __repr__(self) -> str:
        return f"PostGISStore({str(self.path)!r}, role={self.identity.role!r})"

    @property
    def label(self) -> str:
        """The store's name for messages (password masked)."""
        return str(self.path)

    # ------------------------------------------------------------ connection
    def _connection(self):
        import psycopg

        with _LOCK:
            conn = _CONNECTIONS.get(self._url)
            if conn is None or conn.closed or conn.broken:
                try:
                    conn = psycopg.connect(self._url, autocommit=True)
                except psycopg.OperationalError as exc:
                    raise StoreError(
                        f"cannot connect to {self.label}: {_masked(exc, self._url)}"
                    ) from None
                _CONNECTIONS[self._url] = conn
            return conn

    @contextmanager
    def transaction(self, *, group_role: str | None = None) -> Iterator[object]:
        """A cursor in one transaction acting as this store's identity (role and scope).

        `group_role` overrides the identity's role (the sign-in code acts as
        ``gridmap_accounts``).
        """
        import psycopg
        from psycopg import sql

        conn = self._connection()
        lock = _conn_lock(conn)
        role = group_role or self.identity.group_role
        with lock:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
                    cur.execute(
                        "SELECT set_config('gridmap.scope', %s, true)",
                        (self.identity.scope_json(),),
                    )
                    yield cur
            except psycopg.errors.InsufficientPrivilege as exc:
                raise StoreError(f"{self.label}: not allowed: {exc}") from None
            except psycopg.errors.UndefinedTable as exc:
                raise StoreError(
                    f"{self.label}: the schema is missing or old; run "
                    f"`python cli.py db migrate --owner-url ...` ({exc})"
                ) from None

    @contextmanager
    def lock(
        self,
        *,
        timeout_s: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> Iterator[None]:
        """Hold the store's writer lock (re-entrant within a thread), for every replica.

        A session advisory lock on a connection of its own, so it spans the separate
        transactions of a read-modify-write (an import appending rows, a snapshot).

        Raises
        ------
        StoreBusy
            Another writer held the lock for `timeout_s` seconds.
        """
        import psycopg

        from data.store import LOCK_TIMEOUT_S, StoreBusy

        held: dict = _HELD.__dict__.setdefault("locks", {})
        if self._url in held:
            held[self._url] += 1
            try:
                yield
            finally:
                held[self._url] -= 1
            return
        timeout = LOCK_TIMEOUT_S if timeout_s is None else timeout_s
        with psycopg.connect(self._url, autocommit=True) as conn:
            got = conn.execute("SELECT pg_try_advisory_lock(hashtext('gridmap.writer'))")
            if not got.fetchone()[0]:
                if on_wait is not None:
                    on_wait(
                        msg(
                            f"{self.label}：另一个导入或快照正在写入，等待中",
                            f"{self.label}: another import or snapshot is writing; waiting",
                        )
                    )
                try:
                    conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
                    conn.execute("SELECT pg_advisory_lock(hashtext('gridmap.writer'))")
                    conn.execute("SET statement_timeout = 0")
                except psycopg.errors.QueryCanceled:
                    raise StoreBusy(
                        msg(
                            f"{self.label}：另一个写入进程占用数据库超过 {timeout:g} 秒，"
                            "数据库未改变，请稍后重试",
                            f"{self.label}: another writer held the store for {timeout:g} s; "
                            "nothing was changed, try again later",
                        )
                    ) from None
            held[self._url] = 1
            try:
                yield
            finally:
                del held[self._url]
                conn.execute("SELECT pg_advisory_unlock(hashtext('gridmap.writer'))")

    # ---------------------------------------------------------------- reading
    def exists(self) -> bool:
        """True when the database holds an initialised ``gridmap`` schema."""
        try:
            with self.transaction() as cur:
                cur.execute("SELECT to_regclass('gridmap.schema_version') IS NOT NULL")
                return bool(cur.fetchone()[0])
        except StoreError:
            return False

    def schema_version(self) -> int:
        with self.transaction() as cur:
            cur.execute(f"SELECT max(version) FROM {SCHEMA}.schema_version")
            return int(cur.fetchone()[0] or 0)

    def layers(self) -> list[str]:
        """Names of the tables holding data (layers with rows, metadata, other tables)."""
        if not self.exists():
            return []
        with self.transaction() as cur:
            names = []
            for name in LAYERS:
                cur.execute(f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.{name})")
                if cur.fetchone()[0]:
                    names.append(name)
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.meta)")
            if cur.fetchone()[0]:
                names.append(META)
            cur.execute(f"SELECT name FROM {SCHEMA}.tables ORDER BY name")
            names += [row[0] for row in cur.fetchall()]
        return names

    def has(self, layer: str) -> bool:
        return layer in self.layers()

    def read(self, layer: str, *, columns: list[str] | None = None) -> gpd.GeoDataFrame:
        """Read a spatial layer in EPSG:4326 (only the rows the identity's scope allows)."""
        if layer not in LAYERS:
            with self.transaction() as cur:
                blob = _blob(cur, layer)
            if blob is None:
                raise StoreError(f"{self.label}: no layer {layer!r}")
            return gpd.read_parquet(io.BytesIO(blob))
        with self.transaction() as cur:
            frame = _copy_layer(cur, layer, columns)
        return _typed(frame, layer)

    def read_layers(self, names: Iterable[str] | None = None) -> dict[str, gpd.GeoDataFrame]:
        """Read several layers (default: every layer of :data:`layers.LAYERS`) in one snapshot."""
        chosen = list(LAYERS if names is None else names)
        with self.transaction() as cur:
            raw = {name: _copy_layer(cur, name, None) for name in chosen if name in LAYERS}
        out = {name: _typed(frame, name) for name, frame in raw.items()}
        for name in chosen:
            if name not in out:
                out[name] = self.read(name)
        return {name: out[name] for name in chosen}

    def read_table(self, name: str) -> pd.DataFrame:
        """Read an attribute (non-spatial) table; empty frame if it does not exist.

        The account tables (users, sessions, audit) are not readable here: use :meth:`accounts`.
        """
        if name in ACCOUNT_TABLES:
            raise StoreError(f"{name!r} is not a data table; use store.accounts()")
        with self.transaction() as cur:
            if name == META:
                cur.execute(f"SELECT key, value FROM {SCHEMA}.meta ORDER BY key")
                rows = cur.fetchall()
                if not rows:
                    return pd.DataFrame()
                return pd.DataFrame(rows, columns=["key", "value"])
            blob = _blob(cur, name)
        if blob is None:
            return pd.DataFrame()
        return pd.read_parquet(io.BytesIO(blob))

    def data_version(self) -> int:
        """The database's data-version counter (bumped by a trigger on every change)."""
        with self.transaction() as cur:
            cur.execute(f"SELECT version FROM {SCHEMA}.data_version WHERE id = 1")
            return int(cur.fetchone()[0])

    def version(self) -> str:
        """Cache token: the data version plus the identity's role and scope."""
        if not self.exists():
            return "missing"
        return f"v{self.data_version()}-{self.identity.key()}"

    def layer_versions(self) -> dict[str, str]:
        """A cache token per layer: changes only when that layer is written (and per scope)."""
        if not self.exists():
            return {}
        with self.transaction() as cur:
            cur.execute(f"SELECT name, version FROM {SCHEMA}.table_version")
            rows = cur.fetchall()
        key = self.identity.key()
        return {
            (META if name == "meta" else name): f"v{version}-{key}"
            for name, version in rows
            if name != "tables"
        }

    def counts(self) -> dict[str, int]:
        """Rows per table visible to the identity (layers, metadata, other tables)."""
        out = {}
        names = self.layers()
        with self.transaction() as cur:
            for name in names:
                if name in LAYERS:
                    cur.execute(f"SELECT count(*) FROM {SCHEMA}.{name}")
                    out[name] = int(cur.fetchone()[0])
        for name in names:
            if name not in out:
                out[name] = len(self.read_table(name))
        return out

    def checksum(self) -> str:
        """SHA-256 over every table's rows (proves a failed write changed nothing)."""
        digest = hashlib.sha256()
        with self.transaction() as cur:
            for name in [*LAYERS, "meta", "tables"]:
                order = "key" if name == "meta" else "name" if name == "tables" else "fid"
                cur.execute(
                    f"SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY {order})), '') "
                    f"FROM {SCHEMA}.{name} t"
                )
                digest.update(f"{name}:{cur.fetchone()[0]};".encode())
        return digest.hexdigest()

    def meta(self) -> dict[str, str]:
        table = self.read_table(META)
        if table.empty:
            return {}
        return dict(zip(table["key"].astype(str), table["value"].astype(str), strict=True))

    # ---------------------------------------------------------------- writing
    def write(
        self,
        layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
        *,
        mode: str = "replace",
        audit: Sequence[AuditEntry] = (),
        also: Callable[[Store], None] | None = None,
    ) -> None:
        """Write several tables and their audit rows in one transaction: all or, on error, none.

        `also` is called with this store inside the transaction: the transactions it opens
        are savepoints of this one, so its writes commit or roll back with the tables.
        """
        if mode not in ("replace", "append"):
            raise ValueError(f"mode must be 'replace' or 'append', not {mode!r}")
        import psycopg

        prepared = {name: _prepare(name, frame) for name, frame in layers.items()}
        try:
            with self.transaction() as cur:
                for name, frame in prepared.items():
                    if name in LAYERS:
                        if mode == "replace":
                            cur.execute(f"DELETE FROM {SCHEMA}.{name}")
                            _set_columns(cur, name, frame)
                        _copy_in(cur, name, frame)
                    elif name == META:
                        _write_meta(cur, frame, replace=(mode == "replace"))
                    else:
                        _write_blob(cur, name, frame, append=(mode == "append"))
                if audit:
                    from data.pg_accounts import insert_audit

                    insert_audit(cur, audit)
                if also is not None:
                    also(self)
        except psycopg.Error as exc:
            raise StoreError(f"{self.label}: write failed, nothing changed: {exc}") from None

    def accounts(self):
        """Users, sessions, sign-in attempts and the audit log (:mod:`auth.storage`)."""
        from data.pg_accounts import PostGISAccounts

        return PostGISAccounts(self)

    def is_demo(self) -> bool:
        """True when the store is marked as the demo (its demo accounts may be shown)."""
        return self.exists() and self.meta().get("demo") == "true"

    def write_meta(self, values: Mapping[str, str]) -> None:
        """Merge key/value pairs into the metadata table."""
        frame = pd.DataFrame({"key": list(values), "value": [str(v) for v in values.values()]})
        with self.transaction() as cur:
            _write_meta(cur, frame, replace=False)

    def update_rows(self, layer: str, key: str, rows: pd.DataFrame) -> int:
        """Update some columns of the rows whose `key` matches (row-level security applies).

        Returns the number of rows changed; rows outside the scope are not changed.
        """
        from psycopg import sql

        columns = [c for c in rows.columns if c != key]
        if layer not in LAYERS or not columns:
            raise StoreError(f"{self.label}: cannot update {layer!r} by {key!r}")
        stmt = sql.SQL("UPDATE {}.{} SET {} WHERE {} = %s").format(
            sql.Identifier(SCHEMA),
            sql.Identifier(layer),
            sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns),
            sql.Identifier(key),
        )
        changed = 0
        with self.transaction() as cur:
            for record in rows.to_dict("records"):
                values = [_py(record[c]) for c in columns] + [record[key]]
                cur.execute(stmt, values)
                changed += cur.rowcount
        return changed


# --------------------------------------------------------------------------- helpers
_CONN_LOCKS: dict[int, threading.RLock] = {}


def _conn_lock(conn) -> threading.RLock:
    with _LOCK:
        return _CONN_LOCKS.setdefault(id(conn), threading.RLock())


def _masked(exc: Exception, url: str) -> str:
    text = str(exc)
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def _blob(cur, name: str) -> bytes | None:
    cur.execute(f"SELECT data FROM {SCHEMA}.tables WHERE name = %s", (name,))
    row = cur.fetchone()
    return None if row is None else bytes(row[0])


def _arrow_type(dtype: str) -> pa.DataType:
    return {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}[dtype]


def _copy_layer(cur, layer: str, columns: list[str] | None) -> gpd.GeoDataFrame:
    """One layer by ``COPY ... TO STDOUT`` (CSV with hex WKB), parsed in bulk by Arrow."""
    cur.execute(f"SELECT columns FROM {SCHEMA}.layer_columns WHERE layer = %s", (layer,))
    row = cur.fetchone()
    written = set(row[0]) if row else {f.name for f in LAYERS[layer].fields}
    fields = [
        f
        for f in LAYERS[layer].fields
        if f.name in written and (columns is None or f.name in columns)
    ]
    names = [f.name for f in fields]
    select = ", ".join([*names, "encode(ST_AsBinary(geom), 'hex') AS geometry"])
    query = f"COPY (SELECT {select} FROM {SCHEMA}.{layer} ORDER BY fid) TO STDOUT (FORMAT csv)"
    buf = io.BytesIO()
    with cur.copy(query) as copy:
        for block in copy:
            buf.write(block)
    types = {f.name: _arrow_type(f.dtype) for f in fields}
    types["geometry"] = pa.string()
    if not buf.getvalue():
        return gpd.GeoDataFrame(
            {f.name: pd.Series([], dtype=_nullable(types[f.name]) or object) for f in fields},
            geometry=gpd.GeoSeries([], crs=storage_crs()),
        )
    table = pacsv.read_csv(
        io.BytesIO(buf.getvalue()),
        read_options=pacsv.ReadOptions(column_names=[*names, "geometry"]),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
            true_values=["t"],
            false_values=["f"],
        ),
    )
    geometry = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    attrs = table.drop_columns(["geometry"]).to_pandas(types_mapper=_nullable)
    return gpd.GeoDataFrame(attrs, geometry=geometry, crs=storage_crs())


def _nullable(arrow_type: pa.DataType):
    if pa.types.is_int64(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    return None


def _typed(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Columns in the types the GeoPackage store gives (see ``data.store._restore_types``)."""
    return _restore_types(frame, layer)


def _prepare(name: str, frame: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """Check and normalise a frame before the transaction starts."""
    if name not in LAYERS:
        return frame.reset_index(drop=True)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise StoreError(f"layer {name!r} must be a GeoDataFrame")
    if frame.crs is None:
        raise StoreError(f"layer {name!r} has no CRS; set one before writing")
    if not frame.crs.equals(storage_crs()):
        frame = frame.to_crs(storage_crs())
    known = {f.name for f in LAYERS[name].fields}
    extra = [c for c in frame.columns if c not in known and c != frame.geometry.name]
    if extra:
        raise StoreError(
            f"layer {name!r}: columns {', '.join(map(str, extra))} are not in the layer schema"
        )
    return frame.reset_index(drop=True)


def _copy_in(cur, layer: str, frame: gpd.GeoDataFrame) -> None:
    """Load `frame` with ``COPY FROM STDIN`` (CSV written by Arrow, geometry as hex EWKB)."""
    if frame.empty:
        return
    fields = [f for f in LAYERS[layer].fields if f.name in frame.columns]
    arrays, names = [], []
    for f in fields:
        arrays.append(_to_arrow(frame[f.name], f.dtype))
        names.append(f.name)
    geoms = shapely.set_srid(frame.geometry.values, storage_srid())
    wkb = shapely.to_wkb(geoms, hex=True, include_srid=True)
    arrays.append(pa.array(wkb, type=pa.string()))
    names.append("geom")
    table = pa.Table.from_arrays(arrays, names=names)
    out = io.BytesIO()
    pacsv.write_csv(
        table,
        out,
        write_options=pacsv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    cols = ", ".join(names)
    # COPY cannot load a table with row-level security: load a temporary table, then INSERT
    temp = f"load_{layer}"
    cur.execute(
        f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS SELECT {cols} FROM {SCHEMA}.{layer} LIMIT 0"
    )
    with cur.copy(f"COPY {temp} ({cols}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(out.getvalue())
    cur.execute(f"INSERT INTO {SCHEMA}.{layer} ({cols}) SELECT {cols} FROM {temp}")
    cur.execute(f"DROP TABLE {temp}")


def _set_columns(cur, layer: str, frame: pd.DataFrame) -> None:
    names = [f.name for f in LAYERS[layer].fields if f.name in frame.columns]
    cur.execute(
        f"INSERT INTO {SCHEMA}.layer_columns (layer, columns) VALUES (%s, %s) "
        "ON CONFLICT (layer) DO UPDATE SET columns = excluded.columns",
        (layer, names),
    )


def _to_arrow(series: pd.Series, dtype: str) -> pa.Array:
    values = series.astype(object).where(series.notna(), None)
    if dtype == "int":
        values = [None if v is None else int(round(float(v))) for v in values]
    elif dtype == "float":
        values = [None if v is None else float(v) for v in values]
    elif dtype == "bool":
        values = [None if v is None else _bool(v) for v in values]
    else:
        values = [None if v is None else str(v) for v in values]
    return pa.array(values, type=_arrow_type(dtype))


def _bool(value: object) -> bool | None:
    out = _to_bool(value)
    return None if out is pd.NA else bool(out)


def _py(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _write_meta(cur, frame: pd.DataFrame, *, replace: bool) -> None:
    if replace:
        cur.execute(f"DELETE FROM {SCHEMA}.meta")
    rows = [
        (str(k), None if v is None else str(v))
        for k, v in zip(frame["key"], frame["value"], strict=True)
    ]
    cur.executemany(
        f"INSERT INTO {SCHEMA}.meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        rows,
    )


def _write_blob(cur, name: str, frame: pd.DataFrame, *, append: bool) -> None:
    if append:
        old = _blob(cur, name)
        if old is not None:
            before = (
                gpd.read_parquet(io.BytesIO(old))
                if isinstance(frame, gpd.GeoDataFrame)
                else pd.read_parquet(io.BytesIO(old))
            )
            frame = pd.concat([before, frame], ignore_index=True)
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    cur.execute(
        f"INSERT INTO {SCHEMA}.tables (name, data) VALUES (%s, %s) "
        "ON CONFLICT (name) DO UPDATE SET data = excluded.data",
        (name, buf.getvalue()),
    )
