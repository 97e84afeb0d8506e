"""Layer schemas, styles and rendering. ``LAYERS`` maps each layer name to its schema."""

from layers import (
    admin,
    centers,
    facilities,
    grids,
    population,
    roads,
    sanitation,
    shelters,
    villages,
)
from layers.schema import Field, LayerSchema, Problem, SchemaError, mask_phone

LAYERS: dict[str, LayerSchema] = {
    s.name: s
    for s in (
        admin.DISTRICTS,
        admin.STREETS,
        admin.COMMUNITIES,
        grids.SCHEMA,
        population.SCHEMA,
        centers.SCHEMA,
        shelters.SCHEMA,
        villages.SCHEMA,
        sanitation.SCHEMA,
        roads.SCHEMA,
        facilities.SCHEMA,
    )
}


def get_layer(name: str) -> LayerSchema:
    """The schema of layer `name`; raises ``KeyError`` listing the known layers."""
    try:
        return LAYERS[name]
    except KeyError:
        raise KeyError(f"unknown layer {name!r}; known layers: {', '.join(LAYERS)}") from None


__all__ = ["LAYERS", "Field", "LayerSchema", "Problem", "SchemaError", "get_layer", "mask_phone"]
