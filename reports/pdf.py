"""PDF export (A4, reportlab) with the CJK font embedded.

Layout: a cover (title, city, period, date, "synthetic demo data" when the store says so), the
summary of indicators against targets, the period comparison, one part per theme (static map,
key figures, tables) and the lists of worst grids, overloaded shelters and villages below
target. Long tables are cut at :data:`MAX_ROWS` rows with a note (the XLSX has them all).
"""

from __future__ import annotations

import io
import os

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from reports.content import ReportContent, ReportFigure, ReportTable, display_width
from reports.fonts import reportlab_font

MAX_ROWS = 40
#: Texts a line never breaks inside (units: reportlab's CJK wrapping breaks before any
#: Chinese character, so "m²/人" could end up as "m²/" and "人" on two lines).
UNBREAKABLE = ("m²/人", "位/人", "个百分点")
STATUS_BG = {
    "达标": colors.HexColor("#c8e6c9"),
    "接近": colors.HexColor("#fff59d"),
    "未达标": colors.HexColor("#ffcdd2"),
    "改善": colors.HexColor("#c8e6c9"),
    "变差": colors.HexColor("#ffcdd2"),
}
PAGE_W, PAGE_H = A4
MARGIN = 16 * mm


def _styles() -> dict[str, ParagraphStyle]:
    font = reportlab_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    return {
        "base": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5),
        "head": ParagraphStyle(
            "head", parent=base, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#1a237e")
        ),
        "h1": ParagraphStyle(
            "h1", parent=base, fontSize=16, leading=22, spaceBefore=6, spaceAfter=8
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4, keepWithNext=1
        ),
        "cover": ParagraphStyle("cover", parent=base, fontSize=26, leading=34, alignment=TA_CENTER),
        "cover2": ParagraphStyle(
            "cover2", parent=base, fontSize=14, leading=22, alignment=TA_CENTER
        ),
        "warn": ParagraphStyle(
            "warn",
            parent=base,
            fontSize=13,
            leading=18,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#b71c1c"),
        ),
        "note": ParagraphStyle(
            "note", parent=base, fontSize=7.5, leading=10, textColor=colors.HexColor("#616161")
        ),
    }


class _Para(Paragraph):
    """A paragraph that never breaks a line inside one of :data:`UNBREAKABLE`.

    When a wrap splits one, the text is wrapped again a little narrower (so the break moves
    before the unit's number) while the paragraph keeps the width it was given.
    """

    def wrap(self, availWidth, availHeight):
        plain = "".join(_line_texts(self, None))
        width = availWidth
        while True:
            result = super().wrap(width, availHeight)
            lines = _line_texts(self, width)
            if width < availWidth / 2 or not _splits_unit(lines, plain):
                self.width = availWidth
                return availWidth, result[1]
            width -= 2


def _line_texts(para: Paragraph, width: float | None) -> list[str]:
    """The text of each wrapped line of `para` (of the whole text when `width` is None)."""
    if width is None:
        return ["".join(getattr(f, "text", "") for f in para.frags)]
    lines = []
    for line in para.blPara.lines:
        if isinstance(line, tuple):  # non-CJK lines: (extra space, words)
            lines.append(" ".join(str(w) for w in line[1]))
        else:
            lines.append("".join(getattr(f, "text", "") for f in line.words))
    return lines


def _splits_unit(lines: list[str], plain: str) -> bool:
    joined = "\n".join(line.strip() for line in lines)
    return any(plain.count(u) > joined.count(u) for u in UNBREAKABLE)


