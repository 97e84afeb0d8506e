"""The grids route (ui/grid_api.py) over real HTTP, on the tiny store.

Served by uvicorn on a free port with only the app's extra routes (the same ``routes()`` that
``ui.serve`` adds beside Streamlit's). Who may ask and what they get: signed out 401, a grid
worker only their grid, a planner the communities asked for, a viewer masked worker names; a
stale data version 409; bad parameters 400; other methods 405. Answers hand-checkable from
the fixture's layout (tests/_map_fixtures.py).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from auth.sessions import COOKIE, sign_in
from data.store import GeoPackageStore
from geo.settings import load_profile
from maps.render import payload_rows
from tests._auth import make_user
from tests._browser import free_port
from tests._map_fixtures import write_tiny_store


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = write_tiny_store(tmp_path_factory.mktemp("grid_api") / "tiny.gpkg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRIDMAP_STORE", str(path))
        yield path


@pytest.fixture(scope="module")
def base(tiny):
    import uvicorn
    from starlette.applications import Starlette

    from ui.grid_api import routes

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=routes()), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _token(path, role: str, scope: str = "city") -> str:
    store = GeoPackageStore(path)
    name, password = make_user(store, role, scope)
    signed = sign_in(
        store.accounts(), name, password, client="test", settings=load_profile().security
    )
    return signed.token


def _labels(path) -> dict[str, str]:
    """Community name -> the label the map asks for it by (its row index)."""
    communities = GeoPackageStore(path).read("communities")
    return dict(zip(communities["name"], communities.index.astype(str), strict=True))


def _get(url: str, token: str | None = None, method: str = "GET"):
    request = urllib.request.Request(url, method=method)
    if token:
        request.add_header("Cookie", f"{COOKIE}={token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _ask(base: str, path, token: str | None, names, **extra) -> tuple[int, dict, bytes]:
    labels = _labels(path)
    query = {"v": GeoPackageStore(path).version(), "c": ",".join(labels[n] for n in names)}
    query.update(extra)
    text = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in query.items())
    return _get(f"{base}/gridmap/api/grids?{text}", token)


def _codes(body: bytes) -> set[str]:
    payload = json.loads(body)
    position = payload["labels"].index("网格编码")
    return {row[position] for row in payload_rows(payload)}


ALL = ("社区一", "社区二", "社区三")


def test_signed_out_or_unknown_session_gets_401_and_no_data(base, tiny):
    for token in (None, "not-a-session"):
        status, headers, body = _ask(base, tiny, token, ALL)
        assert status == 401
        assert b"G01" not in body and "张三".encode() not in body
        assert headers["cache-control"].startswith("private")


def test_planner_gets_the_asked_communities_drawn_like_the_grid_layer(base, tiny):
    token = _token(tiny, "planner")
    status, headers, body = _ask(base, tiny, token, ["社区一"])
    assert status == 200, body
    assert headers["cache-control"] == "private, no-cache"
    assert _codes(body) == {"G01", "G02"}  # the two grids of community one
    payload = json.loads(body)
    assert payload["key"] == "grids" and payload["stat"] == "grids"
    assert payload["tip"] and "张三" in json.dumps(payload, ensure_ascii=False)
    status, _, body = _ask(base, tiny, token, ALL)
    assert _codes(body) == {f"G0{n}" for n in range(1, 7)}
    # the colour classes are those of all six grids: the same class for the same households
    whole, part = json.loads(body), payload
    assert part["symbols"] == whole["symbols"]
    assert part["cls"] == whole["cls"][:2]


def test_grid_worker_gets_only_their_grid(base, tiny):
    token = _token(tiny, "worker", "grids:G01")
    status, _, body = _ask(base, tiny, token, ALL)
    assert status == 200
    assert _codes(body) == {"G01"}
    assert "李四".encode() not in body and b"G03" not in body


def test_viewer_sees_grids_with_worker_names_masked(base, tiny):
    token = _token(tiny, "viewer")
    status, _, body = _ask(base, tiny, token, ["社区一"])
    assert status == 200 and _codes(body) == {"G01", "G02"}
    assert "张三".encode() not in body and b"13812341234" not in body


def test_stale_version_is_409_without_data(base, tiny):
    token = _token(tiny, "planner")
    status, _, body = _ask(base, tiny, token, ALL, v="an-old-version")
    assert status == 409
    assert json.loads(body)["v"] == GeoPackageStore(tiny).version()
    assert b"G01" not in body


@pytest.mark.parametrize(
    "extra",
    [
        {"c": ""},
        {"c": "1,<script>"},
        {"c": ",".join(str(n) for n in range(201))},
        {"color": "phone"},
        {"lang": "fr"},
        {"offsets": "bd09"},
        {"v": ""},
    ],
)
def test_bad_parameters_are_400(base, tiny, extra):
    token = _token(tiny, "planner")
    status, _, body = _ask(base, tiny, token, ALL, **extra)
    assert status == 400, body
    assert "error" in json.loads(body) and b"G01" not in body


def test_only_get(base, tiny):
    token = _token(tiny, "planner")
    labels = ",".join(_labels(tiny).values())
    url = f"{base}/gridmap/api/grids?v={GeoPackageStore(tiny).version()}&c={labels}"
    for method in ("POST", "PUT", "DELETE"):
        assert _get(url, token, method)[0] == 405
