"""The whole app on the Shiyan demo store: every page runs without an exception, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._auth import signed_in_app

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = {
    "ui/pages/explorer.py": ("地图浏览", "Map explorer"),
    "ui/pages/my_grid.py": ("我的网格", "My grid"),
    "ui/pages/dispatch.py": ("事件处置", "Dispatch"),
    "ui/pages/gaps.py": ("服务缺口", "Service gaps"),
    "ui/pages/progress.py": ("工作进展", "Progress"),
    "ui/pages/data.py": ("数据管理", "Data"),
    "ui/pages/audit.py": ("操作记录", "Audit trail"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_runs_on_the_demo(demo_store_path, monkeypatch, lang, page):
    monkeypatch.setenv("GRIDMAP_STORE", str(demo_store_path))
    # a fresh AppTest per page: AppTest formats the previous run's select values outside the
    # script (where the language is the default), which a language switch would trip over
    at = signed_in_app(APP, default_timeout=180)
    at.session_state["lang"] = lang
    at.switch_page(page).run()
    assert not at.exception, f"{page}: {at.exception}"
    zh, en = PAGES[page]
    titles = [t.value for t in at.title]
    assert any((zh if lang == "zh" else en) in t for t in titles), (page, titles)
    # the demo is labelled as synthetic on every page that shows its data
    text = " ".join(
        [c.value for c in at.caption] + [w.value for w in at.warning] + [i.value for i in at.info]
    )
    assert "synthetic" in text.lower() or "合成" in text, page
