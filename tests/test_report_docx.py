"""The findings report as a Word document: read back with python-docx, compared with the PDF.

The demo review is seeded once; the DOCX and the PDF of the same review and audience are
built once each, and the PDF is read with ``pdftotext`` as its readers' tools read it.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docx
import lxml.html
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from audit import create_app, demo
from audit.cli import main
from audit.data import findings as finding_data
from audit.data import reviews
from audit.data.db import connect
from audit.reporting import measure, report, report_docx
from tests.conftest import Auth, csrf_token
from tests.test_report import flat, pdf_text


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The demo review, with its Word and PDF reports built on first use."""
    instance = tmp_path_factory.mktemp("docx-demo") / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    credentials = demo.seed(db, app.extensions["rubric_library"], instance)
    review = reviews.find(db, demo.DEMO_TITLE)
    folder = tmp_path_factory.mktemp("docx-out")
    cache: dict[Any, Any] = {}

    def word(audience: str) -> Any:
        if ("docx", audience) not in cache:
            data = report_docx.build_docx(app, db, review, audience=audience)
            cache[("docx", audience)] = docx.Document(io.BytesIO(data))
        return cache[("docx", audience)]

    def pdf(audience: str) -> str:
        if ("pdf", audience) not in cache:
            cache[("pdf", audience)] = flat(
                pdf_text(report.render(app, db, review, audience), folder)
            )
        return cache[("pdf", audience)]

    yield SimpleNamespace(
        app=app,
        db=db,
        review=review,
        instance=instance,
        word=word,
        pdf=pdf,
        html=lambda audience: report.build_html(app, db, review, audience=audience),
        passwords={c.username: c.password for c in credentials},
    )
    db.conn.close()


def _headings(document: Any, style: str) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == style]


def _fields(part_element: Any) -> str:
    return " ".join(t.text or "" for t in part_element.iter(qn("w:instrText")))


def _body_text(document: Any) -> str:
    words = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            words.extend(cell.text for cell in row.cells)
    return flat(" ".join(words))


# --------------------------------------------------------------------------- structure


def test_chapters_are_word_headings_with_a_contents_field(site: SimpleNamespace) -> None:
    document = site.word("internal")
    assert _headings(document, "Title") == [site.review.title]
    assert _headings(document, "TOC Heading") == ["Contents"]
    chapters = _headings(document, "Heading 1")
    assert chapters[:3] == ["Executive summary", "How the review was done", "Headline findings"]
    assert "Action plan" in chapters and "Appendix: results case by case" in chapters
    assert "Cases audited" in _headings(document, "Heading 2")
    assert "TOC" in _fields(document.element.body)
    html_h2 = [
        " ".join(h.text_content().split())
        for h in lxml.html.document_fromstring(site.html("internal")).iter("h2")
    ]
    assert ["Contents", *chapters] == html_h2  # every chapter of the PDF, in the same order
    # The contents field is already filled in: one entry per chapter, each a link to it.
    entries = [p for p in document.paragraphs if p.style.name == report_docx.CONTENTS_ENTRY]
    assert [p.text for p in entries] == chapters
    bookmarks = {b.get(qn("w:name")) for b in document.element.body.iter(qn("w:bookmarkStart"))}
    for entry in entries:
        (link,) = entry._p.findall(qn("w:hyperlink"))
        assert link.get(qn("w:anchor")) in bookmarks
    assert "Update Field" not in _body_text(document)


def test_pages_are_a4_with_the_pdfs_margins_and_the_appendix_landscape(
    site: SimpleNamespace,
) -> None:
    sections = site.word("internal").sections
    assert len(sections) == 2
    upright, wide = sections
    assert (round(upright.page_width.mm), round(upright.page_height.mm)) == (210, 297)
    assert (round(wide.page_width.mm), round(wide.page_height.mm)) == (297, 210)
    assert round(upright.top_margin.mm) == 24 and round(upright.left_margin.mm) == 17
    assert wide.footer.is_linked_to_previous  # the same marking and page numbers
    public = site.word("public").sections
    assert len(public) == 1 and round(public[0].page_height.mm) == 297


def test_captions_are_readable_and_kept_with_their_tables(site: SimpleNamespace) -> None:
    document = site.word("internal")
    caption = document.styles["Caption"]
    assert caption.font.size.pt >= 10 and caption.font.bold
    assert caption.font.color.rgb == report_docx.TEXT  # near-black, not light blue
    assert caption.paragraph_format.keep_with_next
    body = list(document.element.body.iterchildren())
    for index, child in enumerate(body):
        if child.tag == qn("w:tbl"):
            before = Paragraph(body[index - 1], document.part)
            assert before.style.name == "Caption" or before.paragraph_format.keep_with_next


