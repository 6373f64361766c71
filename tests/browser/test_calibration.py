"""A lead runs a calibration panel in a real browser, keyboard only: set up to agreed grades.

Two demo reviewers take part beside the lead; one of them grades (with the mouse: their journey
is the scoring form's, tested elsewhere) and checks they cannot see others' grades early.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page

from .conftest import LiveServer, assert_no_problems, check_page, console_log, sign_in

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0]


def _flash(page: Page) -> str:
    return " ".join(page.locator(".govuk-notification-banner--success").all_inner_texts())


def _tab_to(page: Page, target: Locator) -> None:
    """Press Tab (only) until ``target`` has focus."""
    for _ in range(400):
        page.keyboard.press("Tab")
        if target.evaluate("(el) => el === document.activeElement"):
            return
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML")
    pytest.fail(f"Tab never reached {target}; focus is on {focused}")


def _press_enter_and_wait(page: Page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()


def _first_grade_group(page: Page) -> Locator:
    """The first radio group offering the grading scale."""
    return page.locator("fieldset").filter(has=page.get_by_label("Outstanding", exact=True)).first


def _start_exercise(page: Page, problems: list[str], title: str) -> Locator:
    """From a list of panels, open the set-up form and type the title; return the case list."""
    assert page.get_by_role("heading", level=1).inner_text() == "Calibration panels"
    check_page(page, problems)
    _tab_to(page, page.get_by_role("link", name="Set up a calibration exercise"))
    _press_enter_and_wait(page)
    check_page(page, problems)
    _tab_to(page, page.get_by_label("Title", exact=True))
    page.keyboard.type(title)
    return page.get_by_role("group", name="Case files to grade")


def _choose_people_and_create(page: Page, names: tuple[str, ...]) -> None:
    """Tick the participants by keyboard, then create the exercise."""
    team = page.get_by_role("group", name="Participants")
    for name in names:
        _tab_to(page, team.get_by_label(name, exact=True))
        page.keyboard.press("Space")
    _tab_to(page, page.get_by_role("button", name="Create exercise"))
    _press_enter_and_wait(page)


PANEL = ("Demo Lead Reviewer (lead)", "Demo Reviewer One (reviewer)")


def _set_up_panel(
    page: Page, problems: list[str], title: str, names: tuple[str, ...] = PANEL
) -> str:
    """From a review's panels, create an exercise on its first case; return the case."""
    cases = _start_exercise(page, problems, title)
    first_case = cases.get_by_role("checkbox").first
    pseudonym = first_case.evaluate("(el) => el.labels[0].innerText").strip().split(" ")[0]
    _tab_to(page, first_case)
    page.keyboard.press("Space")
    _choose_people_and_create(page, names)
    return str(pseudonym)


