"""Multi-agency case audit in a real browser, keyboard only, every page axe-checked.

The demo's neglect audit: education has not finished its audit of C06, so school1 (education's
auditor) answers its part and submits, which opens C06's panel; the lead runs C05's panel,
which is open but not held, to agreed judgements, learning and an action owned by an agency.
The two journeys touch different children, so neither depends on the other.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page

from .conftest import (
    LiveServer,
    assert_no_problems,
    assert_result_in_view,
    check_page,
    console_log,
    sign_in,
)

pytestmark = pytest.mark.browser

TITLE = "Multi-agency audit: neglect (autumn 2026)"
PREFERRED = ("Good", "Yes")


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0]


def _flash(page: Page) -> str:
    return " ".join(page.locator(".govuk-notification-banner--success").all_inner_texts())


def _focus_inside(page: Page, container: Locator) -> bool:
    return bool(container.evaluate("(el) => el.contains(document.activeElement)"))


def _tab_to(page: Page, target: Locator, limit: int = 600) -> None:
    """Press Tab (only) until focus is on ``target`` or inside it."""
    for _ in range(limit):
        if _focus_inside(page, target):
            return
        page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML")
    pytest.fail(f"Tab never reached {target}; focus is on {focused}")


def _press_enter_and_wait(page: Page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()


def _choose_by_keyboard(page: Page, group: Locator) -> str:
    """Tab into a radio group and pick Good or Yes with Space and the arrow keys."""
    _tab_to(page, group)
    labels = [
        " ".join(t.split()) for t in group.locator("label.govuk-radios__label").all_inner_texts()
    ]
    wanted = next(label for label in PREFERRED if label in labels)
    radio = group.get_by_label(wanted, exact=True)
    if radio.is_checked():
        return wanted
    if not page.evaluate("() => document.activeElement.checked"):
        page.keyboard.press("Space")
    for _ in range(len(labels) + 1):
        if radio.is_checked():
            return wanted
        page.keyboard.press("ArrowDown")
    pytest.fail(f"the arrow keys never chose {wanted!r} in {group}")


def _radio_groups(page: Page) -> Locator:
    return page.locator("form.app-scoring-form fieldset").filter(has=page.get_by_role("radio"))


def _open_audit_from_the_list(page: Page, problems: list[str]) -> None:
    page.goto("/reviews")
    check_page(page, problems)
    _tab_to(page, page.get_by_role("link", name=TITLE, exact=True))
    _press_enter_and_wait(page)
    assert page.get_by_role("heading", level=1).inner_text() == TITLE
    check_page(page, problems)


def test_an_agency_auditor_answers_their_part_by_keyboard(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "school1")
    _open_audit_from_the_list(page, problems)
    assert "Children Education knows" in page.locator("main").inner_text()
    base = _path(page)
    # The other agencies' answers about C06 are not for education yet: its panel is not open.
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="C06"))
    assert row.get_by_text("Not open").count() == 1
    assert row.get_by_role("link", name="See the discussion of C06").count() == 0

    _tab_to(page, row.get_by_role("link", name="Continue Education's audit of C06"))
    _press_enter_and_wait(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Education's audit of C06"
    check_page(page, problems)
    audit_path = _path(page)

    groups = _radio_groups(page)
    assert groups.count() >= 15, f"only {groups.count()} questions asked of education"
    # The police's own questions are not asked of education.
    assert "Were notifications about the child" not in page.locator("main").inner_text()
    for index in range(groups.count()):
        _choose_by_keyboard(page, groups.nth(index))
    # Save draft at the end of the first section: the result is shown there, in view and
    # focused, so the auditor carries on from where they were.
    _tab_to(page, page.get_by_role("button", name="Save draft").first)
    _press_enter_and_wait(page)
    assert "Draft saved." in assert_result_in_view(page)
    first_section = page.locator("form.app-scoring-form section").first
    assert _focus_inside(page, first_section), page.url
    _tab_to(page, page.get_by_role("button", name="Submit Education's audit"))
    _press_enter_and_wait(page)
    assert_result_in_view(page)
    flash = html.unescape(_flash(page))
    assert "Education's audit of C06 submitted." in flash, flash
    assert "the child's panel is open" in flash
    assert _path(page) == base
    check_page(page, problems)

    # Submitted: the audit is read only, and the panel (now open) shows every agency's answers.
    page.goto(audit_path)
    assert page.get_by_role("button", name="Submit Education's audit").count() == 0
    check_page(page, problems)
    page.goto(base)
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="C06"))
    _tab_to(page, row.get_by_role("link", name="See the discussion of C06"))
    _press_enter_and_wait(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Audit discussion: C06"
    main = page.locator("main").inner_text()
    assert "What the agencies said" in main and "Police" in main and "Health visiting" in main
    assert page.get_by_role("button", name="Record the agreed judgements").count() == 0
    check_page(page, problems)
    # Lead pages stay shut.
    response = page.goto(f"{base}/findings")
    assert response is not None and response.status == 403
    record = console_log(page)  # the browser logs the expected 403 as an error
    record.checked = len(record.errors)
    assert_no_problems(problems)


def test_the_lead_runs_a_panel_to_agreed_judgements_and_actions(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    _open_audit_from_the_list(page, problems)
    assert "Who has finished" in page.locator("main").inner_text()
    _tab_to(page, page.get_by_role("link", name="Run the panel for C05"))
    _press_enter_and_wait(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Audit discussion: C05"
    check_page(page, problems)
    panel_path = _path(page)
    # Disagreements come first, and the first jumps to where its agreed answer is recorded.
    agenda = page.locator("#agenda ~ h3").first.inner_text()
    assert agenda.startswith("Where the agencies differ")
    first_link = page.get_by_role("link", name=re.compile("^Record the agreed answer")).first
    target = first_link.get_attribute("href")
    assert target and target.startswith("#answer-")

    form = page.locator("form.app-scoring-form")
    _tab_to(page, form.get_by_label("Date of the audit discussion"))
    page.keyboard.type("6/11/2026")
    groups = _radio_groups(page)
    for index in range(groups.count()):
        _choose_by_keyboard(page, groups.nth(index))
    for label in ("The child's journey as the panel agreed it", "What must change"):
        box = form.get_by_label(label, exact=True)
        _tab_to(page, box)
        page.keyboard.press("Control+a")
        page.keyboard.type(f"{label}: agreed at the discussion, no names.")
    _tab_to(page, page.get_by_role("button", name="Record the agreed judgements"))
    _press_enter_and_wait(page)
    assert_result_in_view(page)
    assert "The panel's agreed judgements for C05 are recorded." in html.unescape(_flash(page))
    assert _path(page) == panel_path
    check_page(page, problems)
    assert "Recorded as held" in page.locator("main").inner_text()

    # Learning, tagged with a theme from the programme's list.
    _tab_to(page, page.get_by_label("Learning", exact=True))
    page.keyboard.type("Absences and missed appointments were never put side by side.")
    _tab_to(page, page.get_by_role("group", name="Learning themes").get_by_label("Was not brought"))
    page.keyboard.press("Space")
    _tab_to(page, page.get_by_role("button", name="Add learning"))
    _press_enter_and_wait(page)
    assert_result_in_view(page)
    assert "Learning recorded." in _flash(page)
    assert "Absences and missed appointments" in page.locator("#learning ~ ul").first.inner_text()
    check_page(page, problems)

    # An action owned by an agency, with its due date.
    agencies = page.get_by_role("group", name="Agency that owns the action")
    _tab_to(page, agencies)
    if not page.evaluate("() => document.activeElement.checked"):
        page.keyboard.press("Space")
    for _ in range(12):
        if agencies.get_by_label("Health visiting", exact=True).is_checked():
            break
        page.keyboard.press("ArrowDown")
    assert agencies.get_by_label("Health visiting", exact=True).is_checked()
    _tab_to(page, page.get_by_label("Action", exact=True))
    page.keyboard.type("Record missed appointments as was not brought and follow them up.")
    _tab_to(page, page.get_by_label("Due date", exact=True))
    page.keyboard.type("28/2/2027")
    _tab_to(page, page.get_by_role("button", name="Add action"))
    _press_enter_and_wait(page)
    assert_result_in_view(page)
    assert "Action for Health visiting added." in _flash(page)
    # The table sits in the box app.js gives every table (it scrolls sideways on a phone).
    actions = page.locator("#actions ~ .app-table-scroll > table").first.inner_text()
    assert "Record missed appointments" in actions and "28 February 2027" in actions
    check_page(page, problems)

    # The partnership's findings and report now count C05 among the panels held.
    page.goto(panel_path.rsplit("/children/", 1)[0] + "/findings")
    assert page.get_by_role("heading", level=1).inner_text() == "Partnership findings"
    assert "the panel's agreed judgements are recorded for 5" in page.locator("main").inner_text()
    check_page(page, problems)
    page.goto(panel_path.rsplit("/children/", 1)[0] + "/report")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Partnership report: internal version"
    check_page(page, problems)
    # The public version, by keyboard: what protecting it cost, then the PDF itself.
    _tab_to(page, page.get_by_role("link", name="See the public version of the partnership report"))
    _press_enter_and_wait(page)
    assert heading.inner_text() == "Partnership report: public version"
    main = page.locator("main").inner_text()
    assert "What protecting the public version cost" in main
    assert "verdict: protected" in main
    assert "Public report" in main and "Appendix: the children" not in main
    check_page(page, problems)
    _tab_to(page, page.get_by_role("button", name="Download the public report"))
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert "partnership-public-" in download.value.suggested_filename
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert_no_problems(problems)


def test_an_admin_adds_an_agency_and_says_who_belongs_to_it(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "admin")
    _tab_to(page, page.get_by_role("link", name="Agencies", exact=True))
    _press_enter_and_wait(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Agencies"
    check_page(page, problems)
    _tab_to(page, page.get_by_label("Name of the agency"))
    page.keyboard.type("Ambulance service")
    _tab_to(page, page.get_by_role("button", name="Add agency"))
    _press_enter_and_wait(page)
    assert_result_in_view(page)
    assert "Ambulance service added (its id in audit tools: ambulance_service)." in _flash(page)
    assert page.get_by_role("rowheader", name=re.compile("^Ambulance service")).count() == 1
    check_page(page, problems)
    # reviewer3 belongs to no agency yet: choose them and the new agency with the keyboard.
    person = page.get_by_label("Person", exact=True)
    _tab_to(page, person)
    page.keyboard.type("Demo Reviewer Three")
    agency = page.get_by_label("Agency", exact=True)
    _tab_to(page, agency)
    page.keyboard.type("Ambulance")
    assert person.input_value() and agency.input_value() == "ambulance_service"
    _tab_to(page, page.get_by_role("button", name="Save"))
    _press_enter_and_wait(page)
    assert_result_in_view(page)
    assert "Demo Reviewer Three belongs to Ambulance service." in _flash(page)
    check_page(page, problems)
    assert_no_problems(problems)


def test_the_lead_s_single_agency_links_lead_to_the_partnership_pages(
    page: Page, live_server: LiveServer
) -> None:
    """An old bookmark or a stale link of a single-agency page: the partnership's page, or a
    page saying what to use instead, reached and left by keyboard."""
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    page.goto("/reviews")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=TITLE, exact=True))
    counts = " ".join(row.inner_text().split())
    assert re.search(r"\b6 children\b", counts), counts
    assert re.search(r"\b\d+ of 21 agency audits; \d panels held\b", counts), counts
    _open_audit_from_the_list(page, problems)
    base = _path(page).removesuffix("/partnership")

    page.goto(f"{base}/dashboard")
    assert _path(page) == f"{base}/partnership/findings"
    assert page.get_by_role("heading", level=1).inner_text() == "Partnership findings"
    check_page(page, problems)

    page.goto(f"{base}/cases/assign")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Assigning cases to reviewers: not used in a multi-agency audit"
    check_page(page, problems)
    _tab_to(page, page.get_by_role("link", name="Agency auditors", exact=True))
    _press_enter_and_wait(page)
    assert _path(page) == f"{base}/partnership" and page.url.endswith("#auditors")
    assert page.get_by_role("heading", level=1).inner_text() == TITLE
    assert_no_problems(problems)
