"""Concurrent browser sessions on app replicas behind nginx (scripts/serve_cluster.sh).

    .venv/bin/python bench/bench_cluster.py                       # 16 sessions, 2 replicas, 180 s
    .venv/bin/python bench/bench_cluster.py --sessions 4 --seconds 30

Starts the cluster (PostGIS with the demo store, N replicas, nginx with TLS) in a temporary
folder, then runs `--sessions` headless Chromium sessions (one browser context each, so each has
its own route cookie and WebSocket) for `--seconds`. Each session loops: open the map page and
wait until every grid of the demo is drawn. Printed: sessions per replica, maps drawn, p50/p95
time from navigation to a drawn map, errors (timeouts, page errors), and each replica's memory
(resident now and peak, from /proc).

Needs root (PostgreSQL runs as the ``postgres`` user), PostGIS, nginx and Chromium
(``bash scripts/setup.sh --test``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HTTPS_PORT = 8680
APP_PORT = 8681
DRAWN = "n => (window.gridmap && window.map) ? gridmap.count('grids') === n : false"


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of process `pid` in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


async def session(
    browser, base: str, expected: int, until: float, out: dict, signed_in: dict
) -> None:
    context = await browser.new_context(ignore_https_errors=True)
    await context.add_cookies([signed_in])
    page = await context.new_page()
    page.on("pageerror", lambda exc: out["errors"].append(f"page error: {exc}"))
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            response = await page.goto(f"{base}/", timeout=120_000)
            out["replicas"].append(response.headers.get("x-gridmap-replica", "?"))
            frame = None
            deadline = time.monotonic() + 120
            while frame is None and time.monotonic() < deadline:
                handles = await page.query_selector_all("iframe[title*='st_folium']")
                frame = await handles[-1].content_frame() if handles else None
                if frame is None:
                    await asyncio.sleep(0.1)
            if frame is None:
                raise TimeoutError("no map frame")
            await frame.wait_for_function(DRAWN, arg=expected, timeout=120_000)
            out["times"].append(time.perf_counter() - start)
        except Exception as exc:  # a timeout or a lost connection counts as an error
            out["errors"].append(f"{type(exc).__name__}: {str(exc)[:120]}")
    await context.close()


async def run_sessions(
    base: str, n: int, seconds: float, expected: int, cookies: list[dict]
) -> dict:
    from playwright.async_api import async_playwright

    from tests._browser import CHROMIUM, CHROMIUM_ARGS

    out: dict = {"times": [], "errors": [], "replicas": []}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            proxy={"server": "http://127.0.0.1:9", "bypass": "127.0.0.1,localhost"},
        )
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(session(browser, base, expected, until, out, cookies[i]) for i in range(n))
        )
        await browser.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=180.0)
    args = parser.parse_args()

    from data.store import GeoPackageStore
    from geo.settings import DEFAULT_STORE

    expected = len(GeoPackageStore(DEFAULT_STORE).read("grids"))
    state = Path(tempfile.mkdtemp(prefix="gridmap-bench-cluster-"))
    state.chmod(0o755)
    env = {
        **os.environ,
        "GRIDMAP_CLUSTER_DIR": str(state),
        "GRIDMAP_CLUSTER_APP_PORT": str(APP_PORT),
        "GRIDMAP_CLUSTER_SKIP_SETUP": "1",
    }
    script = ["bash", str(ROOT / "scripts" / "serve_cluster.sh")]
    subprocess.run(
        [*script, "start", "--replicas", str(args.replicas), "--port", str(HTTPS_PORT)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        # a planner account in the shared store (db copy never copies accounts), one session per
        # simulated user opened before the clock starts
        from _session import cookie, session_token

        base = f"https://127.0.0.1:{HTTPS_PORT}"
        os.environ["PGPASSFILE"] = str(state / "secrets" / "pgpass")
        url = f"postgresql://gridmap_app@/shiyan?host={state}/pg/socket"
        name, password = "bench-planner", "bench-cluster-password-1"
        subprocess.run(
            [sys.executable, "cli.py", "users", "add", name, "--role", "planner"]
            + ["--password-stdin"],
            input=password + "\n",
            env={**os.environ, "GRIDMAP_STORE": url},
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        cookies = [cookie(base, session_token(url, name, password)) for _ in range(args.sessions)]
        out = asyncio.run(run_sessions(base, args.sessions, args.seconds, expected, cookies))
        memory = {
            k: memory_mb(int((state / "run" / f"replica{k}.pid").read_text()))
            for k in range(1, args.replicas + 1)
        }
    finally:
        subprocess.run([*script, "stop"], env=env, cwd=ROOT, capture_output=True)
        shutil.rmtree(state, ignore_errors=True)

    times = sorted(out["times"])
    print(
        f"{args.sessions} sessions on {args.replicas} replicas for {args.seconds:g} s "
        f"(demo: {expected:,} grids)"
    )
    per_replica = {r: out["replicas"].count(r) for r in sorted(set(out["replicas"]))}
    print(f"page loads per replica: {per_replica}")
    print(f"maps drawn: {len(times):,}")
    if times:
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"time to drawn map: p50 {statistics.median(times):.2f} s, p95 {p95:.2f} s")
    print(f"errors: {len(out['errors'])}")
    for message in sorted(set(out["errors"]))[:5]:
        print(f"  {message}")
    for k, (rss, peak) in memory.items():
        print(f"replica {k}: memory {rss:,.0f} MB resident, {peak:,.0f} MB peak")
    return 0


if __name__ == "__main__":
    sys.exit(main())
