"""The content of a report, independent of its format.

:func:`reports.build.report_content` fills a :class:`ReportContent` from the analysis; the
writers (:mod:`reports.pdf`, :mod:`reports.pptx`, :mod:`reports.xlsx`) lay it out. Tables keep
raw numbers plus a format per column, so the XLSX stores numbers and the PDF/PPTX show the
same text the app shows (:func:`format_value`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Column formats: "percent" (share 0-1 shown with one decimal), "pp" (change of a share, in
# percentage points, signed; the XLSX stores it in points: :func:`xlsx_number`), "int", "float1"-"float3", "signed1"-"signed3" (signed changes), "text".
FORMATS = (
    "percent",
    "pp",
    "int",
    "float1",
    "float2",
    "float3",
    "signed1",
    "signed2",
    "signed3",
    "text",
)
XLSX_FORMATS = {
    "percent": "0.0%",
    # a change of a share is stored in percentage points (0.6 -> 60.0) and shown as such
    "pp": '+0.0" 个百分点";-0.0" 个百分点";0.0" 个百分点"',
    "int": "#,##0",
    "float1": "#,##0.0",
    "float2": "#,##0.00",
    "float3": "#,##0.000",
    "signed1": "+#,##0.0;-#,##0.0;0.0",
    "signed2": "+#,##0.00;-#,##0.00;0.00",
    "signed3": "+#,##0.000;-#,##0.000;0.000",
    "text": "@",
}


def xlsx_number(value: float, fmt: str) -> float:
    """The number an XLSX cell of format `fmt` stores: a "pp" change in percentage points."""
    return value * 100 if fmt == "pp" else value


def display_width(text: object) -> int:
    """Width of `text` in Latin character units (CJK characters count double)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))


def format_value(value: object, fmt: str) -> str:
    """Text of one value in a column format (``—`` for missing values)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return "—"
    if fmt == "percent":
        return f"{float(value) * 100:.1f}%"
    if fmt == "pp":
        return f"{float(value) * 100:+.1f} 个百分点"
    if fmt.startswith("signed"):
        return f"{float(value):+,.{int(fmt[-1])}f}"
    if fmt == "int":
        return f"{float(value):,.0f}"
    if fmt.startswith("float"):
        return f"{float(value):,.{int(fmt[-1])}f}"
    return str(value)


@dataclass
class ReportTable:
    """A table with Chinese headers and a display format per column."""

    key: str
    title: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    note: str = ""
    row_formats: dict[str, list[str]] = field(default_factory=dict)  # per-row formats of a column

    def fmt(self, column: str) -> str:
        if column in self.formats:
            return self.formats[column]
        dtype = self.frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            return "text"
        if pd.api.types.is_integer_dtype(dtype):
            return "int"
        if pd.api.types.is_float_dtype(dtype):
            return "float2"
        return "text"

    def cell_formats(self, column: str) -> list[str]:
        """Format of every cell of `column` (per-row formats where given)."""
        if column in self.row_formats:
            return list(self.row_formats[column])
        return [self.fmt(column)] * len(self.frame)

    def text_rows(self, limit: int | None = None) -> list[list[str]]:
        """Rows as display text (optionally the first `limit` rows)."""
        frame = self.frame if limit is None else self.frame.head(limit)
        fmts = [self.cell_formats(c)[: len(frame)] for c in frame.columns]
        return [
            [format_value(v, fmts[j][i]) for j, v in enumerate(row)]
            for i, row in enumerate(frame.itertuples(index=False, name=None))
        ]


@dataclass
class ReportFigure:
    """A rendered map or chart (PNG bytes)."""

    title: str
    png: bytes
    caption: str = ""


@dataclass
class ReportSection:
    """One theme: its maps/charts, tables and key figures (label, value text)."""

    key: str
    title: str
    figures: list[ReportFigure] = field(default_factory=list)
    tables: list[ReportTable] = field(default_factory=list)
    key_figures: list[tuple[str, str]] = field(default_factory=list)
    status: list[tuple[str, str]] = field(default_factory=list)  # (indicator name, status)


@dataclass
class ReportContent:
    """Everything a report shows."""

    title: str
    city: str
    period: str
    date: str
    synthetic: bool
    summary: ReportTable
    sections: list[ReportSection] = field(default_factory=list)
    lists: list[ReportTable] = field(default_factory=list)
    comparison: ReportTable | None = None
    previous_period: str | None = None
    parameters: list[tuple[str, str]] = field(default_factory=list)
    summary_figures: list[ReportFigure] = field(default_factory=list)
    period_note: str = ""  # where the figures come from (snapshot or current data), on the cover

    def all_tables(self) -> list[ReportTable]:
        tables = [self.summary]
        if self.comparison is not None:
            tables.append(self.comparison)
        for section in self.sections:
            tables.extend(section.tables)
        tables.extend(self.lists)
        return tables
