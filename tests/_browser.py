"""Real-browser test helpers: a Streamlit server on a free port and an offline Chromium page.

Reusable by any browser test::

    with streamlit_server(store=path) as base_url, offline_page(viewport=(1280, 900)) as page:
        page.goto(f"{base_url}/explorer")

A browser test module sets ``pytestmark = BROWSER_MARKS`` and asks for the fixtures below
(registered for every module in tests/conftest.py): ``tiny_path`` (the tiny store, written once
per module), ``server`` (the app on it, once per module; a module overrides ``server_env`` to
give the server more environment, e.g. another profile) and ``planner`` (name and password of
a planner of the tiny store).

Every request to a host other than 127.0.0.1/localhost is aborted and recorded in
``page.blocked`` so a test can assert that nothing was fetched from a CDN or tile server. Two
locks: Chromium goes through a dead proxy for every non-loopback host (so nothing can leave even
unobserved), and, with ``intercept=True`` (default), Playwright routes each non-local request to
``abort``. Streamlit's frontend cannot open a deep link (``/my_grid?grid=...``) while requests are
intercepted (its base-path probe stalls), so such tests pass ``intercept=False`` and rely on the
proxy, still recording every non-local request in ``page.blocked``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def browser_available() -> bool:
    """Debian's Chromium and the playwright package are both installed."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).is_file()


BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs /usr/bin/chromium and playwright"),
]
"""Marks of every real-browser test module: ``pytestmark = BROWSER_MARKS``."""


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory) -> Path:
    """The tiny store of tests/_map_fixtures.py, written once per test module."""
    from tests._map_fixtures import write_tiny_store

    return write_tiny_store(tmp_path_factory.mktemp("browser") / "tiny.gpkg")


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """More environment for the module's app server (none; a module may override it)."""
    return {}


@pytest.fixture(scope="module")
def server(tiny_path: Path, server_env: dict[str, str]) -> Iterator[str]:
    """The app on the tiny store, once per test module: its base URL."""
    with streamlit_server(store=tiny_path, env=server_env) as base:
        yield base


@pytest.fixture(scope="module")
def planner(tiny_path: Path) -> tuple[str, str]:
    """A planner of the tiny store: (name, password) for the login page."""
    from data.store import GeoPackageStore
    from tests._auth import make_user

    return make_user(GeoPackageStore(tiny_path), "planner")


def launch_chromium(pw, **options):
    """Debian's Chromium, headless, behind a dead proxy: every non-loopback request fails."""
    return pw.chromium.launch(
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        proxy={"server": "http://127.0.0.1:9", "bypass": "127.0.0.1,localhost"},
        **options,
    )


def free_port() -> int:
    """A free TCP port on 127.0.0.1, chosen by the operating system.

    An ephemeral port rather than a fixed range, so that test runs going on side by side (two
    checkouts on one machine) do not start their servers on the same port and talk to each other.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def streamlit_server(
    *,
    store: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 180.0,
    app: Path | None = None,
) -> Iterator[str]:
    """Run the app (``python -m ui.serve``, as scripts/run_app.sh does) headless on a free port;
    yield its base URL; stop it by PID. `app` runs another script instead (a test page).

    `timeout` is generous: the launcher imports the geo libraries and warms the store before
    the server listens, which took over a minute on a loaded machine."""
    port = free_port()
    environ = {**os.environ, **(env or {})}
    launcher = ["ui.serve"]  # the launcher scripts/run_app.sh uses: libraries imported up front
    if app is not None:
        launcher = ["streamlit", "run", str(app)]
        environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT), environ.get("PYTHONPATH")])
        )
    if store is not None:
        environ["GRIDMAP_STORE"] = str(store)
    _mk()
    log = open(ARTIFACTS / f"streamlit-{port}.log", "w")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            *launcher,
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    # healthy, and it is our server (another test run may hold the port)
                    if resp.status == 200 and _serves(log.name, port) and proc.poll() is None:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not become healthy in time")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def _serves(log_path: str, port: int) -> bool:
    """True once the server writing `log_path` says it listens on `port`."""
    try:
        return f"127.0.0.1:{port}" in Path(log_path).read_text(errors="replace")
    except OSError:
        return False


def _mk() -> bool:
    ARTIFACTS.mkdir(exist_ok=True)
    return True


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "file"):
        return True
    return (parsed.hostname or "") in LOCAL_HOSTS


@contextlib.contextmanager
def offline_page(
    *, viewport: tuple[int, int] = (1280, 900), mobile: bool = False, intercept: bool = True
):
    """A Chromium page that can reach only this machine; ``page.blocked`` lists refused URLs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                is_mobile=mobile,
                has_touch=mobile,
                device_scale_factor=1,
                service_workers="block",
            )
            blocked: list[str] = []

            def route(route):
                blocked.append(route.request.url)
                route.abort()

            if intercept:
                context.route(lambda url: not _is_local(url), route)
            page = context.new_page()
            if not intercept:
                page.on(
                    "request", lambda req: None if _is_local(req.url) else blocked.append(req.url)
                )
            page.blocked = blocked
            page.intercepted = intercept
            page.errors = []
            page.on("pageerror", lambda exc: page.errors.append(str(exc)))
            yield page
        finally:
            browser.close()


