"""geo/crs.py: CRS checks at the boundary, metric projection, GCJ-02 / BD-09 conversions.

Published point pairs (inputs and outputs copied as numbers from the libraries' own tests):

* googollee/eviltransform, python test suite (``TESTS``: wgsLat, wgsLng, gcjLat, gcjLng):
  Shanghai, Shenzhen and Beijing, WGS84 -> GCJ-02.
* wandergis/coordtransform, ``test/app.js`` (also used by hutool's CoordinateUtilTest):
  the point (116.404, 39.915) through bd09->gcj02, gcj02->bd09, wgs84->gcj02 and gcj02->wgs84.
  Its gcj02->wgs84 is the one-step approximation, so we compare within 0.2 m.
* hujiulong/gcoord, ``test/unit/crs/GCJ02.spec.js`` and ``BD09.spec.js``: (123, 45) through
  GCJ-02 -> WGS84, GCJ-02 -> BD-09, BD-09 -> GCJ-02 and BD-09 -> WGS84, 5 decimals
  (``toBeCloseTo(x, 5)``: |error| < 5e-6 degrees).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon

from geo.crs import (
    CRSError,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_frame,
    convert_geometries,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    outside_china,
    require_crs,
    require_projected,
    same_crs,
    to_metric,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

EVILTRANSFORM_WGS_GCJ = [
    # wgs lon, wgs lat, gcj lon, gcj lat
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Distance in metres between lon/lat points (measured in EPSG:4546-like local metres)."""
    a = gpd.GeoSeries(gpd.points_from_xy(np.atleast_1d(lon1), np.atleast_1d(lat1)), crs=4326)
    b = gpd.GeoSeries(gpd.points_from_xy(np.atleast_1d(lon2), np.atleast_1d(lat2)), crs=4326)
    utm = a.estimate_utm_crs()
    return a.to_crs(utm).distance(b.to_crs(utm)).to_numpy()


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_published_pairs(wlon, wlat, glon, glat):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_published_pairs(wlon, wlat, glon, glat):
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat)[0] < 0.01


def test_coordtransform_reference_point():
    # wandergis/coordtransform test/app.js results for (116.404, 39.915)
    assert bd09_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.39762729119315, 39.90865673957631), abs=1e-12
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-12
    )
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    lon, lat = gcj02_to_wgs84(116.404, 39.915)  # ours is exact, theirs one-step: < 0.2 m apart
    assert metres(lon, lat, 116.39775550083061, 39.91359571849836)[0] < 0.2


def test_gcoord_reference_point():
    # hujiulong/gcoord unit tests for (123, 45), 5 decimals
    assert gcj02_to_wgs84(123, 45) == pytest.approx((122.99395597, 44.99804071), abs=5e-6)
    assert gcj02_to_bd09(123, 45) == pytest.approx((123.00636499, 45.00636899), abs=5e-6)
    assert bd09_to_gcj02(123, 45) == pytest.approx((122.99363304, 44.99365430), abs=5e-6)
    assert bd09_to_wgs84(123, 45) == pytest.approx((122.98762210, 44.99171540), abs=5e-6)


def test_offset_at_shiyan_matches_standards_note():
    # STANDARDS.md: at Shiyan GCJ-02 is about 500 m east and 240 m south of WGS84
    lon, lat = wgs84_to_gcj02(110.79, 32.63)
    east = metres(110.79, 32.63, lon, 32.63)[0]
    south = metres(110.79, 32.63, 110.79, lat)[0]
    assert lon > 110.79 and lat < 32.63
    assert 400 < east < 600 and 150 < south < 330


@pytest.fixture
def shiyan_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.uniform(109.4, 111.6, 500), rng.uniform(31.5, 33.3, 500)


@pytest.mark.parametrize(
    ("forward", "backward"), [(wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)]
)
def test_round_trips_within_a_metre(shiyan_points, forward, backward):
    lon, lat = shiyan_points
    shifted = forward(lon, lat)
    assert metres(*shifted, lon, lat).min() > 100  # the offset is real
    back = backward(*shifted)
    assert metres(*back, lon, lat).max() < 1.0


def test_bd09_gcj02_round_trip(shiyan_points):
    lon, lat = shiyan_points
    assert metres(*bd09_to_gcj02(*gcj02_to_bd09(lon, lat)), lon, lat).max() < 1.0


def test_convert_frame_keeps_index_attributes_and_types():
    frame = gpd.GeoDataFrame(
        {"name": ["a", "b", "c", "d"]},
        geometry=[
            Point(110.79, 32.63),
            Polygon([(110.7, 32.6), (110.71, 32.6), (110.71, 32.61)]),
            LineString([(110.7, 32.6), (110.8, 32.7)]),
            None,
        ],
        index=[10, 20, 30, 40],
        crs=4326,
    )
    out = convert_frame(frame, "gcj02", "wgs84")
    assert list(out.index) == [10, 20, 30, 40]
    assert list(out["name"]) == list(frame["name"])
    assert out.geom_type.tolist()[:3] == ["Point", "Polygon", "LineString"]
    assert out.geometry.iloc[3] is None
    expected = gcj02_to_wgs84(110.79, 32.63)
    assert (out.geometry.iloc[0].x, out.geometry.iloc[0].y) == pytest.approx(expected)
    assert frame.geometry.iloc[0].x == 110.79  # input untouched


