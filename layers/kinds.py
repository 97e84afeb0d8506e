"""Facility kinds: one record per kind of facility whose coverage the app measures.

Every kind is declared in the city profile as a ``[facility_kinds.KEY]`` table (see
``data/profiles/shiyan.toml`` and the README section "Adding a facility kind"); this module
holds the record and turns those tables into records. The analysis (:mod:`geo.coverage`), the
pages, the CLI and the exports take the list of kinds from ``profile.facility_kinds`` and never
name a kind in code.

A kind's radius and target are either numbers or the name of a ``[radii]`` / ``[targets]``
setting (the older profile keys, kept as aliases): :meth:`geo.settings.Profile.radius_m` and
:meth:`geo.settings.Profile.target` resolve them.

Examples
--------
>>> kinds = kinds_from_tables({"elderly_care": {"label_zh": "养老服务站",
...     "label_en": "Elderly care stations", "radius_m": 500, "target": 0.8}})
>>> kinds["elderly_care"].layer, kinds["elderly_care"].values
('facilities', ('elderly_care',))
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GENERIC_LAYER = "facilities"
"""The layer that holds any declared kind; its ``kind`` column names the kind's key."""

THEMES = ("centers", "shelters", "sanitation", "facilities")
"""Report themes a kind can belong to (:func:`reports.build.theme_figures`)."""

KEY_PATTERN = r"[a-z][a-z0-9_]*"

DISTANCES = ("straight", "network")
"""How a kind's distance is measured: straight line (times the detour factor) or along roads."""

_KEYS = {
    "distance",
    "label_zh",
    "label_en",
    "radius_m",
    "target",
    "color",
    "layer",
    "column",
    "values",
    "serves",
    "label_unit",
    "icon",
    "theme",
    "kpi_zh",
    "kpi_en",
}
_REQUIRED = ("label_zh", "label_en", "radius_m")


class KindError(ValueError):
    """A ``[facility_kinds.*]`` table of the profile is wrong."""


@dataclass(frozen=True)
class FacilityKind:
    """One kind of facility: where its facilities are, how far they reach, what is the target.

    Attributes
    ----------
    key
        Unique key across all layers (``elderly_care``); used in ``gaps --json`` and the CLI.
    layer, column, own_values
        The facilities of this kind are the rows of `layer` whose `column` is in `own_values`
        (for the generic ``facilities`` layer: ``kind`` equal to the key).
    values
        `own_values` plus the values of every kind that :attr:`serves` this one (a street-level
        centre also serves the community-level need), in declaration order.
    radius
        Service radius in metres, or the name of a ``[radii]`` setting.
    target
        Share of residents to have within the radius, the name of a ``[targets]`` setting, or
        None (no coverage target).
    serves
        Keys of the lower kinds this kind also serves.
    """

    key: str
    label_zh: str
    label_en: str
    layer: str
    column: str
    own_values: tuple[str, ...]
    values: tuple[str, ...]
    radius: float | str
    target: float | str | None = None
    color: str = "#455a64"
    serves: tuple[str, ...] = ()
    label_unit: str = ""
    icon: str = ""
    theme: str = "facilities"
    kpi_zh: str = ""
    kpi_en: str = ""
    distance: str = "straight"
    """``"straight"`` (straight line times the detour factor) or ``"network"`` (walking along
    the ``roads`` layer, :mod:`geo.network`)."""

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def kpi_label(self, lang: str = "zh") -> str:
        """The coverage KPI's name: ``kpi_zh``/``kpi_en`` or made from the labels."""
        if lang == "zh":
            return self.kpi_zh or f"{self.label_zh}覆盖率"
        return self.kpi_en or f"Residents near {self.label_en.lower()}"

    @property
    def radius_setting(self) -> str | None:
        """The ``[radii]`` setting the radius refers to, if any."""
        return self.radius if isinstance(self.radius, str) else None

    @property
    def indicator(self) -> str | None:
        """Key of its coverage KPI: the ``[targets]`` setting it names, or ``<key>_coverage``;
        None without a target."""
        if self.target is None:
            return None
        return self.target if isinstance(self.target, str) else f"{self.key}_coverage"

    @property
    def target_setting(self) -> str | None:
        """The ``[targets]`` setting the target refers to, if any."""
        return self.target if isinstance(self.target, str) else None


def _problem(source: str, key: str, message: str) -> str:
    return f"{source}: [facility_kinds.{key}] {message}"


