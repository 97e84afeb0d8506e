"""Key performance indicators of the action plan, by city, district and street/township.

Each :class:`Indicator` has a key, Chinese and English names, a unit, a target read from
``profile.targets`` (the attribute with the same name as the key) and a direction. Values are
ratios ``numerator / denominator`` summed over the area (so a city's value is not an average of
its districts' values). The status of a value against its target is ``met``, ``close`` (within
``profile.targets.close_margin`` below the target: absolute for shares, relative to the target
for per-resident values) or ``not_met``.

Coverage indicators are the residents covered (:mod:`geo.coverage`) over all residents of the
area. Shelter places and effective area per resident count fixed and central shelters located in
the area (as the supply tables of :mod:`geo.capacity`), over the area's residents. Grid shares
count grids by their representative point; sanitation values sum the villages located in the
area (street level = townships for rural areas).

The long indicator table (one row per area and indicator) is what snapshots store, what the
Progress page shows and what every report export is built from.

Examples
--------
>>> from geo.settings import load_profile
>>> profile = load_profile()
>>> status(0.83, 0.85, get_indicator("center_street_coverage", profile), profile)
'close'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import fmt
from geo.areas import assign_areas
from geo.crs import require_crs, to_metric
from geo.settings import Profile

LEVELS = ("city", "district", "street")
LEVEL_LABELS = {
    "city": ("全市", "City"),
    "district": ("区县", "District"),
    "street": ("街道/乡镇", "Street/township"),
}
STATUS_LABELS = {
    "met": ("达标", "Met"),
    "close": ("接近", "Close"),
    "not_met": ("未达标", "Not met"),
    "no_data": ("无数据", "No data"),
}
STATUS_COLORS = {"met": "#2e7d32", "close": "#f9a825", "not_met": "#c62828", "no_data": "#9e9e9e"}

THEMES = {
    "centers": ("党群邻里中心", "Neighborhood centers"),
    "shelters": ("应急避难场所", "Evacuation shelters"),
    "grids": ("网格化管理", "Community grids"),
    "sanitation": ("农村人居环境", "Rural sanitation"),
    "facilities": ("公共服务设施", "Public service facilities"),
    "plan": ("行动计划其他指标", "Other action-plan targets"),
}

COLUMNS = [
    "level",
    "area_code",
    "area_name",
    "parent_code",
    "indicator",
    "value",
    "numerator",
    "denominator",
    "target",
    "status",
]


class IndicatorError(ValueError):
    """An indicator cannot be computed from the inputs given."""


@dataclass(frozen=True)
class Indicator:
    """Definition of one KPI."""

    key: str
    name_zh: str
    name_en: str
    unit: str
    theme: str
    kind: str = "share"  # "share" (0-1, shown as %) or "ratio" (per resident)
    direction: str = "higher"  # "higher" is better, or "lower"
    spatial: bool = True
    decimals: int = 1
    facility_kind: str | None = None
    """The facility kind whose coverage this is (its target is the kind's)."""

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def target(self, profile: Profile) -> float:
        """The target value: the facility kind's, else ``profile.targets.<key>``."""
        if self.facility_kind is not None:
            return float(profile.target(self.facility_kind))
        return float(getattr(profile.targets, self.key))

    def unit_label(self, lang: str = "zh") -> str:
        """The unit in language `lang` (``位/人`` / ``places/person``)."""
        return fmt.unit(self.unit, lang)

    def format(self, value: float | None, lang: str = "zh") -> str:
        """Human-readable value: shares as percentages, ratios with their unit."""
        if self.kind == "share":
            return fmt.percent(value, self.decimals)
        return fmt.quantity(value, self.unit, decimals=self.decimals, lang=lang)

    def format_change(self, change: float | None, lang: str = "zh") -> str:
        """A change of this indicator: percentage points for shares, else the unit."""
        if self.kind == "share":
            return fmt.pp_change(change, self.decimals, lang=lang)
        return fmt.signed(change, self.decimals, self.unit, lang=lang)

    def unchanged(self, change: float | None) -> bool:
        """True when `change` shows as no change at this indicator's precision."""
        return fmt.is_zero(
            change * 100 if self.kind == "share" and change is not None else change, self.decimals
        )


OTHER_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "shelter_places_per_resident",
        "人均避难容量",
        "Shelter places per resident",
        "位/人",
        "shelters",
        kind="ratio",
        decimals=3,
    ),
    Indicator(
        "shelter_area_per_resident_m2",
        "人均有效避难面积",
        "Effective shelter area per resident",
        "m²/人",
        "shelters",
        kind="ratio",
        decimals=2,
    ),
    Indicator(
        "grids_in_household_range",
        "户数规模达标网格占比",
        "Grids within the household range",
        "%",
        "grids",
    ),
    Indicator("grids_with_worker", "配备网格员网格占比", "Grids with a grid worker", "%", "grids"),
    Indicator(
        "sanitary_toilet_penetration",
        "卫生厕所普及率",
        "Sanitary-toilet penetration",
        "%",
        "sanitation",
    ),
    Indicator(
        "villages_with_garbage_collection",
        "生活垃圾收运行政村占比",
        "Villages with garbage collection",
        "%",
        "sanitation",
    ),
    Indicator(
        "villages_with_sewage_treatment",
        "生活污水治理行政村占比",
        "Villages with sewage treatment",
        "%",
        "sanitation",
    ),
    Indicator(
        "green_space_ratio",
        "建成区绿地率",
        "Green-space ratio of the built-up area",
        "%",
        "plan",
        spatial=False,
    ),
    Indicator(
        "good_air_days_share",
        "空气质量优良天数比率",
        "Days of good air",
        "%",
        "plan",
        spatial=False,
    ),
    Indicator(
        "resident_satisfaction", "群众满意度", "Resident satisfaction", "%", "plan", spatial=False
    ),
)
"""Indicators that are not the coverage of a facility kind (those come from the kind records)."""
PLAN_KEYS = tuple(i.key for i in OTHER_INDICATORS if not i.spatial)


