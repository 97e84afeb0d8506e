"""The layer records. ``LAYERS`` maps each layer name to its :class:`LayerSchema`.

A new layer is one module here holding its ``SCHEMA`` (fields, key, and a :class:`LayerView`:
tooltip, popup, categories, style, draw order, facility/searchable flags), listed below. The
explorer, the renderer, the analysis and the reports derive what they need from the records.
"""

from layers import (
    admin,
    centers,
    entrances,
    facilities,
    grids,
    population,
    roads,
    sanitation,
    shelters,
    villages,
)
from layers.schema import Category, Field, LayerSchema, LayerView, Problem, SchemaError, mask_phone

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
        entrances.SCHEMA,
    )
}


def map_layers() -> tuple[str, ...]:
    """Layers drawn on the maps, in menu order (the order of :data:`LAYERS`)."""
    return tuple(name for name, schema in LAYERS.items() if schema.view is not None)


def draw_order() -> tuple[str, ...]:
    """Map layers in drawing order (areas first, points last)."""
    return tuple(sorted(map_layers(), key=lambda name: LAYERS[name].view.order))


def facility_layers() -> tuple[str, ...]:
    """Point facility layers: filtered by area on the explorer, listed on My grid."""
    return tuple(n for n in map_layers() if LAYERS[n].view.facility)


def located_layers() -> tuple[str, ...]:
    """Layers whose features the analysis locates in grids and areas."""
    return tuple(n for n in map_layers() if LAYERS[n].view.located)


def searchable_layers() -> dict[str, tuple[str, str]]:
    """Layer -> (code field, name field) searched on the explorer."""
    return {n: LAYERS[n].view.search for n in map_layers() if LAYERS[n].view.search}


def get_layer(name: str) -> LayerSchema:
    """The schema of layer `name`; raises ``KeyError`` listing the known layers."""
    try:
        return LAYERS[name]
    except KeyError:
        raise KeyError(f"unknown layer {name!r}; known layers: {', '.join(LAYERS)}") from None


__all__ = [
    "LAYERS",
    "Category",
    "Field",
    "LayerSchema",
    "LayerView",
    "Problem",
    "SchemaError",
    "draw_order",
    "facility_layers",
    "get_layer",
    "located_layers",
    "map_layers",
    "mask_phone",
    "searchable_layers",
]
