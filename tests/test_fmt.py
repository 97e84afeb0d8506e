"""geo.fmt: thousands separators, units per language, percentage points, neutral zero."""

from __future__ import annotations

import math

import pytest

from geo import fmt
from geo.indicators import get_indicator
from geo.settings import load_profile


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(1004634, 0, "1,004,634"), (999.5, 0, "1,000"), (1234.567, 2, "1,234.57"), (None, 0, "—")],
)
def test_number(value, decimals, expected):
    assert fmt.number(value, decimals) == expected


def test_missing_values():
    assert fmt.number(math.nan) == fmt.percent(None) == fmt.pp_change(math.inf) == "—"


def test_units_follow_the_language():
    assert fmt.quantity(6171.0, "人") == "6,171 人"
    assert fmt.quantity(6171.0, "人", lang="en") == "6,171 persons"
    assert fmt.quantity(12345.6, "m²") == "12,346 m²"
    assert fmt.quantity(3, "个", lang="en") == "3"
    assert fmt.unit("m²/人", "en") == "m²/person" and fmt.unit("位/人", "en") == "places/person"


def test_percentage_points_not_percent():
    assert fmt.pp_change(0.6, lang="zh") == "+60.0 个百分点"
    assert fmt.pp_change(-0.012, lang="en") == "-1.2 pp"
    assert "%" not in fmt.pp_change(0.5)


def test_zero_change_has_no_sign():
    assert fmt.pp_change(0.0, lang="zh") == "0.0 个百分点"
    assert fmt.pp_change(-0.0004) == "0.0 pp"  # rounds to zero
    assert fmt.signed(0.0004, 3, "位/人") == "0.000 位/人"
    assert fmt.signed(1200, 0, "人") == "+1,200 人"


def test_indicator_format_uses_fmt():
    places = get_indicator("shelter_places_per_resident", load_profile())
    assert places.format(0.12, "en") == "0.120 places/person"
    assert places.format(0.12) == "0.120 位/人"
    share = get_indicator("center_street_coverage", load_profile())
    assert share.format_change(0.0) == "0.0 个百分点"
    assert share.unchanged(0.0004) and not share.unchanged(0.01)
