"""AppTest of the "Service gaps" page on a small hand-made store.

The page's numbers are compared with the geo functions' results for the same parameters.

Store (EPSG:4546, metres from an origin near Shiyan): a 2 km x 2 km district split into two
streets/communities (x < 1000 and x >= 1000) and four 1 km grids; 64 population points on a
250 m lattice at 125 + 250 i; facilities on multiples of 250 m, so no point is ever exactly on a
radius that is a multiple of 125 m (distances are 125 m x sqrt(odd² + odd²)).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box
from streamlit.testing.v1 import AppTest

from data.store import GeoPackageStore
from geo.analysis import prepare, run_all
from geo.coverage import gap_cells
from geo.settings import load_profile
from geo.siting import SolverLimits, suggest_sites
from geo.whatif import apply_proposals
from layers import LAYERS
from tests._auth import signed_in_app

ROOT = Path(__file__).resolve().parent.parent
PAGE = "ui/pages/gaps.py"
METRIC = "EPSG:4546"
X0, Y0 = 480_000.0, 3_612_000.0
TIMEOUT = 180


def _p(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def _box(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def small_store(path: Path) -> Path:
    lattice = 125 + 250 * np.arange(8)
    xs, ys = np.meshgrid(lattice, lattice)
    xs, ys = xs.ravel(), ys.ravel()
    residents = 10 + (np.arange(64) % 5) * 3
    frames = {
        "districts": gpd.GeoDataFrame(
            {"code": ["420302"], "name": ["测试区"], "parent_code": [None]},
            geometry=[_box(0, 0, 2000, 2000)],
            crs=METRIC,
        ),
        "streets": gpd.GeoDataFrame(
            {
                "code": ["S1", "S2"],
                "name": ["西街道", "东街道"],
                "parent_code": ["420302", "420302"],
            },
            geometry=[_box(0, 0, 1000, 2000), _box(1000, 0, 2000, 2000)],
            crs=METRIC,
        ),
        "communities": gpd.GeoDataFrame(
            {"code": ["C1", "C2"], "name": ["西社区", "东社区"], "parent_code": ["S1", "S2"]},
            geometry=[_box(0, 0, 1000, 2000), _box(1000, 0, 2000, 2000)],
            crs=METRIC,
        ),
        "grids": gpd.GeoDataFrame(
            {
                "grid_code": [f"420302001001{i:03d}" for i in range(1, 5)],
                "grid_name": ["一", "二", "三", "四"],
                "community": ["西社区", "西社区", "东社区", "东社区"],
                "street": ["西街道", "西街道", "东街道", "东街道"],
                "district": ["测试区"] * 4,
                "worker_name": ["甲", "乙", None, "丁"],
                "households": [320, 400, 250, 480],
                "residents": [250, 260, 270, 280],
                "community_code": ["C1", "C1", "C2", "C2"],
            },
            geometry=[
                _box(0, 0, 1000, 1000),
                _box(0, 1000, 1000, 2000),
                _box(1000, 0, 2000, 1000),
                _box(1000, 1000, 2000, 2000),
            ],
            crs=METRIC,
        ),
        "population": gpd.GeoDataFrame(
            {"residents": residents, "households": residents // 3},
            geometry=[_p(x, y) for x, y in zip(xs, ys, strict=True)],
            crs=METRIC,
        ),
        "neighborhood_centers": gpd.GeoDataFrame(
            {
                "center_id": ["N1", "N2"],
                "name": ["街道中心", "社区中心"],
                "level": ["street", "community"],
            },
            geometry=[_p(500, 500), _p(1500, 1500)],
            crs=METRIC,
        ),
        "shelters": gpd.GeoDataFrame(
            {
                "shelter_id": ["E1", "F1"],
                "name": ["小广场", "体育场"],
                "shelter_class": ["emergency", "fixed_short"],
                "effective_area_m2": [400.0, 2000.0],
                "capacity": pd.array([100, None], dtype="Int64"),
            },
            geometry=[_p(500, 1500), _p(1000, 1000)],
            crs=METRIC,
        ),
        "sanitation_facilities": gpd.GeoDataFrame(
            {
                "facility_id": ["G1", "T1"],
                "name": ["收集点", "公厕"],
                "kind": ["garbage_point", "public_toilet"],
                "village_code": [None, None],
            },
            geometry=[_p(1750, 250), _p(250, 250)],
            crs=METRIC,
        ),
        "villages": gpd.GeoDataFrame(
            {
                "village_code": ["V1", "V2"],
                "name": ["东村", "西村"],
                "township": ["东街道", "西街道"],
                "county": ["测试区", "测试区"],
                "households": [100, 100],
                "sanitary_toilet_households": [95, 50],
                "garbage_collection": pd.array([None, None], dtype="boolean"),
                "sewage_treatment": pd.array([True, False], dtype="boolean"),
            },
            geometry=[_p(1750, 500), _p(250, 1750)],
            crs=METRIC,
        ),
    }
    GeoPackageStore(path).write(frames)
    return path


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    path = small_store(tmp_path / "gaps.gpkg")
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    return path


def _layers(path: Path):
    s = GeoPackageStore(path)
    return {name: s.read(name) for name in LAYERS}


def _app() -> AppTest:
    at = signed_in_app(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first dataframe shown that has all of `columns`."""
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert found, f"no dataframe with columns {columns}"
    return found[0]


