"""The language CSS (ui/style.py): which of Streamlit's own English texts it replaces.

What the browser then shows is checked with Playwright (tests/test_browser_pages.py,
tests/test_text.py); this pins the rules for every kind, including those a browser test does
not reach (a text area's Ctrl+Enter hint, a form's "submit form", the Stop button)."""

from __future__ import annotations

import re

from ui.style import uploader_css


def _contents(css: str) -> list[str]:
    return re.findall(r'content: "([^"]*)"', css)


def test_chinese_css_replaces_streamlits_own_texts():
    zh = uploader_css("zh", limit_mb=200)
    assert _contents(zh) == [
        "选择文件",
        "拖放文件到此处 · 单个文件不超过 200 MB",
        "无匹配项",
        "按 Enter 键确认",
        "按 Enter 键提交表单",
        "按 Ctrl+Enter（Mac 上 ⌘+Enter）确认",
        "按 Ctrl+Enter（Mac 上 ⌘+Enter）提交表单",
        "停止",
        "正在停止…",
    ]
    # the empty search of both select widgets
    assert "stSelectboxVirtualDropdown" in zh and "stMultiSelectDropdown" in zh
    # the length counter after the hint ("12/500") is kept: only the first part is replaced
    assert '[data-testid="InputInstructions"] > span:first-child' in zh


def test_english_css_keeps_streamlits_texts():
    en = uploader_css("en", limit_mb=200)
    assert _contents(en) == []
    assert "stMetricLabel" in en  # labels wrap in both languages


def test_loading_placeholders_stand_still_in_both_languages():
    # the map frame's placeholder shimmered on every frame while eight people's maps loaded
    for lang in ("zh", "en"):
        css = uploader_css(lang, limit_mb=200)
        rule = re.search(r'\[data-testid="stSkeleton"\]\s*\{([^}]*)\}', css)
        assert rule is not None, lang
        assert "animation: none !important" in rule.group(1)
