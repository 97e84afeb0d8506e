"""The synthetic Shiyan demo city: helpers on hand-worked inputs, magnitudes, schemas,
topology, determinism, the previous quarter and the under-served places it must contain."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from scipy.spatial import cKDTree

from data import demo
from data.store import GeoPackageStore
from geo.settings import load_profile
from layers import LAYERS, get_layer

METRIC = "EPSG:4546"
URBAN = ("420302", "420303")


@pytest.fixture(scope="module")
def city() -> demo.DemoCity:
    return demo.build_demo()


@pytest.fixture(scope="module")
def metric(city) -> dict:
    return {name: frame.to_crs(METRIC) for name, frame in city.layers.items()}


@pytest.fixture(scope="module")
def small_pair():
    """Two builds with the same seed and one with another seed, at a small scale."""
    return (
        demo.build_demo(seed=7, scale=0.3),
        demo.build_demo(seed=7, scale=0.3),
        demo.build_demo(seed=8, scale=0.3),
    )


def _xy(frame) -> np.ndarray:
    return shapely.get_coordinates(frame.geometry.values)


# ---------------------------------------------------------------- helpers worked by hand
def test_allocate_largest_remainder():
    # 10 x [.25, .25, .5] = [2.5, 2.5, 5]: floors [2, 2, 5], the one left goes to the first tie
    assert demo._allocate(10, np.array([1, 1, 2])).tolist() == [3, 2, 5]
    # minimum 2 each, then 6 split 1:3 = [1.5, 4.5]: floors [1, 4], the one left to the first tie
    assert demo._allocate(10, np.array([1.0, 3.0]), minimum=2).tolist() == [4, 6]


def test_split_total_is_exact_per_owner():
    owner = np.array([0, 0, 1, 1, 1])
    out = demo._split_total(np.array([10, 3]), owner, np.array([1.0, 3.0, 1.0, 1.0, 1.0]))
    # owner 0: 2.5 / 7.5 -> 2 / 7 + one left to the first tie; owner 1: 1 / 1 / 1
    assert out.tolist() == [3, 7, 1, 1, 1]


def test_group_rank():
    assert demo._group_rank(np.array([0, 0, 0, 2, 2, 5])).tolist() == [0, 1, 2, 0, 1, 0]


def test_sample_in_polygons_counts_and_containment():
    square = shapely.box(0, 0, 10, 10)
    ring = shapely.box(100, 0, 130, 30).difference(shapely.box(105, 5, 125, 25))
    polys = np.array([square, ring], dtype=object)
    x, y, own = demo._sample_in_polygons(polys, np.array([50, 80]), np.random.default_rng(1))
    assert np.bincount(own).tolist() == [50, 80]
    assert shapely.contains_xy(polys[own], x, y).all()


def test_tessellate_tiles_parents_exactly():
    parents = np.array(
        [shapely.box(0, 0, 1000, 600), shapely.box(2000, 0, 2400, 400)], dtype=object
    )
    cells, parent, seeds = demo._tessellate(parents, np.array([7, 3]), np.random.default_rng(3))
    assert np.bincount(parent).tolist() == [7, 3]
    assert len(seeds) == 10
    for p in range(2):
        mine = cells[parent == p]
        assert shapely.area(shapely.union_all(mine)) == pytest.approx(parents[p].area)
        assert shapely.area(mine).sum() == pytest.approx(parents[p].area)  # no overlaps


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="scale"):
        demo.build_demo(scale=0)
    with pytest.raises(ValueError, match="residents"):
        demo.build_demo(scale=0.2, residents=-5)


# ---------------------------------------------------------------- magnitudes and schemas
def test_every_layer_is_present_valid_and_in_wgs84(city):
    assert sorted(city.layers) == sorted(LAYERS)
    assert sorted(city.previous_layers) == sorted(LAYERS)
    for layers in (city.layers, city.previous_layers):
        for name, frame in layers.items():
            assert frame.crs.to_epsg() == 4326, name
            assert list(frame.columns) == [*get_layer(name).field_names, "geometry"], name
            get_layer(name).validate(frame, source=name)


def test_magnitudes_at_scale_1(city):
    lay = city.layers
    streets = lay["streets"]
    urban_streets = streets[streets["parent_code"].isin(URBAN)]
    townships = streets[~streets["parent_code"].isin(URBAN)]
    assert len(urban_streets) >= 10
    assert len(townships) >= 15
    assert len(lay["communities"]) >= 80
    assert len(lay["grids"]) >= 1500
    assert len(lay["population"]) >= 50_000
    assert 950_000 <= lay["population"]["residents"].sum() <= 1_050_000
    assert 950_000 <= lay["grids"]["residents"].sum() <= 1_050_000
    centers = lay["neighborhood_centers"]
    assert len(centers) >= 40 and set(centers["level"]) == {"street", "community"}
    shelters = lay["shelters"]
    assert len(shelters) >= 80 and set(shelters["shelter_class"]) == set(demo.SHELTERS)
    assert (shelters.geom_type == "Polygon").any() and (shelters.geom_type == "Point").any()
    assert shelters["capacity"].notna().any() and shelters["capacity"].isna().any()
    villages = lay["villages"]
    assert len(villages) >= 300 and villages["township"].nunique() >= 15
    facilities = lay["sanitation_facilities"]
    assert len(facilities) >= 600
    assert set(facilities["kind"]) == {
        "public_toilet",
        "garbage_point",
        "transfer_station",
        "sewage_station",
    }


def test_real_names_and_location(city):
    lay = city.layers
    assert set(lay["districts"]["name"]) == {"茅箭区", "张湾区", "郧阳区", "房县"}
    streets = set(lay["streets"]["name"])
    assert {"武当路街道", "五堰街道", "车城路街道", "花果街道", "茶店镇", "军店镇"} <= streets
    assert lay["communities"]["name"].str.endswith("社区").all()
    assert lay["communities"]["name"].is_unique
    minx, miny, maxx, maxy = lay["grids"].total_bounds
    assert 110.62 < minx < maxx < 110.95 and 32.54 < miny < maxy < 32.72
    lon, lat = _xy(lay["population"]).mean(axis=0)
    assert lon == pytest.approx(110.79, abs=0.03) and lat == pytest.approx(32.63, abs=0.02)


def test_meta_says_synthetic(city):
    assert city.meta["synthetic"] == "true"
    assert city.meta["seed"] == "2026" and city.meta["scale"] == "1"
    assert city.meta["generator_version"] == demo.GENERATOR_VERSION
    assert "合成" in city.meta["description_zh"] and "SYNTHETIC" in city.meta["description_en"]
    assert (city.period, city.previous_period) == ("2026-Q3", "2026-Q2")


# ---------------------------------------------------------------- grids
def test_grid_codes_are_unique_and_hierarchical(city):
    grids, comm, streets = (city.layers[n] for n in ("grids", "communities", "streets"))
    codes = grids["grid_code"]
    assert codes.is_unique and codes.str.fullmatch(r"\d{15}").all()
    assert (codes.str[:12] == grids["community_code"]).all()
    assert comm["code"].is_unique and comm["code"].str.fullmatch(r"\d{12}").all()
    assert (comm["code"].str[:9] == comm["parent_code"]).all()
    assert set(comm["parent_code"]) <= set(streets["code"])
    assert (streets["code"].str[:6] == streets["parent_code"]).all()
    street_of = comm.set_index("name")["parent_code"]
    street_name = streets.set_index("code")["name"]
    assert (
        street_name[street_of[grids["community"]].to_numpy()].to_numpy() == grids["street"]
    ).all()


def test_grids_do_not_overlap(metric):
    geoms = metric["grids"].geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pair]], geoms[right[pair]]))
    assert pair.sum() > len(geoms)  # neighbours touch
    assert overlap.max() < 1.0


def test_grids_tile_their_community(metric):
    grids, comm = metric["grids"], metric["communities"].set_index("code")
    own = comm.loc[grids["community_code"]].geometry.values
    assert shapely.contains(shapely.buffer(own, 0.05), grids.geometry.values).all()
    union = grids.dissolve("community_code")
    gap = shapely.area(
        shapely.symmetric_difference(union.geometry.values, comm.loc[union.index].geometry.values)
    )
    assert len(union) == len(comm)
    assert (gap < 1.0).all()  # m², against communities of > 10 ha


def test_communities_tile_streets_and_streets_tile_districts(metric):
    comm, streets, districts = metric["communities"], metric["streets"], metric["districts"]
    by_code = streets.set_index("code")
    union = comm.dissolve("parent_code")
    gap = shapely.symmetric_difference(
        union.geometry.values, by_code.loc[union.index].geometry.values
    )
    assert (shapely.area(gap) < 1.0).all()
    union = streets.dissolve("parent_code")
    gap = shapely.symmetric_difference(
        union.geometry.values, districts.set_index("code").loc[union.index].geometry.values
    )
    assert (shapely.area(gap) < 10.0).all()  # m², against districts of > 50 km²
    assert shapely.area(shapely.intersection(*districts.geometry.values[:2])) < 1.0


def test_grid_households_workers_and_phones(city):
    grids = city.layers["grids"]
    rules = load_profile().grids
    in_range = grids["households"].between(rules.households_min, rules.households_max)
    assert 0.65 <= in_range.mean() <= 0.9
    assert (grids["households"] < rules.households_min).any()
    assert (grids["households"] > rules.households_max).any()
    missing = grids["worker_name"].isna()
    assert 0.005 <= missing.mean() <= 0.05
    phones = grids["worker_phone"].dropna()
    assert len(phones) >= 0.85 * len(grids)
    assert phones.str.fullmatch(r"1[3-9]\d{9}").all()
    assert grids.loc[missing, "worker_phone"].isna().all()
    assert (grids["residents"] >= grids["households"]).all()


def test_population_points_agree_with_their_grid(city, metric):
    grids, pop = metric["grids"], metric["population"]
    left, right = shapely.STRtree(grids.geometry.values).query(
        pop.geometry.values, predicate="within"
    )
    assert np.bincount(left, minlength=len(pop)).max() == 1
    assert len(left) == len(pop)  # every point lies in exactly one grid
    sums = np.bincount(right, pop["residents"].to_numpy()[left], minlength=len(grids))
    ratio = sums / grids["residents"].to_numpy()
    close = np.abs(ratio - 1) <= 0.2
    assert close.mean() >= 0.9
    assert (~close).sum() >= 5  # a few grids are deliberately off


def test_population_is_denser_in_the_core(metric):
    grids = metric["grids"]
    density = grids["residents"] / grids.area
    core = shapely.points(demo._lonlat_to_metric(np.array([[110.795, 32.637]]), METRIC))[0]
    near = shapely.distance(grids.geometry.values, core) < 2000
    assert density[near].median() > 1.5 * density[~near].median()


# ---------------------------------------------------------------- determinism and scale
def test_same_seed_same_city_other_seed_other_city(small_pair):
    first, again, other = small_pair
    for name in LAYERS:
        assert_geodataframe_equal(first.layers[name], again.layers[name])
        assert_geodataframe_equal(first.previous_layers[name], again.previous_layers[name])
    assert first.meta == again.meta
    assert not first.layers["grids"].geometry.geom_equals(other.layers["grids"].geometry).all()


def test_scale_and_residents(small_pair):
    base = small_pair[0]
    assert len(base.layers["grids"]) == round(demo.BASE_GRIDS * 0.3)
    assert base.layers["grids"]["residents"].sum() == pytest.approx(300_000, rel=0.02)
    fewer = demo.build_demo(seed=7, scale=0.3, residents=100_000)
    assert len(fewer.layers["grids"]) == len(base.layers["grids"])
    assert len(fewer.layers["population"]) == len(base.layers["population"])
    assert fewer.layers["grids"]["residents"].sum() == pytest.approx(100_000, rel=0.02)
    assert fewer.meta["residents"] == str(fewer.layers["grids"]["residents"].sum())


# ---------------------------------------------------------------- the previous quarter
def test_previous_quarter_lacks_what_was_built_this_quarter(city):
    for name in ("neighborhood_centers", "shelters"):
        now, before = city.layers[name], city.previous_layers[name]
        key = get_layer(name).key
        new = now["opened_period"] == city.period
        assert new.any(), name
        assert set(before[key]) == set(now.loc[~new, key]), name
        assert (before["opened_period"] != city.period).all()
    now, before = (x["sanitation_facilities"] for x in (city.layers, city.previous_layers))
    assert set(before["facility_id"]) < set(now["facility_id"])
    kinds_added = now[~now["facility_id"].isin(before["facility_id"])]["kind"]
    assert {"garbage_point", "sewage_station"} <= set(kinds_added)


def test_previous_quarter_villages_had_less(city):
    now = city.layers["villages"].set_index("village_code")
    before = city.previous_layers["villages"].set_index("village_code").loc[now.index]
    more_toilets = now["sanitary_toilet_households"] > before["sanitary_toilet_households"]
    assert (now["sanitary_toilet_households"] >= before["sanitary_toilet_households"]).all()
    assert more_toilets.mean() > 0.3
    gained = now["garbage_collection"].astype(bool) & ~before["garbage_collection"].astype(bool)
    lost = ~now["garbage_collection"].astype(bool) & before["garbage_collection"].astype(bool)
    assert gained.sum() >= 5 and lost.sum() == 0
    assert (
        now["sewage_treatment"].astype(bool) & ~before["sewage_treatment"].astype(bool)
    ).sum() >= 5
    assert now.drop(
        columns=["sanitary_toilet_households", "garbage_collection", "sewage_treatment"]
    ).equals(
        before.drop(
            columns=["sanitary_toilet_households", "garbage_collection", "sewage_treatment"]
        )
    )


def test_previous_quarter_had_more_grids_without_worker(city):
    now, before = city.layers["grids"], city.previous_layers["grids"]
    assert before["worker_name"].isna().sum() > now["worker_name"].isna().sum()
    assert (before.loc[now["worker_name"].isna(), "worker_name"]).isna().all()
    assert_geodataframe_equal(
        now.drop(columns=["worker_name", "worker_phone"]),
        before.drop(columns=["worker_name", "worker_phone"]),
    )


# ---------------------------------------------------------------- planted service gaps
def test_new_housing_has_no_center_within_reach(city, metric):
    radii = load_profile().radii
    centers = metric["neighborhood_centers"]
    pop_xy = _xy(metric["population"])
    street = centers[centers["level"] == "street"]
    d_street, _ = cKDTree(_xy(street)).query(pop_xy)
    d_any, _ = cKDTree(_xy(centers)).query(pop_xy)
    assert (d_street > radii.neighborhood_center_street).sum() > 500
    # the new-housing communities: none of their points has any center within 1 km
    comm = metric["communities"]
    new = comm[comm["name"].isin(demo.names.NEW_HOUSING_NAMES)]
    assert len(new) >= 2
    inside = shapely.contains_xy(shapely.union_all(new.geometry.values), pop_xy[:, 0], pop_xy[:, 1])
    assert inside.sum() > 200
    assert (d_any[inside] > radii.neighborhood_center_street).all()
    # yet most of the city is served by a street-level center
    res = metric["population"]["residents"].to_numpy()
    assert 0.6 < res[d_street <= radii.neighborhood_center_street].sum() / res.sum() < 0.95


def test_zhangwan_is_short_of_shelter_area(metric):
    target = load_profile().targets.shelter_area_per_resident_m2
    districts = metric["districts"].set_index("name")
    shelters, pop = metric["shelters"], metric["population"]
    ratio = {}
    for name in ("茅箭区", "张湾区"):
        area = districts.loc[name, "geometry"]
        sites = shapely.contains(area, shelters.geometry.representative_point().values)
        people = shapely.contains(area, pop.geometry.values)
        ratio[name] = (
            shelters.loc[sites, "effective_area_m2"].sum() / pop.loc[people, "residents"].sum()
        )
    assert ratio["张湾区"] < 0.6 * target < target < ratio["茅箭区"]


def test_villages_far_from_garbage_points_and_below_toilet_target(metric):
    profile = load_profile()
    villages, fac = metric["villages"], metric["sanitation_facilities"]
    d, _ = cKDTree(_xy(fac[fac["kind"] == "garbage_point"])).query(_xy(villages))
    far = d > profile.radii.garbage_point
    assert 0.04 < far.mean() < 0.3
    # the garbage flag mostly follows the distance, with a few records that disagree
    agree = (~far) == villages["garbage_collection"].astype(bool).to_numpy()
    assert 0.9 < agree.mean() < 1.0
    share = villages["sanitary_toilet_households"] / villages["households"]
    below = share < profile.targets.sanitary_toilet_penetration
    assert 0.15 < below.mean() < 0.6
    sewage = villages["sewage_treatment"].astype(bool).mean()
    assert 0.2 < sewage < 0.6


# ---------------------------------------------------------------- writing and the CLI
def test_write_demo_round_trip(tmp_path):
    path = tmp_path / "demo.gpkg"
    calls: list[tuple[float, str]] = []
    city = demo.write_demo(path, seed=5, scale=0.2, progress=lambda s, t: calls.append((s, t)))
    store = GeoPackageStore(path)
    assert set(LAYERS) | {"gridmap_meta"} <= set(store.layers())
    for name in LAYERS:
        back = store.read(name)
        assert len(back) == len(city.layers[name]), name
        get_layer(name).validate(back, source=name)
    assert city.meta.items() <= store.meta().items()
    shares = [s for s, _ in calls]
    assert shares == sorted(shares) and shares[-1] == 1.0 and len(calls) >= 5
    assert store.read("grids")["grid_code"].tolist() == city.layers["grids"]["grid_code"].tolist()


def test_cli_demo_writes_and_prints_summary(tmp_path, capsys):
    from cli import main

    out = tmp_path / "cli.gpkg"
    assert main(["demo", "--out", str(out), "--scale", "0.2", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "SYNTHETIC" in printed and "grids" in printed and "total urban residents" in printed
    assert GeoPackageStore(out).meta()["seed"] == "3"
