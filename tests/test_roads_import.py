"""Importing the roads layer: GeoJSON with Chinese headers, zipped Shapefile, GeoPackage,
OSM PBF, and the same all-or-nothing refusals as the other layers."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from _importing_fixtures import LAT0, LON0, build_small_store
from shapely.geometry import LineString, Point

from data.importing import ImportFailed, import_file
from data.store import GeoPackageStore
from geo.network import graph_from_roads

osmium = pytest.importorskip("osmium")


@pytest.fixture
def store(tmp_path) -> GeoPackageStore:
    return build_small_store(tmp_path / "store.gpkg")


def chinese_roads() -> gpd.GeoDataFrame:
    """Three roads with Chinese headers: a street, a bridge over it, a footpath (not walkable)."""
    return gpd.GeoDataFrame(
        {
            "道路编号": ["R1", "R2", "R3"],
            "路名": ["人民路", "汉江桥", "高速"],
            "道路等级": ["primary", "footway", "motorway"],
            "可步行": ["是", "是", "否"],
            "桥梁": ["否", "是", "否"],
        },
        geometry=[
            LineString([(LON0, LAT0), (LON0 + 0.02, LAT0)]),
            LineString([(LON0 + 0.01, LAT0 - 0.005), (LON0 + 0.01, LAT0 + 0.005)]),
            LineString([(LON0, LAT0 + 0.01), (LON0 + 0.02, LAT0 + 0.01)]),
        ],
        crs="EPSG:4326",
    )


def check_stored(store: GeoPackageStore) -> gpd.GeoDataFrame:
    roads = store.read("roads")
    assert list(roads["road_id"]) == ["R1", "R2", "R3"]
    assert list(roads["name"]) == ["人民路", "汉江桥", "高速"]
    assert list(roads["walkable"]) == [True, True, False]
    assert list(roads["bridge"]) == [False, True, False]
    return roads


def test_geojson_with_chinese_headers(store, tmp_path):
    path = tmp_path / "roads.geojson"
    chinese_roads().to_file(path, driver="GeoJSON")
    report = import_file(path, layer="roads", store=store)
    assert report.rows == 3
    roads = check_stored(store)
    # the bridge passes over the street without meeting it; the motorway is left out
    graph = graph_from_roads(roads.to_crs("EPSG:4546"))
    assert graph.summary()["components"] == 2


def test_zipped_shapefile(store, tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(chinese_roads(), folder / "roads.shp", encoding="GBK")
    path = tmp_path / "roads.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    import_file(path, layer="roads", store=store)
    check_stored(store)


def test_geopackage(store, tmp_path):
    path = tmp_path / "net.gpkg"
    chinese_roads().to_file(path, layer="roads", driver="GPKG")
    import_file(path, layer="roads", store=store)
    check_stored(store)


def write_pbf(path: Path) -> Path:
    """A tiny OSM extract: a street of 3 nodes, a footbridge over it, a motorway, a river."""
    from osmium.osm.mutable import Node, Way

    coords = {
        1: (LON0, LAT0),
        2: (LON0 + 0.01, LAT0),
        3: (LON0 + 0.02, LAT0),
        4: (LON0 + 0.005, LAT0 - 0.005),
        5: (LON0 + 0.005, LAT0 + 0.005),
        6: (LON0, LAT0 + 0.01),
        7: (LON0 + 0.02, LAT0 + 0.01),
    }
    writer = osmium.SimpleWriter(str(path))
    for i, xy in coords.items():
        writer.add_node(Node(id=i, location=xy, version=1, changeset=1, uid=1, user="t"))
    writer.add_way(Way(id=101, nodes=[1, 2, 3], tags={"highway": "residential", "name": "北京路"}))
    writer.add_way(Way(id=102, nodes=[4, 5], tags={"highway": "footway", "bridge": "yes"}))
    writer.add_way(Way(id=103, nodes=[6, 7], tags={"highway": "motorway"}))
    writer.add_way(Way(id=104, nodes=[2, 5], tags={"highway": "path", "foot": "no"}))
    writer.add_way(Way(id=105, nodes=[1, 6], tags={"waterway": "river"}))
    writer.close()
    return path


def test_osm_pbf(store, tmp_path):
    path = write_pbf(tmp_path / "shiyan.osm.pbf")
    report = import_file(path, layer="roads", store=store)
    assert report.rows == 4  # the river is not a road
    roads = store.read("roads").set_index("road_id")
    assert roads.loc["101", "name"] == "北京路"
    assert roads["road_class"].to_dict() == {
        "101": "residential",
        "102": "footway",
        "103": "motorway",
        "104": "path",
    }
    assert roads["walkable"].to_dict() == {"101": True, "102": True, "103": False, "104": False}
    assert roads["bridge"].to_dict() == {"101": False, "102": True, "103": False, "104": False}
    assert roads["from_osm"].all()
    graph = graph_from_roads(roads.to_crs("EPSG:4546"))
    # OSM ways meet only at shared nodes: the street keeps its 3 nodes, the bridge is apart
    assert graph.summary()["components"] == 2
    assert graph.n_nodes == 5


def test_osm_extract_only_for_roads(store, tmp_path):
    path = write_pbf(tmp_path / "x.osm.pbf")
    before = store.checksum()
    with pytest.raises(ImportFailed, match="only be imported as roads"):
        import_file(path, layer="shelters", store=store)
    assert store.checksum() == before


def test_bad_rows_refused_all_together(store, tmp_path):
    frame = chinese_roads()
    frame.loc[1, "桥梁"] = "也许"
    frame.loc[2, "道路编号"] = "R1"
    frame = gpd.GeoDataFrame(
        frame.drop(columns="geometry"),
        geometry=[*frame.geometry.iloc[:2], Point(LON0, LAT0)],
        crs="EPSG:4326",
    )
    path = tmp_path / "roads.geojson"
    frame.to_file(path, driver="GeoJSON")
    before = store.checksum()
    with pytest.raises(ImportFailed) as info:
        import_file(path, layer="roads", store=store)
    text = str(info.value)
    assert "bridge" in text and "也许" in text
    assert "road_id" in text
    assert "Point, expected LineString or MultiLineString" in text
    assert store.checksum() == before
    assert np.all([p.row is not None for p in info.value.problems])
