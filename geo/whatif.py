"""What-if: add proposed facilities and see coverage and shelter capacity recomputed.

Nothing is written anywhere: the proposals are added to copies of the layers, only the
facility kinds they affect are recomputed, and the result holds the before/after figures and
the change (residents newly covered in total, per proposal and per district, street,
community and grid).

A proposal row names its facility with a ``kind`` column holding a facility kind key of
``profile.facility_kinds`` (``"shelters_fixed"``), a class/level value
(``"fixed_long"``, ``"street"``, ``"garbage_point"``) or its Chinese or English label
(``"紧急避难场所"``). Shelters may carry ``effective_area_m2`` and/or ``capacity``.

Coverage after = coverage with the nearest distance ``min(distance before, distance to the
nearest proposal)``, which equals recomputing over all facilities, at the cost of one query.

Example::

    proposals = proposals_from_table(pd.DataFrame(
        {"lon": [110.80], "lat": [32.64], "kind": ["shelters_emergency"]}))
    result = apply_proposals(layers, proposals, profile)
    result.change()
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.areas import LEVELS, assign_areas, point_geometries
from geo.capacity import SHELTER_GROUPS, CapacityResult, capacity_all
from geo.coverage import (
    CoverageResult,
    coverage_from_distance,
    nearest_by_mode,
    radius_for,
    residents_of,
    select_facilities,
)
from geo.crs import LONLAT_CRS, CRSError, convert_frame, require_crs, require_projected, to_metric
from layers import LAYERS, centers, sanitation, shelters
from layers.kinds import FacilityKind
from layers.messages import Msg, in_lang, msg

#: Key column of each facility layer (proposals get ids ``P1``, ``P2``... there).
ID_COLUMNS = {name: schema.key for name, schema in LAYERS.items() if schema.key}
LON_NAMES = ("lon", "lng", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")


class WhatIfError(ValueError):
    """Proposals that cannot be used: unknown kind, missing coordinates, wrong CRS...

    Raised with a :class:`layers.messages.Msg`: ``str(error)`` is English, :meth:`text`
    gives either language.
    """

    def text(self, lang: str = "en") -> str:
        return in_lang(self.args[0], lang) if self.args else ""


def kind_lookup(kinds: Mapping[str, FacilityKind]) -> dict[str, tuple[str, str]]:
    """Accepted ``kind`` text (lower case) -> (facility kind key, attribute value)."""
    labels: dict[str, tuple[str, str]] = {
        **centers.LEVEL_LABELS,
        **shelters.CLASS_LABELS,
        **sanitation.KIND_LABELS,
    }
    out: dict[str, tuple[str, str]] = {}
    # A class can belong to several kinds (a street-level centre also serves community-level
    # coverage): it names the most specific one, so kinds with more classes are entered first.
    for key, spec in sorted(kinds.items(), key=lambda item: -len(item[1].values)):
        for value in spec.values:
            for text in (value, *labels.get(value, ())):
                out[text.lower()] = (key, value)
    for key, spec in kinds.items():
        for text in (key, spec.label_zh, spec.label_en):
            out[text.lower()] = (key, spec.values[0])
    return out


def _pick_column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def proposals_from_table(
    table: pd.DataFrame, *, offsets: str = "wgs84", source: str = "proposals"
) -> gpd.GeoDataFrame:
    """Point proposals from a table with longitude/latitude columns (``lon``/``lat``,
    ``经度``/``纬度``...) and a ``kind`` column, in EPSG:4326.

    `offsets` says which datum the coordinates use: ``"wgs84"`` (GPS), ``"gcj02"``
    (Amap/Gaode, Tencent) or ``"bd09"`` (Baidu); they are converted to WGS84.
    """
    lon, lat = _pick_column(table, LON_NAMES), _pick_column(table, LAT_NAMES)
    missing = [n for n, c in (("lon (经度)", lon), ("lat (纬度)", lat)) if c is None]
    if missing:
        cols = ", ".join(missing)
        raise WhatIfError(msg(f"{source}：缺少列 {cols}", f"{source}: missing columns {cols}"))
    x = pd.to_numeric(table[lon], errors="coerce")
    y = pd.to_numeric(table[lat], errors="coerce")
    bad = np.flatnonzero((x.isna() | y.isna() | (x.abs() > 180) | (y.abs() > 90)).to_numpy())
    if len(bad):
        rows = ", ".join(str(i + 1) for i in bad[:10])
        raise WhatIfError(
            msg(
                f"{source}：第 {rows} 行：“{lon}”/“{lat}”应为以度为单位的经度/纬度",
                f"{source}: rows {rows}: '{lon}'/'{lat}' must be longitude/latitude in degrees",
            )
        )
    rest = table.drop(columns=[lon, lat])
    frame = gpd.GeoDataFrame(rest, geometry=gpd.points_from_xy(x, y), crs=LONLAT_CRS)
    return convert_frame(frame, offsets, "wgs84") if offsets != "wgs84" else frame


def read_point_file(data: bytes, filename: str, *, offsets: str = "wgs84") -> gpd.GeoDataFrame:
    """Points from an uploaded CSV (longitude/latitude columns) or GeoJSON file, in EPSG:4326.

    Polygons are reduced to representative points. `offsets` is the datum of the coordinates
    (``"wgs84"``, ``"gcj02"`` or ``"bd09"``).
    """
    name = filename.lower()
    if name.endswith((".csv", ".txt")):
        text = data.decode("utf-8-sig", errors="replace")
        return proposals_from_table(
            pd.read_csv(io.StringIO(text)), offsets=offsets, source=filename
        )
    if name.endswith((".geojson", ".json")):
        try:
            frame = gpd.read_file(io.BytesIO(data))
        except Exception as exc:  # pyogrio raises several error types for bad files
            raise WhatIfError(
                msg(
                    f"{filename}：无法读取的 GeoJSON 文件（{exc}）",
                    f"{filename}: not a readable GeoJSON file ({exc})",
                )
            ) from None
        if frame.crs is None:
            frame = frame.set_crs(LONLAT_CRS)
        frame = frame.to_crs(LONLAT_CRS)
        empty = frame.geometry.isna() | frame.geometry.is_empty
        if empty.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(empty.to_numpy())[:10])
            raise WhatIfError(
                msg(
                    f"{filename}：第 {rows} 个要素没有几何",
                    f"{filename}: features {rows} have no geometry",
                )
            )
        points = gpd.GeoSeries(point_geometries(frame), index=frame.index, crs=LONLAT_CRS)
        frame = frame.set_geometry(points)
        return convert_frame(frame, offsets, "wgs84") if offsets != "wgs84" else frame
    raise WhatIfError(
        msg(
            f"{filename}：应为 .csv 或 .geojson 文件",
            f"{filename}: expected a .csv or .geojson file",
        )
    )


def normalise_proposals(
    proposals: gpd.GeoDataFrame,
    metric_crs: Any,
    *,
    kinds: Mapping[str, FacilityKind],
    source: str = "proposals",
) -> gpd.GeoDataFrame:
    """Proposals in `metric_crs` with ``facility_kind``, ``layer``, the layer's attribute column
    (``level``/``shelter_class``/``kind``), an id (``P1``...) and a ``name``.

    Every problem is collected and raised once as :class:`WhatIfError` naming row and field.
    """
    try:
        require_crs(proposals, source)
    except CRSError as exc:
        raise WhatIfError(str(exc)) from None
    problems: list[Msg] = []
    kind_col = _pick_column(proposals, ("kind", "facility_kind", "类型", "类别"))
    if kind_col is None:
        raise WhatIfError(
            msg(
                f"{source}：缺少“kind”（类型）列（例如 shelters_emergency、street、公共厕所）",
                f"{source}: missing column 'kind' (e.g. shelters_emergency, street, 公共厕所)",
            )
        )
    text = proposals[kind_col].astype(str).str.strip().str.lower()
    found = text.map(kind_lookup(kinds))
    for pos in np.flatnonzero(found.isna().to_numpy()):
        value = proposals[kind_col].iloc[pos]
        problems.append(
            msg(
                f"第 {pos + 1} 行，字段“{kind_col}”：未知类型 {value!r}（已声明：{', '.join(kinds)}）",
                f"row {pos + 1}, field '{kind_col}': unknown kind {value!r} "
                f"(declared: {', '.join(kinds)})",
            )
        )
    geoms = proposals.geometry
    empty = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
    for pos in np.flatnonzero(empty):
        problems.append(
            msg(
                f"第 {pos + 1} 行，字段“geometry”：没有位置",
                f"row {pos + 1}, field 'geometry': no location",
            )
        )
    for col in ("effective_area_m2", "capacity"):
        if col in proposals.columns:
            values = pd.to_numeric(proposals[col], errors="coerce")
            wrong = (values < 0).to_numpy() | (values.isna() & proposals[col].notna()).to_numpy()
            for pos in np.flatnonzero(wrong):
                problems.append(
                    msg(
                        f"第 {pos + 1} 行，字段“{col}”：应为不小于 0 的数字",
                        f"row {pos + 1}, field '{col}': must be a number >= 0",
                    )
                )
    if problems:
        raise WhatIfError(
            msg(
                f"{source}：{len(problems)} 个问题\n  - "
                + "\n  - ".join(in_lang(p, "zh") for p in problems),
                f"{source}: {len(problems)} problem(s)\n  - " + "\n  - ".join(problems),
            )
        )

    out = to_metric(proposals, metric_crs, name=source).copy()
    if out.index.has_duplicates:
        out = out.reset_index(drop=True)
    keys = [k for k, _ in found]
    out["facility_kind"] = keys
    out["layer"] = [kinds[k].layer for k in keys]
    values = [v for _, v in found]
    for key, spec in kinds.items():
        mask = (out["facility_kind"] == key).to_numpy()
        if not mask.any():
            continue
        given = out[spec.column] if spec.column in out.columns and spec.column != kind_col else None
        if given is not None:
            ok = given.isin(spec.values).to_numpy()
            values = [
                g if (m and o) else v for v, g, m, o in zip(values, given, mask, ok, strict=True)
            ]
    attr = {spec.layer: spec.column for spec in kinds.values()}
    for layer, column in attr.items():
        in_layer = (out["layer"] == layer).to_numpy()
        if in_layer.any():
            current = out[column] if column in out.columns and column != kind_col else None
            out[column] = np.where(in_layer, values, current if current is not None else None)
    out["proposal_id"] = [f"P{i + 1}" for i in range(len(out))]
    if "name" not in out.columns:
        out["name"] = out["proposal_id"]
    else:
        out["name"] = out["name"].where(out["name"].notna(), out["proposal_id"]).astype(str)
    for col in ("effective_area_m2", "capacity"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def _with_proposals(
    layers: Mapping[str, gpd.GeoDataFrame], proposals: gpd.GeoDataFrame
) -> dict[str, gpd.GeoDataFrame]:
    """Copies of the facility layers with the proposals appended (marked ``proposed=True``)."""
    out = dict(layers)
    for layer, rows in proposals.groupby("layer", sort=False):
        base = layers.get(layer)
        idcol = ID_COLUMNS[layer]
        rows = rows.assign(**{idcol: rows["proposal_id"], "proposed": True})
        if base is None or len(base) == 0:
            frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=proposals.crs)
        else:
            cols = list(
                dict.fromkeys([*base.columns, *[c for c in rows.columns if c in base.columns]])
            )
            extra = rows[[c for c in cols if c in rows.columns]]
            if "proposed" not in base.columns:
                base = base.assign(proposed=False)
            frame = pd.concat([base, extra.assign(proposed=True)], ignore_index=False)
            frame.index = pd.RangeIndex(len(frame)) if frame.index.has_duplicates else frame.index
            frame = gpd.GeoDataFrame(frame, geometry=base.geometry.name, crs=base.crs)
        out[layer] = frame
    return out


@dataclass
class WhatIfResult:
    """Before/after coverage and capacity of the kinds the proposals affect.

    ``newly_covered`` maps each kind to residents newly covered per population point;
    ``proposals`` has ``newly_covered`` per proposal (a resident newly covered by several
    proposals is counted for the nearest one).
    """

    proposals: gpd.GeoDataFrame
    before: dict[str, CoverageResult]
    after: dict[str, CoverageResult]
    newly_covered: dict[str, pd.Series]
    capacity_before: CapacityResult | None = None
    capacity_after: CapacityResult | None = None
    layers_after: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)

    @property
    def kinds(self) -> list[str]:
        return list(self.after)

    @property
    def total_newly_covered(self) -> int:
        """Residents newly covered, summed over kinds (a resident can count once per kind)."""
        return int(sum(int(s.sum()) for s in self.newly_covered.values()))

    def change(self) -> pd.DataFrame:
        """One row per affected kind: facilities, covered and share before and after."""
        rows = []
        for kind, after in self.after.items():
            before = self.before[kind]
            rows.append(
                {
                    "kind": kind,
                    "radius_m": after.radius_m,
                    "facilities_before": before.facilities,
                    "facilities_after": after.facilities,
                    "residents_total": after.residents_total,
                    "covered_before": before.residents_covered,
                    "covered_after": after.residents_covered,
                    "newly_covered": after.residents_covered - before.residents_covered,
                    "share_before": before.share,
                    "share_after": after.share,
                }
            )
        return pd.DataFrame(rows).set_index("kind") if rows else pd.DataFrame()

    def by_area(self, kind: str, level: str = "district") -> pd.DataFrame:
        """Covered before/after and newly covered per area of `level`, most gained first."""
        before = self.before[kind].by_level.get(level)
        after = self.after[kind].by_level.get(level)
        if before is None or after is None:
            return pd.DataFrame()
        table = pd.DataFrame(
            {
                "residents_total": after["residents_total"],
                "covered_before": before["residents_covered"].reindex(after.index).fillna(0),
                "covered_after": after["residents_covered"],
                "share_before": before["share_covered"].reindex(after.index),
                "share_after": after["share_covered"],
            },
            index=after.index,
        )
        table["covered_before"] = table["covered_before"].astype(np.int64)
        table["newly_covered"] = table["covered_after"] - table["covered_before"]
        if "name" in after.columns:
            table.insert(0, "name", after["name"])
        return table.sort_values("newly_covered", ascending=False, kind="stable")

    def capacity_change(self) -> pd.DataFrame:
        """Per shelter group: both capacity views before and after."""
        if self.capacity_before is None or self.capacity_after is None:
            return pd.DataFrame()
        rows = []
        for group, after in self.capacity_after.groups.items():
            before = self.capacity_before.groups[group]
            nb, na = before.nearest.summary(), after.nearest.summary()
            cb, ca = before.constrained.summary(), after.constrained.summary()
            rows.append(
                {
                    "group": group,
                    "shelters_before": nb["shelters"],
                    "shelters_after": na["shelters"],
                    "capacity_before": nb["capacity"],
                    "capacity_after": na["capacity"],
                    "overloaded_before": nb["overloaded_shelters"],
                    "overloaded_after": na["overloaded_shelters"],
                    "over_capacity_before": nb["residents_over_capacity"],
                    "over_capacity_after": na["residents_over_capacity"],
                    "placed_before": cb["residents_placed"],
                    "placed_after": ca["residents_placed"],
                    "newly_placed": ca["residents_placed"] - cb["residents_placed"],
                }
            )
        return pd.DataFrame(rows).set_index("group") if rows else pd.DataFrame()

    def summary(self) -> dict[str, Any]:
        change = self.change()
        return {
            "proposals": len(self.proposals),
            "kinds": {k: {c: _plain(v) for c, v in row.items()} for k, row in change.iterrows()},
            "capacity": {
                g: {c: _plain(v) for c, v in row.items()}
                for g, row in self.capacity_change().iterrows()
            },
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def apply_proposals(
    layers: Mapping[str, gpd.GeoDataFrame],
    proposals: gpd.GeoDataFrame,
    profile,
    *,
    before: Mapping[str, CoverageResult] | None = None,
    capacity_before: CapacityResult | None = None,
    levels: tuple[str, ...] = LEVELS,
) -> WhatIfResult:
    """Coverage (and shelter capacity, when shelters are proposed) with the proposals added.

    Parameters
    ----------
    layers
        Layers in the metric CRS with area codes on the population
        (:func:`geo.analysis.prepare`). Not modified.
    proposals
        New facilities (any CRS; converted to the layers' CRS), see the module docstring.
    profile
        City profile (radii, detour factor, per-capita areas).
    before, capacity_before
        Results already computed for `layers` and `profile` (optional; recomputed if absent
        or computed for another radius).
    """
    population = layers.get("population")
    if population is None:
        raise WhatIfError("layers: no population layer")
    require_projected(population, "population")
    props = normalise_proposals(proposals, population.crs, kinds=profile.facility_kinds)
    after_layers = _with_proposals(layers, props)
    res = residents_of(population)

    # a proposal serves every kind whose layer and class it matches: a street-level centre also
    # counts for community-level coverage, a fixed shelter for emergency coverage
    serves = {
        key: (props["layer"] == spec.layer).to_numpy()
        & props.get(spec.column, pd.Series(None, index=props.index)).isin(spec.values).to_numpy()
        for key, spec in profile.facility_kinds.items()
    }
    kinds = [k for k in profile.facility_kinds if serves[k].any()]
    before_out: dict[str, CoverageResult] = {}
    after_out: dict[str, CoverageResult] = {}
    newly: dict[str, pd.Series] = {}
    props["newly_covered"] = 0
    for kind in kinds:
        radius = radius_for(kind, profile)
        mode = profile.distance(kind)
        detour = 1.0 if mode == "network" else float(profile.radii.detour_factor)
        old = (before or {}).get(kind)
        if old is not None and (
            not old.distance.index.equals(population.index) or old.distance_mode != mode
        ):
            old = None
        existing = select_facilities(layers, profile.kind(kind))
        if old is None:
            if existing.crs is None:
                existing = existing.set_crs(population.crs)
            dist_before = nearest_by_mode(population, existing, layers, profile, kind)[0]
        else:
            dist_before = old.distance
        if old is None or old.radius_m != radius or old.detour_factor != detour:
            old = coverage_from_distance(
                population,
                dist_before,
                kind=kind,
                radius_m=radius,
                detour_factor=detour,
                facilities=len(existing),
                spec=profile.kind(kind),
                levels=levels,
                distance_mode=mode,
            )
        mine = props[serves[kind]]
        d_new, p_new, _ = nearest_by_mode(population, mine, layers, profile, kind)
        dist_after = pd.Series(
            np.minimum(dist_before.to_numpy(), d_new.to_numpy()),
            index=population.index,
            name="distance_m",
        )
        new = coverage_from_distance(
            population,
            dist_after,
            kind=kind,
            radius_m=radius,
            detour_factor=detour,
            facilities=len(existing) + len(mine),
            spec=profile.kind(kind),
            levels=levels,
            distance_mode=mode,
        )
        gained = new.covered.to_numpy() & ~old.covered.to_numpy()
        newly[kind] = pd.Series(
            np.where(gained, res, 0), index=population.index, name="newly_covered"
        )
        per_prop = (
            np.bincount(p_new.to_numpy()[gained], weights=res[gained], minlength=len(mine))
            .round()
            .astype(np.int64)
        )
        own = (mine["facility_kind"] == kind).to_numpy()  # report each proposal for its own kind
        props.loc[mine.index[own], "newly_covered"] = per_prop[own]
        before_out[kind], after_out[kind] = old, new

    cap_before = cap_after = None
    if (props["layer"] == "shelters").any():
        if "street_code" in population.columns:
            placed = _locate(props[(props["layer"] == "shelters").to_numpy()], layers)
            after_layers["shelters"] = _with_proposals(layers, placed)["shelters"]
        cap_before = capacity_before or capacity_all(layers, profile, population=population)
        cap_after = capacity_all(after_layers, profile, population=population)
        groups = {g for g, k in SHELTER_GROUPS.items() if k in kinds}
        cap_after.groups = {g: v for g, v in cap_after.groups.items() if g in groups}
    return WhatIfResult(
        proposals=props,
        before=before_out,
        after=after_out,
        newly_covered=newly,
        capacity_before=cap_before,
        capacity_after=cap_after,
        layers_after=after_layers,
    )


def _locate(props: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Proposals with the area codes of the grid/community/street/district they lie in."""
    return assign_areas(
        props,
        grids=layers.get("grids"),
        communities=layers.get("communities"),
        streets=layers.get("streets"),
        districts=layers.get("districts"),
    )
