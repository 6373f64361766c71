"""The findings report: content, the public version, accessibility, security, issuing, routes.

PDFs are read the way their readers' tools read them: ``pdftotext`` for the words, ``pdfinfo``
for tagging and metadata, ``pdftoppm`` for what a page looks like. Renders take about a second
each, so the demo review's two versions are rendered once per module and shared by the tests
that only read them; tests that change data use the ``app``/``db`` fixtures.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lxml.html
import pytest
from flask import Flask

from audit import analysis, create_app, demo
from audit.data import audits, reviews, users
from audit.data import findings as finding_data
from audit.data import reports as report_data
from audit.data.db import connect
from audit.reporting import disclosure, report
from audit.stats import wilson
from tests.conftest import Auth, csrf_token
from tests.helpers import REPO

HOSTILE = {
    "attachment": "<link rel=attachment href=file:///etc/passwd>",
    "image": "<img src=http://127.0.0.1:9/>",
    "import": "<style>@import url(file:///etc/passwd)</style>",
    "css": "x { background: url(file:///etc/passwd) } url(http://127.0.0.1:9/x.png)",
    "svg": '<svg><image href="file:///etc/passwd"/></svg>',
}


# --------------------------------------------------------------------------- PDF helpers


def pdf_text(pdf: bytes, folder: Path, *, page: int | None = None) -> str:
    """Return the PDF's text as pdftotext reads it (one page, or all)."""
    path = folder / f"read-{hashlib.sha256(pdf).hexdigest()[:12]}.pdf"
    path.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", *pages, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def flat(text: str) -> str:
    """Collapse whitespace, so words wrapped across lines still match."""
    return " ".join(text.split())


def pdf_objects(pdf: bytes) -> bytes:
    """Return the PDF's bytes with every compressed stream (object streams too) inflated."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        end = pdf.find(b"endstream", match.end())
        try:
            parts.append(zlib.decompress(pdf[match.end() : end]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def page_pixels(pdf: bytes, folder: Path, page: int, dpi: int = 40) -> tuple[int, int, bytes]:
    """Render one page in greyscale (PGM) and return (width, height, pixels)."""
    path = folder / f"pixels-{hashlib.sha256(pdf).hexdigest()[:12]}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), str(path)],
        capture_output=True,
        check=True,
    ).stdout
    match = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", out)
    assert match, "pdftoppm did not write a PGM image"
    width, height = int(match[1]), int(match[2])
    pixels = out[match.end() :]
    assert len(pixels) == width * height
    return width, height, pixels


def page_count(pdf: bytes, folder: Path) -> int:
    path = folder / "count.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)[1])  # type: ignore[index]


def page_with(pdf: bytes, folder: Path, words: str) -> int:
    """Return the number of the first page whose text contains ``words``."""
    for number in range(1, page_count(pdf, folder) + 1):
        if words in flat(pdf_text(pdf, folder, page=number)):
            return number
    raise AssertionError(f"no page contains {words!r}")


def watermark_pixels(pixels: bytes) -> int:
    """Count pixels of exactly the watermark's light grey (#dddddd, 221 in greyscale)."""
    return pixels.count(221)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The demo review, seeded once, with its two report versions rendered on first use."""
    instance = tmp_path_factory.mktemp("report-demo") / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    credentials = demo.seed(db, app.extensions["rubric_library"], instance)
    review = reviews.find(db, demo.DEMO_TITLE)
    cache: dict[str, Any] = {}

    def html(audience: str) -> str:
        if ("html", audience) not in cache:
            cache[("html", audience)] = report.build_html(app, db, review, audience=audience)
        return cache[("html", audience)]

    def pdf(audience: str) -> bytes:
        if ("pdf", audience) not in cache:
            calls: list[str] = []
            cache[("pdf", audience)] = report.render_pdf(
                html(audience),
                title=report.pdf_title(review, audience),
                author=report.pdf_author(app, db, review),
                on_fetch=calls.append,
            )
            cache[("calls", audience)] = calls
        return cache[("pdf", audience)]

    folder = tmp_path_factory.mktemp("report-pdfs")
    yield SimpleNamespace(
        app=app,
        db=db,
        review=review,
        html=html,
        pdf=pdf,
        calls=lambda audience: cache[("calls", audience)],
        folder=folder,
        text=lambda audience: pdf_text(pdf(audience), folder),
        passwords={c.username: c.password for c in credentials},
        base=f"/reviews/{review.id}/report",
    )
    db.conn.close()


@pytest.fixture
def browser(demo_site: SimpleNamespace) -> SimpleNamespace:
    """A fresh test client on the shared demo, with the sign-in helper."""
    client = demo_site.app.test_client()
    return SimpleNamespace(client=client, auth=Auth(client))


@pytest.fixture
def seeded(app: Flask, db: Any) -> SimpleNamespace:
    """The demo seeded into this test's own app, with the demo users' passwords."""
    credentials = demo.seed(db, app.extensions["rubric_library"], Path(app.instance_path))
    return SimpleNamespace(
        review=reviews.find(db, demo.DEMO_TITLE),
        passwords={c.username: c.password for c in credentials},
    )


def sign_in(auth: Auth, site: SimpleNamespace, username: str) -> None:
    response = auth.sign_in(username, site.passwords[username])
    assert response.status_code == 302


def complete(db: Any, review_id: str) -> None:
    """Record the demo's open escalation and move the review on to complete."""
    lead_id = db.execute("SELECT id FROM user WHERE username = 'lead'").fetchone()[0]
    for alert in audits.escalations(db, review_id, open_only=True):
        audits.record_escalation(
            db,
            alert["id"],
            review_id,
            told_who="Team manager",
            told_at="2026-10-28 09:00",
            agreed_action="Safety plan reviewed the same day.",
            by=lead_id,
        )
    reviews.set_status(db, review_id, "moderation", by=lead_id)
    reviews.set_status(db, review_id, "complete", by=lead_id)


