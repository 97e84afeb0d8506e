"""Coordinate reference systems: checks at the boundary, metric projection, China's offsets.

Every distance, area and buffer in ``geo/`` is computed in the city's metric CRS
(EPSG:4546 for Shiyan). Frames are stored in the profile's ``city.storage_crs`` and drawn on
the web map in lon/lat (:data:`LONLAT_CRS`).

GCJ-02 (Amap/Gaode, Tencent) and BD-09 (Baidu) are obfuscated datums that PROJ does not
know; the published conversion formulas are implemented here, vectorised with numpy. The
inverse of GCJ-02 has no closed form and is solved by fixed-point iteration to < 1 cm. As in
the published reference implementations, points outside China's bounding box
(:data:`CHINA_BBOX`) have no offset and are left unchanged.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

LONLAT_CRS = "EPSG:4326"
"""Longitude/latitude on WGS 84: what the web map draws (Leaflet takes lon/lat), what GPS and
phones report and what lon/lat columns and GeoJSON files mean. Not the storage CRS, which the
city profile names (``profile.city.storage_crs``, read by :func:`data.store.storage_crs`); for
Shiyan the two happen to be the same code."""


class CRSError(ValueError):
    """A frame has no CRS, the wrong kind of CRS, or CRSs that do not match."""


def require_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, name: str = "frame") -> CRS:
    """Return the frame's CRS or raise :class:`CRSError` if it has none."""
    if frame.crs is None:
        raise CRSError(f"{name} has no CRS; set it with .set_crs() before analysis")
    return frame.crs


def require_projected(frame: gpd.GeoDataFrame | gpd.GeoSeries, name: str = "frame") -> CRS:
    """Refuse a frame in a geographic CRS: distances in degrees are meaningless."""
    crs = require_crs(frame, name)
    if not crs.is_projected:
        raise CRSError(
            f"{name} is in a geographic CRS ({crs.to_string()}); distances would be in degrees. "
            "Project it first with geo.crs.to_metric(frame, metric_crs)."
        )
    return crs


def to_metric(frame, metric_crs: str | int | CRS = "EPSG:4546", name: str = "frame"):
    """Project `frame` to `metric_crs` (no copy when it is already there)."""
    crs = require_crs(frame, name)
    target = CRS.from_user_input(metric_crs)
    if not target.is_projected:
        raise CRSError(f"metric CRS {target.to_string()} is not projected")
    return frame if crs.equals(target) else frame.to_crs(target)


def same_crs(*frames, names: tuple[str, ...] | None = None) -> CRS:
    """Check that all frames share one projected CRS and return it."""
    names = names or tuple(f"input {i + 1}" for i in range(len(frames)))
    crss = [require_projected(f, n) for f, n in zip(frames, names, strict=True)]
    first = crss[0]
    for crs, n in zip(crss[1:], names[1:], strict=True):
        if not crs.equals(first):
            raise CRSError(f"{n} is in {crs.to_string()}, but {names[0]} is in {first.to_string()}")
    return first


# --------------------------------------------------------------------------- GCJ-02 / BD-09
_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formulas
_EE = 0.00669342162296594323  # its first eccentricity squared
_BD_FACTOR = np.pi * 3000.0 / 180.0
#: lon/lat box outside which GCJ-02 applies no offset (west, south, east, north), the box of
#: the published reference implementations (``out_of_china``).
CHINA_BBOX = (73.66, 0.8293, 137.8347, 55.8271)


def outside_china(lon, lat) -> np.ndarray:
    """Whether each lon/lat point lies outside :data:`CHINA_BBOX` (no GCJ-02/BD-09 offset).

    >>> outside_china([-0.1276, 110.79], [51.5072, 32.63]).tolist()
    [True, False]
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    west, south, east, north = CHINA_BBOX
    return ~((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))


def _inside_only(func):
    """Wrap a conversion so that points outside China come back unchanged."""

    def convert(lon, lat) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        x, y = func(lon, lat)
        outside = outside_china(lon, lat)
        # [()] gives a scalar back for scalar input, as the formulas do
        return np.where(outside, lon, x)[()], np.where(outside, lat, y)[()]

    convert.__name__, convert.__doc__ = func.__name__, func.__doc__
    return convert


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


@_inside_only
def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> GCJ-02 (arrays or scalars, degrees); points outside China unchanged."""
    return _wgs84_to_gcj02(lon, lat)


@_inside_only
def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 -> WGS84 by fixed-point iteration (error < 1e-9 degrees, about 0.1 mm); points
    outside China unchanged."""
    return _gcj02_to_wgs84(lon, lat)


def _gcj02_to_wgs84(
    lon, lat, *, tol: float = 1e-9, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    glon, glat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        clon, clat = _wgs84_to_gcj02(wlon, wlat)
        elon, elat = clon - glon, clat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tol) and np.all(np.abs(elat) < tol):
            break
    return wlon, wlat


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 -> BD-09."""
    x, y = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_FACTOR)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_FACTOR)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 -> GCJ-02."""
    x, y = np.asarray(lon, float) - 0.0065, np.asarray(lat, float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_FACTOR)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_FACTOR)
    return z * np.cos(theta), z * np.sin(theta)


@_inside_only
def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 -> WGS84; points outside China unchanged."""
    return _gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


@_inside_only
def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> BD-09; points outside China unchanged."""
    return gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))


_CONVERTERS = {
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("bd09", "wgs84"): bd09_to_wgs84,
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
}


def convert_geometries(geoms, source: str, target: str = "wgs84"):
    """Convert shapely geometries (lon/lat) between ``wgs84``, ``gcj02`` and ``bd09``.

    Works on any geometry type, vectorised over all coordinates.
    """
    if source == target:
        return geoms
    try:
        func = _CONVERTERS[(source, target)]
    except KeyError:
        raise CRSError(f"cannot convert {source} to {target}") from None

    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms), apply)


def convert_frame(frame: gpd.GeoDataFrame, source: str, target: str = "wgs84") -> gpd.GeoDataFrame:
    """Copy of a lon/lat frame with geometries converted from `source` to `target` offsets."""
    crs = require_crs(frame)
    if crs.is_projected:
        raise CRSError("GCJ-02/BD-09 conversion works on longitude/latitude data only")
    out = frame.copy()
    out.geometry = gpd.GeoSeries(
        convert_geometries(frame.geometry.values, source, target), index=frame.index, crs=crs
    )
    return out
