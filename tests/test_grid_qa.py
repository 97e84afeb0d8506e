"""Grid checks on a fixture worked out by hand (x, y in metres from X0, Y0).

Community C1 = [0, 400] x [0, 200]; C2 = [1000, 1400] x [0, 200].
G1 [0, 200] x [0, 200]        C1  400 hh  worker 张三 (phone A)
G2 [150, 350] x [0, 100]      C1  250 hh  李四; overlaps G1 by 50 x 100 = 5000 m²; code malformed
G3 [200, 400] x [100, 200]    C1  520 hh  no worker; touches G1 and G2 (no overlap); code
                                          starts with C2's code, not C1's
G4 [1000, 1200] x [0, 200]    C2  300 hh  张三 (phone A) -> 张三 has two grids
G5 [1199.996, 1400] x [0, 200] C2 500 hh  王五; same code as G4; overlaps G4 by 0.8 m²
                                          (not over 1 m²: ignored)
Uncovered: C1's [350, 400] x [0, 100] = 5000 m².
Population points: G3 holds 1000 residents / 400 households against 1300 / 520 recorded
(differences 300 > 20% of 1300 and 120 > 20% of 520); G4 900 vs 750 recorded (150 = exactly 20%:
not a mismatch); the others match.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import CRSError
from geo.grid_qa import CHECKS, grid_checks, grid_overlaps, uncovered_land
from geo.settings import load_profile

CRS = "EPSG:4546"
X0, Y0 = 500_000.0, 3_600_000.0
C1, C2 = "420302001001", "420302001002"


def box(x1, y1, x2, y2):
    return shapely.box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [C1, C2], "name": ["一社区", "二社区"], "parent_code": ["420302001"] * 2},
        geometry=[box(0, 0, 400, 200), box(1000, 0, 1400, 200)],
        crs=CRS,
    )


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "grid_code": [C1 + "001", "4203020010010X2", C2 + "003", C2 + "001", C2 + "001"],
            "grid_name": ["G1", "G2", "G3", "G4", "G5"],
            "community": ["一社区"] * 3 + ["二社区"] * 2,
            "street": ["五堰街道"] * 5,
            "district": ["茅箭区"] * 5,
            "worker_name": ["张三", "李四", None, "张三", "王五"],
            "worker_phone": ["13800000001", "13800000002", None, "138-0000-0001", "13800000005"],
            "households": pd.array([400, 250, 520, 300, 500], dtype="Int64"),
            "residents": pd.array([1000, 600, 1300, 750, 1000], dtype="Int64"),
            "community_code": [C1, C1, C1, C2, C2],
        },
        geometry=[
            box(0, 0, 200, 200),
            box(150, 0, 350, 100),
            box(200, 100, 400, 200),
            box(1000, 0, 1200, 200),
            box(1199.996, 0, 1400, 200),
        ],
        crs=CRS,
        index=pd.Index(list("abcde"), name="gid"),
    )


def population() -> gpd.GeoDataFrame:
    xy = [(50, 50), (100, 150), (300, 50), (300, 150), (1100, 100), (1300, 100)]
    return gpd.GeoDataFrame(
        {
            "residents": [500, 500, 600, 1000, 900, 1000],
            "households": [200, 200, 250, 400, 300, 500],
        },
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy],
        crs=CRS,
    )


def run():
    return grid_checks(grids(), communities(), population(), load_profile())


def codes_of(result, check):
    return sorted(result.of(check)["grid_codes"].tolist())


def test_overlap_area_by_hand():
    ov = grid_overlaps(grids(), min_area_m2=load_profile().grids.min_area_m2)
    assert len(ov) == 1
    assert {ov.loc[0, "grid_code_a"], ov.loc[0, "grid_code_b"]} == {C1 + "001", "4203020010010X2"}
    assert ov.loc[0, "area_m2"] == pytest.approx(5000)
    assert ov.geometry.iloc[0].equals(box(150, 0, 200, 100))
    # a grid inside another is an overlap too ("overlaps" alone would miss it)
    inner = grids().iloc[[0]].copy()
    inner.geometry = [box(50, 50, 60, 60)]
    inner["grid_code"] = ["inner"]
    both = pd.concat([grids().iloc[[0]], inner])
    assert grid_overlaps(both, min_area_m2=load_profile().grids.min_area_m2)[
        "area_m2"
    ].tolist() == pytest.approx([100])


def test_uncovered_community_land_by_hand():
    gaps = uncovered_land(grids(), communities(), min_area_m2=load_profile().grids.min_area_m2)
    assert gaps["community_code"].tolist() == [C1]
    assert gaps.loc[0, "area_m2"] == pytest.approx(5000)
    assert gaps.geometry.iloc[0].normalize().equals(box(350, 0, 400, 100).normalize())


def test_every_check_by_hand():
    r = run()
    assert set(r.problems["check"]) <= set(CHECKS)
    assert codes_of(r, "overlap") == [f"{C1}001,4203020010010X2"]
    assert r.of("uncovered_land")["community_code"].tolist() == [C1]
    assert codes_of(r, "households_out_of_range") == ["4203020010010X2", C2 + "003"]
    assert codes_of(r, "no_worker") == [C2 + "003"]
    assert codes_of(r, "worker_multiple_grids") == [f"{C1}001,{C2}001"]
    assert r.of("worker_multiple_grids")["detail"].iloc[0] == "张三 is responsible for 2 grids"
    assert codes_of(r, "duplicate_code") == [C2 + "001"]
    assert codes_of(r, "malformed_code") == ["4203020010010X2", C2 + "003"]
    assert codes_of(r, "residents_mismatch") == [C2 + "003"]
    assert codes_of(r, "households_mismatch") == [C2 + "003"]
    assert (
        r.of("residents_mismatch")["detail"].iloc[0] == "recorded 1,300, counted 1,000 (residents)"
    )
    assert len(r.of("invalid_geometry")) == 0
    assert r.problems.crs == CRS
    assert r.problems.geometry.notna().all()
    s = r.summary()
    assert s["grids"] == 5
    assert s["share_in_household_range"] == pytest.approx(0.6)
    assert s["share_with_worker"] == pytest.approx(0.8)
    assert s["overlap_area_m2"] == pytest.approx(5000)
    assert s["uncovered_area_m2"] == pytest.approx(5000)
    assert r.counts.index.equals(grids().index)
    assert r.counts["residents_counted"].tolist() == [1000, 600, 1000, 900, 1000]


def test_settings_change_the_checks():
    profile = load_profile().with_overrides(
        grids={"households_min": 250, "households_max": 520, "population_mismatch_share": 0.25}
    )
    r = grid_checks(grids(), communities(), population(), profile)
    assert len(r.of("households_out_of_range")) == 0
    assert len(r.of("residents_mismatch")) == 0  # 300 <= 25% of 1300
    assert len(r.of("households_mismatch")) == 0  # 120 <= 25% of 520 = 130


def test_code_pattern_and_smallest_area_come_from_the_profile():
    rules = load_profile().grids
    assert (rules.code_pattern, rules.min_area_m2) == (r"\d{15}", 1.0)
    profile = load_profile().with_overrides(
        grids={"code_pattern": r"[0-9X]{15}", "min_area_m2": 0.5}
    )
    r = grid_checks(grids(), communities(), population(), profile)
    # G2's "...0X2" now matches; G3 still starts with C2's code
    assert codes_of(r, "malformed_code") == [C2 + "003"]
    # G4/G5's 0.8 m² overlap is now over the smallest area reported
    assert codes_of(r, "overlap") == [f"{C1}001,4203020010010X2", f"{C2}001,{C2}001"]
    assert len(grid_overlaps(grids(), min_area_m2=6000)) == 0
    assert len(uncovered_land(grids(), communities(), min_area_m2=6000)) == 0


def test_clean_grids_have_no_problems():
    g = grids().iloc[[0, 3]].copy()
    g["worker_name"] = ["甲", "乙"]
    g.loc["d", "residents"] = 900
    pop = population().iloc[[0, 1, 4]]
    comm = communities().iloc[:0]
    r = grid_checks(g, comm, pop, load_profile())
    assert len(r.problems) == 0, r.problems[["check", "detail"]]
    assert list(r.problems.columns[:6]) == [
        "check",
        "grid_code",
        "grid_codes",
        "community_code",
        "detail",
        "value",
    ]


def test_grid_checks_refuse_geographic_crs():
    with pytest.raises(CRSError):
        grid_checks(
            grids().to_crs("EPSG:4326"), communities().to_crs("EPSG:4326"), None, load_profile()
        )
    with pytest.raises(CRSError):
        grid_overlaps(grids().to_crs("EPSG:4326"), min_area_m2=1.0)
    with pytest.raises(CRSError):
        uncovered_land(grids(), communities().to_crs("EPSG:4326"), min_area_m2=1.0)
    with pytest.raises(CRSError):
        grid_checks(grids(), communities(), population().to_crs("EPSG:4326"), load_profile())


def test_invalid_geometry_reported():
    g = grids().iloc[[0]].copy()
    g.geometry = [shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])]
    r = grid_checks(g, None, None, load_profile())
    assert codes_of(r, "invalid_geometry") == [C1 + "001"]
    assert np.isfinite(r.problems["value"]).all()


def test_duplicated_code_counts_residents_per_grid_polygon():
    """Points carrying a code two grids share are counted in the grid they lie in."""
    pop = population()
    pop["grid_code"] = [C1 + "001", C1 + "001", "4203020010010X2", C2 + "003"] + [C2 + "001"] * 2
    r = grid_checks(grids(), communities(), pop, load_profile())
    assert r.counts["residents_counted"].tolist() == [1000, 600, 1000, 900, 1000]
    assert r.counts["households_counted"].tolist() == [400, 250, 400, 300, 500]
    assert codes_of(r, "residents_mismatch") == [C2 + "003"]  # not the two C2001 grids
    assert codes_of(r, "households_mismatch") == [C2 + "003"]
    assert len(r.of("duplicate_code")) == 1
    assert r.of("duplicate_code")["detail"].iloc[0] == "code used by 2 grids"


def test_a_check_can_be_switched_off_or_run_alone():
    full = run()
    only = grid_checks(grids(), communities(), None, load_profile(), checks=["no_worker"])
    assert set(only.problems["check"]) == {"no_worker"}
    assert codes_of(only, "no_worker") == codes_of(full, "no_worker")
    rest = [k for k in CHECKS if k != "overlap"]
    without = grid_checks(grids(), communities(), population(), load_profile(), checks=rest)
    assert "overlap" not in set(without.problems["check"])
    assert len(without.problems) == len(full.problems) - len(full.of("overlap"))
    with pytest.raises(KeyError, match="unknown grid checks"):
        grid_checks(grids(), communities(), None, load_profile(), checks=["overlaps"])
