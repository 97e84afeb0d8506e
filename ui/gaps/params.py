"""Sidebar parameters of the gaps page: radii, per-capita areas, targets, grid rules."""

from __future__ import annotations

import dataclasses

import streamlit as st

from geo.settings import Profile
from layers.shelters import CLASS_LABELS
from ui.gaps.keys import DISTANCE, KEY_PREFIX, RESET
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
    kind: str | None = None  # a facility kind's own radius_m/target (section "facility_kinds")

    def default(self, profile: Profile) -> float:
        """The current value in `profile` (unscaled)."""
        if self.kind is not None:
            value = (
                profile.radius_m(self.kind)
                if self.name == "radius_m"
                else profile.target(self.kind)
            )
            return float(value)
        return float(getattr(getattr(profile, self.section), self.name))


def _kind_params(profile: Profile) -> tuple[list[Param], list[Param]]:
    """Radius and target inputs of every facility kind (its ``[radii]``/``[targets]`` setting
    when it names one, else its own ``radius_m``/``target``)."""
    radii: dict[str, Param] = {}
    targets: dict[str, Param] = {}
    for key, spec in profile.facility_kinds.items():
        labels = (spec.label_zh, spec.label_en)
        if spec.radius_setting is not None:
            radii.setdefault(
                spec.radius_setting, Param("radii", spec.radius_setting, labels, "m", 0, 50_000, 50)
            )
        else:
            radii[key] = Param("facility_kinds", "radius_m", labels, "m", 0, 50_000, 50, kind=key)
        kpi = (spec.kpi_label("zh"), spec.kpi_label("en"))
        if spec.target_setting is not None:
            targets.setdefault(
                spec.target_setting, Param("targets", spec.target_setting, kpi, "%", 0, 100, 1, 100)
            )
        elif spec.target is not None:
            targets[key] = Param("facility_kinds", "target", kpi, "%", 0, 100, 1, 100, kind=key)
    return list(radii.values()), list(targets.values())


def _params(profile: Profile) -> dict[str, list[Param]]:
    """Inputs grouped by sidebar expander title (zh, en)."""
    kind_radii, kind_targets = _kind_params(profile)
    shares = [
        ("sanitary_toilet_penetration", ("卫生厕所普及率", "Sanitary toilets")),
        (
            "villages_with_garbage_collection",
            ("垃圾收运村占比", "Villages with garbage collection"),
        ),
        ("villages_with_sewage_treatment", ("污水治理村占比", "Villages with sewage treatment")),
    ]
    return {
        "radii": kind_radii
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
        "targets": kind_targets
        + [Param("targets", n, pair, "%", 0, 100, 1, 100) for n, pair in shares]
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


def _widget_key(p: Param) -> str:
    if p.kind is not None:
        return f"{KEY_PREFIX}p_kind_{p.kind}_{p.name}"
    return f"{KEY_PREFIX}p_{p.section}_{p.name}"


DISTANCE_CHOICES = {
    "profile": ("按城市配置（各类设施）", "As in the city profile (per kind)"),
    "straight": ("直线距离 × 绕行系数", "Straight line × detour factor"),
    "network": ("沿道路步行距离", "Walking distance along roads"),
}


def distance_control(base: Profile) -> Profile:
    """The distance switch: every kind measured as in the profile, by straight line, or along
    the roads layer (:mod:`geo.network`)."""
    choice = st.sidebar.radio(
        tr("距离计算", "Distance"),
        list(DISTANCE_CHOICES),
        format_func=lambda c: pair(DISTANCE_CHOICES[c]),
        key=DISTANCE,
        help=tr(
            "沿道路步行：沿道路图层计算步行距离（桥梁、隧道、河流、山地均按实际道路），不再乘绕行系数。",
            "Walking: measured along the roads layer (bridges, tunnels, rivers and hills as the "
            "roads run), without the detour factor.",
        ),
    )
    return base if choice == "profile" else base.with_distance(choice)


def parameter_controls(base: Profile) -> Profile:
    """Sidebar inputs for the distance, radii, detour, per-capita areas, targets and grid rules.

    Defaults come from `base`; returns ``base.with_overrides(...)`` with the values entered.
    """
    sb = st.sidebar
    if sb.button(tr("恢复默认参数", "Reset parameters"), key=RESET):
        for key in [k for k in st.session_state if str(k).startswith(f"{KEY_PREFIX}p_")]:
            del st.session_state[key]
    base = distance_control(base)
    overrides: dict[str, dict] = {}
    for section, params in _params(base).items():
        with sb.expander(pair(PARAM_TITLES[section]), expanded=False):
            for p in params:
                key = _widget_key(p)
                default = p.default(base) * p.scale
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
                if p.kind is not None:
                    kinds = overrides.setdefault("facility_kinds", {})
                    kinds.setdefault(p.kind, {})[p.name] = float(shown) / p.scale
                else:
                    overrides.setdefault(p.section, {})[p.name] = float(shown) / p.scale
    return base.with_overrides(**overrides)
