"""Excel export: one sheet per table, Chinese headers, numbers stored as numbers, column widths set."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.content import XLSX_FORMATS, ReportTable, display_width, format_value, xlsx_number

HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, used: set[str]) -> str:
    """A valid, unique sheet name (max 31 characters, no ``[]:*?/\\``)."""
    base = INVALID_SHEET_CHARS.sub("_", title).strip() or "Sheet"
    base = base[:31]
    name, n = base, 2
    while name in used:
        suffix = f"_{n}"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name)
    return name


def _cell_value(value: object) -> object:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_xlsx(tables: Sequence[ReportTable], path: str | os.PathLike) -> None:
    """Write each table to its own sheet (named by its title) of a new workbook at `path`."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for table in tables:
        ws = wb.create_sheet(sheet_name(table.title, used))
        frame = table.frame
        columns = [str(c) for c in frame.columns]
        ws.append(columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        fmts = [table.cell_formats(c) for c in frame.columns]
        widths = [display_width(c) for c in columns]
        for r, row in enumerate(frame.itertuples(index=False, name=None), start=2):
            values = [_cell_value(v) for v in row]
            ws.append(values)
            for i, v in enumerate(values):
                f = fmts[i][r - 2]
                if f != "text" and isinstance(v, int | float) and not isinstance(v, bool):
                    cell = ws.cell(row=r, column=i + 1)
                    cell.value = xlsx_number(v, f)
                    cell.number_format = XLSX_FORMATS[f]
                widths[i] = max(
                    widths[i], display_width(format_value(v, f) if v is not None else "")
                )
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = min(max(w + 2, 6), 60)
        ws.freeze_panes = "A2"
    if not wb.sheetnames:
        wb.create_sheet("空")
    wb.save(path)
