"""Walking distance along roads: a graph from the ``roads`` layer, snapping and shortest paths.

The walking graph has one node per distinct road vertex (coordinates rounded to
:data:`NODE_DECIMALS`) and one edge per straight road segment, weighted by its length in
metres (the metric CRS, e.g. EPSG:4546). Lines from files that are not OSM are first split
where they cross (:func:`shapely.node`), except bridges and tunnels, which meet other roads
only at their ends; OSM ways already share their junction vertices.

A point (resident or facility) is *snapped* to the nearest point on the nearest segment (not
the nearest node). The snap leg is part of the walk, so the walking distance between a
resident ``p`` and a facility ``f`` is::

    snap(p) + shortest road path between the two snapped road points + snap(f)

Points farther than ``max_snap_m`` from every road are *off-network* (distance ``inf``).
Polygon facilities (a park shelter) are reached at the road point nearest to their edge (the
snap leg is the gap between edge and road, 0 when a road touches the park), or, when the
``entrances`` layer lists entrances for them, only at those entrances (each snapped like any
point, its snap leg counted; :func:`access_points`); residents inside the polygon are at
distance 0, as with straight lines.

Shortest paths from all facilities of a kind at once use
``scipy.sparse.csgraph.dijkstra(indices=..., limit=radius, min_only=True)``: each facility's road
point is inserted into its segment (splitting it), and a leaf node per facility carries its
snap leg. Residents are not inserted; their distance is taken from the two graph nodes that
bound their position on the (split) segment.

Examples
--------
With ``roads``, ``population`` and ``shelters`` frames in the metric CRS::

    graph = WalkGraph.from_roads(roads)
    dist, nearest = network_nearest(graph, population, shelters, max_snap_m=300)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geo.crs import require_projected, same_crs
from geo.index import (
    IdentityMemo,
    Memo,
    digest,
    geometry_digest,
    point_set,
)

NODE_DECIMALS = 2
"""Road vertices closer than this many decimals of a metre (1 cm) are one graph node."""

PIECE_M = 50.0
"""Segments are indexed in pieces of at most this many metres for fast point snapping."""

SOURCE_CHUNK = 32
"""Facilities per Dijkstra call when every facility's own distances are needed."""


class NetworkError(ValueError):
    """A walking graph that cannot be built or used (no roads, wrong CRS, missing layer)."""


def _truthy(values: pd.Series) -> np.ndarray:
    """Booleans from a flag column holding bools, 0/1, or yes/no/true/false text."""
    if values.dtype == bool:
        return values.to_numpy()
    text = values.astype("string").str.strip().str.lower()
    return text.isin(["1", "1.0", "true", "t", "yes", "y", "是"]).fillna(False).to_numpy(bool)


def road_flags(roads: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(walkable, bridge_or_tunnel)`` per road row; missing columns mean walkable, ground level.

    A missing ``walkable`` value counts as walkable (most roads are).
    """
    n = len(roads)
    if "walkable" in roads.columns:
        flag = roads["walkable"]
        walkable = _truthy(flag) | flag.isna().to_numpy()
    else:
        walkable = np.ones(n, dtype=bool)
    crossing = np.zeros(n, dtype=bool)
    for column in ("bridge", "tunnel"):
        if column in roads.columns:
            crossing |= _truthy(roads[column])
    return walkable, crossing


def _lines(geoms: np.ndarray) -> np.ndarray:
    """Single LineStrings of (Multi)LineString geometries; others and empties are dropped."""
    geoms = geoms[~shapely.is_missing(geoms)]
    parts = shapely.get_parts(geoms)
    parts = parts[shapely.get_type_id(parts) == 1]
    return parts[~shapely.is_empty(parts)]


def _noded(plain: np.ndarray, crossings: np.ndarray) -> np.ndarray:
    """`plain` lines split wherever they cross or touch each other, and where one of the
    `crossings` (bridges, tunnels, OSM ways, left whole) ends on them."""
    if len(plain) == 0:
        return plain
    merged = shapely.node(shapely.multilinestrings(plain))
    if len(crossings):
        ends = shapely.multipoints(
            np.concatenate(
                [shapely.get_coordinates(shapely.get_point(crossings, i)) for i in (0, -1)]
            )
        )
        merged = shapely.snap(merged, ends, 10.0**-NODE_DECIMALS)
    return _lines(np.asarray([merged]))


def _node_index(node: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(indptr, order)``: the positions with each node value, as CSR rows over `size` nodes."""
    order = np.argsort(node, kind="stable")
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(node, minlength=size), out=indptr[1:])
    return indptr, order


def _gather(index: tuple[np.ndarray, np.ndarray], src: np.ndarray, node: np.ndarray):
    """For each ``(src, node)`` pair, every position `index` lists under that node:
    ``(src repeated, positions)``."""
    indptr, order = index
    count = indptr[node + 1] - indptr[node]
    first = np.repeat(indptr[node], count)
    step = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return np.repeat(src, count), order[first + step]


