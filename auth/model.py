"""Users, roles, scopes and permissions: the one record of who may do what, and where.

A user has one role and one scope. The role says *what* they may do (the :data:`PERMISSIONS`
table); the scope says *where* (the city, a district, a street, a community or a list of grid
codes). Both are plain data so the app, the CLI and the database policies read the same rules.

Examples
--------
>>> worker = User("wang", "王芳", "worker", Scope.parse("grids:420302001001001"))
>>> can(worker, "import")
False
>>> can(worker, "edit_grid_people")
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

ROLES: dict[str, tuple[str, str]] = {
    "admin": ("管理员", "Administrator"),
    "planner": ("规划人员", "Planner"),
    "staff": ("街道/社区工作人员", "Street/community staff"),
    "worker": ("网格员", "Grid worker"),
    "viewer": ("只读用户", "Viewer"),
}
"""Role code -> (Chinese, English) label."""

SCOPE_LEVELS: dict[str, tuple[str, str]] = {
    "city": ("全市", "Whole city"),
    "district": ("区县", "District"),
    "street": ("街道", "Street"),
    "community": ("社区", "Community"),
    "grids": ("网格", "Grids"),
}
"""Scope level -> (Chinese, English) label. ``grids`` scopes name grid codes."""

PERMISSIONS: dict[str, frozenset[str]] = {
    # see the maps, gaps and progress of the own scope
    "view": frozenset(ROLES),
    # personal data (grid workers' names and phones) unmasked
    "see_personal": frozenset({"admin", "planner", "staff", "worker"}),
    # the Data page: imports that replace or extend layers
    "import": frozenset({"admin", "planner"}),
    # edit grid facts (name, worker, households, residents) of grids in scope
    "edit_grid_facts": frozenset({"admin", "planner", "staff"}),
    # update households, residents and worker contact of own grids
    "edit_grid_people": frozenset({"admin", "planner", "staff", "worker"}),
    # downloads and exports (always limited to the scope)
    "export": frozenset({"admin", "planner", "staff", "worker", "viewer"}),
    # the dispatch queue of field reports: accept, dispatch, check, close
    "dispatch": frozenset({"admin", "planner", "staff"}),
    # snapshots and reports of indicators
    "snapshot": frozenset({"admin", "planner"}),
    # the audit page and its XLSX download
    "audit": frozenset({"admin", "planner"}),
    # add users, change roles, scopes and passwords
    "manage_users": frozenset({"admin"}),
}
"""Action -> roles allowed to do it. Unknown actions raise :class:`KeyError`."""

SCOPED_LAYERS: frozenset[str] = frozenset({"grids", "population", "villages"})
"""Layers cut to the user's scope. Admin boundaries and public facilities (centres, shelters,
sanitation facilities) are public geography: every signed-in user sees them, so coverage and
nearest-service answers stay right at the edge of a scope."""

PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "grids": ("worker_name", "worker_phone"),
}
"""Personal fields per layer, hidden from users without ``see_personal`` (viewers)."""

ADMIN_COLUMNS = ("district", "street", "community")
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")


class AuthError(ValueError):
    """A user, role or scope is not valid."""


class PermissionDenied(PermissionError):
    """The user's role or scope does not allow this."""


@dataclass(frozen=True)
class Scope:
    """Where a user may see and act: a level and the names (or grid codes) at that level."""

    level: str = "city"
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.level not in SCOPE_LEVELS:
            raise AuthError(f"scope level {self.level!r} is not one of {', '.join(SCOPE_LEVELS)}")
        if self.level == "city" and self.values:
            raise AuthError("a city scope names no values")
        if self.level != "city" and not self.values:
            raise AuthError(f"a {self.level} scope needs at least one value")

    @classmethod
    def parse(cls, text: str) -> Scope:
        """``"city"``, ``"district:茅箭区"``, ``"grids:A01,A02"`` -> Scope."""
        text = (text or "").strip()
        level, _, rest = text.partition(":")
        values = tuple(v.strip() for v in rest.split(",") if v.strip())
        return cls(level.strip() or "city", values)

    def __str__(self) -> str:
        return self.level if self.level == "city" else f"{self.level}:{','.join(self.values)}"

    @property
    def is_city(self) -> bool:
        return self.level == "city"


@dataclass(frozen=True)
class User:
    """A signed-in person (never holds the password hash)."""

    name: str
    display_name: str
    role: str
    scope: Scope = field(default_factory=Scope)
    disabled: bool = False
    demo: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name or ""):
            raise AuthError(
                f"user name {self.name!r}: use 2-64 letters, digits or . _ @ - (no spaces)"
            )
        if self.role not in ROLES:
            raise AuthError(f"role {self.role!r} is not one of {', '.join(ROLES)}")

    @property
    def cache_key(self) -> str:
        """What a cached, scope-filtered result depends on: masking and scope, not the person.

        Every session with the same key shares cached results; different keys never do.
        """
        return f"{'personal' if can(self, 'see_personal') else 'masked'}|{self.scope}"


