"""Cached access to the store for pages. Pages never open files themselves.

Every layer a page gets is cut to the signed-in user's scope and masked for their role
(:mod:`auth.model`) here, on the server, before any page sees it.

Layers and what is derived from them are cached by (store path, the version of each layer they
depend on, parameters): an import of one layer gives that layer a new version
(:meth:`data.store.GeoPackageStore.layer_versions`), so only results that depend on it are
computed again, for every user; the others stay cached. The version tokens that
:func:`layer_versions` hands out also carry the user's cache key (``"<version>#<key>"``, see
:attr:`auth.model.User.cache_key`; a scoped point layer's token also names the grids' version),
so every result keyed by them is shared by sessions with the same role and scope and never
across scopes. Cached frames are shared between reruns and sessions: treat them as read-only.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from auth.model import (
    CITY_KEY,
    SCOPED_LAYERS,
    PermissionDenied,
    filter_to_scope,
    grid_tags,
    mask_fields,
    parse_cache_key,
)
from data.store import GeoPackageStore, Store, open_store
from geo.settings import DEFAULT_STORE, Profile, load_profile
from layers import LAYERS, map_layers

USER_KEY = "auth_user"
"""Session-state key of the signed-in :class:`auth.model.User` (set by :mod:`ui.auth`)."""


def current_store() -> Store:
    """The active store; the built-in demo store is generated on first use.

    On PostGIS the store acts as the signed-in user (role and scope, so row-level security
    applies); stores opened later in this page run, in cached functions too, do the same.
    """
    _act_as_signed_in_user()
    store = open_store()
    if not store.exists() and store.path == DEFAULT_STORE:
        _generate_demo(store)
    return store


def _act_as_signed_in_user() -> None:
    from data.store import is_postgres_url
    from geo.settings import store_path

    if not is_postgres_url(store_path()):
        return
    from auth.model import User
    from data.postgis import DbIdentity, set_session_identity

    user = st.session_state.get("auth_user")  # set by the sign-in page (ui/field/actor.py)
    set_session_identity(DbIdentity.of(user) if isinstance(user, User) else None)


def _generate_demo(store: GeoPackageStore) -> None:
    from data import demo

    with st.status(
        "正在生成十堰示例数据 / Generating the Shiyan demo data…", expanded=True
    ) as status:
        bar = st.progress(0.0)
        demo.write_demo(
            store.path, progress=lambda share, text: bar.progress(min(share, 1.0), text=text)
        )
        status.update(label="示例数据已生成 / Demo data ready", state="complete", expanded=False)


@st.cache_data(show_spinner=False, max_entries=16)
def _layer_versions(path: str, version: str) -> dict[str, str]:
    store = open_store(path)
    versions = getattr(store, "layer_versions", None)
    return versions() if versions is not None else {}


def scope_key() -> str:
    """The signed-in user's cache key; :class:`PermissionDenied` when nobody is signed in."""
    user = st.session_state.get(USER_KEY)
    if user is None:
        raise PermissionDenied("sign in first")
    return user.cache_key


def _tokens(table: dict[str, str], whole: str, names, key: str) -> tuple[str, ...]:
    personal, scope = parse_cache_key(key)
    out = []
    for name in names:
        version = table.get(name, "absent")
        if name in SCOPED_LAYERS and name != "grids" and not scope.is_city:
            version = f"{version}+{table.get('grids', 'absent')}"  # cut by the grids it lies in
        out.append(f"{version}#{key}")
    return tuple(out)


def layer_versions(*names: str, key: str | None = None) -> tuple[str, ...]:
    """The version token of each layer in `names` for the user's scope (`key`: the server's
    warm-up, outside any session); ``"absent"`` for a layer the store does not hold."""
    store = current_store() if key is None else open_store()
    whole = store.version()
    table = _layer_versions(str(store.path), whole)
    return _tokens(table, whole, names, key or scope_key())


def data_version(store: Store | None = None) -> str:
    """The store's version and the user's cache key: the key of every whole-store analysis."""
    store = store or current_store()
    return f"{store.version()}#{scope_key()}"


