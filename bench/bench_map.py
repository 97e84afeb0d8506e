"""Map speed figures: payload, server re-run times, time to first map in headless Chromium.

    python cli.py demo --scale 10 --out bench/out/scale10.gpkg   # once (15,600 grids)
    python bench/bench_map.py                  # the demo store (scale 1) and the scale-10 store
    python bench/bench_map.py --store bench/out/scale10.gpkg --no-apptest
    python bench/bench_map.py --no-browser     # skip Chromium

Prints figures only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The scale-10 store (``python cli.py demo --scale 10 --out bench/out/scale10.gpkg``).
SCALE10 = ROOT / "bench" / "out" / "scale10.gpkg"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def explorer_payload(store: Path) -> dict[str, float]:
    """Bytes the default explorer map sends (what streamlit-folium passes to the browser): the
    layers its record shows at first (``view.shown``); and, apart, the roads layer switched on."""
    import streamlit_folium as sf

    from data.store import GeoPackageStore
    from geo.settings import load_profile
    from layers import LAYERS, map_layers
    from maps import display as dp
    from maps import render

    prof = load_profile()
    gpkg = GeoPackageStore(store)
    t0 = time.perf_counter()
    default_on = [layer for layer in map_layers() if LAYERS[layer].view.shown]

    def prepared(layer: str):
        simplify = not set(LAYERS[layer].geometry_types) & {"Point"}
        return dp.prepare_geometry(
            gpkg.read(layer),
            decimals=prof.display.coordinate_decimals,
            tolerance_m=prof.display.simplify_tolerance_m if simplify else 0.0,
            metric_crs=prof.metric_crs,
        )

    frames = {layer: prepared(layer) for layer in default_on if gpkg.has(layer)}
    summary = None
    if len(frames["grids"]) > prof.display.max_grids_drawn:  # as the explorer does
        summary = dp.grids_by_area(
            gpkg.read("grids"), frames["communities"], metric_crs=prof.metric_crs
        )
        frames.pop("grids")
    prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = render.base_map(prof, "none")
    render.draw_layers(m, frames)
    if summary is not None:
        render.add_grid_summary(m, summary)
        grids = dp.prepare_geometry(
            gpkg.read("grids"),
            decimals=prof.display.coordinate_decimals,
            tolerance_m=prof.display.simplify_tolerance_m,
            metric_crs=prof.metric_crs,
        )
        zoom = dp.grid_zoom_for(
            summary,
            counts=summary["grids"],
            floor=prof.display.grid_zoom,
            max_grids=prof.display.max_grids_in_view,
            metric_crs=prof.metric_crs,
        )
        lazy = render.LazyGrids("../../gridmap/api/grids", gpkg.version(), zoom)
        render.add_lazy_grids(m, summary, grids, lazy=lazy)
        render.fit_to(m, summary)
    else:
        render.fit_to(m, frames["grids"])
    render.finish(m)
    m.get_root().render()
    script = sf._get_map_string(m)
    header = sf._get_header(m)
    html = sf._get_html(m)
    build = time.perf_counter() - t0
    raw = gpkg.read("grids")
    raw_json = len(raw.to_json().encode())
    roads = {}
    if gpkg.has("roads"):
        t0 = time.perf_counter()
        with_roads = render.base_map(prof, "none")
        render.draw_layers(with_roads, {"roads": prepared("roads")})
        roads = {
            "roads layer when switched on: lines": render.summary(with_roads).get("roads", 0),
            "roads layer when switched on: bytes": render.payload_bytes(with_roads)
            - render.payload_bytes(render.finish(render.base_map(prof, "none"))),
            "roads layer when switched on: prepare+build_s": time.perf_counter() - t0,
        }
    return {
        "features": sum(render.summary(m).values()),
        "grids drawn one by one": render.summary(m).get("grids", 0),
        "communities drawn with their grids summed": render.summary(m).get("grid_summary", 0),
        "payload_bytes": len(script.encode()) + len(header.encode()) + len(html.encode()),
        "grids_raw_geojson_bytes": raw_json,
        "prepare_s (cached after first)": prep,
        "build_map_s": build,
        **roads,
    }


def view_bounds(lat: float, lon: float, zoom: int, size: tuple[int, int]) -> tuple[float, ...]:
    """(west, south, east, north) of a Leaflet view of `size` pixels, padded as the map pads
    the view it fetches grids for (a quarter of the view on each side)."""
    import math

    metres = 156_543.03 * math.cos(math.radians(lat)) / 2**zoom  # per pixel
    half_w, half_h = 1.5 * size[0] * metres / 2, 1.5 * size[1] * metres / 2
    dlat = half_h / 111_320.0
    dlon = half_w / (111_320.0 * math.cos(math.radians(lat)))
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def zoomed_in_views(store: Path, *, views: int = 8, size=(1280, 620)) -> dict[str, float]:
    """Grids the map fetches when zoomed in to where grids appear (``[display] grid_zoom`` or
    closer, :func:`maps.display.grid_zoom_for`), as the route answers (no HTTP): views centred
    on `views` communities (fixed sample), every community in the padded view asked."""
    import numpy as np
    import shapely

    from data.store import GeoPackageStore
    from geo.settings import load_profile
    from maps import display as dp
    from maps import render

    prof = load_profile()
    gpkg = GeoPackageStore(store)
    prep = dict(decimals=prof.display.coordinate_decimals, metric_crs=prof.metric_crs)
    tol = prof.display.simplify_tolerance_m
    grids = dp.prepare_geometry(gpkg.read("grids"), tolerance_m=tol, **prep)
    areas = dp.prepare_geometry(gpkg.read("communities"), tolerance_m=tol, **prep)
    where = dp.area_of(grids, areas, metric_crs=prof.metric_crs)
    zoom = dp.grid_zoom_for(
        areas,
        counts=where.value_counts(),
        floor=prof.display.grid_zoom,
        max_grids=prof.display.max_grids_in_view,
        metric_crs=prof.metric_crs,
    )
    boxes = shapely.bounds(areas.geometry.values)
    rng = np.random.default_rng(8)
    centres = areas.geometry.representative_point().iloc[
        rng.choice(len(areas), size=min(views, len(areas)), replace=False)
    ]
    sizes, counts, grid_counts, times = [], [], [], []
    for point in centres:
        w, s_, e, n = view_bounds(point.y, point.x, zoom, size)
        hit = (boxes[:, 0] <= e) & (boxes[:, 2] >= w) & (boxes[:, 1] <= n) & (boxes[:, 3] >= s_)
        chosen = grids[where.isin(areas.index[hit]).to_numpy()]
        t0 = time.perf_counter()
        text = render.grid_payload(chosen, class_frame=grids)
        times.append(time.perf_counter() - t0)
        sizes.append(len(text.encode()))
        counts.append(int(hit.sum()))
        grid_counts.append(len(chosen))
    return {
        "zoom grids appear at (grid_zoom, or closer where dense)": zoom,
        "views measured": len(sizes),
        "communities fetched per view (median)": int(statistics.median(counts)),
        "grids fetched per view (median)": int(statistics.median(grid_counts)),
        "grids fetched per view (max)": max(grid_counts),
        "fetched bytes per view (median)": float(statistics.median(sizes)),
        "fetched bytes per view (max)": float(max(sizes)),
        "route build_s per view (median, uncached)": statistics.median(times),
    }


def _check(at) -> None:
    if at.exception:
        raise RuntimeError(at.exception[0].message)


def apptest_times(store: Path, repeats: int = 3) -> dict[str, float]:
    """Server re-run times of the explorer (AppTest, signed in as the demo planner) after a
    filter change and a layer toggle."""
    os.environ["GRIDMAP_STORE"] = str(store)
    from _auth import signed_in_app

    at = signed_in_app(str(ROOT / "app.py"), default_timeout=300)
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    _check(at)
    t0 = time.perf_counter()
    at.run()
    warm = time.perf_counter() - t0
    districts = at.selectbox(key="explorer_district").options[1:]
    filt, toggle = [], []
    for n in range(repeats):
        at.selectbox(key="explorer_district").set_value(districts[n % len(districts)])
        t0 = time.perf_counter()
        at.run()
        filt.append(time.perf_counter() - t0)
        _check(at)
        box = at.checkbox(key="explorer_layer_villages")
        box.set_value(not box.value)
        t0 = time.perf_counter()
        at.run()
        toggle.append(time.perf_counter() - t0)
        _check(at)
    at.selectbox(key="explorer_district").set_value(
        at.selectbox(key="explorer_district").options[0]
    )
    at.checkbox(key="explorer_layer_population").check()
    t0 = time.perf_counter()
    at.run()
    pop_first = time.perf_counter() - t0
    _check(at)
    return {
        "first_run_s (cold caches)": first,
        "warm_rerun_s": warm,
        "filter_change_rerun_s (median)": statistics.median(filt),
        "layer_toggle_rerun_s (median)": statistics.median(toggle),
        "population_on_first_s": pop_first,
    }


def browser_times(store: Path) -> dict[str, float]:
    """Seconds from opening the explorer until the grids are drawn, in offline headless Chromium."""
    from _browser import browser_available, map_frame, offline_page, streamlit_server

    if not browser_available():
        return {"browser": float("nan")}
    from _session import cookie, demo_token

    out = {}
    with streamlit_server(store=store) as base:
        signed_in = cookie(base, demo_token(str(store)))
        for label in (
            "first_map_cold_s (first visit after server start)",
            "first_map_warm_s (second visit)",
        ):
            with offline_page() as page:
                page.context.add_cookies([signed_in])
                t0 = time.perf_counter()
                page.goto(f"{base}/")
                frame = map_frame(page, timeout_ms=120_000)
                frame.wait_for_function(
                    "() => gridmap.count('grids') + gridmap.count('grid_summary') > 0",
                    timeout=120_000,
                )
                out[label] = time.perf_counter() - t0
                out["grid features drawn"] = frame.evaluate(
                    "() => gridmap.count('grids') + gridmap.count('grid_summary')"
                )
                out["blocked_external_requests"] = len(page.blocked)
                summed = frame.evaluate("() => gridmap.count('grid_summary')") > 0
        if not summed:
            return out  # grids drawn one by one already: nothing is fetched when zooming in
        # zoomed in at the city centre: the grids of the view fetched and drawn
        with offline_page() as page:
            page.context.add_cookies([signed_in])
            fetched = []
            page.on(
                "response",
                lambda r: fetched.append(r) if "/gridmap/api/grids" in r.url else None,
            )
            page.goto(f"{base}/")
            frame = map_frame(page, timeout_ms=120_000)
            frame.wait_for_function("() => gridmap.registry.grid_summary", timeout=120_000)
            from geo.settings import load_profile

            prof = load_profile()
            t0 = time.perf_counter()
            frame.evaluate(
                "a => map.setView([a[0], a[1]], map.gmGridZoom, {animate: false})",
                [prof.city.center_lat, prof.city.center_lon],
            )
            frame.wait_for_function(
                "() => Object.keys(gridmap.registry).some(k => k.indexOf('grids~') === 0)"
                " && !document.querySelector('.gm-notice:not([style*=none])')",
                timeout=120_000,
            )
            out["zoomed_in_grids_drawn_s (city centre)"] = time.perf_counter() - t0
            out["zoomed_in zoom"] = frame.evaluate("() => map.getZoom()")
            out["zoomed_in grids drawn"] = frame.evaluate("() => gridmap.count('grids')")
            out["zoomed_in requests"] = len(fetched)
            out["zoomed_in fetched bytes"] = float(sum(len(r.body()) for r in fetched))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store",
        type=Path,
        nargs="*",
        default=[ROOT / "data" / "demo" / "shiyan_demo.gpkg", SCALE10],
        help="stores to measure (default: the demo store and, if present, the scale-10 store)",
    )
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-apptest", action="store_true")
    args = parser.parse_args()
    for store in (s.resolve() for s in args.store):
        if not store.exists():
            print(f"{store} does not exist (python cli.py demo [--scale 10] --out {store})")
            continue
        print(f"== map bench: {store.name} ({store.stat().st_size / 1e6:.1f} MB store)")
        sections = [
            ("payload", explorer_payload),
            ("zoomed in: grids of the view fetched by the map", zoomed_in_views),
        ]
        if not args.no_apptest:
            sections.append(("server re-runs (AppTest)", apptest_times))
        if not args.no_browser:
            sections.append(("headless Chromium, offline", browser_times))
        for title, func in sections:
            print(f"-- {title}")
            for key, value in func(store).items():
                text = (
                    f"{value:,.0f}"
                    if isinstance(value, int) or key.endswith("bytes")
                    else f"{value:.3f}"
                )
                print(f"   {key:48s} {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
