"""The spatial store: one table per layer, EPSG:4326, behind a small interface.

The embedded default is a GeoPackage. Pages, analysis and commands go through :class:`Store`,
so another backend (PostGIS) can be added by implementing the same methods.

Writes are atomic: :meth:`GeoPackageStore.write` copies the store to a temporary file in the
same folder, writes there, flushes it to disk and renames it over the original only when every
layer was written. A failure leaves the store byte-for-byte as it was.

Writers are serialised: :meth:`GeoPackageStore.lock` holds an exclusive lock on the file
``.<store>.lock`` beside the store, across the copy, the write and the rename (and, for an
import or a snapshot, across reading the rows it adds to). A writer that finds the lock held
waits, says so, and gives up with :class:`StoreBusy` after ``lock_timeout_s`` seconds
(:data:`LOCK_TIMEOUT_S` by default; the import uses the profile's ``import.lock_timeout_s``).

Temporary copies are named ``.<store>.<pid>.<random>.tmp.gpkg``. One whose process is gone
(an import killed with ``kill -9``) is deleted when the store is opened (:func:`open_store`) and
before every write.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd
import pyogrio

from data.tempfiles import is_stale
from layers import LAYERS
from layers.messages import in_lang, msg

if TYPE_CHECKING:
    from auth.storage import Accounts, AuditEntry


def storage_crs() -> str:
    """The CRS layers are stored in: the city profile's ``city.storage_crs`` (the one place it is
    set). Not :data:`geo.crs.LONLAT_CRS`, the CRS of the web map and of GPS positions."""
    from geo.settings import load_profile

    return load_profile().city.storage_crs


def storage_srid() -> int:
    """EPSG code of :func:`storage_crs` (the SRID of the PostGIS geometry columns)."""
    from pyproj import CRS

    return int(CRS.from_user_input(storage_crs()).to_epsg())


Mode = Literal["replace", "append"]
#: Seconds a writer waits for another writer of the same store before giving up.
LOCK_TIMEOUT_S = 120.0
_LOCK_POLL_S = 0.1
_log = logging.getLogger(__name__)


class StoreError(ValueError):
    """The store cannot be opened, read or written."""

    def text(self, lang: str = "en") -> str:
        """The message in `lang` (``"zh"`` or ``"en"``) where it is bilingual, else as it is."""
        return in_lang(self.args[0], lang) if self.args else str(self)


class StoreBusy(StoreError):
    """Another writer held the store's lock for longer than the timeout."""


# Locks this process holds, per thread: path -> (open lock file, depth). A thread that holds
# the lock may take it again (an import holds it across its read and its write); another
# thread of the same process (another Streamlit session) waits like another process does,
# because flock locks belong to the open file, and each thread opens its own.
_held = threading.local()