def _token(versions: tuple[tuple[str, str], ...], layer: str) -> str:
    return dict(versions)[layer]


@st.cache_resource(show_spinner=False, max_entries=64)
def _read_full(path: str, version: str, layer: str) -> gpd.GeoDataFrame:
    """`layer` as stored; `version` is that layer's own version token."""
    return open_store(path).read(layer)


@st.cache_resource(show_spinner=False, max_entries=16)
def _grid_tags(path: str, version: str, grids_version: str, layer: str):
    return grid_tags(_read_full(path, version, layer), _read_full(path, grids_version, "grids"))


@st.cache_resource(show_spinner=False, max_entries=128)
def _read_layer(path: str, version: str, layer: str) -> gpd.GeoDataFrame:
    """`layer` cut to a scope; `version` is a token of :func:`layer_versions`."""
    versions, _, key = version.partition("#")
    own, _, grids_version = versions.partition("+")
    frame = _read_full(path, own, layer)
    personal, scope = parse_cache_key(key or CITY_KEY)
    if layer in SCOPED_LAYERS and not scope.is_city:
        tags = None if layer == "grids" else _grid_tags(path, own, grids_version, layer)
        frame = filter_to_scope(frame, layer, scope, tags=tags)
    return frame if personal else mask_fields(frame, layer)


def load_layer(layer: str) -> gpd.GeoDataFrame:
    """A layer of the active store in EPSG:4326, cut to the user's scope (cached, read-only)."""
    store = current_store()
    return _read_layer(str(store.path), *layer_versions(layer), layer)


def scoped_versions(path: str, version: str) -> dict[str, str]:
    """The version token of every layer of :data:`layers.LAYERS` in the scope named by
    `version` (from :func:`data_version`, ``"<store version>#<cache key>"``)."""
    whole, _, key = version.partition("#")
    table = _layer_versions(path, whole)
    return dict(zip(LAYERS, _tokens(table, whole, LAYERS, key or CITY_KEY), strict=True))


