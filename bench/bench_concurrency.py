"""Many people at once: N browsers open the explorer at the same moment; time to a drawn map.

    python bench/bench_concurrency.py                         # demo store; 1, 8 and 16 sessions
    python bench/bench_concurrency.py --sessions 1 8 --store bench/out/scale10.gpkg
    python bench/bench_concurrency.py --sessions 1 8 --floor   # also Streamlit's own floor
    python bench/bench_concurrency.py --priority --floor      # on a machine shared with others
    python bench/bench_concurrency.py --sessions 8 --processes # Chromium's CPU by process kind

For each N a fresh app server is started (cold caches, as after a restart or an import), then N
offline headless Chromium pages (one browser, a context each) open ``/`` together; each page's
time runs from its ``goto`` until the map has drawn its grids (one by one or summed per
community). A second round of N on the same (now warm) server follows. Prints median, p95, max
and errors, and where the machine's CPU went during the round (seconds of CPU of the app
server, of this bench's Chromium, of this bench with its Playwright driver and of the rest of
the machine, read from /proc; ``--processes`` splits Chromium's by kind of process): the
browsers run on the same machine as the server, so a visit's time here is mostly theirs.
Nothing here passes or fails.

``--floor`` adds Streamlit's own floor on this machine: the same rounds (fresh server, N
contexts of one browser at once, same flags, cold then warm) against a bare Streamlit page
whose script is only ``st.write("hello")`` (written to a temporary folder, served with the
app's ``.streamlit/config.toml``), timed from ``goto`` until "hello" shows. No app can open
faster here than that page; the explorer's figures are best read as that floor plus the app's
own share.

``--priority`` lets the bench's own processes (its app servers, its Chromium) take the CPU
before other sessions' on a shared machine (see :class:`Priority`: ``nice`` alone does not reach
across sessions, and Chromium starts a session of its own). What a visit does is unchanged.

Offline: Chromium goes through a dead proxy for every host but 127.0.0.1, so nothing can leave;
requests to other hosts are counted (``outside``), not intercepted one by one (Playwright's
request routing sends every request through this process, which cost the browsers more time
than the page itself asked for).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

DRAWN = "() => window.gridmap && (gridmap.count('grids') + gridmap.count('grid_summary')) > 0"
FLOOR_TEXT = "hello"
FLOOR_APP = f"import streamlit as st\n\nst.write({FLOOR_TEXT!r})\n"


async def _map_drawn(page, timeout_s: float) -> None:
    """Wait until the explorer's map frame has drawn its grids."""
    handle = await page.wait_for_selector("iframe[title*='st_folium']", timeout=timeout_s * 1000)
    frame = await handle.content_frame()
    await frame.wait_for_function(DRAWN, timeout=timeout_s * 1000)


async def _floor_shown(page, timeout_s: float) -> None:
    """Wait until the bare page's only text shows."""
    await page.get_by_text(FLOOR_TEXT, exact=True).wait_for(timeout=timeout_s * 1000)


async def _visit(
    browser, base: str, timeout_s: float, signed_in: dict | None, outside: list[str], ready
) -> float:
    """Seconds from opening ``/`` in a new (signed-in) browser context until `ready` returns."""
    from _browser import _is_local

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    if signed_in is not None:
        await context.add_cookies([signed_in])
    context.on("request", lambda r: None if _is_local(r.url) else outside.append(r.url))
    page = await context.new_page()
    try:
        t0 = time.perf_counter()
        await page.goto(f"{base}/", timeout=timeout_s * 1000)
        await ready(page, timeout_s)
        return time.perf_counter() - t0
    finally:
        await context.close()


async def _round(
    base: str, n: int, timeout_s: float, cookies: list[dict | None], outside: list[str], ready
) -> tuple[list[float], list[str]]:
    from _browser import CHROMIUM, CHROMIUM_ARGS
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            proxy={"server": "http://127.0.0.1:9", "bypass": "127.0.0.1,localhost"},
        )
        try:
            results = await asyncio.gather(
                *(_visit(browser, base, timeout_s, cookies[i], outside, ready) for i in range(n)),
                return_exceptions=True,
            )
        finally:
            await browser.close()
    times = [r for r in results if isinstance(r, float)]
    errors = [
        f"{type(r).__name__}: {str(r).splitlines()[0]}" for r in results if not isinstance(r, float)
    ]
    return times, errors


