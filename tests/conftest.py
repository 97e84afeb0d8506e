"""Shared fixtures. Per-area fixtures live in the test modules that use them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# the browser tests' shared fixtures (tests/_browser.py): the tiny store, its app server, a planner
from tests._browser import planner, server, server_env, tiny_path  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent

# command-line messages follow $GRIDMAP_LANG, else $LANG (layers/messages.py): tests that read
# them expect English whatever the machine's locale; tests of Chinese set it themselves
os.environ.setdefault("GRIDMAP_LANG", "en")


@pytest.fixture(scope="session")
def demo_store_path(tmp_path_factory) -> Path:
    """Path to a Shiyan demo store at scale 1 (read-only: copy it before writing)."""
    from geo.settings import DEFAULT_STORE

    if DEFAULT_STORE.exists():
        return DEFAULT_STORE
    from data import demo

    path = tmp_path_factory.mktemp("demo") / "shiyan_demo.gpkg"
    demo.write_demo(path)
    return path


@pytest.fixture
def writable_demo_store(demo_store_path, tmp_path) -> Path:
    """A private copy of the demo store that a test may change."""
    path = tmp_path / "store.gpkg"
    shutil.copyfile(demo_store_path, path)
    return path


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostGIS cluster (Unix socket only) for the whole test session."""
    from tests._pg_cluster import PgCluster

    cluster = PgCluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster) -> str:
    """A database with the ``gridmap`` schema made by ``cli.py db init``, used as a template."""
    import cli

    name = pg_cluster.new_database()
    owner = pg_cluster.url("gridmap_owner", name)
    assert cli.main(["db", "init", "--owner-url", owner, "--app-role", "gridmap_app"]) == 0
    return name


@pytest.fixture
def pg_url(pg_cluster, pg_template) -> str:
    """URL of a fresh database (schema ready) as the app's login role."""
    return pg_cluster.url("gridmap_app", pg_cluster.new_database(template=pg_template))


@pytest.fixture
def analysis_calls(monkeypatch) -> dict[str, list]:
    """What the analysis really computes: the facility count of every nearest-distance search
    (``distance``) and the kind of every coverage roll-up (``coverage``)."""
    from geo import coverage as gc

    seen: dict[str, list] = {"distance": [], "coverage": []}
    real_distance, real_coverage = gc.nearest_distance, gc.coverage_from_distance

    def distance(points, facilities):
        seen["distance"].append(len(facilities))
        return real_distance(points, facilities)

    def coverage(population, dist, **kw):
        seen["coverage"].append(kw["kind"])
        return real_coverage(population, dist, **kw)

    monkeypatch.setattr(gc, "nearest_distance", distance)
    monkeypatch.setattr(gc, "coverage_from_distance", coverage)
    return seen
