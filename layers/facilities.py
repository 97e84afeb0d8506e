"""The generic facility layer: any kind the city profile declares (养老服务站, 社区卫生服务站...).

A row's ``kind`` is the key of a ``[facility_kinds.*]`` table of the profile; the import refuses
rows whose kind the profile does not declare (:func:`data.importing.check_kinds`).
"""

from layers.schema import FLOOR_AREA, OPENED_PERIOD, Field, LayerSchema, LayerView

SCHEMA = LayerSchema(
    name="facilities",
    label_zh="公共服务设施",
    label_en="Facilities",
    geometry_types=("Point", "Polygon", "MultiPolygon"),
    key="facility_id",
    fields=(
        Field(
            "facility_id",
            "str",
            "设施编号",
            "Facility ID",
            aliases=("编号", "编码", "设施编码"),
            unique=True,
        ),
        Field("name", "str", "名称", "Name", aliases=("设施名称",)),
        Field("kind", "str", "设施类型", "Kind", aliases=("类型", "类别", "种类")),
        Field(
            "capacity",
            "int",
            "服务能力",
            "Capacity",
            aliases=("床位数", "容量", "服务人数"),
            min=0,
            required=False,
            nullable=True,
        ),
        FLOOR_AREA,
        OPENED_PERIOD,
    ),
    view=LayerView(
        order=75,
        tooltip=("name", "kind"),
        popup=("facility_id", "name", "kind", "capacity", "area_m2", "opened_period"),
        style={"radius": 6},
        category_field="kind",
        kind_categories=True,
        facility=True,
        located=True,
        search=("facility_id", "name"),
    ),
)
