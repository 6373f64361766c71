"""Agencies audit on their own installations and send their part; the lead's review merges them.

Three installations: the partnership lead's, the police's and health visiting's. The lead sends
each agency its part (its children, its references); each agency imports it, audits, and sends
its part back; the lead imports both into the review. A later, changed copy of the police's
audit is a conflict: listed, this installation's copy kept, and the other version shown.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

import pytest

from audit import create_app
from audit.bundles import bundle
from audit.data import agency_audits, panels, reviews, users
from audit.data.db import connect
from audit.partnership import bundle as partnership_bundle
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.partnership_helpers import agency_audit, auditor, hold_panel, partnership


class Installation:
    """One installation: its app, a connection, and its people."""

    def __init__(self, root: Path, name: str) -> None:
        self.app = create_app({"INSTANCE_PATH": root / name, "TESTING": True})
        self.db = connect(self.app.config["DATABASE"])

    def close(self) -> None:
        self.db.conn.close()


@pytest.fixture
def sites(tmp_path: Path) -> Any:
    made = {name: Installation(tmp_path, name) for name in ("lead", "police", "health")}
    yield made
    for site in made.values():
        site.close()


def _part(site: Installation, review_id: str, agency_id: str, by: str) -> bytes:
    return bundle.dumps(partnership_bundle.agency_export(site.db, review_id, agency_id, by))


def _audit_elsewhere(site: Installation, part: bytes, username: str, agency_id: str) -> str:
    """Import a part on an agency's installation, audit every child there as its lead."""
    person = auditor(site.db, username, agency_id, role="lead")
    report = bundle.import_bundle(site.db, part, by=person.id)
    assert report.created
    reviews.add_member(site.db, report.review_id, person.id, "lead", by=person.id)
    review = reviews.get(site.db, report.review_id)
    for case in reviews.case_files(site.db, review.id):
        grade = "requires_improvement" if agency_id == "health_visiting" else "good"
        agency_audit(site.db, review, case["id"], agency_id, person, grade=grade)
    return review.id


def test_two_agencies_bundles_merge_into_the_lead_s_review_and_a_conflict_is_kept(
    sites: dict[str, Installation],
) -> None:
    home = sites["lead"]
    lead = users.create(home.db, "lead", PASSWORD, "lead")
    review, (c1, c2, c3) = partnership(
        home.db,
        lead,
        [
            ("cp", {"police": "P-1", "health_visiting": "H-1"}),
            ("cin", {"police": "P-2"}),
            ("cp", {"health_visiting": "H-3"}),
        ],
    )
    police_part = _part(home, review.id, "police", "lead")
    health_part = _part(home, review.id, "health_visiting", "lead")
    doc = json.loads(police_part)
    assert {c["id"] for c in doc["cases"]} == {c1, c2}
    assert "H-1" not in police_part.decode()

    police_review = _audit_elsewhere(sites["police"], police_part, "dsmith", "police")
    health_review = _audit_elsewhere(sites["health"], health_part, "hvisitor", "health_visiting")
    assert police_review == health_review == review.id
    back_from_police = _part(sites["police"], review.id, "police", "dsmith")
    back_from_health = _part(sites["health"], review.id, "health_visiting", "hvisitor")

    first = bundle.import_bundle(home.db, back_from_police, by=lead.id)
    second = bundle.import_bundle(home.db, back_from_health, by=lead.id)
    assert not first.created and not second.created
    assert first.conflicts == [] and second.conflicts == []
    merged = {(a.case_id, a.agency_id): a for a in agency_audits.for_review(home.db, review.id)}
    assert set(merged) == {
        (c1, "police"),
        (c2, "police"),
        (c1, "health_visiting"),
        (c3, "health_visiting"),
    }
    assert all(a.submitted for a in merged.values())
    assert (
        merged[(c1, "health_visiting")].answers["recognition_grade"].value == "requires_improvement"
    )
    # The auditors came with their work, as deactivated accounts of their agency.
    officer = users.by_username(home.db, "dsmith")
    assert officer is not None and not officer.active and officer.agency_id == "police"
    # Nothing else of the agencies' installations came: no members, nothing of the panels.
    assert reviews.membership(home.db, review.id, officer.id) is None
    assert panels.states(home.db, review.id) == {}
    # Importing the same bundle again adds nothing.
    again = bundle.import_bundle(home.db, back_from_police, by=lead.id)
    assert again.added.get("agency_audit") is None and again.conflicts == []

    # The police reopen C1 on their installation, change an answer and send their part again.
    police = sites["police"]
    police_audit = agency_audits.get(police.db, merged[(c1, "police")].id)
    agency_audits.reopen(police.db, police_audit.id, review.id, by=1)
    person = users.by_username(police.db, "dsmith")
    agency_audit(
        police.db, reviews.get(police.db, review.id), c1, "police", person, grade="inadequate"
    )
    changed = _part(police, review.id, "police", "dsmith")
    report = bundle.import_bundle(home.db, changed, by=lead.id)
    assert report.conflicts == [
        "Police's record of C01: the agency's audit in the bundle differs here; kept this"
        " installation's"
    ]
    kept = agency_audits.get(home.db, police_audit.id)
    assert kept.answers["recognition_grade"].value == "good"  # nothing overwritten
    (conflict,) = panels.conflicts(home.db, review.id)
    assert conflict["agency_audit_id"] == police_audit.id
    assert bundle.import_bundle(home.db, changed, by=lead.id).conflicts  # listed again...
    assert len(panels.conflicts(home.db, review.id)) == 1  # ...but kept aside once

    # The lead sees it: on the review page, and on the child's panel page with what differs.
    client = home.app.test_client()
    assert Auth(client).sign_in("lead").status_code == 302
    overview = html.unescape(client.get(f"/reviews/{review.id}/partnership").text)
    assert "Bundles that disagreed with this installation" in overview
    assert "Police's audit of C01" in overview
    page = html.unescape(client.get(f"/reviews/{review.id}/partnership/children/{c1}/panel").text)
    assert "Other versions from merged bundles" in page
    other = page[page.index("Other versions from merged bundles") :]
    row = other[other.index("How well were the child's needs and risks recognised?") :][:400]
    assert "Good" in row and "Inadequate" in row


