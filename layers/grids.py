"""Community grids (网格): the unit of grid-based governance, each with a grid worker."""

from layers.schema import Field, LayerSchema

SCHEMA = LayerSchema(
    name="grids",
    label_zh="网格",
    label_en="Grids",
    geometry_types=("Polygon", "MultiPolygon"),
    key="grid_code",
    fields=(
        Field(
            "grid_code",
            "str",
            "网格编码",
            "Grid code",
            aliases=("网格代码", "网格编号"),
            unique=True,
        ),
        Field("grid_name", "str", "网格名称", "Grid name", aliases=("网格名",)),
        Field("community", "str", "社区", "Community", aliases=("所属社区", "社区名称")),
        Field("street", "str", "街道", "Street", aliases=("所属街道", "街道名称", "乡镇")),
        Field("district", "str", "区县", "District", aliases=("所属区县", "区", "县区")),
        Field(
            "worker_name",
            "str",
            "网格员",
            "Grid worker",
            aliases=("网格员姓名", "专职网格员"),
            nullable=True,
        ),
        Field(
            "worker_phone",
            "str",
            "网格员电话",
            "Worker phone",
            aliases=("联系电话", "电话", "手机"),
            required=False,
            nullable=True,
            sensitive=True,
        ),
        Field("households", "int", "户数", "Households", aliases=("总户数",), min=0),
        Field(
            "residents",
            "int",
            "常住人口",
            "Residents",
            aliases=("人口", "人口数", "常住人口数"),
            min=0,
        ),
        Field(
            "community_code",
            "str",
            "社区编码",
            "Community code",
            required=False,
            nullable=True,
        ),
    ),
)

STYLE = {"color": "#1565c0", "weight": 0.8, "fillOpacity": 0.35}
