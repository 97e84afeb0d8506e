"""Readers for the files real offices send: GeoJSON, zipped Shapefile, GeoPackage, CSV, XLSX,
and OpenStreetMap extracts (``.osm.pbf`` / ``.osm``, roads only).

Each reader returns a :class:`RawRead` (a GeoDataFrame with the file's own columns and CRS,
plus notes on what was detected) or raises :class:`ImportFailed` with a message that names
the file and says what to do. Nothing here touches the store.

Text encodings are detected by trial decoding (UTF-8 with or without BOM, then GB18030, a
superset of GBK) and `charset-normalizer` as a last resort; an explicit ``encoding`` wins.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo.settings import ImportLimits
from layers.messages import Msg, msg
from layers.schema import Problem, problems_text

#: File extensions accepted by :func:`read_any`, by reader.
FORMATS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".zip": "zip",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".pbf": "osm",
    ".osm": "osm",
}
#: Column names recognised as longitude / latitude (compared case-insensitively).
LON_NAMES = ("经度", "lon", "lng", "long", "longitude", "x", "x坐标", "东经", "经度坐标")
LAT_NAMES = ("纬度", "lat", "latitude", "y", "y坐标", "北纬", "纬度坐标")
SHAPEFILE_PARTS = (".shp", ".dbf", ".shx")
_TRIAL_ENCODINGS = ("utf-8-sig", "gb18030")


class ImportFailed(ValueError):
    """A file cannot be imported. ``problems`` lists every issue found (file, row, field).

    ``str(error)`` is English; :meth:`text` gives it in either language.
    """

    def __init__(self, source: str, problems: Sequence[Problem | str]):
        self.source = source
        self.problems = [p if isinstance(p, Problem) else Problem(p) for p in problems]
        super().__init__(self.text("en"))

    def text(self, lang: str = "en") -> str:
        """The error in `lang` (``"zh"`` or ``"en"``; messages without Chinese stay English)."""
        return problems_text(self.source, self.problems, lang)


@dataclass
class RawRead:
    """What a reader found: the frame as in the file, and notes for the report (bilingual)."""

    frame: gpd.GeoDataFrame
    encoding: str | None = None
    notes: list[Msg] = field(default_factory=list)
    from_table: bool = False  # CSV/XLSX points built from lon/lat columns
    dbf_names: bool = False  # field names cut to 10 characters (Shapefile DBF)


# ---------------------------------------------------------------------------- encodings
def decode_text(raw: bytes, *, encoding: str | None, source: str) -> tuple[str, str]:
    """Decode `raw` with `encoding`, or detect it; return ``(text, encoding)``."""
    if encoding:
        try:
            return raw.decode(encoding).removeprefix("\ufeff"), encoding
        except LookupError:
            raise ImportFailed(
                source, [msg(f"未知的文字编码 {encoding!r}", f"unknown encoding {encoding!r}")]
            ) from None
        except UnicodeDecodeError as exc:
            raise ImportFailed(
                source,
                [
                    msg(
                        f"无法按 {encoding} 解码（第 {exc.start} 字节）；请改用 gb18030 或 utf-8 编码",
                        f"cannot be decoded as {encoding} (byte {exc.start}); "
                        "try --encoding gb18030 or utf-8",
                    )
                ],
            ) from None
    guessed = guess_encoding(raw)
    if guessed is None:
        raise ImportFailed(
            source,
            [
                msg(
                    "无法识别文字编码（不是 UTF-8 或 GBK/GB18030），请指定编码",
                    "text encoding not recognised (not UTF-8 or GBK/GB18030); give it with --encoding",
                )
            ],
        )
    return raw.decode(guessed), guessed


def guess_encoding(raw: bytes) -> str | None:
    """Best encoding for `raw`: UTF-8 (BOM or not), then GB18030, then charset-normalizer."""
    for name in _TRIAL_ENCODINGS:
        try:
            raw.decode(name)
        except UnicodeDecodeError:
            continue
        if name == "utf-8-sig" and not raw.startswith(b"\xef\xbb\xbf"):
            return "utf-8"
        return name
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    return best.encoding if best is not None else None


def dbf_encoding(dbf: Path) -> str:
    """Guess the text encoding of a DBF file from its field names and records."""
    data = dbf.read_bytes()
    if len(data) < 32:
        return "utf-8"
    header_len = struct.unpack("<H", data[8:10])[0]
    names = b"".join(
        data[pos : pos + 11].split(b"\x00")[0] for pos in range(32, max(32, header_len - 1), 32)
    )
    return guess_encoding(names + data[header_len:]) or "utf-8"


# ---------------------------------------------------------------------------- dispatch
@dataclass(frozen=True)
class ReadOptions:
    """What the readers need to know besides the file."""

    layer: str
    limits: ImportLimits
    encoding: str | None = None
    lon_col: str | None = None
    lat_col: str | None = None


def unsupported(path: Path) -> Msg:
    """The message for a file type no reader handles."""
    kind = path.suffix or "(none)"
    return msg(
        f"不支持的文件类型 {kind!r}；可导入：{', '.join(FORMATS)}",
        f"unsupported file type {kind!r}; accepted: {', '.join(FORMATS)}",
    )


def read_any(path: Path, *, source: str, options: ReadOptions, workdir: Path) -> RawRead:
    """Read any supported file. `workdir` is a private temporary folder (for zip contents)."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ImportFailed(source, [unsupported(path)])
    if kind == "zip":
        return read_zip(path, source=source, options=options, workdir=workdir)
    if kind == "geojson":
        return read_geojson(path, source=source, encoding=options.encoding)
    if kind == "gpkg":
        return read_gpkg(path, layer=options.layer, source=source)
    if kind == "shp":
        return read_shapefile(path, source=source, encoding=options.encoding)
    if kind == "osm":
        return read_osm_roads(path, layer=options.layer, source=source)
    if kind == "csv":
        return read_csv(
            path,
            source=source,
            encoding=options.encoding,
            lon_col=options.lon_col,
            lat_col=options.lat_col,
        )
    return read_xlsx(
        path, layer=options.layer, source=source, lon_col=options.lon_col, lat_col=options.lat_col
    )


