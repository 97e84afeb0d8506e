"""PDF layout (no lone table rows, units kept on one line), captions, number formats, XLSX sheets."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from reportlab.platypus import Paragraph

from reports.content import XLSX_FORMATS, format_value
from reports.pdf import _line_texts, _Para, _styles, _Table


def _table(n: int) -> _Table:
    styles = _styles()
    rows = [
        [Paragraph(f"第{i}行", styles["cell"]), Paragraph("1,000", styles["cell"])]
        for i in range(n)
    ]
    return _Table(
        [[Paragraph("名称", styles["head"]), Paragraph("人数", styles["head"])], *rows],
        repeatRows=1,
    )


def _body_rows(part) -> int:
    return len(part._cellvalues) - 1


@pytest.mark.parametrize("n", [2, 3, 5, 12])
def test_table_split_never_leaves_one_row(n):
    """At every page height, each part of a split table holds at least two body rows."""
    t = _table(n)
    _, full = t.wrap(400, 10_000)
    row = t._rowHeights[1]
    for height in [row * k + t._rowHeights[0] + 0.5 for k in range(1, n + 1)]:
        fresh = _table(n)
        fresh.wrap(400, height)
        parts = fresh.split(400, height)
        if not parts:
            continue  # moved whole to the next page
        assert [_body_rows(p) for p in parts if p is not None], "no parts"
        assert all(_body_rows(p) >= 2 for p in parts), (n, height, [_body_rows(p) for p in parts])
        assert sum(_body_rows(p) for p in parts) == n


def test_plain_table_would_leave_one_row():
    """The case the rule prevents: reportlab's own split leaves one row on the first page."""
    from reportlab.platypus import Table

    t = _table(6)
    t.wrap(400, 10_000)
    height = t._rowHeights[0] + t._rowHeights[1] + 0.5
    plain = Table(t._cellvalues, repeatRows=1)
    plain.wrap(400, height)
    assert len(plain.split(400, height)[0]._cellvalues) - 1 == 1
    ours = _table(6)
    ours.wrap(400, height)
    assert ours.split(400, height) == []


@pytest.mark.parametrize("width", range(24, 90, 2))
def test_units_never_broken_across_lines(width):
    style = _styles()["cell"]
    p = _Para("人均避难面积 2.50 m²/人 达标，人均容量 0.12 位/人", style)
    w, _ = p.wrap(width, 1000)
    lines = _line_texts(p, p.blPara and width)
    text = "\n".join(line.strip() for line in lines)
    assert "m²/人" in text and "位/人" in text, lines
    assert w == width


def test_numbers_in_lists_have_thousands_separators():
    assert format_value(1234567, "int") == "1,234,567"
    assert format_value(12345.678, "float1") == "12,345.7"
    assert format_value(-12345.0, "signed1") == "-12,345.0"
    assert format_value(0.006, "pp") == "+0.6 个百分点"
    assert XLSX_FORMATS["int"] == "#,##0" and "个百分点" in XLSX_FORMATS["pp"]


def test_map_captions_name_what_is_coloured(demo_analysis_small):
    from reports.build import map_caption

    grids = map_caption("grids", demo_analysis_small, "grids_in_household_range")
    assert "网格" in grids and "街道" not in grids and "300-500" in grids
    centers = map_caption("centers", demo_analysis_small, "center_street_coverage")
    assert "街道" in centers and "绿色达标" in centers


@pytest.fixture(scope="module")
def demo_analysis_small(demo_store_path):
    from data.store import GeoPackageStore
    from reports.build import analyse_period

    store = GeoPackageStore(demo_store_path)
    return analyse_period(store, store.meta().get("period", "2026-Q3"))


def test_xlsx_overloaded_shelters_say_their_group_and_pp_changes(demo_analysis_small, tmp_path):
    from reports.build import write_report

    out = write_report(demo_analysis_small, tmp_path / "r.xlsx")
    wb = load_workbook(out)
    ws = wb["超载避难场所（就近分配）"]
    header = [c.value for c in ws[1]]
    assert header[0] == "避难需求组"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows
    keys = [(r[0], r[header.index("场所编号")]) for r in rows]
    assert len(keys) == len(set(keys))  # a shelter at most once per group
    ids = [k[1] for k in keys]
    twice = {i for i in ids if ids.count(i) > 1}
    for shelter in twice:  # listed twice only with different groups
        assert len({g for g, i in keys if i == shelter}) == ids.count(shelter)
    assert all("m 内就近分配" in r[0] for r in rows)
    summary = wb["指标与目标"]
    head = [c.value for c in summary[1]]
    if "变化" in head:
        col = head.index("变化") + 1
        formats = {
            summary.cell(row=r, column=col).number_format for r in range(2, summary.max_row + 1)
        }
        assert any("个百分点" in f for f in formats)
        assert not any(f.endswith("%") for f in formats)


@pytest.fixture(scope="module")
def html_export(demo_analysis_small, tmp_path_factory):
    from reports.build import write_report

    return write_report(demo_analysis_small, tmp_path_factory.mktemp("html") / "map.html")


def test_html_has_title_city_and_period(html_export, demo_analysis_small):
    html = html_export.read_text(encoding="utf-8")
    pa = demo_analysis_small
    box = html.split('class="gm-report-title"', 1)[1].split("</div></div>", 1)[0]
    assert pa.city in box and pa.period in box and "生成日期" in box
    assert ".collapse()" in html


@pytest.mark.browser
@pytest.mark.parametrize(
    ("viewport", "mobile", "folded"), [((390, 844), True, True), ((1440, 900), False, False)]
)
def test_html_layer_panel_folded_on_phones(
    html_export, demo_analysis_small, viewport, mobile, folded
):
    from tests._browser import browser_available, offline_page

    if not browser_available():
        pytest.skip("Chromium or playwright not installed")
    with offline_page(viewport=viewport, mobile=mobile) as page:
        page.goto(html_export.as_uri())
        page.wait_for_function(
            "() => document.querySelector('.leaflet-control-layers')", timeout=30_000
        )
        expanded = page.evaluate(
            "() => document.querySelector('.leaflet-control-layers').classList"
            ".contains('leaflet-control-layers-expanded')"
        )
        assert expanded is (not folded)
        title = page.locator(".gm-report-title")
        assert title.is_visible()
        assert demo_analysis_small.period in title.inner_text()
        box = title.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport[0]
        assert page.errors == []
