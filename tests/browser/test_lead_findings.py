"""The lead moderates an audit and curates findings, in a real browser.

Everything is read from what the pages show (the first case waiting for moderation, the first
suggestion, whatever findings are accepted), never from the demo's exact numbers: other browser
tests in the same session submit audits, which moves the figures and the suggestions.
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
)

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"
LEAD_NAME = "Demo Lead Reviewer"
OWN_FINDING = "Leaders know their services well (from interviews)"
OWN_REWORDED = "Leaders know their services well and act on what staff tell them (from interviews)"
REVIEWERS_GRADE = "Reviewer\u2019s grade: "
KIND_HEADINGS = {"strength": "Strengths", "development": "Areas for development"}
KIND_TAGS = {"Strength": "strength", "Area for development": "development"}

# The accepted findings on the Findings page, by kind, in the order shown. The page is flat:
# h2#strength, the strengths, h2#development, the areas for development, h2#suggested, ...
ACCEPTED_JS = """() => {
    const dev = document.getElementById('development');
    const suggested = document.getElementById('suggested');
    const out = {strength: [], development: []};
    for (const el of document.querySelectorAll('div.app-finding[id^="finding-"]')) {
        const text = el.querySelector('p.govuk-body').textContent.replace(/\\s+/g, ' ').trim();
        const beforeDev = dev.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING;
        const afterSuggested =
            suggested.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING;
        if (afterSuggested) continue;
        out[beforeDev ? 'strength' : 'development'].push({id: el.id, text: text});
    }
    return out;
}"""
# Every chart drawn as an image: its accessible name and the table that follows it.
CHARTS_JS = """() => Array.from(document.querySelectorAll('svg[role="img"]')).map((svg) => {
    const ids = (svg.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    let name = ids.map((id) => {
        const el = document.getElementById(id);
        return el ? el.textContent : '';
    }).join(' ');
    if (!name.trim()) name = svg.getAttribute('aria-label') || '';
    const box = svg.closest('figure') || svg;
    let next = box.nextElementSibling;
    // app.js puts each table in a box of its own that scrolls on narrow screens.
    if (next && next.classList.contains('app-table-scroll')) next = next.firstElementChild;
    const caption = next && next.tagName === 'TABLE' && next.caption
        ? next.caption.textContent : null;
    return {
        name: name.replace(/\\s+/g, ' ').trim(),
        next: next ? next.tagName.toLowerCase() : null,
        caption: caption === null ? null : caption.replace(/\\s+/g, ' ').trim(),
    };
})"""


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0].split("?")[0]


def _flash(page: Page) -> str:
    banners = page.locator(".govuk-notification-banner--success")
    return " ".join(" ".join(banners.all_inner_texts()).split())


def _open_demo_review(page: Page) -> str:
    page.get_by_role("link", name=DEMO_TITLE, exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == DEMO_TITLE
    assert re.fullmatch(r"/reviews/[^/]+", _path(page)), page.url
    return _path(page)


def _open_tool(page: Page, name: str) -> None:
    """Follow one of the review page's "Review tools" links."""
    nav = page.get_by_role("navigation", name="Review tools")
    assert nav.count() == 1, "the lead's review page has no 'Review tools' navigation"
    nav.get_by_role("link", name=name, exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == name


def _submit(page: Page, button: Locator) -> None:
    """Press a button that posts a form and wait for the page that comes back."""
    with page.expect_navigation():
        button.click()
    page.wait_for_load_state()


def _accepted(page: Page) -> dict[str, list[dict[str, str]]]:
    return page.evaluate(ACCEPTED_JS)


def _accepted_texts(page: Page, kind: str) -> list[str]:
    return [item["text"] for item in _accepted(page)[kind]]


def _curated(page: Page, text: str) -> Locator:
    """The accepted finding whose text is exactly ``text``."""
    finding = page.locator("div.app-finding[id^='finding-']").filter(
        has=page.locator("p.govuk-body").filter(has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))
    )
    assert finding.count() == 1, f"no single accepted finding reading {text!r}"
    return finding


def _suggestions(page: Page) -> Locator:
    """The suggestions waiting for a decision, each a block with its own form."""
    return page.locator("div.app-finding").filter(has=page.locator("input[name='key']"))


def _suggestion_key(suggestion: Locator) -> str:
    key = suggestion.locator("input[name='key']").get_attribute("value")
    assert key, "a suggestion without a key"
    return key


def _suggestion_kind(suggestion: Locator) -> str:
    tag = " ".join(suggestion.locator(".govuk-tag").first.inner_text().split())
    assert tag in KIND_TAGS, f"a suggestion tagged {tag!r}"
    return KIND_TAGS[tag]


def _suggestion_by_key(page: Page, key: str) -> Locator:
    return _suggestions(page).filter(has=page.locator(f"input[name='key'][value='{key}']"))


def _rejected_details(page: Page) -> Locator:
    return page.locator("details").filter(
        has=page.locator("summary", has_text=re.compile(r"^\s*Rejected \(\d+\)\s*$"))
    )


def _findings_path(review_path: str) -> str:
    return f"{review_path}/findings"


# --- 1. moderation ----------------------------------------------------------------------------


def test_lead_reads_the_dashboard_and_moderates_an_audit(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    review_path = _open_demo_review(page)
    _open_tool(page, "Dashboard")
    assert _path(page) == f"{review_path}/dashboard", page.url
    check_page(page, problems)

    main = " ".join(page.locator("main").inner_text().split())
    headline = r"Cases good or better overall: \d{1,3}% \(95% interval [^)]+ of \d+ cases\)"
    assert re.search(headline, main), (
        f"no headline 'Cases good or better overall: NN% (95% interval ...; C of N cases)' on "
        f"the dashboard: {main[:400]}"
    )
    # Children's safety in words that say what is counted, and each section's share in cases,
    # by case type and by team with intervals.
    assert "cases audited a child was found not adequately safeguarded" in main, main[:600]
    assert "safeguarding alerts were raised about" in main, main[:600]
    assert re.search(r"Cases with the section graded good or better: \d{1,3}% \(95%", main)
    for caption in ("Overall judgement by case type", "Overall judgement by team"):
        table = page.locator("table", has=page.locator("caption", has_text=caption)).last
        assert re.search(r"95% interval", table.inner_text()), caption

    # Charts are images with names, each followed by the table of its data.
    charts = page.evaluate(CHARTS_JS)
    assert len(charts) >= 2, f"the dashboard draws {len(charts)} chart(s), not at least 2"
    for chart in charts:
        assert chart["name"], f"a chart has no accessible name: {chart}"
        assert chart["next"] == "table", f"the chart {chart['name']!r} is not followed by a table"
        assert chart["caption"] == chart["name"], (
            f"the table after the chart {chart['name']!r} is captioned {chart['caption']!r}"
        )

    # The first audit waiting for moderation.
    queue = page.get_by_role("table", name="Waiting for moderation")
    assert queue.count() == 1, "no 'Waiting for moderation' table on the dashboard"
    first = queue.locator("tbody tr").first
    pseudonym = first.locator("td").first.inner_text().strip()
    link = first.get_by_role("link", name=f"Moderate {pseudonym}", exact=True)
    assert link.count() == 1, f"the first row ({pseudonym}) has no 'Moderate {pseudonym}' link"
    link.click()
    page.wait_for_load_state()
    moderate_path = _path(page)
    match = re.fullmatch(r"(/reviews/[^/]+/audits/[^/]+)/moderate", moderate_path)
    assert match, page.url
    audit_path = match.group(1)
    assert page.get_by_role("heading", level=1).inner_text() == f"Moderate case {pseudonym}"
    check_page(page, problems)

    # Change the first graded question's grade to another level, without a reason.
    group = page.locator("form fieldset").first
    question = " ".join(group.locator("legend").inner_text().split())
    hint = " ".join(group.locator(".govuk-hint").inner_text().split())
    assert hint.startswith(REVIEWERS_GRADE), f"the hint for {question!r} reads {hint!r}"
    radios = group.get_by_role("radio")
    levels = [
        " ".join(
            group.locator(f"label[for='{radios.nth(i).get_attribute('id')}']").inner_text().split()
        )
        for i in range(radios.count())
    ]
    checked = [level for i, level in enumerate(levels) if radios.nth(i).is_checked()]
    assert len(checked) == 1, f"{question!r} starts with {checked} chosen, not one grade"
    before = checked[0]
    after = next(level for level in levels if level != before)
    group.locator("label.govuk-radios__label").filter(
        has_text=re.compile(rf"^\s*{re.escape(after)}\s*$")
    ).click()
    new_radio = group.get_by_label(after, exact=True)
    assert new_radio.is_checked()
    reason_name = "reason-" + (new_radio.get_attribute("name") or "").removeprefix("grade-")
    reason = page.locator(f"input[name='{reason_name}']")
    assert reason.count() == 1, f"no reason box {reason_name} for {question!r}"
    assert reason.input_value() == ""

    with page.expect_navigation() as saved:
        page.get_by_role("button", name="Save moderation").click()
    page.wait_for_load_state()
    response = saved.value
    assert response is not None and response.status == 200, response
    assert _path(page) == moderate_path, f"a change without a reason went to {page.url}"
    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 1, "no error summary after changing a grade without a reason"
    summary_text = " ".join(summary.inner_text().split())
    assert "There is a problem" in summary_text, summary_text
    assert_result_in_view(page)
    assert "Give a reason for changing" in summary_text and question in summary_text, summary_text
    assert page.title().startswith("Error: "), page.title()
    check_page(page, problems)  # axe on the error state
    # The changed grade survived; the error links to the reason box.
    assert group.get_by_label(after, exact=True).is_checked(), "the changed grade was lost"
    error_link = summary.locator(".govuk-error-summary__list a").first
    assert error_link.get_attribute("href") == f"#{reason.get_attribute('id')}"

    # Give the reason and save.
    why = "File shows the plan was not reviewed after the new concerns."
    reason.fill(why)
    _submit(page, page.get_by_role("button", name="Save moderation"))
    assert _path(page) == f"{review_path}/dashboard", f"saving moderation went to {page.url}"
    assert f"Moderation of {pseudonym} saved: 1 grade(s) changed." in _flash(page), _flash(page)
    assert "Moderation of" in assert_result_in_view(page)
    check_page(page, problems)

    # The audit record lists the change under "Moderation".
    page.get_by_role("link", name="Back to the review").click()
    page.wait_for_load_state()
    assert _path(page) == review_path
    cases = page.get_by_role("table", name=re.compile(r"case files in the sample$"))
    assert cases.count() == 1, "the lead's review page has no table of case files"
    cases.get_by_role("link", name=pseudonym, exact=True).click()
    page.wait_for_load_state()
    assert _path(page) == audit_path, f"the case link went to {page.url}, not {audit_path}"
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == f"Audit record for case {pseudonym}", heading
    moderation = page.get_by_role("heading", level=2, name="Moderation", exact=True)
    assert moderation.count() == 1, "the audit record has no 'Moderation' section"
    items = page.locator("h2:text-is('Moderation') + ul li")
    lines = [" ".join(text.split()) for text in items.all_inner_texts()]
    wanted = f"{before} changed to {after} by {LEAD_NAME}"
    assert any(question in line and wanted in line and why in line for line in lines), (
        f"no line '{question} ... {wanted} ... {why}' under Moderation: {lines}"
    )
    check_page(page, problems)
    assert_no_problems(problems)


# --- 2. findings ------------------------------------------------------------------------------


def test_lead_curates_findings(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    review_path = _open_demo_review(page)
    _open_tool(page, "Findings")
    findings_path = _findings_path(review_path)
    assert _path(page) == findings_path, page.url
    check_page(page, problems)

    # The executive summary is saved and is still there after a reload.
    summary_text = "Practice is safe in most cases; plans and supervision need strengthening."
    page.get_by_label("Executive summary", exact=True).fill(summary_text)
    _submit(page, page.get_by_role("button", name="Save summary"))
    assert _path(page) == findings_path, page.url
    assert "Executive summary saved." in _flash(page), _flash(page)
    page.reload()
    page.wait_for_load_state()
    assert page.get_by_label("Executive summary", exact=True).input_value() == summary_text
    check_page(page, problems)

    # Accept the first suggestion after rewording it.
    suggestions = _suggestions(page)
    assert suggestions.count() >= 2, f"only {suggestions.count()} suggestion(s) on the page"
    first = suggestions.first
    first_key = _suggestion_key(first)
    first_kind = _suggestion_kind(first)
    wording = first.get_by_label("Wording", exact=True)
    edited = " ".join(wording.input_value().split()) + " (reworded by the lead in the browser)"
    wording.fill(edited)
    _submit(page, first.get_by_role("button", name=re.compile(r"^Accept\b")))
    assert "Finding accepted." in _flash(page), _flash(page)
    assert edited in _accepted_texts(page, first_kind), (
        f"the accepted suggestion is not under {KIND_HEADINGS[first_kind]} with its new words: "
        f"{_accepted(page)}"
    )
    assert _suggestion_by_key(page, first_key).count() == 0, "accepted but still suggested"
    check_page(page, problems)

    # Reject another: it leaves the suggestions for the "Rejected (n)" list.
    other = _suggestions(page).first
    other_key = _suggestion_key(other)
    other_text = " ".join(other.get_by_label("Wording", exact=True).input_value().split())
    rejected_before = _rejected_details(page).locator("div.app-finding").count()
    _submit(page, other.get_by_role("button", name=re.compile(r"^Reject\b")))
    assert "Suggestion rejected." in _flash(page), _flash(page)
    assert _suggestion_by_key(page, other_key).count() == 0, "rejected but still suggested"
    rejected = _rejected_details(page)
    assert rejected.count() == 1, "no 'Rejected (n)' details after rejecting a suggestion"
    count = rejected_before + 1
    summary = " ".join(rejected.locator("summary").inner_text().split())
    assert summary == f"Rejected ({count})", summary
    rejected.locator("summary").click()
    rejected_texts = [
        " ".join(t.split()) for t in rejected.locator("p.govuk-body").all_inner_texts()
    ]
    assert other_text in rejected_texts, f"{other_text!r} is not among {rejected_texts}"
    assert other_text not in _accepted_texts(page, "strength") + _accepted_texts(
        page, "development"
    )
    check_page(page, problems)

    # Add the lead's own finding, not linked to a question.
    strengths_before = _accepted_texts(page, "strength")
    page.get_by_role("group", name="Kind of finding").get_by_label("Strength", exact=True).check()
    page.get_by_label("Finding", exact=True).fill(OWN_FINDING)
    linked = page.get_by_label("Linked to the audit question", exact=True)
    first_option = " ".join(linked.locator("option").first.inner_text().split())
    assert first_option.startswith("Not linked"), first_option
    linked.select_option(index=0)
    _submit(page, page.get_by_role("button", name="Add finding"))
    assert "Your finding was added." in _flash(page), _flash(page)
    strengths = _accepted_texts(page, "strength")
    assert strengths == [*strengths_before, OWN_FINDING], strengths
    own = _curated(page, OWN_FINDING)
    assert "From other evidence" in own.inner_text()
    check_page(page, problems)

    # Reword it.
    own.locator("summary", has_text="Reword").click()
    own.get_by_label("Wording", exact=True).fill(OWN_REWORDED)
    _submit(page, own.get_by_role("button", name="Save wording"))
    assert "Finding reworded." in _flash(page), _flash(page)
    strengths = _accepted_texts(page, "strength")
    assert OWN_REWORDED in strengths and OWN_FINDING not in strengths, strengths
    check_page(page, problems)

    # Move it up one place.
    place = strengths.index(OWN_REWORDED)
    assert place > 0, f"the new finding is first of the strengths already: {strengths}"
    _submit(page, _curated(page, OWN_REWORDED).get_by_role("button", name=re.compile("^Move up")))
    assert _path(page) == findings_path, page.url
    moved = _accepted_texts(page, "strength")
    assert moved.index(OWN_REWORDED) == place - 1, f"Move up left the order {moved}"
    assert sorted(moved) == sorted(strengths), "moving changed which strengths there are"
    check_page(page, problems)

    # Merge two accepted findings of one kind (accept a suggestion first if there is only one).
    kind = "strength"
    candidates = [text for text in _accepted_texts(page, kind) if text != OWN_REWORDED]
    while len(candidates) < 2:
        same_kind = [s for s in _suggestions(page).all() if _suggestion_kind(s) == kind]
        if not same_kind:
            pytest.fail(f"fewer than two {KIND_HEADINGS[kind]} to merge and none suggested")
        _submit(page, same_kind[0].get_by_role("button", name=re.compile(r"^Accept\b")))
        assert "Finding accepted." in _flash(page), _flash(page)
        candidates = [text for text in _accepted_texts(page, kind) if text != OWN_REWORDED]
    to_merge = candidates[:2]
    before_merge = _accepted_texts(page, kind)
    for text in to_merge:
        box = _curated(page, text).get_by_role(
            "checkbox", name=re.compile(r"^Select for merging\b")
        )
        assert box.count() == 1, f"no 'Select for merging' checkbox for {text!r}"
        box.check()
    merged_text = "Risk is responded to promptly and plans say what happens if nothing changes."
    merge_form = page.locator(f"form#merge-{kind}")
    merge_form.get_by_label(re.compile(r"^Wording for the merged finding")).fill(merged_text)
    _submit(page, page.get_by_role("button", name=f"Merge ticked {KIND_HEADINGS[kind].lower()}"))
    assert "Merged 2 findings into one." in _flash(page), _flash(page)
    after_merge = _accepted_texts(page, kind)
    assert merged_text in after_merge, after_merge
    assert not set(to_merge) & set(after_merge), f"merged findings still listed: {after_merge}"
    assert len(after_merge) == len(before_merge) - 1, (before_merge, after_merge)
    assert OWN_REWORDED in after_merge
    check_page(page, problems)
    assert_no_problems(problems)


# --- 3. keyboard ------------------------------------------------------------------------------


def test_keyboard_only_accepts_a_suggestion(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    review_path = _open_demo_review(page)
    _open_tool(page, "Findings")
    assert _path(page) == _findings_path(review_path), page.url
    suggestions = _suggestions(page)
    assert suggestions.count() > 0, "no suggestions left to accept"
    first = suggestions.first
    key = _suggestion_key(first)
    kind = _suggestion_kind(first)
    text = " ".join(first.get_by_label("Wording", exact=True).input_value().split())
    accept = first.get_by_role("button", name=re.compile(r"^Accept\b"))

    # From the top of the page, Tab (only) to the first suggestion's Accept and press Enter.
    for _ in range(300):
        page.keyboard.press("Tab")
        if accept.evaluate("(el) => el === document.activeElement"):
            break
    else:
        focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML")
        pytest.fail(f"300 presses of Tab never reached the first Accept; focus is on {focused}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Finding accepted." in _flash(page), _flash(page)
    assert "Finding accepted." in assert_result_in_view(page)
    assert _suggestion_by_key(page, key).count() == 0, "accepted but still suggested"
    assert text in _accepted_texts(page, kind), (
        f"{text!r} is not under {KIND_HEADINGS[kind]}: {_accepted(page)}"
    )
    check_page(page, problems)
    assert_no_problems(problems)
