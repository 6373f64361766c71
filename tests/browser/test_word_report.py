"""The lead downloads the findings report as a Word document in a real browser."""

from __future__ import annotations

import docx
import pytest
from playwright.sync_api import Page

from .conftest import LiveServer, assert_no_problems, check_page, sign_in

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"


def test_lead_downloads_the_word_report_with_the_keyboard(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    page.get_by_role("link", name=DEMO_TITLE).click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Findings report").click()
    page.wait_for_load_state()
    check_page(page, problems)
    button = page.get_by_role("button", name="Download the internal Word document")
    button.focus()
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    word = download.value
    assert word.suggested_filename.endswith(".docx")
    document = docx.Document(str(word.path()))
    titles = [p.text for p in document.paragraphs if p.style.name == "Title"]
    assert titles == [DEMO_TITLE]
    assert any(p.style.name == "Heading 1" for p in document.paragraphs)
    assert_no_problems(problems)
