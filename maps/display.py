"""Display preparation: what the browser is sent, and how values read on screen.

Pure functions (no Streamlit): topology-preserving simplification of polygon coverages in the
metric CRS, coordinate rounding, field selection and readable values (category labels, masked
phone numbers), classed breaks, point aggregation, nearest features with compass directions.
Everything returns new frames; inputs are never changed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo.areas import locate
from geo.crs import LONLAT_CRS, convert_frame, require_crs
from geo.settings import load_profile
from layers import LAYERS, searchable_layers
from layers.schema import mask_phone

DISPLAY_CRS = LONLAT_CRS  # the web map draws lon/lat (not the storage CRS: geo.crs)


def category_labels(
    layer: str | None, field: str, kinds: Mapping | None = None
) -> dict[str, tuple[str, str]] | None:
    """(zh, en) label of each value of `field` if it is `layer`'s category field, else None.

    For the generic facility layer the categories are the profile's kinds (`kinds`, default:
    the active profile's).
    """
    schema = LAYERS.get(layer) if layer else None
    if schema is None or schema.view is None or schema.view.category_field != field:
        return None
    if schema.view.kind_categories and kinds is None:
        kinds = load_profile().facility_kinds
    return {k: (c.label_zh, c.label_en) for k, c in schema.categories(kinds).items()}


class DisplayError(ValueError):
    """A frame cannot be prepared for display (e.g. it has no CRS)."""


# --------------------------------------------------------------------------- geometry
def round_coordinates(geoms: np.ndarray | gpd.GeoSeries, decimals: int) -> np.ndarray:
    """Geometries with every coordinate rounded to `decimals` places.

    Shared vertices stay shared (equal inputs round to equal outputs), so a coverage still tiles.
    """
    values = geoms.values if isinstance(geoms, gpd.GeoSeries) else np.asarray(geoms)
    return shapely.transform(values, lambda xy: np.round(xy, decimals))


def simplify_coverage(
    frame: gpd.GeoDataFrame, *, tolerance_m: float, metric_crs: str
) -> gpd.GeoDataFrame:
    """Simplify polygons in the metric CRS keeping shared edges shared.

    Uses ``shapely.coverage_simplify`` (edges shared by neighbours are simplified once, so
    grids still meet); a layer that is not a clean coverage (overlaps, gaps with slivers) falls
    back to per-polygon topology-preserving simplification. Returns a frame in the input CRS.
    """
    crs = require_crs(frame, "frame")
    if frame.empty or tolerance_m <= 0:
        return frame.copy()
    metric = frame.geometry.to_crs(metric_crs).values
    valid = ~(shapely.is_missing(metric) | shapely.is_empty(metric))
    out = metric.copy()
    polys = metric[valid]
    try:
        simplified = shapely.coverage_simplify(polys, tolerance_m)
        if not shapely.is_valid(simplified).all() or shapely.is_empty(simplified).any():
            raise shapely.errors.GEOSException("coverage simplification gave invalid polygons")
    except shapely.errors.GEOSException:
        simplified = shapely.simplify(polys, tolerance_m, preserve_topology=True)
    out[valid] = simplified
    result = frame.copy()
    result.geometry = gpd.GeoSeries(out, index=frame.index, crs=metric_crs).to_crs(crs)
    return result


def prepare_geometry(
    frame: gpd.GeoDataFrame,
    *,
    decimals: int,
    tolerance_m: float = 0.0,
    metric_crs: str = "EPSG:4546",
) -> gpd.GeoDataFrame:
    """Frame in EPSG:4326, polygons simplified (coverage-aware), lines simplified
    (Douglas-Peucker in the metric CRS, same tolerance), coordinates rounded."""
    require_crs(frame, "frame")
    out = frame.to_crs(DISPLAY_CRS) if not frame.crs.equals(DISPLAY_CRS) else frame.copy()
    if tolerance_m > 0 and not out.empty:
        is_poly = out.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        is_line = out.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
        geoms = out.geometry.values.copy()
        if is_poly.any():
            simplified = simplify_coverage(
                out[is_poly], tolerance_m=tolerance_m, metric_crs=metric_crs
            )
            geoms[is_poly] = simplified.geometry.values
        if is_line.any():
            metric = out.geometry[is_line].to_crs(metric_crs)
            lines = shapely.simplify(np.asarray(metric.values), tolerance_m)
            geoms[is_line] = gpd.GeoSeries(lines, crs=metric_crs).to_crs(DISPLAY_CRS).values
        if is_poly.any() or is_line.any():
            out.geometry = gpd.GeoSeries(geoms, index=out.index, crs=DISPLAY_CRS)
    out.geometry = gpd.GeoSeries(
        round_coordinates(out.geometry.values, decimals), index=out.index, crs=DISPLAY_CRS
    )
    return out


def shift_for_basemap(frame: gpd.GeoDataFrame, offsets: str | None) -> gpd.GeoDataFrame:
    """Shift WGS84 geometries to the basemap's offsets (``"gcj02"`` for Gaode); else unchanged."""
    if not offsets or offsets == "wgs84" or frame.empty:
        return frame
    return convert_frame(frame, "wgs84", offsets)


