"""The findings report as an editable Word document, built from the PDF's own HTML.

The DOCX is not a second copy of the report logic: ``report.build_html`` renders the same
figures (with the same disclosure control for the public version) and this module walks that
HTML into python-docx. Chapters become real Word headings (so the navigation pane works), a
contents field replaces the HTML contents list, tables become Word tables whose header row
repeats on every page, and charts become PNG images (rendered from the same SVG by WeasyPrint
and pypdfium2) with the chart's alternative text. The protective marking is in every page's
header and the page number in the footer.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import lxml.html
import sqlite_utils
from docx import Document
from docx.document import Document as DocumentType
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.html import HtmlElement

from audit.data import reviews as review_data
from audit.reporting import report

if TYPE_CHECKING:  # a Flask app is passed in; the module itself needs no Flask
    from flask import Flask

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SVG_PREFIX = "data:image/svg+xml;base64,"
CHART_WIDTH = Cm(16)
# HTML heading level -> Word heading level: the review title is the document's Title, each
# chapter (h2) a Heading 1, each part of a chapter (h3) a Heading 2.
HEADING_LEVEL = {"h1": 0, "h2": 1, "h3": 2, "h4": 3}
_SPACE = re.compile(r"\s+")


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
    """Turn a report's HTML (cover, chapters, tables, charts) into a Word document."""
    root = lxml.html.document_fromstring(html)
    document = Document()
    document.core_properties.title = title
    document.core_properties.author = author
    document.core_properties.language = "en-GB"
    found = root.find_class("report-marking")
    marking = _text(found[0]) if found else ""
    draft = "report--draft" in (root.body.get("class") or "")
    _style_document(document)
    _header_and_footer(document, marking, draft=draft)
    _Walker(document).children(root.body)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- page furniture


def _field(paragraph: Paragraph, instruction: str, placeholder: str = "") -> None:
    """Append a Word field (PAGE, TOC ...) that Word fills in when it lays the document out."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None)):
        run = paragraph.add_run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            if kind == "begin":
                char.set(qn("w:dirty"), "true")
            run._r.append(char)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {text} "
            run._r.append(instr)
    paragraph.add_run(placeholder)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)


def _header_and_footer(document: DocumentType, marking: str, *, draft: bool) -> None:
    """Put the protective marking (and DRAFT) in the header and page numbers in the footer."""
    section = document.sections[0]
    head = section.header.paragraphs[0]
    head.text = marking + (" — DRAFT" if draft else "")
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot.add_run("Page ")
    _field(foot, "PAGE", "1")


def _repeat_header(table: Table) -> None:
    """Mark a table's first row as a header row that Word repeats on every page."""
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


def _alt_text(document: DocumentType, alt: str) -> None:
    """Give the last inline picture its alternative text (what a screen reader says)."""
    inline = document.inline_shapes[-1]._inline
    inline.docPr.set("descr", alt)
    inline.docPr.set("title", alt[:80])


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
    width = re.search(r'<svg[^>]*\swidth="([\d.]+)', head)
    height = re.search(r'<svg[^>]*\sheight="([\d.]+)', head)
    if width and height:
        return float(width[1]), float(height[1])
    box = re.search(r'viewBox="[\d.\-]+[ ,]+[\d.\-]+[ ,]+([\d.]+)[ ,]+([\d.]+)"', head)
    return (float(box[1]), float(box[2])) if box else None


# --------------------------------------------------------------------------- the walk


def _text(element: HtmlElement) -> str:
    """Return an element's text with HTML white space collapsed."""
    return _SPACE.sub(" ", element.text_content()).strip()


