"""Importing real files: formats, encodings, coordinates, repairs, schema problems, refusals.

Every failing import is checked to leave the store byte-for-byte unchanged.
"""

from __future__ import annotations

import io
import json
import shutil
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from _importing_fixtures import (
    LAT0,
    LON0,
    build_small_store,
    grids_frame,
    points_table,
    small_layers,
)
from shapely.geometry import Point, Polygon

from data.importing import ImportFailed, ImportReport, check_store, import_file, issues_table
from data.readers import guess_encoding
from data.store import GeoPackageStore
from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.settings import load_profile
from ui.text import unescape

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path) -> GeoPackageStore:
    return build_small_store(tmp_path / "store.gpkg")


def refused(path: Path, store: GeoPackageStore, match: str, **kwargs) -> ImportFailed:
    """Assert the import fails with `match` and the store file is unchanged."""
    before = store.checksum()
    kwargs.setdefault("layer", "grids")
    with pytest.raises(ImportFailed, match=match) as info:
        import_file(path, store=store, **kwargs)
    assert store.checksum() == before
    return info.value


def write_geojson(frame: gpd.GeoDataFrame, path: Path) -> Path:
    frame.to_file(path, driver="GeoJSON")
    return path


def zip_folder(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return out


def gbk_shapefile_zip(tmp_path: Path, frame: gpd.GeoDataFrame, *, cpg: bool = False) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir()
    with pytest.warns(RuntimeWarning, match="laundered"):  # worker_name -> worker_nam (10 chars)
        pyogrio.write_dataframe(frame, folder / "grids.shp", encoding="GBK")
    if not cpg:
        (folder / "grids.cpg").unlink()
    return zip_folder(folder, tmp_path / "grids.zip")


def metres_between(a: gpd.GeoSeries, b: gpd.GeoSeries) -> np.ndarray:
    return a.to_crs("EPSG:4546").distance(b.to_crs("EPSG:4546"), align=False).to_numpy()


# =============================================================================== formats
def test_geojson_replace(store, tmp_path):
    path = write_geojson(grids_frame(3, start=10), tmp_path / "grids.geojson")
    report = import_file(path, layer="grids", store=store)
    assert isinstance(report, ImportReport)
    assert (report.rows, report.rows_in_layer, report.repaired) == (3, 3, 0)
    stored = store.read("grids")
    assert list(stored["grid_code"]) == ["G010", "G011", "G012"]
    assert stored["households"].dtype == "Int64"
    assert "grids.geojson" in store.meta()["import.grids"]
    assert "3 row(s)" in report.summary()


def test_geojson_append_keeps_existing_rows(store, tmp_path):
    path = write_geojson(grids_frame(2, start=10), tmp_path / "more.geojson")
    report = import_file(path, layer="grids", store=store, mode="append")
    assert (report.rows, report.rows_in_layer) == (2, 6)
    assert list(store.read("grids")["grid_code"]) == [
        "G001",
        "G002",
        "G003",
        "G004",
        "G010",
        "G011",
    ]
    assert store.meta()["synthetic"] == "false"  # other meta kept


def test_geojson_utf8_bom(store, tmp_path):
    path = tmp_path / "bom.geojson"
    text = grids_frame(2, start=10).to_json()
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    import_file(path, layer="grids", store=store)
    assert list(store.read("grids")["grid_name"]) == ["第10网格", "第11网格"]


def test_zipped_shapefile_gbk_without_cpg(store, tmp_path):
    path = gbk_shapefile_zip(tmp_path, grids_frame(2, start=20))
    report = import_file(path, layer="grids", store=store)
    assert report.encoding == "gb18030"
    stored = store.read("grids")
    assert list(stored["grid_name"]) == ["第20网格", "第21网格"]
    assert list(stored["community"]) == ["五堰社区"] * 2
    assert list(stored["worker_name"]) == ["张三"] * 2  # 10-character DBF name given back


def test_zipped_shapefile_encoding_override(store, tmp_path):
    path = gbk_shapefile_zip(tmp_path, grids_frame(1, start=20))
    report = import_file(path, layer="grids", store=store, encoding="gbk")
    assert report.encoding == "gbk"
    assert store.read("grids")["street"].iloc[0] == "五堰街道"


def test_zipped_shapefile_with_cpg(store, tmp_path):
    path = gbk_shapefile_zip(tmp_path, grids_frame(1, start=20), cpg=True)
    import_file(path, layer="grids", store=store)
    assert store.read("grids")["district"].iloc[0] == "茅箭区"


def test_dbf_gbk_field_names_detected(store, tmp_path):
    frame = grids_frame(1, start=30).rename(columns={"grid_code": "网格编码", "households": "户数"})
    path = gbk_shapefile_zip(tmp_path, frame)
    import_file(path, layer="grids", store=store)
    stored = store.read("grids")
    assert stored["grid_code"].iloc[0] == "G030"
    assert stored["households"].iloc[0] == 400


def test_geopackage_picks_layer_by_name_or_only_layer(store, tmp_path):
    many = tmp_path / "many.gpkg"
    pyogrio.write_dataframe(grids_frame(1, start=40), many, layer="grids")
    pyogrio.write_dataframe(small_layers()["shelters"], many, layer="shelters")
    import_file(many, layer="grids", store=store)
    assert list(store.read("grids")["grid_code"]) == ["G040"]

    single = tmp_path / "single.gpkg"
    pyogrio.write_dataframe(grids_frame(2, start=50), single, layer="网格2026")
    report = import_file(single, layer="grids", store=store)
    assert report.rows == 2 and "网格2026" in report.summary()

    refused(many, store, r"several tables \(grids, shelters\)", layer="villages")


def test_geopackage_projected_with_crs_is_reprojected(store, tmp_path):
    path = tmp_path / "metric.gpkg"
    original = grids_frame(2, start=60)
    pyogrio.write_dataframe(original.to_crs("EPSG:4546"), path, layer="grids")
    report = import_file(path, layer="grids", store=store)
    assert any("EPSG:4546" in c for c in report.conversions)
    stored = store.read("grids")
    assert (
        metres_between(
            stored.geometry.representative_point(), original.geometry.representative_point()
        ).max()
        < 0.01
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(store, tmp_path, encoding):
    path = tmp_path / "centers.csv"
    points_table().to_csv(path, index=False, encoding=encoding)
    report = import_file(path, layer="neighborhood_centers", store=store)
    stored = store.read("neighborhood_centers")
    assert list(stored["name"]) == ["邻里中心1", "邻里中心2", "邻里中心3"]
    assert list(stored["level"]) == ["street", "community", "community"]
    assert stored.geometry.x.iloc[1] == pytest.approx(LON0 + 0.005)
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb18030": "gb18030"}
    assert report.encoding == expected[encoding]


def test_csv_encoding_option_wins(store, tmp_path):
    path = tmp_path / "centers.csv"
    points_table().to_csv(path, index=False, encoding="gbk")
    assert import_file(path, layer="neighborhood_centers", store=store, encoding="gbk").rows == 3
    refused(
        path, store, "cannot be decoded as utf-8", layer="neighborhood_centers", encoding="utf-8"
    )


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        ("lon", "lat"),
        ("lng", "lat"),
        ("Longitude", "Latitude"),
        ("x", "y"),
        ("LNG", "LAT"),
        ("经度", "纬度"),
    ],
)
def test_csv_coordinate_columns_detected(store, tmp_path, lon, lat):
    table = points_table().rename(columns={"经度": lon, "纬度": lat})
    path = tmp_path / "c.csv"
    table.to_csv(path, index=False)
    assert import_file(path, layer="neighborhood_centers", store=store).rows == 3


