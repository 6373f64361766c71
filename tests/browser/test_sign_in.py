"""First journey in a real browser: sign in, find the demo review, open it, sign out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from .conftest import (
    LiveServer,
    assert_accessible,
    assert_no_console_errors,
    assert_no_problems,
    check_page,
    sign_in,
)

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"
DEMO_RUBRIC = "Peer safeguarding health check"
DEMO_CASES = 40
WRONG_PASSWORD_MESSAGE = "The username or password is not right"


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def _focused(page: Page) -> dict:
    """What has keyboard focus: enough to say where we are without touching anything."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            return {
                tag: el ? el.tagName.toLowerCase() : null,
                id: el ? el.id : null,
                name: el ? el.getAttribute('name') : null,
                text: el ? (el.innerText || el.value || '').trim() : null,
            };
        }"""
    )


def test_sign_in_page_checks(page: Page, live_server: LiveServer) -> None:
    page.goto("/sign-in")
    problems: list[str] = []
    check_page(page, problems)
    assert_no_problems(problems)


def test_lead_signs_in_and_opens_the_demo_review(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []  # page checks, reported together at the end
    sign_in(page, live_server, "lead")
    assert _path(page) == "/reviews", f"after signing in the lead landed on {page.url}"
    check_page(page, problems)
    assert page.get_by_role("heading", level=1).inner_text() == "Reviews"
    assert page.get_by_text("Signed in as Demo Lead Reviewer (lead)").is_visible()

    page.get_by_role("link", name=DEMO_TITLE).click()
    page.wait_for_load_state()
    assert re.fullmatch(r"/reviews/[^/]+", _path(page)), page.url
    check_page(page, problems)
    assert page.get_by_role("heading", level=1).inner_text() == DEMO_TITLE

    table = page.get_by_role("table").filter(has_text="case files in the sample")
    assert table.locator("caption").inner_text() == f"{DEMO_CASES} case files in the sample"
    rows = table.locator("tbody tr")
    assert rows.count() == DEMO_CASES
    pseudonyms = rows.locator("td:first-child").all_inner_texts()
    assert pseudonyms == [f"C{n:02d}" for n in range(1, DEMO_CASES + 1)]

    rubric_row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text="Rubric")
    )
    assert DEMO_RUBRIC in rubric_row.locator(".govuk-summary-list__value").inner_text()

    page.get_by_role("link", name="Rubrics", exact=True).click()
    page.wait_for_load_state()
    assert _path(page) == "/rubrics/", page.url
    check_page(page, problems)

    page.get_by_role("link", name=DEMO_RUBRIC, exact=True).click()
    page.wait_for_load_state()
    assert re.fullmatch(r"/rubrics/peer-safeguarding-health-check/[^/]+", _path(page)), page.url
    check_page(page, problems)
    assert page.get_by_role("heading", level=1).inner_text() == DEMO_RUBRIC
    assert_no_problems(problems)


def test_admin_users_page(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "admin")
    check_page(page, problems)
    page.get_by_role("link", name="Users", exact=True).click()
    page.wait_for_load_state()
    assert _path(page) == "/admin/users", page.url
    check_page(page, problems)
    for username in live_server.credentials:
        assert page.get_by_role("cell", name=username, exact=True).count() >= 1, username
    assert_no_problems(problems)


def test_skip_link_is_the_first_tab_stop(page: Page, live_server: LiveServer) -> None:
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    first = _focused(page)
    assert first["tag"] == "a" and first["text"] == "Skip to main content", first
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id")
    assert _focused(page)["id"] == "main-content"
    assert_no_console_errors(page)


def test_keyboard_only_sign_in(page: Page, live_server: LiveServer) -> None:
    page.goto("/sign-in")
    for _ in range(15):
        page.keyboard.press("Tab")
        if _focused(page)["name"] == "username":
            break
    else:
        pytest.fail(f"15 presses of Tab never reached the Username field: {_focused(page)}")
    page.keyboard.type("lead")
    page.keyboard.press("Tab")
    assert _focused(page)["name"] == "password", _focused(page)
    page.keyboard.type(live_server.credentials["lead"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert _path(page) == "/reviews", page.url
    assert page.get_by_text("Signed in as Demo Lead Reviewer (lead)").is_visible()
    assert_no_console_errors(page)


@pytest.mark.parametrize("username", ["lead", "nobody-of-that-name"])
def test_wrong_password_gives_an_error_without_saying_who_exists(
    page: Page, live_server: LiveServer, username: str
) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill("not-the-password-at-all")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

    assert _path(page).startswith("/sign-in"), page.url
    assert page.title().startswith("Error: "), page.title()
    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 1
    assert "There is a problem" in summary.inner_text()
    # The same words whether or not the account exists: nothing to tell the two apart.
    messages = summary.locator(".govuk-error-summary__list li").all_inner_texts()
    assert messages == [WRONG_PASSWORD_MESSAGE], messages
    field_errors = [
        " ".join(t.split()) for t in page.locator(".govuk-error-message").all_inner_texts()
    ]
    assert field_errors == [f"Error: {WRONG_PASSWORD_MESSAGE}"], field_errors
    body = page.locator("body").inner_text().lower()
    for hint in ("not found", "no such", "unknown user", "does not exist", "doesn't exist"):
        assert hint not in body, f"the page hints whether {username!r} exists: {hint!r}"
    assert page.get_by_label("Password", exact=True).input_value() == ""
    assert_no_console_errors(page)
    assert_accessible(page)


def test_sign_out(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server, "reviewer1")
    assert _path(page) == "/reviews", page.url
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert _path(page).startswith("/sign-in"), page.url
    assert page.get_by_text("You have signed out.").is_visible()
    assert page.get_by_role("button", name="Sign out").count() == 0
    assert_no_console_errors(page)

    page.goto("/reviews")
    assert _path(page).startswith("/sign-in"), f"/reviews after signing out showed {page.url}"
    assert page.get_by_label("Username", exact=True).is_visible()
    assert_no_console_errors(page)
