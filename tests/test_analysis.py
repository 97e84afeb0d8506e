"""run_all / prepare on a small city worked out by hand, on the demo store, and the gaps CLI.

Small city (metric coordinates from X0, Y0, stored in EPSG:4326 like the store):
population: the 4 x 4 grid of tests/test_coverage.py (P(0,0) 50 residents, others 10; 200 in all);
grids A (columns 0-1, 120 residents) and B (columns 2-3, 80) in community C1, street S1, district D1;
a community-level center at P(0,0) and a street-level center at P(3,3); radii 100 m and 150 m.
Community coverage counts street-level centers too (nested life circles): P(0,0), P(1,0), P(0,1)
from the community center (70) plus P(3,3), P(2,3), P(3,2) from the street center within 100 m (30)
= 100; street coverage: P(3,3), P(2,3), P(3,2), P(2,2) = 40.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import cli
from geo.analysis import STEPS, UNCOVERED_COLUMNS, prepare, run_all
from geo.crs import CRSError
from geo.settings import load_profile

CRS = "EPSG:4546"
X0, Y0 = 500_000.0, 3_600_000.0


def box(x1, y1, x2, y2):
    return shapely.box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def frame(data: dict, geoms, crs=CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs).to_crs("EPSG:4326")


def small_city() -> dict[str, gpd.GeoDataFrame]:
    i, j = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
    i, j = i.ravel(), j.ravel()
    area = box(-50, -50, 350, 350)
    return {
        "districts": frame({"code": ["D1"], "name": ["一区"], "parent_code": [None]}, [area]),
        "streets": frame({"code": ["S1"], "name": ["一街道"], "parent_code": ["D1"]}, [area]),
        "communities": frame({"code": ["C1"], "name": ["一社区"], "parent_code": ["S1"]}, [area]),
        "grids": frame(
            {
                "grid_code": ["C1-A", "C1-B"],
                "grid_name": ["A", "B"],
                "community": ["一社区"] * 2,
                "street": ["一街道"] * 2,
                "district": ["一区"] * 2,
                "worker_name": ["甲", None],
                "households": [48, 32],
                "residents": [120, 80],
            },
            [box(-50, -50, 150, 350), box(150, -50, 350, 350)],
        ),
        "population": frame(
            {"residents": np.where((i == 0) & (j == 0), 50, 10), "households": np.full(16, 4)},
            shapely.points(X0 + 100 * i, Y0 + 100 * j),
        ),
        "neighborhood_centers": frame(
            {
                "center_id": ["c1", "c2"],
                "name": ["社区中心", "街道中心"],
                "level": ["community", "street"],
            },
            shapely.points([X0, X0 + 300], [Y0, Y0 + 300]),
        ),
        "shelters": frame(
            {
                "shelter_id": ["s1"],
                "name": ["公园"],
                "shelter_class": ["emergency"],
                "effective_area_m2": [100.0],
                "capacity": pd.array([None], dtype="Int64"),
            },
            [shapely.Point(X0 + 100, Y0 + 100)],
        ),
    }


def profile():
    return load_profile().with_overrides(
        radii={"neighborhood_center_community": 100, "neighborhood_center_street": 150}
    )


def test_prepare_projects_once_and_locates():
    prepared = prepare(small_city(), profile())
    assert all(
        f.crs.to_epsg() == 4546 for f in prepared.values() if isinstance(f, gpd.GeoDataFrame)
    )
    pop = prepared["population"]
    assert set(pop["grid_code"]) == {"C1-A", "C1-B"}
    assert (pop["community_code"] == "C1").all() and (pop["district_code"] == "D1").all()
    assert pop.loc[pop["grid_code"] == "C1-A", "residents"].sum() == 120
    assert prepared["shelters"]["grid_code"].tolist() == ["C1-A"]  # (100, 100) is in A
    assert len(prepared["villages"]) == 0  # missing layers come back empty
    assert prepare(prepared, profile()) is prepared


def test_run_all_small_city_by_hand():
    steps = []
    result = run_all(small_city(), profile(), progress=steps.append)
    assert tuple(steps) == STEPS
    comm = result.coverage["neighborhood_centers_community"]
    street = result.coverage["neighborhood_centers_street"]
    assert (comm.residents_total, comm.residents_covered) == (200, 100)
    assert street.residents_covered == 40
    assert comm.by_level["grid"].loc["C1-A", "residents_covered"] == 70
    assert comm.by_level["district"].loc["D1", "residents_total"] == 200
    # emergency shelter at P(1,1), 500 m: everyone in reach; capacity 100 m² / 1 m² = 100
    cap = result.capacity.groups["emergency"]
    assert cap.nearest.loads["load"].tolist() == [200]
    assert cap.constrained.placed == 100
    checks = result.grid_checks.summary()["by_check"]
    assert checks["no_worker"] == 1 and checks["households_out_of_range"] == 2
    assert checks["malformed_code"] == 2  # "C1-A" is not a 15-digit code
    summary = result.summary()
    json.dumps(summary)
    assert summary["coverage"]["neighborhood_centers_community"]["residents_covered"] == 100
    assert set(summary["coverage"]) == set(load_profile().facility_kinds)
    uncovered = result.uncovered_points("neighborhood_centers_community")
    assert uncovered["residents"].sum() == 100 and uncovered.crs == CRS
    assert list(uncovered.columns) == [
        "kind",
        *UNCOVERED_COLUMNS,
        "distance_m",
        "radius_m",
        "geometry",
    ]
    assert "grid_code" in UNCOVERED_COLUMNS and "households" in UNCOVERED_COLUMNS
    # radius 100 m; the nearest uncovered points, e.g. P(1,1), are 100·√2 m from a center
    assert (uncovered["radius_m"] == 100).all()
    assert uncovered["distance_m"].min() == 141.4


def test_run_all_refuses_layers_without_crs():
    layers = small_city()
    layers["population"] = layers["population"].set_crs(None, allow_override=True)
    with pytest.raises(CRSError):
        run_all(layers, profile())


@pytest.fixture(scope="module")
def demo_result(demo_store_path):
    from data.store import GeoPackageStore
    from layers import LAYERS

    store = GeoPackageStore(demo_store_path)
    layers = {name: store.read(name) for name in LAYERS}
    return layers, run_all(layers, load_profile())


def test_demo_rollups_sum_and_index_kept(demo_result):
    layers, result = demo_result
    total = int(layers["population"]["residents"].sum())
    for kind, res in result.coverage.items():
        assert res.residents_total == total
        assert res.covered.index.equals(layers["population"].index)
        for level, table in res.by_level.items():
            assert table["residents_total"].sum() == total, (kind, level)
            assert table["residents_covered"].sum() == res.residents_covered, (kind, level)
        cells = result.gap_cells[kind]
        assert cells["residents_uncovered"].sum() == res.residents_uncovered
    # the demo's grids tile their communities
    assert result.grid_checks.summary()["by_check"]["overlap"] == 0
    near = result.capacity.groups["fixed"].nearest
    assert near.loads["load"].sum() + near.residents_unassigned == total
    for group in result.capacity.groups.values():
        c = group.constrained
        assert (c.loads["load"] <= c.loads["capacity"]).all()
        assert c.unplaced_cells["residents_unplaced"].sum() == c.unplaced


def test_cli_gaps_json_and_files(demo_store_path, tmp_path, capsys):
    out = tmp_path / "gaps"
    code = cli.main(["gaps", "--data", str(demo_store_path), "--out", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    for kind in load_profile().facility_kinds:
        entry = summary["coverage"][kind]
        assert {"radius_m", "residents_total", "residents_covered", "share"} <= set(entry)
    assert summary["coverage"]["shelters_emergency"]["radius_m"] == 500
    assert {"capacity", "sanitation", "grid_checks"} <= set(summary)
    import pyogrio

    names = {str(n) for n, _ in pyogrio.list_layers(out / "gaps.gpkg")}
    assert {
        "areas_street",
        "uncovered_shelters_emergency",
        "gapcells_shelters_emergency",
        "grid_problems",
        "indicators",
    } <= names
    for stem in (
        "coverage_by_level",
        "worst_grids",
        "shelter_loads",
        "sanitation_township",
        "grid_problems",
    ):
        assert (out / f"{stem}.csv").exists()


def test_cli_parameters_match_profile_overrides(demo_store_path, capsys):
    args = [
        "gaps",
        "--data",
        str(demo_store_path),
        "--json",
        "--radius",
        "shelters_emergency=400",
        "neighborhood_center_street=900",
        "--detour",
        "1.25",
        "--per-capita",
        "emergency=0.5",
        "--target",
        "sanitary_toilet_penetration=0.8",
    ]
    assert cli.main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["coverage"]["shelters_emergency"]["radius_m"] == 400
    assert summary["coverage"]["neighborhood_centers_street"]["radius_m"] == 900
    assert summary["coverage"]["shelters_emergency"]["detour_factor"] == 1.25
    assert summary["parameters"]["per_capita_area_m2"]["emergency"] == 0.5
    assert summary["parameters"]["targets"]["sanitary_toilet_penetration"] == 0.8


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--radius", "shelters_bogus=400"], "unknown kind"),
        (["--radius", "shelters_emergency=-5"], "greater than 0"),
        (["--per-capita", "palace=2"], "unknown class"),
        (["--target", "happiness=1"], "unknown name"),
        (["--detour", "0"], "greater than 0"),
        (["--cell", "-1"], "--cell"),
        (["--target", "households_min=many"], "not a number"),
    ],
)
def test_cli_rejects_bad_parameters(demo_store_path, capsys, extra, message):
    assert cli.main(["gaps", "--data", str(demo_store_path), *extra]) == 2
    assert message in capsys.readouterr().err


def test_cli_missing_store(tmp_path, capsys):
    assert cli.main(["gaps", "--data", str(tmp_path / "nope.gpkg")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_every_analysis_refuses_a_geographic_crs():
    """No public analysis function measures in degrees: each raises CRSError instead."""
    from geo import areas, capacity, coverage, grid_qa, sanitation

    city = small_city()  # EPSG:4326, as stored
    pop = city["population"].assign(residents=10, grid_code="A")
    sh, grids, comm = city["shelters"], city["grids"], city["communities"]
    villages = gpd.GeoDataFrame(
        {
            "village_code": ["V"],
            "township": ["T"],
            "county": ["C"],
            "households": [10],
            "sanitary_toilet_households": [9],
        },
        geometry=[shapely.Point(110.8, 32.6)],
        crs="EPSG:4326",
    )
    facilities = gpd.GeoDataFrame(
        {"kind": ["garbage_point"]}, geometry=[shapely.Point(110.8, 32.6)], crs="EPSG:4326"
    )
    ok = pd.Series(True, index=pop.index)
    p = load_profile()
    calls = {
        "assign_areas": lambda: areas.assign_areas(pop, grids=grids),
        "locate": lambda: areas.locate(pop, grids),
        "nearest_distance": lambda: coverage.nearest_distance(pop, sh),
        "nearest_facility": lambda: coverage.nearest_facility(pop, sh),
        "covered": lambda: coverage.covered(pop, sh, radius_m=500),
        "rollup": lambda: coverage.rollup(pop, ok, by="grid_code"),
        "gap_cells": lambda: coverage.gap_cells(pop, ok),
        "aggregate_cells": lambda: coverage.aggregate_cells(
            pop, np.ones(len(pop)), cell_m=250, value="v"
        ),
        "coverage_from_distance": lambda: coverage.coverage_from_distance(
            pop, pd.Series(0.0, index=pop.index), kind="shelters_emergency", radius_m=500
        ),
        "coverage_all": lambda: coverage.coverage_all(city, p),
        "nearest_assignment": lambda: capacity.nearest_assignment(
            pop, sh, radius_m=500, capacity=[1]
        ),
        "constrained_allocation": lambda: capacity.constrained_allocation(
            pop, sh, radius_m=500, capacity=[1], cell_m=250
        ),
        "reach_pairs": lambda: capacity.reach_pairs(pop, sh, radius_m=500),
        "cell_reach": lambda: capacity.cell_reach(pop, sh, radius_m=500, cell_m=250),
        "shelter_supply_by_area": lambda: capacity.shelter_supply_by_area(
            pop, sh.assign(grid_code="A"), [1], by="grid_code", profile=p
        ),
        "capacity_all": lambda: capacity.capacity_all(city, p),
        "village_sanitation": lambda: sanitation.village_sanitation(villages, facilities, p),
        "sanitation_all": lambda: sanitation.sanitation_all(villages, facilities, p),
        "sanitation_rollup": lambda: sanitation.sanitation_rollup(
            villages.assign(
                meets_toilet_target=True,
                has_garbage_collection=True,
                has_sewage_treatment=True,
                below_target=False,
            ),
            by="county",
            profile=p,
        ),
        "grid_checks": lambda: grid_qa.grid_checks(grids, comm, pop, p),
        "grid_overlaps": lambda: grid_qa.grid_overlaps(grids, min_area_m2=1.0),
        "uncovered_land": lambda: grid_qa.uncovered_land(grids, comm, min_area_m2=1.0),
        "grid_counts": lambda: grid_qa.grid_counts(grids, pop),
    }
    for name, call in calls.items():
        with pytest.raises(CRSError):
            call()
            pytest.fail(f"{name} accepted a geographic CRS")


def test_assign_areas_follows_codes_then_location():
    from geo.areas import assign_areas

    city = {k: v.to_crs(CRS) for k, v in small_city().items()}
    grids = city["grids"].copy()
    grids["community_code"] = [None, "C9"]  # A: located in C1; B: says C9 (no polygon for C9)
    outside = gpd.GeoDataFrame(
        {"residents": [5, 5]},
        geometry=[shapely.Point(X0 + 100, Y0 + 340), shapely.Point(X0 + 5000, Y0)],
        crs=CRS,
        index=pd.Index(["in_c1_only", "nowhere"]),
    )
    grids.geometry = [box(-50, -50, 150, 300), box(150, -50, 350, 300)]  # leave y > 300 ungridded
    located = assign_areas(
        outside,
        grids=grids,
        communities=city["communities"],
        streets=city["streets"],
        districts=city["districts"],
    )
    assert located.index.tolist() == ["in_c1_only", "nowhere"]
    assert located.loc["in_c1_only", "grid_code"] is None
    assert located.loc["in_c1_only", "community_code"] == "C1"
    assert located.loc["in_c1_only", "street_code"] == "S1"
    assert located.loc["in_c1_only", "district_name"] == "一区"
    assert located.loc["nowhere"].isna()[["grid_code", "community_code", "street_code"]].all()
    pts = city["population"]
    both = assign_areas(pts, grids=grids, communities=city["communities"], streets=city["streets"])
    assert set(both.loc[both["grid_code"] == "C1-A", "community_code"]) == {"C1"}
    assert set(both.loc[both["grid_code"] == "C1-B", "community_code"]) == {"C9"}
    # C9 has no polygon or parent: its street is found by location instead
    assert set(both.loc[both["grid_code"] == "C1-B", "street_code"]) == {"S1"}