def _read_vector(target, source: str, what: str, **kwargs) -> gpd.GeoDataFrame:
    try:
        frame = pyogrio.read_dataframe(target, **kwargs)
    except Exception as exc:  # GDAL raises many kinds; all mean "cannot read"
        raise ImportFailed(
            source,
            [msg(f"无法按 {what} 读取：{_short(exc)}", f"cannot be read as {what}: {_short(exc)}")],
        ) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise ImportFailed(source, [msg(f"{what} 没有几何列", f"{what} has no geometry column")])
    return frame


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# ---------------------------------------------------------------------------- GeoJSON
def read_geojson(path: Path, *, source: str, encoding: str | None) -> RawRead:
    """Read a GeoJSON file (UTF-8 by the standard, but GBK files exist too)."""
    text, used = decode_text(path.read_bytes(), encoding=encoding, source=source)
    stripped = text.lstrip()
    if not stripped.startswith("{") or '"type"' not in stripped[:10000].replace(" ", ""):
        raise ImportFailed(
            source,
            [
                msg(
                    "不是 GeoJSON 文件（没有带 type 的 JSON 对象）",
                    'is not GeoJSON (no JSON object with a "type" member)',
                )
            ],
        )
    # DATE_AS_STRING: GDAL would turn text that looks like a time ("T0930", a grid code)
    # into a time of day; our layers have no date fields, so every value stays as written
    frame = _read_vector(
        io.BytesIO(stripped.encode("utf-8")), source, "GeoJSON", DATE_AS_STRING="YES"
    )
    return RawRead(frame, encoding=used)


