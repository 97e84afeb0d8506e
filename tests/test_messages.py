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


def test_data_page_shows_import_errors_in_the_chosen_language(tmp_path, monkeypatch):
    """The failure is shown in Chinese, and in English after the user switches language."""
    from pathlib import Path

    from tests._auth import signed_in_app

    store = build_small_store(tmp_path / "s.gpkg")
    monkeypatch.setenv("GRIDMAP_STORE", str(store.path))
    app = Path(__file__).resolve().parent.parent / "app.py"
    at = signed_in_app(str(app), default_timeout=60)
    at.switch_page("ui/pages/data.py")
    at.run()
    frame = grids_frame(1)
    frame["households"] = -3
    at.file_uploader[0].set_value(("g.geojson", frame.to_json().encode(), "application/geo+json"))
    at.selectbox(key="data_import_layer").set_value("grids")
    at.run()
    at.button(key="data_import_run").click()
    at.run()
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
