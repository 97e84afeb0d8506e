"""Bilingual messages for errors raised outside the UI (imports, schemas, what-if uploads).

A :class:`Msg` is a ``str`` holding the English text, so logs, tests and the command line keep
working with it as plain text; it also carries the Chinese text. The UI shows
``in_lang(message, lang())``; the command line follows ``$GRIDMAP_LANG`` or ``$LANG``
(:func:`cli_lang`). No Streamlit here: ``geo/``, ``data/`` and ``layers/`` use it freely.

>>> m = msg("文件为空", "file is empty")
>>> str(m), in_lang(m, "zh"), in_lang("plain text", "zh")
('file is empty', '文件为空', 'plain text')
"""

from __future__ import annotations

import os


class Msg(str):
    """English text (the string's value) with its Chinese version in ``zh``."""

    zh: str

    def __new__(cls, zh: str, en: str) -> Msg:
        obj = super().__new__(cls, en)
        obj.zh = zh
        return obj

    def __reduce__(self):
        return (Msg, (self.zh, str(self)))


def msg(zh: str, en: str) -> Msg:
    """A message in both languages."""
    return Msg(zh, en)


def in_lang(text: object, lang: str) -> str:
    """`text` in `lang` (``"zh"`` or ``"en"``); plain strings are returned as they are."""
    if lang == "zh" and isinstance(text, Msg):
        return text.zh
    return str(text)


def cli_lang() -> str:
    """Language of command-line messages: ``$GRIDMAP_LANG``, else ``$LANG`` (zh_CN... -> zh)."""
    chosen = os.environ.get("GRIDMAP_LANG") or os.environ.get("LANG") or ""
    return "zh" if chosen.lower().startswith("zh") else "en"
