"""Zoomed-in grids without a browser: which community holds a grid, the zoom grids appear at,
the map's index and the grid data the route sends (tiny store, answers worked out by hand)."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pandas as pd

from maps import display as dp
from maps import render
from tests._map_fixtures import frames

METRIC = "EPSG:4546"


def test_area_of_names_the_community_holding_each_grid():
    tiny = frames()
    where = dp.area_of(tiny["grids"], tiny["communities"], metric_crs=METRIC)
    names = tiny["communities"]["name"]
    got = dict(zip(tiny["grids"]["grid_code"], names.reindex(where).tolist(), strict=True))
    assert got == {
        "G01": "社区一",
        "G02": "社区一",
        "G03": "社区二",
        "G04": "社区二",
        "G05": "社区三",
        "G06": "社区三",
    }


def test_grid_zoom_for_moves_closer_where_grids_are_dense():
    # every community: two grids on 0.5 km², 4 grids/km². A 1440 x 620 px view plus a quarter
    # on each side at zoom z covers 2.25 * 1440 * 620 * (156,543.03 * cos(lat) / 2^z)^2 m².
    tiny = frames()
    areas = tiny["communities"]
    counts = pd.Series(2, index=areas.index)
    lat = float(areas.to_crs("EPSG:4326").geometry.union_all().centroid.y)

    def grids_in_view(z: int) -> float:
        metres = 156_543.03 * math.cos(math.radians(lat)) / 2**z
        return 4.0 * 2.25 * 1440 * 620 * metres**2 / 1e6

    assert 100 < grids_in_view(15) < 200 and grids_in_view(16) < 100  # about 130 and 33

    def zoom(max_grids: int, floor: int = 15) -> int:
        return dp.grid_zoom_for(
            areas, counts=counts, floor=floor, max_grids=max_grids, metric_crs=METRIC
        )

    assert zoom(200) == 15
    assert zoom(100) == 16
    assert zoom(10) == 17  # about 8 grids at 17
    assert zoom(10**6, floor=12) == 12


def _grid_layer_data(m) -> dict:
    group = m._children["layer_grids"]
    layer = next(c for c in group._children.values() if isinstance(c, render.DataLayer))
    return json.loads(layer.payload)


def test_grid_payload_is_the_grid_layer_with_the_classes_of_all_grids():
    from geo.settings import load_profile

    tiny = frames()
    grids = dp.prepare_geometry(tiny["grids"], decimals=5, metric_crs=METRIC)
    m = render.base_map(load_profile(), "none", lang="en")
    render.draw_layers(m, {"grids": grids}, lang="en")
    whole = _grid_layer_data(m)
    part = json.loads(
        render.grid_payload(grids.iloc[[1, 4]], class_frame=grids, lang="en", decimals=5)
    )
    assert part["labels"] == whole["labels"] and part["tip"] == whole["tip"]
    assert part["symbols"] == whole["symbols"] and part["style"] == whole["style"]
    assert part["cls"] == [whole["cls"][1], whole["cls"][4]]
    rows = render.payload_rows(part)
    assert [r[0] for r in rows] == ["G02", "G05"]
    assert rows[1][1].startswith("&lt;img")  # the XSS probe name stays escaped text


def test_lazy_grids_index_legend_and_config():
    from geo.settings import load_profile

    tiny = frames()
    grids = dp.prepare_geometry(tiny["grids"], decimals=5, metric_crs=METRIC)
    summary = dp.grids_by_area(grids, tiny["communities"].to_crs(4326), metric_crs=METRIC)
    m = render.base_map(load_profile(), "none")
    render.add_grid_summary(m, summary)
    lazy = render.LazyGrids(url="../../gridmap/api/grids", version="v1", min_zoom=15)
    render.add_lazy_grids(m, summary, grids, lazy=lazy)
    render.finish(m)
    html = m.get_root().render()
    script = m._children["gridmap_lazy_grids"].code("map")
    config = json.loads(script[script.index("{") : script.rindex(")")])
    assert config["minZoom"] == 15 and config["v"] == "v1"
    assert [row[0] for row in config["index"]] == [str(i) for i in summary.index]
    south, west, north, east = config["index"][0][1:]
    assert south < north and west < east and 110 < west < 111 and 32 < south < 33
    assert "gridmap.lazyGrids(" in html
    keys = [s.key for s in m.legend.sections]
    assert keys == ["grid_summary", "grids"]  # the grid legend, shown once zoomed in
    # no grid's own data is in the page: only the communities' sums and boxes
    assert "G01" not in html and "张三" not in html


def _with_outsiders(tiny: dict) -> gpd.GeoDataFrame:
    """The tiny grids plus G07, 2.5 km south of every community (nearest: community one), and
    G08, reaching 400 m east out of community two (its centre outside every community)."""
    from tests._map_fixtures import _box

    grids = tiny["grids"]
    extra = gpd.GeoDataFrame(
        {
            "grid_code": ["G07", "G08"],
            "grid_name": ["七号网格", "八号网格"],
            "households": [300, 200],
            "residents": [800, 600],
            "worker_name": ["钱七", None],
        },
        geometry=[_box(200, -3000, 700, -2500), _box(1300, 0, 1900, 400)],
        crs=METRIC,
    ).to_crs(grids.crs)
    return pd.concat([grids, extra], ignore_index=True)


def test_grids_outside_every_community_belong_to_the_nearest_or_most_overlapped():
    tiny = frames()
    grids = _with_outsiders(tiny)
    where = dp.area_of(grids, tiny["communities"], metric_crs=METRIC)
    names = tiny["communities"]["name"].reindex(where).tolist()
    got = dict(zip(grids["grid_code"], names, strict=True))
    assert got["G07"] == "社区一" and got["G08"] == "社区二" and got["G01"] == "社区一"
    assert where.notna().all()
    # the per-community sums count them too: no grid is left out of the map
    sums = dp.grids_by_area(grids, tiny["communities"], metric_crs=METRIC).set_index("name")
    assert sums["grids"].sum() == 8
    assert sums.loc["社区一", "households"] == 730 + 300
    assert sums.loc["社区二", "households"] == 770 + 200


def test_lazy_grids_box_of_a_community_holds_its_outside_grids():
    from geo.settings import load_profile

    tiny = frames()
    grids = _with_outsiders(tiny)
    summary = dp.grids_by_area(grids, tiny["communities"], metric_crs=METRIC)
    where = dp.area_of(grids, tiny["communities"], metric_crs=METRIC)
    lazy = render.LazyGrids(url="x", version="v1", min_zoom=15)

    def boxes(**extra) -> dict[str, list[float]]:
        m = render.base_map(load_profile(), "none")
        render.add_grid_summary(m, summary)
        render.add_lazy_grids(m, summary, grids, lazy=lazy, **extra)
        script = m._children["gridmap_lazy_grids"].code("map")
        config = json.loads(script[script.index("{") : script.rindex(")")])
        names = dict(zip(summary.index.astype(str), summary["name"], strict=True))
        return {names[row[0]]: row[1:] for row in config["index"]}

    plain, held = boxes(), boxes(area=where)
    g07 = grids.loc[grids["grid_code"] == "G07"].total_bounds  # west, south, east, north
    g08 = grids.loc[grids["grid_code"] == "G08"].total_bounds
    # without the grids' areas the boxes are the communities' own: G07 and G08 never fetched
    assert plain["社区一"][0] > g07[3] and plain["社区二"][3] < g08[2]
    south, west, north, east = held["社区一"]
    assert south <= g07[1] + 1e-5 and west <= g07[0] + 1e-5 and north == plain["社区一"][2]
    assert held["社区二"][3] >= g08[2] - 1e-5
    assert held["社区三"] == plain["社区三"]


def test_grids_route_batch_sends_a_grid_outside_every_community(tmp_path, monkeypatch):
    from auth.model import CITY_KEY
    from data.store import GeoPackageStore
    from maps.render import payload_rows

    tiny = frames()
    store = GeoPackageStore(tmp_path / "outside.gpkg")
    store.write({**tiny, "grids": _with_outsiders(tiny)})
    monkeypatch.setenv("GRIDMAP_STORE", str(store.path))
    from ui import data_access as da

    communities = store.read("communities")
    labels = dict(zip(communities["name"], communities.index.astype(str), strict=True))
    where = da.grid_areas(key=CITY_KEY)
    assert where.notna().all() and len(where) == 8
    body = json.loads(
        da.grid_batch(
            (labels["社区一"],), color_by="households", lang="zh", offsets="wgs84", key=CITY_KEY
        )
    )
    position = body["labels"].index("网格编码")
    assert {row[position] for row in payload_rows(body)} == {"G01", "G02", "G07"}
