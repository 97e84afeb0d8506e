"""The service-gap analysis: one :class:`Analysis` object that computes each part when asked.

An :class:`Analysis` of some layers with a city profile computes coverage per facility kind, gap
cells, shelter capacity per group, shelter supply, rural sanitation, grid checks, the network
findings and the indicators lazily, and remembers each part under the versions of the layers it
reads and its own parameters (:class:`Parts`). :meth:`Analysis.with_profile` hands out an
analysis with other parameters that shares what did not change, so a new radius recomputes only
that kind's coverage. :func:`run_all` (the CLI, reports, snapshots) and the Service-gaps page
(which keeps the :class:`Parts` of a store in Streamlit's cache) both go through it.

Example::

    from data.store import open_store
    analysis = Analysis(open_store().read_layers(), load_profile())
    analysis.coverage("shelters_emergency").residents_covered   # computes one kind
    wider = analysis.with_profile(
        analysis.profile.with_overrides(radii={"shelter_emergency": 600})
    )
    wider.result().summary()   # every part; only the emergency shelters' coverage is new
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import coverage as gc  # called as gc.<name>: tests count calls by patching them
from geo.areas import LEVELS, assign_areas
from geo.capacity import (
    SHELTER_GROUPS,
    SUPPLY_GROUPS,
    CapacityResult,
    ShelterGroupCapacity,
    group_capacity,
    shelter_supply,
)
from geo.coverage import CoverageResult, Grouping, level_groupings
from geo.crs import to_metric
from geo.grid_qa import GridCheckResult, grid_checks
from geo.index import Memo
from geo.sanitation import SanitationResult, sanitation_all
from geo.settings import Profile
from layers import LAYERS, located_layers

T = TypeVar("T")

STEPS: tuple[str, ...] = (
    "prepare",
    "coverage",
    "gap cells",
    "capacity",
    "sanitation",
    "grid checks",
)
"""Steps of :func:`run_all`, in order (``progress`` is called with each name before it runs)."""

LOCATED_LAYERS: tuple[str, ...] = located_layers()
"""Layers given grid/community/street/district codes by :func:`prepare` (``view.located``)."""

UNCOVERED_COLUMNS: tuple[str, ...] = (
    "residents",
    "households",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
)
"""Population columns kept on the uncovered points (:meth:`GapAnalysis.uncovered_points`)."""


@dataclass(eq=False)
class PreparedLayers(Mapping[str, gpd.GeoDataFrame]):
    """Layers projected to the metric CRS, population and facilities located in areas.

    A read-only mapping of layer name -> frame. ``groupings`` holds the factorised area codes
    per level of the population frame ``groupings_of``, reused by every coverage roll-up of it.
    """

    frames: dict[str, gpd.GeoDataFrame]
    metric_crs: str
    groupings: dict[str, Grouping] = field(default_factory=dict)
    groupings_of: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def __getitem__(self, name: str) -> gpd.GeoDataFrame:
        return self.frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.frames)

    def __len__(self) -> int:
        return len(self.frames)


def _empty(name: str, crs: str) -> gpd.GeoDataFrame:
    from layers import LAYERS

    if name in LAYERS:
        return LAYERS[name].empty(crs)
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def prepare(layers: Mapping[str, gpd.GeoDataFrame], profile) -> PreparedLayers:
    """Project every layer to ``profile.metric_crs`` once and attach area codes.

    Population points and facilities get ``grid_code``, ``community_code``, ``street_code``,
    ``district_code`` (and names) by point-in-polygon against grids and admin areas. Layers
    missing from `layers` come back empty. Already prepared layers are returned as they are.
    """
    if isinstance(layers, PreparedLayers) and layers.metric_crs == profile.metric_crs:
        return layers
    from layers import LAYERS

    crs = profile.metric_crs
    out: dict[str, gpd.GeoDataFrame] = {}
    for name in dict.fromkeys([*LAYERS, *layers]):
        frame = layers.get(name)
        if frame is None:
            out[name] = _empty(name, crs)
        elif isinstance(frame, gpd.GeoDataFrame):
            out[name] = to_metric(frame, crs, name=name)
        else:
            out[name] = frame
    areas = {
        "grids": out["grids"],
        "communities": out["communities"],
        "streets": out["streets"],
        "districts": out["districts"],
    }
    for name in LOCATED_LAYERS:
        out[name] = assign_areas(out[name], **areas)
    return PreparedLayers(
        frames=out,
        metric_crs=crs,
        groupings=level_groupings(out["population"]),
        groupings_of=out["population"],
    )


@dataclass
class GapAnalysis:
    """Every part of an :class:`Analysis` (:meth:`Analysis.result`), in the metric CRS."""

    coverage: dict[str, CoverageResult]
    gap_cells: dict[str, gpd.GeoDataFrame]
    capacity: CapacityResult
    sanitation: SanitationResult
    grid_checks: GridCheckResult
    layers: PreparedLayers = field(repr=False)
    profile: Any = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)
    source: Analysis | None = field(default=None, repr=False)
    """The :class:`Analysis` that computed it (network findings are asked of it)."""

    def _analysis(self) -> Analysis:
        if self.source is None:
            self.source = Analysis(self.layers, self.profile)
        return self.source

    @property
    def population(self) -> gpd.GeoDataFrame:
        return self.layers["population"]

    def uncovered_points(self, kind: str) -> gpd.GeoDataFrame:
        """Population points not covered by `kind`: the ``uncovered_<kind>`` gap layer.

        Columns: ``kind``, ``residents`` (0 where unknown), ``households``, the area codes,
        ``distance_m`` to the nearest facility (0.1 m; ``inf`` without facilities) and the
        ``radius_m`` used. Index and (metric) CRS of the population are kept.
        """
        res = self.coverage[kind]
        pop = self.population
        mask = ~res.covered.reindex(pop.index, fill_value=False).to_numpy(dtype=bool)
        cols = [c for c in UNCOVERED_COLUMNS if c in pop]
        out = pop.loc[mask, [*cols, pop.geometry.name]].copy()
        out["residents"] = (
            pd.to_numeric(out["residents"], errors="coerce").fillna(0).astype(np.int64)
        )
        distance = res.distance.reindex(pop.index).to_numpy(dtype=float)[mask]
        out["distance_m"] = np.round(distance, 1)
        out["radius_m"] = float(res.radius_m)
        out.insert(0, "kind", kind)
        return out[["kind", *cols, "distance_m", "radius_m", pop.geometry.name]]

    @property
    def has_roads(self) -> bool:
        """Whether the store has a ``roads`` layer (network distances can be measured)."""
        roads = self.layers.get("roads")
        return roads is not None and len(roads) > 0

    def covered_both_ways(self, kind: str) -> tuple[pd.Series, pd.Series]:
        """``(straight, network)`` coverage of `kind` (:meth:`Analysis.covered_both_ways`)."""
        return self._analysis().covered_both_ways(kind)

    def overstated(self, level: str = "street", kinds=None) -> pd.DataFrame:
        """What straight lines overstate, per area of `level` and kind: residents covered by
        straight line but not along roads (:func:`geo.network.overstated`), one long table
        (``kind``, ``level``, ``code``, ``name``, ``residents_total``, ``covered_straight``,
        ``covered_network``, ``overstated``, ``share_overstated``). Empty without roads."""
        from geo.network import overstated

        if not self.has_roads:
            return pd.DataFrame()
        parts = []
        for kind in kinds if kinds is not None else self.coverage:
            straight, network = self.covered_both_ways(kind)
            t = overstated(self.population, straight, network, by=f"{level}_code")
            t = t.reset_index().rename(columns={f"{level}_code": "code"})
            t.insert(0, "level", level)
            t.insert(0, "kind", kind)
            parts.append(t)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def overstated_grids(self, kind: str) -> gpd.GeoDataFrame:
        """Grid polygons where straight lines overstate `kind`'s coverage (``overstated`` > 0),
        the map layer of the finding. Empty without roads or grids."""
        grids = self.layers.get("grids")
        table = self.overstated("grid", [kind])
        if grids is None or not len(grids) or table.empty:
            return gpd.GeoDataFrame(
                {"kind": [], "grid_code": [], "overstated": []},
                geometry=gpd.GeoSeries([], crs=self.population.crs),
                crs=self.population.crs,
            )
        table = table[table["overstated"] > 0].drop(columns=["level"])
        table = table.rename(columns={"code": "grid_code"}).drop(columns="name", errors="ignore")
        shapes = grids[["grid_code", grids.geometry.name]].drop_duplicates("grid_code")
        out = shapes.merge(table, on="grid_code", how="inner")
        cols = ["kind", *[c for c in out.columns if c not in ("kind", shapes.geometry.name)]]
        out = out[[*cols, shapes.geometry.name]]
        return (
            gpd.GeoDataFrame(out, geometry=shapes.geometry.name, crs=grids.crs)
            .sort_values("overstated", ascending=False, kind="stable")
            .reset_index(drop=True)
        )

    def service_area(self, kind: str, *, each: bool = False) -> gpd.GeoDataFrame:
        """The area reachable along roads within the kind's radius (:meth:`Analysis.service_area`)."""
        return self._analysis().service_area(kind, each=each)

    @property
    def walks(self) -> bool:
        """Whether some facility kind is measured along roads (and the store has roads)."""
        return self.has_roads and any(r.distance_mode == "network" for r in self.coverage.values())

    def network_findings(self) -> dict[str, Any]:
        """Residents off the roads or on road islands, unreachable facilities
        (:meth:`Analysis.network_findings`); empty without roads."""
        return self._analysis().network_findings() if self.has_roads else {}

    def coverage_table(self) -> pd.DataFrame:
        """Coverage of every kind at every level, one long table."""
        parts = []
        for kind, res in self.coverage.items():
            for level, table in res.by_level.items():
                t = table.reset_index().rename(columns={f"{level}_code": "code"})
                t.insert(0, "level", level)
                t.insert(0, "kind", kind)
                t.insert(2, "radius_m", res.radius_m)
                parts.append(t)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def worst_areas(self, level: str = "grid", n: int = 20) -> pd.DataFrame:
        """The `n` areas of `level` with the most uncovered residents, per kind."""
        parts = []
        for kind, res in self.coverage.items():
            t = res.worst(level, n).reset_index().rename(columns={f"{level}_code": "code"})
            t.insert(0, "rank", np.arange(1, len(t) + 1))
            t.insert(0, "kind", kind)
            parts.append(t)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (the CLI's ``--json`` output)."""
        p = self.profile
        return {
            "metric_crs": p.metric_crs,
            "parameters": {
                "radii": {k: float(v) for k, v in vars(p.radii).items()},
                "facility_kinds": p.kind_parameters(),
                "per_capita_area_m2": {k: float(v) for k, v in vars(p.per_capita_area_m2).items()},
                "targets": {k: float(v) for k, v in vars(p.targets).items()},
                "grids": {
                    k: v if isinstance(v, str) else float(v) for k, v in vars(p.grids).items()
                },
            },
            "population": {
                "points": len(self.population),
                "residents": int(next(iter(self.coverage.values())).residents_total)
                if self.coverage
                else 0,
            },
            "coverage": {kind: res.summary() for kind, res in self.coverage.items()},
            "gap_cells": {kind: len(cells) for kind, cells in self.gap_cells.items()},
            "capacity": self.capacity.summary(),
            "sanitation": self.sanitation.summary(),
            "grid_checks": self.grid_checks.summary(),
            # the roads' findings, when some kind is walked along them
            **({"network": self.network_findings()} if self.walks else {}),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }


ADMIN: tuple[str, ...] = ("grids", "districts", "streets", "communities")
"""The areas results are rolled up to: every roll-up part reads them."""

ROADS: tuple[str, ...] = ("roads", "entrances")
"""What a walk along roads reads (:meth:`geo.network.Walk.from_layers`)."""

PART_SIZES: dict[str, int] = {
    "prepare": 1,
    "distance": 32,
    "coverage": 64,
    "gap cells": 64,
    "capacity": 32,
    "supply": 16,
    "sanitation": 16,
    "grid checks": 16,
    "both ways": 32,
    "service area": 16,
    "network": 4,
    "indicators": 8,
}
"""Parts an :class:`Analysis` remembers, and how many results of each (least recently used go)."""


def settings(section: object, names: Iterable[str] | None = None) -> tuple[tuple[str, Any], ...]:
    """Values of a profile section (all, or `names`) as a hashable key of a part."""
    values = dataclasses.asdict(section)
    return tuple((k, values[k]) for k in (names if names is not None else values))


class Parts:
    """What analyses computed, by part and key: shared by an :class:`Analysis` and those it hands
    out (:meth:`Analysis.with_profile`, :meth:`Analysis.with_layers`).

    Each part is a bounded :class:`geo.index.Memo`; :meth:`computed` counts how often a part was
    actually computed (its misses), which is what tests use.
    """

    def __init__(self, sizes: Mapping[str, int] = PART_SIZES):
        self.memos: dict[str, Memo] = {
            name: Memo(f"analysis {name}", size=size, register=False)
            for name, size in sizes.items()
        }
        self._lock = threading.RLock()

    def get(self, part: str, key: Hashable, make: Callable[[], T]) -> T:
        """The `part` stored under `key`, computed by ``make()`` on a miss (one thread at a
        time: sessions sharing these parts never compute the same part twice)."""
        with self._lock:
            return self.memos[part].get(key, make)

    def computed(self, part: str) -> int:
        """How many times `part` was computed (not taken from memory)."""
        return self.memos[part].misses


Progress = Callable[[str, "str | None", float], None]
"""``progress(step, item, done)``: a step of :data:`STEPS` starts (`item` None) or one item of
it (a facility kind or a shelter group); `done` is the share of the work before it."""


class Analysis:
    """The service-gap analysis of `layers` with the parameters of `profile`, computed part by
    part when asked and remembered.

    Parameters
    ----------
    layers
        Layers by name (any CRS; projected once by :func:`prepare`) or already prepared.
    profile
        City profile: radii, detour factor, distance modes, per-capita areas, targets, grid rules.
    cell_m
        Cell size (m) of gap hot spots and of the capacity-constrained allocation; None: the
        profile's ``analysis.gap_cell_m``.
    versions
        Version token of each layer (e.g. the store's), so parts kept in `parts` stay valid
        across data changes that do not touch the layers they read. Without it, `parts` must
        not be shared with an analysis of other data.
    parts
        Where computed parts are kept (default a new :class:`Parts`).
    """

    def __init__(
        self,
        layers: Mapping[str, gpd.GeoDataFrame],
        profile: Profile,
        *,
        cell_m: float | None = None,
        versions: Mapping[str, str] | None = None,
        parts: Parts | None = None,
    ):
        self.source_layers = layers
        self.profile = profile
        self.cell_m = float(profile.analysis.gap_cell_m if cell_m is None else cell_m)
        self.versions = dict(versions or {})
        self.parts = parts if parts is not None else Parts()

    # ------------------------------------------------------------------ derived analyses
    def with_profile(self, profile: Profile, *, cell_m: float | None = None) -> Analysis:
        """The same layers with other parameters, sharing every part they do not change."""
        return Analysis(
            self.source_layers, profile, cell_m=cell_m, versions=self.versions, parts=self.parts
        )

    def with_layers(
        self, layers: Mapping[str, gpd.GeoDataFrame], versions: Mapping[str, str]
    ) -> Analysis:
        """Other versions of the layers, sharing the parts whose layers kept their version."""
        if not self.versions:
            raise ValueError("with_layers needs layer versions to know which parts still hold")
        return Analysis(
            layers, self.profile, cell_m=self.cell_m, versions=versions, parts=self.parts
        )

    # ------------------------------------------------------------------ keys
    def _deps(self, *layers: str) -> tuple[tuple[str, str], ...]:
        """(layer, version) of each of `layers`: the data part of a part's key."""
        return tuple((name, self.versions.get(name, "")) for name in dict.fromkeys(layers))

    def _kind_key(self, kind: str) -> tuple:
        """What the nearest distances of `kind` depend on (not its radius)."""
        spec = self.profile.kind(kind)
        mode = self.profile.distance(kind)
        roads = ROADS if mode == "network" else ()
        network = settings(self.profile.network) if mode == "network" else ()
        return (
            self._deps("population", spec.layer, *roads),
            kind,
            spec.layer,
            spec.column,
            spec.values,
            mode,
            network,
        )

    def _detour(self, kind: str) -> float:
        """The detour factor coverage of `kind` takes (1 when walked along roads)."""
        if self.profile.distance(kind) == "network":
            return 1.0
        return float(self.profile.radii.detour_factor)

    def _coverage_key(self, kind: str) -> tuple:
        return (
            *self._kind_key(kind),
            self._deps(*ADMIN),
            self.profile.radius_m(kind),
            self._detour(kind),
        )

    def _group_key(self, group: str) -> tuple:
        kind = SHELTER_GROUPS[group]
        return (
            *self._kind_key(kind),
            self._deps("shelters"),
            group,
            self.profile.radius_m(kind),
            float(self.profile.radii.detour_factor),
            settings(self.profile.per_capita_area_m2),
            self.cell_m,
        )

    def _supply_key(self) -> tuple:
        classes = tuple(
            c for g in SUPPLY_GROUPS for c in self.profile.kind(SHELTER_GROUPS[g]).values
        )
        return (
            self._deps("population", "shelters", *ADMIN),
            classes,
            settings(self.profile.per_capita_area_m2),
            settings(
                self.profile.targets,
                ["shelter_places_per_resident", "shelter_area_per_resident_m2"],
            ),
        )

    def _sanitation_key(self) -> tuple:
        return (
            self._deps("villages", "sanitation_facilities"),
            settings(self.profile.radii, ["garbage_point", "detour_factor"]),
            settings(
                self.profile.targets,
                [
                    "sanitary_toilet_penetration",
                    "villages_with_garbage_collection",
                    "villages_with_sewage_treatment",
                ],
            ),
        )

    def _checks_key(self) -> tuple:
        return (self._deps("grids", "communities", "population"), settings(self.profile.grids))

    @property
    def kinds(self) -> tuple[str, ...]:
        """The facility kinds of the profile, in its order."""
        return tuple(self.profile.facility_kinds)

    # ------------------------------------------------------------------ parts
    @property
    def layers(self) -> PreparedLayers:
        """Every layer in the metric CRS, population and facilities located (:func:`prepare`)."""
        key = (self._deps(*LAYERS, *self.source_layers), self.profile.metric_crs)
        return self.parts.get("prepare", key, lambda: prepare(self.source_layers, self.profile))

    @property
    def population(self) -> gpd.GeoDataFrame:
        return self.layers["population"]

    def distance(self, kind: str) -> tuple[pd.Series, int]:
        """Distance from every population point to the nearest facility of `kind` (straight
        line, or walked along the roads for a network kind) and the number of facilities."""

        def make() -> tuple[pd.Series, int]:
            layers = self.layers
            spec = self.profile.kind(kind)
            fac = gc.select_facilities(layers, spec)
            pop = layers["population"]
            if fac.crs is None and len(fac) == 0:
                fac = fac.set_crs(pop.crs)
            if self.profile.distance(kind) == "network":
                return gc.walk_of(layers, self.profile).nearest(pop, fac)[0], len(fac)
            return gc.nearest_distance(pop, fac), len(fac)

        return self.parts.get("distance", self._kind_key(kind), make)

    def coverage(self, kind: str) -> CoverageResult:
        """Coverage of `kind` and its roll-ups per grid, community, street and district."""

        def make() -> CoverageResult:
            distance, count = self.distance(kind)
            layers = self.layers
            pop = layers["population"]
            return gc.coverage_from_distance(
                pop,
                distance,
                kind=kind,
                radius_m=self.profile.radius_m(kind),
                detour_factor=self._detour(kind),
                facilities=count,
                groupings=layers.groupings if layers.groupings_of is pop else None,
                levels=LEVELS,
                spec=self.profile.kind(kind),
                distance_mode=self.profile.distance(kind),
            )

        return self.parts.get("coverage", self._coverage_key(kind), make)

    def gap_cells(self, kind: str) -> gpd.GeoDataFrame:
        """Uncovered residents of `kind` summed into cells of :attr:`cell_m` (hot spots)."""
        return self.parts.get(
            "gap cells",
            (*self._coverage_key(kind), self.cell_m),
            lambda: gc.gap_cells(self.population, self.coverage(kind).covered, cell_m=self.cell_m),
        )

    def group_capacity(self, group: str) -> ShelterGroupCapacity:
        """Nearest assignment and constrained allocation of one shelter group."""
        return self.parts.get(
            "capacity",
            self._group_key(group),
            lambda: group_capacity(
                self.layers, self.profile, group, population=self.population, cell_m=self.cell_m
            ),
        )

    def shelter_supply(self) -> tuple[pd.Series, dict[str, pd.DataFrame]]:
        """Capacity of every shelter and the shelter supply per street and district."""
        return self.parts.get(
            "supply",
            self._supply_key(),
            lambda: shelter_supply(self.layers, self.profile, population=self.population),
        )

    def _capacity_part(self, name: str) -> Any:
        """One shelter group's capacity, or with ``"supply"`` the shelter supply."""
        return self.shelter_supply() if name == "supply" else self.group_capacity(name)

    def capacity(self) -> CapacityResult:
        """Both capacity views of every shelter group and the shelter supply."""
        groups = {group: self.group_capacity(group) for group in SHELTER_GROUPS}
        capacity, supply = self.shelter_supply()
        return CapacityResult(groups=groups, capacity=capacity, supply=supply)

    def sanitation(self) -> SanitationResult:
        """Rural sanitation of the villages against the profile's targets."""
        return self.parts.get(
            "sanitation",
            self._sanitation_key(),
            lambda: sanitation_all(
                self.layers["villages"], self.layers["sanitation_facilities"], self.profile
            ),
        )

    def grid_checks(self) -> GridCheckResult:
        """The grid checks of the profile's ``[grids]`` rules."""
        return self.parts.get(
            "grid checks",
            self._checks_key(),
            lambda: grid_checks(
                self.layers["grids"], self.layers["communities"], self.population, self.profile
            ),
        )

    def covered_both_ways(self, kind: str) -> tuple[pd.Series, pd.Series]:
        """``(straight, network)``: whether each population point is covered by `kind` by
        straight line (times the detour factor) and along roads, at the kind's radius.

        Raises :class:`geo.network.NetworkError` without roads.
        """

        def make() -> tuple[pd.Series, pd.Series]:
            res = self.coverage(kind)
            pop = self.population
            fac = gc.select_facilities(self.layers, self.profile.kind(kind))
            if res.distance_mode == "network":
                straight = gc.covered_from_distance(
                    gc.nearest_distance(pop, fac),
                    radius_m=res.radius_m,
                    detour_factor=float(self.profile.radii.detour_factor),
                )
                return straight, res.covered
            walked = gc.walk_of(self.layers, self.profile).nearest(pop, fac)[0]
            return res.covered, gc.covered_from_distance(walked, radius_m=res.radius_m)

        key = (
            *self._coverage_key(kind),
            self._deps(*ROADS),
            float(self.profile.radii.detour_factor),
            settings(self.profile.network),
        )
        return self.parts.get("both ways", key, make)

    def service_area(self, kind: str, *, each: bool = False) -> gpd.GeoDataFrame:
        """The area reachable along roads within the kind's radius
        (:func:`geo.network.service_area`): one polygon for the whole kind, or with `each` one
        per facility."""
        from geo.network import service_area, walking_graph

        def make() -> gpd.GeoDataFrame:
            fac = gc.select_facilities(self.layers, self.profile.kind(kind))
            out = service_area(
                walking_graph(self.layers.get("roads")),
                fac,
                radius_m=self.profile.radius_m(kind),
                max_snap_m=float(self.profile.network.max_snap_m),
                buffer_m=float(self.profile.network.service_area_buffer_m),
                each=each,
                entrances=self.layers.get("entrances"),
            )
            out.insert(0, "kind", kind)
            return out

        key = (
            *self._kind_key(kind),
            self._deps(*ROADS),
            self.profile.radius_m(kind),
            settings(self.profile.network),
            each,
        )
        return self.parts.get("service area", key, make)

    def network_findings(self) -> dict[str, Any]:
        """What the roads mean for residents and facilities (:func:`geo.network.network_findings`:
        the walking graph, residents off the network or on road islands, facilities of each kind
        no walk reaches). Raises :class:`geo.network.NetworkError` without roads."""
        from geo.network import network_findings, walking_graph

        def make() -> dict[str, Any]:
            return network_findings(
                walking_graph(self.layers.get("roads")),
                self.population,
                {k: gc.select_facilities(self.layers, self.profile.kind(k)) for k in self.kinds},
                max_snap_m=float(self.profile.network.max_snap_m),
                entrances=self.layers.get("entrances"),
            )

        layers = {self.profile.kind(k).layer for k in self.kinds}
        key = (
            self._deps("population", *ROADS, *sorted(layers)),
            repr(self.profile.facility_kinds),
            settings(self.profile.network),
        )
        return self.parts.get("network", key, make)

    def indicators(self, *, plan_values: Mapping[str, float] | None = None) -> pd.DataFrame:
        """The indicator table (:func:`geo.indicators.indicators_from_analysis`) of every part."""
        from geo.indicators import indicators_from_analysis

        key = (
            tuple(self._coverage_key(kind) for kind in self.kinds),
            self._supply_key(),
            self._sanitation_key(),
            self._deps(*ADMIN, "shelters", "population"),
            settings(self.profile.targets),
            repr(self.profile.facility_kinds),
            tuple(sorted((plan_values or {}).items())),
        )
        return self.parts.get(
            "indicators",
            key,
            lambda: indicators_from_analysis(
                self.result(), self.layers, self.profile, plan_values=plan_values
            ),
        )

    # ------------------------------------------------------------------ everything
    def result(self, progress: Progress | None = None) -> GapAnalysis:
        """Every part (each from memory when its layers and parameters did not change).

        `progress` is called before each step of :data:`STEPS` and each of its items; the
        time each step took (computing or recalling) is in ``timings``.
        """
        report = progress or (lambda step, item, done: None)
        total = 2 * len(STEPS) + 2 * len(self.kinds) + len(SHELTER_GROUPS)
        done = 0
        timings: dict[str, float] = {}

        def step(name: str, items: Iterable[str], part: Callable[[str], Any]) -> dict[str, Any]:
            """Run `part` for each of `items` as step `name`, reporting and timing it."""
            nonlocal done
            report(name, None, done / total)
            done += 1
            t0 = time.perf_counter()
            out = {}
            for item in items:
                report(name, item, done / total)
                done += 1
                out[item] = part(item)
            timings[name] = time.perf_counter() - t0
            return out

        prepared = step("prepare", ["layers"], lambda _: self.layers)["layers"]
        coverage = step("coverage", self.kinds, self.coverage)
        cells = step("gap cells", self.kinds, self.gap_cells)
        groups = step("capacity", [*SHELTER_GROUPS, "supply"], self._capacity_part)
        supply_part = groups.pop("supply")
        sanitation = step("sanitation", ["villages"], lambda _: self.sanitation())["villages"]
        checks = step("grid checks", ["grids"], lambda _: self.grid_checks())["grids"]
        capacity, supply = supply_part
        return GapAnalysis(
            coverage=coverage,
            gap_cells=cells,
            capacity=CapacityResult(groups=groups, capacity=capacity, supply=supply),
            sanitation=sanitation,
            grid_checks=checks,
            layers=prepared,
            profile=self.profile,
            timings=timings,
            source=self,
        )


def run_all(
    layers: Mapping[str, gpd.GeoDataFrame],
    profile: Profile,
    *,
    progress: Callable[[str], None] | None = None,
    cell_m: float | None = None,
) -> GapAnalysis:
    """Every part of the analysis of `layers` with the parameters of `profile`: a fresh
    :class:`Analysis` asked for its :meth:`~Analysis.result`.

    Parameters
    ----------
    layers
        Layers by name (any CRS; projected once by :func:`prepare`), e.g. read from the store.
    profile
        City profile (radii, per-capita areas, targets, grid rules, metric CRS).
    progress
        Called with each step name of :data:`STEPS` before the step runs.
    cell_m
        Cell size (m) for gap hot spots and the capacity-constrained allocation; None: the
        profile's ``analysis.gap_cell_m``.
    """

    def steps(step: str, item: str | None, done: float) -> None:
        if progress is not None and item is None:
            progress(step)

    return Analysis(layers, profile, cell_m=cell_m).result(steps)


__all__ = [
    "STEPS",
    "Analysis",
    "GapAnalysis",
    "Parts",
    "PreparedLayers",
    "prepare",
    "run_all",
]