# --------------------------------------------------------------------------- values
def _is_missing(values: pd.Series) -> np.ndarray:
    return values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()


def format_column(
    values: pd.Series, *, layer: str | None, field: str, lang: str = "zh"
) -> pd.Series:
    """Readable text of one column: category labels, 是/否, thousands separators, masked phones.

    Values are returned as plain (unescaped) text; whoever writes them into HTML escapes them.
    """
    schema = LAYERS.get(layer) if layer else None
    spec = None
    if schema is not None and field in schema.field_names:
        spec = schema.get_field(field)
    missing = _is_missing(values)
    if spec is not None and spec.sensitive:
        text = values.map(mask_phone)
    elif (pairs := category_labels(layer, field)) is not None:
        labels = {k: (zh if lang == "zh" else en) for k, (zh, en) in pairs.items()}
        text = values.map(lambda v: labels.get(v, v))
    elif pd.api.types.is_bool_dtype(values.dtype) or (spec is not None and spec.dtype == "bool"):
        yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
        text = values.map(lambda v: "" if v is None or v is pd.NA else (yes if bool(v) else no))
    elif pd.api.types.is_integer_dtype(values.dtype):
        text = values.map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
    elif pd.api.types.is_float_dtype(values.dtype):
        text = values.map(
            lambda v: "" if pd.isna(v) else f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
        )
    else:
        text = values.astype(object).map(lambda v: "" if v is None else str(v))
    return text.astype(object).where(~missing, "")


def field_labels(layer: str, fields: Iterable[str], lang: str = "zh") -> dict[str, str]:
    """Readable labels of `fields` from the layer schema (the field name if unknown)."""
    schema = LAYERS.get(layer)
    known = schema.field_labels(lang) if schema else {}
    return {f: known.get(f, f) for f in fields}


def display_table(
    frame: pd.DataFrame, *, layer: str | None, fields: Iterable[str], lang: str = "zh"
) -> pd.DataFrame:
    """The `fields` of `frame` (those present) as readable text, columns renamed to labels."""
    present = [f for f in fields if f in frame.columns]
    labels = field_labels(layer, present, lang) if layer else {f: f for f in present}
    data = {labels[f]: format_column(frame[f], layer=layer, field=f, lang=lang) for f in present}
    return pd.DataFrame(data, index=frame.index)


# --------------------------------------------------------------------------- classes and values
def households_per_worker(grids: pd.DataFrame) -> pd.Series:
    """Households a grid's worker looks after, over all grids of that worker in the community.

    NaN where the grid has no worker.
    """
    worker = grids["worker_name"].astype(object).where(~_is_missing(grids["worker_name"]), None)
    households = pd.to_numeric(grids["households"], errors="coerce").astype("float64")
    key = grids["community"].astype(str) + "\x1f" + worker.astype(str)
    total = households.groupby(key).transform("sum")
    return total.where(worker.notna()).rename("households_per_worker")


