"""The Service-gaps page's analysis: the one :class:`geo.analysis.Analysis`, kept in Streamlit's
cache.

The page does not orchestrate the analysis: it asks an :class:`~geo.analysis.Analysis` for the
parameters of its sidebar. What the analyses of one store and user scope computed (their
:class:`~geo.analysis.Parts`) is kept across reruns and data versions; inside, every part is keyed
by the versions of the layers it reads and its own parameters, so a new radius recomputes one
facility kind (from remembered distances) and an import of shelters keeps the
neighborhood-centre coverage.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import streamlit as st

from geo import coverage as gc
from geo.analysis import Analysis, GapAnalysis, Parts
from geo.crs import to_metric
from geo.settings import Profile
from geo.siting import SiteSuggestion, SolverLimits, suggest_sites
from geo.whatif import read_point_file
from ui import data_access as da
from ui.gaps.labels import GROUP_LABELS, kind_label, pair
from ui.i18n import tr
from ui.text import safe


@st.cache_resource(show_spinner=False, max_entries=2)
def _parts(path: str, scope: str) -> Parts:
    """The parts computed for the store at `path` in the user scope `scope` (cache key)."""
    return Parts()


@st.cache_resource(show_spinner=False, max_entries=8)
def _analysis(path: str, version: str, parameters: str, _profile: Profile) -> Analysis:
    """The analysis of the data `version` (store version and scope) with the `parameters`
    (the profile as JSON, the cache key of `_profile`)."""
    return Analysis(
        da.scoped_layers(path, version),
        _profile,
        versions=da.scoped_versions(path, version),
        parts=_parts(path, version.partition("#")[2]),
    )


def analysis(path: str, version: str, profile: Profile) -> Analysis:
    """The analysis of the store at `path`, data `version` (:func:`ui.data_access.data_version`)
    with the parameters of `profile`."""
    parameters = json.dumps(profile.to_dict(), sort_keys=True, default=str)
    return _analysis(path, version, parameters, profile)


def _step_text(step: str, item: str | None) -> str:
    """What the progress bar says while `step` (and its `item`) runs."""
    if step == "prepare":
        return tr("读取并投影图层…", "Reading and projecting layers…")
    if step in ("coverage", "gap cells") and item is not None:
        label = safe(kind_label(item))  # from the profile file, shown as Markdown
        if step == "coverage":
            return tr(f"覆盖分析：{label}", f"Coverage: {label}")
        return tr(f"缺口热点：{label}", f"Gap hot spots: {label}")
    if step == "capacity" and item in GROUP_LABELS:
        name = pair(GROUP_LABELS[item])
        return tr(f"避难容量：{name}", f"Shelter capacity: {name}")
    if step == "capacity" and item == "supply":
        return tr("人均避难指标", "Shelter supply per resident")
    if step == "sanitation":
        return tr("农村人居环境", "Rural sanitation")
    if step == "grid checks":
        return tr("网格检查", "Grid checks")
    return tr("分析中…", "Analysing…")


def run_analysis(
    path: str, version: str, profile: Profile, progress: Callable[[float, str], None]
) -> GapAnalysis:
    """Every part for `profile`, each from memory when its layers and parameters did not change."""
    return analysis(path, version, profile).result(
        lambda step, item, done: progress(done, _step_text(step, item))
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def suggestion(
    path: str,
    version: str,
    kind: str,
    radius_m: float,
    detour: float,
    k: int,
    method: str,
    upload: bytes | None,
    upload_name: str,
    datum: str,
    mode: str = "straight",
) -> SiteSuggestion:
    """Sites for `kind` covering the most uncovered residents (cells of uncovered residents);
    with `mode` ``"network"`` a site covers the cells within a walk of `radius_m` along roads."""
    profile = da.profile().with_overrides(
        radii={"detour_factor": detour},
        facility_kinds={kind: {"radius_m": radius_m, "distance": mode}},
    )
    asked = analysis(path, version, profile)
    layers = asked.layers
    candidates = None
    if upload is not None:
        candidates = to_metric(
            read_point_file(upload, upload_name, offsets=datum), layers["population"].crs
        )
    return suggest_sites(
        asked.gap_cells(kind),
        candidates,
        k=k,
        radius_m=radius_m,
        detour_factor=detour,
        weight="residents_uncovered",
        method=method,
        limits=SolverLimits.of(profile),
        walk=gc.walk_of(layers, profile) if mode == "network" else None,
    )
