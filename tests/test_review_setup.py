"""Creating a review and adding members: the rules the pages and the command line share."""

from __future__ import annotations

import pytest

from audit import review_setup
from audit.data import reviews, users
from tests.conftest import csrf_token
from tests.helpers import health_check, make_review


def _form(token: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "title": "Spring peer review",
        "host_organisation": "Testshire Council",
        "kind": "peer_review",
        "start_date": "",
        "end_date": "",
        "rubric": f"{health_check().id}@{health_check().version}",
        "programme": "",
    }
    return {**data, **changes}


def test_new_review_page_refuses_unreal_and_reversed_dates(client, auth, db, people) -> None:  # type: ignore[no-untyped-def]
    auth.sign_in("lead")
    token = csrf_token(client.get("/reviews/new").text)
    unreal = client.post("/reviews/new", data=_form(token, start_date="31/02/2027"))
    assert "Enter real dates, for example 27/10/2026" in unreal.text
    reversed_ = client.post(
        "/reviews/new", data=_form(token, start_date="10/3/2027", end_date="1/3/2027")
    )
    assert "The end date must be on or after the start date" in reversed_.text
    assert reviews.all_reviews(db) == []
    made = client.post("/reviews/new", data=_form(token, start_date="1/3/2027"))
    assert made.status_code == 302
    (review,) = reviews.all_reviews(db)
    assert review.start_date == "2027-03-01"
    assert reviews.membership(db, review.id, people["lead"].id) == "lead"


def test_a_reviewer_account_asked_to_lead_joins_as_reviewer_on_the_page(
    client, auth, db, people
) -> None:  # type: ignore[no-untyped-def]
    review, _ = make_review(db, people)
    spare = users.create(db, "spare", "long-enough-password", "reviewer", display_name="Spare One")
    auth.sign_in("lead")
    token = auth.token(f"/reviews/{review.id}")
    page = client.post(
        f"/reviews/{review.id}/members",
        data={"csrf_token": token, "user": str(spare.id), "role": "lead"},
        follow_redirects=True,
    )
    assert "Spare One has a reviewer account, so joins as a reviewer." in page.text
    assert reviews.membership(db, review.id, spare.id) == "reviewer"
    users.set_active(db, spare.id, False, by=None)
    refused = client.post(
        f"/reviews/{review.id}/members",
        data={"csrf_token": token, "user": str(spare.id), "role": "reviewer"},
    )
    assert refused.status_code == 400


def test_domain_rules_name_the_field_they_refuse(db, people) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ({"title": " "}, "title"),
        ({"host_organisation": ""}, "host_organisation"),
        ({"kind": "audit"}, "kind"),
        ({"start": "2027-13-01"}, "start_date"),
        ({"end": "nope"}, "end_date"),
        ({"start": "2027-03-02", "end": "2027-03-01"}, "end_date"),
        ({"programme_id": "missing"}, "programme"),
    ]
    for changes, field in cases:
        arguments = {
            "title": "T",
            "host_organisation": "H",
            "kind": "thematic",
            "rubric": health_check(),
            **changes,
        }
        with pytest.raises(review_setup.SetupProblem) as caught:
            review_setup.new_review(db, **arguments)
        assert caught.value.field == field, changes
    assert reviews.all_reviews(db) == []
    review, _ = make_review(db, people)
    with pytest.raises(review_setup.SetupProblem, match="role must be one of lead, reviewer"):
        review_setup.add_member(db, review.id, people["admin"], "owner")
    added = review_setup.add_member(db, review.id, people["admin"], "lead")
    assert (added.role, added.note) == ("lead", None)