# ---------------------------------------------------------------------------- GeoPackage
def read_gpkg(path: Path, *, layer: str, source: str) -> RawRead:
    """Read the GeoPackage table named like `layer`, or its only spatial table."""
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise ImportFailed(
                source,
                [
                    msg(
                        "不是 GeoPackage 文件（没有 SQLite 文件头）",
                        "is not a GeoPackage (no SQLite header)",
                    )
                ],
            )
    try:
        listed = pyogrio.list_layers(path)
    except Exception as exc:
        raise ImportFailed(
            source,
            [
                msg(
                    f"无法按 GeoPackage 读取：{_short(exc)}",
                    f"cannot be read as GeoPackage: {_short(exc)}",
                )
            ],
        ) from None
    spatial = [str(name) for name, gtype in listed if gtype is not None]
    if not spatial:
        raise ImportFailed(
            source, [msg("GeoPackage 中没有空间数据表", "GeoPackage holds no spatial table")]
        )
    if layer in spatial:
        chosen = layer
    elif len(spatial) == 1:
        chosen = spatial[0]
    else:
        raise ImportFailed(
            source,
            [
                msg(
                    f"GeoPackage 中有多个数据表（{', '.join(spatial)}），没有一个名为 {layer!r}；"
                    "请重命名该表或单独导出",
                    f"GeoPackage has several tables ({', '.join(spatial)}) and none is named "
                    f"{layer!r}; rename the table or export it alone",
                )
            ],
        )
    frame = _read_vector(path, source, "GeoPackage", layer=chosen)
    notes = [msg(f"读取的数据表：{chosen}", f"table {chosen!r}")] if chosen != layer else []
    return RawRead(frame, notes=notes)


# ---------------------------------------------------------------------------- OpenStreetMap
_OSM_TAG = re.compile(r'"([^"]+)"=>"([^"]*)"')
OSM_NO = ("no", "0", "false")


def _osm_tag(other_tags: pd.Series, tag: str) -> pd.Series:
    """One tag's value from GDAL's ``other_tags`` hstore text (None where absent)."""
    return other_tags.fillna("").map(lambda text: dict(_OSM_TAG.findall(text)).get(tag))