def test_lead_runs_a_calibration_panel_to_agreed_grades(
    page: Page, live_server: LiveServer, new_page: Callable[[], Page]
) -> None:
    problems: list[str] = []
    title = f"Panel {uuid.uuid4().hex[:8]}"
    sign_in(page, live_server, "lead")
    page.goto("/reviews")
    _tab_to(page, page.get_by_role("link", name=DEMO_TITLE))
    _press_enter_and_wait(page)
    review_path = _path(page)

    _tab_to(page, page.get_by_role("link", name="Calibration panels"))
    _press_enter_and_wait(page)
    # Set up: title, the first case file, the lead and two reviewers.
    pseudonym = _set_up_panel(page, problems, title, (*PANEL, "Demo Reviewer Two (reviewer)"))
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert "Calibration exercise created" in _flash(page)
    check_page(page, problems)
    exercise_path = _path(page)

    # The lead grades the case: the first graded question as Outstanding, then submits.
    _tab_to(page, page.get_by_role("link", name=f"Grade case {pseudonym}"))
    _press_enter_and_wait(page)
    check_page(page, problems)
    group = _first_grade_group(page)
    question = group.locator("legend").inner_text().strip()
    _tab_to(page, group.get_by_role("radio").first)
    page.keyboard.press("Space")
    assert group.get_by_label("Outstanding", exact=True).is_checked()
    _tab_to(page, page.get_by_role("button", name="Save my grades"))
    _press_enter_and_wait(page)
    assert f"Your grades for {pseudonym} are saved." in _flash(page)
    assert "Not everything is graded yet" in page.locator("#ungraded").inner_text()
    _tab_to(page, page.get_by_role("button", name="Submit my grades"))
    _press_enter_and_wait(page)
    # Only one question is graded: the app says what is missing and asks again.
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Not everything is graded yet"
    assert "questions unanswered" in page.locator("#ungraded").inner_text()
    check_page(page, problems)
    _tab_to(page, page.get_by_role("button", name="Submit anyway"))
    _press_enter_and_wait(page)
    assert "You will see everyone's when the results open" in _flash(page)

    # Reviewer one grades Inadequate and submits; they cannot see the lead's grade yet.
    reviewer = new_page()
    sign_in(reviewer, live_server, "reviewer1")
    reviewer.goto(exercise_path)
    reviewer.get_by_role("link", name=f"Grade case {pseudonym}").click()
    _first_grade_group(reviewer).get_by_label("Inadequate", exact=True).check()
    reviewer.get_by_role("button", name="Save my grades").click()
    reviewer.get_by_role("button", name="Submit my grades").click()
    reviewer.get_by_role("button", name="Submit anyway").click()
    # The submit posts and redirects to the same page: wait for its new text, not a load.
    reviewer.get_by_text("2 of 3 participants have submitted").wait_for()
    assert "2 of 3 participants have submitted" in reviewer.locator("main").inner_text()
    assert reviewer.get_by_role("link", name=re.compile("See everyone's grades")).count() == 0
    response = reviewer.goto(f"{exercise_path}/results")
    assert response is not None and response.status == 403
    record = console_log(reviewer)  # the browser logs the expected 403 as an error: expected
    record.checked = len(record.errors)
    reviewer.goto(exercise_path)
    check_page(reviewer, problems)

    # Reviewer two has not submitted: the lead opens the results anyway.
    page.goto(exercise_path)
    _tab_to(page, page.get_by_role("button", name="Open the results now"))
    _press_enter_and_wait(page)
    assert _path(page) == f"{exercise_path}/results"
    check_page(page, problems)
    agenda = page.locator("#agenda + p + ol")
    first_item = agenda.locator("li").first
    assert question in first_item.inner_text()
    assert "3 scale steps apart" in first_item.inner_text()
    assert page.locator("svg.app-chart--dots").count() >= 1

    # Record the agreed grade (Good, one step down from the first choice) and why.
    _tab_to(page, first_item.get_by_role("link", name=re.compile("^Record the agreed answer")))
    _press_enter_and_wait(page)
    check_page(page, problems)
    agreed = page.get_by_role("group", name="Agreed answer")
    _tab_to(page, agreed.get_by_role("radio").first)
    page.keyboard.press("ArrowDown")
    assert agreed.get_by_label("Good", exact=True).is_checked()
    rationale = "Risks are clear and the plan is reviewed, but contingency is thin."
    _tab_to(page, page.get_by_label("Why the panel agreed this"))
    page.keyboard.type(rationale)
    _tab_to(page, page.get_by_role("button", name="Save agreed answer"))
    _press_enter_and_wait(page)
    assert "Agreed answer saved" in _flash(page)
    first_item = page.locator("#agenda + p + ol li").first
    assert "Agreed: Good" in first_item.inner_text()
    assert rationale in first_item.inner_text()
    # Outstanding and Inadequate both differ from the agreed Good; reviewer two gave none.
    assert "0% of 2 grades" in page.locator("#exact-agreed").inner_text()
    check_page(page, problems)

    # Reviewer one now sees everyone's grades.
    reviewer.goto(f"{exercise_path}/results")
    assert "Demo Lead Reviewer" in reviewer.locator("main").inner_text()
    check_page(reviewer, problems)
    assert review_path in exercise_path
    assert_no_problems(problems)


PROGRAMME_TITLE = "Monthly practice audit"


