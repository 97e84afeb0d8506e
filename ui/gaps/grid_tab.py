"""Grid checks tab: problem counts and the list of problems."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.analysis import GapAnalysis
from geo.grid_qa import CHECKS
from ui.gaps.labels import in_language, pair
from ui.gaps.locate import show_on_map, with_grid_names
from ui.gaps.tables import table
from ui.i18n import tr


def show_grid_checks(analysis: GapAnalysis) -> None:
    """Problem counts per check and every problem found in the grids."""
    result = analysis.grid_checks
    s = result.summary()
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("网格", "Grids"), f"{s['grids']:,}")
    c2.metric(tr("问题", "Problems"), f"{s['problems']:,}")
    c3.metric(tr("重叠面积", "Overlap area"), f"{s['overlap_area_m2']:,.0f} m²")
    counts = pd.DataFrame(
        {
            "check": [pair(v) for v in CHECKS.values()],
            "problems": [s["by_check"][k] for k in CHECKS],
        }
    )
    table(counts, "gaps_check_counts")
    problems = in_language(pd.DataFrame(result.problems), "detail")
    problems["check"] = problems["check"].map(lambda c: pair(CHECKS.get(c, (c, c))))
    problems = with_grid_names(analysis, problems)
    picked = table(problems, "gaps_problems_table", csv="grid_problems.csv", select=True)
    show_on_map(result.problems, picked, key="gaps_problems_map")
