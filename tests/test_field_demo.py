"""Synthetic field reports of the demo store: labelled, believable, and every chart has data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from scipy.spatial import cKDTree

from field import clusters, kpis, ranking
from field.demo import demo_field_tables
from field.settings import field_rules
from field.store import GeoPackageFieldStore
from geo.crs import to_metric

PERIODS = ("2026-Q2", "2026-Q3")


@pytest.fixture(scope="module")
def demo(demo_store_path):
    from data.store import GeoPackageStore

    layers = GeoPackageStore(demo_store_path).read_layers()
    reports, steps, visits = demo_field_tables(layers, field_rules(), periods=PERIODS)
    frame = gpd.GeoDataFrame(
        reports, geometry=gpd.points_from_xy(reports["lon"], reports["lat"], crs="EPSG:4326")
    )
    return layers, frame, steps, visits


def test_demo_reports_are_synthetic_and_deterministic(demo):
    layers, frame, steps, visits = demo
    assert frame["synthetic"].all() and visits["synthetic"].all()
    assert frame["description"].str.startswith("【示例】").all()
    again, _, _ = demo_field_tables(layers, field_rules(), periods=PERIODS)
    assert again["created_at"].equals(frame["created_at"].reset_index(drop=True))
    assert set(frame["category"]) == set(field_rules().category_keys)
    assert frame["street"].notna().all()
    # every step of a report is there: one "new" step per report
    assert (steps["to_state"] == "new").sum() == len(frame)


def test_demo_has_overdue_clusters_and_last_twice(demo):
    layers, frame, _, _ = demo
    rules = field_rules()
    q3 = kpis.report_kpis(frame, rules, period="2026-Q3", level="street", now="2027-01-01")
    assert q3["overdue_now"].sum() > 0
    assert 0.5 < q3["on_time_share"].mean() < 1.0
    found = clusters.recurring_problems(frame, rules, period="2026-Q3")
    assert len(found) > 0
    table = {
        p: kpis.report_kpis(frame, rules, period=p, level="street", now="2027-01-01")
        for p in PERIODS
    }
    flags = ranking.last_twice(
        table, period="2026-Q3", directions=kpis.HIGHER_IS_BETTER, min_reports=5
    )
    assert not flags.empty


def test_more_garbage_reports_where_garbage_points_are_far(demo):
    layers, frame, _, _ = demo
    pop = to_metric(layers["population"], "EPSG:4546")
    san = to_metric(layers["sanitation_facilities"], "EPSG:4546")
    points = san[san["kind"] == "garbage_point"]
    tree = cKDTree(np.column_stack([points.geometry.x, points.geometry.y]))
    far = tree.query(np.column_stack([pop.geometry.x, pop.geometry.y]))[0] > 1300
    garbage = to_metric(frame[frame["category"] == "garbage"], "EPSG:4546")
    nearest_pop = cKDTree(np.column_stack([pop.geometry.x, pop.geometry.y])).query(
        np.column_stack([garbage.geometry.x, garbage.geometry.y])
    )[1]
    residents = pop["residents"].to_numpy(dtype=float)
    share_far_reports = far[nearest_pop].mean()
    share_far_residents = residents[far].sum() / residents.sum()
    assert share_far_reports > 1.3 * share_far_residents


def test_demo_store_holds_the_field_tables(demo_store_path):
    store = GeoPackageFieldStore(demo_store_path)
    reports = store.reports()
    assert len(reports) > 1000 and reports["synthetic"].all()
    assert len(store.visits()) > 0
