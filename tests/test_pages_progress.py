"""AppTest of the Progress page on the tiny city: KPIs vs targets, rankings, period comparison,
plan values, presentation mode and downloads.

The tiny city (tests/_progress_fixtures.py) has its 2026-Q3 data in the store and a 2026-Q2
snapshot: the street-level center coverage goes from 200 to 500 of 500 residents (40% -> 100%).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.snapshots import get_plan_values
from data.store import GeoPackageStore
from tests._auth import signed_in_app
from tests._progress_fixtures import write_tiny_store
from ui.text import unescape

ROOT_APP = Path(__file__).resolve().parent.parent / "app.py"
PAGE = "ui/pages/progress.py"
TIMEOUT = 120


@pytest.fixture
def tiny_store(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "tiny.gpkg"
    write_tiny_store(path)
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    return path


def _app(role: str = "planner", **query) -> AppTest:
    at = signed_in_app(str(ROOT_APP), role=role, default_timeout=TIMEOUT, query=query)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def _section(at: AppTest, name: str) -> AppTest:
    at.segmented_control(key="progress_section").set_value(name).run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.proto.delta or None) for m in at.metric}


def test_city_kpis_against_targets_with_change(tiny_store):
    at = _app()
    assert at.title[0].value == "工作进展"
    m = _metrics(at)
    assert m["街道级邻里中心覆盖率"] == ("100.0%", "+60.0 个百分点")
    assert m["卫生厕所普及率"][0] == "92.5%"  # (90 + 95) / 200
    assert m["人均避难容量"][0] == "0.120 位/人"  # 60 places / 500 residents
    assert m["配备网格员网格占比"][0] == "66.7%"
    markdown = " ".join(e.value for e in at.markdown)
    assert "达标" in markdown and "未达标" in markdown
    assert any("合成示例数据" in w.value for w in at.warning)


def test_district_scope_and_ranking(tiny_store):
    at = _app()
    at.radio(key="progress_level").set_value("district").run()
    at.selectbox(key="progress_area").set_value("D2").run()
    assert _metrics(at)["街道级邻里中心覆盖率"] == ("100.0%", "+100.0 个百分点")
    _section(at, "ranking")
    at.selectbox(key="progress_rank_indicator").set_value("sanitary_toilet_penetration").run()
    at.radio(key="progress_rank_level").set_value("district").run()
    ranking = next(df.value for df in at.dataframe if "排名" in df.value.columns)
    assert list(ranking["区域"]) == ["张湾区", "茅箭区"]  # 90% before 95%, worst first
    assert list(ranking["数值"]) == ["90.0%", "95.0%"]


def test_period_comparison_counts_areas(tiny_store):
    at = _section(_app(), "comparison")
    m = _metrics(at)
    # districts: D1 stays at 100%, D2 goes from 0% to 100%
    assert m["改善的区域"][0] == "1" and m["持平的区域"][0] == "1" and m["变差的区域"][0] == "0"
    table = next(
        df.value
        for df in at.dataframe
        if "2026-Q2" in df.value.columns and "指标" in df.value.columns
    )
    row = table[table["指标"] == "街道级邻里中心覆盖率"].iloc[0]
    assert (row["2026-Q2"], row["2026-Q3"], row["趋势"]) == ("40.0%", "100.0%", "改善")
    assert len(at.image) >= 1  # the improved/worsened map


def test_plan_values_are_entered_per_period(tiny_store):
    at = _section(_app(), "plan")
    at.number_input(key="progress_plan_green_space_ratio").set_value(37.0)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    assert get_plan_values(GeoPackageStore(tiny_store), "2026-Q3") == {
        "green_space_ratio": pytest.approx(0.37)
    }
    assert _section(at, "overview") and _metrics(at)["建成区绿地率"][0] == "37.0%"
    assert get_plan_values(GeoPackageStore(tiny_store), "2026-Q2") == {}
    # the change is in the audit log under the planner who made it
    audit = GeoPackageStore(tiny_store).accounts().read_audit(action="edit", layer="plan_values")
    assert len(audit) == 1 and audit["role"].iloc[0] == "planner"


def test_viewers_cannot_enter_plan_values_or_save_snapshots(tiny_store):
    at = _section(_app(role="viewer"), "plan")
    assert not at.form_submit_button
    assert "progress_save_snapshot" not in [b.key for b in at.button]
    assert any("只有规划人员和管理员" in info.value for info in at.info)


def test_presentation_mode_steps_through_city_and_districts(tiny_store):
    at = _app(present="1")
    assert unescape(at.title[0].value) == "十堰市 · 2026-Q3"
    # no editing controls while presenting (the sidebar, with the language switch, is hidden by CSS)
    main = at.main
    assert len(main.selectbox) == 0 and len(main.number_input) == 0 and len(main.radio) == 0
    assert at.button(key="progress_prev").disabled
    at.button(key="progress_next").click().run()
    assert unescape(at.title[0].value) == "茅箭区 · 2026-Q3"
    at.button(key="progress_next").click().run()
    assert unescape(at.title[0].value) == "张湾区 · 2026-Q3"
    assert at.button(key="progress_next").disabled
    assert _metrics(at)["街道级邻里中心覆盖率"][0] == "100.0%"
    at.button(key="progress_exit").click().run()
    assert at.title[0].value == "工作进展"


def test_presentation_toggle_from_the_page(tiny_store):
    at = _app()
    at.button(key="progress_enter_present").click().run()
    assert unescape(at.title[0].value) == "十堰市 · 2026-Q3"


def test_download_is_built_with_progress(tiny_store):
    at = _section(_app(), "export")
    at.button(key="progress_build_xlsx").click().run()
    assert not at.exception, at.exception
    assert len(at.status) >= 1
    downloads = at.get("download_button")
    assert len(downloads) == 1
    assert at.session_state["progress_exports"]


def test_english_labels(tiny_store):
    at = _app()
    at.sidebar.radio[0].set_value("en").run()
    assert at.title[0].value == "Progress"
    assert "Residents near a street-level center" in _metrics(at)


def test_no_change_is_neutral(tiny_store):
    """D1 stays at 100%: its change reads 0.0 个百分点 in grey with no arrow, not a green up."""
    from streamlit.proto.Metric_pb2 import Metric

    at = _app()
    at.radio(key="progress_level").set_value("district").run()
    at.selectbox(key="progress_area").set_value("D1").run()
    metric = next(m for m in at.metric if m.label == "街道级邻里中心覆盖率")
    assert metric.proto.delta == "0.0 个百分点"
    assert metric.proto.color == Metric.MetricColor.GRAY
    assert metric.proto.direction == Metric.MetricDirection.NONE
    at.selectbox(key="progress_area").set_value("D2").run()
    moved = next(m for m in at.metric if m.label == "街道级邻里中心覆盖率")
    assert moved.proto.color == Metric.MetricColor.GREEN
    assert moved.proto.direction == Metric.MetricDirection.UP


def test_english_units_and_labels(tiny_store, monkeypatch):
    import reports.staticmap as sm

    drawn = []
    real = sm.static_map

    def spy(layers, **kw):
        drawn.append((kw, [layer.label for layer in layers]))
        return real(layers, **kw)

    monkeypatch.setattr(sm, "static_map", spy)
    at = signed_in_app(str(ROOT_APP), default_timeout=TIMEOUT)
    at.session_state["lang"] = "en"
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    m = _metrics(at)
    assert m["Shelter places per resident"][0] == "0.120 places/person"
    assert m["Residents near a street-level center"][1] == "+60.0 pp"
    shown = " ".join(v for v, _ in m.values()) + " ".join(m)
    assert "人" not in shown and "位" not in shown
    at = signed_in_app(str(ROOT_APP), default_timeout=TIMEOUT)
    at.session_state["lang"] = "en"
    at.query_params["present"] = "1"  # the presentation draws the status map
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    assert drawn, "no static map drawn"
    for kw, labels in drawn:
        text = " ".join([kw["title"], kw["legend_title"], *labels])
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in text), text
        assert kw["lang"] == "en"