def scoped_layers(path: str, version: str) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of :data:`layers.LAYERS`, cut to the scope named by `version`.

    `version` comes from :func:`data_version` (``"<store version>#<cache key>"``).
    """
    return {
        name: _read_layer(path, token, name)
        for name, token in scoped_versions(path, version).items()
    }


LOCATOR_COLUMNS = {
    "grids": ("grid_code", "grid_name", "community", "street", "district"),
    "villages": ("village_code", "name", "township", "county"),
}


@st.cache_resource(show_spinner=False, max_entries=8)
def _locator_layer(path: str, version: str, layer: str) -> gpd.GeoDataFrame:
    frame = _read_full(path, version, layer)
    keep = [c for c in LOCATOR_COLUMNS[layer] if c in frame.columns]
    return frame[[*keep, "geometry"]]


def locator_layer(layer: str) -> gpd.GeoDataFrame:
    """Codes, names and shapes of every grid or village, whatever the user's scope.

    Only for the server to find where a point lies (and then check it against the scope, e.g.
    a field report filed from outside one's grids); never to be shown. No personal fields.
    """
    scope_key()  # signed in
    store = current_store()
    whole = store.version()
    version = _layer_versions(str(store.path), whole).get(layer, whole)
    return _locator_layer(str(store.path), version, layer)


def profile() -> Profile:
    """The city profile (``$GRIDMAP_PROFILE`` or Shiyan)."""
    return load_profile()


MAP_LAYERS = map_layers()
"""Layers of the explorer's menu, from the layer records (``layers.LAYERS``)."""


@st.cache_resource(show_spinner=False, max_entries=64)
def _display_layer(
    path: str, version: str, layer: str, decimals: int, tolerance_m: float, metric_crs: str
):
    from maps.display import prepare_geometry

    frame = _read_layer(path, version, layer)
    schema = LAYERS[layer]
    polygons = not schema.view.facility and set(schema.geometry_types) <= {
        "Polygon",
        "MultiPolygon",
    }
    return prepare_geometry(
        frame,
        decimals=decimals,
        tolerance_m=tolerance_m if polygons else 0.0,
        metric_crs=metric_crs,
    )


def display_layer(layer: str, *, key: str | None = None) -> gpd.GeoDataFrame:
    """A layer prepared for the map: simplified (coverage-aware), rounded, EPSG:4326 (cached).

    Cut to the user's scope (`key` only for the server's warm-up, outside any session).
    """
    store = current_store() if key is None else open_store()
    prof = profile()
    return _display_layer(
        str(store.path),
        *layer_versions(layer, key=key),
        layer,
        prof.display.coordinate_decimals,
        prof.display.simplify_tolerance_m,
        prof.metric_crs,
    )


# layers whose features are tagged with the district/street/community they lie in
TAG_SOURCES = ("grids", "districts", "streets", "communities")


def _tag_versions(layer: str, key: str | None = None) -> tuple[tuple[str, str], ...]:
    """Versions of the layers :func:`admin_tags` of `layer` depends on."""
    names = tuple(dict.fromkeys((layer, *TAG_SOURCES)))
    return tuple(zip(names, layer_versions(*names, key=key), strict=True))


@st.cache_resource(show_spinner=False, max_entries=64)
def _admin_tags(path: str, versions: tuple[tuple[str, str], ...], layer: str):
    from maps.display import admin_tags

    read = lambda name: _read_layer(path, _token(versions, name), name)  # noqa: E731
    frame = read(layer)
    if layer == "grids":
        return frame[["district", "street", "community"]].astype(object)
    return admin_tags(
        frame,
        grids=read("grids"),
        districts=read("districts"),
        streets=read("streets"),
        communities=read("communities"),
    )


def admin_tags(layer: str, *, key: str | None = None):
    """District/street/community names of each feature of `layer` in scope (cached, read-only)."""
    store = current_store() if key is None else open_store()
    return _admin_tags(str(store.path), _tag_versions(layer, key), layer)


@st.cache_resource(show_spinner=False, max_entries=16)
def _population_display(
    path: str,
    versions: tuple[tuple[str, str], ...],
    district,
    street,
    community,
    limit: int,
    cell_m: float,
    decimals: int,
    metric_crs: str,
):
    from maps.display import aggregate_points, filter_mask, prepare_geometry

    frame = _read_layer(path, _token(versions, "population"), "population")
    if district or street or community:
        tags = _admin_tags(path, versions, "population")
        mask = filter_mask(tags, district=district, street=street, community=community)
        frame = frame[mask.reindex(frame.index, fill_value=False)]
    if len(frame) > limit:
        frame = aggregate_points(frame, cell_m=cell_m, metric_crs=metric_crs).assign(
            households=None
        )
    return prepare_geometry(frame, decimals=decimals, metric_crs=metric_crs)


def population_display(
    *, district: str | None, street: str | None, community: str | None, limit: int, cell_m: float
) -> gpd.GeoDataFrame:
    """Population for the map under the filters: points, or summed into cells above `limit`.

    Cells have a ``points`` column (how many points each sums). Cached by store and filters.
    """
    store = current_store()
    prof = profile()
    return _population_display(
        str(store.path),
        _tag_versions("population"),
        district,
        street,
        community,
        limit,
        cell_m,
        prof.display.coordinate_decimals,
        prof.metric_crs,
    )


def store_layers() -> list[str]:
    """Names of the tables in the active store (empty when there is no store)."""
    store = open_store()
    return store.layers() if store.exists() else []


@st.cache_data(show_spinner=False, max_entries=16)
def _store_meta(path: str, version: str) -> dict[str, str]:
    return open_store(path).meta()


def store_meta() -> dict[str, str]:
    """The active store's ``gridmap_meta`` key/values (cached; {} when there is no store)."""
    store = open_store()
    if not store.exists():
        return {}
    return _store_meta(str(store.path), store.version())


def is_synthetic() -> bool:
    """True for the built-in demo store or any store marked ``synthetic`` in its metadata."""
    store = open_store()
    return (
        store.path.resolve() == DEFAULT_STORE.resolve() or store_meta().get("synthetic") == "true"
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def _grid_summary(
    path: str,
    grids_version: str,
    communities_version: str,
    decimals: int,
    tolerance_m: float,
    metric_crs: str,
):
    from maps.display import grids_by_area

    areas = _display_layer(
        path, communities_version, "communities", decimals, tolerance_m, metric_crs
    )
    grids = _read_layer(path, grids_version, "grids")
    where = _grid_community(
        path, grids_version, communities_version, decimals, tolerance_m, metric_crs
    )
    return grids_by_area(grids, areas, metric_crs=metric_crs, area=where)


def _grid_args(key: str | None = None) -> tuple[str, str, str, int, float, str]:
    """The cache arguments every grid-by-community function shares: store path, versions of
    grids and communities, then the display settings. `key` as in :func:`grid_batch`."""
    store = current_store() if key is None else open_store()
    prof = profile()
    return (
        str(store.path),
        *layer_versions("grids", "communities", key=key),
        prof.display.coordinate_decimals,
        prof.display.simplify_tolerance_m,
        prof.metric_crs,
    )


def grid_summary() -> gpd.GeoDataFrame:
    """Grids summed per community, on the communities' display outlines (cached, read-only)."""
    return _grid_summary(*_grid_args())


@st.cache_resource(show_spinner=False, max_entries=8)
def _grid_community(
    path: str,
    grids_version: str,
    communities_version: str,
    decimals: int,
    tolerance_m: float,
    metric_crs: str,
) -> pd.Series:
    """Row label of the display community each grid belongs to (:func:`maps.display.area_of`):
    worked out once for the per-community sums, the map's community boxes and the grids
    route."""
    from maps.display import area_of

    areas = _display_layer(
        path, communities_version, "communities", decimals, tolerance_m, metric_crs
    )
    grids = _read_layer(path, grids_version, "grids")
    return area_of(grids, areas, metric_crs=metric_crs)


@st.cache_resource(show_spinner=False, max_entries=8)
def _grid_areas(
    path: str,
    grids_version: str,
    communities_version: str,
    decimals: int,
    tolerance_m: float,
    metric_crs: str,
):
    areas = _display_layer(
        path, communities_version, "communities", decimals, tolerance_m, metric_crs
    )
    labels = dict(zip(areas.index, areas.index.astype(str), strict=True))
    where = _grid_community(
        path, grids_version, communities_version, decimals, tolerance_m, metric_crs
    )
    return where.map(labels)


@st.cache_resource(show_spinner=False, max_entries=64)
def _grid_batch(
    path: str,
    grids_version: str,
    communities_version: str,
    decimals: int,
    tolerance_m: float,
    metric_crs: str,
    areas: tuple[str, ...],
    color_by: str,
    lang: str,
    offsets: str,
) -> bytes:
    from maps.render import grid_payload

    grids = _display_layer(path, grids_version, "grids", decimals, tolerance_m, metric_crs)
    where = _grid_areas(path, grids_version, communities_version, decimals, tolerance_m, metric_crs)
    chosen = grids[where.reindex(grids.index).isin(areas).to_numpy()]
    text = grid_payload(
        chosen,
        class_frame=grids,
        lang=lang,
        color_by=color_by,
        offsets=offsets,
        decimals=decimals,
    )
    return text.encode("utf-8")


def grid_areas(*, key: str | None = None):
    """Label of the community (a row of :func:`grid_summary`) each grid in scope belongs to
    (:func:`maps.display.area_of`: also a grid outside every community has one), as text
    (cached, read-only). `key` as in :func:`grid_batch`."""
    return _grid_areas(*_grid_args(key))


def grid_batch(
    areas: tuple[str, ...], *, color_by: str, lang: str, offsets: str, key: str | None = None
) -> bytes:
    """The grids of the communities `areas` (labels of :func:`grid_summary`'s rows) in the
    user's scope, as the map's grid layer draws them (JSON of :func:`maps.render.grid_payload`,
    coloured with the classes of all their grids); cached per data version, scope and asks.

    `key`: the user's cache key when called outside a page run (the grids route).
    """
    return _grid_batch(*_grid_args(key), tuple(sorted(set(areas))), color_by, lang, offsets)