def _number_or_setting(
    value: Any, *, name: str, settings: Mapping[str, Any] | None
) -> float | str | None:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number or a setting name, not {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if settings is not None and value not in settings:
            near = difflib.get_close_matches(value, list(settings), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise TypeError(f"{name} {value!r} is not a setting{hint}")
        return value
    raise TypeError(f"{name} must be a number or a setting name, not {value!r}")


def kinds_from_tables(
    tables: Mapping[str, Mapping[str, Any]],
    *,
    radii: Mapping[str, Any] | None = None,
    targets: Mapping[str, Any] | None = None,
    source: str = "profile",
) -> dict[str, FacilityKind]:
    """Facility kind records from the profile's ``[facility_kinds.*]`` tables.

    Every problem (an unknown or misspelt key, a missing label, a radius that is neither a
    number nor a ``[radii]`` setting, a `serves` naming an unknown kind or one on another
    layer) is collected and raised together as one :class:`KindError`.
    """
    problems: list[str] = []
    own: dict[str, dict[str, Any]] = {}
    for key, table in tables.items():
        if not isinstance(table, Mapping):
            problems.append(f"{source}: facility_kinds.{key} must be a table")
            continue
        if not re.fullmatch(KEY_PATTERN, key):
            problems.append(_problem(source, key, "key must be lower-case letters, digits, _"))
        for name in table:
            if name not in _KEYS:
                near = difflib.get_close_matches(name, sorted(_KEYS), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                problems.append(_problem(source, key, f"unknown key {name!r}{hint}"))
        for name in _REQUIRED:
            if name not in table:
                problems.append(_problem(source, key, f"missing key {name!r}"))
        try:
            radius = _number_or_setting(table.get("radius_m"), name="radius_m", settings=radii)
            target = table.get("target")
            if target is not None:
                target = _number_or_setting(target, name="target", settings=targets)
        except TypeError as exc:
            if "radius_m" in table:
                problems.append(_problem(source, key, str(exc)))
            continue
        if isinstance(radius, float) and radius <= 0:
            problems.append(_problem(source, key, f"radius_m must be > 0, not {radius:g}"))
        if isinstance(target, float) and not 0 <= target <= 1:
            problems.append(_problem(source, key, f"target must be a share 0-1, not {target:g}"))
        distance = table.get("distance", "straight")
        if distance not in DISTANCES:
            problems.append(
                _problem(source, key, f"distance {distance!r} is not one of {', '.join(DISTANCES)}")
            )
        theme = table.get("theme", "facilities")
        if theme not in THEMES:
            problems.append(_problem(source, key, f"theme {theme!r} is not one of {THEMES}"))
        layer = str(table.get("layer", GENERIC_LAYER))
        values = table.get("values", [key] if layer == GENERIC_LAYER else None)
        if not values:
            problems.append(_problem(source, key, f"layer {layer!r} needs 'values'"))
            continue
        own[key] = {
            "key": key,
            "label_zh": str(table.get("label_zh", key)),
            "label_en": str(table.get("label_en", key)),
            "layer": layer,
            "column": str(table.get("column", "kind")),
            "own_values": tuple(str(v) for v in values),
            "radius": radius,
            "target": target,
            "color": str(table.get("color", "#455a64")),
            "serves": tuple(str(s) for s in table.get("serves", ())),
            "label_unit": str(table.get("label_unit", "")),
            "icon": str(table.get("icon", "")),
            "theme": theme,
            "kpi_zh": str(table.get("kpi_zh", "")),
            "kpi_en": str(table.get("kpi_en", "")),
            "distance": str(distance),
        }
    seen: dict[tuple[str, str, str], str] = {}
    for key, rec in own.items():
        for value in rec["own_values"]:
            where = (rec["layer"], rec["column"], value)
            if where in seen:
                problems.append(
                    _problem(source, key, f"value {value!r} is already the kind {seen[where]!r}")
                )
            seen[where] = key
        for lower in rec["serves"]:
            if lower not in own:
                problems.append(_problem(source, key, f"serves unknown kind {lower!r}"))
            elif (own[lower]["layer"], own[lower]["column"]) != (rec["layer"], rec["column"]):
                problems.append(_problem(source, key, f"serves {lower!r} on another layer"))
    if problems:
        raise KindError("\n".join(problems))

    served_by: dict[str, list[str]] = {key: [] for key in own}
    for key, rec in own.items():
        for lower in rec["serves"]:
            served_by[lower].append(key)

    def effective(key: str, path: tuple[str, ...] = ()) -> tuple[str, ...]:
        if key in path:
            raise KindError(_problem(source, key, f"serves itself through {' -> '.join(path)}"))
        out = list(own[key]["own_values"])
        for upper in served_by[key]:
            out.extend(v for v in effective(upper, (*path, key)) if v not in out)
        return tuple(out)

    return {key: FacilityKind(values=effective(key), **rec) for key, rec in own.items()}


def kinds_on_layer(kinds: Mapping[str, FacilityKind], layer: str) -> dict[str, FacilityKind]:
    """The kinds whose facilities are rows of `layer`."""
    return {k: v for k, v in kinds.items() if v.layer == layer}


def unknown_kind(kinds: Mapping[str, FacilityKind], key: str) -> KeyError:
    """The error for an undeclared kind key, listing the declared kinds."""
    return KeyError(f"unknown facility kind {key!r}; declared kinds: {', '.join(kinds)}")
