"""Two app replicas on PostGIS behind nginx (scripts/serve_cluster.sh), in a real browser.

The browser opens the map through nginx (TLS, self-signed), the replica serving it is stopped,
and the page carries on through the other replica: the WebSocket reconnects, the user is still
signed in (the session row lives in PostGIS), the map is drawn again from the shared store.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests._browser import ARTIFACTS, ROOT, launch_chromium, screenshot, sign_in
from tests.test_browser import wait_for_count

pytestmark = pytest.mark.browser  # no skip: a missing nginx, PostGIS or Chromium fails the test

HTTPS_PORT = 8650
APP_PORT = 8651  # replicas on 8651 and 8652
USER, PASSWORD = "cluster-planner", "cluster-test-password-1"


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx and tornado do
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def cluster():
    for port in (HTTPS_PORT, APP_PORT, APP_PORT + 1):
        assert _port_free(port), f"port {port} is taken; the cluster test needs it"
    state = Path(tempfile.mkdtemp(prefix="gridmap-cluster-"))
    state.chmod(0o755)  # the postgres user reaches its data folder inside
    env = {
        **os.environ,
        "GRIDMAP_CLUSTER_DIR": str(state),
        "GRIDMAP_CLUSTER_APP_PORT": str(APP_PORT),
        "GRIDMAP_CLUSTER_SKIP_SETUP": "1",  # scripts/test.sh ran setup.sh --test already
    }
    script = ["bash", str(ROOT / "scripts" / "serve_cluster.sh")]

    def run(*args: str, timeout: float = 300) -> str:
        out = subprocess.run(
            [*script, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    try:
        # the first start copies the demo store into PostGIS: minutes on a busy machine
        started = run("start", "--replicas", "2", "--port", str(HTTPS_PORT), timeout=900)
        assert f"https://127.0.0.1:{HTTPS_PORT}" in started
        # a planner account in the shared store, made the way an admin makes one (accounts are
        # never copied by `db copy`, so the cluster starts with none)
        add = subprocess.run(
            [sys.executable, "cli.py", "users", "add", USER, "--role", "planner"]
            + ["--password-stdin"],
            input=PASSWORD + "\n",
            env={
                **os.environ,
                "PGPASSFILE": str(state / "secrets" / "pgpass"),
                "GRIDMAP_STORE": f"postgresql://gridmap_app@/shiyan?host={state}/pg/socket",
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert add.returncode == 0, add.stdout + add.stderr
        yield run
    finally:
        # also after a failed or timed-out start: whatever did start (PostGIS, replicas, nginx)
        # is stopped, or it would hold the ports of the next run
        subprocess.run([*script, "stop"], env=env, cwd=ROOT, capture_output=True, timeout=300)
        # the nginx, replica and PostGIS logs are kept beside the screenshots
        if (state / "log").is_dir():
            shutil.copytree(state / "log", ARTIFACTS / "cluster-logs", dirs_exist_ok=True)
        shutil.rmtree(state, ignore_errors=True)


def test_stopping_a_replica_mid_session_moves_the_browser_to_the_other(cluster):
    from playwright.sync_api import sync_playwright

    from data.store import GeoPackageStore
    from geo.settings import DEFAULT_STORE

    expected = len(GeoPackageStore(DEFAULT_STORE).read("grids"))
    base = f"https://127.0.0.1:{HTTPS_PORT}"
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            context = browser.new_context(
                ignore_https_errors=True, viewport={"width": 1280, "height": 900}
            )
            context.add_init_script(TRACK_STREAMS)
            page = context.new_page()
            first = page.goto(f"{base}/")
            serving = first.headers["x-gridmap-replica"]
            sign_in(page, base, USER, PASSWORD, timeout_ms=120_000)
            assert serving in (f"127.0.0.1:{APP_PORT}", f"127.0.0.1:{APP_PORT + 1}")
            # the explorer's grids route through nginx: the session cookie reaches it (409 for
            # a made-up data version, not 401), and without the cookie the answer is 401
            routed = context.request.get(f"{base}/gridmap/api/grids?v=not-this-one&c=0")
            assert routed.status == 409, routed.text()
            anonymous = pw.request.new_context(ignore_https_errors=True)
            assert anonymous.get(f"{base}/gridmap/api/grids?v=x&c=0").status == 401
            anonymous.dispose()
            assert wait_for_count(page, "grids", expected, timeout=120) == expected
            replica = 1 if serving.endswith(str(APP_PORT)) else 2
            streams = page.evaluate("window.gridmapStreams.length")
            cluster("stop-replica", str(replica))
            assert "down" in cluster("status")
            # the open page reconnects through nginx to the other replica, which runs the next
            # page the user opens. The click waits for the new connection: one made while the
            # page is still on the old connection (or on none) is lost, and after reconnecting
            # Streamlit's frontend reruns nothing unless a run was under way (it expects the
            # server to have kept its session, which the other replica never had)
            wait_for_reconnect(page, streams)
            page.locator("[data-testid='stSidebarNav'] a").filter(has_text="服务缺口").click()
            try:
                page.locator("h1").filter(has_text="服务缺口").wait_for(timeout=120_000)
            except Exception:
                screenshot(page, "cluster_failover_stuck")
                raise
            page.wait_for_function(
                "() => !document.body.innerText.includes('Connecting')", timeout=30_000
            )
            # still signed in on the other replica: the session lives in PostGIS, not in a replica
            page.get_by_role("button", name="退出登录").wait_for(timeout=60_000)
            page.reload()
            page.get_by_role("button", name="退出登录").wait_for(timeout=120_000)
            assert page.get_by_label("密码").count() == 0
            again = context.request.get(f"{base}/")
            assert again.ok and again.headers["x-gridmap-replica"] != serving
            screenshot(page, "cluster_after_failover")
        finally:
            browser.close()


# every Streamlit WebSocket the page opens, in order, so a test can wait for a reconnection
TRACK_STREAMS = """
(() => {
  const Native = window.WebSocket;
  window.gridmapStreams = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      if (String(args[0]).includes("/_stcore/stream")) window.gridmapStreams.push(this);
    }
  };
})();
"""


def wait_for_reconnect(page, before: int, *, timeout_ms: int = 120_000) -> None:
    """Wait until the page has a Streamlit WebSocket opened after the first `before` ones, open.

    Streamlit's frontend marks itself connected in the socket's ``open`` event, so from then on
    a click reaches the server.
    """
    page.wait_for_function(
        """(before) => {
            const streams = window.gridmapStreams;
            return streams.length > before && streams[streams.length - 1].readyState === 1;
        }""",
        arg=before,
        timeout=timeout_ms,
    )
