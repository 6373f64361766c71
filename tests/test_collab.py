"""Auditing with the practitioner and the family's view: recording, moderation, findings."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from audit import collaboration
from audit.collaboration import Conversation, FamilyFeedback, SectionView
from audit.data import audits, moderation
from audit.data import conversations as conversation_data
from audit.data import reviews as review_data
from audit.stats import clustered_share, wilson
from tests.conftest import Auth, csrf_token
from tests.helpers import full_answers, health_check, make_review

# --------------------------------------------------------------------------- domain


def _talk(audit_id: str, *agrees: bool) -> Conversation:
    return Conversation(
        audit_id=audit_id,
        held_on="2026-10-28",
        worker_role="Social worker",
        manager_role="",
        worker_name="",
        will_do_differently="",
        manager_response="",
        sections=tuple(
            SectionView(f"s{n}", f"q{n}", "good", agree, "" if agree else "View.")
            for n, agree in enumerate(agrees)
        ),
    )


def test_summary_counts_audits_grades_and_family_answers_separately() -> None:
    talks = [_talk("a1", True, True, False), _talk("a2", True), _talk("draft", False)]
    heard = [
        FamilyFeedback("a1", True, "phone", "They listened.", "yes", "partly", "not_asked", True),
        FamilyFeedback("a2", True, "visit", "", "no", "yes", "not_asked", False),
        FamilyFeedback("a3", False, "", ""),
        FamilyFeedback("draft", True, "phone", "Not counted.", "yes", "yes", "yes", True),
    ]
    summary = collaboration.summarise(["a1", "a2", "a3", "a4"], talks, heard)
    # Each share names what it counts: audits, section grades, feedback records, families.
    assert summary.conversations == replace(wilson(2, 4), unit="audits")  # not the draft's
    assert summary.feedback == replace(wilson(3, 4), unit="audits")
    assert summary.consent == replace(wilson(2, 3), unit="feedback records")
    listened, plan, better = summary.family
    asked = "families asked"
    assert listened.shares["yes"] == replace(wilson(1, 2), unit=asked)
    assert listened.shares["no"] == replace(wilson(1, 2), unit=asked)
    assert plan.shares["partly"] == replace(wilson(1, 2), unit=asked)
    # Section grades from one conversation go together: the clustered interval, wider than
    # Wilson's over four independent grades.
    agreed = summary.grades_agreed
    assert (agreed.count, agreed.n, agreed.unit) == (3, 4, "section grades")
    assert agreed == replace(clustered_share([(2, 3), (1, 1)]), unit="section grades")
    assert summary.disputed == 1
    # Where one practitioner agreed with every grade and another with none, the grades are
    # far from independent: the interval is wider than Wilson's.
    split = collaboration.summarise(
        ["a1", "a2"], [_talk("a1", True, True, True), _talk("a2", False, False, False)], []
    ).grades_agreed
    assert split.high - split.low > wilson(3, 6).high - wilson(3, 6).low
    assert better.not_asked == 2 and better.shares["yes"].n == 0
    assert summary.quotes == ("They listened.",)
    doc = summary.as_dict(with_quotes=False)
    assert "family_quotes" not in doc
    assert doc["section_grades_agreed"]["count"] == 3
    assert doc["section_grades_agreed"]["unit"] == "section grades"


def test_sections_to_discuss_are_the_graded_sections_that_apply() -> None:
    rubric = health_check()
    data = full_answers(rubric, "cp")
    grades = {k.removeprefix("answer-"): v for k, v in data.items() if k.startswith("answer-")}
    found = collaboration.sections_to_discuss(rubric, "cp", {"plans"}, grades)
    ids = [section.id for section, _grade in found]
    assert "safeguarding" in ids and "plans" not in ids
    assert all(grade == "good" for _section, grade in found)
    assert all(section.grade_question for section, _grade in found)


def test_family_feedback_without_consent_keeps_nothing_the_family_said() -> None:
    asked = {key: "not_asked" for key, _ in collaboration.FAMILY_QUESTIONS}
    problems = collaboration.check_family_feedback(
        consent="no", contact_method="", family_said="They said it helped.", answers=asked
    )
    assert [p.field for p in problems] == ["consent"]
    assert not collaboration.check_family_feedback(
        consent="no", contact_method="", family_said="", answers=asked
    )
    problems = collaboration.check_family_feedback(
        consent="yes", contact_method="", family_said="", answers=asked | {"knows_plan": "maybe"}
    )
    assert [p.field for p in problems] == ["contact_method", "knows_plan"]


def test_a_disagreement_needs_the_practitioners_view() -> None:
    problems = collaboration.check_conversation(
        held_on=None,
        worker_role="",
        agreements={"plans": ("no", " "), "voice": (None, "")},
        titles={"plans": "Plans", "voice": "Voice of the child"},
    )
    assert [p.field for p in problems] == ["held_on", "worker_role", "view-plans", "agrees-voice"]
    assert "Plans" in problems[2].message
    later = collaboration.check_conversation(
        held_on="2026-11-02",
        worker_role="Social worker",
        agreements={},
        titles={},
        today="2026-11-01",
    )
    assert [p.message for p in later] == ["The conversation date must be today or earlier"]
    assert not collaboration.check_conversation(
        held_on="2026-11-01",
        worker_role="Social worker",
        agreements={},
        titles={},
        today="2026-11-01",
    )


# --------------------------------------------------------------------------- the journey


@pytest.fixture
def setup(app, db, people):  # type: ignore[no-untyped-def]
    review, case_ids = make_review(db, people)
    return review, case_ids


def _submit(client, db, review, case_id):  # type: ignore[no-untyped-def]
    """Start and submit the reviewer's audit of a case through the web; return the response."""
    page = client.get(f"/reviews/{review.id}")
    start = client.post(
        f"/reviews/{review.id}/cases/{case_id}/audit", data={"csrf_token": csrf_token(page.text)}
    )
    url = start.headers["Location"]
    page = client.get(url).text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    case_type = review_data.case_file(db, case_id, review.id)["case_type"]
    data = full_answers(review.rubric, case_type, feedback_given="yes", feedback_date="28/10/2026")
    data["feedback_response"] = "Discussed."
    return client.post(
        url,
        data={"csrf_token": csrf_token(page), "version": version, "action": "submit", **data},
    )


