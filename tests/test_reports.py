"""Report exports, each produced and read back: PDF text and images, PPTX pictures, XLSX values,
the offline HTML map in a real browser, the GeoPackage gap layers."""

from __future__ import annotations

import shutil
import subprocess

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyogrio
import pytest
from openpyxl import load_workbook

import cli
from data.store import GeoPackageStore
from geo.indicators import get_indicator
from geo.settings import load_profile
from reports import fonts
from reports.build import ReportError, analyse_period, build_report, report_format, write_report
from reports.staticmap import MapLayer, figure_png, nice_length, static_map
from tests._browser import browser_available, offline_page
from tests._progress_fixtures import tiny_layers, write_tiny_store

PROFILE = load_profile()


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> GeoPackageStore:
    """The tiny city (period 2 data) with a 2026-Q2 snapshot from its period 1 data."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.gpkg"
    write_tiny_store(path)
    return GeoPackageStore(path)


@pytest.fixture(scope="module")
def demo_analysis(demo_store_path):
    store = GeoPackageStore(demo_store_path)
    period = store.meta().get("period", "2026-Q3")
    return analyse_period(store, period)


@pytest.fixture(scope="module")
def demo_exports(demo_analysis, tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    return {
        ext: write_report(demo_analysis, folder / f"report.{ext}")
        for ext in ("pdf", "pptx", "xlsx", "html", "gpkg")
    }


def _city_texts(pa) -> dict[str, str]:
    """Indicator name -> value text, as the Progress page shows them."""
    city = pa.indicators[pa.indicators["level"] == "city"]
    return {
        get_indicator(k, PROFILE).name_zh: get_indicator(k, PROFILE).format(v)
        for k, v in zip(city["indicator"], city["value"], strict=True)
    }


# --------------------------------------------------------------------------- basics
def test_format_from_extension():
    assert report_format("a/b/report.PDF") == "pdf"
    assert report_format("x.gpkg") == "gpkg"
    with pytest.raises(ReportError, match="unknown report format .docx"):
        report_format("x.docx")


def test_font_missing_error_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "CANDIDATES", (str(tmp_path / "none.ttc"),))
    monkeypatch.delenv("GRIDMAP_CJK_FONT", raising=False)
    with pytest.raises(fonts.FontMissingError, match="fonts-wqy-microhei"):
        fonts.cjk_font_path()


def test_static_map_has_legend_scale_bar_north_arrow_and_labels():
    layers = tiny_layers(1)
    fig = static_map(
        [
            MapLayer(layers["streets"], "街道"),
            MapLayer(layers["population"], "人口点", kind="point"),
        ],
        crs=PROFILE.metric_crs,
        title="测试",
        labels=layers["districts"],
    )
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "茅箭区" in texts and "张湾区" in texts  # labelled areas
    assert "北\nN" in texts  # north arrow
    assert "0" in texts and "500 m" in texts  # scale bar: a 4.3 km wide map gets a 500 m bar
    plt.close(fig)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["街道", "人口点"]
    assert nice_length(4300) == 500 and nice_length(60000) == 10000


def test_static_map_legend_does_not_cover_the_data():
    """The legend box and the data's pixel box do not intersect (nor the title the legend)."""
    layers = tiny_layers(1)
    streets = layers["streets"]
    fig = static_map(
        [MapLayer(streets, "街道"), MapLayer(layers["population"], "人口点", kind="point")],
        crs=PROFILE.metric_crs,
        title="测试",
        legend_title="图例",
    )
    ax = fig.axes[0]
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    frames = [streets, layers["population"]]
    bounds = np.array([f.to_crs(PROFILE.metric_crs).total_bounds for f in frames])
    corners = ax.transData.transform(
        [(bounds[:, 0].min(), bounds[:, 1].min()), (bounds[:, 2].max(), bounds[:, 3].max())]
    )
    (x0, y0), (x1, y1) = corners
    overlaps = legend.x0 < x1 and legend.x1 > x0 and legend.y0 < y1 and legend.y1 > y0
    assert not overlaps, (legend, corners)
    png = figure_png(fig)  # the saved figure keeps the legend (tight box)
    assert png[:4] == b"\x89PNG"


