"""A reviewer's day in a real browser: score a case, save, come back, submit; escalate a child.

Every test here works on its own reviewer's cases in the shared demo review, chosen from what
the page shows (the first "Not started" case), so no test depends on another's effects:
reviewer2 scores and submits, reviewer3 escalates, reviewer1 uses only the keyboard.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page

from .conftest import (
    LiveServer,
    assert_no_problems,
    assert_result_in_view,
    check_page,
    sign_in,
)

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"
SAFEGUARDED = "Is the child adequately safeguarded?"
RISKS = "Are the current risks and protective factors clearly identified?"
SAFEGUARDING_GRADE = "How well is the child safeguarded?"
# What the "fill everything" step picks in each radio group, in order of preference: a
# grade question gets Good, a yes/no question (and "feedback given?") gets Yes, never "No".
PREFERRED_ANSWERS = ("Good", "Yes")
# An element's text as seen on screen: without its GOV.UK visually hidden parts.
VISIBLE_TEXT = """(el) => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('.govuk-visually-hidden').forEach((hidden) => hidden.remove());
    return copy.textContent;
}"""


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0]


def _open_demo_review(page: Page) -> str:
    """From the reviews list, open the demo review; return its path."""
    page.get_by_role("link", name=DEMO_TITLE, exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == DEMO_TITLE
    assert re.fullmatch(r"/reviews/[^/]+", _path(page)), page.url
    return _path(page)


def _my_cases(page: Page) -> Locator:
    return page.get_by_role("table", name="Case files assigned to you").locator("tbody tr")


def _my_case_row(page: Page, pseudonym: str) -> Locator:
    rows = _my_cases(page).filter(
        has=page.locator("td:first-child", has_text=re.compile(rf"^{pseudonym}$"))
    )
    assert rows.count() == 1, f"{pseudonym} is not (once) in the 'Your cases' table"
    return rows


def _status_of(row: Locator) -> str:
    return row.locator("td").nth(3).inner_text().strip()


def _start_first_not_started_case(page: Page) -> str:
    """Press Start on the first of this reviewer's cases that is not started; return its name."""
    rows = _my_cases(page)
    assert rows.count() > 0, "the reviewer has no cases in the demo review"
    for index in range(rows.count()):
        row = rows.nth(index)
        if _status_of(row) != "Not started":
            continue
        pseudonym = row.locator("td").first.inner_text().strip()
        start = row.get_by_role("button", name=f"Start audit of {pseudonym}", exact=True)
        assert start.count() == 1, f"{pseudonym} is not started but has no Start button"
        with page.expect_navigation():
            start.click()
        page.wait_for_load_state()
        assert re.fullmatch(r"/reviews/[^/]+/audits/[^/]+", _path(page)), page.url
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading == f"Audit of case {pseudonym}", heading
        return pseudonym
    pytest.fail("every one of this reviewer's cases has been started already")


def _question(page: Page, text: str) -> Locator:
    """The radio group (fieldset) of a question, found by its legend."""
    group = page.get_by_role("group", name=text, exact=True)
    assert group.count() == 1, f"no single question {text!r} on {page.url}"
    return group


def _choose(page: Page, question: str, answer: str) -> Locator:
    """Click the label of one answer, as a person would; return that radio."""
    group = _question(page, question)
    group.locator("label.govuk-radios__label").filter(
        has_text=re.compile(rf"^\s*{re.escape(answer)}\s*$")
    ).click()
    radio = group.get_by_label(answer, exact=True)
    assert radio.is_checked(), f"clicking {answer!r} did not check it for {question!r}"
    return radio


def _evidence_for(page: Page, question: str) -> Locator:
    """The "Evidence and analysis" box that belongs to a question (found by field name)."""
    answer_name = _question(page, question).get_by_role("radio").first.get_attribute("name")
    assert answer_name and answer_name.startswith("answer-"), answer_name
    box = page.locator(f"textarea[name='evidence-{answer_name.removeprefix('answer-')}']")
    assert box.count() == 1, f"no evidence box for {question!r}"
    return box


