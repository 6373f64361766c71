"""The findings report (and any report built the same way) as a Word document a council can send.

The DOCX is not a second copy of the report logic: ``report.build_html`` renders the same
figures (with the same disclosure control for the public version) and :func:`html_to_docx`
walks that HTML into python-docx. The walk knows HTML and the report's layout classes, never a
chapter of the findings report, so the self-evaluation pack (and any later report drawn as HTML
the same way) goes through it too.

What the layout classes mean here, as in the print stylesheet (``audit/static/css/report.css``):

- ``report-cover``: the cover, ended by a page break;
- ``nav``: the contents, written by the app as Word's contents field already filled in (each
  chapter a link to its heading), so it reads right when the file is opened;
- ``report-chapter``: a chapter starts on a new page;
- ``report-landscape``: its pages are A4 landscape (a section of their own);
- ``report-figure-block``: a chart's heading, picture and caption stay on one page.

Pages are A4 with the PDF's margins. Tables get column widths fitted to their content (never
narrower than a column's longest word, measured in Arial by :mod:`audit.reporting.measure`),
rows that never split, header rows that repeat on every page and a caption kept with its
table; a short table is kept on one page, a long one breaks between rows.
Charts become PNG images (rendered from the same SVG by WeasyPrint and pypdfium2) with the
chart's alternative text, small enough that a chart moved to the next page never leaves most
of a page empty. The protective marking is in every page's header and footer, with
"Page X of Y".
"""

from __future__ import annotations

import base64
import copy
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import lxml.html
import sqlite_utils
from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.html import HtmlElement

from audit.data import reviews as review_data
from audit.reporting import measure, report

if TYPE_CHECKING:  # a Flask app is passed in; the module itself needs no Flask
    from flask import Flask

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SVG_PREFIX = "data:image/svg+xml;base64,"
# HTML heading level -> Word heading level: the review title is the document's Title, each
# chapter (h2) a Heading 1, each part of a chapter (h3) a Heading 2.
HEADING_LEVEL = {"h1": 0, "h2": 1, "h3": 2, "h4": 3}
_SPACE = re.compile(r"\s+")
_NUMERIC = {"report-num", "govuk-table__cell--numeric", "govuk-table__header--numeric"}
_UNBREAKABLE = re.compile(r"^(?:\d{1,2} [A-Z][a-z]+ \d{4}|[\d.,%<>()\[\] c]+)$")
"""A date ("4 January 2027") or a number ("11 (46%)", "<5"): never broken across lines."""
_INTRO_MAX = 600
"""Short paragraphs just before a table stay on its page (characters, all of them together)."""
_INLINE = {"a", "abbr", "b", "br", "code", "em", "i", "small", "span", "strong", "sub", "sup"}
TEXT = RGBColor(0x0B, 0x0C, 0x0C)
MUTED = RGBColor(0x48, 0x49, 0x49)
RULE = "B1B4B6"
CONTENTS_ENTRY = "toc 1"


@dataclass(frozen=True)
class PageShape:
    """One page layout: A4 one way round, with its margins (the PDF's, from report.css)."""

    width_mm: float
    height_mm: float
    top_mm: float
    bottom_mm: float
    side_mm: float

    @property
    def text_width(self) -> float:
        """Return the width between the margins, in points."""
        return Mm(self.width_mm - 2 * self.side_mm).pt

    @property
    def text_height(self) -> float:
        """Return the height between the margins, in points."""
        return Mm(self.height_mm - self.top_mm - self.bottom_mm).pt


PORTRAIT = PageShape(210, 297, 24, 22, 17)
LANDSCAPE = PageShape(297, 210, 20, 20, 15)

# Charts: as wide as the text allows, but never so tall that a chart moved to the next page
# leaves more than about half a page empty behind it.
CHART_MAX_WIDTH = Mm(160)
CHART_MAX_HEIGHT = Mm(95)

# Tables: text sizes to try, largest first, until every column is as wide as its longest word.
TABLE_SIZES = (9.0, 8.0, 7.5)
CELL_PADDING = (3.0, 5.0)  # left, right, in points
CELL_PADDING_V = 1.5
# A table (with its caption) at most this share of a page is kept on one page; a longer one
# may break between rows, its header row repeated on the next page.
KEEP_WHOLE = 0.3


def filename(review: review_data.Review, audience: str) -> str:
    """Return the Word download's name: the PDF's name with a .docx ending."""
    return report.filename(review, audience).removesuffix(".pdf") + ".docx"


