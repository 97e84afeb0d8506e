"""Rural and urban sanitation facilities: toilets, garbage points, transfer and sewage stations."""

from layers.schema import Field, LayerSchema

KINDS = ("public_toilet", "garbage_point", "transfer_station", "sewage_station")

SCHEMA = LayerSchema(
    name="sanitation_facilities",
    label_zh="环卫设施",
    label_en="Sanitation facilities",
    geometry_types=("Point",),
    key="facility_id",
    fields=(
        Field(
            "facility_id", "str", "设施编号", "Facility ID", aliases=("编号", "编码"), unique=True
        ),
        Field("name", "str", "名称", "Name", aliases=("设施名称",)),
        Field("kind", "str", "类型", "Kind", aliases=("设施类型", "类别"), choices=KINDS),
        Field(
            "village_code",
            "str",
            "村编码",
            "Village code",
            aliases=("所属村",),
            required=False,
            nullable=True,
        ),
    ),
)

KIND_LABELS = {
    "public_toilet": ("公共厕所", "Public toilet"),
    "garbage_point": ("垃圾收集点", "Garbage point"),
    "transfer_station": ("垃圾转运站", "Transfer station"),
    "sewage_station": ("污水处理站", "Sewage station"),
}
STYLE = {
    "public_toilet": {"color": "#00897b", "radius": 4},
    "garbage_point": {"color": "#8e24aa", "radius": 4},
    "transfer_station": {"color": "#5e35b1", "radius": 6},
    "sewage_station": {"color": "#0288d1", "radius": 6},
}
