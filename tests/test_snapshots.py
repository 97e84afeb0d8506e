"""Period snapshots in the store, non-spatial values per period, and period comparison."""

from __future__ import annotations

import pandas as pd
import pytest

from data.snapshots import (
    SnapshotError,
    area_trends,
    check_period,
    compare_periods,
    get_plan_values,
    list_periods,
    load_snapshot,
    save_snapshot,
    set_plan_values,
    snapshot_params,
)
from data.store import GeoPackageStore
from geo.indicators import compute_indicators
from geo.settings import load_profile
from tests.test_indicators import _inputs

PROFILE = load_profile()


@pytest.fixture
def store(tmp_path) -> GeoPackageStore:
    return GeoPackageStore(tmp_path / "s.gpkg")


def _tables():
    q2 = compute_indicators(_inputs([True, False, False, False]), PROFILE)  # 100 of 500 = 20%
    q3 = compute_indicators(
        _inputs([True, True, False, True], period=2), PROFILE
    )  # 300 of 500 = 60%
    return q2, q3


def test_period_labels():
    assert check_period("2026-Q3") == "2026-Q3"
    assert check_period(" 2026-07 ") == "2026-07"
    for bad in ("2026Q3", "Q3", "2026-Q5", "26-Q1"):
        with pytest.raises(SnapshotError, match="period"):
            check_period(bad)


def test_save_load_roundtrip_keeps_other_periods(store):
    q2, q3 = _tables()
    save_snapshot(store, "2026-Q2", q2, params={"radii": {"neighborhood_center_street": 1000}})
    save_snapshot(store, "2026-Q3", q3, params={"note": "第三季度"})
    assert list_periods(store) == ["2026-Q2", "2026-Q3"]
    back = load_snapshot(store, "2026-Q2")
    pd.testing.assert_frame_equal(back, q2, check_dtype=False)
    assert snapshot_params(store, "2026-Q3")["params"] == {"note": "第三季度"}
    # saving a period again replaces only that period
    save_snapshot(store, "2026-Q2", q3)
    assert list_periods(store) == ["2026-Q2", "2026-Q3"]
    assert len(load_snapshot(store, "2026-Q2")) == len(q3)
    with pytest.raises(SnapshotError, match="2025-Q1.*saved periods: 2026-Q2, 2026-Q3"):
        load_snapshot(store, "2025-Q1")


def test_compare_known_change(store):
    q2, q3 = _tables()
    save_snapshot(store, "2026-Q2", q2)
    save_snapshot(store, "2026-Q3", q3)
    cmp = compare_periods(load_snapshot(store, "2026-Q2"), load_snapshot(store, "2026-Q3"), PROFILE)
    row = cmp.set_index(["indicator", "area_code"])
    city = row.loc[("center_street_coverage", "city")]
    assert city["value_before"] == pytest.approx(0.2)
    assert city["value_after"] == pytest.approx(0.6)
    assert city["change"] == pytest.approx(0.4)
    assert city["trend"] == "improved"
    assert row.loc[("center_street_coverage", "S1b"), "trend"] == "improved"  # 0 -> 1
    assert row.loc[("center_street_coverage", "S1a"), "trend"] == "unchanged"  # 1 -> 1
    # D2: P4 (100 of 300) covered in Q3 only
    assert row.loc[("center_street_coverage", "D2"), "change"] == pytest.approx(1 / 3)
    # toilets upgraded in V2: 80 -> 95 of 100 households
    assert row.loc[("sanitary_toilet_penetration", "S1b"), "change"] == pytest.approx(0.15)
    assert row.loc[("sanitary_toilet_penetration", "city"), "status_before"] == "close"
    assert row.loc[("sanitary_toilet_penetration", "city"), "status_after"] == "met"  # 185/200
    assert row.loc[("grids_with_worker", "city"), "trend"] == "unchanged"
    trends = area_trends(cmp, "street", ["center_street_coverage"]).set_index("area_code")
    assert trends.loc["S1b", "net"] == "improved"
    assert trends.loc["S1a", "net"] == "unchanged"


def test_compare_worsened_and_new():
    q2, q3 = _tables()
    cmp = compare_periods(q3, q2, PROFILE)  # backwards in time: coverage fell
    assert (
        cmp.set_index(["indicator", "area_code"]).loc[("center_street_coverage", "city"), "trend"]
        == "worsened"
    )
    q3_plan = compute_indicators(
        _inputs([True] * 4), PROFILE, plan_values={"green_space_ratio": 0.37}
    )
    cmp = compare_periods(q2, q3_plan, PROFILE).set_index(["indicator", "area_code"])
    assert cmp.loc[("green_space_ratio", "city"), "trend"] == "new"


