"""Import real files into the store, and validate a whole store.

:func:`import_file` reads a file (see :mod:`data.readers`), checks its coordinates (projected
without CRS, latitude/longitude swapped, GCJ-02/BD-09 offsets, points outside the city),
repairs invalid geometries, validates it against the layer schema and writes it to the
store in one atomic step. Any failure raises :class:`ImportFailed` listing every problem
found, and leaves the store byte-for-byte unchanged.

:func:`check_store` validates every layer of a store and lists the problems.

Example::

    report = import_file("grids.csv", layer="grids", store=open_store("city.gpkg"))
    print(report.summary())
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from auth.model import User
from auth.storage import AuditEntry
from data.readers import FORMATS, ImportFailed, RawRead, ReadOptions, read_any, unsupported
from data.store import Store, storage_crs
from data.tempfiles import remove_stale_workdirs, workdir
from geo.areas import MULTIPART, POLYGONAL
from geo.crs import convert_frame, outside_china
from geo.settings import Profile, load_profile
from layers import LAYERS, LayerSchema, Problem, SchemaError, get_layer
from layers.kinds import GENERIC_LAYER, kinds_on_layer
from layers.messages import Msg, in_lang, msg

Progress = Callable[[float, str], None]
"""Called as ``progress(share, text)``; `text` is bilingual (:class:`Msg`: show it with
``in_lang``) or a layer name."""
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
COORD_LABELS = {
    "wgs84": msg("WGS84/CGCS2000", "WGS84/CGCS2000"),
    "gcj02": msg("GCJ-02（高德/腾讯）", "GCJ-02 (Amap/Tencent)"),
    "bd09": msg("BD-09（百度）", "BD-09 (Baidu)"),
}

__all__ = [
    "COORD_SYSTEMS",
    "ImportFailed",
    "ImportReport",
    "StoreIssue",
    "check_store",
    "import_file",
    "issues_table",
    "layer_counts",
]


@dataclass
class ImportReport:
    """What an import did."""

    source: str
    layer: str
    mode: str
    store: str
    rows: int = 0
    rows_in_layer: int = 0
    repaired: int = 0
    conversions: list[Msg] = field(default_factory=list)
    encoding: str | None = None
    warnings: list[Msg] = field(default_factory=list)
    """Conversions and warnings are bilingual (:class:`layers.messages.Msg`): show them with
    ``in_lang(text, lang)``."""

    def summary(self, lang: str = "en") -> str:
        """A few lines of plain text for the command line, in `lang` (``"zh"`` or ``"en"``)."""
        zh = lang == "zh"

        def say(chinese: str, english: str) -> str:
            return chinese if zh else english

        conversions = "; ".join(in_lang(c, lang) for c in self.conversions)
        appended = self.mode == "append"
        if zh:
            head = (
                f"{self.source}：{self.rows:,} 行{'追加到' if appended else '导入（替换）'} "
                f"{self.store} 的图层 '{self.layer}'（图层现有 {self.rows_in_layer:,} 行）"
            )
        else:
            verb = "appended to" if appended else "imported into (replacing)"
            head = (
                f"{self.source}: {self.rows:,} row(s) {verb} layer '{self.layer}' of "
                f"{self.store} (layer now has {self.rows_in_layer:,} rows)"
            )
        lines = [
            head,
            f"  {say('修复几何：', 'geometries repaired: ')}{self.repaired:,}" + say(" 个", ""),
            f"  {say('转换：', 'conversions: ')}{conversions or say('无', 'none')}",
        ]
        if self.encoding:
            lines.append(f"  {say('文字编码：', 'text encoding: ')}{self.encoding}")
        lines += [f"  {say('注意：', 'warning: ')}{in_lang(w, lang)}" for w in self.warnings]
        return "\n".join(lines)


# ============================================================================ import
def import_file(
    path: str | Path,
    *,
    layer: str,
    store: Store,
    mode: str = "replace",
    encoding: str | None = None,
    coords: str = "wgs84",
    lon_col: str | None = None,
    lat_col: str | None = None,
    repair: bool = True,
    profile: Profile | None = None,
    progress: Progress | None = None,
    source_crs: str | None = None,
    source_name: str | None = None,
    on_wait: Callable[[str], None] | None = None,
    user: User | None = None,
) -> ImportReport:
    """Import the file at `path` into `layer` of `store`, with its audit row.

    Parameters
    ----------
    path
        GeoJSON, zipped Shapefile, GeoPackage, CSV or XLSX (with longitude/latitude columns).
    layer
        Target layer name (see ``layers.LAYERS``).
    store
        The store to write to; unchanged if anything fails.
    mode
        ``"replace"`` swaps the layer, ``"append"`` adds rows (codes must stay unique).
    encoding
        Text encoding of CSV/GeoJSON/DBF; detected when ``None``.
    coords
        Offsets of the coordinates: ``"wgs84"`` (also CGCS2000), ``"gcj02"`` or ``"bd09"``.
    lon_col, lat_col
        Coordinate columns of a CSV/XLSX (detected when ``None``).
    repair
        Repair invalid geometries with ``make_valid`` (else reject them).
    profile
        City profile (limits, bbox, metric CRS); the default profile when ``None``.
    progress
        Called as ``progress(share, text)`` with ``share`` in 0-1.
    source_crs
        CRS to assume for a file that states none (e.g. ``"EPSG:4546"``).
    source_name
        Name shown in messages (e.g. an uploaded file's original name).
    on_wait
        Called with a message if another writer holds the store (the import waits up to the
        profile's ``import.lock_timeout_s`` seconds, then raises :class:`data.store.StoreBusy`).
    user
        Who imports (recorded in the audit log with the file name and its SHA-256, in the same
        write as the data); ``None`` for the command line without ``--as``. The caller checks
        the permission (``auth.model.require(user, "import")``).

    Raises
    ------
    ImportFailed
        With every problem found (file, row, field). The store is not touched.
    """
    path = Path(path)
    source = source_name or path.name
    profile = profile or load_profile()
    report_progress = progress or (lambda share, text: None)
    schema = _target_schema(layer, source)
    if mode not in ("replace", "append"):
        raise ImportFailed(
            source,
            [
                msg(
                    f"导入方式应为 replace（替换）或 append（追加），而不是 {mode!r}",
                    f"mode must be 'replace' or 'append', not {mode!r}",
                )
            ],
        )
    if coords not in COORD_SYSTEMS:
        raise ImportFailed(
            source,
            [
                msg(
                    f"坐标类型应为 {', '.join(COORD_SYSTEMS)} 之一，而不是 {coords!r}",
                    f"coords must be one of {', '.join(COORD_SYSTEMS)}, not {coords!r}",
                )
            ],
        )
    _check_file(path, source, profile)

    report_progress(0.05, msg("正在读取", "reading"))
    remove_stale_workdirs()
    with workdir("import") as tmp:
        options = ReadOptions(layer, profile.import_, encoding, lon_col, lat_col)
        raw = read_any(path, source=source, options=options, workdir=tmp)
    frame = _untruncate(raw.frame, schema) if raw.dbf_names else raw.frame
    if frame.empty:
        raise ImportFailed(
            source, [msg("文件中没有数据行或要素", "file holds no rows or features")]
        )
    report = ImportReport(
        source=source,
        layer=layer,
        mode=mode,
        store=store.label,
        encoding=raw.encoding,
        warnings=list(raw.notes),
    )

    report_progress(0.25, msg("正在检查坐标", "checking coordinates"))
    frame = _to_storage_crs(
        frame,
        raw,
        source=source,
        profile=profile,
        source_crs=source_crs,
        coords=coords,
        report=report,
    )

    report_progress(0.45, msg("正在检查几何", "checking geometries"))
    geoms, repaired, problems = repair_geometries(frame.geometry, schema, repair=repair)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    report.repaired = repaired

    report_progress(0.6, msg("正在检查属性", "validating attributes"))
    validated = None
    try:
        validated = schema.validate(frame, source=source, row_base=1)
    except SchemaError as exc:
        problems.extend(
            p for p in exc.problems if p.field != "geometry" or not _known_geometry(p, problems)
        )
    # the rows appended to and the metadata are read under the writer lock, so two imports
    # at the same time cannot both start from the same rows and lose one another's
    with store.lock(
        timeout_s=profile.import_.lock_timeout_s,
        on_wait=on_wait or (lambda message: report_progress(0.65, message)),
    ):
        if validated is not None:
            problems.extend(undeclared_kinds(validated, layer, profile))
            problems.extend(unknown_facilities(validated, layer, store))
        existing = _existing(store, layer) if mode == "append" else None
        if existing is not None and schema.key:
            problems.extend(_duplicates_against(existing, frame, validated, schema))
        if problems:
            raise ImportFailed(
                source, sorted(problems, key=lambda p: (p.row is not None, p.row or 0))
            )
        assert validated is not None

        report_progress(0.8, msg("正在写入数据库", "writing to the store"))
        out = validated
        if existing is not None and not existing.empty:
            out = pd.concat([existing, validated], ignore_index=True)
            out = gpd.GeoDataFrame(out, geometry="geometry", crs=storage_crs())
        meta = store.meta() if store.exists() else {}
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta[f"import.{layer}"] = f"{source}; {mode}; {len(validated)} rows; {stamp}"
        meta_table = pd.DataFrame({"key": list(meta), "value": list(meta.values())})
        removed = 0
        if mode == "replace" and store.exists() and store.has(layer):
            removed = len(store.read(layer, columns=[]))
        entry = AuditEntry.by(
            user,
            "import",
            layer=layer,
            rows_added=len(validated),
            rows_removed=removed,
            detail={
                "file": source,
                "sha256": _sha256(path),
                "bytes": path.stat().st_size,
                "mode": mode,
                "rows_in_layer": len(out),
            },
        )
        store.write(
            {layer: out.reset_index(drop=True), "gridmap_meta": meta_table},
            mode="replace",
            audit=[entry],
        )
    report.rows = len(validated)
    report.rows_in_layer = len(out)
    report_progress(1.0, msg("完成", "done"))
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _target_schema(layer: str, source: str) -> LayerSchema:
    try:
        return get_layer(layer)
    except KeyError as exc:
        raise ImportFailed(source, [str(exc.args[0])]) from None


def _untruncate(frame: gpd.GeoDataFrame, schema: LayerSchema) -> gpd.GeoDataFrame:
    """Give back field names a Shapefile cut to 10 characters (``worker_nam`` -> ``worker_name``)."""
    renames = {}
    for col in frame.columns:
        if len(str(col)) != 10 or col in schema.field_names:
            continue
        matches = [name for name in schema.field_names if name.startswith(str(col))]
        if len(matches) == 1 and matches[0] not in frame.columns:
            renames[col] = matches[0]
    return frame.rename(columns=renames)


def _check_file(path: Path, source: str, profile: Profile) -> None:
    if not path.is_file():
        raise ImportFailed(source, [msg(f"找不到文件：{path}", f"file not found: {path}")])
    if path.suffix.lower() not in FORMATS:
        raise ImportFailed(source, [unsupported(path)])
    size = path.stat().st_size
    if size == 0:
        raise ImportFailed(source, [msg("文件是空的（0 字节）", "file is empty (0 bytes)")])
    limit = profile.import_.max_file_mb * 1024 * 1024
    if size > limit:
        raise ImportFailed(
            source,
            [
                msg(
                    f"拒绝导入：文件 {size / 1024 / 1024:,.1f} MB，超过上限 "
                    f"{profile.import_.max_file_mb:g} MB（设置 import.max_file_mb）",
                    f"refused: file is {size / 1024 / 1024:.1f} MB, larger than the limit of "
                    f"{profile.import_.max_file_mb:g} MB (setting import.max_file_mb)",
                )
            ],
        )


def _known_geometry(problem: Problem, problems: list[Problem]) -> bool:
    """A schema geometry problem already reported by the repair step for the same row."""
    return any(p.field == "geometry" and p.row == problem.row for p in problems)


def _existing(store: Store, layer: str) -> gpd.GeoDataFrame | None:
    if not store.exists() or not store.has(layer):
        return None
    return store.read(layer)


def _duplicates_against(
    existing: gpd.GeoDataFrame,
    frame: gpd.GeoDataFrame,
    validated: gpd.GeoDataFrame | None,
    schema: LayerSchema,
) -> list[Problem]:
    key = schema.key
    if validated is not None:
        values = validated[key]
    else:
        mapping, _ = schema.column_mapping(list(frame.columns))
        column = next((c for c, target in mapping.items() if target == key), None)
        if column is None:
            return []
        values = frame[column].astype(object).map(lambda v: None if pd.isna(v) else str(v).strip())
    known = set(existing[key].dropna().astype(str))
    hits = np.flatnonzero(values.astype(object).isin(known).to_numpy())
    return [
        Problem(
            msg(
                f"编码 {values.iloc[pos]!r} 重复：数据库中已有（追加导入）",
                f"duplicate code {values.iloc[pos]!r}: already in the store (--append)",
            ),
            int(pos) + 1,
            key,
        )
        for pos in hits
    ]


# ============================================================================ coordinates
def _to_storage_crs(
    frame: gpd.GeoDataFrame,
    raw: RawRead,
    *,
    source: str,
    profile: Profile,
    source_crs: str | None,
    coords: str,
    report: ImportReport,
) -> gpd.GeoDataFrame:
    """Bring `frame` to EPSG:4326 lon/lat, catching projected-without-CRS and swapped axes."""
    frame = frame.set_geometry(shapely.force_2d(frame.geometry.values), crs=frame.crs)
    if source_crs:
        try:
            stated = CRS.from_user_input(source_crs)
        except CRSError:
            raise ImportFailed(
                source,
                [
                    msg(
                        f"无法识别坐标系 {source_crs!r}（应为例如 EPSG:4546 的代码）",
                        f"unknown coordinate system {source_crs!r} (give a code like EPSG:4546)",
                    )
                ],
            ) from None
        frame = frame.set_crs(stated, allow_override=True)
        report.conversions.append(
            msg(f"坐标系按指定设为 {source_crs}", f"CRS set to {source_crs} as told")
        )
    crs = frame.crs
    if crs is not None and crs.is_projected:
        if coords != "wgs84":
            raise ImportFailed(
                source,
                [
                    msg(
                        f"坐标类型 {coords} 只适用于经纬度数据，但文件使用投影坐标系 "
                        f"{crs.to_string()}",
                        f"--coords {coords} applies to longitude/latitude data, but the file is "
                        f"in the projected CRS {crs.to_string()}",
                    )
                ],
            )
        frame = frame.to_crs(storage_crs())
        report.conversions.append(
            msg(
                f"已从 {_crs_name(crs)} 转换为 EPSG:4326",
                f"reprojected from {_crs_name(crs)} to EPSG:4326",
            )
        )
        crs = None
    else:
        check_lonlat(frame, source=source, profile=profile, table=raw.from_table)
        if crs is None and coords == "wgs84":
            report.warnings.append(
                msg(
                    "文件未说明坐标系：经纬度按 WGS84/CGCS2000 处理（高德/腾讯或百度坐标请选择 "
                    "GCJ-02 或 BD-09，命令行用 --coords gcj02 或 bd09）",
                    "no CRS stated: longitude/latitude taken as WGS84/CGCS2000 (for Amap/Tencent "
                    "or Baidu coordinates choose GCJ-02 or BD-09, on the command line "
                    "--coords gcj02 or bd09)",
                )
            )
        elif crs is not None and not crs.equals(CRS.from_user_input(storage_crs())):
            report.conversions.append(
                msg(
                    f"{_crs_name(crs)} 按 EPSG:4326 处理（相差不到 1 米）",
                    f"{_crs_name(crs)} taken as EPSG:4326 (within a metre)",
                )
            )
        frame = frame.set_crs(storage_crs(), allow_override=True)
    foreign: list[Msg] = []
    if coords != "wgs84":
        x, y = _centers(frame)
        abroad = np.flatnonzero(outside_china(x, y)) + 1
        if len(abroad):
            foreign.append(_outside_china_message(abroad, coords))
            report.warnings.append(foreign[0])
        frame = convert_frame(frame, coords, "wgs84")
        converted = len(frame) - len(abroad)
        label = COORD_LABELS[coords]
        report.conversions.append(
            msg(
                f"{label.zh} → WGS84：{converted:,} 行",
                f"{label} -> WGS84: {converted:,} row(s)",
            )
        )
    outside = outside_city(frame, profile)
    if len(outside):
        raise ImportFailed(source, [_outside_message(outside, profile), *foreign])
    return frame


def _outside_china_message(rows: np.ndarray, coords: str) -> Msg:
    shown = ", ".join(str(r) for r in rows[:20]) + (" ..." if len(rows) > 20 else "")
    return msg(
        f"{len(rows)} 行位于中国境外（第 {shown} 行）：{COORD_LABELS[coords].zh} 偏移只存在于中国"
        f"境内，这些点未作转换。请检查这些坐标。",
        f"{len(rows)} row(s) lie outside China (rows {shown}): {COORD_LABELS[coords]} offsets "
        f"exist only inside China, so they were left unconverted. Check those coordinates.",
    )


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def _centers(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    b = shapely.bounds(frame.geometry.values)
    return b[:, 0] / 2 + b[:, 2] / 2, b[:, 1] / 2 + b[:, 3] / 2  # no overflow near 1e308


def check_lonlat(
    frame: gpd.GeoDataFrame, *, source: str, profile: Profile, table: bool = False
) -> None:
    """Raise :class:`ImportFailed` if lon/lat data looks projected or has its axes swapped."""
    x, y = _centers(frame)
    ok = ~np.isnan(x)
    if not ok.any():
        return
    x, y = x[ok], y[ok]
    if np.any(np.abs(x) > 180) or np.any(np.abs(y) > 90):
        if np.all(np.abs(x) <= 90) and np.all(np.abs(y) <= 180):
            raise ImportFailed(source, [_swapped_message(x, y, table, profile)])
        raise ImportFailed(source, [_projected_message(x, y, profile)])
    west, south, east, north = profile.city.bbox
    inside = (x >= west) & (x <= east) & (y >= south) & (y <= north)
    swapped = (y >= west) & (y <= east) & (x >= south) & (x <= north)
    if swapped.mean() > 0.5 and inside.mean() < 0.5:
        raise ImportFailed(source, [_swapped_message(x, y, table, profile)])


def _metres(value: float) -> str:
    """A coordinate in metres for a message (huge or infinite values stay short)."""
    return f"{value:,.0f}" if abs(value) < 1e12 else f"{value:.3g}"


def _projected_message(x: np.ndarray, y: np.ndarray, profile: Profile) -> Msg:
    """Coordinates in metres in a file that states no projected CRS: which CRS it likely is."""
    metric = profile.city.metric_crs
    suggested = metric
    if np.median(x) > 1e7:  # eastings with a zone number in front, e.g. 37500000
        zone = int(np.median(x) // 1e6)
        suggested = _zone_crs(zone) or metric
        hint_zh = f"东坐标前带有带号 {zone}：即 {suggested}"
        hint_en = f"Eastings carry the zone number {zone} in front: that is {suggested}"
    else:
        hint_zh = f"{profile.city.name_zh}最可能是 {metric}"
        hint_en = f"For {profile.city.name_en} this is most likely {metric}"
    label = _crs_label(suggested)
    span = f"x {_metres(x.min())} to {_metres(x.max())}, y {_metres(y.min())} to {_metres(y.max())}"
    return msg(
        f"坐标看起来是投影坐标（{span.replace(' to ', ' 至 ')}，单位米），但文件没有说明投影"
        f"坐标系。{hint_zh}（{label}）。请补上 .prj 文件，或在 GIS 软件中设置坐标系后重新导出，"
        f"或导入时指定坐标系 {suggested}（--crs {suggested}）。",
        f"coordinates look projected ({span}, in metres) but the file states no projected CRS. "
        f"{hint_en} ({label}). Add the .prj file or set the CRS in your GIS and export again, "
        f"or re-run the import with --crs {suggested}.",
    )


def _zone_crs(zone: int) -> str | None:
    """CGCS2000 3-degree Gauss-Kruger CRS whose eastings carry zone number `zone` in front.

    EPSG numbers them consecutively: zone 25 is EPSG:4513 ... zone 45 is EPSG:4533.
    """
    if not 25 <= zone <= 45:
        return None
    return f"EPSG:{4513 + zone - 25}"


def _crs_label(code: str) -> str:
    try:
        return CRS.from_user_input(code).name
    except Exception:
        return code


def _swapped_message(x: np.ndarray, y: np.ndarray, table: bool, profile: Profile) -> Msg:
    fix_zh, fix_en = (
        (
            "请交换经度、纬度两列的列名，或用经度列/纬度列（--lon COL --lat COL）指明",
            "swap the longitude/latitude column names, or name them with --lon COL --lat COL",
        )
        if table
        else ("请在 GIS 软件中交换坐标轴后重新导出", "swap the axes in your GIS and export again")
    )
    city = profile.city
    return msg(
        f"经纬度看起来颠倒了：x（经度）约为 {np.median(x):.2f}，y（纬度）约为 {np.median(y):.2f}，"
        f"而中国境内经度为 73-135、纬度为 18-54（{city.name_zh}：约东经 {city.center_lon:.1f}、"
        f"北纬 {city.center_lat:.1f}）；{fix_zh}",
        f"latitude and longitude look swapped: x (longitude) values are about {np.median(x):.2f} "
        f"and y (latitude) values about {np.median(y):.2f}, but in China longitude is 73-135 and "
        f"latitude 18-54 ({city.name_en}: about {city.center_lon:.1f}E, "
        f"{city.center_lat:.1f}N); {fix_en}",
    )


def outside_city(frame: gpd.GeoDataFrame, profile: Profile) -> np.ndarray:
    """1-based row numbers of features whose centre lies outside the profile's bbox."""
    x, y = _centers(frame)
    west, south, east, north = profile.city.bbox
    out = ~np.isnan(x) & ~((x >= west) & (x <= east) & (y >= south) & (y <= north))
    return np.flatnonzero(out) + 1


def _outside_message(rows: np.ndarray, profile: Profile) -> Msg:
    shown = ", ".join(str(r) for r in rows[:20]) + (" ..." if len(rows) > 20 else "")
    west, south, east, north = profile.city.bbox
    return msg(
        f"{len(rows)} 行位于{profile.city.name_zh}范围之外（经度 {west:g}-{east:g}，纬度 "
        f"{south:g}-{north:g}）：第 {shown} 行。请检查这些坐标（输入错误、其他城市，或坐标系选择"
        f"有误），或修改配置中的 city.bbox。",
        f"{len(rows)} row(s) lie outside {profile.city.name_en} ({profile.city.name_zh}, lon "
        f"{west:g}-{east:g}, lat {south:g}-{north:g}): rows {shown}. Check those coordinates "
        f"(typing errors, another city, or a wrong --coords/--crs), or fix the profile's city.bbox.",
    )


# ============================================================================ geometries
def repair_geometries(
    geoms: gpd.GeoSeries, schema: LayerSchema, *, repair: bool = True
) -> tuple[np.ndarray, int, list[Problem]]:
    """Repair invalid geometries with ``make_valid``, keeping the layer's geometry family.

    Returns the geometries, the number repaired and problems (1-based rows) for the ones
    that cannot be repaired (or every invalid one when ``repair`` is false).
    """
    values = np.asarray(geoms.values, dtype=object).copy()
    present = ~(pd.isna(values) | shapely.is_empty(values))
    if "Point" in schema.geometry_types:
        single = (
            present
            & (shapely.get_type_id(values) == shapely.GeometryType.MULTIPOINT)
            & (shapely.get_num_geometries(values) == 1)
        )
        values[single] = shapely.get_geometry(values[single], 0)
    invalid = np.flatnonzero(present & ~shapely.is_valid(values))
    problems: list[Problem] = []
    if not len(invalid):
        return values, 0, problems
    reasons = shapely.is_valid_reason(values[invalid])
    if not repair:
        problems = [
            Problem(
                f"geometry is invalid ({r}); allow repair to fix it with make_valid",
                int(i) + 1,
                "geometry",
            )
            for i, r in zip(invalid, reasons, strict=True)
        ]
        return values, 0, problems
    fixed = shapely.make_valid(values[invalid])
    polygonal = np.isin(shapely.get_type_id(values[invalid]), POLYGONAL)
    if polygonal.any():
        fixed[polygonal] = _polygon_parts(fixed[polygonal])
    bad = pd.isna(fixed) | shapely.is_empty(fixed) | ~shapely.is_valid(fixed)
    for i, r in zip(invalid[bad], reasons[bad], strict=True):
        problems.append(
            Problem(
                f"geometry is invalid ({r}) and cannot be repaired (no area left)",
                int(i) + 1,
                "geometry",
            )
        )
    values[invalid[~bad]] = fixed[~bad]
    return values, int((~bad).sum()), problems


def _polygon_parts(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygons of each geometry (Polygon if one part, else MultiPolygon)."""
    parts, index = geoms, np.arange(len(geoms))
    for _ in range(4):  # collections may nest
        parts, sub = shapely.get_parts(parts, return_index=True)
        index = index[sub]
        nested = np.isin(shapely.get_type_id(parts), MULTIPART)
        if not nested.any():
            break
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 0)
    out = np.full(len(geoms), None, dtype=object)
    if keep.any():
        shapely.multipolygons(parts[keep], indices=index[keep], out=out)
    single = ~pd.isna(out)
    single[single] = shapely.get_num_geometries(out[single]) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out


# ============================================================================ store check
@dataclass(frozen=True)
class StoreIssue:
    """One problem found by :func:`check_store`."""

    layer: str
    message: str
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.layer}: {Problem(self.message, self.row, self.field)}"


def check_store(
    store: Store, *, profile: Profile | None = None, progress: Progress | None = None
) -> list[StoreIssue]:
    """Validate every layer of `store` against its schema, plus cross-layer basics.

    Checks: schema (columns, types, ranges, unique codes, sanitary <= households), geometry
    validity, features outside the city bbox, sanitation facilities naming a village that is
    not in the villages layer. Row numbers are 1-based positions in the stored table.
    """
    profile = profile or load_profile()
    report_progress = progress or (lambda share, text: None)
    if not store.exists():
        return [
            StoreIssue(
                "(store)",
                msg(f"数据库 {store.label} 不存在", f"store {store.label} does not exist"),
            )
        ]
    present = [name for name in LAYERS if store.has(name)]
    issues: list[StoreIssue] = []
    frames: dict[str, gpd.GeoDataFrame] = {}
    for i, name in enumerate(present):
        report_progress(i / max(len(present), 1), name)
        frame = store.read(name)
        frames[name] = frame
        try:
            LAYERS[name].validate(frame, source=name)
        except SchemaError as exc:
            issues += [StoreIssue(name, p.message, p.row, p.field) for p in exc.problems]
        issues += [
            StoreIssue(name, p.message, p.row, p.field)
            for p in undeclared_kinds(frame, name, profile)
        ]
        geoms = frame.geometry.values
        ok = ~(pd.isna(geoms) | shapely.is_empty(geoms))
        invalid = np.flatnonzero(ok & ~shapely.is_valid(geoms))
        reasons = shapely.is_valid_reason(geoms[invalid])
        issues += [
            StoreIssue(
                name, msg(f"几何无效（{r}）", f"invalid geometry ({r})"), int(p) + 1, "geometry"
            )
            for p, r in zip(invalid, reasons, strict=True)
        ]
        if len(frame):
            rows = outside_city(frame, profile)
            if len(rows):
                issues.append(StoreIssue(name, _outside_message(rows, profile), field="geometry"))
    issues += _village_references(frames)
    if "entrances" in frames:
        issues += [
            StoreIssue("entrances", p.message, p.row, p.field)
            for p in unknown_facilities(frames["entrances"], "entrances", store, facilities=frames)
        ]
    report_progress(1.0, msg("完成", "done"))
    return issues


def undeclared_kinds(frame: pd.DataFrame, layer: str, profile: Profile) -> list[Problem]:
    """Rows of the generic ``facilities`` layer whose ``kind`` the profile does not declare.

    Rows are 1-based; the message lists the declared kinds.
    """
    if layer != GENERIC_LAYER or "kind" not in frame.columns:
        return []
    declared = [
        value
        for spec in kinds_on_layer(profile.facility_kinds, GENERIC_LAYER).values()
        for value in spec.own_values
    ]
    kinds = frame["kind"]
    bad = np.flatnonzero((kinds.notna() & ~kinds.isin(declared)).to_numpy())
    listed = ", ".join(declared) or "(none)"
    return [
        Problem(
            f"kind {kinds.iloc[pos]!r} is not declared in the city profile "
            f"(declared kinds: {listed}; add a [facility_kinds.KEY] table to declare one)",
            int(pos) + 1,
            "kind",
        )
        for pos in bad
    ]


def unknown_facilities(
    frame: pd.DataFrame,
    layer: str,
    store: Store,
    *,
    facilities: dict[str, gpd.GeoDataFrame] | None = None,
) -> list[Problem]:
    """Rows of the ``entrances`` layer naming a facility the store does not hold.

    Each row's ``facility_key`` must be a key (e.g. ``shelter_id``) of its ``facility_layer``
    in `store` (or in `facilities`, layer -> frame, when given). Rows are 1-based.
    """
    if layer != "entrances" or not {"facility_layer", "facility_key"} <= set(frame.columns):
        return []
    problems = []
    for target in pd.unique(frame["facility_layer"].dropna()):
        schema = LAYERS.get(target)
        if schema is None or schema.key is None:
            continue  # refused by the field's choices
        if facilities is not None and target in facilities:
            held = facilities[target]
        elif store.exists() and store.has(target):
            held = store.read(target, columns=[schema.key])
        else:
            held = None
        keys = set() if held is None else set(held[schema.key].dropna().astype(str))
        rows = (frame["facility_layer"] == target).to_numpy()
        named = frame["facility_key"]
        bad = np.flatnonzero(rows & named.notna().to_numpy() & ~named.astype(str).isin(keys))
        label = f"{schema.label_zh}（{target}）"
        problems += [
            Problem(
                msg(
                    f"设施 {named.iloc[p]!r} 不在“{label}”图层中（先导入该设施，或改正编号）",
                    f"facility {named.iloc[p]!r} is not in the {target} layer "
                    f"({schema.key}); import the facility first or correct the ID",
                ),
                int(p) + 1,
                "facility_key",
            )
            for p in bad
        ]
    return problems


def _village_references(frames: dict[str, gpd.GeoDataFrame]) -> list[StoreIssue]:
    facilities, villages = frames.get("sanitation_facilities"), frames.get("villages")
    if facilities is None or villages is None or villages.empty:
        return []
    codes = facilities["village_code"]
    given = codes.notna().to_numpy() & (codes.astype(str).str.strip() != "").to_numpy()
    unknown = np.flatnonzero(given & ~codes.isin(set(villages["village_code"].dropna())).to_numpy())
    return [
        StoreIssue(
            "sanitation_facilities",
            msg(
                f"村编码 {codes.iloc[p]!r} 不在行政村图层中",
                f"village_code {codes.iloc[p]!r} is not in the villages layer",
            ),
            int(p) + 1,
            "village_code",
        )
        for p in unknown
    ]


def layer_counts(store: Store) -> dict[str, int]:
    """Rows per table of the store (spatial layers and attribute tables)."""
    return store.counts()


def issues_table(
    problems: list[StoreIssue] | list[Problem], *, layer: str | None = None, lang: str = "en"
) -> pd.DataFrame:
    """Problems as a table (layer, row, field, message in `lang`) for display."""
    rows = [
        {
            "layer": getattr(p, "layer", layer),
            "row": p.row,
            "field": p.field,
            "message": in_lang(p.message, lang),
        }
        for p in problems
    ]
    table = pd.DataFrame(rows, columns=["layer", "row", "field", "message"])
    table["row"] = table["row"].astype("Int64")
    return table