def build_docx(
    app: Flask, db: sqlite_utils.Database, review: review_data.Review, *, audience: str
) -> bytes:
    """Return the review's report as DOCX bytes, from exactly the HTML the PDF is drawn from."""
    report.check_audience(audience)
    html = report.build_html(app, db, review, audience=audience)
    return html_to_docx(
        html, title=report.pdf_title(review, audience), author=report.pdf_author(app, db, review)
    )


def write_docx(
    app: Flask, db: sqlite_utils.Database, review: review_data.Review, path: Path, *, audience: str
) -> int:
    """Write the Word report to ``path`` (whole or not at all); return its size."""
    data = build_docx(app, db, review, audience=audience)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return len(data)


def html_to_docx(html: str, *, title: str, author: str) -> bytes:
    """Turn a report's HTML (cover, contents, chapters, tables, charts) into a Word document."""
    root = lxml.html.document_fromstring(html)
    document = Document()
    document.core_properties.title = title
    document.core_properties.author = author
    document.core_properties.language = "en-GB"
    found = root.find_class("report-marking")
    marking = _text(found[0]) if found else ""
    draft = "report--draft" in (root.body.get("class") or "")
    _style_document(document)
    _shape(document.sections[0], PORTRAIT)
    _Walker(document).children(root.body)
    _header_and_footer(document, marking, draft=draft)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- styles and pages


def _font(style: BaseStyle, *, size: float | None = None, bold: bool | None = None) -> None:
    """Set a style's font to Arial in black (theme fonts and colours removed), as the PDF."""
    font = style.font  # type: ignore[attr-defined]
    font.name = "Arial"
    r_fonts = style.element.rPr.find(qn("w:rFonts"))  # type: ignore[union-attr]
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        r_fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        r_fonts.set(qn(f"w:{attr}"), "Arial")
    font.color.rgb = TEXT
    font.italic = False
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold


def _paragraph_style(
    document: DocumentType,
    name: str,
    *,
    size: float,
    bold: bool = False,
    before: float = 0,
    after: float = 6,
    keep_with_next: bool = False,
    colour: RGBColor = TEXT,
    base: str = "Normal",
) -> None:
    """Add (or reset) a paragraph style in Arial."""
    styles = document.styles
    style = styles[name] if name in [s.name for s in styles] else None
    if style is None:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[base]
    _font(style, size=size, bold=bold)
    style.font.color.rgb = colour  # type: ignore[attr-defined]
    fmt = style.paragraph_format  # type: ignore[attr-defined]
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    fmt.keep_with_next = keep_with_next


