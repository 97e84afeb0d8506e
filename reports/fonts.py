"""The CJK font used by every export (PDF, static maps, slides).

Reports embed WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0 / GPLv3 with font exception), installed
by ``scripts/setup.sh`` from the Debian package ``fonts-wqy-microhei``. Commercial fonts such as
SimHei are never used. ``$GRIDMAP_CJK_FONT`` may point at another freely licensed TTF/TTC.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

CJK_FONT_FAMILY = "WenQuanYi Micro Hei"
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/local/share/fonts/wqy-microhei.ttc",
)
REPORTLAB_NAME = "WQYMicroHei"


class FontMissingError(FileNotFoundError):
    """The CJK font for exports is not installed."""


def cjk_font_path() -> Path:
    """Path of the CJK font file; raises :class:`FontMissingError` with the fix if absent."""
    env = os.environ.get("GRIDMAP_CJK_FONT")
    candidates = (env, *CANDIDATES) if env else CANDIDATES
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FontMissingError(
        "CJK font not found (looked for "
        + ", ".join(c for c in candidates if c)
        + "). Install it with `bash scripts/setup.sh` or `sudo apt-get install fonts-wqy-microhei`, "
        "or set GRIDMAP_CJK_FONT to a freely licensed TTF/TTC file."
    )


@lru_cache(maxsize=1)
def matplotlib_font() -> str:
    """Register the CJK font with matplotlib and return its family name."""
    from matplotlib import font_manager

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


@lru_cache(maxsize=1)
def reportlab_font() -> str:
    """Register the CJK font with reportlab (embedded, subset) and return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = cjk_font_path()
    kwargs = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
    pdfmetrics.registerFont(TTFont(REPORTLAB_NAME, str(path), **kwargs))
    return REPORTLAB_NAME
