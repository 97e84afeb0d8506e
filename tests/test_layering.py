"""The floors of the code base: `geo/` and `layers/` stay pure, and settings reach `geo/` one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _calls(path: Path, name: str) -> list[int]:
    """Lines of `path` that call a function called `name` (docstring examples do not count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called == name:
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("package", ["geo", "layers"])
def test_analysis_and_vocabulary_never_import_the_ui(package):
    offenders = {
        p.relative_to(ROOT).as_posix(): sorted(_imports(p) & {"streamlit", "folium", "ui", "maps"})
        for p in _modules(package)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_geo_never_reads_the_profile_on_disk():
    """Analysis functions take the profile (or the value they need) from their caller."""
    found = {
        p.relative_to(ROOT).as_posix(): _calls(p, "load_profile")
        for p in _modules("geo")
        if p.name != "settings.py"
    }
    assert {k: v for k, v in found.items() if v} == {}


def test_the_check_sees_a_call(tmp_path):
    """The AST check above finds a real call and ignores a docstring example."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Example:\n\n>>> load_profile()\n"""\n\n\ndef f():\n    return settings.load_profile()\n',
        encoding="utf-8",
    )
    assert _calls(sample, "load_profile") == [8]


def _page_scripts() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "ui" / "pages").glob("*.py"))]


@pytest.mark.parametrize("path", _page_scripts(), ids=lambda p: p.name)
def test_page_scripts_hold_no_bare_expression_strings(path):
    """Streamlit's magic writes a bare string of a page script onto the page (only the module's
    docstring is exempt), so an attribute docstring there shows up as text for the user."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    bare = [
        node.lineno
        for node in body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]
    assert bare == []