class CpuMeter(threading.Thread):
    """CPU seconds used by each group of processes while it runs (sampled from /proc).

    Processes that start and end during the round are caught by sampling every 0.1 s; the
    groups are the app server (the process serving `port`), this bench's Chromium (its browser
    process starts a session of its own: every process of that session), this bench with its
    Playwright driver, and everything else on the machine (other people's browsers included).
    """

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, port: str) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.done = threading.Event()
        self.start_cpu = self._snapshot()
        self.last: dict[int, float] = {}
        self.cmds: dict[int, str] = {}
        self.family: dict[int, tuple[int, int]] = {}  # pid: (parent pid, session id)
        self.kinds: dict[str, float] = {}  # this bench's Chromium CPU by kind of process

    def _snapshot(self) -> dict[int, tuple[float, str, int, int]]:
        out = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    stat = fh.read()
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            cpu = (int(fields[11]) + int(fields[12])) / self.TICK
            out[int(pid)] = (cpu, cmd, int(fields[1]), int(fields[3]))
        return out

    def run(self) -> None:
        for pid, (_, cmd, ppid, sid) in self.start_cpu.items():
            self.cmds[pid] = cmd
            self.family[pid] = (ppid, sid)
        while not self.done.is_set():
            for pid, (cpu, cmd, ppid, sid) in self._snapshot().items():
                self.last[pid] = cpu
                if cmd:  # the latest: a process just forked shows its parent's until it execs
                    self.cmds[pid] = cmd
                self.family.setdefault(pid, (ppid, sid))
            time.sleep(0.1)

    def _ours(self) -> tuple[set[int], set[int]]:
        """This bench's descendants, and the sessions of the Chromium browsers among them."""
        mine, grown = {os.getpid()}, True
        while grown:
            grown = False
            for pid, (ppid, _) in self.family.items():
                if ppid in mine and pid not in mine:
                    mine.add(pid)
                    grown = True
        sessions = {
            self.family[pid][1]
            for pid in mine
            if "chrom" in self.cmds.get(pid, "") and pid != os.getpid()
        }
        return mine, sessions

    def _group(self, pid: int, mine: set[int], sessions: set[int]) -> str:
        cmd = self.cmds.get(pid, "")
        if f"--server.port {self.port}" in cmd:
            return "server"
        if "chrom" in cmd and self.family.get(pid, (0, 0))[1] in sessions:
            return "chromium"
        if pid in mine:
            return "bench"
        return "other"

    def stop(self) -> dict[str, float]:
        """CPU seconds per group since the meter was made."""
        self.done.set()
        self.join()
        mine, sessions = self._ours()
        groups = {"server": 0.0, "chromium": 0.0, "bench": 0.0, "other": 0.0}
        for pid, cpu in self.last.items():
            before = self.start_cpu.get(pid, (0.0,))[0]
            group = self._group(pid, mine, sessions)
            groups[group] += max(0.0, cpu - before)
            if group == "chromium":
                kind = _chromium_kind(self.cmds.get(pid, ""))
                self.kinds[kind] = self.kinds.get(kind, 0.0) + max(0.0, cpu - before)
        return groups


def _chromium_kind(cmd: str) -> str:
    """The kind of a Chromium process: browser, renderer, gpu-process, utility:network, ..."""
    kind = re.search(r"--type=(\S+)", cmd)
    name = kind.group(1) if kind else "browser"
    if name == "utility":
        sub = re.search(r"--utility-sub-type=(?:\w+\.mojom\.)?(\S+)", cmd)
        name += f":{sub.group(1) if sub else '?'}"
    if "--top-chrome-webui" in cmd:
        name += "(webui)"  # a renderer of the browser's own pages, one per context here
    return name


