"""Spatial indexes of the analysis and their caches, in one place.

The analysis reuses a few expensive structures many times in one run and across reruns: a
cKDTree over a facility set, a :class:`PolygonIndex` over polygon facilities, the coordinates of
a population frame, nearest-facility arrays, the cell layout of the shelter allocation and the
walking graph. Each is kept in a named, bounded :class:`Memo` (least recently used entries go
first) or, for "the same frame again", an :class:`IdentityMemo` keyed by the object itself.
Every memo is registered, so :func:`clear` forgets all of them and :func:`stats` tells how often
each was hit, which is what tests use to prove that a rerun reuses work.

Examples
--------
>>> memo = Memo("example", size=2, register=False)
>>> memo.get("a", lambda: 1), memo.get("a", lambda: 2), (memo.hits, memo.misses)
(1, 1, (1, 1))
"""

from __future__ import annotations

import contextlib
import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo.areas import point_geometries

T = TypeVar("T")

MEMOS: dict[str, Memo | IdentityMemo] = {}
"""Every registered cache of the analysis by name (cleared by :func:`clear`)."""


class Memo(Generic[T]):
    """A named cache of at most `size` values, least recently used first out, with counters.

    Parameters
    ----------
    name
        Name under which :func:`stats` reports it (unique among registered memos).
    size
        Most entries kept; at least 1.
    register
        Register in :data:`MEMOS` so :func:`clear` and :func:`stats` see it.
    """

    def __init__(self, name: str, *, size: int, register: bool = True):
        if size < 1:
            raise ValueError(f"memo {name!r}: size must be at least 1, not {size}")
        self.name = name
        self.size = size
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[str, T] = OrderedDict()
        if register:
            MEMOS[name] = self

    def get(self, key: str, make: Callable[[], T]) -> T:
        """The value stored under `key`, made by ``make()`` (and stored) on a miss."""
        if key in self._data:
            self.hits += 1
            self._data.move_to_end(key)
            return self._data[key]
        self.misses += 1
        value = make()
        self._data[key] = value
        if len(self._data) > self.size:
            self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def clear(self) -> None:
        """Forget every entry and reset the counters."""
        self._data.clear()
        self.hits = self.misses = 0


class IdentityMemo(Generic[T]):
    """A cache keyed by an object's identity, holding an entry only while the object lives.

    For "the same frame again" shortcuts where even a digest costs too much. Objects that cannot
    be weakly referenced are not cached.
    """

    def __init__(self, name: str, *, register: bool = True):
        self.name = name
        self.hits = 0
        self.misses = 0
        self._data: dict[int, tuple[weakref.ref, T]] = {}
        if register:
            MEMOS[name] = self

    def get(self, obj: object, make: Callable[[], T]) -> T:
        """The value stored for `obj`, made by ``make()`` (and stored) on a miss."""
        hit = self._data.get(id(obj))
        if hit is not None and hit[0]() is obj:
            self.hits += 1
            return hit[1]
        self.misses += 1
        value = make()
        for key in [k for k, v in self._data.items() if v[0]() is None]:
            del self._data[key]
        with contextlib.suppress(TypeError):  # not weak-referenceable: do not cache
            self._data[id(obj)] = (weakref.ref(obj), value)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        """Forget every entry and reset the counters."""
        self._data.clear()
        self.hits = self.misses = 0


@dataclass(frozen=True)
class MemoStats:
    """Counters of one memo: ``hits``, ``misses`` and the ``entries`` it holds now."""

    hits: int
    misses: int
    entries: int


def stats() -> dict[str, MemoStats]:
    """Counters of every registered memo, by name."""
    return {name: MemoStats(m.hits, m.misses, len(m)) for name, m in MEMOS.items()}


def clear() -> None:
    """Forget every registered cache (KD-trees, polygon indexes, point sets, nearest, ...)."""
    for memo in MEMOS.values():
        memo.clear()


# --------------------------------------------------------------------------- digests
def digest(*arrays: np.ndarray) -> str:
    """A short hash of the arrays' shapes and bytes (the key of content-keyed caches)."""
    h = hashlib.blake2b(digest_size=16)
    for arr in arrays:
        arr = np.ascontiguousarray(arr)
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def geometry_digest(geoms: np.ndarray) -> str:
    """:func:`digest` of geometries: their types, coordinate counts and coordinates."""
    return digest(
        shapely.get_type_id(geoms),
        shapely.get_num_coordinates(geoms),
        shapely.get_coordinates(geoms),
    )


