"""Multi-agency case audit: agencies, children's agencies, agency audits, alerts and panels."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask

from audit.data import actions as action_data
from audit.data import agencies, agency_audits, panels, programmes, reviews, users
from audit.data import themes as theme_data
from audit.partnership.panel import agenda
from audit.rubric import agency_part, panel_part
from audit.scoring import Answer
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.partnership_helpers import (
    agency_audit,
    answers_for,
    auditor,
    hold_panel,
    multi_agency_rubric,
    partnership,
)


@pytest.fixture
def lead(db: Any) -> users.User:
    return users.create(db, "lead", PASSWORD, "lead")


def _signed_in(app: Flask, username: str) -> tuple[Any, str]:
    client = app.test_client()
    assert Auth(client).sign_in(username).status_code == 302
    return client, csrf_token(client.get("/sign-in").text)


# --------------------------------------------------------------------------- agencies


def test_an_installation_starts_with_the_usual_partners(db: Any) -> None:
    names = {a.id: a.name for a in agencies.all_agencies(db)}
    for agency_id in (
        "childrens_social_care",
        "police",
        "health_visiting",
        "school_nursing",
        "gp",
        "hospital",
        "education",
        "probation",
        "housing",
        "youth_justice",
        "early_help",
    ):
        assert agency_id in names
    assert names["police"] == "Police"


def test_admins_add_rename_and_retire_agencies(db: Any) -> None:
    added = agencies.add(db, "  Ambulance   service ", by=None)
    assert (added.id, added.name) == ("ambulance_service", "Ambulance service")
    with pytest.raises(agencies.DuplicateAgency):
        agencies.add(db, "AMBULANCE SERVICE", by=None)
    agencies.rename(db, "ambulance_service", "Ambulance trust", by=None)
    assert agencies.get(db, "ambulance_service").name == "Ambulance trust"
    agencies.set_retired(db, "ambulance_service", True, by=None)
    current = {a.id for a in agencies.all_agencies(db, include_retired=False)}
    assert "ambulance_service" not in current
    assert agencies.names(db)["ambulance_service"] == "Ambulance trust"  # records still name it


def test_a_person_belongs_to_one_agency_set_on_the_agencies_page(app: Flask, db: Any) -> None:
    users.create(db, "admin", PASSWORD, "admin")
    person = users.create(db, "pc", PASSWORD, "reviewer")
    client, token = _signed_in(app, "admin")
    page = client.get("/admin/agencies")
    assert page.status_code == 200 and "Who belongs to which agency" in page.text
    response = client.post(
        "/admin/agencies/people",
        data={"csrf_token": token, "person-user": str(person.id), "person-agency": "police"},
        follow_redirects=True,
    )
    assert "Pc belongs to Police." in response.text or "belongs to Police" in response.text
    assert users.get(db, person.id).agency_id == "police"  # type: ignore[union-attr]
    client.post(
        "/admin/agencies/people",
        data={"csrf_token": token, "person-user": str(person.id), "person-agency": "education"},
    )
    assert users.get(db, person.id).agency_id == "education"  # type: ignore[union-attr]
    response = client.post("/admin/agencies", data={"csrf_token": token, "name": "Police"})
    assert response.status_code == 400 and "The list already has Police" in response.text


# --------------------------------------------------------------------------- children


def test_a_child_records_its_agencies_and_their_own_references(db: Any, lead: users.User) -> None:
    review, (c1, c2) = partnership(
        db, lead, [("cp", {"police": "P-1", "gp": ""}), ("cin", {"education": "E-2"})]
    )
    assert agency_audits.case_agencies(db, review.id) == {
        c1: {"police": "P-1", "gp": ""},
        c2: {"education": "E-2"},
    }
    with pytest.raises(agency_audits.DuplicateReference):
        agency_audits.set_case_agencies(db, review.id, c2, {"police": "P-1"}, by=lead.id)
    # An agency with saved answers about the child stays on it.
    police = auditor(db, "pc", "police")
    agency_audit(db, review, c1, "police", police, submit=False)
    with pytest.raises(agency_audits.AgencyInUse):
        agency_audits.set_case_agencies(db, review.id, c1, {"gp": ""}, by=lead.id)
    agency_audits.set_case_agencies(db, review.id, c1, {"police": "P-1"}, by=lead.id)  # gp off
    # Once the panel is open, who knows the child is fixed.
    panels.open_panel(db, review.id, c1, by=lead.id)
    with pytest.raises(agency_audits.PanelOpen):
        agency_audits.set_case_agencies(db, review.id, c1, {"police": "P-1b"}, by=lead.id)


def test_the_lead_adds_a_child_and_an_agency_auditor_on_the_page(
    app: Flask, db: Any, lead: users.User
) -> None:
    review, _ = partnership(db, lead, [])
    officer = auditor(db, "pc", "police")
    client, token = _signed_in(app, "lead")
    base = f"/reviews/{review.id}/partnership"
    response = client.post(
        base + "/children/new",
        data={
            "csrf_token": token,
            "reference": "N-77",
            "case_type": "cp",
            "agency-police": "y",
            "reference-police": "PN-5",
            "agency-education": "y",
        },
        follow_redirects=True,
    )
    assert "Child C01 added, known to 2 agencies." in response.text
    case_id = reviews.case_files(db, review.id)[0]["id"]
    assert agency_audits.case_agencies(db, review.id)[case_id] == {
        "police": "PN-5",
        "education": "",
    }
    # Nothing ticked: refused with a message on the field, nothing added.
    refused = client.post(
        base + "/children/new", data={"csrf_token": token, "reference": "N-78", "case_type": "cp"}
    )
    assert "Tick at least one agency that knows the child" in refused.text
    assert len(reviews.case_files(db, review.id)) == 1
    response = client.post(
        base + "/auditors",
        data={"csrf_token": token, "user": str(officer.id)},
        follow_redirects=True,
    )
    assert "can now audit their agency's records" in html.unescape(response.text)
    assert reviews.membership(db, review.id, officer.id) == "agency"
    # The standard review page of a multi-agency review is this page.
    assert client.get(f"/reviews/{review.id}").headers["Location"].endswith(base)


# --------------------------------------------------------------------------- agency audits


def test_an_agency_audit_is_blind_locked_after_submitting_and_fixed_by_the_panel(
    db: Any, lead: users.User
) -> None:
    review, (c1, c2) = partnership(
        db,
        lead,
        [("cp", {"police": "P", "health_visiting": "H"}), ("cin", {"police": "P2", "gp": ""})],
    )
    police = auditor(db, "pc", "police")
    health = auditor(db, "hv", "health_visiting")
    police_audit, result = agency_audit(db, review, c1, "police", police)
    assert result.submitted and not result.panel_opened
    with pytest.raises(agency_audits.AuditLocked):
        agency_audit(db, review, c1, "police", police)
    agency_audits.reopen(db, police_audit, review.id, by=lead.id)
    assert not agency_audits.get(db, police_audit).submitted
    _, result = agency_audit(db, review, c1, "police", police)
    # The last agency to submit opens the panel; from then on nothing changes under it.
    _, result = agency_audit(db, review, c1, "health_visiting", health)
    assert result.panel_opened
    with pytest.raises(agency_audits.PanelOpen):
        agency_audits.reopen(db, police_audit, review.id, by=lead.id)
    with pytest.raises(agency_audits.NotKnown):
        agency_audits.start(db, review.id, c1, "gp", by=lead.id)
    # The lead opens a panel before every agency has submitted: the others are then too late.
    agency_audit(db, review, c2, "police", police)
    panels.open_panel(db, review.id, c2, by=lead.id)
    with pytest.raises(agency_audits.PanelOpen):
        agency_audits.start(db, review.id, c2, "gp", by=lead.id)


def test_two_people_of_one_agency_never_overwrite_each_other(db: Any, lead: users.User) -> None:
    review, (c1,) = partnership(db, lead, [("cp", {"police": "P"})])
    police = auditor(db, "pc", "police")
    audit_id = agency_audits.start(db, review.id, c1, "police", by=police.id)
    kept = {"child_safe": Answer("yes", False, "")}
    agency_audits.save(
        db,
        audit_id,
        expected_version=1,
        answers=kept,
        sections_na=(),
        adverse_questions=(),
        critical_questions=("child_safe",),
        by=police.id,
    )
    with pytest.raises(agency_audits.StaleAudit) as stale:
        agency_audits.save(
            db,
            audit_id,
            expected_version=1,
            answers={"child_safe": Answer("no", False, "x")},
            sections_na=(),
            adverse_questions=("child_safe",),
            critical_questions=("child_safe",),
            by=police.id,
        )
    assert stale.value.current.answers["child_safe"].value == "yes"


def test_an_adverse_critical_answer_alerts_the_same_day_and_holds_the_review(
    db: Any, lead: users.User
) -> None:
    review, (c1,) = partnership(db, lead, [("cp", {"police": "P"})])
    police = auditor(db, "pc", "police")
    reviews.set_status(db, review.id, "in_progress", by=lead.id)
    _audit_id, result = agency_audit(db, review, c1, "police", police, child_safe="no")
    assert result.raised and not result.submitted  # saved as a draft, the alert raised at once
    (alert,) = agency_audits.escalations(db, review.id, open_only=True)
    assert (alert["agency_name"], alert["question_id"], alert["pseudonym"]) == (
        "Police",
        "child_safe",
        "C01",
    )
    reviews.set_status(db, review.id, "moderation", by=lead.id)
    with pytest.raises(reviews.OpenAlerts):
        reviews.set_status(db, review.id, "complete", by=lead.id)
    agency_audits.record_escalation(
        db,
        alert["id"],
        review.id,
        told_who="Duty inspector",
        told_at="2026-10-27T10:00:00Z",
        agreed_action="Strategy discussion today.",
        by=police.id,
    )
    _, result = agency_audit(db, review, c1, "police", police, child_safe="no")
    assert result.submitted
    reviews.set_status(db, review.id, "complete", by=lead.id)


def test_the_panel_agrees_an_adverse_answer_and_alerts_too(db: Any, lead: users.User) -> None:
    review, (c1,) = partnership(db, lead, [("cp", {"police": "P"})])
    saved = hold_panel(db, review, c1, lead, child_safe="no")
    assert saved.raised
    (alert,) = agency_audits.escalations(db, review.id, open_only=True)
    assert alert["agency_id"] is None and alert["agency_audit_id"] is None


# --------------------------------------------------------------------------- the panel


def test_the_agenda_puts_the_widest_disagreement_first() -> None:
    rubric = multi_agency_rubric()

    class Audit:
        def __init__(self, answers: dict[str, Answer]) -> None:
            self.answers, self.submitted, self.sections_na = answers, True, frozenset()

    police = answers_for(agency_part(rubric, "police"), "cp", "good")
    health = answers_for(agency_part(rubric, "health_visiting"), "cp", "good")
    police["impact_grade"] = Answer("outstanding", False, "")
    health["impact_grade"] = Answer("inadequate", False, "x")  # 3 steps apart
    health["planning_grade"] = Answer("requires_improvement", False, "x")  # 1 step
    health["plan_clear"] = Answer("no", False, "")  # yes/no differ
    police["meetings_attended"] = Answer(None, True, "")  # split on whether it applies
    rows = agenda(
        rubric,
        "cp",
        [("police", "Police"), ("health_visiting", "Health visiting")],
        {"police": Audit(police), "health_visiting": Audit(health)},
        {},
    )
    differing = [r.question.id for r in rows if r.differs]
    assert differing[0] == "impact_grade"
    assert set(differing) == {"impact_grade", "planning_grade", "plan_clear", "meetings_attended"}
    assert rows[0].spread == 3
    assert not any(r.differs for r in rows[len(differing) :])


def test_recording_the_agreed_judgements_needs_every_answer_and_the_date(
    app: Flask, db: Any, lead: users.User
) -> None:
    review, (c1,) = partnership(db, lead, [("cp", {"police": "P"})])
    police = auditor(db, "pc", "police")
    agency_audit(db, review, c1, "police", police)  # the panel opens
    client, token = _signed_in(app, "lead")
    url = f"/reviews/{review.id}/partnership/children/{c1}/panel"
    page = client.get(url)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "version": version,
            "action": "agree",
            "answer-child_safe": "yes",
        },
    )
    assert "cannot be recorded as complete yet" in response.text
    assert "Enter the date of the audit discussion" in response.text
    panel = panels.get(db, review.id, c1)
    assert panel is not None and not panel.held
    assert panel.answers["child_safe"].value == "yes"  # what was given is saved
    # Two people saving from the same page: the second is told, nothing overwritten.
    stale = client.post(url, data={"csrf_token": token, "version": version, "action": "save"})
    assert stale.status_code == 409
    form: dict[str, str] = {"csrf_token": token, "version": str(panel.version), "action": "agree"}
    form["held_on"] = "27/10/2026"
    for key, answer in answers_for(panel_part(review.rubric), "cp").items():
        form[f"answer-{key}"] = "na" if answer.not_applicable else str(answer.value)
        form[f"evidence-{key}"] = answer.evidence
    response = client.post(url, data=form, follow_redirects=True)
    assert "The panel's agreed judgements for C01 are recorded." in html.unescape(response.text)
    held = panels.get(db, review.id, c1)
    assert held is not None and held.held and held.held_on == "2026-10-27"


def test_learning_with_themes_and_actions_owned_by_agencies(
    app: Flask, db: Any, lead: users.User
) -> None:
    programme_id = programmes.create(db, title="MACA programme", kind="thematic", by=lead.id)
    review, (c1,) = partnership(db, lead, [("cp", {"police": "P"})])
    db.execute("UPDATE review SET programme_id = ? WHERE id = ?", [programme_id, review.id])
    theme_id = theme_data.create(db, name="Information sharing", programme_id=programme_id, by=None)
    hold_panel(db, review, c1, lead)
    client, token = _signed_in(app, "lead")
    base = f"/reviews/{review.id}/partnership/children/{c1}/panel"
    response = client.post(
        base + "/learning",
        data={
            "csrf_token": token,
            "learning-text": "Notifications reached school late.",
            "learning-themes": theme_id,
            "learning-new_theme": "Voice of the child",
        },
        follow_redirects=True,
    )
    assert "Learning recorded." in response.text
    (item,) = panels.learning(db, review.id)
    assert sorted(name for _id, name in item["themes"]) == [
        "Information sharing",
        "Voice of the child",
    ]
    assert {t.name for t in theme_data.for_programme(db, programme_id)} == {
        "Information sharing",
        "Voice of the child",
    }
    missing = client.post(
        base + "/actions",
        data={"csrf_token": token, "action-agency": "police", "action-what": "Share sooner"},
    )
    assert missing.status_code == 400 and "Enter the date the action is due" in missing.text
    response = client.post(
        base + "/actions",
        data={
            "csrf_token": token,
            "action-agency": "police",
            "action-what": "Share notifications within 24 hours.",
            "action-due_date": "31/1/2027",
        },
        follow_redirects=True,
    )
    assert "Action for Police added." in response.text
    (action,) = panels.actions(db, review.id)
    assert (action["agency_id"], action["due_date"], action["owner"]) == (
        "police",
        "2027-01-31",
        "Police",
    )
    # Followed up like every action, with progress notes; not in the findings' action plan.
    follow = client.get(f"/reviews/{review.id}/actions/{action['id']}")
    assert follow.status_code == 200 and "Share notifications within 24 hours." in follow.text
    assert action_data.for_review(db, review.id) == []


def test_a_lead_who_belongs_to_an_agency_audits_for_it(app: Flask, db: Any) -> None:
    """On an agency's own installation the person who imported the audit leads it and audits."""
    lead = auditor(db, "lead", "police", role="lead")
    review, (c1,) = partnership(db, lead, [("cp", {"police": "P", "education": "E"})])
    client, token = _signed_in(app, "lead")
    response = client.post(
        f"/reviews/{review.id}/partnership/children/{c1}/audit", data={"csrf_token": token}
    )
    assert response.status_code == 302 and "/audits/" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    text = html.unescape(page.text)
    assert "Police's audit of C01" in text and "Submit Police's audit" in text


def test_the_docs_name_the_installation_s_first_agencies() -> None:
    from pathlib import Path

    from audit.data.migrations import DEFAULT_AGENCIES

    docs = Path(__file__).resolve().parent.parent / "docs"
    rubric_docs = (docs / "rubrics.md").read_text(encoding="utf-8")
    guide = (docs / "multi-agency.md").read_text(encoding="utf-8").casefold()
    for agency_id, name in DEFAULT_AGENCIES:
        assert f"`{agency_id}`" in rubric_docs, agency_id
        assert name.casefold() in guide, name