class Priority(threading.Thread):
    """Give this bench's own processes (the app servers, Chromium) the CPU first while it runs.

    On Linux with autogroups (``/proc/sys/kernel/sched_autogroup_enabled``) the scheduler shares
    the CPU between sessions first, and a process's nice value counts only inside its session:
    other people's ``nice -n 15`` jobs in their own sessions still get an equal share, and
    Chromium starts a session of its own. This thread sets the autogroup nice of every session
    holding one of this bench's descendants to -20 (needs root or CAP_SYS_NICE; without it
    nothing changes and :attr:`granted` stays False).
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.done = threading.Event()
        self.granted = False

    def run(self) -> None:
        seen: set[int] = set()
        while not self.done.is_set():
            parents = {}
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/stat") as fh:
                        stat = fh.read()
                except OSError:
                    continue
                parents[int(pid)] = int(stat[stat.rfind(")") + 2 :].split()[1])
            mine, grown = {os.getpid()}, True
            while grown:
                grown = False
                for pid, ppid in parents.items():
                    if ppid in mine and pid not in mine:
                        mine.add(pid)
                        grown = True
            for pid in mine - seen:
                try:
                    with open(f"/proc/{pid}/autogroup", "w") as fh:
                        fh.write("-20")
                    self.granted = True
                except OSError:
                    pass
                seen.add(pid)
            time.sleep(0.2)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _rounds(
    base: str, label: str, n: int, timeout_s: float, cookies: list, ready, *, kinds: bool = False
) -> None:
    """A cold and a warm round of `n` visits on the server at `base`; one line each."""
    for temp in ("cold", "warm"):
        outside: list[str] = []
        meter = CpuMeter(base.rsplit(":", 1)[1])
        meter.start()
        times, errors = asyncio.run(_round(base, n, timeout_s, cookies, outside, ready))
        cpu = meter.stop()
        med = statistics.median(times) if times else float("nan")
        p95 = _p95(times) if times else float("nan")
        top = max(times) if times else float("nan")
        print(
            f"   {label:>5s} {n:8d} {temp:>6s} {med:9.2f} {p95:7.2f} {top:7.2f} {len(errors):6d} "
            f"{len(outside):7d} | {cpu['server']:6.1f} {cpu['chromium']:6.1f} "
            f"{cpu['bench']:6.1f} {cpu['other']:6.1f}"
        )
        if kinds:
            parts = sorted(meter.kinds.items(), key=lambda kv: -kv[1])
            print("      chromium by process: " + ", ".join(f"{k} {v:.1f}" for k, v in parts))
        for e in errors[:3]:
            print(f"      {e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / "data" / "demo" / "shiyan_demo.gpkg")
    parser.add_argument("--sessions", type=int, nargs="*", default=[1, 8, 16])
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per visit")
    parser.add_argument(
        "--processes",
        action="store_true",
        help="also split the bench's Chromium CPU by kind of process (renderer, browser, gpu...)",
    )
    parser.add_argument(
        "--priority",
        action="store_true",
        help="give this bench's server and browsers the CPU before other sessions' processes "
        "(Linux autogroups; needs root): a quiet machine on a shared one",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time a bare Streamlit page (st.write only) the same way: Streamlit's floor",
    )
    args = parser.parse_args()
    from _browser import browser_available, streamlit_server
    from _session import cookie, demo_token

    if not browser_available():
        print("needs /usr/bin/chromium and playwright")
        return 1
    store = args.store.resolve()
    if not store.exists():
        print(f"{store} does not exist (python cli.py demo --out {store})")
        return 1
    if args.priority:
        priority = Priority()
        priority.start()
        time.sleep(0.5)
        print(
            f"   priority: {'autogroup nice -20' if priority.granted else 'NOT granted (no root)'}"
        )
    print(f"== concurrency bench: {store.name}; explorer '/' until the map is drawn")
    if args.floor:
        print(
            f"   floor: a bare Streamlit page ({FLOOR_APP.splitlines()[-1]}) until its text shows"
        )
    print(
        f"   {'page':>5s} {'sessions':>8s} {'server':>6s} {'median_s':>9s} {'p95_s':>7s} "
        f"{'max_s':>7s} errors outside | CPU s during the round: app server, chromium, bench, "
        "rest of machine"
    )
    with tempfile.TemporaryDirectory(prefix="gridmap-floor-") as tmp:
        bare = Path(tmp) / "floor_app.py"
        bare.write_text(FLOOR_APP, encoding="utf-8")
        for n in args.sessions:
            with streamlit_server(store=store, timeout=120) as base:
                # one session per simulated user, opened before the clock starts (returning users)
                cookies = [cookie(base, demo_token(str(store))) for _ in range(n)]
                _rounds(base, "map", n, args.timeout, cookies, _map_drawn, kinds=args.processes)
            if args.floor:
                with streamlit_server(app=bare, timeout=120) as base:
                    _rounds(
                        base,
                        "floor",
                        n,
                        args.timeout,
                        [None] * n,
                        _floor_shown,
                        kinds=args.processes,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
