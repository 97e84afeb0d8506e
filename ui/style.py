"""Page-wide CSS that depends on the UI language: Streamlit's own widget texts, metric labels.

Streamlit writes some texts of its own in English whatever the page's language; in the Chinese
UI the CSS below hides them and shows Chinese text instead:

* the file uploader's "Upload" button and "200MB per file • CSV, ..." line;
* "No results" when the search of a select box or a multiselect matches nothing;
* "Press Enter to apply" / "Press Enter to submit form" (Ctrl+Enter in a text area) under a
  text or number input being edited;
* the "Stop" / "Stopping..." button beside the running indicator at the top right.

What CSS cannot reach stays English (texts Streamlit builds at run time, or shows in a pop-up
that cannot be told apart from others): the tooltips and column menu of a table's toolbar
(``st.dataframe``: "Download as CSV", "Search", "Fullscreen", sorting and formatting), the
tooltip on a refused file in the uploader ("... files are not allowed"), a multiselect's
"You can only select up to N options" (no page sets ``max_selections``) and screen-reader
labels ("Increment", "Clear all"). ``st.date_input`` is not used at all (:mod:`ui.dates`).
Metric labels wrap instead of being cut with "…" (long English KPI names). Placeholders of
elements still loading (the map's frame) stand still instead of shimmering.
"""

from __future__ import annotations

import streamlit as st

#: Metric labels and values wrap onto a second line instead of ending in "…".
METRIC_CSS = """
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *,
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  height: auto !important;
}
"""

#: Placeholders of elements still loading (``stSkeleton``: the map's frame until its map is
#: drawn) stand still. Their shimmer repaints the placeholder on every frame; without a GPU
#: Chromium paints it in software, and when many people open the explorer at once (each waiting
#: longer for their map) the shimmering took a large share of the machine the maps need
#: (bench/bench_concurrency.py --processes: the GPU process's CPU).
SKELETON_CSS = """
[data-testid="stSkeleton"] { animation: none !important; }
"""

#: The file uploader's button and limit line in Chinese (its English text is hidden).
UPLOADER_ZH = """
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {
  font-size: 0 !important;
}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "选择文件"; font-size: 0.875rem;
}
[data-testid="stFileUploaderDropzoneInstructions"] span { font-size: 0 !important; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "拖放文件到此处 · 单个文件不超过 {limit} MB"; font-size: 0.8rem;
}
"""

#: A select box's or multiselect's search that matches nothing says so in Chinese (Streamlit
#: writes "No results"; its empty-state row is the only option row shown as
#: ``display: contents``).
SELECT_EMPTY_ZH = """
:is([data-testid="stSelectboxVirtualDropdown"], [data-testid="stMultiSelectDropdown"])
  [role="option"][style*="contents"] > span {
  font-size: 0 !important;
}
:is([data-testid="stSelectboxVirtualDropdown"], [data-testid="stMultiSelectDropdown"])
  [role="option"][style*="contents"] > span::after {
  content: "无匹配项"; font-size: 0.875rem;
}
"""

#: The hint under a text or number input being edited: "Press Enter to apply" (or "to submit
#: form" inside a form; Ctrl/Cmd+Enter in a text area) is its first part; a length counter
#: ("12/500") may follow and is kept.
_HINT = '[data-testid="InputInstructions"] > span:first-child'
INPUT_HINTS_ZH = f"""
{_HINT} {{ font-size: 0 !important; }}
{_HINT}::after {{ content: "按 Enter 键确认"; font-size: 0.75rem; }}
[data-testid="stForm"] {_HINT}::after {{ content: "按 Enter 键提交表单"; }}
[data-testid="stTextArea"] {_HINT}::after {{ content: "按 Ctrl+Enter（Mac 上 ⌘+Enter）确认"; }}
[data-testid="stForm"] [data-testid="stTextArea"] {_HINT}::after {{
  content: "按 Ctrl+Enter（Mac 上 ⌘+Enter）提交表单";
}}
"""

#: The button beside the running indicator: "Stop", "Stopping..." once pressed (disabled).
_STOP = '[data-testid="stStatusWidgetRunningIcon"] ~ * button'
STATUS_ZH = f"""
{_STOP} {{ font-size: 0 !important; }}
{_STOP}::after {{ content: "停止"; font-size: 0.875rem; }}
{_STOP}:disabled::after {{ content: "正在停止…"; }}
"""


def uploader_css(lang: str, *, limit_mb: int | None = None) -> str:
    """The CSS for language `lang` (Streamlit's own texts replaced only in Chinese)."""
    css = METRIC_CSS + SKELETON_CSS
    if lang == "zh":
        limit = limit_mb if limit_mb is not None else int(st.get_option("server.maxUploadSize"))
        css += UPLOADER_ZH.replace("{limit}", f"{limit:,}") + SELECT_EMPTY_ZH
        css += INPUT_HINTS_ZH + STATUS_ZH
    return css


def page_style(lang: str) -> None:
    """Add the language's CSS to the page (call once per run, from app.py)."""
    st.html(f"<style>{uploader_css(lang)}</style>")