def test_every_table_is_a_word_table_whose_header_row_repeats(site: SimpleNamespace) -> None:
    document = site.word("internal")
    html_tables = list(lxml.html.document_fromstring(site.html("internal")).iter("table"))
    assert len(document.tables) == len(html_tables) > 5
    for table in document.tables:
        header = table.rows[0]._tr.trPr
        assert header is not None and header.find(qn("w:tblHeader")) is not None
        # No row splits across two pages; columns have fixed widths fitted to the text.
        assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)
        assert not table.autofit
    assert [c.text for c in document.tables[0].rows[0].cells] == ["Case type", "Cases audited"]


def test_marking_in_the_header_and_page_numbers_in_the_footer(site: SimpleNamespace) -> None:
    section = site.word("internal").sections[0]
    marking = report.marking_for(site.app, "internal")
    assert section.header.paragraphs[0].text.startswith(marking)
    assert "DRAFT" in section.header.paragraphs[0].text  # the demo review is not complete
    assert section.footer.paragraphs[0].text == marking
    assert "PAGE" in _fields(section.footer._element)
    assert "NUMPAGES" in _fields(section.footer._element)  # "Page 3 of 16"
    public = site.word("public").sections[0].header.paragraphs[0].text
    assert public.startswith(report.marking_for(site.app, "public"))


def test_charts_are_png_images_with_the_pdfs_alternative_text(site: SimpleNamespace) -> None:
    document = site.word("internal")
    html_alts = [
        img.get("alt") for img in lxml.html.document_fromstring(site.html("internal")).iter("img")
    ]
    shapes = list(document.inline_shapes)
    assert len(shapes) == len(html_alts) >= 1
    for shape, alt in zip(shapes, html_alts, strict=True):
        assert shape._inline.docPr.get("descr") == alt and alt
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip.embed
        image = document.part.related_parts[blip]
        assert image.blob.startswith(b"\x89PNG")
        assert len(image.blob) > 5_000  # something was drawn, not an empty canvas


def test_columns_fit_their_longest_word_and_keep_numbers_and_dates_whole() -> None:
    heads = ["Case", "Case type", "Outstanding", "Requires improvement to be good", "Inadequate"]
    heads += ["Total answers", "Good or better", "Due"]
    cells = ["C01", "Referral and assessment", "1 (4%)", "12 (50%)", "0 (0%)", "24"]
    cells += ["12 (50%)", "15 November 2026"]
    html = (
        "<html><body><table><caption>Wide</caption><thead><tr>"
        + "".join(f'<th scope="col">{h}</th>' for h in heads)
        + "</tr></thead><tbody><tr>"
        + "".join(
            f'<td class="report-num">{c}</td>' if "%" in c else f"<td>{c}</td>" for c in cells
        )
        + "</tr></tbody></table></body></html>"
    )
    document = docx.Document(io.BytesIO(report_docx.html_to_docx(html, title="t", author="a")))
    (table,) = document.tables
    widths = [column.width.pt for column in table.columns]
    assert sum(widths) == pytest.approx(report_docx.PORTRAIT.text_width, abs=1)
    padding = sum(report_docx.CELL_PADDING)
    size = report_docx.TABLE_SIZES[0]
    for width, head, cell in zip(widths, heads, cells, strict=True):
        assert width >= measure.longest_word(head, size, bold=True) + padding
        assert width >= measure.longest_word(cell, size) + padding
    # "12 (50%)" and "15 November 2026" are never broken across lines.
    assert widths[3] >= measure.text_width("12 (50%)", size) + padding
    assert widths[-1] >= measure.text_width("15 November 2026", size) + padding
    # Equal widths (Word's default) would have split "Outstanding" and "improvement".
    equal = report_docx.PORTRAIT.text_width / len(heads) - padding
    assert measure.longest_word("Requires improvement to be good", size, bold=True) > equal


def test_a_landscape_part_mid_document_gets_pages_of_its_own() -> None:
    heads = "".join(f'<th scope="col">Column heading {j}</th>' for j in range(10))
    html = (
        '<html><body><section class="report-chapter"><h2 id="a">First</h2><p>Before.</p>'
        '<section class="report-landscape"><table><caption>Wide</caption>'
        f"<thead><tr>{heads}</tr></thead><tbody><tr>{'<td>x</td>' * 10}</tr></tbody></table>"
        "</section><p>After.</p></section></body></html>"
    )
    document = docx.Document(io.BytesIO(report_docx.html_to_docx(html, title="t", author="a")))
    shapes = [(round(s.page_width.mm), round(s.page_height.mm)) for s in document.sections]
    assert shapes == [(210, 297), (297, 210), (210, 297)]
    (table,) = document.tables
    assert sum(c.width.pt for c in table.columns) == pytest.approx(
        report_docx.LANDSCAPE.text_width, abs=1
    )
    assert [p.text for p in document.paragraphs if p.text] == ["First", "Before.", "Wide", "After."]


# --------------------------------------------------------------------------- figures


