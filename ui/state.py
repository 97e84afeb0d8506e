"""Session-state keys of the map pages, in one place."""

import hashlib

import streamlit as st

# Explorer
LAYERS_PREFIX = "explorer_layer_"  # + layer name: checkbox "show this layer"
COLOR_BY = "explorer_color_by"
BASEMAP = "basemap"  # shared by every map page
TIANDITU_KEY = "tianditu_key"  # a Tianditu key typed in the sidebar (session only)
DISTRICT = "explorer_district"
STREET = "explorer_street"
COMMUNITY = "explorer_community"
SEARCH = "explorer_search"
SEARCH_PICK = "explorer_search_pick"  # + a digest of the query: a new pick per search
EXPLORER_MAP = "explorer_map"  # st_folium key
EXPLORER_SUMMARY = "explorer_map_summary"  # {layer: feature count} of the last map drawn

# My grid
GRID_PICK = "my_grid_pick"
GRID_URL_APPLIED = "my_grid_url_applied"  # the ?grid= value already applied to the pick
MY_GRID_MAP = "my_grid_map"
MY_GRID_SUMMARY = "my_grid_map_summary"
MY_GRID_ROADS = "my_grid_roads"  # the roads layer drawn on the My grid map


#: Prefix of the copies that keep a page's widget values when the user visits another page
#: (Streamlit drops the state of widgets that were not drawn in a run).
KEPT_PREFIX = "_kept_"


def restore(*keys: str) -> None:
    """Give each widget key its value from before the user left the page (call before drawing)."""
    for key in keys:
        if key not in st.session_state and KEPT_PREFIX + key in st.session_state:
            st.session_state[key] = st.session_state[KEPT_PREFIX + key]


def remember(*keys: str) -> None:
    """Keep the current values of widget `keys` for :func:`restore` (call after drawing)."""
    for key in keys:
        if key in st.session_state:
            st.session_state[KEPT_PREFIX + key] = st.session_state[key]


def search_pick_key(query: str) -> str:
    """Key of the result select of one search (a new query is a new widget: its label and
    choice start at that query's first result)."""
    return f"{SEARCH_PICK}_{hashlib.sha1(query.encode()).hexdigest()[:10]}"


def layer_key(layer: str) -> str:
    """Checkbox key of a layer toggle on the explorer."""
    return f"{LAYERS_PREFIX}{layer}"
