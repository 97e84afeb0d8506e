"""Map rendering without a browser: assets, display preparation, the rendered folium HTML."""

from __future__ import annotations

import html
import json
import os
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon

from geo.settings import load_profile
from maps import assets, render
from maps import display as dp
from tests._map_fixtures import XSS, frames

PROFILE = load_profile()


@pytest.fixture(scope="module")
def tiny() -> dict[str, gpd.GeoDataFrame]:
    return frames()


def _map(layers: dict[str, gpd.GeoDataFrame], **kwargs) -> folium.Map:
    m = render.base_map(PROFILE, kwargs.pop("basemap", "none"), **kwargs)
    return render.draw_layers(m, layers, lang=kwargs.get("lang", "zh"))


def _payloads(m: folium.Map) -> dict[str, dict]:
    """Decoded DataLayer payloads by layer key."""
    out = {}
    for group in m._children.values():
        for child in getattr(group, "_children", {}).values():
            if isinstance(child, render.DataLayer):
                out[child.key] = json.loads(child.payload)
    return out


# --------------------------------------------------------------------------- assets
def test_install_assets_copies_vendor_files_once(tmp_path):
    target = assets.install_assets(tmp_path / "vendor")
    leaflet = target / "leaflet" / "leaflet.js"
    assert leaflet.is_file() and leaflet.stat().st_size > 100_000
    assert (target / "leaflet" / "images" / "layers.png").is_file()
    assert (target / "markercluster" / "leaflet.markercluster.js").is_file()
    assert not (target / "jquery").exists()  # no map loads jQuery
    before = leaflet.stat().st_mtime_ns
    assets.install_assets(tmp_path / "vendor")
    assert leaflet.stat().st_mtime_ns == before  # idempotent: nothing recopied


def test_install_assets_copies_our_map_script_and_recopies_it_when_edited(tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    for name in ("gridmap.js", "gridmap.css"):
        (own / name).write_text((assets.OWN_DIR / name).read_text(encoding="utf-8"))
    sources = {**assets._sources(), "gridmap": (own, ("gridmap.js", "gridmap.css"))}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(assets, "_sources", lambda: sources)
        target = assets.install_assets(tmp_path / "vendor")
        copied = target / "gridmap" / "gridmap.js"
        assert "window.gridmap" in copied.read_text(encoding="utf-8")
        assert ".gm-legend" in (target / "gridmap" / "gridmap.css").read_text(encoding="utf-8")
        # an edit that keeps the size is still picked up (the source is newer)
        text = (own / "gridmap.js").read_text(encoding="utf-8")
        (own / "gridmap.js").write_text(text.replace("window.gridmap", "window.gridmaq", 1))
        os.utime(copied, (1, 1))
        assets.install_assets(tmp_path / "vendor")
        assert "window.gridmaq" in copied.read_text(encoding="utf-8")


def test_map_loads_gridmap_script_after_leaflet_and_no_inline_copy():
    page = render.base_map(PROFILE, "none").get_root().render()
    srcs = re.findall(r'<script src="([^"]+)"', page)
    names = [s.rsplit("/", 1)[-1] for s in srcs]
    assert names.index("leaflet.js") < names.index("gridmap.js")
    assert "gridmap/gridmap.css" in page
    assert "window.gridmap = " not in page and ".gm-legend {" not in page


def test_default_folium_map_uses_cdns_and_ours_does_not():
    assert assets.external_links(folium.Map(tiles=None))  # the problem we fix
    m = render.base_map(PROFILE, "none")
    cluster = folium.plugins.MarkerCluster().add_to(m)
    assets.use_local_assets(m)
    assert assets.external_links(m) == []
    assert cluster.default_js[0][1].startswith("../../app/static/vendor/")
    page = m.get_root().render()
    srcs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert srcs and all(s.startswith("../../app/static/vendor/") for s in srcs)
    for gone in ("bootstrap", "awesome", "fontawesome", "cdn"):
        assert gone not in page.lower()


def test_inline_assets_html_is_self_contained(tiny, tmp_path):
    m = _map({"grids": tiny["grids"]})
    page = assets.inline_assets_html(m, vendor_dir=tmp_path / "vendor")
    assert "<script src=" not in page and '<link rel="stylesheet"' not in page
    assert "L.Map" in page or "leaflet" in page.lower()
    assert "data:image/png;base64," in page  # leaflet.css images inlined
    assert "window.gridmap = " in page and ".gm-legend {" in page  # our script and CSS too
    assert not re.search(r'<(script|link|img)\b[^>]*(src|href)="(https?:)?//', page)


# --------------------------------------------------------------------------- geometry
def test_round_coordinates_keeps_shared_vertices_equal():
    a = Polygon([(0.123456, 0), (1.0000049, 0), (1.0000049, 1), (0.123456, 1)])
    b = Polygon([(1.0000049, 0), (2, 0), (2, 1), (1.0000049, 1)])
    ra, rb = dp.round_coordinates(np.array([a, b]), 5)
    assert list(ra.exterior.coords)[0] == (0.12346, 0.0)
    assert shapely.intersection(ra, rb).length == pytest.approx(1.0)  # still share the edge
    assert shapely.intersection(ra, rb).area == 0


def test_simplify_coverage_keeps_grids_meeting():
    # two cells sharing a wiggly edge (1 m wiggles, 8 m tolerance) in the metric CRS
    x0, y0 = 480_000.0, 3_612_000.0
    wiggle = [(x0 + 500 + (1.0 if k % 2 else -1.0), y0 + k * 10.0) for k in range(51)]
    left = Polygon([(x0, y0), *wiggle, (x0, y0 + 500)])
    right = Polygon([(x0 + 1000, y0), (x0 + 1000, y0 + 500), *wiggle[::-1]])
    frame = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[left, right], crs="EPSG:4546").to_crs(4326)
    out = dp.simplify_coverage(frame, tolerance_m=8, metric_crs="EPSG:4546").to_crs("EPSG:4546")
    a, b = out.geometry
    assert shapely.get_num_coordinates(a) < shapely.get_num_coordinates(left) / 3
    assert shapely.intersection(a, b).area < 1e-3  # no overlap
    assert shapely.union(a, b).area == pytest.approx(left.area + right.area, rel=1e-6)  # no gap
    assert out.index.tolist() == frame.index.tolist()


