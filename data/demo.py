"""The Shiyan demo city: a deterministic, SYNTHETIC dataset in Shiyan's real location.

The central city lies in the valley of Zhangwan (张湾区, west) and Maojian (茅箭区, east)
around 110.79E 32.63N; rural townships of Yunyang (郧阳区, north) and Fang County (房县,
south) hold the villages. District, street and township names are real; every boundary,
count, name of a community, village or person and every phone number is invented.

The layout is built in the metric CRS, top down, so that each level tiles its parent exactly:
districts split the urban footprint, streets are Voronoi cells of anchor points clipped to
their district, communities and grids are Voronoi cells of density-weighted Lloyd-relaxed
seeds clipped to their parent. Households are drawn per grid; population points are then
placed inside each grid and share its residents exactly, so grid records and points agree
(except for a few grids whose records are deliberately off).

Under-served places are planted on purpose so that the analysis has something true to find:
new housing at the eastern edge with no neighborhood center within reach, Zhangwan short of
shelter area, villages far from any garbage point or below the sanitary-toilet target, grids
out of the household range or without a worker. A synthetic road network
(:mod:`data.demo_roads`) crosses the rivers only at bridges and leaves the hills nearly empty,
so walking distance and straight lines disagree in some streets and hardly in others. About
half of the park shelters (polygons) have one or two gates (the ``entrances`` layer, also
synthetic): the walk reaches those parks only there.

Examples
--------
>>> city = build_demo(scale=0.2)
>>> sorted(city.layers) == sorted(LAYERS)
True
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from os import PathLike

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from data import shiyan_names as names
from data.demo_roads import demo_roads
from data.store import GeoPackageStore
from geo.areas import POLYGONAL
from geo.crs import LONLAT_CRS
from geo.settings import Profile, load_profile
from layers import LAYERS
from layers.shelters import CLASS_LABELS

GENERATOR_VERSION = "1.0"
PERIOD = "2026-Q3"
PREVIOUS_PERIOD = "2026-Q2"

# Magnitudes at scale 1 (generator parameters, not planning standards).
BASE_RESIDENTS = 1_000_000
BASE_GRIDS = 1_560
BASE_COMMUNITIES = 84
BASE_VILLAGES = 360
HOUSEHOLDS_PER_POINT = 9.0  # population points per grid = households / this
STREET_CENTERS = 32
COMMUNITY_CENTERS = 72
# Facilities of the generic `facilities` layer: kind -> (share of urban communities with one,
# name suffix, capacity range). Only kinds the profile declares are generated.
DEMO_STATIONS = {
    "elderly_care": (0.7, "养老服务站", (10, 40)),
    "health_station": (0.55, "社区卫生服务站", (500, 3000)),
}
SHELTERS = {"emergency": 80, "fixed_short": 14, "fixed_medium": 8, "fixed_long": 4, "central": 2}
URBAN_PUBLIC_TOILETS = 220
URBAN_GARBAGE_POINTS = 50
URBAN_TRANSFER_STATIONS = 8
# Effective shelter area per resident, m², planted per district: Zhangwan clearly short.
SHELTER_AREA_PER_RESIDENT = {"420302": 1.2, "420303": 0.15}
SHELTER_COUNT_SHARE = {"420302": 0.62, "420303": 0.38}
# The new-housing cluster at the eastern edge of the valley (lon, lat).
NEW_HOUSING_ANCHOR = (110.905, 32.607)
NEW_HOUSING_MARGIN_M = 100.0  # centers stay this far beyond the street-center radius

# Population density cores (lon, lat, sigma m, weight) over a low base density.
DENSITY_CORES = (
    (110.795, 32.637, 2600.0, 1.0),  # Wuyan/Erjyan, the old core
    (110.768, 32.630, 2200.0, 0.8),  # Chechenglu, the car-city core
    (110.700, 32.645, 1800.0, 0.35),  # Hongwei
    (110.850, 32.618, 2000.0, 0.45),  # Bailang
    (110.738, 32.592, 1500.0, 0.3),  # Huaguo
    (*NEW_HOUSING_ANCHOR, 900.0, 0.7),  # new housing, dense high-rise
)
DENSITY_BASE = 0.06

# Valley footprint: (line or point in lon/lat, buffer radius m).
FOOTPRINT_PARTS = (
    (
        (
            (110.665, 32.648),
            (110.690, 32.642),
            (110.715, 32.630),
            (110.745, 32.628),
            (110.775, 32.630),
            (110.800, 32.635),
            (110.830, 32.625),
            (110.860, 32.615),
            (110.900, 32.603),
        ),
        1800.0,
    ),
    (((110.795, 32.636),), 3200.0),
    (((110.765, 32.632),), 2500.0),
    (((110.805, 32.640), (110.812, 32.676)), 1300.0),
    (((110.700, 32.640), (110.705, 32.672)), 1100.0),
    (((110.745, 32.625), (110.735, 32.576)), 1300.0),
    (((110.850, 32.618), (110.858, 32.588)), 1000.0),
    (((110.905, 32.607),), 1700.0),
)
# District boundary between Zhangwan (west) and Maojian (east), south to north.
DISTRICT_LINE = (
    (110.787, 32.50),
    (110.785, 32.61),
    (110.789, 32.635),
    (110.783, 32.66),
    (110.786, 32.75),
)

Progress = Callable[[float, str], None]


@dataclass
class DemoCity:
    """A generated demo city: current layers, the same city one quarter earlier, and metadata."""

    layers: dict[str, gpd.GeoDataFrame]
    previous_layers: dict[str, gpd.GeoDataFrame]
    period: str = PERIOD
    previous_period: str = PREVIOUS_PERIOD
    meta: dict[str, str] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Row counts per layer for both periods."""
        return pd.DataFrame(
            {
                "layer": list(self.layers),
                self.period: [len(f) for f in self.layers.values()],
                self.previous_period: [len(self.previous_layers[n]) for n in self.layers],
            }
        )


