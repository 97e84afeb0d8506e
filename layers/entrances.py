"""Entrances (出入口) of polygon facilities: where a walk along roads reaches a park shelter.

Each row names the facility it belongs to by layer and key (``facility_layer`` = ``shelters``,
``facility_key`` = its ``shelter_id``). A polygon facility with entrances is reached along the
roads only at its entrances (:func:`geo.network.access_points`); one without them at the road
point nearest to its edge. Entrances of point facilities are not used (the point is the door).
The import refuses entrances naming a facility the store does not hold
(:func:`data.importing.unknown_facilities`).
"""

from layers.schema import Field, LayerSchema, LayerView

FACILITY_LAYERS = ("shelters", "facilities")
"""Layers whose (polygon) facilities can have entrances."""

SCHEMA = LayerSchema(
    name="entrances",
    label_zh="设施出入口",
    label_en="Entrances",
    geometry_types=("Point",),
    key="entrance_id",
    fields=(
        Field(
            "entrance_id",
            "str",
            "出入口编号",
            "Entrance ID",
            aliases=("编号", "编码", "出入口编码"),
            unique=True,
        ),
        Field(
            "facility_layer",
            "str",
            "所属图层",
            "Facility layer",
            aliases=("设施图层", "图层"),
            choices=FACILITY_LAYERS,
        ),
        Field(
            "facility_key",
            "str",
            "所属设施编号",
            "Facility ID",
            aliases=("设施编号", "所属设施", "场所编号", "shelter_id", "facility_id"),
        ),
        Field(
            "name",
            "str",
            "名称",
            "Name",
            aliases=("出入口名称",),
            required=False,
            nullable=True,
        ),
    ),
    view=LayerView(
        order=85,
        tooltip=("name", "facility_key"),
        popup=("entrance_id", "name", "facility_layer", "facility_key"),
        style={"color": "#ef6c00", "radius": 3},
    ),
)
