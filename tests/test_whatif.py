"""What-if: proposals added to copies of the layers, coverage and capacity before/after.

Fixture (metres, EPSG:4546): a 4 x 4 grid of population points at x, y in {0, 100, 200, 300},
10 residents each (160). Points with x < 200 are in district D1 (80 residents), the others in
D2 (80). One emergency shelter S0 at (0, 0) with capacity 30; emergency radius 150 m.

S0 covers (0,0), (100,0), (0,100), (100,100) [141 m] -> 40 residents, all in D1.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.crs import CRSError
from geo.settings import load_profile
from geo.whatif import WhatIfError, apply_proposals, normalise_proposals, proposals_from_table

CRS = "EPSG:4546"
X0, Y0 = 500_000.0, 3_610_000.0


def pts(xy, **columns) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, float)
    return gpd.GeoDataFrame(
        columns, geometry=gpd.points_from_xy(xy[:, 0] + X0, xy[:, 1] + Y0), crs=CRS
    )


@pytest.fixture
def profile():
    return load_profile().with_overrides(
        radii={"shelter_emergency": 150, "neighborhood_center_street": 150, "detour_factor": 1.0},
        per_capita_area_m2={"emergency": 1.0},
    )


@pytest.fixture
def layers():
    xs, ys = np.meshgrid(np.arange(4) * 100.0, np.arange(4) * 100.0)
    xy = np.column_stack([xs.ravel(), ys.ravel()])
    district = np.where(xy[:, 0] < 200, "D1", "D2")
    population = pts(
        xy,
        residents=np.full(16, 10),
        district_code=district,
        district_name=np.where(district == "D1", "West", "East"),
        street_code=np.where(district == "D1", "S1", "S2"),
        community_code=np.where(xy[:, 1] < 200, "C1", "C2"),
        grid_code=[f"G{i}" for i in range(16)],
    )
    shelters = pts(
        [[0, 0]],
        shelter_id=["S0"],
        name=["Old"],
        shelter_class=["emergency"],
        effective_area_m2=[100.0],
        capacity=pd.array([30], dtype="Int64"),
        street_code=["S1"],
        district_code=["D1"],
    )
    centers = pts([[0, 300]], center_id=["N0"], name=["Centre"], level=["street"])
    return {"population": population, "shelters": shelters, "neighborhood_centers": centers}


def test_one_shelter_proposal(layers, profile):
    props = pts([[300, 300]], kind=["shelters_emergency"], effective_area_m2=[50.0])
    r = apply_proposals(layers, props, profile)
    assert r.kinds == ["shelters_emergency"]
    row = r.change().loc["shelters_emergency"]
    # (300,300), (200,300), (300,200), (200,200) -> 40 newly covered, all in D2
    assert row["covered_before"] == 40
    assert row["covered_after"] == 80
    assert row["newly_covered"] == 40
    assert row["share_before"] == pytest.approx(0.25)
    assert row["share_after"] == pytest.approx(0.5)
    assert (row["facilities_before"], row["facilities_after"]) == (1, 2)
    by = r.by_area("shelters_emergency", "district")
    assert by.loc["D2", "newly_covered"] == 40 and by.loc["D1", "newly_covered"] == 0
    assert by.loc["D2", "name"] == "East"
    assert by.index[0] == "D2"  # most gained first
    assert r.newly_covered["shelters_emergency"].sum() == 40
    assert list(r.proposals["newly_covered"]) == [40]


def test_two_proposals_split_by_nearest(layers, profile):
    # P1 at (300, 300) and P2 at (300, 0): 40 each, 80 in total
    props = pts([[300, 300], [300, 0]], kind=["emergency", "紧急避难场所"])
    r = apply_proposals(layers, props, profile)
    assert r.change().loc["shelters_emergency", "newly_covered"] == 80
    assert list(r.proposals["newly_covered"]) == [40, 40]
    assert list(r.proposals["proposal_id"]) == ["P1", "P2"]
    by_street = r.by_area("shelters_emergency", "street")
    assert by_street.loc["S2", "covered_after"] == 80 and by_street.loc["S2", "covered_before"] == 0


def test_overlapping_proposal_counts_only_new_residents(layers, profile):
    # At (200, 0): reaches (100,0), (100,100) (already covered) and (200,0), (300,0), (200,100),
    # (300,100) -> 40 new.
    props = pts([[200, 0]], kind=["shelters_emergency"])
    r = apply_proposals(layers, props, profile)
    assert r.change().loc["shelters_emergency", "newly_covered"] == 40
    assert r.by_area("shelters_emergency", "community").loc["C1", "newly_covered"] == 40


def test_shelter_capacity_before_after(layers, profile):
    # Nearest assignment before: S0 gets 40 > 30 (overloaded by 10); constrained places 30.
    # Add P1 at (300, 0), 50 m² / 1.0 m² per person = 50 places: it takes (200,0), (300,0),
    # (200,100), (300,100) = 40 <= 50. S0 still overloaded; constrained places 30 + 40 = 70.
    props = pts([[300, 0]], kind=["shelters_emergency"], effective_area_m2=[50.0])
    r = apply_proposals(layers, props, profile)
    cap = r.capacity_change().loc["emergency"]
    assert (cap["shelters_before"], cap["shelters_after"]) == (1, 2)
    assert (cap["capacity_before"], cap["capacity_after"]) == (30, 80)
    assert (cap["overloaded_before"], cap["overloaded_after"]) == (1, 1)
    assert (cap["over_capacity_before"], cap["over_capacity_after"]) == (10, 10)
    assert (cap["placed_before"], cap["placed_after"], cap["newly_placed"]) == (30, 70, 40)
    loads = r.capacity_after.groups["emergency"].nearest.loads.set_index("shelter_id")
    assert loads.loc["P1", "load"] == 40 and loads.loc["P1", "capacity"] == 50
    assert list(r.capacity_after.groups) == ["emergency"]


def test_center_proposal_has_no_capacity_part(layers, profile):
    # existing street centre at (0, 300) covers (0,300), (100,300), (0,200), (100,200) = 40
    props = pts([[300, 0]], kind=["街道级"])
    r = apply_proposals(layers, props, profile)
    # a street-level centre also serves community-level coverage
    assert r.kinds == ["neighborhood_centers_street", "neighborhood_centers_community"]
    row = r.change().loc["neighborhood_centers_street"]
    assert (row["covered_before"], row["newly_covered"]) == (40, 40)
    assert r.capacity_before is None and r.capacity_change().empty
    assert r.layers_after["neighborhood_centers"]["level"].tolist() == ["street", "street"]


def test_store_layers_untouched(layers, profile):
    snapshot = {k: v.copy() for k, v in layers.items()}
    apply_proposals(layers, pts([[300, 300]], kind=["shelters_emergency"]), profile)
    for name, frame in layers.items():
        pd.testing.assert_frame_equal(frame, snapshot[name])


def test_proposals_in_wgs84_are_projected(layers, profile):
    props = pts([[300, 300]], kind=["shelters_emergency"]).to_crs("EPSG:4326")
    r = apply_proposals(layers, props, profile)
    assert r.proposals.crs.to_epsg() == 4546
    assert r.change().loc["shelters_emergency", "newly_covered"] == 40


def test_reuses_before_results(layers, profile):
    first = apply_proposals(layers, pts([[300, 300]], kind=["shelters_emergency"]), profile)
    again = apply_proposals(
        layers, pts([[300, 0]], kind=["shelters_emergency"]), profile, before=first.before
    )
    assert again.change().loc["shelters_emergency", "covered_before"] == 40
    wider = profile.with_overrides(radii={"shelter_emergency": 1000})
    # cached results for 150 m are recomputed for 1000 m: everyone is covered before
    third = apply_proposals(
        layers, pts([[300, 0]], kind=["shelters_emergency"]), wider, before=first.before
    )
    assert third.change().loc["shelters_emergency", "newly_covered"] == 0


def test_refuses_geographic_population(layers, profile):
    layers = {**layers, "population": layers["population"].to_crs("EPSG:4326")}
    with pytest.raises(CRSError, match="geographic"):
        apply_proposals(layers, pts([[0, 0]], kind=["shelters_emergency"]), profile)


def test_bad_proposals_name_row_and_field(layers, profile):
    props = pts([[0, 0], [100, 0], [200, 0]], kind=["shelters_emergency", "hospital", "street"])
    props["effective_area_m2"] = [1.0, 2.0, -5.0]
    with pytest.raises(WhatIfError) as err:
        normalise_proposals(props, CRS, kinds=load_profile().facility_kinds)
    text = str(err.value)
    assert "row 2, field 'kind': unknown kind 'hospital'" in text
    assert "row 3, field 'effective_area_m2'" in text
    no_crs = gpd.GeoDataFrame({"kind": ["street"]}, geometry=gpd.points_from_xy([0], [0]))
    with pytest.raises(WhatIfError, match="no CRS"):
        normalise_proposals(no_crs, CRS, kinds=load_profile().facility_kinds)
    with pytest.raises(WhatIfError, match="'kind'"):
        normalise_proposals(pts([[0, 0]], name=["x"]), CRS, kinds=load_profile().facility_kinds)


def test_class_column_refines_kind(profile):
    props = pts([[0, 0]], kind=["shelters_fixed"], shelter_class=["fixed_long"])
    out = normalise_proposals(props, CRS, kinds=load_profile().facility_kinds)
    assert out.loc[0, "shelter_class"] == "fixed_long"
    out = normalise_proposals(
        pts([[0, 0]], kind=["shelters_fixed"]), CRS, kinds=load_profile().facility_kinds
    )
    assert out.loc[0, "shelter_class"] == "fixed_short"
    assert out.loc[0, "facility_kind"] == "shelters_fixed"


def test_proposals_from_table():
    table = pd.DataFrame(
        {"经度": [110.8, 110.81], "纬度": [32.63, 32.64], "类型": ["公共厕所", "garbage_point"]}
    )
    frame = proposals_from_table(table)
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.x.tolist() == [110.8, 110.81]
    out = normalise_proposals(frame, CRS, kinds=load_profile().facility_kinds)
    assert out["facility_kind"].tolist() == ["public_toilet", "garbage_point"]
    assert out["kind"].tolist() == ["public_toilet", "garbage_point"]
    # GCJ-02 input is moved back by roughly 500 m west, 240 m north at Shiyan
    gcj = proposals_from_table(table, offsets="gcj02")
    assert gcj.geometry.x.iloc[0] < 110.8 and gcj.geometry.y.iloc[0] > 32.63
    with pytest.raises(WhatIfError, match="rows 2"):
        proposals_from_table(
            pd.DataFrame({"lon": [110.8, 200], "lat": [32.6, 32.6], "kind": ["x", "y"]})
        )
    with pytest.raises(WhatIfError, match="lat"):
        proposals_from_table(pd.DataFrame({"lon": [110.8], "kind": ["x"]}))


def test_read_point_file_csv_and_geojson():
    from geo.whatif import read_point_file

    csv = "name,lon,lat,kind\nA,110.8,32.63,street\n".encode("utf-8-sig")
    frame = read_point_file(csv, "p.csv")
    assert frame.geometry.x.tolist() == [110.8] and frame["name"].tolist() == ["A"]
    square = gpd.GeoDataFrame(
        {"kind": ["shelters_fixed"]},
        geometry=gpd.GeoSeries.from_wkt(
            ["POLYGON((110 32, 110.002 32, 110.002 32.002, 110 32.002, 110 32))"]
        ),
        crs="EPSG:4326",
    )
    frame = read_point_file(square.to_json().encode(), "p.geojson")
    assert frame.geom_type.tolist() == ["Point"]
    assert frame.geometry.x.iloc[0] == pytest.approx(110.001, abs=1e-4)
    with pytest.raises(WhatIfError, match="p.xlsx"):
        read_point_file(b"", "p.xlsx")
    with pytest.raises(WhatIfError, match="bad.geojson"):
        read_point_file(b"{not json", "bad.geojson")


def test_class_names_the_most_specific_kind():
    from geo.whatif import kind_lookup

    KIND_LOOKUP = kind_lookup(load_profile().facility_kinds)

    assert KIND_LOOKUP["street"] == ("neighborhood_centers_street", "street")
    assert KIND_LOOKUP["街道级"] == ("neighborhood_centers_street", "street")
    assert KIND_LOOKUP["community"] == ("neighborhood_centers_community", "community")
    assert KIND_LOOKUP["emergency"] == ("shelters_emergency", "emergency")
    assert KIND_LOOKUP["fixed_long"] == ("shelters_fixed", "fixed_long")
    assert KIND_LOOKUP["central"] == ("shelters_central", "central")
    assert KIND_LOOKUP["shelters_fixed"] == ("shelters_fixed", "fixed_short")
    assert KIND_LOOKUP["公共厕所"] == ("public_toilet", "public_toilet")