def _style_document(document: DocumentType) -> None:
    """Give the document the PDF's look: Arial throughout, black headings, readable captions."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        fonts = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
        if fonts is not None:
            for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
                fonts.attrib.pop(qn(f"w:{attr}"), None)
            for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
                fonts.set(qn(f"w:{attr}"), "Arial")
    normal = document.styles["Normal"]
    _font(normal, size=11)
    normal.paragraph_format.space_after = Pt(6)  # type: ignore[attr-defined]
    normal.paragraph_format.line_spacing = 1.15  # type: ignore[attr-defined]
    title = document.styles["Title"]
    _font(title, size=24, bold=True)
    title_ppr = title.element.pPr
    if title_ppr is not None:
        border = title_ppr.find(qn("w:pBdr"))
        if border is not None:
            title_ppr.remove(border)
    title.paragraph_format.space_after = Pt(12)  # type: ignore[attr-defined]
    for level, size, before, after in ((1, 16, 18, 6), (2, 12.5, 14, 4), (3, 11, 10, 3)):
        style = document.styles[f"Heading {level}"]
        _font(style, size=size, bold=True)
        style.paragraph_format.space_before = Pt(before)  # type: ignore[attr-defined]
        style.paragraph_format.space_after = Pt(after)  # type: ignore[attr-defined]
        style.paragraph_format.keep_with_next = True  # type: ignore[attr-defined]
    _font(document.styles["TOC Heading"], size=16, bold=True)
    # A table's caption: bold, as large as the body's small print, kept with its table.
    _paragraph_style(
        document, "Caption", size=10, bold=True, before=6, after=3, keep_with_next=True
    )
    _paragraph_style(document, "Note", size=9, colour=MUTED)
    _paragraph_style(document, "Chart Caption", size=9, colour=MUTED, before=2, after=8)
    _paragraph_style(document, "Table Text", size=TABLE_SIZES[0], after=0)
    document.styles["Table Text"].paragraph_format.line_spacing = 1.0  # type: ignore[attr-defined]
    # Word's own style for contents entries ("toc 1", id TOC1), which it uses when it updates
    # the field, so the entries look the same before and after.
    _paragraph_style(document, CONTENTS_ENTRY, size=11, after=8)
    document.styles[CONTENTS_ENTRY].style_id = "TOC1"
    for name in ("List Bullet", "List Number", "Quote"):
        _font(document.styles[name])
    quote = document.styles["Quote"]
    quote.font.italic = True  # type: ignore[attr-defined]
    quote.paragraph_format.left_indent = Mm(8)  # type: ignore[attr-defined]


def _shape(section: object, shape: PageShape) -> None:
    """Set a section's page: A4 one way round, with the margins of the PDF's pages."""
    section.orientation = (  # type: ignore[attr-defined]
        WD_ORIENT.LANDSCAPE if shape.width_mm > shape.height_mm else WD_ORIENT.PORTRAIT
    )
    section.page_width = Mm(shape.width_mm)  # type: ignore[attr-defined]
    section.page_height = Mm(shape.height_mm)  # type: ignore[attr-defined]
    section.top_margin = Mm(shape.top_mm)  # type: ignore[attr-defined]
    section.bottom_margin = Mm(shape.bottom_mm)  # type: ignore[attr-defined]
    section.left_margin = section.right_margin = Mm(shape.side_mm)  # type: ignore[attr-defined]
    section.header_distance = section.footer_distance = Mm(10)  # type: ignore[attr-defined]


def _field(paragraph: Paragraph, instruction: str, placeholder: str = "") -> None:
    """Append a Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in as they lay out."""
    _field_start(paragraph, instruction)
    paragraph.add_run(placeholder)
    _field_end(paragraph)


def _field_start(paragraph: Paragraph, instruction: str) -> None:
    """Open a field; its result (the placeholder, or the contents entries) follows."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None)):
        run = paragraph.add_run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {text} "
            run._r.append(instr)


def _field_end(paragraph: Paragraph) -> None:
    """Close the field opened by :func:`_field_start` (perhaps paragraphs earlier)."""
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)


def _header_and_footer(document: DocumentType, marking: str, *, draft: bool) -> None:
    """Put the marking (and DRAFT) at the top and bottom of every page, with Page X of Y.

    Written on the first section only: later sections (landscape pages) are linked to it,
    and centred text sits right whichever way round the page is.
    """
    section = document.sections[0]
    head = section.header.paragraphs[0]
    run = head.add_run(marking + (" — DRAFT" if draft else ""))
    run.bold, run.font.size = True, Pt(9)
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = foot.add_run(marking)
    run.bold, run.font.size = True, Pt(9)
    pages = section.footer.add_paragraph()
    pages.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pages.add_run("Page ")
    _field(pages, "PAGE", "1")
    pages.add_run(" of ")
    _field(pages, "NUMPAGES", "1")
    for r in pages.runs:
        r.font.size = Pt(8)
        r.font.color.rgb = MUTED


# --------------------------------------------------------------------------- charts


def svg_to_png(svg: bytes, *, scale: float = 2.0) -> bytes:
    """Rasterise a chart's SVG with WeasyPrint (already a dependency) and pdfium."""
    import pypdfium2
    import weasyprint

    size = _svg_size(svg)
    width, height = size if size else (640.0, 400.0)
    src = SVG_PREFIX + base64.b64encode(svg).decode("ascii")
    page = (
        f"<style>@page {{ size: {width}px {height}px; margin: 0 }} body {{ margin: 0 }}"
        f" img {{ display: block; width: {width}px; height: {height}px }}</style>"
        f'<img src="{src}" alt="">'
    )
    pdf = weasyprint.HTML(string=page, url_fetcher=report.make_fetcher()).write_pdf()
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=scale).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()
    finally:
        document.close()


