"""The small things issue 18 found on the pages, kept fixed: tags, checkboxes, dead links."""

from __future__ import annotations

import re
from typing import Any

from audit.data import findings as finding_data
from tests.conftest import csrf_token
from tests.helpers import full_answers, health_check, make_review


def _open_audit(client: Any, auth: Any, db: Any, people: dict) -> str:
    """Start the reviewer's audit of a new review's first case; return the audit's address."""
    review, case_ids = make_review(db, people)
    auth.sign_in("reviewer")
    page = client.get(f"/reviews/{review.id}")
    started = client.post(
        f"/reviews/{review.id}/cases/{case_ids[0]}/audit",
        data={"csrf_token": csrf_token(page.text)},
    )
    assert started.status_code == 302
    return started.headers["Location"]


def _status_cells(page: str) -> dict[str, str]:
    """Return each task-list row's status as its tag: "<class>: <words>"."""
    cells = {}
    for ident, html in re.findall(
        r'<div class="govuk-task-list__status" id="status-([^"]+)">(.*?)</div>', page, re.S
    ):
        tag = re.search(r'<strong class="govuk-tag ([^"]*)">([^<]*)</strong>', html)
        cells[ident] = f"{tag.group(1)}: {tag.group(2).strip()}" if tag else html.strip()
    return cells


def test_every_section_status_is_a_tag_completed_included(
    client: Any, auth: Any, db: Any, people: dict
) -> None:
    url = _open_audit(client, auth, db, people)
    before = _status_cells(client.get(url).text)
    assert before["feedback"] == "govuk-tag--blue: Not started"
    assert set(before.values()) <= {"govuk-tag--blue: Not started"}, before

    page = client.get(url).text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    answers = full_answers(health_check(), "cp")
    data = {"csrf_token": csrf_token(page), "version": version, "feedback_given": "yes"}
    saved = client.post(url, data={**data, **answers, "place": "saved-end"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#saved-end-result")
    after = _status_cells(client.get(url).text)
    # "Completed" is a tag like "Not started", not plain text beside the others.
    assert after["feedback"] == "govuk-tag--green: Completed"
    assert after["safeguarding"] == "govuk-tag--green: Completed", after


def test_a_review_outside_a_programme_offers_no_dead_tagging_link(
    client: Any, auth: Any, db: Any, people: dict
) -> None:
    url = _open_audit(client, auth, db, people)
    page = client.get(url).text
    assert "its notes cannot be tagged" in page
    # Neither the words nor the address of the tagging page: nothing to follow to a refusal.
    assert "Tag the evidence notes with themes" not in page
    assert f'href="{url}/themes"' not in page


def test_findings_merge_choices_are_gov_uk_checkboxes(
    client: Any, auth: Any, db: Any, people: dict
) -> None:
    review, _cases = make_review(db, people)

    def add(kind: str, text: str) -> str:
        return finding_data.add_own(
            db, review.id, kind=kind, text=text, question_ids=[], evidence={}, by=None
        )

    first = add("development", "Plans drift.")
    second = add("development", "Reviews are late.")
    alone = add("strength", "Children are seen alone.")
    auth.sign_in("lead")
    page = client.get(f"/reviews/{review.id}/findings").text
    for finding in (first, second):
        box = re.search(rf'<input class="([^"]*)" id="merge-{finding}"[^>]*>', page)
        assert box and box.group(1) == "govuk-checkboxes__input", box
        assert 'form="merge-development"' in box.group(0)
        label = re.search(rf'<label class="([^"]*)" for="merge-{finding}">(.*?)</label>', page)
        assert label and "govuk-checkboxes__label" in label.group(1)
        assert label.group(2).startswith('Select for merging<span class="govuk-visually-hidden">')
    # A kind with one finding has nothing to merge it with: no box to tick.
    assert f'id="merge-{alone}"' not in page
