"""A tiny store for map tests: answers worked out by hand.

Six 500 m square grids in two rows (EPSG:4546, near Shiyan's centre), in one district, two
streets and three communities; population points at grid centres; two neighborhood centers,
three shelters, two villages and three sanitation facilities. Grid G05's name is an XSS probe.

Layout (x to the east, y to the north, metres from the origin):

    y 500-1000:  G04 (c2/s2)  G05 (c3/s2, XSS)  G06 (c3/s2)
    y    0-500:  G01 (c1/s1)  G02 (c1/s1)       G03 (c2/s2)
                 x 0-500      500-1000          1000-1500
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point, box

from data.store import GeoPackageStore

METRIC = "EPSG:4546"
X0, Y0 = 480_000.0, 3_612_000.0  # near 110.79E 32.63N in EPSG:4546
XSS = "<img src=x onerror=alert(1)>"


def _xy(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


def _box(x0: float, y0: float, x1: float, y1: float):
    return box(*_xy(x0, y0), *_xy(x1, y1))


def frames() -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the tiny store, in EPSG:4326."""
    grid_rows = [
        # code, name, community, street, x, y, households, residents, worker, phone
        ("G01", "一号网格", "社区一", "街道甲", 0, 0, 320, 900, "张三", "13812341234"),
        ("G02", "二号网格", "社区一", "街道甲", 500, 0, 410, 1100, "张三", "13812341234"),
        ("G03", "三号网格", "社区二", "街道乙", 1000, 0, 250, 700, "李四", "13900001111"),
        ("G04", "四号网格", "社区二", "街道乙", 0, 500, 520, 1500, None, None),
        ("G05", XSS, "社区三", "街道乙", 500, 500, 380, 1000, "王五", "13700002222"),
        ("G06", "六号网格", "社区三", "街道乙", 1000, 500, 450, 1200, "赵六", "13600003333"),
    ]
    grids = gpd.GeoDataFrame(
        {
            "grid_code": [r[0] for r in grid_rows],
            "grid_name": [r[1] for r in grid_rows],
            "community": [r[2] for r in grid_rows],
            "street": [r[3] for r in grid_rows],
            "district": ["测试区"] * 6,
            "worker_name": [r[8] for r in grid_rows],
            "worker_phone": [r[9] for r in grid_rows],
            "households": [r[6] for r in grid_rows],
            "residents": [r[7] for r in grid_rows],
            "community_code": [None] * 6,
        },
        geometry=[_box(r[4], r[5], r[4] + 500, r[5] + 500) for r in grid_rows],
        crs=METRIC,
    )
    districts = gpd.GeoDataFrame(
        {"code": ["420301"], "name": ["测试区"], "parent_code": [None]},
        geometry=[_box(0, 0, 1500, 1000)],
        crs=METRIC,
    )
    streets = gpd.GeoDataFrame(
        {"code": ["S1", "S2"], "name": ["街道甲", "街道乙"], "parent_code": ["420301", "420301"]},
        geometry=[_box(0, 0, 1000, 500), _box(0, 0, 1500, 1000).difference(_box(0, 0, 1000, 500))],
        crs=METRIC,
    )
    communities = gpd.GeoDataFrame(
        {
            "code": ["C1", "C2", "C3"],
            "name": ["社区一", "社区二", "社区三"],
            "parent_code": ["S1", "S2", "S2"],
        },
        geometry=[
            _box(0, 0, 1000, 500),
            _box(1000, 0, 1500, 500).union(_box(0, 500, 500, 1000)),
            _box(500, 500, 1500, 1000),
        ],
        crs=METRIC,
    )
    population = gpd.GeoDataFrame(
        {"residents": [r[7] for r in grid_rows], "households": [r[6] for r in grid_rows]},
        geometry=[Point(_xy(r[4] + 250, r[5] + 250)) for r in grid_rows],
        crs=METRIC,
    )
    centers = gpd.GeoDataFrame(
        {
            "center_id": ["NC1", "NC2"],
            "name": ["甲街道党群服务中心", "二号社区邻里中心"],
            "level": ["street", "community"],
            "services": ["办事, 养老", None],
            "area_m2": [1200.0, 300.0],
            "opening_hours": ["8:30-17:30", None],
            "opened_period": [None, None],
        },
        # NC1 inside G01 (100, 100); NC2 inside G06 (1400, 900)
        geometry=[Point(_xy(100, 100)), Point(_xy(1400, 900))],
        crs=METRIC,
    )
    shelters = gpd.GeoDataFrame(
        {
            "shelter_id": ["SH1", "SH2", "SH3"],
            "name": ["一号紧急避难场所", "体育场固定避难场所", "远处紧急避难场所"],
            "shelter_class": ["emergency", "fixed_medium", "emergency"],
            "effective_area_m2": [2000.0, 30000.0, 1500.0],
            "capacity": [2000, 10000, 1500],
            "opened_period": [None, None, None],
        },
        # SH1 inside G02 (750, 250); SH2 east of the grids (2100, 750); SH3 far north (250, 2500)
        geometry=[Point(_xy(750, 250)), Point(_xy(2100, 750)), Point(_xy(250, 2500))],
        crs=METRIC,
    )
    villages = gpd.GeoDataFrame(
        {
            "village_code": ["V1", "V2"],
            "name": ["东村", "西村"],
            "township": ["街道乙", "街道甲"],
            "county": ["测试区", "测试区"],
            "households": [200, 150],
            "sanitary_toilet_households": [180, 100],
            "garbage_collection": [True, False],
            "sewage_treatment": [False, None],
        },
        # V1 inside G03 (1250, 250); V2 outside everything (-800, 200)
        geometry=[Point(_xy(1250, 250)), Point(_xy(-800, 200))],
        crs=METRIC,
    )
    sanitation = gpd.GeoDataFrame(
        {
            "facility_id": ["F1", "F2", "F3"],
            "name": ["一号公厕", "东村垃圾点", "污水站"],
            "kind": ["public_toilet", "garbage_point", "sewage_station"],
            "village_code": [None, "V1", None],
        },
        # F1 inside G05 (700, 700); F2 inside G03 (1300, 300); F3 outside (-500, -500)
        geometry=[Point(_xy(700, 700)), Point(_xy(1300, 300)), Point(_xy(-500, -500))],
        crs=METRIC,
    )
    out = {
        "districts": districts,
        "streets": streets,
        "communities": communities,
        "grids": grids,
        "population": population,
        "neighborhood_centers": centers,
        "shelters": shelters,
        "villages": villages,
        "sanitation_facilities": sanitation,
    }
    return {k: v.to_crs("EPSG:4326") for k, v in out.items()}


def write_tiny_store(path: Path, *, skip: tuple[str, ...] = ()) -> Path:
    """Write the tiny store to `path` (layers in `skip` left out)."""
    GeoPackageStore(path).write({k: v for k, v in frames().items() if k not in skip})
    return path


ROOT_APP = Path(__file__).resolve().parent.parent / "app.py"
