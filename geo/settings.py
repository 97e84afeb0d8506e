"""City profile: the one documented place for standard values, targets and CRS codes.

Values are read from a TOML file (default ``data/profiles/shiyan.toml``, or the path in the
``GRIDMAP_PROFILE`` environment variable). Each value's source is documented in that file.

Examples
--------
>>> profile = load_profile()
>>> profile.radii.shelter_emergency
500.0
>>> faster = profile.with_overrides(radii={"shelter_emergency": 400})
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from layers.kinds import FacilityKind, kinds_from_tables, unknown_kind

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROFILE = ROOT / "data" / "profiles" / "shiyan.toml"
DEFAULT_STORE = ROOT / "data" / "demo" / "shiyan_demo.gpkg"


@dataclass(frozen=True)
class City:
    name_zh: str
    name_en: str
    center_lon: float
    center_lat: float
    zoom: int
    metric_crs: str
    storage_crs: str
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True)
class ImportLimits:
    max_file_mb: float
    max_unzipped_mb: float
    max_zip_ratio: float
    lock_timeout_s: float = 120.0


@dataclass(frozen=True)
class Radii:
    """Service radii in metres."""

    neighborhood_center_street: float
    neighborhood_center_community: float
    shelter_emergency: float
    shelter_fixed: float
    shelter_central: float
    garbage_point: float
    public_toilet: float
    detour_factor: float


@dataclass(frozen=True)
class PerCapitaArea:
    """Effective shelter area per person, m², by shelter class."""

    emergency: float
    fixed_short: float
    fixed_medium: float
    fixed_long: float
    central: float

    def for_class(self, shelter_class: str) -> float:
        return float(getattr(self, shelter_class))


@dataclass(frozen=True)
class GridRules:
    """Rules of the grid checks (:mod:`geo.grid_qa`)."""

    households_min: int
    households_max: int
    population_mismatch_share: float
    code_pattern: str
    """Regular expression a whole grid code must match (CJ/T 349-2010: 15 digits)."""
    min_area_m2: float
    """Smallest overlap / uncovered piece of community land reported, m²."""


@dataclass(frozen=True)
class Targets:
    """Targets as shares (0-1) or per-resident values; see the profile file for sources."""

    close_margin: float
    center_street_coverage: float
    center_community_coverage: float
    shelter_emergency_coverage: float
    shelter_fixed_coverage: float
    shelter_places_per_resident: float
    shelter_area_per_resident_m2: float
    grids_in_household_range: float
    grids_with_worker: float
    sanitary_toilet_penetration: float
    villages_with_garbage_collection: float
    villages_with_sewage_treatment: float
    green_space_ratio: float
    good_air_days_share: float
    resident_satisfaction: float


@dataclass(frozen=True)
class Display:
    coordinate_decimals: int
    simplify_tolerance_m: float
    max_grids_drawn: int = 5000
    """Above this many grids the explorer's map shows them summed per community (a filter to
    a street or community shows its grids one by one): keeps the map's data small."""
    grid_zoom: int = 14
    """Zoom level from which the explorer's map shows the grids of the visible area one by one
    in place of the per-community sums (fetched from the server as the map moves)."""
    max_grids_in_view: int = 5000
    """Most grids one zoomed-in view may fetch: where grids are small and dense, the map
    switches to them from a closer zoom than `grid_zoom` (:func:`maps.display.grid_zoom_for`)."""
    max_points_drawn: int = 20_000
    """Population points the explorer draws one by one; beyond, summed into cells."""
    point_cell_m: float = 200.0
    """Side of the cells population points are summed into on the explorer, metres."""
    max_gap_points_drawn: int = 3_000
    """Uncovered population points the gap map draws one by one; beyond, hot-spot cells only."""
    around_grid_m: float = 1500.0
    """My grid draws the facilities within this distance of the grid, metres."""


@dataclass(frozen=True)
class Analysis:
    """Sizes and solver limits of the gap analysis and the site suggestion."""

    gap_cell_m: float
    siting_time_limit_s: float
    siting_max_exact_pairs: int
    siting_max_lp_pairs: int
    proposed_shelter_area_m2: float = 5000.0
    """Effective area given to a proposed or suggested shelter when none is entered, m²: its
    capacity is this area over the per-capita area of its class (a local default, editable)."""


@dataclass(frozen=True)
class Security:
    """Sign-in sessions and throttling (:mod:`auth.sessions`). The section may be omitted."""

    session_hours: float = 12.0
    """A session cookie and its server-side row expire this long after sign-in, hours."""
    failure_window_minutes: float = 15.0
    """Failed sign-ins are counted over this window, minutes."""
    max_failures_per_user: int = 5
    """After this many failures for one user name in the window, that name is locked out."""
    max_failures_per_client: int = 20
    """After this many failures from one client address in the window, it is locked out."""


