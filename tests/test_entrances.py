"""Entrances of polygon facilities: a park with entrances is reached along the roads only at
them (hand-computed walks), the import refuses entrances of unknown facilities, the demo
has some."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from _importing_fixtures import LAT0, LON0, build_small_store
from shapely.geometry import LineString, Point, Polygon, box

from data.importing import ImportFailed, check_store, import_file
from geo.analysis import run_all
from geo.coverage import coverage_all
from geo.network import Walk, access_points, service_area, walking_graph
from geo.settings import load_profile
from layers import LAYERS

CRS = "EPSG:4546"
X0, Y0 = 480_000.0, 3_611_000.0


def park_town(*, gated: bool = True) -> dict[str, gpd.GeoDataFrame]:
    """A south road (y=0) and a north road (y=300), joined only by a west road at x=0.

    The park (x 900-1100, y 20-220, its south edge pointed at (1000, 20)) lies 20 m north of
    the south road and 80 m south of the north road; its only entrance is on its north edge at (1000, 220), 80 m from the north road.
    Residents: A (1000, -10) south of the park, 100 people; B (1000, 310) north, 50 people.

    Without entrances the park is reached at the road point nearest to its edge, on the south
    road: A walks 10 + 20 = 30 m, B 10 + 1000 + 300 + 1000 + 20 = 2,330 m.
    With the entrance (snapped to the north road, 80 m): A walks 10 + 1000 + 300 + 1000 + 80
    = 2,390 m, B 10 + 80 = 90 m.
    """
    roads = gpd.GeoDataFrame(
        {"road_id": ["S", "N", "W"]},
        geometry=[
            LineString([(X0, Y0), (X0 + 2000, Y0)]),
            LineString([(X0, Y0 + 300), (X0 + 2000, Y0 + 300)]),
            LineString([(X0, Y0), (X0, Y0 + 300)]),
        ],
        crs=CRS,
    )
    population = gpd.GeoDataFrame(
        {"residents": [100, 50], "street_code": ["S1", "S1"]},
        geometry=[Point(X0 + 1000, Y0 - 10), Point(X0 + 1000, Y0 + 310)],
        crs=CRS,
    )
    shelters = gpd.GeoDataFrame(
        {
            "shelter_id": ["P1"],
            "name": ["公园"],
            "shelter_class": ["emergency"],
            "effective_area_m2": [30000.0],
            "capacity": [500],
        },
        geometry=[park()],
        crs=CRS,
    )
    entrances = gpd.GeoDataFrame(
        {
            "entrance_id": ["G1"] if gated else [],
            "facility_layer": ["shelters"] if gated else [],
            "facility_key": ["P1"] if gated else [],
            "name": ["北门"] if gated else [],
        },
        geometry=[Point(X0 + 1000, Y0 + 220)] if gated else [],
        crs=CRS,
    )
    return {
        "roads": roads,
        "population": population,
        "shelters": shelters,
        "entrances": entrances,
    }


def park() -> Polygon:
    """x 900-1100, y 20-220; the south edge a point at (1000, 20), so its nearest road point
    is unique."""
    ring = [(900, 60), (1000, 20), (1100, 60), (1100, 220), (900, 220)]
    return Polygon([(X0 + x, Y0 + y) for x, y in ring])


@pytest.fixture
def profile():
    return load_profile().with_overrides(radii={"shelter_emergency": 500}).with_distance("network")


def test_park_reached_only_at_its_entrance(profile):
    kinds = ["shelters_emergency"]
    free = coverage_all(park_town(gated=False), profile, kinds=kinds)["shelters_emergency"]
    assert free.distance.to_numpy() == pytest.approx([30, 2330])
    assert free.residents_covered == 100  # A only
    gated = coverage_all(park_town(), profile, kinds=kinds)["shelters_emergency"]
    assert gated.distance.to_numpy() == pytest.approx([2390, 90])
    assert gated.residents_covered == 50  # B only


def test_entrances_in_pairs_capacity_and_the_whole_analysis(profile):
    layers = park_town()
    walk = Walk(walking_graph(layers["roads"]), 300.0, layers["entrances"])
    pairs = walk.pairs(layers["population"], layers["shelters"], radius_m=500).toarray()
    assert pairs.tolist() == [[0], [1]]
    result = run_all(layers, profile)
    assert result.coverage["shelters_emergency"].residents_covered == 50
    free = run_all(park_town(gated=False), profile)
    assert free.coverage["shelters_emergency"].residents_covered == 100


def test_the_entrance_used_and_point_facilities_ignore_entrances():
    layers = park_town()
    walk = Walk(walking_graph(layers["roads"]), 300.0, layers["entrances"])
    used = walk.entrance_used(layers["population"], layers["shelters"])
    assert used.tolist() == [0, 0]  # both walks end at the north gate (row 0)
    # the same gate named for a point facility: the point itself is the door
    point = layers["shelters"].assign(geometry=[Point(X0 + 1000, Y0 + 20)])
    geoms, owner, entrance = access_points(point, layers["entrances"])
    assert (len(geoms), owner.tolist(), entrance.tolist()) == (1, [0], [-1])
    # two parks, one gated: the gated one appears once per entrance
    two = gpd.GeoDataFrame(
        {"shelter_id": ["P2", "P1"]},
        geometry=[box(X0 + 1500, Y0 + 20, X0 + 1600, Y0 + 120), park()],
        crs=CRS,
    )
    geoms, owner, entrance = access_points(two, layers["entrances"])
    assert owner.tolist() == [0, 1] and entrance.tolist() == [-1, 0]
    assert geoms[1].equals(Point(X0 + 1000, Y0 + 220))


def test_service_area_starts_at_the_entrances():
    layers = park_town()
    graph = walking_graph(layers["roads"])
    kw = {"radius_m": 200.0, "max_snap_m": 300.0, "buffer_m": 10.0, "each": True}
    free = service_area(graph, layers["shelters"], **kw)
    gated = service_area(graph, layers["shelters"], entrances=layers["entrances"], **kw)
    south, north = Point(X0 + 1000, Y0), Point(X0 + 1000, Y0 + 300)
    assert free.geometry.iloc[0].contains(south) and not free.geometry.iloc[0].contains(north)
    assert gated.geometry.iloc[0].contains(north) and not gated.geometry.iloc[0].contains(south)
    # two entrances of one park: one area per park, the union of both
    two = layers["entrances"]
    two = gpd.GeoDataFrame(
        {
            c: [*two[c], v]
            for c, v in zip(two.columns[:-1], ["G2", "shelters", "P1", "南门"], strict=True)
        },
        geometry=[*two.geometry, Point(X0 + 1000, Y0 + 20)],
        crs=CRS,
    )
    both = service_area(graph, layers["shelters"], entrances=two, **kw)
    assert list(both.index) == [0]
    assert both.geometry.iloc[0].contains(north) and both.geometry.iloc[0].contains(south)


def entrance_rows(keys: list[str]) -> gpd.GeoDataFrame:
    """Entrances with Chinese headers, one per key, beside the small store's shelters."""
    return gpd.GeoDataFrame(
        {
            "出入口编号": [f"G{i}" for i in range(len(keys))],
            "所属图层": ["shelters"] * len(keys),
            "设施编号": keys,
            "名称": ["东门"] * len(keys),
        },
        geometry=[Point(LON0 + 0.001 * i, LAT0 + 0.001) for i in range(len(keys))],
        crs="EPSG:4326",
    )


