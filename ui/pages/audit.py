"""Audit trail (planners and admins): who changed what and when, with filters and XLSX.

Read-only: the page offers no way to change or delete audit rows (nor does the store's
accounts interface).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from auth.audit import audit_table, audit_xlsx
from auth.storage import AUDIT_ACTIONS
from ui.auth import require
from ui.data_access import current_store
from ui.dates import date_range
from ui.i18n import lang, selectbox, tr
from ui.map_controls import demo_note
from ui.text import safe

KEY_RANGE = "audit_range"  # the ends of a custom range: audit_range_from, audit_range_to
KEY_USER, KEY_ACTION, KEY_LAYER = "audit_user", "audit_action", "audit_layer"

ACTION_LABELS = {
    "import": ("导入", "Import"),
    "edit": ("编辑", "Edit"),
    "user_add": ("新增用户", "User added"),
    "user_change": ("用户变更", "User changed"),
    "snapshot": ("快照", "Snapshot"),
}


def main() -> None:
    require("audit")
    st.title(tr("操作记录", "Audit trail"))
    st.caption(
        tr(
            "记录每次导入、编辑和用户变更：谁、何时、改了什么。记录只能追加，不能修改或删除。",
            "Every import, edit and user change: who, when, what. Rows can only be added, "
            "never changed or deleted.",
        )
    )
    demo_note()
    accounts = current_store().accounts()
    everything = accounts.read_audit()
    today = dt.datetime.now(dt.UTC).date()
    c1, c3, c4, c5 = st.columns(4)
    days = (
        everything["at"].dt.tz_convert("UTC").dt.date.unique().tolist() if len(everything) else []
    )
    start, end = date_range(
        c1,
        tr("时间（UTC）", "When (UTC)"),
        key=KEY_RANGE,
        today=today,
        days=days,
        custom_container=st.container(),
    )
    users = sorted(everything["user_name"].dropna().unique().tolist())
    user = selectbox(c3, tr("用户", "User"), users, index=None, key=KEY_USER, format_func=safe)
    actions = sorted(set(AUDIT_ACTIONS) | set(everything["action"].dropna()))
    action = selectbox(
        c4,
        tr("操作", "Action"),
        actions,
        index=None,
        key=KEY_ACTION,
        format_func=lambda a: ACTION_LABELS.get(a, (a, a))[0 if lang() == "zh" else 1],
    )
    layers = sorted(x for x in everything["layer"].dropna().unique() if x)
    layer = selectbox(c5, tr("图层", "Layer"), layers, index=None, key=KEY_LAYER, format_func=safe)
    since = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC) if start else None
    until = (
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC) if end else None
    )
    rows = accounts.read_audit(since=since, until=until, user_name=user, action=action, layer=layer)
    st.markdown(tr(f"共 {len(rows):,} 条记录。", f"{len(rows):,} rows."))
    st.dataframe(audit_table(rows, lang=lang()), hide_index=True)
    st.download_button(
        tr("下载 XLSX", "Download XLSX"),
        data=audit_xlsx(rows, lang=lang()),
        file_name=f"audit_{start or 'start'}_{end or today}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        key="audit_download",
    )


main()