def test_prepare_geometry_rounds_and_stays_4326(tiny):
    out = dp.prepare_geometry(
        tiny["grids"], decimals=4, tolerance_m=8, metric_crs=PROFILE.metric_crs
    )
    assert out.crs.equals("EPSG:4326") and len(out) == 6
    coords = shapely.get_coordinates(out.geometry.values)
    assert np.allclose(coords, np.round(coords, 4))
    assert tiny["grids"].geometry.iloc[0] != out.geometry.iloc[0]  # input not changed in place


# --------------------------------------------------------------------------- values
def test_households_per_worker_sums_a_workers_grids(tiny):
    hpw = dp.households_per_worker(tiny["grids"])
    # 张三 looks after G01 (320) and G02 (410); G04 has no worker
    assert hpw.tolist()[:3] == [730.0, 730.0, 250.0]
    assert np.isnan(hpw.iloc[3])
    assert hpw.iloc[4:].tolist() == [380.0, 450.0]


def test_classify_and_class_labels():
    values = pd.Series([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, None], dtype="Float64")
    classes, bins = dp.classify(values, k=5)
    assert classes.iloc[-1] == -1
    assert classes.iloc[:10].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert bins[-1] == 100
    assert dp.class_labels([250, 320, 410], 250) == ["250", "251 – 320", "321 – 410"]
    assert dp.class_labels([1.5, 2.5], 0.5, integers=False) == ["0.5 – 1.5", "1.5 – 2.5"]


def test_format_column_labels_masks_and_yes_no():
    phones = dp.format_column(pd.Series(["13812341234", None]), layer="grids", field="worker_phone")
    assert phones.tolist() == ["138****1234", ""]
    kinds = dp.format_column(
        pd.Series(["emergency"]), layer="shelters", field="shelter_class", lang="en"
    )
    assert kinds.tolist() == ["Emergency"]
    flags = dp.format_column(
        pd.Series([True, False, pd.NA], dtype="boolean"),
        layer="villages",
        field="garbage_collection",
    )
    assert flags.tolist() == ["是", "否", ""]
    assert dp.format_column(
        pd.Series([1234567], dtype="Int64"), layer="grids", field="residents"
    ).tolist() == ["1,234,567"]


def test_compass_and_distance_text():
    assert dp.compass(1, 1) == "东北"
    assert dp.compass([0, 0, -1, 1], [1, -1, 0, -1], "en").tolist() == ["N", "S", "W", "SE"]
    assert dp.describe_distance(617.0, "东北") == "东北 620 m"
    assert dp.describe_distance(4.0, "东") == "< 10 m"


