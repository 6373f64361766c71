"""A multi-agency review's single-agency pages, its line in the list of reviews, its alerts.

Review M (multi-agency, led by ``lead``): C1 known to police and health visiting, both
submitted and its panel held; C2 known to police (submitted) and education (a draft); C3 known
to health visiting only, not started. Review S is an ordinary single-agency review of the
same lead. ``outsider`` leads another review only.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from audit.data import agencies, agency_audits, audits, reviews, users
from audit.scoring import Answer
from audit.views.instead import BOTH, INSTEAD
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.helpers import health_check
from tests.partnership_helpers import agency_audit, auditor, hold_panel, partnership


@dataclass
class World:
    app: Flask
    db: Any
    people: dict[str, users.User]
    review: reviews.Review
    single: reviews.Review
    cases: list[str]

    def client(self, username: str) -> FlaskClient:
        client = self.app.test_client()
        assert Auth(client).sign_in(username).status_code == 302
        return client


@pytest.fixture
def world(app: Flask, db: Any) -> World:
    lead = users.create(db, "lead", PASSWORD, "lead", display_name="Test Lead")
    people = {
        "lead": lead,
        "admin": users.create(db, "admin", PASSWORD, "admin"),
        "outsider": users.create(db, "outsider", PASSWORD, "lead"),
        "police": auditor(db, "police", "police"),
        "health": auditor(db, "health", "health_visiting"),
        "school": auditor(db, "school", "education"),
    }
    review, cases = partnership(
        db,
        lead,
        [
            ("cp", {"police": "P-1", "health_visiting": "H-1"}),
            ("cin", {"police": "P-2", "education": "E-2"}),
            ("cp", {"health_visiting": "H-3"}),
        ],
    )
    for name in ("police", "health", "school"):
        agency_audits.add_auditor(db, review.id, people[name].id, by=lead.id)
    c1, c2, _c3 = cases
    agency_audit(db, review, c1, "police", people["police"])
    agency_audit(db, review, c1, "health_visiting", people["health"])
    hold_panel(db, review, c1, lead)
    agency_audit(db, review, c2, "police", people["police"])
    agency_audit(db, review, c2, "education", people["school"], submit=False)
    partnership(db, people["outsider"], [("cp", {"police": "P-9"})], title="Other")
    single = reviews.create(
        db,
        title="Single-agency review",
        host_organisation="Testshire Council",
        kind="peer_review",
        rubric=health_check(),
        by=lead.id,
    )
    reviews.add_member(db, single.id, lead.id, "lead")
    reviews.add_case_files(
        db, single.id, [{"reference": "S-0001", "case_type": "cp", "team": "Team A"}]
    )
    return World(app, db, people, reviews.get(db, review.id), single, cases)


def _text(page: str) -> str:
    """A page's words as a reader sees them (tags dropped, spaces folded)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _url(world: World, endpoint: str, method: str = "GET") -> str:
    """The endpoint's address in review M, every other argument filled in."""
    values = {
        "review_id": world.review.id,
        "case_id": world.cases[0],
        "audit_id": "no-such-audit",
        "finding_id": "no-such-finding",
        "report_id": "no-such-report",
        "job_id": "no-such-job",
        "change": "accept",
        "measure_id": "allocation",
        "what": "findings",
        "fmt": "csv",
    }
    with world.app.test_request_context():
        rule = next(
            r
            for r in world.app.url_map.iter_rules()
            if r.endpoint == endpoint and method in (r.methods or ())
        )
        return url_for(endpoint, **{k: values[k] for k in rule.arguments})


# --------------------------------------------------------------------------- every page placed


def test_every_review_page_is_a_partnership_page_sent_elsewhere_or_for_both(app: Flask) -> None:
    """A new review page must say what it is for a multi-agency review, or this fails."""
    review_pages = {r.endpoint for r in app.url_map.iter_rules() if "review_id" in r.arguments}
    partnership_pages = {e for e in review_pages if e.startswith("partnership.")}
    assert not set(INSTEAD) & BOTH
    assert set(INSTEAD) | BOTH == review_pages - partnership_pages


# --------------------------------------------------------------------------- redirects

# The single-agency address -> where a lead of the multi-agency review is sent.
SENT = {
    "": "/partnership",
    "/dashboard": "/partnership/findings",
    "/findings": "/partnership/findings",
    "/agreement": "/partnership/findings#compared",
    "/actions": "/partnership/findings#actions",
    "/report": "/partnership/report",
    "/report?audience=public": "/partnership/report?audience=public",
    "/report?audience=internal": "/partnership/report",
    "/report/issued": "/partnership/report",
    "/findings.json": "/partnership/findings.json",
    "/export/answers.xlsx": "/partnership/export/all.xlsx",
    "/export/answers.csv": "/partnership/export/answers.csv",
    "/export/themes.csv": "/partnership/export/learning.csv",
    "/export/action-plan.csv": "/partnership/export/actions.csv",
    "/export/action-plan.xlsx": "/partnership/export/all.xlsx",
}