def _evidence_boxes(page: Page) -> Locator:
    return page.locator("textarea[name^='evidence-']")


def check_evidence_labels(page: Page, problems: list[str]) -> None:
    """Each evidence box reads "Evidence and analysis" and is named after its question.

    Its accessible name should be "Evidence and analysis for: <question>", the question
    part visually hidden; no markup may show as text.
    """
    boxes = _evidence_boxes(page)
    wrong = []
    for index in range(boxes.count()):
        box = boxes.nth(index)
        label = page.locator(f"label[for='{box.get_attribute('id')}']")
        shown = " ".join(label.evaluate(VISIBLE_TEXT).split())
        full = " ".join(label.text_content().split())
        if (
            shown != "Evidence and analysis"
            or "<" in full
            or not full.startswith("Evidence and analysis for: ")
        ):
            wrong.append(f"{box.get_attribute('name')}: the label shows {shown!r}")
    if wrong:
        problems.append(
            f"evidence labels on {page.url}: {len(wrong)} of {boxes.count()} read wrongly "
            f"(markup shown as text?), e.g.\n  " + "\n  ".join(wrong[:3])
        )


def _save_first_section(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").first.click()
    page.wait_for_load_state()


def _answer_everything(page: Page, note: str) -> int:
    """Answer every radio group (Good or Yes) and write evidence in every evidence box.

    Returns how many radio groups were answered.
    """
    groups = page.locator(".govuk-radios")
    count = groups.count()
    for index in range(count):
        group = groups.nth(index)
        for answer in PREFERRED_ANSWERS:
            radio = group.get_by_label(answer, exact=True)
            if radio.count():
                if not radio.is_checked():
                    group.locator(f"label[for='{radio.get_attribute('id')}']").click()
                assert radio.is_checked()
                break
        else:
            labels = group.locator("label").all_inner_texts()
            pytest.fail(f"radio group {index} offers neither Good nor Yes: {labels}")
    boxes = _evidence_boxes(page)
    assert boxes.count() > 0
    for index in range(boxes.count()):
        boxes.nth(index).fill(f"{note} ({index + 1}).")
    return count


def _focused(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            return {
                tag: el ? el.tagName.toLowerCase() : null,
                id: el ? el.id : null,
                name: el ? el.getAttribute('name') : null,
                type: el ? el.getAttribute('type') : null,
                value: el ? el.value : null,
                text: el ? (el.innerText || '').trim() : null,
            };
        }"""
    )


def _flash(page: Page) -> str:
    banners = page.locator(".govuk-notification-banner--success")
    return " ".join(banners.all_inner_texts())


# --- the journey -----------------------------------------------------------------------------


def test_reviewer_scores_saves_resumes_and_submits_a_case(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []  # page checks (console, h1, axe), reported together at the end
    sign_in(page, live_server, "reviewer2")
    review_path = _open_demo_review(page)
    check_page(page, problems)

    pseudonym = _start_first_not_started_case(page)
    audit_path = _path(page)
    check_page(page, problems)
    check_evidence_labels(page, problems)

    # Sections are a task list of in-page links.
    task_links = page.locator(".govuk-task-list a.govuk-task-list__link")
    assert task_links.count() >= 2
    first_target = task_links.first.get_attribute("href")
    assert first_target and first_target.startswith("#section-")
    assert page.locator(first_target).count() == 1, f"task list link {first_target} goes nowhere"

    # Answer a few questions by clicking their labels, write some evidence, save.
    _choose(page, SAFEGUARDED, "Yes")
    _choose(page, RISKS, "No")
    _choose(page, SAFEGUARDING_GRADE, "Good")
    note = "Risks are clearly understood and the plan is reviewed monthly."
    _evidence_for(page, SAFEGUARDING_GRADE).fill(note)
    _save_first_section(page)
    assert _path(page) == audit_path, f"saving a draft went to {page.url}"
    assert "Draft saved." in _flash(page), _flash(page)
    check_page(page, problems)

    # Come back later: the same answers are there.
    page.reload()
    page.wait_for_load_state()
    assert _question(page, SAFEGUARDED).get_by_label("Yes", exact=True).is_checked()
    assert _question(page, RISKS).get_by_label("No", exact=True).is_checked()
    assert _question(page, SAFEGUARDING_GRADE).get_by_label("Good", exact=True).is_checked()
    assert not _question(page, SAFEGUARDED).get_by_label("No", exact=True).is_checked()
    assert _evidence_for(page, SAFEGUARDING_GRADE).input_value() == note
    assert _evidence_for(page, SAFEGUARDED).input_value() == ""

    # Submitting too soon keeps the draft and lists what is missing, each a link to its field.
    with page.expect_navigation() as blocked:
        page.get_by_role("button", name="Submit audit").click()
    page.wait_for_load_state()
    response = blocked.value
    assert response is not None and response.status == 200, response
    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 1, "no error summary after submitting a half-done audit"
    assert "Your draft was saved, but the audit cannot be submitted yet" in summary.inner_text()
    assert_result_in_view(page)
    assert page.title().startswith("Error: "), page.title()
    check_page(page, problems)
    links = summary.locator(".govuk-error-summary__list a")
    assert links.count() > 0
    href = links.first.get_attribute("href") or ""
    assert href.startswith("#"), f"the first error links to {href!r}, not a field on the page"
    target_id = href[1:]
    assert page.locator(f"[id='{target_id}']").count() == 1, f"{href} names no field"
    links.first.click()
    page.wait_for_function(
        """(id) => {
            const el = document.activeElement, target = document.getElementById(id);
            if (!el || !target) return false;
            const group = target.closest('.govuk-form-group');
            return el === target || (group !== null && group.contains(el));
        }""",
        arg=target_id,
    )
    # The answers given so far survived the failed submission.
    assert _question(page, RISKS).get_by_label("No", exact=True).is_checked()

    # Now answer everything the rubric asks, and submit.
    answered = _answer_everything(page, "Synthetic evidence note for the browser test")
    assert answered >= 10, f"only {answered} radio groups on the scoring page"
    assert _question(page, SAFEGUARDED).get_by_label("Yes", exact=True).is_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Submit audit").click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 0, f"the full audit was not accepted: {summary.all_inner_texts()}"
    assert _path(page) == review_path, f"submitting went to {page.url}"
    assert f"Audit of {pseudonym} submitted." in _flash(page), _flash(page)
    assert f"Audit of {pseudonym} submitted." in assert_result_in_view(page)
    assert "submitted" in page.locator("main").inner_text()
    row = _my_case_row(page, pseudonym)
    assert _status_of(row) == "Submitted"
    check_page(page, problems)

    # Open it again: a read-only record now, not a form.
    row.get_by_role("link", name=f"View audit of {pseudonym}", exact=True).click()
    page.wait_for_load_state()
    assert _path(page) == audit_path
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == f"Audit record for case {pseudonym}", heading
    assert page.locator("form.app-scoring-form").count() == 0
    assert page.get_by_role("button", name="Submit audit").count() == 0
    assert page.get_by_role("radio").count() == 0
    record = page.locator("main").inner_text()
    assert "Good" in record
    assert "Synthetic evidence note for the browser test" in record
    check_page(page, problems)
    assert_no_problems(problems)


def test_not_safeguarded_escalates_and_alerts_the_lead(
    page: Page, new_page: Callable[[], Page], live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "reviewer3")
    _open_demo_review(page)
    pseudonym = _start_first_not_started_case(page)
    audit_path = _path(page)

    _choose(page, SAFEGUARDED, "No")
    _evidence_for(page, SAFEGUARDED).fill(
        "Repeated missing episodes with no return interviews; risk not acted on."
    )
    _save_first_section(page)
    assert re.fullmatch(r"/reviews/[^/]+/escalations/[^/]+", _path(page)), page.url
    escalation_path = _path(page)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == f"Escalate case {pseudonym} today", heading
    assert "Draft saved." in _flash(page), _flash(page)
    check_page(page, problems)

    # The lead, signed in elsewhere at the same time, sees the alert naming the case.
    lead = new_page()
    sign_in(lead, live_server, "lead")
    _open_demo_review(lead)
    banner = lead.locator(".govuk-notification-banner").filter(has_text="Safeguarding alert")
    assert banner.count() == 1, "the lead sees no safeguarding alert"
    alert_for_case = banner.get_by_role("link", name=re.compile(rf"^{pseudonym}: raised by "))
    assert alert_for_case.count() == 1, banner.inner_text()
    assert "Demo Reviewer Three" in alert_for_case.inner_text()
    check_page(lead, problems)

    # The reviewer records who they told and what was agreed.
    page.get_by_label("Who did you tell?", exact=True).fill("Team manager, Family Support East")
    page.get_by_label("When did you tell them?", exact=True).fill("27/10/2026 14:30")
    page.get_by_label("What was agreed?", exact=True).fill(
        "Strategy discussion today; return interview arranged."
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Record the escalation").click()
    page.wait_for_load_state()
    assert _path(page) == audit_path, f"recording the escalation went to {page.url}"
    assert f"Escalation for {pseudonym} recorded." in " ".join(
        page.locator(".govuk-notification-banner").all_inner_texts()
    )
    assert _question(page, SAFEGUARDED).get_by_label("No", exact=True).is_checked()
    check_page(page, problems)

    # The lead's alert for this case is gone.
    lead.reload()
    lead.wait_for_load_state()
    links = lead.locator(".govuk-notification-banner").get_by_role(
        "link", name=re.compile(rf"^{pseudonym}: ")
    )
    assert links.count() == 0, "the alert is still shown after the escalation was recorded"
    assert lead.locator(f"a[href$='{escalation_path}']").count() == 0
    check_page(lead, problems)
    assert_no_problems(problems)


def test_keyboard_only_answer_and_save(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "reviewer1")
    _open_demo_review(page)
    _start_first_not_started_case(page)
    first_radio = _question(page, SAFEGUARDED).get_by_role("radio").first
    first_name = first_radio.get_attribute("name")
    first_value = first_radio.get_attribute("value")
    assert first_value == "yes", f"the first answer offered is {first_value!r}, not yes"

    # From the top of the page, Tab to the first question's first answer and press Space.
    for _ in range(60):
        page.keyboard.press("Tab")
        if _focused(page)["name"] == first_name:
            break
    else:
        pytest.fail(f"60 presses of Tab never reached {first_name}: {_focused(page)}")
    page.keyboard.press("Space")
    assert first_radio.is_checked(), "Space did not choose the focused answer"

    # Tab onwards to the evidence box for that question and type.
    evidence = _evidence_for(page, SAFEGUARDED)
    evidence_name = evidence.get_attribute("name")
    for _ in range(5):
        page.keyboard.press("Tab")
        if _focused(page)["name"] == evidence_name:
            break
    else:
        pytest.fail(f"Tab did not reach the evidence box {evidence_name}: {_focused(page)}")
    typed = "Seen by keyboard only."
    page.keyboard.type(typed)
    assert evidence.input_value() == typed

    # Tab on to the section's Save draft button and press Enter.
    for _ in range(60):
        page.keyboard.press("Tab")
        here = _focused(page)
        if here["tag"] == "button" and here["text"] == "Save draft":
            break
    else:
        pytest.fail(f"60 presses of Tab never reached a Save draft button: {_focused(page)}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Draft saved." in _flash(page), _flash(page)
    assert _question(page, SAFEGUARDED).get_by_label("Yes", exact=True).is_checked()
    assert _evidence_for(page, SAFEGUARDED).input_value() == typed
    check_page(page, problems)
    assert_no_problems(problems)
