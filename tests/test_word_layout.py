"""The Word report and self-evaluation pack as a council prints them, and the PDF beside them.

The demo's findings report (internal and public) and its programme's self-evaluation pack are
built once as Word files, rendered to PDF once by LibreOffice headless (Debian's
``libreoffice-writer-nogui``), and their pages checked as a reader would see them: A4, the case
appendix on landscape pages, every grade label and column heading in whole words, no page
mostly empty unless it ends a chapter, no heading or caption left without what follows it.
The PDFs WeasyPrint makes of the same HTML get the same page checks.

Without LibreOffice the Word checks are skipped with a message saying how to install it,
except under ``CI=true``, where a missing LibreOffice is a failure (as a missing Chromium is
for the browser tests).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import docx
import lxml.html
import pytest
from docx.text.paragraph import Paragraph

from audit import create_app, demo
from audit.data import programmes, reviews
from audit.data.db import connect
from audit.reporting import report, report_docx, selfeval
from tests.pages import Page, read_pages, split_words, words_of

MISSING_LIBREOFFICE = (
    "Word layout tests need LibreOffice to render .docx files: "
    "sudo apt-get install libreoffice-writer-nogui (or set CASE_AUDIT_LIBREOFFICE)"
)
DOCUMENTS = ("report-internal", "report-public", "pack")
STRESS = "tables"  # a made-up document of tables of every length, for LibreOffice's sake
KINDS = ("word", "pdf")
PACK_PERIOD = selfeval.Period.parse("2026-08-01", "2026-12-31")
# (top, bottom) margins in mm: the Word file's sections and the PDF's @page rules agree.
MARGINS = {
    "portrait": (report_docx.PORTRAIT.top_mm, report_docx.PORTRAIT.bottom_mm),
    "landscape": (report_docx.LANDSCAPE.top_mm, report_docx.LANDSCAPE.bottom_mm),
}


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def find_libreoffice() -> str | None:
    """Return LibreOffice's ``soffice`` (``$CASE_AUDIT_LIBREOFFICE`` wins), or None."""
    override = os.environ.get("CASE_AUDIT_LIBREOFFICE")
    if override:
        return override if os.access(override, os.X_OK) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


@dataclass(repr=False)
class Document:
    """One document: the HTML it is drawn from, its Word file read back, its PDF's pages."""

    name: str
    html: str
    docx_path: Path
    pdf_pages: list[Page]
    level_labels: list[str]

    @property
    def word(self) -> Any:
        return docx.Document(str(self.docx_path))

    def tree(self) -> Any:
        return lxml.html.document_fromstring(self.html)

    def texts(self, *tags: str) -> list[str]:
        """Return the text of every element with one of these tags, white space collapsed."""
        return [" ".join(e.text_content().split()) for t in tags for e in self.tree().iter(t)]

    @property
    def chapters(self) -> list[str]:
        """Return what starts a page: the cover's title and the chapters (h1 and h2)."""
        return self.texts("h1", "h2")

    @property
    def column_headings(self) -> list[str]:
        return [
            " ".join(th.text_content().split())
            for th in self.tree().iter("th")
            if th.get("scope") == "col"
        ]


@pytest.fixture(scope="session")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Document]]:
    """Build the demo's report (both versions) and pack once, as Word files and PDFs."""
    folder = tmp_path_factory.mktemp("word-layout")
    app = create_app({"INSTANCE_PATH": folder / "instance", "TESTING": True})
    db = connect(app.config["DATABASE"])
    demo.seed(db, app.extensions["rubric_library"], folder / "instance")
    review = reviews.find(db, demo.DEMO_TITLE)
    programme = next(p for p in programmes.all_programmes(db) if p["title"] == demo.PROGRAMME_TITLE)
    labels = [level.label for level in review.rubric.scale.levels]
    built: dict[str, Document] = {}
    for name in DOCUMENTS:
        if name == "pack":
            html = selfeval.build_html(app, db, programme["id"], PACK_PERIOD)
            word = selfeval.build(app, db, programme["id"], PACK_PERIOD, "docx")
            pdf = selfeval.build(app, db, programme["id"], PACK_PERIOD, "pdf")
        else:
            audience = name.removeprefix("report-")
            html = report.build_html(app, db, review, audience=audience)
            word = report_docx.build_docx(app, db, review, audience=audience)
            pdf = report.render(app, db, review, audience)
        (folder / f"{name}.docx").write_bytes(word)
        (folder / f"{name}.pdf").write_bytes(pdf)
        built[name] = Document(
            name,
            html,
            folder / f"{name}.docx",
            read_pages(folder / f"{name}.pdf", MARGINS),
            labels if name != "pack" else [],
        )
    html = stress_html()
    (folder / f"{STRESS}.docx").write_bytes(report_docx.html_to_docx(html, title="t", author="a"))
    built[STRESS] = Document(STRESS, html, folder / f"{STRESS}.docx", [], [])
    yield built
    db.conn.close()