def test_nearest_by_class_hand_worked(tiny):
    g05 = tiny["grids"].geometry.iloc[4]  # centre (750, 750) in the fixture's metres
    near = dp.nearest(
        g05.representative_point(),
        tiny["shelters"],
        metric_crs=PROFILE.metric_crs,
        by="shelter_class",
    )
    got = dict(zip(near["shelter_id"], near["distance_m"].round(), strict=True))
    # SH1 at (750, 250): 500 m south; SH2 at (2100, 750): 1350 m east; SH3 (further) not chosen
    assert got == {"SH1": 500.0, "SH2": 1350.0}
    assert near.set_index("shelter_id")["direction"].to_dict() == {"SH1": "南", "SH2": "东"}


def test_admin_tags_from_grids_admin_areas_and_village_fields(tiny):
    tags = dp.admin_tags(
        tiny["sanitation_facilities"],
        grids=tiny["grids"],
        districts=tiny["districts"],
        streets=tiny["streets"],
        communities=tiny["communities"],
    )
    assert tags.loc[0].tolist() == ["测试区", "街道乙", "社区三"]  # F1 in G05
    assert tags.loc[1].tolist() == ["测试区", "街道乙", "社区二"]  # F2 in G03
    assert tags.loc[2].tolist() == [None, None, None]  # F3 outside everything
    villages = dp.admin_tags(
        tiny["villages"],
        grids=tiny["grids"],
        districts=tiny["districts"],
        streets=tiny["streets"],
        communities=tiny["communities"],
    )
    assert villages.loc[1].tolist() == ["测试区", "街道甲", None]  # V2: from its own fields
    mask = dp.filter_mask(villages, street="街道甲")
    assert mask.tolist() == [False, True]


def test_search_finds_codes_and_names(tiny):
    hits = dp.search(tiny, "g05")
    assert hits.iloc[0][["layer", "code"]].tolist() == ["grids", "G05"]
    hits = dp.search(tiny, "邻里")
    assert hits[["layer", "code"]].values.tolist() == [["neighborhood_centers", "NC2"]]
    assert dp.search(tiny, "   ").empty


def test_aggregate_points_sums_residents_per_cell():
    pts = gpd.GeoDataFrame(
        {"residents": [10, 30, 5]},
        geometry=[Point(480_010, 3_612_010), Point(480_030, 3_612_030), Point(481_010, 3_612_010)],
        crs="EPSG:4546",
    ).to_crs(4326)
    out = dp.aggregate_points(pts, cell_m=200, metric_crs="EPSG:4546")
    assert sorted(out["residents"].tolist()) == [5, 40]
    assert sorted(out["points"].tolist()) == [1, 2]
    merged = out[out["residents"] == 40].to_crs("EPSG:4546").geometry.iloc[0]
    assert merged.x == pytest.approx(480_025) and merged.y == pytest.approx(
        3_612_025
    )  # weighted mean


# --------------------------------------------------------------------------- the rendered map
def test_every_layer_drawn_with_counts_and_legend(tiny):
    m = _map(tiny)
    assert render.summary(m) == {
        "districts": 1,
        "streets": 2,
        "communities": 3,
        "grids": 6,
        "villages": 2,
        "population": 6,
        "sanitation_facilities": 3,
        "shelters": 3,
        "neighborhood_centers": 2,
    }
    titles = render.legend_titles(m)
    assert titles[3].startswith("网格 · 户数")
    grid_section = m.legend.sections[3]
    # households 250, 320, 410, 520, 380, 450 in 5 quantile classes, one legend row each
    assert [label for _, _, label in grid_section.items] == [
        "250 – 320",
        "321 – 380",
        "381 – 410",
        "411 – 450",
        "451 – 520",
    ]
    page = m.get_root().render()
    assert page.count("gridmap.add(") == 9
    assert "gridmap.scale(" in page
    gridmap_js = (assets.OWN_DIR / "gridmap.js").read_text(encoding="utf-8")
    assert "L.control.scale({metric: true, imperial: false})" in gridmap_js
    assert "L.control.layers" in page


