"""Field-report speed figures (issue #11).

    python bench/bench_field.py                      # the demo store (copied to a temp folder)
    python bench/bench_field.py --store STORE.gpkg   # another store (copied first)

Prints: submit-to-visible time of one report (check the form, clean a 12-megapixel photo,
store it with its step and audit row, read the whole queue back with it in); the dispatch
page render with 10,000 reports in the store (AppTest, first run and rerun); and the KPI
computation (city, street and community KPIs with change, recurring problems, last-twice
flags) over a year of 50,000 reports. Prints figures only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEAR = ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")


@dataclass(frozen=True)
class Who:
    name: str
    role: str


def fill(src: Path, dst: Path, n: int, periods: tuple[str, ...]) -> int:
    """Copy `src` to `dst` with about `n` synthetic reports over `periods` in it."""
    from data.store import GeoPackageStore
    from field.demo import demo_field_tables
    from field.settings import field_rules
    from field.store import GeoPackageFieldStore

    shutil.copyfile(src, dst)
    layers = GeoPackageStore(dst).read_layers()
    residents = float(layers["grids"]["residents"].sum())
    per_1000 = n / len(periods) / residents * 1000.0
    reports, steps, visits = demo_field_tables(
        layers, field_rules(), periods=periods, per_1000=per_1000
    )
    GeoPackageFieldStore(dst).write_bulk(reports, steps, visits)
    return len(reports)


def bench_submit(path: Path, runs: int = 10) -> None:
    import numpy as np
    import pandas as pd
    from PIL import Image

    from data.store import GeoPackageStore
    from field.photos import clean_photo
    from field.queue import queue_order
    from field.settings import field_rules
    from field.store import GeoPackageFieldStore
    from field.submit import check_report
    from geo.settings import load_profile

    rules, profile = field_rules(), load_profile()
    store = GeoPackageStore(path)
    grids, villages = store.read("grids"), store.read("villages")
    fstore = GeoPackageFieldStore(path)
    point = grids.geometry.iloc[0].representative_point()
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, format="JPEG", quality=90)
    raw = buffer.getvalue()
    worker = Who("bench_worker", "worker")
    times, photo_times = [], []
    for n in range(runs):
        now = pd.Timestamp.now(tz="UTC")
        t0 = time.perf_counter()
        photo = clean_photo(raw, rules)
        t1 = time.perf_counter()
        form = {
            "submission_id": f"bench-{os.getpid()}-{n:04d}-{time.time_ns()}",
            "category": "garbage",
            "urgency": "urgent",
            "description": "bench",
            "lon": point.x,
            "lat": point.y,
        }
        report = check_report(form, rules=rules, profile=profile, grids=grids, villages=villages)
        rid, _ = fstore.submit(report, [photo], actor=worker, now=now)
        queue = queue_order(fstore.reports(), rules, now)
        visible = rid in set(queue["report_id"])
        times.append(time.perf_counter() - t0)
        photo_times.append(t1 - t0)
        assert visible, "the new report is not in the queue"
    total = len(fstore.reports())
    print(
        f"submit-to-visible (form check + {len(raw) / 1e6:.1f} MB 4000x3000 photo + store + queue "
        f"read of {total:,} reports): median {statistics.median(times) * 1000:,.0f} ms, "
        f"max {max(times) * 1000:,.0f} ms over {runs} runs; of which photo cleaning "
        f"{statistics.median(photo_times) * 1000:,.0f} ms"
    )


def bench_queue_page(path: Path, runs: int = 3) -> None:
    from streamlit.testing.v1 import AppTest

    os.environ["GRIDMAP_STORE"] = str(path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.switch_page("ui/pages/dispatch.py")
    at.session_state["field_queue_states"] = [
        "new",
        "accepted",
        "dispatched",
        "handled",
        "checked",
        "closed",
        "rejected",
        "duplicate",
    ]
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    again = []
    for _ in range(runs):
        t0 = time.perf_counter()
        at.run()
        again.append(time.perf_counter() - t0)
    print(
        f"dispatch page with {shown.get('事件', '?')} reports listed (all states): first run "
        f"{first:.2f} s, rerun median {statistics.median(again):.2f} s (AppTest, no browser)"
    )


def bench_kpis(path: Path, runs: int = 3) -> None:
    import pandas as pd

    from data.store import GeoPackageStore
    from field.settings import field_rules
    from field.store import GeoPackageFieldStore
    from field.summary import summarise

    fstore = GeoPackageFieldStore(path)
    t0 = time.perf_counter()
    reports, visits = fstore.reports(), fstore.visits()
    read = time.perf_counter() - t0
    grids = GeoPackageStore(path).read("grids")
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        summary = summarise(
            reports,
            visits,
            grids,
            field_rules(),
            period=YEAR[-1],
            now=pd.Timestamp("2026-12-01", tz="UTC"),
        )
        times.append(time.perf_counter() - t0)
    print(
        f"KPIs over a year of {len(reports):,} reports (city + {len(summary.areas['street'])} "
        f"streets + {len(summary.areas['community'])} communities with change, "
        f"{len(summary.recurring)} recurring problems, {len(summary.last_twice)} last-twice flags): "
        f"median {statistics.median(times):.2f} s; reading the reports {read:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Field-report speed figures")
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args()
    from geo.settings import DEFAULT_STORE

    src = args.store or DEFAULT_STORE
    if not src.exists():
        from data.demo import write_demo

        write_demo(src)
    print(f"store: {src}")
    with tempfile.TemporaryDirectory() as tmp:
        queue_store = Path(tmp) / "queue.gpkg"
        n = fill(src, queue_store, 10_000, ("2026-Q2", "2026-Q3"))
        print(f"filled a copy with {n:,} reports")
        bench_submit(queue_store)
        bench_queue_page(queue_store)
        year_store = Path(tmp) / "year.gpkg"
        n = fill(src, year_store, 50_000, YEAR)
        print(f"filled a copy with {n:,} reports over {YEAR[0]}..{YEAR[-1]}")
        bench_kpis(year_store)


if __name__ == "__main__":
    main()
