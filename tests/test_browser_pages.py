"""Real-browser tests of page behaviour: direct URLs, the explorer's search, phone layout of
My grid and the presentation mode fitting one screen.

Run with ``pytest -m browser``; skipped when Chromium or playwright is missing.
"""

from __future__ import annotations

import pytest

from data.store import GeoPackageStore
from tests._auth import make_user
from tests._browser import BROWSER_MARKS, offline_page, screenshot, sign_in, streamlit_server
from tests._map_fixtures import write_tiny_store

pytestmark = BROWSER_MARKS


def _main_text(page) -> str:
    return page.inner_text("[data-testid='stMain']")


def test_explorer_url_opens_without_page_not_found(server, planner):
    for url in (f"{server}/explorer", f"{server}/"):
        with offline_page(intercept=False) as page:
            sign_in(page, server, *planner)
            page.goto(url)
            page.locator("[data-testid='stMetric']").first.wait_for(timeout=30_000)
            page.wait_for_timeout(500)
            body = page.inner_text("body")
            assert "Page not found" not in body and "not found" not in body.lower(), url
            assert page.url.rstrip("/").endswith("/explorer"), page.url
            assert page.locator("[role='dialog']").count() == 0


def test_second_search_shows_its_result(server, planner):
    with offline_page(intercept=False) as page:
        sign_in(page, server, *planner)
        page.goto(f"{server}/explorer")
        page.locator("[data-testid='stMetric']").first.wait_for(timeout=30_000)
        box = page.locator("[data-testid='stMain'] input[aria-label^='搜索']").first
        screenshot(page, "explorer_before_search")
        for code in ("G01", "G02"):
            box.fill(code)
            box.press("Enter")
            page.wait_for_timeout(300)
            page.wait_for_function(
                "c => { const i = document.querySelector('input[aria-label=\"搜索结果\"]');"
                " return i && i.value.includes(c); }",
                arg=code,
                timeout=20_000,
            )
        screenshot(page, "explorer_second_search")


def test_my_grid_key_facts_on_the_first_phone_screen(server, planner):
    """At 390 x 844 the code, worker, households against the range and the nearest center and
    shelter are inside the viewport without scrolling."""
    with offline_page(viewport=(390, 844), mobile=True, intercept=False) as page:
        sign_in(page, server, *planner)
        page.goto(f"{server}/my_grid?grid=G05")
        page.get_by_text("一号紧急避难场所").first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        assert page.evaluate("() => window.scrollY") == 0
        for text in ("G05", "王五", "380", "300–500", "二号社区邻里中心", "一号紧急避难场所"):
            box = page.get_by_text(text).first.bounding_box()
            assert box is not None, text
            assert box["y"] >= 0 and box["y"] + box["height"] <= 844, (text, box)
        screenshot(page, "my_grid_phone_first_screen")


FITS = """() => [document.scrollingElement, document.querySelector('[data-testid="stMain"]')]
  .filter(Boolean).map(e => [e.scrollHeight, e.clientHeight])"""


@pytest.mark.parametrize("size", [(1920, 1080), (1440, 900)])
def test_presentation_steps_fit_one_screen(tmp_path, size):
    """Every step of ``progress?present=1`` fits the screen: nothing to scroll."""
    from tests._progress_fixtures import write_tiny_store as progress_store

    path = tmp_path / "progress.gpkg"
    progress_store(path)
    with (
        streamlit_server(store=path) as base,
        offline_page(viewport=size, intercept=False) as page,
    ):
        sign_in(page, base, *make_user(GeoPackageStore(path), "planner"), timeout_ms=60_000)
        page.goto(f"{base}/progress?present=1")
        steps = 0
        while True:
            page.locator("[data-testid='stImage'] img").first.wait_for(timeout=60_000)
            page.locator("[data-testid='stVegaLiteChart'], .vega-embed").first.wait_for(
                timeout=30_000
            )
            page.wait_for_function(  # the rerun is over: no element left from the last step
                "() => !document.querySelector('[data-stale=\"true\"]')", timeout=60_000
            )
            page.wait_for_timeout(1200)  # images and charts take their size
            for scroll, client in page.evaluate(FITS):
                if scroll > client + 1:
                    screenshot(page, f"presentation_{size[0]}_overflow")
                title = page.locator("h1").first.inner_text()
                assert scroll <= client + 1, (size, steps, title, scroll, client)
            steps += 1
            nxt = page.get_by_role("button", name="下一页 ▶")
            if nxt.is_disabled():
                break
            title = page.locator("h1").first.inner_text()
            nxt.click()
            page.wait_for_function(
                "t => document.querySelector('h1') && document.querySelector('h1').innerText !== t",
                arg=title,
                timeout=60_000,
            )
        assert steps == 3  # the city and its two districts
        screenshot(page, f"presentation_{size[0]}")


CUT = """() => [...document.querySelectorAll(
    '[data-testid="stMetricLabel"] *, [data-testid="stMetricValue"] *')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow !== 'visible')
  .map(e => e.innerText)"""


