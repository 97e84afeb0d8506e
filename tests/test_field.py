"""Field reports: limits and overdue, transitions, duplicates, clusters, KPIs, rankings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from field import clusters, duplicates, kpis, limits, periods, ranking, states, visits
from field.settings import FieldSettingsError, field_rules, field_rules_from_dict
from tests._field_fixtures import make_reports


@pytest.fixture(scope="module")
def rules():
    return field_rules()


# ----------------------------------------------------------------- settings
def test_profile_categories_and_limits(rules):
    assert "garbage" in rules.category_keys and "safety_hazard" in rules.category_keys
    assert rules.category("garbage").zh == "市容环境/垃圾"
    assert rules.category("garbage").limit_h("urgent") == 2.0
    with pytest.raises(FieldSettingsError, match="unknown report category 'nope'"):
        rules.category("nope")
    with pytest.raises(FieldSettingsError, match="urgency"):
        rules.category("garbage").limit_h("whenever")


def test_field_section_errors_name_the_setting():
    with pytest.raises(FieldSettingsError, match=r"missing section \[field\]"):
        field_rules_from_dict({})
    with pytest.raises(FieldSettingsError, match="misses 'urgent_h'"):
        field_rules_from_dict({"categories": [{"key": "a", "zh": "a", "en": "a", "ordinary_h": 1}]})


# ----------------------------------------------------------------- periods
def test_periods_are_beijing_quarters():
    times = pd.Series(["2026-06-30T15:59:00Z", "2026-06-30T16:00:00Z", "2026-12-31T20:00:00Z"])
    assert periods.period_of(times).tolist() == ["2026-Q2", "2026-Q3", "2027-Q1"]
    assert periods.shift_period("2026-Q1", -1) == "2025-Q4"
    assert periods.shift_period("2026-Q4", 1) == "2027-Q1"
    start, end = periods.period_bounds("2026-Q3")
    assert start == pd.Timestamp("2026-06-30T16:00Z") and end == pd.Timestamp("2026-09-30T16:00Z")
    with pytest.raises(ValueError, match="2026-Q3"):
        periods.period_bounds("2026Q3")


# ----------------------------------------------------------------- limits
def test_deadlines_from_category_and_urgency(rules):
    frame = make_reports(
        [
            {"created_at": "2026-07-01T00:00Z", "urgency": "urgent"},
            {"created_at": "2026-07-01T00:00Z", "category": "shelter"},
        ]
    )
    due = limits.deadlines(frame, rules)
    assert due["accept_due"].tolist() == [pd.Timestamp("2026-07-01T01:00Z")] * 2
    assert due["handle_due"].tolist() == [
        pd.Timestamp("2026-07-01T02:00Z"),  # garbage urgent: 2 h
        pd.Timestamp("2026-07-04T00:00Z"),  # shelter ordinary: 72 h
    ]


def test_overdue_on_hand_made_timestamps(rules):
    created = "2026-07-01T00:00Z"
    frame = make_reports(
        [
            {"created_at": created, "state": "new"},  # not accepted after 1 h
            {"created_at": created, "state": "accepted", "accepted_at": "2026-07-01T00:30Z"},
            {"created_at": created, "state": "dispatched", "urgency": "urgent"},  # 2 h limit
            {"created_at": created, "state": "handled", "handled_at": "2026-07-01T05:00Z"},
            {"created_at": created, "state": "rejected"},
        ]
    )
    at_90min = limits.overdue(frame, rules, "2026-07-01T01:30Z")
    assert at_90min.tolist() == [True, False, False, False, False]
    at_3h = limits.overdue(frame, rules, "2026-07-01T03:00Z")
    assert at_3h.tolist() == [True, False, True, False, False]
    at_2days = limits.overdue(frame, rules, "2026-07-03T00:00Z")
    assert at_2days.tolist() == [True, True, True, False, False]
    # exactly at the deadline is not yet late
    assert limits.overdue(frame.iloc[[2]], rules, "2026-07-01T02:00Z").tolist() == [False]
    late_h = limits.hours_overdue(frame, rules, "2026-07-01T03:00Z")
    assert late_h.tolist() == [2.0, 0.0, 1.0, 0.0, 0.0]


def test_on_time_and_hours_to_close(rules):
    frame = make_reports(
        [
            {
                "created_at": "2026-07-01T00:00Z",
                "state": "closed",
                "handled_at": "2026-07-01T23:00Z",
                "closed_at": "2026-07-02T06:00Z",
            },
            {"created_at": "2026-07-01T00:00Z", "state": "handled", "handled_at": "2026-07-03"},
            {"created_at": "2026-07-01T00:00Z", "state": "dispatched"},
        ]
    )
    assert limits.handled_on_time(frame, rules).tolist() == [True, False, pd.NA]
    hours = limits.hours_to_close(frame)
    assert hours.iloc[0] == 30.0 and np.isnan(hours.iloc[1])


def test_unknown_category_in_reports_is_named(rules):
    frame = make_reports([{"created_at": "2026-07-01", "category": "aliens"}])
    with pytest.raises(ValueError, match="aliens/ordinary"):
        limits.deadlines(frame, rules)


# ----------------------------------------------------------------- states
def test_transitions_by_role():
    assert states.check_transition("new", "accepted", "staff").target == "accepted"
    assert states.check_transition("dispatched", "handled", "worker").target == "handled"
    with pytest.raises(states.TransitionError, match="role 'worker' may not"):
        states.check_transition("new", "accepted", "worker")
    with pytest.raises(states.TransitionError, match="cannot go from 'new' to 'closed'"):
        states.check_transition("new", "closed", "admin")
    with pytest.raises(states.TransitionError, match="role 'viewer'"):
        states.check_transition("checked", "closed", "viewer")
    assert [t.target for t in states.transitions_from("handled", "staff")] == [
        "checked",
        "dispatched",
    ]
    assert states.transitions_from("closed") == []
    # every state is reachable from "new"
    reached, todo = {"new"}, ["new"]
    while todo:
        for t in states.transitions_from(todo.pop()):
            if t.target not in reached:
                reached.add(t.target)
                todo.append(t.target)
    assert reached == set(states.STATES)


# ----------------------------------------------------------------- duplicates
def test_possible_duplicates_same_category_nearby_open(rules):
    frame = make_reports(
        [
            {"created_at": "2026-07-01", "dx": 0},
            {"created_at": "2026-07-02", "dx": 60},  # 60 m: candidate
            {"created_at": "2026-07-02", "dx": 150},  # beyond 100 m
            {"created_at": "2026-07-02", "dx": 10, "category": "public_toilet"},
            {"created_at": "2026-07-02", "dx": 20, "state": "closed"},  # not open
            {"created_at": "2026-09-15", "dx": 30},  # 75 days apart
        ]
    )
    pairs = duplicates.possible_duplicates(frame.iloc[[0]], frame, rules)
    assert pairs["candidate_id"].tolist() == ["R2"]
    assert pairs["distance_m"].iloc[0] == pytest.approx(60, abs=0.01)
    assert pairs["days_apart"].iloc[0] == pytest.approx(1.0)
    empty = duplicates.possible_duplicates(frame.iloc[[3]], frame, rules)
    assert empty.empty


# ----------------------------------------------------------------- clusters
def test_recurring_problems_rule(rules):
    rules = replace(rules, cluster_radius_m=150.0, cluster_min_reports=4, cluster_periods=2)
    # four garbage reports chained 120 m apart (each within 150 m of the next) in two
    # quarters -> one cluster; three toilet reports together -> below the minimum of 4
    rows = [{"created_at": f"2026-0{6 + (i % 2)}-10", "dx": 120 * i} for i in range(4)]
    rows += [
        {"created_at": "2026-07-10", "dx": 5000 + i, "category": "public_toilet"} for i in range(3)
    ]
    rows += [{"created_at": "2026-07-10", "dx": 60, "state": "duplicate"}]  # does not count
    rows += [{"created_at": "2025-07-10", "dx": 30}]  # outside the last two quarters
    frame = make_reports(rows)
    found = clusters.recurring_problems(frame, rules, period="2026-Q3")
    assert len(found) == 1
    row = found.iloc[0]
    assert row["category"] == "garbage" and row["n_reports"] == 4
    assert row["report_ids"] == "R1,R2,R3,R4"
    assert row["radius_m"] == pytest.approx(180, abs=0.5)
    assert found.crs.to_epsg() == 4326
    # one quarter only: only two of the chain fall in 2026-Q3 -> no cluster
    one = clusters.recurring_problems(frame, replace(rules, cluster_periods=1), period="2026-Q3")
    assert one.empty


def test_cluster_labels_single_linkage():
    xy = np.array([[0, 0], [100, 0], [200, 0], [1000, 0]], dtype=float)
    labels = clusters.cluster_labels(xy, 150)
    assert labels[0] == labels[1] == labels[2] != labels[3]


# ----------------------------------------------------------------- KPIs
def _kpi_fixture():
    # street S1: 3 reports in 2026-Q3, S2: 1; one S1 report from Q2 still open
    return make_reports(
        [
            {  # handled in 10 h (on time, 24 h), closed after 20 h
                "created_at": "2026-07-01T00:00Z",
                "state": "closed",
                "accepted_at": "2026-07-01T00:30Z",
                "handled_at": "2026-07-01T10:00Z",
                "closed_at": "2026-07-01T20:00Z",
            },
            {  # handled late (30 h), closed after 40 h
                "created_at": "2026-07-02T00:00Z",
                "state": "closed",
                "accepted_at": "2026-07-02T00:30Z",
                "handled_at": "2026-07-03T06:00Z",
                "closed_at": "2026-07-03T16:00Z",
            },
            {"created_at": "2026-09-28T00:00Z", "state": "new"},  # overdue at Q3 end
            {"created_at": "2026-07-05T00:00Z", "street": "S2", "state": "rejected"},
            {
                "created_at": "2026-07-06T00:00Z",
                "street": "S2",
                "state": "accepted",
                "accepted_at": "2026-07-06T00:10Z",
            },
            {
                "created_at": "2026-05-01T00:00Z",
                "state": "dispatched",
                "accepted_at": "2026-05-01T00:10Z",
            },
        ]
    )


def test_report_kpis_per_street(rules):
    frame = _kpi_fixture()
    residents = pd.Series({"S1": 3000, "S2": 1000, "S3": 500})
    visit = pd.Series({"S1": 0.5, "S2": 1.0})
    out = kpis.report_kpis(
        frame,
        rules,
        period="2026-Q3",
        level="street",
        now="2026-12-01T00:00Z",
        residents=residents,
        visit_share=visit,
    )
    s1, s2 = out.loc["S1"], out.loc["S2"]
    assert s1["reports"] == 3 and s2["reports"] == 1  # the rejected one does not count
    # S1: due = 2 handled + the new one past its 24 h limit at Q3 end -> 1 on time of 3
    assert s1["on_time_share"] == pytest.approx(1 / 3)
    assert s1["median_hours_to_close"] == pytest.approx(30.0)
    # at the end of Q3 (reference time), overdue: the new one and the Q2 dispatched one
    assert s1["overdue_now"] == 2 and s2["overdue_now"] == 1
    assert s1["per_1000_residents"] == pytest.approx(1.0)
    assert out.loc["S3", "reports"] == 0 and out.loc["S3", "per_1000_residents"] == 0
    assert s1["visit_share"] == 0.5
    # Q2 seen from its own end: the dispatched report was on time then? no: filed 05-01,
    # 24 h limit -> overdue at Q2 end; not handled -> on-time share 0
    q2 = kpis.report_kpis(frame, rules, period="2026-Q2", level="street", now="2026-12-01")
    assert q2.loc["S1", "reports"] == 1 and q2.loc["S1", "on_time_share"] == 0


def test_kpis_with_change(rules):
    frame = _kpi_fixture()
    out = kpis.kpis_with_change(frame, rules, period="2026-Q3", level="street", now="2026-12-01")
    assert out.loc["S1", "reports_change"] == 2  # 3 now, 1 in Q2
    assert out.loc["S1", "on_time_share_change"] == pytest.approx(1 / 3)


def test_counts_by_category(rules):
    frame = _kpi_fixture()
    table = kpis.counts_by_category(
        frame, period="2026-Q3", level="street", categories=rules.category_keys
    )
    assert table.loc["S1", "garbage"] == 3 and table.loc["S2", "garbage"] == 1
    assert list(table.columns) == list(rules.category_keys)


# ----------------------------------------------------------------- ranking
def test_last_twice_on_known_rankings():
    q2 = pd.DataFrame(
        {"on_time_share": [0.9, 0.5, 0.7], "overdue_now": [1, 3, 5], "reports": [10, 10, 10]},
        index=["A", "B", "C"],
    )
    q3 = pd.DataFrame(
        {"on_time_share": [0.4, 0.4, 0.8], "overdue_now": [0, 2, 9], "reports": [10, 10, 2]},
        index=["A", "B", "C"],
    )
    flags = ranking.last_twice(
        {"2026-Q2": q2, "2026-Q3": q3},
        period="2026-Q3",
        directions={"on_time_share": True, "overdue_now": False, "reports": None},
    )
    # on-time: B last in Q2 (0.5), A and B tied last in Q3 -> B; overdue: C worst twice
    assert flags[["indicator", "area"]].values.tolist() == [
        ["on_time_share", "B"],
        ["overdue_now", "C"],
    ]
    # with a minimum of 5 reports, C (2 in Q3) is not ranked in Q3 -> B becomes last in Q3
    # for overdue (2), but B was not last in Q2 -> no overdue flag
    strict = ranking.last_twice(
        {"2026-Q2": q2, "2026-Q3": q3},
        period="2026-Q3",
        directions={"on_time_share": True, "overdue_now": False},
        min_reports=5,
    )
    assert strict["indicator"].tolist() == ["on_time_share"]
    assert ranking.last_twice({"2026-Q3": q3}, period="2026-Q3", directions={}).empty


# ----------------------------------------------------------------- visits
def test_visit_share_named_and_counted():
    grids = pd.DataFrame(
        {"grid_code": ["G1", "G2", "G3"], "community": ["C1", "C1", "C2"], "households": [4, 6, 10]}
    )
    rows = pd.DataFrame(
        {
            "grid_code": ["G1", "G1", "G1", "G2", "G3", "G3"],
            "household": ["h1", "h1", "h2", None, None, None],
            "visited_on": [
                "2026-07-01",
                "2026-08-01",
                "2026-07-03",
                "2026-07-05",
                "2026-07-09",
                "2026-04-01",
            ],
            "households_visited": [1, 1, 1, 9, 5, 5],
        }
    )
    per_grid = visits.visited_per_grid(rows, period="2026-Q3")
    assert per_grid.to_dict() == {"G1": 2.0, "G2": 9.0, "G3": 5.0}
    share = visits.visit_share(rows, grids, period="2026-Q3", level="community")
    # C1: (2 + min(9, 6)) / 10; C2: 5 / 10 (the Q2 row does not count)
    assert share.to_dict() == {"C1": 0.8, "C2": 0.5}


def test_validate_visit_collects_problems():
    with pytest.raises(visits.VisitError, match="not one of your grids.*not a date"):
        visits.validate_visit({"grid_code": "X", "household": "h", "visited_on": "soon"}, {"G1"})
    ok = visits.validate_visit(
        {"grid_code": "G1", "households_visited": "12", "visited_on": "2026-07-01"}, {"G1"}
    )
    assert ok["households_visited"] == 12 and ok["household"] is None


# ----------------------------------------------------------------- summary and export section
def test_summary_and_export_section(rules):
    import geopandas as gpd

    from field.summary import summarise
    from reports.field import field_report_section

    frame = _kpi_fixture()
    grids = gpd.GeoDataFrame(
        {
            "grid_code": ["G1", "G2"],
            "street": ["S1", "S2"],
            "community": ["C1", "C2"],
            "district": ["D1", "D1"],
            "residents": [3000, 1000],
            "households": [1000, 400],
        },
        geometry=[None, None],
        crs="EPSG:4326",
    )
    visits_rows = pd.DataFrame(
        {
            "grid_code": ["G1"],
            "household": [None],
            "visited_on": ["2026-08-01"],
            "households_visited": [500],
        }
    )
    frame["synthetic"] = False
    summary = summarise(frame, visits_rows, grids, rules, period="2026-Q3", now="2026-12-01")
    city = summary.city.iloc[0]
    assert city["reports"] == 4 and city["visit_share"] == pytest.approx(500 / 1400)
    assert summary.areas["street"].loc["S1", "per_1000_residents"] == pytest.approx(1.0)
    section = field_report_section(summary, rules, figures=False)
    titles = [t.title for t in section.tables]
    assert "重复发生的问题" in titles and "连续两个季度排名末位" in titles
    assert dict(section.key_figures)["上报数"] == "4"


def test_queue_order_overdue_first(rules):
    from field.queue import queue_order

    frame = make_reports(
        [
            {"created_at": "2026-07-03T00:00Z", "state": "accepted"},  # newest, not late
            {"created_at": "2026-07-01T00:00Z", "state": "dispatched"},  # 24 h late at now
            {"created_at": "2026-07-01T12:00Z", "state": "new"},  # late to accept: 35 h
            {"created_at": "2026-07-02T00:00Z", "state": "closed"},
        ]
    )
    order = queue_order(frame, rules, "2026-07-03T00:00Z")
    assert order["report_id"].tolist() == ["R3", "R2", "R1", "R4"]
    assert order["overdue"].tolist() == [True, True, False, False]