def map_frame(page, *, timeout_ms: int = 30_000):
    """The streamlit-folium iframe's Frame once its Leaflet map exists."""
    handle = page.wait_for_selector("iframe[title*='st_folium']", timeout=timeout_ms)
    frame = handle.content_frame()
    frame.wait_for_function(
        "() => window.map && window.gridmap && document.querySelector('.leaflet-container')",
        timeout=timeout_ms,
    )
    return frame


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as ``test-artifacts/<name>.png``."""
    _mk()
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base_url: str, name: str, password: str, *, timeout_ms: int = 30_000) -> None:
    """Sign in through the login page; the session cookie then opens every later page load.

    `timeout_ms` bounds each wait: for the login form, for the signed-in page and its cookie.

    Playwright's request interception keeps the frame that writes the cookie from running, so
    it is lifted here; the dead proxy still stops every non-local request, and each one is
    still recorded in ``page.blocked``.
    """
    if getattr(page, "intercepted", False):
        page.context.unroute_all()
        page.on("request", lambda req: None if _is_local(req.url) else page.blocked.append(req.url))
        page.intercepted = False
    page.goto(f"{base_url}/")
    # the login form is drawn by the first script run, which a cold server under load can take
    # longer than Playwright's default 30 s to finish: it gets the caller's time too
    page.get_by_label("用户名").wait_for(timeout=timeout_ms)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出登录").wait_for(timeout=timeout_ms)
    # the cookie is written by a script in a frame once the signed-in page is shown
    page.wait_for_function("() => document.cookie.includes('gridmap_session=')", timeout=timeout_ms)


class ScriptRuns:
    """The script runs of a page, read from its Streamlit WebSocket messages.

    Made before the page opens the app (it listens for the page's WebSockets). Each rerun request
    the page sends and each run the server finishes is recorded, so a test can wait for the run
    an action causes to finish instead of waiting a fixed time::

        runs = ScriptRuns(page)
        page.goto(url)
        runs.wait_for_run(lambda: page.locator("input[type='file']").set_input_files(path))
    """

    def __init__(self, page) -> None:
        self.page = page
        self.events: list[str] = []  # "request", "finished" (a run that completed) or "stopped"
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws) -> None:
        if "/_stcore/stream" in ws.url:
            ws.on("framesent", self._sent)
            ws.on("framereceived", self._received)

    def _sent(self, payload: str | bytes) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if isinstance(payload, bytes):
            msg = BackMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "rerun_script":
                self.events.append("request")

    def _received(self, payload: str | bytes) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, bytes):
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "script_finished":
                done = msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
                self.events.append("finished" if done else "stopped")

    def idle_since(self, mark: int) -> bool:
        """A rerun was requested after event `mark`, and the last request's run has finished."""
        requests = [i for i, event in enumerate(self.events) if event == "request"]
        if not requests or requests[-1] < mark:
            return False
        return "finished" in self.events[requests[-1] :]

    def wait_for_run(self, action, *, timeout_ms: int = 60_000) -> None:
        """Do `action` (a callable) and wait until the script run it requests has finished.

        A run still going when `action` is called is waited for first, so that its end is not
        taken for the end of the run the action requests.
        """
        if "request" in self.events:
            self._wait(lambda: self.idle_since(0), timeout_ms, "the run before the action")
        mark = len(self.events)
        action()
        self._wait(lambda: self.idle_since(mark), timeout_ms, "a run after the action")

    def _wait(self, done, timeout_ms: int, what: str) -> None:
        deadline = time.monotonic() + timeout_ms / 1000
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not finish: {self.events}")
            self.page.wait_for_timeout(50)  # lets Playwright deliver the WebSocket events