@dataclass(frozen=True)
class Network:
    """Walking distance along the ``roads`` layer (:mod:`geo.network`). May be omitted."""

    max_snap_m: float = 300.0
    """Residents and facilities farther than this from every road are off-network, metres."""
    service_area_buffer_m: float = 50.0
    """Service areas: the reached roads buffered by this much (the walk from road to door), m."""


@dataclass(frozen=True)
class Profile:
    """A city profile. Immutable; use :meth:`with_overrides` to change values."""

    city: City
    import_: ImportLimits
    radii: Radii
    per_capita_area_m2: PerCapitaArea
    grids: GridRules
    targets: Targets
    display: Display
    analysis: Analysis
    security: Security = field(default_factory=Security)
    network: Network = field(default_factory=Network)
    facility_kinds: dict[str, FacilityKind] = field(default_factory=dict)
    """Every facility kind, from the ``[facility_kinds.*]`` tables, in declaration order."""
    source: str = field(default="", compare=False)

    @property
    def metric_crs(self) -> str:
        return self.city.metric_crs

    def kind(self, key: str) -> FacilityKind:
        """The record of facility kind `key`; KeyError lists the declared kinds."""
        try:
            return self.facility_kinds[key]
        except KeyError:
            raise unknown_kind(self.facility_kinds, key) from None

    def radius_m(self, key: str) -> float:
        """Service radius (m) of facility kind `key` (its number or its ``[radii]`` setting)."""
        radius = self.kind(key).radius
        return float(getattr(self.radii, radius) if isinstance(radius, str) else radius)

    def distance(self, key: str) -> str:
        """``"straight"`` or ``"network"``: how distances to facility kind `key` are measured."""
        return self.kind(key).distance

    def with_distance(self, mode: str | dict[str, str]) -> Profile:
        """A copy measuring every kind (`mode` a string) or some kinds (``{kind: mode}``) by
        straight line or along roads. Raises KeyError for an unknown kind, ValueError for an
        unknown mode."""
        from layers.kinds import DISTANCES

        modes = dict.fromkeys(self.facility_kinds, mode) if isinstance(mode, str) else mode
        for key, value in modes.items():
            self.kind(key)
            if value not in DISTANCES:
                raise ValueError(
                    f"distance of {key}: {value!r} is not one of {', '.join(DISTANCES)}"
                )
        return self.with_overrides(
            facility_kinds={key: {"distance": value} for key, value in modes.items()}
        )

    def target(self, key: str) -> float | None:
        """Coverage target (share) of facility kind `key`, or None if it has none."""
        target = self.kind(key).target
        if target is None:
            return None
        return float(getattr(self.targets, target) if isinstance(target, str) else target)

    def with_overrides(self, **sections: dict[str, Any]) -> Profile:
        """Return a copy with some values changed, e.g. ``radii={"shelter_fixed": 2500}``.

        Raises KeyError for an unknown section or setting.
        """
        changes: dict[str, Any] = {}
        for name, values in sections.items():
            if name == "facility_kinds":
                changes[name] = self._kind_overrides(values)
                continue
            attr = "import_" if name == "import" else name
            current = getattr(self, attr, None)
            if not dataclasses.is_dataclass(current):
                raise KeyError(f"unknown settings section {name!r}")
            changes[attr] = dataclasses.replace(current, **_coerce(type(current), values))
        return dataclasses.replace(self, **changes)

    def _kind_overrides(self, values: dict[str, dict[str, Any]]) -> dict[str, FacilityKind]:
        """Kinds with ``radius_m`` / ``target`` replaced, e.g. ``{"elderly_care": {"target": 0.9}}``."""
        kinds = dict(self.facility_kinds)
        for key, change in values.items():
            spec = self.kind(key)
            fields = {}
            for name, value in change.items():
                if name == "radius_m":
                    fields["radius"] = float(value)
                elif name == "target":
                    fields["target"] = None if value is None else float(value)
                elif name == "distance":
                    fields["distance"] = str(value)
                else:
                    raise KeyError(f"unknown setting facility_kinds.{key}.{name}")
            kinds[key] = dataclasses.replace(spec, **fields)
        return kinds

    def kind_parameters(self) -> dict[str, dict[str, Any]]:
        """Radius (m) and target of every facility kind, as used (JSON-ready)."""
        return {
            key: {
                "radius_m": self.radius_m(key),
                "target": self.target(key),
                "distance": self.distance(key),
            }
            for key in self.facility_kinds
        }

    def to_dict(self) -> dict[str, Any]:
        """The sections as plain values; ``facility_kinds`` as their records' fields."""
        data = dataclasses.asdict(self)
        data.pop("source", None)
        data["facility_kinds"] = data.pop("facility_kinds")
        data["import"] = data.pop("import_")
        return data


