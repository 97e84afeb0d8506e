"""PowerPoint export (python-pptx, 16:9): a title slide, the summary, one slide per theme.

Each theme slide carries its map or chart as a picture and its key figures beside it, ready to
present. Text is set in WenQuanYi Micro Hei with the East Asian font attribute, so viewers
without it fall back to their own CJK font.
"""

from __future__ import annotations

import io
import os

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt

from reports.content import ReportContent, ReportTable
from reports.fonts import CJK_FONT_FAMILY

SLIDE_W, SLIDE_H = Emu(12192000), Emu(6858000)  # 13.333 x 7.5 in
STATUS_RGB = {
    "达标": RGBColor(0xC8, 0xE6, 0xC9),
    "接近": RGBColor(0xFF, 0xF5, 0x9D),
    "未达标": RGBColor(0xFF, 0xCD, 0xD2),
}
MAX_TABLE_ROWS = 14


def _font(run, size: float, *, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = CJK_FONT_FAMILY
    if color is not None:
        run.font.color.rgb = color
    rpr = run._r.get_or_add_rPr()
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        ea = rpr.makeelement(qn("a:ea"), {})
        rpr.append(ea)
    ea.set("typeface", CJK_FONT_FAMILY)


def _text(slide, left, top, width, height, lines: list[tuple[str, float, bool]]) -> None:
    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    for i, (text, size, bold) in enumerate(lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        run = p.add_run()
        run.text = text
        _font(run, size, bold=bold)


def _title(slide, text: str, sub: str = "") -> None:
    lines = [(text, 26, True)]
    if sub:
        lines.append((sub, 13, False))
    _text(slide, Emu(457200), Emu(228600), SLIDE_W - Emu(914400), Emu(900000), lines)


def _table(
    slide, table: ReportTable, left, top, width, height, *, limit: int = MAX_TABLE_ROWS
) -> None:
    rows = table.text_rows(limit)
    ncols = len(table.frame.columns)
    shape = slide.shapes.add_table(len(rows) + 1, ncols, left, top, width, height)
    tbl = shape.table
    for c, name in enumerate(table.frame.columns):
        cell = tbl.cell(0, c)
        cell.text = ""
        run = cell.text_frame.paragraphs[0].add_run()
        run.text = str(name)
        _font(run, 11, bold=True)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            cell = tbl.cell(r, c)
            cell.text = ""
            run = cell.text_frame.paragraphs[0].add_run()
            run.text = value
            _font(run, 10.5)
            if value in STATUS_RGB:
                cell.fill.solid()
                cell.fill.fore_color.rgb = STATUS_RGB[value]


def _picture(slide, png: bytes, left, top, max_w, max_h) -> None:
    """Add a picture scaled to fit the box (keeping its aspect ratio), centred horizontally."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(png)) as im:
        w, h = im.size
    scale = min(max_w / w, max_h / h)
    width, height = int(w * scale), int(h * scale)
    slide.shapes.add_picture(
        io.BytesIO(png), left + (max_w - width) // 2, top, width=width, height=height
    )


def write_pptx(content: ReportContent, path: str | os.PathLike) -> None:
    """Write the slide deck for `content` to `path`."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    blank = prs.slide_layouts[6]

    slide = prs.slides.add_slide(blank)
    lines = [
        (content.title, 36, True),
        (f"{content.city} · {content.period}", 22, False),
        (content.date, 16, False),
    ]
    if content.period_note:
        lines.append((content.period_note, 14, False))
    if content.synthetic:
        lines.append(("合成示例数据 · Synthetic demo data", 16, True))
    _text(slide, Emu(914400), Emu(2100000), SLIDE_W - Emu(1828800), Emu(3000000), lines)

    slide = prs.slides.add_slide(blank)
    _title(slide, "指标与目标", f"{content.city} · {content.period}")
    _table(
        slide,
        content.summary,
        Emu(457200),
        Emu(1250000),
        SLIDE_W - Emu(914400),
        Emu(5200000),
        limit=20,
    )

    for fig in content.summary_figures:
        slide = prs.slides.add_slide(blank)
        _title(slide, fig.title, f"{content.city} · {content.period}")
        _picture(
            slide, fig.png, Emu(457200), Emu(1150000), SLIDE_W - Emu(914400), SLIDE_H - Emu(1450000)
        )

    for section in content.sections:
        slide = prs.slides.add_slide(blank)
        _title(slide, section.title, f"{content.city} · {content.period}")
        top = Emu(1150000)
        if section.figures:
            _picture(
                slide,
                section.figures[0].png,
                Emu(457200),
                top,
                Emu(8000000),
                SLIDE_H - top - Emu(200000),
            )
        figs: list[tuple[str, float, bool]] = []
        for label, value in section.key_figures:
            figs += [(label, 16, False), (value, 32, True)]
        for name, state in section.status:
            figs.append((f"{name}：{state}", 14, False))
        _text(slide, Emu(8700000), top, SLIDE_W - Emu(9000000), SLIDE_H - top - Emu(200000), figs)
        for fig in section.figures[1:2]:
            slide = prs.slides.add_slide(blank)
            _title(slide, f"{section.title}：{fig.title}", f"{content.city} · {content.period}")
            _picture(
                slide, fig.png, Emu(457200), top, SLIDE_W - Emu(914400), SLIDE_H - top - Emu(300000)
            )

    if content.comparison is not None:
        slide = prs.slides.add_slide(blank)
        _title(slide, f"与 {content.previous_period} 相比", f"{content.city} · {content.period}")
        _table(
            slide,
            content.comparison,
            Emu(457200),
            Emu(1250000),
            SLIDE_W - Emu(914400),
            Emu(5200000),
            limit=20,
        )
    if content.parameters:  # radii, detour factor, straight or walked per kind, data
        slide = prs.slides.add_slide(blank)
        _title(slide, "分析参数", f"{content.city} · {content.period}")
        frame = pd.DataFrame(content.parameters, columns=["参数", "取值"])
        _table(
            slide,
            ReportTable("parameters", "分析参数", frame),
            Emu(457200),
            Emu(1250000),
            SLIDE_W - Emu(914400),
            Emu(600000) * (len(frame) + 1),
        )
    prs.save(str(path))