def _coverage_rows(at: AppTest) -> pd.DataFrame:
    table = _table(at, "label", "residents_covered", "target")
    assert list(table["label"]) == [k.label_zh for k in load_profile().facility_kinds.values()]
    return table.set_index(pd.Index(list(load_profile().facility_kinds)))


def _assert_coverage_matches(table: pd.DataFrame, expected) -> None:
    for kind, res in expected.coverage.items():
        row = table.loc[kind]
        assert row["radius_m"] == res.radius_m
        assert row["residents_total"] == res.residents_total
        assert row["residents_covered"] == res.residents_covered, kind
        assert row["residents_uncovered"] == res.residents_uncovered
        assert row["facilities"] == res.facilities
        assert row["share_pct"] == pytest.approx(res.share * 100)


def test_page_shows_the_analysis_numbers(store):
    at = _app()
    assert at.title[0].value == "服务缺口"
    expected = run_all(_layers(store), load_profile())
    table = _coverage_rows(at)
    _assert_coverage_matches(table, expected)
    # targets from the profile; kinds without one show a dash
    assert table.loc["neighborhood_centers_street", "target"] == "85.0%"
    assert table.loc["garbage_point", "target"] == "—"
    # hand check: 64 points, residents 10 + 3 (i mod 5): 64 * 10 + 3 * (0+1+2+3+4) * 12 + 3 * (0+1+2+3)
    assert table["residents_total"].iloc[0] == 640 + 3 * 10 * 12 + 3 * 6 == 1018
    # the street-level centre at (500, 500) reaches every lattice point within 1000 m
    assert 0 < table.loc["neighborhood_centers_street", "residents_covered"] < 1018
    # worst list: first row is the area with the most uncovered residents
    first_kind = next(iter(load_profile().facility_kinds))
    worst = expected.coverage[first_kind].worst("district")
    rollup = _table(at, "rank", "code", "residents_uncovered")
    assert rollup["residents_uncovered"].iloc[0] == worst["residents_uncovered"].iloc[0]
    # map: hot-spot cells of the kind shown
    summary = at.session_state["gaps_map_summary"]
    assert summary["gap_cells"] == len(expected.gap_cells[first_kind])
    assert summary["facilities"] == 1
    # shelter capacity tab shows the nearest-assignment figures
    near = expected.capacity.groups["emergency"].nearest.summary()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["超载场所"] == f"{near['overloaded_shelters']:,} / {near['shelters']:,}"
    assert metrics["场所容量合计"] == f"{near['capacity']:,} 人"


def test_changing_one_radius_recomputes_that_kind(store):
    at = _app()
    at.number_input(key="gaps_p_radii_shelter_emergency").set_value(600.0).run()
    assert not at.exception, at.exception
    profile = load_profile().with_overrides(radii={"shelter_emergency": 600})
    expected = run_all(_layers(store), profile)
    table = _coverage_rows(at)
    _assert_coverage_matches(table, expected)
    assert table.loc["shelters_emergency", "radius_m"] == 600
    # the detour factor applies to every kind
    at.number_input(key="gaps_p_radii_detour_factor").set_value(1.3).run()
    expected = run_all(_layers(store), profile.with_overrides(radii={"detour_factor": 1.3}))
    _assert_coverage_matches(_coverage_rows(at), expected)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    pt = gpd.GeoSeries([_p(x, y)], crs=METRIC).to_crs("EPSG:4326").iloc[0]
    return round(pt.x, 6), round(pt.y, 6)


def test_whatif_typed_coordinates(store):
    at = _app()
    lon, lat = _lonlat(1500, 500)
    at.selectbox(key="gaps_proposal_kind").set_value("shelters_emergency").run()
    at.number_input(key="gaps_proposal_lon").set_value(lon)
    at.number_input(key="gaps_proposal_lat").set_value(lat)
    at.number_input(key="gaps_proposal_area").set_value(800.0)
    at.button(key="gaps_proposal_add").click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["gaps_proposals"]) == 1
    layers = prepare(_layers(store), load_profile())
    props = gpd.GeoDataFrame(
        {"kind": ["shelters_emergency"], "effective_area_m2": [800.0]},
        geometry=gpd.points_from_xy([lon], [lat]),
        crs="EPSG:4326",
    )
    expected = apply_proposals(layers, props, load_profile())
    change = _table(at, "facilities_before", "covered_after")
    assert change["newly_covered"].iloc[0] == expected.change()["newly_covered"].iloc[0] > 0
    assert change["covered_after"].iloc[0] == expected.change()["covered_after"].iloc[0]
    cap = _table(at, "newly_placed")
    assert cap["newly_placed"].iloc[0] == expected.capacity_change()["newly_placed"].iloc[0]
    at.button(key="gaps_proposal_clear").click().run()
    assert at.session_state["gaps_proposals"] == []


