"""After every form post the person sees its result, on a phone-sized window (375 px wide).

The journeys of issue 18: submit an audit with answers missing (the error summary), submit it
(the banner above the reviewer's cases), save a moderation (the banner above the queue),
accept a finding (the banner on the next suggestion), save an action (the banner at the top).
Each result must have focus and be in view, the next Tab must reach the next thing to do, and
axe must find nothing. Cases and suggestions are chosen from what the pages show, so the tests
do not depend on one another or on other files sharing the server.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page

from .conftest import (
    LiveServer,
    assert_no_problems,
    assert_result_in_view,
    check_page,
    sign_in,
    tab_from_focus,
)

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"
ACTION_REVIEW = "Monthly practice audit, October 2026"
PREFERRED_ANSWERS = ("Good", "Yes")
UK_DAY = re.compile(
    r"^\d{1,2} (January|February|March|April|May|June|July|August|September|"
    r"October|November|December) \d{4}$"
)


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0].split("?")[0]


def _open_demo_review(page: Page) -> str:
    page.get_by_role("link", name=DEMO_TITLE, exact=True).click()
    page.wait_for_load_state()
    return _path(page)


def _lead_on(page: Page, live_server: LiveServer, tool: str) -> str:
    """Sign in as the lead and open one of the demo review's pages; return the review's path."""
    sign_in(page, live_server, "lead")
    review_path = _open_demo_review(page)
    page.goto(f"{review_path}/{tool}")
    return review_path


# Where the Tab after a banner went: the table it reached (itself, in the box that scrolls it
# on a phone, which takes the Tab first, or a link in it), by its caption.
TABLE_REACHED_JS = """() => {
    const el = document.activeElement;
    const table = el.closest('table') || el.querySelector(':scope > table');
    return table && table.caption ? table.caption.textContent.trim() : null;
}"""


def _post(page: Page, button: Locator) -> None:
    with page.expect_navigation():
        button.click()
    page.wait_for_load_state()


def _blur(page: Page) -> None:
    """Take focus off what Tab reached before axe runs.

    GOV.UK's focus style swaps a link's underline for a yellow background, which axe's
    link-in-text-block rule would judge as a link told apart by colour alone.
    """
    page.evaluate("() => document.activeElement && document.activeElement.blur()")


def _last_check(page: Page, problems: list[str]) -> None:
    """Check the page as it stands (focus taken off first) and fail on any problem found."""
    _blur(page)
    check_page(page, problems)
    assert_no_problems(problems)


def _answer_everything(page: Page) -> None:
    """Answer every radio group (Good or Yes) and write evidence in every evidence box."""
    groups = page.locator(".govuk-radios")
    for index in range(groups.count()):
        group = groups.nth(index)
        for answer in PREFERRED_ANSWERS:
            radio = group.get_by_label(answer, exact=True)
            if radio.count():
                group.locator(f"label[for='{radio.get_attribute('id')}']").click()
                break
    boxes = page.locator("textarea[name^='evidence-']")
    for index in range(boxes.count()):
        boxes.nth(index).fill(f"Seen on a phone ({index + 1}).")


def test_submitting_an_audit_shows_the_errors_then_the_result(
    narrow_page: Page, live_server: LiveServer
) -> None:
    page, problems = narrow_page, []
    sign_in(page, live_server, "reviewer2")
    review_path = _open_demo_review(page)
    cases = page.get_by_role("table", name="Case files assigned to you")
    draft = cases.locator("tbody tr").filter(has_text="In progress").first
    assert draft.count() == 1, "reviewer2 has no audit in progress in the demo review"
    pseudonym = draft.locator("td").first.inner_text().strip()
    draft.get_by_role("link", name=f"Continue audit of {pseudonym}", exact=True).click()
    page.wait_for_load_state()

    # Jump to the last section from the task list (the address gains its #fragment), then
    # submit with answers missing: the page comes back at its error summary, not the section.
    page.locator(".govuk-task-list__link").last.click()
    assert "#" in page.url
    _post(page, page.get_by_role("button", name="Submit audit"))
    text = assert_result_in_view(page)
    assert text.startswith("Your draft was saved, but the audit cannot be submitted yet"), text
    assert "#" not in page.url, f"the error page kept the fragment: {page.url}"
    check_page(page, problems)

    # Answer everything and submit: the banner stands above the reviewer's cases.
    _answer_everything(page)
    _post(page, page.get_by_role("button", name="Submit audit"))
    assert _path(page) == review_path, page.url
    text = assert_result_in_view(page)
    assert f"Audit of {pseudonym} submitted." in text, text
    assert page.locator("#my-cases ~ .govuk-notification-banner--success").count() == 1, (
        "the banner is not in the 'Your cases' section"
    )
    after = tab_from_focus(page)
    assert page.evaluate(TABLE_REACHED_JS) == "Case files assigned to you", (
        f"the Tab after the banner went to {after[:200]}, not the reviewer's cases"
    )
    _last_check(page, problems)


def test_saving_a_draft_comes_back_to_the_section(
    narrow_page: Page, live_server: LiveServer
) -> None:
    page, problems = narrow_page, []
    sign_in(page, live_server, "reviewer1")
    _open_demo_review(page)
    cases = page.get_by_role("table", name="Case files assigned to you")
    draft = cases.locator("tbody tr").filter(has_text="In progress").first
    assert draft.count() == 1, "reviewer1 has no audit in progress in the demo review"
    draft.get_by_role("link", name=re.compile("^Continue audit of")).click()
    page.wait_for_load_state()
    sections = page.locator("section.app-section")
    assert sections.count() >= 3
    second = sections.nth(1)
    title = second.locator("h2").inner_text().strip()
    _post(page, second.get_by_role("button", name="Save draft"))
    assert "Draft saved." in assert_result_in_view(page)
    # The banner stands at the end of that section; the next Tab goes into the next one.
    banner = page.locator(".govuk-notification-banner--success")
    assert (
        banner.evaluate("(el) => el.closest('section').querySelector('h2').textContent.trim()")
        == title
    )
    tab_from_focus(page)
    next_title = sections.nth(2).locator("h2").inner_text().strip()
    assert (
        page.evaluate(
            "() => document.activeElement.closest('section')"
            "?.querySelector('h2')?.textContent.trim()"
        )
        == next_title
    ), "the Tab after the banner did not reach the next section"
    _last_check(page, problems)


def test_saving_a_moderation_returns_to_the_queue(
    narrow_page: Page, live_server: LiveServer
) -> None:
    page, problems = narrow_page, []
    review_path = _lead_on(page, live_server, "dashboard")
    queue = page.get_by_role("table", name="Waiting for moderation")
    assert queue.count() == 1, "nothing is waiting for moderation in the demo review"
    first = queue.locator("tbody tr").first
    pseudonym = first.locator("td").first.inner_text().strip()
    first.get_by_role("link", name=f"Moderate {pseudonym}", exact=True).click()
    page.wait_for_load_state()
    moderate_path = _path(page)

    # A changed grade without its reason: the error summary, in view and focused.
    group = page.locator("form fieldset").first
    unchecked = group.locator("input[type=radio]:not(:checked)").first
    group.locator(f"label[for='{unchecked.get_attribute('id')}']").click()
    _post(page, page.get_by_role("button", name="Save moderation"))
    text = assert_result_in_view(page)
    assert "Give a reason for changing" in text, text
    check_page(page, problems)

    # Agree after all (put the grade back) and save: back at the queue, the banner above it.
    page.goto(moderate_path)
    _post(page, page.get_by_role("button", name="Save moderation"))
    assert _path(page) == f"{review_path}/dashboard", page.url
    text = assert_result_in_view(page)
    assert f"Moderation of {pseudonym} saved: grades agreed." in text, text
    assert page.locator("#moderation-queue .govuk-notification-banner--success").count() == 1
    queue = page.get_by_role("table", name="Waiting for moderation")
    if queue.count():
        after = tab_from_focus(page)
        assert page.evaluate(TABLE_REACHED_JS) == "Waiting for moderation", (
            f"the Tab after the banner went to {after[:200]}, not the queue"
        )
        assert queue.locator("tbody tr").first.locator("td").first.inner_text() != pseudonym
    _last_check(page, problems)


def test_accepting_a_finding_lands_on_the_next_suggestion(
    narrow_page: Page, live_server: LiveServer
) -> None:
    page, problems = narrow_page, []
    _lead_on(page, live_server, "findings")
    suggestions = page.locator("div.app-finding").filter(has=page.locator("input[name='key']"))
    assert suggestions.count() >= 2, f"only {suggestions.count()} suggestion(s) to work with"
    next_key = suggestions.nth(1).locator("input[name='key']").get_attribute("value")
    _post(page, suggestions.first.get_by_role("button", name=re.compile(r"^Accept\b")))
    text = assert_result_in_view(page)
    assert "Finding accepted." in text, text
    # The banner is inside the suggestion that was next, now the first; the next Tab stays
    # in that suggestion rather than going back to the top of the page.
    holder = page.locator(".govuk-notification-banner--success").evaluate(
        "(el) => el.closest('div.app-finding').querySelector('input[name=key]').value"
    )
    assert holder == next_key, f"the banner is on suggestion {holder!r}, not the next {next_key!r}"
    tab_from_focus(page)
    assert (
        page.evaluate(
            "() => document.activeElement.closest('div.app-finding')"
            "?.querySelector('input[name=key]')?.value"
        )
        == next_key
    ), "the Tab after the banner left the next suggestion"
    _last_check(page, problems)


def test_saving_an_action_shows_the_result_and_uk_dates(
    narrow_page: Page, live_server: LiveServer
) -> None:
    page, problems = narrow_page, []
    sign_in(page, live_server, "lead")
    # The demo's action plans belong to the programme's monthly reviews.
    page.goto("/reviews")
    page.get_by_role("link", name=ACTION_REVIEW, exact=True).click()
    page.wait_for_load_state()
    page.goto(f"{_path(page)}/actions")
    plan = page.get_by_role("table", name="Actions, overdue first")
    assert plan.count() == 1, f"{ACTION_REVIEW} has no action plan"
    row = plan.locator("tbody tr").first
    due = row.locator("td").nth(2).inner_text().strip()
    assert not due or UK_DAY.match(due), f"the plan shows the due date as {due!r}"
    row.get_by_role("link").first.click()
    page.wait_for_load_state()
    due_box = page.get_by_label("Due date", exact=True)
    shown = due_box.input_value()
    assert not shown or re.fullmatch(r"\d{2}/\d{2}/\d{4}", shown), (
        f"the due date is shown back as {shown!r}, not as typed (27/10/2026)"
    )

    due_box.fill("31/13/2027")
    _post(page, page.get_by_role("button", name="Save action"))
    text = assert_result_in_view(page)
    assert "Enter the due date as" in text, text
    check_page(page, problems)

    due_box = page.get_by_label("Due date", exact=True)
    due_box.fill("28/10/2027")
    _post(page, page.get_by_role("button", name="Save action"))
    assert "Action saved." in assert_result_in_view(page)
    assert page.get_by_label("Due date", exact=True).input_value() == "28/10/2027"
    _last_check(page, problems)

    # Put the date back: this is the demo's overdue action, which the programme's journeys
    # (run later against the same server) expect to find overdue.
    page.get_by_label("Due date", exact=True).fill(shown)
    _post(page, page.get_by_role("button", name="Save action"))
    assert "Action saved." in assert_result_in_view(page)
    assert page.get_by_label("Due date", exact=True).input_value() == shown
