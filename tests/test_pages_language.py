"""Every page, as every role, in Chinese: no Streamlit English placeholder, no secret shown.

Streamlit writes "Choose an option", "Choose options" and "No options to select" in English
into a select widget that has no placeholder of its own; :func:`ui.i18n.selectbox` and
:func:`ui.i18n.multiselect` give every one the UI language's text. The walk also checks that
no page shows a secret from the store's metadata (the demo passwords live there; only the
login page of the demo store lists them).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from auth.demo import demo_passwords
from auth.model import PERMISSIONS, ROLES
from data.store import MASK, masked_meta, open_store
from tests._auth import signed_in_app

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_PLACEHOLDERS = ("Choose an option", "Choose options", "No options to select", "Add option")


def app_pages() -> list[tuple[str, str]]:
    """(page file, permission) of every page, read from app.py's ``PAGES`` table."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "PAGES":
            return [(row[0], row[5]) for row in ast.literal_eval(node.value)]
    raise AssertionError("app.py has no PAGES table")


def nodes(node) -> Iterator[object]:
    """`node` and everything below it in an AppTest element tree."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from nodes(child)


def shown_text(node) -> str:
    """What an element carries to the browser, as text (a table's cells included)."""
    value = getattr(node, "value", None) if getattr(node, "type", "") == "dataframe" else None
    text = str(getattr(node, "proto", ""))
    return text + (value.to_string() if value is not None else "")


def test_pages_table_is_read():
    pages = dict(app_pages())
    assert pages["ui/pages/data.py"] == "import" and len(pages) >= 7


@pytest.mark.parametrize("role", list(ROLES))
def test_no_english_placeholder_and_no_secret_on_any_page(demo_store_path, monkeypatch, role):
    monkeypatch.setenv("GRIDMAP_STORE", str(demo_store_path))
    secrets = list(demo_passwords(open_store(demo_store_path).meta()).values())
    assert secrets, "the demo store has demo passwords in its metadata"
    pages = [page for page, permission in app_pages() if role in PERMISSIONS[permission]]
    assert pages
    selects = 0
    for page in pages:
        # a fresh AppTest per page, as in tests/test_app.py
        at: AppTest = signed_in_app(APP, role=role, default_timeout=240)
        at.session_state["lang"] = "zh"
        at.switch_page(page).run()
        assert not at.exception, f"{page}: {at.exception}"
        for node in nodes(at._tree):
            kind = getattr(node, "type", "")
            # Streamlit's calendar names months and weekdays in English (ui/dates.py instead)
            assert kind not in ("date_input", "time_input"), (role, page, kind)
            if kind in ("selectbox", "multiselect"):
                selects += 1
                placeholder = node.proto.placeholder
                label = node.proto.label
                assert placeholder.strip(), f"{role} {page}: {label!r} has Streamlit's placeholder"
                assert CJK.search(placeholder), (role, page, label, placeholder)
            text = shown_text(node)
            for english in ENGLISH_PLACEHOLDERS:
                assert english not in text, (role, page, english)
            for secret in secrets:
                assert secret not in text, f"{role} {page} shows a demo password"
    assert selects > 0, role


def test_masked_meta_hides_secrets_only():
    meta = {
        "period": "2026-Q3",
        "demo": "true",
        "demo_accounts": '{"demo_admin": "s3cret"}',
        "smtp_password": "hunter2",
        "api_key": "k",
        "share_token": "t",
        "empty_secret": "",
    }
    shown = masked_meta(meta)
    assert shown["period"] == "2026-Q3" and shown["demo"] == "true"
    for key in ("demo_accounts", "smtp_password", "api_key", "share_token"):
        assert shown[key] == MASK
    assert shown["empty_secret"] == ""  # nothing to hide
    assert list(shown) == list(meta)


def test_every_select_widget_goes_through_the_language_helper():
    """Pages a role never reaches in the walk above are covered by reading the code."""
    direct = re.compile(r"\.(selectbox|multiselect)\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py"))]
        if path.name != "i18n.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if direct.search(line)
    ]
    assert offenders == [], "use ui.i18n.selectbox / multiselect: " + ", ".join(offenders)
