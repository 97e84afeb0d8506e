"""Shared fixtures. Per-area fixtures live in the test modules that use them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