# --------------------------------------------------------------------------- content


def test_pdf_has_the_title_curated_findings_safeguarding_statement_and_page_numbers(
    demo_site: SimpleNamespace,
) -> None:
    text = flat(demo_site.text("internal"))
    review = demo_site.review
    assert review.title in text
    assert "Example Borough Council" in text
    accepted = [
        f for f in finding_data.for_review(demo_site.db, review.id) if f.status == "accepted"
    ]
    assert {f.kind for f in accepted} == {"strength", "development"}
    for finding in accepted:
        assert flat(finding.text) in text, finding.text
    assert "From interviews and focus groups" in text  # the lead's own finding
    # The demo: one submitted first audit found a child not adequately safeguarded; two
    # alerts were raised (one in a draft), one escalation is unrecorded.
    critical = analysis.aggregate(demo_site.db, review).critical
    assert critical == {"cases": 1, "audited": 24, "alerts": 2, "alert_cases": 2, "recorded": 1}
    assert "In 1 of the 24 cases audited a child was found not adequately safeguarded" in text
    assert "2 safeguarding alerts were raised about 2 cases" in text
    assert "Page 1 of" in text
    pages = page_count(demo_site.pdf("internal"), demo_site.folder)
    assert f"Page {pages} of {pages}" in text
    assert "OFFICIAL-SENSITIVE" in text
    # The contents page gives each chapter's page number.
    contents = flat(pdf_text(demo_site.pdf("internal"), demo_site.folder, page=2))
    assert re.search(r"Auditor agreement[ .]*\d+", contents)


def test_findings_appear_in_the_leads_order_and_only_accepted(demo_site: SimpleNamespace) -> None:
    text = flat(demo_site.text("internal"))
    strengths = [
        flat(f.text)
        for f in finding_data.for_review(demo_site.db, demo_site.review.id)
        if f.status == "accepted" and f.kind == "strength"
    ]
    positions = [text.index(s) for s in strengths]
    assert positions == sorted(positions)


def _safeguarding_view(critical: dict[str, int], threshold: int = 0) -> Any:
    table = disclosure.Table()
    table.cell("audited", critical["audited"], anchor=True)
    table.cell("safeguarding", critical["cases"])
    table.cell("alerts/cases", critical["alert_cases"])
    table.cell("alerts", critical["alerts"])
    table.relate(
        "alerts",
        [
            table.cell("alerts/recorded", critical["recorded"]),
            table.cell("alerts/waiting", critical["alerts"] - critical["recorded"]),
        ],
    )
    return table.protect(threshold) if threshold else table.unprotected()


def test_shares_say_their_unit() -> None:
    table = disclosure.Table()
    table.cell("audited", 24, anchor=True)
    table.share("x", 12, 24)
    view = table.unprotected()
    assert view.share("x", wilson(12, 24)).endswith("; 12 of 24 cases)")