def _coerce(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    types = {f.name: f.type for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in types:
            raise KeyError(f"unknown setting {cls.__name__}.{key}")
        kind = types[key]
        if kind == "float":
            out[key] = float(value)
        elif kind == "int":
            out[key] = int(value)
        elif kind.startswith("tuple"):
            out[key] = tuple(float(v) for v in value)
        else:
            out[key] = value
    return out


SECTIONS: dict[str, type] = {
    "city": City,
    "import": ImportLimits,
    "radii": Radii,
    "per_capita_area_m2": PerCapitaArea,
    "grids": GridRules,
    "targets": Targets,
    "display": Display,
    "analysis": Analysis,
}
"""Profile sections and the record each becomes; ``[facility_kinds.*]`` tables come beside."""

OPTIONAL_SECTIONS: dict[str, type] = {"security": Security, "network": Network}
"""Sections that may be omitted (every key has a default)."""

OTHER_SECTIONS = ("field",)
"""Sections read and checked by other modules (``field/settings.py``)."""


class ProfileError(ValueError):
    """The profile file has unknown, misspelt or missing sections or keys."""


def _near(name: str, names) -> str:
    found = difflib.get_close_matches(name, list(names), n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""


def profile_from_dict(data: dict[str, Any], source: str = "") -> Profile:
    """Build a :class:`Profile` from a parsed profile file.

    Unknown or misspelt sections and keys, and missing keys, are refused with one
    :class:`ProfileError` naming each. A profile without ``[facility_kinds.*]`` tables gets the
    kinds of the Shiyan profile (their radii and targets still come from its own ``[radii]`` and
    ``[targets]``).
    """
    where = source or "profile"
    problems = []
    known = [*SECTIONS, *OPTIONAL_SECTIONS, *OTHER_SECTIONS, "facility_kinds"]
    for name in data:
        if name not in known:
            problems.append(f"unknown section [{name}]{_near(name, known)}")
    missing = [name for name in SECTIONS if name not in data]
    if missing:
        problems.append(f"missing sections {', '.join(missing)}")
    for name, cls in {**SECTIONS, **OPTIONAL_SECTIONS}.items():
        if name not in data:
            continue
        names = [f.name for f in dataclasses.fields(cls)]
        for key in data[name]:
            if key not in names:
                problems.append(f"[{name}] unknown key {key!r}{_near(key, names)}")
        for f in dataclasses.fields(cls):
            no_default = (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            if no_default and f.name not in data[name]:
                problems.append(f"[{name}] missing key {f.name!r}")
    if problems:
        raise ProfileError("\n".join(f"{where}: {problem}" for problem in problems))
    built = {}
    for name, cls in SECTIONS.items():
        built["import_" if name == "import" else name] = cls(**_coerce(cls, data[name]))
    for name, cls in OPTIONAL_SECTIONS.items():
        built[name] = cls(**_coerce(cls, data.get(name, {})))
    tables = data.get("facility_kinds")
    if tables is None:
        with open(DEFAULT_PROFILE, "rb") as fh:
            tables = tomllib.load(fh)["facility_kinds"]
    kinds = kinds_from_tables(tables, radii=data["radii"], targets=data["targets"], source=where)
    return Profile(**built, facility_kinds=kinds, source=source)


@lru_cache(maxsize=8)
def _load(path: str) -> Profile:
    with open(path, "rb") as fh:
        return profile_from_dict(tomllib.load(fh), source=path)


def load_profile(path: str | os.PathLike | None = None) -> Profile:
    """Load the city profile from `path`, ``$GRIDMAP_PROFILE`` or the Shiyan default."""
    chosen = path or os.environ.get("GRIDMAP_PROFILE") or DEFAULT_PROFILE
    return _load(str(Path(chosen).resolve()))


def store_path() -> Path | str:
    """The store the app and CLI use: ``$GRIDMAP_STORE`` or the built-in demo store.

    A GeoPackage path, or a ``postgresql://`` URL kept as text.
    """
    env = os.environ.get("GRIDMAP_STORE")
    if env and env.startswith(("postgresql://", "postgres://")):
        return env
    return Path(env) if env else DEFAULT_STORE
