"""Rural and urban sanitation facilities: toilets, garbage points, transfer and sewage stations."""

from layers.schema import Category, Field, LayerSchema, LayerView

KINDS = ("public_toilet", "garbage_point", "transfer_station", "sewage_station")

CATEGORIES = {
    "public_toilet": Category("公共厕所", "Public toilet", "#00897b", 4),
    "garbage_point": Category("垃圾收集点", "Garbage point", "#8e24aa", 4),
    "transfer_station": Category("垃圾转运站", "Transfer station", "#5e35b1", 6),
    "sewage_station": Category("污水处理站", "Sewage station", "#0288d1", 6),
}
KIND_LABELS = {k: (c.label_zh, c.label_en) for k, c in CATEGORIES.items()}

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
    view=LayerView(
        order=70,
        tooltip=("name", "kind"),
        popup=("facility_id", "name", "kind", "village_code"),
        category_field="kind",
        categories=CATEGORIES,
        facility=True,
        located=True,
    ),
)
