"""Sidebar parameters of the gaps page: radii, per-capita areas, targets, grid rules."""

from __future__ import annotations

import dataclasses

import streamlit as st

from geo.settings import Profile
from layers.shelters import CLASS_LABELS
from ui.gaps.keys import KEY_PREFIX, RESET
from ui.gaps.labels import pair
from ui.i18n import lang, tr


@dataclasses.dataclass(frozen=True)
class Param:
    """One editable setting: profile section and name, label, unit, input range, display scale."""

    section: str
    name: str
    label: tuple[str, str]
    unit: str
    low: float
    high: float
    step: float
    scale: float = 1.0  # shown value = profile value x scale (100 for shares shown in %)


def _params() -> dict[str, list[Param]]:
    """Inputs grouped by sidebar expander title (zh, en)."""
    radius = [
        ("neighborhood_center_street", ("街道级中心", "Street-level center")),
        ("neighborhood_center_community", ("社区级中心", "Community-level center")),
        ("shelter_emergency", ("紧急避难场所", "Emergency shelter")),
        ("shelter_fixed", ("固定避难场所", "Fixed shelter")),
        ("shelter_central", ("中心避难场所", "Central shelter")),
        ("garbage_point", ("垃圾收集点", "Garbage point")),
        ("public_toilet", ("公共厕所", "Public toilet")),
    ]
    shares = [
        ("center_street_coverage", ("街道级中心覆盖率", "Street-level center coverage")),
        ("center_community_coverage", ("社区级中心覆盖率", "Community-level center coverage")),
        ("shelter_emergency_coverage", ("紧急避难覆盖率", "Emergency shelter coverage")),
        ("shelter_fixed_coverage", ("固定避难覆盖率", "Fixed shelter coverage")),
        ("sanitary_toilet_penetration", ("卫生厕所普及率", "Sanitary toilets")),
        (
            "villages_with_garbage_collection",
            ("垃圾收运村占比", "Villages with garbage collection"),
        ),
        ("villages_with_sewage_treatment", ("污水治理村占比", "Villages with sewage treatment")),
    ]
    return {
        "radii": [Param("radii", n, pair, "m", 0, 50_000, 50) for n, pair in radius]
        + [
            Param(
                "radii",
                "detour_factor",
                ("绕行系数（步行/直线）", "Detour factor (walking / straight)"),
                "",
                1,
                3,
                0.05,
            )
        ],
        "per_capita_area_m2": [
            Param("per_capita_area_m2", n, CLASS_LABELS[n], "m²/人", 0.1, 50, 0.5)
            for n in ("emergency", "fixed_short", "fixed_medium", "fixed_long", "central")
        ],
        "targets": [Param("targets", n, pair, "%", 0, 100, 1, 100) for n, pair in shares]
        + [
            Param(
                "targets",
                "shelter_places_per_resident",
                ("人均避难容量", "Shelter places per resident"),
                "人/人",
                0,
                5,
                0.01,
            ),
            Param(
                "targets",
                "shelter_area_per_resident_m2",
                ("人均有效避难面积", "Shelter area per resident"),
                "m²/人",
                0,
                20,
                0.05,
            ),
        ],
        "grids": [
            Param(
                "grids",
                "households_min",
                ("每网格最少户数", "Min households per grid"),
                "户",
                0,
                100_000,
                10,
            ),
            Param(
                "grids",
                "households_max",
                ("每网格最多户数", "Max households per grid"),
                "户",
                0,
                100_000,
                10,
            ),
            Param(
                "grids",
                "population_mismatch_share",
                ("人口核对允许偏差", "Allowed population mismatch"),
                "%",
                0,
                100,
                5,
                100,
            ),
        ],
    }


PARAM_TITLES = {
    "radii": ("服务半径与绕行系数", "Service radii and detour"),
    "per_capita_area_m2": ("人均有效避难面积", "Effective shelter area per person"),
    "targets": ("目标", "Targets"),
    "grids": ("网格规则", "Grid rules"),
}
UNITS_EN = {"人/人": "per resident", "m²/人": "m² per person", "户": "households"}


def _widget_key(section: str, name: str) -> str:
    return f"{KEY_PREFIX}p_{section}_{name}"


def parameter_controls(base: Profile) -> Profile:
    """Sidebar inputs for radii, detour, per-capita areas, targets and grid rules.

    Defaults come from `base`; returns ``base.with_overrides(...)`` with the values entered.
    """
    sb = st.sidebar
    if sb.button(tr("恢复默认参数", "Reset parameters"), key=RESET):
        for key in [k for k in st.session_state if str(k).startswith(f"{KEY_PREFIX}p_")]:
            del st.session_state[key]
    overrides: dict[str, dict[str, float]] = {}
    for section, params in _params().items():
        values = overrides.setdefault(section, {})
        current = getattr(base, section)
        with sb.expander(pair(PARAM_TITLES[section]), expanded=False):
            for p in params:
                key = _widget_key(section, p.name)
                default = float(getattr(current, p.name)) * p.scale
                if key not in st.session_state:
                    st.session_state[key] = round(default, 6)
                unit = p.unit if lang() == "zh" else UNITS_EN.get(p.unit, p.unit)
                label = f"{pair(p.label)} ({unit})" if unit else pair(p.label)
                shown = st.number_input(
                    label,
                    min_value=float(p.low),
                    max_value=float(p.high),
                    step=float(p.step),
                    key=key,
                )
                values[p.name] = float(shown) / p.scale
    return base.with_overrides(**overrides)