def test_safeguarding_statement_wording() -> None:
    none = {"cases": 0, "audited": 40, "alerts": 0, "alert_cases": 0, "recorded": 0}
    assert report.safeguarding_statement(_safeguarding_view(none)) == (
        "No child was found not adequately safeguarded in the 40 cases audited (each case "
        "counted once, by the adverse answer to a critical question in its submitted first "
        "audit, as moderated). No safeguarding alert was raised (counting alerts from every "
        "audit of the review, second audits included, less any withdrawn)."
    )
    recorded = {"cases": 2, "audited": 40, "alerts": 3, "alert_cases": 2, "recorded": 3}
    statement = report.safeguarding_statement(_safeguarding_view(recorded))
    assert statement.startswith("In 2 of the 40 cases audited a child was found not adequately")
    assert statement.endswith(
        "3 safeguarding alerts were raised about 2 cases (counting alerts from every audit of "
        "the review, second audits included, less any withdrawn): the escalation to the "
        "responsible manager and the action taken are recorded for each."
    )
    waiting = {"cases": 3, "audited": 40, "alerts": 3, "alert_cases": 3, "recorded": 1}
    assert "2 are still to be recorded" in report.safeguarding_statement(
        _safeguarding_view(waiting)
    )
    public = report.safeguarding_statement(_safeguarding_view(recorded, threshold=5))
    assert public.startswith("In <5 of the 40 cases audited")
    # One still to record: "is" would give the 1 away beside "<5".
    one_left = {"cases": 3, "audited": 40, "alerts": 3, "alert_cases": 3, "recorded": 2}
    assert report.safeguarding_statement(_safeguarding_view(one_left, threshold=5)).endswith(
        "<5 are still to be recorded."
    )


def test_chart_page_is_not_blank(demo_site: SimpleNamespace) -> None:
    pdf = demo_site.pdf("internal")
    chart_page = page_with(pdf, demo_site.folder, "Grades given in each section")
    text_page = page_with(pdf, demo_site.folder, "The peer team audited the sampled case files")
    _, _, chart = page_pixels(pdf, demo_site.folder, chart_page)
    _, _, words = page_pixels(pdf, demo_site.folder, text_page)
    dark = sum(1 for value in chart if value < 100)
    assert dark > 2000, f"the chart page has only {dark} dark pixels"
    assert dark > 5 * sum(1 for value in words if value < 100)


def test_report_draws_the_dashboards_own_charts(demo_site: SimpleNamespace) -> None:
    from audit import analysis
    from audit.views.findings import section_charts

    html = demo_site.html("internal")
    agg = analysis.aggregate(demo_site.db, demo_site.review)
    expected = section_charts(agg, "report")
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    drawn = [base64.b64decode(data).decode("utf-8") for data in images]
    assert str(expected["sections_chart"]) in drawn
    assert str(expected["headline_chart"]) in drawn
    assert str(expected["sections_table"]) in html


def test_internal_version_has_the_case_level_appendix(demo_site: SimpleNamespace) -> None:
    text = flat(demo_site.text("internal"))
    assert "Appendix: results case by case" in text
    assert re.search(r"\bC01\b", text)
    assert "EXB-" in text


def test_appendix_writes_long_grades_short_with_a_key(demo_site: SimpleNamespace) -> None:
    labels = ["Outstanding", "Good", "Requires improvement to be good", "Inadequate"]
    assert report.needs_short_labels(labels)
    assert report.short_labels(labels) == ["O", "G", "RI", "I"]
    assert report.short_labels(["Inadequate", "Improving", "Good"]) == ["In", "Im", "G"]
    assert not report.needs_short_labels(["Good", "Adequate", "Poor"])
    tree = lxml.html.document_fromstring(demo_site.html("internal"))
    (appendix,) = tree.find_class("report-appendix")
    key = " ".join(appendix.find_class("report-key")[0].text_content().split())
    assert "RI Requires improvement to be good" in key and "O Outstanding" in key
    table = next(appendix.iter("table"))
    grades = [
        " ".join(td.text_content().split()).removesuffix(" †")
        for tr in table.iter("tr")
        for td in tr.findall("td")[3:]
    ]
    assert grades and set(grades) <= {"O", "G", "RI", "I", "—", "Not graded"}


