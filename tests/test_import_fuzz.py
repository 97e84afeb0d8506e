"""Malformed files of every format: each refused with a file/row/field message, store unchanged."""

from __future__ import annotations

import io
import json
import random
import re
import zipfile

import geopandas as gpd
import pandas as pd
import pytest

from data.importing import ImportFailed, import_file
from layers import LAYERS, SchemaError
from layers.messages import Msg
from tests._importing_fixtures import build_small_store, grids_frame, points_table

GOOD_CSV = points_table().to_csv(index=False)
GOOD_GEOJSON = grids_frame(3).to_json()
CJK = re.compile(r"[\u4e00-\u9fff]")


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _zip_deflated(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


OSM_NO_ROADS = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">'
    b'<node id="1" lat="32.62" lon="110.78"/><node id="2" lat="32.63" lon="110.79"/>'
    b'<way id="10"><nd ref="1"/><nd ref="2"/><tag k="waterway" v="stream"/></way></osm>'
)


def _csv_with(column: str, value: str) -> str:
    table = points_table()
    table[column] = table[column].astype(object)
    table.loc[1, column] = value
    return table.to_csv(index=False)


def _grids_csv(**changes: object) -> str:
    frame = grids_frame(3)
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table["经度"] = [110.785, 110.795, 110.805]
    table["纬度"] = 32.625
    for column, value in changes.items():
        table[column] = table[column].astype(object)
        table.loc[2, column] = value
    return table.to_csv(index=False)


def _mangled(text: str, seed: int) -> bytes:
    """`text` with a few random bytes flipped, cut or repeated (deterministic per seed)."""
    rng = random.Random(seed)
    data = bytearray(text.encode("utf-8"))
    for _ in range(6):
        pos = rng.randrange(len(data))
        action = rng.choice(("flip", "cut", "dup"))
        if action == "flip":
            data[pos] = rng.randrange(256)
        elif action == "cut":
            del data[pos : pos + rng.randrange(1, 40)]
        else:
            data[pos:pos] = data[pos : pos + rng.randrange(1, 40)]
    return bytes(data)


# (file name, bytes, layer): every one must be refused
CASES: list[tuple[str, bytes, str]] = [
    ("huge_int.csv", _grids_csv(households="99999999999999999999999").encode(), "grids"),
    ("huge_residents.csv", _grids_csv(residents="1e400").encode(), "grids"),
    ("inf.csv", _grids_csv(households="inf").encode(), "grids"),
    ("nan_text.csv", _grids_csv(households="NaN").encode(), "grids"),
    ("negative.csv", _grids_csv(households="-5").encode(), "grids"),
    ("fraction.csv", _grids_csv(households="3.5").encode(), "grids"),
    ("words.csv", _grids_csv(residents="很多").encode(), "grids"),
    ("lon_text.csv", _csv_with("经度", "东经110").encode(), "neighborhood_centers"),
    ("lat_huge.csv", _csv_with("纬度", "1e308").encode(), "neighborhood_centers"),
    ("lat_inf.csv", _csv_with("纬度", "inf").encode(), "neighborhood_centers"),
    ("lon_blank.csv", _csv_with("经度", "").encode(), "neighborhood_centers"),
    ("level_bad.csv", _csv_with("级别", "city").encode(), "neighborhood_centers"),
    ("no_coords.csv", b"name,level\nA,street\n", "neighborhood_centers"),
    (
        "only_header.csv",
        b"\xe4\xb8\xad\xe5\xbf\x83\xe7\xbc\x96\xe5\x8f\xb7\n",
        "neighborhood_centers",
    ),
    ("binary.csv", bytes(range(256)) * 4, "neighborhood_centers"),
    ("nul.csv", b"a,b\x00c\n1,2\n", "neighborhood_centers"),
    ("quote.csv", b'\xe7\xbb\x8f\xe5\xba\xa6,"\n110.8,"32.6\n', "neighborhood_centers"),
    ("truncated.geojson", GOOD_GEOJSON[: len(GOOD_GEOJSON) // 2].encode(), "grids"),
    ("not_json.geojson", b"<html>not json</html>", "grids"),
    ("array.geojson", b"[1, 2, 3]", "grids"),
    ("null.geojson", b"null", "grids"),
    (
        "no_geometry.geojson",
        json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]}
        ).encode(),
        "grids",
    ),
    (
        "bad_coords.geojson",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"grid_code": "G1"},
                        "geometry": {"type": "Polygon", "coordinates": [[["a", "b"]]]},
                    }
                ],
            }
        ).encode(),
        "grids",
    ),
    (
        "point_for_polygon.geojson",
        grids_frame(2)
        .set_geometry(gpd.points_from_xy([110.785, 110.795], [32.625, 32.625]), crs="EPSG:4326")
        .to_json()
        .encode(),
        "grids",
    ),
    ("empty.zip", _zip({}), "grids"),
    ("not_a_zip.zip", b"PK\x03\x04 broken", "grids"),
    ("shp_only.zip", _zip({"a.shp": b"\x00" * 100}), "grids"),
    ("garbage_shp.zip", _zip({f"a.{e}": b"junk" for e in ("shp", "shx", "dbf")}), "grids"),
    ("nested.zip", _zip({"inner.zip": _zip({"a.txt": b"x"})}), "grids"),
    ("text.gpkg", b"SQLite format 3\x00 but not really", "grids"),
    ("random.gpkg", bytes(random.Random(1).randrange(256) for _ in range(4096)), "grids"),
    ("text.xlsx", b"name,level\nA,street\n", "neighborhood_centers"),
    ("zip_not_xlsx.xlsx", _zip({"a.txt": b"x"}), "neighborhood_centers"),
    ("zip_slip.zip", _zip({"../../evil.geojson": GOOD_GEOJSON.encode()}), "grids"),
    ("zip_abs.zip", _zip({"/etc/evil.geojson": GOOD_GEOJSON.encode()}), "grids"),
    ("zip_bomb.zip", _zip_deflated({"a.geojson": b" " * 4_000_000}), "grids"),
    (
        "two_shps.zip",
        _zip({f"{n}.{e}": b"x" for n in "ab" for e in ("shp", "shx", "dbf")}),
        "grids",
    ),
    ("no_roads.osm", OSM_NO_ROADS, "roads"),
    ("roads_as_grids.osm", OSM_NO_ROADS, "grids"),
    ("garbage.osm", b"<osm><way", "roads"),
    *[(f"mangled{i}.geojson", _mangled(GOOD_GEOJSON, i), "grids") for i in range(6)],
    *[(f"mangled{i}.csv", _mangled(GOOD_CSV, i), "neighborhood_centers") for i in range(6)],
]