def test_csv_coordinate_columns_named_by_user(store, tmp_path):
    table = points_table().rename(columns={"经度": "POINT_X", "纬度": "POINT_Y"})
    path = tmp_path / "c.csv"
    table.to_csv(path, index=False)
    refused(path, store, "no longitude column found.*--lon", layer="neighborhood_centers")
    report = import_file(
        path, layer="neighborhood_centers", store=store, lon_col="POINT_X", lat_col="POINT_Y"
    )
    assert report.rows == 3
    refused(
        path,
        store,
        "column 'E' not found",
        layer="neighborhood_centers",
        lon_col="E",
        lat_col="POINT_Y",
    )


def test_csv_bad_coordinate_names_row(store, tmp_path):
    table = points_table().astype({"经度": object})
    table.loc[1, "经度"] = "东经110度"
    path = tmp_path / "c.csv"
    table.to_csv(path, index=False)
    refused(
        path,
        store,
        r"row 2, field '经度': '东经110度' is not a coordinate",
        layer="neighborhood_centers",
    )


def test_xlsx(store, tmp_path):
    path = tmp_path / "centers.xlsx"
    points_table().to_excel(path, index=False, sheet_name="邻里中心")
    report = import_file(path, layer="neighborhood_centers", store=store)
    assert report.rows == 3
    assert store.read("neighborhood_centers")["center_id"].tolist() == ["C1", "C2", "C3"]


