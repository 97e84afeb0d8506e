"""geo/settings.py and data/profiles/shiyan.toml: the city profile, the one place for settings."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

from geo.settings import DEFAULT_PROFILE, Profile, load_profile, profile_from_dict

SECTIONS = (
    "city",
    "import",
    "radii",
    "per_capita_area_m2",
    "grids",
    "targets",
    "display",
    "analysis",
    "security",
    "network",
)


def profile_text() -> str:
    return DEFAULT_PROFILE.read_text(encoding="utf-8")


def test_profile_loads_every_section():
    profile = load_profile()
    assert isinstance(profile, Profile)
    assert profile.source == str(DEFAULT_PROFILE.resolve())
    data = profile.to_dict()
    assert list(data) == [s for s in SECTIONS if s != "import"] + ["facility_kinds", "import"]
    raw = tomllib.loads(profile_text())
    assert set(raw) == {*SECTIONS, "facility_kinds", "field"}  # [field]: field/settings.py
    assert list(data["facility_kinds"]) == list(raw.pop("facility_kinds"))
    raw.pop("field")
    # every value of the file reaches the profile, and every setting is in the file
    for section, values in raw.items():
        assert set(values) == set(data[section]), section
        for key, value in values.items():
            got = data[section][key]
            assert (list(got) if isinstance(got, tuple) else got) == value, (section, key)


def test_documented_values():
    p = load_profile()
    assert p.metric_crs == "EPSG:4546" and p.city.storage_crs == "EPSG:4326"
    assert p.radii.shelter_emergency == 500
    assert p.radii.shelter_fixed == 2000
    assert p.radii.neighborhood_center_street == 1000
    assert p.radii.neighborhood_center_community == 500
    assert p.radii.detour_factor == 1.0
    assert p.per_capita_area_m2.fixed_long == 4.5
    assert p.per_capita_area_m2.for_class("emergency") == 1.0
    assert p.analysis.gap_cell_m == 250
    assert (p.grids.households_min, p.grids.households_max) == (300, 500)
    assert p.grids.code_pattern == r"\d{15}"
    assert p.grids.min_area_m2 == 1.0
    assert p.targets.shelter_places_per_resident == 0.15
    assert p.targets.villages_with_sewage_treatment == 0.40
    assert isinstance(p.grids.households_min, int) and isinstance(p.radii.shelter_fixed, float)


def test_every_setting_has_a_comment_above_its_section_value():
    """Each section of the file opens with or holds a comment (the source of its values)."""
    blocks = profile_text().split("\n[")[1:]
    for block in blocks:
        name = block.split("]", 1)[0]
        if name.startswith("["):
            continue  # one entry of an array of tables: documented once above the first entry
        assert "\n#" in block, f"[{name}] has no comment"


def test_with_overrides_changes_a_copy():
    base = load_profile()
    changed = base.with_overrides(
        radii={"shelter_emergency": "400"}, grids={"households_max": 600.0}
    )
    assert changed.radii.shelter_emergency == 400.0
    assert isinstance(changed.radii.shelter_emergency, float)
    assert changed.grids.households_max == 600 and isinstance(changed.grids.households_max, int)
    assert changed.radii.shelter_fixed == base.radii.shelter_fixed
    assert base.radii.shelter_emergency == 500  # the original is untouched
    assert base.with_overrides(import_={"max_file_mb": 5}).import_.max_file_mb == 5.0
    assert base.with_overrides() == base
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.radii.shelter_emergency = 1  # type: ignore[misc]


def test_with_overrides_rejects_unknown_keys():
    with pytest.raises(KeyError, match="Radii.shelter_unknown"):
        load_profile().with_overrides(radii={"shelter_unknown": 1})
    with pytest.raises(KeyError, match="GridRules.household_max"):
        load_profile().with_overrides(grids={"household_max": 600})
    with pytest.raises(KeyError, match="section 'nosection'"):
        load_profile().with_overrides(nosection={"x": 1})
    with pytest.raises(KeyError, match="section 'metric_crs'"):
        load_profile().with_overrides(metric_crs={"x": 1})


def test_environment_variable_selects_another_profile(tmp_path, monkeypatch):
    text = profile_text().replace("shelter_emergency = 500", "shelter_emergency = 450")
    assert text != profile_text()
    other = tmp_path / "other_city.toml"
    other.write_text(text.replace('name_en = "Shiyan"', 'name_en = "Other"'), encoding="utf-8")
    monkeypatch.setenv("GRIDMAP_PROFILE", str(other))
    p = load_profile()
    assert p.radii.shelter_emergency == 450
    assert p.city.name_en == "Other"
    assert p.source == str(other.resolve())
    # an explicit path wins over the environment
    assert load_profile(DEFAULT_PROFILE).radii.shelter_emergency == 500
    monkeypatch.delenv("GRIDMAP_PROFILE")
    assert load_profile().radii.shelter_emergency == 500


@pytest.mark.parametrize("section", ["radii", "grids", "analysis"])
def test_missing_section_is_named(section, tmp_path):
    data = tomllib.loads(profile_text())
    del data[section]
    with pytest.raises(ValueError, match=f"missing sections {section}"):
        profile_from_dict(data, source="broken.toml")
    # the same from a file on disk
    lines, skip = [], False
    for line in profile_text().splitlines():
        if line.startswith("["):
            skip = line == f"[{section}]"
        if not skip:
            lines.append(line)
    path = tmp_path / "broken.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"broken\.toml: missing sections {section}"):
        load_profile(path)
