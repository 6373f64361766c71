"""The lead runs a programme of repeated reviews, in a real browser.

The lead starts the next review of the demo programme from the last one, adds an action to an
area for development and follows it up, reads the trend (filtered by case type too), and sees
on November's Findings page how October's areas for development went.

Everything is read from what the pages show, never from the demo's exact numbers: other
browser tests in the same session change the figures, and this module adds a review to the
programme and an action to October's first area for development.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page

from audit.moments import today as london_today

from .conftest import (
    LiveServer,
    assert_no_problems,
    assert_result_in_view,
    check_page,
    sign_in,
)

pytestmark = pytest.mark.browser

PROGRAMME = "Monthly practice audit"
OCTOBER = f"{PROGRAMME}, October 2026"
NOVEMBER = f"{PROGRAMME}, November 2026"
NEW_REVIEW = f"{PROGRAMME}, browser test"
TEAM_MEMBER = "Demo Reviewer One"
ACTION = "Audit supervision records monthly"
OWNER = "Head of Service"
DUE = "31/1/2027"
DUE_LONG = "31 January 2027"  # how pages show the due date typed as DUE
NOTE = "Supervision records for two teams audited; the third is booked."
CHANGE_HEADER = "Change since the review before"
# "up 13 points (95% interval -19 to +42): could be noise", "no change (...): ...", or the
# words for a review with no answers (an empty new review, a case type a review lacks).
CHANGE_WORDS = re.compile(
    r"(?:(?:up|down) (?:less than 1 point|\d+ points?)|no change) "
    r"\(95% interval [-+]?[\d.]+(?:e-?\d+)? to [-+]?[\d.]+(?:e-?\d+)?\): "
    r"(?:could be noise|a real rise|a real fall)"
    r"|not computable: no answers in one review"
)


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0].split("?")[0]


def _text(locator: Locator) -> str:
    return " ".join(locator.inner_text().split())


def _flash(page: Page) -> str:
    banners = page.locator(".govuk-notification-banner--success")
    return " ".join(" ".join(banners.all_inner_texts()).split())


def _refused(page: Page) -> str:
    banners = page.locator(".app-refused")
    return " ".join(" ".join(banners.all_inner_texts()).split())


def _h1(page: Page) -> str:
    return _text(page.get_by_role("heading", level=1))


def _follow(page: Page, link: Locator) -> None:
    """Follow a link (or press a button that posts) and wait for the page that comes back."""
    assert link.count() == 1, f"{link} matches {link.count()} elements on {page.url}, not 1"
    with page.expect_navigation():
        link.click()
    page.wait_for_load_state()


def _open_programme(page: Page, problems: list[str] | None = None) -> str:
    """From anywhere: service navigation "Programmes", then the demo programme."""
    menu = page.get_by_role("navigation", name="Menu")
    _follow(page, menu.get_by_role("link", name="Programmes", exact=True))
    assert _path(page) == "/programmes", page.url
    assert _h1(page) == "Programmes"
    if problems is not None:
        check_page(page, problems)
    table = page.get_by_role("table", name="Programmes")
    assert table.count() == 1, "the Programmes page has no table of programmes"
    _follow(page, table.get_by_role("link", name=PROGRAMME, exact=True))
    assert re.fullmatch(r"/programmes/[^/]+", _path(page)), page.url
    assert _h1(page) == PROGRAMME
    return _path(page)


def _reviews_table(page: Page) -> Locator:
    table = page.get_by_role("table", name="Reviews in this programme, oldest first")
    assert table.count() == 1, f"no 'Reviews in this programme' table on {page.url}"
    return table


def _open_review_from_programme(page: Page, title: str) -> str:
    _follow(page, _reviews_table(page).get_by_role("link", name=title, exact=True))
    assert _h1(page) == title
    assert re.fullmatch(r"/reviews/[^/]+", _path(page)), page.url
    return _path(page)


def _open_tool(page: Page, name: str, heading: str | None = None) -> None:
    """Follow one of the review page's "Review tools" links."""
    nav = page.get_by_role("navigation", name="Review tools")
    assert nav.count() == 1, f"the lead's review page {page.url} has no 'Review tools' navigation"
    _follow(page, nav.get_by_role("link", name=name, exact=True))
    wanted = name if heading is None else heading
    assert _h1(page) == wanted, f"{name!r} opened a page headed {_h1(page)!r}, not {wanted!r}"


