"""Shelter capacity on fixtures worked out by hand.

Shelters A at x = 0 and B at x = 300 (y = 0). Residents: P1 at x = 50 (80 people),
P2 at x = 120 (80 people), P3 at x = 1000 (30 people, beyond every radius used).

radius 500: P1 and P2 are nearer A (50 m, 120 m) than B (250 m, 180 m).
  caps 100/100: nearest loads A 160 (overloaded by 60), B 0; constrained places all 160.
  caps 50/60:   constrained places at most 50 + 60 = 110.
radius 200: P1 reaches only A; P2 reaches A and B.
  caps 50/100: P1 can only use A (50 placed, 30 not), P2 goes to B -> 130 placed;
  the 30 unplaced over capacity live in P1's cell, the 30 out of reach in P3's.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from geo.capacity import (
    capacity_all,
    cell_reach,
    constrained_allocation,
    nearest_assignment,
    reach_pairs,
    shelter_capacity,
    shelter_supply_by_area,
)
from geo.crs import CRSError
from geo.settings import load_profile

CRS = "EPSG:4546"
X0, Y0 = 500_000.0, 3_600_000.0


def people() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"residents": [80, 80, 30], "street_code": ["S1", "S1", "S2"]},
        geometry=shapely.points(np.array([50.0, 120.0, 1000.0]) + X0, np.full(3, Y0)),
        crs=CRS,
        index=pd.Index([10, 20, 30]),
    )


def shelters(caps=(100, 100)) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "shelter_id": ["A", "B"],
            "shelter_class": ["emergency", "emergency"],
            "effective_area_m2": [1000.0, 1000.0],
            "capacity": pd.array(list(caps), dtype="Int64"),
            "street_code": ["S1", "S1"],
        },
        geometry=shapely.points([X0, X0 + 300], [Y0, Y0]),
        crs=CRS,
        index=pd.Index(["sa", "sb"]),
    )


def cap_of(frame):
    return shelter_capacity(frame, load_profile())


def test_shelter_capacity_field_else_area_over_per_capita():
    frame = pd.DataFrame(
        {
            "shelter_class": ["emergency", "fixed_medium", "fixed_long", "mystery", "central"],
            "effective_area_m2": [1000.0, 1000.0, 9.0, 500.0, np.nan],
            "capacity": pd.array([None, None, None, None, 42], dtype="Int64"),
        }
    )
    # emergency 1.0 m² -> 1000; fixed_medium 3.0 m² -> 333; fixed_long 4.5 m² -> 2; unknown -> 0
    assert shelter_capacity(frame, load_profile()).tolist() == [1000, 333, 2, 0, 42]
    roomy = load_profile().with_overrides(per_capita_area_m2={"emergency": 0.5})
    assert shelter_capacity(frame, roomy).iloc[0] == 2000


def test_nearest_assignment_overloads_one_shelter():
    s = shelters()
    near = nearest_assignment(people(), s, radius_m=500, capacity=cap_of(s))
    assert near.loads.loc["sa", "load"] == 160 and near.loads.loc["sb", "load"] == 0
    assert near.loads["overloaded"].tolist() == [True, False]
    assert near.residents_unassigned == 30
    assert near.assigned.tolist() == [0, 0, -1]
    over = near.overloaded
    assert over.index.tolist() == ["sa"] and over["excess"].iloc[0] == 60
    assert near.summary()["residents_over_capacity"] == 60


def test_constrained_allocation_places_everyone_in_reach():
    s = shelters()
    best = constrained_allocation(
        people(), s, radius_m=500, capacity=cap_of(s), cell_m=load_profile().analysis.gap_cell_m
    )
    assert best.placed == 160 and best.out_of_reach == 30 and best.unplaced == 30
    assert best.loads["load"].sum() == 160
    assert (best.loads["load"] <= best.loads["capacity"]).all()
    assert best.unplaced_cells["residents_over_capacity"].sum() == 0
    assert best.optimal


def test_constrained_allocation_known_maximum():
    s = shelters((50, 60))
    best = constrained_allocation(
        people(), s, radius_m=500, capacity=cap_of(s), cell_m=load_profile().analysis.gap_cell_m
    )
    assert best.placed == 110
    assert best.loads["load"].tolist() == [50, 60]


def test_constrained_allocation_reports_where_unplaced_live():
    s = shelters((50, 100))
    best = constrained_allocation(people(), s, radius_m=200, capacity=cap_of(s), cell_m=100)
    assert best.placed == 130  # P1: 50 in A; P2: 80 in B
    assert best.loads["load"].tolist() == [50, 80]
    cells = best.unplaced_cells
    assert cells.crs == CRS
    p1_cell = cells[shapely.contains(cells.geometry.values, shapely.Point(X0 + 50, Y0 + 1))]
    p3_cell = cells[shapely.contains(cells.geometry.values, shapely.Point(X0 + 1001, Y0 + 1))]
    assert p1_cell["residents_over_capacity"].tolist() == [30]
    assert p3_cell["residents_out_of_reach"].tolist() == [30]
    assert cells["residents_unplaced"].sum() == 60


def test_cell_size_is_the_callers():
    """No profile is read from disk here: the caller (the analysis) passes its gap_cell_m."""
    s = shelters((50, 100))

    def cell_area(cell_m: float) -> float:
        best = constrained_allocation(people(), s, radius_m=200, capacity=cap_of(s), cell_m=cell_m)
        return float(best.unplaced_cells.area.iloc[0])

    assert cell_area(250) == pytest.approx(250 * 250)
    assert cell_area(100) == pytest.approx(100 * 100)
    with pytest.raises(TypeError, match="cell_m"):
        constrained_allocation(people(), s, radius_m=200, capacity=cap_of(s))
    reach = cell_reach(people(), s, radius_m=200, cell_m=40)
    assert len(reach.cell_x) == 3  # three points, three 40 m cells


def test_detour_shrinks_reach():
    s = shelters()
    # 500 m with detour 5 -> 100 m straight line: only P1 (50 m from A) reaches a shelter
    best = constrained_allocation(
        people(),
        s,
        radius_m=500,
        capacity=cap_of(s),
        detour_factor=5,
        cell_m=load_profile().analysis.gap_cell_m,
    )
    assert best.placed == 80
    near = nearest_assignment(people(), s, radius_m=500, capacity=cap_of(s), detour_factor=5)
    assert near.residents_unassigned == 110


def test_reach_pairs_boundary_counts_and_polygons():
    s = shelters()
    m = reach_pairs(people(), s, radius_m=180).toarray()  # P2-B is exactly 180 m
    assert m.tolist() == [[1, 0], [1, 1], [0, 0]]
    park = s.copy()
    park.geometry = s.buffer(10)
    assert reach_pairs(people(), park, radius_m=170).toarray().tolist() == [[1, 0], [1, 1], [0, 0]]
    best = constrained_allocation(
        people(), park, radius_m=500, capacity=[100, 100], cell_m=load_profile().analysis.gap_cell_m
    )
    assert best.placed == 160


def test_supply_by_area_exactly_at_target():
    pop = gpd.GeoDataFrame(
        {"residents": [1000, 500], "street_code": ["S1", "S2"], "street_name": ["One", "Two"]},
        geometry=shapely.points([X0, X0 + 5000], [Y0, Y0]),
        crs=CRS,
    )
    sh = gpd.GeoDataFrame(
        {"effective_area_m2": [300.0, 100.0, 50.0], "street_code": ["S1", "S2", "S3"]},
        geometry=shapely.points([X0, X0 + 5000, X0 + 9000], [Y0, Y0, Y0]),
        crs=CRS,
    )
    table = shelter_supply_by_area(
        pop, sh, np.array([150, 50, 10]), by="street_code", profile=load_profile()
    )
    # S1: 150 / 1000 = 0.15 places and 300 / 1000 = 0.3 m² per resident: exactly the targets
    assert table.loc["S1", "places_per_resident"] == pytest.approx(0.15)
    assert bool(table.loc["S1", "meets_places"]) and bool(table.loc["S1", "meets_area"])
    assert not table.loc["S2", "meets_places"] and not table.loc["S2", "meets_area"]
    assert table.loc["S1", "name"] == "One"
    assert table.loc["S3", "residents"] == 0 and np.isnan(table.loc["S3", "places_per_resident"])
    assert table["places"].sum() == 210 and table["residents"].sum() == 1500


def test_capacity_all_groups():
    s = shelters()
    s.loc["sb", "shelter_class"] = "fixed_short"
    layers = {"population": people(), "shelters": s}
    result = capacity_all(layers, load_profile())
    assert set(result.groups) == {"emergency", "fixed", "central"}
    # emergency evacuation may use any class: A and B (fixed) within 500 m.
    # Nearest: P1 and P2 go to A (160 > 100), B 0; constrained: A 100 + B 60 = all 160.
    emergency = result.groups["emergency"]
    assert emergency.nearest.loads["load"].tolist() == [160, 0]
    assert emergency.constrained.placed == 160
    fixed = result.groups["fixed"]  # B only, 2000 m: all 190 in reach, capacity 100
    assert fixed.constrained.placed == 100 and fixed.constrained.out_of_reach == 0
    assert result.groups["central"].constrained.placed == 0
    assert result.supply["street"].loc["S1", "places"] == 100  # fixed shelters only
    summary = result.summary()
    assert summary["emergency"]["nearest"]["overloaded_shelters"] == 1
    assert len(result.overloaded()) == 2  # A (emergency view) and B (fixed view)
    assert len(result.loads()) == 3


def test_capacity_refuses_geographic_crs():
    pop, s = people().to_crs("EPSG:4326"), shelters().to_crs("EPSG:4326")
    cap = cap_of(shelters())
    with pytest.raises(CRSError):
        nearest_assignment(pop, s, radius_m=500, capacity=cap)
    with pytest.raises(CRSError):
        constrained_allocation(
            pop, s, radius_m=500, capacity=cap, cell_m=load_profile().analysis.gap_cell_m
        )
    with pytest.raises(CRSError):
        shelter_supply_by_area(pop, s, cap, by="street_code", profile=load_profile())
    with pytest.raises(CRSError):
        reach_pairs(pop, s, radius_m=500)
    with pytest.raises(CRSError):
        capacity_all({"population": pop, "shelters": s}, load_profile())


def random_case(seed: int = 7):
    rng = np.random.default_rng(seed)
    pop = gpd.GeoDataFrame(
        {"residents": rng.integers(0, 50, 3000)},
        geometry=shapely.points(X0 + rng.uniform(0, 5000, 3000), Y0 + rng.uniform(0, 5000, 3000)),
        crs=CRS,
    )
    xy = rng.uniform(0, 5000, (40, 2))
    geoms = list(shapely.points(X0 + xy[:30, 0], Y0 + xy[:30, 1]))
    geoms += [shapely.box(X0 + x, Y0 + y, X0 + x + 150, Y0 + y + 80) for x, y in xy[30:]]
    fac = gpd.GeoDataFrame({"shelter_class": ["emergency"] * 40}, geometry=geoms, crs=CRS)
    return pop, fac


def test_cell_reach_matches_point_by_point_check():
    pop, fac = random_case()
    for radius, cell in ((500, 250), (1200, 100)):
        reach = cell_reach(pop, fac, radius_m=radius, cell_m=cell)
        full = reach.full[reach.cell]  # cell rows -> point rows
        union = ((full + reach.partial) > 0).astype(np.int8).toarray()
        brute = (
            shapely.distance(
                np.asarray(pop.geometry.values)[:, None], np.asarray(fac.geometry.values)[None, :]
            )
            <= radius
        )
        assert (union == brute).all()
        assert (reach_pairs(pop, fac, radius_m=radius).toarray() == brute).all()


def test_constrained_allocation_equals_point_level_max_flow():
    # the same problem solved without any grouping (one node per point) gives the same maximum
    from scipy.sparse.csgraph import maximum_flow

    pop, fac = random_case(11)
    cap = np.random.default_rng(3).integers(0, 800, len(fac))
    best = constrained_allocation(pop, fac, radius_m=600, capacity=cap, cell_m=250)
    m = reach_pairs(pop, fac, radius_m=600).tocoo()
    res = pop["residents"].to_numpy()
    n, k = len(pop), len(fac)
    sink = n + k + 1
    rows = np.r_[np.zeros(n, int), 1 + m.row, 1 + n + np.arange(k)]
    cols = np.r_[1 + np.arange(n), 1 + n + m.col, np.full(k, sink)]
    caps = np.r_[res, res[m.row], cap].astype(np.int32)
    graph = sp.csr_matrix((caps, (rows, cols)), shape=(sink + 1, sink + 1))
    assert best.placed == maximum_flow(graph, 0, sink).flow_value
    assert best.demand_groups < n
