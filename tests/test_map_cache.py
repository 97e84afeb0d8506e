"""Maps built once per data version, scope and view, and shared by every session asking for it.

Sessions here are AppTests in one process, as the sessions of one server are: a map made for one
session is sent again, not rebuilt, to the next one with the same view; a user of another scope
gets a map of their own (built from their scope-cut layers), never the other one's.
"""

from __future__ import annotations

import pytest

from tests._apptest import map_args
from tests._auth import signed_in_app
from tests._map_fixtures import ROOT_APP, write_tiny_store
from ui import map_view, state
from ui.map_view import digest

TIMEOUT = 120


@pytest.fixture
def tiny_store(tmp_path, monkeypatch):
    path = write_tiny_store(tmp_path / "tiny.gpkg")
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    return path


@pytest.fixture
def builds(monkeypatch) -> list[dict]:
    """The rendered strings of every shared map built from now on."""
    made: list[dict] = []
    render = map_view._render

    def counting(build):
        made.append(render(build))
        return made[-1]

    monkeypatch.setattr(map_view, "_render", counting)
    return made


def _open(page: str, role: str = "planner", scope: str = "city", **query):
    at = signed_in_app(str(ROOT_APP), role=role, scope=scope, default_timeout=TIMEOUT, query=query)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _map_script(at) -> str:
    """The script of the first map on the page (what the browser is sent)."""
    scripts = [args.get("script") for args in map_args(at)]
    scripts = [s for s in scripts if s]
    assert scripts, "no map on the page"
    return scripts[0]


def test_digest_is_stable_and_tells_values_apart():
    assert digest({"a": 1}, [1, 2]) == digest({"a": 1}, [1, 2])
    assert digest({"a": 1}) != digest({"a": 2})
    assert digest("ab", "c") != digest("a", "bc")


def test_explorer_map_is_built_once_for_two_sessions_and_apart_for_a_scoped_user(
    tiny_store, builds
):
    first = _open("ui/pages/explorer.py")
    assert len(builds) == 1
    second = _open("ui/pages/explorer.py")
    assert len(builds) == 1, "the second session rebuilt the same view"
    assert _map_script(second) == _map_script(first)
    assert "G03" in _map_script(first)
    # a worker of grid G01: built for their scope, and no other grid's data in it
    worker = _open("ui/pages/explorer.py", role="worker", scope="grids:G01")
    assert len(builds) == 2
    script = _map_script(worker)
    assert "G01" in script and "G03" not in script and "G06" not in script


def test_my_grid_map_is_shared_by_sessions_of_one_scope_only(tiny_store, builds):
    one = _open("ui/pages/my_grid.py", grid="G05")
    two = _open("ui/pages/my_grid.py", grid="G05")
    assert len(builds) == 1
    assert _map_script(one) == _map_script(two)
    assert two.session_state[state.MY_GRID_SUMMARY]["my_grid"] == 1
    other_grid = _open("ui/pages/my_grid.py", grid="G06")
    assert len(builds) == 2 and _map_script(other_grid) != _map_script(one)
    worker = _open("ui/pages/my_grid.py", role="worker", scope="grids:G01")
    assert len(builds) == 3
    assert "G06" not in _map_script(worker)