# --------------------------------------------------------------------------- indexes
class PolygonIndex:
    """Polygon (or line) facilities indexed by a cKDTree over representative points.

    Each polygon holds its representative point ``c`` and lies within ``reach`` metres of it
    (the farthest vertex), so for any point ``p``: ``|p - c| - reach <= d(p, polygon) <= |p - c|``.
    These bounds select the few polygons whose exact distance must be computed.
    """

    def __init__(self, geoms: np.ndarray):
        self.geoms = geoms
        centres = shapely.point_on_surface(geoms)
        self.xy = np.column_stack([shapely.get_x(centres), shapely.get_y(centres)])
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        spread = np.hypot(*(coords - self.xy[owner]).T)
        self.reach = np.zeros(len(geoms))
        np.maximum.at(self.reach, owner, spread)
        self.reach_max = float(self.reach.max()) if len(geoms) else 0.0
        self.tree = cKDTree(self.xy)

    def distance(self, pts: np.ndarray, which: np.ndarray) -> np.ndarray:
        """Exact distance from each point to polygon ``which`` (0 inside)."""
        return shapely.distance(pts, self.geoms[which])

    def nearest(
        self, xy: np.ndarray, pts: np.ndarray, *, upper: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact distance to and position of the nearest polygon for each point, where it is
        nearer than `upper` (e.g. the distance to the nearest point facility); elsewhere
        ``upper`` and -1 are returned.

        Candidates come from the 2 nearest centres, then (only for points where a farther
        polygon could still be nearer) the 8 nearest, then GEOS ``query_nearest``.
        """
        n, m = len(xy), len(self.geoms)
        best = np.full(n, np.inf) if upper is None else np.asarray(upper, float).copy()
        arg = np.full(n, -1, dtype=np.int64)
        rows = np.arange(n)
        for k in (2, 8):  # widening candidate lists, each for the points still undecided
            k = min(k, m)
            dc, cand = self.tree.query(xy[rows], k=k, workers=-1)
            dc, cand = dc.reshape(len(rows), k), cand.reshape(len(rows), k)
            for c in range(k):  # candidate rank: exact distance only where it may be nearer
                sel = np.flatnonzero(dc[:, c] - self.reach[cand[:, c]] < best[rows])
                if len(sel) == 0:
                    continue
                d = self.distance(pts[rows[sel]], cand[sel, c])
                better = d < best[rows[sel]]
                best[rows[sel[better]]] = d[better]
                arg[rows[sel[better]]] = cand[sel[better], c]
            if k == m:
                return best, arg
            # a polygon beyond the k nearest centres may still be nearer for these points
            rows = rows[dc[:, k - 1] - self.reach_max < best[rows]]
            if len(rows) == 0:
                return best, arg
        tree = shapely.STRtree(self.geoms)
        (src, dst), d = tree.query_nearest(pts[rows], return_distance=True, all_matches=False)
        better = d < best[rows[src]]
        best[rows[src[better]]] = d[better]
        arg[rows[src[better]]] = dst[better]
        return best, arg

    def within(
        self, points_tree: cKDTree, pts: np.ndarray, radius: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(point_index, polygon_index)`` pairs with ``d(point, polygon) <= radius``."""
        pairs = self.tree.sparse_distance_matrix(
            points_tree, radius + self.reach_max, output_type="ndarray"
        )
        fi, pi, dc = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64), pairs["v"]
        sure = dc <= radius
        band = np.flatnonzero(~sure & (dc - self.reach[fi] <= radius))
        exact = self.distance(pts[pi[band]], fi[band]) <= radius
        keep = sure.copy()
        keep[band[exact]] = True
        return pi[keep], fi[keep]


TREES: Memo[cKDTree] = Memo("kdtree", size=32)
POLYGONS: Memo[PolygonIndex] = Memo("polygon_index", size=32)
POINT_SETS: IdentityMemo[tuple[np.ndarray, np.ndarray, str]] = IdentityMemo("point_set")


def kdtree(xy: np.ndarray) -> cKDTree:
    """A cKDTree over `xy`, cached by the coordinates' bytes (facility sets are reused a lot)."""
    xy = np.ascontiguousarray(xy, dtype=np.float64)
    return TREES.get(digest(xy), lambda: cKDTree(xy))


def polygon_index(geoms: np.ndarray) -> PolygonIndex:
    """A :class:`PolygonIndex` over `geoms`, cached by geometry."""
    return POLYGONS.get(geometry_digest(geoms), lambda: PolygonIndex(geoms))


def point_set(points) -> tuple[np.ndarray, np.ndarray, str]:
    """``(xy, point geometries, digest)`` of a frame's points, cached per geometry array."""

    def make() -> tuple[np.ndarray, np.ndarray, str]:
        pts = point_geometries(points)
        xy = (
            np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])
            if len(pts)
            else np.zeros((0, 2))
        )
        return xy, pts, digest(xy)

    return POINT_SETS.get(points.geometry.values, make)