def test_villages_csv_with_chinese_headers_and_booleans(store, tmp_path):
    table = pd.DataFrame(
        {
            "村编码": ["V9", "V10"],
            "村名": ["九村", "十村"],
            "乡镇": ["茶店镇"] * 2,
            "区县": ["郧阳区"] * 2,
            "户数": [100, 80],
            "卫生厕所户数": [90, 80],
            "垃圾收运": ["是", "否"],
            "经度": [110.7, 110.71],
            "纬度": [32.7, 32.71],
        }
    )
    path = tmp_path / "v.csv"
    table.to_csv(path, index=False, encoding="gbk")
    import_file(path, layer="villages", store=store)
    stored = store.read("villages")
    assert stored["garbage_collection"].tolist() == [True, False]
    assert stored["village_code"].tolist() == ["V9", "V10"]


# =============================================================================== coordinates
@pytest.mark.parametrize(
    ("coords", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)]
)
def test_offset_coordinates_converted(store, tmp_path, coords, forward):
    table = points_table()
    truth = gpd.GeoSeries(gpd.points_from_xy(table["经度"], table["纬度"]), crs="EPSG:4326")
    table["经度"], table["纬度"] = forward(table["经度"].to_numpy(), table["纬度"].to_numpy())
    path = tmp_path / "amap.csv"
    table.to_csv(path, index=False)
    report = import_file(path, layer="neighborhood_centers", store=store, coords=coords)
    assert any("-> WGS84: 3 row(s)" in c for c in report.conversions)
    stored = store.read("neighborhood_centers").geometry
    assert metres_between(stored, truth).max() < 1.0
    # without --coords the points stay ~500 m off (GCJ-02 at Shiyan: ~500 m east, 240 m south)
    import_file(path, layer="neighborhood_centers", store=store)
    assert metres_between(store.read("neighborhood_centers").geometry, truth).min() > 300