def area_of(grids: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, metric_crs: str) -> pd.Series:
    """Index label of the area (row of `areas`) each grid belongs to: the rule
    :func:`grids_by_area` sums by and the zoomed-in map fetches grids by.

    The area holding the grid's representative point; for a grid whose point lies in no area,
    the area it overlaps most, else the nearest one, so that no grid is left out of the
    per-area sums or the map. A Series on `grids`' index, NaN only when `areas` is empty.
    """
    require_crs(grids, "grids")
    require_crs(areas, "areas")
    shapes = grids.geometry.to_crs(metric_crs).reset_index(drop=True)
    zones = areas.to_crs(metric_crs).reset_index(drop=True)
    zones = gpd.GeoDataFrame(geometry=zones.geometry.values, crs=metric_crs)
    found = locate(gpd.GeoDataFrame(geometry=shapes.values, crs=metric_crs), zones)
    lost = np.flatnonzero(found < 0)
    if len(lost) and len(zones):
        found[lost] = _most_overlap_or_nearest(shapes.iloc[lost], zones)
    labels = pd.Series(np.nan, index=grids.index, dtype=object)
    hit = found >= 0
    labels.iloc[np.flatnonzero(hit)] = areas.index.to_numpy()[found[hit]]
    return labels.infer_objects().rename("area")


def _most_overlap_or_nearest(shapes: gpd.GeoSeries, zones: gpd.GeoDataFrame) -> np.ndarray:
    """Position in `zones` of the zone each of `shapes` overlaps most, else the nearest one."""
    crs = zones.crs
    frame = gpd.GeoDataFrame(geometry=shapes.values, crs=crs)  # positions 0..n-1
    pairs = gpd.sjoin(frame, zones, how="inner", predicate="intersects")
    out = np.full(len(frame), -1, dtype="int64")
    if len(pairs):
        shared = shapely.area(
            shapely.intersection(
                frame.geometry.values[pairs.index.to_numpy()],
                zones.geometry.values[pairs["index_right"].to_numpy()],
            )
        )
        pairs = pairs.assign(shared=shared)
        pairs = pairs[pairs["shared"] > 0].sort_values("shared", ascending=False, kind="stable")
        best = pairs[~pairs.index.duplicated(keep="first")]
        out[best.index.to_numpy()] = best["index_right"].to_numpy()
    far = np.flatnonzero(out < 0)
    if len(far):
        near = gpd.sjoin_nearest(frame.iloc[far], zones, how="inner")
        near = near[~near.index.duplicated(keep="first")]
        out[near.index.to_numpy()] = near["index_right"].to_numpy()
    return out


VIEW_PX = (1440, 620)
"""Size of the explorer's map on a laptop, pixels: the view :func:`grid_zoom_for` plans for."""


def grid_zoom_for(
    areas: gpd.GeoDataFrame,
    *,
    counts: pd.Series,
    floor: int,
    max_grids: int,
    metric_crs: str,
    view_px: tuple[int, int] = VIEW_PX,
    pad: float = 0.25,
) -> int:
    """The lowest zoom from `floor` up at which a map view holds at most `max_grids` grids.

    The view is `view_px` pixels padded by `pad` of its size on each side (what the map fetches
    for); grids are as dense as in the densest tenth of `areas` (`counts`: grids per area), so
    a city of small, dense grids switches to them one by one only when closer in.
    """
    require_crs(areas, "areas")
    if areas.empty:
        return floor
    km2 = areas.to_crs(metric_crs).area.to_numpy() / 1e6
    density = pd.to_numeric(counts.reindex(areas.index), errors="coerce").to_numpy() / km2
    density = density[np.isfinite(density)]
    if not len(density):
        return floor
    dense = float(np.quantile(density, 0.9))
    lat = float(areas.to_crs(LONLAT_CRS).geometry.union_all().centroid.y)
    scale = (1 + 2 * pad) ** 2 * view_px[0] * view_px[1] * np.cos(np.radians(lat)) ** 2
    zoom = floor
    while zoom < 19:
        metres = 156_543.03 / 2**zoom  # per pixel at the equator (Web Mercator)
        if dense * scale * metres**2 / 1e6 <= max_grids:
            break
        zoom += 1
    return zoom