def test_plan_values_per_period(store):
    q2, _ = _tables()
    save_snapshot(store, "2026-Q2", q2)
    assert set_plan_values(
        store, "2026-Q2", {"green_space_ratio": 0.37, "resident_satisfaction": 0.985}
    ) == {
        "green_space_ratio": 0.37,
        "resident_satisfaction": 0.985,
    }
    # the saved snapshot gains the city rows
    snap = load_snapshot(store, "2026-Q2").set_index("indicator")
    assert snap.loc["green_space_ratio", "value"] == pytest.approx(0.37)
    assert snap.loc["resident_satisfaction", "status"] == "met"
    # another period is independent; None removes a value
    set_plan_values(store, "2026-Q3", {"good_air_days_share": 0.8})
    set_plan_values(store, "2026-Q2", {"resident_satisfaction": None})
    assert get_plan_values(store, "2026-Q2") == {"green_space_ratio": 0.37}
    assert get_plan_values(store, "2026-Q3") == {"good_air_days_share": 0.8}
    assert "resident_satisfaction" not in set(load_snapshot(store, "2026-Q2")["indicator"])
    with pytest.raises(SnapshotError, match="green_space_ratio: 37 is not a share"):
        set_plan_values(store, "2026-Q2", {"green_space_ratio": 37})
    with pytest.raises(SnapshotError, match="center_street_coverage: not a non-spatial"):
        set_plan_values(store, "2026-Q2", {"center_street_coverage": 0.5})


def test_take_snapshots_of_two_periods_from_layers(tmp_path):
    """The whole pipeline (gap analysis -> indicators -> snapshot -> comparison) on the tiny city."""
    from data.snapshots import indicators_for_layers, take_snapshot
    from tests._progress_fixtures import tiny_layers

    q2, _ = indicators_for_layers(tiny_layers(1), PROFILE)
    store = GeoPackageStore(tmp_path / "city.gpkg")
    store.write(tiny_layers(2))
    save_snapshot(store, "2026-Q2", q2)
    q3 = take_snapshot(store, "2026-Q3", plan_values={"green_space_ratio": 0.37})
    assert list_periods(store) == ["2026-Q2", "2026-Q3"]
    assert get_plan_values(store, "2026-Q3") == {"green_space_ratio": 0.37}
    assert "profile" in snapshot_params(store, "2026-Q3")["params"]
    cmp = compare_periods(load_snapshot(store, "2026-Q2"), q3, PROFILE).set_index(
        ["indicator", "area_code"]
    )
    # C2 at (3500, 1000) covers P4 (0 m) and P3 (exactly 1000 m, the boundary counts):
    # 200 -> 500 of 500 residents; in S2 0 -> 300 of 300
    assert cmp.loc[("center_street_coverage", "city"), "value_before"] == pytest.approx(0.4)
    assert cmp.loc[("center_street_coverage", "city"), "value_after"] == pytest.approx(1.0)
    assert cmp.loc[("center_street_coverage", "S2"), "change"] == pytest.approx(1.0)
    assert cmp.loc[("center_street_coverage", "S2"), "status_after"] == "met"
    assert cmp.loc[("center_street_coverage", "S1a"), "trend"] == "unchanged"
    assert cmp.loc[("sanitary_toilet_penetration", "S1b"), "change"] == pytest.approx(0.15)
    assert cmp.loc[("shelter_places_per_resident", "city"), "trend"] == "unchanged"


def test_cli_snapshot_list_and_compare(tmp_path, capsys):
    import cli
    from tests._progress_fixtures import write_tiny_store

    path = tmp_path / "tiny.gpkg"
    write_tiny_store(path)
    args = [
        "snapshot",
        "--data",
        str(path),
        "--period",
        "2026-Q3",
        "--green-space",
        "37%",
        "--quiet",
    ]
    assert cli.main([*args, "--compare", "2026-Q2"]) == 0
    out = capsys.readouterr().out
    assert "建成区绿地率 / Green-space ratio of the built-up area: 37.0% (target 36.0%, met)" in out
    assert "街道级邻里中心覆盖率: +60.0 pp (improved)" in out
    assert cli.main(["snapshot", "--data", str(path), "--list"]) == 0
    assert capsys.readouterr().out.split() == ["2026-Q2", "2026-Q3"]
    assert cli.main(["snapshot", "--data", str(path), "--period", "Q3", "--quiet"]) == 2
    assert "expected a year, quarter" in capsys.readouterr().err


def test_snapshots_and_plan_values_are_audited(store):
    from auth.model import Scope, User

    planner = User(name="li", display_name="李", role="planner", scope=Scope("city"))
    q2, q3 = _tables()
    save_snapshot(store, "2026-Q2", q2, user=planner)
    save_snapshot(store, "2026-Q2", q3)  # again, from the command line: a replacement
    set_plan_values(store, "2026-Q2", {"green_space_ratio": 0.37}, user=planner)
    set_plan_values(store, "2026-Q2", {"green_space_ratio": 0.40}, user=planner)
    audit = store.accounts().read_audit().sort_values("at", kind="stable")
    snaps = audit[audit["action"] == "snapshot"]
    assert list(snaps["user_name"]) == ["li", "cli"]
    assert list(snaps["rows_added"]) == [len(q2), 0]
    assert list(snaps["rows_changed"]) == [0, len(q3)]
    edits = audit[audit["action"] == "edit"]
    assert list(edits["user_name"]) == ["li", "li"]
    last = edits["detail"].iloc[-1]
    assert last["period"] == "2026-Q2"
    assert last["before"] == {"green_space_ratio": 0.37}
    assert last["after"] == {"green_space_ratio": 0.40}