def stress_html() -> str:
    """Return chapters of tables from 1 to 24 rows, of one- to four-line rows, between text.

    Tables start at every height on the page, so some break across pages: every row must
    still be printed whole.
    """
    chapters = []
    for chapter in range(3):
        parts = [f'<section class="report-chapter"><h2 id="c{chapter}">Chapter {chapter}</h2>']
        for size in range(1 + chapter, 25, 3):
            parts.append(f"<p>{'Some words before the table. ' * (size % 4 + 1)}</p>")
            rows = "".join(
                f'<tr><th scope="row">Row{chapter}x{size}x{r}</th>'
                f"<td>{'text that wraps in its cell ' * ((r + size) % 4 + 1)}</td>"
                f'<td class="report-num">{r} ({r * 4}%)</td></tr>'
                for r in range(size)
            )
            parts.append(
                f"<table><caption>Table {chapter}.{size}</caption><thead><tr>"
                '<th scope="col">Name</th><th scope="col">Text</th><th scope="col">Count</th>'
                f"</tr></thead><tbody>{rows}</tbody></table>"
            )
        chapters.append("".join(parts) + "</section>")
    return f"<html><body>{''.join(chapters)}</body></html>"


@pytest.fixture(scope="session")
def word_pages(
    documents: dict[str, Document], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Page]]:
    """Render every Word file to PDF in one LibreOffice run (it is slow to start)."""
    soffice = find_libreoffice()
    if soffice is None:
        if _ci():
            pytest.fail(f"CI=true and no LibreOffice: {MISSING_LIBREOFFICE}", pytrace=False)
        pytest.skip(MISSING_LIBREOFFICE)
    out = tmp_path_factory.mktemp("word-rendered")
    profile = tmp_path_factory.mktemp("libreoffice-profile")  # never the user's own profile
    files = [str(d.docx_path) for d in documents.values()]
    result = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *files,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    pages = {}
    for name in [*documents]:
        pdf = out / f"{name}.pdf"
        assert pdf.exists(), f"LibreOffice did not render {name}.docx: {result.stderr[-2000:]}"
        pages[name] = read_pages(pdf, MARGINS)
    return pages


def _pages(kind: str, name: str, documents: dict[str, Document], request: Any) -> list[Page]:
    if kind == "pdf":
        return documents[name].pdf_pages
    return request.getfixturevalue("word_pages")[name]


def _starts(page: Page, titles: list[str]) -> bool:
    """Tell whether the page's first line of text is the start of one of these titles."""
    lines = page.body_lines()
    if not lines:
        return False
    first = lines[0].text
    return any(title.startswith(first) or first.startswith(title) for title in titles)


# --------------------------------------------------------------------------- pages


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", DOCUMENTS)
def test_pages_are_a4_and_the_case_appendix_is_landscape(
    kind: str, name: str, documents: dict[str, Document], request: pytest.FixtureRequest
) -> None:
    pages = _pages(kind, name, documents, request)
    assert pages and all(p.a4 for p in pages), [(p.number, p.width, p.height) for p in pages]
    appendix = [p.number for p in pages if "Host reference" in p.text]
    if name == "report-internal":
        first = next(p.number for p in pages if _starts(p, ["Appendix: results case by case"]))
        assert appendix and appendix[0] == first, "the appendix starts its own pages"
        assert [p.number for p in pages if p.landscape] == list(range(first, len(pages) + 1))
    else:
        assert not appendix and not any(p.landscape for p in pages)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", DOCUMENTS)