_NUMBER = re.compile(r"<?\d+(?:\.\d+)?%?")


def figures_not_in(texts: list[str], pdf: str) -> dict[str, int]:
    """Return the figures the texts give more often than the PDF's text does."""
    in_pdf = Counter(_NUMBER.findall(pdf))
    in_word = Counter(n for text in texts for n in _NUMBER.findall(text))
    return {n: c - in_pdf[n] for n, c in in_word.items() if c > in_pdf[n]}


@pytest.mark.parametrize("audience", ["internal", "public"])
def test_every_figure_in_the_tables_is_in_the_pdf(site: SimpleNamespace, audience: str) -> None:
    # pdftotext interleaves a table's wrapped cells, so compare the figures, not the lines:
    # each figure must be in the PDF at least as many times as the Word tables give it.
    cells = [c.text for t in site.word(audience).tables for row in t.rows for c in row.cells]
    assert sum(len(_NUMBER.findall(c)) for c in cells) > 50
    missing = figures_not_in(cells, site.pdf(audience))
    assert not missing, f"figures in the Word report but not (as often) in the PDF: {missing}"


def test_public_word_report_withholds_as_the_pdf_does(site: SimpleNamespace) -> None:
    words = _body_text(site.word("public"))
    pdf = site.pdf("public")
    assert "Appendix: results case by case" not in words
    threshold = report.threshold_for(site.app, site.review)
    withheld = f"<{threshold}"
    assert words.count(withheld) >= 1
    assert words.count(withheld) <= pdf.count(withheld)
    pseudonyms = [case["pseudonym"] for case in reviews.case_files(site.db, site.review.id)]
    assert pseudonyms and not any(re.search(rf"\b{p}\b", words) for p in pseudonyms)
    assert "EXB-" not in words
    assert re.search(rf"\b{pseudonyms[0]}\b", _body_text(site.word("internal")))


# --------------------------------------------------------------------------- CLI and web


def test_cli_writes_a_docx_and_refuses_other_endings(site: SimpleNamespace, tmp_path: Path) -> None:
    out = tmp_path / "report.docx"
    args = ["report", "--instance", str(site.instance), site.review.id, "-o"]
    result = CliRunner().invoke(main, [*args, str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    assert _headings(docx.Document(str(out)), "Title") == [site.review.title]
    assert not (tmp_path / "report.docx.part").exists()
    bad = CliRunner().invoke(main, [*args, str(tmp_path / "report.odt")])
    assert bad.exit_code != 0 and ".pdf or .docx" in bad.output
    assert not (tmp_path / "report.odt").exists()


def test_lead_downloads_the_word_report_beside_the_pdf(site: SimpleNamespace) -> None:
    client = site.app.test_client()
    auth = Auth(client)
    assert auth.sign_in("lead", site.passwords["lead"]).status_code == 302
    base = f"/reviews/{site.review.id}/report"
    page = client.get(base)
    assert b"Download the internal Word document" in page.data
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(f"{base}/docx", data={"csrf_token": token, "audience": "public"})
    assert response.status_code == 200
    assert response.mimetype == report_docx.DOCX_MIME
    assert "findings-public" in response.headers["Content-Disposition"]
    assert ".docx" in response.headers["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.data))
    assert "Appendix: results case by case" not in _headings(document, "Heading 1")
    missing = client.post(f"{base}/docx", data={"audience": "internal"})
    assert missing.status_code == 400  # no CSRF token
    wrong = client.post(f"{base}/docx", data={"csrf_token": token, "audience": "everyone"})
    assert wrong.status_code == 400


def test_public_word_report_is_refused_while_wording_gives_a_count_away(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    credentials = demo.seed(db, app.extensions["rubric_library"], instance)
    review = reviews.find(db, demo.DEMO_TITLE)
    finding_data.add_own(
        db, review.id, kind="development", text="1 case(s) left without a plan.", by=None
    )
    out = tmp_path / "public.docx"
    args = ["report", "--instance", str(instance), review.id, "-o", str(out), "--public"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and "1 case(s)" in result.output
    assert not out.exists() and not (tmp_path / "public.docx.part").exists()
    client = app.test_client()
    password = next(c.password for c in credentials if c.username == "lead")
    assert Auth(client).sign_in("lead", password).status_code == 302
    base = f"/reviews/{review.id}/report"
    token = csrf_token(client.get(base).get_data(as_text=True))
    refused = client.post(f"{base}/docx", data={"csrf_token": token, "audience": "public"})
    assert refused.status_code == 302 and "audience=public" in refused.headers["Location"]
    internal = client.post(f"{base}/docx", data={"csrf_token": token, "audience": "internal"})
    assert internal.mimetype == report_docx.DOCX_MIME
    assert "1 case(s) left without a plan." in _body_text(docx.Document(io.BytesIO(internal.data)))
    db.conn.close()