def kind_indicators(profile: Profile) -> tuple[Indicator, ...]:
    """The coverage KPI of every facility kind with a target (``profile.facility_kinds``)."""
    return tuple(
        Indicator(
            spec.indicator,
            spec.kpi_label("zh"),
            spec.kpi_label("en"),
            "%",
            spec.theme,
            facility_kind=key,
        )
        for key, spec in profile.facility_kinds.items()
        if spec.indicator is not None
    )


def indicators(profile: Profile) -> tuple[Indicator, ...]:
    """Every indicator: the kinds' coverage KPIs and the others, grouped by theme."""
    themes = list(THEMES)
    every = (*kind_indicators(profile), *OTHER_INDICATORS)
    return tuple(sorted(every, key=lambda i: themes.index(i.theme)))


def spatial_keys(profile: Profile) -> tuple[str, ...]:
    """Keys of the indicators computed from the map layers."""
    return tuple(i.key for i in indicators(profile) if i.spatial)


def get_indicator(key: str, profile: Profile) -> Indicator:
    """The definition of indicator `key` (a facility kind's KPI comes from `profile`);
    ``KeyError`` lists the known keys."""
    known = {i.key: i for i in indicators(profile)}
    try:
        return known[key]
    except KeyError:
        raise KeyError(f"unknown indicator {key!r}; known: {', '.join(known)}") from None


def definitions_table(profile: Profile, lang: str = "zh") -> pd.DataFrame:
    """One row per indicator: key, names, unit, theme, target and direction."""
    every = indicators(profile)
    return pd.DataFrame(
        {
            "indicator": [i.key for i in every],
            "name_zh": [i.name_zh for i in every],
            "name_en": [i.name_en for i in every],
            "unit": [i.unit for i in every],
            "theme": [THEMES[i.theme][0 if lang == "zh" else 1] for i in every],
            "kind": [i.kind for i in every],
            "direction": [i.direction for i in every],
            "spatial": [i.spatial for i in every],
            "target": [i.target(profile) for i in every],
        }
    )


# --------------------------------------------------------------------------- status
def _close_threshold(target: np.ndarray, kinds: np.ndarray, margin: float) -> np.ndarray:
    return np.where(kinds == "share", target - margin, target * (1.0 - margin))


def status(value: float | None, target: float, indicator: Indicator, profile: Profile) -> str:
    """``met``, ``close``, ``not_met`` or ``no_data`` for one value."""
    out = statuses(
        pd.Series([np.nan if value is None else value], dtype=float),
        pd.Series([target], dtype=float),
        pd.Series([indicator.key]),
        profile,
    )
    return str(out.iloc[0])


