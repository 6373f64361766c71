"""A reviewer doing a collaborative audit, keyboard only: the conversation, then family feedback.

The demo review is collaborative. reviewer3 opens a submitted audit that has no conversation
yet (from the Conversation column of their cases), records the conversation with one grade
disputed, fixes the error when the practitioner's view is missing, then records the family's
feedback. The lead then sees the dispute in moderation beside both sides' reasons, and the
findings page's shares and quote choice. Every page: axe clean, one h1, no console errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from .conftest import LiveServer, assert_no_problems, check_page, sign_in

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"
VIEW = "The plan was agreed at the core group; the minutes show it, typed by keyboard."
SAID = "The carer said the new worker listened and visits have been regular."

# What has keyboard focus, with the text a screen reader would announce for links and buttons.
FOCUS = """() => {
    const el = document.activeElement;
    if (!el) return {};
    const label = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
    return {
        tag: el.tagName.toLowerCase(),
        id: el.id,
        name: el.getAttribute('name') || '',
        value: el.value || '',
        text: (el.textContent || '').replace(/\\s+/g, ' ').trim(),
        label: label ? label.textContent.replace(/\\s+/g, ' ').trim() : '',
    };
}"""


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0]


def _tab_to(page: Page, wanted: Callable[[dict], bool], what: str, limit: int = 120) -> dict:
    """Press Tab until the focused element is the one wanted; fail saying where focus got to."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        here = page.evaluate(FOCUS)
        if wanted(here):
            return here
    pytest.fail(f"{limit} presses of Tab never reached {what}; focus is on {page.evaluate(FOCUS)}")