def assert_bilingual(exc: ImportFailed | SchemaError, name: str) -> None:
    """`exc` names the file `name` and says every problem in Chinese and in English."""
    for lang in ("zh", "en"):
        text = exc.text(lang)
        assert name in text, (lang, text)  # names the file
        assert "Traceback" not in text
    english_only = [p.text("en") for p in exc.problems if not isinstance(p.message, Msg)]
    assert english_only == [], f"{name}: no Chinese text for {english_only}"
    assert CJK.search(exc.text("zh")), exc.text("zh")


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    return build_small_store(tmp_path_factory.mktemp("fuzz") / "city.gpkg")


@pytest.mark.parametrize(("name", "data", "layer"), CASES, ids=[c[0] for c in CASES])
def test_malformed_file_refused(fuzz_store, tmp_path, name, data, layer):
    path = tmp_path / name
    path.write_bytes(data)
    before = fuzz_store.checksum()
    try:
        import_file(path, layer=layer, store=fuzz_store, mode="append")
    except (ImportFailed, SchemaError) as exc:
        assert_bilingual(exc, name)
    else:
        # a mangled file may still be valid by chance: then it must have been imported whole
        assert name.startswith("mangled"), f"{name} was accepted"
        fuzz_store.write({layer: LAYERS[layer].empty("EPSG:4326")})  # keep later cases independent
        return
    assert fuzz_store.checksum() == before


def test_fuzz_cases_are_many():
    assert len(CASES) >= 40


def test_too_large_integer_names_row_and_field(fuzz_store, tmp_path):
    """The crash of the field test (cannot safely cast float64 to int64) is a schema error."""
    path = tmp_path / "people.csv"
    path.write_text(
        "经度,纬度,residents,households\n110.79,32.63,10,4\n110.80,32.63,99999999999999999999999,3\n",
        encoding="utf-8",
    )
    before = fuzz_store.checksum()
    with pytest.raises(ImportFailed) as info:
        import_file(path, layer="population", store=fuzz_store, mode="append")
    assert str(info.value) == (
        "people.csv: row 2, field 'residents': '99999999999999999999999' is too large "
        "(largest accepted: 9,007,199,254,740,992)"
    )
    assert fuzz_store.checksum() == before


def test_schema_too_large_values():
    frame = grids_frame(3)
    frame["households"] = ["1e400", "99999999999999999999999", "12"]
    frame["residents"] = [12, 13, "-inf"]
    with pytest.raises(SchemaError) as info:
        LAYERS["grids"].validate(frame, source="g.csv")
    found = {(p.row, p.field) for p in info.value.problems if "too large" in p.message}
    assert found == {(1, "households"), (2, "households"), (3, "residents")}