CITY_KEY = "personal|city"
"""The cache key of an unmasked whole-city view (planners, admins, server warm-up)."""


def parse_cache_key(key: str) -> tuple[bool, Scope]:
    """``User.cache_key`` -> (personal data shown, scope)."""
    shown, _, scope = key.partition("|")
    if shown not in ("personal", "masked"):
        raise AuthError(f"not a cache key: {key!r}")
    return shown == "personal", Scope.parse(scope)


def can(user: User | None, action: str) -> bool:
    """True when `user` (enabled) may do `action`; see :data:`PERMISSIONS`."""
    roles = PERMISSIONS[action]
    return user is not None and not user.disabled and user.role in roles


def require(user: User | None, action: str) -> None:
    """Raise :class:`PermissionDenied` unless ``can(user, action)``."""
    if not can(user, action):
        who = "nobody signed in" if user is None else f"{user.name} ({user.role})"
        raise PermissionDenied(f"{who} may not {action}")


# ----------------------------------------------------------------- scope filtering
def scope_mask(scope: Scope, tags: pd.DataFrame) -> pd.Series:
    """Which rows of `tags` (columns district, street, community, grid_code) are in `scope`."""
    if scope.is_city:
        return pd.Series(True, index=tags.index)
    column = "grid_code" if scope.level == "grids" else scope.level
    if column not in tags.columns:
        return pd.Series(False, index=tags.index)
    return tags[column].astype(object).isin(scope.values).fillna(False).astype(bool)


def grid_tags(features: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """Grid code, community, street and district of the grid each feature falls in.

    A feature's representative point decides (a point itself, a polygon's inner point).
    Features outside every grid get None.
    """
    columns = ["grid_code", *ADMIN_COLUMNS]
    out = pd.DataFrame({c: pd.Series(None, index=features.index, dtype=object) for c in columns})
    if features.empty or grids.empty:
        return out
    points = gpd.GeoDataFrame(
        geometry=features.geometry.representative_point(), index=features.index, crs=features.crs
    )
    areas = grids[[*columns, "geometry"]].to_crs(features.crs).reset_index(drop=True)
    joined = gpd.sjoin(points, areas, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    for c in columns:
        out[c] = joined[c].astype(object).where(joined[c].notna(), None)
    return out


def filter_to_scope(
    frame: gpd.GeoDataFrame,
    layer: str,
    scope: Scope,
    *,
    grids: gpd.GeoDataFrame | None = None,
    tags: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The rows of `layer` a user with `scope` may see.

    Grids are matched on their own code and admin names; other scoped layers (population,
    villages) through the grid they fall in (`tags` if given, else computed from `grids`).
    Layers not in :data:`SCOPED_LAYERS` are public and come back unchanged.
    """
    if scope.is_city or layer not in SCOPED_LAYERS:
        return frame
    if layer == "grids":
        return frame[scope_mask(scope, frame)]
    if tags is None:
        if grids is None:
            raise ValueError(f"filtering {layer!r} to a scope needs the grids or the tags")
        tags = grid_tags(frame, grids)
    return frame[scope_mask(scope, tags.reindex(frame.index))]


def mask_personal(frame: pd.DataFrame, layer: str, user: User | None) -> pd.DataFrame:
    """Blank the personal fields of `layer` unless `user` may see personal data."""
    return frame if can(user, "see_personal") else mask_fields(frame, layer)


def mask_fields(frame: pd.DataFrame, layer: str) -> pd.DataFrame:
    """`frame` with the personal fields of `layer` (:data:`PERSONAL_FIELDS`) blanked."""
    fields = [f for f in PERSONAL_FIELDS.get(layer, ()) if f in frame.columns]
    if not fields:
        return frame
    out = frame.copy()
    for f in fields:
        out[f] = pd.Series([None] * len(out), index=out.index, dtype=object)
    return out


def grid_in_scope(code: str, scope: Scope, grids: pd.DataFrame) -> bool:
    """True when the grid `code` exists and lies in `scope`."""
    rows = grids[grids["grid_code"].astype(str) == str(code)]
    return bool(len(rows)) and bool(scope_mask(scope, rows).all())


def layers_for(
    user: User | None, layers: dict[str, gpd.GeoDataFrame]
) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of `layers` cut to `user`'s scope and masked for their role.

    ``None`` is the command line's operator without ``--as`` (no limits).
    """
    if user is None:
        return layers
    require(user, "view")
    grids = layers.get("grids")
    out = {}
    for name, frame in layers.items():
        if name in SCOPED_LAYERS and not user.scope.is_city:
            if name == "grids":
                frame = filter_to_scope(frame, name, user.scope)
            else:
                frame = filter_to_scope(frame, name, user.scope, grids=grids)
        out[name] = mask_personal(frame, name, user)
    return out