@dataclass
class Snap:
    """Where points meet the road: segment, offset from the segment's start, snap distance.

    ``segment`` is -1 and ``distance`` inf for off-network points.
    """

    segment: np.ndarray
    offset: np.ndarray
    distance: np.ndarray

    @property
    def on_network(self) -> np.ndarray:
        return self.segment >= 0

    def __len__(self) -> int:
        return len(self.segment)


@dataclass
class WalkGraph:
    """Walking graph: node coordinates and undirected segments ``u``-``v`` with length (m)."""

    xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    crs: Any
    _cache: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_roads(cls, roads: gpd.GeoDataFrame, *, split_crossings: bool = True) -> WalkGraph:
        """Build the graph from a roads frame in a projected CRS.

        Rows with a false ``walkable`` are left out. With `split_crossings` lines are split
        where they cross, except bridges, tunnels and OSM ways (``bridge`` / ``tunnel`` /
        ``from_osm`` columns), which meet the others at their ends and at shared vertices;
        without it every line meets the others only at shared vertices.
        """
        crs = require_projected(roads, "roads")
        walkable, crossing = road_flags(roads)
        geoms = np.asarray(roads.geometry.values)
        if split_crossings:
            osm = (
                _truthy(roads["from_osm"])
                if "from_osm" in roads.columns
                else np.zeros(len(roads), dtype=bool)
            )
            whole = _lines(geoms[walkable & (crossing | osm)])
            lines = np.concatenate(
                [_noded(_lines(geoms[walkable & ~crossing & ~osm]), whole), whole]
            )
        else:
            lines = _lines(geoms[walkable])
        return cls.from_lines(lines, crs=crs)

    @classmethod
    def from_lines(cls, lines: np.ndarray, *, crs: Any = None) -> WalkGraph:
        """Graph of LineStrings that meet only at shared vertices."""
        coords, owner = shapely.get_coordinates(lines, return_index=True)
        same = owner[1:] == owner[:-1]
        rounded = np.round(coords, NODE_DECIMALS)
        if len(rounded):
            xy, inverse = np.unique(rounded, axis=0, return_inverse=True)
            inverse = inverse.ravel()
        else:
            xy, inverse = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
        a, b = inverse[:-1][same], inverse[1:][same]
        length = np.hypot(*(rounded[1:][same] - rounded[:-1][same]).T)  # as the nodes lie
        keep = a != b
        u, v, length = np.minimum(a, b)[keep], np.maximum(a, b)[keep], length[keep]
        # one edge per node pair (the shortest), so the sparse matrix never sums duplicates
        order = np.lexsort((length, v, u))
        u, v, length = u[order], v[order], length[order]
        first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])] if len(u) else np.zeros(0, bool)
        return cls(
            xy=xy,
            u=u[first].astype(np.int64),
            v=v[first].astype(np.int64),
            length=length[first],
            crs=crs,
        )

    # ------------------------------------------------------------------ properties
    @property
    def n_nodes(self) -> int:
        return len(self.xy)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    @property
    def segments(self) -> np.ndarray:
        """One two-point LineString per edge (from ``u`` to ``v``)."""
        if "segments" not in self._cache:
            ends = np.stack([self.xy[self.u], self.xy[self.v]], axis=1)
            self._cache["segments"] = shapely.linestrings(ends)
        return self._cache["segments"]

    @property
    def tree(self) -> shapely.STRtree:
        if "tree" not in self._cache:
            self._cache["tree"] = shapely.STRtree(self.segments)
        return self._cache["tree"]

    def components(self) -> np.ndarray:
        """Connected-component label of every node (0 = the component with most road length)."""
        if "components" not in self._cache:
            n = self.n_nodes
            m = sp.csr_array((np.ones(self.n_edges), (self.u, self.v)), shape=(n, n))
            _, labels = connected_components(m, directed=False)
            size = np.bincount(labels[self.u], weights=self.length, minlength=labels.max() + 1)
            rank = np.empty_like(labels[: len(size)])
            rank[np.argsort(-size, kind="stable")] = np.arange(len(size))
            self._cache["components"] = rank[labels]
        return self._cache["components"]

    def summary(self) -> dict[str, Any]:
        """Nodes, edges, total length (km) and number of connected components."""
        comps = self.components()
        return {
            "nodes": int(self.n_nodes),
            "edges": int(self.n_edges),
            "length_km": round(float(self.length.sum()) / 1000, 3),
            "components": int(comps.max() + 1) if len(comps) else 0,
        }

    # ------------------------------------------------------------------ snapping
    def snap(self, geoms: np.ndarray, *, max_snap_m: float) -> Snap:
        """Snap geometries to the nearest point on the nearest segment within `max_snap_m`.

        Points snap with their own position (:meth:`_snap_points`, vectorised); polygons (and
        lines) with the road point nearest to their edge (GEOS STRtree).
        """
        geoms = np.asarray(geoms)
        n = len(geoms)
        seg = np.full(n, -1, dtype=np.int64)
        offset = np.zeros(n)
        dist = np.full(n, np.inf)
        if n == 0 or self.n_edges == 0:
            return Snap(seg, offset, dist)
        present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        point = present & (shapely.get_type_id(geoms) == 0)
        rows = np.flatnonzero(point)
        xy = shapely.get_coordinates(geoms[rows])
        seg[rows], offset[rows], dist[rows] = self._snap_points(xy, max_snap_m)
        other = np.flatnonzero(present & ~point)
        if len(other):
            (src, dst), d = self.tree.query_nearest(
                geoms[other], max_distance=max_snap_m, return_distance=True, all_matches=False
            )
            src = other[src]
            seg[src], dist[src] = dst, d
            segs = self.segments[dst]
            at = shapely.get_point(shapely.shortest_line(segs, geoms[src]), 0)
            offset[src] = np.clip(shapely.line_locate_point(segs, at), 0, self.length[dst])
        return Snap(seg, offset, dist)

    def _piece_index(self) -> tuple[cKDTree, np.ndarray, float]:
        """A KD-tree over the midpoints of pieces of at most :data:`PIECE_M` of every segment:
        ``(tree, segment of each piece, half the longest piece)``."""
        if "pieces" not in self._cache:
            count = np.maximum(np.ceil(self.length / PIECE_M), 1).astype(np.int64)
            owner = np.repeat(np.arange(self.n_edges), count)
            rank = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
            frac = (rank + 0.5) / count[owner]
            a, b = self.xy[self.u[owner]], self.xy[self.v[owner]]
            mids = a + (b - a) * frac[:, None]
            half = float((self.length / count).max(initial=0)) / 2
            self._cache["pieces"] = (cKDTree(mids), owner, half)
        return self._cache["pieces"]

    def _point_segment(self, xy: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance from each point to segment `seg` and the offset of the nearest point on it."""
        a, b = self.xy[self.u[seg]], self.xy[self.v[seg]]
        ab = b - a
        squared = np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-24)
        t = np.clip(np.einsum("ij,ij->i", xy - a, ab) / squared, 0.0, 1.0)
        near = a + ab * t[:, None]
        return np.hypot(*(xy - near).T), t * self.length[seg]

    def _snap_points(
        self, xy: np.ndarray, max_snap_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest segment, offset and distance of each coordinate (-1 / 0 / inf beyond the
        limit). The 8 nearest piece midpoints give candidates; a point whose 8th midpoint is
        near enough that a farther segment could still be nearer falls back to GEOS."""
        n = len(xy)
        seg = np.full(n, -1, dtype=np.int64)
        offset = np.zeros(n)
        dist = np.full(n, np.inf)
        if n == 0:
            return seg, offset, dist
        tree, owner, half = self._piece_index()
        unsure = np.arange(n)
        for k in (8, 48):  # widening candidate lists, each for the points still undecided
            k = min(k, len(owner))
            dc, idx = tree.query(
                xy[unsure], k=k, distance_upper_bound=max_snap_m + half, workers=-1
            )
            dc, idx = dc.reshape(len(unsure), k), idx.reshape(len(unsure), k)
            for c in range(k):
                ok = np.flatnonzero(idx[:, c] < len(owner))
                rows = unsure[ok]
                cand = owner[idx[ok, c]]
                d, t = self._point_segment(xy[rows], cand)
                better = d < dist[rows]
                r = rows[better]
                seg[r], offset[r], dist[r] = cand[better], t[better], d[better]
            # a segment not among the candidates is at least (k-th midpoint - half) away
            unsure = unsure[np.isfinite(dc[:, -1]) & (dc[:, -1] - half < dist[unsure])]
            if len(unsure) == 0 or k == len(owner):
                break
        if len(unsure) and k < len(owner):
            pts = shapely.points(xy[unsure])
            (src, dst), d = self.tree.query_nearest(
                pts, max_distance=max_snap_m, return_distance=True, all_matches=False
            )
            rows = unsure[src]
            dd, tt = self._point_segment(xy[rows], dst)
            seg[rows], offset[rows], dist[rows] = dst, tt, dd
        far = dist > max_snap_m
        seg[far], offset[far], dist[far] = -1, 0.0, np.inf
        return seg, offset, dist

    # ------------------------------------------------------------------ shortest paths
    def _augmented(self, sources: Snap) -> dict[str, Any]:
        """The graph with the sources' road points inserted into their segments and one leaf
        node per source carrying its snap leg (cached per source snap)."""
        key = (
            "aug",
            sources.segment.tobytes(),
            sources.offset.tobytes(),
            sources.distance.tobytes(),
        )
        hit = self._cache.get("aug")
        if hit is not None and hit[0] == key:
            return hit[1]
        n = self.n_nodes
        idx = np.flatnonzero(sources.on_network)
        seg, t = sources.segment[idx], sources.offset[idx]
        order = np.lexsort((t, seg))
        idx, seg, t = idx[order], seg[order], t[order]
        k = len(idx)
        road = n + np.arange(k)  # the sources' road points
        leaf = n + k + np.arange(k)  # one leaf per source, reached over its snap leg
        first = np.r_[True, seg[1:] != seg[:-1]] if k else np.zeros(0, bool)
        last = np.r_[seg[1:] != seg[:-1], True] if k else np.zeros(0, bool)
        prev_node = np.where(first, self.u[seg], np.r_[0, road[:-1]])
        prev_t = np.where(first, 0.0, np.r_[0.0, t[:-1]])
        split = np.zeros(self.n_edges, dtype=bool)
        split[seg] = True
        keep = ~split
        # edges as (node a, node b, weight, segment, t0, t1): original edges keep their segment
        a = np.concatenate([self.u[keep], prev_node, road[last], leaf])
        b = np.concatenate([self.v[keep], road, self.v[seg[last]], road])
        w = np.concatenate(
            [self.length[keep], t - prev_t, self.length[seg[last]] - t[last], sources.distance[idx]]
        )
        edge_seg = np.concatenate([np.flatnonzero(keep), seg, seg[last], np.full(k, -1)])
        t0 = np.concatenate([np.zeros(keep.sum()), prev_t, t[last], np.zeros(k)])
        t1 = np.concatenate([self.length[keep], t, self.length[seg[last]], np.zeros(k)])
        size = n + 2 * k
        matrix = sp.csr_array(
            (np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(size, size), dtype=np.float64
        )
        out = {
            "matrix": matrix,
            "source_pos": idx,  # original position of each inserted source
            "leaf": leaf,
            "road": road,
            "seg": seg,
            "t": t,
            "key": seg.astype(np.float64) * (float(self.length.max(initial=0)) + 1) + t,
            "edges": (a, b, edge_seg, t0, t1),
        }
        self._cache["aug"] = (key, out)
        return out

    def _bounds(self, aug: dict, targets: Snap) -> tuple[np.ndarray, ...]:
        """For each on-network target: the graph nodes bounding it on its (split) segment and
        the road distance to each: ``(rows, left, to_left, right, to_right)``."""
        rows = np.flatnonzero(targets.on_network)
        seg, t = targets.segment[rows], targets.offset[rows]
        left, right = self.u[seg].copy(), self.v[seg].copy()
        to_left, to_right = t.copy(), self.length[seg] - t
        src_seg = aug["seg"]
        if len(src_seg):
            key = seg.astype(np.float64) * (float(self.length.max(initial=0)) + 1) + t
            pos = np.searchsorted(aug["key"], key, side="right")
            lp = pos - 1
            has_left = (lp >= 0) & (src_seg[np.clip(lp, 0, None)] == seg)
            lp = np.clip(lp, 0, None)
            left = np.where(has_left, aug["road"][lp], left)
            to_left = np.where(has_left, t - aug["t"][lp], to_left)
            rp = np.clip(pos, 0, len(src_seg) - 1)
            has_right = (pos < len(src_seg)) & (src_seg[rp] == seg)
            right = np.where(has_right, aug["road"][rp], right)
            to_right = np.where(has_right, aug["t"][rp] - t, to_right)
        return rows, left, np.maximum(to_left, 0), right, np.maximum(to_right, 0)

    def nearest(
        self, sources: Snap, targets: Snap, *, limit: float = np.inf
    ) -> tuple[np.ndarray, np.ndarray]:
        """Walking distance from each target to its nearest source and that source's position.

        ``inf`` / -1 where no source is within `limit` metres or the target is off-network.
        One multi-source Dijkstra (``min_only=True``) over the graph with the sources inserted.
        """
        dist = np.full(len(targets), np.inf)
        which = np.full(len(targets), -1, dtype=np.int64)
        aug = self._augmented(sources)
        if len(aug["leaf"]) == 0 or len(targets) == 0:
            return dist, which
        d_node, _, src_node = dijkstra(
            aug["matrix"],
            directed=True,
            indices=aug["leaf"],
            limit=limit,
            min_only=True,
            return_predecessors=True,
        )
        rows, left, to_left, right, to_right = self._bounds(aug, targets)
        via_left = d_node[left] + to_left
        via_right = d_node[right] + to_right
        use_left = via_left <= via_right
        road = np.where(use_left, via_left, via_right)
        src = np.where(use_left, src_node[left], src_node[right])
        total = road + targets.distance[rows]
        ok = np.isfinite(road) & (total <= limit)
        first_leaf = aug["leaf"][0]
        dist[rows[ok]] = total[ok]
        which[rows[ok]] = aug["source_pos"][src[ok] - first_leaf]
        return dist, which

    def node_distances(
        self, sources: Snap, *, limit: float = np.inf, each: bool = False
    ) -> tuple[np.ndarray, dict]:
        """Walking distances from the sources to every node of the augmented graph: one row
        (nearest source) or, with `each`, one row per inserted source."""
        aug = self._augmented(sources)
        if len(aug["leaf"]) == 0:
            return np.full((0, aug["matrix"].shape[0]), np.inf), aug
        if not each:
            d = dijkstra(
                aug["matrix"], directed=True, indices=aug["leaf"], limit=limit, min_only=True
            )
            return d[None, :], aug
        rows = [
            dijkstra(
                aug["matrix"], directed=True, indices=aug["leaf"][i : i + SOURCE_CHUNK], limit=limit
            )
            for i in range(0, len(aug["leaf"]), SOURCE_CHUNK)
        ]
        return np.vstack(rows), aug

    def pairs_within(
        self, sources: Snap, targets: Snap, *, radius: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(target, source, distance)`` for every pair within `radius` metres of walk.

        Dijkstra from a chunk of sources (limited to the radius) reaches some nodes; the
        targets on the segments next to those nodes (each target lies between two nodes of its
        split segment) are the only candidates, gathered at once from a node -> targets index,
        so the work follows the pairs actually within reach.
        """
        aug = self._augmented(sources)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        if len(aug["leaf"]) == 0 or len(targets) == 0:
            return empty
        rows, left, to_left, right, to_right = self._bounds(aug, targets)
        if len(rows) == 0:
            return empty
        size = aug["matrix"].shape[0]
        by_left, by_right = _node_index(left, size), _node_index(right, size)
        src_pos = aug["source_pos"]
        out_t, out_s, out_d = [], [], []
        for start in range(0, len(src_pos), SOURCE_CHUNK):
            d_node = dijkstra(
                aug["matrix"],
                directed=True,
                indices=aug["leaf"][start : start + SOURCE_CHUNK],
                limit=radius,
            )
            src, node = np.nonzero(np.isfinite(d_node))
            j1, r1 = _gather(by_left, src, node)
            j2, r2 = _gather(by_right, src, node)
            keep = ~np.isfinite(d_node[j2, left[r2]])  # once: those reached only on the right
            j, r = np.r_[j1, j2[keep]], np.r_[r1, r2[keep]]
            road = np.minimum(d_node[j, left[r]] + to_left[r], d_node[j, right[r]] + to_right[r])
            total = road + targets.distance[rows[r]]
            ok = total <= radius + 1e-6
            out_t.append(rows[r[ok]])
            out_s.append(src_pos[start + j[ok]])
            out_d.append(total[ok])
        return np.concatenate(out_t), np.concatenate(out_s), np.concatenate(out_d)

    # ------------------------------------------------------------------ service areas
    def reached_lines(self, d_node: np.ndarray, aug: dict, radius: float) -> np.ndarray:
        """The parts of the (split) road segments within `radius` of walk for one row of node
        distances, as two-point LineStrings (the snap legs of the sources are included)."""
        a, b, edge_seg, t0, t1 = aug["edges"]
        road = edge_seg >= 0
        a, b, edge_seg, t0, t1 = a[road], b[road], edge_seg[road], t0[road], t1[road]
        span = t1 - t0
        from_a = np.clip(radius - d_node[a], 0, span)
        from_b = np.clip(radius - d_node[b], 0, span)
        whole = from_a + from_b >= span
        start = self.xy[self.u[edge_seg]]
        direction = (self.xy[self.v[edge_seg]] - start) / np.maximum(self.length[edge_seg], 1e-12)[
            :, None
        ]

        def at(mask: np.ndarray, t: np.ndarray) -> np.ndarray:
            return start[mask] + direction[mask] * t[:, None]

        full = whole & (span > 0)
        pa = ~whole & (from_a > 0)
        pb = ~whole & (from_b > 0)
        parts = [
            np.stack([at(full, t0[full]), at(full, t1[full])], axis=1),
            np.stack([at(pa, t0[pa]), at(pa, t0[pa] + from_a[pa])], axis=1),
            np.stack([at(pb, t1[pb] - from_b[pb]), at(pb, t1[pb])], axis=1),
        ]
        ends = np.concatenate(parts)
        return shapely.linestrings(ends) if len(ends) else np.zeros(0, dtype=object)


def graph_from_roads(roads: gpd.GeoDataFrame | None, *, osm: bool = False) -> WalkGraph:
    """:meth:`WalkGraph.from_roads` (lines split at crossings unless the data is OSM).

    Raises :class:`NetworkError` naming the missing ``roads`` layer when there are no roads.
    """
    if roads is None or len(roads) == 0:
        raise NetworkError(
            "walking distance needs the 'roads' layer, which is missing or empty in this store; "
            "import roads (GeoJSON, zipped Shapefile, GeoPackage or OSM PBF) or use straight-line "
            "distance"
        )
    return WalkGraph.from_roads(roads, split_crossings=not osm)


_GRAPHS: Memo[WalkGraph] = Memo("walking_graph", size=4)
_GRAPH_OF: IdentityMemo[WalkGraph] = IdentityMemo("walking_graph_of")


def walking_graph(roads: gpd.GeoDataFrame | None) -> WalkGraph:
    """:func:`graph_from_roads`, cached by the roads' geometry and flags (built once per store)."""
    if roads is None or len(roads) == 0:
        return graph_from_roads(roads)

    def by_content() -> WalkGraph:  # the same frame again needs no digest
        walkable, crossing = road_flags(roads)
        key = geometry_digest(np.asarray(roads.geometry.values)) + digest(walkable, crossing)
        return _GRAPHS.get(key, lambda: graph_from_roads(roads))

    return _GRAPH_OF.get(roads.geometry.values, by_content)


def overstated(
    population: pd.DataFrame,
    straight: pd.Series,
    network: pd.Series,
    *,
    by: str,
) -> pd.DataFrame:
    """What straight lines overstate: residents covered by straight line but not along roads.

    Per value of column `by` of `population` (e.g. ``street_code``, ``grid_code``; missing
    values form one group): ``residents_total``, ``covered_straight``, ``covered_network``,
    ``overstated`` (covered by straight line, not by network) and ``share_overstated`` (of
    the residents), sorted by ``overstated`` descending. A ``name`` column is added when the
    population has the matching ``*_name`` column.
    """
    from geo.coverage import grouping, residents_of

    res = residents_of(population)
    s = straight.reindex(population.index, fill_value=False).to_numpy(bool)
    n = network.reindex(population.index, fill_value=False).to_numpy(bool)
    group = grouping(population, by)
    size = len(group.keys)

    def total(mask: np.ndarray) -> np.ndarray:
        return np.bincount(group.codes[mask], weights=res[mask], minlength=size).round()

    all_ = total(np.ones(len(res), bool)).astype(np.int64)
    over = total(s & ~n).astype(np.int64)
    columns = {"name": group.names} if len(group.names) else {}
    columns.update(
        residents_total=all_,
        covered_straight=total(s).astype(np.int64),
        covered_network=total(n).astype(np.int64),
        overstated=over,
        share_overstated=np.where(all_ > 0, over / np.maximum(all_, 1), np.nan),
    )
    table = pd.DataFrame(columns, index=group.keys)
    return table.sort_values(["overstated", "share_overstated"], ascending=False, kind="stable")


def _inside_polygons(points: np.ndarray, facilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(point, facility)`` pairs where a point lies in (or on) a polygon facility."""
    poly = np.flatnonzero(np.isin(shapely.get_type_id(facilities), (3, 6)))
    if len(poly) == 0 or len(points) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pi, fi = shapely.STRtree(facilities[poly]).query(points, predicate="intersects")
    return pi, poly[fi]


def access_points(
    facilities: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the walk reaches each facility: ``(geometries, owner, entrance)``: `owner` is the
    position in `facilities` each geometry belongs to, `entrance` its position in `entrances`
    (-1 for a facility's own geometry).

    A polygon facility with rows in `entrances` (the ``entrances`` layer, same CRS) is reached
    at its entrance points only; every other facility at its own geometry. Entrances are matched
    by ``facility_layer`` and ``facility_key`` against the key column of that layer
    (``layers.LAYERS[facility_layer].key``, e.g. ``shelter_id``) when `facilities` has it.
    """
    geoms = np.asarray(facilities.geometry.values)
    owner = np.arange(len(geoms))
    own = np.full(len(geoms), -1, dtype=np.int64)
    if entrances is None or len(entrances) == 0 or len(geoms) == 0:
        return geoms, owner, own
    from layers import LAYERS

    polygon = np.isin(shapely.get_type_id(geoms), (3, 6))
    ent_geoms = np.asarray(entrances.geometry.values)
    ent_owner = np.full(len(entrances), -1, dtype=np.int64)
    for layer in pd.unique(entrances["facility_layer"].dropna()):
        key = LAYERS[layer].key if layer in LAYERS else None
        if key is None or key not in facilities.columns:
            continue
        position = pd.Series(np.arange(len(geoms)), index=facilities[key].astype(str).to_numpy())
        position = position[~position.index.duplicated()]
        rows = np.flatnonzero((entrances["facility_layer"] == layer).to_numpy())
        found = position.reindex(entrances["facility_key"].iloc[rows].astype(str).to_numpy())
        ent_owner[rows] = found.fillna(-1).to_numpy(np.int64)
    usable = ent_owner >= 0
    usable[usable] = polygon[ent_owner[usable]]
    usable &= ~shapely.is_missing(ent_geoms) & (shapely.get_type_id(ent_geoms) == 0)
    if not usable.any():
        return geoms, owner, own
    gated = np.zeros(len(geoms), dtype=bool)
    gated[ent_owner[usable]] = True
    return (
        np.concatenate([geoms[~gated], ent_geoms[usable]]),
        np.concatenate([owner[~gated], ent_owner[usable]]),
        np.concatenate([own[~gated], np.flatnonzero(usable)]),
    )


def entrances_of(
    facilities: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame | None:
    """The rows of `entrances` through which the walk reaches `facilities` (those of its
    polygon facilities, :func:`access_points`); None when there are none."""
    if entrances is None or len(entrances) == 0:
        return None
    _, _, entrance = access_points(facilities, entrances)
    used = entrance[entrance >= 0]
    return entrances.iloc[np.sort(used)] if len(used) else None


def network_nearest(
    graph: WalkGraph,
    points: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    max_snap_m: float,
    limit: float = np.inf,
    entrances: gpd.GeoDataFrame | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Walking distance (m) to and position of each point's nearest facility along the roads.

    Same contract as :func:`geo.coverage.nearest_facility`: ``(distance, position)`` on the
    index of `points`, ``inf`` / -1 where nothing is reachable (off-network point, facility on
    another component, or farther than `limit`). Points inside a polygon facility are at 0.
    Polygon facilities with `entrances` are reached only at them (:func:`access_points`).
    """
    same_crs(points, facilities, names=("points", "facilities"))
    pts = np.asarray(points.geometry.values)
    fac = np.asarray(facilities.geometry.values)
    access, owner, _ = access_points(facilities, entrances)
    dist, which = graph.nearest(
        graph.snap(access, max_snap_m=max_snap_m),
        snap_points(graph, points, max_snap_m=max_snap_m),
        limit=limit,
    )
    which = np.where(which >= 0, owner[np.maximum(which, 0)], -1)
    pi, fi = _inside_polygons(pts, fac)
    dist[pi], which[pi] = 0.0, fi
    return (
        pd.Series(dist, index=points.index, name="distance_m"),
        pd.Series(which, index=points.index, name="facility_position"),
    )


def snap_points(graph: WalkGraph, points: gpd.GeoDataFrame, *, max_snap_m: float) -> Snap:
    """:meth:`WalkGraph.snap` of a frame's points, cached on the graph per point set (the
    population is snapped once for every kind)."""
    xy, pts, points_digest = point_set(points)
    key = ("snap", points_digest, float(max_snap_m))
    hit = graph._cache.get("points")
    if hit is not None and hit[0] == key:
        return hit[1]
    snap = graph.snap(np.asarray(points.geometry.values), max_snap_m=max_snap_m)
    graph._cache["points"] = (key, snap)
    return snap


@dataclass
class Walk:
    """Walking distance along one graph, with the snap limit: what the analyses need.

    Examples
    --------
    With the store's layers and a typed profile::

        walk = Walk.from_layers(layers, profile)
        dist, pos = walk.nearest(population, shelters)
    """

    graph: WalkGraph
    max_snap_m: float
    entrances: gpd.GeoDataFrame | None = None
    """The ``entrances`` layer (same CRS): polygon facilities listed there are reached only at
    their entrances (:func:`access_points`)."""

    @classmethod
    def from_layers(cls, layers, profile) -> Walk:
        """The walk over ``layers["roads"]`` (metric CRS) with ``profile.network`` settings and
        the ``entrances`` layer when present.

        Raises :class:`NetworkError` naming the missing ``roads`` layer.
        """
        return cls(
            walking_graph(layers.get("roads")),
            float(profile.network.max_snap_m),
            layers.get("entrances"),
        )

    def nearest(
        self, points: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *, limit: float = np.inf
    ) -> tuple[pd.Series, pd.Series]:
        """:func:`network_nearest`: walking distance to and position of the nearest facility."""
        if len(facilities) == 0 or len(points) == 0:
            return (
                pd.Series(np.full(len(points), np.inf), index=points.index, name="distance_m"),
                pd.Series(
                    np.full(len(points), -1, np.int64), index=points.index, name="facility_position"
                ),
            )
        return network_nearest(
            self.graph,
            points,
            facilities,
            max_snap_m=self.max_snap_m,
            limit=limit,
            entrances=self.entrances,
        )

    def entrance_used(self, points: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> pd.Series:
        """The entrance (index label in :attr:`entrances`) at which each point's walk reaches its
        nearest facility; None where that facility has no entrances or nothing is reachable."""
        out = pd.Series([None] * len(points), index=points.index, dtype=object, name="entrance")
        if len(facilities) == 0 or len(points) == 0 or self.entrances is None:
            return out
        access, _, entrance = access_points(facilities, self.entrances)
        if (entrance < 0).all():
            return out
        frame = gpd.GeoDataFrame(geometry=access, crs=facilities.crs)
        _, which = network_nearest(self.graph, points, frame, max_snap_m=self.max_snap_m)
        which = which.to_numpy()
        used = np.where(which >= 0, entrance[np.maximum(which, 0)], -1)
        labels = self.entrances.index.to_numpy()
        out[used >= 0] = labels[used[used >= 0]]
        return out

    def pairs(
        self, points: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *, radius_m: float
    ) -> sp.csr_matrix:
        """Sparse ``points x facilities`` matrix of ones where the walk is at most `radius_m`
        (points inside a polygon facility included)."""
        from geo.coverage import BOUNDARY_TOLERANCE_M

        same_crs(points, facilities, names=("points", "facilities"))
        n, m = len(points), len(facilities)
        if n == 0 or m == 0:
            return sp.csr_matrix((n, m), dtype=np.int8)
        geoms = np.asarray(facilities.geometry.values)
        access, owner, _ = access_points(facilities, self.entrances)
        ti, si, _ = self.graph.pairs_within(
            self.graph.snap(access, max_snap_m=self.max_snap_m),
            snap_points(self.graph, points, max_snap_m=self.max_snap_m),
            radius=radius_m + BOUNDARY_TOLERANCE_M,
        )
        pi, fi = _inside_polygons(np.asarray(points.geometry.values), geoms)
        rows, cols = np.r_[ti, pi], np.r_[owner[si], fi]
        matrix = sp.csr_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(n, m))
        matrix.sum_duplicates()
        matrix.data[:] = 1
        return matrix


def off_network(graph: WalkGraph, points: gpd.GeoDataFrame, *, max_snap_m: float) -> pd.Series:
    """True for points farther than `max_snap_m` from every road (index of `points`)."""
    require_projected(points, "points")
    snap = snap_points(graph, points, max_snap_m=max_snap_m)
    return pd.Series(~snap.on_network, index=points.index, name="off_network")


def point_components(graph: WalkGraph, points: gpd.GeoDataFrame, *, max_snap_m: float) -> pd.Series:
    """Connected component of the road each point snaps to (-1 off-network)."""
    snap = snap_points(graph, points, max_snap_m=max_snap_m)
    comp = np.full(len(points), -1, dtype=np.int64)
    on = snap.on_network
    comp[on] = graph.components()[graph.u[snap.segment[on]]]
    return pd.Series(comp, index=points.index, name="component")


def network_findings(
    graph: WalkGraph,
    population: gpd.GeoDataFrame,
    facilities: Mapping[str, gpd.GeoDataFrame],
    *,
    max_snap_m: float,
    entrances: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """What the road network means for the residents and facilities (JSON-ready).

    ``graph`` is :meth:`WalkGraph.summary`. Residents farther than `max_snap_m` from every road
    are off-network: no walk reaches them (``residents_off_network``, ``points_off_network``).
    Residents on a road network cut off from the main one (a component other than the
    longest, e.g. a valley reached only by a ferry) are a finding, not an error
    (``residents_on_islands``, ``islands_with_residents``). ``facilities_off_network`` counts,
    per name of `facilities` (e.g. facility kinds), those no walk reaches: none of their access
    points (:func:`access_points`, `entrances` for parks) is within `max_snap_m` of a road.
    """
    require_projected(population, "population")
    residents = (
        pd.to_numeric(population["residents"], errors="coerce").fillna(0).to_numpy(np.int64)
        if "residents" in population.columns
        else np.zeros(len(population), np.int64)
    )
    comp = point_components(graph, population, max_snap_m=max_snap_m).to_numpy()
    off, island = comp < 0, comp > 0
    facilities_off: dict[str, int] = {}
    for name, frame in facilities.items():
        access, owner, _ = access_points(frame, entrances)
        reached = np.zeros(len(frame), dtype=bool)
        reached[owner[graph.snap(access, max_snap_m=max_snap_m).on_network]] = True
        facilities_off[name] = int((~reached).sum())
    return {
        "graph": graph.summary(),
        "max_snap_m": float(max_snap_m),
        "points_off_network": int(off.sum()),
        "residents_off_network": int(residents[off].sum()),
        "residents_on_islands": int(residents[island].sum()),
        "islands_with_residents": int(len(np.unique(comp[island & (residents > 0)]))),
        "facilities_off_network": facilities_off,
    }


def service_area(
    graph: WalkGraph,
    facilities: gpd.GeoDataFrame,
    *,
    radius_m: float,
    max_snap_m: float,
    buffer_m: float,
    each: bool = False,
    entrances: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The area reachable within `radius_m` of walk: reached road parts buffered by `buffer_m`.

    Method: multi-source Dijkstra (limited to the radius) gives every road node's walking
    distance; each segment contributes the part of it still within the radius from either end
    (partial segments are cut at the exact metre); those lines are buffered by `buffer_m`
    (the walk from the road to a door) and dissolved. Polygon facilities with `entrances` are
    reached at them only (:func:`access_points`). With `each`, one polygon per facility on the
    network (index of `facilities`; a facility's entrances together); otherwise one polygon
    for all of them.
    """
    crs = require_projected(facilities, "facilities")
    access, owner, _ = access_points(facilities, entrances)
    snap = graph.snap(access, max_snap_m=max_snap_m)
    d, aug = graph.node_distances(snap, limit=radius_m, each=each)
    polys = []
    for row in d:
        lines = graph.reached_lines(row, aug, radius_m)
        polys.append(
            shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4))
            if len(lines)
            else shapely.Polygon()
        )
    if each:
        of = owner[aug["source_pos"]]
        places, group = np.unique(of, return_inverse=True)
        if len(places) < len(of):  # a facility's entrances form one area
            areas = np.asarray(polys, dtype=object)
            polys = [shapely.union_all(areas[group == g]) for g in range(len(places))]
            of = places
        return gpd.GeoDataFrame(
            {"radius_m": float(radius_m)},
            geometry=gpd.GeoSeries(polys, crs=crs),
            index=facilities.index[of],
            crs=crs,
        )
    geom = polys[0] if polys else shapely.Polygon()
    reached = np.unique(owner[snap.on_network])
    return gpd.GeoDataFrame(
        {"radius_m": [float(radius_m)], "facilities": [len(reached)]},
        geometry=gpd.GeoSeries([geom], crs=crs),
        crs=crs,
    )


__all__ = [
    "NetworkError",
    "access_points",
    "entrances_of",
    "Snap",
    "Walk",
    "WalkGraph",
    "graph_from_roads",
    "network_nearest",
    "overstated",
    "walking_graph",
    "network_findings",
    "off_network",
    "point_components",
    "road_flags",
    "service_area",
]
