"""The Service-gaps page with walking distance: the distance switch, what straight lines
overstate, the walking layers on the map, and the message for a store without roads."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString
from test_pages_gaps import (
    METRIC,
    X0,
    Y0,
    _app,
    _assert_coverage_matches,
    _coverage_rows,
    _layers,
    _table,
    suggest_on_page,
    suggested,
)
from test_pages_gaps import small_store as plain_store

from data.store import GeoPackageStore
from geo.analysis import run_all
from geo.settings import load_profile
from tests._apptest import map_args


def roads() -> gpd.GeoDataFrame:
    """A road along every row of population points (y = 125 + 250 j), joined by one road at
    x = 1000: east-west walks are short, north-south walks go round by x = 1000."""
    rows = [LineString([(X0, Y0 + y), (X0 + 2000, Y0 + y)]) for y in range(125, 2000, 250)]
    spine = LineString([(X0 + 1000, Y0), (X0 + 1000, Y0 + 2000)])
    return gpd.GeoDataFrame(
        {"road_id": [f"R{i}" for i in range(len(rows) + 1)]}, geometry=[*rows, spine], crs=METRIC
    )


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    path = plain_store(tmp_path / "gaps.gpkg")
    GeoPackageStore(path).write({"roads": roads()}, mode="replace")
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    return path


def test_walking_switch(store):
    at = _app()
    at.radio(key="gaps_distance").set_value("network").run()
    assert not at.exception, at.exception
    walked = run_all(_layers(store), load_profile().with_distance("network"))
    straight = run_all(_layers(store), load_profile())
    _assert_coverage_matches(_coverage_rows(at), walked)
    first = next(iter(walked.coverage))
    assert walked.coverage[first].residents_covered < straight.coverage[first].residents_covered
    over = _table(at, "overstated", "covered_network")
    expected = walked.overstated("district", [first])
    assert over["overstated"].sum() == expected["overstated"].sum() > 0
    summary = at.session_state["gaps_map_summary"]
    assert summary["overstated"] == len(walked.overstated_grids(first)) > 0
    assert summary["service_area"] == 1
    assert any("沿道路步行距离" in c.value for c in at.caption)
    found = walked.network_findings()
    note = next(c.value for c in at.caption if "步行道路网" in c.value)
    assert f"{found['graph']['length_km']:,.1f} km" in note
    assert f"居民 {found['residents_off_network']:,} 人" in note


def test_walking_without_roads_says_which_layer(tmp_path, monkeypatch):
    path = plain_store(tmp_path / "plain.gpkg")
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    at = _app()
    at.radio(key="gaps_distance").set_value("network").run()
    assert not at.exception, at.exception
    assert any("roads" in e.value for e in at.error)
    _assert_coverage_matches(_coverage_rows(at), run_all(_layers(path), load_profile()))


def test_gap_map_draws_the_gates_of_its_kinds_parks(store):
    """The emergency shelter E1 becomes a park with one gate: the gap map of emergency
    shelters draws the gate (walking or not), the map of another kind does not."""
    from shapely.geometry import Point, box

    from ui.gaps.keys import MAP_KIND, MAP_SUMMARY

    s = GeoPackageStore(store)
    shelters = s.read("shelters").to_crs(METRIC)
    park = box(X0 + 450, Y0 + 1450, X0 + 550, Y0 + 1550)
    shelters.loc[shelters["shelter_id"] == "E1", "geometry"] = park
    gates = gpd.GeoDataFrame(
        {
            "entrance_id": ["G1"],
            "facility_layer": ["shelters"],
            "facility_key": ["E1"],
            "name": ["小广场北门"],
        },
        geometry=[Point(X0 + 500, Y0 + 1550)],
        crs=METRIC,
    )
    s.write({"shelters": shelters, "entrances": gates}, mode="replace")
    at = _app()
    for distance in ("straight", "network"):
        at.radio(key="gaps_distance").set_value(distance).run()
        at.selectbox(key=MAP_KIND).set_value("shelters_emergency").run()
        assert not at.exception, at.exception
        assert at.session_state[MAP_SUMMARY].get("entrances") == 1, distance
        assert "小广场北门" in _map_scripts(at)
        at.selectbox(key=MAP_KIND).set_value("neighborhood_centers_street").run()
        assert "entrances" not in at.session_state[MAP_SUMMARY], distance


def _map_scripts(at) -> str:
    """The scripts of every map on the page, joined."""
    return "\n".join(args["script"] for args in map_args(at))


def test_suggest_sites_along_roads(store):
    """With walking distance switched on, the page's suggested sites cover the cells within a
    walk of the radius along roads: the same as :func:`geo.siting.suggest_sites` with the walk,
    and fewer residents than the straight-line suggestion on this store (north-south walks go
    round by x = 1000)."""
    at = _app()
    at.radio(key="gaps_distance").set_value("network").run()
    suggest_on_page(at)
    expected = {
        m: suggested(store, load_profile().with_distance(m)) for m in ("network", "straight")
    }
    walked = expected["network"]
    sites = _table(at, "cumulative_pct")
    assert list(sites["newly_covered"]) == [round(v) for v in walked.sites["newly_covered"]]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["新增覆盖"] == f"{walked.covered:,.0f} 人"
    assert walked.covered != expected["straight"].covered
