"""Small hand-made layers and stores for the import, check and data-page tests.

Everything sits in central Shiyan around (110.79E, 32.63N); a grid cell is 0.01 degrees.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, box

from data.store import GeoPackageStore

LON0, LAT0 = 110.78, 32.62
CELL = 0.01


def grids_frame(n: int = 4, *, start: int = 1) -> gpd.GeoDataFrame:
    """`n` square grids in a row, codes G001.., 400 households and 1000 residents each."""
    codes = [f"G{i:03d}" for i in range(start, start + n)]
    geoms = [
        box(LON0 + i * CELL, LAT0, LON0 + (i + 1) * CELL, LAT0 + CELL)
        for i in range(start - 1, start - 1 + n)
    ]
    return gpd.GeoDataFrame(
        {
            "grid_code": codes,
            "grid_name": [f"第{i}网格" for i in range(start, start + n)],
            "community": "五堰社区",
            "street": "五堰街道",
            "district": "茅箭区",
            "worker_name": "张三",
            "households": 400,
            "residents": 1000,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


def points_table(n: int = 3) -> pd.DataFrame:
    """A neighborhood-centre table with Chinese headers and 经度/纬度 columns."""
    return pd.DataFrame(
        {
            "中心编号": [f"C{i}" for i in range(1, n + 1)],
            "名称": [f"邻里中心{i}" for i in range(1, n + 1)],
            "级别": ["street"] + ["community"] * (n - 1),
            "经度": [LON0 + 0.005 * i for i in range(n)],
            "纬度": [LAT0 + 0.004 * i for i in range(n)],
        }
    )


def small_layers() -> dict[str, gpd.GeoDataFrame]:
    """A few valid rows for every layer."""
    crs = "EPSG:4326"
    area = box(LON0, LAT0, LON0 + 4 * CELL, LAT0 + CELL)
    admin = {
        "districts": gpd.GeoDataFrame(
            {"code": ["420302"], "name": ["茅箭区"], "parent_code": [None]},
            geometry=[area],
            crs=crs,
        ),
        "streets": gpd.GeoDataFrame(
            {"code": ["420302001"], "name": ["五堰街道"], "parent_code": ["420302"]},
            geometry=[area],
            crs=crs,
        ),
        "communities": gpd.GeoDataFrame(
            {"code": ["420302001001"], "name": ["五堰社区"], "parent_code": ["420302001"]},
            geometry=[area],
            crs=crs,
        ),
    }
    pts = [Point(LON0 + 0.005 + CELL * i, LAT0 + 0.005) for i in range(4)]
    return {
        **admin,
        "grids": grids_frame(),
        "population": gpd.GeoDataFrame(
            {"residents": [1000] * 4, "households": [400] * 4}, geometry=pts, crs=crs
        ),
        "neighborhood_centers": gpd.GeoDataFrame(
            {
                "center_id": ["C1", "C2"],
                "name": ["五堰邻里中心", "北京路邻里中心"],
                "level": ["street", "community"],
            },
            geometry=pts[:2],
            crs=crs,
        ),
        "shelters": gpd.GeoDataFrame(
            {
                "shelter_id": ["S1", "S2"],
                "name": ["人民公园", "体育场"],
                "shelter_class": ["emergency", "fixed_short"],
                "effective_area_m2": [5000.0, 20000.0],
                "capacity": [5000, 10000],
            },
            geometry=pts[2:],
            crs=crs,
        ),
        "villages": gpd.GeoDataFrame(
            {
                "village_code": ["V1", "V2"],
                "name": ["一村", "二村"],
                "township": ["茶店镇"] * 2,
                "county": ["郧阳区"] * 2,
                "households": [300, 200],
                "sanitary_toilet_households": [280, 100],
                "garbage_collection": [True, False],
                "sewage_treatment": [False, None],
            },
            geometry=[Point(110.70, 32.70), Point(110.72, 32.71)],
            crs=crs,
        ),
        "sanitation_facilities": gpd.GeoDataFrame(
            {
                "facility_id": ["F1", "F2"],
                "name": ["一村垃圾点", "公厕"],
                "kind": ["garbage_point", "public_toilet"],
                "village_code": ["V1", None],
            },
            geometry=[Point(110.701, 32.701), Point(110.79, 32.63)],
            crs=crs,
        ),
        "roads": gpd.GeoDataFrame(
            {
                "road_id": ["R1", "R2"],
                "name": ["五堰街", "人民桥"],
                "road_class": ["residential", "footway"],
                "walkable": [True, True],
                "bridge": [False, True],
                "tunnel": [False, False],
                "from_osm": [False, False],
            },
            geometry=[
                LineString([(LON0, LAT0 + 0.004), (LON0 + 4 * CELL, LAT0 + 0.004)]),
                LineString([(LON0 + 0.015, LAT0), (LON0 + 0.015, LAT0 + CELL)]),
            ],
            crs=crs,
        ),
        "facilities": gpd.GeoDataFrame(
            {
                "facility_id": ["S1", "S2"],
                "name": ["一社区养老服务站", "一社区卫生服务站"],
                "kind": ["elderly_care", "health_station"],
                "capacity": pd.array([20, None], dtype="Int64"),
                "area_m2": [300.0, None],
                "opened_period": ["2026-Q3", None],
            },
            geometry=[Point(110.791, 32.631), Point(110.792, 32.632)],
            crs=crs,
        ),
        "entrances": gpd.GeoDataFrame(
            {
                "entrance_id": ["E1"],
                "facility_layer": ["shelters"],
                "facility_key": ["S2"],
                "name": ["体育场东门"],
            },
            geometry=[Point(pts[3].x + 0.0005, pts[3].y)],
            crs=crs,
        ),
    }


def build_small_store(path: Path, *, synthetic: bool = False) -> GeoPackageStore:
    """Write :func:`small_layers` to a new GeoPackage at `path`."""
    store = GeoPackageStore(path)
    store.write(small_layers())
    store.write_meta({"synthetic": str(synthetic).lower(), "city": "十堰市"})
    return store
