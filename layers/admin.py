"""Administrative areas: districts (区/县), streets and townships (街道/乡镇), communities (社区)."""

from layers.schema import Field, LayerSchema, LayerView

POLYGONS = ("Polygon", "MultiPolygon")


def _admin(
    name: str, zh: str, en: str, parent_required: bool, order: int, style: dict
) -> LayerSchema:
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
        view=LayerView(order=order, tooltip=("name",), popup=("name", "code"), style=style),
    )


DISTRICTS = _admin(
    "districts",
    "区县",
    "Districts",
    parent_required=False,
    order=10,
    style={"color": "#37474f", "weight": 2.5, "fill": False},
)
STREETS = _admin(
    "streets",
    "街道/乡镇",
    "Streets and townships",
    parent_required=True,
    order=20,
    style={"color": "#5d4037", "weight": 1.8, "fill": False, "dashArray": "6 4"},
)
COMMUNITIES = _admin(
    "communities",
    "社区",
    "Communities",
    parent_required=True,
    order=30,
    style={"color": "#8d6e63", "weight": 1.0, "fill": False},
)
STYLE = {s.name: dict(s.view.style) for s in (DISTRICTS, STREETS, COMMUNITIES)}
