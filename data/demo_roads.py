"""The demo city's SYNTHETIC road network: streets along the valley, rivers crossed at bridges.

Streets form a jittered lattice over the urban footprint (about :data:`SPACING_M` apart), with
a share of local streets left out so blocks differ in size. Rivers follow the valley floor
and two side valleys; a street crosses a river only at a bridge, one every
:data:`BRIDGE_SPACING_M` along each river. On the hills (:data:`HILLS`) only a few paths
remain. An expressway along the valley carries no pedestrians. Everything is invented; only the
rough shape (a long east-west valley with side valleys) follows Shiyan.

The network draws from its own random stream, so adding it left every other demo number as it
was.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import LONLAT_CRS

SPACING_M = 190.0
"""Distance between neighbouring streets of the lattice, metres."""
JITTER = 0.18
"""Street corners move up to this share of the spacing."""
KEEP_LOCAL = 0.9
"""Share of lattice street segments kept in town (the rest are missing links)."""
KEEP_LANES = 0.7
"""Share of block diagonals kept as lanes and footpaths (they shorten walks through blocks)."""
BRIDGE_SPACING_M = 1000.0
"""One bridge per this many metres of river."""

# Rivers (lon, lat): the main river on the valley floor, and two tributaries from the north.
RIVERS = (
    (
        (110.660, 32.641),
        (110.690, 32.637),
        (110.715, 32.626),
        (110.745, 32.623),
        (110.775, 32.625),
        (110.800, 32.629),
        (110.830, 32.620),
        (110.860, 32.610),
        (110.910, 32.598),
    ),
    ((110.800, 32.629), (110.804, 32.650), (110.812, 32.690)),
    ((110.703, 32.634), (110.706, 32.680)),
)
# Hills inside the footprint (lon, lat, radius m): only the main streets cross them, as paths.
HILLS = (
    (110.778, 32.655, 1300.0),
    (110.832, 32.640, 1200.0),
    (110.725, 32.603, 1100.0),
    (110.870, 32.598, 800.0),
)
EXPRESSWAY = ((110.660, 32.630), (110.740, 32.615), (110.800, 32.617), (110.910, 32.590))
STEMS = (
    "人民", "北京", "朝阳", "东风", "车城", "公园", "五堰", "三堰", "柳林", "白浪", "红卫", "花果",
    "汉江", "武当", "凯旋", "重庆", "天津", "浙江", "上海", "大岭", "发展", "工业", "青年", "和平",
    "胜利", "建设", "文化", "太和", "滨河", "东岳",
)  # fmt: skip


def _to_metric(lonlat, crs: str) -> np.ndarray:
    return np.asarray(
        gpd.GeoSeries(shapely.points(np.asarray(lonlat)), crs=LONLAT_CRS)
        .to_crs(crs)
        .get_coordinates()
        .to_numpy()
    )


def demo_roads(footprint, crs: str, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """Columns and LineStrings (in `crs`) of the demo road layer inside `footprint`."""
    minx, miny, maxx, maxy = footprint.bounds
    xs = np.arange(minx - SPACING_M, maxx + SPACING_M, SPACING_M)
    ys = np.arange(miny - SPACING_M, maxy + SPACING_M, SPACING_M)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    jitter = rng.uniform(-JITTER, JITTER, (2, *gx.shape)) * SPACING_M
    px, py = gx + jitter[0], gy + jitter[1]
    inside = shapely.contains_xy(footprint.buffer(SPACING_M * 0.5), px, py)
    ni, nj = gx.shape
    edges = []
    for di, dj, axis, i_from in ((1, 0, "x", 0), (0, 1, "y", 0), (1, 1, "d", 0), (-1, 1, "d", 1)):
        i, j = np.meshgrid(np.arange(i_from, ni - max(di, 0)), np.arange(nj - dj), indexing="ij")
        i, j = i.ravel(), j.ravel()
        ok = inside[i, j] & inside[i + di, j + dj]
        edges.append((i[ok], j[ok], i[ok] + di, j[ok] + dj, np.full(ok.sum(), axis)))
    i0, j0, i1, j1, axis = (np.concatenate(parts) for parts in zip(*edges, strict=True))
    a = np.column_stack([px[i0, j0], py[i0, j0]])
    b = np.column_stack([px[i1, j1], py[i1, j1]])
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    mid = (a + b) / 2

    # main streets every 5th row/column; local streets thinned, hills nearly empty
    line_no = np.where(axis == "x", j0, i0)
    diagonal = axis == "d"
    main = ~diagonal & (line_no % 5 == 0)
    keep = main | (rng.random(len(lines)) < np.where(diagonal, KEEP_LANES, KEEP_LOCAL))
    hill = np.zeros(len(lines), dtype=bool)
    for lon, lat, radius in HILLS:
        hill |= np.hypot(*(mid - _to_metric([(lon, lat)], crs)[0]).T) < radius
    keep &= ~hill | main

    # rivers: a street crosses only at a bridge
    bridge = np.zeros(len(lines), dtype=bool)
    for river_lonlat in RIVERS:
        river = shapely.linestrings(_to_metric(river_lonlat, crs))
        crossing = np.flatnonzero(shapely.intersects(lines, river))
        if len(crossing) == 0:
            continue
        at = shapely.line_locate_point(
            river, shapely.centroid(shapely.intersection(lines[crossing], river))
        )
        stations = np.arange(BRIDGE_SPACING_M / 2, river.length, BRIDGE_SPACING_M)
        chosen = crossing[np.abs(at[:, None] - stations[None, :]).argmin(axis=0)]
        keep[crossing] = False
        keep[chosen] = True
        bridge[chosen] = True

    lines, axis, line_no, main, bridge, hill = (
        v[keep] for v in (lines, axis, line_no, main, bridge, hill)
    )
    n = len(lines)
    stem = np.array(STEMS, dtype=object)[line_no % len(STEMS)]
    suffix = np.select([axis == "x", axis == "y"], ["路", "街"], "巷").astype(object)
    name = np.where(bridge, stem + "桥", stem + np.where(main, "大", "") + suffix)
    name[hill & ~bridge] = (stem + "山道")[hill & ~bridge]
    road_class = np.select([main, axis == "d"], ["primary", "footway"], "residential").astype(
        object
    )
    road_class[hill] = "path"
    road_class[bridge] = "primary"
    express = shapely.linestrings(_to_metric(EXPRESSWAY, crs))
    data = {
        "road_id": np.array([f"R{i:05d}" for i in range(1, n + 2)], dtype=object),
        "name": np.r_[name, ["十天高速（合成）"]].astype(object),
        "road_class": np.r_[road_class, ["motorway"]].astype(object),
        "walkable": np.r_[np.ones(n, bool), [False]],
        "bridge": np.r_[bridge, [True]],
        "tunnel": np.zeros(n + 1, bool),
        "from_osm": np.zeros(n + 1, bool),
    }
    return data, np.r_[lines, [express]]