# =========================================================================== public API
def build_demo(
    *,
    seed: int = 2026,
    scale: float = 1,
    residents: int | None = None,
    progress: Progress | None = None,
) -> DemoCity:
    """Build the synthetic Shiyan demo city.

    Parameters
    ----------
    seed
        Seed of every random draw; the same seed and scale give identical output.
    scale
        Multiplies residents, population points, grids, villages and facility counts.
    residents
        Total urban residents (default 1,000,000 x `scale`); grids and points keep their count.
    progress
        Optional ``progress(share, text)`` callback, share in 0-1.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    if residents is not None and residents <= 0:
        raise ValueError(f"residents must be positive, not {residents}")
    report = progress or (lambda share, text: None)
    profile = load_profile()
    gen = _Generator(seed=seed, scale=scale, residents=residents, profile=profile)
    current, previous = gen.build(report)
    meta = {
        "synthetic": "true",
        "seed": str(seed),
        "scale": f"{scale:g}",
        "residents": str(int(current["grids"]["residents"].sum())),
        "generator": f"data.demo {GENERATOR_VERSION}",
        "generator_version": GENERATOR_VERSION,
        "period": PERIOD,
        "previous_period": PREVIOUS_PERIOD,
        "city": "十堰市 Shiyan",
        "description_zh": (
            "合成演示数据（非真实数据）：十堰市中心城区（茅箭区、张湾区）及郧阳区、房县乡镇的"
            "虚构网格、人口、党群邻里中心、应急避难场所和农村环境卫生数据。区县、街道、乡镇名称"
            "真实，边界、人数、社区和村名称、网格员姓名和电话均为随机生成。"
        ),
        "description_en": (
            "SYNTHETIC demo data (not real): invented grids, population, neighborhood centers, "
            "shelters and rural sanitation for Shiyan's central city (Maojian, Zhangwan) and "
            "townships of Yunyang and Fang County. District, street and township names are real; "
            "boundaries, counts, community and village names, worker names and phones are random."
        ),
    }
    report(1.0, "示例城市已生成 / demo city built")
    return DemoCity(layers=current, previous_layers=previous, meta=meta)


def write_demo(
    path: str | PathLike,
    *,
    seed: int = 2026,
    scale: float = 1,
    residents: int | None = None,
    progress: Progress | None = None,
    snapshots: bool = True,
    field_reports: bool = True,
) -> DemoCity:
    """Build the demo city and write its current layers and metadata to the GeoPackage `path`.

    All tables are written in one atomic store write. Returns the built :class:`DemoCity`.
    With `snapshots`, the indicator snapshots of both periods are saved too, so the Progress
    page and reports compare two periods out of the box. With `field_reports`, a quarter of
    synthetic field reports per period and household visits are added (:mod:`field.demo`).
    """
    report = progress or (lambda share, text: None)
    city = build_demo(
        seed=seed, scale=scale, residents=residents, progress=lambda s, t: report(0.35 * s, t)
    )
    from auth import demo as demo_accounts

    users = demo_accounts.demo_users(city.layers["grids"])
    passwords = demo_accounts.new_passwords(users)
    meta = {**city.meta, **demo_accounts.demo_meta(passwords)}
    tables: dict[str, gpd.GeoDataFrame | pd.DataFrame] = dict(city.layers)
    tables["gridmap_meta"] = pd.DataFrame({"key": list(meta), "value": list(meta.values())})
    if snapshots:
        from data.snapshots import demo_snapshot_tables

        report(0.35, "指标快照 / indicator snapshots of both periods")
        tables.update(demo_snapshot_tables(city))
    report(0.85, "写入 GeoPackage / writing the GeoPackage")
    store = GeoPackageStore(path)
    store.write(tables)
    if field_reports:
        report(0.9, "网格事件 / synthetic field reports and visits")
        _write_field_reports(path, city, seed=seed)
    report(0.95, "演示账号 / demo accounts")
    demo_accounts.create_users(store, users, passwords)
    report(1.0, "完成 / done")
    return city


def _write_field_reports(path: str | PathLike, city: DemoCity, *, seed: int) -> None:
    """Synthetic field reports, steps and visits of both periods (their own random stream)."""
    from field.demo import demo_field_tables
    from field.settings import field_rules
    from field.store import GeoPackageFieldStore

    reports, steps, visits = demo_field_tables(
        city.layers, field_rules(), periods=(city.previous_period, city.period), seed=seed
    )
    GeoPackageFieldStore(path).write_bulk(reports, steps, visits)


# =========================================================================== geometry helpers
def _rng(seed: int, part: str) -> np.random.Generator:
    """An independent random stream per part, so one part's draws do not shift another's."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def _to_metric(geoms, crs: str) -> np.ndarray:
    return gpd.GeoSeries(geoms, crs=LONLAT_CRS).to_crs(crs).values.to_numpy()


def _lonlat_to_metric(lonlat: np.ndarray, crs: str) -> np.ndarray:
    pts = shapely.points(np.asarray(lonlat, dtype=float).reshape(-1, 2))
    return shapely.get_coordinates(_to_metric(pts, crs))


def _group_rank(groups: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal, sorted `groups`."""
    return np.arange(groups.size) - np.searchsorted(groups, groups, side="left")


def _sample_in_polygons(
    polys: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform random points inside each polygon (rejection sampling in the bounding boxes).

    Returns x, y and the owning polygon's index, sorted by owner.
    """
    counts = np.asarray(counts, dtype=np.int64)
    shapely.prepare(polys)
    bounds = shapely.bounds(polys)
    width, height = bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]
    fill = np.clip(shapely.area(polys) / np.maximum(width * height, 1e-9), 0.02, 1.0)
    need = counts.copy()
    xs, ys, owners = [], [], []
    for _ in range(100):
        todo = np.flatnonzero(need > 0)
        if todo.size == 0:
            break
        tries = np.ceil(need[todo] / fill[todo] * 1.25).astype(np.int64) + 4
        own = np.repeat(todo, tries)
        x = bounds[own, 0] + rng.random(own.size) * width[own]
        y = bounds[own, 1] + rng.random(own.size) * height[own]
        ok = shapely.contains_xy(polys[own], x, y)
        own, x, y = own[ok], x[ok], y[ok]
        keep = _group_rank(own) < need[own]
        own, x, y = own[keep], x[keep], y[keep]
        need -= np.bincount(own, minlength=need.size)
        xs.append(x)
        ys.append(y)
        owners.append(own)
    else:
        raise RuntimeError("could not place points in some polygons")
    x, y, own = np.concatenate(xs), np.concatenate(ys), np.concatenate(owners)
    order = np.argsort(own, kind="stable")
    return x[order], y[order], own[order]


def _rough_edge(polygon, rng: np.random.Generator, *, amplitude: float = 400.0):
    """Make a smooth outline irregular: move its edge in and out by smooth random waves."""
    ring = shapely.segmentize(polygon.exterior, 80.0)
    xy = shapely.get_coordinates(ring)[:-1]
    along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
    tangent = np.roll(xy, -1, axis=0) - np.roll(xy, 1, axis=0)
    normal = np.c_[tangent[:, 1], -tangent[:, 0]] / np.hypot(*tangent.T)[:, None]
    wavelength = rng.uniform(1500, 6000, 6)
    phase = rng.uniform(0, 2 * np.pi, 6)
    weight = rng.uniform(0.3, 1.0, 6)
    wave = (weight * np.sin(2 * np.pi * along[:, None] / wavelength + phase)).sum(axis=1)
    moved = xy + normal * (amplitude * wave / weight.sum() * 2.0)[:, None]
    rough = shapely.make_valid(shapely.Polygon(moved)).buffer(120).buffer(-120)
    parts = shapely.get_parts(rough)
    return parts[np.argmax(shapely.area(parts))]


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (intersections can add lines or points)."""
    geoms = geoms.copy()
    odd = np.flatnonzero(~np.isin(shapely.get_type_id(geoms), POLYGONAL))
    for i in odd:  # rare: only degenerate clip results
        parts = shapely.get_parts(geoms[i])
        geoms[i] = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), POLYGONAL)])
    return geoms


def _voronoi_clip(x: np.ndarray, y: np.ndarray, parent) -> np.ndarray:
    """Voronoi cells of the seeds, in seed order, clipped to `parent` (they tile it)."""
    if x.size == 1:
        return np.array([parent], dtype=object)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(np.c_[x, y]), extend_to=parent, ordered=True)
    )
    if cells.size != x.size:
        raise RuntimeError("duplicate Voronoi seeds")
    return _polygonal(shapely.intersection(cells, parent))


def _tessellate(
    parents: np.ndarray,
    n_children: np.ndarray,
    rng: np.random.Generator,
    *,
    weight: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    iterations: int = 3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each parent polygon into `n_children` compact cells that tile it exactly.

    Seeds start as weighted random candidates and are moved by a few weighted Lloyd steps
    (k-means on the candidates), so cells are smaller where `weight` is high.
    Returns the cells, their parent index and their seed coordinates (n x 2).
    """
    n_children = np.asarray(n_children, dtype=np.int64)
    cx, cy, cp = _sample_in_polygons(parents, n_children * 12 + 8, rng)
    w = weight(cx, cy) if weight is not None else np.ones(cx.size)
    sx, sy, sp = _kmeans(cx, cy, cp, w, n_children, rng, iterations=iterations, parents=parents)
    cells = np.empty(sx.size, dtype=object)
    starts = np.searchsorted(sp, np.arange(parents.size))
    ends = np.searchsorted(sp, np.arange(parents.size), side="right")
    for p in range(parents.size):  # one Voronoi diagram per parent
        cells[starts[p] : ends[p]] = _voronoi_clip(
            sx[starts[p] : ends[p]], sy[starts[p] : ends[p]], parents[p]
        )
    return cells, sp, np.c_[sx, sy]


