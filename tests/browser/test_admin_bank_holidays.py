"""An admin sets the nation whose bank holidays working days skip, and adds a closure day."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .conftest import LiveServer, assert_no_problems, check_page, sign_in

pytestmark = pytest.mark.browser


def _choose_nation_by_keyboard(page: Page, label: str) -> None:
    """Pick a nation's radio and save with the keyboard only, as a keyboard user would."""
    page.get_by_label(label, exact=True).focus()
    page.keyboard.press("Space")
    assert page.get_by_label(label, exact=True).is_checked()
    page.get_by_role("button", name="Save nation").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_admin_chooses_scotland_then_adds_and_removes_a_closure_day(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "admin")
    page.get_by_role("link", name="Bank holidays").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Bank holidays"
    assert page.get_by_label("England and Wales", exact=True).is_checked()
    check_page(page, problems)

    try:
        _choose_nation_by_keyboard(page, "Scotland")
        assert page.get_by_text("Working days now skip the bank holidays of Scotland.").is_visible()
        assert page.get_by_label("Scotland", exact=True).is_checked()
        assert page.get_by_role("heading", name="Scotland, around this year").is_visible()
        assert page.get_by_text("Saint Andrew's Day").first.is_visible()
        check_page(page, problems)

        page.get_by_label("Date", exact=True).fill("7/8/2031")
        page.get_by_label("Name", exact=True).fill("Local closure day")
        page.get_by_role("button", name="Add day").press("Enter")
        page.wait_for_load_state()
        assert page.get_by_text("Added 7 August 2031").is_visible()
        assert page.get_by_role("cell", name="Local closure day").is_visible()
        check_page(page, problems)
        page.get_by_role("button", name="Remove 7 August 2031").click()
        page.wait_for_load_state()
        assert page.get_by_role("cell", name="Local closure day").count() == 0
    finally:
        # The server is shared with this worker's other browser tests: put England back.
        page.goto("/admin/bank-holidays")
        _choose_nation_by_keyboard(page, "England and Wales")
    assert page.get_by_text("now skip the bank holidays of England and Wales").is_visible()
    check_page(page, problems)
    assert_no_problems(problems)
