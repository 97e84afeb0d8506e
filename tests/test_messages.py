"""Import, schema and what-if errors in the user's language (Chinese or English)."""

from __future__ import annotations

import pickle

import pytest

from data.importing import ImportFailed, import_file
from geo.whatif import WhatIfError, read_point_file
from layers import LAYERS, Problem, SchemaError
from layers.messages import Msg, cli_lang, in_lang, msg
from tests._importing_fixtures import build_small_store, grids_frame


def test_msg_is_english_text_carrying_chinese():
    m = msg("文件是空的", "file is empty")
    assert m == "file is empty" and isinstance(m, str)
    assert in_lang(m, "zh") == "文件是空的" and in_lang(m, "en") == "file is empty"
    assert in_lang("plain", "zh") == "plain"
    assert pickle.loads(pickle.dumps(m)).zh == "文件是空的"
    assert isinstance(pickle.loads(pickle.dumps(m)), Msg)


def test_problem_and_schema_error_in_both_languages():
    frame = grids_frame(2)
    frame["households"] = ["abc", -3]
    with pytest.raises(SchemaError) as info:
        LAYERS["grids"].validate(frame, source="grids.csv")
    err = info.value
    assert "row 1, field 'households': 'abc' is not a whole number" in str(err)
    zh = err.text("zh")
    assert "grids.csv：2 个问题" in zh
    assert "第 1 行，字段“households”：'abc' 不是整数" in zh
    assert "第 2 行，字段“households”：-3 小于 0" in zh
    assert (
        Problem(msg("缺少数值", "value is missing"), 3, "x").text("zh")
        == "第 3 行，字段“x”：缺少数值"
    )


def test_import_failed_in_both_languages(tmp_path):
    store = build_small_store(tmp_path / "s.gpkg")
    path = tmp_path / "x.docx"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(path, layer="grids", store=store)
    assert "unsupported file type '.docx'" in str(info.value)
    assert "不支持的文件类型 '.docx'" in info.value.text("zh")


def test_cli_follows_lang(tmp_path, monkeypatch, capsys):
    from cli import main

    store = build_small_store(tmp_path / "s.gpkg")
    path = tmp_path / "g.geojson"
    frame = grids_frame(1)
    frame["households"] = -3
    path.write_text(frame.to_json(), encoding="utf-8")
    args = ["import", str(path), "--layer", "grids", "--into", str(store.path), "--replace"]
    monkeypatch.setenv("GRIDMAP_LANG", "zh")
    assert cli_lang() == "zh"
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "导入失败，数据库未改变" in err and "-3 小于 0" in err
    monkeypatch.setenv("GRIDMAP_LANG", "en")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "import failed, store unchanged" in err and "-3 is below 0" in err
    monkeypatch.delenv("GRIDMAP_LANG")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert cli_lang() == "zh"


def test_whatif_upload_errors_in_both_languages():
    with pytest.raises(WhatIfError) as info:
        read_point_file(b"name,kind\nA,street\n", "p.csv")
    assert "missing columns" in str(info.value)
    assert "缺少列" in info.value.text("zh")
    with pytest.raises(WhatIfError) as info:
        read_point_file(b"x", "p.shp")
    assert info.value.text("zh") == "p.shp：应为 .csv 或 .geojson 文件"


def _import_on_the_data_page(tmp_path, monkeypatch, name: str, data: bytes, media: str):
    """A signed-in AppTest of the Data page after importing `data` as grids into a small store."""
    from pathlib import Path

    from tests._auth import signed_in_app

    store = build_small_store(tmp_path / "s.gpkg")
    monkeypatch.setenv("GRIDMAP_STORE", str(store.path))
    app = Path(__file__).resolve().parent.parent / "app.py"
    at = signed_in_app(str(app), default_timeout=60)
    at.switch_page("ui/pages/data.py")
    at.run()
    at.file_uploader[0].set_value((name, data, media))
    at.selectbox(key="data_import_layer").set_value("grids")
    at.run()
    at.button(key="data_import_run").click()
    at.run()
    return at


