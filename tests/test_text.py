"""ui.text.safe: values from a URL, a file or the store show literally wherever Streamlit renders
Markdown (unit tests, AppTest of the pages, and a real browser)."""

from __future__ import annotations

import re
import string

import pytest
from streamlit.testing.v1 import AppTest

from data.store import GeoPackageStore
from tests._auth import make_user, signed_in_app
from tests._browser import (
    ROOT,
    browser_available,
    offline_page,
    screenshot,
    sign_in,
    streamlit_server,
)
from ui.text import JOINER, md_literal, safe, unescape

HOSTILE = [
    "[sign in](https://evil.example/login)",
    "![x](https://evil.example/x.png)",
    "<a href='https://evil.example'>a</a><img src=x onerror=alert(1)>",
    ":red[red] :blue-background[bg] :material/home: :smile: :rainbow[r]",
    "$x^2$ $$y$$ \\(z\\)",
    "**bold** _em_ ~~strike~~ `code` ```fence```",
    "# head",
    "- item",
    "1. one",
    "| a | b |\n|---|---|",
    "    indented code",
    "> quote",
    "www.evil.example https://evil.example mail@evil.example",
    "&lt;b&gt; &amp; &#58;",
    "<https://evil.example>",
    "[ref]\n\n[ref]: https://evil.example",
]


def bare_specials(source: str) -> list[str]:
    """Punctuation in `source` that Markdown may read as syntax (unescaped)."""
    out, i = [], 0
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source):
            i += 2
            continue
        if ch in string.punctuation:
            out.append(ch)
        i += 1
    return out


@pytest.mark.parametrize("value", HOSTILE)
def test_safe_escapes_every_special(value):
    text = safe(value)
    assert bare_specials(text) == []
    assert unescape(text) == " ".join(value.split())  # a reader sees the value itself
    assert "\n" not in text  # no block can start inside it


@pytest.mark.parametrize(
    "value", ["https://evil.example/x", "WWW.evil.example", "a@evil.example", ":smile:"]
)
def test_safe_breaks_autolinks_and_emoji_in_the_parsed_text(value):
    """GFM autolinks and emoji are found after escapes are resolved: the parsed text must not
    hold them (the joiner is invisible)."""
    parsed = re.sub(r"\\(.)", r"\1", safe(value))
    assert not re.search(r"https?://[-.\w]|www\.|[-.\w+]@[-\w]|:\w+:", parsed, re.IGNORECASE)
    assert unescape(safe(value)) == value


def test_safe_keeps_plain_text_and_handles_missing():
    assert safe("十堰市 张湾区 网格 12") == "十堰市 张湾区 网格 12"
    assert safe(None) == safe(float("nan")) == ""
    assert safe(505) == "505"
    assert safe("a.b") == "a\\.b"
    assert md_literal is safe


def test_safe_multiline_keeps_lines_as_hard_breaks():
    text = safe("row 1: bad\n  - row 2: [x](y)", multiline=True)
    assert text.replace(JOINER, "") == "row 1\\: bad  \n\\- row 2\\: \\[x\\]\\(y\\)"
    assert all(not line.startswith(" ") for line in text.split("\n"))


def _probe(value: str):
    import streamlit as st

    from ui.text import safe

    text = safe(value)
    st.markdown(f"**label**: {text}", help=text)
    st.error(text)
    st.info(text)
    st.warning(text)
    st.success(text)
    st.caption(text)
    st.subheader(text)
    st.metric(text, 1, help=text)
    st.toast(text)


@pytest.mark.parametrize("value", HOSTILE[:6])
def test_apptest_elements_carry_only_escaped_text(value):
    at = AppTest.from_function(_probe, args=(value,), default_timeout=30)
    at.run()
    assert not at.exception
    bodies = [at.markdown[0].value.split(": ", 1)[1]]
    bodies += [el.value for el in (*at.error, *at.info, *at.warning, *at.success, *at.caption)]
    bodies += [at.subheader[0].value, at.metric[0].label, at.toast[0].value]
    for body in bodies:
        assert bare_specials(body) == [], body
        assert unescape(body) == " ".join(value.split())


