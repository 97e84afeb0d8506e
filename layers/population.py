"""Population points: residential buildings or blocks with resident counts (no personal data)."""

from layers.schema import Field, LayerSchema, LayerView

SCHEMA = LayerSchema(
    name="population",
    label_zh="人口点",
    label_en="Population",
    geometry_types=("Point",),
    fields=(
        Field(
            "residents", "int", "常住人口", "Residents", aliases=("人口", "人口数", "人数"), min=0
        ),
        Field(
            "households",
            "int",
            "户数",
            "Households",
            aliases=("总户数",),
            min=0,
            required=False,
            nullable=True,
        ),
    ),
    view=LayerView(
        order=60,
        tooltip=("residents",),
        popup=("residents", "households"),
        style={"color": "#6d4c41", "radius": 2},
        located=True,
        shown=False,
    ),
)