def test_convert_errors():
    frame = gpd.GeoDataFrame(geometry=[Point(500000, 3600000)], crs="EPSG:4546")
    with pytest.raises(CRSError, match="longitude/latitude"):
        convert_frame(frame, "gcj02")
    with pytest.raises(CRSError, match="cannot convert gcj02 to bd09"):
        convert_geometries(np.array([Point(110, 32)]), "gcj02", "bd09")
    same = np.array([Point(110, 32)])
    assert convert_geometries(same, "wgs84", "wgs84") is same


def test_require_crs_and_projected():
    bare = gpd.GeoDataFrame(geometry=[Point(0, 0)])
    with pytest.raises(CRSError, match="grids has no CRS"):
        require_crs(bare, "grids")
    lonlat = gpd.GeoDataFrame(geometry=[Point(110.79, 32.63)], crs=4326)
    with pytest.raises(CRSError, match="geographic CRS"):
        require_projected(lonlat, "shelters")
    assert require_projected(to_metric(lonlat)).to_epsg() == 4546


def test_to_metric_projects_and_refuses_geographic_target():
    lonlat = gpd.GeoDataFrame(geometry=[Point(111.0, 32.63)], crs=4326)
    metric = to_metric(lonlat, "EPSG:4546")
    # EPSG:4546 has its central meridian at 111E with a 500 km false easting
    assert metric.geometry.iloc[0].x == pytest.approx(500000.0, abs=0.01)
    assert to_metric(metric, "EPSG:4546") is metric
    with pytest.raises(CRSError, match="not projected"):
        to_metric(lonlat, "EPSG:4490")


def test_same_crs():
    a = gpd.GeoDataFrame(geometry=[Point(500000, 3600000)], crs="EPSG:4546")
    b = gpd.GeoDataFrame(geometry=[Point(500000, 3600000)], crs="EPSG:32649")
    assert same_crs(a, a.copy()).to_epsg() == 4546
    with pytest.raises(CRSError, match="centers is in EPSG:32649, but grids is in EPSG:4546"):
        same_crs(a, b, names=("grids", "centers"))


LONDON = (-0.1276, 51.5072)
SYDNEY = (151.2093, -33.8688)


@pytest.mark.parametrize(
    "func", [wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84], ids=lambda f: f.__name__
)
def test_points_outside_china_unchanged(func):
    """As in the reference implementations (coordtransform's out_of_china): no offset abroad."""
    lon, lat = func(
        np.array([LONDON[0], SYDNEY[0], 110.79]), np.array([LONDON[1], SYDNEY[1], 32.63])
    )
    assert lon[:2].tolist() == [LONDON[0], SYDNEY[0]]
    assert lat[:2].tolist() == [LONDON[1], SYDNEY[1]]
    assert abs(lon[2] - 110.79) > 1e-4  # Shiyan still shifted


def test_outside_china_box():
    assert outside_china(
        [LONDON[0], 110.79, 73.0, 136.0], [LONDON[1], 32.63, 40.0, 20.0]
    ).tolist() == [
        True,
        False,
        True,
        False,
    ]


def test_lonlat_and_storage_crs_are_named_once(tmp_path, monkeypatch):
    """The EPSG:4326 code is written in one place (geo.crs.LONLAT_CRS, the web map's and GPS's
    lon/lat); the storage CRS comes from the city profile."""
    from pathlib import Path

    from data.store import GeoPackageStore, storage_crs
    from geo.settings import DEFAULT_PROFILE, load_profile

    root = Path(__file__).resolve().parent.parent
    literal = '"EPSG:' + '4326"'
    found = [
        str(p.relative_to(root))
        for folder in ("geo", "data", "layers", "maps", "field", "ui", "reports", "commands")
        for p in (root / folder).rglob("*.py")
        if literal in p.read_text(encoding="utf-8")
    ]
    assert found == ["geo/crs.py"]
    assert storage_crs() == load_profile().city.storage_crs
    # another city storing in CGCS2000 lon/lat: the store writes and reads in it
    text = DEFAULT_PROFILE.read_text(encoding="utf-8").replace(
        'storage_crs = "EPSG:4326"', 'storage_crs = "EPSG:4490"'
    )
    other = tmp_path / "other.toml"
    other.write_text(text, encoding="utf-8")
    monkeypatch.setenv("GRIDMAP_PROFILE", str(other))
    store = GeoPackageStore(tmp_path / "s.gpkg")
    pts = gpd.GeoDataFrame(
        {"residents": [5]}, geometry=[Point(110.79, 32.63)], crs="EPSG:4326"
    ).to_crs(4546)
    store.write({"population": pts})
    assert store.read("population").crs.to_epsg() == 4490
    assert store.read("shelters").crs.to_epsg() == 4490  # a missing layer, empty