def test_data_page_shows_import_errors_in_the_chosen_language(tmp_path, monkeypatch):
    """The failure is shown in Chinese, and in English after the user switches language."""
    frame = grids_frame(1)
    frame["households"] = -3
    data = frame.to_json().encode()
    at = _import_on_the_data_page(tmp_path, monkeypatch, "g.geojson", data, "application/geo+json")
    assert not at.exception

    def shown() -> str:
        return at.error[0].value + " ".join(str(d.value) for d in at.dataframe)

    assert "小于 0" in shown() and "is below 0" not in shown()
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert "is below 0" in shown() and "小于 0" not in shown()


def test_geojson_codes_that_look_like_times_stay_text(tmp_path):
    """GDAL reads "T0930" in GeoJSON as a time of day unless told not to."""
    store = build_small_store(tmp_path / "s.gpkg")
    frame = grids_frame(2)
    frame["grid_code"] = ["T0930", "2026-01-02"]
    path = tmp_path / "g.geojson"
    path.write_text(frame.to_json(), encoding="utf-8")
    import_file(path, layer="grids", store=store, mode="append")
    assert {"T0930", "2026-01-02"} <= set(store.read("grids")["grid_code"])


def _zip_bytes(members: dict[str, bytes], *, deflated: bool = False) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    kind = zipfile.ZIP_DEFLATED if deflated else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", compression=kind) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


_OSM = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">'
    b'<node id="1" lat="32.62" lon="110.78"/><node id="2" lat="32.63" lon="110.79"/>'
    b'<way id="10"><nd ref="1"/><nd ref="2"/><tag k="waterway" v="stream"/></way></osm>'
)
_GEOJSON = grids_frame(2).to_json().encode()
_PROJECTED = b"x,y,name\n498000,3610000,A\n499000,3610800,B\n"

# (file name, bytes, import options, English fragment, Chinese fragment): the rarer refusals
# of the import path, each in both languages
READER_MESSAGES = [
    (
        "slip.zip",
        _zip_bytes({"../evil.geojson": _GEOJSON}),
        {},
        "points outside the archive folder (zip-slip)",
        "指向压缩包文件夹之外（zip-slip）",
    ),
    (
        "big.zip",
        _zip_bytes({"a.geojson": b" " * 2_000_000}),
        {"max_unzipped_mb": 1},
        "refused: unpacks to 2.0 MB, more than the limit of 1 MB",
        "解压后 2.0 MB，超过上限 1 MB",
    ),
    (
        "bomb.zip",
        _zip_bytes({"a.geojson": b" " * 4_000_000}, deflated=True),
        {},
        "looks like a zip bomb",
        "疑似 zip 炸弹",
    ),
    (
        "two.zip",
        _zip_bytes({f"{n}.{e}": b"x" for n in "ab" for e in ("shp", "shx", "dbf")}),
        {},
        "zip holds several shapefiles (a.shp, b.shp)",
        "zip 中有多个 Shapefile（a.shp, b.shp）",
    ),
    (
        "none.zip",
        _zip_bytes({"notes.docx": b"x"}),
        {},
        "zip holds no shapefile",
        "zip 中既没有 Shapefile",
    ),
    (
        "streams.osm",
        _OSM,
        {"layer": "roads"},
        "OSM extract has no ways with a highway tag",
        "OSM 数据中没有带 highway 标签的路线",
    ),
    (
        "as_grids.osm",
        _OSM,
        {},
        "OSM extracts can only be imported as roads, not 'grids'",
        "OSM 数据只能导入为道路（roads），不能导入为 'grids'",
    ),
    (
        "latin.csv",
        "中心编号,名称\n".encode(),
        {"layer": "neighborhood_centers", "encoding": "ascii"},
        "cannot be decoded as ascii (byte 0)",
        "无法按 ascii 解码（第 0 字节）",
    ),
    (
        "xy.csv",
        _PROJECTED,
        {"layer": "neighborhood_centers", "lon_col": "x", "lat_col": "y"},
        "coordinates look projected (x 498,000 to 499,000",
        "坐标看起来是投影坐标（x 498,000 至 499,000",
    ),
    (
        "swapped.csv",
        b"\xe7\xbb\x8f\xe5\xba\xa6,\xe7\xba\xac\xe5\xba\xa6\n32.62,110.78\n32.63,110.79\n",
        {"layer": "neighborhood_centers"},
        "latitude and longitude look swapped",
        "经纬度看起来颠倒了",
    ),
    (
        "crs.geojson",
        _GEOJSON,
        {"source_crs": "EPSG:not-a-code"},
        "unknown coordinate system 'EPSG:not-a-code'",
        "无法识别坐标系 'EPSG:not-a-code'",
    ),
    (
        "coords.geojson",
        grids_frame(2).to_crs("EPSG:4546").to_json().encode(),
        {"coords": "gcj02"},
        "--coords gcj02 applies to longitude/latitude data",
        "坐标类型 gcj02 只适用于经纬度数据",
    ),
    (
        "mode.geojson",
        _GEOJSON,
        {"mode": "merge"},
        "mode must be 'replace' or 'append', not 'merge'",
        "导入方式应为 replace（替换）或 append（追加），而不是 'merge'",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "options", "en", "zh"), READER_MESSAGES, ids=[m[0] for m in READER_MESSAGES]
)
def test_rare_import_refusals_in_both_languages(tmp_path, name, data, options, en, zh):
    from dataclasses import replace

    from geo.settings import load_profile

    store = build_small_store(tmp_path / "s.gpkg")
    path = tmp_path / name
    path.write_bytes(data)
    options = dict(options)
    profile = load_profile()
    if "max_unzipped_mb" in options:
        limits = replace(profile.import_, max_unzipped_mb=options.pop("max_unzipped_mb"))
        profile = replace(profile, import_=limits)
    options.setdefault("layer", "grids")
    before = store.checksum()
    with pytest.raises(ImportFailed) as info:
        import_file(path, store=store, profile=profile, **options)
    err = info.value
    assert err.text("en").startswith(f"{name}") and en in err.text("en"), err.text("en")
    assert err.text("zh").startswith(f"{name}") and zh in err.text("zh"), err.text("zh")
    assert all(isinstance(p.message, Msg) for p in err.problems)
    assert store.checksum() == before