def suggest_on_page(at: AppTest) -> None:
    """Ask the page for 2 emergency shelter sites."""
    at.selectbox(key="gaps_site_kind").set_value("shelters_emergency")
    at.number_input(key="gaps_site_k").set_value(2)
    at.button(key="gaps_site_run").click().run()
    assert not at.exception, at.exception


def suggested(store: Path, profile):
    """What :func:`geo.siting.suggest_sites` finds for :func:`suggest_on_page`'s question (with
    the walk when `profile` walks emergency shelters)."""
    from geo.coverage import walk_of

    done = run_all(_layers(store), profile)
    result = done.coverage["shelters_emergency"]
    return suggest_sites(
        gap_cells(done.population, result.covered),
        None,
        k=2,
        radius_m=500,
        weight="residents_uncovered",
        limits=SolverLimits.of(profile),
        walk=walk_of(done.layers, profile) if result.distance_mode == "network" else None,
    )


def test_suggest_sites(store):
    at = _app()
    suggest_on_page(at)
    profile = load_profile()
    expected = suggested(store, profile)
    sites = _table(at, "cumulative_pct")
    assert list(sites["newly_covered"]) == [round(v) for v in expected.sites["newly_covered"]]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["求解方法"] == "精确 MILP"
    assert metrics["新增覆盖"] == f"{expected.covered:,.0f} 人"
    assert metrics["与最优的最大差距"] == "0.00%"
    area = profile.analysis.proposed_shelter_area_m2
    assert any("5,000 m²" in c.value for c in at.caption)  # the page says what a site counts as
    at.button(key="gaps_site_to_whatif").click().run()
    rows = at.session_state["gaps_proposals"]
    assert len(rows) == len(expected.sites)
    # a suggested shelter has the profile's default area, so it adds capacity, not load
    assert [r["effective_area_m2"] for r in rows] == [area] * len(rows)
    assert [r["shelter_class"] for r in rows] == ["emergency"] * len(rows)
    cap = _table(at, "newly_placed").set_index("capacity_before")
    row = cap.iloc[0]
    assert row["capacity_after"] - cap.index[0] == len(rows) * int(area // 1.0)
    assert row["over_capacity_after"] <= row["over_capacity_before"]


def test_english(store):
    at = signed_in_app(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["lang"] = "en"
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Service gaps"
    assert at.dataframe[0].value["label"].iloc[0] == "Street-level neighborhood centers"


def test_only_the_changed_kind_is_recomputed(store, analysis_calls):
    calls = analysis_calls
    at = _app()
    assert sorted(calls["coverage"]) == sorted(load_profile().facility_kinds)
    assert len(calls["distance"]) == len(load_profile().facility_kinds)
    calls["coverage"].clear()
    calls["distance"].clear()
    at.number_input(key="gaps_p_radii_public_toilet").set_value(375.0).run()
    assert calls["coverage"] == ["public_toilet"]  # one kind recomputed, from cached distances
    assert calls["distance"] == []
    at.number_input(key="gaps_p_targets_center_street_coverage").set_value(50.0).run()
    assert calls["coverage"] == ["public_toilet"]  # a target changes no coverage


def test_page_matches_cli_json(store, tmp_path):
    """The page and ``cli.py gaps --json`` show the same numbers for the same parameters."""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "gaps",
            "--data",
            str(store),
            "--out",
            str(tmp_path / "out"),
            "--json",
            "--radius",
            "shelters_emergency=625",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    cli = json.loads(out.stdout)["coverage"]
    at = _app()
    at.number_input(key="gaps_p_radii_shelter_emergency").set_value(625.0).run()
    table = _coverage_rows(at)
    assert set(cli) == set(load_profile().facility_kinds)
    for kind, row in cli.items():
        assert table.loc[kind, "radius_m"] == row["radius_m"]
        assert table.loc[kind, "residents_total"] == row["residents_total"]
        assert table.loc[kind, "residents_covered"] == row["residents_covered"], kind


def test_whatif_remove_one_proposal(store):
    at = _app()
    at.session_state["gaps_proposals"] = []
    for x in (500, 1500):
        lon, lat = _lonlat(x, 1500)
        at.number_input(key="gaps_proposal_lon").set_value(lon)
        at.number_input(key="gaps_proposal_lat").set_value(lat)
        at.button(key="gaps_proposal_add").click().run()
    assert [round(r["lon"], 6) for r in at.session_state["gaps_proposals"]] == [
        _lonlat(500, 1500)[0],
        _lonlat(1500, 1500)[0],
    ]
    at.multiselect(key="gaps_proposal_remove").set_value([0])
    at.button(key="gaps_proposal_remove_go").click().run()
    assert not at.exception, at.exception
    rows = at.session_state["gaps_proposals"]
    assert len(rows) == 1 and round(rows[0]["lon"], 6) == _lonlat(1500, 1500)[0]
    props = _table(at, "proposal_id", "newly_covered")
    assert list(props["proposal_id"]) == ["P1"]


def test_demo_store_page(demo_store_path, monkeypatch):
    """The page on the Shiyan demo store shows run_all's numbers and a bounded site suggestion."""
    monkeypatch.setenv("GRIDMAP_STORE", str(demo_store_path))
    at = _app()
    expected = run_all(_layers(demo_store_path), load_profile())
    _assert_coverage_matches(_coverage_rows(at), expected)
    at.number_input(key="gaps_site_k").set_value(3)
    at.button(key="gaps_site_run").click().run()
    assert not at.exception, at.exception
    sites = _table(at, "cumulative_pct")
    assert len(sites) == 3 and (sites["newly_covered"].diff().dropna() <= 0).all()


def test_explanations_follow_the_language(store):
    """Grid-check details and village shortfalls are built in geo/ in both languages."""
    at = _app()
    problems = _table(at, "check", "detail")
    villages = _table(at, "shortfalls")
    assert len(problems) and len(villages)
    zh = " ".join(problems["detail"]) + " ".join(villages["shortfalls"])
    for word in ("households", "grid worker", "toilets", "garbage", "recorded", "overlap"):
        assert word not in zh
    assert "户" in zh or "网格员" in zh or "登记" in zh
    at.sidebar.radio(key="lang").set_value("en").run()
    en = " ".join(_table(at, "check", "detail")["detail"]) + " ".join(
        _table(at, "shortfalls")["shortfalls"]
    )
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.replace("：", ""))


def test_two_resident_totals_are_named_apart(store):
    """The explorer sums grid records, this page population points: different names, and a note."""
    at = _app()
    assert any("人口点居民" in c.value and "登记常住人口" in c.value for c in at.caption)
    from ui.gaps.tables import COLUMNS

    assert COLUMNS["residents_total"][:2] == ("人口点居民", "Residents of population points")


def test_an_import_recomputes_only_what_reads_the_imported_layer(store, monkeypatch):
    """Replacing the shelters layer: the shelter kinds are computed again (for everyone), the
    neighborhood-centre and toilet coverage come from the cache, and no cache is cleared."""
    import geo.coverage
    from data.importing import import_file

    kinds: list[str] = []
    real = geo.coverage.coverage_from_distance

    def coverage(population, dist, **kw):
        kinds.append(kw["kind"])
        return real(population, dist, **kw)

    monkeypatch.setattr(geo.coverage, "coverage_from_distance", coverage)
    at = _app()
    assert sorted(kinds) == sorted(load_profile().facility_kinds)
    kinds.clear()
    gs = GeoPackageStore(store)
    before = gs.layer_versions()
    shelters = gs.read("shelters")
    path = store.parent / "shelters.geojson"
    path.write_text(shelters.to_json(), encoding="utf-8")
    import_file(path, layer="shelters", store=gs)
    after = gs.layer_versions()
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"shelters", "gridmap_meta"}
    at.run()
    assert not at.exception, at.exception
    shelter_kinds = {
        k for k, spec in load_profile().facility_kinds.items() if spec.layer == "shelters"
    }
    assert sorted(kinds) == sorted(shelter_kinds)


def test_gap_rows_are_named_and_shown_on_the_map(store):
    """Hot-spot cells and grid problems carry street, community and grid names; a selected
    row is drawn, highlighted, on a map below the table."""
    at = _app()
    cells = _table(at, "cell_id", "street", "community", "grid_name")
    assert (cells["street"] != "").all() and (cells["community"] != "").any()
    problems = _table(at, "check", "grid_code", "grid_name", "community", "street")
    named = problems[problems["grid_code"].astype(str) != ""]
    assert len(named) and (named["grid_name"] != "").all()
    assert "gaps_problems_map_summary" not in at.session_state
    at.session_state["gaps_problems_table"] = {
        "selection": {"rows": [0], "columns": [], "cells": []}
    }
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["gaps_problems_map_summary"]["selected_row"] == 1
