"""The lead downloads the findings report (PDF) and the answers (Excel) in a real browser."""

from __future__ import annotations

import io

import openpyxl
import pytest
from playwright.sync_api import Page

from audit.analysis import CALIBRATION_SHEETS

from .conftest import LiveServer, assert_no_problems, check_page, sign_in

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"


def _open_review(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server, "lead")
    page.get_by_role("link", name=DEMO_TITLE).click()
    page.wait_for_load_state()


def test_lead_downloads_the_pdf_report_and_the_excel_answers(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    _open_review(page, live_server)
    page.get_by_role("link", name="Findings report").click()
    page.wait_for_load_state()
    check_page(page, problems)
    assert page.get_by_role("heading", level=1).inner_text() == "Findings report"
    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Download the internal PDF").click()
    pdf = pdf_download.value
    assert pdf.suggested_filename.endswith(".pdf")
    with open(pdf.path(), "rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    page.goto(page.url.split("/report")[0])
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Download answers (Excel)").click()
    xlsx = xlsx_download.value
    assert xlsx.suggested_filename.endswith(".xlsx")
    with open(xlsx.path(), "rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()), read_only=True)
    assert book.sheetnames == [
        "Answers",
        "Findings",
        "Conversations",
        "Family feedback",
        *CALIBRATION_SHEETS.values(),
        "Themes",
    ]
    header = next(book["Answers"].iter_rows(max_row=1, values_only=True))
    book.close()
    assert header[:3] == ("Case", "Host reference", "Case type")
    assert_no_problems(problems)