def test_cli_report_on_tiny_store_with_comparison(tiny_store, tmp_path, capsys):
    out = tmp_path / "tiny.xlsx"
    assert (
        cli.main(
            [
                "report",
                "--data",
                str(tiny_store.path),
                "--period",
                "2026-Q3",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    wb = load_workbook(out)
    summary = wb["指标与目标"]
    header = [c.value for c in summary[1]]
    assert header[:6] == ["主题", "指标", "当前值", "目标", "单位", "状态"]
    assert "变化" in header  # compared with the 2026-Q2 snapshot
    rows = {r[1]: r for r in summary.iter_rows(min_row=2, values_only=True)}
    street = rows["街道级邻里中心覆盖率"]
    # a change of a share is stored in percentage points and shown as such, not as a percent
    assert street[2] == pytest.approx(1.0) and street[header.index("变化")] == pytest.approx(60.0)
    assert "与2026-Q2比较" in wb.sheetnames
    assert (
        cli.main(
            [
                "report",
                "--data",
                str(tiny_store.path),
                "--period",
                "2026-Q3",
                "--out",
                str(tmp_path / "x.doc"),
                "--quiet",
            ]
        )
        == 2
    )


def test_build_report_refuses_missing_store(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        build_report(GeoPackageStore(tmp_path / "nope.gpkg"), "2026-Q3", tmp_path / "r.pdf")


# --------------------------------------------------------------------------- PDF
@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed"
)
def test_pdf_text_has_indicator_names_figures_and_images(demo_analysis, demo_exports):
    from pypdf import PdfReader

    path = demo_exports["pdf"]
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    expected = _city_texts(demo_analysis)
    for name, value in expected.items():
        assert name in text, name
        number = value.split(" ")[0]
        assert number in text, (name, number)
    assert "十堰市" in text and demo_analysis.period in text
    if demo_analysis.synthetic:
        assert "合成示例数据" in text
    for heading in ("未达标行政村", "超载避难场所", "网格"):
        assert heading in text
    reader = PdfReader(path)
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    images = 0
    embedded = False
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        for obj in xobjects.values():
            images += obj.get_object().get("/Subtype") == "/Image"
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            for desc in font.get("/DescendantFonts", []):
                embedded |= "/FontFile2" in desc.get_object().get("/FontDescriptor", {})
            embedded |= "/FontFile2" in (font.get("/FontDescriptor") or {})
    assert images >= 8  # a map and a chart per theme
    assert embedded  # the CJK font is embedded


@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed"
)
def test_pdf_lists_what_straight_lines_overstate(demo_analysis, demo_exports):
    """The demo has roads: the PDF lists the streets where straight lines overstate coverage,
    most first, with the figures of the analysis."""
    over = demo_analysis.analysis.overstated("street")
    over = over[over["overstated"] > 0].sort_values("overstated", ascending=False, kind="stable")
    assert len(over), "the demo's roads should make straight lines overstate somewhere"
    text = subprocess.run(
        ["pdftotext", "-layout", str(demo_exports["pdf"]), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "直线距离高估的覆盖" in text and "高估人口" in text
    top = over.iloc[0]
    line = next(x for x in text.splitlines() if f"{int(top['overstated']):,}" in x.split())
    assert str(top["name"]) in line
    assert f"{int(top['covered_straight']):,}" in line.split()


# --------------------------------------------------------------------------- PPTX
def test_pptx_has_pictures_and_key_figures(demo_analysis, demo_exports):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    prs = Presentation(demo_exports["pptx"])
    slides = list(prs.slides)
    assert len(slides) >= 6
    pictures = [
        s for s in slides if any(sh.shape_type == MSO_SHAPE_TYPE.PICTURE for sh in s.shapes)
    ]
    assert len(pictures) >= 4
    text = "\n".join(sh.text_frame.text for s in slides for sh in s.shapes if sh.has_text_frame)
    assert "十堰市" in text
    for name, value in _city_texts(demo_analysis).items():
        if get_indicator_by_name(name).spatial:
            assert value in text, (name, value)


def get_indicator_by_name(name: str):
    from geo.indicators import indicators
    from geo.settings import load_profile

    return next(i for i in indicators(load_profile()) if i.name_zh == name)


# --------------------------------------------------------------------------- XLSX
def test_xlsx_values_equal_analysis(demo_analysis, demo_exports):
    wb = load_workbook(demo_exports["xlsx"])
    ws = wb["全部指标"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["层级", "区域编码", "区域名称", "指标代码", "指标"]
    back = pd.DataFrame(list(ws.iter_rows(min_row=2, values_only=True)), columns=header)
    table = demo_analysis.indicators
    assert len(back) == len(table)
    np.testing.assert_allclose(
        back["数值"].astype(float), table["value"].astype(float), equal_nan=True
    )
    assert list(back["指标代码"]) == list(table["indicator"])
    # numbers are stored as numbers, with a display format, and columns have widths
    value_cell = ws.cell(row=2, column=header.index("数值") + 1)
    assert isinstance(value_cell.value, float)
    assert value_cell.number_format in ("0.0%", "0.000", "0.00")
    assert ws.column_dimensions["E"].width >= 10
    # the coverage of the street-level centers equals the analysis result
    res = demo_analysis.analysis.coverage["neighborhood_centers_street"]
    summary = {r[1]: r[2] for r in wb["指标与目标"].iter_rows(min_row=2, values_only=True)}
    assert summary["街道级邻里中心覆盖率"] == pytest.approx(
        res.residents_covered / res.residents_total
    )
    over = wb["超载避难场所（就近分配）"]
    assert over.max_row - 1 == len(demo_analysis.analysis.capacity.overloaded())


def test_xlsx_of_a_profile_walking_a_kind(demo_store_path, demo_analysis, tmp_path):
    """A profile that walks emergency shelters along roads: the report's KPI of that kind is
    the walked coverage (lower than by straight line on the demo), and its parameters say so."""
    store = GeoPackageStore(demo_store_path)
    walking = PROFILE.with_distance({"shelters_emergency": "network"})
    pa = analyse_period(store, demo_analysis.period, profile=walking)
    path = write_report(pa, tmp_path / "walked.xlsx")
    wb = load_workbook(path)
    summary = {r[1]: r[2] for r in wb["指标与目标"].iter_rows(min_row=2, values_only=True)}
    name = get_indicator(walking.kind("shelters_emergency").indicator, walking).name_zh
    walked = pa.analysis.coverage["shelters_emergency"]
    straight = demo_analysis.analysis.coverage["shelters_emergency"]
    assert walked.distance_mode == "network" and straight.distance_mode == "straight"
    assert summary[name] == pytest.approx(walked.residents_covered / walked.residents_total)
    assert walked.residents_covered < straight.residents_covered
    parameters = dict(wb["分析参数"].iter_rows(min_row=2, values_only=True))
    assert "紧急避难场所（含固定、中心）：沿道路步行" in parameters["距离"]
    assert "固定避难场所（含中心）：直线" in parameters["距离"]


def test_pptx_and_html_say_how_distances_were_measured(demo_store_path, demo_analysis, tmp_path):
    """The slides end with the parameters (a table saying straight or walked per kind), and the
    HTML map's subtitle says it too."""
    from pptx import Presentation

    store = GeoPackageStore(demo_store_path)
    walking = PROFILE.with_distance({"shelters_emergency": "network"})
    pa = analyse_period(store, demo_analysis.period, profile=walking)
    slides = Presentation(write_report(pa, tmp_path / "walked.pptx")).slides
    last = slides[len(slides) - 1]
    texts = [s.text_frame.text for s in last.shapes if s.has_text_frame]
    assert any("分析参数" in t for t in texts)
    table = next(s.table for s in last.shapes if s.has_table)
    rows = {table.cell(r, 0).text: table.cell(r, 1).text for r in range(1, len(table.rows))}
    assert "紧急避难场所（含固定、中心）：沿道路步行" in rows["距离"]
    assert "固定避难场所（含中心）：直线" in rows["距离"]
    html = write_report(pa, tmp_path / "walked.html").read_text(encoding="utf-8")
    assert "紧急避难场所（含固定、中心）：沿道路步行" in html
    straight = write_report(demo_analysis, tmp_path / "straight.html").read_text(encoding="utf-8")
    assert "紧急避难场所（含固定、中心）：直线" in straight


# --------------------------------------------------------------------------- GeoPackage
def test_gpkg_gap_layers_open_with_geopandas(demo_analysis, demo_exports):
    path = demo_exports["gpkg"]
    names = [n for n, _ in pyogrio.list_layers(path)]
    for name in (
        "areas_district",
        "areas_street",
        "uncovered_neighborhood_centers_street",
        "villages_below_target",
    ):
        assert name in names
    unc = gpd.read_file(path, layer="uncovered_neighborhood_centers_street")
    res = demo_analysis.analysis.coverage["neighborhood_centers_street"]
    assert unc.crs.to_epsg() == 4326
    assert int(unc["residents"].sum()) == res.residents_total - res.residents_covered
    areas = gpd.read_file(path, layer="areas_street")
    assert {"center_street_coverage", "center_street_coverage_status"} <= set(areas.columns)
    below = gpd.read_file(path, layer="villages_below_target")
    assert len(below) == len(demo_analysis.analysis.sanitation.below_target)


def test_gaps_cli_and_report_write_the_same_gap_layers(demo_store_path, demo_exports, tmp_path):
    """``cli.py gaps --out`` and ``cli.py report x.gpkg`` come from one gap_layers function."""
    out = tmp_path / "gaps"
    assert cli.main(["gaps", "--data", str(demo_store_path), "--out", str(out)]) == 0

    def layout(path) -> dict[str, list[str]]:
        return {
            str(name): list(pyogrio.read_info(path, layer=name)["fields"])
            for name, _ in pyogrio.list_layers(path)
        }

    from_cli, from_report = layout(out / "gaps.gpkg"), layout(demo_exports["gpkg"])
    assert from_cli == from_report
    assert {"areas_street", "uncovered_shelters_fixed", "gapcells_shelters_fixed"} <= set(from_cli)
    assert {"residents", "households", "distance_m", "radius_m", "grid_code"} <= set(
        from_cli["uncovered_shelters_fixed"]
    )


# --------------------------------------------------------------------------- HTML
def test_html_is_self_contained(demo_exports):
    html = demo_exports["html"].read_text(encoding="utf-8")
    assert "<script src=" not in html and 'rel="stylesheet" href=' not in html
    assert "L.map" in html or "L.Map" in html
    assert "街道级邻里中心覆盖率" in html


@pytest.mark.browser
@pytest.mark.skipif(not browser_available(), reason="Chromium or playwright not installed")
def test_html_draws_layers_offline_in_chromium(demo_exports):
    path = demo_exports["html"]
    with offline_page() as page:
        page.goto(path.as_uri())
        page.wait_for_function("() => document.querySelector('.leaflet-container')", timeout=30_000)
        page.wait_for_function(
            "() => document.querySelectorAll('.leaflet-overlay-pane path, .leaflet-overlay-pane canvas').length > 0",
            timeout=30_000,
        )
        # every layer is drawn on the map's one canvas: count the features Leaflet drew
        drawn = page.evaluate(
            "() => Object.values(gridmap.registry).reduce((n, l) => n + l.getLayers()"
            ".filter(x => x._map && (x._pxBounds || x._icon)).length, 0)"
        )
        legend = page.evaluate("() => (document.querySelector('.gm-legend') || {}).innerText || ''")
        assert drawn > 10
        assert "图例" in legend
        assert page.blocked == []
        assert page.errors == []


def test_report_of_a_store_without_services_says_no_data(tmp_path):
    """A store with only admin areas still gives a report: every indicator is 'no data'."""
    layers = tiny_layers(1)
    store = GeoPackageStore(tmp_path / "bare.gpkg")
    store.write({"districts": layers["districts"], "streets": layers["streets"]})
    out = build_report(store, None, tmp_path / "bare.xlsx")  # its current period
    summary = load_workbook(out)["指标与目标"]
    states = [r[5] for r in summary.iter_rows(min_row=2, values_only=True)]
    assert states and set(states) == {"无数据"}


def test_report_of_an_earlier_period_uses_its_snapshot(tiny_store, tmp_path):
    out = build_report(tiny_store, "2026-Q2", tmp_path / "q2.xlsx")
    wb = load_workbook(out)
    rows = {r[1]: r for r in wb["指标与目标"].iter_rows(min_row=2, values_only=True)}
    assert rows["街道级邻里中心覆盖率"][2] == pytest.approx(
        0.4
    )  # the 2026-Q2 value, not today's 100%
    assert not any(
        name.startswith("与") for name in wb.sheetnames
    )  # nothing earlier to compare with