def _collaborative(client, review, *, names: str = "no"):  # type: ignore[no-untyped-def]
    page = client.get(f"/reviews/{review.id}/collaboration")
    assert page.status_code == 200
    return client.post(
        f"/reviews/{review.id}/collaboration",
        data={
            "csrf_token": csrf_token(page.text),
            "collaborative": "yes",
            "worker_names": names,
        },
        follow_redirects=True,
    )


def test_lead_sets_a_review_collaborative_on_its_settings_page(client, db, people, setup):  # type: ignore[no-untyped-def]
    review, _cases = setup
    Auth(client).sign_in("lead")
    page = _collaborative(client, review, names="yes")
    assert "done with the practitioner" in page.text
    settings = review_data.get(db, review.id).settings
    assert settings["collaborative"] is True and settings["worker_names"] is True
    assert "Audited with the practitioner" in client.get(f"/reviews/{review.id}").text


def test_creating_a_collaborative_review(client, db, people, app) -> None:  # type: ignore[no-untyped-def]
    Auth(client).sign_in("lead")
    page = client.get("/reviews/new")
    rubric = re.search(r'name="rubric" type="radio" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/reviews/new",
        data={
            "csrf_token": csrf_token(page.text),
            "title": "Collaborative review",
            "host_organisation": "Testshire Council",
            "kind": "self_audit",
            "rubric": rubric,
            "programme": "",
            "collaborative": "yes",
        },
    )
    assert response.status_code == 302, re.findall(
        r'govuk-error-message">(.*?)</', response.text, re.S
    )
    review_id = response.headers["Location"].rsplit("/", 1)[-1]
    assert review_data.get(db, review_id).settings["collaborative"] is True


def _conversation_form(client, review, audit_id):  # type: ignore[no-untyped-def]
    return client.get(f"/reviews/{review.id}/audits/{audit_id}/conversation")


