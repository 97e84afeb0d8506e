"""Which grid, community, street and district each point lies in (vectorised point-in-polygon).

Points are matched to polygons with one :class:`shapely.STRtree` query per polygon layer
(``predicate="intersects"``, so a point on a shared edge counts; it is given to the first
polygon in the layer's order). Codes missing after the spatial join are filled from the
hierarchy: a grid's ``community_code``, a community's ``parent_code`` (its street) and a
street's ``parent_code`` (its district).

Examples
--------
>>> located = assign_areas(population, grids=grids, communities=communities)  # doctest: +SKIP
>>> located[["grid_code", "community_code", "street_code", "district_code"]]  # doctest: +SKIP
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


def point_geometries(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Points standing for each feature: the point itself, or a polygon's representative point."""
    geoms = frame.geometry.values
    arr = np.asarray(geoms)
    if len(arr) == 0:
        return arr
    kinds = shapely.get_type_id(arr)
    if np.all(kinds == 0):
        return arr
    return np.where(kinds == 0, arr, shapely.point_on_surface(arr))


def coordinates(frame: gpd.GeoDataFrame) -> np.ndarray:
    """An ``(n, 2)`` array of x/y for each feature (representative points for polygons)."""
    pts = point_geometries(frame)
    if len(pts) == 0:
        return np.empty((0, 2))
    return np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])


def locate(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Position (0-based, in `polygons`) of the polygon each point lies in, or -1.

    A point on an edge shared by two polygons is given to the first of them.
    """
    same_crs(points, polygons, names=("points", "polygons"))
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0 or len(polygons) == 0:
        return out
    polys = np.asarray(polygons.geometry.values)
    valid = ~(shapely.is_missing(polys) | shapely.is_empty(polys))
    tree = shapely.STRtree(np.where(valid, polys, None))
    pt_idx, poly_idx = tree.query(point_geometries(points), predicate="intersects")
    if len(pt_idx):
        order = np.lexsort((poly_idx, pt_idx))
        pt_idx, poly_idx = pt_idx[order], poly_idx[order]
        first = np.r_[True, pt_idx[1:] != pt_idx[:-1]]
        out[pt_idx[first]] = poly_idx[first]
    return out


def _take(values: pd.Series, positions: np.ndarray) -> np.ndarray:
    """``values`` at ``positions`` with None where the position is -1."""
    arr = np.asarray(values.astype(object).where(values.notna(), None).to_numpy(), dtype=object)
    arr = np.append(arr, None)
    return arr[np.where(positions >= 0, positions, len(arr) - 1)]


def _lookup(codes: np.ndarray, table: gpd.GeoDataFrame | None, column: str) -> np.ndarray:
    """Map admin codes to another column of `table` (e.g. parent_code or name)."""
    if table is None or len(table) == 0 or column not in table.columns:
        return np.full(len(codes), None, dtype=object)
    mapping = pd.Series(
        table[column].astype(object).to_numpy(), index=table["code"].astype(object).to_numpy()
    )
    mapping = mapping[~mapping.index.duplicated()]
    found = pd.Series(codes, dtype=object).map(mapping)
    return found.astype(object).where(found.notna(), None).to_numpy()


def _fill(primary: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    missing = pd.isna(pd.Series(primary, dtype=object)).to_numpy()
    return np.where(missing, fallback, primary)


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
    out = points.copy()
    n = len(points)
    none = np.full(n, None, dtype=object)

    grid_code = grid_name = grid_comm = none
    if grids is not None and len(grids):
        pos = locate(points, grids)
        grid_code = _take(grids["grid_code"], pos)
        grid_name = _take(grids["grid_name"], pos) if "grid_name" in grids else none
        if "community_code" in grids:
            grid_comm = _take(grids["community_code"], pos)

    def admin(table: gpd.GeoDataFrame | None) -> np.ndarray:
        if table is None or len(table) == 0:
            return none
        return _take(table["code"], locate(points, table))

    comm = _fill(admin(communities), grid_comm)
    street = _fill(admin(streets), _lookup(comm, communities, "parent_code"))
    district = _fill(admin(districts), _lookup(street, streets, "parent_code"))

    out["grid_code"] = grid_code
    out["grid_name"] = grid_name
    out["community_code"] = comm
    out["community_name"] = _lookup(comm, communities, "name")
    out["street_code"] = street
    out["street_name"] = _lookup(street, streets, "name")
    out["district_code"] = district
    out["district_name"] = _lookup(district, districts, "name")
    for col in [f"{level}_{part}" for level in LEVELS for part in ("code", "name")]:
        out[col] = out[col].astype(object)
    return out


def area_names(frame: pd.DataFrame, level: str) -> pd.Series:
    """``<level>_code -> <level>_name`` from a located frame (first name seen per code)."""
    code, name = f"{level}_code", f"{level}_name"
    if code not in frame.columns or name not in frame.columns:
        return pd.Series(dtype=object)
    pairs = frame[[code, name]].dropna(subset=[code]).drop_duplicates(subset=[code])
    return pd.Series(pairs[name].to_numpy(), index=pairs[code].to_numpy(), name=name)
