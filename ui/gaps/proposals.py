"""Proposed facilities of the what-if, kept as a list of dicts in session state."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.crs import LONLAT_CRS
from ui.gaps.keys import PROPOSALS
from ui.i18n import tr


def proposal_frame() -> gpd.GeoDataFrame:
    """The proposals of this session as points (EPSG:4326)."""
    rows = st.session_state.get(PROPOSALS, [])
    columns = ["lon", "lat", "kind", "name", "shelter_class", "effective_area_m2", "capacity"]
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=LONLAT_CRS
    )


def add_proposal(
    lon: float,
    lat: float,
    kind: str,
    name: str,
    shelter_class: str | None,
    area: float,
    capacity: int,
) -> None:
    """Append one proposal (WGS84 lon/lat) to the list in session state."""
    rows = list(st.session_state.get(PROPOSALS, []))
    rows.append(
        {
            "lon": round(float(lon), 6),
            "lat": round(float(lat), 6),
            "kind": kind,
            "name": name or f"{tr('拟建', 'Proposed')} {len(rows) + 1}",
            "shelter_class": shelter_class,
            "effective_area_m2": float(area) if area else None,
            "capacity": int(capacity) if capacity else None,
        }
    )
    st.session_state[PROPOSALS] = rows
