"""Layer data contracts: fields, types, ranges, geometry types and bilingual labels.

A :class:`LayerSchema` normalises a frame's column names (English names, Chinese aliases,
near-misses), coerces types and validates every row, collecting all problems before raising
one :class:`SchemaError` that names the source, row and field of each.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.messages import Msg, in_lang, msg

DTYPES = ("str", "int", "float", "bool")
TRUE_WORDS = {"1", "true", "yes", "y", "t", "是", "有", "已", "√", "✓"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "否", "无", "未", "×", ""}


class SchemaError(ValueError):
    """A frame does not meet its layer's data contract. ``problems`` lists every issue.

    ``str(error)`` is English; :meth:`text` gives it in either language.
    """

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p.row is not None, p.row or 0))
        super().__init__(self.text("en"))

    def text(self, lang: str = "en") -> str:
        """The error in `lang` (``"zh"`` or ``"en"``)."""
        return problems_text(self.source, self.problems, lang, single_line=False)


def problems_text(
    source: str, problems: list[Problem], lang: str = "en", *, single_line: bool = True
) -> str:
    """`source` and its problems as text in `lang`: one line for a single problem (when
    `single_line`), else a count and one line per problem (at most 50)."""
    if single_line and len(problems) == 1:
        return f"{source}: {problems[0].text(lang)}"
    shown = problems[:50]
    head = (
        f"{source}：{len(problems)} 个问题"
        if lang == "zh"
        else f"{source}: {len(problems)} problem(s)"
    )
    lines = [head] + [f"  - {p.text(lang)}" for p in shown]
    if len(problems) > len(shown):
        more = len(problems) - len(shown)
        lines.append(f"  …… 另有 {more} 个" if lang == "zh" else f"  ... and {more} more")
    return "\n".join(lines)


@dataclass(frozen=True)
class Problem:
    """One validation problem. ``row`` is the 1-based data row of the source file, if known."""

    message: str
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        return self.text("en")

    def text(self, lang: str = "en") -> str:
        """The problem in `lang`: where (row, field) and the message."""
        message = in_lang(self.message, lang)
        where = []
        if lang == "zh":
            if self.row is not None:
                where.append(f"第 {self.row} 行")
            if self.field:
                where.append(f"字段“{self.field}”")
            return f"{'，'.join(where)}：{message}" if where else message
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {message}" if where else message


@dataclass(frozen=True)
class Field:
    """One attribute of a layer."""

    name: str
    dtype: str
    label_zh: str
    label_en: str
    required: bool = True
    aliases: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    unique: bool = False
    pattern: str | None = None
    nullable: bool = False
    sensitive: bool = False

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"field {self.name}: dtype must be one of {DTYPES}")

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class Category:
    """One value of a layer's category field: its labels and map symbol."""

    label_zh: str
    label_en: str
    color: str
    radius: float = 6.0
    """Point symbol radius, pixels."""
    style: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """Further path options of lines (``weight``, ``dashArray``...)."""

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class LayerView:
    """How the app shows a layer: menu and draw order, tooltip and popup, categories, style.

    The explorer lists every layer with a view (in the order of ``layers.LAYERS``), the renderer
    draws them by `order`, the popups and tables label values with `categories`.
    """

    order: int
    """Draw order on the map: lower is drawn first (areas below lines below points)."""
    tooltip: tuple[str, ...]
    popup: tuple[str, ...]
    style: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """Base map style (colour, weight, radius...) of the features."""
    category_field: str | None = None
    categories: Mapping[str, Category] = field(default_factory=dict, compare=False)
    kind_categories: bool = False
    """The categories are the facility kinds the city profile declares on this layer."""
    facility: bool = False
    """A point facility layer: filtered by area on the explorer, listed on My grid."""
    located: bool = False
    """The analysis gives its features grid/community/street/district codes."""
    search: tuple[str, str] | None = None
    """(code field, name field) searched on the explorer, or None."""
    shown: bool = True
    """Shown when the explorer opens."""
    classify: Callable[[pd.DataFrame], pd.Series] | None = field(default=None, compare=False)
    """The category of each row when it is derived from several fields (roads: class, bridge,
    tunnel) instead of read from `category_field`."""


