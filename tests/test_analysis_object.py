"""The one analysis object (geo.analysis.Analysis): parts computed once, only what a parameter
touches recomputed, and the same figures as run_all (the CLI) and the Service-gaps page."""

from __future__ import annotations

import json

from geo.analysis import Analysis, Parts, run_all
from tests.test_analysis import profile, small_city


def test_a_part_is_computed_once(analysis_calls):
    analysis = Analysis(small_city(), profile())
    kind = "neighborhood_centers_community"
    first = analysis.coverage(kind)
    assert analysis.coverage(kind) is first
    assert analysis_calls["coverage"] == [kind] and len(analysis_calls["distance"]) == 1
    assert analysis.parts.computed("coverage") == 1
    assert analysis.parts.computed("prepare") == 1
    # the whole result takes the kind from memory and computes every other kind once
    analysis.result()
    analysis.result()
    kinds = list(profile().facility_kinds)
    assert sorted(analysis_calls["coverage"]) == sorted(kinds)
    assert analysis.parts.computed("coverage") == len(kinds)
    assert analysis.parts.computed("capacity") == 3  # one per shelter group
    assert analysis.parts.computed("grid checks") == 1
    assert analysis.parts.computed("prepare") == 1


def test_a_new_radius_recomputes_only_that_kind(analysis_calls):
    base = Analysis(small_city(), profile())
    before = base.result()
    analysis_calls["coverage"].clear()
    analysis_calls["distance"].clear()
    computed = {part: base.parts.computed(part) for part in base.parts.memos}
    wider = base.with_profile(
        profile().with_overrides(radii={"neighborhood_center_community": 150})
    )
    after = wider.result()
    assert analysis_calls["coverage"] == ["neighborhood_centers_community"]
    assert analysis_calls["distance"] == []  # from the remembered distances
    grew = {p for p, n in computed.items() if wider.parts.computed(p) > n}
    assert grew == {"coverage", "gap cells"}
    # by hand: at 150 m the community centre at P(0,0) and the street centre at P(3,3) (it
    # serves the community need too) also reach their diagonal neighbours, 141 m away
    kind = "neighborhood_centers_community"
    assert before.coverage[kind].residents_covered == 100
    assert after.coverage[kind].residents_covered == 100 + 10 + 10
    assert after.capacity.groups["emergency"] is before.capacity.groups["emergency"]
    # a shelter radius recomputes that group's capacity, not the others
    shelter = wider.with_profile(
        wider.profile.with_overrides(radii={"shelter_emergency": 100})
    ).result()
    assert shelter.capacity.groups["emergency"] is not before.capacity.groups["emergency"]
    assert shelter.capacity.groups["fixed"] is before.capacity.groups["fixed"]


def test_parts_follow_layer_versions():
    """An analysis of new data shares the parts whose layers kept their version."""
    layers = small_city()
    versions = {name: "v1" for name in layers}
    base = Analysis(layers, profile(), versions=versions, parts=Parts())
    base.result()
    moved = layers["shelters"].copy()
    moved.geometry = moved.geometry.translate(0.001, 0.0)
    newer = base.with_layers({**layers, "shelters": moved}, {**versions, "shelters": "v2"})
    counted = base.parts.computed("coverage")
    newer.result()
    shelter_kinds = [k for k in profile().facility_kinds if profile().kind(k).layer == "shelters"]
    assert base.parts.computed("coverage") == counted + len(shelter_kinds)
    assert base.parts.computed("prepare") == 2


def test_run_all_is_the_analysis_result():
    by_run_all = run_all(small_city(), profile()).summary()
    by_object = Analysis(small_city(), profile()).result().summary()
    for summary in (by_run_all, by_object):
        summary.pop("timings_s")
    assert json.dumps(by_run_all, sort_keys=True) == json.dumps(by_object, sort_keys=True)


def test_indicators_are_a_remembered_part():
    from geo.indicators import indicators_from_analysis

    analysis = Analysis(small_city(), profile())
    table = analysis.indicators()
    assert analysis.indicators() is table
    assert analysis.parts.computed("indicators") == 1
    expected = run_all(small_city(), profile())
    again = indicators_from_analysis(expected, expected.layers, profile())
    city = table[table["level"] == "city"].set_index("indicator")["value"]
    assert (
        city.to_dict() == again[again["level"] == "city"].set_index("indicator")["value"].to_dict()
    )
    # a target is a parameter of the indicators (their status), not of the coverage
    stricter = analysis.with_profile(
        profile().with_overrides(targets={"center_street_coverage": 0.99})
    )
    stricter.indicators()
    assert analysis.parts.computed("indicators") == 2
    assert analysis.parts.computed("coverage") == len(profile().facility_kinds)
