"""The result of a post is shown where the person was (audit/views/place.py), and only once."""

from __future__ import annotations

import re
from typing import Any

from audit.data import actions
from audit.data import findings as finding_data
from audit.views import place
from tests.helpers import make_review


def _banners(html: str) -> list[tuple[str | None, str]]:
    """Return each notification banner on a page as (its id, its text)."""
    found = []
    for match in re.finditer(
        r'<div class="govuk-notification-banner([^"]*)"([^>]*)>(.*?)\n</div>', html, re.S
    ):
        attrs = match.group(2)
        ident = re.search(r'\bid="([^"]+)"', attrs)
        text = " ".join(re.sub(r"<[^>]+>", " ", match.group(3)).split())
        found.append((ident.group(1) if ident else None, text))
    return found


def test_a_result_sent_to_a_place_is_shown_there_and_named_by_the_fragment(
    client: Any, auth: Any, db: Any, people: dict
) -> None:
    review, _cases = make_review(db, people)
    auth.sign_in("lead")
    findings_url = f"/reviews/{review.id}/findings"
    token = auth.token(findings_url)
    saved = client.post(
        f"{findings_url}/summary", data={"summary": "Practice is safe.", "csrf_token": token}
    )
    # The fragment names the banner itself: Chromium focuses a fragment's target that can take
    # focus (the banner can), but takes focus away from the page for one that cannot.
    assert saved.headers["Location"] == f"{findings_url}#executive-summary-result"
    page = client.get(findings_url).text
    assert _banners(page) == [("executive-summary-result", "Success Executive summary saved.")]
    # Under the section's heading, not at the top of the page.
    assert page.index('id="executive-summary"') < page.index('id="executive-summary-result"')
    assert page.index("<h1") < page.index('id="executive-summary"')
    # Shown once: a reload has no banner.
    assert _banners(client.get(findings_url).text) == []


def test_a_place_the_page_lacks_falls_back_to_the_top(
    client: Any, auth: Any, db: Any, people: dict
) -> None:
    review, _cases = make_review(db, people)
    finding = finding_data.add_own(
        db,
        review.id,
        kind="development",
        text="Plans drift.",
        question_ids=[],
        evidence={},
        by=None,
    )
    auth.sign_in("lead")
    findings_url = f"/reviews/{review.id}/findings"
    token = auth.token(findings_url)
    # A made-up place (as a tampered form could ask for) is kept only if it is an id we make;
    # a finding's id that no longer exists on the page leaves the banner at the top.
    rejected = client.post(
        f"{findings_url}/{finding}/reject", data={"csrf_token": token, "place": "finding-gone"}
    )
    assert rejected.headers["Location"].endswith("#finding-gone-result")
    page = client.get(findings_url).text
    banners = _banners(page)
    assert [text for _id, text in banners] == [
        "Success Finding rejected. It is under Rejected, at the foot of the page."
    ]
    assert banners[0][0] is None  # the top of the page's banner has no place id
    odd = client.post(
        f"{findings_url}/{finding}/accept",
        data={"csrf_token": token, "place": '"><script>alert(1)</script>'},
    )
    assert odd.headers["Location"].endswith(f"#finding-{finding}-result")


def test_refusals_are_placed_too_and_nothing_is_lost(
    client: Any, auth: Any, db: Any, people: dict
) -> None:
    review, _cases = make_review(db, people)
    finding = finding_data.add_own(
        db,
        review.id,
        kind="development",
        text="Plans drift.",
        question_ids=[],
        evidence={},
        by=None,
    )
    auth.sign_in("lead")
    findings_url = f"/reviews/{review.id}/findings"
    token = auth.token(findings_url)
    client.post(f"{findings_url}/{finding}/reword", data={"csrf_token": token, "text": " "})
    page = client.get(findings_url).text
    assert _banners(page) == [
        (f"finding-{finding}-result", "Not done A finding needs some words: nothing was changed.")
    ]


def test_an_impossible_due_date_is_refused_not_dropped(
    client: Any, auth: Any, db: Any, people: dict
) -> None:
    review, _cases = make_review(db, people)
    finding = finding_data.add_own(
        db,
        review.id,
        kind="development",
        text="Plans drift.",
        question_ids=[],
        evidence={},
        by=None,
    )
    action = actions.add(
        db,
        review.id,
        finding_id=finding,
        what="Audit plans",
        owner="",
        due_date="2027-01-31",
        by=None,
    )
    auth.sign_in("lead")
    url = f"/reviews/{review.id}/actions/{action}"
    page = client.get(url).text
    # The saved date is shown back as it is typed, as the hint asks.
    assert 'value="31/01/2027"' in page
    token = auth.token(url)
    form = {"csrf_token": token, "what": "Audit plans", "status": "not_started", "owner": ""}
    refused = client.post(url, data={**form, "due_date": "31/13/2027"})
    assert refused.status_code == 200 and "Enter the due date as 31/1/2027" in refused.text
    assert actions.get(db, review.id, action)["due_date"] == "2027-01-31"
    saved = client.post(url, data={**form, "due_date": "28/2/2027"})
    assert saved.status_code == 302
    assert actions.get(db, review.id, action)["due_date"] == "2027-02-28"


def test_anchor_and_at_make_only_safe_ids() -> None:
    assert place.anchor("section:plan quality") == "section-plan-quality"
    assert place.at("/x", "finding-1") == "/x#finding-1"
    assert place.at("/x", "bad id") == "/x"
    assert place.at("/x", None) == "/x"
