"""AppTest of the map pages (explorer, My grid) on the tiny store, and the demo store's label."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests._apptest import map_args
from tests._auth import signed_in_app
from tests._map_fixtures import ROOT_APP, write_tiny_store
from ui import state
from ui.text import unescape

TIMEOUT = 120


@pytest.fixture
def tiny_store(tmp_path, monkeypatch):
    path = write_tiny_store(tmp_path / "tiny.gpkg")
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    return path


def _app(page: str | None = None, **query) -> AppTest:
    at = signed_in_app(str(ROOT_APP), default_timeout=TIMEOUT, query=query)
    for key, value in query.items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _map_args(at: AppTest) -> dict:
    """Arguments sent to the last streamlit-folium component (its script holds the map)."""
    return map_args(at)[-1]


# --------------------------------------------------------------------------- explorer
def test_explorer_default_view(tiny_store):
    at = _app()
    assert _metrics(at) == {"网格": "6", "登记常住人口": "6,400", "户数": "2,330", "设施": "10"}
    summary = at.session_state[state.EXPLORER_SUMMARY]
    assert summary == {
        "districts": 1,
        "streets": 2,
        "communities": 3,
        "grids": 6,
        "villages": 2,
        "sanitation_facilities": 3,
        "shelters": 3,
        "neighborhood_centers": 2,
    }  # population is off by default
    args = _map_args(at)
    assert args["script"].count("gridmap.add(") == 8
    assert args["returned_objects"] == []  # pan/zoom never re-run the app
    links = args["js_links"] + args["css_links"]
    assert links and all(link.startswith("../../app/static/vendor/") for link in links)
    assert "<img" not in args["script"]


def test_explorer_cascading_filters(tiny_store):
    at = _app()
    assert at.selectbox(key=state.STREET).options == ["全部", "街道乙", "街道甲"]
    at.selectbox(key=state.STREET).set_value("街道甲").run()
    assert at.selectbox(key=state.COMMUNITY).options == ["全部", "社区一"]
    assert _metrics(at) == {"网格": "2", "登记常住人口": "2,000", "户数": "730", "设施": "3"}
    summary = at.session_state[state.EXPLORER_SUMMARY]
    assert summary["grids"] == 2 and summary["shelters"] == 1 and summary["villages"] == 1
    assert summary["districts"] == 1  # the parent outline stays
    at.selectbox(key=state.STREET).set_value("街道乙").run()
    at.selectbox(key=state.COMMUNITY).set_value("社区三").run()
    assert _metrics(at)["网格"] == "2"
    assert at.session_state[state.EXPLORER_SUMMARY]["sanitation_facilities"] == 1  # F1 in G05
    assert at.session_state[state.EXPLORER_SUMMARY]["communities"] == 1


def test_explorer_layer_toggles(tiny_store):
    at = _app()
    at.checkbox(key=state.layer_key("grids")).uncheck().run()
    assert "grids" not in at.session_state[state.EXPLORER_SUMMARY]
    at.checkbox(key=state.layer_key("population")).check().run()
    summary = at.session_state[state.EXPLORER_SUMMARY]
    assert summary["population"] == 6
    assert '"key":"population"' in _map_args(at)["script"]
    assert '"key":"grids"' not in _map_args(at)["script"]
    assert _map_args(at)["script"].count("gridmap.add(") == 8


def test_explorer_colour_by_changes_legend(tiny_store):
    at = _app()
    at.selectbox(key=state.COLOR_BY).set_value("residents").run()
    legend = _map_args(at)["script"]
    assert "网格 · 常住人口" in legend
    assert "1,100 – 1,200" in legend or "1,101 – 1,200" in legend


def _pick(at: AppTest):
    """The result select of the current search."""
    return at.selectbox(key=state.search_pick_key(at.text_input(key=state.SEARCH).value.strip()))


def test_explorer_search_zooms_to_a_grid(tiny_store):
    at = _app()
    at.text_input(key=state.SEARCH).input("G05").run()
    assert _pick(at).options[0].startswith("网格 · G05")
    assert at.session_state[state.EXPLORER_SUMMARY]["highlight"] == 1
    at.text_input(key=state.SEARCH).input("网格").run()  # five grids match (G05's name does not)
    assert len(_pick(at).options) == 5
    _pick(at).set_value(4).run()
    assert _pick(at).value == 4
    at.text_input(key=state.SEARCH).input("邻里").run()  # a new search starts at its first result
    assert _pick(at).value == 0
    assert _pick(at).options == ["党群邻里中心 · NC2 · 二号社区邻里中心"]
    at.text_input(key=state.SEARCH).input("不存在的名字").run()
    assert any("没有找到" in w.value for w in at.warning)


def test_explorer_second_search_shows_its_own_result(tiny_store):
    """A second search with as many results as the first is a new select, not the old one."""
    at = _app()
    at.text_input(key=state.SEARCH).input("G01").run()
    first = _pick(at)
    at.text_input(key=state.SEARCH).input("G02").run()
    second = _pick(at)
    assert second.options == [second.options[0]] and "G02" in second.options[0]
    assert first.id != second.id


def test_explorer_filters_survive_a_page_switch(tiny_store):
    at = _app()
    at.selectbox(key=state.STREET).set_value("街道甲").run()
    at.checkbox(key=state.layer_key("shelters")).uncheck().run()
    at.switch_page("ui/pages/my_grid.py").run()
    at.switch_page("ui/pages/explorer.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key=state.STREET).value == "街道甲"
    assert at.checkbox(key=state.layer_key("shelters")).value is False


def test_explorer_missing_and_empty_layers(tmp_path, monkeypatch):
    path = write_tiny_store(tmp_path / "partial.gpkg", skip=("shelters",))
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    at = _app()
    text = " ".join(i.value for i in at.info)
    assert "没有“应急避难场所”图层" in text
    assert "shelters" not in at.session_state[state.EXPLORER_SUMMARY]
    at.selectbox(key=state.STREET).set_value("街道甲").run()
    at.selectbox(key=state.COMMUNITY).set_value("社区一").run()
    assert "“环卫设施”在当前筛选下没有要素" in " ".join(i.value for i in at.info)


def test_without_a_store_nobody_can_sign_in(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_STORE", str(tmp_path / "nothing.gpkg"))
    at = AppTest.from_file(str(ROOT_APP), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["登录"]
    assert any("数据存储不存在" in e.value for e in at.error)


def test_explorer_in_english(tiny_store):
    at = _app(lang="en")
    assert _metrics(at)["Grids"] == "6"
    assert "Grids · Households" in _map_args(at)["script"]


def test_demo_store_is_labelled_synthetic(demo_store_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_STORE", str(demo_store_path))
    at = _app()
    assert any("合成示例数据 / synthetic demo data" in c.value for c in at.caption)
    summary = at.session_state[state.EXPLORER_SUMMARY]
    assert summary["grids"] > 100
    # tens of thousands of population points are summed into cells for the map
    at.checkbox(key=state.layer_key("population")).check().run()
    assert any("方格汇总" in c.value for c in at.caption)
    cells = at.session_state[state.EXPLORER_SUMMARY]["population"]
    assert 100 < cells < 20_000


# --------------------------------------------------------------------------- my grid
def test_my_grid_from_url(tiny_store):
    at = _app("ui/pages/my_grid.py", grid="G05")
    assert at.selectbox(key=state.GRID_PICK).value == "G05"
    text = unescape(" ".join(m.value for m in at.markdown))
    assert "社区三" in text and "王五" in text
    assert "137****2222" in text  # masked phone
    assert "13700002222" not in text
    assert "一号公厕" in text  # F1 inside G05
    metrics = {m.label: m.value for m in at.metric}
    assert {k: metrics[k] for k in ("户数", "登记常住人口")} == {
        "户数": "380",
        "登记常住人口": "1,000",
    }
    assert any("300–500" in s.value for s in at.success)
    nearest = [m.value for m in at.markdown if m.value.startswith("- 党群邻里中心")][0]
    assert nearest.splitlines() == [
        "- 党群邻里中心：**二号社区邻里中心** · 东 670 m",
        "- 紧急避难场所：**一号紧急避难场所** · 南 500 m",
        "- 中期固定避难场所：**体育场固定避难场所** · 东 1,350 m",
    ]
    assert at.session_state[state.MY_GRID_SUMMARY]["my_grid"] == 1
    # the map draws a line to each of these three, ending at the facility
    summary = at.session_state[state.MY_GRID_SUMMARY]
    assert summary["nearest"] == 3 and summary["nearest_end"] == 3
    # the XSS name is shown as text (escaped markdown), never as an element
    assert "&lt;img" not in at.subheader[0].value and "img src=x" in at.subheader[0].value.replace(
        "\\", ""
    )


def test_nearest_links_end_at_the_facilities():
    import shapely

    from maps import display as dp
    from tests._map_fixtures import frames

    tiny = frames()
    grid = tiny["grids"].iloc[4].geometry  # G05
    origin = grid.representative_point()
    links = dp.nearest_links(
        origin, tiny["shelters"], metric_crs="EPSG:4546", by="shelter_class", lang="zh"
    )
    assert list(links["name"]) == ["一号紧急避难场所", "体育场固定避难场所"]
    for line, name in zip(links.geometry, links["name"], strict=True):
        end = tiny["shelters"].set_index("name").geometry[name]
        assert line.coords[0] == (origin.x, origin.y)
        assert shapely.Point(line.coords[-1]).distance(end) < 1e-9
    assert links.crs.to_epsg() == 4326


def test_my_grid_pick_updates_url(tiny_store):
    at = _app("ui/pages/my_grid.py")
    assert any("请选择一个网格" in i.value for i in at.info)
    at.selectbox(key=state.GRID_PICK).set_value("G04").run()
    assert at.query_params["grid"] == ["G04"] or at.query_params["grid"] == "G04"
    assert any("超过" in w.value for w in at.warning)  # 520 households > 500
    assert "未配备" in " ".join(m.value for m in at.markdown)
    at.selectbox(key=state.GRID_PICK).set_value("G03").run()
    assert any("低于" in w.value for w in at.warning)  # 250 households < 300
    assert at.query_params["grid"] in ("G03", ["G03"])


def test_my_grid_unknown_code(tiny_store):
    at = _app("ui/pages/my_grid.py", grid="NOPE")
    assert any("没有编码为“NOPE”的网格" in e.value for e in at.error)
    assert at.selectbox(key=state.GRID_PICK).value is None


def test_basemap_choices(tiny_store, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    at = _app()
    assert "tile" not in _map_args(at)["script"].lower()  # no tiles by default
    at.selectbox(key=state.BASEMAP).set_value("gaode").run()
    assert "autonavi" in _map_args(at)["script"]
    assert at.session_state[state.EXPLORER_SUMMARY]["grids"] == 6  # overlays still drawn (shifted)
    at.selectbox(key=state.BASEMAP).set_value("tianditu").run()
    assert any("未设置天地图密钥" in w.value for w in at.warning)
    assert "tianditu" not in _map_args(at)["script"]
    at.text_input(key=state.TIANDITU_KEY).input("k123").run()
    assert "tk=k123" in _map_args(at)["script"]


def test_many_grids_are_summed_per_community_until_a_street_is_chosen(
    tiny_store, tmp_path, monkeypatch
):
    from geo.settings import DEFAULT_PROFILE

    text = Path(DEFAULT_PROFILE).read_text(encoding="utf-8")
    profile = tmp_path / "small.toml"
    profile.write_text(text.replace("max_grids_drawn = 5000", "max_grids_drawn = 3"), "utf-8")
    monkeypatch.setenv("GRIDMAP_PROFILE", str(profile))
    at = _app()
    summary = at.session_state[state.EXPLORER_SUMMARY]
    assert "grids" not in summary and summary["grid_summary"] == 3  # three communities
    assert any("按社区汇总" in c.value for c in at.caption)
    assert _metrics(at)["网格"] == "6"
    at.selectbox(key=state.STREET).set_value("街道甲").run()  # two grids: drawn one by one
    summary = at.session_state[state.EXPLORER_SUMMARY]
    assert summary["grids"] == 2 and "grid_summary" not in summary


def test_grids_by_area_sums_per_community():
    from maps import display as dp
    from tests._map_fixtures import frames

    tiny = frames()
    out = dp.grids_by_area(tiny["grids"], tiny["communities"], metric_crs="EPSG:4546")
    out = out.set_index("name")
    assert out.loc["社区一", ["grids", "households", "residents", "workers"]].tolist() == [
        2,
        730,
        2000,
        1,
    ]
    assert out.loc["社区二", "households"] == 770 and out.loc["社区二", "workers"] == 1
    assert out.loc["社区三", "households_per_worker"] == 415  # 830 households, two workers


def test_explorer_map_is_never_shared_across_scopes(tiny_store):
    # the map is built once per view and shared by sessions: a street's staff opening the same
    # view after a planner must get their own street's map, not the planner's whole city
    planner = _app()
    assert "三号网格" in _map_args(planner)["script"]
    at = signed_in_app(str(ROOT_APP), role="staff", scope="street:街道甲", default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    script = _map_args(at)["script"]
    assert "一号网格" in script and "三号网格" not in script


def _with_entrances(path: Path) -> Path:
    """The tiny store plus an entrance of SH1 (in G02, 街道甲) and two of SH2 (east of every
    grid, so in no street)."""
    import geopandas as gpd
    from shapely.geometry import Point

    from data.store import GeoPackageStore
    from tests._map_fixtures import X0, Y0

    entrances = gpd.GeoDataFrame(
        {
            "entrance_id": ["E1", "E2", "E3"],
            "facility_layer": ["shelters"] * 3,
            "facility_key": ["SH1", "SH2", "SH2"],
            "name": ["一号东门", "体育场北门", "体育场南门"],
        },
        geometry=[
            Point(X0 + 760, Y0 + 250),
            Point(X0 + 2100, Y0 + 760),
            Point(X0 + 2100, Y0 + 740),
        ],
        crs="EPSG:4546",
    ).to_crs("EPSG:4326")
    GeoPackageStore(path).write({"entrances": entrances}, mode="replace")
    return path


def test_explorer_entrances_follow_their_facilities_filter(tiny_store):
    _with_entrances(tiny_store)
    at = _app()
    at.checkbox(key=state.layer_key("entrances")).check().run()
    summary = at.session_state[state.EXPLORER_SUMMARY]
    assert (summary["shelters"], summary["entrances"]) == (3, 3)
    # 街道甲 holds SH1 only: only its gate is drawn, not the stadium's two
    at.selectbox(key=state.STREET).set_value("街道甲").run()
    summary = at.session_state[state.EXPLORER_SUMMARY]
    assert (summary["shelters"], summary["entrances"]) == (1, 1)
    script = _map_args(at)["script"]
    assert "一号东门" in script and "体育场北门" not in script
    # 街道乙 holds no shelter: no gate, and the page says so
    at.selectbox(key=state.STREET).set_value("街道乙").run()
    assert at.session_state[state.EXPLORER_SUMMARY].get("entrances", 0) == 0
    assert any("设施出入口" in i.value for i in at.info)
    # hiding the shelters keeps the gates of the chosen area's shelters
    at.selectbox(key=state.STREET).set_value("街道甲").run()
    at.checkbox(key=state.layer_key("shelters")).uncheck().run()
    assert at.session_state[state.EXPLORER_SUMMARY]["entrances"] == 1
