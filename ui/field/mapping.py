"""Report points on a folium map: one GeoJSON layer per state (fast for thousands of points)."""

from __future__ import annotations

import folium
import geopandas as gpd

from field import states
from maps.display import shift_for_basemap
from maps.render import GridMap


def add_state_points(
    m: GridMap, reports: gpd.GeoDataFrame, *, lang: str, radius: float = 4.0
) -> None:
    """Reports as circles coloured by state; overdue ones (column ``overdue``) ringed in black."""
    frame = shift_for_basemap(reports, m.offsets)
    late = frame["overdue"] if "overdue" in frame.columns else None
    for state_name in states.STATES:
        mask = (frame["state"] == state_name).to_numpy()
        if not mask.any():
            continue
        part = gpd.GeoDataFrame(
            {
                "report_id": frame["report_id"].astype(str).to_numpy()[mask],
                "late": (late.to_numpy()[mask] if late is not None else [False] * mask.sum()),
            },
            geometry=frame.geometry.to_numpy()[mask],
            crs=frame.crs,
        )
        color = states.STATE_COLORS[state_name]
        folium.GeoJson(
            part.to_json(),
            name=states.state_label(state_name, lang),
            marker=folium.CircleMarker(radius=radius, fill=True, fill_opacity=0.85, weight=1),
            style_function=lambda f, color=color: {
                "fillColor": color,
                "color": "#000000" if f["properties"]["late"] else color,
                "weight": 2 if f["properties"]["late"] else 1,
            },
            tooltip=folium.GeoJsonTooltip(["report_id"], labels=False),
        ).add_to(m)