@pytest.mark.parametrize("who", ["lead", "admin"])
def test_single_agency_pages_send_the_lead_to_the_partnership_s(world: World, who: str) -> None:
    client = world.client(who)
    base = f"/reviews/{world.review.id}"
    for path, target in SENT.items():
        response = client.get(base + path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == base + target, path
        landed = client.get(base + target.split("#")[0])
        assert landed.status_code in (200, 409), f"{path} -> {target}: {landed.status_code}"
        assert b"0 cases were audited" not in landed.data


def test_what_the_redirects_lead_to_is_the_partnership_s_own(world: World) -> None:
    client = world.client("lead")
    base = f"/reviews/{world.review.id}"
    page = client.get(base + "/dashboard", follow_redirects=True)
    assert '<h1 class="govuk-heading-l">Partnership findings</h1>' in page.text
    # "3 children in the audit; the panel's agreed judgements are recorded for 1"
    words = _text(page.text)
    assert "3 children in the audit" in words and "recorded for 1" in words
    report = client.get(base + "/report", follow_redirects=True)
    assert '<h1 class="govuk-heading-l">Partnership report: internal version</h1>' in report.text
    doc = json.loads(client.get(base + "/findings.json", follow_redirects=True).data)
    assert doc == json.loads(client.get(base + "/partnership/findings.json").data)
    workbook = client.get(base + "/export/answers.xlsx", follow_redirects=True)
    assert workbook.data[:2] == b"PK"  # the partnership's workbook (a zip)
    assert workbook.data == client.get(base + "/partnership/export/all.xlsx").data


def test_the_list_and_the_review_page_link_straight_to_the_partnership_page(
    world: World,
) -> None:
    page = world.client("lead").get("/reviews").text
    assert f'href="/reviews/{world.review.id}/partnership"' in page
    assert f'href="/reviews/{world.single.id}"' in page


def test_a_single_agency_review_keeps_its_pages(world: World) -> None:
    client = world.client("lead")
    base = f"/reviews/{world.single.id}"
    for path in ("", "/dashboard", "/findings", "/agreement", "/report", "/timeliness"):
        assert client.get(base + path).status_code == 200, path
    assert client.get(base + "/findings.json").mimetype == "application/json"


# --------------------------------------------------------------------------- no equivalent

# Pages with no partnership equivalent: the page says so and links what to use instead.
NOT_USED = {
    "/audits/any/moderate": ("Moderation", "/partnership#children"),
    "/timeliness": ("Timeliness measures", "/partnership"),
    "/cases/assign": ("Assigning cases to reviewers", "/partnership#auditors"),
    "/re-audit": ("Re-audits", "/partnership/findings"),
    "/collaboration": ("Auditing with the practitioner", "/partnership"),
    "/export/findings.csv": ("This download", "/partnership/findings"),
    "/export/conversations.csv": ("This download", "/partnership/findings"),
    "/export/family-feedback.csv": ("This download", "/partnership/findings"),
}


def test_pages_without_an_equivalent_say_what_to_use_instead(world: World) -> None:
    client = world.client("lead")
    base = f"/reviews/{world.review.id}"
    for path, (page_name, link) in NOT_USED.items():
        response = client.get(base + path)
        assert response.status_code == 200, path
        words = _text(response.text)
        assert f"{page_name}: not used in a multi-agency audit" in words, path
        assert f'href="{base}{link}"' in response.text, path
        assert "Nothing was saved" not in words  # a page read, not a form refused
        assert "0 cases" not in words


def test_the_page_offers_only_what_the_person_may_open(world: World, db: Any) -> None:
    """A reviewer of the multi-agency review (no lead pages) is offered only the audit's page."""
    reviewer = users.create(db, "reader", PASSWORD, "reviewer")
    reviews.add_member(db, world.review.id, reviewer.id, "reviewer")
    client = world.client("reader")
    token = csrf_token(client.get("/reviews").text)
    url = f"/reviews/{world.review.id}/cases/{world.cases[2]}/audit"  # scoring.start_audit
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 409
    assert f'href="/reviews/{world.review.id}/partnership"' in response.text
    assert "/partnership/findings" not in response.text
    assert audits.first_audit_id(db, world.cases[2]) is None


# Forms of single-agency pages (with what they would need to do anything).
POSTS = {
    "/second-audits": {"share": "20"},
    "/moderation-setting": {"moderation": "on"},
    "/findings/new": {"kind": "strength", "text": "Good joint working.", "questions": ""},
    "/findings/suggestion": {"key": "x", "decision": "accept", "text": "x"},
    "/family-quotes": {},
    "/cases/share-evenly": {},
    "/timeliness/reset": {},
    "/report/issue": {"audience": "internal"},
    "/report/pdf": {"audience": "internal"},
    "/report/docx": {"audience": "internal"},
}


def _stored(db: Any, review_id: str) -> tuple[Any, ...]:
    count = lambda sql: db.execute(sql, [review_id]).fetchone()[0]  # noqa: E731
    return (
        count("SELECT count(*) FROM change_log WHERE review_id = ?"),
        count("SELECT count(*) FROM case_audit WHERE review_id = ?"),
        count("SELECT count(*) FROM finding WHERE review_id = ?"),
        count("SELECT count(*) FROM issued_report WHERE review_id = ?"),
        count("SELECT settings FROM review WHERE id = ?"),
        count("SELECT version FROM review WHERE id = ?"),
        tuple(
            tuple(r)
            for r in db.execute(
                "SELECT id, assigned_to, second_audit FROM case_file WHERE review_id = ?",
                [review_id],
            )
        ),
    )


def test_forms_posted_to_single_agency_pages_write_nothing(world: World, db: Any) -> None:
    client = world.client("lead")
    token = csrf_token(client.get("/reviews").text)
    base = f"/reviews/{world.review.id}"
    before = _stored(db, world.review.id)
    posts = {**POSTS, f"/cases/{world.cases[2]}/audit": {}}
    for path, form in posts.items():
        response = client.post(base + path, data={"csrf_token": token, **form})
        assert response.status_code == 409, path
        words = _text(response.text)
        assert "not used in a multi-agency audit" in words, path
        assert "Nothing was saved" in words, path
    assert _stored(db, world.review.id) == before


def test_who_may_not_see_or_use_a_page_is_still_refused(world: World) -> None:
    """Sending elsewhere comes after the access checks: an outsider 404, an agency 403."""
    outsider, police = world.client("outsider"), world.client("police")
    tokens = {
        "outsider": csrf_token(outsider.get("/reviews").text),
        "police": csrf_token(police.get("/reviews").text),
    }
    anonymous = world.app.test_client()
    for endpoint in sorted(INSTEAD):
        methods = (
            next(r.methods for r in world.app.url_map.iter_rules() if r.endpoint == endpoint)
            or set()
        )
        method = "GET" if "GET" in methods else "POST"
        url = _url(world, endpoint, method)
        for who, client, expected in (("outsider", outsider, 404), ("police", police, 403)):
            if method == "GET":
                status = client.get(url).status_code
            else:
                status = client.post(url, data={"csrf_token": tokens[who]}).status_code
            assert status == expected, f"{method} {endpoint} as {who}: {status}"
        if method == "GET":
            response = anonymous.get(url)
            assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# --------------------------------------------------------------------------- the list


def _row(page: str, title: str) -> str:
    for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", page, re.S):
        if f">{title}</a>" in row:
            return _text(row)
    raise AssertionError(f"no row for {title}")


def test_the_list_counts_agency_audits_and_panels_held(world: World) -> None:
    # 3 children; 5 agency audits expected (C1 x2, C2 x2, C3 x1), 3 submitted; C1 held.
    lead = world.client("lead").get("/reviews").text
    assert "3 children" in _row(lead, "MACA")
    assert "3 of 5 agency audits; 1 panel held" in _row(lead, "MACA")
    assert "Multi-agency" in _row(lead, "MACA")
    # The single-agency review still counts its case files and submitted first audits.
    single = _row(lead, "Single-agency review")
    assert "agency audits" not in single and re.search(r"\b1 0 Lead\b", single), single


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # Police knows C1 and C2 and submitted both; C1's panel is held.
        ("police", ("2 children", "2 of 2 your agency's audits; 1 panel held")),
        # Health visiting knows C1 (submitted, held) and C3 (not started).
        ("health", ("2 children", "1 of 2 your agency's audits; 1 panel held")),
        # Education knows C2 only: its draft is not submitted; no panel of C2 yet.
        ("school", ("1 child", "0 of 1 your agency's audits; 0 panels held")),
    ],
)
def test_an_agency_auditor_s_list_counts_only_their_agency_s(
    world: World, who: str, expected: tuple[str, str]
) -> None:
    row = _row(world.client(who).get("/reviews").text, "MACA")
    for words in expected:
        assert words in row, row
    assert "Agency auditor" in row
    assert "3 children" not in row and "of 5" not in row  # nothing partnership-wide


