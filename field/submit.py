"""Checking a report from the form and filing it under its grid, community and street.

Rules (all problems are collected and raised together as :class:`ReportError`):

* category and urgency from the profile; description at most ``description_max_chars``;
* a location (WGS84 lon/lat) inside the city's bounding box (``[city] bbox``);
* the location falls in a grid, which gives grid, community, street and district; a rural
  category outside every grid is filed under the nearest village within ``village_match_m``
  (community = village, street = township, district = county);
* the location must lie in the reporter's scope: a report outside the worker's own grids is
  **refused** with a message naming the grid it falls in (design choice: refusing keeps
  workers' reports in their own grids and keeps scope rules simple);
* at most ``photos_per_report`` photos.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from field.settings import URGENCIES, FieldRules
from field.store import NewReport
from geo.crs import LONLAT_CRS, to_metric
from geo.settings import Profile

AREA_COLUMNS = ("grid_code", "community", "street", "district")
ScopeFilter = Callable[[pd.DataFrame], pd.Series]


class ReportError(ValueError):
    """A report from the form that cannot be filed; the message lists every problem.

    ``problems`` holds (Chinese, English) pairs; the exception's text is the English ones.
    """

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(en for _, en in problems))

    def texts(self, lang: str = "zh") -> list[str]:
        return [zh if lang == "zh" else en for zh, en in self.problems]


def locate(
    lon: float,
    lat: float,
    grids: gpd.GeoDataFrame,
    *,
    villages: gpd.GeoDataFrame | None = None,
    rural: bool = False,
    rules: FieldRules,
    metric_crs: str = "EPSG:4546",
) -> dict[str, Any]:
    """Grid, community, street and district of the point (None for each when not found)."""
    point = shapely.Point(lon, lat)
    out: dict[str, Any] = dict.fromkeys(AREA_COLUMNS)
    grids = grids.to_crs(LONLAT_CRS) if grids.crs and not grids.crs.equals(LONLAT_CRS) else grids
    hits = grids.sindex.query(point, predicate="intersects")
    if len(hits):
        row = grids.iloc[int(np.sort(hits)[0])]
        for col in AREA_COLUMNS:
            out[col] = None if pd.isna(row.get(col)) else str(row.get(col))
        return out
    if rural and villages is not None and not villages.empty:
        pt = to_metric(gpd.GeoSeries([point], crs=LONLAT_CRS), metric_crs)
        vm = to_metric(villages, metric_crs, name="villages")
        dist = vm.distance(pt.iloc[0])
        if dist.min() <= rules.village_match_m:
            village = villages.loc[dist.idxmin()]
            out.update(
                community=village.get("name"),
                street=village.get("township"),
                district=village.get("county"),
            )
    return out


def check_report(
    form: dict[str, Any],
    *,
    rules: FieldRules,
    profile: Profile,
    grids: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame | None = None,
    in_scope: ScopeFilter | None = None,
    n_photos: int = 0,
) -> NewReport:
    """Check a submitted form and return the report to store (see module doc)."""
    problems: list[tuple[str, str]] = []
    submission_id = str(form.get("submission_id") or "").strip()
    if not 8 <= len(submission_id) <= 64:
        problems.append(
            ("表单编号缺失，请刷新页面", "submission_id: missing or malformed (reload the form)")
        )
    category = str(form.get("category") or "")
    cat = None
    if category not in rules.category_keys:
        problems.append(
            (
                f"类别“{category}”无效，请选择类别",
                f"category: {category!r} is not one of {', '.join(rules.category_keys)}",
            )
        )
    else:
        cat = rules.category(category)
    urgency = str(form.get("urgency") or "ordinary")
    if urgency not in URGENCIES:
        problems.append(
            (
                f"紧急程度“{urgency}”无效",
                f"urgency: {urgency!r} is not one of {', '.join(URGENCIES)}",
            )
        )
    description = str(form.get("description") or "").strip()
    if len(description) > rules.description_max_chars:
        problems.append(
            (
                f"描述 {len(description):,} 字，最多 {rules.description_max_chars:,} 字",
                f"description: {len(description):,} characters, at most "
                f"{rules.description_max_chars:,} allowed",
            )
        )
    if n_photos > rules.photos_per_report:
        problems.append(
            (
                f"照片 {n_photos} 张，最多 {rules.photos_per_report} 张",
                f"photos: {n_photos} given, at most {rules.photos_per_report} allowed",
            )
        )
    lon, lat = _number(form.get("lon")), _number(form.get("lat"))
    area: dict[str, Any] = dict.fromkeys(AREA_COLUMNS)
    if lon is None or lat is None:
        problems.append(
            (
                "请在地图上点选位置或使用手机定位",
                "location: tap the map or use the phone's position",
            )
        )
    else:
        x0, y0, x1, y1 = profile.city.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            problems.append(
                (
                    f"位置 {lon:.5f}, {lat:.5f} 不在{profile.city.name_zh}范围内",
                    f"location: {lon:.5f}, {lat:.5f} is outside {profile.city.name_en} "
                    f"({profile.city.name_zh})",
                )
            )
        else:
            area = locate(
                lon,
                lat,
                grids,
                villages=villages,
                rural=bool(cat and cat.rural),
                rules=rules,
                metric_crs=profile.metric_crs,
            )
            if area["street"] is None:
                problems.append(
                    (
                        "位置不在任何网格内（农村类事件须在村庄附近）",
                        "location: not inside any grid (or near a village for rural)",
                    )
                )
            elif in_scope is not None and not bool(in_scope(pd.DataFrame([area])).iloc[0]):
                where = area["grid_code"] or area["community"]
                problems.append(
                    (
                        f"位置在 {where}（{area['community']}），不是您负责的网格；"
                        "只能上报自己网格内的事件",
                        f"location: falls in {where} ({area['community']}), which is not in "
                        "your grids; report only in your own grids",
                    )
                )
    if problems:
        raise ReportError(problems)
    return NewReport(
        submission_id=submission_id,
        category=category,
        urgency=urgency,
        description=description,
        lon=float(lon),
        lat=float(lat),
        **area,
    )


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
