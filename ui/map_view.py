"""A map built once per data version and view, and sent to every session that asks for it.

``st_folium`` renders the folium map to HTML and JavaScript on every run of every session: for
a city-wide map of thousands of grids that is most of a visit's cost, and eight people opening
the explorer at once each paid it. :func:`shared_map` keeps the rendered strings (and the map's
feature counts) in a ``st.cache_resource`` keyed by the store's file version and the view's
parameters: the first visit builds them, every later visit (any session) only sends them. The
strings carry no per-user data: the key must hold every parameter the map depends on.

Uses streamlit-folium's own rendering helpers (pinned version in requirements.txt) and calls
its component the way ``st_folium`` does, with ``returned_objects=[]`` (a display-only map).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable

import folium
import streamlit as st
import streamlit_folium as sf

from maps import render

_RENDER_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False, max_entries=48)
def _rendered(cache_key: Hashable, _build: Callable[[], folium.Map]) -> dict:
    """The strings streamlit-folium's component needs for the map `_build` makes (cached)."""
    return _render(_build)


def _render(build: Callable[[], folium.Map]) -> dict:
    """Build the map and render the component's strings (once per cache key)."""
    m = build()
    summary = render.summary(m)
    with _RENDER_LOCK:  # folium's element ids are process-wide; render one map at a time
        m.get_root().render()
        m.render()
        html = sf._get_html(m)
        header = sf._get_header(m)
        script = sf._get_map_string(m)
        map_id = sf.get_full_id(m)
    css, js = [], []
    for elem in _walk(m):
        css.extend(href for _, href in getattr(elem, "default_css", []))
        js.extend(src for _, src in getattr(elem, "default_js", []))
    return {
        "script": script,
        "header": header,
        "html": html,
        "id": map_id,
        "css": list(dict.fromkeys(css)),
        "js": list(dict.fromkeys(js)),
        "summary": summary,
        "bytes": len(script.encode()) + len(header.encode()) + len(html.encode()),
    }


def _walk(element):
    if isinstance(element, folium.elements.JSCSSMixin):
        yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def shared_map(
    build: Callable[[], folium.Map], *, cache_key: Hashable, key: str, height: int
) -> dict[str, int]:
    """Show the map `build` makes, built once per `cache_key` for every session.

    Returns the map's feature counts by layer key (:func:`maps.render.summary`).
    """
    done = _rendered(cache_key, build)
    sf._component_func(
        script=done["script"],
        header=done["header"],
        html=done["html"],
        id=done["id"],
        key=_hash(done, key),
        height=height,
        width=None,
        returned_objects=[],
        default={},
        zoom=None,
        center=None,
        feature_group=None,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=done["css"],
        js_links=done["js"],
        wrap_longitude=False,
    )
    return done["summary"]


def _hash(done: dict, key: str) -> str:
    """streamlit-folium's component key for this map (hashing megabytes once per key)."""
    hashes = done.setdefault("hashes", {})
    if key not in hashes:
        hashes[key] = sf.generate_js_hash(done["script"], key, False)
    return hashes[key]


def digest(*parts: object) -> str:
    """A short, stable token of values that are not hashable themselves (a profile, a frame's
    rows), for a :func:`shared_map` key: their ``repr`` hashed."""
    text = "\x1f".join(repr(p) for p in parts)
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=12).hexdigest()


def rendered_bytes(cache_key: Hashable, build: Callable[[], folium.Map]) -> int:
    """Bytes of map data the component sends for this view (for the bench)."""
    return _rendered(cache_key, build)["bytes"]
