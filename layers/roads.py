"""Roads and paths (道路): the walking network behind network distances (:mod:`geo.network`)."""

import numpy as np
import pandas as pd

from layers.schema import TRUE_WORDS, Category, Field, LayerSchema, LayerView

OSM_NOT_WALKABLE = ("motorway", "motorway_link", "trunk_link", "construction", "proposed")
"""OSM ``highway`` values pedestrians may not use (Chinese expressways, ramps, unbuilt roads)."""

CLASS_GROUPS = {
    "major": (
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "主干路",
        "快速路",
        "次干路",
    ),
    "minor": (
        "tertiary",
        "tertiary_link",
        "residential",
        "unclassified",
        "service",
        "living_street",
        "road",
        "支路",
        "街巷",
    ),
    "path": (
        "footway",
        "path",
        "pedestrian",
        "steps",
        "track",
        "cycleway",
        "bridleway",
        "步行道",
        "小路",
        "山道",
    ),
}
"""``road_class`` values (OSM ``highway`` tags and common Chinese words) of each map class;
any other value is drawn as ``minor``."""

CATEGORIES = {
    "major": Category("主要道路", "Major road", "#e65100", style={"weight": 3}),
    "minor": Category("一般道路", "Minor road", "#8d6e63", style={"weight": 1.5}),
    "path": Category("步行小路", "Path", "#8d6e63", style={"weight": 1, "dashArray": "2 3"}),
    "bridge": Category("桥梁", "Bridge", "#1a237e", style={"weight": 4}),
    "tunnel": Category(
        "隧道", "Tunnel", "#616161", style={"weight": 3, "dashArray": "6 4", "opacity": 0.7}
    ),
}
"""Map symbols of the roads: by class, bridges and tunnels set apart (drawn last)."""


def _flag(values: pd.Series) -> np.ndarray:
    """True where a flag column holds true, 1 or a yes word (是, yes...)."""
    text = values.astype("string").str.strip().str.lower()
    return text.isin([*TRUE_WORDS, "1.0"]).fillna(False).to_numpy(bool)


def road_category(roads: pd.DataFrame) -> pd.Series:
    """The map class of each road (a key of :data:`CATEGORIES`): ``tunnel`` or ``bridge`` when
    flagged, else its ``road_class`` group (:data:`CLASS_GROUPS`; unknown values ``minor``)."""
    lookup = {value: group for group, values in CLASS_GROUPS.items() for value in values}
    classes = roads["road_class"] if "road_class" in roads.columns else pd.Series(index=roads.index)
    text = classes.astype("string").str.strip().str.lower()
    group = text.map(lookup).fillna("minor").astype(object).to_numpy()
    for flag in ("bridge", "tunnel"):
        if flag in roads.columns:
            group = np.where(_flag(roads[flag]), flag, group)
    return pd.Series(group, index=roads.index, name="road_category")


SCHEMA = LayerSchema(
    name="roads",
    label_zh="道路",
    label_en="Roads",
    geometry_types=("LineString", "MultiLineString"),
    key="road_id",
    fields=(
        Field(
            "road_id",
            "str",
            "道路编号",
            "Road ID",
            aliases=("编号", "编码", "osm_id", "道路编码"),
            unique=True,
        ),
        Field(
            "name",
            "str",
            "道路名称",
            "Name",
            aliases=("名称", "路名"),
            required=False,
            nullable=True,
        ),
        Field(
            "road_class",
            "str",
            "道路等级",
            "Road class",
            aliases=("等级", "道路类型", "类型", "highway"),
            required=False,
            nullable=True,
        ),
        Field(
            "walkable",
            "bool",
            "可步行",
            "Walkable",
            aliases=("步行", "是否可步行"),
            required=False,
            nullable=True,
        ),
        Field(
            "bridge",
            "bool",
            "桥梁",
            "Bridge",
            aliases=("桥", "是否桥梁"),
            required=False,
            nullable=True,
        ),
        Field(
            "tunnel",
            "bool",
            "隧道",
            "Tunnel",
            aliases=("是否隧道",),
            required=False,
            nullable=True,
        ),
        Field(
            "from_osm",
            "bool",
            "来自OSM",
            "From OSM",
            aliases=("osm",),
            required=False,
            nullable=True,
        ),
    ),
    view=LayerView(
        order=40,
        tooltip=("name", "road_class"),
        popup=("road_id", "name", "road_class", "walkable", "bridge", "tunnel"),
        style={"color": "#8d6e63", "weight": 1.5, "opacity": 0.9},
        category_field="road_class",
        categories=CATEGORIES,
        shown=False,
        classify=road_category,
    ),
)
"""A missing ``walkable`` counts as walkable. Lines with ``from_osm`` meet only at shared
vertices; the others are split where they cross unless ``bridge`` or ``tunnel`` is set. On the
maps the roads are a layer switched off at first (tens of thousands of lines: sent only when
switched on), simplified for display and drawn by class (:func:`road_category`)."""