@dataclass(frozen=True)
class LayerSchema:
    """The data contract of one layer, and (``view``) how the app shows it."""

    name: str
    label_zh: str
    label_en: str
    geometry_types: tuple[str, ...]
    fields: tuple[Field, ...]
    key: str | None = None
    checks: tuple = field(default=(), compare=False)
    view: LayerView | None = field(default=None, compare=False)
    """None: the layer is not drawn on the maps."""

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def categories(self, kinds: Mapping[str, Any] | None = None) -> dict[str, Category]:
        """Category value -> :class:`Category`; for a layer of profile kinds, from `kinds`
        (``profile.facility_kinds``)."""
        if self.view is None:
            return {}
        if not self.view.kind_categories:
            return dict(self.view.categories)
        out = {}
        radius = float(self.view.style.get("radius", 6))
        for spec in (kinds or {}).values():
            if spec.layer == self.name:
                for value in spec.own_values:
                    out[value] = Category(spec.label_zh, spec.label_en, spec.color, radius)
        return out

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def get_field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def field_labels(self, lang: str = "zh") -> dict[str, str]:
        return {f.name: f.label(lang) for f in self.fields}

    def empty(self, crs: str) -> gpd.GeoDataFrame:
        """An empty frame with this layer's columns."""
        cols = {f.name: pd.Series(dtype=_pandas_dtype(f.dtype)) for f in self.fields}
        return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)

    # ------------------------------------------------------------------ columns
    def column_mapping(self, columns: list[str]) -> tuple[dict[str, str], list[Problem]]:
        """Map source column names to field names.

        Exact names, Chinese aliases and case/space/underscore variants are accepted. A missing
        required field is a problem; a near-miss source column is named as a likely misspelling.
        """

        def norm(text: str) -> str:
            return re.sub(r"[\s_\-()（）]+", "", str(text)).lower()

        lookup: dict[str, str] = {}
        for f in self.fields:
            for alias in (f.name, f.label_zh, f.label_en, *f.aliases):
                lookup.setdefault(norm(alias), f.name)
        mapping: dict[str, str] = {}
        for col in columns:
            target = lookup.get(norm(col))
            if target and target not in mapping.values():
                mapping[col] = target
        problems = []
        unused = [c for c in columns if c not in mapping and c != "geometry"]
        for f in self.fields:
            if f.required and f.name not in mapping.values():
                hint = difflib.get_close_matches(
                    norm(f.name), [norm(c) for c in unused], n=1, cutoff=0.75
                )
                if hint:
                    original = next(c for c in unused if norm(c) == hint[0])
                    text = msg(
                        f"缺少必填列（“{original}”是否为“{f.name}”的拼写错误？）",
                        f"required column missing (is '{original}' a misspelling of '{f.name}'?)",
                    )
                else:
                    accepted = ", ".join(dict.fromkeys((f.name, f.label_zh, *f.aliases)))
                    text = msg(
                        f"缺少必填列（可用的列名：{accepted}）",
                        f"required column missing (accepted names: {accepted})",
                    )
                problems.append(Problem(text, field=f.name))
        return mapping, problems

    # ------------------------------------------------------------------ validation
    def validate(
        self, frame: gpd.GeoDataFrame, *, source: str = "data", row_base: int = 1
    ) -> gpd.GeoDataFrame:
        """Return a copy with canonical columns and types, or raise :class:`SchemaError`.

        Parameters
        ----------
        frame
            Data to check. Columns may use Chinese or alias names.
        source
            File name used in messages.
        row_base
            Row number of the frame's first row in the source file (1 = first data row).
        """
        mapping, problems = self.column_mapping(list(frame.columns))
        data = frame.rename(columns=mapping)
        keep = [f.name for f in self.fields if f.name in data.columns]
        rows = np.arange(len(data)) + row_base

        out = {}
        for f in self.fields:
            if f.name not in data.columns:
                out[f.name] = pd.Series([None] * len(data), index=data.index, dtype=object)
                continue
            values, bad = _coerce(data[f.name], f)
            out[f.name] = values
            for pos in np.flatnonzero(bad):
                raw = data[f.name].iloc[pos]
                raw = raw.item() if isinstance(raw, np.generic) else raw
                problems.append(Problem(_bad_value(raw, f), int(rows[pos]), f.name))
            problems.extend(_range_problems(values, f, rows, bad))
        result = gpd.GeoDataFrame(
            {k: out[k] for k in self.field_names},
            geometry=frame.geometry.values,
            crs=frame.crs,
            index=frame.index,
        )
        problems.extend(self._geometry_problems(result, rows))
        for check in self.checks:
            problems.extend(check(result, rows))
        if problems:
            raise SchemaError(source, problems)
        del keep
        return result

    def _geometry_problems(self, frame: gpd.GeoDataFrame, rows: np.ndarray) -> list[Problem]:
        geoms = frame.geometry
        problems = []
        missing = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
        for pos in np.flatnonzero(missing):
            problems.append(
                Problem(
                    msg("缺少几何或几何为空", "geometry is missing or empty"),
                    int(rows[pos]),
                    "geometry",
                )
            )
        types = geoms.geom_type.to_numpy()
        wrong = ~missing & ~np.isin(types, list(self.geometry_types))
        for pos in np.flatnonzero(wrong):
            problems.append(
                Problem(
                    msg(
                        f"几何类型为 {types[pos]}，应为 {' 或 '.join(self.geometry_types)}",
                        f"geometry is {types[pos]}, expected {' or '.join(self.geometry_types)}",
                    ),
                    int(rows[pos]),
                    "geometry",
                )
            )
        return problems


