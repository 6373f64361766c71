"""A lead gets the rubric schema for an editor, then sees every problem in a faulty upload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from .conftest import LiveServer, assert_no_problems, check_page, sign_in

pytestmark = pytest.mark.browser

FAULTY = (Path(__file__).parents[1] / "data" / "rubrics" / "several-problems.yaml").read_text(
    encoding="utf-8"
)


def test_lead_downloads_the_schema_and_sees_every_problem_in_an_upload(
    page: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    page.get_by_role("link", name="Rubrics", exact=True).first.click()
    page.wait_for_load_state()
    check_page(page, problems)
    link = page.get_by_role("link", name="Download the rubric schema (JSON)")
    link.focus()
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    schema_file = download.value
    assert schema_file.suggested_filename == "rubric.schema.json"
    with open(schema_file.path(), encoding="utf-8") as handle:
        schema = json.load(handle)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "question" in schema["$defs"]

    page.get_by_role("link", name="Upload a rubric").click()
    page.wait_for_load_state()
    page.get_by_label("Rubric file (YAML)").set_input_files(
        {"name": "three-point.yaml", "mimeType": "application/yaml", "buffer": FAULTY.encode()}
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Check and upload").click()
    page.wait_for_load_state()
    check_page(page, problems)
    listed = page.locator("#rubric-problems li").all_inner_texts()
    assert len(listed) == 6, listed
    for row, fragment in [
        ("colour: red", 'colour: unknown key "colour"'),
        ("type: grde", 'unknown question type "grde"'),
        ("value: high", "scale.levels[1].value: expected a number"),
        ("good_or_better", "for example Strong and Adequate"),
        ("strength:", 'placeholder "{share}" takes no format'),
        ("strength:", 'unknown placeholder "{total}"'),
    ]:
        line = next(i for i, text in enumerate(FAULTY.splitlines(), 1) if row in text)
        assert any(text.startswith(f"line {line}:") and fragment in text for text in listed), (
            line,
            fragment,
            listed,
        )
    assert page.get_by_text("has 6 problem(s); nothing was stored").first.is_visible()
    assert_no_problems(problems)
