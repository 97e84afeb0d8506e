"""Tiny hand-made city for the indicator, snapshot and report tests.

Metric CRS EPSG:4546, origin (500000, 3610000). Everything below is in metres from the origin::

    district D1 (茅箭区) = [0, 2000] x [0, 2000]: streets S1a = x in [0, 1000], S1b = x in [1000, 2000]
    district D2 (张湾区) = [2000, 4000] x [0, 2000]: street S2 = the whole district

    population   P1 (500, 1000) 100   P2 (1500, 1000) 100   P3 (2500, 1000) 200   P4 (3500, 1000) 100
    centers      street-level C1 at (500, 1000); in period 2 also C2 at (3500, 1000)
    shelters     fixed F1 in S2 at (3000, 1000): capacity 60, effective area 120 m²
    grids        G1 in S1a 400 households, worker;  G2 in S1b 250 households, no worker;
                 G3 in S2 450 households, worker
    villages     V1 in S2 households 100, sanitary 90, garbage yes, sewage no
                 V2 in S1b households 100, sanitary 80, garbage no, sewage yes (period 2: sanitary 95)

With the 1000 m street-center radius (the boundary counts): period 1 covers P1 and P2 (200 of
500 residents, 40%); period 2 adds C2, which covers P4 (0 m) and P3 (exactly 1000 m): 100%.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

CRS = "EPSG:4546"
X0, Y0 = 500000.0, 3610000.0


def _b(x1: float, y1: float, x2: float, y2: float):
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def _p(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def tiny_layers(period: int = 1) -> dict[str, gpd.GeoDataFrame]:
    """Layers of the tiny city in EPSG:4326 (as the store holds them) for period 1 or 2."""
    districts = gpd.GeoDataFrame(
        {"code": ["D1", "D2"], "name": ["茅箭区", "张湾区"], "parent_code": [None, None]},
        geometry=[_b(0, 0, 2000, 2000), _b(2000, 0, 4000, 2000)],
        crs=CRS,
    )
    streets = gpd.GeoDataFrame(
        {
            "code": ["S1a", "S1b", "S2"],
            "name": ["武当路街道", "二堰街道", "花果街道"],
            "parent_code": ["D1", "D1", "D2"],
        },
        geometry=[_b(0, 0, 1000, 2000), _b(1000, 0, 2000, 2000), _b(2000, 0, 4000, 2000)],
        crs=CRS,
    )
    communities = gpd.GeoDataFrame(
        {
            "code": ["C1a", "C1b", "C2"],
            "name": ["社区甲", "社区乙", "社区丙"],
            "parent_code": ["S1a", "S1b", "S2"],
        },
        geometry=list(streets.geometry),
        crs=CRS,
    )
    population = gpd.GeoDataFrame(
        {
            "residents": pd.array([100, 100, 200, 100], dtype="Int64"),
            "households": pd.array([40, 40, 80, 40], dtype="Int64"),
        },
        geometry=[_p(500, 1000), _p(1500, 1000), _p(2500, 1000), _p(3500, 1000)],
        crs=CRS,
    )
    centers = [("C1", "邻里中心一", "street", _p(500, 1000))]
    if period == 2:
        centers.append(("C2", "邻里中心二", "street", _p(3500, 1000)))
    neighborhood_centers = gpd.GeoDataFrame(
        {
            "center_id": [c[0] for c in centers],
            "name": [c[1] for c in centers],
            "level": [c[2] for c in centers],
        },
        geometry=[c[3] for c in centers],
        crs=CRS,
    )
    shelters = gpd.GeoDataFrame(
        {
            "shelter_id": ["F1"],
            "name": ["花果公园"],
            "shelter_class": ["fixed_short"],
            "effective_area_m2": [120.0],
            "capacity": pd.array([60], dtype="Int64"),
        },
        geometry=[_p(3000, 1000)],
        crs=CRS,
    )
    grids = gpd.GeoDataFrame(
        {
            "grid_code": ["G1", "G2", "G3"],
            "grid_name": ["一网格", "二网格", "三网格"],
            "community": ["社区甲", "社区乙", "社区丙"],
            "street": ["武当路街道", "二堰街道", "花果街道"],
            "district": ["茅箭区", "茅箭区", "张湾区"],
            "worker_name": ["张三", None, "李四"],
            "households": pd.array([400, 250, 450], dtype="Int64"),
            "residents": pd.array([1000, 600, 1100], dtype="Int64"),
            "community_code": ["C1a", "C1b", "C2"],
        },
        geometry=list(streets.geometry),
        crs=CRS,
    )
    villages = gpd.GeoDataFrame(
        {
            "village_code": ["V1", "V2"],
            "name": ["一村", "二村"],
            "township": ["花果街道", "二堰街道"],
            "county": ["张湾区", "茅箭区"],
            "households": pd.array([100, 100], dtype="Int64"),
            "sanitary_toilet_households": pd.array([90, 95 if period == 2 else 80], dtype="Int64"),
            "garbage_collection": pd.array([True, False], dtype="boolean"),
            "sewage_treatment": pd.array([False, True], dtype="boolean"),
        },
        geometry=[_p(3200, 500), _p(1800, 1500)],
        crs=CRS,
    )
    sanitation = gpd.GeoDataFrame(
        {
            "facility_id": ["T1"],
            "name": ["公厕一"],
            "kind": ["public_toilet"],
            "village_code": [None],
        },
        geometry=[_p(500, 1000)],
        crs=CRS,
    )
    layers = {
        "districts": districts,
        "streets": streets,
        "communities": communities,
        "grids": grids,
        "population": population,
        "neighborhood_centers": neighborhood_centers,
        "shelters": shelters,
        "villages": villages,
        "sanitation_facilities": sanitation,
    }
    return {k: v.to_crs("EPSG:4326") for k, v in layers.items()}


def write_tiny_store(path) -> None:
    """Store of the tiny city: period 2 data (meta period 2026-Q3, synthetic) plus a 2026-Q2
    snapshot computed from the period 1 data."""
    from data.snapshots import indicators_for_layers, save_snapshot
    from data.store import GeoPackageStore
    from geo.settings import load_profile

    store = GeoPackageStore(path)
    store.write(tiny_layers(2))
    store.write_meta({"synthetic": "true", "period": "2026-Q3"})
    q2, _ = indicators_for_layers(tiny_layers(1), load_profile())
    save_snapshot(store, "2026-Q2", q2)
