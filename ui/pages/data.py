"""Data page: the active store, importing a file into it, and checking it.

Thin: the work is done by :mod:`data.importing`; this page gathers inputs and shows results.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from data.importing import (
    COORD_SYSTEMS,
    ImportFailed,
    check_store,
    import_file,
    issues_table,
    layer_counts,
)
from data.store import StoreError, masked_meta
from data.tempfiles import workdir
from geo.crs import CRSError
from geo.settings import DEFAULT_STORE
from layers import LAYERS, SchemaError
from layers.messages import in_lang
from ui.auth import require, signed_in_user
from ui.data_access import current_store
from ui.i18n import lang, selectbox, tr
from ui.text import safe

# session-state keys of this page, in one place
KEY_FILE = "data_import_file"
KEY_LAYER = "data_import_layer"
KEY_MODE = "data_import_mode"
KEY_ENCODING = "data_import_encoding"
KEY_COORDS = "data_import_coords"
KEY_LON, KEY_LAT, KEY_CRS = "data_import_lon", "data_import_lat", "data_import_crs"
KEY_RUN = "data_import_run"
KEY_RESULT = "data_import_result"
KEY_CHECK = "data_check_run"

UPLOAD_TYPES = ["geojson", "json", "zip", "gpkg", "csv", "txt", "xlsx", "pbf", "osm"]
ENCODINGS = ["auto", "utf-8", "gb18030", "gbk", "big5"]


def coords_label(code: str) -> str:
    return {
        "wgs84": tr("WGS84 / CGCS2000（不转换）", "WGS84 / CGCS2000 (as is)"),
        "gcj02": tr("GCJ-02 火星坐标（高德、腾讯）", "GCJ-02 (Amap, Tencent)"),
        "bd09": tr("BD-09 百度坐标", "BD-09 (Baidu)"),
    }[code]


def layer_label(name: str) -> str:
    return f"{LAYERS[name].label(lang())} ({name})" if name in LAYERS else name


def is_synthetic(meta: dict[str, str], path: Path) -> bool:
    return meta.get("synthetic", "").lower() in ("true", "1", "yes") or path == DEFAULT_STORE


def show_store(store) -> bool:
    """Path, tables with row counts and meta of the active store; returns True for demo data."""
    st.subheader(tr("当前数据库", "Active store"))
    st.markdown(safe(store.label))  # a PostGIS URL is shown with its password masked
    st.caption(
        tr(
            "通过环境变量 GRIDMAP_STORE 指定其他 GeoPackage 或 PostGIS（postgresql://…）。",
            "Set GRIDMAP_STORE to use another GeoPackage or PostGIS (postgresql://…).",
        )
    )
    meta = store.meta()
    synthetic = is_synthetic(meta, store.path)
    if synthetic:
        st.warning(
            tr(
                "这是合成的示例数据（synthetic demo data），不是真实数据。",
                "This store holds synthetic demo data, not real data.",
            )
        )
    description = meta.get(f"description_{lang()}")
    if description:
        st.caption(safe(description))
    counts = layer_counts(store)
    layers = [name for name in LAYERS if name in counts]
    table = pd.DataFrame(
        {
            tr("图层", "Layer"): [layer_label(name) for name in layers],
            tr("行数", "Rows"): [counts[name] for name in layers],
        }
    )
    st.dataframe(table, hide_index=True)
    others = [f"{safe(name)} ({n:,})" for name, n in counts.items() if name not in LAYERS]
    if others:
        st.caption(tr("其他表：", "Other tables: ") + ", ".join(others))
    if meta:
        shown = masked_meta(meta)  # never the demo passwords or any other secret
        with st.expander(tr("元数据", "Metadata")):
            st.dataframe(
                pd.DataFrame({"key": list(shown), "value": list(shown.values())}), hide_index=True
            )
    return synthetic


def import_form(synthetic: bool) -> None:
    st.subheader(tr("导入文件", "Import a file"))
    st.caption(
        tr(
            "支持 GeoJSON、Shapefile（zip 压缩包）、GeoPackage、带经纬度列的 CSV 与 XLSX。",
            "GeoJSON, zipped Shapefile, GeoPackage, and CSV or XLSX with longitude/latitude columns.",
        )
    )
    upload = st.file_uploader(tr("选择文件", "Choose a file"), type=UPLOAD_TYPES, key=KEY_FILE)
    left, right = st.columns(2)
    layer = selectbox(
        left, tr("目标图层", "Target layer"), list(LAYERS), format_func=layer_label, key=KEY_LAYER
    )
    mode = right.radio(
        tr("方式", "Mode"),
        ["replace", "append"],
        format_func=lambda m: (
            tr("替换图层", "Replace the layer") if m == "replace" else tr("追加行", "Append rows")
        ),
        horizontal=True,
        key=KEY_MODE,
    )
    encoding = selectbox(
        left,
        tr("文字编码", "Text encoding"),
        ENCODINGS,
        format_func=lambda e: tr("自动识别", "Detect") if e == "auto" else e,
        key=KEY_ENCODING,
    )
    coords = selectbox(
        right, tr("坐标系", "Coordinates"), COORD_SYSTEMS, format_func=coords_label, key=KEY_COORDS
    )
    with st.expander(tr("更多选项", "More options")):
        lon = st.text_input(tr("经度列（可选）", "Longitude column (optional)"), key=KEY_LON)
        lat = st.text_input(tr("纬度列（可选）", "Latitude column (optional)"), key=KEY_LAT)
        crs = st.text_input(
            tr("无坐标系文件的 CRS（如 EPSG:4546）", "CRS of a file without one (e.g. EPSG:4546)"),
            key=KEY_CRS,
        )
    if synthetic:
        st.warning(
            tr(
                "将导入到示例数据库中：结果会与合成数据混在一起。",
                "You are importing into the demo store: results mix with synthetic data.",
            )
        )
    if st.button(tr("导入", "Import"), type="primary", key=KEY_RUN):
        if upload is None:
            st.info(tr("请先选择文件。", "Choose a file first."))
            return
        options = {
            "layer": layer,
            "mode": mode,
            "encoding": None if encoding == "auto" else encoding,
            "coords": coords,
            "lon_col": lon.strip() or None,
            "lat_col": lat.strip() or None,
            "source_crs": crs.strip() or None,
        }
        st.session_state[KEY_RESULT] = run_import(upload, options)
        if st.session_state[KEY_RESULT]["ok"]:
            # no cache clearing: the import gave its layer a new version, so what depends on
            # it is computed again and everything else stays cached (ui/data_access.py)
            st.rerun()


def run_import(upload, options: dict) -> dict:
    """Save the upload to a temporary folder and import it; return a result for display."""
    name = Path(upload.name).name
    with (
        workdir("upload") as tmp,
        st.status(
            tr(f"正在导入 {safe(name)}…", f"Importing {safe(name)}…"), expanded=True
        ) as status,
    ):
        path = tmp / name
        path.write_bytes(upload.getvalue())
        bar = st.progress(0.0)
        try:
            report = import_file(
                path,
                store=current_store(),
                progress=lambda share, text: bar.progress(
                    min(share, 1.0), text=safe(in_lang(text, lang()))
                ),
                source_name=name,
                user=signed_in_user(),
                on_wait=lambda _message: st.write(
                    tr(
                        "另一个导入正在写入数据库，等待其完成…",
                        "Another import is writing; waiting…",
                    )
                ),
                **options,
            )
        except (ImportFailed, SchemaError) as exc:
            status.update(
                label=tr("导入失败，数据库未改变", "Import failed; the store is unchanged"),
                state="error",
            )
            return {"ok": False, "error": exc}  # shown in the language chosen when shown
        except (StoreError, CRSError) as exc:
            status.update(
                label=tr("导入失败，数据库未改变", "Import failed; the store is unchanged"),
                state="error",
            )
            return {"ok": False, "error": exc}
        status.update(label=tr("导入完成", "Import done"), state="complete", expanded=False)
    return {"ok": True, "report": report}


def show_result() -> None:
    result = st.session_state.get(KEY_RESULT)
    if not result:
        return
    if result["ok"]:
        r = result["report"]
        st.success(
            tr(
                f"已导入 {r.rows:,} 行到「{layer_label(r.layer)}」（图层现有 {r.rows_in_layer:,} 行）；修复几何 {r.repaired:,} 个。",
                f"Imported {r.rows:,} rows into {layer_label(r.layer)} (layer now has {r.rows_in_layer:,} rows); "
                f"{r.repaired:,} geometries repaired.",
            )
        )
        details = [
            tr("转换：", "Conversions: ")
            + ("; ".join(safe(in_lang(c, lang())) for c in r.conversions) or tr("无", "none"))
        ]
        if r.encoding:
            details.append(tr("文字编码：", "Text encoding: ") + safe(r.encoding))
        st.markdown("\n".join(f"- {d}" for d in details))
        for warning in r.warnings:
            st.warning(safe(in_lang(warning, lang())))
    else:
        exc = result["error"]
        listed = getattr(exc, "problems", None)
        text = exc.text(lang()) if hasattr(exc, "text") else str(exc)
        st.error(
            tr("导入失败，数据库未改变。", "Import failed; the store is unchanged.")
            + "\n\n"
            + safe(text.splitlines()[0] if listed is not None else text)
        )
        problems = issues_table(listed, lang=lang()) if listed is not None else None
        if problems is not None and len(problems):
            if all(str(p.message).startswith("required column missing") for p in listed):
                st.info(
                    tr(
                        "文件缺少该图层的全部必填列：是否选错了目标图层？",
                        "The file lacks the layer's required columns: is the target layer right?",
                    )
                )
            st.dataframe(problem_table(problems), hide_index=True)


def problem_table(problems: pd.DataFrame) -> pd.DataFrame:
    """Problems with translated headers; the layer column only when it says something."""
    if problems["layer"].isna().all():
        problems = problems.drop(columns="layer")
    headers = {
        "layer": tr("图层", "Layer"),
        "row": tr("行", "Row"),
        "field": tr("字段", "Field"),
        "message": tr("问题", "Problem"),
    }
    return problems.astype(object).where(problems.notna(), "").rename(columns=headers)


def check_section(store) -> None:
    st.subheader(tr("检查数据库", "Check the store"))
    if st.button(tr("检查", "Check"), key=KEY_CHECK):
        with st.spinner(tr("正在检查…", "Checking…")):
            issues = check_store(store)
        if not issues:
            st.success(tr("没有发现问题。", "No problems found."))
        else:
            st.error(tr(f"发现 {len(issues)} 个问题：", f"{len(issues)} problem(s) found:"))
            st.dataframe(problem_table(issues_table(issues, lang=lang())), hide_index=True)


require("import")
st.title(tr("数据管理", "Data"))
active = current_store()
if active.exists():
    demo = show_store(active)
else:
    st.info(
        tr(
            f"数据库 {safe(active.path)} 尚不存在，导入后将创建。",
            f"Store {safe(active.path)} does not exist yet; an import creates it.",
        )
    )
    demo = False
import_form(demo)
show_result()
check_section(active)