def grids_by_area(
    grids: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    metric_crs: str,
    area: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Grids summed per area (e.g. community): the areas with ``grids``, ``households``,
    ``residents``, ``workers`` (distinct worker names) and ``households_per_worker``.

    A grid belongs to the area :func:`area_of` gives (the one holding its representative point,
    else the one it overlaps most, else the nearest); areas without grids are left out. Lets a
    map show a city of many thousands of grids as a few hundred areas. `area`: :func:`area_of`
    of the same frames when the caller has it already.
    """
    if area is None:
        area = area_of(grids, areas, metric_crs=metric_crs)
    worker = grids["worker_name"].astype(object).where(~_is_missing(grids["worker_name"]), None)
    frame = pd.DataFrame(
        {
            "area": area,
            "households": pd.to_numeric(grids["households"], errors="coerce"),
            "residents": pd.to_numeric(grids["residents"], errors="coerce"),
            "worker": worker,
        }
    ).dropna(subset=["area"])
    sums = frame.groupby("area").agg(
        grids=("households", "size"),
        households=("households", "sum"),
        residents=("residents", "sum"),
        workers=("worker", "nunique"),
    )
    sums.index = sums.index.astype(areas.index.dtype)
    per = sums["households"] / sums["workers"].where(sums["workers"] > 0)
    out = areas.loc[sums.index].copy()
    for col in ("grids", "households", "residents", "workers"):
        out[col] = sums[col].astype("int64")
    out["households_per_worker"] = per.round(0)
    return out


def classify(
    values: pd.Series, *, k: int = 5, scheme: str = "Quantiles"
) -> tuple[pd.Series, list[float]]:
    """Classed breaks of `values` with mapclassify.

    Returns the class index of each value (``-1`` where missing) and the upper bounds of the
    classes. Fewer distinct values than `k` give fewer classes.
    """
    numeric = pd.to_numeric(values, errors="coerce").astype("float64")
    present = numeric.notna().to_numpy()
    index = pd.Series(-1, index=values.index, dtype="int64")
    if not present.any():
        return index, []
    data = numeric.to_numpy()[present]
    k = int(min(k, len(np.unique(data))))
    if k < 2:
        index[present] = 0
        return index, [float(data.max())]
    with warnings.catch_warnings():  # "not enough unique values": fewer classes is fine
        warnings.simplefilter("ignore", UserWarning)
        classifier = getattr(mapclassify, scheme)(data, k=k)
    index[present] = np.asarray(classifier.yb, dtype="int64")
    return index, [float(b) for b in classifier.bins]


def class_labels(bins: list[float], minimum: float, *, integers: bool = True) -> list[str]:
    """Legend text of classes ending at `bins`: ``["250 – 320", "321 – 410", ...]``.

    With integer data a class starts one above the previous upper bound; a class holding a single
    value is shown as that value.
    """
    step = 1.0 if integers else 0.0
    lows = [minimum, *(b + step for b in bins[:-1])]
    fmt = "{:,.0f}" if integers else "{:,.1f}"
    return [
        fmt.format(hi) if lo >= hi else f"{fmt.format(lo)} – {fmt.format(hi)}"
        for lo, hi in zip(lows, bins, strict=True)
    ]


# --------------------------------------------------------------------------- points
def aggregate_points(
    points: gpd.GeoDataFrame, *, cell_m: float, metric_crs: str, weight: str = "residents"
) -> gpd.GeoDataFrame:
    """Sum `weight` over square cells of `cell_m` metres; one point per cell at the weighted mean.

    Returns EPSG:4326 points with columns `weight` and ``points`` (how many were merged).
    """
    require_crs(points, "points")
    if points.empty:
        return gpd.GeoDataFrame({weight: [], "points": []}, geometry=[], crs=DISPLAY_CRS)
    metric = points.geometry.to_crs(metric_crs)
    x, y = metric.x.to_numpy(), metric.y.to_numpy()
    w = pd.to_numeric(points[weight], errors="coerce").fillna(0).to_numpy(dtype="float64")
    cells = pd.DataFrame(
        {
            "cx": np.floor(x / cell_m).astype("int64"),
            "cy": np.floor(y / cell_m).astype("int64"),
            "w": w,
            "wx": w * x,
            "wy": w * y,
            "x": x,
            "y": y,
            "n": 1,
        }
    )
    agg = cells.groupby(["cx", "cy"], sort=False).sum()
    safe = agg["w"].to_numpy() > 0
    mx = np.where(safe, agg["wx"] / np.where(safe, agg["w"], 1), agg["x"] / agg["n"])
    my = np.where(safe, agg["wy"] / np.where(safe, agg["w"], 1), agg["y"] / agg["n"])
    out = gpd.GeoDataFrame(
        {weight: agg["w"].round().astype("int64").to_numpy(), "points": agg["n"].to_numpy()},
        geometry=gpd.points_from_xy(mx, my, crs=metric_crs),
    )
    return out.to_crs(DISPLAY_CRS)


# --------------------------------------------------------------------------- nearest
DIRECTIONS = {
    "zh": ("北", "东北", "东", "东南", "南", "西南", "西", "西北"),
    "en": ("N", "NE", "E", "SE", "S", "SW", "W", "NW"),
}


def compass(dx: np.ndarray | float, dy: np.ndarray | float, lang: str = "zh") -> np.ndarray:
    """Eight-point compass direction of the vector (dx east, dy north): ``"东北"`` / ``"NE"``."""
    angle = np.degrees(np.arctan2(np.asarray(dx, dtype=float), np.asarray(dy, dtype=float))) % 360
    sector = np.floor((angle + 22.5) / 45).astype(int) % 8
    return np.asarray(DIRECTIONS["zh" if lang == "zh" else "en"], dtype=object)[sector]


def nearest(
    origin: shapely.Geometry,
    features: gpd.GeoDataFrame,
    *,
    metric_crs: str,
    by: str | None = None,
    lang: str = "zh",
) -> pd.DataFrame:
    """The nearest feature to `origin` (lon/lat), overall or per category column `by`.

    Distances are straight-line metres in `metric_crs` (feature points: their position; polygons:
    their representative point). Returns one row per category with the feature's columns plus
    ``distance_m`` and ``direction``.
    """
    require_crs(features, "features")
    if features.empty:
        return pd.DataFrame(columns=[*features.columns.drop("geometry"), "distance_m", "direction"])
    origin_m = gpd.GeoSeries([origin], crs=DISPLAY_CRS).to_crs(metric_crs).iloc[0]
    pts = features.geometry.to_crs(metric_crs)
    pts = gpd.GeoSeries(shapely.point_on_surface(pts.values), index=features.index, crs=metric_crs)
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    groups = features[by].astype(object).to_numpy() if by else np.zeros(len(features), dtype=object)
    rows = []
    for value in pd.unique(groups):
        pos = np.flatnonzero(groups == value)
        dist, idx = cKDTree(xy[pos]).query([origin_m.x, origin_m.y], k=1)
        rows.append(pos[int(idx)])
    rows = np.asarray(rows, dtype=int)
    chosen = features.iloc[rows].drop(columns=features.geometry.name)
    dx = xy[rows, 0] - origin_m.x
    dy = xy[rows, 1] - origin_m.y
    out = pd.DataFrame(chosen)
    out["distance_m"] = np.hypot(dx, dy)
    out["direction"] = compass(dx, dy, lang)
    return out.sort_values("distance_m")


def nearest_links(
    origin: shapely.Geometry,
    features: gpd.GeoDataFrame,
    *,
    metric_crs: str,
    by: str | None = None,
    lang: str = "zh",
) -> gpd.GeoDataFrame:
    """Lines (EPSG:4326) from `origin` to the nearest feature, overall or per `by` category.

    The rows of :func:`nearest` (the feature's columns, ``distance_m``, ``direction``) with a
    straight line from `origin` to the feature's point as geometry, for drawing on a map.
    """
    near = nearest(origin, features, metric_crs=metric_crs, by=by, lang=lang)
    if near.empty:
        return gpd.GeoDataFrame(near, geometry=[], crs=DISPLAY_CRS)
    ends = features.geometry.loc[near.index].to_crs(metric_crs)
    ends = gpd.GeoSeries(shapely.point_on_surface(ends.values), crs=metric_crs).to_crs(DISPLAY_CRS)
    lines = shapely.linestrings([[(origin.x, origin.y), (p.x, p.y)] for p in ends.values])
    return gpd.GeoDataFrame(near, geometry=lines, crs=DISPLAY_CRS)


def describe_distance(distance_m: float, direction: str) -> str:
    """``"东北 620 m"``: direction and distance rounded to 10 m (``"< 10 m"`` when very close)."""
    if distance_m < 10:
        return "< 10 m"
    return f"{direction} {int(round(distance_m / 10.0) * 10):,} m"


def describe_walk(distance_m: float, lang: str = "zh") -> str:
    """``"步行 1.1 km"`` / ``"步行 620 m"`` (10 m steps below 1 km), or that no road leads there."""
    if not np.isfinite(distance_m):
        return "沿道路无法到达" if lang == "zh" else "no walking route along roads"
    word = "步行" if lang == "zh" else "walk"
    if distance_m >= 1000:
        return f"{word} {distance_m / 1000:,.1f} km"
    return f"{word} {int(round(distance_m / 10.0) * 10):,} m"


def within(features: gpd.GeoDataFrame, area: shapely.Geometry) -> gpd.GeoDataFrame:
    """Features whose geometry intersects `area` (both lon/lat; a topological test)."""
    if features.empty:
        return features
    hit = shapely.intersects(features.geometry.values, area)
    return features[hit]


def tag_with_areas(
    features: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, columns: Mapping[str, str]
) -> pd.DataFrame:
    """For each feature, `columns` of the first area containing its representative point.

    ``columns`` maps an area column to the output column name. Rows outside every area get None.
    """
    out = pd.DataFrame(
        {
            new: pd.Series([None] * len(features), index=features.index, dtype=object)
            for new in columns.values()
        }
    )
    if features.empty or areas.empty:
        return out
    geoms = np.asarray(features.geometry.values, dtype=object)
    is_point = shapely.get_type_id(geoms) == 0
    points = geoms.copy()
    points[~is_point] = shapely.point_on_surface(geoms[~is_point])
    # prepared areas against a tree of points: fast for many points and few complex areas
    area_geoms = np.asarray(areas.geometry.values, dtype=object)
    area_idx, feat_idx = shapely.STRtree(points).query(area_geoms, predicate="intersects")
    order = np.lexsort((area_idx, feat_idx))
    first = pd.Series(area_idx[order], index=feat_idx[order]).groupby(level=0).first()
    for src, new in columns.items():
        values = areas[src].astype(object).to_numpy()[first.to_numpy()]
        out.iloc[first.index.to_numpy(), out.columns.get_loc(new)] = values
    return out


# --------------------------------------------------------------------------- admin filters
ADMIN_LEVELS = ("district", "street", "community")


def admin_chain(
    districts: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, communities: gpd.GeoDataFrame
) -> dict[str, pd.DataFrame]:
    """Per admin layer: its areas' (district, street, community) names via parent codes."""
    d_name = dict(zip(districts["code"], districts["name"], strict=False)) if len(districts) else {}
    s_name = dict(zip(streets["code"], streets["name"], strict=False)) if len(streets) else {}
    s_parent = (
        dict(zip(streets["code"], streets["parent_code"], strict=False)) if len(streets) else {}
    )
    out = {}
    if len(communities):
        street_code = communities["parent_code"]
        out["communities"] = pd.DataFrame(
            {
                "district": street_code.map(s_parent).map(d_name),
                "street": street_code.map(s_name),
                "community": communities["name"],
            },
            index=communities.index,
        )
    if len(streets):
        out["streets"] = pd.DataFrame(
            {
                "district": streets["parent_code"].map(d_name),
                "street": streets["name"],
                "community": None,
            },
            index=streets.index,
        )
    if len(districts):
        out["districts"] = pd.DataFrame(
            {"district": districts["name"], "street": None, "community": None},
            index=districts.index,
        )
    return out


def admin_tags(
    features: gpd.GeoDataFrame,
    *,
    grids: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """District, street and community name of each feature, for the explorer's filters.

    Taken from the grid containing the feature, else the admin areas (names through their parent
    codes), else a village's own ``county``/``township`` fields. Missing levels are None.
    """
    out = pd.DataFrame(
        {
            c: pd.Series([None] * len(features), index=features.index, dtype=object)
            for c in ADMIN_LEVELS
        }
    )
    if features.empty:
        return out
    sources: list[tuple[gpd.GeoDataFrame, pd.DataFrame]] = []
    if len(grids):
        sources.append((grids, pd.DataFrame(grids[list(ADMIN_LEVELS)])))
    chain = admin_chain(districts, streets, communities)
    for name, frame in (
        ("communities", communities),
        ("streets", streets),
        ("districts", districts),
    ):
        if name in chain:
            sources.append((frame, chain[name]))
    for areas, names in sources:
        tags = tag_with_areas(
            features,
            areas.assign(**{f"_{c}": names[c] for c in ADMIN_LEVELS}),
            {f"_{c}": c for c in ADMIN_LEVELS},
        )
        out = out.where(out.notna(), tags)
    if "county" in features.columns:
        out["district"] = out["district"].where(out["district"].notna(), features["county"])
    if "township" in features.columns:
        out["street"] = out["street"].where(out["street"].notna(), features["township"])
    return out.astype(object).where(out.notna(), None)


def admin_options(*tables: pd.DataFrame) -> pd.DataFrame:
    """Distinct (district, street, community) rows over `tables`, for cascading selects."""
    frames = [t[list(ADMIN_LEVELS)] for t in tables if len(t)]
    if not frames:
        return pd.DataFrame(columns=list(ADMIN_LEVELS))
    rows = pd.concat(frames, ignore_index=True).astype(object)
    rows = rows.where(rows.notna(), None).drop_duplicates()
    return rows.reset_index(drop=True)


def filter_mask(
    tags: pd.DataFrame,
    *,
    district: str | None = None,
    street: str | None = None,
    community: str | None = None,
) -> pd.Series:
    """Rows of `tags` matching every chosen level (None = any)."""
    mask = pd.Series(True, index=tags.index)
    for level, value in (("district", district), ("street", street), ("community", community)):
        if value:
            mask &= tags[level] == value
    return mask


def entrances_of_kept(
    entrances: gpd.GeoDataFrame, facilities: Mapping[str, pd.DataFrame]
) -> gpd.GeoDataFrame:
    """The rows of `entrances` whose facility is among `facilities`.

    `facilities` maps a facility layer to its rows kept (by the filters and the user's scope);
    an entrance is kept when its ``facility_layer`` is one of them and its ``facility_key`` is
    a key of a kept row (``layers.LAYERS[layer].key``, e.g. ``shelter_id``). Entrances of a
    layer missing from `facilities` are dropped.
    """
    keep = np.zeros(len(entrances), dtype=bool)
    owners = entrances["facility_key"].astype(str)
    for layer, rows in facilities.items():
        key = LAYERS[layer].key
        if key is None or key not in rows.columns:
            continue
        keys = rows[key].dropna().astype(str)
        keep |= ((entrances["facility_layer"] == layer) & owners.isin(keys)).to_numpy()
    return entrances[keep]


def search(frames: Mapping[str, pd.DataFrame], text: str, *, limit: int = 20) -> pd.DataFrame:
    """Features whose name or code contains `text` (case-insensitive).

    Searches the layers with a ``view.search`` (grids, centers, shelters, villages,
    facilities...). Returns ``layer``, ``code``, ``name`` and ``row`` (the index label in its
    frame), exact code matches first.
    """
    fields = searchable_layers()
    text = (text or "").strip().lower()
    found = []
    if not text:
        return pd.DataFrame(columns=["layer", "code", "name", "row", "exact"])
    for layer, (code_f, name_f) in fields.items():
        frame = frames.get(layer)
        if frame is None or frame.empty:
            continue
        codes = frame[code_f].astype(str)
        names = frame[name_f].astype(str)
        hit = codes.str.lower().str.contains(text, regex=False) | names.str.lower().str.contains(
            text, regex=False
        )
        part = pd.DataFrame(
            {"layer": layer, "code": codes[hit], "name": names[hit], "row": frame.index[hit]}
        )
        part["exact"] = (part["code"].str.lower() == text) | (part["name"].str.lower() == text)
        found.append(part)
    if not found:
        return pd.DataFrame(columns=["layer", "code", "name", "row", "exact"])
    out = pd.concat(found, ignore_index=True).sort_values("exact", ascending=False, kind="stable")
    return out.head(limit).reset_index(drop=True)