def test_legend_and_labels_in_english(tiny):
    m = render.base_map(PROFILE, "none", lang="en")
    render.add_layer(m, "shelters", tiny["shelters"], lang="en")
    render.add_layer(m, "grids", tiny["grids"], lang="en", color_by="households_per_worker")
    render.finish(m)
    shelters_payload = _payloads(m)["shelters"]
    assert shelters_payload["labels"][:3] == ["Shelter ID", "Name", "Class"]
    assert render.payload_rows(shelters_payload)[1][2] == "Fixed, medium-term"
    legend = m.legend.html()
    assert "Legend" in legend and "Emergency" in legend and "Fixed, medium-term" in legend
    assert "No data / no worker" in legend  # G04 has no worker
    assert "Households per worker" in legend


def test_attribute_values_are_escaped_and_phones_masked(tiny):
    m = _map(tiny)
    page = m.get_root().render()
    assert XSS not in page
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in render.payload_rows(_payloads(m)["grids"])[4][1]
    assert "13812341234" not in page and "138****1234" in page


def test_repeated_values_are_dictionary_encoded(tiny):
    m = _map({"grids": tiny["grids"]})
    data = _payloads(m)["grids"]
    district = data["labels"].index("区县")
    assert data["cols"][district] == {"d": ["测试区"], "k": [0, 0, 0, 0, 0, 0]}
    assert data["cols"][0] == ["G01", "G02", "G03", "G04", "G05", "G06"]  # unique: plain list
    assert render.payload_rows(data)[2][district] == "测试区"


def test_vectorised_escaping_matches_scalar():
    values = pd.Series([XSS, "a & b", "'q' \"d\"", "{{x}}", None, 12, "普通"], dtype=object)
    assert render.esc_series(values).tolist() == [render.esc(v) for v in values]
    assert render.esc_series(values).iloc[4] == ""


def test_json_cannot_close_the_script_element(tiny):
    grids = tiny["grids"].copy()
    grids.loc[0, "grid_name"] = "</script><script>alert(2)</script>"
    m = _map({"grids": grids})
    page = m.get_root().render()
    assert "alert(2)</script>" not in page
    assert page.count("</script>") == page.count("<script")  # every script closes where it should


def test_template_syntax_in_values_is_not_evaluated(tiny):
    # folium compiles rendered scripts as Jinja templates; values must never reach Jinja
    grids = tiny["grids"].copy()
    grids.loc[0, "grid_name"] = "{{ 'jinja' ~ 'ran' }}"
    grids.loc[1, "grid_name"] = "{% for x in range(3) %}qz{% endfor %}{# c #}"
    m = _map({"grids": grids})
    page = m.get_root().render()
    assert "jinjaran" not in page and "qzqzqz" not in page
    rows = render.payload_rows(_payloads(m)["grids"])
    assert html.unescape(rows[0][1]) == "{{ 'jinja' ~ 'ran' }}"
    assert html.unescape(rows[1][1]) == "{% for x in range(3) %}qz{% endfor %}{# c #}"
    assert (
        render.safe_json({"a": "{{x}} {%y%} {#z#}"})
        == '{"a":"{\\u007bx}} \\u007b%y%} \\u007b#z#}"}'
    )
    assert json.loads(render.safe_json({"a": "{{x}} {%y%}"})) == {"a": "{{x}} {%y%}"}


def test_gaode_basemap_shifts_overlays_to_gcj02(tiny):
    plain = _payloads(_map({"shelters": tiny["shelters"]}))["shelters"]
    gaode_map = _map({"shelters": tiny["shelters"]}, basemap="gaode")
    gaode = _payloads(gaode_map)["shelters"]
    x0, y0 = render.decode_geometries(plain["geo"])[0][0]
    x1, y1 = render.decode_geometries(gaode["geo"])[0][0]
    # at Shiyan GCJ-02 is about 500 m east and 240 m south of WGS84
    assert 0.004 < x1 - x0 < 0.007 and -0.004 < y1 - y0 < -0.001
    assert "autonavi" in gaode_map.get_root().render()