def test_a_large_review_points_to_the_export_instead_of_listing_cases(
    demo_site: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "APPENDIX_MAX_CASES", 10)
    html = report.build_html(demo_site.app, demo_site.db, demo_site.review)
    assert "answers export (Excel)" in html
    assert "EXB-" not in html
    assert not re.search(r"\bC01\b", html)


# --------------------------------------------------------------------------- public version


def test_public_version_has_no_case_references_and_hides_small_counts(
    demo_site: SimpleNamespace,
) -> None:
    text = flat(demo_site.text("public"))
    html = demo_site.html("public")
    assert "Public report" in text
    assert "EXB-" not in text and "EXB-" not in html
    assert not re.search(r"\bC\d{2,}\b", text)
    assert not re.search(r"\bC\d{2,}\b", html)
    assert "Appendix" not in text
    assert "<5" in text
    assert "In <5 of the 24 cases audited" in text
    assert "OFFICIAL-SENSITIVE" not in text
    assert "OFFICIAL" in text


def _numeric_cells(html: str) -> list[str]:
    cells = re.findall(r'<td class="[^"]*(?:report-num|cell--numeric)[^"]*">(.*?)</td>', html, re.S)
    return [flat(re.sub(r"<[^>]+>", "", cell)).replace("&lt;", "<") for cell in cells]


def test_public_version_writes_every_small_count_as_less_than_five(
    demo_site: SimpleNamespace,
) -> None:
    small = re.compile(r"^[1-4](?:\D|$)")
    internal = _numeric_cells(demo_site.html("internal"))
    public = _numeric_cells(demo_site.html("public"))
    assert any(small.match(cell) for cell in internal), "the demo has small counts to hide"
    assert public and not [cell for cell in public if small.match(cell)]
    assert "<5" in public
    # Counts written inside chart segments and in the charts' descriptions are hidden too.
    for data in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', demo_site.html("public")):
        svg = base64.b64decode(data).decode("utf-8")
        assert not re.search(r'class="app-chart__count">[1-4]<', svg)
        assert not re.search(r"\b[1-4] of \d+", svg)
        assert "data-count" not in svg
    # Neither a small count nor a small remainder shows in "N of M" anywhere in the text.
    for count, n in re.findall(
        r"(?<!Page )(?<![<\w])(\d+) of (\d+)\b", flat(demo_site.text("public"))
    ):
        assert not 0 < int(count) < 5 and not 0 < int(n) - int(count) < 5, f"{count} of {n}"
    assert "more than 19 of 24" in demo_site.text("public")


