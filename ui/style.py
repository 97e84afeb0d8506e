"""Page-wide CSS that depends on the UI language: Streamlit's own widget texts, metric labels.

Streamlit's file uploader writes "Upload" and "200MB per file • CSV, ..." and a select box's
empty search "No results" in English whatever the page's language; in the Chinese UI the CSS
below hides them and shows Chinese text instead.
Metric labels wrap instead of being cut with "…" (long English KPI names).
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

#: A select box's search that matches nothing says so in Chinese (Streamlit writes "No results";
#: its empty-state row is the only option row shown as ``display: contents``).
SELECT_EMPTY_ZH = """
[data-testid="stSelectboxVirtualDropdown"] [role="option"][style*="contents"] > span {
  font-size: 0 !important;
}
[data-testid="stSelectboxVirtualDropdown"] [role="option"][style*="contents"] > span::after {
  content: "无匹配项"; font-size: 0.875rem;
}
"""


def uploader_css(lang: str, *, limit_mb: int | None = None) -> str:
    """The CSS for language `lang` (the uploader part only in Chinese)."""
    css = METRIC_CSS
    if lang == "zh":
        limit = limit_mb if limit_mb is not None else int(st.get_option("server.maxUploadSize"))
        css += UPLOADER_ZH.replace("{limit}", f"{limit:,}") + SELECT_EMPTY_ZH
    return css


def page_style(lang: str) -> None:
    """Add the language's CSS to the page (call once per run, from app.py)."""
    st.html(f"<style>{uploader_css(lang)}</style>")
