"""Indicator definitions, status against targets and values per area on the tiny city."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from geo.indicators import (
    PLAN_KEYS,
    IndicatorError,
    IndicatorInputs,
    compute_indicators,
    definitions_table,
    get_indicator,
    indicators,
    ranked,
    status,
)
from geo.settings import load_profile
from tests._progress_fixtures import tiny_layers

PROFILE = load_profile()


def _inputs(covered_street: list[bool], period: int = 1) -> IndicatorInputs:
    layers = {k: v.to_crs(PROFILE.metric_crs) for k, v in tiny_layers(period).items()}
    pop = layers["population"]
    sh = layers["shelters"].assign(capacity_used=[60.0])
    v = layers["villages"]
    v = v.assign(
        has_garbage_collection=v["garbage_collection"].astype(bool),
        has_sewage_treatment=v["sewage_treatment"].astype(bool),
    )
    return IndicatorInputs(
        population=pop,
        covered={"neighborhood_centers_street": pd.Series(covered_street, index=pop.index)},
        shelters=sh,
        grids=layers["grids"],
        villages=v,
        districts=layers["districts"],
        streets=layers["streets"],
    )


def _value(table: pd.DataFrame, key: str, area: str) -> float:
    row = table[(table["indicator"] == key) & (table["area_code"] == area)]
    assert len(row) == 1, (key, area)
    return float(row["value"].iloc[0])


def test_definitions_have_targets_from_profile():
    table = definitions_table(PROFILE)
    # 4 built-in coverage KPIs + 2 of the demo's new kinds + 10 others
    assert len(table) == len(indicators(PROFILE)) == 16
    assert table.set_index("indicator").loc["sanitary_toilet_penetration", "target"] == 0.90
    assert table.set_index("indicator").loc["green_space_ratio", "target"] == 0.36
    assert set(PLAN_KEYS) == {"green_space_ratio", "good_air_days_share", "resident_satisfaction"}
    assert get_indicator("shelter_area_per_resident_m2", PROFILE).unit == "m²/人"
    with pytest.raises(KeyError, match="unknown indicator"):
        get_indicator("nope", PROFILE)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("center_street_coverage", 0.85, "met"),  # exactly at target
        ("center_street_coverage", 0.80, "close"),  # exactly at target - margin (0.05)
        ("center_street_coverage", 0.7999, "not_met"),
        ("shelter_places_per_resident", 0.15, "met"),
        ("shelter_places_per_resident", 0.1425, "close"),  # 5% below the target, relative
        ("shelter_places_per_resident", 0.142, "not_met"),
        ("center_street_coverage", None, "no_data"),
    ],
)
def test_status_boundaries(key, value, expected):
    ind = get_indicator(key, PROFILE)
    assert status(value, ind.target(PROFILE), ind, PROFILE) == expected


def test_values_per_area_worked_by_hand():
    table = compute_indicators(_inputs([True, True, False, False]), PROFILE)
    # coverage: P1, P2 covered = 200 of 500 residents
    assert _value(table, "center_street_coverage", "city") == pytest.approx(0.4)
    assert _value(table, "center_street_coverage", "D1") == pytest.approx(1.0)
    assert _value(table, "center_street_coverage", "D2") == pytest.approx(0.0)
    assert _value(table, "center_street_coverage", "S1b") == pytest.approx(1.0)
    # shelter supply: 60 places / 500 residents; D2 60/300; D1 has none
    assert _value(table, "shelter_places_per_resident", "city") == pytest.approx(0.12)
    assert _value(table, "shelter_places_per_resident", "D2") == pytest.approx(0.2)
    assert _value(table, "shelter_places_per_resident", "D1") == pytest.approx(0.0)
    assert _value(table, "shelter_area_per_resident_m2", "S2") == pytest.approx(120 / 300)
    # grids: G1, G3 in 300-500; G1, G3 have a worker
    assert _value(table, "grids_in_household_range", "city") == pytest.approx(2 / 3)
    assert _value(table, "grids_with_worker", "S1b") == pytest.approx(0.0)
    # villages: (90 + 80) / 200 sanitary; V1 garbage; V2 sewage
    assert _value(table, "sanitary_toilet_penetration", "city") == pytest.approx(0.85)
    assert _value(table, "villages_with_garbage_collection", "D2") == pytest.approx(1.0)
    assert _value(table, "villages_with_sewage_treatment", "D2") == pytest.approx(0.0)
    # an area with no villages has no value (0 / 0), not zero
    assert math.isnan(_value(table, "sanitary_toilet_penetration", "S1a"))
    st = table.set_index(["indicator", "area_code"])["status"]
    assert st["sanitary_toilet_penetration", "city"] == "close"  # 0.85 = 0.90 - 0.05
    assert st["shelter_places_per_resident", "city"] == "not_met"  # 0.12 < 0.1425
    assert st["shelter_places_per_resident", "D2"] == "met"
    assert st["sanitary_toilet_penetration", "S1a"] == "no_data"


def test_plan_values_appear_at_city_level_only():
    table = compute_indicators(
        _inputs([True] * 4), PROFILE, plan_values={"green_space_ratio": 0.37}
    )
    rows = table[table["indicator"] == "green_space_ratio"]
    assert list(rows["level"]) == ["city"]
    assert rows["status"].iloc[0] == "met"
    with pytest.raises(IndicatorError, match="not a non-spatial"):
        compute_indicators(
            _inputs([True] * 4), PROFILE, plan_values={"center_street_coverage": 0.5}
        )


def test_ranked_worst_first():
    table = compute_indicators(_inputs([True, True, False, False]), PROFILE)
    r = ranked(table, "center_street_coverage", "street", PROFILE)
    assert list(r["area_code"]) == ["S2", "S1a", "S1b"]
    assert list(r["rank"]) == [1, 2, 3]
