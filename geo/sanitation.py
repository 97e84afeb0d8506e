"""Rural sanitation per administrative village, and roll-ups by township and county.

Per village:

* ``toilet_penetration`` = sanitary-toilet households / households, against
  ``profile.targets.sanitary_toilet_penetration``; a village exactly at the target meets it
  (a village with no households counts as meeting it: no household lacks a toilet).
* ``has_garbage_collection``: the ``garbage_collection`` flag is true, or a garbage point lies
  inside the village polygon, or is linked to the village by ``village_code``, or lies within
  ``profile.radii.garbage_point`` metres (the boundary counts) of the village centre (its point,
  or a polygon's representative point).
* ``has_sewage_treatment``: the ``sewage_treatment`` flag is true, or a sewage station lies in
  the village polygon or is linked to it by ``village_code``.

``below_target`` marks villages short of the toilet target or without garbage collection. The
sewage target is a share of villages (40% by default), so it is judged in the roll-ups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.areas import POLYGONAL, point_geometries
from geo.coverage import BOUNDARY_TOLERANCE_M, nearest_distance
from geo.crs import require_projected, same_crs
from geo.settings import Profile

_EPS = 1e-9


def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].astype("boolean").fillna(False).to_numpy(dtype=bool)


def _linked(villages: pd.DataFrame, facilities: pd.DataFrame) -> np.ndarray:
    """Villages named by some facility's ``village_code``."""
    if "village_code" not in facilities.columns or "village_code" not in villages.columns:
        return np.zeros(len(villages), dtype=bool)
    codes = facilities["village_code"].dropna().astype(str)
    return villages["village_code"].astype(str).isin(set(codes)).to_numpy()