def test_import_refuses_entrances_of_unknown_facilities(tmp_path):
    store = build_small_store(tmp_path / "store.gpkg")
    shelter_ids = list(store.read("shelters")["shelter_id"])
    path = tmp_path / "entrances.geojson"
    entrance_rows([shelter_ids[0], "NOPE", shelter_ids[-1]]).to_file(path, driver="GeoJSON")
    before = store.checksum()
    with pytest.raises(ImportFailed, match="row 2, field 'facility_key'.*'NOPE'.*shelters"):
        import_file(path, layer="entrances", store=store)
    assert store.checksum() == before
    entrance_rows([shelter_ids[0], shelter_ids[-1]]).to_file(path, driver="GeoJSON")
    report = import_file(path, layer="entrances", store=store)
    assert report.rows == 2
    stored = store.read("entrances")
    assert list(stored["facility_key"]) == [shelter_ids[0], shelter_ids[-1]]
    assert not [i for i in check_store(store) if i.layer == "entrances"]
    # shelters replaced later without the first one: the store check finds the orphan gate
    shelters = store.read("shelters")
    store.write({"shelters": shelters[shelters["shelter_id"] != shelter_ids[0]]}, mode="replace")
    orphans = [i for i in check_store(store) if i.layer == "entrances"]
    assert [(i.row, i.field) for i in orphans] == [(1, "facility_key")]


