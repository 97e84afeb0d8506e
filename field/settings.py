"""Field-report settings from the ``[field]`` section of the city profile.

Examples
--------
>>> rules = field_rules()
>>> rules.category("garbage").limit_h("urgent")
2.0
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from geo.settings import Profile, load_profile

URGENCIES = ("ordinary", "urgent")
"""Urgency levels of a report (一般 / 紧急)."""
URGENCY_LABELS = {"ordinary": ("一般", "Ordinary"), "urgent": ("紧急", "Urgent")}


class FieldSettingsError(ValueError):
    """The ``[field]`` section of the profile is missing or wrong."""


@dataclass(frozen=True)
class Category:
    """A report category (GB/T 30428.2-2013 event class that matters to the action plan)."""

    key: str
    zh: str
    en: str
    gbt_class: str
    urgent_h: float
    ordinary_h: float
    rural: bool = False

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    def limit_h(self, urgency: str) -> float:
        """Hours from report to handled (处置时限) for `urgency`."""
        if urgency not in URGENCIES:
            raise FieldSettingsError(f"unknown urgency {urgency!r}; expected one of {URGENCIES}")
        return self.urgent_h if urgency == "urgent" else self.ordinary_h


@dataclass(frozen=True)
class FieldRules:
    """Everything the field-report logic reads from the profile (see shiyan.toml [field])."""

    categories: tuple[Category, ...]
    accept_limit_h: float
    duplicate_radius_m: float
    duplicate_window_days: float
    cluster_radius_m: float
    cluster_min_reports: int
    cluster_periods: int
    photo_max_px: int
    photo_max_upload_mb: float
    photo_max_stored_kb: float
    photos_per_report: int
    photo_max_pixels: int
    description_max_chars: int
    village_match_m: float
    ranking_min_reports: int

    @property
    def category_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.categories)

    def category(self, key: str) -> Category:
        """The category `key`; raises :class:`FieldSettingsError` for an unknown one."""
        for cat in self.categories:
            if cat.key == key:
                return cat
        raise FieldSettingsError(
            f"unknown report category {key!r}; expected one of {', '.join(self.category_keys)}"
        )

    def limits_table(self) -> dict[tuple[str, str], float]:
        """(category, urgency) -> handling limit in hours."""
        return {(c.key, u): c.limit_h(u) for c in self.categories for u in URGENCIES}


def field_rules_from_dict(data: dict[str, Any], source: str = "profile") -> FieldRules:
    """Build :class:`FieldRules` from a parsed ``[field]`` section."""
    if not isinstance(data, dict) or not data:
        raise FieldSettingsError(f"{source}: missing section [field]")
    raw_cats = data.get("categories") or []
    if not raw_cats:
        raise FieldSettingsError(f"{source}: [field] has no [[field.categories]]")
    cats = []
    for i, raw in enumerate(raw_cats, start=1):
        try:
            cats.append(
                Category(
                    key=str(raw["key"]),
                    zh=str(raw["zh"]),
                    en=str(raw["en"]),
                    gbt_class=str(raw.get("gbt_class", "")),
                    urgent_h=float(raw["urgent_h"]),
                    ordinary_h=float(raw["ordinary_h"]),
                    rural=bool(raw.get("rural", False)),
                )
            )
        except KeyError as err:
            raise FieldSettingsError(
                f"{source}: [[field.categories]] number {i} misses {err.args[0]!r}"
            ) from None
    keys = [c.key for c in cats]
    if len(set(keys)) != len(keys):
        raise FieldSettingsError(f"{source}: duplicate category keys in [[field.categories]]")
    ints = {
        "cluster_min_reports",
        "cluster_periods",
        "photo_max_px",
        "photos_per_report",
        "photo_max_pixels",
        "description_max_chars",
        "ranking_min_reports",
    }
    values: dict[str, Any] = {}
    for name in FieldRules.__dataclass_fields__:
        if name == "categories":
            continue
        if name not in data:
            raise FieldSettingsError(f"{source}: [field] misses {name!r}")
        values[name] = int(data[name]) if name in ints else float(data[name])
    return FieldRules(categories=tuple(cats), **values)


@lru_cache(maxsize=8)
def _load(path: str) -> FieldRules:
    with open(path, "rb") as fh:
        return field_rules_from_dict(tomllib.load(fh).get("field", {}), source=path)


def field_rules(profile: Profile | None = None) -> FieldRules:
    """The field rules of `profile` (default: the active city profile)."""
    profile = profile or load_profile()
    return _load(profile.source)
