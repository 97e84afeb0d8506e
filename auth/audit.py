"""The audit trail as a table for people: readable columns and an XLSX export. No Streamlit."""

from __future__ import annotations

import io
import json

import pandas as pd

COLUMNS = {
    "at": ("时间（UTC）", "Time (UTC)"),
    "user_name": ("用户", "User"),
    "role": ("角色", "Role"),
    "action": ("操作", "Action"),
    "layer": ("图层", "Layer"),
    "rows_added": ("新增行", "Rows added"),
    "rows_changed": ("修改行", "Rows changed"),
    "rows_removed": ("删除行", "Rows removed"),
    "detail": ("详情", "Details"),
}


def audit_table(rows: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """Audit rows with labelled columns, times without zone (UTC) and details as JSON text."""
    out = rows.drop(columns=["id"], errors="ignore").copy()
    if len(out):
        out["at"] = out["at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.floor("s")
        out["detail"] = out["detail"].map(
            lambda d: json.dumps(d, ensure_ascii=False, sort_keys=True)
        )
    index = 0 if lang == "zh" else 1
    return out.rename(columns={k: v[index] for k, v in COLUMNS.items()})


def audit_xlsx(rows: pd.DataFrame, *, lang: str = "zh") -> bytes:
    """The audit rows as an XLSX workbook (one sheet)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        audit_table(rows, lang=lang).to_excel(writer, sheet_name="audit", index=False)
    return buffer.getvalue()
