"""Administrative areas: districts (区/县), streets and townships (街道/乡镇), communities (社区)."""

from layers.schema import Field, LayerSchema

POLYGONS = ("Polygon", "MultiPolygon")


def _admin(name: str, zh: str, en: str, parent_required: bool) -> LayerSchema:
    return LayerSchema(
        name=name,
        label_zh=zh,
        label_en=en,
        geometry_types=POLYGONS,
        key="code",
        fields=(
            Field(
                "code",
                "str",
                "编码",
                "Code",
                aliases=("区划代码", "行政区划代码", "代码"),
                unique=True,
            ),
            Field("name", "str", "名称", "Name", aliases=("区划名称",)),
            Field(
                "parent_code",
                "str",
                "上级编码",
                "Parent code",
                aliases=("上级代码", "父级编码"),
                required=parent_required,
                nullable=not parent_required,
            ),
        ),
    )


DISTRICTS = _admin("districts", "区县", "Districts", parent_required=False)
STREETS = _admin("streets", "街道/乡镇", "Streets and townships", parent_required=True)
COMMUNITIES = _admin("communities", "社区", "Communities", parent_required=True)

STYLE = {
    "districts": {"color": "#37474f", "weight": 2.5, "fill": False},
    "streets": {"color": "#5d4037", "weight": 1.8, "fill": False, "dashArray": "6 4"},
    "communities": {"color": "#8d6e63", "weight": 1.0, "fill": False},
}