def _svg_size(svg: bytes) -> tuple[float, float] | None:
    """Return the chart's width and height in CSS pixels, from its attributes or viewBox."""
    head = svg[:2000].decode("utf-8", "replace")
    width = re.search(r'<svg[^>]*\swidth="([\d.]+)"', head)
    height = re.search(r'<svg[^>]*\sheight="([\d.]+)"', head)
    if width and height:
        return float(width[1]), float(height[1])
    box = re.search(r'viewBox="[\d.\-]+[ ,]+[\d.\-]+[ ,]+([\d.]+)[ ,]+([\d.]+)"', head)
    return (float(box[1]), float(box[2])) if box else None


def chart_width(size: tuple[float, float] | None) -> Emu:
    """Return how wide to print a chart: the text's width, unless that makes it too tall."""
    if not size or not size[0] or not size[1]:
        return Emu(CHART_MAX_WIDTH)
    return Emu(int(min(CHART_MAX_WIDTH, CHART_MAX_HEIGHT * size[0] / size[1])))


# --------------------------------------------------------------------------- tables


@dataclass
class _Cell:
    element: HtmlElement
    head: bool
    span: int

    @property
    def bold(self) -> bool:
        return self.head or self.element.tag == "th"

    @property
    def numeric(self) -> bool:
        return bool(_classes(self.element) & _NUMERIC)

    @property
    def unbreakable(self) -> bool:
        return not self.head and (
            self.numeric or bool(_UNBREAKABLE.match(" ".join(self.element.text_content().split())))
        )

    @property
    def lines(self) -> list[str]:
        """Return the cell's text, split where the HTML starts a new line (br, evidence)."""
        parts: list[list[str]] = [[]]

        def walk(element: HtmlElement) -> None:
            if element.text:
                parts[-1].append(element.text)
            for child in element:
                if isinstance(child.tag, str):
                    if child.tag == "br" or "report-finding__evidence" in _classes(child):
                        parts.append([])
                    walk(child)
                if child.tail:
                    parts[-1].append(child.tail)

        walk(self.element)
        return [" ".join("".join(p).split()) for p in parts if "".join(p).strip()] or [""]


def fit_columns(rows: list[list[_Cell]], width: float, size: float) -> tuple[list[float], bool]:
    """Return column widths (points) filling ``width``, and whether every word fits unbroken.

    As a browser lays out an automatic table: each column is at least as wide as its longest
    word and at most as wide as its longest line; the room left over goes to the columns that
    would wrap most. A number ("11 (46%)") or a date is never broken. Spanning cells are left out of
    the measure.
    """
    columns = max(sum(c.span for c in row) for row in rows)
    pad = sum(CELL_PADDING) + 1.5  # and a little for rounding in the layout engines
    least = [pad + 6.0] * columns
    most = [pad + 6.0] * columns
    for row in rows:
        col = 0
        for cell in row:
            if cell.span == 1 and col < columns:
                texts = cell.lines
                narrowest = measure.text_width if cell.unbreakable else measure.longest_word
                least[col] = max(
                    least[col], pad + max(narrowest(t, size, bold=cell.bold) for t in texts)
                )
                # A heading may take two lines: its length alone should not widen a column
                # of short grades while the case types beside it wrap.
                share = 0.5 if cell.head else 1.0
                most[col] = max(
                    most[col],
                    least[col],
                    pad + share * max(measure.text_width(t, size, bold=cell.bold) for t in texts),
                )
            col += cell.span
    if sum(least) > width:
        scale = width / sum(least)
        return [w * scale for w in least], False
    if sum(most) <= width:
        spare = width - sum(most)
        total = sum(most)
        return [w + spare * w / total for w in most], True
    spare = width - sum(least)
    wants = [m - w for m, w in zip(most, least, strict=True)]
    total = sum(wants) or 1.0
    return [w + spare * want / total for w, want in zip(least, wants, strict=True)], True


def _row_height(row: list[_Cell], widths: list[float], size: float) -> float:
    """Estimate a row's height in points from how many lines its fullest cell wraps to."""
    col, tallest = 0, 1
    for cell in row:
        room = sum(widths[col : col + cell.span]) - sum(CELL_PADDING)
        count = sum(measure.lines(t, room, size, bold=cell.bold) for t in cell.lines)
        tallest = max(tallest, count)
        col += cell.span
    return tallest * size * 1.2 + 2 * CELL_PADDING_V + 1


_TBL_PR = (
    "tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize",
    "tblStyleColBandSize", "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd",
    "tblLayout", "tblCellMar", "tblLook", "tblCaption", "tblDescription", "tblPrChange",
)  # fmt: skip
_P_PR = (
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
    "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
    "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
    "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
    "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle",
    "rPr", "sectPr", "pPrChange",
)  # fmt: skip
_TC_PR = (
    "cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
    "textDirection", "tcFitText", "vAlign", "hideMark",
)  # fmt: skip


