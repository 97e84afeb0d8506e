"""Roads and paths (道路): the walking network behind network distances (:mod:`geo.network`)."""

from layers.schema import Field, LayerSchema

OSM_NOT_WALKABLE = ("motorway", "motorway_link", "trunk_link", "construction", "proposed")
"""OSM ``highway`` values pedestrians may not use (Chinese expressways, ramps, unbuilt roads)."""

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
)
"""A missing ``walkable`` counts as walkable. Lines with ``from_osm`` meet only at shared
vertices; the others are split where they cross unless ``bridge`` or ``tunnel`` is set. No
``view``: the roads are the walking graph behind the analysis (:mod:`geo.network`), not drawn
on the explorer (tens of thousands of lines); their service areas and findings are."""