def test_my_grid_unknown_code_from_url_is_shown_literally(tmp_path, monkeypatch):
    """`?grid=` with a Markdown link, image, HTML and a directive: the error quotes it as text."""
    from tests._map_fixtures import ROOT_APP, write_tiny_store

    monkeypatch.setenv("GRIDMAP_STORE", str(write_tiny_store(tmp_path / "tiny.gpkg")))
    at = signed_in_app(str(ROOT_APP), default_timeout=120)
    hostile = "[sign in](https://evil.example) ![i](https://evil.example/i.png) <b>x</b> :red[y]"
    at.query_params["grid"] = hostile
    at.switch_page("ui/pages/my_grid.py")
    at.run()
    assert not at.exception
    (error,) = at.error
    quoted = error.value.split("“", 1)[1].rsplit("”", 1)[0]
    assert bare_specials(quoted) == []
    assert unescape(quoted) == hostile


# --------------------------------------------------------------------------- real browser
NO_MARKUP = """() => {
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  return {
    links: [...main.querySelectorAll('a[href]')].filter(a => !a.getAttribute('href').startsWith('#')).length,
    images: main.querySelectorAll('img').length,
    katex: main.querySelectorAll('.katex').length,
    coloured: main.querySelectorAll('.stMarkdownColoredText, .stMarkdownColoredBackground, [style*="color"]').length,
    icons: main.querySelectorAll('[data-testid="stIconMaterial"]').length,
    strong: main.querySelectorAll('.stMarkdown strong, .stMarkdown em, .stMarkdown del, .stMarkdown li, .stMarkdown table, .stMarkdown blockquote, .stMarkdown pre, .stMarkdown h1').length,
  };
}"""


@pytest.mark.browser
@pytest.mark.skipif(not browser_available(), reason="needs /usr/bin/chromium and playwright")
def test_probe_page_renders_values_as_text():
    from tests.apps import markdown_probe

    with (
        streamlit_server(app=ROOT / "tests" / "apps" / "markdown_probe.py") as base,
        offline_page() as page,
    ):
        page.goto(base)
        page.get_by_text("metric5", exact=False).first.wait_for(timeout=30_000)
        found = page.evaluate(NO_MARKUP)
        screenshot(page, "markdown_probe")
        assert found == dict.fromkeys(found, 0), found
        body = page.inner_text("[data-testid='stMain']").replace(JOINER, "")
        for value in markdown_probe.VALUES:
            assert " ".join(value.split()) in " ".join(body.split())
        assert page.blocked == []


@pytest.mark.browser
@pytest.mark.skipif(not browser_available(), reason="needs /usr/bin/chromium and playwright")
def test_my_grid_link_from_url_makes_no_link_or_image(tmp_path):
    from tests._map_fixtures import write_tiny_store

    hostile = (
        "**bold** [sign in](https://evil.example/login) ![i](https://evil.example/i.png)"
        " <a href='https://evil.example'>x</a><img src=https://evil.example/j.png> :red[r] $x$"
    )
    from urllib.parse import quote

    tiny = write_tiny_store(tmp_path / "tiny.gpkg")
    with (
        streamlit_server(store=tiny) as base,
        offline_page(intercept=False) as page,
    ):
        sign_in(page, base, *make_user(GeoPackageStore(tiny), "planner"))
        page.goto(f"{base}/my_grid?grid={quote(hostile)}")
        alert = page.locator("[data-testid='stAlertContentError']").first
        alert.wait_for(timeout=30_000)
        found = page.evaluate(NO_MARKUP)
        screenshot(page, "my_grid_hostile_url")
        outside = page.evaluate(
            "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"
            ".filter(h => !h.startsWith(location.origin))"
        )
        assert outside == []
        assert found["images"] == 0 and found["katex"] == 0 and found["strong"] == 0, found
        assert hostile in " ".join(alert.inner_text().replace(JOINER, "").split())
        assert page.blocked == []


# --------------------------------------------------------------------------- every page
MARK = " [x](https://evil.example) <b>b</b> :red[r]"
TEXT_COLUMNS = ("name", "grid_name", "community", "street", "district", "worker_name")


def _hostile_store(path):
    """The tiny map store with a Markdown link, HTML and a directive in every name."""
    from data.store import GeoPackageStore
    from tests._map_fixtures import frames

    layers = {}
    for layer, frame in frames().items():
        frame = frame.copy()
        for col in TEXT_COLUMNS:
            if col in frame.columns:
                frame[col] = frame[col].map(lambda v: v if v is None else f"{v}{MARK}")
        layers[layer] = frame
    GeoPackageStore(path).write(layers)
    return path


