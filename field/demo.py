"""Synthetic field reports and household visits for the demo store (labelled synthetic).

A quarter of reports per demo period with a believable mix: urban garbage reports where
residents live far from a garbage point, shelter and neighbourhood-centre reports at those
facilities, public-toilet reports at toilets, rural reports at villages without sanitary
toilets or sewage treatment, a few places reported again and again (recurring problems), and
two streets that handle reports slowly in both periods (so the "ranked last twice" rule has
something to flag). Closure times follow each category's limit; some reports are late and
some of the last weeks' reports are still open. Visits are counts per grid and month (the
demo keeps no household list). Draws use their own random stream, so the rest of the demo is
unchanged.
"""

from __future__ import annotations

import zlib

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from field.periods import period_bounds
from field.settings import FieldRules
from field.store import REPORT_COLUMNS
from geo.crs import LONLAT_CRS, to_metric

REPORTS_PER_1000_RESIDENTS = 2.0
"""Reports per 1,000 residents per quarter (about 2,000 a quarter for the demo city)."""
CATEGORY_SHARES = {
    "garbage": 0.30,
    "public_toilet": 0.10,
    "shelter": 0.06,
    "neighborhood_center": 0.06,
    "rural_toilet": 0.05,
    "rural_garbage": 0.07,
    "rural_sewage": 0.05,
    "resident_request": 0.20,
    "safety_hazard": 0.11,
}
DESCRIPTIONS = {
    "garbage": [
        "垃圾桶满溢未清运",
        "路边堆放建筑垃圾",
        "小区垃圾点异味大",
        "垃圾收集点太远，居民乱扔",
    ],
    "public_toilet": ["公厕保洁不及时", "公厕洗手池损坏", "公厕夜间未开放"],
    "shelter": ["避难场所指示牌缺失", "避难场所大门上锁", "应急物资柜空置"],
    "neighborhood_center": ["邻里中心活动室未开放", "邻里中心无障碍坡道损坏"],
    "rural_toilet": ["户厕化粪池渗漏", "村公厕无人管护"],
    "rural_garbage": ["村垃圾收集点满溢", "河沟旁倾倒垃圾"],
    "rural_sewage": ["村污水排口溢流", "污水管网堵塞"],
    "resident_request": ["居民反映楼道灯不亮", "居民反映噪音扰民", "居民咨询养老服务"],
    "safety_hazard": ["井盖缺失", "电动车楼道充电", "广告牌松动"],
}
SLOW_STREETS = 2
"""Streets that are slow in both periods (their handling takes three times as long)."""


def _rng(seed: int, part: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"field:{part}".encode())])


def _xy(frame: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    metric = to_metric(frame, crs)
    pts = metric.geometry.representative_point()
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])