def _trend_checks(page: Page) -> list[str]:
    """The trend's chart and tables; returns the captions of the series tables."""
    assert page.get_by_role("heading", level=2, name="Trend", exact=True).count() == 1, (
        "the programme page has no 'Trend' section"
    )
    charts = page.locator("figure.app-figure svg[role='img']")
    assert charts.count() == 1, f"the Trend section draws {charts.count()} chart(s), not 1"
    name = page.evaluate(
        """(svg) => {
            const ids = (svg.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
            const named = ids.map((id) => (document.getElementById(id) || {}).textContent || '');
            return (named.join(' ').trim() || svg.getAttribute('aria-label') || '').trim();
        }""",
        charts.first.element_handle(),
    )
    assert name, "the trend chart has no accessible name"
    tables = page.locator("table").filter(
        has=page.locator("th", has_text=re.compile(rf"^\s*{CHANGE_HEADER}\s*$"))
    )
    assert tables.count() >= 1, f"no trend table with a {CHANGE_HEADER!r} column"
    captions = [_text(t.locator("caption")) for t in tables.all()]
    assert "Overall judgement" in captions, f"no 'Overall judgement' trend table: {captions}"
    for table, caption in zip(tables.all(), captions, strict=True):
        rows = table.locator("tbody tr")
        assert rows.count() >= 2, f"the trend table {caption!r} has {rows.count()} row(s)"
        labels = [_text(row.locator("th")) for row in rows.all()]
        assert labels[:3] == [
            f"{PROGRAMME}, August 2026",
            f"{PROGRAMME}, September 2026",
            OCTOBER,
        ], f"the trend table {caption!r} lists {labels}"
        changes = [_text(row.locator("td").last) for row in rows.all()]
        assert changes[0] == "", f"{caption!r}: a change given for the first review: {changes[0]}"
        for label, words in zip(labels[1:], changes[1:], strict=True):
            assert CHANGE_WORDS.fullmatch(words), (
                f"{caption!r}, {label}: the change reads {words!r}, not words like "
                f"'up 13 points (95% interval -19 to +42): could be noise'"
            )
    return captions


def _overall_ns(page: Page) -> list[int]:
    """How many cases each review's overall figure counts ("...; 14 of 24 cases)" gives 24)."""
    # The overall line comes first; the rubric may have a section of the same name.
    table = page.get_by_role("table", name="Overall judgement", exact=True).first
    assert table.count() == 1, "no 'Overall judgement' trend table"
    ns = []
    for cell in table.locator("tbody tr td:first-of-type").all():
        match = re.search(r"; \d+ of (\d+) cases\)", _text(cell))
        ns.append(int(match.group(1)) if match else 0)
    return ns


# --- 1. the programme, its trend, and the next review -----------------------------------------