def _insert(parent: object, child: object, sequence: tuple[str, ...]) -> None:
    """Insert a property element where the schema's order puts it (Word refuses files whose
    properties are out of order)."""
    name = child.tag.split("}")[1]  # type: ignore[attr-defined]
    later = set(sequence[sequence.index(name) + 1 :])
    for existing in parent:  # type: ignore[attr-defined]
        if existing.tag.split("}")[1] in later:
            existing.addprevious(child)
            return
    parent.append(child)  # type: ignore[attr-defined]


def _borders(table: Table) -> None:
    """Rule the table as the PDF does: a line under each row, none between columns."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        line = OxmlElement(f"w:{edge}")
        if edge in ("bottom", "insideH"):
            line.set(qn("w:val"), "single")
            line.set(qn("w:sz"), "4")
            line.set(qn("w:color"), RULE)
        else:
            line.set(qn("w:val"), "nil")
        borders.append(line)
    _insert(tbl_pr, borders, _TBL_PR)
    margins = OxmlElement("w:tblCellMar")
    for edge, points in (
        ("top", CELL_PADDING_V),
        ("left", CELL_PADDING[0]),
        ("bottom", CELL_PADDING_V),
        ("right", CELL_PADDING[1]),
    ):
        margin = OxmlElement(f"w:{edge}")
        margin.set(qn("w:w"), str(round(points * 20)))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    _insert(tbl_pr, margins, _TBL_PR)


def _head_rule(cell: object) -> None:
    """Draw the heavier line under a header cell."""
    tc_pr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    borders = OxmlElement("w:tcBorders")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), "12")
    bottom.set(qn("w:color"), "0B0C0C")
    borders.append(bottom)
    _insert(tc_pr, borders, _TC_PR)


def _row_flag(row: object, tag: str) -> None:
    """Set a row property: ``cantSplit`` (never split) or ``tblHeader`` (repeat on each page)."""
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    flag = OxmlElement(f"w:{tag}")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


def _fixed_widths(table: Table, widths: list[float]) -> None:
    """Give the table fixed column widths, as both Word (cells) and LibreOffice (grid) read."""
    table.autofit = False  # a fixed layout: the widths below are used as given
    tbl_pr = table._tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        _insert(tbl_pr, tbl_w, _TBL_PR)
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(round(sum(widths) * 20)))
    for column, points in zip(table.columns, widths, strict=True):
        column.width = Pt(points)
    for row in table.rows:
        for index, cell in enumerate(row.cells):
            cell.width = Pt(widths[index])


# --------------------------------------------------------------------------- the walk


def _text(element: HtmlElement) -> str:
    """Return an element's text with HTML white space collapsed."""
    return _SPACE.sub(" ", element.text_content()).strip()


def _classes(element: HtmlElement) -> set[str]:
    return set((element.get("class") or "").split())


def _bookmark_name(anchor: str) -> str:
    """Return a Word bookmark name for an HTML id (hidden: it starts with an underscore)."""
    return ("_Toc_" + re.sub(r"[^A-Za-z0-9_]", "_", anchor))[:40]


def _leads_into_table(paragraph: HtmlElement) -> bool:
    """Tell whether a paragraph is part of a short introduction to the table right after it.

    Such paragraphs stay on the table's page, so a heading and a line or two are never left
    at the foot of a page while the table they introduce starts the next.
    """
    length = 0
    sibling: HtmlElement | None = paragraph
    while sibling is not None and sibling.tag == "p":
        length += len(_text(sibling))
        sibling = sibling.getnext()
        while sibling is not None and not isinstance(sibling.tag, str):
            sibling = sibling.getnext()
    return sibling is not None and sibling.tag == "table" and length <= _INTRO_MAX


def _is_inline_only(element: HtmlElement) -> bool:
    return all(not isinstance(c.tag, str) or c.tag in _INLINE for c in element)