def _lead_and_reviewer(app, review, *, names: str = "no"):  # type: ignore[no-untyped-def]
    """Sign the lead in, make the review collaborative, sign the reviewer in; return both."""
    lead = app.test_client()
    Auth(lead).sign_in("lead")
    _collaborative(lead, review, names=names)
    reviewer = app.test_client()
    Auth(reviewer).sign_in("reviewer")
    return lead, reviewer


def test_conversation_after_submitting_then_dispute_seen_in_moderation(  # type: ignore[no-untyped-def]
    app, db, people, setup
):
    review, cases = setup
    lead, reviewer = _lead_and_reviewer(app, review)
    submitted = _submit(reviewer, db, review, cases[0])
    audit_id = audits.first_audit_id(db, cases[0])
    landed = reviewer.get(submitted.headers["Location"]).text
    assert "record the conversation" in landed
    assert f'href="/reviews/{review.id}/audits/{audit_id}/conversation"' in landed
    page = _conversation_form(reviewer, review, audit_id)
    assert "Auditor&#39;s grade: Good" in page.text or "Auditor's grade: Good" in page.text
    assert 'name="worker_name"' not in page.text  # the council did not choose names

    url = f"/reviews/{review.id}/audits/{audit_id}/conversation"
    sections = re.findall(r'name="agrees-([a-z_]+)"', page.text)
    assert "safeguarding" in sections and "plans" in sections
    data = {f"agrees-{s}": "yes" for s in set(sections)}
    data |= {
        "csrf_token": csrf_token(page.text),
        "held_on": "28/10/2026",
        "worker_role": "Social worker, Assessment Team 1",
        "manager_role": "Team manager",
        "agrees-plans": "no",
        "will_do_differently": "Write the plan with the family.",
        "manager_response": "Will check plans in supervision.",
        "worker_name": "Should not be kept",
    }
    refused = reviewer.post(url, data=data)
    assert refused.status_code == 200
    assert refused.text.count("Write the practitioner&#39;s view of the grade for Plans") >= 1
    assert "<title>Error:" in refused.text
    assert conversation_data.conversation(db, audit_id) is None

    data["view-plans"] = "The plan was agreed at conference; the grade misses that."
    saved = reviewer.post(url, data=data)
    assert saved.status_code == 302
    stored = conversation_data.conversation(db, audit_id)
    assert stored is not None and stored.worker_name == ""
    assert [v.section_id for v in stored.disputed] == ["plans"]

    cases_page = reviewer.get(f"/reviews/{review.id}").text
    assert f'href="/reviews/{review.id}/audits/{audit_id}/conversation"' not in cases_page
    assert "Recorded" in cases_page
    record = reviewer.get(f"/reviews/{review.id}/audits/{audit_id}").text
    assert "The practitioner does not agree." in record
    assert "The plan was agreed at conference" in record
    assert "Write the plan with the family." in record

    dashboard = lead.get(f"/reviews/{review.id}/dashboard").text
    assert "Grade disputed by the practitioner" in dashboard
    moderate = lead.get(f"/reviews/{review.id}/audits/{audit_id}/moderate").text
    dispute = re.search(r'id="dispute-plan_grade".*?</div>', moderate, re.S).group(0)
    assert "The plan was agreed at conference" in dispute
    assert "Synthetic evidence note." in dispute  # the auditor's reasons, beside it

    findings = lead.get(f"/reviews/{review.id}/findings").text
    agreed = re.search(r'id="share-agreed">(.*?)</td>', findings, re.S).group(1)
    total = len(stored.sections)
    assert f"{total - 1} of {total} section grades" in agreed
    assert "1 of 1" in re.search(r'id="share-conversations">(.*?)</td>', findings, re.S).group(1)