class _Walker:
    """Write HTML elements into the document in reading order."""

    def __init__(self, document: DocumentType) -> None:
        self.document = document

    def children(self, element: HtmlElement) -> None:
        """Write each child element (loose text in containers is not used by the report)."""
        for child in element:
            if isinstance(child.tag, str):
                self.element(child)

    def element(self, el: HtmlElement) -> None:
        """Write one element according to its kind."""
        tag = el.tag
        classes = (el.get("class") or "").split()
        if tag in ("style", "script", "title", "meta", "link"):
            return
        if tag == "nav":  # the HTML contents list becomes Word's own contents field
            self.contents()
        elif "report-marking" in classes:
            self.paragraph(el, style=None, bold=True)
        elif tag in HEADING_LEVEL:
            self.document.add_heading(_text(el), level=HEADING_LEVEL[tag])
        elif tag == "p":
            self.paragraph(el, style="Caption" if "report-small" in classes else None)
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
        else:
            self.children(el)

    def contents(self) -> None:
        """Write a Contents heading and a TOC field over Heading 1 and 2."""
        self.document.add_heading("Contents", level=1)
        _field(
            self.document.add_paragraph(),
            'TOC \\o "1-2" \\h \\z \\u',
            "Right-click and choose Update Field to list the chapters.",
        )

    def paragraph(self, el: HtmlElement, *, style: str | None, bold: bool = False) -> Paragraph:
        """Write a paragraph keeping strong/em emphasis and evidence on its own line."""
        para = self.document.add_paragraph(style=style)
        self.runs(para, el, bold=bold, italic=False)
        # Collapse the white space the template's layout left at run edges.
        if para.runs:
            para.runs[0].text = para.runs[0].text.lstrip()
            para.runs[-1].text = para.runs[-1].text.rstrip()
        return para

    def runs(self, para: Paragraph, el: HtmlElement, *, bold: bool, italic: bool) -> None:
        """Append an element's text and its inline children's text as runs."""
        if el.text:
            self.run(para, el.text, bold, italic)
        for child in el:
            if not isinstance(child.tag, str):
                if child.tail:
                    self.run(para, child.tail, bold, italic)
                continue
            classes = (child.get("class") or "").split()
            if "report-finding__evidence" in classes:
                para.add_run().add_break()
            self.runs(
                para,
                child,
                bold=bold or child.tag in ("strong", "b", "th"),
                italic=italic or child.tag in ("em", "i"),
            )
            if child.tail:
                self.run(para, child.tail, bold, italic)

    @staticmethod
    def run(para: Paragraph, text: str, bold: bool, italic: bool) -> None:
        """Append one run of collapsed text."""
        text = _SPACE.sub(" ", text)
        if text:
            run = para.add_run(text)
            run.bold = bold or None
            run.italic = italic or None

    def definitions(self, el: HtmlElement) -> None:
        """Write a definition list as 'term: value' lines."""
        term = ""
        for child in el:
            if child.tag == "dt":
                term = _text(child)
            elif child.tag == "dd":
                para = self.document.add_paragraph()
                para.add_run(f"{term}: ").bold = True
                para.add_run(_text(child))

    def table(self, el: HtmlElement) -> None:
        """Write an HTML table as a Word table; the first row repeats on every page."""
        caption = el.find("caption")
        if caption is not None:
            self.document.add_paragraph(_text(caption), style="Caption")
        rows: list[tuple[list[HtmlElement], bool]] = []
        for tr in el.iter("tr"):
            cells = [c for c in tr if c.tag in ("th", "td")]
            head = tr.getparent() is not None and tr.getparent().tag == "thead"
            rows.append((cells, head))
        if not rows:
            return
        width = max(sum(int(c.get("colspan") or 1) for c in cells) for cells, _ in rows)
        table = self.document.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, (cells, head) in enumerate(rows):
            col = 0
            for cell in cells:
                span = int(cell.get("colspan") or 1)
                target = table.cell(r, col)
                if span > 1:
                    target = target.merge(table.cell(r, col + span - 1))
                para = target.paragraphs[0]
                self.runs(para, cell, bold=head or cell.tag == "th", italic=False)
                if para.runs:
                    para.runs[0].text = para.runs[0].text.lstrip()
                    para.runs[-1].text = para.runs[-1].text.rstrip()
                if "report-num" in (cell.get("class") or ""):
                    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                col += span
        if rows[0][1] or all(c.tag == "th" for c in rows[0][0]):
            _repeat_header(table)
        self.document.add_paragraph()

    def figure(self, el: HtmlElement) -> None:
        """Write a chart: its image with alternative text, then its caption."""
        for img in el.iter("img"):
            self.image(img)
        caption = el.find("figcaption")
        if caption is not None:
            self.document.add_paragraph(_text(caption), style="Caption")

    def image(self, el: HtmlElement) -> None:
        """Write a chart image (an inline SVG data URL) as a PNG with its alt text."""
        src = el.get("src") or ""
        if not src.startswith(SVG_PREFIX):
            return  # the report only ever carries its own SVG charts
        png = svg_to_png(base64.b64decode(src[len(SVG_PREFIX) :]))
        self.document.add_picture(io.BytesIO(png), width=CHART_WIDTH)
        _alt_text(self.document, el.get("alt") or "Chart")
        self.document.paragraphs[-1].paragraph_format.keep_with_next = True


def _style_document(document: DocumentType) -> None:
    """Use a plain, readable body font, as the PDF does."""
    document.styles["Normal"].font.name = "Arial"
    document.styles["Normal"].font.size = Pt(11)