def test_the_import_page_lists_the_conflict(sites: dict[str, Installation]) -> None:
    home = sites["lead"]
    lead = users.create(home.db, "lead", PASSWORD, "lead")
    review, (c1,) = partnership(home.db, lead, [("cp", {"police": "P-1"})])
    officer = auditor(home.db, "pc", "police")
    agency_audits.add_auditor(home.db, review.id, officer.id, by=lead.id)
    audit_id, _ = agency_audit(home.db, review, c1, "police", officer, submit=False)
    doc = json.loads(_part(home, review.id, "police", "lead"))
    doc["partnership"]["agency_audits"][0]["answers"][0]["evidence"] = "Changed elsewhere."
    client = home.app.test_client()
    assert Auth(client).sign_in("lead").status_code == 302
    token = csrf_token(client.get("/reviews/import").text)
    response = client.post(
        "/reviews/import",
        data={"csrf_token": token, "bundle_file": (io.BytesIO(json.dumps(doc).encode()), "p.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    text = html.unescape(response.text)
    assert "Police's record of C01: the agency's audit in the bundle differs here" in text
    assert agency_audits.get(home.db, audit_id).answers  # kept


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda p: p["agency_audits"][0]["answers"].append(
                {"question_id": "contacts_completed", "value": "yes", "not_applicable": False}
            ),
            "partnership.agency_audits[0].answers[",
        ),
        (
            lambda p: p["case_agencies"][0].update(agency_id="ambulance"),
            'partnership.case_agencies[0].agency_id: "ambulance" is not one of the bundle',
        ),
        (
            lambda p: p["agency_audits"][0]["answers"][0].update(value="excellent"),
            "partnership.agency_audits[0].answers[0].value",
        ),
        (
            lambda p: p["alerts"].append(
                {
                    "id": "00000000-0000-4000-8000-000000000009",
                    "case_id": p["case_agencies"][0]["case_id"],
                    "question_id": "plan_clear",
                    "raised_at": "2026-10-27T10:00:00Z",
                }
            ),
            'partnership.alerts[0].question_id: "plan_clear" is not a critical question',
        ),
    ],
)
def test_a_bad_partnership_part_is_rejected_whole_by_its_path(
    sites: dict[str, Installation], change: Any, problem: str
) -> None:
    home = sites["lead"]
    lead = users.create(home.db, "lead", PASSWORD, "lead")
    review, (c1,) = partnership(home.db, lead, [("cp", {"police": "P-1"})])
    officer = auditor(home.db, "pc", "police")
    agency_audit(home.db, review, c1, "police", officer)
    doc = json.loads(_part(home, review.id, "police", "lead"))
    change(doc["partnership"])
    other = sites["police"]
    with pytest.raises(bundle.BundleInvalid) as refused:
        bundle.import_bundle(other.db, json.dumps(doc).encode(), by=None)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems
    assert other.db.execute("SELECT count(*) FROM review").fetchone()[0] == 0


def test_a_whole_multi_agency_review_round_trips(sites: dict[str, Installation]) -> None:
    home = sites["lead"]
    lead = users.create(home.db, "lead", PASSWORD, "lead")
    review, (c1, c2) = partnership(
        home.db, lead, [("cp", {"police": "P-1", "education": "E-1"}), ("cin", {"police": "P-2"})]
    )
    officer = auditor(home.db, "pc", "police")
    teacher = auditor(home.db, "dsl", "education")
    for person in (officer, teacher):
        agency_audits.add_auditor(home.db, review.id, person.id, by=lead.id)
    agency_audit(home.db, review, c1, "police", officer, child_safe="no")
    agency_audit(home.db, review, c1, "education", teacher, submit=False)
    agency_audit(home.db, review, c2, "police", officer)
    hold_panel(home.db, review, c2, lead)
    panels.add_learning(home.db, review.id, c2, text="Share sooner.", theme_ids=[], by=lead.id)
    panels.add_action(
        home.db,
        review.id,
        c2,
        agency_id="police",
        agency_name="Police",
        what="Share sooner.",
        due_date="2027-01-31",
        by=lead.id,
    )
    exported = bundle.export_review(home.db, review.id, "lead")
    assert exported["actions"] == []  # agency actions travel in the partnership part
    fresh = sites["health"]
    bundle.import_bundle(fresh.db, bundle.dumps(exported), by=None)
    again = bundle.export_review(fresh.db, review.id, "lead")
    strip = ("exported_at", "exported_by")
    assert {k: v for k, v in again.items() if k not in strip} == {
        k: v for k, v in exported.items() if k not in strip
    }
    assert len(again["partnership"]["alerts"]) == 1
    assert len(again["partnership"]["actions"]) == 1
    assert agency_audits.open_alert_count(fresh.db, review.id) == 1