def test_lead_sets_up_a_programme_panel_and_a_reviewer_grades_in_it(
    page: Page, live_server: LiveServer, new_page: Callable[[], Page]
) -> None:
    """From the programme page, keyboard only; the grader is in none of the programme's reviews."""
    problems: list[str] = []
    title = f"Programme panel {uuid.uuid4().hex[:8]}"
    sign_in(page, live_server, "lead")
    page.goto("/programmes")
    _tab_to(page, page.get_by_role("link", name=PROGRAMME_TITLE, exact=True))
    _press_enter_and_wait(page)
    _tab_to(page, page.get_by_role("link", name="Calibration panels for the programme"))
    _press_enter_and_wait(page)
    cases = _start_exercise(page, problems, title)
    november = cases.get_by_label(re.compile(rf"{PROGRAMME_TITLE}, November 2026: ")).first
    label = november.evaluate("(el) => el.labels[0].innerText").strip()
    pseudonym = label.split(": ", 1)[1].split(" ")[0]
    _tab_to(page, november)
    page.keyboard.press("Space")
    _choose_people_and_create(
        page, ("Demo Reviewer One (reviewer)", "Demo Reviewer Three (reviewer)")
    )
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert "Calibration exercise created" in _flash(page)
    exercise_path = _path(page)
    assert exercise_path.startswith("/programmes/")
    check_page(page, problems)

    # Reviewer three, in none of the programme's reviews, grades with the keyboard.
    grader = new_page()
    sign_in(grader, live_server, "reviewer3")
    grader.goto("/reviews")
    check_page(grader, problems)
    _tab_to(grader, grader.get_by_role("link", name=title))
    _press_enter_and_wait(grader)
    assert _path(grader) == exercise_path
    check_page(grader, problems)
    _tab_to(grader, grader.get_by_role("link", name=f"Grade case {pseudonym}"))
    _press_enter_and_wait(grader)
    check_page(grader, problems)
    group = _first_grade_group(grader)
    _tab_to(grader, group.get_by_role("radio").first)
    grader.keyboard.press("ArrowDown")
    assert group.get_by_label("Good", exact=True).is_checked()
    _tab_to(grader, grader.get_by_role("button", name="Save my grades"))
    _press_enter_and_wait(grader)
    assert f"Your grades for {pseudonym} are saved." in _flash(grader)
    _tab_to(grader, grader.get_by_role("button", name="Submit my grades"))
    _press_enter_and_wait(grader)
    _tab_to(grader, grader.get_by_role("button", name="Submit anyway"))
    _press_enter_and_wait(grader)
    assert "You will see everyone's when the results open" in _flash(grader)
    assert "1 of 2 participants have submitted" in grader.locator("main").inner_text()
    check_page(grader, problems)
    response = grader.goto(f"{exercise_path}/results")
    assert response is not None and response.status == 403
    record = console_log(grader)  # the browser logs the expected 403 as an error: expected
    record.checked = len(record.errors)
    assert_no_problems(problems)


def test_escalation_guidance_double_submit_and_deleting_a_panel_made_by_mistake(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    title = f"Mistake {uuid.uuid4().hex[:8]}"
    sign_in(page, live_server, "lead")
    page.goto("/reviews")
    _tab_to(page, page.get_by_role("link", name=DEMO_TITLE))
    _press_enter_and_wait(page)
    _tab_to(page, page.get_by_role("link", name="Calibration panels"))
    _press_enter_and_wait(page)
    list_path = _path(page)
    pseudonym = _set_up_panel(page, problems, title)
    assert "Calibration exercise created" in _flash(page)
    exercise_path = _path(page)

    # The same form sent again (a double submit) shows the exercise already made.
    page.goto(list_path)
    _set_up_panel(page, problems, title)
    assert _path(page) == exercise_path
    assert "This exercise already exists" in _flash(page)

    # Saying the child is not adequately safeguarded brings the same-day guidance.
    _tab_to(page, page.get_by_role("link", name=f"Grade case {pseudonym}"))
    _press_enter_and_wait(page)
    safeguarded = page.get_by_role("group", name=re.compile("Is the child adequately safeguarded"))
    _tab_to(page, safeguarded.get_by_role("radio").first)
    page.keyboard.press("ArrowDown")
    assert safeguarded.get_by_label("No", exact=True).is_checked()
    _tab_to(page, page.get_by_role("button", name="Save my grades"))
    _press_enter_and_wait(page)
    banner = page.get_by_role("region", name="Important")
    assert "may not be adequately safeguarded" in banner.inner_text()
    assert "the same day" in banner.inner_text()
    assert "raises no audit alert" in banner.inner_text()
    check_page(page, problems)

    # Delete it: a confirmation page, then back to the list without it.
    _tab_to(page, page.get_by_role("link", name=re.compile("^Delete this exercise")))
    _press_enter_and_wait(page)
    assert page.get_by_role("heading", level=1).inner_text() == f"Delete {title}"
    check_page(page, problems)
    _tab_to(page, page.get_by_role("button", name="Delete this exercise"))
    _press_enter_and_wait(page)
    assert _path(page) == list_path
    assert f"Calibration exercise “{title}” deleted." in _flash(page)
    assert page.get_by_role("link", name=title).count() == 0
    check_page(page, problems)
    assert_no_problems(problems)
