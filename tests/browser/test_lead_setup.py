"""A lead sets up a review in a real browser: create it, import or sample cases, build the team.

Each test creates its own reviews (titles made unique per run), so nothing here touches the
demo review or depends on another test. Case lists are synthetic CSV files written to tmp_path.
"""

from __future__ import annotations

import csv
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page

from .conftest import (
    LiveServer,
    assert_no_problems,
    check_page,
    sign_in,
)

pytestmark = pytest.mark.browser

RUBRIC_CHOICE = "Peer safeguarding health check (version 1.0)"
CASE_LIST_COLUMNS = ["reference", "case_type", "team", "referral_date"]
# Case types as case-management exports write them: codes, labels and aliases.
CASE_TYPES = ["CP", "Child in need", "CLA", "Early help", "R&A", "Care leaver"]
TEAMS = ["Family Support East", "Family Support West", "Assessment Team 1", "Children in Care"]


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0]


def _flash(page: Page) -> str:
    return " ".join(page.locator(".govuk-notification-banner--success").all_inner_texts())


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CASE_LIST_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _case_rows(count: int, first: int) -> list[dict[str, str]]:
    """``count`` synthetic cases, references TST-<first>, TST-<first + 1>, ..."""
    return [
        {
            "reference": f"TST-{first + n:06d}",
            "case_type": CASE_TYPES[n % len(CASE_TYPES)],
            "team": TEAMS[n % len(TEAMS)],
            "referral_date": f"{(n % 28) + 1:02d}/0{(n % 9) + 1}/2026",
        }
        for n in range(count)
    ]


