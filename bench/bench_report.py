"""Report and Progress-page speed figures.

    python bench/bench_report.py                     # a fresh demo store (scale 1) in a temp folder
    python bench/bench_report.py --store STORE.gpkg  # an existing store (copied first)

Prints: the full PDF report of the demo city end to end (read store, gap analysis, indicators,
maps, PDF; target < 30 s), each other export, and the Progress page render from cached
analysis (AppTest rerun; target < 2 s). Prints figures only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_exports(store_path: Path, out_dir: Path) -> str:
    from data.store import GeoPackageStore
    from reports.build import analyse_period, build_report, write_report

    store = GeoPackageStore(store_path)
    period = store.meta().get("period", "2026-Q3")
    t0 = time.perf_counter()
    pdf = build_report(store, period, out_dir / "report.pdf")
    full = time.perf_counter() - t0
    print(
        f"full PDF report (store -> analysis -> maps -> PDF): {full:.2f} s  [target < 30 s]  {pdf.stat().st_size / 1e6:.1f} MB"
    )
    t0 = time.perf_counter()
    pa = analyse_period(store, period)
    print(f"  of which analysis + indicators: {time.perf_counter() - t0:.2f} s")
    for ext in ("pdf", "pptx", "xlsx", "html", "gpkg"):
        t0 = time.perf_counter()
        out = write_report(pa, out_dir / f"again.{ext}")
        print(
            f"  write {ext:<4} from an analysis at hand: {time.perf_counter() - t0:6.2f} s  {out.stat().st_size / 1e6:6.2f} MB"
        )
    return period


def bench_page(store_path: Path, runs: int = 5) -> None:
    from streamlit.testing.v1 import AppTest

    os.environ["GRIDMAP_STORE"] = str(store_path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.switch_page("ui/pages/progress.py")
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    if at.exception:
        print("page error:", at.exception)
        return
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    at.radio(key="progress_level").set_value("district").run()
    scope = time.perf_counter() - t0
    at.segmented_control(key="progress_section").set_value("comparison").run()
    t0 = time.perf_counter()
    at.selectbox(key="progress_cmp_indicator").set_value("sanitary_toilet_penetration").run()
    cmp_change = time.perf_counter() - t0
    print(f"progress page, first render (runs the analysis): {cold:.2f} s")
    print(
        f"progress page rerun from cached analysis: median {statistics.median(times):.3f} s, "
        f"max {max(times):.3f} s over {runs} runs  [target < 2 s]"
    )
    print(
        f"  change scope to districts: {scope:.3f} s; new comparison indicator (new map): {cmp_change:.3f} s"
    )
    at2 = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at2.query_params["present"] = "1"
    at2.switch_page("ui/pages/progress.py")
    at2.run()
    t0 = time.perf_counter()
    at2.button(key="progress_next").click().run()
    print(f"  presentation mode, next district (new map): {time.perf_counter() - t0:.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store", type=Path, help="store to use (copied); default: a fresh scale-1 demo"
    )
    parser.add_argument("--no-page", action="store_true", help="skip the page timing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = tmp / "store.gpkg"
        if args.store:
            shutil.copyfile(args.store, store)
        else:
            from data.demo import write_demo

            t0 = time.perf_counter()
            write_demo(store)
            print(f"demo store with both snapshots: {time.perf_counter() - t0:.2f} s")
        bench_exports(store, tmp)
        if not args.no_page:
            bench_page(store)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