def _pandas_dtype(dtype: str) -> str:
    return {"str": "object", "int": "Int64", "float": "float64", "bool": "boolean"}[dtype]


def _dtype_words(dtype: str, lang: str = "en") -> str:
    if lang == "zh":
        return {
            "str": "文本",
            "int": "整数",
            "float": "数字",
            "bool": "是/否（是/否、1/0、true/false）",
        }[dtype]
    return {
        "str": "text",
        "int": "a whole number",
        "float": "a number",
        "bool": "yes/no (是/否, 1/0, true/false)",
    }[dtype]


# Largest magnitude kept: whole numbers must be exact in a float64 (2**53), numbers finite.
_LARGEST = {"int": float(2**53), "float": np.finfo("float64").max}


def _bad_value(raw: object, f: Field) -> Msg:
    """Why `raw` was refused for field `f`."""
    if f.dtype in ("int", "float"):
        number = pd.to_numeric(str(raw).replace(",", "").strip(), errors="coerce")
        if pd.notna(number) and not abs(float(number)) <= _LARGEST[f.dtype]:
            limit = "9,007,199,254,740,992" if f.dtype == "int" else "1.8e308"
            return msg(
                f"{raw!r} 太大（最大可接受 {limit}）",
                f"{raw!r} is too large (largest accepted: {limit})",
            )
    return msg(
        f"{raw!r} 不是{_dtype_words(f.dtype, 'zh')}", f"{raw!r} is not {_dtype_words(f.dtype)}"
    )


def _is_blank(series: pd.Series) -> np.ndarray:
    return (series.isna() | (series.astype(str).str.strip() == "")).to_numpy()


def _coerce(series: pd.Series, f: Field) -> tuple[pd.Series, np.ndarray]:
    """Coerce `series` to the field's type; return values and a mask of unparseable rows."""
    blank = _is_blank(series)
    if f.dtype == "str":
        values = series.astype(object).where(~blank, None)
        values = values.map(lambda v: v if v is None else str(v).strip())
        # integers read as floats (e.g. 101.0 from Excel) keep their integer text
        values = values.map(
            lambda v: v[:-2] if isinstance(v, str) and re.fullmatch(r"-?\d+\.0", v) else v
        )
        return values, np.zeros(len(series), bool)
    if f.dtype in ("int", "float"):
        text = series.astype(str).str.replace(",", "", regex=False).str.strip()
        nums = pd.to_numeric(text.where(~blank, None), errors="coerce").astype("float64")
        arr = nums.to_numpy()
        with np.errstate(invalid="ignore"):
            out_of_range = ~np.isnan(arr) & ~(np.abs(arr) <= _LARGEST[f.dtype])
        bad = (np.isnan(arr) & ~blank) | out_of_range
        nums = nums.where(~out_of_range)
        if f.dtype == "int":
            frac = nums.notna().to_numpy() & (np.mod(nums.fillna(0).to_numpy(), 1) != 0)
            bad |= frac
            nums = nums.where(~frac).round().astype("Int64")
        return nums, bad
    # bool
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean"), np.zeros(len(series), bool)
    if pd.api.types.is_numeric_dtype(series):  # 1/0 (e.g. 1.0/0.0/NaN from GDAL)
        nums = series.astype("float64").to_numpy()
        values = pd.Series(pd.array(nums == 1, dtype="boolean"), index=series.index)
        values[blank] = pd.NA
        return values, ~(blank | (nums == 1) | (nums == 0))
    text = series.astype(str).str.strip().str.lower()
    is_true = text.isin(TRUE_WORDS).to_numpy()
    is_false = text.isin(FALSE_WORDS).to_numpy() | blank
    values = pd.Series(
        pd.array(np.where(is_true, True, False), dtype="boolean"), index=series.index
    )
    values[blank] = pd.NA
    return values, ~(is_true | is_false)


