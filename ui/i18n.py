"""Chinese-first UI text with an English switch.

Write UI strings inline as ``tr("网格", "Grids")``: the Chinese text is shown by default,
the English one when the user picks English in the sidebar. Field and layer labels come
from the layer schemas (``schema.label(lang())``).
"""

from __future__ import annotations

import streamlit as st

LANG_KEY = "lang"
LANGS = {"zh": "简体中文", "en": "English"}


def lang() -> str:
    """The current UI language code, ``"zh"`` (default) or ``"en"``."""
    return st.session_state.get(LANG_KEY, "zh")


def tr(zh: str, en: str) -> str:
    """Pick the text for the current language."""
    return zh if lang() == "zh" else en


def language_switch() -> None:
    """Sidebar control that sets the UI language (kept in the URL as ``?lang=en``)."""
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = "en" if st.query_params.get("lang") == "en" else "zh"
    st.sidebar.radio(
        "语言 / Language",
        options=list(LANGS),
        format_func=LANGS.get,
        key=LANG_KEY,
        horizontal=True,
    )
