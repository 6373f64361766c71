"""Scoring a case: drafts, submission checks, access, conflicts, escalating unsafe children."""

from __future__ import annotations

import re

import pytest

from audit import scoring
from audit.data import audits
from audit.data import reviews as review_data
from audit.scoring import Answer
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import full_answers, health_check, make_review


@pytest.fixture
def setup(db, people):  # type: ignore[no-untyped-def]
    review, case_ids = make_review(db, people)
    return review, case_ids


def _open(client, review, case_id):  # type: ignore[no-untyped-def]
    """Start (or reopen) the reviewer's audit of a case; return the audit page URL."""
    page = client.get(f"/reviews/{review.id}")
    response = client.post(
        f"/reviews/{review.id}/cases/{case_id}/audit", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    return response.headers["Location"]


def _post(client, url, data, action="save", follow=False):  # type: ignore[no-untyped-def]
    page = client.get(url).text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    payload = {"csrf_token": csrf_token(page), "version": version, "action": action, **data}
    return client.post(url, data=payload, follow_redirects=follow)


# --------------------------------------------------------------------------- domain rules


def test_applies_to_filters_questions_by_case_type() -> None:
    rubric = health_check()
    cp = {q.id for _, qs in scoring.applicable(rubric, "cp") for q in qs}
    early = {q.id for _, qs in scoring.applicable(rubric, "early_help") for q in qs}
    assert "cp_plan_expectations" in cp
    assert "cp_plan_expectations" not in early
    assert "plan_grade" not in early  # the plans section does not apply to early help
    assert "child_safeguarded" in cp and "child_safeguarded" in early


def test_submission_check_lists_missing_answers_and_evidence() -> None:
    rubric = health_check()
    answers = {"child_safeguarded": Answer("no"), "safeguarding_grade": Answer("inadequate")}
    problems = scoring.check_submission(rubric, "cp", answers, sections_na=set())
    fields = [p.field for p in problems]
    assert "evidence-child_safeguarded" in fields  # "no" needs evidence
    assert "evidence-safeguarding_grade" in fields  # below good needs evidence
    assert "answer-risks_identified" in fields
    assert "answer-overall_summary" not in fields  # optional
    # a non-compulsory section marked not applicable needs nothing
    form = full_answers(rubric, "cp")
    done = {
        k.removeprefix("answer-"): Answer(v, evidence=form.get("evidence-" + k[7:], ""))
        for k, v in form.items()
        if k.startswith("answer-")
    }
    without_plans = {k: v for k, v in done.items() if rubric.section_of(k).id != "plans"}
    assert scoring.check_submission(rubric, "cp", without_plans, sections_na={"plans"}) == []
    compulsory = scoring.check_submission(rubric, "cp", without_plans, sections_na={"safeguarding"})
    assert any("must be completed" in p.message for p in compulsory)


def test_adverse_critical_answer_is_detected() -> None:
    rubric = health_check()
    assert [q.id for q in scoring.adverse(rubric, "cp", {"child_safeguarded": Answer("no")})] == [
        "child_safeguarded"
    ]
    assert scoring.adverse(rubric, "cp", {"child_safeguarded": Answer("yes")}) == []


def test_section_progress_statuses() -> None:
    rubric = health_check()
    status = scoring.progress(
        rubric, "cp", {"child_safeguarded": Answer("yes")}, sections_na={"plans"}
    )
    assert status["safeguarding"] == scoring.IN_PROGRESS
    assert status["plans"] == scoring.SECTION_NOT_APPLICABLE
    assert status["assessment"] == scoring.NOT_STARTED


# --------------------------------------------------------------------------- pages


def test_draft_round_trip_shows_exactly_what_was_saved(client, auth, db, people, setup) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    response = _post(
        client,
        url,
        {
            "answer-risks_identified": "yes",
            "evidence-risks_identified": "Risks named in the latest assessment <b>bold</b>",
            "answer-safeguarding_grade": "requires_improvement",
            "section-na-plans": "y",
            "feedback_given": "yes",
            "feedback_response": "Worker agreed to update the chronology.",
        },
    )
    assert response.status_code == 302
    page = client.get(url).text
    checked = re.findall(r'<input[^>]*name="answer-risks_identified"[^>]*>', page)
    assert [tag for tag in checked if "checked" in tag] == [
        tag for tag in checked if 'value="yes"' in tag
    ]
    assert "Risks named in the latest assessment &lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page
    saved = audits.get(db, url.rsplit("/", 1)[1])
    assert saved.answers["safeguarding_grade"].value == "requires_improvement"
    assert saved.sections_na == {"plans"}
    assert saved.feedback["feedback_response"] == "Worker agreed to update the chronology."
    assert saved.status == "draft" and saved.version == 2
    # clearing an answer removes it
    _post(client, url, {"answer-safeguarding_grade": ""})
    assert "safeguarding_grade" not in audits.get(db, saved.id).answers


def test_submit_lists_every_problem_and_keeps_the_draft(client, auth, db, setup) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    response = _post(client, url, {"answer-risks_identified": "yes"}, action="submit")
    assert response.status_code == 200
    assert "<title>Error: Audit of case" in response.text
    assert "cannot be submitted yet" in response.text
    assert 'href="#answer-child_safeguarded"' in response.text
    assert "Answer “Is the child adequately safeguarded?”" in response.text
    saved = audits.get(db, url.rsplit("/", 1)[1])
    assert saved.status == "draft"
    assert saved.answers["risks_identified"].value == "yes"


def test_complete_audit_submits_and_becomes_read_only(client, auth, db, people, setup) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    response = _post(client, url, full_answers(health_check(), "cp"), action="submit")
    assert response.status_code == 302
    # Back to the reviewer's cases, the result shown (and focused) above them.
    assert response.headers["Location"] == f"/reviews/{review.id}#my-cases-result"
    home = client.get(f"/reviews/{review.id}").text
    assert "Submitted" in home and "You have submitted 1 of 3" in home
    audit_id = url.rsplit("/", 1)[1]
    assert audits.get(db, audit_id).status == "submitted"
    record = client.get(url).text
    assert "Audit record for case" in record and 'name="answer-' not in record
    # a later post changes nothing
    token = csrf_token(client.get(f"/reviews/{review.id}").text)
    client.post(url, data={"csrf_token": token, "version": "3", "answer-risks_identified": "no"})
    assert audits.get(db, audit_id).answers["risks_identified"].value == "yes"
    # the lead reopens it; the reviewer can edit again
    auth.sign_in("lead")
    token = csrf_token(client.get(url).text)
    client.post(f"{url}/reopen", data={"csrf_token": token})
    assert audits.get(db, audit_id).status == "draft"
    auth.sign_in("reviewer")
    assert 'name="answer-risks_identified"' in client.get(url).text


def test_other_reviewers_and_other_reviews_cannot_open_the_audit(
    client, auth, db, people, setup
) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    audit_id = url.rsplit("/", 1)[1]
    auth.sign_in("other")  # in the same review, but not this audit's reviewer
    assert client.get(url).status_code == 403
    page = client.get(f"/reviews/{review.id}")
    assert (
        client.post(
            f"/reviews/{review.id}/cases/{case_ids[1]}/audit",
            data={"csrf_token": csrf_token(page.text)},
        ).status_code
        == 403
    )  # not assigned to them
    other_review, _ = make_review(db, people, title="Another review")
    auth.sign_in("reviewer")
    # the audit id under another review's URL is not found
    assert client.get(f"/reviews/{other_review.id}/audits/{audit_id}").status_code == 404
    auth.sign_in("admin")
    assert client.get(url).status_code == 200  # admins may read every audit


def test_stale_save_shows_conflict_and_never_overwrites(client, auth, db, setup) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    page = client.get(url).text
    token = csrf_token(page)
    stale = {"csrf_token": token, "version": "1", "action": "save"}
    first = client.post(url, data={**stale, "answer-risks_identified": "yes"})
    assert first.status_code == 302
    second = client.post(
        url,
        data={
            **stale,
            "answer-risks_identified": "no",
            "evidence-risks_identified": "From the other tab",
        },
    )
    assert second.status_code == 409
    assert "This audit was changed by someone else" in second.text
    assert "From the other tab" in second.text
    audit_id = url.rsplit("/", 1)[1]
    assert audits.get(db, audit_id).answers["risks_identified"].value == "yes"
    # choosing "Keep my version" posts the reviewer's answers against the new version
    resubmit = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', second.text)
    )
    assert resubmit["version"] == "2"
    kept = client.post(url, data={**resubmit, "action": "save"})
    assert kept.status_code == 302
    assert audits.get(db, audit_id).answers["risks_identified"].value == "no"


