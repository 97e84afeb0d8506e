"""Walking distance in the analysis: coverage, capacity, the CLI switch, what straight lines
overstate, service areas; straight-line mode keeps today's numbers."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo.analysis import run_all
from geo.capacity import constrained_allocation, nearest_assignment
from geo.coverage import coverage_all
from geo.network import NetworkError, Walk, walking_graph
from geo.settings import load_profile
from layers.kinds import KindError, kinds_from_tables

CRS = "EPSG:4546"
X0, Y0 = 480_000.0, 3_611_000.0
FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def frame(xy, crs=CRS, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=crs)


def river_town() -> dict[str, gpd.GeoDataFrame]:
    """Two bank roads (y=0 south, y=100 north) joined by one bridge at x=500.

    Residents: A (0,-10) south bank opposite the shelter, B (0,120) north bank beside it,
    C (900,-10) south bank far east. The shelter stands at (0,110) on the north bank.
    Straight: A 120 m, B 10 m, C 912 m. Walking: A 10+500+100+500+10 = 1120 m, B 20+10 m,
    C 10+400+100+500+10 = 1020 m.
    """
    roads = gpd.GeoDataFrame(
        {"road_id": ["S", "N", "B"], "bridge": [False, False, True]},
        geometry=[
            LineString([(X0 - 100, Y0), (X0 + 1000, Y0)]),
            LineString([(X0 - 100, Y0 + 100), (X0 + 1000, Y0 + 100)]),
            LineString([(X0 + 500, Y0), (X0 + 500, Y0 + 100)]),
        ],
        crs=CRS,
    )
    population = frame(
        [(0, -10), (0, 120), (900, -10)],
        residents=[100, 20, 3],
        street_code=["S1", "S2", "S1"],
    )
    shelters = frame(
        [(0, 110)],
        shelter_id=["E1"],
        shelter_class=["emergency"],
        effective_area_m2=[1000.0],
        capacity=[50],
    )
    return {"roads": roads, "population": population, "shelters": shelters}


@pytest.fixture
def profile():
    return load_profile().with_overrides(radii={"shelter_emergency": 500, "detour_factor": 1.2})


def test_coverage_along_roads_against_straight_line(profile):
    layers = river_town()
    straight = coverage_all(layers, profile, kinds=["shelters_emergency"])["shelters_emergency"]
    # straight line x 1.2: A 144 m and B 12 m are within 500 m, C 1094 m is not
    assert straight.residents_covered == 120
    assert straight.distance_mode == "straight"
    walking = coverage_all(layers, profile.with_distance("network"), kinds=["shelters_emergency"])[
        "shelters_emergency"
    ]
    assert walking.distance_mode == "network"
    assert walking.detour_factor == 1.0  # no detour factor on a measured walk
    assert walking.distance.to_numpy() == pytest.approx([1120, 30, 1020])
    assert walking.residents_covered == 20


def test_network_distance_without_roads_names_the_layer(profile):
    layers = river_town()
    del layers["roads"]
    with pytest.raises(NetworkError, match="'roads' layer"):
        coverage_all(layers, profile.with_distance("network"), kinds=["shelters_emergency"])
    # straight line needs no roads
    coverage_all(layers, profile, kinds=["shelters_emergency"])


def test_capacity_along_roads(profile):
    layers = river_town()
    walk = Walk(walking_graph(layers["roads"]), 300.0)
    pop, shelters = layers["population"], layers["shelters"]
    near = nearest_assignment(pop, shelters, radius_m=1100, capacity=[50], walk=walk)
    # A walks 1120 m: out of reach; B (20) and C (3, 1020 m) go to the shelter
    assert near.loads["load"].tolist() == [23]
    assert near.residents_unassigned == 100
    straight = nearest_assignment(pop, shelters, radius_m=1100, capacity=[50])
    assert straight.loads["load"].tolist() == [123]
    flow = constrained_allocation(
        pop, shelters, radius_m=1200, capacity=[50], walk=walk, cell_m=250
    )
    assert (flow.placed, flow.out_of_reach) == (50, 0)
    flow = constrained_allocation(
        pop, shelters, radius_m=1100, capacity=[50], walk=walk, cell_m=250
    )
    assert (flow.placed, flow.out_of_reach) == (23, 100)


def test_profile_distance_per_kind():
    profile = load_profile()
    assert {profile.distance(k) for k in profile.facility_kinds} == {"straight"}
    one = profile.with_distance({"public_toilet": "network"})
    assert one.distance("public_toilet") == "network"
    assert one.distance("shelters_fixed") == "straight"
    with pytest.raises(ValueError, match="walking"):
        profile.with_distance("walking")
    with pytest.raises(KeyError, match="unknown facility kind"):
        profile.with_distance({"nope": "network"})
    with pytest.raises(KindError, match="distance 'road' is not one of straight, network"):
        kinds_from_tables(
            {"x": {"label_zh": "x", "label_en": "x", "radius_m": 1, "distance": "road"}}
        )


def _gaps(store, capsys, *extra) -> dict:
    import cli

    assert cli.main(["gaps", "--data", str(store), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_distance_switch_on_the_demo(demo_store_path, capsys, tmp_path):
    baseline = json.loads((FIXTURES / "gaps_demo_baseline.json").read_text(encoding="utf-8"))
    straight = _gaps(demo_store_path, capsys, "--distance", "straight")
    for kind, expected in baseline["coverage"].items():  # today's numbers, unchanged
        assert straight["coverage"][kind] == expected, kind
    assert straight["capacity"] == baseline["capacity"]

    assert "network" not in straight  # the roads' findings come with walking only
    one = _gaps(demo_store_path, capsys, "--distance", "shelters_emergency=network")
    found = one["network"]  # the demo's roads: every resident near one, some facilities not
    assert found["graph"]["components"] >= 1 and found["graph"]["length_km"] > 0
    assert set(found["facilities_off_network"]) == set(one["coverage"])
    assert found["residents_off_network"] <= one["population"]["residents"]
    kinds = one["parameters"]["facility_kinds"]
    assert kinds["shelters_emergency"]["distance"] == "network"
    assert kinds["shelters_fixed"]["distance"] == "straight"
    emergency = one["coverage"]["shelters_emergency"]
    assert emergency["detour_factor"] == 1.0
    # the demo's rivers and hills: walking covers clearly fewer residents than straight lines
    assert (
        emergency["residents_covered"]
        < 0.8 * baseline["coverage"]["shelters_emergency"]["residents_covered"]
    )
    assert one["coverage"]["shelters_fixed"] == baseline["coverage"]["shelters_fixed"]

    import cli

    assert cli.main(["gaps", "--data", str(demo_store_path), "--distance", "walk"]) == 2
    assert "'walk' is not one of straight, network" in capsys.readouterr().err


def test_overstated_tables_and_layers(demo_store_path, tmp_path):
    import pyogrio

    from commands.gaps import write_outputs
    from data.store import open_store

    store = open_store(demo_store_path)
    profile = load_profile().with_distance({"shelters_emergency": "network"})
    result = run_all(store.read_layers(), profile)
    street = result.overstated("street", ["shelters_emergency"])
    straight, network = result.covered_both_ways("shelters_emergency")
    res = result.population["residents"].to_numpy()
    assert street["overstated"].sum() == res[straight.to_numpy() & ~network.to_numpy()].sum()
    assert (street["covered_network"] <= street["covered_straight"] + street["overstated"]).all()
    shares = street.set_index("code")["share_overstated"].dropna()
    assert shares.max() > 2 * shares.min()  # clearly in some streets, less in others
    written = write_outputs(result, tmp_path / "out")
    names = {p.name for p in written}
    assert {"overstated_street.csv", "overstated_grid.csv"} <= names
    table = pd.read_csv(tmp_path / "out" / "overstated_street.csv")
    assert set(table["kind"]) == set(profile.facility_kinds)
    layers = dict(pyogrio.list_layers(tmp_path / "out" / "gaps.gpkg"))
    assert "overstated_shelters_emergency" in layers
    assert "servicearea_shelters_emergency" in layers
    assert "servicearea_shelters_fixed" not in layers  # only kinds measured along roads
    area = gpd.read_file(tmp_path / "out" / "gaps.gpkg", layer="servicearea_shelters_emergency")
    assert len(area) == 1 and area.geometry.iloc[0].area > 0
    assert np.isfinite(area.to_crs(CRS).area.iloc[0])
    # the KPI of the walked kind counts the residents covered along roads, not by straight line
    spec = profile.kind("shelters_emergency")
    kpis = result._analysis().indicators()
    city = kpis[(kpis["level"] == "city") & (kpis["indicator"] == spec.indicator)]
    covered = result.coverage["shelters_emergency"].residents_covered
    assert city["numerator"].tolist() == [covered]
    assert covered == res[network.to_numpy()].sum() < res[straight.to_numpy()].sum()


def test_whatif_along_roads(profile):
    """A proposed shelter on the south bank (0, -5): walking, it newly covers A (10 + 5 m) and
    not C (10 + 900 + 5 m > 500 m); by straight line A was already covered by E1 (120 m)."""
    from geo.whatif import apply_proposals

    layers = river_town()
    props = frame([(0, -5)], kind=["shelters_emergency"], effective_area_m2=[100.0])
    walked = apply_proposals(
        layers, props, profile.with_distance("network"), levels=("street",)
    ).change()
    row = walked.loc["shelters_emergency"]
    assert (row["covered_before"], row["covered_after"], row["newly_covered"]) == (20, 120, 100)
    straight = apply_proposals(layers, props, profile, levels=("street",)).change()
    row = straight.loc["shelters_emergency"]
    assert (row["covered_before"], row["covered_after"], row["newly_covered"]) == (120, 120, 0)


def test_site_suggestion_with_cover_sets_along_roads():
    """One site of two: N (0, 110) beside E1 on the north bank or S (0, -5) on the south bank.
    By straight line either reaches A and B (120 residents within 200 m); walking, N reaches B
    only (20) and S reaches A only (100), so S is chosen."""
    from geo.siting import SolverLimits, suggest_sites

    layers = river_town()
    demand, limits = layers["population"], SolverLimits.of(load_profile())
    sites = frame([(0, 110), (0, -5)], name=["N", "S"])
    straight = suggest_sites(demand, sites, k=1, radius_m=200, limits=limits, method="exact")
    assert straight.covered == 120
    walk = Walk(walking_graph(layers["roads"]), 300.0)
    for method in ("exact", "greedy"):
        walked = suggest_sites(
            demand, sites, k=1, radius_m=200, limits=limits, method=method, walk=walk
        )
        assert (walked.covered, list(walked.sites["name"])) == (100, ["S"]), method
        assert walked.demand_covered.tolist() == [True, False, False]


def test_cli_network_distance_without_roads_names_the_layer(tmp_path, capsys):
    import cli
    from tests._map_fixtures import write_tiny_store

    store = write_tiny_store(tmp_path / "tiny.gpkg")  # no roads layer
    assert cli.main(["gaps", "--data", str(store), "--json", "--distance", "network"]) == 2
    err = capsys.readouterr().err
    assert "gaps: " in err and "'roads' layer" in err
    assert cli.main(["gaps", "--data", str(store), "--json", "--distance", "straight"]) == 0