class _Walker:
    """Write HTML elements into the document in reading order, page by page."""

    def __init__(self, document: DocumentType) -> None:
        self.document = document
        self.shape = PORTRAIT
        self.break_before = False  # the next block starts a new page
        self.back_to: PageShape | None = None  # the page shape to return to after landscape
        self.after_table = False  # the next paragraph needs space above it
        self.bookmarks = 0

    # -- blocks

    def children(self, element: HtmlElement) -> None:
        """Write each child element in turn."""
        for child in element:
            if isinstance(child.tag, str):
                self.element(child)

    def element(self, el: HtmlElement) -> None:
        """Write one element according to its kind and layout class."""
        tag = el.tag
        classes = _classes(el)
        if tag in ("style", "script", "title", "meta", "link", "head"):
            return
        if "report-landscape" in classes:
            self.landscape(el)
        elif tag == "nav":
            self.contents(el)
        elif "report-chapter" in classes:
            self.break_before = True
            self.children(el)
        elif "report-cover" in classes:
            self.children(el)
            self.break_before = True
        elif "report-marking" in classes:
            self.paragraph(el, bold=True)
        elif tag in HEADING_LEVEL:
            self.heading(el)
        elif tag == "p":
            para = self.paragraph(el, style=self.paragraph_style(classes))
            if _leads_into_table(el):
                para.paragraph_format.keep_with_next = True
        elif tag == "blockquote":
            self.paragraph(el, style="Quote")
        elif tag in ("ul", "ol"):
            style = "List Bullet" if tag == "ul" else "List Number"
            for item in el.iterchildren("li"):
                self.paragraph(item, style=style)
        elif tag == "dl":
            self.definitions(el)
        elif tag == "table":
            self.table(el)
        elif tag == "figure":
            self.figure(el)
        elif tag == "img":
            self.image(el)
        elif (el.text or "").strip() or (len(el) and _is_inline_only(el) and _text(el)):
            self.paragraph(el)  # a container holding text only: write it as a paragraph
        else:
            self.children(el)

    @staticmethod
    def paragraph_style(classes: set[str]) -> str | None:
        """Return the Word style for a paragraph's classes: small print is a Note."""
        if classes & {"report-small", "report-cover__service"}:
            return "Note"
        return None

    def settle(self) -> None:
        """Go back to the page shape due after landscape pages, before writing anything more."""
        if self.back_to is not None:
            shape, self.back_to = self.back_to, None
            self.new_section(shape)

    def block(self, style: str | None = None) -> Paragraph:
        """Start a new paragraph, on a new page or page shape when one is due."""
        self.settle()
        para = self.document.add_paragraph(style=style)
        if self.break_before:
            para.paragraph_format.page_break_before = True
            self.break_before = False
        if self.after_table:
            para.paragraph_format.space_before = Pt(9)
            self.after_table = False
        return para

    def new_section(self, shape: PageShape) -> None:
        """End the current section at the last paragraph and start one on a new page.

        python-docx's ``add_section`` adds an empty paragraph to carry the section break,
        which can spill onto a page of its own; the break goes on the last paragraph instead
        (a hairline one after a table, which cannot carry it).
        """
        body = self.document.element.body
        last = body[-2] if len(body) > 1 else None
        if last is None or last.tag != qn("w:p"):
            spacer = self.document.add_paragraph()
            spacer.paragraph_format.space_after = Pt(0)
            spacer.paragraph_format.line_spacing = Pt(1)
            last = spacer._p
        ended = copy.deepcopy(body.sectPr)
        last.get_or_add_pPr()._insert_sectPr(ended)
        section = self.document.sections[-1]
        _shape(section, shape)
        self.shape = shape
        self.break_before = False
        self.after_table = False

    def landscape(self, el: HtmlElement) -> None:
        """Write the element on landscape pages of their own, then go back to upright ones."""
        before = self.shape
        self.back_to = None
        self.new_section(LANDSCAPE)
        if "report-chapter" in _classes(el):
            self.children(el)
        else:
            self.element_without(el, "report-landscape")
        self.back_to = before

    def element_without(self, el: HtmlElement, name: str) -> None:
        """Write an element as if it did not carry the class ``name``."""
        copy_el = copy.deepcopy(el)
        copy_el.set("class", " ".join(c for c in _classes(el) if c != name))
        self.element(copy_el)

    def heading(self, el: HtmlElement) -> None:
        """Write a heading; a heading with an id gets a bookmark the contents links to."""
        level = HEADING_LEVEL[el.tag]
        para = self.block(style="Title" if level == 0 else f"Heading {level}")
        anchor = el.get("id")
        if anchor and level:
            self.bookmark(para, _bookmark_name(anchor), _text(el))
        else:
            para.add_run(_text(el))

    def bookmark(self, para: Paragraph, name: str, text: str) -> None:
        """Write the text inside a bookmark."""
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(self.bookmarks))
        start.set(qn("w:name"), name)
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(self.bookmarks))
        self.bookmarks += 1
        para._p.append(start)
        para.add_run(text)
        para._p.append(end)

    def contents(self, el: HtmlElement) -> None:
        """Write the contents as Word's contents field, already filled in with the chapters.

        Each entry links to its chapter's heading. Word and LibreOffice show the entries as
        written when the file is opened; updating the field in Word adds page numbers.
        """
        heading = next((h for h in el.iter() if h.tag in HEADING_LEVEL), None)
        para = self.block(style="TOC Heading")
        para.add_run(_text(heading) if heading is not None else "Contents")
        links = [a for a in el.iter("a") if (a.get("href") or "").startswith("#")]
        for index, link in enumerate(links):
            entry = self.block(style=CONTENTS_ENTRY)
            if index == 0:
                _field_start(entry, 'TOC \\o "1-1" \\h \\z \\u')
            hyperlink = OxmlElement("w:hyperlink")
            hyperlink.set(qn("w:anchor"), _bookmark_name(link.get("href", "#")[1:]))
            hyperlink.set(qn("w:history"), "1")
            run = OxmlElement("w:r")
            text = OxmlElement("w:t")
            text.text = _text(link)
            run.append(text)
            hyperlink.append(run)
            entry._p.append(hyperlink)
            if index == len(links) - 1:
                _field_end(entry)
        self.break_before = True

    def paragraph(
        self, el: HtmlElement, *, style: str | None = None, bold: bool = False
    ) -> Paragraph:
        """Write a paragraph keeping strong/em emphasis and evidence on its own line."""
        para = self.block(style=style)
        classes = _classes(el)
        if classes & {"report-statement", "report-cover__draft"}:
            _left_rule(para)
            bold = True
        bold = bold or "report-cover__audience" in classes
        self.runs(para, el, bold=bold, italic=False, small=False)
        _trim(para)
        if "report-cover__kind" in classes:
            para.paragraph_format.space_before = Pt(60)
            for run in para.runs:
                run.font.size, run.font.color.rgb = Pt(13), MUTED
        elif classes & {"report-headline", "report-statement"}:
            for run in para.runs:
                run.font.size = Pt(12)
        return para

    def runs(
        self, para: Paragraph, el: HtmlElement, *, bold: bool, italic: bool, small: bool
    ) -> None:
        """Append an element's text and its inline children's text as runs."""
        if el.text:
            self.run(para, el.text, bold, italic, small)
        for child in el:
            if not isinstance(child.tag, str):
                if child.tail:
                    self.run(para, child.tail, bold, italic, small)
                continue
            classes = _classes(child)
            if child.tag == "br" or "report-finding__evidence" in classes:
                para.add_run().add_break(WD_BREAK.LINE)
            self.runs(
                para,
                child,
                bold=bold or child.tag in ("strong", "b"),
                italic=italic or child.tag in ("em", "i"),
                small=small or bool(classes & {"report-small", "report-finding__evidence"}),
            )
            if child.tail:
                self.run(para, child.tail, bold, italic, small)

    @staticmethod
    def run(para: Paragraph, text: str, bold: bool, italic: bool, small: bool) -> None:
        """Append one run of collapsed text."""
        text = _SPACE.sub(" ", text)
        if text:
            run = para.add_run(text)
            run.bold = bold or None
            run.italic = italic or None
            if small:
                run.font.size = Pt(9)
                run.font.color.rgb = MUTED
                run.bold = None

    def definitions(self, el: HtmlElement) -> None:
        """Write a definition list as 'term: value' lines."""
        term = ""
        for child in el:
            if child.tag == "dt":
                term = _text(child)
            elif child.tag == "dd":
                para = self.block()
                para.paragraph_format.space_after = Pt(3)
                para.add_run(f"{term}: ").bold = True
                para.add_run(_text(child))

    def table(self, el: HtmlElement) -> None:
        """Write an HTML table as a Word table fitted to its content, its rows kept whole."""
        self.settle()
        rows: list[list[_Cell]] = []
        head_rows = 0
        for tr in el.iter("tr"):
            parent = tr.getparent()
            head = parent is not None and parent.tag == "thead"
            cells = [
                _Cell(c, head, int(c.get("colspan") or 1)) for c in tr if c.tag in ("th", "td")
            ]
            if not cells:
                continue
            rows.append(cells)
            if head and head_rows == len(rows) - 1:
                head_rows += 1
        if not rows:
            return
        if not head_rows and all(c.element.tag == "th" for c in rows[0]):
            head_rows = 1
        width = self.shape.text_width
        for size in TABLE_SIZES:
            widths, fits = fit_columns(rows, width, size)
            if fits:
                break
        caption = el.find("caption")
        caption_para = None
        if caption is not None and _text(caption):
            caption_para = self.block(style="Caption")
            caption_para.add_run(_text(caption))
        elif self.break_before:
            caption_para = self.block()  # carries the page break
            caption_para.paragraph_format.keep_with_next = True
        columns = len(widths)
        table = self.document.add_table(rows=len(rows), cols=columns)
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        _borders(table)
        _fixed_widths(table, widths)
        heights = [_row_height(row, widths, size) for row in rows]
        whole = sum(heights) + (20 if caption_para is not None else 0)
        keep_all = whole <= KEEP_WHOLE * self.shape.text_height
        last = len(rows) - 1
        text_style = self.document.styles["Table Text"]
        for r, cells in enumerate(rows):
            word_row = table.rows[r]
            _row_flag(word_row, "cantSplit")
            if r < head_rows:
                _row_flag(word_row, "tblHeader")
            # Keep a short table on one page. A long one may break between any two rows: in
            # LibreOffice, rows kept with the next inside a table that breaks can vanish from
            # the page (LibreOffice 7.4), so a long table keeps nothing inside it.
            keep = keep_all and r < last
            col = 0
            for cell in cells:
                target = table.cell(r, col)
                if cell.span > 1:
                    target = target.merge(table.cell(r, min(col + cell.span, columns) - 1))
                para = target.paragraphs[0]
                para.style = text_style
                self.runs(para, cell.element, bold=cell.bold, italic=False, small=False)
                _trim(para)
                for run in para.runs:
                    if run.font.size is None or run.font.size > Pt(size):
                        run.font.size = Pt(size if run.font.size is None else size - 1)
                if cell.numeric:
                    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                if keep:
                    para.paragraph_format.keep_with_next = True
                if r < head_rows:
                    _head_rule(target)
                col += cell.span
        self.after_table = True

    def figure(self, el: HtmlElement) -> None:
        """Write a chart: its picture with alternative text, then its caption beneath."""
        for img in el.iter("img"):
            self.image(img)
        caption = el.find("figcaption")
        if caption is not None:
            para = self.block(style="Chart Caption")
            para.add_run(_text(caption))

    def image(self, el: HtmlElement) -> None:
        """Write a chart image (an inline SVG data URL) as a PNG with its alt text."""
        src = el.get("src") or ""
        if not src.startswith(SVG_PREFIX):
            return  # the report only ever carries its own SVG charts
        svg = base64.b64decode(src[len(SVG_PREFIX) :])
        png = svg_to_png(svg)
        para = self.block()
        para.paragraph_format.keep_with_next = True
        para.add_run().add_picture(io.BytesIO(png), width=chart_width(_svg_size(svg)))
        _alt_text(self.document, el.get("alt") or "Chart")


def _trim(para: Paragraph) -> None:
    """Collapse the white space the template's layout left at the paragraph's edges."""
    if para.runs:
        para.runs[0].text = para.runs[0].text.lstrip()
        para.runs[-1].text = para.runs[-1].text.rstrip()


def _left_rule(para: Paragraph) -> None:
    """Draw the PDF's heavy rule down the left of a statement."""
    p_pr = para._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    left = OxmlElement("w:left")
    left.set(qn("w:val"), "single")
    left.set(qn("w:sz"), "24")
    left.set(qn("w:space"), "8")
    left.set(qn("w:color"), "0B0C0C")
    borders.append(left)
    _insert(p_pr, borders, _P_PR)
    para.paragraph_format.left_indent = Mm(4)
    para.paragraph_format.keep_together = True


def _alt_text(document: DocumentType, alt: str) -> None:
    """Give the last inline picture its alternative text (what a screen reader says)."""
    inline = document.inline_shapes[-1]._inline
    inline.docPr.set("descr", alt)
    inline.docPr.set("title", alt[:80])