def test_english_kpi_labels_are_not_cut(tmp_path):
    """Long English KPI names and values wrap instead of ending in "…" (1440 x 900)."""
    from tests._progress_fixtures import write_tiny_store as progress_store

    path = tmp_path / "progress.gpkg"
    progress_store(path)
    with (
        streamlit_server(store=path) as base,
        offline_page(viewport=(1440, 900), intercept=False) as page,
    ):
        sign_in(page, base, *make_user(GeoPackageStore(path), "planner"), timeout_ms=60_000)
        page.goto(f"{base}/progress?lang=en")
        page.get_by_text("Residents near a street-level center").first.wait_for(timeout=60_000)
        page.wait_for_timeout(800)
        assert page.evaluate(CUT) == []
        labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
        assert any("Residents near a street-level center" in t for t in labels)
        screenshot(page, "progress_english_labels")


def test_select_placeholders_follow_the_language(server, planner):
    """The text Streamlit's front end writes into empty select widgets (AppTest cannot see it)."""
    english = ("Choose an option", "Choose options", "No options to select", "Add an option")
    with offline_page(intercept=False) as page:
        sign_in(page, server, *planner)
        page.goto(f"{server}/audit")  # its user, action and layer filters start empty
        page.locator("[data-testid='stSelectbox'] input").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        # the front end writes the placeholder into the input's placeholder attribute
        placeholders = page.eval_on_selector_all(
            "[data-testid='stMain'] input[placeholder]", "els => els.map(e => e.placeholder)"
        )
        shown = " ".join(placeholders) + page.inner_text("body")
        assert not [e for e in english if e in shown], placeholders
        ours = [p for p in placeholders if p in ("请选择", "无可选项")]
        assert len(ours) >= 3, placeholders
        # a search that matches nothing: Streamlit's "No results" is replaced in Chinese
        page.locator("[data-testid='stMain'] input[placeholder='请选择']:enabled").first.click()
        page.keyboard.type("zzzz")
        empty = page.locator(
            "[data-testid='stSelectboxVirtualDropdown'] [role='option'][style*='contents'] > span"
        )
        empty.first.wait_for(timeout=20_000)
        looks = empty.first.evaluate(
            "e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content]"
        )
        assert looks == ["0px", '"无匹配项"'], looks
        screenshot(page, "audit_placeholders_zh")


AFTER = "e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content]"


def _store_with_a_report(path):
    """The tiny store with one field report in G05 (the dispatch page's filters need one)."""
    from collections import namedtuple

    import geopandas as gpd
    from shapely.geometry import Point

    from field.settings import field_rules
    from field.store import GeoPackageFieldStore
    from field.submit import check_report
    from geo.settings import load_profile
    from tests._map_fixtures import X0, Y0

    write_tiny_store(path)
    grids = GeoPackageStore(path).read("grids")
    point = gpd.GeoSeries([Point(X0 + 700, Y0 + 700)], crs="EPSG:4546").to_crs(4326).iloc[0]
    form = {"submission_id": "sub-i18n-0001", "category": "garbage", "lon": point.x}
    form["lat"] = point.y
    report = check_report(form, rules=field_rules(), profile=load_profile(), grids=grids)
    worker = namedtuple("Who", "name role")("w", "worker")
    GeoPackageFieldStore(path).submit(report, [], actor=worker, now="2026-07-01T01:00Z")
    return path


def test_multiselect_search_and_input_hints_are_chinese(tmp_path):
    """Streamlit's "No results" of a multiselect and "Press Enter to apply" under an input
    being edited are replaced in the Chinese UI (only a browser shows them)."""
    path = _store_with_a_report(tmp_path / "reported.gpkg")
    with (
        streamlit_server(store=path) as server,
        offline_page(intercept=False) as page,
    ):
        sign_in(page, server, *make_user(GeoPackageStore(path), "planner"), timeout_ms=60_000)
        page.goto(f"{server}/dispatch")
        box = page.locator("[data-testid='stMultiSelect'] input").first
        box.wait_for(timeout=60_000)
        box.click()
        page.keyboard.type("zzzz")
        empty = page.locator(
            "[data-testid='stMultiSelectDropdown'] [role='option'][style*='contents'] > span"
        )
        empty.first.wait_for(timeout=20_000)
        assert empty.first.inner_text() == "No results"  # Streamlit's text, hidden ...
        assert empty.first.evaluate(AFTER) == ["0px", '"无匹配项"']  # ... and ours shown
        screenshot(page, "dispatch_multiselect_empty_zh")
        page.keyboard.press("Escape")
        # the explorer's search box: the hint shows while the text is not applied yet
        page.goto(f"{server}/explorer")
        search = page.locator("[data-testid='stTextInput'] input").first
        search.wait_for(timeout=60_000)
        search.click()
        page.keyboard.type("一号")
        hint = page.locator("[data-testid='InputInstructions'] > span").first
        hint.wait_for(state="attached", timeout=20_000)  # 0 px tall: our text is in ::after
        assert "Enter" in hint.text_content()
        assert hint.evaluate(AFTER) == ["0px", '"按 Enter 键确认"']
        screenshot(page, "explorer_input_hint_zh")
