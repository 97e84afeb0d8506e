"""Both stores implement the whole `Store` protocol, with the same keyword parameters."""

from __future__ import annotations

import inspect

import pytest

from data.postgis import PostGISStore
from data.store import GeoPackageStore, Store, open_store


def _members() -> list[str]:
    names = [n for n in vars(Store) if not n.startswith("_")]
    return sorted({*names, *Store.__annotations__})


def _keywords(func) -> list[tuple[str, object]]:
    params = inspect.signature(func).parameters.values()
    return [(p.name, p.kind) for p in params if p.name != "self"]


def test_protocol_names_what_callers_need():
    assert {"path", "label", "lock", "read_layers", "layer_versions", "has"} <= set(_members())


@pytest.mark.parametrize("cls", [GeoPackageStore, PostGISStore])
def test_store_classes_have_every_member_with_the_same_parameters(cls):
    for name in _members():
        if name == "path":
            continue  # an instance attribute: checked on instances below
        assert hasattr(cls, name), f"{cls.__name__} lacks {name}"
        want, got = getattr(Store, name), getattr(cls, name)
        if isinstance(want, property):
            assert isinstance(got, property), f"{cls.__name__}.{name} is not a property"
            continue
        assert _keywords(got) == _keywords(want), f"{cls.__name__}.{name} signature differs"


def test_open_store_gives_a_store(tmp_path):
    gpkg = open_store(tmp_path / "x.gpkg")
    assert isinstance(gpkg, Store)
    assert gpkg.path.name == "x.gpkg"
    pg = open_store("postgresql://app:secret@localhost:5/db")
    assert isinstance(pg, Store)
    assert "secret" not in pg.label


def test_a_store_without_lock_is_not_a_store():
    class Partial:
        path = "x"

        def read(self, layer):
            return None

    assert not isinstance(Partial(), Store)
