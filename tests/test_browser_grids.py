"""Zoomed-in grids in a real browser (Playwright, Debian's Chromium), on the tiny store.

A test profile draws the six grids summed per community (``max_grids_drawn = 3``) and shows
grids one by one from zoom 15 (``grid_zoom``). Zoomed in, the map fetches the grids of the view
from the grids route (ui/grid_api.py) and draws them with the grid layer's tooltips; zoomed out,
they are hidden and the community sums are back. A street's staff get only their street's grids.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from data.store import GeoPackageStore
from tests._auth import make_user
from tests._browser import BROWSER_MARKS, map_frame, offline_page, screenshot, sign_in
from tests._map_fixtures import XSS

pytestmark = BROWSER_MARKS

# features of the lazily loaded grid batches that are on the map and drawn
SHOWN = (
    "() => Object.keys(gridmap.registry).filter(k => k.indexOf('grids~') === 0)"
    ".map(k => gridmap.registry[k]).filter(l => l._map)"
    ".reduce((n, l) => n + l.getLayers().filter(x => x._map && x._pxBounds).length, 0)"
)
SUMS = (
    "() => gridmap.registry.grid_summary._map ? "
    "gridmap.registry.grid_summary.getLayers().filter(x => x._map).length : 0"
)
TIPS = (
    "() => Object.keys(gridmap.registry).filter(k => k.indexOf('grids~') === 0)"
    ".flatMap(k => gridmap.registry[k].getLayers().map(l => l.getTooltip()._content()))"
)


@pytest.fixture(scope="module")
def server_env(tmp_path_factory) -> dict[str, str]:
    """The test profile of the module docstring, for the app server."""
    from geo.settings import DEFAULT_PROFILE

    text = Path(DEFAULT_PROFILE).read_text(encoding="utf-8")
    profile = tmp_path_factory.mktemp("profile") / "small.toml"
    text = text.replace("max_grids_drawn = 5000", "max_grids_drawn = 3")
    profile.write_text(text.replace("grid_zoom = 14", "grid_zoom = 15"), encoding="utf-8")
    return {"GRIDMAP_PROFILE": str(profile)}


def _explorer(page, base: str):
    page.goto(f"{base}/explorer")
    frame = map_frame(page, timeout_ms=60_000)
    frame.wait_for_function("() => gridmap.registry.grid_summary", timeout=30_000)
    return frame


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_zoomed_in_grids_appear_with_tooltips_and_hide_when_zoomed_out(server, planner, phone):
    viewport = (390, 844) if phone else (1280, 900)
    with offline_page(intercept=False, viewport=viewport, mobile=phone) as page:
        sign_in(page, server, *planner)
        frame = _explorer(page, server)
        frame.evaluate("() => map.setView([32.6325, 110.795], 16, {animate: false})")
        frame.wait_for_function(f"() => ({SHOWN})() === 6", timeout=30_000)
        assert frame.evaluate(SUMS) == 0  # the sums give way to the grids
        tips = frame.evaluate(TIPS)
        assert "一号网格 · G01" in tips and f"{XSS} · G05".replace("<", "&lt;") not in tips
        assert any(t.endswith("· G05") and "&lt;img" in t for t in tips)  # escaped, as always
        legend = frame.inner_text(".gm-legend")
        if not phone:  # on a phone the legend starts folded
            assert "网格 · 户数" in legend and "按社区汇总" not in legend
        frame.evaluate("() => map.setZoom(12, {animate: false})")
        frame.wait_for_function(f"() => ({SHOWN})() === 0", timeout=10_000)
        frame.wait_for_function(f"() => ({SUMS})() === 3", timeout=10_000)
        if not phone:
            assert "按社区汇总" in frame.inner_text(".gm-legend")
        assert page.errors == []
        screenshot(page, f"explorer_lazy_grids_zoomed_out_{'phone' if phone else 'desktop'}")


def test_scoped_staff_map_fetches_only_their_grids(server, tiny_path):
    # street B holds four grids (G03-G06): more than max_grids_drawn, so summed, then fetched
    account = make_user(GeoPackageStore(tiny_path), "staff", "street:街道乙")
    with offline_page(intercept=False) as page:
        sign_in(page, server, *account)
        asked = []
        page.on("response", lambda r: asked.append(r) if "/gridmap/api/grids" in r.url else None)
        frame = _explorer(page, server)
        frame.evaluate("() => map.setView([32.6325, 110.795], 16, {animate: false})")
        frame.wait_for_function(f"() => ({SHOWN})() === 4", timeout=30_000)
        page.wait_for_timeout(500)
        assert asked and all(r.status == 200 for r in asked)
        assert all("一号网格" not in r.text() and "张三" not in r.text() for r in asked)
        tips = " ".join(frame.evaluate(TIPS))
        assert "G03" in tips and "G01" not in tips and "G02" not in tips