def test_projected_without_crs_is_explained(store, tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    metric = grids_frame(2, start=70).to_crs("EPSG:4546")
    with warnings.catch_warnings():  # no CRS on purpose; worker_name cut to 10 characters
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(metric.set_crs(None, allow_override=True), folder / "grids.shp")
    assert not (folder / "grids.prj").exists()
    path = zip_folder(folder, tmp_path / "noprj.zip")
    err = refused(path, store, "look projected")
    assert "EPSG:4546" in str(err) and "--crs EPSG:4546" in str(err)
    report = import_file(path, layer="grids", store=store, source_crs="EPSG:4546")
    assert report.rows == 2
    stored = store.read("grids")
    assert (
        metres_between(
            stored.geometry.representative_point(),
            grids_frame(2, start=70).geometry.representative_point(),
        ).max()
        < 0.01
    )


def test_projected_csv_with_x_y_columns(store, tmp_path):
    table = points_table().rename(columns={"经度": "x", "纬度": "y"})
    table["x"], table["y"] = [498000.0, 498500.0, 499000.0], [3610000.0, 3610400.0, 3610800.0]
    path = tmp_path / "xy.csv"
    table.to_csv(path, index=False)
    refused(path, store, r"look projected \(x 498,000 to 499,000", layer="neighborhood_centers")
    assert (
        import_file(path, layer="neighborhood_centers", store=store, source_crs="EPSG:4546").rows
        == 3
    )


def test_swapped_latitude_longitude(store, tmp_path):
    table = points_table().rename(columns={"经度": "纬度", "纬度": "经度"})
    path = tmp_path / "swapped.csv"
    table.to_csv(path, index=False)
    err = refused(path, store, "latitude and longitude look swapped", layer="neighborhood_centers")
    assert "110.79" in str(err) or "110.78" in str(err)
    # a GeoJSON with x/y swapped
    swapped = grids_frame(1).geometry.map(lambda g: Polygon([(y, x) for x, y in g.exterior.coords]))
    frame = grids_frame(1).set_geometry(swapped)
    refused(write_geojson(frame, tmp_path / "swapped.geojson"), store, "look swapped")


def test_points_outside_city_are_listed(store, tmp_path):
    table = points_table(4)
    table.loc[1, ["经度", "纬度"]] = [116.40, 39.91]  # Beijing
    table.loc[3, ["经度", "纬度"]] = [114.30, 30.59]  # Wuhan
    path = tmp_path / "far.csv"
    table.to_csv(path, index=False)
    refused(path, store, r"2 row\(s\) lie outside Shiyan.*rows 2, 4", layer="neighborhood_centers")


# =============================================================================== geometries
def bowtie(x0: float) -> Polygon:
    c = 0.01
    return Polygon([(x0, LAT0), (x0 + c, LAT0 + c), (x0 + c, LAT0), (x0, LAT0 + c)])


def test_invalid_geometry_repaired_and_counted(store, tmp_path):
    frame = grids_frame(3, start=80)
    frame.loc[1, "geometry"] = bowtie(LON0)
    path = write_geojson(frame, tmp_path / "bowtie.geojson")
    report = import_file(path, layer="grids", store=store)
    assert report.repaired == 1
    fixed = store.read("grids").geometry.iloc[1]
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon" and len(fixed.geoms) == 2
    # the repaired area is the two triangles: half the cell
    assert gpd.GeoSeries([fixed], crs=4326).to_crs(4546).area.iloc[0] == pytest.approx(
        gpd.GeoSeries([frame.geometry.iloc[0]], crs=4326).to_crs(4546).area.iloc[0] / 2, rel=0.01
    )


def test_repair_keeps_polygons_from_collections(store, tmp_path):
    # a square with a dangling spike: make_valid gives a collection of a polygon and a line
    x0, c = LON0, 0.01
    spiky = Polygon(
        [
            (x0, LAT0),
            (x0 + c, LAT0),
            (x0 + c, LAT0 + c),
            (x0 + 2 * c, LAT0 + c),
            (x0 + c, LAT0 + c),
            (x0, LAT0 + c),
        ]
    )
    frame = grids_frame(1, start=90).set_geometry([spiky], crs=4326)
    report = import_file(
        write_geojson(frame, tmp_path / "spike.geojson"), layer="grids", store=store
    )
    assert report.repaired == 1
    assert store.read("grids").geometry.iloc[0].geom_type == "Polygon"


def test_unrepairable_and_unrepaired_geometries_rejected(store, tmp_path):
    frame = grids_frame(3, start=80)
    frame.loc[1, "geometry"] = bowtie(LON0)
    flat = [(LON0, LAT0), (LON0 + 0.01, LAT0), (LON0 + 0.02, LAT0), (LON0, LAT0)]
    line_like = Polygon(flat)  # no area: make_valid gives lines only
    frame.loc[2, "geometry"] = line_like
    path = write_geojson(frame, tmp_path / "bad.geojson")
    err = refused(path, store, r"row 3, field 'geometry'.*cannot be repaired")
    assert "row 2" not in str(err)
    err = refused(
        path,
        store,
        r"row 2, field 'geometry': geometry is invalid \(Self-intersection",
        repair=False,
    )
    assert "row 3" in str(err)


# =============================================================================== schema problems
def test_all_schema_problems_in_one_error(store, tmp_path):
    frame = (
        grids_frame(4, start=1).drop(columns=["street"]).rename(columns={"households": "housholds"})
    )
    frame["residents"] = frame["residents"].astype(object)
    frame.loc[1, "residents"] = "abc"
    frame.loc[2, "residents"] = -5
    frame.loc[3, "grid_code"] = "G001"
    path = write_geojson(frame, tmp_path / "grids.geojson")
    err = refused(path, store, "grids.geojson: 5 problem")
    text = str(err)
    assert "field 'street': required column missing" in text
    assert "'housholds' a misspelling of 'households'" in text
    assert "row 2, field 'residents': 'abc' is not a whole number" in text
    assert "row 3, field 'residents': -5 is below 0" in text
    assert "row 4, field 'grid_code': duplicate code 'G001' (first at row 1)" in text
    assert len(err.problems) == 5  # every problem kept for the UI table
    assert issues_table(err.problems)["row"].tolist()[-3:] == [2, 3, 4]


def test_sanitary_toilets_over_households(store, tmp_path):
    villages = small_layers()["villages"]
    villages.loc[1, "sanitary_toilet_households"] = 250
    path = write_geojson(villages, tmp_path / "villages.geojson")
    refused(
        path,
        store,
        r"row 2, field 'sanitary_toilet_households': sanitary_toilet_households \(250\) is greater than households \(200\)",
        layer="villages",
    )


def test_append_duplicates_against_store(store, tmp_path):
    frame = grids_frame(3, start=3)  # G003, G004 exist, G005 is new
    path = write_geojson(frame, tmp_path / "more.geojson")
    err = refused(path, store, "already in the store", mode="append")
    assert "row 1, field 'grid_code': duplicate code 'G003'" in str(err)
    assert "row 2, field 'grid_code': duplicate code 'G004'" in str(err)
    assert "row 3" not in str(err)
    # the same file replaces the layer without complaint
    assert import_file(path, layer="grids", store=store, mode="replace").rows_in_layer == 3


def test_append_duplicates_reported_with_other_problems(store, tmp_path):
    frame = grids_frame(2, start=4)
    frame.loc[1, "households"] = -1
    err = refused(write_geojson(frame, tmp_path / "g.geojson"), store, "2 problem", mode="append")
    assert "duplicate code 'G004'" in str(err) and "below 0" in str(err)


# =============================================================================== refusals
@pytest.mark.parametrize(
    "name", ["empty.geojson", "empty.csv", "empty.zip", "empty.gpkg", "empty.xlsx"]
)
def test_empty_file(store, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    refused(path, store, "file is empty")


def test_header_only_csv_and_featureless_geojson(store, tmp_path):
    csv = tmp_path / "h.csv"
    csv.write_text("中心编号,名称,级别,经度,纬度\n", encoding="utf-8")
    refused(csv, store, "header but no data rows", layer="neighborhood_centers")
    gj = tmp_path / "none.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    refused(gj, store, "no rows or features")


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("notes.geojson", "is not GeoJSON"),
        ("notes.json", "is not GeoJSON"),
        ("notes.gpkg", "is not a GeoPackage"),
        ("notes.zip", "is not a valid zip archive"),
        ("notes.xlsx", "is not an Excel .xlsx workbook"),
    ],
)
def test_text_file_with_geo_extension(store, tmp_path, name, match):
    path = tmp_path / name
    path.write_text("会议纪要：下周一检查网格工作。\nMinutes of the meeting.\n", encoding="utf-8")
    refused(path, store, match)


