"""One record per layer and facility kind: the demo numbers stay, a new kind needs no code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _gaps_json(store: Path, capsys, *extra: str) -> dict:
    import cli

    assert cli.main(["gaps", "--data", str(store), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_demo_gaps_json_is_unchanged_for_the_existing_kinds(demo_store_path, capsys):
    """``gaps --json`` on the demo matches the output recorded before the kind records."""
    baseline = json.loads((FIXTURES / "gaps_demo_baseline.json").read_text(encoding="utf-8"))
    now = _gaps_json(demo_store_path, capsys)
    for section in ("metric_crs", "population", "sanitation", "grid_checks", "capacity"):
        assert now[section] == baseline[section], section
    for kind, expected in baseline["coverage"].items():
        assert now["coverage"][kind] == expected, kind
    for kind, expected in baseline["gap_cells"].items():
        assert now["gap_cells"][kind] == expected, kind
    for section in ("per_capita_area_m2", "grids"):
        assert now["parameters"][section] == baseline["parameters"][section]
    for name, value in baseline["parameters"]["radii"].items():
        assert now["parameters"]["radii"][name] == pytest.approx(value), name
    for name, value in baseline["parameters"]["targets"].items():
        assert now["parameters"]["targets"][name] == pytest.approx(value), name


# ------------------------------------------------------------------ a new kind from the profile
KINDERGARTEN = """
[facility_kinds.kindergarten]
# test kind: not one of the demo's
label_zh = "幼儿园"
label_en = "Kindergartens"
radius_m = 150
target = 0.6
color = "#f9a825"
"""
X0, Y0 = 480_000.0, 3_611_000.0  # EPSG:4546, in Shiyan's central city


@pytest.fixture
def kindergarten_profile(tmp_path, monkeypatch) -> Path:
    """A copy of the Shiyan profile declaring one more kind, selected by ``GRIDMAP_PROFILE``."""
    from geo.settings import DEFAULT_PROFILE

    path = tmp_path / "with_kindergarten.toml"
    path.write_text(DEFAULT_PROFILE.read_text(encoding="utf-8") + KINDERGARTEN, encoding="utf-8")
    monkeypatch.setenv("GRIDMAP_PROFILE", str(path))
    return path


def _lonlat(xy: list[tuple[float, float]]) -> list[tuple[float, float]]:
    import geopandas as gpd
    import shapely

    pts = gpd.GeoSeries(shapely.points(xy), crs="EPSG:4546").to_crs("EPSG:4326")
    return list(zip(pts.x.round(8), pts.y.round(8), strict=True))


@pytest.fixture
def tiny_store(tmp_path, kindergarten_profile) -> Path:
    """16 population points 100 m apart (10 residents each) and two imported kindergartens.

    Kindergarten A at (0, 0) and B at (300, 300), radius 150 m: each reaches its own point and
    the three neighbours within 141.4 m, so 8 points = 80 of 160 residents are covered.
    """
    import geopandas as gpd
    import shapely

    from data.importing import import_file
    from data.store import GeoPackageStore

    store = GeoPackageStore(tmp_path / "tiny.gpkg")
    xy = [(X0 + 100 * i, Y0 + 100 * j) for i in range(4) for j in range(4)]
    pop = gpd.GeoDataFrame(
        {"residents": [10] * 16, "households": [4] * 16},
        geometry=shapely.points(xy),
        crs="EPSG:4546",
    ).to_crs("EPSG:4326")
    store.write({"population": pop}, mode="replace")
    (a, b) = _lonlat([(X0, Y0), (X0 + 300, Y0 + 300)])
    csv = tmp_path / "stations.csv"
    csv.write_text(
        "设施编号,名称,设施类型,经度,纬度\n"
        f"K1,甲幼儿园,kindergarten,{a[0]},{a[1]}\n"
        f"K2,乙幼儿园,kindergarten,{b[0]},{b[1]}\n",
        encoding="utf-8",
    )
    import_file(csv, layer="facilities", store=store)
    return store.path


def test_new_kind_is_in_gaps_json_with_the_hand_computed_count(tiny_store, capsys):
    out = _gaps_json(tiny_store, capsys)
    kg = out["coverage"]["kindergarten"]
    assert kg["facilities"] == 2
    assert (kg["residents_total"], kg["residents_covered"], kg["residents_uncovered"]) == (
        160,
        80,
        80,
    )
    assert kg["label_zh"] == "幼儿园" and kg["radius_m"] == 150.0
    assert set(kg) == set(out["coverage"]["shelters_fixed"])  # the same keys as every kind
    assert out["parameters"]["facility_kinds"]["kindergarten"] == {
        "radius_m": 150.0,
        "target": 0.6,
        "distance": "straight",
    }
    # the CLI's radius and target accept the new kind: at 250 m A and B reach 8 points each
    # (up to 223.6 m away), two of them shared ((100, 200), (200, 100)) -> 14 points
    wider = _gaps_json(
        tiny_store, capsys, "--radius", "kindergarten=250", "--target", "kindergarten=0.7"
    )
    assert wider["coverage"]["kindergarten"]["residents_covered"] == 140
    assert wider["parameters"]["facility_kinds"]["kindergarten"] == {
        "radius_m": 250.0,
        "target": 0.7,
        "distance": "straight",
    }


def test_undeclared_kind_is_refused_on_import(tmp_path, kindergarten_profile):
    from data.importing import ImportFailed, import_file
    from data.store import GeoPackageStore

    (a,) = _lonlat([(X0, Y0)])
    csv = tmp_path / "stations.csv"
    csv.write_text(
        "facility_id,name,kind,lon,lat\n"
        f"K1,甲,kindergarten,{a[0]},{a[1]}\n"
        f"P1,乙,pharmacy,{a[0]},{a[1]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed, match=r"row 2.*'pharmacy' is not declared.*kindergarten"):
        import_file(csv, layer="facilities", store=GeoPackageStore(tmp_path / "s.gpkg"))
    assert not (tmp_path / "s.gpkg").exists()


def test_profile_refuses_unknown_keys_and_misspelt_tables(tmp_path):
    import tomllib

    from geo.settings import DEFAULT_PROFILE, ProfileError, profile_from_dict
    from layers.kinds import KindError

    data = tomllib.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    data["facility_kind"] = {}
    data["radii"]["shelter_emergncy"] = 400
    with pytest.raises(ProfileError) as err:
        profile_from_dict(data, source="x.toml")
    assert "unknown section [facility_kind] (did you mean 'facility_kinds'?)" in str(err.value)
    assert "[radii] unknown key 'shelter_emergncy' (did you mean 'shelter_emergency'?)" in str(
        err.value
    )
    data = tomllib.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    data["facility_kinds"]["kindergarten"] = {"label_zh": "幼儿园", "label_en": "K", "radius": 300}
    data["facility_kinds"]["clinic"] = {
        "label_zh": "诊所",
        "label_en": "C",
        "radius_m": "clinic_radius",
    }
    with pytest.raises(KindError) as err:
        profile_from_dict(data, source="x.toml")
    text = str(err.value)
    assert "[facility_kinds.kindergarten] unknown key 'radius' (did you mean 'radius_m'?)" in text
    assert "[facility_kinds.kindergarten] missing key 'radius_m'" in text
    assert "[facility_kinds.clinic] radius_m 'clinic_radius' is not a setting" in text


def test_old_profile_without_kind_tables_keeps_working(tmp_path):
    """A profile from before the kind tables gets the built-in kinds; [radii] keys still apply."""
    import tomllib

    from geo.settings import DEFAULT_PROFILE, profile_from_dict

    data = tomllib.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    del data["facility_kinds"]
    data["radii"]["shelter_fixed"] = 2500
    profile = profile_from_dict(data, source="old.toml")
    assert profile.radius_m("shelters_fixed") == 2500
    assert profile.target("shelters_fixed") == 0.95
    assert "elderly_care" in profile.facility_kinds


def test_new_kind_shows_on_the_explorer(tiny_store, monkeypatch):
    """The facilities layer is in the explorer's layer list; the kind is its symbol and legend."""
    from tests._apptest import map_args
    from tests._auth import signed_in_app
    from tests._map_fixtures import ROOT_APP
    from ui import state

    monkeypatch.setenv("GRIDMAP_STORE", str(tiny_store))
    at = signed_in_app(str(ROOT_APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    toggles = {c.label: c.value for c in at.sidebar.checkbox}
    assert toggles.get("公共服务设施") is True
    assert at.session_state[state.EXPLORER_SUMMARY]["facilities"] == 2
    script = map_args(at)[-1]["script"]
    assert "幼儿园" in script and "#f9a825" in script  # legend label and symbol colour


def test_new_kind_is_a_kpi_against_its_target_and_in_the_xlsx(tiny_store, tmp_path, capsys):
    from openpyxl import load_workbook

    import cli
    from data.store import GeoPackageStore
    from geo.indicators import get_indicator, indicators
    from geo.settings import load_profile
    from reports.build import THEME_MAPS, analyse_period, theme_figures

    profile = load_profile()
    kpi = get_indicator("kindergarten_coverage", profile)
    assert (kpi.name_zh, kpi.theme, kpi.target(profile)) == ("幼儿园覆盖率", "facilities", 0.6)
    assert kpi in indicators(profile)
    from data.snapshots import resolve_period

    store = GeoPackageStore(tiny_store)
    pa = analyse_period(store, resolve_period(store, None))
    city = pa.indicators[pa.indicators["level"] == "city"].set_index("indicator")
    assert city.loc["kindergarten_coverage", "value"] == pytest.approx(0.5)  # 80 of 160
    assert city.loc["kindergarten_coverage", "status"] == "not_met"
    assert [f.title for f in theme_figures(pa, "facilities")][0].startswith("十堰市 公共服务设施")
    with pytest.raises(KeyError, match="unknown report theme 'parks'"):
        theme_figures(pa, "parks")
    assert "facilities" in THEME_MAPS

    out = tmp_path / "report.xlsx"
    args = ["report", "--data", str(tiny_store), "--out", str(out)]
    assert cli.main([*args, "--quiet"]) == 0
    wb = load_workbook(out)
    summary = {r[1]: r for r in wb["指标与目标"].iter_rows(min_row=2, values_only=True)}
    assert summary["幼儿园覆盖率"][2] == pytest.approx(0.5)
    assert summary["幼儿园覆盖率"][3] == pytest.approx(0.6)
    codes = [r[3] for r in wb["全部指标"].iter_rows(min_row=2, values_only=True)]
    assert "kindergarten_coverage" in codes
