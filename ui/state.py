"""Session-state keys of the map pages, in one place."""

# Explorer
LAYERS_PREFIX = "explorer_layer_"  # + layer name: checkbox "show this layer"
COLOR_BY = "explorer_color_by"
BASEMAP = "basemap"  # shared by every map page
TIANDITU_KEY = "tianditu_key"  # a Tianditu key typed in the sidebar (session only)
DISTRICT = "explorer_district"
STREET = "explorer_street"
COMMUNITY = "explorer_community"
SEARCH = "explorer_search"
SEARCH_PICK = "explorer_search_pick"
EXPLORER_MAP = "explorer_map"  # st_folium key
EXPLORER_SUMMARY = "explorer_map_summary"  # {layer: feature count} of the last map drawn

# My grid
GRID_PICK = "my_grid_pick"
GRID_URL_APPLIED = "my_grid_url_applied"  # the ?grid= value already applied to the pick
MY_GRID_MAP = "my_grid_map"
MY_GRID_SUMMARY = "my_grid_map_summary"


def layer_key(layer: str) -> str:
    """Checkbox key of a layer toggle on the explorer."""
    return f"{LAYERS_PREFIX}{layer}"