def test_grade_labels_and_column_headings_are_whole_words(
    kind: str, name: str, documents: dict[str, Document], request: pytest.FixtureRequest
) -> None:
    document = documents[name]
    pages = _pages(kind, name, documents, request)
    targets = set().union(*(words_of(t) for t in document.level_labels + document.column_headings))
    assert len(targets) > 10
    printed = {w.text.strip(".,;:()“”\"'") for p in pages for w in p.words()}
    assert targets <= printed, f"not printed as whole words: {sorted(targets - printed)}"
    assert not split_words(pages, targets)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_page_is_mostly_empty_unless_it_ends_a_chapter(
    kind: str, name: str, documents: dict[str, Document], request: pytest.FixtureRequest
) -> None:
    pages = _pages(kind, name, documents, request)
    chapters = [*documents[name].chapters, "Contents"]
    empty = [
        f"page {page.number} is {page.fullness:.0%} full"
        for page, after in pairwise(pages)
        if page.fullness < 1 / 3 and not _starts(after, chapters)
    ]
    assert not empty
    # The pack's parts run on: only the cover and the contents may stand nearly empty.
    if name == "pack":
        assert all(len(p.body_lines()) > 3 for p in pages[2:]), "a page holds a line or two"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_page_ends_with_a_heading_or_a_caption(
    kind: str, name: str, documents: dict[str, Document], request: pytest.FixtureRequest
) -> None:
    document = documents[name]
    pages = _pages(kind, name, documents, request)
    stranded = set(document.texts("h1", "h2", "h3", "h4", "caption"))
    ends = [
        (p.number, p.body_blocks()[-1].text)
        for p in pages
        if p.body_blocks() and not _starts(p, ["Contents"])  # its entries are chapter titles
    ]
    assert not [(number, text) for number, text in ends if text in stranded]


# --------------------------------------------------------------------------- the Word file


def _tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"[A-Za-z0-9]+", text))


@pytest.mark.parametrize("name", [*DOCUMENTS, STRESS])
def test_every_word_of_the_word_file_is_on_its_pages(
    name: str, documents: dict[str, Document], word_pages: dict[str, list[Page]]
) -> None:
    written: Counter[str] = Counter()
    for item in documents[name].word.iter_inner_content():
        if isinstance(item, Paragraph):
            written += _tokens(item.text)
        else:
            for row in item.rows:
                for cell in row.cells:
                    written += _tokens(cell.text)
    printed = _tokens(" ".join(p.text for p in word_pages[name]))
    missing = {word: n - printed[word] for word, n in written.items() if printed[word] < n}
    assert not missing, f"written in the Word file but not on its pages: {missing}"
    if name == STRESS:
        rows = set(re.findall(r"Row\d+x\d+x\d+", documents[name].html))
        assert rows and rows <= set(printed), sorted(rows - set(printed))[:10]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_word_of_the_html_is_in_the_pdf(name: str, documents: dict[str, Document]) -> None:
    body = documents[name].tree().body
    written = _tokens(" ".join(body.itertext()))
    printed = _tokens(" ".join(p.text for p in documents[name].pdf_pages))
    assert not {word: n for word, n in written.items() if printed[word] < n}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_heading_in_the_word_file_has_content_after_it(
    name: str, documents: dict[str, Document]
) -> None:
    blocks: list[tuple[int | None, str]] = []  # (heading level or None, text)
    for item in documents[name].word.iter_inner_content():
        if not isinstance(item, Paragraph):
            blocks.append((None, "table"))
            continue
        text = item.text.strip()
        style = item.style.name if item.style is not None else ""
        if style == "Title":
            blocks.append((0, text))
        elif style.startswith("Heading ") or style == "TOC Heading":
            blocks.append((int(style.split()[-1]) if style[-1].isdigit() else 1, text))
        elif text or item._p.xpath(".//w:drawing"):
            blocks.append((None, text))
    empty = [
        text
        for (level, text), (next_level, _) in zip(blocks, [*blocks[1:], (0, "")], strict=True)
        if level is not None and next_level is not None and next_level <= level
    ]
    assert not empty, f"headings with nothing under them: {empty}"
    headings = [text for level, text in blocks if level is not None]
    if name == "report-internal":
        assert "In families' words, as the auditors recorded them" in headings


def test_contents_lists_the_chapters_when_the_file_is_opened(
    documents: dict[str, Document], word_pages: dict[str, list[Page]]
) -> None:
    for name in DOCUMENTS:
        pages = word_pages[name]
        contents = next(p for p in pages if _starts(p, ["Contents"]))
        listed = [line.text for line in contents.body_lines()[1:]]
        chapters = [c for c in documents[name].texts("h2") if c != "Contents"]
        assert listed == chapters, name
        assert "Update Field" not in " ".join(p.text for p in pages)
