"""A lead uploads files that break a limit: each page names the limit, nothing is stored.

The refusal pages are the upload pages themselves, with the error summary listing why. They
are checked with axe, driven by the keyboard, and photographed at 1280 and 375 px (into the
test's temporary folder, to look at) to see that a long message wraps instead of
scrolling sideways.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from .conftest import LiveServer, assert_no_problems, check_page, sign_in

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"


def _upload(page: Page, label: str, name: str, data: bytes) -> None:
    page.get_by_label(label).set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}]
    )
    page.get_by_label(label).focus()
    page.keyboard.press("Tab")  # to the button, then Enter: keyboard only
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width  # type: ignore[index]


def _photograph(page: Page, folder: Path, name: str) -> None:
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        _no_sideways_scroll(page)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_refusal_pages_name_the_limit(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")

    # A case list with a row far too wide for any case list.
    page.get_by_role("link", name=DEMO_TITLE).click()
    page.wait_for_load_state()
    review_url = page.url
    page.goto(f"{review_url}/cases/import")
    wide = b"reference,case_type\nA1,cp" + b",x" * 5_000 + b"\n"
    _upload(page, "Case list (CSV or Excel .xlsx)", "wide.csv", wide)
    body = page.locator("main").inner_text()
    assert "the limit for a case list is 256 columns" in body
    assert "CASE_LIST_COLUMNS" in body
    assert page.title().startswith("Error: ")
    check_page(page, problems)
    _photograph(page, tmp_path, "case-list-refused")

    # A bundle nested 100,000 deep (once a 500): the import page names the depth limit.
    page.goto(f"{live_server.url}/reviews/import")
    _upload(page, "Review bundle (.json)", "deep.case-audit.json", b"[" * 100_000 + b"]" * 100_000)
    summary = page.locator("#bundle-problems").inner_text()
    assert "The bundle was rejected: nothing was imported" in summary
    assert "the limit for a review bundle is 32 levels" in summary
    check_page(page, problems)
    _photograph(page, tmp_path, "bundle-refused")

    # A rubric that is a "billion laughs" of YAML aliases.
    laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
    )
    page.goto(f"{live_server.url}/rubrics/upload")
    _upload(page, "Rubric file (YAML)", "laughs.yaml", laughs.encode())
    assert "the limit for a rubric is 100,000 values" in page.locator("main").inner_text()
    check_page(page, problems)
    _photograph(page, tmp_path, "rubric-refused")
    assert json.dumps(sorted(p.name for p in tmp_path.iterdir())).count("png") == 6
    assert_no_problems(problems)