def test_csv_that_is_binary(store, tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    refused(path, store, "not a text")


def test_unsupported_extension_and_unknown_layer(store, tmp_path):
    path = tmp_path / "grids.docx"
    path.write_bytes(b"x")
    refused(path, store, "unsupported file type '.docx'")
    gj = write_geojson(grids_frame(1), tmp_path / "g.geojson")
    refused(gj, store, "unknown layer 'gridz'", layer="gridz")


@pytest.mark.parametrize(
    "member", ["../evil.shp", "sub/../../evil.shp", "/etc/evil.shp", "C:/evil.shp", "..\\evil.shp"]
)
def test_zip_slip_refused(store, tmp_path, member):
    path = tmp_path / "slip.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("grids.dbf", b"x")
        zf.writestr(member, b"x")
    refused(path, store, "zip-slip")
    assert not (tmp_path.parent / "evil.shp").exists()


def test_zip_bomb_ratio_refused(store, tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("grids.shp", b"\0" * 5_000_000)  # compresses about 1000:1
    refused(path, store, "zip bomb")


def test_zip_unpacked_size_limit(store, tmp_path):
    path = gbk_shapefile_zip(tmp_path, grids_frame(2))
    tiny = load_profile().with_overrides(import_={"max_unzipped_mb": 0.001})
    refused(path, store, r"more than the limit of 0.001 MB", profile=tiny)


def test_zip_bomb_with_lying_header_refused(store, tmp_path):
    # sizes in the central directory claim 10 bytes; the real content is 3 MB of zeros
    path = tmp_path / "liar.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.csv", b"0" * 3_000_000)
    data = bytearray(buf.getvalue())
    pos = data.rfind(b"PK\x01\x02")  # central directory header: uncompressed size at +24
    data[pos + 24 : pos + 28] = (10).to_bytes(4, "little")
    pos = data.find(b"PK\x03\x04")  # local header: uncompressed size at +22
    data[pos + 22 : pos + 26] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    tiny = load_profile().with_overrides(import_={"max_unzipped_mb": 1})
    refused(path, store, "zip archive is damaged", profile=tiny)


def test_file_size_limit(store, tmp_path):
    path = write_geojson(grids_frame(3), tmp_path / "g.geojson")
    tiny = load_profile().with_overrides(import_={"max_file_mb": 0.0001})
    refused(
        path,
        store,
        r"larger than the limit of 0.0001 MB \(setting import.max_file_mb\)",
        profile=tiny,
    )


def test_zip_without_shapefile_parts(store, tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(grids_frame(1).drop(columns="worker_name"), folder / "grids.shp")
    (folder / "grids.dbf").unlink()
    refused(zip_folder(folder, tmp_path / "nodbf.zip"), store, r"missing its \.dbf file")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt.md", "hello")
    refused(other, store, "zip holds no shapefile")


def test_geojson_inside_zip(store, tmp_path):
    gj = write_geojson(grids_frame(2, start=5), tmp_path / "g.geojson")
    path = tmp_path / "g.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(gj, "data/g.geojson")
    assert import_file(path, layer="grids", store=store).rows == 2


def test_failed_import_is_a_value_error_naming_the_file(store, tmp_path):
    path = tmp_path / "网格.geojson"
    path.write_text("not json", encoding="utf-8")
    err = refused(path, store, "网格.geojson")
    assert isinstance(err, ValueError)


def test_guess_encoding():
    assert guess_encoding("网格".encode("gbk")) == "gb18030"
    assert guess_encoding("网格".encode()) == "utf-8"
    assert guess_encoding(b"\xef\xbb\xbf" + "网格".encode()) == "utf-8-sig"


# =============================================================================== CLI
def run_cli(*argv: str) -> int:
    from cli import main

    return main(list(argv))


def test_cli_import_success_and_failure(store, tmp_path, capsys):
    path = write_geojson(grids_frame(2, start=10), tmp_path / "g.geojson")
    assert (
        run_cli("import", str(path), "--layer", "grids", "--into", str(store.path), "--append") == 0
    )
    out = capsys.readouterr().out
    assert (
        "2 row(s) appended" in out
        and "geometries repaired: 0" in out
        and "conversions: none" in out
    )
    before = store.checksum()
    assert (
        run_cli("import", str(path), "--layer", "grids", "--into", str(store.path), "--append") == 2
    )
    err = capsys.readouterr().err
    assert "store unchanged" in err and "duplicate code 'G010'" in err
    assert store.checksum() == before


def test_cli_import_coords_and_default_store(store, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GRIDMAP_STORE", str(store.path))
    table = points_table()
    table["经度"], table["纬度"] = wgs84_to_gcj02(
        table["经度"].to_numpy(), table["纬度"].to_numpy()
    )
    path = tmp_path / "amap.csv"
    table.to_csv(path, index=False, encoding="gbk")
    code = run_cli(
        "import",
        str(path),
        "--layer",
        "neighborhood_centers",
        "--coords",
        "gcj02",
        "--encoding",
        "gbk",
    )
    assert code == 0
    assert "GCJ-02" in capsys.readouterr().out
    assert store.read("neighborhood_centers").geometry.x.iloc[0] == pytest.approx(LON0, abs=1e-5)


def test_cli_check_clean_and_broken(store, tmp_path, capsys):
    assert run_cli("check", str(store.path)) == 0
    assert "no problems found" in capsys.readouterr().out
    broken = small_layers()
    broken["grids"].loc[1, "grid_code"] = "G001"
    broken["villages"].loc[0, "sanitary_toilet_households"] = 999
    broken["shelters"].loc[0, "geometry"] = bowtie(LON0)
    broken["sanitation_facilities"].loc[0, "village_code"] = "V404"
    broken["population"].loc[0, "geometry"] = Point(116.4, 39.9)
    bad = GeoPackageStore(tmp_path / "broken.gpkg")
    bad.write(broken)
    assert run_cli("check", str(bad.path)) == 1
    out = capsys.readouterr().out
    assert "grids: row 2, field 'grid_code': duplicate code 'G001'" in out
    assert "villages: row 1, field 'sanitary_toilet_households'" in out
    assert "shelters: row 1, field 'geometry': invalid geometry" in out
    assert "village_code 'V404' is not in the villages layer" in out
    assert "population: field 'geometry': 1 row(s) lie outside" in out
    issues = check_store(bad)
    assert {i.layer for i in issues} == {
        "grids",
        "villages",
        "shelters",
        "sanitation_facilities",
        "population",
    }


def test_cli_check_missing_store(tmp_path, capsys):
    assert run_cli("check", str(tmp_path / "nope.gpkg")) == 2


# =============================================================================== data page
def _page_app(store_path: Path, monkeypatch):
    from tests._auth import signed_in_app

    monkeypatch.setenv("GRIDMAP_STORE", str(store_path))
    at = signed_in_app(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("ui/pages/data.py")
    return at.run()


def test_data_page_shows_store_and_imports(store, tmp_path, monkeypatch):
    at = _page_app(store.path, monkeypatch)
    assert not at.exception
    page_text = " ".join(str(m.value) for m in at.markdown) + " ".join(
        str(c.value) for c in at.caption
    )
    assert str(store.path.name) in unescape(page_text)
    assert len(at.dataframe) >= 1  # layers with row counts
    csv = io.StringIO()
    points_table(5).to_csv(csv, index=False)
    at.file_uploader[0].set_value(("centers.csv", csv.getvalue().encode("gbk"), "text/csv"))
    at.selectbox(key="data_import_layer").set_value("neighborhood_centers")
    at.run()
    at.button(key="data_import_run").click()
    at.run()
    assert not at.exception
    assert len(store.read("neighborhood_centers")) == 5
    assert any("5" in s.value for s in at.success)


def test_data_page_import_error_is_listed_not_raised(store, tmp_path, monkeypatch):
    at = _page_app(store.path, monkeypatch)
    before = store.checksum()
    frame = grids_frame(2)
    frame["households"] = -3
    at.file_uploader[0].set_value(
        ("grids.geojson", frame.to_json().encode(), "application/geo+json")
    )
    at.selectbox(key="data_import_layer").set_value("grids")
    at.run()
    at.button(key="data_import_run").click()
    at.run()
    assert not at.exception
    assert at.error, "the failure is shown"
    assert store.checksum() == before
    shown = " ".join(str(d.value) for d in at.dataframe)
    assert "-3 小于 0" in shown  # problems follow the chosen language (Chinese by default)
    assert "第 1 行" in at.error[0].value or "2 个问题" in at.error[0].value


def test_data_page_lists_problems_without_rows(store, tmp_path, monkeypatch):
    at = _page_app(store.path, monkeypatch)
    frame = grids_frame(2)
    at.file_uploader[0].set_value(("g.geojson", frame.to_json().encode(), "application/geo+json"))
    at.selectbox(key="data_import_layer").set_value("villages")
    at.run()
    at.button(key="data_import_run").click()
    at.run()
    assert not at.exception
    assert at.info, "a hint that the target layer may be wrong"
    table = at.dataframe[-1].value
    assert list(table.columns) == ["行", "字段", "问题"]  # no empty layer column
    # grids carry households; every other required village field is missing
    expected = {"village_code", "name", "township", "county", "sanitary_toilet_households"}
    assert set(table["字段"]) == expected
    assert set(table["行"]) == {""}


def test_data_page_check_store_and_demo_warning(store, tmp_path, monkeypatch):
    demo = tmp_path / "demo.gpkg"
    shutil.copyfile(store.path, demo)
    GeoPackageStore(demo).write_meta({"synthetic": "true"})
    at = _page_app(demo, monkeypatch)
    assert not at.exception
    assert any("synthetic" in w.value.lower() or "示例" in w.value for w in at.warning)
    at.button(key="data_check_run").click()
    at.run()
    assert not at.exception
    assert at.success  # the small store is clean


def test_progress_is_reported_in_order(store, tmp_path):
    seen = []
    path = write_geojson(grids_frame(2), tmp_path / "g.geojson")
    import_file(path, layer="grids", store=store, progress=lambda share, text: seen.append(share))
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 4


def test_import_creates_a_new_store(tmp_path):
    path = write_geojson(grids_frame(2), tmp_path / "g.geojson")
    new = GeoPackageStore(tmp_path / "new" / "city.gpkg")
    report = import_file(path, layer="grids", store=new, mode="append")
    assert report.rows_in_layer == 2 and new.read("grids")["grid_code"].tolist() == ["G001", "G002"]


def test_offset_option_refused_for_projected_file(store, tmp_path):
    path = tmp_path / "metric.gpkg"
    pyogrio.write_dataframe(grids_frame(1).to_crs("EPSG:4546"), path, layer="grids")
    refused(path, store, "--coords gcj02 applies to longitude/latitude data", coords="gcj02")
    refused(path, store, "coords must be one of wgs84, gcj02, bd09", coords="wgs")
    refused(path, store, "mode must be 'replace' or 'append'", mode="merge")


def test_gbk_geojson_is_decoded(store, tmp_path):
    path = tmp_path / "gbk.geojson"
    path.write_bytes(grids_frame(1).to_json(ensure_ascii=False).encode("gbk"))
    report = import_file(path, layer="grids", store=store)
    assert report.encoding == "gb18030"
    assert store.read("grids")["community"].iloc[0] == "五堰社区"


def test_cgcs2000_taken_as_wgs84(store, tmp_path):
    path = tmp_path / "cgcs2000.gpkg"
    pyogrio.write_dataframe(grids_frame(1).set_crs("EPSG:4490", allow_override=True), path)
    report = import_file(path, layer="grids", store=store)
    assert any("EPSG:4490" in c and "taken as EPSG:4326" in c for c in report.conversions)
    assert store.read("grids").geometry.iloc[0].bounds == pytest.approx(grids_frame(1).total_bounds)


def test_codes_keep_leading_zeros(store, tmp_path):
    table = points_table()
    table["中心编号"] = ["001", "002", "010"]
    path = tmp_path / "c.csv"
    table.to_csv(path, index=False)
    import_file(path, layer="neighborhood_centers", store=store)
    assert store.read("neighborhood_centers")["center_id"].tolist() == ["001", "002", "010"]
    xlsx = tmp_path / "c.xlsx"
    table.to_excel(xlsx, index=False)
    import_file(xlsx, layer="neighborhood_centers", store=store)
    assert store.read("neighborhood_centers")["center_id"].tolist() == ["001", "002", "010"]


def test_projected_with_zone_prefix_suggests_zone_crs(store, tmp_path):
    table = points_table()
    # CGCS2000 3-degree zone 37 (central meridian 111E) with the zone number before the easting
    table["经度"], table["纬度"] = [37498000.0, 37498500.0, 37499000.0], [3610000.0] * 3
    path = tmp_path / "zone.csv"
    table.to_csv(path, index=False)
    err = refused(
        path, store, "zone number 37 in front: that is EPSG:4525", layer="neighborhood_centers"
    )
    assert "3-degree Gauss-Kruger zone 37" in str(err) and "--crs EPSG:4525" in str(err)
    assert (
        import_file(path, layer="neighborhood_centers", store=store, source_crs="EPSG:4525").rows
        == 3
    )


def test_bare_shapefile_and_zip_with_several_shapefiles(store, tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    with warnings.catch_warnings():  # long field names are cut to 10 characters
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(grids_frame(2, start=30), folder / "grids.shp", encoding="UTF-8")
        pyogrio.write_dataframe(
            small_layers()["shelters"], folder / "shelters.shp", encoding="UTF-8"
        )
    assert import_file(folder / "grids.shp", layer="grids", store=store).rows == 2
    both = zip_folder(folder, tmp_path / "both.zip")
    assert import_file(both, layer="shelters", store=store).rows == 2
    assert store.read("shelters")["effective_area_m2"].tolist() == [5000.0, 20000.0]
    refused(
        both,
        store,
        r"several shapefiles \(.*\); name the one to import villages.shp",
        layer="villages",
    )


def test_offset_import_leaves_points_outside_china_and_warns(store, tmp_path):
    """--coords gcj02 with a point in London: London unchanged, a warning names its row."""
    from geo.settings import load_profile

    table = points_table()
    table.loc[2, ["经度", "纬度"]] = [-0.1276, 51.5072]
    path = tmp_path / "mixed.csv"
    table.to_csv(path, index=False)
    wide = load_profile().with_overrides(city={"bbox": [-10, 0, 140, 60]})
    report = import_file(
        path, layer="neighborhood_centers", store=store, coords="gcj02", profile=wide
    )
    assert any("1 row(s) lie outside China (rows 3)" in w for w in report.warnings)
    assert any("-> WGS84: 2 row(s)" in c for c in report.conversions)
    london = store.read("neighborhood_centers").geometry.iloc[2]
    assert (london.x, london.y) == (-0.1276, 51.5072)
    # with the Shiyan profile the point is refused, and the message says why it was not shifted
    refused(
        path,
        store,
        r"(?s)outside Shiyan.*rows 3.*outside China",
        layer="neighborhood_centers",
        coords="gcj02",
    )