def test_lead_reads_the_programme_and_starts_the_next_review(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    programme_path = _open_programme(page, problems)
    check_page(page, problems)

    # Actions: overdue first, with the red "Overdue" tag.
    actions = page.get_by_role("table", name="Actions from the programme's reviews, overdue first")
    assert actions.count() == 1, "the programme page has no table of actions"
    statuses = [_text(row.locator("td").nth(3)) for row in actions.locator("tbody tr").all()]
    assert statuses, "the programme's Actions table is empty"
    assert statuses[0] == "Overdue", f"the first action is {statuses[0]!r}, not overdue"
    first_tag = actions.locator("tbody tr").first.locator("td").nth(3).locator(".govuk-tag--red")
    assert _text(first_tag) == "Overdue", "the first action has no red 'Overdue' tag"
    overdue = statuses.count("Overdue")
    assert statuses[:overdue] == ["Overdue"] * overdue, f"overdue actions not first: {statuses}"
    heading = _text(page.get_by_role("heading", level=2, name=re.compile(r"^Actions\b")))
    assert heading == f"Actions {overdue} overdue", f"the Actions heading reads {heading!r}"
    from_review = _text(actions.locator("tbody tr").first.locator("td").last)
    assert from_review == OCTOBER, f"the overdue action is from {from_review!r}, not October"

    # The trend: a chart and a table per series, changes in words.
    _trend_checks(page)
    all_ns = _overall_ns(page)
    assert sum(all_ns) > 0, "the overall trend counts no cases"

    # Filter the trend by a case type: the page comes back with it chosen, chart and all.
    chooser = page.get_by_label("Show the trend for", exact=True)
    assert chooser.input_value() == "", "the trend is not for all audited cases at first"
    option = page.locator("#filter optgroup[label='Case type'] option").first
    assert option.count() == 1, "no case type to show the trend for"
    value = option.get_attribute("value") or ""
    label = _text(option)
    assert value.startswith("case_type:"), value
    chooser.select_option(value)
    _follow(page, page.get_by_role("button", name="Show", exact=True))
    assert _path(page) == programme_path, page.url
    assert re.search(rf"[?&]filter={re.escape(value).replace(':', '(?::|%3A)')}", page.url), (
        page.url
    )
    check_page(page, problems)
    _trend_checks(page)
    type_ns = _overall_ns(page)
    assert len(type_ns) == len(all_ns), (all_ns, type_ns)
    assert all(t <= a for t, a in zip(type_ns, all_ns, strict=True)) and type_ns != all_ns, (
        f"the {label!r} trend counts {type_ns} cases per review, all cases {all_ns}"
    )
    chosen = page.get_by_label("Show the trend for", exact=True)
    selected = page.evaluate(
        "(el) => el.options[el.selectedIndex] ? el.options[el.selectedIndex].textContent : null",
        chosen.element_handle(),
    )
    # Recorded rather than raised, so the journey goes on to start the next review.
    if chosen.input_value() != value:
        problems.append(
            f"trend filter: after Show with {label!r} ({page.url}), 'Show the trend for' came "
            f"back showing {selected!r} (value {chosen.input_value()!r}, not {value!r})"
        )

    # Start the next review from the last one.
    _follow(page, page.get_by_role("link", name="Start the next review", exact=True))
    assert _path(page) == f"{programme_path}/next", page.url
    assert _h1(page) == "Start the next review"
    check_page(page, problems)
    intro = _text(page.locator("main p.govuk-body").first)
    match = re.search(r"copies the set-up of (.+?): its team", intro)
    assert match, f"the form does not say which review it copies: {intro!r}"
    previous = match.group(1)
    assert previous.startswith(f"{PROGRAMME}, "), previous
    rubric = page.get_by_role("group", name=re.compile(r"^Rubric"))
    radios = rubric.get_by_role("radio")
    assert radios.count() >= 1, "no rubric to choose"
    checked = [i for i in range(radios.count()) if radios.nth(i).is_checked()]
    assert len(checked) == 1, f"{len(checked)} rubric(s) chosen at first, not 1"
    assert "(as the last review)" in _text(
        rubric.locator(f"label[for='{radios.nth(checked[0]).get_attribute('id')}']")
    ), "the rubric chosen at first is not the last review's"
    page.get_by_label("Title", exact=True).fill(NEW_REVIEW)
    page.get_by_label("Start date", exact=True).fill("1/12/2026")
    page.get_by_label("End date", exact=True).fill("11/12/2026")
    _follow(page, page.get_by_role("button", name="Start the next review", exact=True))

    # The new review's page, with the banner; the team is copied.
    assert _h1(page) == NEW_REVIEW, f"starting the next review went to {page.url}"
    review_path = _path(page)
    assert re.fullmatch(r"/reviews/[^/]+", review_path), page.url
    banner = _flash(page)
    assert (
        f"Started {NEW_REVIEW} with the team, measures and sampling rules of {previous}." in banner
    ), banner
    team = page.locator("h2#team ~ ul").first.locator("li")
    members = [_text(item) for item in team.all()]
    assert any(m.startswith(f"{TEAM_MEMBER}, ") for m in members), (
        f"{TEAM_MEMBER} is not in the new review's team: {members}"
    )
    dates = page.locator(".govuk-summary-list__row").filter(has_text="Dates")
    assert _text(dates.locator("dd").first) == "1 December 2026 to 11 December 2026", _text(dates)
    check_page(page, problems)

    # The programme lists it last.
    _open_tool(page, "Programme and trend", heading=PROGRAMME)
    titles = [_text(link) for link in _reviews_table(page).locator("tbody tr td a").all()]
    assert titles[-1] == NEW_REVIEW, f"the programme's reviews are {titles}"
    check_page(page, problems)
    assert_no_problems(problems)


# --- 2. an action on an area for development ----------------------------------------------


def test_lead_adds_and_follows_up_an_action(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    _open_programme(page)
    review_path = _open_review_from_programme(page, OCTOBER)
    _open_tool(page, "Findings")
    findings_path = f"{review_path}/findings"
    assert _path(page) == findings_path, page.url
    check_page(page, problems)

    # The first accepted area for development (a sibling after h2#development).
    first = page.locator("#development ~ div.app-finding[id^='finding-']").first
    assert first.count() == 1, "October has no accepted area for development"
    finding_id = first.get_attribute("id")
    finding_text = _text(first.locator("p.govuk-body").first)
    finding = page.locator(f"div#{finding_id}")
    before = [_text(link) for link in finding.locator("ul li a").all()]

    summary = finding.locator("summary", has_text="Add an action")
    assert summary.count() == 1, f"no 'Add an action' under {finding_text!r}"
    summary.click()
    add = finding.locator("details").filter(has=page.locator("summary", has_text="Add an action"))
    assert add.get_attribute("open") is not None, "'Add an action' did not open"
    add.get_by_label("Action", exact=True).fill(ACTION)
    add.get_by_label("Owner", exact=True).fill(OWNER)
    add.get_by_label("Due date", exact=True).fill(DUE)
    _follow(page, add.get_by_role("button", name="Add action", exact=True))
    assert _path(page) == findings_path, page.url
    assert not _refused(page), _refused(page)
    assert "Action added to the plan." in _flash(page), _flash(page)
    assert "Action added to the plan." in assert_result_in_view(page)
    after = [_text(item) for item in finding.locator("ul li").all()]
    assert len(after) == len(before) + 1, f"actions under the finding: {before} -> {after}"
    line = next((item for item in after if item.startswith(ACTION)), None)
    assert line is not None, f"{ACTION!r} is not under {finding_text!r}: {after}"
    assert line == f"{ACTION}: {OWNER}, due {DUE_LONG} Not started", line
    check_page(page, problems)

    # Open it: set "In progress" and save.
    _follow(page, finding.get_by_role("link", name=ACTION, exact=True))
    action_path = _path(page)
    assert re.fullmatch(rf"{re.escape(review_path)}/actions/[^/]+", action_path), page.url
    assert _h1(page) == f"Action: {ACTION}"
    assert finding_text in _text(page.locator("main")), "the action page does not say its finding"
    assert page.get_by_label("Action", exact=True).input_value() == ACTION
    assert page.get_by_label("Owner", exact=True).input_value() == OWNER
    check_page(page, problems)
    status = page.get_by_role("group", name="Status")
    assert status.get_by_label("Not started", exact=True).is_checked()
    status.get_by_label("In progress", exact=True).check()
    _follow(page, page.get_by_role("button", name="Save action", exact=True))
    assert _path(page) == action_path, page.url
    assert "Action saved." in _flash(page), f"{_flash(page)!r} {_refused(page)!r}"
    assert "Action saved." in assert_result_in_view(page)
    assert (
        page.get_by_role("group", name="Status")
        .get_by_label("In progress", exact=True)
        .is_checked()
    ), "the status did not stay 'In progress'"
    due = page.get_by_label("Due date", exact=True).input_value()
    assert due == "31/01/2027", f"the due date is shown back as {due!r}, not as typed"
    check_page(page, problems)

    # A progress note dated today.
    today = london_today()
    today_long = f"{today.day} {today:%B %Y}"
    noted_on = page.get_by_label("Date", exact=True)
    assert noted_on.input_value() == today.strftime("%d/%m/%Y"), noted_on.input_value()
    page.get_by_label("Progress note", exact=True).fill(NOTE)
    noted_on.fill(f"{today.day}/{today.month}/{today.year}")
    _follow(page, page.get_by_role("button", name="Add note", exact=True))
    assert _path(page) == action_path, page.url
    assert "Progress note added." in _flash(page), f"{_flash(page)!r} {_refused(page)!r}"
    notes = [_text(item) for item in page.locator("h2:text-is('Progress') + ul li").all()]
    assert any(n.startswith(today_long) and n.endswith(NOTE) for n in notes), (
        f"no progress note '{today_long} ...: {NOTE}' listed: {notes}"
    )
    check_page(page, problems)

    # The action plan lists it.
    _follow(page, page.get_by_role("link", name="Back to the action plan", exact=True))
    assert _path(page) == f"{review_path}/actions", page.url
    assert _h1(page) == "Action plan"
    plan = page.get_by_role("table", name="Actions, overdue first")
    assert plan.count() == 1, "the action plan has no table of actions"
    row = plan.locator("tbody tr").filter(has=page.get_by_role("link", name=ACTION, exact=True))
    assert row.count() == 1, f"{ACTION!r} is not in the action plan"
    cells = [_text(cell) for cell in row.locator("td").all()]
    assert cells[1:4] == [OWNER, DUE_LONG, "In progress"], cells
    assert cells[4] == today_long, f"the plan's last progress reads {cells[4]!r}"
    plan_statuses = [_text(r.locator("td").nth(3)) for r in plan.locator("tbody tr").all()]
    overdue = plan_statuses.count("Overdue")
    assert overdue >= 1, f"October's overdue action is not shown overdue: {plan_statuses}"
    assert plan_statuses[:overdue] == ["Overdue"] * overdue, (
        f"overdue actions not first in the plan: {plan_statuses}"
    )
    for name, kind in (("Download (Excel)", "spreadsheetml"), ("CSV", "csv")):
        link = page.locator("main").get_by_role("link", name=name, exact=True)
        assert link.count() == 1, f"no {name!r} link on the action plan"
        response = page.request.get(link.get_attribute("href") or "")
        assert response.status == 200, f"{name}: HTTP {response.status}"
        content_type = response.headers.get("content-type", "")
        assert kind in content_type, f"{name} came back as {content_type!r}"
        if kind == "csv":
            assert ACTION in response.text(), f"{ACTION!r} is not in the CSV action plan"
    check_page(page, problems)
    assert_no_problems(problems)


# --- 3. last time, and re-audits ------------------------------------------------------------


def test_lead_sees_last_time_and_re_audits(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    _open_programme(page)
    review_path = _open_review_from_programme(page, NOVEMBER)
    _open_tool(page, "Findings")
    assert _path(page) == f"{review_path}/findings", page.url
    check_page(page, problems)

    heading = page.get_by_role("heading", level=2, name=f"Last time: {OCTOBER}", exact=True)
    assert heading.count() == 1, f"November's Findings page has no 'Last time: {OCTOBER}'"
    table = page.get_by_role(
        "table", name="Previous areas for development beside this review's findings"
    )
    assert table.count() == 1, "no table of last time's areas for development"
    headers = [_text(th) for th in table.locator("thead th").all()]
    assert headers == ["Then", "Actions", "Now"], headers
    rows = table.locator("tbody tr")
    assert rows.count() >= 1, "the 'Last time' table has no rows"
    actions = " ".join(_text(row.locator("td").nth(1)) for row in rows.all())
    assert "Overdue" in actions, f"October's overdue action is not shown overdue: {actions!r}"

    page.get_by_role("link", name="Back to the review", exact=True).click()
    page.wait_for_load_state()
    assert _path(page) == review_path, page.url
    _open_tool(page, "Re-audit cases from earlier reviews")
    assert _path(page) == f"{review_path}/re-audit", page.url
    check_page(page, problems)
    earlier = page.get_by_role("group", name="Cases audited before")
    assert earlier.count() == 1, "no 'Cases audited before' to choose from"
    labels = [_text(label) for label in earlier.locator("label").all()]
    assert labels, "no earlier audits listed"
    assert all(re.search(rf" in {re.escape(PROGRAMME)}, ", text) for text in labels), labels
    assert page.get_by_role("button", name="Add the chosen cases", exact=True).count() == 1
    assert_no_problems(problems)


# --- 4. keyboard --------------------------------------------------------------------------


def test_keyboard_only_opens_the_next_review_form(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    programme_path = _open_programme(page)
    start = page.get_by_role("link", name="Start the next review", exact=True)
    assert start.count() == 1

    # From the top of the page, Tab (only) to "Start the next review" and press Enter.
    page.reload()
    page.wait_for_load_state()
    for _ in range(100):
        page.keyboard.press("Tab")
        if start.evaluate("(el) => el === document.activeElement"):
            break
    else:
        focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML")
        pytest.fail(
            f"100 presses of Tab never reached 'Start the next review'; focus is on {focused}"
        )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert _path(page) == f"{programme_path}/next", page.url
    assert _h1(page) == "Start the next review"
    assert page.get_by_label("Title", exact=True).input_value().startswith(f"{PROGRAMME}, ")
    check_page(page, problems)
    assert_no_problems(problems)
