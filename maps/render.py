"""Building folium maps from layer frames: the one look shared by every page.

The generic pieces are :func:`base_map`, :func:`add_polygons` and :func:`add_points` (styled by
a :class:`LayerSpec` record), :func:`add_highlight` and :func:`legend_items`; :func:`add_layer`
draws a store layer with its schema's labels and styles. Maps load Leaflet from the app itself (:mod:`maps.assets`), have a
metric scale bar, a layer control, one legend control (sections follow their layers on and off)
and a "current view" counter that updates in the browser without re-running the app.

Every attribute value reaches the page as escaped text: values are ``html.escape``-d here and the
JSON carrying them cannot close a ``<script>`` element.

Examples
--------
With a frame ``gaps`` of polygons in EPSG:4326::

    m = base_map(load_profile(), "none", lang="en")
    spec = LayerSpec(key="gaps", name="Gaps", fields={"residents": "Residents"},
                     style={"color": "#d32f2f"})
    add_polygons(m, gaps, spec)
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from geo.settings import Profile, load_profile
from layers import LAYERS, draw_order
from maps import display as dp
from maps.assets import use_local_assets


# --------------------------------------------------------------------------- basemaps
@dataclass(frozen=True)
class Basemap:
    key: str
    label_zh: str
    label_en: str
    offsets: str  # "wgs84" or "gcj02": the datum offsets the tiles are drawn in
    tiles: tuple[str, ...] = ()
    attribution: str = ""
    subdomains: str = "abc"
    needs_key: bool = False

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


BASEMAPS: dict[str, Basemap] = {
    b.key: b
    for b in (
        Basemap("none", "无底图（离线可用）", "None (works offline)", "wgs84"),
        Basemap(
            "osm",
            "OpenStreetMap",
            "OpenStreetMap",
            "wgs84",
            ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
            "&copy; OpenStreetMap contributors",
            "abc",
        ),
        Basemap(
            "gaode",
            "高德地图（GCJ-02）",
            "Gaode / Amap (GCJ-02)",
            "gcj02",
            (
                "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            ),
            "&copy; 高德地图 AutoNavi",
            "1234",
        ),
        Basemap(
            "tianditu",
            "天地图",
            "Tianditu",
            "wgs84",
            (
                "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                "&TILECOL={x}&tk={key}",
                "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                "&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                "&TILECOL={x}&tk={key}",
            ),
            "&copy; 天地图 Tianditu",
            "01234567",
            needs_key=True,
        ),
    )
}


def tianditu_key() -> str | None:
    """The Tianditu key from ``$TIANDITU_KEY`` (None when unset)."""
    return os.environ.get("TIANDITU_KEY") or None


# --------------------------------------------------------------------------- elements
# The browser side (window.gridmap) and the map CSS are maps/static/gridmap.js and gridmap.css,
# loaded after Leaflet like the vendor assets (maps.assets).


def safe_json(value: object) -> str:
    """JSON that is safe inside a ``<script>`` element and inert for template engines.

    ``<``, ``>`` and ``&`` are escaped (no ``</script>``), and so is the ``{`` of ``{{``, ``{%``
    and ``{#`` (these can only occur inside JSON strings, where ``\\u007b`` is the same text).
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.replace("{{", "{\\u007b").replace("{%", "\\u007b%").replace("{#", "\\u007b#")


def esc(value: object) -> str:
    """HTML-escaped text of a value ('' for None/NaN); braces become entities too."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("{", "&#123;").replace("}", "&#125;")


class _Raw(Element):
    """Finished script text: rendered as it is, never compiled as a template.

    folium's ``MacroElement.render`` wraps each script in ``Element(text)``, which compiles the
    text as a Jinja template: slow for megabytes of map data, and attribute values such as
    ``{{ ... }}`` would be evaluated on the server. Our elements add this instead.
    """

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class _RawMacro(MacroElement):
    """A MacroElement whose script output goes into the page as raw text (see :class:`_Raw`)."""

    def render(self, **kwargs):
        script = self._template.module.__dict__.get("script")
        if script is not None:
            self.get_root().script.add_child(_Raw(str(script(self, kwargs))), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class _Script(_RawMacro):
    """A piece of script run in the map's script block (after the map exists)."""

    _template = Template(
        "{% macro script(this, kwargs) %}{{ this.code(this._parent.get_name()) }}{% endmacro %}"
    )

    def __init__(self, code):
        super().__init__()
        self._name = "GridmapScript"
        self._code = code

    def code(self, map_name: str) -> str:
        return self._code.replace("__MAP__", map_name)


class DataLayer(_RawMacro):
    """Features of one layer drawn by ``gridmap.add``: compact GeoJSON and escaped text rows.

    ``feature_count`` and ``key`` are kept on the element for tests and summaries.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = gridmap.add({{ this._parent._parent.get_name() }}, "
        "{{ this._parent.get_name() }}, {{ this.payload }});"
        "{% endmacro %}"
    )

    def __init__(self, key: str, payload: str, feature_count: int, bounds):
        super().__init__()
        self._name = "DataLayer"
        self.key = key
        self.payload = payload
        self.feature_count = feature_count
        self._bounds = bounds

    def _get_self_bounds(self):
        return self._bounds


@dataclass
class LegendSection:
    key: str
    title: str
    items: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, css, label)


class Legend(_RawMacro):
    """One legend control for the whole map; layers add sections to it."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "gridmap.legend({{ this._parent.get_name() }}, {{ this.html_json() }}, 'bottomright');"
        "{% endmacro %}"
    )

    def __init__(self, lang: str = "zh"):
        super().__init__()
        self._name = "Legend"
        self.lang = lang
        self.sections: list[LegendSection] = []

    def html(self) -> str:
        title = "图例" if self.lang == "zh" else "Legend"
        parts = [f"<h4>{esc(title)}</h4>"]
        for sec in self.sections:
            rows = "".join(
                f'<div><i class="{kind}" style="{esc(css)}"></i>{esc(label)}</div>'
                for kind, css, label in sec.items
            )
            parts.append(
                f'<div class="gm-sec" data-layer="{esc(sec.key)}"><b>{esc(sec.title)}</b>{rows}</div>'
            )
        return "".join(parts)

    def html_json(self) -> str:
        return safe_json(self.html())

    def render(self, **kwargs):
        if not self.sections:
            return None
        return super().render(**kwargs)


# --------------------------------------------------------------------------- the map
class GridMap(folium.Map):
    """A folium map with what the layers drawn on it need, as declared, typed attributes.

    Attributes
    ----------
    offsets
        Datum shift of the basemap (``"gcj02"`` for Gaode, None for WGS 84).
    basemap, lang
        Key of :data:`BASEMAPS` and the language of the labels.
    decimals
        Decimal places of the coordinates sent to the browser.
    legend
        The map's one legend; layers add sections to it.
    bounds
        [[south, west], [north, east]] the map fits to (:func:`fit_to`), None when not set.
    """

    def __init__(
        self,
        *,
        offsets: str | None,
        basemap: str,
        lang: str,
        decimals: int,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.offsets = offsets
        self.basemap = basemap
        self.lang = lang
        self.decimals = decimals
        self.legend = Legend(lang)
        self.bounds: list[list[float]] | None = None


def base_map(
    profile: Profile,
    basemap: str = "none",
    *,
    lang: str = "zh",
    location: tuple[float, float] | None = None,
    zoom: int | None = None,
    tianditu: str | None = None,
    view_counter: bool = True,
) -> GridMap:
    """An empty map with local assets, basemap tiles (if any), scale bar and legend.

    Parameters
    ----------
    profile
        City profile (default centre and zoom).
    basemap
        A key of :data:`BASEMAPS`. ``"gaode"`` makes every overlay added through this module
        shift to GCJ-02. ``"tianditu"`` without a key falls back to no tiles.
    location
        (lat, lon) of the centre; default the city's.
    tianditu
        Tianditu key (default ``$TIANDITU_KEY``).
    """
    choice = BASEMAPS.get(basemap, BASEMAPS["none"])
    key = tianditu or tianditu_key()
    if choice.needs_key and not key:
        choice = BASEMAPS["none"]
    m = GridMap(
        offsets=choice.offsets,
        basemap=choice.key,
        lang=lang,
        decimals=profile.display.coordinate_decimals,
        location=list(location or (profile.city.center_lat, profile.city.center_lon)),
        zoom_start=zoom or profile.city.zoom,
        tiles=None,
        control_scale=False,
        max_zoom=19,
    )
    use_local_assets(m)
    touch_text = safe_json(
        "用两根手指移动地图" if lang == "zh" else "Use two fingers to move the map"
    )
    m.add_child(
        _Script(
            f"__MAP__.options.gmText = {{twoFingers: {touch_text}}};"
            + "gridmap.scale(__MAP__); gridmap.touch(__MAP__);"
        ),
        name="gridmap_helpers",
    )
    for n, url in enumerate(choice.tiles):
        folium.TileLayer(
            tiles=url.replace("{key}", key or ""),
            attr=choice.attribution,
            name=choice.label(lang)
            if n == 0
            else f"{choice.label(lang)} ({'注记' if lang == 'zh' else 'labels'})",
            subdomains=choice.subdomains,
            max_zoom=19,
            max_native_zoom=18,
            overlay=n > 0,
            control=False,
        ).add_to(m)
    if view_counter:
        text = {
            "title": "当前视图" if lang == "zh" else "In view",
            "grids": "网格" if lang == "zh" else "grids",
            "residents": "人口" if lang == "zh" else "residents",
            "facilities": "设施" if lang == "zh" else "facilities",
        }
        m.add_child(
            _Script(f"gridmap.viewCounter(__MAP__, {safe_json(text)});"), name="gridmap_view"
        )
    return m


def finish(m: GridMap, *, collapsed: bool = True) -> GridMap:
    """Put the legend and the layer control after every layer (call after adding layers).

    Calling it again (after more layers were added) moves both to the end again: a layer
    control rendered before a layer would refer to a layer that does not exist yet.
    """
    fit = m._children.pop("gridmap_fit", None)
    for name in ("gridmap_legend", "gridmap_layer_control"):
        m._children.pop(name, None)
    m.add_child(m.legend, name="gridmap_legend")
    control = folium.LayerControl(collapsed=collapsed, position="topleft")
    m.add_child(control, name="gridmap_layer_control")
    if fit is not None:  # after the legend and controls: the fit leaves room for them
        m.add_child(fit, name="gridmap_fit")
    return m


def _feature_collection(geoms: np.ndarray, classes: np.ndarray) -> str:
    """GeoJSON FeatureCollection text with only the row index and class of each feature."""
    texts = shapely.to_geojson(geoms)
    feats = [
        f'{{"type":"Feature","properties":{{"i":{i},"c":{int(c)}}},"geometry":{g}}}'
        for i, (c, g) in enumerate(zip(classes, texts, strict=True))
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"


def encode_geometries(geoms: np.ndarray, decimals: int) -> dict | None:
    """Compact geometry encoding: integer coordinates, delta-coded, with ragged offsets.

    Points go to ``pt`` (``i``: feature positions, ``c``: deltas); polygons and multipolygons to
    ``pg`` (``c``: deltas, ``r``/``p``/``m``: ring, polygon and feature offsets as in
    ``shapely.to_ragged_array``); lines and multilines to ``ln`` (``c``, ``p``/``m``: line and
    feature offsets). About a third of the size of GeoJSON text. Returns None when points,
    polygons and lines are mixed otherwise (the caller then sends GeoJSON).
    """
    scale = 10**decimals
    types = shapely.get_type_id(geoms)
    is_pt = types == 0
    is_pg = np.isin(types, (3, 6))
    is_ln = np.isin(types, (1, 5))
    if is_ln.any():
        if not is_ln.all():
            return None
        kind, coords, offsets = shapely.to_ragged_array(geoms)
        if kind == shapely.GeometryType.LINESTRING:
            offsets = (*offsets, np.arange(len(geoms) + 1))
        parts, feats = offsets
        ints = np.rint(coords * scale).astype(np.int64)
        return {
            "scale": scale,
            "ln": {
                "i": np.arange(len(geoms)).tolist(),
                "c": np.diff(ints, axis=0, prepend=np.zeros((1, 2), np.int64)).ravel().tolist(),
                "p": parts.tolist(),
                "m": feats.tolist(),
            },
        }
    if not (is_pt | is_pg).all():
        return None
    out: dict = {"scale": scale}

    def deltas(coords: np.ndarray) -> list[int]:
        ints = np.rint(coords * scale).astype(np.int64)
        return np.diff(ints, axis=0, prepend=np.zeros((1, 2), np.int64)).ravel().tolist()

    if is_pt.any():
        out["pt"] = {
            "i": np.flatnonzero(is_pt).tolist(),
            "c": deltas(shapely.get_coordinates(geoms[is_pt])),
        }
    if is_pg.any():
        kind, coords, offsets = shapely.to_ragged_array(geoms[is_pg])
        if kind == shapely.GeometryType.POLYGON:
            offsets = (*offsets, np.arange(int(is_pg.sum()) + 1))
        rings, polys, feats = offsets
        out["pg"] = {
            "i": np.flatnonzero(is_pg).tolist(),
            "c": deltas(coords),
            "r": rings.tolist(),
            "p": polys.tolist(),
            "m": feats.tolist(),
        }
    return out


def decode_geometries(geo: Mapping) -> dict[int, np.ndarray]:
    """Coordinates (lon, lat) of each feature position in an :func:`encode_geometries` result."""
    out: dict[int, np.ndarray] = {}
    scale = geo["scale"]
    if "pt" in geo:
        xy = np.cumsum(np.asarray(geo["pt"]["c"]).reshape(-1, 2), axis=0) / scale
        out.update({i: xy[k : k + 1] for k, i in enumerate(geo["pt"]["i"])})
    if "pg" in geo:
        pg = geo["pg"]
        xy = np.cumsum(np.asarray(pg["c"]).reshape(-1, 2), axis=0) / scale
        rings, polys, feats = pg["r"], pg["p"], pg["m"]
        for k, i in enumerate(pg["i"]):
            first_ring = polys[feats[k]]
            last_ring = polys[feats[k + 1]]
            out[i] = xy[rings[first_ring] : rings[last_ring]]
    if "ln" in geo:
        ln = geo["ln"]
        xy = np.cumsum(np.asarray(ln["c"]).reshape(-1, 2), axis=0) / scale
        parts, feats = ln["p"], ln["m"]
        for k, i in enumerate(ln["i"]):
            out[i] = xy[parts[feats[k]] : parts[feats[k + 1]]]
    return out


def _escaped_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list:
    """Escaped text of each column; columns with many repeats are dictionary-encoded."""
    out = []
    for col in columns:
        text = esc_series(frame[col])
        codes, distinct = pd.factorize(text, sort=False)
        if len(distinct) <= len(text) // 2:
            out.append({"d": [str(v) for v in distinct], "k": codes.tolist()})
        else:
            out.append(text.tolist())
    return out


def payload_rows(payload: Mapping) -> list[list[str]]:
    """Rows of escaped text from a layer payload (decodes dictionary-encoded columns)."""
    cols = [[c["d"][k] for k in c["k"]] if isinstance(c, dict) else c for c in payload["cols"]]
    n = len(payload["cls"])
    return [[col[i] for col in cols] for i in range(n)]


_ENTITIES = (
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("'", "&#x27;"),
    ("{", "&#123;"),
    ("}", "&#125;"),
)


def esc_series(values: pd.Series) -> pd.Series:
    """:func:`esc` over a whole column, vectorised ('' where missing)."""
    missing = values.isna().to_numpy()
    text = values.astype(object).where(~missing, "").astype(str).astype("string[pyarrow]")
    for raw, entity in _ENTITIES:
        text = text.str.replace(raw, entity, regex=False)
    return text.astype(object)


@dataclass(frozen=True)
class LayerSpec:
    """How one data layer is drawn: the style record :func:`add_polygons` and
    :func:`add_points` take (the per-row values, category, weights and counts, come with the
    frame).

    Attributes
    ----------
    key, name
        Short id (CSS class ``gm-<key>``) and the name shown in the layer control and legend.
    style
        Leaflet path options shared by every feature (``color``, ``weight``, ``fillColor``...),
        over the defaults of areas or points.
    fields, tooltip
        Popup columns -> labels (values escaped), and the columns (of `fields`) shown on hover.
    symbols
        Per-category style overrides with an optional ``label`` for the legend (keys are the
        values of the `category` given with the frame), e.g. a choropleth class.
    legend, legend_title
        True: one legend row per symbol (or one for `style`); a list of (kind, css, label)
        rows; False or None: no legend section. The section title (default `name`).
    show, canvas
        Shown at first; drawn on the map's shared canvas (None: areas when there are many).
    stat
        What the "in view" box counts: ``"grids"``, ``"facilities"`` or None.
    pane, mark
        ``"top"``: drawn above everything (SVG), not clickable: outlines such as highlights.
        The column (of `fields`) shown as a numbered badge on each point.
    """

    key: str
    name: str
    style: Mapping[str, object] = field(default_factory=dict)
    fields: Mapping[str, str] | None = None
    tooltip: Sequence[str] = ()
    symbols: Mapping[str, Mapping[str, object]] | None = None
    legend: Sequence[tuple[str, str, str]] | bool | None = True
    legend_title: str | None = None
    show: bool = True
    canvas: bool | None = None
    stat: str | None = None
    pane: str | None = None
    mark: str | None = None


AREA_STYLE = {"weight": 1, "color": "#455a64", "fillOpacity": 0.3}
POINT_STYLE = {"radius": 5, "weight": 1, "color": "#37474f", "fillOpacity": 0.85}


def _class_legend(symbols: dict, border: str) -> list[tuple[str, str, str]]:
    """Legend rows of a classed polygon layer: one filled swatch per class, one border colour."""
    return [
        ("", f"background:{sym['fillColor']};border:1px solid {border}", sym["label"])
        for sym in symbols.values()
    ]


def _series_list(values: pd.Series, index: pd.Index) -> list[int]:
    """Whole numbers of `values` at `index` (0 where missing) for the browser."""
    return pd.to_numeric(values.reindex(index), errors="coerce").fillna(0).astype("int64").tolist()


def _add_layer(
    m: GridMap,
    gdf: gpd.GeoDataFrame,
    spec: LayerSpec,
    *,
    front: bool,
    category: pd.Series | None = None,
    weights: pd.Series | None = None,
    counts: pd.Series | None = None,
) -> folium.FeatureGroup:
    """Draw `gdf` as one data layer of `m` as `spec` says (its defaults already resolved);
    returns its feature group."""
    key, symbols = spec.key, spec.symbols
    if gdf.crs is None:
        raise dp.DisplayError(f"layer {key!r} has no CRS")
    frame = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    frame = frame.to_crs(dp.DISPLAY_CRS) if not frame.crs.equals(dp.DISPLAY_CRS) else frame
    frame = dp.shift_for_basemap(frame, m.offsets)
    decimals = m.decimals
    geoms = dp.round_coordinates(frame.geometry.values, decimals)

    fields = dict(spec.fields or {})
    popup_cols = [c for c in fields if c in frame.columns]
    cols = _escaped_columns(frame, popup_cols)
    tip_pos = [popup_cols.index(c) for c in spec.tooltip if c in popup_cols]

    symbol_keys = list(symbols or {})
    if category is not None and symbols:
        codes = {k: n for n, k in enumerate(symbol_keys)}
        cat = category.reindex(frame.index).astype(object).map(lambda v: codes.get(str(v), -1))
        classes = cat.to_numpy(dtype="int64")
    else:
        classes = np.full(len(frame), -1, dtype="int64")
    sym_list = {
        str(n): {k: v for k, v in dict(symbols[s]).items() if k != "label"}
        for n, s in enumerate(symbol_keys)
    }

    geo = encode_geometries(geoms, decimals)
    payload_data = {
        "key": key,
        "title": esc(spec.name),
        "labels": [esc(fields[c]) for c in popup_cols],
        "tip": tip_pos,
        "cols": cols,
        "style": dict(spec.style),
        "symbols": sym_list,
        "canvas": bool(spec.canvas),
        "stat": spec.stat,
        "cls": classes.tolist(),
        "front": front,
    }
    if spec.pane is not None:
        payload_data["pane"] = spec.pane
    if spec.mark is not None:
        payload_data["mark"] = popup_cols.index(spec.mark)
    if counts is not None:  # features standing for several grids each (the "in view" box)
        payload_data["counts"] = _series_list(counts, frame.index)
    if geo is not None:
        payload_data["geo"] = geo
    if weights is not None:
        payload_data["weights"] = _series_list(weights, frame.index)
    payload = safe_json(payload_data)
    if geo is None:
        payload = payload[:-1] + ',"geojson":' + _feature_collection(geoms, classes) + "}"
    if len(frame):
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        bounds = [[float(miny), float(minx)], [float(maxy), float(maxx)]]
    else:
        bounds = [[None, None], [None, None]]

    group = folium.FeatureGroup(name=esc(spec.name), show=spec.show)
    group.add_child(DataLayer(key, payload, len(frame), bounds))
    m.add_child(group, name=f"layer_{key}")
    if spec.legend:
        m.legend.sections.append(
            LegendSection(key, spec.legend_title or spec.name, list(spec.legend))
        )
    return group


def add_polygons(
    m: GridMap,
    gdf: gpd.GeoDataFrame,
    spec: LayerSpec,
    *,
    category: pd.Series | None = None,
    weights: pd.Series | None = None,
    counts: pd.Series | None = None,
) -> folium.FeatureGroup:
    """Draw polygons (any CRS; shown in EPSG:4326, shifted to GCJ-02 on a Gaode basemap) as one
    toggleable layer styled by `spec`.

    `category` (per row, a key of ``spec.symbols``) picks each feature's symbol; `weights` adds
    residents and `counts` grids per feature to the "in view" box. Every interactive layer is
    drawn on the map's one shared canvas.
    """
    style = {**AREA_STYLE, **spec.style}
    legend = spec.legend
    if legend is True:
        legend = legend_items(style, spec.symbols, kind="", label=spec.name)
    canvas = len(gdf) > 4000 if spec.canvas is None else spec.canvas
    spec = replace(spec, style=style, legend=legend or None, canvas=canvas)
    return _add_layer(m, gdf, spec, front=False, category=category, weights=weights, counts=counts)


def add_points(
    m: GridMap,
    gdf: gpd.GeoDataFrame,
    spec: LayerSpec,
    *,
    category: pd.Series | None = None,
    weights: pd.Series | None = None,
) -> folium.FeatureGroup:
    """Draw points as canvas circle markers styled by `spec` (polygons in the frame are drawn
    as areas).

    Symbols (``color``, ``fillColor``, ``radius``, ``label``) are chosen per row by `category`.
    Point layers are drawn above every area layer (also after a layer is toggled), so a click on
    a facility over a grid opens the facility. See :func:`add_polygons` for `weights`.
    """
    style = {**POINT_STYLE, **spec.style}
    symbols = spec.symbols
    if symbols:
        symbols = {k: {"fillColor": v.get("color"), **v} for k, v in symbols.items()}
    legend = spec.legend
    if legend is True:
        legend = legend_items(style, symbols, kind="pt", label=spec.name)
    spec = replace(spec, style=style, symbols=symbols, legend=legend or None, canvas=True)
    return _add_layer(m, gdf, spec, front=True, category=category, weights=weights)


def legend_items(
    style: Mapping[str, object],
    symbols: Mapping[str, Mapping[str, object]] | None,
    *,
    kind: str = "",
    label: str = "",
) -> list[tuple[str, str, str]]:
    """Legend rows (kind, css, label) for a style and its symbols.

    ``kind`` is ``"pt"`` (round swatch), ``"ln"`` (a line) or ``""`` (a square area); `label`
    names the single row of a layer without symbols (unless the style has its own label).
    """

    def css(s: Mapping[str, object]) -> str:
        color = s.get("color", "#333")
        fill = s.get("fillColor", color)
        if kind == "ln":
            return f"border-top-color:{color}"
        opacity = s.get("fillOpacity", 0.6)
        return f"background:{fill};opacity:{max(float(opacity), 0.45)};border:1px solid {color}"

    if symbols:
        merged = [(k, {**style, **v}) for k, v in symbols.items()]
        return [(kind, css(s), str(s.get("label", k))) for k, s in merged]
    return [(kind, css(style), str(style.get("label", label)))]


def add_highlight(
    m: GridMap,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    key: str = "highlight",
    color: str = "#ffb300",
    fields: Mapping[str, str] | None = None,
) -> folium.FeatureGroup:
    """Outline (areas) or ring (points) the features of `gdf` on top of everything else."""
    polys = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    pts = gdf[~gdf.index.isin(polys.index)]
    group = None
    if len(polys):
        group = add_polygons(
            m,
            polys,
            LayerSpec(
                name=name,
                key=key,
                fields=fields,
                style={"color": color, "weight": 4, "fillOpacity": 0.05, "fillColor": color},
                legend=False,
                canvas=False,
                pane="top",
            ),
        )
    if len(pts):
        group = add_points(
            m,
            pts,
            LayerSpec(
                name=name,
                key=f"{key}_pt",
                fields=fields,
                style={"radius": 14, "color": color, "weight": 4, "fillOpacity": 0.0},
                legend=False,
                pane="top",
            ),
        )
    return group


def fit_to(m: GridMap, gdf: gpd.GeoDataFrame, *, pad_m: float = 150.0) -> GridMap:
    """Zoom the map to `gdf` (plus about `pad_m` metres), leaving room for the legend.

    The browser fits once the legend and controls exist (their sizes set the padding), and a
    map in a hidden frame fits when it first gets a size.
    """
    if gdf.empty:
        return m
    frame = dp.shift_for_basemap(gdf.to_crs(dp.DISPLAY_CRS), m.offsets)
    minx, miny, maxx, maxy = frame.total_bounds
    pad = pad_m / 111_000.0
    bounds = [[miny - pad, minx - pad], [maxy + pad, maxx + pad]]
    m.bounds = bounds
    m._children.pop("gridmap_fit", None)
    m.add_child(_Script(f"gridmap.fit(__MAP__, {safe_json(bounds)});"), name="gridmap_fit")
    return m


# --------------------------------------------------------------------------- store layers
PALETTES = {
    "households": ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    "residents": ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"],
    "households_per_worker": ["#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"],
}
NO_DATA = "#cfd8dc"
COLOR_BY = {
    "households": ("户数", "Households"),
    "residents": ("常住人口", "Residents"),
    "households_per_worker": ("网格员人均户数", "Households per worker"),
}


def _label(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def grid_classes(grids_frame: gpd.GeoDataFrame, color_by: str, *, lang: str = "zh", k: int = 5):
    """Class key of each grid and the symbols (colours + legend text) for `color_by`.

    Returns (category Series, symbols dict, values Series).
    """
    if color_by == "households_per_worker":
        values = dp.households_per_worker(grids_frame)
    else:
        values = pd.to_numeric(grids_frame[color_by], errors="coerce")
    classes, bins = dp.classify(values, k=k)
    palette = PALETTES.get(color_by, PALETTES["households"])
    n = len(bins)
    colors = palette[-n:] if n <= len(palette) else palette
    present = values.dropna().to_numpy(dtype="float64")
    integers = bool(np.all(np.mod(present, 1) == 0))
    labels = dp.class_labels(bins, float(present.min()), integers=integers) if n else []
    symbols = {str(c): {"fillColor": colors[c], "label": labels[c]} for c in range(n)}
    if (classes < 0).any():
        symbols["-1"] = {
            "fillColor": NO_DATA,
            "label": "无数据 / 无网格员" if lang == "zh" else "No data / no worker",
        }
    return classes.astype(str), symbols, values


def layer_name(layer: str, lang: str = "zh") -> str:
    return LAYERS[layer].label(lang)


def add_layer(
    m: GridMap,
    layer: str,
    frame: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    color_by: str = "households",
    show: bool = True,
    kinds: Mapping | None = None,
    class_frame: gpd.GeoDataFrame | None = None,
) -> folium.FeatureGroup:
    """Draw a store layer from its record (``LAYERS[layer].view``: popup and tooltip fields,
    style, categories); the frame is already display-prepared. `kinds` (the profile's facility
    kinds, default the active profile's) gives the categories of the generic facility layer.
    `class_frame` (grids only, holding `frame`'s rows) is what the colour classes are computed
    over, default `frame`: a part of the grids drawn with the classes of the whole."""
    schema = LAYERS[layer]
    view = schema.view
    name = layer_name(layer, lang)
    popup = [f for f in view.popup if f in frame.columns]
    text = dp.display_table(frame, layer=layer, fields=popup, lang=lang)
    labels = dp.field_labels(layer, popup, lang)
    shown = gpd.GeoDataFrame(
        text.set_axis(popup, axis=1),
        geometry=frame.geometry.values,
        index=frame.index,
        crs=frame.crs,
    )
    fields = {f: labels[f] for f in popup}
    tooltip = [f for f in view.tooltip if f in popup]
    if set(schema.geometry_types) <= {"LineString", "MultiLineString"}:
        return _add_line_layer(m, layer, frame, shown, fields, tooltip, lang=lang, show=show)
    polygons = set(schema.geometry_types) <= {"Polygon", "MultiPolygon"}
    if polygons and layer != "grids":
        style = {**view.style, "fillOpacity": 0.0, "fill": False}
        return add_polygons(
            m,
            shown,
            LayerSpec(
                name=name,
                key=layer,
                fields=fields,
                tooltip=tooltip,
                style={**style, "interactive": False} if layer != "communities" else style,
                legend=[("ln", f"border-top-color:{style['color']}", name)],
                show=show,
                canvas=False,
            ),
        )
    if layer == "grids":
        category, symbols, _ = grid_classes(
            frame if class_frame is None else class_frame, color_by, lang=lang
        )
        title = _grid_legend_title(lang, color_by)
        return add_polygons(
            m,
            shown,
            LayerSpec(
                name=name,
                key="grids",
                fields=fields,
                tooltip=tooltip,
                style={**view.style},
                symbols=symbols,
                legend=_class_legend(symbols, view.style["color"]),
                legend_title=title,
                show=show,
                stat="grids",
            ),
            category=category,
            weights=frame["residents"],
        )
    if view.category_field is None and layer == "population":
        style = {
            "radius": view.style["radius"] + 1,
            "color": view.style["color"],
            "weight": 0,
            "fillColor": view.style["color"],
            "fillOpacity": 0.55,
        }
        return add_points(
            m,
            shown,
            LayerSpec(
                name=name,
                key="population",
                fields=fields,
                tooltip=tooltip,
                style=style,
                legend=[("pt", f"background:{view.style['color']}", name)],
                show=show,
            ),
        )
    if view.category_field is None:  # one symbol for the whole layer (villages)
        symbols = {layer: {**view.style, "label": name}}
        category = pd.Series(layer, index=frame.index)
    else:
        if view.kind_categories and kinds is None:
            kinds = load_profile().facility_kinds
        symbols = {
            k: {"color": c.color, "radius": c.radius, "label": c.label(lang)}
            for k, c in schema.categories(kinds).items()
        }
        category = view.classify(frame) if view.classify else frame[view.category_field]
    present = set(category.dropna().astype(str))
    legend_symbols = {k: v for k, v in symbols.items() if k in present} or symbols
    return add_points(
        m,
        shown,
        LayerSpec(
            name=name,
            key=layer,
            fields=fields,
            tooltip=tooltip,
            symbols=symbols,
            legend=legend_items(
                {"weight": 1, "fillOpacity": 0.85},
                {k: {"fillColor": v["color"], **v} for k, v in legend_symbols.items()},
                kind="pt",
            ),
            show=show,
            stat="facilities",
        ),
        category=category,
    )


def _grid_legend_title(lang: str, color_by: str) -> str:
    name = layer_name("grids", lang)
    if lang == "zh":
        return f"{name} · {_label(COLOR_BY[color_by], lang)}（分位数分级）"
    return f"{name} · {_label(COLOR_BY[color_by], lang)} (quantile classes)"


def grid_payload(
    frame: gpd.GeoDataFrame,
    *,
    class_frame: gpd.GeoDataFrame,
    lang: str = "zh",
    color_by: str = "households",
    offsets: str | None = None,
    decimals: int = 5,
) -> str:
    """The data of a grid layer of `frame`, as :func:`add_layer` draws it (same fields, tooltip,
    popup, style), coloured with the classes of `class_frame` (the grids `frame` is part of).

    JSON text the browser's ``gridmap.add`` draws: the zoomed-in grids of :func:`add_lazy_grids`.
    """
    m = GridMap(offsets=offsets, basemap="none", lang=lang, decimals=decimals, tiles=None)
    group = add_layer(m, "grids", frame, lang=lang, color_by=color_by, class_frame=class_frame)
    return next(c for c in group._children.values() if isinstance(c, DataLayer)).payload


@dataclass(frozen=True)
class LazyGrids:
    """Where and when a map fetches the grids of the visible area (:func:`add_lazy_grids`).

    Attributes
    ----------
    url
        The grids route, relative to streamlit-folium's frame (``<base>/component/<name>/``).
    version
        The data version the map was made from (the route answers 409 for another).
    min_zoom
        Zoom level from which grids replace the per-community sums.
    """

    url: str
    version: str
    min_zoom: int


def add_lazy_grids(
    m: GridMap,
    summary: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    lazy: LazyGrids,
    lang: str = "zh",
    color_by: str = "households",
    area: pd.Series | None = None,
) -> GridMap:
    """Zoomed in to `lazy.min_zoom` or closer, draw the grids of the visible area in place of
    the per-community sums (:func:`add_grid_summary`, call it first), fetched from the server.

    The map carries only each community's bounding box (`summary`'s rows: their index is what
    the server is asked for) and the grid legend (classes of `grids`, the user's grids); the
    browser asks for the communities in view it does not hold yet and hides them again when
    zoomed out. `area`: the community (a label of `summary`'s index) of each row of `grids`
    (:func:`maps.display.area_of`); a community's box then also holds its grids, so that a grid
    reaching out of its community, or lying outside every community, is fetched where it is.
    Not for offline pages (there is no server to ask).
    """
    if summary.empty:
        return m
    _, symbols, _ = grid_classes(grids, color_by, lang=lang)
    border = LAYERS["grids"].view.style["color"]
    m.legend.sections.append(
        LegendSection("grids", _grid_legend_title(lang, color_by), _class_legend(symbols, border))
    )
    shown = dp.shift_for_basemap(summary.to_crs(dp.DISPLAY_CRS), m.offsets)
    bounds = shapely.bounds(shown.geometry.values)
    if area is not None:
        bounds = _with_grid_boxes(bounds, shown.index, grids, area, offsets=m.offsets)
    bounds = np.round(bounds, m.decimals)
    index = [
        [str(i), float(b[1]), float(b[0]), float(b[3]), float(b[2])]
        for i, b in zip(shown.index, bounds, strict=True)
    ]
    zh = lang == "zh"
    config = {
        "url": lazy.url,
        "v": lazy.version,
        "q": {"color": color_by, "lang": lang, "offsets": m.offsets or "wgs84"},
        "minZoom": int(lazy.min_zoom),
        "index": index,
        "summary": "grid_summary",
        "key": "grids",
        "text": {
            "loading": "正在加载网格…" if zh else "Loading grids…",
            "signin": "登录已过期，请刷新页面重新登录。"
            if zh
            else "Your sign-in has expired: reload the page and sign in.",
            "stale": "数据已更新，请刷新页面。" if zh else "The data changed: reload the page.",
            "failed": "网格加载失败，移动地图可重试。"
            if zh
            else "Could not load the grids; move the map to retry.",
        },
    }
    m.add_child(
        _Script(f"gridmap.lazyGrids(__MAP__, {safe_json(config)});"), name="gridmap_lazy_grids"
    )
    return m


def _with_grid_boxes(
    bounds: np.ndarray,
    ids: pd.Index,
    grids: gpd.GeoDataFrame,
    area: pd.Series,
    *,
    offsets: str | None,
) -> np.ndarray:
    """`bounds` (rows of `ids`) widened to hold the grids `area` assigns to each row."""
    labels = area.reindex(grids.index)
    held = labels.notna().to_numpy()
    if not held.any():
        return bounds
    placed = dp.shift_for_basemap(grids[held].to_crs(dp.DISPLAY_CRS), offsets)
    boxes = pd.DataFrame(
        shapely.bounds(placed.geometry.values),
        index=labels[held].astype(str).to_numpy(),
        columns=["minx", "miny", "maxx", "maxy"],
    )
    per = boxes.groupby(level=0).agg({"minx": "min", "miny": "min", "maxx": "max", "maxy": "max"})
    per = per.reindex([str(i) for i in ids]).to_numpy()
    return np.column_stack(
        [
            np.fmin(bounds[:, 0], per[:, 0]),
            np.fmin(bounds[:, 1], per[:, 1]),
            np.fmax(bounds[:, 2], per[:, 2]),
            np.fmax(bounds[:, 3], per[:, 3]),
        ]
    )


def line_legend(symbols: Mapping[str, Mapping[str, object]]) -> list[tuple[str, str, str]]:
    """Legend rows of line symbols: colour, width and dashes as drawn."""
    rows = []
    for key, sym in symbols.items():
        dashed = "dashed" if sym.get("dashArray") else "solid"
        width = max(float(sym.get("weight", 2)), 1.0)
        css = f"border-top-color:{sym['color']};border-top-width:{width:g}px;border-top-style:{dashed}"
        rows.append(("ln", css, str(sym.get("label", key))))
    return rows


def _add_line_layer(
    m: GridMap,
    layer: str,
    frame: gpd.GeoDataFrame,
    shown: gpd.GeoDataFrame,
    fields: Mapping[str, str],
    tooltip: Sequence[str],
    *,
    lang: str,
    show: bool,
) -> folium.FeatureGroup:
    """A line layer (roads) drawn by its record's categories (class, bridge, tunnel): each with
    its colour, width and dashes; the categories listed last are drawn on top."""
    schema = LAYERS[layer]
    view = schema.view
    category = view.classify(frame) if view.classify else frame[view.category_field]
    cats = schema.categories()
    symbols = {k: {"color": c.color, **c.style, "label": c.label(lang)} for k, c in cats.items()}
    rank = {k: n for n, k in enumerate(symbols)}
    order = np.argsort(category.map(rank).fillna(-1).to_numpy(), kind="stable")
    present = set(category.dropna().astype(str))
    return add_polygons(
        m,
        shown.iloc[order],
        LayerSpec(
            name=layer_name(layer, lang),
            key=layer,
            fields=fields,
            tooltip=tooltip,
            style={**view.style, "fill": False, "fillOpacity": 0.0},
            symbols=symbols,
            legend=line_legend({k: v for k, v in symbols.items() if k in present} or symbols),
            show=show,
        ),
        category=category.iloc[order],
    )


def add_grid_summary(
    m: GridMap,
    areas: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    color_by: str = "households",
    show: bool = True,
) -> folium.FeatureGroup:
    """Grids summed per area (:func:`maps.display.grids_by_area`), coloured by `color_by`.

    Drawn instead of the grids when there are too many to send; counted as their grids by the
    "in view" box.
    """
    zh = lang == "zh"
    values = pd.to_numeric(areas[color_by], errors="coerce")
    classes, bins = dp.classify(values, k=5)
    palette = PALETTES.get(color_by, PALETTES["households"])
    colors = palette[-len(bins) :] if bins else []
    present = values.dropna()
    labels = dp.class_labels(bins, float(present.min())) if len(bins) else []
    symbols = {str(c): {"fillColor": colors[c], "label": labels[c]} for c in range(len(bins))}
    if (classes < 0).any():
        symbols["-1"] = {"fillColor": NO_DATA, "label": "无数据" if zh else "No data"}
    shown = areas.assign(
        **{
            c: areas[c].map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
            for c in ("grids", "households", "residents", "households_per_worker")
        }
    )
    name = "网格（按社区汇总）" if zh else "Grids (summed per community)"
    title = f"{name} · {_label(COLOR_BY[color_by], lang)}" + (
        "（各社区合计，分位数分级）" if zh else " (community totals, quantile classes)"
    )
    fields = {
        "name": "社区" if zh else "Community",
        "grids": "网格数（个）" if zh else "Grids",
        "households": "户数（户）" if zh else "Households",
        "residents": "常住人口（人）" if zh else "Residents",
        "households_per_worker": "网格员人均户数（户）" if zh else "Households per worker",
    }
    return add_polygons(
        m,
        shown,
        LayerSpec(
            name=name,
            key="grid_summary",
            fields={k: v for k, v in fields.items() if k in shown.columns},
            tooltip=["name", color_by if color_by in shown.columns else "households"],
            style={**LAYERS["grids"].view.style, "weight": 1},
            symbols=symbols,
            legend=_class_legend(symbols, LAYERS["grids"].view.style["color"]),
            legend_title=title,
            show=show,
            stat="grids",
        ),
        category=classes.astype(str),
        weights=areas["residents"],
        counts=areas["grids"],
    )


def summary(m: GridMap) -> dict[str, int]:
    """Feature count of every data layer on the map, by key (what the browser will draw)."""
    counts: dict[str, int] = {}
    for group in m._children.values():
        for child in getattr(group, "_children", {}).values():
            if isinstance(child, DataLayer):
                counts[child.key] = counts.get(child.key, 0) + child.feature_count
    return counts


def legend_titles(m: GridMap) -> list[str]:
    return [s.title for s in m.legend.sections]


def payload_bytes(m: GridMap) -> int:
    """Bytes of map data the page sends: the rendered map page without vendor scripts."""
    return len(m.get_root().render().encode("utf-8"))


def draw_layers(
    m: GridMap,
    frames: Mapping[str, gpd.GeoDataFrame],
    *,
    lang: str = "zh",
    color_by: str = "households",
    order: Iterable[str] | None = None,
) -> GridMap:
    """Add every non-empty frame of `frames` in drawing order (default: the layer records'
    ``view.order``), then the legend and control."""
    for layer in order if order is not None else draw_order():
        frame = frames.get(layer)
        if frame is None or frame.empty:
            continue
        add_layer(m, layer, frame, lang=lang, color_by=color_by)
    return finish(m)
