"""Facility kinds and the bilingual labels shared by the tabs of the gaps page."""

from __future__ import annotations

from geo.areas import LEVEL_LABELS, LEVELS
from ui import data_access as da
from ui.i18n import lang, tr


def kinds() -> list[str]:
    """Facility kinds of the city profile, in their declaration (display) order."""
    return list(da.profile().facility_kinds)


#: Shelter groups of the capacity analysis.
GROUP_LABELS = {
    "emergency": ("紧急", "Emergency"),
    "fixed": ("固定", "Fixed"),
    "central": ("中心", "Central"),
}
#: Coordinate systems a typed or uploaded point may be given in.
DATUMS = {
    "wgs84": ("WGS84 / GPS", "WGS84 / GPS"),
    "gcj02": ("GCJ-02（高德/腾讯）", "GCJ-02 (Amap/Tencent)"),
    "bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
}


def pair(labels: tuple[str, str]) -> str:
    """The (Chinese, English) label in the current language."""
    return tr(*labels)


def in_language(frame, column: str):
    """`frame` with text `column` in the UI language: geo/ builds English text in `column`
    and Chinese in ``<column>_zh``; the ``_zh`` column is dropped."""
    zh = f"{column}_zh"
    if zh not in frame.columns:
        return frame
    if lang() == "zh":
        frame = frame.assign(**{column: frame[zh]})
    return frame.drop(columns=zh)


def kind_label(kind: str) -> str:
    """Name of a facility kind in the current language."""
    return da.profile().kind(kind).label(lang())


def level_radio(container, label: str, key: str) -> str:
    """Pick an area level (district, street, community), coarsest first, in one row."""
    return container.radio(
        label,
        list(LEVELS)[::-1],
        format_func=lambda v: pair(LEVEL_LABELS[v]),
        horizontal=True,
        key=key,
    )
