"""The lead keeps the programme's learning themes and tags with them, keyboard only.

In the demo's monthly programme the lead adds a theme, renames it, retires another, tags an
area for development of October's review and an evidence note of one of its audits with the
new theme, then reads the theme page: the new theme is counted in October's column, with
the finding's action linked. Every page: axe clean, one h1, no console errors.

Everything is read from what the pages show, never from the demo's exact numbers.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from .conftest import LiveServer, assert_no_problems, check_page, sign_in
from .test_collaborative_audit import _enter, _tab_to

pytestmark = pytest.mark.browser

PROGRAMME = "Monthly practice audit"
OCTOBER = f"{PROGRAMME}, October 2026"
ADDED = "Timeliness of vists"  # typed with a slip, then renamed
THEME = "Timeliness of visits"
RETIRED = "Contingency planning"


def _link(page: Page, text: str) -> None:
    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == text, f"the link {text!r}")
    _enter(page)


def _button(page: Page, text: str) -> None:
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == text, f"the button {text!r}")
    _enter(page)


def _flash(page: Page) -> str:
    return " ".join(" ".join(page.locator(".govuk-notification-banner").all_inner_texts()).split())


def _themes_page(page: Page, problems: list[str]) -> None:
    """From anywhere: Programmes, the monthly programme, Learning themes."""
    page.goto("/reviews")  # the start page after signing in; all else by keyboard
    _link(page, "Programmes")
    _link(page, PROGRAMME)
    _link(page, "Learning themes")
    check_page(page, problems)


def test_lead_keeps_themes_tags_a_finding_and_notes_and_reads_the_theme_page(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    _themes_page(page, problems)
    assert page.get_by_role("heading", level=1).inner_text() == "Learning themes"

    # Add a theme (an empty name first: the error is announced and linked).
    _button(page, "Add theme")
    assert page.title().startswith("Error: ")
    assert "Enter the theme's name" in page.locator(".govuk-error-summary").inner_text()
    check_page(page, problems)
    # The failed add is on the list's own address: loading it again shows the add form.
    page.goto(page.url)
    assert page.get_by_role("heading", name="Add a theme").count() == 1
    _tab_to(page, lambda f: f["name"] == "name", "the theme's name")
    page.keyboard.type(ADDED)
    _tab_to(page, lambda f: f["name"] == "description", "the description")
    page.keyboard.type("Visits to the child within the plan's timescales.")
    _button(page, "Add theme")
    assert f"Theme {ADDED} added." in _flash(page)

    # Rename it, keeping what is tagged with it.
    _link(page, f"Rename {ADDED}")
    check_page(page, problems)
    _tab_to(page, lambda f: f["name"] == "name", "the theme's name")
    page.keyboard.press("Control+A")
    page.keyboard.type(THEME)
    _button(page, "Save theme")
    assert "Theme saved" in _flash(page)
    listed = page.locator("#theme-list")
    assert listed.get_by_role("rowheader", name=THEME, exact=True).count() == 1

    # Retire another: kept and counted, but offered for no new tags.
    _button(page, f"Retire: {RETIRED}")
    assert f"Theme {RETIRED} retired." in _flash(page)
    row = listed.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=RETIRED, exact=True)
    )
    assert "Retired" in row.inner_text()
    check_page(page, problems)

    # Tag one of October's areas for development (they carry actions) with the new theme.
    page.goto("/reviews")
    _link(page, OCTOBER)
    _link(page, "Findings")
    development = page.locator(".app-finding", has=page.locator("h3", has_text="Actions")).first
    change = development.locator("a", has_text="Change themes")
    wanted = " ".join((change.text_content() or "").split())
    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == wanted, wanted)
    _enter(page)
    check_page(page, problems)
    assert page.get_by_text(RETIRED).count() == 0, "a retired theme is offered for new tags"
    _tab_to(page, lambda f: f["tag"] == "input" and f["label"] == THEME, f"the box {THEME}")
    page.keyboard.press("Space")
    _button(page, "Save themes")
    assert "Themes saved for the finding." in _flash(page)
    tagged = page.locator(".app-finding", has=page.locator("a", has_text=wanted)).first
    assert THEME in tagged.inner_text()
    check_page(page, problems)

    # Tag an evidence note of one of October's audits.
    page.goto("/reviews")
    _link(page, OCTOBER)
    _tab_to(page, lambda f: f["tag"] == "a" and re.fullmatch(r"C\d+", f["text"]), "a case")
    _enter(page)
    _link(page, "Tag the evidence notes with themes")
    check_page(page, problems)
    _tab_to(page, lambda f: f["tag"] == "input" and f["label"] == THEME, f"the box {THEME}")
    page.keyboard.press("Space")
    _button(page, "Save themes")
    assert "Themes saved for case" in _flash(page)
    # Back on the audit's record (October's audits are submitted): the theme beside the note.
    assert page.get_by_role("heading", level=1).inner_text().startswith("Audit record")
    assert page.locator(".app-record__themes", has_text=THEME).count() == 1
    check_page(page, problems)

    # The theme page counts the audit and the finding in October's column, with its actions.
    _themes_page(page, problems)
    table = page.locator("#theme-counts")
    headers = [" ".join(h.split()) for h in table.locator("thead th").all_inner_texts()]
    october = headers.index(OCTOBER)
    cells = table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=THEME, exact=True)
    )
    counts = cells.locator("td").all_inner_texts()
    assert re.fullmatch(r"1 of \d+ audits; 1 finding", counts[october - 1]), counts
    assert page.locator("h3", has_text=THEME).count() == 1
    # After the theme's heading, its summary and "Actions on findings with this theme": the
    # list of the tagged finding's actions, each a link.
    actions = page.locator(f"xpath=//h3[starts-with(normalize-space(), '{THEME}')]")
    listed = actions.locator("xpath=following-sibling::*[3]")
    assert listed.evaluate("el => el.tagName") == "UL", listed.inner_text()
    assert listed.locator("li a").count() >= 1
    assert "Questions whose evidence notes carry this theme" in page.inner_text("main")
    assert_no_problems(problems)
