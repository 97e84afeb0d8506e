"""Emergency evacuation shelters (应急避难场所), GB 51143-2015 classes."""

from layers.schema import OPENED_PERIOD, Category, Field, LayerSchema, LayerView

CLASSES = ("emergency", "fixed_short", "fixed_medium", "fixed_long", "central")
FIXED_CLASSES = ("fixed_short", "fixed_medium", "fixed_long")

CATEGORIES = {
    "emergency": Category("紧急避难场所", "Emergency", "#2e7d32", 6),
    "fixed_short": Category("短期固定避难场所", "Fixed, short-term", "#00838f", 7),
    "fixed_medium": Category("中期固定避难场所", "Fixed, medium-term", "#0277bd", 8),
    "fixed_long": Category("长期固定避难场所", "Fixed, long-term", "#283593", 9),
    "central": Category("中心避难场所", "Central", "#6a1b9a", 11),
}
CLASS_LABELS = {k: (c.label_zh, c.label_en) for k, c in CATEGORIES.items()}

SCHEMA = LayerSchema(
    name="shelters",
    label_zh="应急避难场所",
    label_en="Shelters",
    geometry_types=("Point", "Polygon", "MultiPolygon"),
    key="shelter_id",
    fields=(
        Field("shelter_id", "str", "场所编号", "Shelter ID", aliases=("编号", "编码"), unique=True),
        Field("name", "str", "名称", "Name", aliases=("场所名称",)),
        Field(
            "shelter_class",
            "str",
            "类别",
            "Class",
            aliases=("类型", "避难场所类型", "等级"),
            choices=CLASSES,
        ),
        Field(
            "effective_area_m2",
            "float",
            "有效面积(m²)",
            "Effective area (m²)",
            aliases=("有效面积", "有效避难面积"),
            min=0,
        ),
        Field(
            "capacity",
            "int",
            "容纳人数",
            "Capacity (persons)",
            aliases=("可容纳人数", "容量"),
            min=0,
            required=False,
            nullable=True,
        ),
        OPENED_PERIOD,
    ),
    view=LayerView(
        order=80,
        tooltip=("name", "shelter_class"),
        popup=("shelter_id", "name", "shelter_class", "effective_area_m2", "capacity"),
        category_field="shelter_class",
        categories=CATEGORIES,
        facility=True,
        located=True,
        search=("shelter_id", "name"),
    ),
)