def statuses(values: pd.Series, targets: pd.Series, keys: pd.Series, profile: Profile) -> pd.Series:
    """Vectorised status of many values (``keys`` name each row's indicator)."""
    margin = float(profile.targets.close_margin)
    known = {i.key: i for i in indicators(profile)}
    kinds = keys.map(lambda k: known[k].kind).to_numpy()
    lower = keys.map(lambda k: known[k].direction == "lower").to_numpy()
    v = values.to_numpy(dtype=float)
    t = targets.to_numpy(dtype=float)
    # For "lower is better" indicators mirror the comparison.
    met = np.where(lower, v <= t, v >= t - 1e-12)
    close_hi = np.where(kinds == "share", t + margin, t * (1.0 + margin))
    close = np.where(lower, v <= close_hi, v >= _close_threshold(t, kinds, margin) - 1e-12)
    out = np.where(met, "met", np.where(close, "close", "not_met"))
    out = np.where(np.isfinite(v) & np.isfinite(t), out, "no_data")
    return pd.Series(out, index=values.index, dtype=object)


# --------------------------------------------------------------------------- areas
def locate_units(
    frame: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    *,
    metric_crs: str,
) -> pd.DataFrame:
    """``district_code`` and ``street_code`` of each feature, on `frame`'s index.

    Codes already on the frame (from :func:`geo.analysis.prepare`) are used as they are;
    otherwise features are located with :func:`geo.areas.assign_areas` in the metric CRS.
    """
    require_crs(frame, "frame")
    if {"district_code", "street_code"} <= set(frame.columns):
        return pd.DataFrame(frame[["district_code", "street_code"]]).astype(object)
    if frame.empty:
        return pd.DataFrame(
            index=frame.index, columns=["district_code", "street_code"], dtype=object
        )
    located = assign_areas(
        to_metric(frame, metric_crs),
        streets=to_metric(streets, metric_crs) if len(streets) else None,
        districts=to_metric(districts, metric_crs) if len(districts) else None,
    )
    return pd.DataFrame(located[["district_code", "street_code"]]).astype(object)


@dataclass
class AreaTable:
    """Names and parents of the areas indicators are reported for."""

    districts: pd.DataFrame  # code, name
    streets: pd.DataFrame  # code, name, parent_code

    @classmethod
    def from_layers(cls, districts: pd.DataFrame, streets: pd.DataFrame) -> AreaTable:
        d = (
            pd.DataFrame(districts)[["code", "name"]].astype(object)
            if len(districts)
            else pd.DataFrame(columns=["code", "name"])
        )
        s = (
            pd.DataFrame(streets)[["code", "name", "parent_code"]].astype(object)
            if len(streets)
            else pd.DataFrame(columns=["code", "name", "parent_code"])
        )
        return cls(d, s)


