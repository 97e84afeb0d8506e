"""Coverage on a 4 x 4 grid of points 100 m apart, worked out by hand.

Points P(i, j) sit at (X0 + 100 i, Y0 + 100 j), i, j = 0..3, each with 10 residents except
P(0, 0) with 50 (total 200). Facility F1 is at P(0, 0), F2 at P(3, 3).

radius 100 m: F1 covers P(0,0), P(1,0), P(0,1); F2 covers P(3,3), P(2,3), P(3,2)
              -> 6 points, 50 + 5 * 10 = 100 residents (the four at exactly 100 m count).
radius 150 m: adds P(1,1) and P(2,2) (141.4 m) -> 8 points, 120 residents.
radius 150 m, detour 1.5: same as radius 100 m (150 / 1.5 = 100) -> 100 residents.
Grids: "A" = columns i = 0, 1 (120 residents), "B" = columns i = 2, 3 (80 residents).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from geo.areas import assign_areas
from geo.coverage import (
    coverage_all,
    covered,
    gap_cells,
    nearest_distance,
    rollup,
    select_facilities,
)
from geo.crs import CRSError
from geo.settings import load_profile

CRS = "EPSG:4546"
X0, Y0 = 500_000.0, 3_600_000.0


def grid_points() -> gpd.GeoDataFrame:
    i, j = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
    i, j = i.ravel(), j.ravel()
    residents = np.where((i == 0) & (j == 0), 50, 10)
    return gpd.GeoDataFrame(
        {"i": i, "j": j, "residents": residents},
        geometry=shapely.points(X0 + 100 * i, Y0 + 100 * j),
        crs=CRS,
        index=pd.Index([f"p{k}" for k in range(16)], name="pid"),
    )


def two_facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["F1", "F2"]},
        geometry=shapely.points([X0, X0 + 300], [Y0, Y0 + 300]),
        crs=CRS,
    )


def two_grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "grid_code": ["A", "B"],
            "grid_name": ["grid A", "grid B"],
            "community_code": ["C1", "C1"],
        },
        geometry=[
            shapely.box(X0 - 50, Y0 - 50, X0 + 150, Y0 + 350),
            shapely.box(X0 + 150, Y0 - 50, X0 + 350, Y0 + 350),
        ],
        crs=CRS,
    )


def covered_ij(pts, mask) -> set[tuple[int, int]]:
    sel = pts[mask.to_numpy()]
    return set(zip(sel["i"].tolist(), sel["j"].tolist(), strict=True))


def test_nearest_distance_by_hand():
    pts = grid_points()
    d = nearest_distance(pts, two_facilities())
    assert d.index.equals(pts.index)
    assert d.loc["p0"] == 0
    # P(1, 2): F1 at sqrt(1 + 4) * 100 = 223.6 m, F2 at sqrt(4 + 1) * 100: both 223.6 m
    k = int(np.flatnonzero((pts["i"] == 1) & (pts["j"] == 2))[0])
    assert d.iloc[k] == pytest.approx(100 * np.sqrt(5))
    assert d.max() == pytest.approx(300.0)  # P(3, 0) and P(0, 3)


def test_boundary_counts_exactly_at_radius():
    pts = grid_points()
    ok = covered(pts, two_facilities(), radius_m=100)
    assert covered_ij(pts, ok) == {(0, 0), (1, 0), (0, 1), (3, 3), (2, 3), (3, 2)}
    ok99 = covered(pts, two_facilities(), radius_m=99.99)
    assert covered_ij(pts, ok99) == {(0, 0), (3, 3)}


def test_radius_and_detour():
    pts = grid_points()
    fac = two_facilities()
    wide = covered(pts, fac, radius_m=150)
    assert wide.sum() == 8 and {(1, 1), (2, 2)} <= covered_ij(pts, wide)
    detour = covered(pts, fac, radius_m=150, detour_factor=1.5)
    assert covered_ij(pts, detour) == covered_ij(pts, covered(pts, fac, radius_m=100))
    assert ok_residents(pts, detour) == 100


def ok_residents(pts, mask) -> int:
    return int(pts.loc[mask, "residents"].sum())


def test_no_facilities_means_nobody_covered():
    pts = grid_points()
    none = two_facilities().iloc[:0]
    assert np.isinf(nearest_distance(pts, none)).all()
    assert not covered(pts, none, radius_m=1e9).any()


def test_polygon_facility_measured_to_edge():
    pts = grid_points()
    park = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200)], crs=CRS)
    d = nearest_distance(pts, park)
    assert d.loc["p0"] == pytest.approx(100 * np.sqrt(2))
    assert (d[(pts["i"].isin([1, 2])) & (pts["j"].isin([1, 2]))] == 0).all()


def test_rollup_sums_and_names():
    pts = assign_areas(grid_points(), grids=two_grids())
    ok = covered(pts, two_facilities(), radius_m=100)
    table = rollup(pts, ok, by="grid_code")
    assert table.loc["A", "residents_total"] == 120
    assert table.loc["A", "residents_covered"] == 70  # P(0,0) 50, P(1,0), P(0,1)
    assert table.loc["B", "residents_covered"] == 30
    assert table.loc["B", "residents_uncovered"] == 50
    assert table.loc["B", "share_covered"] == pytest.approx(30 / 80)
    assert table["residents_total"].sum() == 200
    assert table["residents_covered"].sum() == ok_residents(pts, ok) == 100
    assert table.loc["A", "name"] == "grid A"
    community = rollup(pts, ok, by="community_code")
    assert community.loc["C1", "residents_covered"] == 100


def test_rollup_keeps_points_outside_every_area():
    pts = grid_points()
    pts["zone"] = np.where(pts["i"] == 0, "west", None)
    ok = covered(pts, two_facilities(), radius_m=100)
    table = rollup(pts, ok, by="zone")
    assert table["residents_total"].sum() == 200
    assert table.loc["west", "residents_total"] == 80


def test_gap_cells_by_hand():
    pts = grid_points()
    ok = covered(pts, two_facilities(), radius_m=100)
    cells = gap_cells(pts, ok, cell_m=200)
    # 200 m cells: (0,0) holds i,j in {0,1}: only P(1,1) uncovered -> 10; (1,1) holds
    # i,j in {2,3}: P(2,2) -> 10; (1,0): i in {2,3}, j in {0,1}: 4 points -> 40; (0,1): 40.
    assert cells.crs == CRS
    assert cells["residents_uncovered"].tolist() == [40, 40, 10, 10]
    assert cells["residents_uncovered"].sum() == 100
    first = cells.geometry.iloc[0]
    assert first.area == pytest.approx(200 * 200)
    assert shapely.contains(cells.geometry.values, shapely.points(X0 + 300, Y0 + 100)).sum() == 1


def test_crs_is_refused_when_geographic():
    pts = grid_points()
    fac = two_facilities()
    geo_pts = pts.to_crs("EPSG:4326")
    geo_fac = fac.to_crs("EPSG:4326")
    ok = pd.Series(True, index=pts.index)
    with pytest.raises(CRSError):
        nearest_distance(geo_pts, geo_fac)
    with pytest.raises(CRSError):
        covered(geo_pts, geo_fac, radius_m=100)
    with pytest.raises(CRSError):
        covered(pts, fac.to_crs("EPSG:32649"), radius_m=100)  # different projected CRSs
    with pytest.raises(CRSError):
        rollup(geo_pts.assign(g="a"), ok, by="g")
    with pytest.raises(CRSError):
        gap_cells(geo_pts, ok)
    with pytest.raises(CRSError):
        coverage_all({"population": geo_pts}, load_profile())
    with pytest.raises(CRSError):
        assign_areas(geo_pts, grids=two_grids())


def test_select_facilities_and_coverage_all():
    profile = load_profile().with_overrides(
        radii={"neighborhood_center_community": 100, "neighborhood_center_street": 150}
    )
    fac = two_facilities()
    fac["level"] = ["community", "street"]
    layers = {
        "population": assign_areas(grid_points(), grids=two_grids()),
        "neighborhood_centers": fac,
    }
    assert select_facilities(layers, profile.kind("neighborhood_centers_street"))[
        "name"
    ].tolist() == ["F2"]
    assert len(select_facilities(layers, profile.kind("shelters_fixed"))) == 0
    result = coverage_all(layers, profile)
    assert set(result) == set(load_profile().facility_kinds)
    # community level counts street-level centres too (nested life circles), 100 m:
    # F1 reaches P(0,0), P(1,0), P(0,1) (70 residents); F2 reaches P(3,3), P(2,3), P(3,2) (30)
    comm = result["neighborhood_centers_community"]
    assert (comm.radius_m, comm.residents_total, comm.residents_covered) == (100, 200, 100)
    street = result["neighborhood_centers_street"]  # F2 only, 150 m: P(3,3), P(2,3), P(3,2), P(2,2)
    assert street.residents_covered == 40
    assert street.by_level["grid"].loc["B", "residents_covered"] == 40
    assert result["shelters_emergency"].residents_covered == 0
    assert result["shelters_emergency"].facilities == 0
    assert comm.covered.index.equals(layers["population"].index)
    # grid A: 120 residents, 70 covered; grid B: 80 residents, 30 covered -> 50 uncovered each
    assert comm.by_level["grid"]["residents_uncovered"].to_dict() == {"A": 50, "B": 50}
    assert street.worst("grid").index.tolist() == ["A", "B"]  # 120 vs 40 uncovered


def test_mixed_point_and_polygon_facilities_match_geos():
    rng = np.random.default_rng(5)
    pts = gpd.GeoDataFrame(
        geometry=shapely.points(
            X0 + rng.uniform(-500, 6000, 4000), Y0 + rng.uniform(-500, 6000, 4000)
        ),
        crs=CRS,
    )
    xy = rng.uniform(0, 5000, (60, 2))
    geoms = list(shapely.points(X0 + xy[:20, 0], Y0 + xy[:20, 1]))
    geoms += [
        shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + 60)
        for (x, y), w in zip(xy[20:], rng.uniform(20, 900, 40), strict=True)
    ]
    fac = gpd.GeoDataFrame(geometry=geoms, crs=CRS)
    d = nearest_distance(pts, fac)
    brute = shapely.distance(
        np.asarray(pts.geometry.values)[:, None], np.asarray(fac.geometry.values)[None, :]
    ).min(axis=1)
    assert np.allclose(d.to_numpy(), brute, atol=1e-9)


def test_polygon_distances_with_holes_multiparts_and_many_vertices():
    rng = np.random.default_rng(9)
    ring = shapely.box(X0, Y0, X0 + 400, Y0 + 400).difference(
        shapely.box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300)
    )
    multi = shapely.MultiPolygon(
        [
            shapely.box(X0 + 1000, Y0, X0 + 1100, Y0 + 50),
            shapely.box(X0 + 1300, Y0, X0 + 1350, Y0 + 300),
        ]
    )
    disc = shapely.Point(X0 + 600, Y0 + 900).buffer(120, quad_segs=32)  # 128 edges: GEOS path
    rotated = shapely.affinity.rotate(shapely.box(X0 + 2000, Y0 + 500, X0 + 2300, Y0 + 560), 33)
    fac = gpd.GeoDataFrame(geometry=[ring, multi, disc, rotated], crs=CRS)
    xy = np.vstack(
        [
            rng.uniform(-300, 2600, (3000, 2)),
            [
                [200, 200],
                [100, 200],
                [0, 0],
                [1050, 50],
            ],  # in the hole, on the hole's edge, corner, edge
        ]
    )
    pts = gpd.GeoDataFrame(geometry=shapely.points(X0 + xy[:, 0], Y0 + xy[:, 1]), crs=CRS)
    d = nearest_distance(pts, fac).to_numpy()
    brute = shapely.distance(
        np.asarray(pts.geometry.values)[:, None], np.asarray(fac.geometry.values)[None, :]
    )
    assert np.allclose(d, brute.min(axis=1), atol=1e-6)
    assert d[-4] == pytest.approx(100) and d[-3] == 0 and d[-2] == 0 and d[-1] == 0
