"""Show a value literally where Streamlit renders Markdown.

Streamlit renders Markdown (links, images, emphasis, headings, lists, tables, code), raw HTML
tags as text or markup, its own directives (``:red[...]``, ``:material/home:``, ``:smile:``) and
LaTeX (``$x$``) in ``st.markdown``, ``st.error``/``info``/``warning``/``success``, ``st.caption``,
``st.title``/``header``/``subheader``, ``st.toast``, widget labels, tab and expander labels,
metric labels and help texts. A value that comes from a URL, an uploaded file or the store must
go through :func:`safe` before it is put into any of them::

    st.error(tr(f"没有网格“{safe(code)}”。", f"No grid “{safe(code)}”."))

The module is pure (no Streamlit import), so reports and exports can use it too.
"""

from __future__ import annotations

import math
import re
import string

import pandas as pd

__all__ = ["md_literal", "safe", "unescape"]

#: CommonMark lets a backslash escape every ASCII punctuation character, and Streamlit's
#: renderer honours it for its directives, LaTeX and the ``:material/`` icon shortcut too.
_PUNCT = frozenset(string.punctuation)
_SPACE_RUN = re.compile(r"\s+")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
#: Invisible WORD JOINER. GitHub-style autolinks (``https://x``, ``www.x``, ``a@b.c``) and emoji
#: shortcodes are found in the parsed text, after backslash escapes are resolved, so escaping
#: cannot stop them: a joiner after every ``:`` and ``@`` and inside ``www.`` does.
JOINER = "\u2060"
_BREAK = re.compile(r"(?<=[:@])|(?<=www)(?=\.)", re.IGNORECASE)


def safe(value: object, *, multiline: bool = False) -> str:
    """`value` as Markdown source that Streamlit shows character for character.

    Every ASCII punctuation character is backslash-escaped, so no link, image, emphasis,
    heading, list, table, code span, HTML tag or entity, ``:directive[...]``, ``:icon:`` or
    ``$LaTeX$`` can form, and an invisible :data:`JOINER` keeps bare web and mail addresses and
    emoji shortcodes from turning into links or pictures. ``None`` and NaN show as an empty string. Whitespace runs (line
    breaks included) become one space, so a value cannot start a block (an indented code
    block, a list item) either; with ``multiline=True`` line breaks are kept as Markdown hard
    breaks.

    Examples
    --------
    >>> safe("[sign in](evil.example)")
    '\\\\[sign in\\\\]\\\\(evil\\\\.example\\\\)'
    >>> unescape(safe("**bold** <b>x</b> :red[y] $z$"))
    '**bold** <b>x</b> :red[y] $z$'
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    text = str(value)
    if multiline:
        lines = [_SPACE_RUN.sub(" ", line).strip() for line in text.splitlines()]
        return "  \n".join(_escape(line) for line in lines)
    return _escape(_SPACE_RUN.sub(" ", text).strip())


#: The name the shared rules use for the same helper.
md_literal = safe


def unescape(source: str) -> str:
    """The text a reader sees for `source` made by :func:`safe`, without the joiners."""
    return _ESCAPED.sub(r"\1", source).replace(JOINER, "")


def _escape(text: str) -> str:
    text = _BREAK.sub(JOINER, text)
    return "".join("\\" + ch if ch in _PUNCT else ch for ch in text)
