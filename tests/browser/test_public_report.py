"""The lead meets the disclosure check on the public report, in a real browser.

A finding that gives a withheld count away ("1 case(s) ...") is listed on the public preview
with the offending phrase and a suggested rewording, beside what protecting the public
version cost; issuing the public version is refused with the same message, and rewording it
clears the block. The threshold is set from the keyboard. Other browser tests
share the demo, so this one reads what the pages show and leaves its finding reworded.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page

from .conftest import LiveServer, assert_no_problems, check_page, sign_in

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"
REVEALING = "1 case(s) where a child was found not adequately safeguarded (browser test)."
REWORDED = "A child was found not adequately safeguarded in a few cases (browser test)."


def _submit(page: Page, button: Locator) -> None:
    with page.expect_navigation():
        button.click()
    page.wait_for_load_state()


def _finding(page: Page, text: str) -> Locator:
    finding = page.locator("div.app-finding[id^='finding-']").filter(
        has=page.locator("p.govuk-body").filter(has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))
    )
    assert finding.count() == 1, f"no single accepted finding reading {text!r}"
    return finding


def test_wording_that_gives_a_count_away_blocks_the_public_version(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    page.get_by_role("link", name=DEMO_TITLE, exact=True).click()
    page.wait_for_load_state()
    review_url = page.url.split("?")[0].rstrip("/")

    # The lead adds a finding of her own that writes a small count.
    page.goto(f"{review_url}/findings")
    group = page.get_by_role("group", name="Kind of finding")
    group.get_by_label("Area for development", exact=True).check()
    page.get_by_label("Finding", exact=True).fill(REVEALING)
    page.get_by_label("Linked to the audit question", exact=True).select_option(index=0)
    _submit(page, page.get_by_role("button", name="Add finding"))
    _finding(page, REVEALING)

    # The public preview names the finding and highlights the phrase.
    page.goto(f"{review_url}/report?audience=public")
    blockers = page.locator("#wording-blockers")
    assert blockers.count() == 1, "the public preview shows no wording problem"
    assert "Reword before issuing the public version" in blockers.inner_text()
    marked = [" ".join(t.split()) for t in blockers.locator("mark").all_inner_texts()]
    assert "1 case(s)" in marked, marked
    assert REVEALING in " ".join(blockers.inner_text().split())
    # The rewording suggested beside the phrase, and what protection cost.
    assert "fewer than 5 case(s)" in blockers.inner_text()
    cost = page.get_by_role("heading", name="What protecting the public version cost")
    assert cost.count() == 1
    summary = " ".join(page.locator("ul[aria-labelledby='protection']").inner_text().split())
    assert re.search(r"\d+ of the \d+ counts in the report are withheld", summary), summary
    assert "verdict: protected" in summary, summary
    # The withheld counts themselves are on the page: "<5" and "[c]".
    body = page.locator(".report").inner_text()
    assert "<5" in body and "[c]" in body
    check_page(page, problems)

    # Issuing the public version is refused with the same phrase.
    _submit(page, page.get_by_role("button", name="Issue the public report"))
    assert "/report" in page.url and "audience=public" in page.url, page.url
    error = " ".join(
        page.locator(".govuk-notification-banner, .govuk-error-summary").all_inner_texts()
    )
    assert "cannot be issued" in error and "1 case(s)" in error, error
    check_page(page, problems)

    # The threshold, from the keyboard: focus the field, type, press Enter.
    field = page.get_by_label("Withhold counts below", exact=True)
    assert field.input_value() == "5"
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "now withholds counts below 5" in page.locator("body").inner_text()
    check_page(page, problems)

    # Reworded, the finding no longer blocks.
    page.goto(f"{review_url}/findings")
    own = _finding(page, REVEALING)
    own.locator("summary", has_text="Reword").click()
    own.get_by_label("Wording", exact=True).fill(REWORDED)
    _submit(page, own.get_by_role("button", name="Save wording"))
    page.goto(f"{review_url}/report?audience=public")
    listed = page.locator("#wording-blockers")
    assert listed.count() == 0 or "browser test" not in listed.inner_text()
    check_page(page, problems)
    assert_no_problems(problems)