def demo_field_tables(
    layers: dict[str, gpd.GeoDataFrame],
    rules: FieldRules,
    *,
    periods: tuple[str, ...],
    seed: int = 2026,
    metric_crs: str = "EPSG:4546",
    per_1000: float = REPORTS_PER_1000_RESIDENTS,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Reports, steps and visits for `periods` (oldest first) from the demo `layers`.

    `per_1000` sets the reports per 1,000 residents per quarter (benchmarks raise it).
    """
    grids = layers["grids"]
    streets = sorted(grids["street"].dropna().unique())
    slow = set(
        _rng(seed, "slow").choice(streets, size=min(SLOW_STREETS, len(streets)), replace=False)
    )
    places = _places(layers, metric_crs)
    reports, steps = [], []
    for i, period in enumerate(periods):
        rng = _rng(seed, f"reports:{period}")
        last = i == len(periods) - 1
        frame = _reports_for(
            period,
            places,
            layers,
            rules,
            rng,
            slow,
            last=last,
            metric_crs=metric_crs,
            per_1000=per_1000,
        )
        reports.append(frame)
    out = pd.concat(reports, ignore_index=True)
    out["report_id"] = [f"EV-DEMO-{n + 1:06d}" for n in range(len(out))]
    out["submission_id"] = [f"demo-{seed}-{n + 1:06d}" for n in range(len(out))]
    steps = _steps(out)
    visits = _visits(grids, periods, seed)
    return out[list(REPORT_COLUMNS)], steps, visits


def _places(
    layers: dict[str, gpd.GeoDataFrame], crs: str
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Candidate locations (metric xy) and weights per category."""
    pop = layers["population"]
    pop_xy = _xy(pop, crs)
    residents = pop["residents"].to_numpy(dtype=float)
    sanitation = layers["sanitation_facilities"]
    kinds = sanitation["kind"].to_numpy()
    san_xy = _xy(sanitation, crs) if len(sanitation) else np.zeros((0, 2))
    gp_xy = san_xy[kinds == "garbage_point"]
    far = cKDTree(gp_xy).query(pop_xy)[0] if len(gp_xy) else np.full(len(pop_xy), 1000.0)
    # more garbage reports where the nearest garbage point is far (weight grows past 300 m)
    garbage_w = residents * (1.0 + np.clip(far - 300.0, 0, 3000) / 300.0)
    villages = layers["villages"]
    v_xy = _xy(villages, crs)
    hh = villages["households"].to_numpy(dtype=float)
    toilet_gap = 1.0 - villages["sanitary_toilet_households"].to_numpy(dtype=float) / np.maximum(
        hh, 1
    )
    no_sewage = ~villages["sewage_treatment"].fillna(False).to_numpy(dtype=bool)
    no_garbage = ~villages["garbage_collection"].fillna(False).to_numpy(dtype=bool)
    toilets = san_xy[kinds == "public_toilet"]
    return {
        "garbage": (pop_xy, garbage_w),
        "resident_request": (pop_xy, residents),
        "safety_hazard": (pop_xy, residents),
        "public_toilet": (toilets, np.ones(len(toilets))) if len(toilets) else (pop_xy, residents),
        "shelter": (_xy(layers["shelters"], crs), np.ones(len(layers["shelters"]))),
        "neighborhood_center": (
            _xy(layers["neighborhood_centers"], crs),
            np.ones(len(layers["neighborhood_centers"])),
        ),
        "rural_toilet": (v_xy, hh * (0.1 + toilet_gap)),
        "rural_garbage": (v_xy, hh * (0.3 + no_garbage)),
        "rural_sewage": (v_xy, hh * (0.2 + no_sewage)),
    }


def _reports_for(
    period: str,
    places: dict,
    layers: dict[str, gpd.GeoDataFrame],
    rules: FieldRules,
    rng: np.random.Generator,
    slow: set,
    *,
    last: bool,
    metric_crs: str,
    per_1000: float = REPORTS_PER_1000_RESIDENTS,
) -> pd.DataFrame:
    grids = layers["grids"]
    total = int(round(grids["residents"].sum() / 1000.0 * per_1000))
    cats = [c for c in CATEGORY_SHARES if c in rules.category_keys and len(places[c][0])]
    shares = np.array([CATEGORY_SHARES[c] for c in cats])
    counts = rng.multinomial(total, shares / shares.sum())
    xs, ys, cat_col = [], [], []
    for cat, n in zip(cats, counts, strict=True):
        xy, w = places[cat]
        pick = rng.choice(len(xy), size=n, p=w / w.sum())
        jitter = 15.0 if cat in ("shelter", "neighborhood_center", "public_toilet") else 60.0
        xs.append(xy[pick, 0] + rng.normal(0, jitter, n))
        ys.append(xy[pick, 1] + rng.normal(0, jitter, n))
        cat_col += [cat] * n
    # recurring problems: a few garbage hot spots reported again in every period
    hot = _rng(0, "hotspots")  # same places in every period
    pop_xy, garbage_w = places["garbage"]
    spots = pop_xy[hot.choice(len(pop_xy), size=12, p=garbage_w / garbage_w.sum())]
    per_spot = rng.integers(3, 6, len(spots))
    hx = np.repeat(spots[:, 0], per_spot) + rng.normal(0, 40, per_spot.sum())
    hy = np.repeat(spots[:, 1], per_spot) + rng.normal(0, 40, per_spot.sum())
    xs.append(hx)
    ys.append(hy)
    cat_col += ["garbage"] * int(per_spot.sum())
    x, y = np.concatenate(xs), np.concatenate(ys)
    points = gpd.GeoDataFrame(
        {"category": cat_col}, geometry=gpd.points_from_xy(x, y, crs=metric_crs)
    ).to_crs(LONLAT_CRS)
    frame = _tag(points, layers)
    frame = frame[frame["street"].notna()].reset_index(drop=True)
    n = len(frame)
    start, end = period_bounds(period)
    span = (end - start).total_seconds()
    offset = np.sort(rng.random(n)) * span
    # reports are filed by day (08:00-18:00 Beijing time mostly)
    created = start + pd.to_timedelta(offset, unit="s")
    created = created.floor("D") + pd.to_timedelta(rng.uniform(0, 10, n) + 0, unit="h")
    created = pd.Series(created).clip(upper=end - pd.Timedelta(hours=1))
    frame["created_at"] = created.to_numpy()
    frame["urgency"] = np.where(rng.random(n) < 0.12, "urgent", "ordinary")
    frame["description"] = [
        "【示例】" + DESCRIPTIONS[c][int(rng.integers(len(DESCRIPTIONS[c])))]
        for c in frame["category"]
    ]
    limit = np.array(
        [
            rules.category(c).limit_h(u)
            for c, u in zip(frame["category"], frame["urgency"], strict=True)
        ]
    )
    slow_factor = np.where(frame["street"].isin(slow), 3.0, 1.0)
    accept_h = rng.lognormal(np.log(0.4), 0.8, n) * np.where(slow_factor > 1, 2.5, 1.0)
    handle_h = limit * rng.lognormal(np.log(0.45), 0.6, n) * slow_factor
    handle_h = np.maximum(handle_h, accept_h + 0.2)
    check_h = handle_h + rng.lognormal(np.log(4.0), 0.6, n)
    close_h = check_h + rng.lognormal(np.log(2.0), 0.6, n)
    fate = rng.random(n)
    dropped = np.where(fate < 0.05, "rejected", np.where(fate < 0.08, "duplicate", ""))
    hours = {
        "accepted": accept_h,
        "dispatched": accept_h + 0.1,
        "handled": handle_h,
        "checked": check_h,
        "closed": close_h,
    }
    created_ts = pd.to_datetime(frame["created_at"], utc=True)
    for name, h in hours.items():
        frame[f"{name}_at"] = created_ts + pd.to_timedelta(h, unit="h")
    # the demo clock stops at the end of the last period: later steps have not happened yet
    cutoff = end if last else pd.Timestamp.max.tz_localize("UTC")
    stuck = last & (rng.random(n) < 0.01)  # a few reports stuck in dispatch (overdue)
    state = np.full(n, "closed", dtype=object)
    for name in ("closed", "checked", "handled", "dispatched", "accepted"):
        col = frame[f"{name}_at"]
        if stuck.any():
            col = col.where(~(stuck & (name in ("handled", "checked", "closed"))))
        frame[f"{name}_at"] = col.where(col <= cutoff)
    for name in ("accepted", "dispatched", "handled", "checked", "closed"):
        state = np.where(frame[f"{name}_at"].notna(), name, state)
    state = np.where(frame["accepted_at"].isna(), "new", state)
    drop_at = created_ts + pd.to_timedelta(accept_h, unit="h")
    is_dropped = (dropped != "") & (drop_at <= cutoff)
    state = np.where(is_dropped, dropped, state)
    for name in ("accepted", "dispatched", "handled", "checked", "closed"):
        frame[f"{name}_at"] = frame[f"{name}_at"].where(~is_dropped)
    frame["state"] = state
    state_at = created_ts.copy()
    for name in ("accepted", "dispatched", "handled", "checked", "closed"):
        state_at = frame[f"{name}_at"].where(frame[f"{name}_at"].notna(), state_at)
    frame["state_at"] = state_at.where(~is_dropped, drop_at)
    frame["assignee"] = np.where(frame["dispatched_at"].notna(), "【示例】处置单位", None)
    frame["duplicate_of"] = None
    frame["reporter"] = "demo_worker"
    frame["reporter_role"] = "worker"
    frame["synthetic"] = True
    frame["created_at"] = created_ts
    return frame


def _tag(points: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Grid, community, street, district of each point (rural: the nearest village)."""
    grids = layers["grids"][["grid_code", "community", "street", "district", "geometry"]]
    joined = gpd.sjoin(points, grids.to_crs(points.crs), how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")].drop(columns="index_right")
    villages = layers["villages"]
    rural = joined["grid_code"].isna().to_numpy()
    if rural.any() and len(villages):
        vm = to_metric(villages, "EPSG:4546")
        pm = to_metric(points[rural], "EPSG:4546")
        dist, idx = cKDTree(np.column_stack([vm.geometry.x, vm.geometry.y])).query(
            np.column_stack([pm.geometry.x, pm.geometry.y])
        )
        near = dist <= 3000
        rows = np.flatnonzero(rural)[near]
        v = villages.iloc[idx[near]]
        joined.loc[joined.index[rows], "community"] = v["name"].to_numpy()
        joined.loc[joined.index[rows], "street"] = v["township"].to_numpy()
        joined.loc[joined.index[rows], "district"] = v["county"].to_numpy()
    out = pd.DataFrame(joined.drop(columns="geometry"))
    out["lon"] = points.geometry.x.round(6).to_numpy()
    out["lat"] = points.geometry.y.round(6).to_numpy()
    return out


def _steps(reports: pd.DataFrame) -> pd.DataFrame:
    """One step row per state change of each report."""
    parts = [
        pd.DataFrame(
            {
                "report_id": reports["report_id"],
                "from_state": None,
                "to_state": "new",
                "actor": reports["reporter"],
                "role": "worker",
                "at": reports["created_at"],
                "note": "",
            }
        )
    ]
    previous = pd.Series("new", index=reports.index, dtype=object)
    for name in ("accepted", "dispatched", "handled", "checked", "closed"):
        at = reports[f"{name}_at"]
        has = at.notna()
        parts.append(
            pd.DataFrame(
                {
                    "report_id": reports["report_id"][has],
                    "from_state": previous[has],
                    "to_state": name,
                    "actor": np.where(name == "handled", "demo_worker", "demo_staff"),
                    "role": "worker" if name == "handled" else "staff",
                    "at": at[has],
                    "note": "【示例】",
                }
            )
        )
        previous = previous.where(~has, name)
    dropped = reports["state"].isin(["rejected", "duplicate"])
    parts.append(
        pd.DataFrame(
            {
                "report_id": reports["report_id"][dropped],
                "from_state": "new",
                "to_state": reports["state"][dropped],
                "actor": "demo_staff",
                "role": "staff",
                "at": reports["state_at"][dropped],
                "note": "【示例】",
            }
        )
    )
    steps = pd.concat(parts, ignore_index=True)
    return steps.sort_values(["at", "report_id"], kind="stable").reset_index(drop=True)


def _visits(grids: pd.DataFrame, periods: tuple[str, ...], seed: int) -> pd.DataFrame:
    """Households visited per grid and month (counts; the demo keeps no household list)."""
    rows = []
    base = _rng(seed, "visits:grid").beta(6, 2, len(grids))  # each grid's diligence
    households = grids["households"].fillna(0).to_numpy(dtype=float)
    for i, period in enumerate(periods):
        rng = _rng(seed, f"visits:{period}")
        share = np.clip(base + 0.05 * i + rng.normal(0, 0.05, len(grids)), 0.05, 1.0)
        visited = np.round(households * share).astype(int)
        start, _ = period_bounds(period)
        for month in range(3):
            part = (
                np.round(visited / 3).astype(int)
                if month < 2
                else visited - 2 * np.round(visited / 3).astype(int)
            )
            day = (start + pd.DateOffset(months=month, days=14)).tz_convert("Asia/Shanghai").date()
            keep = part > 0
            rows.append(
                pd.DataFrame(
                    {
                        "grid_code": grids["grid_code"].to_numpy()[keep],
                        "household": None,
                        "visited_on": day.isoformat(),
                        "households_visited": part[keep],
                        "worker": "demo_worker",
                        "created_at": pd.Timestamp(day)
                        .tz_localize("Asia/Shanghai")
                        .tz_convert("UTC"),
                        "synthetic": True,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)