def test_an_auditor_who_left_their_agency_sees_no_counts(world: World, db: Any) -> None:
    agencies.set_user_agency(db, world.people["police"].id, None, by=world.people["admin"].id)
    row = _row(world.client("police").get("/reviews").text, "MACA")
    assert "0 children" in row and "0 of 0 your agency's audits; 0 panels held" in row, row


# --------------------------------------------------------------------------- alerts


def _log(db: Any, entity: str) -> list[tuple[str, Any]]:
    return [
        (r["action"], json.loads(r["after"] or "null"))
        for r in db.execute(
            "SELECT action, after FROM change_log WHERE entity = ? ORDER BY id", [entity]
        )
    ]


def test_case_audit_and_agency_audit_alerts_follow_one_rule(world: World, db: Any) -> None:
    """Raised on an adverse answer, kept once, withdrawn unrecorded, raised again, recorded."""
    lead = world.people["lead"]
    # A case audit of the single-agency review.
    case_id = reviews.case_files(db, world.single.id)[0]["id"]
    audit_id = audits.start(db, case_id, lead.id)

    def case_save(value: str, submit: bool = False) -> audits.SaveResult:
        version = audits.get(db, audit_id).version
        return audits.save(
            db,
            audit_id,
            expected_version=version,
            answers={"child_safeguarded": Answer(value, False, "Synthetic.")},
            sections_na=(),
            feedback={},
            adverse_questions=["child_safeguarded"] if value == "no" else [],
            critical_questions=["child_safeguarded"],
            by=lead.id,
            submit=submit,
        )

    # Health visiting's audit of C3 (its only agency, so no panel opens meanwhile).
    health = world.people["health"]
    c3 = world.cases[2]
    agency_audit_id = agency_audits.start(db, world.review.id, c3, "health_visiting", by=health.id)

    def agency_save(value: str, submit: bool = False) -> agency_audits.SaveResult:
        version = agency_audits.get(db, agency_audit_id).version
        return agency_audits.save(
            db,
            agency_audit_id,
            expected_version=version,
            answers={"child_safe": Answer(value, False, "Synthetic.")},
            sections_na=(),
            adverse_questions=["child_safe"] if value == "no" else [],
            critical_questions=["child_safe"],
            by=health.id,
            submit=submit,
        )

    for save, listed, record, review_id in (
        (case_save, audits.escalations, audits.record_escalation, world.single.id),
        (agency_save, agency_audits.escalations, agency_audits.record_escalation, world.review.id),
    ):
        first = save("no", submit=True)
        assert len(first.raised) == 1 and first.open_escalations == first.raised
        assert not first.submitted  # never submitted with an alert unrecorded
        assert save("no").raised == ()  # the same answer again raises nothing new
        assert save("yes").open_escalations == ()  # changed before anyone was told: withdrawn
        again = save("no")
        assert len(again.raised) == 1 and again.raised != first.raised
        record(
            db,
            again.raised[0],
            review_id,
            told_who="Team manager",
            told_at="2026-10-27T14:30",
            agreed_action="Strategy discussion today.",
            by=lead.id,
        )
        alerts = {a["id"]: a for a in listed(db, review_id)}
        assert alerts[first.raised[0]]["withdrawn_at"] is not None
        assert alerts[again.raised[0]]["told_who"] == "Team manager"
        assert listed(db, review_id, open_only=True) == []
        assert save("no", submit=True).submitted  # recorded: the audit submits
        with pytest.raises(LookupError):
            record(
                db,
                again.raised[0],
                world.single.id if review_id == world.review.id else world.review.id,
                told_who="x",
                told_at="2026-10-27T14:30",
                agreed_action="x",
                by=lead.id,
            )
    case_log, agency_log = _log(db, "escalation"), _log(db, "agency_escalation")
    # The same story in the change log: raised, withdrawn, raised, recorded.
    assert (
        [a for a, _ in case_log]
        == [a for a, _ in agency_log]
        == [
            "create",
            "update",
            "create",
            "update",
        ]
    )
    assert case_log[0][1] == {"question_id": "child_safeguarded", "audit_id": audit_id}
    assert agency_log[0][1] == {
        "question_id": "child_safe",
        "case_id": c3,
        "agency_id": "health_visiting",
    }
    assert case_log[1][1] == agency_log[1][1] == {"withdrawn": True}
    assert case_log[3][1]["told_who"] == agency_log[3][1]["told_who"] == "Team manager"
