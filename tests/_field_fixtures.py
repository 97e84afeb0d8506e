"""Hand-made field reports for the field-report tests (times in UTC, places in EPSG:4546)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

METRIC = "EPSG:4546"
X0, Y0 = 500_000.0, 3_610_000.0  # a spot in central Shiyan in EPSG:4546

_TIME_COLUMNS = (
    "created_at",
    "state_at",
    "accepted_at",
    "dispatched_at",
    "handled_at",
    "checked_at",
    "closed_at",
)


def make_reports(rows: list[dict]) -> gpd.GeoDataFrame:
    """Reports from dicts with dx, dy (m from X0, Y0) and any report column.

    Defaults: category garbage, urgency ordinary, state new, street S1, community C1.
    """
    base = {
        "category": "garbage",
        "urgency": "ordinary",
        "state": "new",
        "street": "S1",
        "community": "C1",
        "district": "D1",
        "grid_code": "G1",
        "dx": 0.0,
        "dy": 0.0,
    }
    full = [{**base, **r} for r in rows]
    frame = pd.DataFrame(full)
    frame["report_id"] = frame.get("report_id", pd.Series([f"R{i + 1}" for i in range(len(full))]))
    for col in _TIME_COLUMNS:
        if col not in frame:
            frame[col] = None
        frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601")
    frame["state_at"] = frame["state_at"].fillna(frame["created_at"])
    geometry = gpd.points_from_xy(X0 + frame["dx"], Y0 + frame["dy"], crs=METRIC)
    return gpd.GeoDataFrame(frame.drop(columns=["dx", "dy"]), geometry=geometry).to_crs("EPSG:4326")
