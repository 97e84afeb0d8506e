"""Date pickers whose every text is ours.

Streamlit's ``st.date_input`` opens BaseWeb's calendar, whose month and weekday names are
English whatever the UI language (Streamlit offers no locale). These pickers are select
boxes (:func:`ui.i18n.selectbox`) over days written by :func:`day_label`, so they follow the
UI language like every other text:

* :func:`date_range`: presets a staff member filtering a log reaches for (今天 / 最近 7 天 /
  最近 30 天 / 全部) and a custom range whose ends are picked among the days that have rows;
* :func:`day_picker`: one day among a list (e.g. the days of this and last quarter).

The range arithmetic (:func:`preset_range`) and the labels are plain functions, tested
without Streamlit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ui.i18n import lang, selectbox, tr

WEEKDAYS = (
    ("周一", "Mon"),
    ("周二", "Tue"),
    ("周三", "Wed"),
    ("周四", "Thu"),
    ("周五", "Fri"),
    ("周六", "Sat"),
    ("周日", "Sun"),
)

#: The range presets: key -> (Chinese, English, days back from today; None for every day).
PRESETS: dict[str, tuple[str, str, int | None]] = {
    "today": ("今天", "Today", 0),
    "7d": ("最近 7 天", "Last 7 days", 6),
    "30d": ("最近 30 天", "Last 30 days", 29),
    "all": ("全部", "All", None),
}
CUSTOM = "custom"
"""The choice that shows the two ends of the range."""


def day_label(day: dt.date, *, language: str = "zh", today: dt.date | None = None) -> str:
    """`day` as ISO date and weekday in `language`; 今天/昨天 (Today/Yesterday) before it.

    >>> day_label(dt.date(2026, 11, 30), language="en", today=dt.date(2026, 12, 1))
    'Yesterday · 2026-11-30 Mon'
    """
    zh, en = WEEKDAYS[day.weekday()]
    text = f"{day.isoformat()} {zh if language == 'zh' else en}"
    if today is not None and day in (today, today - dt.timedelta(days=1)):
        word = (("今天", "Today"), ("昨天", "Yesterday"))[day != today]
        text = f"{word[0] if language == 'zh' else word[1]} · {text}"
    return text


def preset_range(choice: str, *, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """First and last day (both included) of preset `choice`; ``(None, None)`` for every day.

    >>> preset_range("7d", today=dt.date(2026, 12, 1))
    (datetime.date(2026, 11, 25), datetime.date(2026, 12, 1))
    """
    if choice not in PRESETS:
        raise ValueError(f"unknown date range {choice!r}: one of {', '.join(PRESETS)}")
    back = PRESETS[choice][2]
    if back is None:
        return None, None
    return today - dt.timedelta(days=back), today


def range_label(choice: str, *, language: str = "zh") -> str:
    """The text of a range choice (a preset or :data:`CUSTOM`)."""
    if choice == CUSTOM:
        return "自定义…" if language == "zh" else "Custom…"
    zh, en, _ = PRESETS[choice]
    return zh if language == "zh" else en


def date_range(
    container: Any,
    label: str,
    *,
    key: str,
    today: dt.date,
    days: Sequence[dt.date],
    default: str = "30d",
    custom_container: Any = None,
) -> tuple[dt.date | None, dt.date | None]:
    """A range picker: presets, or a custom range between `days` (e.g. those that have rows).

    Returns the first and last day, both included (``None`` for an open end). The custom
    range's two boxes go into `custom_container` (two columns of it), else below `container`'s
    box. Keys: `key` for the choice, ``key + "_from"`` and ``key + "_to"`` for the ends.
    """
    choices = [*PRESETS, CUSTOM]
    language = lang()
    choice = selectbox(
        container,
        label,
        choices,
        index=choices.index(default),
        key=key,
        format_func=lambda c: range_label(c, language=language),
    )
    if choice != CUSTOM:
        return preset_range(choice or default, today=today)
    where = custom_container if custom_container is not None else container
    left, right = where.columns(2)
    ordered = sorted(set(days), reverse=True)  # newest first: the usual pick is recent

    def show(day: dt.date) -> str:
        return day_label(day, language=language, today=today)

    start = selectbox(
        left,
        tr("从", "From"),
        ordered,
        index=len(ordered) - 1 if ordered else None,
        key=f"{key}_from",
        format_func=show,
    )
    end = selectbox(
        right,
        tr("到", "To"),
        ordered,
        index=0 if ordered else None,
        key=f"{key}_to",
        format_func=show,
    )
    if start is not None and end is not None and start > end:
        start, end = end, start
    return start, end


def day_picker(
    container: Any, label: str, *, days: Sequence[dt.date], today: dt.date, key: str | None = None
) -> dt.date:
    """One day among `days` (newest first, `today` preselected when listed)."""
    ordered = sorted(set(days), reverse=True)
    if not ordered:
        raise ValueError("day_picker needs at least one day to offer")
    language = lang()
    return selectbox(
        container,
        label,
        ordered,
        index=ordered.index(today) if today in ordered else 0,
        key=key,
        format_func=lambda d: day_label(d, language=language, today=today),
    )
