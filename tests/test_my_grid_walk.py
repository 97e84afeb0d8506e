"""My grid with a roads layer: the nearest services say how far the walk along roads is."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString

from data.store import GeoPackageStore
from maps.display import describe_walk
from tests._auth import signed_in_app
from tests._map_fixtures import ROOT_APP, write_tiny_store

METRIC = "EPSG:4546"


def test_describe_walk():
    assert describe_walk(1234.0) == "步行 1.2 km"
    assert describe_walk(618.0) == "步行 620 m"
    assert describe_walk(618.0, "en") == "walk 620 m"
    assert describe_walk(np.inf) == "沿道路无法到达"


def street_lattice(store: GeoPackageStore, step: float = 100.0) -> gpd.GeoDataFrame:
    """East-west and north-south streets every `step` metres over the store's grids."""
    x0, y0, x1, y1 = store.read("grids").to_crs(METRIC).total_bounds
    x0, y0, x1, y1 = x0 - 500, y0 - 500, x1 + 500, y1 + 500
    lines = [LineString([(x, y0), (x, y1)]) for x in np.arange(x0, x1, step)]
    lines += [LineString([(x0, y), (x1, y)]) for y in np.arange(y0, y1, step)]
    return gpd.GeoDataFrame(
        {"road_id": [f"R{i}" for i in range(len(lines))]}, geometry=lines, crs=METRIC
    ).to_crs("EPSG:4326")


@pytest.fixture
def store_with_roads(tmp_path, monkeypatch):
    path = write_tiny_store(tmp_path / "tiny.gpkg")
    store = GeoPackageStore(path)
    store.write({"roads": street_lattice(store)})
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    return path


def test_my_grid_nearest_with_walking_distance(store_with_roads):
    at = signed_in_app(str(ROOT_APP), default_timeout=120)
    at.query_params["grid"] = "G05"
    at.switch_page("ui/pages/my_grid.py")
    at.run()
    assert not at.exception, at.exception
    nearest = [m.value for m in at.markdown if m.value.startswith("- 党群邻里中心")][0]
    lines = nearest.splitlines()
    assert lines[0].startswith("- 党群邻里中心：**二号社区邻里中心** · 东 670 m，步行 ")
    for line in lines:
        straight = re.search(r" ([\d,]+) m，", line)
        walked = re.search(r"步行 ([\d.,]+) (k?m)$", line)
        assert straight and walked, line
        metres = float(walked[1].replace(",", "")) * (1000 if walked[2] == "km" else 1)
        # on a 100 m street lattice the walk is at least the straight line, at most ~1.5x + 200 m
        assert (
            float(straight[1].replace(",", "")) - 10
            <= metres
            <= 1.5 * float(straight[1].replace(",", "")) + 200
        )


def test_my_grid_walk_names_the_park_entrance(store_with_roads):
    """SH2 becomes a park (x 2000-2200, y 650-850) whose only gate is on its east edge: the
    walk to it ends at the gate, named (escaped) after the distance."""
    from shapely.geometry import Point, box

    from tests._map_fixtures import X0, Y0

    store = GeoPackageStore(store_with_roads)
    shelters = store.read("shelters").to_crs(METRIC)
    shelters.loc[shelters["shelter_id"] == "SH2", "geometry"] = box(
        X0 + 2000, Y0 + 650, X0 + 2200, Y0 + 850
    )
    gate = gpd.GeoDataFrame(
        {
            "entrance_id": ["G1"],
            "facility_layer": ["shelters"],
            "facility_key": ["SH2"],
            "name": ["东门*强调*"],
        },
        geometry=[Point(X0 + 2200, Y0 + 750)],
        crs=METRIC,
    )
    store.write({"shelters": shelters.to_crs(4326), "entrances": gate.to_crs(4326)})
    at = signed_in_app(str(ROOT_APP), default_timeout=120)
    at.query_params["grid"] = "G05"
    at.switch_page("ui/pages/my_grid.py")
    at.run()
    assert not at.exception, at.exception
    nearest = [m.value for m in at.markdown if m.value.startswith("- 党群邻里中心")][0]
    line = next(x for x in nearest.splitlines() if "体育场" in x)
    walked = re.search(r"步行 ([\d.,]+) (k?m)，经东门\\\*强调\\\*$", line)
    assert walked, line
    metres = float(walked[1].replace(",", "")) * (1000 if walked[2] == "km" else 1)
    # G05's centre (750, 750) to the east gate (2200, 750) on a 100 m lattice: at least 1,450 m
    assert metres >= 1440


def test_roads_switch_on_the_explorer_and_my_grid(store_with_roads):
    """Roads are off when the pages open (nothing sent) and drawn by class when switched on."""
    import pandas as pd

    from ui import state

    store = GeoPackageStore(store_with_roads)
    lattice = street_lattice(store)
    far = lattice.iloc[[0]].to_crs(METRIC).translate(20_000, 0).to_crs(4326)
    roads = pd.concat([lattice, lattice.iloc[[0]].set_geometry(far.values).assign(road_id="FAR")])
    store.write({"roads": gpd.GeoDataFrame(roads, crs=4326).reset_index(drop=True)})
    at = signed_in_app(str(ROOT_APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    box = at.checkbox(key=state.layer_key("roads"))
    assert box.value is False and box.label == "道路"
    assert "roads" not in at.session_state[state.EXPLORER_SUMMARY]
    box.check().run()
    lines = len(roads)
    assert at.session_state[state.EXPLORER_SUMMARY]["roads"] == lines
    at.selectbox(key=state.COMMUNITY).set_value("社区一").run()  # G01 and G02: x 0-1000, y 0-500
    # lattice lines every 100 m crossing x 0-1000 (11) or y 0-500 (6), ends included
    assert at.session_state[state.EXPLORER_SUMMARY]["roads"] == 11 + 6
    at.selectbox(key=state.COMMUNITY).set_value("全部").run()
    at.query_params["grid"] = "G05"
    at.switch_page("ui/pages/my_grid.py")
    at.run()
    assert not at.exception, at.exception
    assert "roads" not in at.session_state[state.MY_GRID_SUMMARY]
    at.checkbox(key=state.MY_GRID_ROADS).check().run()
    near = at.session_state[state.MY_GRID_SUMMARY]["roads"]
    assert near == lines - 1  # the roads around the grid only: not the one 20 km away
