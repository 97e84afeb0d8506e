"""Party-mass neighborhood centers (党群邻里中心 / 社区服务中心)."""

from layers.schema import Field, LayerSchema

LEVELS = ("street", "community")

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
        Field(
            "area_m2",
            "float",
            "建筑面积(m²)",
            "Floor area (m²)",
            aliases=("面积", "建筑面积"),
            min=0,
            required=False,
            nullable=True,
        ),
        Field("opening_hours", "str", "开放时间", "Opening hours", required=False, nullable=True),
        Field("opened_period", "str", "建成时期", "Opened (period)", required=False, nullable=True),
    ),
)

LEVEL_LABELS = {"street": ("街道级", "Street level"), "community": ("社区级", "Community level")}
STYLE = {
    "street": {"color": "#c62828", "radius": 8},
    "community": {"color": "#ef6c00", "radius": 6},
}
