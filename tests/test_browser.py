"""Real-browser tests: Debian's Chromium through Playwright, every non-local request blocked.

Run with ``pytest -m browser``; skipped when Chromium or playwright is missing.
"""

from __future__ import annotations

import time

from tests._browser import BROWSER_MARKS, offline_page, screenshot, sign_in, streamlit_server
from tests._map_fixtures import XSS

pytestmark = BROWSER_MARKS


def _frame(page, key: str = "grids"):
    """The current frame of the map drawing layer `key` (the last such iframe: the component is
    re-created when the map changes; a page may hold other maps, e.g. My grid's report form);
    the last map frame when none draws it yet."""
    handles = page.query_selector_all("iframe[title*='st_folium']")
    for handle in reversed(handles):
        frame = handle.content_frame()
        try:
            if frame is not None and frame.evaluate(
                "k => !!(window.gridmap && gridmap.registry[k])", key
            ):
                return frame
        except Exception:  # frame navigated away while we asked
            continue
    return handles[-1].content_frame() if handles else None


def wait_for_count(page, key: str, expected: int, *, timeout: float = 45.0) -> int:
    """Wait until the map draws `expected` features of layer `key`; return the last count."""
    deadline = time.monotonic() + timeout
    count = -1
    while time.monotonic() < deadline:
        frame = _frame(page, key)
        if frame is not None:
            try:
                count = frame.evaluate(
                    "k => (window.gridmap && window.map) ? gridmap.count(k) : -1", key
                )
            except Exception:  # frame navigated away while we asked
                count = -1
            if count == expected:
                return count
        time.sleep(0.25)
    return count


def svg_paths(page, key: str) -> int:
    """Features of layer `key` that Leaflet has actually drawn (on the canvas or as SVG)."""
    return _frame(page).evaluate(
        "k => gridmap.registry[k].getLayers().filter(l => l._map && (l._pxBounds || l._icon))"
        ".length",
        key,
    )


def click_feature(page, frame, key: str, name: str) -> None:
    """Centre the map on the point of layer `key` named `name` and click it with the mouse."""
    handle = next(
        h for h in page.query_selector_all("iframe[title*='st_folium']") if h.is_visible()
    )
    handle.scroll_into_view_if_needed()
    xy = frame.evaluate(
        """([k, n]) => {
          var l = gridmap.registry[k].getLayers().find(x => gridmap.text(k, x).indexOf(n) >= 0);
          map.setView(l.getLatLng(), 16, {animate: false});
          var p = map.latLngToContainerPoint(l.getLatLng());
          var r = document.querySelector('.leaflet-container').getBoundingClientRect();
          return [r.left + p.x, r.top + p.y];
        }""",
        [key, name],
    )
    time.sleep(0.4)
    box = handle.bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])


