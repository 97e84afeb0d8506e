"""layers/schema.py (every layer's contract) and data/store.py (GeoPackage store)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from _importing_fixtures import build_small_store, grids_frame, small_layers
from shapely.geometry import MultiPolygon, Point, box

from data.store import GeoPackageStore, StoreError, open_store
from layers import LAYERS, SchemaError, get_layer, mask_phone

# ============================================================================ schemas


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_accepts_its_fixture(name):
    frame = small_layers()[name]
    schema = get_layer(name)
    out = schema.validate(frame, source=f"{name}.geojson")
    assert list(out.columns) == [*schema.field_names, "geometry"]
    assert len(out) == len(frame)
    for f in schema.fields:
        if f.dtype == "int":
            assert out[f.name].dtype == "Int64"
        elif f.dtype == "bool":
            assert out[f.name].dtype == "boolean"


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_names_its_missing_required_fields(name):
    schema = get_layer(name)
    frame = small_layers()[name][["geometry"]]
    with pytest.raises(SchemaError) as info:
        schema.validate(frame, source="x.csv")
    missing = {p.field for p in info.value.problems}
    assert missing == set(schema.required_fields)
    assert str(info.value).startswith(f"x.csv: {len(schema.required_fields)} problem(s)")


def test_every_layer_has_labels_in_both_languages():
    for schema in LAYERS.values():
        assert schema.label("zh") and schema.label("en")
        assert all(f.label_zh and f.label_en for f in schema.fields)


def test_get_layer_unknown():
    with pytest.raises(KeyError, match="unknown layer 'grid'; known layers: districts"):
        get_layer("grid")


def test_chinese_headers_and_variants_are_mapped():
    frame = grids_frame(1).rename(
        columns={
            "grid_code": "网格编码",
            "grid_name": "Grid Name",
            "community": "所属社区",
            "street": "STREET",
            "district": "区县",
            "worker_name": "网格员",
            "households": "户数",
            "residents": "常住人口",
        }
    )
    frame["联系电话"] = "13812341234"
    out = get_layer("grids").validate(frame)
    assert out["grid_code"].iloc[0] == "G001"
    assert out["households"].iloc[0] == 400
    assert out["worker_phone"].iloc[0] == "13812341234"


def test_misspelling_is_named_and_accepted_names_listed():
    frame = grids_frame(1).rename(columns={"residents": "resident", "households": "hh"})
    with pytest.raises(SchemaError) as info:
        get_layer("grids").validate(frame, source="g.csv")
    text = str(info.value)
    assert (
        "field 'residents': required column missing (is 'resident' a misspelling of 'residents'?)"
        in text
    )
    assert (
        "field 'households': required column missing (accepted names: households, 户数, 总户数)"
        in text
    )


def test_types_ranges_choices_and_duplicates_with_rows():
    shelters = small_layers()["shelters"]
    shelters = pd.concat([shelters, shelters.iloc[[0]]], ignore_index=True)
    shelters = shelters.astype({"effective_area_m2": object, "capacity": object})
    shelters.loc[0, "effective_area_m2"] = "很大"
    shelters.loc[1, "shelter_class"] = "big"
    shelters.loc[1, "capacity"] = "12.5"
    shelters.loc[2, "effective_area_m2"] = -1.0
    with pytest.raises(SchemaError) as info:
        get_layer("shelters").validate(
            gpd.GeoDataFrame(shelters, crs=4326), source="s.xlsx", row_base=2
        )
    text = str(info.value)
    assert "row 2, field 'effective_area_m2': '很大' is not a number" in text
    assert "row 3, field 'shelter_class': 'big' is not one of emergency, fixed_short" in text
    assert "row 3, field 'capacity': '12.5' is not a whole number" in text
    assert "row 4, field 'effective_area_m2': -1.0 is below 0" in text
    assert "row 4, field 'shelter_id': duplicate code 'S1' (first at row 2)" in text
    assert len(info.value.problems) == 5


def test_numbers_with_thousands_separators_and_excel_float_codes():
    frame = grids_frame(1)
    frame["households"] = ["1,200"]
    frame["grid_code"] = [101.0]
    out = get_layer("grids").validate(frame)
    assert out["households"].iloc[0] == 1200
    assert out["grid_code"].iloc[0] == "101"


def test_required_value_missing_but_nullable_allowed():
    frame = grids_frame(2)
    frame.loc[0, "worker_name"] = None  # a grid without a worker is allowed
    frame.loc[1, "grid_name"] = "  "
    with pytest.raises(SchemaError) as info:
        get_layer("grids").validate(frame)
    assert [str(p) for p in info.value.problems] == ["row 2, field 'grid_name': value is missing"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["是", "否", "", "1"], [True, False, None, True]),
        (["true", "FALSE", "有", "无"], [True, False, True, False]),
        ([1.0, 0.0, float("nan"), 1.0], [True, False, None, True]),
        ([True, False, True, False], [True, False, True, False]),
    ],
)
def test_boolean_words(values, expected):
    villages = pd.concat([small_layers()["villages"]] * 2, ignore_index=True)
    villages["village_code"] = ["A", "B", "C", "D"]
    villages["garbage_collection"] = values
    out = get_layer("villages").validate(villages)
    assert [None if pd.isna(v) else bool(v) for v in out["garbage_collection"]] == expected


def test_boolean_bad_word():
    villages = small_layers()["villages"]
    villages["sewage_treatment"] = ["也许", "否"]
    with pytest.raises(SchemaError, match="row 1, field 'sewage_treatment': '也许' is not yes/no"):
        get_layer("villages").validate(villages)


def test_sanitary_toilets_not_over_households():
    villages = small_layers()["villages"]
    villages.loc[0, "sanitary_toilet_households"] = 301
    with pytest.raises(
        SchemaError,
        match=r"row 1, field 'sanitary_toilet_households': .*\(301\) is greater than households \(300\)",
    ):
        get_layer("villages").validate(villages)


def test_geometry_problems():
    frame = grids_frame(3)
    frame.loc[1, "geometry"] = Point(110.79, 32.63)
    frame.loc[2, "geometry"] = None
    with pytest.raises(SchemaError) as info:
        get_layer("grids").validate(frame)
    assert [str(p) for p in info.value.problems] == [
        "row 2, field 'geometry': geometry is Point, expected Polygon or MultiPolygon",
        "row 3, field 'geometry': geometry is missing or empty",
    ]


def test_long_error_lists_are_cut_but_problems_kept():
    frame = grids_frame(60)
    frame["households"] = -1
    with pytest.raises(SchemaError) as info:
        get_layer("grids").validate(frame)
    assert len(info.value.problems) == 60
    assert str(info.value).endswith("... and 10 more")


def test_empty_frame_has_schema_columns():
    empty = get_layer("villages").empty("EPSG:4326")
    assert list(empty.columns) == [*get_layer("villages").field_names, "geometry"]
    assert empty.crs.to_epsg() == 4326 and len(empty) == 0


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812341234", "138****1234"),
        ("138-1234-1234", "138****1234"),
        (None, ""),
        (float("nan"), ""),
        ("12345", "*****"),
        ("0719-8123456", "071****3456"),
    ],
)
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


# ============================================================================ store


@pytest.fixture
def store(tmp_path) -> GeoPackageStore:
    return build_small_store(tmp_path / "store.gpkg")


def test_round_trip_every_layer(store):
    layers = small_layers()
    assert set(LAYERS) <= set(store.layers())
    for name, frame in layers.items():
        back = store.read(name)
        assert back.crs.to_epsg() == 4326
        assert len(back) == len(frame)
        assert shapely.equals_exact(back.geometry.values, frame.geometry.values, 1e-9).all(), name
    villages = store.read("villages")
    assert villages["households"].dtype == "Int64"
    assert villages["garbage_collection"].tolist() == [True, False]
    assert villages["sewage_treatment"].dtype == "boolean"
    assert villages["sewage_treatment"].isna().tolist() == [False, True]
    assert not villages["sewage_treatment"].iloc[0]
    assert store.read("districts")["parent_code"].iloc[0] is None


def test_nullable_types_survive_validation_and_storage(store):
    villages = small_layers()["villages"]
    villages["garbage_collection"] = ["否", ""]
    out = get_layer("villages").validate(villages)
    store.write({"villages": out})
    back = store.read("villages")
    assert not back["garbage_collection"].iloc[0]  # was read back as True
    assert pd.isna(back["garbage_collection"].iloc[1])


def test_missing_and_unknown_layers(store, tmp_path):
    assert GeoPackageStore(tmp_path / "new.gpkg").layers() == []
    store.write({"grids": grids_frame(1)})
    with pytest.raises(StoreError, match="does not exist"):
        GeoPackageStore(tmp_path / "new.gpkg").read("grids")
    empty = GeoPackageStore(tmp_path / "other.gpkg")
    empty.write({"grids": grids_frame(1)})
    shelters = empty.read("shelters")
    assert shelters.empty and "shelter_class" in shelters.columns
    with pytest.raises(StoreError, match="no layer 'nope'"):
        empty.read("nope")
    assert empty.read_table("snapshots").empty


def test_append_and_replace(store):
    store.write({"grids": grids_frame(2, start=10)}, mode="append")
    assert store.read("grids")["grid_code"].tolist() == [
        "G001",
        "G002",
        "G003",
        "G004",
        "G010",
        "G011",
    ]
    store.write({"grids": grids_frame(1, start=20)})
    assert store.read("grids")["grid_code"].tolist() == ["G020"]
    with pytest.raises(ValueError, match="mode must be"):
        store.write({"grids": grids_frame(1)}, mode="merge")


def test_failed_write_leaves_store_unchanged(store):
    before, version = store.checksum(), store.version()
    bad = grids_frame(1).set_crs(None, allow_override=True)
    with pytest.raises(StoreError, match="layer 'grids' has no CRS"):
        store.write({"population": small_layers()["population"].iloc[:1], "grids": bad})
    assert store.checksum() == before and store.version() == version
    assert len(store.read("population")) == 4
    assert [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp.gpkg")] == []


def test_write_reprojects_and_promotes_mixed_polygons(store):
    mixed = grids_frame(2)
    mixed.loc[1, "geometry"] = MultiPolygon(
        [box(110.8, 32.62, 110.81, 32.63), box(110.82, 32.62, 110.83, 32.63)]
    )
    store.write({"grids": mixed.to_crs("EPSG:4546")})
    back = store.read("grids")
    assert back.crs.to_epsg() == 4326
    assert back.geom_type.tolist() == ["MultiPolygon", "MultiPolygon"]
    assert back.geometry.iloc[0].bounds == pytest.approx(mixed.geometry.iloc[0].bounds, abs=1e-7)


def test_points_and_polygons_in_one_layer(store):
    shelters = small_layers()["shelters"]
    shelters.loc[1, "geometry"] = box(110.8, 32.62, 110.81, 32.63)
    store.write({"shelters": shelters})
    assert store.read("shelters").geom_type.tolist() == ["Point", "Polygon"]


def test_meta_merges_and_version_changes(store):
    version = store.version()
    store.write_meta({"period": "2026-Q3"})
    assert store.meta() == {"synthetic": "false", "city": "十堰市", "period": "2026-Q3"}
    assert store.version() != version


def test_attribute_tables(store):
    table = pd.DataFrame({"period": ["2026-Q3"], "value": [0.9]})
    store.write({"snapshots": table})
    assert store.read_table("snapshots").to_dict("list") == {"period": ["2026-Q3"], "value": [0.9]}


def test_open_store_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_STORE", str(tmp_path / "mine.gpkg"))
    assert open_store().path == tmp_path / "mine.gpkg"
    assert open_store(tmp_path / "x.gpkg").path == tmp_path / "x.gpkg"


def test_read_layers_every_layer_and_a_selection(tmp_path):
    store = GeoPackageStore(tmp_path / "part.gpkg")
    store.write({"grids": grids_frame(2)})
    every = store.read_layers()
    assert list(every) == list(LAYERS)
    assert every["grids"]["grid_code"].tolist() == ["G001", "G002"]
    assert every["shelters"].empty and "shelter_class" in every["shelters"].columns
    assert all(frame.crs.to_epsg() == 4326 for frame in every.values())
    some = store.read_layers(["shelters", "grids"])
    assert list(some) == ["shelters", "grids"]
    assert len(some["grids"]) == 2
    with pytest.raises(StoreError, match="no layer 'nope'"):
        store.read_layers(["grids", "nope"])
