"""Real-browser tests: Debian's Chromium through Playwright, every non-local request blocked.

Run with ``pytest -m browser``; skipped when Chromium or playwright is missing.
"""

from __future__ import annotations

import time

import pytest

from tests._browser import browser_available, offline_page, screenshot, streamlit_server
from tests._map_fixtures import XSS, write_tiny_store

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs /usr/bin/chromium and playwright"),
]


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory):
    path = write_tiny_store(tmp_path_factory.mktemp("browser") / "tiny.gpkg")
    with streamlit_server(store=path) as base:
        yield base


def _frame(page):
    """The current map iframe's frame (the component is re-created when the map changes)."""
    handles = page.query_selector_all("iframe[title*='st_folium']")
    return handles[-1].content_frame() if handles else None


def wait_for_count(page, key: str, expected: int, *, timeout: float = 45.0) -> int:
    """Wait until the map draws `expected` features of layer `key`; return the last count."""
    deadline = time.monotonic() + timeout
    count = -1
    while time.monotonic() < deadline:
        frame = _frame(page)
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
    return _frame(page).evaluate("k => document.querySelectorAll('path.gm-' + k).length", key)


def external(page) -> list[str]:
    """Non-local requests the page tried to make (all blocked); the app should make none."""
    return list(page.blocked)


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label`."""
    page.get_by_role("combobox", name=label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).first.click()


def test_explorer_draws_offline(tiny_server):
    with offline_page() as page:
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{tiny_server}/")
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


def test_toggle_and_filter_change_what_is_drawn(tiny_server):
    with offline_page() as page:
        page.goto(f"{tiny_server}/")
        assert wait_for_count(page, "grids", 6) == 6
        choose(page, "街道/乡镇", "街道甲")
        assert wait_for_count(page, "grids", 2) == 2
        assert svg_paths(page, "grids") == 2
        page.locator("[data-testid='stSidebar'] label").filter(has_text="网格").first.click()
        assert wait_for_count(page, "grids", 0) == 0
        assert wait_for_count(page, "shelters", 1) == 1  # other layers still drawn
        assert external(page) == []
        screenshot(page, "explorer_filtered")


def test_xss_name_shows_as_text(tiny_server):
    with offline_page() as page:
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{tiny_server}/")
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


def test_my_grid_on_a_phone(tiny_server):
    with offline_page(viewport=(390, 844), mobile=True, intercept=False) as page:
        page.goto(f"{tiny_server}/my_grid?grid=G05")
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
    with streamlit_server(store=demo_store_path) as base, offline_page() as page:
        page.goto(f"{base}/")
        assert wait_for_count(page, "grids", expected, timeout=90) == expected
        assert svg_paths(page, "grids") == expected
        assert "合成示例数据" in page.inner_text("body")
        assert external(page) == []
        screenshot(page, "explorer_demo")


def test_standalone_html_export_draws_offline(tmp_path):
    from geo.settings import load_profile
    from layers import assets, render
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
        assert page.evaluate("() => document.querySelectorAll('path.gm-grids').length") == 6
        assert page.blocked == [] and page.errors == []
        screenshot(page, "standalone_export")