# --------------------------------------------------------------------------- measures
def measures_by_area(
    units: pd.DataFrame,
    numerator: pd.Series,
    denominator: pd.Series,
    indicator: str,
    areas: AreaTable,
    *,
    city_code: str,
    city_name: str,
) -> pd.DataFrame:
    """Sum a numerator and a denominator over units (population points, grids, villages...).

    ``units`` must have ``district_code`` and ``street_code`` columns. Returns measure rows for
    the city, every district and every street (areas with no units get zero / zero).
    """
    num = pd.to_numeric(numerator, errors="coerce").fillna(0.0).astype(float)
    den = pd.to_numeric(denominator, errors="coerce").fillna(0.0).astype(float)
    rows = [
        pd.DataFrame(
            {
                "level": ["city"],
                "area_code": [city_code],
                "area_name": [city_name],
                "parent_code": [None],
                "numerator": [float(num.sum())],
                "denominator": [float(den.sum())],
            }
        )
    ]
    for level, table, col in (
        ("district", areas.districts, "district_code"),
        ("street", areas.streets, "street_code"),
    ):
        if table.empty:
            continue
        keys = units[col].astype(object)
        sums_n = num.groupby(keys).sum()
        sums_d = den.groupby(keys).sum()
        codes = table["code"]
        rows.append(
            pd.DataFrame(
                {
                    "level": level,
                    "area_code": codes.to_numpy(),
                    "area_name": table["name"].to_numpy(),
                    "parent_code": table["parent_code"].to_numpy()
                    if "parent_code" in table
                    else city_code,
                    "numerator": codes.map(sums_n).fillna(0.0).to_numpy(dtype=float),
                    "denominator": codes.map(sums_d).fillna(0.0).to_numpy(dtype=float),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out["indicator"] = indicator
    return out


def finish(measures: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Add value, target and status to measure rows; order the columns as :data:`COLUMNS`."""
    out = measures.copy()
    den = out["denominator"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        computed = np.where(
            den > 0, out["numerator"].astype(float) / den.where(den > 0, 1.0), np.nan
        )
    if "value" in out:
        out["value"] = out["value"].astype(float).where(out["value"].notna(), computed)
    else:
        out["value"] = computed
    known = {i.key: i for i in indicators(profile)}
    out["target"] = out["indicator"].map(lambda k: known[k].target(profile)).astype(float)
    out["status"] = statuses(out["value"], out["target"], out["indicator"], profile)
    order = {k: n for n, k in enumerate(known)}
    lvl = {k: n for n, k in enumerate(LEVELS)}
    out = out.assign(_i=out["indicator"].map(order), _l=out["level"].map(lvl))
    out = out.sort_values(["_i", "_l", "area_code"], kind="stable").drop(columns=["_i", "_l"])
    return out[COLUMNS].reset_index(drop=True)


def plan_rows(
    values: Mapping[str, float], profile: Profile, *, city_code: str, city_name: str
) -> pd.DataFrame:
    """City-level rows for the non-spatial targets entered for a period."""
    unknown = [k for k in values if k not in PLAN_KEYS]
    if unknown:
        raise IndicatorError(
            f"not a non-spatial indicator: {', '.join(unknown)} (known: {', '.join(PLAN_KEYS)})"
        )
    keys = [
        k
        for k in PLAN_KEYS
        if k in values and values[k] is not None and np.isfinite(float(values[k]))
    ]
    frame = pd.DataFrame(
        {
            "level": "city",
            "area_code": city_code,
            "area_name": city_name,
            "parent_code": None,
            "indicator": keys,
            "value": [float(values[k]) for k in keys],
            "numerator": np.nan,
            "denominator": np.nan,
        }
    )
    return frame


@dataclass
class IndicatorInputs:
    """What the indicators are computed from (normally taken from the gap analysis).

    Attributes
    ----------
    population
        Population points with ``residents`` (any CRS).
    covered
        Facility-kind key -> boolean Series on ``population``'s index.
    shelters
        Shelters with ``capacity_used`` (places, derived where missing) and ``effective_area_m2``.
    grids
        Grids with ``households`` and ``worker_name``.
    villages
        Villages with ``households``, ``sanitary_toilet_households``, ``has_garbage_collection``, ``has_sewage_treatment`` (from :func:`geo.sanitation.village_sanitation`).
    districts, streets
        Area polygons (code, name, parent_code).
    """

    population: gpd.GeoDataFrame
    covered: Mapping[str, pd.Series]
    shelters: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    population_areas: pd.DataFrame | None = None


def compute_indicators(
    inputs: IndicatorInputs,
    profile: Profile,
    *,
    plan_values: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The long indicator table for the city, every district and every street/township.

    Parameters
    ----------
    inputs
        Analysis results and layers, see :class:`IndicatorInputs`.
    profile
        City profile: targets, close margin, metric CRS, household range.
    plan_values
        Non-spatial indicator values entered for the period (city level only).
    """
    crs = profile.metric_crs
    city_code, city_name = "city", profile.city.name_zh
    areas = AreaTable.from_layers(inputs.districts, inputs.streets)

    def area_of(frame: gpd.GeoDataFrame) -> pd.DataFrame:
        return locate_units(frame, inputs.districts, inputs.streets, metric_crs=crs)

    parts: list[pd.DataFrame] = []
    kw = {"city_code": city_code, "city_name": city_name}

    pop = inputs.population
    residents = pd.to_numeric(pop["residents"], errors="coerce").fillna(0).astype(float)
    pop_areas = inputs.population_areas if inputs.population_areas is not None else area_of(pop)
    for ind in kind_indicators(profile):
        key, kind = ind.key, ind.facility_kind
        if kind not in inputs.covered:
            continue
        cov = inputs.covered[kind].reindex(pop.index).fillna(False).astype(bool)
        parts.append(
            measures_by_area(pop_areas, residents.where(cov, 0.0), residents, key, areas, **kw)
        )

    sh = inputs.shelters
    if len(sh):
        sh_areas = area_of(sh)
        shelter_units = pd.concat([sh_areas, pop_areas], ignore_index=True)
        places = pd.concat(
            [pd.to_numeric(sh["capacity_used"], errors="coerce").fillna(0.0), residents * 0],
            ignore_index=True,
        )
        area_m2 = pd.concat(
            [pd.to_numeric(sh["effective_area_m2"], errors="coerce").fillna(0.0), residents * 0],
            ignore_index=True,
        )
        res = pd.concat([pd.Series(0.0, index=sh.index), residents], ignore_index=True)
        parts.append(
            measures_by_area(shelter_units, places, res, "shelter_places_per_resident", areas, **kw)
        )
        parts.append(
            measures_by_area(
                shelter_units, area_m2, res, "shelter_area_per_resident_m2", areas, **kw
            )
        )

    g = inputs.grids
    if len(g):
        g_areas = area_of(g)
        hh = pd.to_numeric(g["households"], errors="coerce")
        in_range = hh.between(profile.grids.households_min, profile.grids.households_max).astype(
            float
        )
        worker = g["worker_name"].astype(object)
        has_worker = (worker.notna() & (worker.astype(str).str.strip() != "")).astype(float)
        ones = pd.Series(1.0, index=g.index)
        parts.append(
            measures_by_area(g_areas, in_range, ones, "grids_in_household_range", areas, **kw)
        )
        parts.append(measures_by_area(g_areas, has_worker, ones, "grids_with_worker", areas, **kw))

    v = inputs.villages
    if len(v):
        v_areas = area_of(v)
        ones = pd.Series(1.0, index=v.index)
        parts.append(
            measures_by_area(
                v_areas,
                v["sanitary_toilet_households"],
                v["households"],
                "sanitary_toilet_penetration",
                areas,
                **kw,
            )
        )
        parts.append(
            measures_by_area(
                v_areas,
                v["has_garbage_collection"].astype(float),
                ones,
                "villages_with_garbage_collection",
                areas,
                **kw,
            )
        )
        parts.append(
            measures_by_area(
                v_areas,
                v["has_sewage_treatment"].astype(float),
                ones,
                "villages_with_sewage_treatment",
                areas,
                **kw,
            )
        )

    if plan_values:
        parts.append(plan_rows(plan_values, profile, **kw))
    if not parts:
        raise IndicatorError("no indicator could be computed: the inputs are empty")
    return finish(pd.concat(parts, ignore_index=True), profile)


def period_target(rows: pd.DataFrame, indicator: str, profile) -> float | None:
    """The target `rows` (one period's rows of `indicator`) were judged against.

    A period's statuses were computed with the target stored beside them, so charts of a
    past period draw that target, not the current profile's (which may have changed since);
    the profile's target is used only when the rows carry none.
    """
    stored = pd.to_numeric(rows.get("target", pd.Series(dtype=float)), errors="coerce").dropna()
    if len(stored):
        return float(stored.iloc[0])
    return get_indicator(indicator, profile).target(profile)


def ranked(
    table: pd.DataFrame, indicator: str, level: str, profile: Profile, *, worst_first: bool = True
) -> pd.DataFrame:
    """Areas of one level ranked by an indicator (worst first), areas without data last."""
    rows = table[(table["indicator"] == indicator) & (table["level"] == level)].copy()
    higher = get_indicator(indicator, profile).direction == "higher"
    ascending = higher if worst_first else not higher
    rows = rows.sort_values("value", ascending=ascending, na_position="last", kind="stable")
    rows.insert(0, "rank", np.arange(1, len(rows) + 1))
    return rows.reset_index(drop=True)


def supply_classes(profile: Profile) -> tuple[str, ...]:
    """Shelter classes counted in shelter places and area per resident (as in geo.capacity)."""
    from geo.capacity import SHELTER_GROUPS, SUPPLY_GROUPS

    return tuple(c for g in SUPPLY_GROUPS for c in profile.kind(SHELTER_GROUPS[g]).values)


def indicators_from_analysis(
    analysis,
    layers: Mapping[str, gpd.GeoDataFrame],
    profile: Profile,
    *,
    plan_values: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The indicator table from a gap analysis (:func:`geo.analysis.run_all`).

    Parameters
    ----------
    analysis
        The gap analysis: ``coverage`` (kind -> CoverageResult), ``capacity`` (with the
        ``capacity`` Series of every shelter) and ``sanitation`` (with per-village ``villages``).
    layers
        The prepared layers it was computed from (metric CRS, population with area codes).
    """
    shelters = layers.get("shelters")
    if shelters is not None and len(shelters):
        keep = shelters["shelter_class"].isin(supply_classes(profile)).to_numpy()
        shelters = shelters[keep].assign(
            capacity_used=analysis.capacity.capacity.reindex(shelters.index[keep])
        )
    inputs = IndicatorInputs(
        population=layers["population"],
        covered={k: r.covered for k, r in analysis.coverage.items()},
        shelters=shelters if shelters is not None else gpd.GeoDataFrame(),
        grids=layers.get("grids", gpd.GeoDataFrame()),
        villages=analysis.sanitation.villages
        if analysis.sanitation is not None
        else gpd.GeoDataFrame(),
        districts=layers["districts"],
        streets=layers["streets"],
    )
    return compute_indicators(inputs, profile, plan_values=plan_values)