def test_critical_answer_raises_alert_on_draft_save(client, auth, db, people, setup) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    response = _post(
        client,
        url,
        {"answer-child_safeguarded": "no", "evidence-child_safeguarded": "No safety plan in place"},
    )
    assert response.status_code == 302
    assert "/escalations/" in response.headers["Location"]
    escalation_url = response.headers["Location"]
    page = client.get(escalation_url).text
    assert "Escalate case C01 today" in page
    alerts = audits.escalations(db, review.id, open_only=True)
    assert len(alerts) == 1 and alerts[0]["raised_by"] == people["reviewer"].id
    # submitting is refused while the escalation is unrecorded
    refused = _post(
        client,
        url,
        full_answers(health_check(), "cp", **{"answer-child_safeguarded": "no"}),
        action="submit",
    )
    assert refused.status_code == 200 and "Record the escalation" in refused.text
    # the lead sees the alert and cannot complete the review
    auth.sign_in("lead")
    review_page = client.get(f"/reviews/{review.id}").text
    assert "Safeguarding alert" in review_page and "C01" in review_page
    for status in ("in_progress", "moderation", "complete"):
        try:
            review_data.set_status(db, review.id, status, by=people["lead"].id)
        except review_data.OpenAlerts:
            assert status == "complete"
    assert review_data.get(db, review.id).status == "moderation"
    # the reviewer records the escalation; the alert clears
    auth.sign_in("reviewer")
    page = client.get(escalation_url).text
    client.post(
        escalation_url,
        data={
            "csrf_token": csrf_token(page),
            "told_who": "Team manager, Team A",
            "told_at": "27/10/2026 14:30",
            "agreed_action": "Strategy discussion today",
        },
    )
    assert audits.escalations(db, review.id, open_only=True) == []
    review_data.set_status(db, review.id, "complete", by=people["lead"].id)
    kept = audits.escalations(db, review.id)[0]
    assert (
        kept["told_who"] == "Team manager, Team A" and kept["recorded_by"] == people["reviewer"].id
    )


