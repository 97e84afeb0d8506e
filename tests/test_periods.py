"""Periods compared as dates; reports refuse unknown periods; one rule for the default period."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

import cli
from data.snapshots import (
    SnapshotError,
    current_period,
    known_periods,
    list_periods,
    load_snapshot,
    period_bounds,
    resolve_period,
    save_snapshot,
    sort_periods,
)
from data.store import GeoPackageStore
from geo.indicators import get_indicator
from reports.build import ReportError, build_report
from tests._progress_fixtures import write_tiny_store


def test_period_bounds_by_hand():
    assert period_bounds("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert period_bounds("2026-Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    assert period_bounds("2026-H2") == (date(2026, 7, 1), date(2026, 12, 31))
    assert period_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    with pytest.raises(SnapshotError):
        period_bounds("2026-Q5")


def test_periods_sort_as_dates_not_text():
    assert sorted(["2026-Q1", "2026-H2"]) == ["2026-H2", "2026-Q1"]  # the text order is wrong
    assert sort_periods(["2026-Q1", "2026-H2"]) == ["2026-Q1", "2026-H2"]
    assert sort_periods(["2027-01", "2026-Q4", "2026", "2026-H2", "2025-12", "2026-Q1"]) == [
        "2025-12",
        "2026-Q1",
        "2026",
        "2026-H2",
        "2026-Q4",
        "2027-01",
    ]


def test_current_period_from_meta_or_today():
    assert current_period({"period": "2026-H1"}) == "2026-H1"
    assert current_period({}, today=date(2026, 12, 1)) == "2026-Q4"


@pytest.fixture
def store(tmp_path) -> GeoPackageStore:
    """Tiny city: current data of 2026-Q3, snapshots of 2026-Q1 (a copy of Q2) and 2026-Q2."""
    path = tmp_path / "tiny.gpkg"
    write_tiny_store(path)
    s = GeoPackageStore(path)
    save_snapshot(s, "2026-Q1", load_snapshot(s, "2026-Q2"))
    return s


def test_known_periods_and_latest(store):
    assert list_periods(store) == ["2026-Q1", "2026-Q2"]
    assert known_periods(store) == ["2026-Q1", "2026-Q2", "2026-Q3"]  # Q3 = current data
    assert resolve_period(store) == "2026-Q3"
    save_snapshot(store, "2026-H2", store_table(store))
    assert resolve_period(store) == "2026-H2"  # text order would pick 2026-Q3


def store_table(store):
    return load_snapshot(store, "2026-Q1")


def test_unknown_period_refused_with_the_known_ones(store, tmp_path, capsys):
    with pytest.raises(SnapshotError, match=r"unknown period 2025-Q4. Known periods: 2026-Q1"):
        resolve_period(store, "2025-Q4")
    out = tmp_path / "r.xlsx"
    code = cli.main(["report", "--data", str(store.path), "--period", "2025-Q4", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "Known periods: 2026-Q1, 2026-Q2, 2026-Q3" in err
    assert "current data: 2026-Q3" in err


def test_report_without_period_uses_the_latest(store, tmp_path, monkeypatch):
    import reports.build as build

    save_snapshot(store, "2026-H2", store_table(store))
    seen = []
    real = build.analyse_period
    monkeypatch.setattr(
        build,
        "analyse_period",
        lambda s, period, **kw: seen.append(period) or real(s, period, **kw),
    )
    assert build_report(store, None, tmp_path / "r.xlsx").exists()
    assert seen == ["2026-H2"]
    with pytest.raises(ReportError, match="unknown period"):
        build_report(store, "2027-Q1", tmp_path / "x.xlsx")


def test_cover_says_current_data_or_snapshot(store, tmp_path):
    from reports.build import analyse_period, period_note

    now = analyse_period(store, "2026-Q3")
    assert "current period" in period_note(now) and "当前数据" in period_note(now)
    past = analyse_period(store, "2026-Q2")
    assert "saved 2026-Q2 snapshot" in period_note(past)


def test_progress_page_opens_on_the_latest_period_as_dates(store, monkeypatch):
    from pathlib import Path

    from tests._auth import signed_in_app

    save_snapshot(store, "2026-H2", store_table(store))
    monkeypatch.setenv("GRIDMAP_STORE", str(store.path))
    at = signed_in_app(str(Path(cli.__file__).parent / "app.py"), default_timeout=120)
    at.switch_page("ui/pages/progress.py")
    at.run()
    assert not at.exception
    pick = at.selectbox(key="progress_period_pick")
    assert pick.options == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-H2"]
    assert pick.value == "2026-H2"


def test_period_target_uses_the_stored_target():
    from geo.indicators import period_target
    from geo.settings import load_profile

    profile = load_profile()
    rows = pd.DataFrame({"target": [0.3, 0.3], "value": [0.5, 0.1]})
    assert period_target(rows, "center_street_coverage", profile) == 0.3
    none = pd.DataFrame({"target": [None], "value": [0.5]})
    expected = get_indicator("center_street_coverage", profile).target(profile)
    assert period_target(none, "center_street_coverage", profile) == expected


def test_past_period_chart_draws_its_stored_target(store, monkeypatch):
    """A 2026-Q2 snapshot saved with a 30% target: its chart's target line is at 30%, the
    target its bar colours were judged against, not the current profile's."""
    import json
    from pathlib import Path

    import pyarrow

    from geo.settings import load_profile
    from tests._auth import signed_in_app

    q2 = load_snapshot(store, "2026-Q2")
    key = "center_street_coverage"
    q2.loc[q2["indicator"] == key, "target"] = 0.3
    save_snapshot(store, "2026-Q2", q2)
    assert get_indicator(key, load_profile()).target(load_profile()) != 0.3
    monkeypatch.setenv("GRIDMAP_STORE", str(store.path))
    at = signed_in_app(str(Path(cli.__file__).parent / "app.py"), default_timeout=120)
    at.session_state["progress_period"] = "2026-Q2"
    at.session_state["progress_section"] = "ranking"
    at.session_state["progress_rank_indicator"] = key
    at.session_state["progress_rank_level"] = "street"
    at.switch_page("ui/pages/progress.py")
    at.run()
    assert not at.exception
    charts = at.get("vega_lite_chart")
    assert charts
    proto = charts[0].proto
    spec = json.loads(proto.spec)
    rule = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "rule")
    data = next(d for d in proto.datasets if d.name == rule["data"]["name"])
    targets = pyarrow.ipc.open_stream(data.data.data).read_all().column("target").to_pylist()
    assert targets == [pytest.approx(30.0)]
    assert any("保存的目标" in c.value for c in at.caption)
