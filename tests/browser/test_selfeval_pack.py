"""The lead chooses a period and downloads the programme's self-evaluation pack."""

from __future__ import annotations

import docx
import pytest
from playwright.sync_api import Page

from .conftest import LiveServer, assert_no_problems, check_page, sign_in

pytestmark = pytest.mark.browser

PROGRAMME = "Monthly practice audit"


def test_lead_downloads_the_pack_as_word_and_sees_a_bad_date_named(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    page.goto(f"{live_server.url}/programmes")
    page.get_by_role("link", name=PROGRAMME).click()
    page.get_by_role("link", name="Download the self-evaluation pack").click()
    page.wait_for_load_state()
    check_page(page, problems)
    page.get_by_label("From").fill("2026-12-01")
    page.get_by_label("To").fill("2026-01-01")
    page.get_by_role("button", name="Download the pack").click()
    page.wait_for_load_state()
    check_page(page, problems)
    assert "is after the to date" in page.locator(".govuk-error-summary").inner_text()
    page.get_by_label("From").fill("2026-08-01")
    page.get_by_label("To").fill("2026-12-31")
    page.get_by_label("Word document").check()
    page.get_by_role("button", name="Download the pack").focus()
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    pack = download.value
    assert pack.suggested_filename.endswith("2026-08-01-to-2026-12-31.docx")
    document = docx.Document(str(pack.path()))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert "Trends" in headings and "Re-audit results" in headings
    assert_no_problems(problems)