def _inside(villages: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> np.ndarray:
    """Villages whose polygon holds at least one facility (point villages: never)."""
    out = np.zeros(len(villages), dtype=bool)
    polys = np.asarray(villages.geometry.values)
    is_poly = np.isin(shapely.get_type_id(polys), POLYGONAL)
    if not is_poly.any() or len(facilities) == 0:
        return out
    tree = shapely.STRtree(np.where(is_poly, polys, None))
    _, hit = tree.query(point_geometries(facilities), predicate="intersects")
    out[np.unique(hit)] = True
    return out


def _of_kind(facilities: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    if "kind" not in facilities.columns:
        return facilities.iloc[:0]
    return facilities[(facilities["kind"] == kind).to_numpy()]


def village_sanitation(
    villages: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, profile
) -> gpd.GeoDataFrame:
    """Sanitation status of every village (see the module docstring for the rules).

    Parameters
    ----------
    villages
        Villages (points or polygons) with ``households`` and ``sanitary_toilet_households``;
        optional ``garbage_collection`` and ``sewage_treatment`` flags. Projected CRS.
    facilities
        Sanitation facilities with ``kind`` (``garbage_point``, ``sewage_station``, ...) in the
        same CRS.
    profile
        City profile (``radii.garbage_point``, ``targets.sanitary_toilet_penetration``).

    Returns
    -------
    GeoDataFrame
        `villages` (same index, CRS, columns) plus ``toilet_penetration``,
        ``meets_toilet_target``, ``garbage_point_distance_m``, ``has_garbage_collection``,
        ``has_sewage_treatment``, ``below_target`` and ``shortfalls`` (text; ``shortfalls_zh`` in Chinese).
    """
    same_crs(villages, facilities, names=("villages", "sanitation_facilities"))
    target = float(profile.targets.sanitary_toilet_penetration)
    radius = float(profile.radii.garbage_point)
    out = villages.copy()
    hh = pd.to_numeric(villages["households"], errors="coerce").astype("float64").to_numpy()
    san = (
        pd.to_numeric(villages["sanitary_toilet_households"], errors="coerce")
        .astype("float64")
        .to_numpy()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        pen = np.where(hh > 0, san / np.where(hh > 0, hh, 1), np.nan)
    meets = np.where(np.isnan(pen), np.nan_to_num(hh, nan=0) == 0, pen >= target - _EPS)

    garbage = _of_kind(facilities, "garbage_point")
    centres = gpd.GeoDataFrame(
        geometry=point_geometries(villages), crs=villages.crs, index=villages.index
    )
    dist = nearest_distance(centres, garbage).to_numpy()
    near = dist <= radius + BOUNDARY_TOLERANCE_M
    has_garbage = _flag(villages, "garbage_collection") | near | _inside(villages, garbage)
    has_garbage |= _linked(villages, garbage)

    sewage = _of_kind(facilities, "sewage_station")
    has_sewage = (
        _flag(villages, "sewage_treatment") | _inside(villages, sewage) | _linked(villages, sewage)
    )

    out["toilet_penetration"] = pen
    out["meets_toilet_target"] = meets.astype(bool)
    out["garbage_point_distance_m"] = dist
    out["has_garbage_collection"] = has_garbage
    out["has_sewage_treatment"] = has_sewage
    out["below_target"] = ~out["meets_toilet_target"].to_numpy() | ~has_garbage

    pct = pd.Series(np.round(pen * 100, 1), index=villages.index).astype(str)
    lacks = (~meets.astype(bool), ~has_garbage, ~has_sewage)
    out["shortfalls"] = _shortfalls(
        villages.index,
        lacks,
        (
            "toilets " + pct + f"% < {target * 100:g}%",
            "no garbage collection",
            "no sewage treatment",
        ),
        "; ",
    )
    out["shortfalls_zh"] = _shortfalls(
        villages.index,
        lacks,
        ("卫生厕所 " + pct + f"% < {target * 100:g}%", "无垃圾收运", "无污水处理"),
        "；",
    )
    return out


def _shortfalls(index: pd.Index, lacks: tuple, texts: tuple, sep: str) -> pd.Series:
    """Per village, the texts of the shortfalls it has, joined with `sep` ("" when none)."""
    parts = [
        pd.Series(np.where(lack, text, ""), index=index, dtype=object)
        for lack, text in zip(lacks, texts, strict=True)
    ]
    joined = parts[0].str.cat(parts[1:], sep=sep)
    return joined.str.replace(f"({sep})+", sep, regex=True).str.strip(sep)


def sanitation_rollup(
    village_result: gpd.GeoDataFrame, *, profile: Profile, by: str = "township"
) -> pd.DataFrame:
    """Shares of villages meeting each target per ``township`` (within its county) or ``county``.

    Returns a table with villages, households, household-weighted ``toilet_penetration``,
    ``share_meeting_toilet``, ``share_with_garbage``, ``share_with_sewage`` and whether the
    garbage (``targets.villages_with_garbage_collection``) and sewage
    (``targets.villages_with_sewage_treatment``) shares meet their targets.
    """
    if isinstance(village_result, gpd.GeoDataFrame):
        require_projected(village_result, "village_result")
    if by not in ("township", "county"):
        raise ValueError("by must be 'township' or 'county'")
    keys = ["county", "township"] if by == "township" else ["county"]
    frame = pd.DataFrame({k: village_result[k].astype(object).to_numpy() for k in keys})
    frame["villages"] = 1
    frame["households"] = (
        pd.to_numeric(village_result["households"], errors="coerce").fillna(0).to_numpy()
    )
    frame["sanitary_toilet_households"] = (
        pd.to_numeric(village_result["sanitary_toilet_households"], errors="coerce")
        .fillna(0)
        .to_numpy()
    )
    frame["villages_meeting_toilet"] = village_result["meets_toilet_target"].to_numpy(dtype=int)
    frame["villages_with_garbage"] = village_result["has_garbage_collection"].to_numpy(dtype=int)
    frame["villages_with_sewage"] = village_result["has_sewage_treatment"].to_numpy(dtype=int)
    frame["villages_below_target"] = village_result["below_target"].to_numpy(dtype=int)
    table = frame.groupby(keys, dropna=False, sort=True).sum()
    for col in ("households", "sanitary_toilet_households"):
        table[col] = table[col].astype(np.int64)
    hh = table["households"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        table["toilet_penetration"] = np.where(
            hh > 0, table["sanitary_toilet_households"] / np.maximum(hh, 1), np.nan
        )
    v = table["villages"]
    table["share_meeting_toilet"] = table["villages_meeting_toilet"] / v
    table["share_with_garbage"] = table["villages_with_garbage"] / v
    table["share_with_sewage"] = table["villages_with_sewage"] / v
    t = profile.targets
    table["meets_garbage_target"] = (
        table["share_with_garbage"] >= t.villages_with_garbage_collection - _EPS
    )
    table["meets_sewage_target"] = (
        table["share_with_sewage"] >= t.villages_with_sewage_treatment - _EPS
    )
    table["meets_toilet_target"] = (
        table["toilet_penetration"] >= t.sanitary_toilet_penetration - _EPS
    )
    return table


@dataclass
class SanitationResult:
    """Per-village status and roll-ups by township and county."""

    villages: gpd.GeoDataFrame
    township: pd.DataFrame
    county: pd.DataFrame

    @property
    def below_target(self) -> gpd.GeoDataFrame:
        return self.villages[self.villages["below_target"].to_numpy()]

    def summary(self) -> dict[str, Any]:
        v = self.villages
        n = len(v)
        hh = float(pd.to_numeric(v["households"], errors="coerce").fillna(0).sum()) if n else 0.0
        san = (
            float(pd.to_numeric(v["sanitary_toilet_households"], errors="coerce").fillna(0).sum())
            if n
            else 0.0
        )

        def share(col: str) -> float | None:
            return round(float(v[col].mean()), 6) if n else None

        return {
            "villages": n,
            "villages_below_target": int(v["below_target"].sum()) if n else 0,
            "toilet_penetration": round(san / hh, 6) if hh else None,
            "share_meeting_toilet": share("meets_toilet_target"),
            "share_with_garbage": share("has_garbage_collection"),
            "share_with_sewage": share("has_sewage_treatment"),
            "townships": len(self.township),
            "townships_meeting_garbage": int(self.township["meets_garbage_target"].sum())
            if n
            else 0,
            "counties": len(self.county),
        }


def sanitation_all(
    villages: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, profile
) -> SanitationResult:
    """Village status plus township and county roll-ups (inputs in the metric CRS)."""
    result = village_sanitation(villages, facilities, profile)
    return SanitationResult(
        villages=result,
        township=sanitation_rollup(result, by="township", profile=profile),
        county=sanitation_rollup(result, by="county", profile=profile),
    )