class _Table(Table):
    """A table that never leaves a single body row alone at the foot or the head of a page."""

    def split(self, availWidth, availHeight):
        head = self.repeatRows or 0
        height = availHeight
        while True:
            parts = super().split(availWidth, height)
            if len(parts) != 2:
                return parts
            first, rest = parts
            here = len(first._cellvalues) - head
            left = len(rest._cellvalues) - head
            if here < 2:
                return []  # start the table on the next page
            if left >= 2:
                return parts
            height -= self._rowHeights[len(first._cellvalues) - 1]  # one row fewer here


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def pdf_table(
    table: ReportTable, styles: dict[str, ParagraphStyle], *, width: float, limit: int = MAX_ROWS
) -> list:
    """Flowables for one table: title, the table (header repeated on each page) and a note."""
    out: list = [_Para(_esc(table.title), styles["h2"])]
    if table.frame.empty:
        out.append(_Para("（无）", styles["note"]))
        return out
    rows = table.text_rows(limit)
    header = [_Para(_esc(c), styles["head"]) for c in table.frame.columns]
    body = [[_Para(_esc(v), styles["cell"]) for v in row] for row in rows]
    ncol = len(header)
    lengths = [
        max([display_width(c)] + [display_width(r[i]) for r in rows[:50]])
        for i, c in enumerate(table.frame.columns)
    ]
    total = sum(min(max(n, 6), 30) for n in lengths)
    col_w = [width * min(max(n, 6), 30) / total for n in lengths]
    t = _Table([header, *body], colWidths=col_w, repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#b0bec5")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3eaf2")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row[:ncol]):
            if value in STATUS_BG:
                style.append(("BACKGROUND", (c, r), (c, r), STATUS_BG[value]))
    t.setStyle(TableStyle(style))
    out.append(t)
    notes = []
    if len(table.frame) > limit:
        notes.append(f"仅列出前 {limit} 行（共 {len(table.frame)} 行），完整数据见 Excel 导出。")
    if table.note:
        notes.append(table.note)
    for note in notes:
        out.append(_Para(_esc(note), styles["note"]))
    return out


def pdf_figure(
    figure: ReportFigure, styles: dict[str, ParagraphStyle], *, width: float, max_height: float
) -> list:
    """Flowables for one map or chart scaled to fit `width` x `max_height`."""
    img = Image(io.BytesIO(figure.png))
    scale = min(width / img.imageWidth, max_height / img.imageHeight)
    img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
    parts: list = [img]
    if figure.caption:
        parts.append(_Para(_esc(figure.caption), styles["note"]))
    return [KeepTogether(parts), Spacer(1, 4)]


def write_pdf(content: ReportContent, path: str | os.PathLike) -> None:
    """Lay out `content` as an A4 PDF at `path`."""
    styles = _styles()
    font = reportlab_font()
    width = PAGE_W - 2 * MARGIN

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor("#757575"))
        text = f"{content.title} · {content.period}"
        if content.synthetic:
            text += " · 合成示例数据"
        canvas.drawString(MARGIN, 9 * mm, text)
        canvas.drawRightString(PAGE_W - MARGIN, 9 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    story: list = [
        Spacer(1, 60 * mm),
        _Para(_esc(content.title), styles["cover"]),
        Spacer(1, 12 * mm),
    ]
    story.append(_Para(_esc(f"{content.city} · {content.period}"), styles["cover2"]))
    story.append(_Para(_esc(f"生成日期：{content.date}"), styles["cover2"]))
    if content.period_note:
        story.append(_Para(_esc(content.period_note), styles["note"]))
    if content.synthetic:
        story += [
            Spacer(1, 10 * mm),
            _Para("合成示例数据 · Synthetic demo data（非真实统计）", styles["warn"]),
        ]
    if content.parameters:
        story.append(Spacer(1, 25 * mm))
        for label, value in content.parameters:
            story.append(_Para(_esc(f"{label}：{value}"), styles["note"]))
    story.append(PageBreak())

    story.append(_Para("一、指标与目标", styles["h1"]))
    story += pdf_table(content.summary, styles, width=width, limit=100)
    for fig in content.summary_figures:
        story += pdf_figure(fig, styles, width=width, max_height=90 * mm)
    if content.comparison is not None:
        story += pdf_table(content.comparison, styles, width=width, limit=100)

    for n, section in enumerate(content.sections, start=2):
        story.append(PageBreak())
        story.append(_Para(_esc(f"{_numeral(n)}、{section.title}"), styles["h1"]))
        if section.key_figures:
            kf = "　".join(f"{label}：<b>{_esc(value)}</b>" for label, value in section.key_figures)
            story.append(_Para(kf, styles["base"]))
            story.append(Spacer(1, 4))
        for fig in section.figures:
            story += pdf_figure(fig, styles, width=width, max_height=125 * mm)
        for table in section.tables:
            story += pdf_table(table, styles, width=width)

    if content.lists:
        story.append(PageBreak())
        story.append(_Para(_esc(f"{_numeral(len(content.sections) + 2)}、问题清单"), styles["h1"]))
        for table in content.lists:
            story += pdf_table(table, styles, width=width)

    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=16 * mm,
        title=f"{content.title} {content.period}",
        author=content.city,
        subject=content.title,
    )
    doc.build(story, onFirstPage=lambda c, d: None, onLaterPages=footer)


def _numeral(n: int) -> str:
    digits = "零一二三四五六七八九十"
    return digits[n] if n <= 10 else str(n)
