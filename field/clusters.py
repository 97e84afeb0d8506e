"""Recurring problems: places with repeated reports of the same category.

Rule (documented in the profile, ``[field]``): over the last ``cluster_periods`` quarters up
to and including the chosen one, reports of one category are linked when they lie within
``cluster_radius_m`` of each other (metric CRS); a connected group (single linkage, like
DBSCAN with ``min_samples=1``) with at least ``cluster_min_reports`` reports is a recurring
problem. Rejected and duplicate reports do not count (a duplicate is the same event).
Neighbours are found with a KD-tree, so a year of reports takes well under a second.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from field.periods import period_of, shift_period
from field.settings import FieldRules
from field.states import DROPPED_STATES
from geo.crs import LONLAT_CRS, to_metric

CLUSTER_COLUMNS = [
    "cluster_id",
    "category",
    "n_reports",
    "first_at",
    "last_at",
    "radius_m",
    "street",
    "community",
    "report_ids",
    "geometry",
]


def cluster_labels(xy: np.ndarray, radius_m: float) -> np.ndarray:
    """Single-linkage groups of points closer than `radius_m`: a group number per point."""
    n = len(xy)
    if n == 0:
        return np.zeros(0, dtype=int)
    pairs = cKDTree(xy).query_pairs(r=radius_m, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def recurring_problems(
    reports: gpd.GeoDataFrame,
    rules: FieldRules,
    *,
    period: str,
    metric_crs: str = "EPSG:4546",
) -> gpd.GeoDataFrame:
    """Recurring problems up to `period` (see module doc), largest first, in EPSG:4326.

    The point of each cluster is the mean of its reports; ``radius_m`` is the largest distance
    of a report from it; ``street`` / ``community`` are the most common among its reports.
    """
    periods = {shift_period(period, -k) for k in range(rules.cluster_periods)}
    live = reports[~reports["state"].isin(DROPPED_STATES).to_numpy()]
    live = live[period_of(live["created_at"]).isin(periods).to_numpy()]
    empty = gpd.GeoDataFrame({c: [] for c in CLUSTER_COLUMNS[:-1]}, geometry=[], crs=LONLAT_CRS)
    if live.empty:
        return empty
    metric = to_metric(live, metric_crs, name="reports")
    xy = np.column_stack([metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()])
    cats = live["category"].to_numpy(dtype=object)
    group = np.full(len(live), -1, dtype=np.int64)
    offset = 0
    for cat in pd.unique(cats):
        idx = np.flatnonzero(cats == cat)
        labels = cluster_labels(xy[idx], rules.cluster_radius_m)
        sizes = np.bincount(labels)
        big = sizes[labels] >= rules.cluster_min_reports
        group[idx[big]] = labels[big] + offset
        offset += len(sizes)
    members = group >= 0
    if not members.any():
        return empty
    rows = pd.DataFrame(
        {
            "group": group[members],
            "category": cats[members],
            "created_at": live["created_at"].to_numpy()[members],
            "street": live["street"].to_numpy(dtype=object)[members],
            "community": live["community"].to_numpy(dtype=object)[members],
            "report_id": live["report_id"].astype(str).to_numpy(dtype=object)[members],
            "x": xy[members, 0],
            "y": xy[members, 1],
        }
    )
    by = rows.groupby("group", sort=False)
    centre_x, centre_y = by["x"].transform("mean"), by["y"].transform("mean")
    rows["dist"] = np.hypot(rows["x"] - centre_x, rows["y"] - centre_y)
    frame = by.agg(
        category=("category", "first"),
        n_reports=("report_id", "size"),
        first_at=("created_at", "min"),
        last_at=("created_at", "max"),
        radius_m=("dist", "max"),
        report_ids=("report_id", ",".join),
        x=("x", "mean"),
        y=("y", "mean"),
    )
    frame["street"] = _modes(rows, "street")
    frame["community"] = _modes(rows, "community")
    frame = frame.sort_values(["n_reports", "category"], ascending=[False, True], kind="stable")
    geometry = gpd.points_from_xy(frame["x"], frame["y"], crs=metric_crs)
    result = gpd.GeoDataFrame(frame.drop(columns=["x", "y"]), geometry=geometry).to_crs(LONLAT_CRS)
    result.insert(0, "cluster_id", [f"C{i + 1:03d}" for i in range(len(result))])
    return result.reset_index(drop=True)[CLUSTER_COLUMNS]


def _modes(rows: pd.DataFrame, column: str) -> pd.Series:
    """Most common value of `column` per group (None where all are missing)."""
    counts = rows.dropna(subset=[column]).groupby(["group", column]).size()
    if counts.empty:
        return pd.Series(None, index=rows["group"].unique(), dtype=object)
    top = counts.sort_values(ascending=False, kind="stable").reset_index()
    return top.drop_duplicates("group").set_index("group")[column]
