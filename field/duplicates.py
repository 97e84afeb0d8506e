"""Possible duplicates: nearby open reports of the same category.

Two reports are possible duplicates when they share a category, are within
``duplicate_radius_m`` of each other (metric CRS) and were filed within
``duplicate_window_days`` of each other, and the candidate is still open
(new, accepted, dispatched). Staff decide; nothing is merged automatically.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from field.periods import to_utc
from field.settings import FieldRules
from field.states import OPEN_STATES
from geo.crs import to_metric

PAIR_COLUMNS = ["report_id", "candidate_id", "distance_m", "days_apart"]


def _xy(frame: gpd.GeoDataFrame, metric_crs: str) -> np.ndarray:
    metric = to_metric(frame, metric_crs, name="reports")
    return np.column_stack([metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()])


def possible_duplicates(
    targets: gpd.GeoDataFrame,
    reports: gpd.GeoDataFrame,
    rules: FieldRules,
    *,
    metric_crs: str = "EPSG:4546",
) -> pd.DataFrame:
    """Open reports in `reports` that may duplicate each report in `targets`.

    Returns one row per pair (``report_id``, ``candidate_id``, ``distance_m``,
    ``days_apart``), nearest first; a report is never its own candidate.
    """
    pool = reports[reports["state"].isin(OPEN_STATES)]
    if targets.empty or pool.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    t_xy, p_xy = _xy(targets, metric_crs), _xy(pool, metric_crs)
    t_time, p_time = to_utc(targets["created_at"]), to_utc(pool["created_at"])
    rows = []
    for cat in targets["category"].unique():
        t_idx = np.flatnonzero(targets["category"].to_numpy() == cat)
        p_idx = np.flatnonzero(pool["category"].to_numpy() == cat)
        if not p_idx.size:
            continue
        tree = cKDTree(p_xy[p_idx])
        hits = tree.query_ball_point(t_xy[t_idx], r=rules.duplicate_radius_m)
        for ti, found in zip(t_idx, hits, strict=True):
            for pj in p_idx[np.asarray(found, dtype=int)]:
                rows.append((ti, pj))
    if not rows:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    ti, pj = np.array(rows).T
    days = np.abs(t_time.iloc[ti].to_numpy() - p_time.iloc[pj].to_numpy()) / np.timedelta64(1, "D")
    out = pd.DataFrame(
        {
            "report_id": targets["report_id"].to_numpy()[ti],
            "candidate_id": pool["report_id"].to_numpy()[pj],
            "distance_m": np.hypot(*(t_xy[ti] - p_xy[pj]).T),
            "days_apart": days.astype(float),
        }
    )
    keep = (out["report_id"] != out["candidate_id"]) & (
        out["days_apart"] <= rules.duplicate_window_days
    )
    return out[keep].sort_values(["report_id", "distance_m"]).reset_index(drop=True)
