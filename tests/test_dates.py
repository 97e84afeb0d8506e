"""Date pickers whose texts are ours (ui/dates.py): labels, presets, the audit page's range and
the visit form's day, in Chinese and English. Streamlit's calendar (``st.date_input``) names
months and weekdays in English whatever the UI language, so no page may use it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from auth.storage import AuditEntry
from data.store import GeoPackageStore
from tests._auth import signed_in_app
from tests._map_fixtures import ROOT_APP, write_tiny_store
from ui.dates import day_label, preset_range, range_label
from ui.field.visits_form import visit_days

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 12, 1)  # a Tuesday


def test_day_label_in_both_languages():
    assert day_label(TODAY, language="zh") == "2026-12-01 周二"
    assert day_label(TODAY, language="en") == "2026-12-01 Tue"
    assert day_label(TODAY, language="zh", today=TODAY) == "今天 · 2026-12-01 周二"
    assert day_label(dt.date(2026, 11, 30), language="en", today=TODAY) == (
        "Yesterday · 2026-11-30 Mon"
    )
    assert day_label(dt.date(2026, 11, 29), language="zh", today=TODAY) == "2026-11-29 周日"


def test_preset_ranges_include_both_ends():
    assert preset_range("today", today=TODAY) == (TODAY, TODAY)
    assert preset_range("7d", today=TODAY) == (dt.date(2026, 11, 25), TODAY)  # 7 days
    assert preset_range("30d", today=TODAY) == (dt.date(2026, 11, 2), TODAY)  # 30 days
    assert preset_range("all", today=TODAY) == (None, None)
    with pytest.raises(ValueError, match="unknown date range 'week'"):
        preset_range("week", today=TODAY)
    assert range_label("7d") == "最近 7 天" and range_label("custom", language="en") == "Custom…"


def test_visit_days_run_from_last_quarter_to_today():
    days = visit_days("2026-Q4", TODAY)
    assert days[0] == TODAY and days[-1] == dt.date(2026, 7, 1)  # Q3 starts 1 July
    assert len(days) == (TODAY - dt.date(2026, 7, 1)).days + 1


def test_no_page_uses_streamlits_calendar():
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py"))]
        if path.name != "dates.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.(date_input|time_input)\(", line)
    ]
    assert offenders == [], "use ui.dates (its texts follow the language): " + ", ".join(offenders)


@pytest.fixture
def audited(tmp_path, monkeypatch) -> GeoPackageStore:
    """The tiny store with three audit rows: today, 10 days ago and 100 days ago (UTC)."""
    store = GeoPackageStore(write_tiny_store(tmp_path / "tiny.gpkg"))
    monkeypatch.setenv("GRIDMAP_STORE", str(store.path))
    now = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    store.accounts().append_audit(
        [
            AuditEntry("a_today", "planner", "edit", "grids", at=now),
            AuditEntry("b_tenago", "planner", "edit", "grids", at=now - dt.timedelta(days=10)),
            AuditEntry("c_old", "planner", "import", "grids", at=now - dt.timedelta(days=100)),
        ]
    )
    return store


def test_audit_page_filters_by_our_own_date_range(audited):
    at = signed_in_app(str(ROOT_APP), role="planner", default_timeout=120)
    at.switch_page("ui/pages/audit.py").run()
    assert not at.exception
    assert not at.get("date_input")
    box = at.selectbox(key="audit_range")
    assert box.label == "时间（UTC）" and box.value == "30d"
    assert box.options == [
        "今天",
        "最近 7 天",
        "最近 30 天",
        "全部",
        "自定义…",
    ]

    def users() -> list[str]:
        return sorted(at.dataframe[0].value["用户"].tolist())

    assert users() == ["a_today", "b_tenago"]
    box.set_value("7d").run()
    assert users() == ["a_today"]
    at.selectbox(key="audit_range").set_value("all").run()
    assert users() == ["a_today", "b_tenago", "c_old"]
    # a custom range: its ends are the days that have rows, written in the UI language
    at.selectbox(key="audit_range").set_value("custom").run()
    start, end = at.selectbox(key="audit_range_from"), at.selectbox(key="audit_range_to")
    assert len(start.options) == 3 and start.label == "从" and end.label == "到"
    assert re.fullmatch(r"今天 · \d{4}-\d\d-\d\d 周[一二三四五六日]", end.options[0])
    assert users() == ["a_today", "b_tenago", "c_old"]  # oldest to newest day
    start.set_value(end.value).run()  # both today
    assert users() == ["a_today"]
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert at.selectbox(key="audit_range").label == "When (UTC)"
    assert at.selectbox(key="audit_range_to").options[0].startswith("Today · ")


def test_visit_form_day_is_ours_and_recorded(tmp_path, monkeypatch):
    import pandas as pd

    from field.store import GeoPackageFieldStore

    path = write_tiny_store(tmp_path / "tiny.gpkg")
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    at = signed_in_app(str(ROOT_APP), role="worker", scope="grids:G05", default_timeout=120)
    at.query_params["grid"] = "G05"
    at.switch_page("ui/pages/my_grid.py").run()
    assert not at.exception, at.exception
    assert not at.get("date_input")
    box = at.selectbox(key="field_visit_day_G05")
    today = pd.Timestamp.now(tz="Asia/Shanghai").date()
    assert box.label == "走访日期" and box.value == today
    assert box.options[0] == day_label(today, language="zh", today=today)
    assert box.options[1].startswith("昨天 · ")
    yesterday = today - dt.timedelta(days=1)
    box.set_value(yesterday)
    (count,) = [n for n in at.number_input if n.label.startswith("走访户数")]
    count.set_value(3)
    at.button[[b.label for b in at.button].index("记录走访")].click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    visits = GeoPackageFieldStore(path).visits()
    assert visits["visited_on"].astype(str).tolist() == [yesterday.isoformat()]