def _enter(page: Page) -> None:
    """Press Enter on the focused link or button and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()


def _type_into(page: Page, name: str, text: str) -> None:
    _tab_to(page, lambda f: f["name"] == name, f"the field {name}")
    page.keyboard.type(text)


def _flash(page: Page) -> str:
    return " ".join(page.locator(".govuk-notification-banner--success").all_inner_texts())


def test_reviewer_records_a_conversation_and_family_feedback_by_keyboard(
    page: Page, live_server: LiveServer, new_page: Callable[[], Page]
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "reviewer3")
    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == DEMO_TITLE, "the demo review")
    _enter(page)
    check_page(page, problems)
    assert page.get_by_role("columnheader", name="Conversation").count() == 1

    # The first submitted audit still waiting for its conversation.
    here = _tab_to(
        page,
        lambda f: f["tag"] == "a" and f["text"].startswith("Record the conversation about "),
        "a 'Record the conversation' link",
    )
    pseudonym = here["text"].removeprefix("Record the conversation about ")
    _enter(page)
    conversation_path = _path(page)
    assert re.fullmatch(r"/reviews/[^/]+/audits/[^/]+/conversation", conversation_path)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == f"Conversation with the practitioner about case {pseudonym}"
    check_page(page, problems)
    assert page.locator("input[name='worker_name']").count() == 0  # the demo names no one

    # Who took part, by role.
    _type_into(page, "held_on", "29/10/2026")
    _type_into(page, "worker_role", "Social worker, Family Support East")
    _type_into(page, "manager_role", "Team manager")

    # Agree with every section grade but the last; dispute that one (arrow to "No").
    groups = page.locator("input[type='radio'][name^='agrees-']").evaluate_all(
        "els => [...new Set(els.map(e => e.name))]"
    )
    assert len(groups) >= 2, groups
    for name in groups:
        _tab_to(page, lambda f, n=name: f["name"] == n, f"the first answer of {name}")
        page.keyboard.press("Space")  # Yes is first
        if name == groups[-1]:
            page.keyboard.press("ArrowRight")  # arrows move the choice to No
    disputed = groups[-1].removeprefix("agrees-")
    assert page.locator(f"input[name='agrees-{disputed}'][value='no']").is_checked()
    assert page.locator(f"input[name='{groups[0]}'][value='yes']").is_checked()
    _type_into(page, "will_do_differently", "Write the plan's actions with dates.")
    _type_into(page, "manager_response", "Plans will be checked in supervision.")

    # Saving without the practitioner's view of the disputed grade is refused, saying why.
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Save the conversation", "Save")
    _enter(page)
    assert page.title().startswith("Error: "), page.title()
    summary = page.locator(".govuk-error-summary")
    assert "view of the grade" in summary.inner_text()
    check_page(page, problems)
    # The error summary's link takes focus to the box; type the view there and save.
    _tab_to(page, lambda f: f["tag"] == "a" and "view of the grade" in f["text"], "the error link")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(name) => document.activeElement && document.activeElement.name === name",
        arg=f"view-{disputed}",
    )
    page.keyboard.type(VIEW)
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Save the conversation", "Save")
    _enter(page)
    assert f"Conversation about {pseudonym} recorded" in _flash(page), _flash(page)
    assert "disputes 1 grade" in _flash(page)
    record_path = _path(page)
    assert record_path == conversation_path.removesuffix("/conversation")
    record = page.locator("main").inner_text()
    assert "The practitioner does not agree." in record and VIEW in record
    assert "Social worker, Family Support East" in record
    check_page(page, problems)

    # Family feedback, from the record.
    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Record family feedback", "link")
    _enter(page)
    assert page.get_by_role("heading", level=1).inner_text() == (
        f"Family feedback for case {pseudonym}"
    )
    check_page(page, problems)
    _tab_to(page, lambda f: f["name"] == "consent", "the consent answer")
    page.keyboard.press("Space")  # Yes
    _tab_to(page, lambda f: f["name"] == "contact_method", "how contact was made")
    page.keyboard.press("Space")  # Phone call
    page.keyboard.press("ArrowDown")  # Home visit
    _type_into(page, "family_said", SAID)
    # Each structured answer starts at "Not asked"; arrows move back through No, Partly, Yes.
    for name, presses in (("felt_listened_to", 3), ("knows_plan", 2), ("life_better", 1)):
        _tab_to(page, lambda f, n=name: f["name"] == n, name)
        for _ in range(presses):
            page.keyboard.press("ArrowUp")
    for name, value in (
        ("consent", "yes"),
        ("contact_method", "visit"),
        ("felt_listened_to", "yes"),
        ("knows_plan", "partly"),
        ("life_better", "no"),
    ):
        assert page.locator(f"input[name='{name}'][value='{value}']").is_checked(), name
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Save family feedback", "Save")
    _enter(page)
    assert _path(page) == record_path
    assert f"Family feedback for {pseudonym} recorded." in _flash(page)
    record = page.locator("main").inner_text()
    assert SAID in record and "Home visit" in record
    check_page(page, problems)

    # The lead: the dispute in moderation, beside the auditor's reasons.
    lead = new_page()
    sign_in(lead, live_server, "lead")
    lead.goto(f"{live_server.url}{record_path}")
    lead.get_by_role("link", name="Moderate this audit").click()
    lead.wait_for_load_state()
    dispute = lead.locator(".app-dispute")
    assert dispute.count() == 1
    text = dispute.inner_text()
    assert "The practitioner disputes this grade" in text and VIEW in text
    assert "The auditor's reasons:" in text
    check_page(lead, problems)

    # The findings page: shares with what they count, and the quote to choose.
    review_path = record_path.split("/audits/")[0]
    lead.goto(f"{live_server.url}{review_path}/findings")
    agreed = lead.locator("#share-agreed").inner_text()
    assert "disputed" in agreed and re.search(r"\d+ of \d+ section grades", agreed), agreed
    assert "of section grades discussed" in lead.locator("main").inner_text()
    check_page(lead, problems)
    _tab_to(lead, lambda f: f["tag"] == "input" and SAID in f["label"], "the new quote", 400)
    lead.keyboard.press("Space")
    _tab_to(lead, lambda f: f["tag"] == "button" and f["text"] == "Save quote choice", "Save")
    _enter(lead)
    assert "family quote(s) included" in _flash(lead)
    quotes = lead.locator("blockquote.app-quote").all_inner_texts()
    assert any(SAID in quote for quote in quotes), quotes
    check_page(lead, problems)
    assert_no_problems(problems)


def test_lead_creates_a_collaborative_review_and_chooses_to_name_workers(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    page.goto(f"{live_server.url}/reviews/new")
    title = "Collaborative self-audit, browser test"
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Host organisation", exact=True).fill("Testshire County Council")
    page.get_by_role("group", name="Kind of review").get_by_label("Self-audit").check()
    rubrics = page.get_by_role("group", name="Rubric")
    rubrics.get_by_label(re.compile(r"Peer safeguarding health check")).check()
    asked = page.get_by_role("group", name="Audit with the practitioner?")
    assert asked.get_by_label("No", exact=True).is_checked()  # off unless the lead chooses
    asked.get_by_role("radio", name=re.compile(r"^Yes")).check()
    check_page(page, problems)
    with page.expect_navigation():
        page.get_by_role("button", name="Create review").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == title
    facts = page.locator(".govuk-summary-list").first.inner_text()
    assert re.search(r"Audited with the practitioner\s+Yes", facts), facts

    with page.expect_navigation():
        page.get_by_role("link", name="Auditing with the practitioner").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Auditing with the practitioner"
    check_page(page, problems)
    done = page.get_by_role("group", name="Are audits done with the practitioner?")
    assert done.get_by_role("radio", name=re.compile(r"^Yes")).is_checked()
    names = page.get_by_role("group", name="Record the worker's name?")
    assert names.get_by_role("radio", name=re.compile(r"^No")).is_checked()
    names.get_by_role("radio", name=re.compile(r"^Yes")).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    assert "done with the practitioner" in _flash(page), _flash(page)
    names = page.get_by_role("group", name="Record the worker's name?")
    assert names.get_by_role("radio", name=re.compile(r"^Yes")).is_checked()
    check_page(page, problems)
    assert_no_problems(problems)
