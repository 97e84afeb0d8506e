"""Everything the Progress page and the exports show about field reports for one period.

One :func:`summarise` call gives KPIs per city, street and community (with the change since
the previous period), reports per category, recurring problems and the "ranked last twice in
a row" flags, so the page and every export show the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from field import clusters, kpis, ranking
from field.periods import period_of, shift_period
from field.settings import FieldRules
from field.visits import visit_share

SUMMARY_LEVELS = ("street", "community")
"""Area levels of the KPI tables and the ranking rule (streets/townships and communities)."""


@dataclass
class FieldSummary:
    period: str
    previous_period: str
    city: pd.DataFrame  # one row (全市) with KPIs and *_change
    areas: dict[str, pd.DataFrame]  # level -> KPIs with *_change, index area name
    by_category: pd.DataFrame  # street x category counts
    recurring: gpd.GeoDataFrame
    last_twice: pd.DataFrame  # level, indicator, area, value, previous_value
    reports: gpd.GeoDataFrame  # reports filed in the period (for maps)
    synthetic: bool

    @property
    def empty(self) -> bool:
        return self.reports.empty and self.city["reports"].sum() == 0


def periods_with_reports(reports: pd.DataFrame) -> list[str]:
    """Quarters that have reports, oldest first."""
    if reports.empty:
        return []
    return sorted(set(period_of(reports["created_at"]).dropna()))


def summarise(
    reports: gpd.GeoDataFrame,
    visits: pd.DataFrame,
    grids: pd.DataFrame,
    rules: FieldRules,
    *,
    period: str,
    now: pd.Timestamp | str,
    metric_crs: str = "EPSG:4546",
) -> FieldSummary:
    """Field-report figures of `period` (see module doc)."""
    previous = shift_period(period, -1)
    residents = {
        level: pd.to_numeric(grids["residents"], errors="coerce").groupby(grids[level]).sum()
        for level in SUMMARY_LEVELS
    }
    residents["city"] = pd.Series({kpis.CITY: pd.to_numeric(grids["residents"]).sum()})
    shares = {}
    for level in SUMMARY_LEVELS:
        shares[level] = {
            p: visit_share(visits, grids, period=p, level=level) for p in (previous, period)
        }
    city_grids = pd.DataFrame(grids).assign(city=kpis.CITY)
    shares["city"] = {
        p: visit_share(visits, city_grids, period=p, level="city") for p in (previous, period)
    }
    plain = pd.DataFrame(reports.drop(columns=reports.geometry.name))
    tables = {}
    flags = []
    for level in ("city", *SUMMARY_LEVELS):
        both = {
            p: kpis.report_kpis(
                plain,
                rules,
                period=p,
                level=level,
                now=now,
                residents=residents[level],
                visit_share=shares[level][p],
            )
            for p in (previous, period)
        }
        tables[level] = kpis.with_change(both[period], both[previous])
        if level == "city":
            continue
        found = ranking.last_twice(
            both,
            period=period,
            directions=kpis.HIGHER_IS_BETTER,
            min_reports=rules.ranking_min_reports,
        )
        flags.append(found.assign(level=level))
    in_period = reports[period_of(reports["created_at"]).eq(period).to_numpy()]
    synthetic = bool(len(reports)) and bool(reports["synthetic"].astype(bool).all())
    return FieldSummary(
        period=period,
        previous_period=previous,
        city=tables["city"],
        areas={level: tables[level] for level in SUMMARY_LEVELS},
        by_category=kpis.counts_by_category(
            reports, period=period, level="street", categories=rules.category_keys
        ),
        recurring=clusters.recurring_problems(reports, rules, period=period, metric_crs=metric_crs),
        last_twice=pd.concat(flags, ignore_index=True)[
            ["level", "indicator", "area", "value", "previous_value"]
        ],
        reports=in_period,
        synthetic=synthetic,
    )
