"""What an AppTest run sent to the browser's maps (streamlit-folium components)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from streamlit.testing.v1 import AppTest


def _walk(node) -> Iterator:
    for child in getattr(node, "children", {}).values():
        yield child
        yield from _walk(child)


def map_args(at: AppTest) -> list[dict]:
    """The arguments of every map component on the page, in page order (``script`` holds the
    map); fails when the page has none."""
    found = [
        json.loads(e.proto.json_args)
        for e in _walk(at._tree)
        if getattr(e, "type", "") == "component_instance"
    ]
    assert found, "no map component on the page"
    return found