@runtime_checkable
class Store(Protocol):
    """What the app needs from a spatial store: the type every caller uses.

    Implemented by :class:`GeoPackageStore` (a file) and :class:`data.postgis.PostGISStore`
    (a shared database); open one with :func:`open_store`. Code that only reads, writes, locks
    or names a store takes a ``Store``, so it works on both.
    """

    path: Path | str
    """Where the store lives: the file's path or the masked URL; both have ``.name``."""

    @property
    def label(self) -> str:
        """The store's name for messages (a URL's password masked)."""

    def exists(self) -> bool:
        """True when the store holds data (the file exists, the schema is initialised)."""

    def layers(self) -> list[str]:
        """Names of the tables in the store (spatial and attribute)."""

    def has(self, layer: str) -> bool:
        """True when the store holds table `layer`."""

    def read(self, layer: str, *, columns: list[str] | None = None) -> gpd.GeoDataFrame:
        """One layer (only `columns` when given), in the storage CRS."""

    def read_layers(self, names: Iterable[str] | None = None) -> dict[str, gpd.GeoDataFrame]:
        """The layers `names` (default every data layer) that the store holds, by name."""

    def read_table(self, name: str) -> pd.DataFrame:
        """An attribute table (e.g. snapshots); empty when missing."""

    def write(
        self,
        layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
        *,
        mode: Mode = "replace",
        audit: Sequence[AuditEntry] = (),
        also: Callable[[Store], None] | None = None,
    ) -> None:
        """Write layers in one transaction, with their audit rows (all or nothing).

        `also` makes more writes part of the same transaction: it is called, before the
        commit, with the store to write them through (see the implementations).
        """

    def lock(
        self,
        *,
        timeout_s: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> contextlib.AbstractContextManager[None]:
        """Hold the store's writer lock (re-entrant within a thread); :class:`StoreBusy` after
        `timeout_s` seconds."""

    def version(self) -> str:
        """A token that changes whenever a layer changes (not on sign-ins or audit rows)."""

    def layer_versions(self) -> dict[str, str]:
        """A token per layer that changes only when that layer is written."""

    def meta(self) -> dict[str, str]:
        """The store's key/value metadata."""

    def write_meta(self, values: Mapping[str, str]) -> None:
        """Merge key/value pairs into the metadata."""

    def is_demo(self) -> bool:
        """True when the store is marked as the demo."""

    def counts(self) -> dict[str, int]:
        """Rows per table."""

    def checksum(self) -> str:
        """A digest of the store's content (proves a failed write changed nothing)."""

    def accounts(self) -> Accounts:
        """Users, sessions and the audit log (:mod:`auth.storage`)."""


class GeoPackageStore:
    """A GeoPackage file holding every layer (and attribute tables such as snapshots)."""

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        lock_timeout_s: float = LOCK_TIMEOUT_S,
        staged: bool = False,
    ):
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s
        # the temporary copy an atomic write is building (what `write`'s `also` gets): its
        # writer lock is the real store's, which that writer already holds
        self.staged = staged

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    @property
    def label(self) -> str:
        """The store's name for messages."""
        return str(self.path)

    # ----------------------------------------------------------------- reading
    def exists(self) -> bool:
        return self.path.is_file()

    def layers(self) -> list[str]:
        """Names of the tables in the store (spatial and attribute)."""
        if not self.exists():
            return []
        names = [str(name) for name, _ in pyogrio.list_layers(self.path)]
        return [n for n in names if n not in INTERNAL_TABLES]

    def has(self, layer: str) -> bool:
        return layer in self.layers()

    def read(self, layer: str, *, columns: list[str] | None = None) -> gpd.GeoDataFrame:
        """Read a spatial layer in EPSG:4326.

        A layer missing from the store comes back as an empty frame with the layer's columns,
        so pages can show an empty state instead of failing.
        """
        if not self.exists():
            raise StoreError(
                f"store {self.path} does not exist; run `python cli.py demo --out {self.path}`"
            )
        if not self.has(layer):
            if layer in LAYERS:
                return LAYERS[layer].empty(storage_crs())
            raise StoreError(
                f"{self.path.name}: no layer {layer!r} (has: {', '.join(self.layers())})"
            )
        frame = pyogrio.read_dataframe(self.path, layer=layer, columns=columns, use_arrow=True)
        if frame.crs is None:
            frame = frame.set_crs(storage_crs())
        if "fid" in frame.columns:
            frame = frame.drop(columns="fid")
        return _restore_types(frame, layer)

    def read_layers(self, names: Iterable[str] | None = None) -> dict[str, gpd.GeoDataFrame]:
        """Read several spatial layers (default: every layer of :data:`layers.LAYERS`).

        Each comes back as :meth:`read` gives it: EPSG:4326, a layer missing from the store
        as an empty frame with the layer's columns.
        """
        return {name: self.read(name) for name in (LAYERS if names is None else names)}

    def read_table(self, name: str) -> pd.DataFrame:
        """Read an attribute (non-spatial) table; empty frame if it does not exist.

        The account tables (users, sessions, audit) are not readable here: use :meth:`accounts`.
        """
        if name in INTERNAL_TABLES:
            raise StoreError(f"{name!r} is not a data table; read it through store.accounts()")
        if not self.has(name):
            return pd.DataFrame()
        return pyogrio.read_dataframe(self.path, layer=name, read_geometry=False, use_arrow=True)

    def version(self) -> str:
        """A cheap token that changes when a layer changes (for caches).

        Every :meth:`write` stamps a new token into the file; sign-ins and audit rows, written
        in place by :meth:`accounts`, leave it as it is. A store written by an older version
        without a token falls back to the file's time and size.
        """
        if not self.exists():
            return "missing"
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
            try:
                row = con.execute(f"SELECT token FROM {VERSION_TABLE}").fetchone()
            finally:
                con.close()
        except sqlite3.Error:
            row = None
        if row:
            return str(row[0])
        st = self.path.stat()
        return f"{st.st_mtime_ns}-{st.st_size}"

    def layer_versions(self) -> dict[str, str]:
        """A token per layer that changes only when that layer is written (for caches).

        An import of one layer leaves the other layers' tokens, so results that depend only
        on them stay cached. A layer without a token (a store written by an older version)
        gets the whole store's :meth:`version`.
        """
        if not self.exists():
            return {}
        whole = self.version()
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
            try:
                rows = con.execute(f"SELECT layer, token FROM {LAYER_VERSION_TABLE}").fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            rows = []
        tokens = {str(name): str(token) for name, token in rows}
        return {name: tokens.get(name, whole) for name in {*self.layers(), *tokens}}

    def accounts(self) -> Accounts:
        """Users, sessions, sign-in attempts and the audit log kept in this file."""
        from auth.gpkg import GeoPackageAccounts

        return GeoPackageAccounts(self.path)

    def is_demo(self) -> bool:
        """True when the store is marked as the demo (its demo accounts may be shown)."""
        return self.exists() and self.meta().get("demo") == "true"

    def counts(self) -> dict[str, int]:
        """Rows per table of the store (spatial layers and attribute tables)."""
        if not self.exists():
            return {}
        return {
            name: int(pyogrio.read_info(self.path, layer=name)["features"])
            for name in self.layers()
        }

    def checksum(self) -> str:
        """SHA-256 of the file's bytes (used to prove a failed write changed nothing)."""
        digest = hashlib.sha256()
        with open(self.path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    # ----------------------------------------------------------------- locking
    @property
    def lock_path(self) -> Path:
        """The lock file writers hold: ``.<store>.lock`` beside the store."""
        return self.path.parent / f".{self.path.name}.lock"

    @contextlib.contextmanager
    def lock(
        self,
        *,
        timeout_s: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> Iterator[None]:
        """Hold the store's writer lock (re-entrant within a thread).

        Parameters
        ----------
        timeout_s
            Seconds to wait for another writer; ``self.lock_timeout_s`` when ``None``.
        on_wait
            Called once with a message when the lock is held by another writer.

        Raises
        ------
        StoreBusy
            The lock stayed held for `timeout_s` seconds.
        """
        if self.staged:  # the writer building this copy holds the real store's lock
            yield
            return
        held: dict = _held.__dict__.setdefault("locks", {})
        key = str(self.path.resolve())
        if key in held:
            handle, depth = held[key]
            held[key] = (handle, depth + 1)
            try:
                yield
            finally:
                handle, depth = held[key]
                held[key] = (handle, depth - 1)
            return
        timeout = self.lock_timeout_s if timeout_s is None else timeout_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_path, "a+b")  # noqa: SIM115 - closed in the finally below
        try:
            _acquire(handle, self, timeout, on_wait)
            held[key] = (handle, 1)
            try:
                yield
            finally:
                del held[key]
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            handle.close()

    def remove_stale_temps(self) -> list[Path]:
        """Delete temporary copies left by writers that no longer run; return them."""
        removed = []
        for tmp in self.path.parent.glob(f".{self.path.name}.*.tmp.gpkg"):
            if not is_stale(tmp, _pid_in(tmp.name, prefix=f".{self.path.name}.")):
                continue
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
        if removed:
            _log.info("removed %d stale temporary copies of %s", len(removed), self.path)
        return removed

    # ----------------------------------------------------------------- writing
    def write(
        self,
        layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
        *,
        mode: Mode = "replace",
        audit: Sequence[AuditEntry] = (),
        also: Callable[[Store], None] | None = None,
    ) -> None:
        """Write several layers (and their audit rows) in one atomic step.

        Parameters
        ----------
        layers
            Table name -> frame. GeoDataFrames are reprojected to EPSG:4326; plain
            DataFrames become attribute tables.
        mode
            ``"replace"`` swaps each named table; ``"append"`` adds rows to it.
        audit
            Audit rows recorded in the same step (:class:`auth.storage.AuditEntry`).
        also
            More writes for the same step, called with the temporary copy being built (a
            ``staged`` store, whose lock is this one's) before it replaces the store.
        """
        if mode not in ("replace", "append"):
            raise ValueError(f"mode must be 'replace' or 'append', not {mode!r}")
        with self.lock():
            self.remove_stale_temps()
            self._write_locked(layers, mode=mode, audit=audit, also=also)

    def _write_locked(
        self,
        layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
        *,
        mode: Mode,
        audit: Sequence[AuditEntry],
        also: Callable[[Store], None] | None = None,
    ) -> None:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{self.path.name}.{os.getpid()}.", suffix=".tmp.gpkg", dir=self.path.parent
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            if self.exists():
                shutil.copyfile(self.path, tmp)
            else:
                tmp.unlink()
            # mkstemp makes the file 0600; keep the store's own mode (or the usual 0644)
            mode_bits = self.path.stat().st_mode & 0o777 if self.exists() else 0o644
            existing = set(GeoPackageStore(tmp).layers())
            for name, frame in layers.items():
                _write_one(tmp, name, frame, append=(mode == "append" and name in existing))
            if audit:
                from auth.gpkg import GeoPackageAccounts

                GeoPackageAccounts(tmp, locked=False).append_audit(audit)
            if also is not None:
                also(GeoPackageStore(tmp, staged=True))
            _stamp_version(tmp)
            _stamp_layers(tmp, list(layers))
            os.chmod(tmp, mode_bits)
            _fsync(tmp)
            os.replace(tmp, self.path)
            _fsync(self.path.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def write_meta(self, values: Mapping[str, str]) -> None:
        """Merge key/value pairs into the ``gridmap_meta`` table."""
        meta = self.meta()
        meta.update({k: str(v) for k, v in values.items()})
        self.write(
            {"gridmap_meta": pd.DataFrame({"key": list(meta), "value": list(meta.values())})}
        )

    def meta(self) -> dict[str, str]:
        table = self.read_table("gridmap_meta")
        if table.empty:
            return {}
        return dict(zip(table["key"].astype(str), table["value"].astype(str), strict=True))


def _acquire(
    handle, store: GeoPackageStore, timeout: float, on_wait: Callable[[str], None] | None
) -> None:
    """Take an exclusive flock on `handle`, waiting up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if not told:
            message = msg(
                f"{store.path.name}：另一个导入或快照正在写入数据库，最多等待 {timeout:g} 秒",
                f"{store.path.name}: another import or snapshot is writing to the store; "
                f"waiting up to {timeout:g} s for it to finish",
            )
            _log.info(message)
            if on_wait is not None:
                on_wait(message)
            told = True
        if time.monotonic() >= deadline:
            raise StoreBusy(
                msg(
                    f"{store.path.name}：另一个写入进程占用数据库超过 {timeout:g} 秒（锁文件 "
                    f"{store.lock_path}），数据库未改变。请等其完成后重试，或在城市配置中调大 "
                    "import.lock_timeout_s。",
                    f"{store.path.name}: another writer kept the store locked for {timeout:g} s "
                    f"(lock file {store.lock_path}); the store is unchanged. Try again when it "
                    f"has finished, or raise import.lock_timeout_s in the city profile.",
                )
            )
        time.sleep(_LOCK_POLL_S)


def _fsync(path: Path) -> None:
    """Flush a file (or a directory entry) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_in(name: str, *, prefix: str) -> int | None:
    """The writer's process id in a temporary name ``<prefix><pid>.<random>...``."""
    head = name[len(prefix) :].split(".", 1)[0]
    return int(head) if head.isdigit() else None


VERSION_TABLE = "gridmap_data_version"
"""One-row SQLite table (not a GeoPackage layer) holding the data version token."""
LAYER_VERSION_TABLE = "gridmap_layer_versions"
"""SQLite table (not a GeoPackage layer): a version token per layer, new at each write of it."""
INTERNAL_TABLES = frozenset(
    {
        VERSION_TABLE,
        LAYER_VERSION_TABLE,
        "users",
        "auth_sessions",
        "auth_attempts",
        "audit_log",
        "sqlite_sequence",
    }
)
"""Tables of the file that are not layers: never listed, read or exported as data."""


def store_lock(path: str | os.PathLike) -> contextlib.AbstractContextManager[None]:
    """The writer lock of the store at `path` (:meth:`GeoPackageStore.lock`).

    Account writes take it too, so an atomic layer write (copy, write, rename) never drops an
    account or audit row written meanwhile by another process.
    """
    return GeoPackageStore(path).lock()


def _stamp_version(path: Path) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (token TEXT NOT NULL)")
        con.execute(f"DELETE FROM {VERSION_TABLE}")
        con.execute(f"INSERT INTO {VERSION_TABLE} VALUES (?)", (uuid.uuid4().hex,))
        con.commit()
    finally:
        con.close()


def _stamp_layers(path: Path, names: Iterable[str]) -> None:
    """Give each table in `names` a new version token (the others keep theirs)."""
    con = sqlite3.connect(path)
    try:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {LAYER_VERSION_TABLE} "
            "(layer TEXT PRIMARY KEY, token TEXT NOT NULL)"
        )
        con.executemany(
            f"INSERT OR REPLACE INTO {LAYER_VERSION_TABLE} VALUES (?, ?)",
            [(name, uuid.uuid4().hex) for name in names],
        )
        con.commit()
    finally:
        con.close()


def _write_one(
    path: Path, name: str, frame: gpd.GeoDataFrame | pd.DataFrame, *, append: bool
) -> None:
    kwargs = {"layer": name, "driver": "GPKG", "append": append}
    if isinstance(frame, gpd.GeoDataFrame):
        if frame.crs is None:
            raise StoreError(f"layer {name!r} has no CRS; set one before writing")
        crs = storage_crs()
        frame = frame.to_crs(crs) if not frame.crs.equals(crs) else frame
        frame = _prepare_types(frame)
        geom_types = set(frame.geom_type.dropna().unique())
        if geom_types and len(geom_types) > 1:
            kwargs["geometry_type"] = (
                "Unknown" if not geom_types <= {"Polygon", "MultiPolygon"} else "MultiPolygon"
            )
            if kwargs["geometry_type"] == "MultiPolygon":
                frame = frame.set_geometry(gpd.GeoSeries(frame.geometry).force_2d())
                from shapely import MultiPolygon

                frame = frame.set_geometry(
                    [
                        MultiPolygon([g]) if g is not None and g.geom_type == "Polygon" else g
                        for g in frame.geometry
                    ],
                    crs=frame.crs,
                )
        frame = frame.reset_index(drop=True)
    else:
        frame = _prepare_types(frame.reset_index(drop=True))
    pyogrio.write_dataframe(frame, path, **kwargs)


def _prepare_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable pandas types -> types GDAL stores (Int64 with NA -> float is avoided)."""
    out = frame.copy()
    for col in out.columns:
        if col == "geometry":
            continue
        dtype = out[col].dtype
        if isinstance(dtype, pd.BooleanDtype):
            # GDAL has no nullable boolean: without gaps keep a real boolean column, with
            # gaps store 1.0/0.0/NULL (object columns would be written as the text "False")
            has_na = bool(out[col].isna().any())
            out[col] = out[col].astype("float64") if has_na else out[col].astype(bool)
        elif isinstance(dtype, pd.StringDtype):
            out[col] = out[col].astype(object)
    return out


def _restore_types(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Give columns their schema types back (GDAL has no nullable ints or booleans)."""
    schema = LAYERS.get(layer)
    if schema is None:
        return frame
    for f in schema.fields:
        if f.name not in frame.columns:
            continue
        col = frame[f.name]
        if f.dtype == "int":
            frame[f.name] = pd.to_numeric(col, errors="coerce").round().astype("Int64")
        elif f.dtype == "float":
            frame[f.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif f.dtype == "bool":
            frame[f.name] = col.map(_to_bool).astype("boolean")
        else:
            frame[f.name] = col.astype(object).where(col.notna(), None)
    return frame


def _to_bool(value: object) -> object:
    """A stored boolean (bool, 0/1, or text such as "False") -> bool or NA."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return pd.NA
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        return pd.NA
    return bool(value)


SECRET_META = re.compile(r"password|passwd|secret|token|credential|api_?key|demo_accounts", re.I)
"""Metadata keys whose values are secrets (the demo passwords, any password or token)."""
MASK = "••••••"


def masked_meta(meta: Mapping[str, str]) -> dict[str, str]:
    """`meta` with every secret value (:data:`SECRET_META` keys) replaced by :data:`MASK`.

    What any page shows of a store's metadata: the login page alone shows the demo passwords,
    and only for a store flagged as the demo (:func:`auth.demo.demo_passwords`).
    """
    return {k: (MASK if SECRET_META.search(k) and v else v) for k, v in meta.items()}


def open_store(value: str | os.PathLike | None = None, *, identity=None) -> Store:
    """Open the store named by `value`, ``$GRIDMAP_STORE``, or the built-in demo store.

    The one way to open a store: a ``postgresql://`` URL gives a
    :class:`data.postgis.PostGISStore` (acting as `identity`, a
    :class:`data.postgis.DbIdentity`; default the signed-in user or the server's role),
    anything else a :class:`GeoPackageStore` at that path.
    """
    from geo.settings import store_path

    chosen = value if value is not None else store_path()
    if is_postgres_url(chosen):
        from data.postgis import PostGISStore

        return PostGISStore(str(chosen), identity=identity)
    store = GeoPackageStore(chosen)
    if store.path.parent.is_dir():
        store.remove_stale_temps()
    return store


def is_postgres_url(value: object) -> bool:
    """True if `value` names a PostGIS store (``postgresql://`` or ``postgres://``)."""
    return str(value).startswith(("postgresql://", "postgres://"))
