"""Administrative villages (行政村) and their sanitation status."""

from layers.schema import Field, LayerSchema, LayerView, not_greater

SCHEMA = LayerSchema(
    name="villages",
    label_zh="行政村",
    label_en="Villages",
    geometry_types=("Point", "Polygon", "MultiPolygon"),
    key="village_code",
    fields=(
        Field(
            "village_code",
            "str",
            "村编码",
            "Village code",
            aliases=("行政村编码", "村代码", "编码"),
            unique=True,
        ),
        Field("name", "str", "村名", "Name", aliases=("名称", "村名称", "行政村")),
        Field("township", "str", "乡镇", "Township", aliases=("所属乡镇", "镇")),
        Field("county", "str", "区县", "County", aliases=("所属区县", "县", "县区")),
        Field("households", "int", "户数", "Households", aliases=("总户数",), min=0),
        Field(
            "sanitary_toilet_households",
            "int",
            "卫生厕所户数",
            "Households with sanitary toilets",
            aliases=("卫生户厕数", "卫生厕所", "无害化卫生厕所户数"),
            min=0,
        ),
        Field(
            "garbage_collection",
            "bool",
            "垃圾收运",
            "Garbage collected",
            aliases=("垃圾收集", "生活垃圾收运"),
            required=False,
            nullable=True,
        ),
        Field(
            "sewage_treatment",
            "bool",
            "污水处理",
            "Sewage treated",
            aliases=("生活污水处理", "污水治理"),
            required=False,
            nullable=True,
        ),
    ),
    checks=(not_greater("sanitary_toilet_households", "households"),),
    view=LayerView(
        order=50,
        tooltip=("name",),
        popup=(
            "village_code",
            "name",
            "township",
            "county",
            "households",
            "sanitary_toilet_households",
            "garbage_collection",
            "sewage_treatment",
        ),
        style={"color": "#558b2f", "radius": 5},
        facility=True,
        search=("village_code", "name"),
    ),
)
