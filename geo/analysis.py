"""The whole service-gap analysis in one call: coverage, shelter capacity, sanitation, grid checks.

Example::

    from data.store import open_store
    from layers import LAYERS
    store = open_store()
    layers = {name: store.read(name) for name in LAYERS}
    result = run_all(layers, load_profile())
    result.summary()["coverage"]["shelters_emergency"]["residents_covered"]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.areas import LEVELS, assign_areas
from geo.capacity import CapacityResult, capacity_all
from geo.coverage import (
    CoverageResult,
    Grouping,
    coverage_all,
    gap_cells,
    level_groupings,
)
from geo.crs import to_metric
from geo.grid_qa import GridCheckResult, grid_checks
from geo.sanitation import SanitationResult, sanitation_all
from layers import located_layers

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
    """Everything :func:`run_all` computed, in the metric CRS."""

    coverage: dict[str, CoverageResult]
    gap_cells: dict[str, gpd.GeoDataFrame]
    capacity: CapacityResult
    sanitation: SanitationResult
    grid_checks: GridCheckResult
    layers: PreparedLayers = field(repr=False)
    profile: Any = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)

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
        """``(straight, network)``: whether each population point is covered by `kind` by
        straight line (times the detour factor) and along roads, at the kind's radius.

        Raises :class:`geo.network.NetworkError` without roads.
        """
        cache = self.__dict__.setdefault("_both", {})
        if kind in cache:
            return cache[kind]
        from geo.coverage import covered_from_distance, nearest_distance, select_facilities, walk_of

        res = self.coverage[kind]
        pop = self.population
        fac = select_facilities(self.layers, self.profile.kind(kind))
        if res.distance_mode == "network":
            network = res.covered
            straight = covered_from_distance(
                nearest_distance(pop, fac),
                radius_m=res.radius_m,
                detour_factor=float(self.profile.radii.detour_factor),
            )
        else:
            straight = res.covered
            network = covered_from_distance(
                walk_of(self.layers, self.profile).nearest(pop, fac)[0], radius_m=res.radius_m
            )
        cache[kind] = (straight, network)
        return straight, network

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
        """The area reachable along roads within the kind's radius (:func:`geo.network.service_area`):
        one polygon for the whole kind, or with `each` one per facility."""
        from geo.coverage import select_facilities
        from geo.network import service_area, walking_graph

        fac = select_facilities(self.layers, self.profile.kind(kind))
        out = service_area(
            walking_graph(self.layers.get("roads")),
            fac,
            radius_m=self.coverage[kind].radius_m,
            max_snap_m=float(self.profile.network.max_snap_m),
            buffer_m=float(self.profile.network.service_area_buffer_m),
            each=each,
            entrances=self.layers.get("entrances"),
        )
        out.insert(0, "kind", kind)
        return out

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
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }


def run_all(
    layers: Mapping[str, gpd.GeoDataFrame],
    profile,
    *,
    progress: Callable[[str], None] | None = None,
    cell_m: float | None = None,
) -> GapAnalysis:
    """Run the full analysis with the parameters of `profile`.

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
    if cell_m is None:
        cell_m = float(profile.analysis.gap_cell_m)
    timings: dict[str, float] = {}

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    def timed(name: str, func: Callable[[], Any]) -> Any:
        step(name)
        t0 = time.perf_counter()
        value = func()
        timings[name] = time.perf_counter() - t0
        return value

    prepared = timed("prepare", lambda: prepare(layers, profile))
    pop = prepared["population"]
    coverage = timed(
        "coverage", lambda: coverage_all(prepared, profile, population=pop, levels=LEVELS)
    )
    cells = timed(
        "gap cells",
        lambda: {
            kind: gap_cells(pop, res.covered, cell_m=cell_m) for kind, res in coverage.items()
        },
    )
    capacity = timed(
        "capacity", lambda: capacity_all(prepared, profile, population=pop, cell_m=cell_m)
    )
    sanitation = timed(
        "sanitation",
        lambda: sanitation_all(prepared["villages"], prepared["sanitation_facilities"], profile),
    )
    checks = timed(
        "grid checks",
        lambda: grid_checks(prepared["grids"], prepared["communities"], pop, profile),
    )
    return GapAnalysis(
        coverage=coverage,
        gap_cells=cells,
        capacity=capacity,
        sanitation=sanitation,
        grid_checks=checks,
        layers=prepared,
        profile=profile,
        timings=timings,
    )


__all__ = ["STEPS", "GapAnalysis", "PreparedLayers", "prepare", "run_all"]