def external(page) -> list[str]:
    """Non-local requests the page tried to make (all blocked); the app should make none."""
    return list(page.blocked)


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label`."""
    page.get_by_role("combobox", name=label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).first.click()


def test_explorer_draws_offline(server, planner):
    with offline_page() as page:
        sign_in(page, server, *planner)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server}/")
        assert wait_for_count(page, "grids", 6) == 6
        assert svg_paths(page, "grids") == 6  # six grid polygons in the Leaflet container
        frame = _frame(page)
        assert frame.evaluate("() => document.querySelector('.leaflet-container') !== null")
        assert (
            frame.evaluate("() => document.querySelectorAll('.leaflet-control-scale-line').length")
            == 1
        )
        legend = frame.inner_text(".gm-legend")
        assert "图例" in legend and "紧急避难场所" in legend
        assert external(page) == []  # nothing tried to reach a CDN or tile server
        assert page.errors == [] and dialogs == []
        screenshot(page, "explorer")


def test_toggle_and_filter_change_what_is_drawn(server, planner):
    with offline_page() as page:
        sign_in(page, server, *planner)
        page.goto(f"{server}/")
        assert wait_for_count(page, "grids", 6) == 6
        choose(page, "街道/乡镇", "街道甲")
        assert wait_for_count(page, "grids", 2) == 2
        assert svg_paths(page, "grids") == 2
        page.locator("[data-testid='stSidebar'] label").filter(has_text="网格").first.click()
        assert wait_for_count(page, "grids", 0) == 0
        assert wait_for_count(page, "shelters", 1) == 1  # other layers still drawn
        assert external(page) == []
        screenshot(page, "explorer_filtered")


def test_xss_name_shows_as_text(server, planner):
    with offline_page() as page:
        sign_in(page, server, *planner)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server}/")
        assert wait_for_count(page, "grids", 6) == 6
        frame = _frame(page)
        frame.evaluate(
            "() => { var l = gridmap.registry.grids.getLayers().find(x => x.feature.properties.i === 4);"
            " l.openPopup(); l.openTooltip(); }"
        )
        popup = frame.inner_text(".leaflet-popup-content")
        assert XSS in popup
        assert XSS in frame.inner_text(".leaflet-tooltip")
        assert frame.evaluate("() => document.querySelectorAll('.leaflet-pane img').length") == 0
        assert "138****1234" not in popup and "137****2222" in popup  # masked phone
        time.sleep(0.5)
        assert dialogs == [] and page.errors == []
        screenshot(page, "explorer_xss_popup")


def test_my_grid_on_a_phone(server, planner):
    with offline_page(viewport=(390, 844), mobile=True, intercept=False) as page:
        sign_in(page, server, *planner)
        page.goto(f"{server}/my_grid?grid=G05")
        assert wait_for_count(page, "my_grid", 1) == 1
        assert wait_for_count(page, "grids", 6) == 6
        page.get_by_text("二号社区邻里中心").first.wait_for(timeout=20_000)
        body = page.inner_text("body")
        assert "东 670 m" in body and "137****2222" in body
        assert XSS in body  # the grid's name, as text
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 392  # no sideways scrolling on a phone
        box = page.query_selector("iframe[title*='st_folium']").bounding_box()
        assert box["width"] <= 390 and box["height"] > 300
        # the legend starts folded on a phone so it does not hide the grid; its title unfolds it
        legend = "() => document.querySelector('.gm-legend').classList.contains('gm-collapsed')"
        assert _frame(page).evaluate(legend) is True
        _frame(page).click(".gm-legend h4")
        assert _frame(page).evaluate(legend) is False
        assert external(page) == []
        screenshot(page, "my_grid_phone")


def test_demo_explorer_draws_every_grid(demo_store_path):
    from data.store import GeoPackageStore

    expected = len(GeoPackageStore(demo_store_path).read("grids"))
    from tests._auth import make_user

    account = make_user(GeoPackageStore(demo_store_path), "planner")  # the demo planner
    with streamlit_server(store=demo_store_path) as base, offline_page() as page:
        sign_in(page, base, *account)
        page.goto(f"{base}/")
        assert wait_for_count(page, "grids", expected, timeout=90) == expected
        assert svg_paths(page, "grids") == expected
        assert "合成示例数据" in page.inner_text("body")
        assert external(page) == []
        screenshot(page, "explorer_demo")


def test_standalone_html_export_draws_offline(tmp_path):
    from geo.settings import load_profile
    from maps import assets, render
    from tests._map_fixtures import frames

    m = render.base_map(load_profile(), "none")
    render.draw_layers(m, frames())
    page_file = tmp_path / "map.html"
    page_file.write_text(assets.inline_assets_html(m), encoding="utf-8")
    with offline_page() as page:
        page.goto(page_file.as_uri())
        page.wait_for_function(
            "() => window.gridmap && gridmap.count('grids') === 6", timeout=20_000
        )
        drawn = "gridmap.registry.grids.getLayers().filter(l => l._map && l._pxBounds).length"
        assert page.evaluate(f"() => {drawn}") == 6
        # a click on the shelter inside grid G02 opens the shelter, not the grid
        page.evaluate("() => gridmap.registry.grids._map.setView([32.63, 110.79], 15)")
        time.sleep(0.3)
        xy = page.evaluate(
            "() => { var l = gridmap.registry.shelters.getLayers().find("
            "x => gridmap.text('shelters', x).indexOf('一号紧急避难场所') >= 0);"
            " var p = l._map.latLngToContainerPoint(l.getLatLng());"
            " var r = document.querySelector('.leaflet-container').getBoundingClientRect();"
            " return [r.left + p.x, r.top + p.y]; }"
        )
        page.mouse.click(*xy)
        page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
        assert "一号紧急避难场所" in page.inner_text(".leaflet-popup-content")
        assert page.blocked == [] and page.errors == []
        screenshot(page, "standalone_export")


def test_click_on_a_facility_over_a_grid_opens_the_facility(server, planner):
    """Grids are drawn under points: the shelter SH1 lies inside grid G02, the toilet F1 in G05."""
    with offline_page() as page:
        sign_in(page, server, *planner)
        page.goto(f"{server}/")
        assert wait_for_count(page, "grids", 6) == 6
        frame = _frame(page)
        for key, name in (("shelters", "一号紧急避难场所"), ("sanitation_facilities", "一号公厕")):
            click_feature(page, frame, key, name)
            frame.wait_for_selector(".leaflet-popup-content", timeout=5_000)
            popup = frame.inner_text(".leaflet-popup-content")
            assert name in popup, popup
            assert "网格编码" not in popup  # not the grid's popup
            frame.evaluate("() => map.closePopup()")
        # toggling the grids off and on again keeps them under the points
        page.locator("[data-testid='stSidebar'] label").filter(has_text="网格").first.click()
        assert wait_for_count(page, "grids", 0) == 0
        page.locator("[data-testid='stSidebar'] label").filter(has_text="网格").first.click()
        assert wait_for_count(page, "grids", 6) == 6
        frame = _frame(page)
        click_feature(page, frame, "shelters", "一号紧急避难场所")
        frame.wait_for_selector(".leaflet-popup-content", timeout=5_000)
        assert "一号紧急避难场所" in frame.inner_text(".leaflet-popup-content")
        assert page.errors == []


def test_whatif_one_click_adds_one_proposal(server, planner):
    with offline_page(viewport=(1280, 1000)) as page:
        sign_in(page, server, *planner)
        page.goto(f"{server}/gaps")
        page.get_by_role("tab", name="假设分析").click()
        page.get_by_text("点击地图添加拟建设施").first.click()
        page.get_by_text("尚未添加拟建设施").first.wait_for(timeout=30_000)

        def visible_map():
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                for h in page.query_selector_all("iframe[title*='st_folium']"):
                    if h.is_visible() and h.content_frame().evaluate("() => !!window.map"):
                        return h
                time.sleep(0.25)
            raise AssertionError("no what-if map")

        for n, (dx, dy) in enumerate(((0.4, 0.5), (0.6, 0.4), (0.5, 0.6)), start=1):
            handle = visible_map()
            handle.scroll_into_view_if_needed()
            box = handle.bounding_box()
            page.mouse.click(box["x"] + box["width"] * dx, box["y"] + box["height"] * dy)
            page.get_by_text(f"已添加 {n} 处拟建设施").first.wait_for(timeout=30_000)
            time.sleep(2)  # no second proposal arrives late from the same click
            assert page.get_by_text(f"已添加 {n} 处拟建设施").count() == 1
            drawn = (
                visible_map()
                .content_frame()
                .evaluate(
                    "() => (window.feature_group || []).filter(g => g._map)"
                    ".reduce((s, g) => s + g.getLayers().length, 0)"
                )
            )
            assert drawn == n  # the proposals are on the map
        assert page.errors == []


TAP_TARGETS = (
    "() => [...document.querySelectorAll('.leaflet-control-zoom a, "
    ".leaflet-control-layers-toggle, .gm-legend h4')].map(e => {"
    " var r = e.getBoundingClientRect(); return [e.className || e.tagName, r.width, r.height]; })"
)


def test_phone_swipe_scrolls_the_page_and_controls_are_44px(server, planner):
    with offline_page(viewport=(390, 844), mobile=True, intercept=False) as page:
        sign_in(page, server, *planner)
        page.goto(f"{server}/my_grid?grid=G05")
        assert wait_for_count(page, "grids", 6) == 6
        time.sleep(1.0)  # the map settles (the page may draw it twice while it loads)
        frame = _frame(page)
        frame.wait_for_function("() => window.map && document.querySelector('.gm-legend')")
        sizes = frame.evaluate(TAP_TARGETS)
        assert len(sizes) == 4, sizes  # zoom in, zoom out, layer control, legend toggle
        assert all(w >= 44 and h >= 44 for _, w, h in sizes), sizes
        handle = frame.frame_element()
        cdp = page.context.new_cdp_session(page)

        def swipe(dy: float) -> tuple[float, list[float]]:
            """One finger up over the map's middle; returns how far the map frame moved on the
            page and the map's centre afterwards."""
            handle.scroll_into_view_if_needed()
            time.sleep(0.3)
            box = handle.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            cdp.send(
                "Input.dispatchTouchEvent",
                {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]},
            )
            for k in range(1, 11):
                point = {"x": x, "y": y + dy * k / 10}
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
                time.sleep(0.02)
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
            time.sleep(0.8)
            centre = frame.evaluate("() => [map.getCenter().lat, map.getCenter().lng]")
            return box["y"] - handle.bounding_box()["y"], centre

        centre = frame.evaluate("() => [map.getCenter().lat, map.getCenter().lng]")
        moved, after = swipe(-200)
        assert moved > 100 and after == centre  # the page scrolled; the map stayed
        # the same swipe with Leaflet's one-finger dragging (the old behaviour) pans the map
        page.evaluate("() => window.scrollTo(0, 0)")
        frame.evaluate("() => map.dragging.enable()")
        moved, after = swipe(-200)
        assert after != centre


def test_explorer_first_view_on_a_phone_fits_the_grids(server, planner):
    with offline_page(viewport=(390, 844), mobile=True) as page:
        sign_in(page, server, *planner)
        page.goto(f"{server}/")
        assert wait_for_count(page, "grids", 6) == 6
        deadline = time.monotonic() + 15  # the fit waits for the legend and the frame's size
        while True:
            frame = _frame(page)
            shown = _grid_share(frame)
            if (shown[0] and max(shown[1:]) > 0.4) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        inside, width_share, height_share = shown
        assert inside and max(width_share, height_share) > 0.4, shown
        assert frame.evaluate(TAP_TARGETS)  # controls present


def _grid_share(frame) -> list:
    """[grids inside the view, share of the map's width and height the grids span]."""
    return frame.evaluate(
        "() => { var b = gridmap.registry.grids.getBounds(), s = map.getSize();"
        " var a = map.latLngToContainerPoint(b.getSouthWest()),"
        " c = map.latLngToContainerPoint(b.getNorthEast());"
        " return [map.getBounds().contains(b), (c.x - a.x) / s.x, (a.y - c.y) / s.y]; }"
    )


def test_roads_layer_draws_its_lines_with_their_styles(tmp_path):
    """Roads go as compact lines; the browser draws each, a tunnel dashed, a bridge wider."""
    from geo.settings import load_profile
    from maps import assets, render
    from maps import display as dp
    from tests.test_render import _roads

    m = render.base_map(load_profile(), "none")
    render.add_layer(m, "roads", dp.prepare_geometry(_roads(), decimals=6, tolerance_m=2.0))
    render.fit_to(m, _roads().to_crs(4326), pad_m=100)
    page_file = tmp_path / "roads.html"
    page_file.write_text(assets.inline_assets_html(render.finish(m)), encoding="utf-8")
    with offline_page() as page:
        page.goto(page_file.as_uri())
        page.wait_for_function("() => window.gridmap && gridmap.registry.roads", timeout=20_000)
        styles = page.evaluate(
            "() => gridmap.registry.roads.getLayers().map("
            "l => [l.options.weight, l.options.dashArray || null, l.getLatLngs()[0].length])"
        )
        assert len(styles) == 5
        assert all(s[2] >= 2 for s in styles)  # every line has its vertices
        weights = sorted(s[0] for s in styles)
        assert weights == [1, 1.5, 3, 3, 4]
        assert sum(1 for s in styles if s[1] == "6 4") == 1  # the tunnel
        assert page.errors == [] and page.blocked == []
