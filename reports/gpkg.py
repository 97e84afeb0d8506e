"""GeoPackage export of the gap layers, for QGIS or ArcGIS (EPSG:4326, one layer per gap kind)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from data.store import GeoPackageStore


def write_gpkg(
    gaps: Mapping[str, gpd.GeoDataFrame],
    path: str | os.PathLike,
    *,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> list[str]:
    """Write every non-empty gap layer (and optional attribute tables) to a new GeoPackage.

    An existing file at `path` is replaced. Returns the names of the layers written.
    """
    path = Path(path)
    frames: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {
        name: frame for name, frame in gaps.items() if frame is not None and len(frame)
    }
    frames.update({name: t for name, t in (tables or {}).items() if t is not None and len(t)})
    if path.exists():
        path.unlink()
    GeoPackageStore(path).write(frames)
    return list(frames)