def test_tianditu_needs_a_key(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    assert "tianditu" not in render.base_map(PROFILE, "tianditu").get_root().render()
    page = render.base_map(PROFILE, "tianditu", tianditu="abc123").get_root().render()
    assert "tk=abc123" in page
    assert "tile.openstreetmap" not in render.base_map(PROFILE, "none").get_root().render()


def test_compact_geometries_round_trip(tiny):
    mixed = np.array(
        [
            tiny["grids"].geometry.iloc[0],
            Point(110.791234, 32.631111),
            shapely.MultiPolygon([tiny["grids"].geometry.iloc[1], tiny["grids"].geometry.iloc[2]]),
        ]
    )
    rounded = dp.round_coordinates(mixed, 5)
    geo = render.encode_geometries(rounded, 5)
    assert geo["pt"]["i"] == [1] and geo["pg"]["i"] == [0, 2]
    assert geo["pg"]["m"] == [0, 1, 3]  # feature 2 has two polygons
    decoded = render.decode_geometries(geo)
    for pos in range(3):
        assert np.allclose(decoded[pos], shapely.get_coordinates(rounded[pos]), atol=1e-9)
    lines = np.array(
        [
            shapely.LineString([(110.1, 32.1), (110.2, 32.2), (110.3, 32.1)]),
            shapely.MultiLineString(
                [[(110.0, 32.0), (110.01, 32.0)], [(110.5, 32.5), (110.6, 32.6)]]
            ),
        ]
    )
    geo = render.encode_geometries(lines, 5)
    assert geo["ln"]["p"] == [0, 3, 5, 7] and geo["ln"]["m"] == [0, 1, 3]
    decoded = render.decode_geometries(geo)
    for pos in range(2):
        assert np.allclose(decoded[pos], shapely.get_coordinates(lines[pos]), atol=1e-9)
    # lines mixed with points or areas go as GeoJSON
    assert render.encode_geometries(np.r_[lines, [Point(110.0, 32.0)]], 5) is None


def test_generic_helpers_draw_other_layers(tiny):
    m = render.base_map(PROFILE, "none", lang="en")
    gaps = tiny["grids"].iloc[:2].assign(residents_uncovered=[100, 250])
    render.add_polygons(
        m,
        gaps,
        render.LayerSpec(
            name="Gaps",
            key="gaps",
            fields={"grid_code": "Grid", "residents_uncovered": "Uncovered"},
            tooltip=["grid_code"],
            style={"color": "#d32f2f", "fillColor": "#ef9a9a"},
        ),
    )
    render.add_points(
        m,
        tiny["shelters"],
        render.LayerSpec(
            name="Sites",
            key="sites",
            fields={"name": "Name"},
            symbols={"emergency": {"color": "#2e7d32", "label": "E"}},
            stat="facilities",
        ),
        category=tiny["shelters"]["shelter_class"],
    )
    render.finish(m)
    assert render.summary(m) == {"gaps": 2, "sites": 3}
    data = _payloads(m)["gaps"]
    assert data["labels"] == ["Grid", "Uncovered"] and render.payload_rows(data)[1] == [
        "G02",
        "250",
    ]
    assert data["tip"] == [0]
    assert render.legend_titles(m) == ["Gaps", "Sites"]


def test_single_symbol_layer_legend_names_the_layer():
    from maps.render import legend_items

    assert legend_items({"color": "#111"}, None, kind="pt", label="避难场所")[0][2] == "避难场所"
    assert legend_items({"color": "#111", "label": "own"}, None, label="避难场所")[0][2] == "own"
    rows = legend_items({"color": "#111"}, {"a": {"label": "A"}, "b": {}}, label="x")
    assert [r[2] for r in rows] == ["A", "b"]  # symbols keep their own labels


def test_points_are_drawn_above_areas_and_can_be_numbered(tiny):
    m = render.base_map(load_profile(), "none")
    render.draw_layers(m, tiny)
    sites = gpd.GeoDataFrame(
        {"rank": [1, 2], "covered": ["6,171 人", "3,002 人"]},
        geometry=[Point(110.79, 32.63), Point(110.80, 32.64)],
        crs="EPSG:4326",
    )
    render.add_points(
        m,
        sites,
        render.LayerSpec(
            name="Sites",
            key="sites",
            fields={"rank": "#", "covered": "C"},
            mark="rank",
            stat="facilities",
        ),
    )
    render.add_highlight(m, tiny["grids"].iloc[:1], name="Found")
    page = render.finish(m).get_root().render()
    payloads = {
        d["key"]: d
        for d in map(json.loads, re.findall(r"gridmap\.add\([^,]+, [^,]+, (\{.*?\})\);", page))
    }
    assert payloads["grids"]["front"] is False and payloads["shelters"]["front"] is True
    assert payloads["sites"]["mark"] == 0  # the badge shows the rank column
    assert payloads["highlight"]["pane"] == "top" and "mark" not in payloads["grids"]
    gridmap_js = (assets.OWN_DIR / "gridmap.js").read_text(encoding="utf-8")
    assert "bringToFront" in gridmap_js and "gmTop" in gridmap_js


def test_site_labels_say_rank_and_residents_with_units():
    from ui.gaps.gap_map import site_labels

    sites = gpd.GeoDataFrame(
        {"rank": [4], "newly_covered": [6171.0]}, geometry=[Point(110.79, 32.63)], crs=4326
    )
    out = site_labels(sites)
    assert out["rank_text"].iloc[0] == "建议选址 #4"
    assert out["newly_text"].iloc[0] == "新增覆盖 6,171 人"


# --------------------------------------------------------------------------- roads
def _roads() -> gpd.GeoDataFrame:
    """A main road, a lane, a footpath, a bridge and a tunnel, with a bent (many-vertex) lane."""
    from shapely.geometry import LineString

    x0, y0 = 480_000.0, 3_612_000.0
    bent = [(x0 + i, y0 + 100 + (0.2 if i % 2 else 0.0)) for i in range(0, 1000, 10)]
    return gpd.GeoDataFrame(
        {
            "road_id": ["R1", "R2", "R3", "R4", "R5"],
            "name": ["人民路", "<b>巷</b>", "山道", "汉江桥", "隧道"],
            "road_class": ["primary", "residential", "footway", "primary", "secondary"],
            "walkable": [True, True, True, True, False],
            "bridge": [False, False, False, True, False],
            "tunnel": [False, False, False, False, True],
        },
        geometry=[
            LineString([(x0, y0), (x0 + 1000, y0)]),
            LineString(bent),
            LineString([(x0, y0 + 200), (x0 + 1000, y0 + 200)]),
            LineString([(x0 + 500, y0 - 100), (x0 + 500, y0 + 100)]),
            LineString([(x0 + 800, y0 - 100), (x0 + 800, y0 + 300)]),
        ],
        crs="EPSG:4546",
    )


def test_roads_layer_drawn_by_class_with_bridges_and_tunnels_apart():
    from layers import LAYERS

    assert LAYERS["roads"].view.shown is False  # a toggle, off when the explorer opens
    shown = dp.prepare_geometry(_roads(), decimals=6, tolerance_m=2.0)
    m = render.base_map(PROFILE, "none")
    render.add_layer(m, "roads", shown)
    render.finish(m)
    payload = _payloads(m)["roads"]
    symbols = [payload["symbols"][str(c)] for c in payload["cls"]]
    # drawn major, minor, path, then bridges and tunnels on top
    rows = render.payload_rows(payload)
    assert [r[0] for r in rows] == ["R1", "R2", "R3", "R4", "R5"]
    assert [s["weight"] for s in symbols] == [3, 1.5, 1, 4, 3]
    assert symbols[3]["color"] != symbols[0]["color"]  # a bridge stands out from its road
    assert "dashArray" in symbols[4] and "dashArray" not in symbols[3]
    assert "&lt;b&gt;" in json.dumps(payload) and "<b>巷" not in json.dumps(payload)
    legend = m.legend.html()
    for label in ("道路", "主要道路", "一般道路", "步行小路", "桥梁", "隧道"):
        assert label in legend
    assert "border-top-style:dashed" in legend
    m = render.base_map(PROFILE, "none", lang="en")
    render.add_layer(m, "roads", shown, lang="en")
    render.finish(m)
    assert "Roads" in m.legend.html() and "Tunnel" in m.legend.html()


def test_roads_simplified_for_display():
    roads = _roads()
    shown = dp.prepare_geometry(roads, decimals=6, tolerance_m=2.0)
    before = shapely.get_num_coordinates(roads.geometry.values)
    after = shapely.get_num_coordinates(shown.geometry.values)
    assert before[1] == 100 and after[1] == 2  # the 0.2 m wiggles of the lane are gone
    assert after[[0, 2, 3, 4]].tolist() == [2, 2, 2, 2]
    assert shown.crs.to_epsg() == 4326


def test_roads_toggle_does_not_touch_the_default_explorer_payload(tiny):
    """The explorer draws the layers shown at first; roads are not among them."""
    from layers import LAYERS, map_layers

    default = [layer for layer in map_layers() if LAYERS[layer].view.shown]
    assert "roads" not in default
    m = _map({k: v for k, v in tiny.items() if k in default})
    assert "roads" not in render.summary(m)
