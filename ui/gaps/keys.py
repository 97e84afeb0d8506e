"""Session-state and widget keys of the "Service gaps" page, in one place."""

from __future__ import annotations

KEY_PREFIX = "gaps_"
RESET = "gaps_reset"
DISTANCE = "gaps_distance"  # "profile", "straight" or "network" for every kind
ROLLUP_KIND = "gaps_rollup_kind"
ROLLUP_LEVEL = "gaps_rollup_level"
ROLLUP_TOP = "gaps_rollup_top"
MAP_KIND = "gaps_map_kind"
MAP = "gaps_map"
MAP_SUMMARY = "gaps_map_summary"  # {layer key: feature count} of the last gap map drawn
CAP_GROUP = "gaps_capacity_group"
PROPOSALS = "gaps_proposals"  # list of dicts (lon/lat WGS84, kind, name, attributes)
P_KIND = "gaps_proposal_kind"
P_CLASS = "gaps_proposal_class"
P_LON = "gaps_proposal_lon"
P_LAT = "gaps_proposal_lat"
P_NAME = "gaps_proposal_name"
P_AREA = "gaps_proposal_area"
P_CAP = "gaps_proposal_capacity"
P_ADD = "gaps_proposal_add"
P_CLEAR = "gaps_proposal_clear"
P_CLICK = "gaps_proposal_click"  # add a proposal where the map is clicked
P_LAST_CLICK = "gaps_proposal_last_click"
P_UPLOAD = "gaps_proposal_upload"
P_DATUM = "gaps_proposal_datum"
P_LEVEL = "gaps_whatif_level"
P_REMOVE = "gaps_proposal_remove"
WHATIF_MAP = "gaps_whatif_map"
S_KIND = "gaps_site_kind"
S_K = "gaps_site_k"
S_METHOD = "gaps_site_method"
S_SOURCE = "gaps_site_source"
S_UPLOAD = "gaps_site_upload"
S_DATUM = "gaps_site_datum"
S_RUN = "gaps_site_run"
S_RESULT = "gaps_site_result"  # parameters of the last suggestion asked for
S_TO_WHATIF = "gaps_site_to_whatif"
S_MAP = "gaps_site_map"
S_AREA = "gaps_site_area"  # effective area (m²) a suggested shelter is given in the what-if
