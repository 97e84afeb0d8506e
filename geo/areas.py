"""Which grid, community, street and district each point lies in (vectorised point-in-polygon).

Points are matched to polygons with one :class:`shapely.STRtree` query per polygon layer
(``predicate="intersects"``, so a point on a shared edge counts; it is given to the first
polygon in the layer's order). Codes missing after the spatial join are filled from the
hierarchy: a grid's ``community_code``, a community's ``parent_code`` (its street) and a
street's ``parent_code`` (its district).

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box, points
>>> grids = gpd.GeoDataFrame({"grid_code": ["g1", "g2"], "community_code": ["c1", "c1"]},
...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4546")
>>> population = gpd.GeoDataFrame(geometry=points([(50, 50), (150, 50), (500, 500)]),
...     crs="EPSG:4546")
>>> assign_areas(population, grids=grids)["grid_code"].tolist()
['g1', 'g2', None]
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_projected, same_crs

LEVELS: tuple[str, ...] = ("grid", "community", "street", "district")
"""Area levels from the finest to the coarsest; each adds ``<level>_code`` and ``<level>_name``."""

LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "grid": ("网格", "Grid"),
    "community": ("社区", "Community"),
    "street": ("街道/乡镇", "Street"),
    "district": ("区县", "District"),
}

POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
"""Geometry type ids of polygons and multipolygons (for ``shapely.get_type_id``)."""
MULTIPART = (
    shapely.GeometryType.MULTIPOINT,
    shapely.GeometryType.MULTILINESTRING,
    shapely.GeometryType.MULTIPOLYGON,
    shapely.GeometryType.GEOMETRYCOLLECTION,
)
"""Geometry type ids of multi-part geometries."""


def point_geometries(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Points standing for each feature: the point itself, or a polygon's representative point."""
    geoms = frame.geometry.values
    arr = np.asarray(geoms)
    if len(arr) == 0:
        return arr
    kinds = shapely.get_type_id(arr)
    if np.all(kinds == shapely.GeometryType.POINT):
        return arr
    return np.where(kinds == shapely.GeometryType.POINT, arr, shapely.point_on_surface(arr))


def coordinates(frame: gpd.GeoDataFrame) -> np.ndarray:
    """An ``(n, 2)`` array of x/y for each feature (representative points for polygons)."""
    pts = point_geometries(frame)
    if len(pts) == 0:
        return np.empty((0, 2))
    return np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])


def _locate_points(pts: np.ndarray, polygons: gpd.GeoDataFrame) -> np.ndarray:
    out = np.full(len(pts), -1, dtype=np.int64)
    if len(pts) == 0 or len(polygons) == 0:
        return out
    polys = np.asarray(polygons.geometry.values)
    valid = ~(shapely.is_missing(polys) | shapely.is_empty(polys))
    tree = shapely.STRtree(np.where(valid, polys, None))
    pt_idx, poly_idx = tree.query(pts, predicate="intersects")
    if len(pt_idx):
        order = np.lexsort((poly_idx, pt_idx))
        pt_idx, poly_idx = pt_idx[order], poly_idx[order]
        first = np.r_[True, pt_idx[1:] != pt_idx[:-1]]
        out[pt_idx[first]] = poly_idx[first]
    return out


