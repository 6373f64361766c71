"""A lead imports a bundle that does not fit its rubric: every problem listed, nothing written."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page

from .conftest import LiveServer, assert_no_problems, check_page, sign_in

pytestmark = pytest.mark.browser

DEMO_TITLE = "Example Borough peer safeguarding health check"
LEVELS = "outstanding, good, requires_improvement, inadequate"


def test_lead_sees_every_problem_of_a_rejected_bundle(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []
    sign_in(page, live_server, "lead")
    page.get_by_role("link", name=DEMO_TITLE).click()
    page.wait_for_load_state()
    # the review's own bundle, edited as a careless sender would
    doc = json.loads(page.request.get(page.url + "/bundle").body())
    moderated = {m["audit_id"] for m in doc["moderation"] if m["question_id"]}
    grade = next(
        (i, j)
        for i, audit in enumerate(doc["audits"])
        for j, answer in enumerate(audit["answers"])
        if answer["question_id"] == "overall_grade"
        and answer["value"] == "good"
        and audit["id"] not in moderated
    )
    doc["audits"][grade[0]]["answers"][grade[1]]["value"] = "excellent"
    doc["findings"][0]["kind"] = "weakness"
    page.goto(f"{live_server.url}/reviews")
    page.get_by_role("link", name="Import a review bundle").click()
    page.wait_for_load_state()
    check_page(page, problems)
    page.get_by_label("Review bundle (.json)").set_input_files(
        files=[
            {
                "name": "edited.case-audit.json",
                "mimeType": "application/json",
                "buffer": json.dumps(doc).encode(),
            }
        ]
    )
    # keyboard only from here: the button is reached with Tab and pressed with Enter
    page.get_by_label("Review bundle (.json)").focus()
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator("#bundle-problems")
    assert "The bundle was rejected: nothing was imported" in summary.inner_text()
    listed = summary.locator("li").all_inner_texts()
    assert listed == [
        f'audits[{grade[0]}].answers[{grade[1]}].value: "excellent" is not a level of the scale'
        f" ({LEVELS})",
        'findings[0].kind: "weakness" is not one of the allowed values (strength, development)',
    ]
    assert page.title().startswith("Error: ")
    check_page(page, problems)
    assert_no_problems(problems)