def _create_review(page: Page, title: str, problems: list[str]) -> str:
    """Create a review through the form; return the new review page's path."""
    page.goto("/reviews/new")
    assert page.get_by_role("heading", level=1).inner_text() == "Create a review"
    check_page(page, problems)
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Host organisation", exact=True).fill("Testshire County Council")
    kind = page.get_by_role("group", name="Kind of review")
    kind.get_by_label("Peer review", exact=True).check()
    page.get_by_label("Start date", exact=True).fill("27/10/2026")
    page.get_by_label("End date", exact=True).fill("29/10/2026")
    rubric = page.get_by_role("group", name="Rubric")
    rubric.get_by_label(RUBRIC_CHOICE, exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Create review").click()
    page.wait_for_load_state()
    assert re.fullmatch(r"/reviews/[^/]+", _path(page)), f"creating the review went to {page.url}"
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert f"Created {title}." in _flash(page), _flash(page)
    return _path(page)


def _case_table(page: Page) -> Locator:
    return page.get_by_role("table").filter(has_text="case files in the sample")


def _case_count(page: Page) -> int:
    """The number of case files on the lead's review page (0 when there are none yet)."""
    table = _case_table(page)
    if table.count() == 0:
        assert page.get_by_text("No case files yet").is_visible()
        return 0
    rows = table.locator("tbody tr").count()
    caption = table.locator("caption").inner_text()
    assert caption == f"{rows} case files in the sample", caption
    return rows


def _column(page: Page, header: str) -> list[str]:
    table = _case_table(page)
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    index = headers.index(header)
    return [
        t.strip() for t in table.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()
    ]


def _upload(page: Page, label: str, path: Path) -> None:
    page.get_by_label(label, exact=True).set_input_files(str(path))


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def test_lead_creates_a_review_imports_cases_and_shares_them(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    title = _unique("Browser test review")
    review_path = _create_review(page, title, problems)
    check_page(page, problems)
    assert _case_count(page) == 0

    # Import a good case list.
    good = _write_csv(tmp_path / "cases.csv", _case_rows(5, first=123))
    page.get_by_role("link", name="Import case list").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Import case list"
    check_page(page, problems)
    _upload(page, "Case list (CSV or Excel .xlsx)", good)
    with page.expect_navigation():
        page.get_by_role("button", name="Import cases").click()
    page.wait_for_load_state()
    assert _path(page) == review_path, page.url
    assert "Imported 5 case file(s)." in _flash(page), _flash(page)
    assert _case_count(page) == 5
    assert sorted(_column(page, "Reference")) == [f"TST-{n:06d}" for n in range(123, 128)]
    assert set(_column(page, "Reviewer")) == {"Not assigned"}
    check_page(page, problems)

    # A bad file: every problem is listed by row and column, and nothing is imported.
    bad_rows = _case_rows(5, first=500)
    bad_rows[1]["case_type"] = "Adoption support"  # spreadsheet row 3 (row 1 is the heading)
    bad_rows[2]["referral_date"] = "31/02/2026"  # spreadsheet row 4: no 31 February
    bad = _write_csv(tmp_path / "bad-cases.csv", bad_rows)
    page.get_by_role("link", name="Import case list").click()
    page.wait_for_load_state()
    _upload(page, "Case list (CSV or Excel .xlsx)", bad)
    with page.expect_navigation():
        page.get_by_role("button", name="Import cases").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Import case list"
    assert page.title().startswith("Error: "), page.title()
    rejected = page.locator("#file-problems")
    assert rejected.count() == 1, "no list of the file's problems"
    assert "nothing was imported" in rejected.inner_text()
    listed = [" ".join(t.split()) for t in rejected.locator("li").all_inner_texts()]
    assert len(listed) == 2, listed
    assert listed[0].startswith("Row 3, column case_type:"), listed
    assert "Adoption support" in listed[0], listed
    assert listed[1].startswith("Row 4, column referral_date:"), listed
    assert "31/02/2026" in listed[1], listed
    field_error = page.locator(".govuk-error-message").first.inner_text()
    assert "2 problem(s) to fix" in field_error, field_error
    check_page(page, problems)
    page.get_by_role("link", name="Back to the review").click()
    page.wait_for_load_state()
    assert _path(page) == review_path
    assert _case_count(page) == 5, "a rejected file changed the case list"
    assert not any(ref.startswith("TST-0005") for ref in _column(page, "Reference"))

    # Add reviewer1 to the team.
    team = page.locator("details").filter(has_text="Add someone to the team")
    team.locator("summary").click()
    team.get_by_role("group", name="Person").get_by_label(
        "Demo Reviewer One (reviewer1)", exact=True
    ).check()
    assert (
        team.get_by_role("group", name="Role in this review")
        .get_by_label("Reviewer", exact=True)
        .is_checked()
    )
    with page.expect_navigation():
        team.get_by_role("button", name="Add to review").click()
    page.wait_for_load_state()
    assert "Added Demo Reviewer One to the review as reviewer." in _flash(page), _flash(page)
    members = page.locator("#team ~ ul").first.locator("li").all_inner_texts()
    assert "Demo Reviewer One, reviewer" in members, members

    # Share the unassigned cases: the only reviewer gets them all.
    with page.expect_navigation():
        page.get_by_role("button", name="Share unassigned cases evenly").click()
    page.wait_for_load_state()
    assert _path(page) == review_path
    assert "Shared 5 unassigned case(s) among the reviewers." in _flash(page), _flash(page)
    assert _column(page, "Reviewer") == ["Demo Reviewer One"] * 5
    check_page(page, problems)
    assert_no_problems(problems)


def _draw_sample(page: Page, case_list: Path, size: int, seed: int, problems: list[str]) -> None:
    page.get_by_role("link", name="Draw a sample").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Draw a sample"
    check_page(page, problems)
    _upload(page, "Full list of open cases (CSV or Excel .xlsx)", case_list)
    page.get_by_label("How many cases to audit", exact=True).fill(str(size))
    page.get_by_role("group", name="Draw in proportion to").get_by_label(
        "Case type", exact=True
    ).check()
    page.get_by_label("Random seed (optional)", exact=True).fill(str(seed))
    with page.expect_navigation():
        page.get_by_role("button", name="Draw the sample").click()
    page.wait_for_load_state()


def test_lead_draws_a_reproducible_sample(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    problems: list[str] = []
    population = _write_csv(tmp_path / "open-cases.csv", _case_rows(30, first=200100))
    sign_in(page, live_server, "lead")

    samples = []
    for attempt in (1, 2):
        review_path = _create_review(page, _unique(f"Sampled review {attempt}"), problems)
        _draw_sample(page, population, size=10, seed=42, problems=problems)
        assert _path(page) == review_path, f"drawing the sample went to {page.url}"
        assert "Drew 10 of 30 cases with seed 42." in _flash(page), _flash(page)
        assert _case_count(page) == 10
        references = _column(page, "Reference")
        assert len(set(references)) == 10, references
        assert all(re.fullmatch(r"TST-2001\d\d", ref) for ref in references), references
        # In proportion to case type: 30 cases, 5 of each of 6 types, so 1 or 2 of each.
        types = _column(page, "Case type")
        assert len(set(types)) >= 5, types
        assert max(types.count(t) for t in set(types)) <= 2, types
        note = page.get_by_text(re.compile(r"^Last sample: "))
        assert "10 of 30 cases, in proportion to case type, seed 42" in note.inner_text()
        check_page(page, problems)
        samples.append(sorted(references))

    assert samples[0] == samples[1], "the same list and seed drew different samples"
    assert_no_problems(problems)
