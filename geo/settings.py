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
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

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
    source: str = field(default="", compare=False)

    @property
    def metric_crs(self) -> str:
        return self.city.metric_crs

    def with_overrides(self, **sections: dict[str, Any]) -> Profile:
        """Return a copy with some values changed, e.g. ``radii={"shelter_fixed": 2500}``.

        Raises KeyError for an unknown section or setting.
        """
        changes = {}
        for name, values in sections.items():
            attr = "import_" if name == "import" else name
            current = getattr(self, attr, None)
            if not dataclasses.is_dataclass(current):
                raise KeyError(f"unknown settings section {name!r}")
            changes[attr] = dataclasses.replace(current, **_coerce(type(current), values))
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("source", None)
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


def profile_from_dict(data: dict[str, Any], source: str = "") -> Profile:
    """Build a :class:`Profile` from a parsed profile file."""
    sections = {
        "city": City,
        "import": ImportLimits,
        "radii": Radii,
        "per_capita_area_m2": PerCapitaArea,
        "grids": GridRules,
        "targets": Targets,
        "display": Display,
        "analysis": Analysis,
    }
    optional = {"security": Security}
    missing = [name for name in sections if name not in data]
    if missing:
        raise ValueError(f"{source or 'profile'}: missing sections {', '.join(missing)}")
    built = {}
    for name, cls in sections.items():
        built["import_" if name == "import" else name] = cls(**_coerce(cls, data[name]))
    for name, cls in optional.items():
        built[name] = cls(**_coerce(cls, data.get(name, {})))
    return Profile(**built, source=source)


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