def _range_problems(
    values: pd.Series, f: Field, rows: np.ndarray, bad: np.ndarray
) -> list[Problem]:
    problems = []
    present = ~_is_blank(values) & ~bad
    if f.required and not f.nullable:
        for pos in np.flatnonzero(_is_blank(values) & ~bad):
            problems.append(Problem(msg("缺少数值", "value is missing"), int(rows[pos]), f.name))
    if f.dtype in ("int", "float"):
        arr = values.astype("float64").to_numpy()
        if f.min is not None:
            for pos in np.flatnonzero(present & (arr < f.min)):
                problems.append(
                    Problem(
                        msg(
                            f"{values.iloc[pos]} 小于 {f.min:g}",
                            f"{values.iloc[pos]} is below {f.min:g}",
                        ),
                        int(rows[pos]),
                        f.name,
                    )
                )
        if f.max is not None:
            for pos in np.flatnonzero(present & (arr > f.max)):
                problems.append(
                    Problem(
                        msg(
                            f"{values.iloc[pos]} 大于 {f.max:g}",
                            f"{values.iloc[pos]} is above {f.max:g}",
                        ),
                        int(rows[pos]),
                        f.name,
                    )
                )
    if f.choices is not None:
        ok = values.isin(f.choices).to_numpy()
        for pos in np.flatnonzero(present & ~ok):
            problems.append(
                Problem(
                    msg(
                        f"{values.iloc[pos]!r} 不是可选值之一（{', '.join(f.choices)}）",
                        f"{values.iloc[pos]!r} is not one of {', '.join(f.choices)}",
                    ),
                    int(rows[pos]),
                    f.name,
                )
            )
    if f.pattern is not None:
        ok = values.astype(str).str.fullmatch(f.pattern).to_numpy()
        for pos in np.flatnonzero(present & ~ok):
            problems.append(
                Problem(
                    msg(
                        f"{values.iloc[pos]!r} 不符合格式 {f.pattern}",
                        f"{values.iloc[pos]!r} does not match the pattern {f.pattern}",
                    ),
                    int(rows[pos]),
                    f.name,
                )
            )
    if f.unique:
        dup = values.duplicated(keep=False).to_numpy() & present
        for pos in np.flatnonzero(dup):
            first = int(rows[np.flatnonzero(present & (values == values.iloc[pos]).to_numpy())[0]])
            if int(rows[pos]) != first:
                problems.append(
                    Problem(
                        msg(
                            f"编码 {values.iloc[pos]!r} 重复（首次出现在第 {first} 行）",
                            f"duplicate code {values.iloc[pos]!r} (first at row {first})",
                        ),
                        int(rows[pos]),
                        f.name,
                    )
                )
    return problems


def not_greater(small: str, large: str):
    """A cross-field check: ``small <= large`` on every row where both are present."""

    def check(frame: gpd.GeoDataFrame, rows: np.ndarray) -> list[Problem]:
        a = frame[small].astype("float64").to_numpy()
        b = frame[large].astype("float64").to_numpy()
        over = np.flatnonzero(~np.isnan(a) & ~np.isnan(b) & (a > b))
        return [
            Problem(
                msg(
                    f"{small}（{a[p]:g}）大于 {large}（{b[p]:g}）",
                    f"{small} ({a[p]:g}) is greater than {large} ({b[p]:g})",
                ),
                int(rows[p]),
                small,
            )
            for p in over
        ]

    return check


def mask_phone(value: object) -> str:
    """Mask a phone number for display: ``13812341234`` -> ``138****1234``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = re.sub(r"\D", "", str(value))
    if len(text) < 7:
        return "*" * len(text)
    return f"{text[:3]}{'*' * (len(text) - 7)}{text[-4:]}"


# Fields several facility layers share, said once (centres, facilities, shelters).
FLOOR_AREA = Field(
    "area_m2",
    "float",
    "建筑面积(m²)",
    "Floor area (m²)",
    aliases=("面积", "建筑面积"),
    min=0,
    required=False,
    nullable=True,
)
"""A facility's floor area in m² (optional)."""
OPENED_PERIOD = Field(
    "opened_period", "str", "建成时期", "Opened (period)", required=False, nullable=True
)
"""The period a facility opened in, e.g. ``2026-Q1`` (optional; the Progress page's new sites)."""
