"""Party-mass neighborhood centers (党群邻里中心 / 社区服务中心)."""

from layers.schema import FLOOR_AREA, OPENED_PERIOD, Category, Field, LayerSchema, LayerView

LEVELS = ("street", "community")

CATEGORIES = {
    "street": Category("街道级", "Street level", "#c62828", 8),
    "community": Category("社区级", "Community level", "#ef6c00", 6),
}
LEVEL_LABELS = {k: (c.label_zh, c.label_en) for k, c in CATEGORIES.items()}

SCHEMA = LayerSchema(
    name="neighborhood_centers",
    label_zh="党群邻里中心",
    label_en="Neighborhood centers",
    geometry_types=("Point",),
    key="center_id",
    fields=(
        Field("center_id", "str", "中心编号", "Center ID", aliases=("编号", "编码"), unique=True),
        Field("name", "str", "名称", "Name", aliases=("中心名称",)),
        Field("level", "str", "级别", "Level", aliases=("层级", "等级"), choices=LEVELS),
        Field("services", "str", "服务内容", "Services", required=False, nullable=True),
        FLOOR_AREA,
        Field("opening_hours", "str", "开放时间", "Opening hours", required=False, nullable=True),
        OPENED_PERIOD,
    ),
    view=LayerView(
        order=90,
        tooltip=("name", "level"),
        popup=("center_id", "name", "level", "services", "area_m2", "opening_hours"),
        category_field="level",
        categories=CATEGORIES,
        facility=True,
        located=True,
        search=("center_id", "name"),
    ),
)