def read_osm_roads(path: Path, *, layer: str, source: str) -> RawRead:
    """The ways with a ``highway`` tag of an OSM extract (PBF or XML), as roads.

    Columns: ``road_id`` (``osm_id``), ``name``, ``road_class`` (the ``highway`` value),
    ``walkable`` (false for motorways and ``foot=no``/``access=no``), ``bridge``, ``tunnel``
    and ``from_osm`` (so the walking graph joins lines only at shared nodes).
    """
    if layer != "roads":
        raise ImportFailed(
            source,
            [
                msg(
                    f"OSM 数据只能导入为道路（roads），不能导入为 {layer!r}",
                    f"OSM extracts can only be imported as roads, not {layer!r}",
                )
            ],
        )
    from layers.roads import OSM_NOT_WALKABLE

    frame = _read_vector(path, source, "OSM", layer="lines")
    no_roads = msg(
        "OSM 数据中没有带 highway 标签的路线（way）", "OSM extract has no ways with a highway tag"
    )
    if "highway" not in frame.columns:
        raise ImportFailed(source, [no_roads])
    frame = frame[frame["highway"].notna()].reset_index(drop=True)
    if frame.empty:
        raise ImportFailed(source, [no_roads])
    tags = (
        frame["other_tags"] if "other_tags" in frame.columns else pd.Series("", index=frame.index)
    )

    def flag(tag: str) -> np.ndarray:
        value = _osm_tag(tags, tag)
        return (value.notna() & ~value.isin(OSM_NO)).to_numpy(bool)

    barred = _osm_tag(tags, "foot").isin(OSM_NO) | _osm_tag(tags, "access").isin(("no", "private"))
    walkable = ~frame["highway"].isin(OSM_NOT_WALKABLE) & ~barred
    out = gpd.GeoDataFrame(
        {
            "road_id": frame["osm_id"].astype(str),
            "name": frame.get("name"),
            "road_class": frame["highway"],
            "walkable": walkable.to_numpy(bool),
            "bridge": flag("bridge"),
            "tunnel": flag("tunnel"),
            "from_osm": True,
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
    )
    return RawRead(
        out,
        notes=[
            msg(
                f"{len(out):,} 条带 highway 标签的 OSM 道路",
                f"{len(out):,} OSM ways with a highway tag",
            )
        ],
    )


# ---------------------------------------------------------------------------- Shapefile / zip
def read_shapefile(path: Path, *, source: str, encoding: str | None) -> RawRead:
    """Read a shapefile; without a .cpg file the DBF encoding is detected."""
    missing = [ext for ext in SHAPEFILE_PARTS if not _sibling(path, ext)]
    if missing:
        raise ImportFailed(
            source,
            [
                msg(
                    f"Shapefile {path.name} 缺少 {', '.join(missing)} 文件",
                    f"shapefile {path.name} is missing its {', '.join(missing)} file(s)",
                )
            ],
        )
    notes: list[Msg] = []
    if encoding is None:
        if _sibling(path, ".cpg"):
            encoding = _cpg_encoding(_sibling(path, ".cpg"))
        else:
            encoding = dbf_encoding(_sibling(path, ".dbf"))
            notes.append(
                msg(
                    f"缺少 .cpg 文件：DBF 文字按 {encoding} 编码读取",
                    f"no .cpg file: DBF text read as {encoding}",
                )
            )
    if not _sibling(path, ".prj"):
        notes.append(
            msg("缺少 .prj 文件：文件未说明坐标系", "no .prj file: coordinate system not stated")
        )
    frame = _read_vector(path, source, "Shapefile", encoding=encoding)
    return RawRead(frame, encoding=encoding, notes=notes, dbf_names=True)


def _sibling(path: Path, ext: str) -> Path | None:
    for candidate in path.parent.iterdir():
        if candidate.stem == path.stem and candidate.suffix.lower() == ext:
            return candidate
    return None


def _cpg_encoding(cpg: Path) -> str | None:
    text = cpg.read_text("ascii", errors="ignore").strip()
    if re.fullmatch(r"\d+", text):  # code page number, e.g. 936
        return {"936": "gbk", "54936": "gb18030", "65001": "utf-8"}.get(text, f"cp{text}")
    return text or None


def safe_extract(archive: Path, dest: Path, *, source: str, limits: ImportLimits) -> list[Path]:
    """Extract a zip archive into `dest`, refusing zip-slip paths and zip bombs."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise ImportFailed(
            source, [msg("不是有效的 zip 压缩包", "is not a valid zip archive")]
        ) from None
    max_bytes = limits.max_unzipped_mb * 1024 * 1024
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if not members:
            raise ImportFailed(source, [msg("zip 压缩包是空的", "zip archive is empty")])
        bad = [m.filename for m in members if not _safe_member(m.filename)]
        if bad:
            raise ImportFailed(
                source,
                [
                    msg(
                        f"拒绝导入：zip 条目 {bad[0]!r} 指向压缩包文件夹之外（zip-slip）",
                        f"refused: zip entry {bad[0]!r} points outside the archive folder "
                        "(zip-slip)",
                    )
                ],
            )
        total = sum(m.file_size for m in members)
        packed = sum(m.compress_size for m in members)
        if total > max_bytes:
            raise ImportFailed(
                source,
                [
                    msg(
                        f"拒绝导入：解压后 {total / 1e6:,.1f} MB，超过上限 "
                        f"{limits.max_unzipped_mb:g} MB（设置 import.max_unzipped_mb）",
                        f"refused: unpacks to {total / 1e6:,.1f} MB, more than the limit of "
                        f"{limits.max_unzipped_mb:g} MB (import.max_unzipped_mb)",
                    )
                ],
            )
        if total > 0 and total / max(packed, 1) > limits.max_zip_ratio:
            raise ImportFailed(
                source,
                [
                    msg(
                        f"拒绝导入：压缩比 {total / max(packed, 1):,.0f}:1 超过 "
                        f"{limits.max_zip_ratio:g}:1（疑似 zip 炸弹；设置 import.max_zip_ratio）",
                        f"refused: compression ratio {total / max(packed, 1):,.0f}:1 exceeds "
                        f"{limits.max_zip_ratio:g}:1 (looks like a zip bomb; import.max_zip_ratio)",
                    )
                ],
            )
        try:
            return _extract_members(zf, members, dest, source=source, limits=limits)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ImportFailed(
                source,
                [msg(f"zip 压缩包已损坏：{_short(exc)}", f"zip archive is damaged: {_short(exc)}")],
            ) from None


def _extract_members(
    zf: zipfile.ZipFile,
    members: list[zipfile.ZipInfo],
    dest: Path,
    *,
    source: str,
    limits: ImportLimits,
) -> list[Path]:
    """Write members under `dest`, counting real bytes (header sizes can lie)."""
    max_bytes = limits.max_unzipped_mb * 1024 * 1024
    out, written = [], 0
    for m in members:
        target = dest / PurePosixPath(m.filename.replace("\\", "/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(m) as src, open(target, "wb") as dst:
            # count real bytes: sizes in the header can lie
            for block in iter(lambda src=src: src.read(1 << 20), b""):
                written += len(block)
                if written > max_bytes:
                    raise ImportFailed(source, [_unzip_limit(limits)])
                dst.write(block)
        out.append(target)
    return out


def _unzip_limit(limits: ImportLimits) -> Msg:
    """The refusal of an archive whose real bytes pass the unzip limit."""
    return msg(
        f"拒绝导入：解压后超过 {limits.max_unzipped_mb:g} MB（设置 import.max_unzipped_mb）",
        f"refused: unpacks to more than {limits.max_unzipped_mb:g} MB (import.max_unzipped_mb)",
    )


def _safe_member(name: str) -> bool:
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in PurePosixPath(name).parts


def read_zip(path: Path, *, source: str, options: ReadOptions, workdir: Path) -> RawRead:
    """Read a zipped Shapefile (or one GeoJSON/GeoPackage/CSV/XLSX file inside a zip)."""
    dest = workdir / "unzipped"
    dest.mkdir(parents=True, exist_ok=True)
    files = [
        f
        for f in safe_extract(path, dest, source=source, limits=options.limits)
        if "__MACOSX" not in f.parts and not f.name.startswith(".")
    ]
    shps = [f for f in files if f.suffix.lower() == ".shp"]
    if len(shps) > 1:
        named = [f for f in shps if f.stem == options.layer]
        if len(named) != 1:
            raise ImportFailed(
                source,
                [
                    msg(
                        f"zip 中有多个 Shapefile（{', '.join(f.name for f in shps)}）；"
                        f"请把要导入的命名为 {options.layer}.shp，或单独压缩",
                        f"zip holds several shapefiles ({', '.join(f.name for f in shps)}); "
                        f"name the one to import {options.layer}.shp or zip it alone",
                    )
                ],
            )
        shps = named
    if shps:
        inner = f"{source}/{shps[0].name}"
        return read_shapefile(shps[0], source=inner, encoding=options.encoding)
    others = [f for f in files if FORMATS.get(f.suffix.lower()) not in (None, "zip", "shp")]
    if len(others) != 1:
        raise ImportFailed(
            source,
            [
                msg(
                    "zip 中既没有 Shapefile（.shp 及 .dbf、.shx），也没有单个 GeoJSON、GeoPackage、"
                    "CSV 或 XLSX 文件",
                    "zip holds no shapefile (.shp with .dbf and .shx) and no single GeoJSON, "
                    "GeoPackage, CSV or XLSX file",
                )
            ],
        )
    return read_any(
        others[0], source=f"{source}/{others[0].name}", options=options, workdir=workdir / "inner"
    )


# ---------------------------------------------------------------------------- tables
def read_csv(
    path: Path, *, source: str, encoding: str | None, lon_col: str | None, lat_col: str | None
) -> RawRead:
    """Read a CSV with longitude/latitude columns into points (EPSG:4326 unless told)."""
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise ImportFailed(source, [msg("不是文本（CSV）文件", "is not a text (CSV) file")])
    text, used = decode_text(raw, encoding=encoding, source=source)
    if not text.strip():
        raise ImportFailed(source, [msg("文件是空的", "file is empty")])
    try:
        header = text.lstrip("\ufeff").splitlines()[0]
        sep = max((",", "\t", ";", "|"), key=header.count)
        table = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, skipinitialspace=True
        )
    except Exception as exc:
        raise ImportFailed(
            source,
            [msg(f"无法按 CSV 读取：{_short(exc)}", f"cannot be read as CSV: {_short(exc)}")],
        ) from None
    frame = points_from_table(table, source=source, lon_col=lon_col, lat_col=lat_col)
    return RawRead(frame, encoding=used, from_table=True)


def read_xlsx(
    path: Path, *, layer: str, source: str, lon_col: str | None, lat_col: str | None
) -> RawRead:
    """Read the sheet named like `layer` (or the first sheet) of an Excel workbook."""
    with open(path, "rb") as fh:
        if fh.read(2) != b"PK":
            raise ImportFailed(
                source, [msg("不是 Excel .xlsx 工作簿", "is not an Excel .xlsx workbook")]
            )
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    except Exception as exc:
        raise ImportFailed(
            source,
            [
                msg(
                    f"无法按 Excel 工作簿读取：{_short(exc)}",
                    f"cannot be read as an Excel workbook: {_short(exc)}",
                )
            ],
        ) from None
    if not sheets:
        raise ImportFailed(source, [msg("工作簿中没有工作表", "workbook has no sheets")])
    name = layer if layer in sheets else next(iter(sheets))
    table = sheets[name].fillna("")
    frame = points_from_table(table, source=f"{source}[{name}]", lon_col=lon_col, lat_col=lat_col)
    notes = [msg(f"读取的工作表：{name}", f"sheet {name!r}")] if len(sheets) > 1 else []
    return RawRead(frame, notes=notes, from_table=True)


def find_coordinate_columns(
    columns: Sequence[str], *, lon_col: str | None = None, lat_col: str | None = None
) -> tuple[str | None, str | None]:
    """Pick the longitude and latitude columns (explicit names win; else the known names)."""

    def norm(text: str) -> str:
        return re.sub(r"[\s_\-()（）]+", "", str(text)).lower()

    def pick(explicit: str | None, names: Sequence[str]) -> str | None:
        if explicit:
            return next((c for c in columns if norm(c) == norm(explicit)), None)
        wanted = [norm(n) for n in names]
        for name in wanted:
            found = next((c for c in columns if norm(c) == name), None)
            if found is not None:
                return found
        return None

    return pick(lon_col, LON_NAMES), pick(lat_col, LAT_NAMES)


def points_from_table(
    table: pd.DataFrame, *, source: str, lon_col: str | None, lat_col: str | None
) -> gpd.GeoDataFrame:
    """Build a point frame from a table's longitude/latitude columns (no CRS set)."""
    table = table.rename(columns=lambda c: str(c).strip())
    if table.empty:
        raise ImportFailed(
            source, [msg("文件只有表头，没有数据行", "file has a header but no data rows")]
        )
    lon_name, lat_name = find_coordinate_columns(
        list(table.columns), lon_col=lon_col, lat_col=lat_col
    )
    problems = []
    for found, explicit, label, option in (
        (lon_name, lon_col, "longitude", "--lon"),
        (lat_name, lat_col, "latitude", "--lat"),
    ):
        if found is None:
            columns = ", ".join(str(c) for c in table.columns)
            if explicit:
                text = msg(
                    f"找不到列 {explicit!r}（现有列：{columns}）",
                    f"column {explicit!r} not found (columns: {columns})",
                )
            else:
                names = ", ".join(LON_NAMES if label == "longitude" else LAT_NAMES)
                word = "经度" if label == "longitude" else "纬度"
                text = msg(
                    f"找不到{word}列（查找了 {names}）；请指定列名（{option}）",
                    f"no {label} column found (looked for {names}); name it with {option}",
                )
            problems.append(Problem(text, field=label))
    if problems:
        raise ImportFailed(source, problems)
    lon = pd.to_numeric(table[lon_name].astype(str).str.strip(), errors="coerce").to_numpy(float)
    lat = pd.to_numeric(table[lat_name].astype(str).str.strip(), errors="coerce").to_numpy(float)
    for name, values in ((lon_name, lon), (lat_name, lat)):
        for pos in np.flatnonzero(np.isnan(values)):
            raw = table[name].iloc[pos]
            problems.append(
                Problem(
                    msg(f"{raw!r} 不是坐标数值", f"{raw!r} is not a coordinate number"),
                    int(pos) + 1,
                    name,
                )
            )
    if problems:
        raise ImportFailed(source, problems)
    attrs = table.drop(columns=[lon_name, lat_name])
    return gpd.GeoDataFrame(attrs, geometry=gpd.points_from_xy(lon, lat), crs=None)