def test_a_dispute_after_moderation_brings_the_audit_back_to_the_lead(  # type: ignore[no-untyped-def]
    app, db, people, setup
):
    review, cases = setup
    lead, reviewer = _lead_and_reviewer(app, review)
    _submit(reviewer, db, review, cases[0])
    audit_id = audits.first_audit_id(db, cases[0])
    moderation.moderate(db, audit_id, review.id, changed={}, note="", by=people["lead"].id)

    def waiting() -> str:
        page = lead.get(f"/reviews/{review.id}/dashboard").text
        found = re.search(r"Waiting for moderation.*?</table>", page, re.S)
        return found.group(0) if found else ""

    assert "/moderate" not in waiting()
    agreed = _talk(audit_id, True)
    conversation_data.save_conversation(db, review.id, agreed, by=people["reviewer"].id)
    assert "/moderate" not in waiting()  # agreeing with every grade needs nothing more

    disputed = _talk(audit_id, True, False)
    conversation_data.save_conversation(db, review.id, disputed, by=people["reviewer"].id)
    row = waiting()
    assert f"/audits/{audit_id}/moderate" in row
    assert "Grade disputed by the practitioner" in row
    assert "Moderated before; the practitioner disputed a grade since" in row

    db.execute(
        "UPDATE conversation SET recorded_at = '2026-01-01T00:00:00Z' WHERE audit_id = ?",
        [audit_id],
    )
    moderation.moderate(db, audit_id, review.id, changed={}, note="Seen.", by=people["lead"].id)
    assert "/moderate" not in waiting()


def test_conversation_waits_for_submission_and_a_collaborative_review(  # type: ignore[no-untyped-def]
    app, db, people, setup
):
    review, cases = setup
    reviewer = app.test_client()
    Auth(reviewer).sign_in("reviewer")
    _submit(reviewer, db, review, cases[0])
    audit_id = audits.first_audit_id(db, cases[0])
    response = _conversation_form(reviewer, review, audit_id)
    assert response.status_code == 302  # not a collaborative review
    assert (
        "not set up for auditing with the practitioner"
        in reviewer.get(response.headers["Location"]).text
    )
    other = app.test_client()
    Auth(other).sign_in("other")
    review_data.update_settings(db, review.id, {"collaborative": True}, by=None)
    assert _conversation_form(other, review, audit_id).status_code == 403


def test_family_feedback_shares_and_the_quotes_the_lead_chooses(app, db, people, setup):  # type: ignore[no-untyped-def]
    review, cases = setup
    reviewer = app.test_client()
    Auth(reviewer).sign_in("reviewer")
    _submit(reviewer, db, review, cases[0])
    _submit(reviewer, db, review, cases[1])
    first, second = (audits.first_audit_id(db, c) for c in cases[:2])

    url = f"/reviews/{review.id}/audits/{first}/family"
    page = reviewer.get(url)
    refused = reviewer.post(
        url,
        data={"csrf_token": csrf_token(page.text), "consent": "no", "family_said": "Helpful."},
    )
    assert refused.status_code == 200 and "Without consent to contact" in refused.text
    assert conversation_data.family_feedback(db, first) is None
    saved = reviewer.post(
        url,
        data={
            "csrf_token": csrf_token(page.text),
            "consent": "yes",
            "contact_method": "phone",
            "family_said": "Mother said the worker finally listened.",
            "felt_listened_to": "yes",
            "knows_plan": "partly",
            "life_better": "not_asked",
        },
    )
    assert saved.status_code == 302
    second_page = reviewer.get(f"/reviews/{review.id}/audits/{second}/family")
    reviewer.post(
        f"/reviews/{review.id}/audits/{second}/family",
        data={"csrf_token": csrf_token(second_page.text), "consent": "no"},
    )
    record = reviewer.get(f"/reviews/{review.id}/audits/{first}").text
    assert "Mother said the worker finally listened." in record and "Phone call" in record

    lead = app.test_client()
    Auth(lead).sign_in("lead")
    findings = lead.get(f"/reviews/{review.id}/findings").text
    table = re.search(r'id="family-answers".*?</table>', findings, re.S).group(0)
    assert "1 of 1" in table  # one family asked whether they felt listened to: yes
    assert "Included quotes" not in findings
    chosen = lead.post(
        f"/reviews/{review.id}/family-quotes",
        data={"csrf_token": csrf_token(findings), "quote": [first]},
        follow_redirects=True,
    )
    assert "1 family quote(s) included" in chosen.text
    assert "Included quotes" in chosen.text
    assert conversation_data.family_feedback(db, first).quote_included

    # Rewording what the family said clears the choice: the lead chose other words.
    page = reviewer.get(url)
    reviewer.post(
        url,
        data={
            "csrf_token": csrf_token(page.text),
            "consent": "yes",
            "contact_method": "phone",
            "family_said": "Different words.",
            "felt_listened_to": "yes",
            "knows_plan": "partly",
            "life_better": "not_asked",
        },
    )
    assert not conversation_data.family_feedback(db, first).quote_included


