"""The internal partnership report: PDF and Word from one document, a chapter per agency."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from flask import Flask

from audit.data import agency_audits, panels, reviews, users
from audit.partnership import report
from tests.conftest import PASSWORD
from tests.partnership_helpers import agency_audit, auditor, hold_panel, partnership


@pytest.fixture
def audited(db: Any) -> reviews.Review:
    lead = users.create(db, "lead", PASSWORD, "lead", display_name="Audit Lead")
    review, (c1, c2) = partnership(
        db, lead, [("cp", {"police": "P-1", "education": "E-1"}), ("cin", {"police": "P-2"})]
    )
    police, school = auditor(db, "pc", "police"), auditor(db, "dsl", "education")
    agency_audit(db, review, c1, "police", police, grade="good")
    agency_audit(db, review, c1, "education", school, grade="requires_improvement")
    agency_audit(db, review, c2, "police", police, grade="outstanding")
    hold_panel(db, review, c1, lead, grade="requires_improvement")
    panels.add_learning(db, review.id, c1, text="Absences not linked.", theme_ids=[], by=lead.id)
    panels.add_action(
        db,
        review.id,
        c1,
        agency_id="education",
        agency_name="Education",
        what="Link absences to concerns.",
        due_date="2027-01-31",
        by=lead.id,
    )
    assert agency_audits.for_case(db, c1)
    return reviews.get(db, review.id)


def test_the_pdf_has_a_chapter_per_agency_and_the_same_figures_as_the_word(
    app: Flask, db: Any, audited: reviews.Review, tmp_path: Path
) -> None:
    pdf = report.render_pdf(app, db, audited)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for heading in (
        "The panel's agreed judgements",
        "Where the agencies saw it differently",
        "Actions owned by agencies",
        "Appendix: the children",
    ):
        assert heading in text
    for agency in ("Police", "Education"):
        assert f"{agency} knew" in text  # the agency's own chapter
    assert "OFFICIAL-SENSITIVE" in text and "DRAFT" in text
    assert "Link absences to concerns." in text and "Absences not linked." in text
    # The Word document is made from the same HTML: the same chapters and the same shares.
    document = Document(io.BytesIO(report.render_docx(app, db, audited)))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading 1")]
    assert "Police" in headings and "Education" in headings
    words = "\n".join(p.text for p in document.paragraphs)
    share = "0% (0 of 1 child; 95% interval 0% to 79%)"  # the panel's good or better
    assert share in words and share in " ".join(text.split())


def test_the_public_version_is_refused_in_words() -> None:
    with pytest.raises(report.PublicNotAvailable) as refused:
        report.check_audience("public")
    assert "not available yet" in str(refused.value)
    report.check_audience("internal")


def test_a_closed_multi_agency_review_is_deleted_whole(db: Any, audited: reviews.Review) -> None:
    for status in ("in_progress", "moderation", "complete", "closed"):
        reviews.set_status(db, audited.id, status, by=None)
    reviews.delete(db, audited.id, by=None)
    for table in (
        "case_agency",
        "agency_audit",
        "agency_answer",
        "panel",
        "panel_answer",
        "panel_learning",
        "agency_action",
        "agency_member",
    ):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    assert db.execute("SELECT count(*) FROM action").fetchone()[0] == 0
