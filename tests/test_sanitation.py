"""Rural sanitation on five villages worked out by hand.

Villages 10 km apart (garbage radius 1000 m, toilet target 90%):
V1 point, 90/100 toilets (exactly 90%: meets); a garbage point exactly 1000 m away (counts).
V2 point, 89/100 (below); nearest garbage point 1000.5 m away (does not count): below target.
V3 2 km square polygon, 50/50; a garbage point and a sewage station inside the polygon but
   1273 m from its centre: garbage collected (inside), sewage treated.
V4 point, 0 households; flags garbage_collection and sewage_treatment true.
V5 point, 36/40 (90%: meets); garbage_collection false but a far garbage point is linked to it
   by village_code: garbage collected.
Townships: T1 = V1, V2 (county C1); T2 = V3 (C1); T3 = V4, V5 (C2).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import CRSError
from geo.sanitation import sanitation_all, sanitation_rollup, village_sanitation
from geo.settings import load_profile

CRS = "EPSG:4546"
X0, Y0 = 500_000.0, 3_600_000.0


def villages() -> gpd.GeoDataFrame:
    geoms = [
        shapely.Point(X0, Y0),
        shapely.Point(X0 + 10_000, Y0),
        shapely.box(X0 + 20_000, Y0, X0 + 22_000, Y0 + 2_000),
        shapely.Point(X0 + 30_000, Y0),
        shapely.Point(X0 + 40_000, Y0),
    ]
    return gpd.GeoDataFrame(
        {
            "village_code": ["V1", "V2", "V3", "V4", "V5"],
            "name": ["一村", "二村", "三村", "四村", "五村"],
            "township": ["T1", "T1", "T2", "T3", "T3"],
            "county": ["C1", "C1", "C1", "C2", "C2"],
            "households": pd.array([100, 100, 50, 0, 40], dtype="Int64"),
            "sanitary_toilet_households": pd.array([90, 89, 50, 0, 36], dtype="Int64"),
            "garbage_collection": pd.array([None, None, None, True, False], dtype="boolean"),
            "sewage_treatment": pd.array([None, False, None, True, None], dtype="boolean"),
        },
        geometry=geoms,
        crs=CRS,
        index=pd.Index([101, 102, 103, 104, 105], name="vid"),
    )


def facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "facility_id": ["g1", "g2", "g3", "s3", "g5", "t1"],
            "kind": [
                "garbage_point",
                "garbage_point",
                "garbage_point",
                "sewage_station",
                "garbage_point",
                "public_toilet",
            ],
            "village_code": [None, None, None, None, "V5", None],
        },
        geometry=shapely.points(
            [X0, X0 + 10_000, X0 + 21_900, X0 + 21_900, X0 + 45_000, X0 + 10_000],
            [Y0 + 1000, Y0 - 1000.5, Y0 + 1_900, Y0 + 1_800, Y0, Y0],
        ),
        crs=CRS,
    )


def test_village_status_by_hand():
    v = village_sanitation(villages(), facilities(), load_profile())
    assert v.index.equals(villages().index) and v.crs == CRS
    assert v["name"].tolist() == villages()["name"].tolist()
    assert v["toilet_penetration"].iloc[:3].tolist() == pytest.approx([0.9, 0.89, 1.0])
    assert np.isnan(v["toilet_penetration"].iloc[3])
    assert v["meets_toilet_target"].tolist() == [True, False, True, True, True]
    assert v["garbage_point_distance_m"].iloc[0] == pytest.approx(1000)
    assert v["has_garbage_collection"].tolist() == [True, False, True, True, True]
    assert v["has_sewage_treatment"].tolist() == [False, False, True, True, False]
    assert v["below_target"].tolist() == [False, True, False, False, False]
    assert (
        v.loc[102, "shortfalls"]
        == "toilets 89.0% < 90%; no garbage collection; no sewage treatment"
    )
    assert v.loc[103, "shortfalls"] == ""


def test_target_and_radius_from_profile():
    stricter = load_profile().with_overrides(
        targets={"sanitary_toilet_penetration": 0.95}, radii={"garbage_point": 999}
    )
    v = village_sanitation(villages(), facilities(), stricter)
    assert v["meets_toilet_target"].tolist() == [False, False, True, True, False]
    assert not v.loc[101, "has_garbage_collection"]


def test_rollup_by_township_and_county():
    v = village_sanitation(villages(), facilities(), load_profile())
    town = sanitation_rollup(v, by="township", profile=load_profile())
    t1 = town.loc[("C1", "T1")]
    assert t1["villages"] == 2 and t1["households"] == 200
    assert t1["toilet_penetration"] == pytest.approx(179 / 200)
    assert t1["share_meeting_toilet"] == 0.5 and t1["share_with_garbage"] == 0.5
    assert not t1["meets_garbage_target"] and not t1["meets_sewage_target"]
    t3 = town.loc[("C2", "T3")]
    assert t3["share_with_sewage"] == 0.5 and t3["meets_sewage_target"]  # 50% >= 40%
    assert t3["toilet_penetration"] == pytest.approx(0.9) and t3["meets_toilet_target"]
    county = sanitation_rollup(v, by="county", profile=load_profile())
    assert county.loc["C1", "villages"] == 3
    assert county.loc["C1", "share_with_garbage"] == pytest.approx(2 / 3)
    assert county["villages"].sum() == town["villages"].sum() == 5
    assert county["households"].sum() == 290


def test_sanitation_all_summary():
    result = sanitation_all(villages(), facilities(), load_profile())
    s = result.summary()
    assert s["villages"] == 5 and s["villages_below_target"] == 1
    assert s["toilet_penetration"] == pytest.approx(265 / 290)
    assert s["share_with_garbage"] == pytest.approx(0.8)
    assert result.below_target["village_code"].tolist() == ["V2"]


def test_sanitation_refuses_geographic_crs():
    with pytest.raises(CRSError):
        village_sanitation(
            villages().to_crs("EPSG:4326"), facilities().to_crs("EPSG:4326"), load_profile()
        )
    v = village_sanitation(villages(), facilities(), load_profile())
    with pytest.raises(CRSError):
        sanitation_rollup(v.to_crs("EPSG:4326"), by="county", profile=load_profile())
