"""Chinese-first UI text with an English switch.

Write UI strings inline as ``tr("网格", "Grids")``: the Chinese text is shown by default,
the English one when the user picks English in the sidebar. Field and layer labels come
from the layer schemas (``schema.label(lang())``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

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


def choose_text(options: Sequence[object], *, many: bool = False) -> str:
    """The placeholder of a select widget in the current language.

    Streamlit's own ("Choose an option", "Choose options", "No options to select") is English
    whatever the UI language, so every select widget gets this one (:func:`selectbox`,
    :func:`multiselect`).
    """
    if len(options) == 0:
        return tr("无可选项", "No options to select")
    return tr("请选择（可多选）", "Choose options") if many else tr("请选择", "Choose an option")


def _select(widget: str, container: Any, label: str, options: Iterable[object], **kwargs: Any):
    """Call `container`'s select `widget` with a placeholder in the current language."""
    options = list(options)
    if not options:
        kwargs["placeholder"] = choose_text(options)
        kwargs.setdefault("disabled", True)
    elif not kwargs.get("placeholder"):
        kwargs["placeholder"] = choose_text(options, many=(widget == "multiselect"))
    return getattr(container, widget)(label, options, **kwargs)


def selectbox(container: Any, label: str, options: Iterable[object], **kwargs: Any):
    """``container.selectbox(label, options, **kwargs)`` with a placeholder in the UI language.

    `container` is ``st``, a column, the sidebar or any other Streamlit container. With no
    options the box says so and is disabled, as Streamlit's is.
    """
    return _select("selectbox", container, label, options, **kwargs)


def multiselect(container: Any, label: str, options: Iterable[object], **kwargs: Any):
    """``container.multiselect(label, options, **kwargs)`` with a placeholder in the UI language."""
    return _select("multiselect", container, label, options, **kwargs)