def _kmeans(
    x: np.ndarray,
    y: np.ndarray,
    group: np.ndarray,
    w: np.ndarray,
    k: np.ndarray,
    rng: np.random.Generator,
    *,
    iterations: int = 3,
    parents: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted k-means of points within each group (sorted `group`), ``k[g]`` centres per group.

    Centres start as a weighted random draw of the points and take a few Lloyd steps. With
    `parents`, a centre that would leave its group's polygon stays where it was.
    Returns centre x, y and group, sorted by group.
    """
    key = np.log(rng.random(x.size)) / w  # Efraimidis-Spirakis: the top keys are a weighted draw
    order = np.lexsort((-key, group))
    chosen = order[_group_rank(group[order]) < k[group[order]]]
    sx, sy, sp = x[chosen], y[chosen], group[chosen]
    big = 1e8  # separates groups in a third dimension so centres only attract their own points
    for _ in range(iterations):
        _, nearest = cKDTree(np.c_[sx, sy, sp * big]).query(np.c_[x, y, group * big])
        wsum = np.bincount(nearest, w, minlength=sx.size)
        has = wsum > 0
        div = np.where(has, wsum, 1.0)
        nx = np.where(has, np.bincount(nearest, w * x, minlength=sx.size) / div, sx)
        ny = np.where(has, np.bincount(nearest, w * y, minlength=sx.size) / div, sy)
        inside = shapely.contains_xy(parents[sp], nx, ny) if parents is not None else has
        sx, sy = np.where(inside, nx, sx), np.where(inside, ny, sy)
    return sx, sy, sp


def _nearest_in_group(
    x: np.ndarray,
    y: np.ndarray,
    group: np.ndarray,
    qx: np.ndarray,
    qy: np.ndarray,
    qgroup: np.ndarray,
) -> np.ndarray:
    """Index of the point of the same group nearest to each query point."""
    big = 1e8
    _, idx = cKDTree(np.c_[x, y, group * big]).query(np.c_[qx, qy, qgroup * big])
    return idx


def _allocate(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Split `total` into integers proportional to `weights`, each at least `minimum`."""
    weights = np.asarray(weights, dtype=float)
    rest = max(total - minimum * weights.size, 0)
    share = rest * weights / weights.sum()
    out = np.floor(share).astype(np.int64)
    left = rest - out.sum()
    if left > 0:
        out[np.argsort(-(share - out), kind="stable")[:left]] += 1
    return out + minimum


def _split_total(totals: np.ndarray, owner: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each owner's integer total among its items in proportion to `weights`, exactly.

    `owner` must be sorted. Largest-remainder rounding within each owner.
    """
    wsum = np.bincount(owner, weights, minlength=totals.size)
    share = totals[owner] * weights / wsum[owner]
    out = np.floor(share).astype(np.int64)
    left = totals - np.bincount(owner, out, minlength=totals.size)
    order = np.lexsort((-(share - out), owner))
    rank = _group_rank(owner[order])
    out[order[rank < left[owner[order]]]] += 1
    return out


def _pick_per_group(
    groups: np.ndarray, weights: np.ndarray, k: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Indices of a weighted draw without replacement of ``k[g]`` items from each group g."""
    key = np.full(groups.size, -np.inf)
    positive = weights > 0
    key[positive] = np.log(rng.random(positive.sum())) / weights[positive]
    order = np.lexsort((-key, groups))
    rank = _group_rank(groups[order])
    take = (rank < k[groups[order]]) & np.isfinite(key[order])
    return np.sort(order[take])


def _jitter(xy: np.ndarray, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    angle = rng.random(len(xy)) * 2 * np.pi
    dist = rng.uniform(low, high, len(xy))
    return xy + np.c_[np.cos(angle) * dist, np.sin(angle) * dist]


def _periods(rng: np.random.Generator, n: int, new_share: float, first_year: int) -> np.ndarray:
    """Opening periods: a share opened this quarter, the rest spread over earlier quarters."""
    quarters = [f"{y}-Q{q}" for y in range(first_year, 2027) for q in range(1, 5)]
    earlier = quarters[: quarters.index(PREVIOUS_PERIOD) + 1]
    out = np.asarray(earlier, dtype=object)[rng.integers(0, len(earlier), n)]
    out[rng.random(n) < new_share] = PERIOD
    return out


# =========================================================================== the generator
class _Generator:
    """Builds the layers step by step in the metric CRS."""

    def __init__(self, *, seed: int, scale: float, residents: int | None, profile: Profile):
        self.seed = seed
        self.scale = float(scale)
        self.profile = profile
        self.crs = profile.metric_crs
        self.total_residents = int(
            residents if residents is not None else round(BASE_RESIDENTS * scale)
        )
        # with --residents, grids and points keep their count; households shrink or grow
        self.household_factor = self.total_residents / (BASE_RESIDENTS * self.scale)
        cores = np.array([c[:2] for c in DENSITY_CORES])
        self._cores = _lonlat_to_metric(cores, self.crs)
        self._sigma = np.array([c[2] for c in DENSITY_CORES])
        self._core_w = np.array([c[3] for c in DENSITY_CORES])

    def n(self, base: float, minimum: int = 1) -> int:
        """A count scaled by ``scale``."""
        return max(minimum, int(round(base * self.scale)))

    def density(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        d2 = (x[:, None] - self._cores[:, 0]) ** 2 + (y[:, None] - self._cores[:, 1]) ** 2
        return DENSITY_BASE + (self._core_w * np.exp(-d2 / (2 * self._sigma**2))).sum(axis=1)

    # ----------------------------------------------------------------------- steps
    def build(self, report: Progress) -> tuple[dict, dict]:
        report(0.02, "城区与街道 / urban districts and streets")
        self.urban_admin()
        report(0.12, "社区 / communities")
        self.communities()
        report(0.25, "网格 / grids")
        self.grids()
        report(0.45, "人口点 / population points")
        self.population()
        report(0.6, "邻里中心与避难场所 / centers and shelters")
        self.centers()
        self.shelters()
        report(0.7, "乡镇与行政村 / townships and villages")
        self.rural()
        report(0.85, "环卫设施 / sanitation facilities")
        self.sanitation()
        self.stations()
        report(0.92, "上一季度 / previous quarter")
        return self.frames()

    def urban_admin(self) -> None:
        crs = self.crs
        parts = []
        for coords, radius in FOOTPRINT_PARTS:
            xy = _lonlat_to_metric(np.array(coords), crs)
            geom = shapely.points(xy[0]) if len(xy) == 1 else shapely.linestrings(xy)
            parts.append(shapely.buffer(geom, radius, quad_segs=16))
        footprint = _rough_edge(
            shapely.union_all(parts).buffer(600).buffer(-600), _rng(self.seed, "footprint")
        )
        line = _lonlat_to_metric(np.array(DISTRICT_LINE), crs)
        minx, miny, maxx, maxy = footprint.bounds
        west = shapely.Polygon(
            [(minx - 5000, line[0, 1]), *map(tuple, line), (minx - 5000, line[-1, 1])]
        )
        zhangwan = _polygonal(np.array([shapely.intersection(footprint, west)]))[0]
        maojian = _polygonal(np.array([shapely.difference(footprint, west)]))[0]
        self.footprint = footprint
        self.urban_districts = {"420302": maojian, "420303": zhangwan}

        street_rows = np.array(names.URBAN_STREETS, dtype=object)
        anchors = _lonlat_to_metric(street_rows[:, 3:5].astype(float), crs)
        geoms = np.empty(len(street_rows), dtype=object)
        for code, district in self.urban_districts.items():
            idx = np.flatnonzero(street_rows[:, 0] == code)
            geoms[idx] = _voronoi_clip(anchors[idx, 0], anchors[idx, 1], district)
        self.streets = pd.DataFrame(
            {
                "code": street_rows[:, 1].astype(str),
                "name": street_rows[:, 2].astype(str),
                "parent_code": street_rows[:, 0].astype(str),
            }
        )
        self.street_geoms = geoms

    def _mass(self, polys: np.ndarray, rng: np.random.Generator, per: int = 60) -> np.ndarray:
        """Population mass of each polygon: area x mean density of random points in it."""
        x, y, own = _sample_in_polygons(polys, np.full(polys.size, per), rng)
        mean = np.bincount(own, self.density(x, y), minlength=polys.size) / per
        return shapely.area(polys) * mean

    def communities(self) -> None:
        rng = _rng(self.seed, "communities")
        mass = self._mass(self.street_geoms, rng)
        n_comm = round(BASE_COMMUNITIES * np.sqrt(self.scale))
        per_street = _allocate(n_comm, mass**0.75, minimum=3)
        geoms, parent, seeds = _tessellate(
            self.street_geoms, per_street, rng, weight=lambda x, y: self.density(x, y) ** 0.5
        )
        seq = _group_rank(parent) + 1
        street_codes = self.streets["code"].to_numpy()
        codes = np.char.add(street_codes[parent].astype(str), np.char.zfill(seq.astype(str), 3))
        # the communities nearest the eastern anchor are the new-housing cluster
        anchor = _lonlat_to_metric(np.array([NEW_HOUSING_ANCHOR]), self.crs)[0]
        dist = np.hypot(seeds[:, 0] - anchor[0], seeds[:, 1] - anchor[1])
        n_new = max(2, int(round(2 * np.sqrt(self.scale))))
        new = np.zeros(len(geoms), bool)
        new[np.argsort(dist, kind="stable")[:n_new]] = True
        comm_names = self._community_names(rng, len(geoms))
        new_names = [
            names.NEW_HOUSING_NAMES[i % len(names.NEW_HOUSING_NAMES)]
            + (
                ""
                if i < len(names.NEW_HOUSING_NAMES)
                else str(i // len(names.NEW_HOUSING_NAMES) + 1)
            )
            for i in range(n_new)
        ]
        comm_names[np.flatnonzero(new)] = new_names
        self.comm = pd.DataFrame(
            {
                "code": codes,
                "name": comm_names,
                "parent_code": street_codes[parent].astype(str),
                "street_idx": parent,
                "new_housing": new,
            }
        )
        self.comm_geoms = geoms

    @staticmethod
    def _community_names(rng: np.random.Generator, n: int) -> np.ndarray:
        stems = np.array(names.COMMUNITY_STEMS, dtype=object)
        suffixes = np.array(names.COMMUNITY_SUFFIXES, dtype=object)
        # first one name per stem (random suffix), then further stem+suffix combinations
        first = stems + suffixes[rng.integers(0, suffixes.size, stems.size)]
        combos = np.array([s + x for x in suffixes for s in stems], dtype=object)
        pool = list(dict.fromkeys([*rng.permutation(first), *rng.permutation(combos)]))
        pool = [p for p in pool if p not in names.NEW_HOUSING_NAMES]
        if n > len(pool):
            pool += [f"{p}{k}" for k in range(2, 2 + n // len(pool) + 1) for p in pool]
        return np.array(pool[:n], dtype=object)

    def grids(self) -> None:
        rng = _rng(self.seed, "grids")
        mass = self._mass(self.comm_geoms, rng, per=40)
        per_comm = _allocate(self.n(BASE_GRIDS), mass, minimum=2)
        geoms, parent, _ = _tessellate(self.comm_geoms, per_comm, rng, weight=self.density)
        n = len(geoms)
        new = self.comm["new_housing"].to_numpy()[parent]
        # households: mostly 300-500, some smaller (enterprise/campus grids) or larger
        hh_min, hh_max = self.profile.grids.households_min, self.profile.grids.households_max
        u = rng.random(n)
        base = np.clip(rng.normal(0.5 * (hh_min + hh_max) - 25, 50, n), hh_min, hh_max)
        base = np.where(u < 0.11, rng.uniform(0.3 * hh_min, hh_min - 1, n), base)
        base = np.where(u > 0.95, rng.uniform(hh_max + 1, 1.45 * hh_max, n), base)
        base = np.where(new & (rng.random(n) < 0.5), rng.uniform(hh_max + 1, 1.5 * hh_max, n), base)
        base = np.round(base).astype(np.int64)
        households = np.maximum(np.round(base * self.household_factor).astype(np.int64), 1)
        # household size per community, normalised so the city has the requested residents
        size_c = np.clip(rng.normal(1.0, 0.07, len(self.comm_geoms)), 0.85, 1.2)
        raw = households * size_c[parent]
        residents = np.maximum(
            np.round(raw * self.total_residents / raw.sum()).astype(np.int64), households
        )
        self.grid_parent = parent
        self.grid_geoms = geoms
        self.grid_true_households = households
        self.grid_true_residents = residents
        self.grid_points = np.maximum(4, np.round(base / HOUSEHOLDS_PER_POINT)).astype(np.int64)
        self.grid_new = new
        seq = _group_rank(parent) + 1
        comm_codes = self.comm["code"].to_numpy().astype(str)
        self.grid_codes = np.char.add(comm_codes[parent], np.char.zfill(seq.astype(str), 3))
        self.grid_seq = seq

    def population(self) -> None:
        rng = _rng(self.seed, "population")
        x, y, owner = _sample_in_polygons(self.grid_geoms, self.grid_points, rng)
        weights = rng.gamma(2.0, 1.0, x.size) + 0.05
        residents = _split_total(self.grid_true_residents, owner, weights)
        households = _split_total(self.grid_true_households, owner, weights)
        self.pop = pd.DataFrame(
            {"residents": residents, "households": households, "x": x, "y": y, "grid": owner}
        )

    # ----------------------------------------------------------------------- facilities
    def _community_of_points(self) -> np.ndarray:
        return self.grid_parent[self.pop["grid"].to_numpy()]

    def centers(self) -> None:
        rng = _rng(self.seed, "centers")
        pop = self.pop
        xy = pop[["x", "y"]].to_numpy()
        new_area = shapely.union_all(self.comm_geoms[self.comm["new_housing"].to_numpy()])
        reach = self.profile.radii.neighborhood_center_street + NEW_HOUSING_MARGIN_M
        eligible = shapely.distance(new_area, shapely.points(xy)) > reach + 40  # 40 m: jitter
        comm_of = self._community_of_points()
        street_of = self.comm["street_idx"].to_numpy()[comm_of]
        res = pop["residents"].to_numpy().astype(float)

        # street level: k-means centres of each street's residents, snapped to a building
        n_streets = len(self.streets)
        street_res = np.bincount(street_of, res, minlength=n_streets)
        k_street = _allocate(self.n(STREET_CENTERS), street_res, minimum=1)
        street_pick = self._kmeans_sites(xy, street_of, res, eligible, k_street, rng)
        # community level: most communities have one, large ones two
        comm_res = np.bincount(comm_of, res, minlength=len(self.comm))
        k_comm = _allocate(self.n(COMMUNITY_CENTERS), comm_res * rng.gamma(4.0, 1.0, comm_res.size))
        comm_pick = self._kmeans_sites(xy, comm_of, res, eligible, k_comm, rng)

        picks = np.r_[street_pick, comm_pick]
        level = np.r_[np.full(street_pick.size, "street"), np.full(comm_pick.size, "community")]
        pxy = _jitter(xy[picks], rng, 5, 40)
        street_names = self.streets["name"].to_numpy().astype(str)[street_of[picks]]
        comm_names = self.comm["name"].to_numpy().astype(str)[comm_of[picks]]
        owner = np.where(level == "street", street_of[picks], comm_of[picks] + n_streets)
        nth = pd.Series(owner).groupby(owner).cumcount().to_numpy() + 1
        # a street's first centre carries its name; further ones the name of their area (片区)
        area = np.char.add(np.char.replace(comm_names, "社区", ""), "片区")
        street_label = np.char.add(
            np.char.add(street_names, np.where(nth > 1, area, "")), "党群服务中心"
        )
        comm_label = np.char.add(
            np.char.add(comm_names, "党群邻里中心"),
            np.where(nth > 1, np.char.add(np.char.add("(", nth.astype(str)), ")"), ""),
        )
        label = np.where(level == "street", street_label, comm_label)
        n = picks.size
        is_street = level == "street"
        self.centers_df = pd.DataFrame(
            {
                "center_id": [f"NC{i + 1:05d}" for i in range(n)],
                "name": label,
                "level": level,
                "services": np.where(
                    is_street,
                    "党建活动;政务服务;养老服务;托育;文体活动;网格管理",
                    np.asarray(
                        [
                            "党建活动;便民服务;养老服务",
                            "党建活动;便民服务;文体活动",
                            "便民服务;托育;议事协商",
                        ]
                    )[rng.integers(0, 3, n)],
                ),
                "area_m2": np.round(
                    np.where(is_street, rng.uniform(1500, 4000, n), rng.uniform(300, 1200, n)), -1
                ),
                "opening_hours": np.where(rng.random(n) < 0.7, "08:30-17:30", "08:00-20:00"),
                "opened_period": _periods(rng, n, 0.15, 2019),
                "x": pxy[:, 0],
                "y": pxy[:, 1],
            }
        )

    @staticmethod
    def _kmeans_sites(
        xy: np.ndarray,
        group: np.ndarray,
        res: np.ndarray,
        eligible: np.ndarray,
        k: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Population points (indices) at the weighted k-means centres of eligible points.

        ``k[g]`` sites in group g; sorted by group.
        """
        idx = np.flatnonzero(eligible)
        cap = 150 * int(k.sum())  # a random subset is plenty for k-means and much faster
        if idx.size > cap:
            idx = np.sort(rng.choice(idx, cap, replace=False))
        idx = idx[np.argsort(group[idx], kind="stable")]
        x, y, g = xy[idx, 0], xy[idx, 1], group[idx]
        sx, sy, sp = _kmeans(x, y, g, res[idx] + 1.0, k, rng, iterations=6)
        return idx[_nearest_in_group(x, y, g, sx, sy, sp)]

    def shelters(self) -> None:
        rng = _rng(self.seed, "shelters")
        pop = self.pop
        xy = pop[["x", "y"]].to_numpy()
        res = pop["residents"].to_numpy().astype(float)
        district_of_street = self.streets["parent_code"].to_numpy()
        district = district_of_street[
            self.comm["street_idx"].to_numpy()[self._community_of_points()]
        ]
        # Zhangwan gets fewer (and, below, smaller) shelters; every class in both districts
        codes = np.array(sorted(SHELTER_AREA_PER_RESIDENT))
        share = np.array([SHELTER_COUNT_SHARE[c] for c in codes])
        counts = np.array([_allocate(self.n(base), share, minimum=1) for base in SHELTERS.values()])
        # sites: k-means centres of each district's residents, one k-means per class
        dist_idx = np.searchsorted(codes, district)
        everyone = np.ones(res.size, bool)
        picked = np.concatenate(
            [self._kmeans_sites(xy, dist_idx, res, everyone, k, rng) for k in counts]
        )
        cls_arr = np.repeat(list(SHELTERS), counts.sum(axis=1))
        dist_arr = np.concatenate([np.repeat(codes, k) for k in counts])
        n = picked.size
        pxy = _jitter(xy[picked], rng, 60, 200)
        base_area = {
            "emergency": (3000, 15000),
            "fixed_short": (8000, 25000),
            "fixed_medium": (20000, 50000),
            "fixed_long": (40000, 100000),
            "central": (80000, 200000),
        }
        lo = np.array([base_area[c][0] for c in cls_arr])
        hi = np.array([base_area[c][1] for c in cls_arr])
        area = rng.uniform(lo, hi)
        # rescale each district to its planted effective area per resident
        for code in codes:
            m = dist_arr == code
            target = SHELTER_AREA_PER_RESIDENT[code] * res[district == code].sum()
            area[m] *= target / area[m].sum()
        area = np.round(area, -1)
        per_capita = np.array([self.profile.per_capita_area_m2.for_class(c) for c in cls_arr])
        capacity = pd.array(
            np.floor(area / per_capita * rng.uniform(0.85, 1.0, n)).astype(np.int64), dtype="Int64"
        )
        capacity[rng.random(n) < 0.3] = pd.NA
        points = shapely.points(pxy)
        polygon = np.isin(cls_arr, ["fixed_long", "central"]) | (
            (cls_arr == "fixed_medium") & (rng.random(n) < 0.5)
        )
        half = np.sqrt(area / 0.65) / 2  # site area ~ effective area / 0.65
        boxes = shapely.box(
            pxy[:, 0] - half, pxy[:, 1] - half * 0.8, pxy[:, 0] + half, pxy[:, 1] + half * 1.2
        )
        geoms = np.where(polygon, boxes, points)
        comm_names = self.comm["name"].to_numpy()[self._community_of_points()[picked]]
        place = np.array(
            [
                names.SHELTER_PLACES[c][i % len(names.SHELTER_PLACES[c])]
                for c, i in zip(cls_arr, rng.integers(0, 6, n), strict=True)
            ],
            dtype=object,
        )
        stem = np.char.add(np.char.replace(comm_names.astype(str), "社区", ""), place.astype(str))
        labels = {c: zh for c, (zh, _) in CLASS_LABELS.items()}
        self.shelters_df = pd.DataFrame(
            {
                "shelter_id": [f"SH{i + 1:05d}" for i in range(n)],
                "name": np.char.add(stem, np.array([labels[c] for c in cls_arr]).astype(str)),
                "shelter_class": cls_arr.astype(str),
                "effective_area_m2": area,
                "capacity": capacity,
                "opened_period": _periods(rng, n, 0.1, 2014),
            }
        )
        self.shelter_geoms = geoms

    # ----------------------------------------------------------------------- rural
    def rural(self) -> None:
        rng = _rng(self.seed, "rural")
        crs = self.crs
        outlines = {
            code: _to_metric(np.array([shapely.Polygon(ring)]), crs)[0]
            for code, ring in names.RURAL_OUTLINES.items()
        }
        self.rural_districts = outlines
        codes = list(names.TOWNSHIPS)
        polys = np.array([outlines[c] for c in codes], dtype=object)
        counts = np.array([len(names.TOWNSHIPS[c]) for c in codes])
        cells, parent, seeds = _tessellate(polys, counts, rng, iterations=5)
        rank = _group_rank(parent)
        town_names = np.array(
            [names.TOWNSHIPS[codes[p]][r] for p, r in zip(parent, rank, strict=True)], dtype=object
        )
        is_xiang = np.char.endswith(town_names.astype(str), "乡")
        # 镇 take codes 100+, 乡 200+, numbered in list order within each county
        num = (
            np.where(is_xiang, 200, 100)
            + pd.Series(rank).groupby([parent, is_xiang]).cumcount().to_numpy()
            + 1
        )
        county = np.array(codes)[parent]
        self.towns = pd.DataFrame(
            {
                "code": np.char.add(county.astype(str), num.astype(str)),
                "name": town_names,
                "parent_code": county,
                "x": seeds[:, 0],
                "y": seeds[:, 1],
            }
        )
        self.town_geoms = cells

        # villages, by township area
        n_vil = _allocate(self.n(BASE_VILLAGES, 30), shapely.area(cells), minimum=10)
        vx, vy, vt = _sample_in_polygons(cells, n_vil, rng)
        n = vx.size
        seq = _group_rank(vt) + 1
        fang = county[vt] == "420325"
        households = np.clip(np.round(rng.lognormal(np.log(360), 0.45, n)), 60, 1600).astype(
            np.int64
        )
        penetration = np.where(fang, rng.beta(14, 1.3, n), rng.beta(24, 1.2, n))
        penetration = np.where(rng.random(n) < 0.04, rng.uniform(0.3, 0.6, n), penetration)
        sanitary = np.minimum(np.floor(households * penetration), households).astype(np.int64)
        self.villages_df = pd.DataFrame(
            {
                "village_code": np.char.add(
                    self.towns["code"].to_numpy()[vt].astype(str),
                    np.char.zfill((200 + seq).astype(str), 3),
                ),
                "name": self._village_names(rng, n),
                "township": self.towns["name"].to_numpy()[vt],
                "county": np.where(fang, "房县", "郧阳区"),
                "households": households,
                "sanitary_toilet_households": sanitary,
                "x": vx,
                "y": vy,
                "fang": fang,
                "town": vt,
            }
        )

    @staticmethod
    def _village_names(rng: np.random.Generator, n: int) -> np.ndarray:
        firsts = [s + "家" for s in names.SURNAMES] + list(names.VILLAGE_STEMS)
        pool = [f + land + "村" for f in firsts for land in names.VILLAGE_LANDFORMS]
        pool = list(rng.permutation(np.array(pool, dtype=object)))
        while len(pool) < n:
            pool += [("新" + p) for p in pool[: n - len(pool)]]
        return np.array(pool[:n], dtype=object)

    def sanitation(self) -> None:
        rng = _rng(self.seed, "sanitation")
        vil = self.villages_df
        n_v = len(vil)
        vxy = vil[["x", "y"]].to_numpy()
        fang = vil["fang"].to_numpy()
        reach = self.profile.radii.garbage_point
        rows: list[pd.DataFrame] = []

        def add(
            kind: str, xy: np.ndarray, label: np.ndarray, village: np.ndarray, new: np.ndarray
        ) -> None:
            rows.append(
                pd.DataFrame(
                    {
                        "kind": kind,
                        "name": label,
                        "village_code": village,
                        "x": xy[:, 0],
                        "y": xy[:, 1],
                        "new": new,
                    }
                )
            )

        codes = vil["village_code"].to_numpy()
        vnames = vil["name"].to_numpy().astype(str)
        # garbage points: most villages have one within reach, some two; some none at all
        has_gp = rng.random(n_v) < np.where(fang, 0.84, 0.93)
        second = has_gp & (rng.random(n_v) < 0.2)
        gp_new = has_gp & (rng.random(n_v) < 0.12)  # built this quarter
        idx = np.r_[np.flatnonzero(has_gp), np.flatnonzero(second)]
        gxy = _jitter(vxy[idx], rng, 80, 0.7 * reach)
        nth = np.r_[np.ones(has_gp.sum(), int), np.full(second.sum(), 2)]
        label = np.char.add(np.char.add(vnames[idx], "垃圾收集点"), np.where(nth > 1, "2", ""))
        add("garbage_point", gxy, label, codes[idx], gp_new[idx])
        # sewage treatment in some villages, most with a station near the village
        sewage = rng.random(n_v) < np.where(fang, 0.3, 0.48)
        sewage_new = sewage & (rng.random(n_v) < 0.2)
        station = sewage & (rng.random(n_v) < 0.85)
        idx = np.flatnonzero(station)
        add(
            "sewage_station",
            _jitter(vxy[idx], rng, 100, 600),
            np.char.add(vnames[idx], "污水处理站"),
            codes[idx],
            sewage_new[idx],
        )
        # township seats: a transfer station and a public toilet
        txy = self.towns[["x", "y"]].to_numpy()
        tn = self.towns["name"].to_numpy().astype(str)
        tnone = np.full(len(tn), None, dtype=object)
        add(
            "transfer_station",
            _jitter(txy, rng, 100, 400),
            np.char.add(tn, "垃圾转运站"),
            tnone,
            np.zeros(len(tn), bool),
        )
        add(
            "public_toilet",
            _jitter(txy, rng, 20, 200),
            np.char.add(tn, "集镇公厕"),
            tnone,
            np.zeros(len(tn), bool),
        )

        # urban facilities near population points
        pop = self.pop
        pxy = pop[["x", "y"]].to_numpy()
        res = pop["residents"].to_numpy().astype(float)
        comm_names = self.comm["name"].to_numpy().astype(str)[self._community_of_points()]
        for kind, base, word in (
            ("public_toilet", URBAN_PUBLIC_TOILETS, "公厕"),
            ("garbage_point", URBAN_GARBAGE_POINTS, "垃圾收集点"),
            ("transfer_station", URBAN_TRANSFER_STATIONS, "垃圾转运站"),
        ):
            k = self.n(base)
            pick = _pick_per_group(np.zeros(res.size, int), res, np.array([k]), rng)
            nth = pd.Series(comm_names[pick]).groupby(comm_names[pick]).cumcount().to_numpy() + 1
            label = np.char.add(
                np.char.add(np.char.add(comm_names[pick], word), nth.astype(str)), "号"
            )
            new = rng.random(pick.size) < (0.06 if kind == "public_toilet" else 0.0)
            add(
                kind,
                _jitter(pxy[pick], rng, 20, 120),
                label,
                np.full(pick.size, None, dtype=object),
                new,
            )
        rivers = np.array(names.URBAN_RIVERS[: max(3, min(5, self.n(3)))], dtype=object)
        plants = _pick_per_group(
            np.zeros(res.size, int), np.ones(res.size), np.array([rivers.size]), rng
        )
        add(
            "sewage_station",
            _jitter(pxy[plants], rng, 300, 800),
            np.char.add(rivers.astype(str), "污水处理厂"),
            np.full(rivers.size, None, dtype=object),
            np.zeros(rivers.size, bool),
        )
        fac = pd.concat(rows, ignore_index=True)
        prefix = {
            "public_toilet": "WC",
            "garbage_point": "GP",
            "transfer_station": "TS",
            "sewage_station": "SS",
        }
        fac["facility_id"] = fac["kind"].map(prefix) + (fac.groupby("kind").cumcount() + 1).map(
            "{:05d}".format
        )
        self.fac = fac

        # village flags from real distances to garbage points (a few records disagree)
        gp = fac["kind"].to_numpy() == "garbage_point"
        tree = cKDTree(fac.loc[gp, ["x", "y"]].to_numpy())
        dist_now, _ = tree.query(vxy)
        old = gp & ~fac["new"].to_numpy()
        dist_before, _ = cKDTree(fac.loc[old, ["x", "y"]].to_numpy()).query(vxy)
        # a few records disagree with the map: collected by a mobile truck without a fixed
        # point, or a point built but no collection contract yet
        mobile = rng.random(n_v) < 0.03
        stopped = rng.random(n_v) < 0.02
        vil["garbage_collection"] = ((dist_now <= reach) & ~stopped) | mobile
        vil["garbage_collection_before"] = ((dist_before <= reach) & ~stopped) | mobile
        vil["sewage_treatment"] = sewage
        vil["sewage_treatment_before"] = sewage & ~sewage_new
        # last quarter: fewer sanitary toilets in many villages
        upgraded = rng.random(n_v) < 0.6
        drop = np.round(vil["households"].to_numpy() * rng.uniform(0.02, 0.12, n_v)).astype(
            np.int64
        )
        before = vil["sanitary_toilet_households"].to_numpy() - np.where(upgraded, drop, 0)
        vil["sanitary_before"] = np.maximum(before, 0)

    def stations(self) -> None:
        """Elderly-care and community health stations (the generic ``facilities`` layer).

        One in a share of the urban communities, at a resident-weighted population point.
        """
        rng = _rng(self.seed, "stations")
        pop = self.pop
        xy = pop[["x", "y"]].to_numpy()
        comm_of = self._community_of_points()
        res = pop["residents"].to_numpy().astype(float) + 1.0
        order = np.argsort(comm_of, kind="stable")
        starts = np.searchsorted(comm_of[order], np.arange(len(self.comm) + 1))
        comm_names = self.comm["name"].to_numpy().astype(str)
        rows = []
        for kind, (share, suffix, (low, high)) in DEMO_STATIONS.items():
            if kind not in self.profile.facility_kinds:
                continue
            for c in np.flatnonzero(rng.random(len(self.comm)) < share):
                members = order[starts[c] : starts[c + 1]]
                if members.size == 0:
                    continue
                pick = rng.choice(members, p=res[members] / res[members].sum())
                rows.append((kind, f"{comm_names[c]}{suffix}", pick, int(rng.integers(low, high))))
        n = len(rows)
        pxy = _jitter(xy[[r[2] for r in rows]], rng, 5, 40) if n else np.empty((0, 2))
        self.stations_df = pd.DataFrame(
            {
                "facility_id": [f"FS{i + 1:05d}" for i in range(n)],
                "name": [r[1] for r in rows],
                "kind": [r[0] for r in rows],
                "capacity": pd.array([r[3] for r in rows], dtype="Int64"),
                "area_m2": np.round(rng.uniform(150, 800, n), -1),
                "opened_period": _periods(rng, n, 0.2, 2016),
                "x": pxy[:, 0],
                "y": pxy[:, 1],
            }
        )

    # ----------------------------------------------------------------------- output
    def _frame(self, data: dict, geoms) -> gpd.GeoDataFrame:
        frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=self.crs), crs=self.crs)
        return frame.to_crs(self.profile.city.storage_crs)

    def frames(self) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, gpd.GeoDataFrame]]:
        rng = _rng(self.seed, "records")
        d_codes = [c for c, _, _ in names.URBAN_DISTRICTS] + [
            c for c, _, _ in names.RURAL_DISTRICTS
        ]
        d_names = {c: zh for c, zh, _ in (*names.URBAN_DISTRICTS, *names.RURAL_DISTRICTS)}
        d_geoms = [self.urban_districts.get(c, self.rural_districts.get(c)) for c in d_codes]
        districts = self._frame(
            {
                "code": d_codes,
                "name": [d_names[c] for c in d_codes],
                "parent_code": [None] * len(d_codes),
            },
            d_geoms,
        )
        streets = self._frame(
            {
                "code": np.r_[
                    self.streets["code"].to_numpy(), self.towns["code"].to_numpy()
                ].astype(str),
                "name": np.r_[
                    self.streets["name"].to_numpy(), self.towns["name"].to_numpy()
                ].astype(str),
                "parent_code": np.r_[
                    self.streets["parent_code"].to_numpy(), self.towns["parent_code"].to_numpy()
                ].astype(str),
            },
            np.r_[self.street_geoms, self.town_geoms],
        )
        communities = self._frame(
            {
                "code": self.comm["code"].to_numpy().astype(str),
                "name": self.comm["name"].to_numpy().astype(str),
                "parent_code": self.comm["parent_code"].to_numpy().astype(str),
            },
            self.comm_geoms,
        )

        # grids: records close to the population inside, a few deliberately off
        n = len(self.grid_geoms)
        noise = rng.normal(1.0, 0.03, n)
        off = rng.random(n) < 0.03
        noise = np.where(
            off,
            np.where(rng.random(n) < 0.5, rng.uniform(0.5, 0.7, n), rng.uniform(1.3, 1.6, n)),
            noise,
        )
        rec_hh = np.round(self.grid_true_households * noise).astype(np.int64)
        rec_res = np.round(self.grid_true_residents * noise).astype(np.int64)
        no_worker = np.zeros(n, bool)
        no_worker[rng.choice(n, round(0.018 * n), replace=False)] = True
        new_idx = np.flatnonzero(self.grid_new)
        no_worker[new_idx[:2]] = True  # the new-housing cluster is not yet staffed
        no_worker_before = no_worker | (rng.random(n) < 0.03)
        surname = np.array(names.SURNAMES, dtype=object)[rng.integers(0, len(names.SURNAMES), n)]
        given = np.array(names.GIVEN_CHARS, dtype=object)
        first = given[rng.integers(0, given.size, n)]
        second = np.where(rng.random(n) < 0.6, given[rng.integers(0, given.size, n)], "")
        worker = (surname + first + second).astype(object)
        prefixes = np.array(names.PHONE_PREFIXES, dtype=object)
        phone = (
            prefixes[rng.integers(0, prefixes.size, n)]
            + np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8)
        ).astype(object)
        phone[rng.random(n) < 0.06] = None
        comm_idx = self.grid_parent
        street_idx = self.comm["street_idx"].to_numpy()[comm_idx]
        dist_code = self.streets["parent_code"].to_numpy()[street_idx]
        comm_names = self.comm["name"].to_numpy().astype(str)[comm_idx]

        def grid_frame(missing: np.ndarray) -> gpd.GeoDataFrame:
            return self._frame(
                {
                    "grid_code": self.grid_codes,
                    "grid_name": np.char.add(
                        np.char.add(np.char.add(comm_names, "第"), self.grid_seq.astype(str)),
                        "网格",
                    ),
                    "community": comm_names,
                    "street": self.streets["name"].to_numpy()[street_idx].astype(str),
                    "district": pd.Series(dist_code).map(d_names).to_numpy(),
                    "worker_name": np.where(missing, None, worker),
                    "worker_phone": np.where(missing, None, phone),
                    "households": rec_hh,
                    "residents": rec_res,
                    "community_code": self.comm["code"].to_numpy().astype(str)[comm_idx],
                },
                self.grid_geoms,
            )

        grids = grid_frame(no_worker)
        grids_before = grid_frame(no_worker_before)
        population = self._frame(
            {
                "residents": self.pop["residents"].to_numpy(),
                "households": self.pop["households"].to_numpy(),
            },
            shapely.points(self.pop[["x", "y"]].to_numpy()),
        )
        cdf = self.centers_df
        centers = self._frame(
            {c: cdf[c].to_numpy() for c in LAYERS["neighborhood_centers"].field_names},
            shapely.points(cdf[["x", "y"]].to_numpy()),
        )
        sdf = self.shelters_df
        shelters = self._frame(
            {
                c: sdf[c].to_numpy() if c != "capacity" else sdf[c].array
                for c in LAYERS["shelters"].field_names
            },
            self.shelter_geoms,
        )
        entrances = self._frame(
            *_demo_entrances(
                self.shelters_df["shelter_id"].to_numpy(),
                self.shelter_geoms,
                _rng(self.seed, "entrances"),
            )
        )
        vil = self.villages_df

        def village_frame(sanitary: str, garbage: str, sewage: str) -> gpd.GeoDataFrame:
            return self._frame(
                {
                    "village_code": vil["village_code"].to_numpy(),
                    "name": vil["name"].to_numpy(),
                    "township": vil["township"].to_numpy(),
                    "county": vil["county"].to_numpy(),
                    "households": vil["households"].to_numpy(),
                    "sanitary_toilet_households": vil[sanitary].to_numpy(),
                    "garbage_collection": pd.array(vil[garbage].to_numpy(), dtype="boolean"),
                    "sewage_treatment": pd.array(vil[sewage].to_numpy(), dtype="boolean"),
                },
                shapely.points(vil[["x", "y"]].to_numpy()),
            )

        villages = village_frame(
            "sanitary_toilet_households", "garbage_collection", "sewage_treatment"
        )
        villages_before = village_frame(
            "sanitary_before", "garbage_collection_before", "sewage_treatment_before"
        )
        fac = self.fac
        fac_cols = LAYERS["sanitation_facilities"].field_names
        facilities = self._frame(
            {c: fac[c].to_numpy() for c in fac_cols}, shapely.points(fac[["x", "y"]].to_numpy())
        )
        road_data, road_geoms = demo_roads(self.footprint, self.crs, _rng(self.seed, "roads"))
        for flag in ("walkable", "bridge", "tunnel", "from_osm"):
            road_data[flag] = pd.array(road_data[flag], dtype="boolean")
        roads = self._frame(road_data, road_geoms)
        sta = self.stations_df
        stations = self._frame(
            {
                c: sta[c].to_numpy() if c != "capacity" else sta[c].array
                for c in LAYERS["facilities"].field_names
            },
            shapely.points(sta[["x", "y"]].to_numpy()),
        )
        current = {
            "districts": districts,
            "streets": streets,
            "communities": communities,
            "grids": grids,
            "population": population,
            "neighborhood_centers": centers,
            "shelters": shelters,
            "villages": villages,
            "sanitation_facilities": facilities,
            "roads": roads,
            "facilities": stations,
            "entrances": entrances,
        }
        previous = dict(current)
        previous["grids"] = grids_before
        previous["neighborhood_centers"] = _reindexed(centers[centers["opened_period"] != PERIOD])
        previous["shelters"] = _reindexed(shelters[shelters["opened_period"] != PERIOD])
        previous["villages"] = villages_before
        previous["sanitation_facilities"] = _reindexed(facilities[~fac["new"].to_numpy()])
        previous["facilities"] = _reindexed(stations[stations["opened_period"] != PERIOD])
        previous["entrances"] = _reindexed(
            entrances[entrances["facility_key"].isin(previous["shelters"]["shelter_id"])]
        )
        return current, previous


GATES = (("南门", "S"), ("北门", "N"), ("东门", "E"), ("西门", "W"))
"""Demo gate names and the side of the park each stands on."""


def _demo_entrances(
    shelter_ids: np.ndarray, geoms: np.ndarray, rng: np.random.Generator
) -> tuple[dict, np.ndarray]:
    """Gates of about half of the park shelters (polygons): one or two, at the middle of a
    random side of the park's bounding box. ``(columns, points)`` in the metric CRS."""
    parks = np.flatnonzero(shapely.get_type_id(geoms) == 3)
    gated = parks[rng.random(len(parks)) < 0.5]
    count = rng.integers(1, 3, len(gated))
    owner = np.repeat(gated, count)
    side = np.concatenate(
        [np.zeros(0, np.int64), *(rng.choice(4, k, replace=False) for k in count)]
    ).astype(np.int64)
    x0, y0, x1, y1 = shapely.bounds(geoms[owner]).T
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    x = np.choose(side, [mx, mx, x1, x0])
    y = np.choose(side, [y0, y1, my, my])
    ids = shelter_ids[owner].astype(str)
    columns = {
        "entrance_id": [f"EN{i + 1:05d}" for i in range(len(owner))],
        "facility_layer": ["shelters"] * len(owner),
        "facility_key": ids,
        "name": [GATES[k][0] for k in side],
    }
    return columns, shapely.points(x, y)


def _reindexed(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.reset_index(drop=True)