def test_public_marking_and_threshold_come_from_the_settings(
    demo_site: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(demo_site.app.config, "PUBLIC_MARKING", "OFFICIAL (published)")
    monkeypatch.setitem(demo_site.app.config, "PUBLIC_SUPPRESS_BELOW", 10)
    monkeypatch.setitem(demo_site.app.config, "PROTECTIVE_MARKING", "OFFICIAL-SENSITIVE PERSONAL")
    app, db, review = demo_site.app, demo_site.db, demo_site.review
    context = report.report_context(app, db, review, audience="public")
    assert context["marking"] == "OFFICIAL (published)"
    assert context["threshold"] == 10
    assert "<10" in context["safeguarding"] and "<5" not in context["safeguarding"]
    # At 10, a finding's "19 of 24" leaves 5 over, a count now withheld: issuing is refused.
    with pytest.raises(report.PublicBlocked, match="19 of 24"):
        report.build_html(app, db, review, audience="public")
    internal = report.build_html(app, db, review)
    assert "OFFICIAL-SENSITIVE PERSONAL" in internal


# --------------------------------------------------------------------------- accessibility


def test_pdf_is_tagged_with_headings_tables_and_figures_with_alternative_text(
    demo_site: SimpleNamespace,
) -> None:
    pdf = demo_site.pdf("internal")
    path = demo_site.folder / "tagged.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert re.search(r"^Tagged:\s+yes", info.stdout, re.M)
    assert re.search(r"^Title:\s+Example Borough peer safeguarding health check", info.stdout, re.M)
    assert re.search(r"^Author:\s+Demo Lead Reviewer", info.stdout, re.M)
    assert re.search(r"^Page size:.*\(A4\)", info.stdout, re.M)
    struct = subprocess.run(
        ["pdfinfo", "-struct", str(path)], capture_output=True, text=True, check=True
    ).stdout
    tags = {line.split()[0].rstrip(":") for line in struct.splitlines() if line.strip()}
    assert {"H1", "H2", "H3", "Table", "TH", "TD", "L", "LI", "Figure"} <= tags
    assert struct.count("H1") == 1
    objects = pdf_objects(pdf)
    assert b"/Lang (en-GB)" in objects
    figures = [line for line in objects.split(b"\n") if b"/S /Figure" in line]
    assert len(figures) >= 2
    for figure in figures:
        alt = re.search(rb"/Alt (\((?:[^()\\]|\\.)+\)|<[0-9A-Fa-f]+>)", figure)
        assert alt, f"a figure without alternative text: {figure[:200]!r}"
    assert any(b"Grades by section" in figure for figure in figures)


def test_table_headers_have_scope_and_repeat_when_a_table_breaks(
    demo_site: SimpleNamespace,
) -> None:
    html = demo_site.html("internal")
    headers = re.findall(r"<th(?:\s[^>]*)?>", html)
    assert headers and all("scope=" in th for th in headers)
    appendix_pages = [
        number
        for number in range(1, page_count(demo_site.pdf("internal"), demo_site.folder) + 1)
        if "Host reference"
        in flat(pdf_text(demo_site.pdf("internal"), demo_site.folder, page=number))
    ]
    assert len(appendix_pages) >= 2, "the appendix table's header row repeats on each page"


# --------------------------------------------------------------------------- security


def test_url_fetcher_serves_only_the_allow_list() -> None:
    body, mime = report.resolve_url(report.STATIC_URL + "css/report.css")
    assert mime == "text/css" and b"@page" in body
    svg = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg"></svg>').decode()
    assert report.resolve_url(report.SVG_DATA + svg)[1] == "image/svg+xml"
    for url in [
        "file:///etc/passwd",
        "http://127.0.0.1:9/",
        "https://example.com/x.css",
        report.STATIC_URL + "js/app.js",
        report.STATIC_URL + "css/../../../../etc/passwd",
        report.STATIC_URL + "css/report.css?x=1",
        "data:text/html;base64," + base64.b64encode(b"<p>x</p>").decode(),
        report.SVG_DATA + base64.b64encode(b"<html></html>").decode(),
        report.SVG_DATA + "not base64!",
    ]:
        with pytest.raises(report.RefusedURL):
            report.resolve_url(url)


def test_render_refuses_any_other_url_even_in_unescaped_html() -> None:
    calls: list[str] = []
    for html in [
        '<html lang="en-GB"><body><img src="http://127.0.0.1:9/" alt="x"></body></html>',
        '<html lang="en-GB"><head><style>@import url(file:///etc/passwd);</style></head>'
        "<body><p>x</p></body></html>",
    ]:
        with pytest.raises(report.ReportError):
            report.render_pdf(html, title="t", author="a", on_fetch=calls.append)
    assert calls == ["http://127.0.0.1:9/", "file:///etc/passwd"]
    attached = report.render_pdf(
        '<html lang="en-GB"><head><link rel="attachment" href="file:///etc/passwd"></head>'
        "<body><p>x</p></body></html>",
        title="t",
        author="a",
    )
    assert b"/EmbeddedFile" not in pdf_objects(attached)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail any attempt to open a network connection during the test, and record it."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise AssertionError(f"network connection attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def test_hostile_text_is_escaped_and_makes_the_renderer_fetch_nothing(
    app: Flask, db: Any, seeded: SimpleNamespace, no_network: list[Any], tmp_path: Path
) -> None:
    review_id = seeded.review.id
    db.execute(
        "UPDATE review SET title = ?, host_organisation = ? WHERE id = ?",
        [f"Review {HOSTILE['attachment']}", f"Host {HOSTILE['import']}", review_id],
    )
    db.execute(
        "UPDATE case_file SET team = ? WHERE review_id = ?", [f"Team {HOSTILE['svg']}", review_id]
    )
    db.execute("UPDATE user SET display_name = ? WHERE username = 'lead'", [HOSTILE["image"]])
    lead = db.execute("SELECT id FROM user WHERE username = 'lead'").fetchone()[0]
    finding_data.add_own(db, review_id, kind="strength", text=f"Good {HOSTILE['css']}", by=lead)
    finding_data.add_own(
        db, review_id, kind="development", text=f"Weak {HOSTILE['image']}", by=lead
    )
    finding_data.set_executive_summary(
        db,
        review_id,
        f"First <b>bold</b> line\nstill the first paragraph.\n\nSecond {HOSTILE['image']}",
        by=lead,
    )
    app.config["PROTECTIVE_MARKING"] = f"MARKED {HOSTILE['attachment']}"
    review = reviews.get(db, review_id)

    html = report.build_html(app, db, review)
    for raw in HOSTILE.values():
        if "<" in raw:
            assert raw not in html
    assert f'<li class="report-finding">Good {HOSTILE["css"]}<span' in html
    assert "<p>First &lt;b&gt;bold&lt;/b&gt; line still the first paragraph.</p>" in html
    assert "<p>Second &lt;img src=http://127.0.0.1:9/&gt;</p>" in html

    calls: list[str] = []
    pdf = report.render_pdf(
        html,
        title=report.pdf_title(review, "internal"),
        author=report.pdf_author(app, db, review),
        on_fetch=calls.append,
    )
    allowed = [
        c
        for c in calls
        if c == report.STATIC_URL + "css/report.css" or c.startswith(report.SVG_DATA)
    ]
    assert calls and calls == allowed, calls
    assert no_network == []
    objects = pdf_objects(pdf)
    assert b"/EmbeddedFile" not in objects
    path = tmp_path / "hostile.pdf"
    path.write_bytes(pdf)
    detached = subprocess.run(
        ["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True
    )
    assert detached.stdout.startswith("0 embedded files")
    text = flat(pdf_text(pdf, tmp_path))
    assert f"Review {HOSTILE['attachment']}" in text
    assert f"Weak {HOSTILE['image']}" in text
    assert f"Good {HOSTILE['css']}" in text
    assert f"MARKED {HOSTILE['attachment']}" in text
    assert "root:x:0:0" not in text


# --------------------------------------------------------------------------- draft, issuing


def test_draft_watermark_until_the_review_is_complete(
    app: Flask, db: Any, seeded: SimpleNamespace, demo_site: SimpleNamespace, tmp_path: Path
) -> None:
    draft = demo_site.pdf("internal")
    draft_text = demo_site.text("internal")
    assert "DRAFT" in draft_text
    complete(db, seeded.review.id)
    review = reviews.get(db, seeded.review.id)
    assert review.status == "complete"
    html = report.build_html(app, db, review)
    assert "report--draft" not in html
    final = report.render_pdf(html, title="t", author="a")
    assert "DRAFT" not in pdf_text(final, tmp_path)
    for pdf in (draft, final):
        assert page_count(pdf, tmp_path) > 3
    # Every draft page carries the watermark; no page of the complete report does.
    for number in range(1, page_count(draft, tmp_path) + 1):
        assert watermark_pixels(page_pixels(draft, tmp_path, number)[2]) > 1000, number
    for number in range(1, page_count(final, tmp_path) + 1):
        assert watermark_pixels(page_pixels(final, tmp_path, number)[2]) < 400, number


def test_issuing_stores_the_hash_and_downloads_return_the_stored_bytes(
    demo_site: SimpleNamespace, browser: SimpleNamespace
) -> None:
    client, db, base = browser.client, demo_site.db, demo_site.base
    sign_in(browser.auth, demo_site, "lead")
    before = {row["id"] for row in report_data.issued(db, demo_site.review.id)}
    token = csrf_token(client.get(base).text)
    issued = client.post(f"{base}/issue", data={"csrf_token": token, "audience": "internal"})
    assert issued.status_code == 302 and issued.headers["Location"].endswith(f"{base}/issued")
    rows = [r for r in report_data.issued(db, demo_site.review.id) if r["id"] not in before]
    assert len(rows) == 1 and rows[0]["audience"] == "internal"
    listing = client.get(f"{base}/issued").text
    assert rows[0]["sha256"] in listing and "Demo Lead Reviewer" in listing

    first = client.get(f"{base}/issued/{rows[0]['id']}")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert "attachment" in first.headers["Content-Disposition"]
    assert first.data.startswith(b"%PDF")
    assert hashlib.sha256(first.data).hexdigest() == rows[0]["sha256"]
    stored = report_data.issued_pdf(db, demo_site.review.id, rows[0]["id"])
    assert bytes(stored["pdf"]) == first.data

    # Issuing again makes a new record; the first is untouched and downloads identically.
    client.post(f"{base}/issue", data={"csrf_token": token, "audience": "public"})
    after = [r for r in report_data.issued(db, demo_site.review.id) if r["id"] not in before]
    assert len(after) == 2 and {r["audience"] for r in after} == {"internal", "public"}
    again = client.get(f"{base}/issued/{rows[0]['id']}")
    assert again.data == first.data
    assert client.get(f"{base}/issued/not-a-report").status_code == 404


def test_long_renders_run_in_the_background_and_the_page_refreshes(
    demo_site: SimpleNamespace, browser: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit.views import report as report_views

    client, db, base = browser.client, demo_site.db, demo_site.base
    monkeypatch.setitem(demo_site.app.config, "REPORT_INLINE_MAX_CASES", 0)
    sign_in(browser.auth, demo_site, "lead")
    page = client.get(base).text
    assert "Prepare the internal PDF" in page
    started = client.post(
        f"{base}/pdf", data={"csrf_token": csrf_token(page), "audience": "internal"}
    )
    assert started.status_code == 302 and "/jobs/" in started.headers["Location"]
    job_url = started.headers["Location"]
    job_id = job_url.rsplit("/", 1)[1]
    waiting = client.get(job_url).text
    thread = report_views.RUNNING.get(job_id)
    if thread is not None:
        assert '<meta http-equiv="refresh" content="2">' in waiting
        assert "Preparing your report" in waiting
        thread.join(timeout=30)
    job = report_data.job(db, demo_site.review.id, job_id)
    assert job["status"] == "done", job
    ready = client.get(job_url).text
    assert "Your report is ready" in ready and 'http-equiv="refresh"' not in ready
    pdf = client.get(f"{job_url}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    client.post(f"{base}/issue", data={"csrf_token": csrf_token(ready), "job": job_id})
    hashes = {row["sha256"] for row in report_data.issued(db, demo_site.review.id)}
    assert hashlib.sha256(pdf.data).hexdigest() in hashes


def test_preview_shows_the_same_content_as_an_app_page(
    demo_site: SimpleNamespace, browser: SimpleNamespace
) -> None:
    client, review_id = browser.client, demo_site.review.id
    sign_in(browser.auth, demo_site, "lead")
    review_page = client.get(f"/reviews/{review_id}").text
    assert f"/reviews/{review_id}/report" in review_page
    response = client.get(f"/reviews/{review_id}/report")
    assert response.status_code == 200
    page = response.text
    assert page.count("<h1") == 1 and "Findings report</h1>" in page
    assert 'class="report-h1" id="report-title">Example Borough' in page
    assert "<h2" in page and 'src="data:image/svg+xml;base64,' in page
    assert ' style="' not in page and "<style" not in page
    assert "DRAFT watermark" in page
    public = client.get(f"/reviews/{review_id}/report?audience=public").text
    assert "Public report" in public and "EXB-" not in public
    assert client.get(f"/reviews/{review_id}/report?audience=secret").status_code == 400


def test_small_reviews_download_straight_away(
    demo_site: SimpleNamespace, browser: SimpleNamespace
) -> None:
    client, base = browser.client, demo_site.base
    sign_in(browser.auth, demo_site, "lead")
    token = csrf_token(client.get(base).text)
    response = client.post(f"{base}/pdf", data={"csrf_token": token, "audience": "public"})
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "findings-public" in response.headers["Content-Disposition"]
    assert client.post(f"{base}/pdf", data={"audience": "public"}).status_code == 400


def test_report_pages_need_review_manage(
    demo_site: SimpleNamespace, browser: SimpleNamespace
) -> None:
    client, auth, db, base = browser.client, browser.auth, demo_site.db, demo_site.base
    issued = report_data.store_issued(
        db,
        demo_site.review.id,
        audience="internal",
        pdf=b"%PDF-1.7 test",
        filename="t.pdf",
        by=None,
    )
    pages: list[tuple[str, Callable[[str], Any]]] = [
        ("GET", lambda t: client.get(base)),
        ("GET", lambda t: client.get(f"{base}/issued")),
        ("GET", lambda t: client.get(f"{base}/issued/{issued['id']}")),
        ("POST", lambda t: client.post(f"{base}/pdf", data={"csrf_token": t})),
        ("POST", lambda t: client.post(f"{base}/issue", data={"csrf_token": t})),
    ]
    sign_in(auth, demo_site, "reviewer1")  # a reviewer in this review: forbidden
    token = auth.token()
    assert [call(token).status_code for _, call in pages] == [403] * len(pages)
    client.post("/sign-out", data={"csrf_token": token})

    users.create(db, "outsider", "correct-horse-battery", "reviewer", display_name="Outsider")
    assert auth.sign_in("outsider").status_code == 302  # not in the review: it does not exist
    token = auth.token()
    assert [call(token).status_code for _, call in pages] == [404] * len(pages)
    client.post("/sign-out", data={"csrf_token": token})

    sign_in(auth, demo_site, "admin")
    assert client.get(base).status_code == 200
    assert client.get(f"{base}/issued/{issued['id']}").data == b"%PDF-1.7 test"


def test_command_line_writes_the_pdf_and_a_standalone_html_copy(
    demo_site: SimpleNamespace, tmp_path: Path
) -> None:
    pdf_path, html_path = tmp_path / "report.pdf", tmp_path / "report.html"
    size = report.write_report(
        demo_site.app,
        demo_site.db,
        demo_site.review,
        pdf_path,
        audience="public",
        html_path=html_path,
    )
    assert pdf_path.stat().st_size == size
    assert "Public report" in flat(pdf_text(pdf_path.read_bytes(), tmp_path))
    html = html_path.read_text(encoding="utf-8")
    assert "<style>" in html and "@page" in html and 'rel="stylesheet"' not in html
    assert "EXB-" not in html


def test_importing_the_report_module_does_not_load_weasyprint() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, audit.reporting.report, audit.views.report; "
            "assert 'weasyprint' not in sys.modules, 'weasyprint imported'",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_the_lead_sets_the_public_threshold_for_the_review(
    demo_site: SimpleNamespace, browser: SimpleNamespace
) -> None:
    client, base = browser.client, demo_site.base
    sign_in(browser.auth, demo_site, "lead")
    token = csrf_token(client.get(f"{base}?audience=public").text)
    refused = client.post(
        f"{base}/threshold", data={"csrf_token": token, "threshold": "1"}, follow_redirects=True
    )
    assert "The threshold was not changed: Enter a whole number from 2 to 50." in refused.text
    assert "public_threshold" not in reviews.get(demo_site.db, demo_site.review.id).settings
    try:
        saved = client.post(
            f"{base}/threshold", data={"csrf_token": token, "threshold": "7"}, follow_redirects=True
        )
        assert "The public report now withholds counts below 7." in saved.text
        assert 'value="7"' in saved.text and "&lt;7" in saved.text
        review = reviews.get(demo_site.db, demo_site.review.id)
        assert review.settings["public_threshold"] == 7
        assert report.threshold_for(demo_site.app, review) == 7
    finally:
        reviews.update_settings(
            demo_site.db, demo_site.review.id, {"public_threshold": None}, by=None
        )


def test_the_public_pdf_is_refused_while_a_finding_gives_a_count_away(
    demo_site: SimpleNamespace, browser: SimpleNamespace
) -> None:
    client, base = browser.client, demo_site.base
    sign_in(browser.auth, demo_site, "lead")
    finding_id = finding_data.add_own(
        demo_site.db, demo_site.review.id, kind="development", text="Two children had no plan."
    )

    def public_issued() -> int:
        rows = report_data.issued(demo_site.db, demo_site.review.id)
        return sum(1 for row in rows if row["audience"] == "public")

    before = public_issued()
    try:
        token = csrf_token(client.get(base).text)
        for action in ("pdf", "issue"):
            response = client.post(
                f"{base}/{action}", data={"csrf_token": token, "audience": "public"}
            )
            assert response.status_code == 302, action
            assert response.headers["Location"].endswith("/report?audience=public")
            page = client.get(response.headers["Location"]).text
            assert "“Two children”" in page and "cannot be issued" in page
        assert public_issued() == before
        internal = client.post(f"{base}/pdf", data={"csrf_token": token, "audience": "internal"})
        assert internal.headers["Content-Type"] == "application/pdf"
    finally:
        finding_data.set_status(demo_site.db, demo_site.review.id, finding_id, "rejected", by=None)