def test_import_refuses_an_unknown_facility_layer(tmp_path):
    store = build_small_store(tmp_path / "store.gpkg")
    path = tmp_path / "entrances.geojson"
    frame = entrance_rows(["S1"])
    frame["所属图层"] = ["grids"]
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(ImportFailed, match="facility_layer.*'grids' is not one of shelters"):
        import_file(path, layer="entrances", store=store)


def test_demo_has_synthetic_gates_of_park_shelters():
    from data.demo import build_demo

    city = build_demo(scale=1)
    entrances, shelters = city.layers["entrances"], city.layers["shelters"]
    assert len(entrances) > 0
    LAYERS["entrances"].validate(entrances)
    owners = shelters.set_index("shelter_id").loc[entrances["facility_key"]]
    assert set(owners.geom_type) == {"Polygon"}
    # every gate lies on its park's edge
    gap = owners.geometry.to_crs(CRS).boundary.distance(entrances.geometry.to_crs(CRS), align=False)
    assert np.all(gap.to_numpy() < 1.0)


def test_entrances_of_the_facilities_drawn():
    """The gates drawn beside a kind's facilities on the gap map: only those of its parks."""
    from geo.network import entrances_of

    layers = park_town()
    assert list(entrances_of(layers["shelters"], layers["entrances"])["entrance_id"]) == ["G1"]
    other = layers["shelters"].assign(shelter_id=["P9"])
    assert entrances_of(other, layers["entrances"]) is None
    assert entrances_of(layers["shelters"], None) is None


def test_entrances_of_the_facilities_kept_by_a_filter():
    """The explorer's gates: those whose facility (layer and key) passed the filters."""
    from maps.display import entrances_of_kept

    gates = gpd.GeoDataFrame(
        {
            "entrance_id": ["G1", "G2", "G3", "G4"],
            "facility_layer": ["shelters", "shelters", "facilities", "shelters"],
            "facility_key": ["P1", "P2", "P1", "P1"],
        },
        geometry=[Point(0, i) for i in range(4)],
        crs=CRS,
    )
    shelters = gpd.GeoDataFrame({"shelter_id": ["P1"]}, geometry=[Point(0, 0)], crs=CRS)
    kept = entrances_of_kept(gates, {"shelters": shelters})
    assert list(kept["entrance_id"]) == ["G1", "G4"]  # not P2's, nor the facilities layer's P1
    assert entrances_of_kept(gates, {"shelters": shelters.iloc[:0]}).empty
    assert entrances_of_kept(gates, {}).empty
    other = gpd.GeoDataFrame({"facility_id": ["P1"]}, geometry=[Point(0, 0)], crs=CRS)
    both = entrances_of_kept(gates, {"shelters": shelters, "facilities": other})
    assert list(both["entrance_id"]) == ["G1", "G3", "G4"]