def test_unzip_limit_counts_real_bytes_in_both_languages(tmp_path):
    """Sizes in a zip's headers can lie: the real bytes written are counted too."""
    import zipfile

    from data.readers import _extract_members
    from geo.settings import ImportLimits

    archive = tmp_path / "lying.zip"
    archive.write_bytes(_zip_bytes({"a.geojson": b" " * 1_500_000}))
    limits = ImportLimits(max_file_mb=10, max_unzipped_mb=1, max_zip_ratio=1000)
    with zipfile.ZipFile(archive) as zf, pytest.raises(ImportFailed) as info:
        _extract_members(zf, zf.infolist(), tmp_path / "out", source="lying.zip", limits=limits)
    assert info.value.text("en") == (
        "lying.zip: refused: unpacks to more than 1 MB (import.max_unzipped_mb)"
    )
    assert info.value.text("zh") == (
        "lying.zip: 拒绝导入：解压后超过 1 MB（设置 import.max_unzipped_mb）"
    )


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _bare_shapefile_zip(tmp_path) -> bytes:
    """A GBK shapefile of two grids without its .cpg and .prj files, zipped."""
    import io
    import warnings
    import zipfile

    import pyogrio

    folder = tmp_path / "bare"
    folder.mkdir()
    with warnings.catch_warnings():  # worker_name cut to 10 characters
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(grids_frame(2, start=40), folder / "grids.shp", encoding="GBK")
    for ext in (".cpg", ".prj"):
        (folder / f"grids{ext}").unlink(missing_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return buf.getvalue()


def test_import_report_notes_and_conversions_in_both_languages(tmp_path):
    """Every note an import attaches to its report (warnings, conversions) is bilingual."""
    from _importing_fixtures import points_table

    from geo.crs import wgs84_to_gcj02

    store = build_small_store(tmp_path / "s.gpkg")
    shp = tmp_path / "grids.zip"
    shp.write_bytes(_bare_shapefile_zip(tmp_path))
    reports = [import_file(shp, layer="grids", store=store, source_crs="EPSG:4326")]
    zh = [in_lang(w, "zh") for w in reports[0].warnings]
    assert any(w.startswith("缺少 .cpg 文件：DBF 文字按 ") for w in zh), zh
    assert "缺少 .prj 文件：文件未说明坐标系" in zh
    assert any(str(w).startswith("no .cpg file") for w in reports[0].warnings)
    # a CSV in GCJ-02 without a CRS: a conversion; a plain CSV: the no-CRS warning
    table = points_table(3)
    lon, lat = wgs84_to_gcj02(table["经度"].to_numpy(), table["纬度"].to_numpy())
    csv = tmp_path / "centers.csv"
    table.assign(经度=lon, 纬度=lat).to_csv(csv, index=False)
    reports.append(import_file(csv, layer="neighborhood_centers", store=store, coords="gcj02"))
    assert [in_lang(c, "zh") for c in reports[-1].conversions] == [
        "GCJ-02（高德/腾讯） → WGS84：3 行"
    ]
    table.to_csv(csv, index=False)
    reports.append(import_file(csv, layer="neighborhood_centers", store=store))
    assert in_lang(reports[-1].warnings[0], "zh").startswith("文件未说明坐标系")
    # a GeoPackage in the city's metric CRS: reprojected
    gpkg = tmp_path / "metric.gpkg"
    grids_frame(2, start=50).to_crs("EPSG:4546").to_file(gpkg, layer="grids", driver="GPKG")
    reports.append(import_file(gpkg, layer="grids", store=store))
    assert in_lang(reports[-1].conversions[0], "zh").startswith("已从 EPSG:4546")
    for report in reports:
        for text in [*report.conversions, *report.warnings]:
            assert isinstance(text, Msg), text
            assert _has_chinese(in_lang(text, "zh")) and in_lang(text, "zh") != str(text)
    summary = reports[0].summary("zh")
    assert "修复几何：0 个" in summary and "注意：缺少 .cpg 文件" in summary
    assert "no .cpg" not in summary and "warning: no .cpg file" in reports[0].summary()


def test_cli_import_report_follows_lang(tmp_path, monkeypatch, capsys):
    from cli import main

    store = build_small_store(tmp_path / "s.gpkg")
    shp = tmp_path / "grids.zip"
    shp.write_bytes(_bare_shapefile_zip(tmp_path))
    args = ["import", str(shp), "--layer", "grids", "--into", str(store.path), "--replace"]
    args += ["--crs", "EPSG:4326"]
    monkeypatch.setenv("GRIDMAP_LANG", "zh")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "缺少 .prj 文件" in out and "转换：坐标系按指定设为 EPSG:4326" in out
    assert "no .prj" not in out
    monkeypatch.setenv("GRIDMAP_LANG", "en")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "no .prj file" in out and "缺少" not in out


def test_data_page_shows_import_notes_in_the_chosen_language(tmp_path, monkeypatch):
    from ui.text import unescape

    data = _bare_shapefile_zip(tmp_path)
    at = _import_on_the_data_page(tmp_path, monkeypatch, "grids.zip", data, "application/zip")
    assert not at.exception and not at.error, [e.value for e in at.error]

    def warned() -> str:
        return unescape(" ".join(w.value for w in at.warning))

    assert "缺少 .cpg 文件" in warned() and "no .cpg" not in warned()
    at.session_state["lang"] = "en"
    at.run()
    assert "no .cpg file" in warned() and "缺少" not in warned()


def test_import_progress_and_store_check_in_both_languages(tmp_path):
    """The progress texts an import reports (the Data page's bar, cli.py's) and the store
    check's own problems are bilingual."""
    from data.importing import check_store, issues_table

    store = build_small_store(tmp_path / "s.gpkg")
    path = tmp_path / "g.geojson"
    path.write_text(grids_frame(2, start=60).to_json(), encoding="utf-8")
    steps: list[str] = []
    import_file(path, layer="grids", store=store, progress=lambda share, text: steps.append(text))
    assert [in_lang(t, "zh") for t in steps] == [
        "正在读取",
        "正在检查坐标",
        "正在检查几何",
        "正在检查属性",
        "正在写入数据库",
        "完成",
    ]
    assert steps[0] == "reading"
    missing = type(store)(tmp_path / "none.gpkg")
    table = issues_table(check_store(missing), lang="zh")
    assert table["message"].tolist() == [f"数据库 {missing.label} 不存在"]
