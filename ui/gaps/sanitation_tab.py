"""Rural sanitation tab: villages below target, roll-ups by township and county."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.analysis import GapAnalysis
from ui.gaps.labels import in_language
from ui.gaps.tables import COLUMNS, table
from ui.i18n import tr


def show_sanitation(analysis: GapAnalysis) -> None:
    """Village summary, villages below target and roll-ups by township and county."""
    san = analysis.sanitation
    s = san.summary()
    if not s["villages"]:
        st.info(tr("没有行政村数据。", "No village data."))
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(tr("行政村", "Villages"), f"{s['villages']:,}")
    c2.metric(tr("未达标村", "Villages below target"), f"{s['villages_below_target']:,}")
    c3.metric(
        tr("卫生厕所普及率", "Sanitary-toilet penetration"),
        f"{(s['toilet_penetration'] or 0) * 100:.1f}%",
    )
    c4.metric(
        tr("有垃圾收运的村", "Villages with garbage collection"),
        f"{(s['share_with_garbage'] or 0) * 100:.1f}%",
    )
    villages = in_language(pd.DataFrame(san.below_target), "shortfalls")
    villages["toilet_pct"] = villages["toilet_penetration"] * 100
    keep = [c for c in COLUMNS if c in villages.columns and c not in ("code",)]
    st.markdown("**" + tr("未达标的行政村", "Villages below target") + "**")
    table(villages[keep], "gaps_villages_table", csv="villages_below_target.csv")
    for title, roll, key in (
        (tr("按乡镇", "By township"), san.township, "township"),
        (tr("按区县", "By county"), san.county, "county"),
    ):
        st.markdown(f"**{title}**")
        shown = roll.reset_index()
        for col in (
            "toilet_penetration",
            "share_meeting_toilet",
            "share_with_garbage",
            "share_with_sewage",
        ):
            shown[f"{col}_pct"] = shown.pop(col) * 100
        table(shown, f"gaps_san_{key}", csv=f"sanitation_{key}.csv")