# --------------------------------------------------------------------------- leaving the app


@pytest.fixture
def recorded(app, db, people, setup):  # type: ignore[no-untyped-def]
    """A collaborative review with one submitted audit, its conversation and family quote."""
    review, cases = setup
    reviewer = app.test_client()
    Auth(reviewer).sign_in("reviewer")
    _submit(reviewer, db, review, cases[0])
    audit_id = audits.first_audit_id(db, cases[0])
    review_data.update_settings(db, review.id, {"collaborative": True}, by=None)
    conversation_data.save_conversation(
        db,
        review.id,
        Conversation(
            audit_id=audit_id,
            held_on="2026-10-28",
            worker_role="Social worker",
            manager_role="Team manager",
            worker_name="",
            will_do_differently="=HYPERLINK(1) plan with the family",
            manager_response="Supervision will check.",
            sections=(
                SectionView("safeguarding", "safeguarding_grade", "good", True),
                SectionView("plans", "plan_grade", "good", False, "Practitioner view words."),
            ),
        ),
        by=people["reviewer"].id,
    )
    conversation_data.save_family_feedback(
        db,
        review.id,
        FamilyFeedback(audit_id, True, "visit", "Family quote words.", "yes", "no", "partly"),
        by=people["reviewer"].id,
    )
    conversation_data.choose_quotes(db, review.id, [audit_id], by=people["lead"].id)
    return review_data.get(db, review.id), audit_id


def test_exports_hold_the_conversations_and_family_feedback(db, recorded) -> None:  # type: ignore[no-untyped-def]
    import io

    from openpyxl import load_workbook

    from audit import analysis

    review, _audit_id = recorded
    data, _ = analysis.spreadsheet(db, review, "csv", "conversations")
    text = data.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Case,Host reference,Audit purpose")
    assert len(lines) == 3  # one row per section grade discussed
    assert "Plans,Good,No,Practitioner view words." in text
    assert "'=HYPERLINK(1) plan with the family" in text  # never a formula
    family, _ = analysis.spreadsheet(db, review, "csv", "family-feedback")
    row = family.decode("utf-8-sig").splitlines()[1]
    assert "Given,Home visit,Family quote words.,Yes,No,Partly,Yes" in row
    book, _ = analysis.spreadsheet(db, review, "xlsx")
    sheets = load_workbook(io.BytesIO(book), read_only=True).sheetnames
    assert sheets[:4] == ["Answers", "Findings", "Conversations", "Family feedback"]
    assert sheets[-1] == "Themes"


def test_findings_json_carries_the_shares_and_chosen_quotes(db, recorded) -> None:  # type: ignore[no-untyped-def]
    from audit import analysis

    review, _audit_id = recorded
    doc = analysis.findings_document(db, review)["collaboration"]
    assert doc["collaborative"] is True
    assert doc["audits_with_conversation"] == wilson(1, 1).as_dict() | {"unit": "audits"}
    grades = clustered_share([(1, 2)]).as_dict() | {"unit": "section grades"}
    assert doc["section_grades_agreed"] == grades
    assert doc["family_answers"][2]["partly"] == wilson(1, 1).as_dict() | {"unit": "families asked"}
    assert doc["family_quotes"] == ["Family quote words."]


def test_only_the_internal_report_has_the_voices(app, db, recorded) -> None:  # type: ignore[no-untyped-def]
    from audit.reporting import report

    review, _audit_id = recorded
    with app.app_context():
        internal = report.build_html(app, db, review, audience="internal")
        public = report.build_html(app, db, review, audience="public")
    assert "Family quote words." in internal
    assert "The practitioner's and the family's view" in internal
    assert "Section grades the practitioner agreed with" in internal
    for text in ("Family quote words.", "family's view", "Practitioner view words."):
        assert text not in public


