"""The analysis caches in geo.index: bounded, counted, cleared together, and shared by a rerun."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import points

from geo import index
from geo.coverage import nearest_distance


def test_memo_keeps_at_most_size_and_drops_least_recent():
    memo = index.Memo("t", size=2, register=False)
    made = []
    for key in ["a", "b", "a", "c", "b"]:
        memo.get(key, lambda key=key: made.append(key) or key.upper())
    # "b" was dropped when "c" came (a was used more recently), so it is made twice
    assert made == ["a", "b", "c", "b"]
    assert (memo.hits, memo.misses, len(memo)) == (1, 4, 2)
    assert "a" not in memo and "b" in memo and "c" in memo


def test_memo_refuses_size_zero():
    with pytest.raises(ValueError, match="size must be at least 1"):
        index.Memo("t", size=0, register=False)


def test_identity_memo_forgets_dead_objects():
    memo = index.IdentityMemo("t", register=False)
    arr = np.arange(3)
    assert memo.get(arr, lambda: 1) == 1
    assert memo.get(arr, lambda: 2) == 1
    assert memo.get(np.arange(3), lambda: 3) == 3  # equal content, other object: a miss
    del arr
    memo.get(np.arange(4), lambda: 4)
    assert len(memo) <= 2
    assert (memo.hits, memo.misses) == (1, 3)


def test_rerun_reuses_point_set_tree_and_nearest_then_clear_forgets():
    crs = "EPSG:4546"
    pop = gpd.GeoDataFrame(geometry=points([(0, 0), (400, 0), (900, 0)]), crs=crs)
    fac = gpd.GeoDataFrame(geometry=points([(0, 300)]), crs=crs)
    index.clear()
    first = nearest_distance(pop, fac).tolist()
    s = index.stats()
    assert (s["nearest"].misses, s["kdtree"].misses, s["point_set"].misses) == (1, 1, 1)
    assert (
        nearest_distance(pop, fac).tolist()
        == first
        == [300.0, 500.0, pytest.approx(948.683, abs=1e-3)]
    )
    s = index.stats()
    assert (s["nearest"].hits, s["point_set"].hits) == (1, 1)
    assert s["kdtree"].misses == 1  # the tree was not built again
    index.clear()
    assert all(v.entries == 0 and v.hits == 0 for v in index.stats().values())