def test_changing_an_adverse_answer_withdraws_the_unrecorded_alert(client, auth, db, setup) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    _post(client, url, {"answer-child_safeguarded": "no", "evidence-child_safeguarded": "x"})
    _post(client, url, {"answer-child_safeguarded": "yes"})
    history = audits.escalations(db, review.id)
    assert len(history) == 1 and history[0]["withdrawn_at"] is not None
    assert audits.escalations(db, review.id, open_only=True) == []


def test_case_action_from_feedback_is_listed_for_the_lead(client, auth, setup) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    _post(
        client,
        url,
        {
            "action_what": "Update the chronology",
            "action_owner": "Team manager",
            "action_due": "10/11/2026",
        },
    )
    auth.sign_in("lead")
    page = client.get(f"/reviews/{review.id}").text
    assert "Case actions to follow up" in page and "Update the chronology" in page


def test_expired_sign_in_keeps_what_the_reviewer_typed(client, auth, db, app, setup) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    page = client.get(url).text
    token = csrf_token(page)
    # The sign-in runs out while they type: the session has been idle for two hours.
    db.execute("UPDATE auth_session SET last_seen_at = '2000-01-01T00:00:00Z'")
    typed = {
        "csrf_token": token,
        "version": "1",
        "action": "save",
        "answer-risks_identified": "no",
        "evidence-risks_identified": "Typed for two hours",
    }
    response = client.post(url, data=typed, headers={"Origin": "http://localhost"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    assert audits.get(db, url.rsplit("/", 1)[1]).answers == {}  # nothing saved yet
    sign_in_url = response.headers["Location"]
    page = client.get(sign_in_url).text
    assert "what you typed has been kept" in page
    signed_in = client.post(sign_in_url, data={
        "username": "reviewer", "password": PASSWORD, "csrf_token": csrf_token(page)})
    restored_url = signed_in.headers["Location"]
    assert "restore=" in restored_url
    restored = client.get(restored_url).text
    assert "Not saved yet" in restored and "Typed for two hours" in restored
    resave = client.post(
        url,
        data={
            **dict(
                re.findall(r'name="(csrf_token|version)" type="hidden" value="([^"]*)"', restored)
            ),
            "action": "save",
            "answer-risks_identified": "no",
            "evidence-risks_identified": "Typed for two hours",
        },
    )
    assert resave.status_code == 302
    saved = audits.get(db, url.rsplit("/", 1)[1])
    assert saved.answers["risks_identified"].evidence == "Typed for two hours"
    assert db.execute("SELECT count(*) FROM pending_save").fetchone()[0] == 0


def test_kept_work_is_only_the_reviewers_own_form_and_bounded(client, auth, db, setup) -> None:  # type: ignore[no-untyped-def]
    from audit.data import pending

    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    db.execute("UPDATE auth_session SET last_seen_at = '2000-01-01T00:00:00Z'")
    origin = {"Origin": "http://localhost"}
    stale = {"csrf_token": "stale", "version": "1", "action": "save"}
    junk = {"evidence-risks_identified": "Kept", "not_a_field": "x" * 100_000}
    first = client.post(url, data={**stale, **junk}, headers=origin)
    assert first.headers["Location"].startswith("/sign-in?next=")
    (form,) = db.execute("SELECT form FROM pending_save").fetchone()
    assert "Kept" in form and "not_a_field" not in form and "stale" not in form
    # Too large for any real scoring form: not kept, and the CSRF check refuses the post.
    huge = {"evidence-risks_identified": "y" * (pending.MAX_CHARS + 1)}
    assert client.post(url, data={**stale, **huge}, headers=origin).status_code == 400
    # However often it is posted, an audit keeps at most PER_AUDIT forms.
    for _ in range(pending.PER_AUDIT + 2):
        client.post(url, data={**stale, "evidence-risks_identified": "again"}, headers=origin)
    kept = db.execute("SELECT count(*) FROM pending_save").fetchone()[0]
    assert kept == pending.PER_AUDIT


def test_a_post_without_a_session_that_ran_out_is_never_kept(client, auth, db, setup) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    client.delete_cookie("session")  # no cookie: nothing proves whose post this is
    response = client.post(
        url,
        data={"csrf_token": "stale", "version": "1", "evidence-risks_identified": "Anyone"},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 400
    assert db.execute("SELECT count(*) FROM pending_save").fetchone()[0] == 0


def test_cross_site_post_is_never_kept(client, auth, db, setup) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = setup
    auth.sign_in("reviewer")
    url = _open(client, review, case_ids[0])
    response = client.post(
        url,
        data={"answer-risks_identified": "no", "version": "1"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 400
    assert db.execute("SELECT count(*) FROM pending_save").fetchone()[0] == 0