def test_the_demo_review_is_collaborative_with_a_dispute_and_family_feedback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from audit import analysis
    from audit.cli import main
    from audit.data.db import connect

    inst = tmp_path / "inst"
    assert CliRunner().invoke(main, ["demo", "--instance", str(inst)]).exit_code == 0
    db = connect(inst / "audit.db")
    try:
        review = next(
            r for r in review_data.visible_to(db, 0, True) if r.title.startswith("Example Borough")
        )
        full = review_data.get(db, review.id)
        assert full.settings["collaborative"] is True
        summary = analysis.collaboration_summary(db, full)
        assert summary.conversations.count == 12 and summary.disputed == 1
        assert summary.feedback.count == 8 and summary.consent.count == 6
        assert len(summary.quotes) == 2
        queue = analysis.moderation_queue(db, full)
        assert sum(1 for row in queue if row["disputed"]) == 1
    finally:
        db.conn.close()


def test_a_review_without_collaboration_shows_no_practitioner_figures(app, db, people, setup):  # type: ignore[no-untyped-def]
    from audit.reporting import report

    review, _cases = setup
    lead = app.test_client()
    Auth(lead).sign_in("lead")
    findings = lead.get(f"/reviews/{review.id}/findings").text
    assert "Audits done with the practitioner" not in findings
    assert "The family's view" in findings  # family feedback can be kept in any review
    with app.app_context():
        internal = report.build_html(app, db, review_data.get(db, review.id), audience="internal")
    assert "The practitioner's and the family's view" not in internal


def test_worker_names_are_kept_only_when_the_council_chose_them(app, db, people, setup):  # type: ignore[no-untyped-def]
    review, cases = setup
    lead, reviewer = _lead_and_reviewer(app, review, names="yes")
    _submit(reviewer, db, review, cases[1])
    audit_id = audits.first_audit_id(db, cases[1])
    page = _conversation_form(reviewer, review, audit_id)
    assert 'name="worker_name"' in page.text
    sections = set(re.findall(r'name="agrees-([a-z_]+)"', page.text))
    response = reviewer.post(
        f"/reviews/{review.id}/audits/{audit_id}/conversation",
        data={
            "csrf_token": csrf_token(page.text),
            "held_on": "2026-10-30",
            "worker_role": "Social worker",
            "worker_name": "Sam Example",
            **{f"agrees-{s}": "yes" for s in sections},
        },
    )
    assert response.status_code == 302
    stored = conversation_data.conversation(db, audit_id)
    assert stored.worker_name == "Sam Example" and stored.held_on == "2026-10-30"
    assert not stored.disputed
    record = reviewer.get(f"/reviews/{review.id}/audits/{audit_id}").text
    assert "Social worker (Sam Example)" in record
    exported = lead.get(f"/reviews/{review.id}/export/conversations.csv").text
    assert "Sam Example" in exported

    switched = _collaborative(lead, review, names="no")
    flashed = switched.text
    assert "Workers&#39; names are not recorded" in flashed or "Workers' names are not" in flashed
    assert "1 worker name(s) already recorded were removed." in flashed
    assert "Choosing No removes" in flashed  # the warning stays on the settings page
    assert conversation_data.conversation(db, audit_id).worker_name == ""
    assert "Sam Example" not in reviewer.get(f"/reviews/{review.id}/audits/{audit_id}").text
    assert "Sam Example" not in lead.get(f"/reviews/{review.id}/export/conversations.csv").text
    logged = db.execute(
        "SELECT before, after FROM change_log WHERE entity = 'conversation' AND entity_id = ?"
        " ORDER BY rowid DESC LIMIT 1",
        [audit_id],
    ).fetchone()
    assert "Sam Example" in logged["before"] and "Sam Example" not in logged["after"]
    again = _collaborative(lead, review, names="yes").text
    assert "Workers&#39; names are recorded" in again or "Workers' names are recorded" in again
    assert "were removed" not in again
