"""Who gets what in a multi-agency review, before and after a child's panel opens.

Roles, all against review M (a multi-agency review led by ``lead``):

- ``police`` and ``health``: agency auditors of M (police, health visiting);
- ``agency_out``: a police auditor of another multi-agency review only (review N);
- ``lead``: M's audit lead (belongs to no agency); ``lead_other``: N's lead;
- ``admin``: an admin, in neither review; ``anonymous``: not signed in.

Children of M: C1 known to police and health visiting (police has submitted; health visiting's
audit is a draft that raised a safeguarding alert), C2 known to police only (submitted, so its
panel opened and was held), C3 known to health visiting only (a draft). A review the user may
not see is 404; an action they may not take 403.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from audit.data import agency_audits, panels, users
from audit.rubric import agency_part
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.partnership_helpers import agency_audit, answers_for, auditor, hold_panel, partnership

ROLES = ("anonymous", "police", "health", "agency_out", "lead", "lead_other", "admin")
Expected = int | frozenset[int]
DONE = frozenset({200, 302, 400})


def _row(
    police: Expected,
    health: Expected,
    lead: Expected,
    admin: Expected | None = None,
    outsiders: int = 404,
) -> dict[str, Expected]:
    return {
        "anonymous": 302,
        "police": police,
        "health": health,
        "agency_out": outsiders,
        "lead": lead,
        "lead_other": outsiders,
        "admin": lead if admin is None else admin,
    }


LEAD_ONLY = _row(403, 403, 200)

# (endpoint, method, which argument set) -> expected per role, before the C1 panel opens.
BEFORE: dict[tuple[str, str, str], dict[str, Expected]] = {
    ("partnership.overview", "GET", "c1"): _row(200, 200, 200),
    ("partnership.child_new", "GET", "c1"): LEAD_ONLY,
    ("partnership.child_new", "POST", "c1"): _row(403, 403, DONE),
    ("partnership.child_agencies", "GET", "c1"): LEAD_ONLY,
    ("partnership.child_agencies", "POST", "c1"): _row(403, 403, DONE),
    ("partnership.auditor_add", "POST", "c1"): _row(403, 403, 302),
    # Each agency opens its own audit of a child it knows; the lead belongs to no agency.
    ("partnership.audit_start", "POST", "c1"): _row(302, 302, 403),
    ("partnership.audit_start", "POST", "c3"): _row(403, 302, 403),
    # Police's submitted audit of C1: police and the lead read it; health visiting may not.
    ("partnership.agency_audit", "GET", "c1_police"): _row(200, 403, 200),
    ("partnership.agency_audit", "POST", "c1_police"): _row(302, 403, 302),
    # Health visiting's draft of C1: only health visiting, not even the lead, until the panel.
    ("partnership.agency_audit", "GET", "c1_health"): _row(403, 200, 403),
    # The alert health visiting raised: its author and the lead record it.
    ("partnership.alert", "GET", "c1_health"): _row(403, 200, 200),
    ("partnership.alert", "POST", "c1_health"): _row(403, 200, 200),
    # C1's panel is not open: nobody at an agency sees it; the lead sees who has finished.
    ("partnership.panel_page", "GET", "c1"): _row(403, 403, 200),
    ("partnership.panel_page", "POST", "c1"): _row(403, 403, 302),
    ("partnership.learning_add", "POST", "c1"): _row(403, 403, 409),
    ("partnership.action_add", "POST", "c1"): _row(403, 403, 409),
    # C2's panel is open (police alone knows the child and has submitted).
    ("partnership.panel_page", "GET", "c2"): _row(200, 403, 200),
    ("partnership.panel_page", "GET", "c3"): _row(403, 403, 200),
    # Lead pages, downloads included.
    ("partnership.findings_page", "GET", "c1"): LEAD_ONLY,
    ("partnership.summary_save", "POST", "c1"): _row(403, 403, 302),
    ("partnership.findings_json", "GET", "c1"): LEAD_ONLY,
    ("partnership.export_download", "GET", "c1"): LEAD_ONLY,
    ("partnership.export_download", "GET", "xlsx"): LEAD_ONLY,
    ("partnership.report_page", "GET", "c1"): LEAD_ONLY,
    # An unknown format is refused after the access check, before anything is rendered.
    ("partnership.report_page", "POST", "c1"): _row(403, 403, 400),
    ("reviews.review_page", "GET", "c1"): _row(403, 403, 302),
    ("transfer.bundle_download", "GET", "c1"): LEAD_ONLY,
    ("transfer.export_download", "GET", "c1"): LEAD_ONLY,
    ("transfer.findings_json", "GET", "c1"): LEAD_ONLY,
    ("report.preview", "GET", "c1"): LEAD_ONLY,
    ("findings.dashboard", "GET", "c1"): LEAD_ONLY,
    ("history.review_history", "GET", "c1"): LEAD_ONLY,
    # An agency's part as a bundle: each agency its own; the lead any.
    ("partnership.bundle_download", "GET", "c1"): _row(200, 403, 200),
    ("partnership.bundle_download", "GET", "c1_health"): _row(403, 200, 200),
}

# What changes once the lead opens C1's panel: everyone at it sees every agency's answers.
AFTER: dict[tuple[str, str, str], dict[str, Expected]] = {
    ("partnership.agency_audit", "GET", "c1_police"): _row(200, 200, 200),
    ("partnership.agency_audit", "GET", "c1_health"): _row(200, 200, 200),
    # Nothing changes under the panel: an agency's post is refused with a message.
    ("partnership.agency_audit", "POST", "c1_health"): _row(302, 302, 302),
    ("partnership.panel_page", "GET", "c1"): _row(200, 200, 200),
    # An empty post names no version: refused as a conflict, nothing saved.
    ("partnership.panel_page", "POST", "c1"): _row(403, 403, 409),
    ("partnership.learning_add", "POST", "c1"): _row(403, 403, 400),
    ("partnership.action_add", "POST", "c1"): _row(403, 403, 400),
    ("partnership.panel_page", "GET", "c2"): _row(200, 403, 200),
    ("partnership.panel_page", "GET", "c3"): _row(403, 403, 200),
    ("partnership.findings_page", "GET", "c1"): LEAD_ONLY,
    ("partnership.findings_json", "GET", "c1"): LEAD_ONLY,
    ("partnership.export_download", "GET", "c1"): LEAD_ONLY,
    ("partnership.report_page", "GET", "c1"): LEAD_ONLY,
    ("transfer.bundle_download", "GET", "c1"): LEAD_ONLY,
    ("partnership.bundle_download", "GET", "c1"): _row(200, 403, 200),
    ("partnership.bundle_download", "GET", "c1_health"): _row(403, 200, 200),
}

# Routes an agency auditor may reach at all; everything else answers 403 or 404.
AGENCY_ROUTES = {
    "static",
    "auth.sign_in",
    "auth.sign_in_code",
    "auth.sso_start",
    "auth.sso_callback",
    "auth.waiting",
    "auth.sign_out",
    "reviews.home",
    "reviews.review_list",
    "account.overview",
    "account.password",
    "account.two_factor",
    "account.two_factor_off",
    "account.session_end",
    "account.sessions_end_all",
    "calibration.programme_exercise_list",  # lists only panels the person takes part in
    "partnership.overview",
    "partnership.audit_start",
    "partnership.agency_audit",
    "partnership.alert",
    "partnership.panel_page",
    "partnership.bundle_download",
}


@dataclass
class World:
    app: Flask
    db: Any
    people: dict[str, users.User]
    clients: dict[str, FlaskClient]
    tokens: dict[str, str]
    args: dict[str, dict[str, str]]
    review_id: str
    cases: list[str]
    audits: dict[str, str]

    def url(self, endpoint: str, which: str, **extra: str) -> str:
        with self.app.test_request_context():
            rule = next(r for r in self.app.url_map.iter_rules() if r.endpoint == endpoint)
            values = {k: v for k, v in self.args[which].items() if k in rule.arguments}
            return url_for(endpoint, **values, **extra)

    def open(self, role: str, method: str, url: str, data: dict[str, str] | None = None) -> Any:
        client = self.clients[role]
        if method == "POST":
            response = client.post(url, data={"csrf_token": self.tokens[role], **(data or {})})
        else:
            response = client.get(url)
        response.close()
        return response


@pytest.fixture
def world(app: Flask, db: Any) -> World:
    people = {
        "lead": users.create(db, "lead", PASSWORD, "lead"),
        "lead_other": users.create(db, "otherlead", PASSWORD, "lead"),
        "admin": users.create(db, "admin", PASSWORD, "admin"),
        "police": auditor(db, "police", "police"),
        "health": auditor(db, "health", "health_visiting"),
        "agency_out": auditor(db, "outsider", "police"),
        "spare": auditor(db, "spare", "education"),
    }
    review, cases = partnership(
        db,
        people["lead"],
        [
            ("cp", {"police": "P-1", "health_visiting": "H-1"}),
            ("cin", {"police": "P-2"}),
            ("cp", {"health_visiting": "H-3"}),
        ],
    )
    for name in ("police", "health", "spare"):
        agency_audits.add_auditor(db, review.id, people[name].id, by=people["lead"].id)
    c1, c2, c3 = cases
    police_c1, _ = agency_audit(db, review, c1, "police", people["police"])
    health_c1, result = agency_audit(
        db, review, c1, "health_visiting", people["health"], submit=False, child_safe="no"
    )
    assert result.raised, "an adverse critical answer raises an alert"
    agency_audit(db, review, c2, "police", people["police"])
    agency_audit(db, review, c3, "health_visiting", people["health"], submit=False)
    hold_panel(db, review, c2, people["lead"])
    learning_id = panels.add_learning(
        db, review.id, c2, text="Share notifications sooner.", theme_ids=[], by=people["lead"].id
    )
    other, (d1,) = partnership(db, people["lead_other"], [("cp", {"police": "P-9"})], title="N")
    agency_audits.add_auditor(db, other.id, people["agency_out"].id, by=people["lead_other"].id)
    agency_audit(db, other, d1, "police", people["agency_out"], submit=False)

    usernames = {
        "police": "police",
        "health": "health",
        "agency_out": "outsider",
        "lead": "lead",
        "lead_other": "otherlead",
        "admin": "admin",
    }
    clients, tokens = {}, {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            assert Auth(client).sign_in(usernames[role]).status_code == 302
        clients[role] = client
        tokens[role] = csrf_token(client.get("/sign-in").text)
    base = {"review_id": review.id, "what": "answers", "fmt": "csv", "learning_id": learning_id}
    args = {
        "c1": {**base, "case_id": c1, "audit_id": police_c1, "agency_id": "police"},
        "c1_police": {**base, "case_id": c1, "audit_id": police_c1},
        "c1_health": {
            **base,
            "case_id": c1,
            "audit_id": health_c1,
            "agency_id": "health_visiting",
            "alert_id": result.raised[0],
        },
        "c2": {**base, "case_id": c2},
        "c3": {**base, "case_id": c3},
        "xlsx": {**base, "what": "all", "fmt": "xlsx"},
    }
    return World(
        app,
        db,
        people,
        clients,
        tokens,
        args,
        review.id,
        cases,
        {"police_c1": police_c1, "health_c1": health_c1},
    )


FORMS = {"partnership.report_page": {"fmt": "odt"}}


def _check(world: World, table: dict[tuple[str, str, str], dict[str, Expected]]) -> list[str]:
    problems = []
    for (endpoint, method, which), expected in table.items():
        url = world.url(endpoint, which)
        for role in ROLES:
            status = world.open(role, method, url, FORMS.get(endpoint)).status_code
            want = expected[role]
            ok = status in want if isinstance(want, frozenset) else status == want
            if not ok:
                problems.append(
                    f"{method} {endpoint} [{which}] as {role}: expected {want}, got {status}"
                )
    return problems


def test_agency_roles_before_and_after_the_panel_opens(world: World) -> None:
    problems = _check(world, BEFORE)
    lead = world.clients["lead"]
    opened = lead.post(
        world.url("partnership.panel_open", "c1"), data={"csrf_token": world.tokens["lead"]}
    )
    assert opened.status_code == 302
    assert agency_audits.panel_open(world.db, world.cases[0])
    problems += _check(world, AFTER)
    assert not problems, "\n".join(problems)


def test_only_the_lead_opens_a_panel_and_removes_learning(world: World) -> None:
    for role in ("police", "health"):
        assert (
            world.open(role, "POST", world.url("partnership.panel_open", "c1")).status_code == 403
        )
        url = world.url("partnership.learning_delete", "c2")
        assert world.open(role, "POST", url).status_code == 403
        assert (
            world.open(role, "POST", world.url("partnership.audit_reopen", "c1_police")).status_code
            == 403
        )
    assert not agency_audits.panel_open(world.db, world.cases[0])
    assert (
        world.open("lead", "POST", world.url("partnership.learning_delete", "c2")).status_code
        == 302
    )
    assert panels.learning(world.db, world.review_id) == []


def test_an_agency_auditor_reaches_no_other_page(world: World) -> None:
    """Walk every route of the app as the agency auditors: beyond their own few, 403 or 404."""
    values = {
        **world.args["c1_health"],
        "finding_id": world.cases[0],
        "escalation_id": world.cases[0],
        "exercise_id": world.cases[0],
        "programme_id": world.cases[0],
        "action_id": world.cases[0],
        "theme_id": world.cases[0],
        "job_id": world.cases[0],
        "report_id": world.cases[0],
        "question_id": "child_safe",
        "change": "up",
        "measure_id": "x",
        "user_id": "1",
        "day": "2031-12-29",
        "rubric_id": "multi-agency-case-audit",
        "version": "1.0",
        "session_id": "999999",
        "learning_id": world.args["c1"]["learning_id"],
    }
    problems = []
    with world.app.test_request_context():
        rules = [r for r in world.app.url_map.iter_rules() if r.endpoint not in AGENCY_ROUTES]
        urls = [(r, url_for(r.endpoint, **{k: values[k] for k in r.arguments})) for r in rules]
    for rule, url in urls:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ("police", "health"):
                status = world.open(role, method, url).status_code
                if status not in (403, 404):
                    problems.append(f"{method} {url} ({rule.endpoint}) as {role}: got {status}")
    assert not problems, "\n".join(problems)


def _csv_rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_downloads_hold_only_what_the_reader_may_see(world: World) -> None:
    lead = world.clients["lead"]
    rows = _csv_rows(lead.get(world.url("partnership.export_download", "c1")))
    c1 = [r for r in rows if r["Review reference"] == "MACA-001"]
    # Police has submitted; health visiting's draft is its own until the panel opens.
    assert {r["Answered by"] for r in c1} == {"Police"}
    # The police's part as a bundle: its children, its audits, no other agency's anything.
    police_bundle = json.loads(
        world.clients["police"].get(world.url("partnership.bundle_download", "c1")).data
    )
    part = police_bundle["partnership"]
    assert {a["agency_id"] for a in part["agency_audits"]} == {"police"}
    assert {r["agency_id"] for r in part["case_agencies"]} == {"police"}
    assert part["panels"] == [] and part["learning"] == [] and part["actions"] == []
    assert len(police_bundle["cases"]) == 2  # C1 and C2, not C3
    assert "H-1" not in json.dumps(police_bundle)  # health visiting's reference
    assert police_bundle["members"] == [] and police_bundle["history"] == []

    lead.post(world.url("partnership.panel_open", "c1"), data={"csrf_token": world.tokens["lead"]})
    rows = _csv_rows(lead.get(world.url("partnership.export_download", "c1")))
    c1 = [r for r in rows if r["Review reference"] == "MACA-001"]
    assert {r["Answered by"] for r in c1} == {"Police", "Health visiting"}
    fixed = [r for r in c1 if r["Answered by"] == "Health visiting"]
    assert all(r["Status"].startswith("Not submitted") for r in fixed)


def test_the_public_partnership_report_is_refused_with_a_sentence(world: World) -> None:
    url = world.url("partnership.report_page", "c1", audience="public")
    response = world.open("lead", "GET", url)
    assert response.status_code == 409
    assert "A public version of the partnership report is not available yet" in response.text
    response = world.open("lead", "POST", url, {"fmt": "pdf"})
    assert response.status_code == 409


def test_an_agency_auditor_edits_only_their_agency_s_draft(world: World) -> None:
    """Health visiting saves its draft; police cannot post to it, nor the lead."""
    db = world.db
    audit = agency_audits.get(db, world.audits["health_c1"])
    part = agency_part(
        world.app.extensions["rubric_library"].get("multi-agency-case-audit"), "health_visiting"
    )
    url = world.url("partnership.agency_audit", "c1_health")
    form = {"version": str(audit.version), "action": "save", "answer-child_safe": "yes"}
    assert world.open("police", "POST", url, form).status_code == 403
    assert world.open("lead", "POST", url, form).status_code == 403
    assert agency_audits.get(db, audit.id).version == audit.version
    response = world.open("health", "POST", url, form)
    assert response.status_code == 302
    saved = agency_audits.get(db, audit.id)
    assert saved.version == audit.version + 1
    assert saved.answers["child_safe"].value == "yes"
    assert answers_for(part, "cp")  # the part asks health visiting something about C1


def test_an_agency_auditor_sees_only_their_own_reference(world: World) -> None:
    page = world.open("police", "GET", world.url("partnership.overview", "c1")).text
    assert "P-1" in page and "P-2" in page  # the police's own references
    assert "H-1" not in page and "H-3" not in page  # health visiting's
    assert "MACA-001" not in page  # the review's own reference for the child