def _texts(at) -> list[str]:
    """Every Markdown-rendered text on the page: bodies, labels and help texts."""
    out = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title"):
        out += [str(el.value) for el in getattr(at, kind)]
    out += [str(el.value) for el in at.subheader] + [str(el.value) for el in at.header]
    for el in at.metric:
        out += [str(el.label), str(el.proto.help)]
    for el in at.expander:
        out.append(str(el.label))
    return out


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("ui/pages/explorer.py", {}),
        ("ui/pages/explorer.py", {"search": True}),
        ("ui/pages/my_grid.py", {"grid": "G05"}),
        ("ui/pages/data.py", {}),
        ("ui/pages/gaps.py", {}),
    ],
)
def test_no_page_renders_store_values_as_markdown(tmp_path, monkeypatch, page, query):
    from tests._map_fixtures import ROOT_APP
    from ui import state

    monkeypatch.setenv("GRIDMAP_STORE", str(_hostile_store(tmp_path / "hostile.gpkg")))
    at = signed_in_app(str(ROOT_APP), default_timeout=180)
    if "grid" in query:
        at.query_params["grid"] = query["grid"]
    at.switch_page(page)
    at.run()
    if query.get("search"):
        at.text_input(key=state.SEARCH).input("[x](https://evil.example) 一号").run()
    assert not at.exception, at.exception
    texts = _texts(at)
    assert at.title and at.title[0].value != "登录", "still on the login page"
    if "grid" in query or query.get("search"):  # pages that put names into Markdown text
        assert any("evil" in unescape(t) for t in texts), "no store name shown: nothing tested"
    for text in texts:
        assert "[x](" not in text and "<b>" not in text and ":red[" not in text, text


@pytest.mark.browser
@pytest.mark.skipif(not browser_available(), reason="needs /usr/bin/chromium and playwright")
def test_file_uploader_speaks_chinese(tmp_path):
    """Streamlit's own uploader texts ("Upload", "200MB per file") are replaced in Chinese."""
    from tests._map_fixtures import write_tiny_store

    visible = """() => {
      const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
      const shown = [];
      for (const el of zone.querySelectorAll('p, span')) {
        if (el.children.length) continue;
        const style = getComputedStyle(el);
        if (parseFloat(style.fontSize) > 0 && el.innerText.trim()) shown.push(el.innerText.trim());
        const after = getComputedStyle(el, '::after').content;
        if (after && after !== 'none') shown.push(after);
      }
      return shown.join(' | ');
    }"""
    tiny = write_tiny_store(tmp_path / "tiny.gpkg")
    with (
        streamlit_server(store=tiny) as base,
        offline_page(intercept=False) as page,
    ):
        sign_in(page, base, *make_user(GeoPackageStore(tiny), "planner"))
        page.goto(f"{base}/data")
        page.locator("[data-testid='stFileUploaderDropzone']").first.wait_for(timeout=30_000)
        text = page.evaluate(visible)
        assert "选择文件" in text and "200 MB" in text, text
        assert "Upload" not in text and "per file" not in text, text
        page.goto(f"{base}/data?lang=en")
        page.locator("[data-testid='stFileUploaderDropzone']").first.wait_for(timeout=30_000)
        assert "per file" in page.evaluate(visible)


def test_progress_page_shows_store_names_and_period_literally(tmp_path, monkeypatch):
    """Area names come from the store: titles, captions and alerts quote them literally."""
    from data.store import GeoPackageStore
    from tests._map_fixtures import ROOT_APP
    from tests._progress_fixtures import tiny_layers

    layers = tiny_layers(2)
    for name in ("districts", "streets"):
        layers[name] = layers[name].assign(name=layers[name]["name"] + MARK)
    path = tmp_path / "progress.gpkg"
    store = GeoPackageStore(path)
    store.write(layers)
    store.write_meta({"synthetic": "true", "period": "2026-Q3"})
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    for query in ({}, {"present": "1"}):
        at = signed_in_app(str(ROOT_APP), default_timeout=180, query=query)
        at.switch_page("ui/pages/progress.py")
        at.run()
        assert not at.exception, at.exception
        assert at.title and at.title[0].value != "登录", "still on the login page"
        if query:
            at.button(key="progress_next").click().run()  # a district's slide: its name as title
            assert MARK.strip()[:3] in unescape(at.title[0].value)
        for text in _texts(at):
            assert "[x](" not in text and "<b>" not in text and ":red[" not in text, text
