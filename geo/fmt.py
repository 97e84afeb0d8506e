"""Numbers as people read them: thousands separators, units in the reader's language.

One module for the pages and the reports (pure: no Streamlit). Shares are fractions (0-1) and
are shown as percentages; a change of a share is in percentage points ("个百分点" / "pp"),
never "%".

>>> number(1004634)
'1,004,634'
>>> quantity(1350.4, "m")
'1,350 m'
>>> quantity(0.4567, "m²/人", decimals=2, lang="en")
'0.46 m²/person'
>>> pp_change(0.0123, lang="zh")
'+1.2 个百分点'
>>> pp_change(-0.00004)
'0.0 pp'
"""

from __future__ import annotations

import math

__all__ = [
    "MISSING",
    "UNITS",
    "is_zero",
    "number",
    "percent",
    "pp_change",
    "quantity",
    "signed",
    "unit",
]

#: What a missing value shows as.
MISSING = "—"
#: Units written in Chinese -> (Chinese, English) as a reader sees them after a number.
UNITS: dict[str, tuple[str, str]] = {
    "人": ("人", "persons"),
    "户": ("户", "households"),
    "个": ("个", ""),
    "位/人": ("位/人", "places/person"),
    "m²/人": ("m²/人", "m²/person"),
    "m²": ("m²", "m²"),
    "m": ("m", "m"),
    "km": ("km", "km"),
    "%": ("%", "%"),
    "个百分点": ("个百分点", "pp"),
}


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def unit(name: str, lang: str = "zh") -> str:
    """`name` (a unit as written in the profile or an indicator) in language `lang`."""
    zh, en = UNITS.get(name, (name, name))
    return zh if lang == "zh" else en


def number(value: object, decimals: int = 0) -> str:
    """`value` with thousands separators and `decimals` decimals; missing -> "—"."""
    if _missing(value):
        return MISSING
    return f"{float(value):,.{decimals}f}"


def quantity(value: object, unit_name: str, *, decimals: int = 0, lang: str = "zh") -> str:
    """A number with its unit: ``1,350 m``, ``1,234 人`` / ``1,234 persons``."""
    text = number(value, decimals)
    if text == MISSING:
        return text
    shown = unit(unit_name, lang)
    if not shown:
        return text
    return f"{text} {shown}"


def percent(share: object, decimals: int = 1) -> str:
    """A share (0-1) as a percentage: ``0.372 -> "37.2%"``."""
    if _missing(share):
        return MISSING
    return f"{float(share) * 100:,.{decimals}f}%"


def is_zero(change: object, decimals: int) -> bool:
    """True when `change` shows as zero at `decimals` decimals (no change to a reader)."""
    return _missing(change) or round(float(change), decimals) == 0


def signed(value: object, decimals: int = 0, unit_name: str = "", *, lang: str = "zh") -> str:
    """A change with its sign (``+1,200 人``); a change that rounds to zero has none."""
    if _missing(value):
        return MISSING
    zero = is_zero(value, decimals)
    text = f"{0:.{decimals}f}" if zero else f"{float(value):+,.{decimals}f}"
    shown = unit(unit_name, lang) if unit_name else ""
    return f"{text} {shown}" if shown else text


def pp_change(change: object, decimals: int = 1, *, lang: str = "en") -> str:
    """A change of a share (0-1 scale) in percentage points: ``+1.2 个百分点`` / ``+1.2 pp``."""
    if _missing(change):
        return MISSING
    return signed(float(change) * 100, decimals, "个百分点", lang=lang)
