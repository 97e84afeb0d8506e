"""The one analysis object (geo.analysis.Analysis): parts computed once, only what a parameter
touches recomputed, and the same figures as run_all (the CLI) and the Service-gaps page."""

from __future__ import annotations

import json

import pytest

from geo import coverage as gc
from geo.analysis import Analysis, Parts, run_all
from tests.test_analysis import profile, small_city


@pytest.fixture
def calls(monkeypatch) -> dict[str, list[int]]:
    """Counts of the nearest-distance searches and coverage roll-ups actually run."""
    seen: dict[str, list[int]] = {"distance": [], "coverage": []}
    real_distance, real_coverage = gc.nearest_distance, gc.coverage_from_distance

    def distance(points, facilities):
        seen["distance"].append(len(facilities))
        return real_distance(points, facilities)

    def coverage(population, dist, **kw):
        seen["coverage"].append(kw["kind"])
        return real_coverage(population, dist, **kw)

    monkeypatch.setattr(gc, "nearest_distance", distance)
    monkeypatch.setattr(gc, "coverage_from_distance", coverage)
    return seen


def test_a_part_is_computed_once(calls):
    analysis = Analysis(small_city(), profile())
    kind = "neighborhood_centers_community"
    first = analysis.coverage(kind)
    assert analysis.coverage(kind) is first
    assert calls["coverage"] == [kind] and len(calls["distance"]) == 1
    assert analysis.parts.computed("coverage") == 1
    assert analysis.parts.computed("prepare") == 1
    # the whole result takes the kind from memory and computes every other kind once
    analysis.result()
    analysis.result()
    kinds = list(profile().facility_kinds)
    assert sorted(calls["coverage"]) == sorted(kinds)
    assert analysis.parts.computed("coverage") == len(kinds)
    assert analysis.parts.computed("capacity") == 3  # one per shelter group
    assert analysis.parts.computed("grid checks") == 1
    assert analysis.parts.computed("prepare") == 1


def test_a_new_radius_recomputes_only_that_kind(calls):
    base = Analysis(small_city(), profile())
    before = base.result()
    calls["coverage"].clear()
    calls["distance"].clear()
    computed = {part: base.parts.computed(part) for part in base.parts.memos}
    wider = base.with_profile(
        profile().with_overrides(radii={"neighborhood_center_community": 150})
    )
    after = wider.result()
    assert calls["coverage"] == ["neighborhood_centers_community"]
    assert calls["distance"] == []  # from the remembered distances
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