def locate(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Position (0-based, in `polygons`) of the polygon each point lies in, or -1.

    A point on an edge shared by two polygons is given to the first of them.
    """
    same_crs(points, polygons, names=("points", "polygons"))
    return _locate_points(point_geometries(points), polygons)


def _text(frame: pd.DataFrame | None, column: str, n: int) -> np.ndarray:
    """Column as an object array with None for missing (all None if absent)."""
    if frame is None or column not in frame.columns:
        return np.full(n, None, dtype=object)
    values = frame[column]
    arr = np.array(values.to_numpy(dtype=object, na_value=None), dtype=object, copy=True)
    blank = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
    arr[blank] = None
    return arr


def _take(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``values`` at ``positions`` with None where the position is -1."""
    arr = np.append(np.asarray(values, dtype=object), None)
    return arr[np.where(positions >= 0, positions, len(arr) - 1)]


def _missing(codes: np.ndarray) -> np.ndarray:
    return pd.isna(pd.Series(codes, dtype=object)).to_numpy()


def _fill_spatially(
    codes: np.ndarray, pts: np.ndarray, table: gpd.GeoDataFrame | None
) -> np.ndarray:
    """Fill missing codes with the code of the `table` polygon holding each point."""
    if table is None or len(table) == 0:
        return codes
    miss = np.flatnonzero(_missing(codes))
    if len(miss):
        codes = codes.copy()
        codes[miss] = _take(_text(table, "code", len(table)), _locate_points(pts[miss], table))
    return codes


def _lookup(codes: np.ndarray, table: gpd.GeoDataFrame | None, column: str) -> np.ndarray:
    """Map admin codes to another column of `table` (e.g. parent_code or name)."""
    if table is None or len(table) == 0 or column not in table.columns:
        return np.full(len(codes), None, dtype=object)
    index = pd.Index(_text(table, "code", len(table)))
    # factorise first: the lookup then runs on the few distinct codes only
    which, uniques = pd.factorize(pd.Series(codes, dtype=object), use_na_sentinel=True)
    values = _take(
        _text(table, column, len(table)), index.get_indexer(uniques.to_numpy(dtype=object))
    )
    return _take(values, which)


def _parent_codes(
    codes: np.ndarray,
    pts: np.ndarray,
    table: gpd.GeoDataFrame | None,
    parents: gpd.GeoDataFrame | None,
) -> np.ndarray:
    """Parent code of each code by ``table.parent_code``; by location in `parents` otherwise."""
    return _fill_spatially(_lookup(codes, table, "parent_code"), pts, parents)


def assign_areas(
    points: gpd.GeoDataFrame,
    *,
    grids: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Copy of `points` with ``grid_code``, ``community_code``, ``street_code``, ``district_code``
    and the matching ``*_name`` columns (None where a point lies in no area).

    A point takes the grid it lies in; the community is the grid's ``community_code`` (or the
    community holding the grid), the street the community's ``parent_code`` and the district the
    street's ``parent_code``. Where a link is missing, the point is located in the admin polygons.

    Parameters
    ----------
    points
        Points (or polygons, matched by their representative point), projected CRS.
    grids
        Grid polygons with ``grid_code``, ``grid_name``, optionally ``community_code``.
    communities, streets, districts
        Admin polygons with ``code``, ``name``, ``parent_code``.

    Returns
    -------
    GeoDataFrame
        Same index, CRS and columns as `points`, plus the area columns.
    """
    require_projected(points, "points")
    for name, table in (
        ("grids", grids),
        ("communities", communities),
        ("streets", streets),
        ("districts", districts),
    ):
        if table is not None and len(table):
            same_crs(points, table, names=("points", name))
    out = points.copy()
    n = len(points)
    pts = point_geometries(points)

    grid_pos = np.full(n, -1, dtype=np.int64)
    grid_code = grid_name = comm = np.full(n, None, dtype=object)
    if grids is not None and len(grids):
        grid_pos = _locate_points(pts, grids)
        grid_code = _take(_text(grids, "grid_code", len(grids)), grid_pos)
        grid_name = _take(_text(grids, "grid_name", len(grids)), grid_pos)
        grid_comm = _fill_spatially(
            _text(grids, "community_code", len(grids)), point_geometries(grids), communities
        )
        comm = _take(grid_comm, grid_pos)
    comm = _fill_spatially(comm, pts, communities)
    street = _parent_codes(comm, pts, communities, streets)
    district = _parent_codes(street, pts, streets, districts)

    columns = {
        "grid_code": grid_code,
        "grid_name": grid_name,
        "community_code": comm,
        "community_name": _lookup(comm, communities, "name"),
        "street_code": street,
        "street_name": _lookup(street, streets, "name"),
        "district_code": district,
        "district_name": _lookup(district, districts, "name"),
    }
    for name, values in columns.items():
        # object dtype: no conversion to Arrow strings for hundreds of thousands of points
        out[name] = pd.Series(values, index=out.index, dtype=object)
    return out


def area_names(frame: pd.DataFrame, level: str) -> pd.Series:
    """``<level>_code -> <level>_name`` from a located frame (first name seen per code)."""
    code, name = f"{level}_code", f"{level}_name"
    if code not in frame.columns or name not in frame.columns:
        return pd.Series(dtype=object)
    which, uniques = pd.factorize(frame[code], use_na_sentinel=True)
    seen = which >= 0
    _, first = np.unique(which[seen], return_index=True)
    rows = np.flatnonzero(seen)[first]
    names = frame[name].iloc[rows].to_numpy(dtype=object)
    return pd.Series(names, index=pd.Index(uniques.to_numpy(dtype=object)), name=name)
