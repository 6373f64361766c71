"""Who gets what: one table for every route, method and role; object-level checks; headers.

``ACCESS`` is the single statement of what each role gets from each route. The walk goes
through the app's whole URL map, so a route missing from the table fails the test: a new
route cannot slip in without someone deciding who may reach it.

The roles, all against one review ("review A", led by ``lead``):

- ``anonymous``: not signed in (sent to ``/sign-in``);
- ``reviewer_in``: the reviewer in review A whose audit, escalation and cases these are;
- ``reviewer_peer``: the other reviewer in review A (not the audit's author);
- ``reviewer_out``: a reviewer who is not in review A (they review review B);
- ``lead_other``: a lead who leads review B but is not in review A;
- ``lead``: the lead of review A;
- ``admin``: an admin (not a member of either review).

A review the user may not see is a 404 (its existence is not revealed); an action the
user may not take is a 403.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from audit import analysis, policy
from audit import findings as findings_domain
from audit.bundles import bundle
from audit.data import actions, audits, holidays, programmes, users
from audit.data import calibration as calibration_data
from audit.data import findings as finding_data
from audit.data import reports as report_data
from audit.data import reviews as review_data
from audit.data import themes as theme_data
from audit.rubric import Rubric
from audit.scoring import Answer, adverse, applicable
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.helpers import health_check, make_review

ROLES = (
    "anonymous",
    "reviewer_in",
    "reviewer_peer",
    "reviewer_out",
    "lead_other",
    "lead",
    "admin",
)

Expected = int | frozenset[int]

# A POST the role is allowed to make: redirected after success, or the form re-rendered
# (200) or refused as invalid (400) because the test posts an empty or minimal form.
DONE = frozenset({200, 302, 400})


def _everyone(status: Expected, anonymous: Expected = 302) -> dict[str, Expected]:
    """Every signed-in role gets ``status``."""
    return {role: status for role in ROLES} | {"anonymous": anonymous}


def _team(status: Expected) -> dict[str, Expected]:
    """Review A's own people and admins (policy ``review.view``); outsiders get 404."""
    return {
        "anonymous": 302,
        "reviewer_in": status,
        "reviewer_peer": status,
        "reviewer_out": 404,
        "lead_other": 404,
        "lead": status,
        "admin": status,
    }


def _managers(status: Expected) -> dict[str, Expected]:
    """Review A's lead and admins (``review.manage``); its reviewers 403, outsiders 404."""
    return {
        "anonymous": 302,
        "reviewer_in": 403,
        "reviewer_peer": 403,
        "reviewer_out": 404,
        "lead_other": 404,
        "lead": status,
        "admin": status,
    }


def _account(status: Expected, *roles: str) -> dict[str, Expected]:
    """Actions granted by account role alone: the listed roles get ``status``, others 403."""
    by_account = {
        "reviewer_in": "reviewer",
        "reviewer_peer": "reviewer",
        "reviewer_out": "reviewer",
        "lead_other": "lead",
        "lead": "lead",
        "admin": "admin",
    }
    return {"anonymous": 302} | {
        role: status if account in roles else 403 for role, account in by_account.items()
    }


_CREATORS = ("admin", "lead")  # policy: review.create, rubrics.view, rubrics.upload
# A programme exercise's participants (reviewer_in, and reviewer_out from review B) and
# its managers (every lead and admin: policy calibration.programme_manage).
_PROGRAMME_PANEL = _everyone(200)
_PROGRAMME_GRADERS = _everyone(403) | {"reviewer_in": 200, "reviewer_out": 200}
_PROGRAMME_GRADED = {"reviewer_in": 302, "reviewer_out": 302}
_ADMINS = ("admin",)  # policy: users.manage

# (endpoint, method) -> expected status per role.
ACCESS: dict[tuple[str, str], dict[str, Expected]] = {
    # ------------------------------------------------------------------ auth and lists
    ("auth.sign_in", "GET"): _everyone(200, anonymous=200),
    ("auth.sign_in", "POST"): _everyone(200, anonymous=200),  # empty form: re-rendered
    ("auth.sign_out", "POST"): _everyone(302),
    # Public steps of signing in: the code page sends anyone with no right password pending
    # back to sign in; single sign-on is not configured in this app, so its pages are 404.
    ("auth.sign_in_code", "GET"): _everyone(302),
    ("auth.sign_in_code", "POST"): _everyone(302),
    ("auth.sso_start", "GET"): _everyone(404, anonymous=404),
    ("auth.sso_callback", "GET"): _everyone(404, anonymous=404),
    # Only an account waiting for a role sees the waiting page; the rest go home.
    ("auth.waiting", "GET"): _everyone(302),
    # Your own account: every signed-in person, acting on their own sessions and settings.
    ("account.overview", "GET"): _everyone(200),
    ("account.password", "GET"): _everyone(200),
    ("account.password", "POST"): _everyone(200),  # empty form: re-rendered with errors
    ("account.two_factor", "GET"): _everyone(200),
    ("account.two_factor", "POST"): _everyone(200),  # no code: re-rendered with an error
    ("account.two_factor_off", "POST"): _everyone(302),  # codes are not on: nothing to do
    ("account.session_end", "POST"): _everyone(302),  # someone else's or no session: no-op
    ("account.sessions_end_all", "POST"): _everyone(302),
    ("reviews.home", "GET"): _everyone(302),
    ("reviews.review_list", "GET"): _everyone(200),
    ("reviews.review_new", "GET"): _account(200, *_CREATORS),
    ("reviews.review_new", "POST"): _account(DONE, *_CREATORS),
    ("transfer.bundle_upload", "GET"): _account(200, *_CREATORS),
    ("transfer.bundle_upload", "POST"): _account(DONE, *_CREATORS),
    # ------------------------------------------------------------------ one review
    ("reviews.review_page", "GET"): _team(200),
    ("reviews.review_status", "POST"): _managers(DONE),
    ("reviews.review_members", "POST"): _managers(DONE),
    ("reviews.cases_import", "GET"): _managers(200),
    ("reviews.cases_import", "POST"): _managers(DONE),
    ("reviews.cases_sample", "GET"): _managers(200),
    ("reviews.cases_sample", "POST"): _managers(DONE),
    ("reviews.cases_assign", "GET"): _managers(200),
    ("reviews.cases_assign", "POST"): _managers(DONE),
    ("reviews.cases_share_evenly", "POST"): _managers(DONE),
    ("reviews.timeliness_settings", "GET"): _managers(200),
    ("reviews.timeliness_settings", "POST"): _managers(DONE),
    ("reviews.timeliness_remove", "POST"): _managers(DONE),
    ("reviews.timeliness_reset", "POST"): _managers(DONE),
    ("transfer.bundle_download", "GET"): _managers(200),
    ("transfer.export_download", "GET"): _managers(200),
    ("transfer.findings_json", "GET"): _managers(200),
    ("history.review_history", "GET"): _managers(200),
    # Only admins delete, and only a closed review: review A is open, so the admin is sent
    # back to the review (302) and nothing is deleted; its lead may not (403).
    ("reviews.review_delete", "GET"): _managers(302) | {"lead": 403},
    ("reviews.review_delete", "POST"): _managers(302) | {"lead": 403},
    # ------------------------------------------------------------------ scoring
    # Scoring is for the review's team only: an admin who is not a member may not score.
    ("scoring.start_audit", "POST"): _team(302) | {"admin": 403},
    # The submitted audit of reviewer_in: its author and the review's managers read it; the
    # other reviewer in the same review may not.
    ("scoring.audit_page", "GET"): _team(200) | {"reviewer_peer": 403},
    ("scoring.audit_page", "POST"): _team(302) | {"reviewer_peer": 403},
    ("scoring.reopen", "POST"): _managers(DONE),
    # The escalation reviewer_in raised: they and the managers record it, nobody else.
    ("scoring.escalation_page", "GET"): _team(200) | {"reviewer_peer": 403},
    ("scoring.escalation_page", "POST"): _team(DONE) | {"reviewer_peer": 403},
    # ------------------------------------------------------------------ with the practitioner
    # Review A is collaborative. The conversation and the family feedback of reviewer_in's
    # submitted audit: its author and the review's lead record them (an empty post is
    # re-rendered with errors); the other reviewer may not, nor an admin who is not in the
    # review (recording is scoring work: policy review.score).
    ("collab.settings", "GET"): _managers(200),
    ("collab.settings", "POST"): _managers(DONE),
    ("collab.conversation", "GET"): _team(200) | {"reviewer_peer": 403, "admin": 403},
    ("collab.conversation", "POST"): _team(DONE) | {"reviewer_peer": 403, "admin": 403},
    ("collab.family", "GET"): _team(200) | {"reviewer_peer": 403, "admin": 403},
    ("collab.family", "POST"): _team(DONE) | {"reviewer_peer": 403, "admin": 403},
    ("collab.family_quotes", "POST"): _managers(DONE),
    # ------------------------------------------------------------------ findings, moderation
    ("findings.dashboard", "GET"): _managers(200),
    ("findings.findings_page", "GET"): _managers(200),
    ("findings.suggestion_decide", "POST"): _managers(DONE),
    ("findings.finding_change", "POST"): _managers(DONE),
    ("findings.findings_merge", "POST"): _managers(DONE),
    ("findings.finding_new", "POST"): _managers(DONE),
    ("findings.summary_save", "POST"): _managers(DONE),
    ("findings.moderate", "GET"): _managers(200),
    ("findings.moderate", "POST"): _managers(DONE),
    ("findings.moderation_setting", "POST"): _managers(DONE),
    ("findings.agreement_page", "GET"): _managers(200),
    # ------------------------------------------------------------------ programmes, actions
    # Programmes belong to the installation's leads (policy programmes.manage).
    ("programmes.programme_list", "GET"): _account(200, *_CREATORS),
    ("programmes.programme_new", "GET"): _account(200, *_CREATORS),
    ("programmes.programme_new", "POST"): _account(DONE, *_CREATORS),
    ("programmes.programme_page", "GET"): _account(200, *_CREATORS),
    ("programmes.pack", "GET"): _account(200, *_CREATORS),
    ("programmes.pack_download", "GET"): _account(200, *_CREATORS),
    ("programmes.next_review", "GET"): _account(200, *_CREATORS),
    ("programmes.next_review", "POST"): _account(DONE, *_CREATORS),
    ("programmes.re_audit", "GET"): _managers(200),
    ("programmes.re_audit", "POST"): _managers(DONE),
    ("programmes.action_add", "POST"): _managers(DONE),
    ("programmes.action_page", "GET"): _managers(200),
    ("programmes.action_page", "POST"): _managers(DONE),
    ("programmes.action_plan", "GET"): _managers(200),
    ("transfer.action_plan_download", "GET"): _managers(200),
    ("findings.second_audits", "POST"): _managers(DONE),
    # ------------------------------------------------------------------ report
    ("report.preview", "GET"): _managers(200),
    ("report.download", "POST"): _managers(DONE),
    ("report.download_docx", "POST"): _managers(DONE),
    ("report.job_page", "GET"): _managers(200),
    ("report.job_download", "GET"): _managers(200),
    ("report.issue", "POST"): _managers(DONE),
    ("report.threshold", "POST"): _managers(DONE),
    ("report.issued_list", "GET"): _managers(200),
    ("report.issued_download", "GET"): _managers(200),
    # ------------------------------------------------------------------ rubrics
    ("rubrics.rubric_list", "GET"): _account(200, *_CREATORS),
    ("rubrics.rubric_detail", "GET"): _account(200, *_CREATORS),
    ("rubrics.rubric_schema_download", "GET"): _account(200, *_CREATORS),
    ("rubrics.rubric_upload", "GET"): _account(200, *_CREATORS),
    ("rubrics.rubric_upload", "POST"): _account(DONE, *_CREATORS),
    # ------------------------------------------------------------------ admin
    ("admin.user_list", "GET"): _account(200, *_ADMINS),
    ("admin.user_new", "GET"): _account(200, *_ADMINS),
    ("admin.user_new", "POST"): _account(DONE, *_ADMINS),
    ("admin.user_deactivate", "POST"): _account(DONE, *_ADMINS),
    ("admin.user_activate", "POST"): _account(DONE, *_ADMINS),
    ("admin.user_password", "GET"): _account(200, *_ADMINS),
    ("admin.user_password", "POST"): _account(DONE, *_ADMINS),
    ("admin.bank_holidays", "GET"): _account(200, *_ADMINS),
    ("admin.bank_holidays", "POST"): _account(DONE, *_ADMINS),
    ("admin.bank_holiday_nation", "POST"): _account(DONE, *_ADMINS),
    ("admin.bank_holiday_delete", "POST"): _account(DONE, *_ADMINS),
    ("admin.user_role", "POST"): _account(DONE, *_ADMINS),
    ("admin.user_codes_off", "POST"): _account(DONE, *_ADMINS),
    ("admin.security", "GET"): _account(200, *_ADMINS),
    ("admin.security", "POST"): _account(DONE, *_ADMINS),
    ("history.all_history", "GET"): _account(200, *_ADMINS),
    # ------------------------------------------------------------------ calibration panels
    # Review A's exercise: reviewer_in and the lead take part, reviewer_peer does not; its
    # results are not open, so nobody sees anyone's grades (CALIBRATION_OPEN: after opening).
    ("calibration.exercise_list", "GET"): _team(200),
    ("calibration.exercise_new", "GET"): _managers(200),
    ("calibration.exercise_new", "POST"): _managers(DONE),
    ("calibration.exercise_page", "GET"): _team(200) | {"reviewer_peer": 403},
    ("calibration.grade_case", "GET"): _team(200) | {"reviewer_peer": 403, "admin": 403},
    ("calibration.grade_case", "POST"): _team(302) | {"reviewer_peer": 403, "admin": 403},
    ("calibration.submit", "POST"): _team(302) | {"reviewer_peer": 403, "admin": 403},
    ("calibration.open_results", "POST"): _managers(302),
    ("calibration.results_page", "GET"): _team(403),
    ("calibration.results_json", "GET"): _team(403),
    ("calibration.agreed_grade", "GET"): _team(403),
    ("calibration.agreed_grade", "POST"): _team(403),
    ("calibration.exemplar", "GET"): _team(404),
    # Deleting: the confirmation page for its managers; the POST (without "confirm") is
    # refused with 400 after the access check, so the exercise stays for the next role.
    ("calibration.exercise_delete", "GET"): _managers(200),
    ("calibration.exercise_delete", "POST"): _managers(400),
    ("calibration.leniency", "GET"): _account(200, *_CREATORS),
    # The programme's exercise, hosted by review A: reviewer_in and reviewer_out (who is not
    # in review A) take part; any lead runs it (policy calibration.programme_manage); its
    # results are not open. Programme routes get the programme exercise's id (World.url).
    ("calibration.programme_exercise_list", "GET"): _everyone(200),
    ("calibration.programme_exercise_new", "GET"): _account(200, *_CREATORS),
    ("calibration.programme_exercise_new", "POST"): _account(DONE, *_CREATORS),
    ("calibration.programme_exercise_page", "GET"): _PROGRAMME_PANEL | {"reviewer_peer": 403},
    ("calibration.programme_grade_case", "GET"): _PROGRAMME_GRADERS,
    ("calibration.programme_grade_case", "POST"): _PROGRAMME_GRADERS | _PROGRAMME_GRADED,
    ("calibration.programme_submit", "POST"): _PROGRAMME_GRADERS | _PROGRAMME_GRADED,
    ("calibration.programme_open_results", "POST"): _account(302, *_CREATORS),
    ("calibration.programme_results_page", "GET"): _everyone(403),
    ("calibration.programme_results_json", "GET"): _everyone(403),
    ("calibration.programme_agreed_grade", "GET"): _everyone(403),
    ("calibration.programme_agreed_grade", "POST"): _everyone(403),
    ("calibration.programme_exemplar", "GET"): _everyone(404),
    ("calibration.programme_exercise_delete", "GET"): _account(200, *_CREATORS),
    ("calibration.programme_exercise_delete", "POST"): _account(400, *_CREATORS),
    # ------------------------------------------------------------------ learning themes
    # Review A is in the programme: its reviewers read the theme list; the reviewer of no
    # review in it may not. Leads and admins keep the list. The theme is in use (a finding
    # of review A carries it), so deleting it is refused and it stays for the next role.
    ("themes.theme_list", "GET"): _account(200, *_CREATORS)
    | {"reviewer_in": 200, "reviewer_peer": 200},
    ("themes.theme_add", "POST"): _account(DONE, *_CREATORS),
    ("themes.theme_new", "GET"): _account(302, *_CREATORS),
    ("themes.theme_edit", "GET"): _account(200, *_CREATORS),
    ("themes.theme_edit", "POST"): _account(DONE, *_CREATORS),
    ("themes.theme_retire", "POST"): _account(302, *_CREATORS),
    ("themes.theme_delete", "POST"): _account(302, *_CREATORS),
    # Tagging evidence notes and the conversation is the audit's own reviewer's or a lead's.
    ("themes.audit_themes", "GET"): _team(200) | {"reviewer_peer": 403, "admin": 403},
    ("themes.audit_themes", "POST"): _team(DONE) | {"reviewer_peer": 403, "admin": 403},
    ("themes.conversation_themes", "POST"): _team(DONE) | {"reviewer_peer": 403, "admin": 403},
    ("themes.finding_themes", "GET"): _managers(200),
    ("themes.finding_themes", "POST"): _managers(DONE),
    # ------------------------------------------------------------------ multi-agency audit
    # Review A is not a multi-agency review: whoever passes the access check finds no such
    # page (404). The agency roles, before and after a panel opens, are in
    # tests/test_access_partnership.py.
    ("partnership.overview", "GET"): _everyone(404),
    ("partnership.child_new", "GET"): _managers(404),
    ("partnership.child_new", "POST"): _managers(404),
    ("partnership.child_agencies", "GET"): _managers(404),
    ("partnership.child_agencies", "POST"): _managers(404),
    ("partnership.auditor_add", "POST"): _managers(404),
    ("partnership.auditor_remove", "POST"): _managers(404),
    ("partnership.audit_start", "POST"): _team(403) | {"lead": 404},
    ("partnership.agency_audit", "GET"): _everyone(404),
    ("partnership.agency_audit", "POST"): _everyone(404),
    ("partnership.audit_reopen", "POST"): _managers(404),
    ("partnership.alert", "GET"): _everyone(404),
    ("partnership.alert", "POST"): _everyone(404),
    ("partnership.panel_open", "POST"): _managers(404),
    ("partnership.panel_page", "GET"): _managers(404),
    ("partnership.panel_page", "POST"): _managers(404),
    ("partnership.learning_add", "POST"): _managers(404),
    ("partnership.learning_delete", "POST"): _managers(404),
    ("partnership.action_add", "POST"): _managers(404),
    ("partnership.findings_page", "GET"): _managers(404),
    ("partnership.summary_save", "POST"): _managers(404),
    ("partnership.findings_json", "GET"): _managers(404),
    ("partnership.export_download", "GET"): _managers(404),
    ("partnership.report_page", "GET"): _managers(404),
    ("partnership.report_page", "POST"): _managers(404),
    ("partnership.bundle_download", "GET"): _managers(404),
    # The installation's agencies are the admins' (retiring one is undone by the next run).
    ("agencies.agency_list", "GET"): _account(200, *_ADMINS),
    ("agencies.agency_list", "POST"): _account(DONE, *_ADMINS),
    ("agencies.person_agency", "POST"): _account(DONE, *_ADMINS),
    ("agencies.agency_edit", "GET"): _account(200, *_ADMINS),
    ("agencies.agency_edit", "POST"): _account(DONE, *_ADMINS),
    ("agencies.agency_retire", "POST"): _account(302, *_ADMINS),
}

# What changes once the exercise's results are open and an answer is agreed: everyone who
# may open the exercise sees all grades; exemplars are readable by the whole team.
CALIBRATION_OPEN: dict[tuple[str, str], dict[str, Expected]] = {
    ("calibration.exercise_page", "GET"): _team(200) | {"reviewer_peer": 403},
    ("calibration.results_page", "GET"): _team(200) | {"reviewer_peer": 403},
    ("calibration.results_json", "GET"): _team(200) | {"reviewer_peer": 403},
    ("calibration.agreed_grade", "GET"): _managers(200),
    ("calibration.agreed_grade", "POST"): _managers(DONE),
    ("calibration.exemplar", "GET"): _team(200),
    # Results open: grades can no longer change (the POST is refused with a message).
    ("calibration.grade_case", "GET"): _team(200) | {"reviewer_peer": 403, "admin": 403},
    ("calibration.grade_case", "POST"): _team(302) | {"reviewer_peer": 403, "admin": 403},
    # The programme's exercise, opened: its participants and every lead see all grades; the
    # exemplar is readable by the members of the programme's reviews and the participants.
    ("calibration.programme_exercise_page", "GET"): _PROGRAMME_PANEL | {"reviewer_peer": 403},
    ("calibration.programme_results_page", "GET"): _PROGRAMME_PANEL | {"reviewer_peer": 403},
    ("calibration.programme_results_json", "GET"): _PROGRAMME_PANEL | {"reviewer_peer": 403},
    ("calibration.programme_agreed_grade", "GET"): _account(200, *_CREATORS),
    ("calibration.programme_agreed_grade", "POST"): _account(DONE, *_CREATORS),
    ("calibration.programme_exemplar", "GET"): _everyone(200),
    # Open with grades: the page says it cannot be deleted (no button) to those who run it.
    ("calibration.exercise_delete", "GET"): _managers(200),
    ("calibration.programme_exercise_delete", "GET"): _account(200, *_CREATORS),
}

# Extra form fields for POSTs (besides the CSRF token), chosen so that an allowed role
# gets past the access check without changing what later checks rely on.
FORM: dict[str, dict[str, str]] = {
    # An unknown audience is refused (400) after the access check, before any PDF render.
    "report.download": {"audience": "nobody"},
    "report.issue": {"audience": "nobody"},
    # A real suggestion key with no decision: 400 after the access check, nothing stored.
    "findings.suggestion_decide": {"key": "{suggestion_key}", "decision": "neither"},
    # Submitting with grades missing asks again first: confirm, so the submission happens.
    "calibration.submit": {"confirm": "1"},
    "calibration.programme_submit": {"confirm": "1"},
}

# Run these last: submitting and opening a calibration exercise opens its results,
# reopening turns the submitted audit back into a draft, and signing out (everywhere, or
# here) ends each role's session.
LAST = (
    "calibration.submit",
    "calibration.open_results",
    "calibration.programme_submit",
    "calibration.programme_open_results",
    "scoring.reopen",
    "account.sessions_end_all",
    "auth.sign_out",
)

# Signing out everywhere ends the role's session: sign it in again before the next route.
ENDS_SESSIONS = {"account.sessions_end_all"}

# Endpoints with no ``@requires``: reachable by anyone (the steps of signing in, static
# files) or harmless to every signed-in user because they act only on the user's own account
# (the home redirect, signing out, the waiting page, your account's pages).
UNGUARDED = {
    "static",
    "auth.sign_in",
    "auth.sign_in_code",
    "auth.sso_start",
    "auth.sso_callback",
    "auth.waiting",
    "auth.sign_out",
    "reviews.home",
    "account.overview",
    "account.password",
    "account.two_factor",
    "account.two_factor_off",
    "account.session_end",
    "account.sessions_end_all",
}

USERNAMES = {
    "reviewer_in": "reviewer",
    "reviewer_peer": "other",
    "reviewer_out": "outsider",
    "lead_other": "otherlead",
    "lead": "lead",
    "admin": "admin",
}

CSRF_FAILURE = "could not be checked as coming from this page"


# --------------------------------------------------------------------------- the world

_HASHES: dict[str, str] = {}
_real_hash_password = users.hash_password


@pytest.fixture(autouse=True)
def _hash_each_password_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt takes a tenth of a second or more: hash the shared test password once.

    Signing in still checks every password with scrypt; only creating users is cached.
    """

    def cached(password: str) -> str:
        if password not in _HASHES:
            _HASHES[password] = _real_hash_password(password)
        return _HASHES[password]

    monkeypatch.setattr(users, "hash_password", cached)


def _complete_answers(rubric: Rubric, case_type: str, evidence: str) -> dict[str, Answer]:
    """Answer every applicable question well, with evidence."""
    out: dict[str, Answer] = {}
    for _section, questions in applicable(rubric, case_type):
        for q in questions:
            if q.type == "grade":
                out[q.id] = Answer("good", False, evidence)
            elif q.type == "yes_no":
                out[q.id] = Answer(q.good_answer or "yes", False, evidence)
            else:
                out[q.id] = Answer(f"Summary: {evidence}")
    return out


def _save(
    db: Any, rubric: Rubric, audit_id: str, answers: dict[str, Answer], *, by: int, submit: bool
) -> audits.SaveResult:
    current = audits.get(db, audit_id)
    case_type = db.execute(
        "SELECT case_type FROM case_file WHERE id = ?", [current.case_id]
    ).fetchone()[0]
    return audits.save(
        db,
        audit_id,
        expected_version=current.version,
        answers=answers,
        sections_na=set(),
        feedback={},
        adverse_questions=[q.id for q in adverse(rubric, case_type, answers)],
        critical_questions=[q.id for q in rubric.critical_questions()],
        by=by,
        submit=submit,
    )


def _submitted_audit(db: Any, rubric: Rubric, case_id: str, by: int, evidence: str) -> str:
    audit_id = audits.start(db, case_id, by)
    case_type = db.execute("SELECT case_type FROM case_file WHERE id = ?", [case_id]).fetchone()[0]
    answers = _complete_answers(rubric, case_type, evidence)
    # The child was found not adequately safeguarded (so the review has a finding to
    # suggest); the escalation is recorded, as the audit cannot be submitted before.
    critical = rubric.critical_questions()[0]
    answers[critical.id] = Answer(critical.adverse_answer, False, evidence)
    result = _save(db, rubric, audit_id, answers, by=by, submit=True)
    review_id = audits.get(db, audit_id).review_id
    for escalation_id in result.open_escalations:
        audits.record_escalation(
            db,
            escalation_id,
            review_id,
            told_who="Team manager",
            told_at="2026-10-27",
            agreed_action="Strategy discussion today.",
            by=by,
        )
    result = _save(db, rubric, audit_id, answers, by=by, submit=True)
    assert result.submitted
    return audit_id


def _escalation(db: Any, rubric: Rubric, case_id: str, by: int) -> tuple[str, str]:
    """Start a draft audit with an adverse critical answer; return (audit id, escalation id)."""
    audit_id = audits.start(db, case_id, by)
    critical = rubric.critical_questions()[0]
    answers = {critical.id: Answer(critical.adverse_answer, False, "Risk not addressed.")}
    result = _save(db, rubric, audit_id, answers, by=by, submit=False)
    assert result.raised, "an adverse critical answer should raise an escalation"
    return audit_id, result.raised[0]


@dataclass
class Review:
    """Ids of one review's records."""

    id: str
    cases: list[str]
    audit: str  # submitted first audit
    draft: str  # draft audit with an escalation still to record
    escalation: str
    findings: list[str]
    job: str
    report: str


@dataclass
class World:
    """Review A (the one under test), review B (someone else's), users and their clients."""

    app: Flask
    db: Any
    a: Review
    b: Review
    people: dict[str, users.User]
    clients: dict[str, FlaskClient]
    tokens: dict[str, str]
    args: dict[str, str]
    suggestion_key: str

    def url(self, rule: Rule, **overrides: str) -> str:
        values = {name: self.args[name] for name in rule.arguments} | overrides
        if rule.endpoint.startswith("calibration.programme_") and "exercise_id" in values:
            values["exercise_id"] = self.args["programme_exercise_id"]
        with self.app.test_request_context():
            return url_for(rule.endpoint, **values)

    def sign_in_again(self, role: str) -> None:
        """Sign ``role`` in afresh (after a route that ended its session) with a new token."""
        client = self.clients[role]
        assert client.get("/reviews").status_code == 302, f"{role}'s session did not end"
        assert Auth(client).sign_in(USERNAMES[role]).status_code == 302
        self.tokens[role] = csrf_token(client.get("/sign-in").text)

    def open(
        self, role: str, method: str, url: str, data: Mapping[str, Any] | None = None
    ) -> TestResponse:
        """Request ``url`` as ``role``; POSTs carry the role's CSRF token."""
        client = self.clients[role]
        if method == "POST":
            form = {"csrf_token": self.tokens[role]} | dict(data or {})
            response = client.post(url, data=form)
        else:
            response = client.open(url, method=method)
        response.close()
        return response


def _make_review_b(db: Any, people: dict[str, users.User], rubric: Rubric) -> tuple[str, list[str]]:
    """Review B: led by ``lead_other`` with ``reviewer_out``; its own references."""
    review = review_data.create(
        db,
        title="Someone else's review",
        host_organisation="Otherton Council",
        kind="peer_review",
        rubric=rubric,
        by=people["lead_other"].id,
    )
    review_data.add_member(db, review.id, people["lead_other"].id, "lead")
    review_data.add_member(db, review.id, people["reviewer_out"].id, "reviewer")
    case_ids = review_data.add_case_files(
        db,
        review.id,
        [
            {
                "reference": f"OTHER-{n:04d}",
                "case_type": case_type,
                "team": "Team B",
                "assigned_to": people["reviewer_out"].id,
            }
            for n, case_type in enumerate(("cp", "cin", "early_help"), start=1)
        ],
    )
    return review.id, case_ids


def _fill(
    db: Any, review_id: str, case_ids: list[str], by: int, lead: int, rubric: Rubric, tag: str
) -> Review:
    audit = _submitted_audit(db, rubric, case_ids[0], by, f"Evidence from review {tag}.")
    draft, escalation = _escalation(db, rubric, case_ids[1], by)
    found = [
        finding_data.add_own(db, review_id, kind="strength", text=f"{tag} strength one.", by=lead),
        finding_data.add_own(db, review_id, kind="strength", text=f"{tag} strength two.", by=lead),
    ]
    job, _created = report_data.open_job(db, review_id, "internal", lead)
    report_data.mark_done(db, job, b"%PDF-1.4 test job " + tag.encode())
    issued = report_data.store_issued(
        db,
        review_id,
        audience="internal",
        pdf=b"%PDF-1.4 test report " + tag.encode(),
        filename=f"report-{tag}.pdf",
        by=lead,
    )
    return Review(review_id, case_ids, audit, draft, escalation, found, job, issued["id"])


@pytest.fixture
def world(app: Flask, db: Any, people: dict[str, users.User]) -> World:
    """Reviews A and B with audits, escalations, findings, reports; a signed-in client per role."""
    everyone = dict(people)
    everyone["reviewer_out"] = users.create(db, "outsider", PASSWORD, "reviewer")
    everyone["lead_other"] = users.create(db, "otherlead", PASSWORD, "lead")
    everyone["spare"] = users.create(db, "spare", PASSWORD, "reviewer")
    rubric = health_check()

    review, case_ids = make_review(db, people)
    a = _fill(db, review.id, list(case_ids), people["reviewer"].id, people["lead"].id, rubric, "A")
    b_id, b_cases = _make_review_b(db, everyone, rubric)
    b = _fill(
        db, b_id, b_cases, everyone["reviewer_out"].id, everyone["lead_other"].id, rubric, "B"
    )

    review_data.update_settings(db, a.id, {"collaborative": True}, by=None)
    programme_id = programmes.create(db, title="Monthly audit", kind="self_audit", by=None)
    db.execute("UPDATE review SET programme_id = ? WHERE id = ?", [programme_id, a.id])
    development = finding_data.add_own(
        db, a.id, kind="development", text="A development finding.", by=people["lead"].id
    )
    action_id = actions.add(
        db,
        a.id,
        finding_id=development,
        what="Do it",
        owner="Owner",
        due_date=None,
        by=people["lead"].id,
    )

    exercise_id = calibration_data.create(
        db,
        a.id,
        title="Calibration panel",
        case_ids=[a.cases[0]],
        participant_ids=[people["reviewer"].id, people["lead"].id],
        by=people["lead"].id,
    )

    programme_exercise_id = calibration_data.create(
        db,
        a.id,
        title="Programme calibration panel",
        case_ids=[a.cases[0]],
        participant_ids=[people["reviewer"].id, everyone["reviewer_out"].id],
        by=people["lead"].id,
        programme_id=programme_id,
    )
    theme_id = theme_data.create(db, name="Drift", programme_id=programme_id, by=None)
    theme_data.set_finding_tags(db, a.id, development, {theme_id}, by=None)

    holiday = date(2031, 12, 29)
    holidays.add(db, holiday, "Test holiday", by=people["admin"].id)
    suggestions = findings_domain.suggest(analysis.aggregate(db, review_data.get(db, a.id)))
    assert suggestions, "expected at least one suggested finding from a submitted audit"

    clients: dict[str, FlaskClient] = {}
    tokens: dict[str, str] = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            response = Auth(client).sign_in(USERNAMES[role])
            assert response.status_code == 302, f"{role} could not sign in"
        clients[role] = client
        tokens[role] = csrf_token(client.get("/sign-in").text)

    args = {
        "review_id": a.id,
        "case_id": a.cases[0],
        "audit_id": a.audit,
        "escalation_id": a.escalation,
        "finding_id": a.findings[0],
        "change": "up",
        "measure_id": rubric.timeliness[0].id,
        "user_id": str(everyone["spare"].id),
        "day": holiday.isoformat(),
        "rubric_id": rubric.id,
        "version": rubric.version,
        "job_id": a.job,
        "report_id": a.report,
        "what": "answers",
        "fmt": "csv",
        "programme_id": programme_id,
        "action_id": action_id,
        "session_id": "999999",
        "exercise_id": exercise_id,
        "programme_exercise_id": programme_exercise_id,
        "theme_id": theme_id,
        "question_id": "safeguarding_grade",
        "alert_id": "00000000-0000-4000-8000-000000000000",
        "learning_id": "00000000-0000-4000-8000-000000000001",
        "agency_id": "police",
    }
    return World(app, db, a, b, everyone, clients, tokens, args, suggestions[0].key)


def _routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Yield (rule, method) for every route but static files, in a safe order to request."""
    pairs = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    # GETs first, then POSTs; the ones that change what others rely on at the very end.
    pairs.sort(key=lambda p: (p[0].endpoint in LAST and LAST.index(p[0].endpoint) + 1, p[1]))
    yield from pairs


def _matches(status: int, expected: Expected) -> bool:
    return status in expected if isinstance(expected, frozenset) else status == expected


def _show(expected: Expected) -> str:
    return (
        "/".join(map(str, sorted(expected))) if isinstance(expected, frozenset) else str(expected)
    )


# --------------------------------------------------------------------------- the table


def test_every_route_and_method_is_in_the_access_table(app: Flask) -> None:
    routes = {(rule.endpoint, method) for rule, method in _routes(app)}
    missing = sorted(routes - ACCESS.keys())
    assert not missing, "routes with no entry: add it to the access table: " + ", ".join(
        f"{endpoint} {method}" for endpoint, method in missing
    )
    stale = sorted(ACCESS.keys() - routes)
    assert not stale, f"the access table names routes that no longer exist: {stale}"
    for key, row in ACCESS.items():
        assert set(row) == set(ROLES), f"{key}: the table must say what every role gets"


def test_every_view_asks_the_policy_module(app: Flask) -> None:
    """Views declare their action with ``@requires``; only the listed few have none."""
    problems = []
    for endpoint, view in app.view_functions.items():
        action = getattr(view, "required_action", None)
        if action is None and endpoint not in UNGUARDED:
            problems.append(f"{endpoint}: no @requires(...) (add one, or justify it in UNGUARDED)")
        if action is not None and action not in policy.RULES:
            problems.append(f"{endpoint}: @requires({action!r}) is not in policy.RULES")
    assert not problems, "\n".join(problems)


def test_each_role_gets_what_the_table_says_on_every_route(world: World) -> None:
    problems: list[str] = []
    checked = 0
    for rule, method in _routes(world.app):
        key = (rule.endpoint, method)
        if key not in ACCESS:
            problems.append(f"{method} {rule.rule} ({rule.endpoint}): add it to the access table")
            continue
        unknown = set(rule.arguments) - world.args.keys()
        if unknown:
            problems.append(f"{rule.rule}: no test value for {sorted(unknown)}: add one to args")
            continue
        url = world.url(rule)
        data = {
            name: value.format(suggestion_key=world.suggestion_key)
            for name, value in FORM.get(rule.endpoint, {}).items()
        }
        for role in ROLES:
            response = world.open(role, method, url, data if method == "POST" else None)
            expected = ACCESS[key][role]
            status = response.status_code
            where = f"{method} {url} ({rule.endpoint}) as {role}"
            if rule.endpoint in ENDS_SESSIONS and role != "anonymous":
                world.sign_in_again(role)
            if not _matches(status, expected):
                problems.append(f"{where}: expected {_show(expected)}, got {status}")
            elif status == 400 and CSRF_FAILURE in response.text:
                problems.append(f"{where}: the CSRF token was refused (fix the test)")
            elif role == "anonymous" and status == 302:
                location = response.headers.get("Location", "")
                if not location.startswith("/sign-in"):
                    problems.append(f"{where}: redirected to {location!r}, not /sign-in")
            checked += 1
    assert not problems, f"{len(problems)} of {checked} checks failed:\n" + "\n".join(problems)
    assert checked >= len(ACCESS) * len(ROLES)


def test_calibration_routes_once_results_open(world: World) -> None:
    """Before results open the table above holds; after, grades show to exactly these roles."""
    lead = world.people["lead"].id
    for exercise_id in (world.args["exercise_id"], world.args["programme_exercise_id"]):
        calibration_data.open_results(world.db, exercise_id, world.a.id, lead)
        calibration_data.record_agreed(
            world.db,
            exercise_id,
            world.a.id,
            case_id=world.a.cases[0],
            question_id="safeguarding_grade",
            value="good",
            rationale="Agreed by the panel.",
            by=lead,
        )
    exercise_id = world.args["exercise_id"]
    problems = []
    for rule, method in _routes(world.app):
        key = (rule.endpoint, method)
        if key not in CALIBRATION_OPEN:
            continue
        form = {"value": "good", "rationale": "Still agreed."} if method == "POST" else None
        for role in ROLES:
            status = world.open(role, method, world.url(rule), form).status_code
            if not _matches(status, CALIBRATION_OPEN[key][role]):
                problems.append(f"{method} {rule.rule} as {role}: got {status}")
    assert not problems, "\n".join(problems)
    # An exercise id is only found through its own review.
    b_url = f"/reviews/{world.b.id}/calibration/{exercise_id}/results"
    assert world.open("lead_other", "GET", b_url).status_code == 404
    # A programme's exercise is only found through its programme, not its hosting review, and
    # a review's exercise not through the programme.
    hosted = f"/reviews/{world.a.id}/calibration/{world.args['programme_exercise_id']}/results"
    assert world.open("lead", "GET", hosted).status_code == 404
    programme = world.args["programme_id"]
    assert (
        world.open("lead", "GET", f"/programmes/{programme}/calibration/{exercise_id}").status_code
        == 404
    )


# --------------------------------------------------------------------------- object level


def test_ids_from_another_review_in_review_a_urls_are_not_found(world: World) -> None:
    """Review A's lead may manage review A, yet no id of review B reaches anything through it."""
    a, b = world.a, world.b
    base = f"/reviews/{a.id}"
    gets = [
        f"{base}/audits/{b.audit}",
        f"{base}/audits/{b.draft}",
        f"{base}/audits/{b.audit}/moderate",
        f"{base}/escalations/{b.escalation}",
        f"{base}/report/jobs/{b.job}",
        f"{base}/report/jobs/{b.job}/pdf",
        f"{base}/report/issued/{b.report}",
    ]
    # Review B's own pages and downloads, by review A's lead.
    gets += [
        f"/reviews/{b.id}",
        f"/reviews/{b.id}/dashboard",
        f"/reviews/{b.id}/bundle",
        f"/reviews/{b.id}/export/answers.csv",
        f"/reviews/{b.id}/export/answers.xlsx",
        f"/reviews/{b.id}/export/findings.csv",
        f"/reviews/{b.id}/history",
        f"/reviews/{b.id}/report/issued/{b.report}",
    ]
    escalation_form = {
        "told_who": "Team manager",
        "told_at": "27/10/2026 14:30",
        "agreed_action": "Visit today.",
    }
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"{base}/cases/{b.cases[2]}/audit", {}),
        (f"{base}/cases/{b.cases[2]}/audit?purpose=second", {}),
        (f"{base}/audits/{b.draft}", {"version": "2"}),
        (f"{base}/audits/{b.audit}/reopen", {}),
        (f"{base}/audits/{b.audit}/moderate", {"note": "Agreed."}),
        (f"{base}/escalations/{b.escalation}", escalation_form),
        (f"{base}/findings/{b.findings[0]}/reword", {"text": "Rewritten by A's lead."}),
        (f"{base}/findings/{b.findings[0]}/reject", {}),
        (f"{base}/findings/{b.findings[1]}/up", {}),
        (f"{base}/report/issue", {"job": b.job}),
    ]
    problems = []
    for role in ("lead", "admin"):
        for url in gets:
            if role == "admin" and f"/reviews/{b.id}" in url:
                continue  # admins may open every review
            status = world.open(role, "GET", url).status_code
            if status != 404:
                problems.append(f"GET {url} as {role}: expected 404, got {status}")
        for url, data in posts:
            status = world.open(role, "POST", url, data).status_code
            # An admin who is not a member may not score at all: 403 before any lookup.
            allowed = {403, 404} if role == "admin" and "/cases/" in url else {404}
            if status not in allowed:
                problems.append(f"POST {url} as {role}: expected 404, got {status}")
    # Review A's own reviewer, with review B's case and audit ids.
    for url, data in posts[:3]:
        status = world.open("reviewer_in", "POST", url, data).status_code
        if status != 404:
            problems.append(f"POST {url} as reviewer_in: expected 404, got {status}")
    assert not problems, "\n".join(problems)

    # Review B is untouched.
    db = world.db
    assert audits.get(db, b.audit).submitted
    assert audits.escalation(db, b.escalation, b.id)["recorded_at"] is None
    texts = {f.id: (f.text, f.status) for f in finding_data.for_review(db, b.id)}
    assert texts[b.findings[0]] == ("B strength one.", "accepted")
    assert (
        db.execute("SELECT count(*) FROM case_audit WHERE case_id = ?", [b.cases[2]]).fetchone()[0]
        == 0
    )
    assert (
        db.execute("SELECT count(*) FROM issued_report WHERE review_id = ?", [a.id]).fetchone()[0]
        == 1
    )
    assert db.execute("SELECT count(*) FROM moderation").fetchone()[0] == 0


def test_review_a_exports_hold_nothing_of_review_b(world: World) -> None:
    a = world.a
    for path in ("export/answers.csv", "export/findings.csv", "bundle"):
        with world.clients["lead"].get(f"/reviews/{a.id}/{path}") as response:
            assert response.status_code == 200, path
            body = response.get_data(as_text=True)
        assert "Evidence from review A" in body or "A strength" in body, path
        for leak in ("OTHER-", "Evidence from review B", "B strength", "Otherton"):
            assert leak not in body, f"{path} of review A contains {leak!r} from review B"
    history = world.clients["lead"].get(f"/reviews/{a.id}/history").text
    assert "A strength" in history
    for leak in ("OTHER-", "B strength", "Otherton"):
        assert leak not in history, f"review A's history shows {leak!r} from review B"


def test_form_fields_cannot_reach_another_review(world: World) -> None:
    db, a, b, people = world.db, world.a, world.b, world.people
    base = f"/reviews/{a.id}"

    def b_case(case_id: str) -> tuple[Any, ...]:
        row = db.execute(
            "SELECT assigned_to, second_audit, second_assigned_to FROM case_file WHERE id = ?",
            [case_id],
        ).fetchone()
        return tuple(row)

    before = [b_case(c) for c in b.cases]

    # Assigning review B's case from review A's assignment form: rejected or ignored.
    for assignee in (people["lead_other"].id, people["reviewer"].id, ""):
        response = world.open(
            "lead", "POST", f"{base}/cases/assign", {f"assign-{b.cases[2]}": str(assignee)}
        )
        assert response.status_code in {302, 400}, response.status_code
    # Assigning review A's case to someone outside review A: rejected.
    response = world.open(
        "lead",
        "POST",
        f"{base}/cases/assign",
        {f"assign-{a.cases[2]}": str(people["reviewer_out"].id)},
    )
    assert response.status_code == 400
    assert review_data.case_file(db, a.cases[2], a.id)["assigned_to"] == people["reviewer"].id

    # Choosing review B's case for a second audit in review A: rejected.
    response = world.open("lead", "POST", f"{base}/second-audits", {"case": b.cases[0]})
    assert response.status_code == 400
    response = world.open(
        "lead", "POST", f"{base}/second-audits", {"case": [a.cases[0], b.cases[0]]}
    )
    assert response.status_code == 400
    assert [b_case(c) for c in b.cases] == before

    # Merging review A's finding with review B's: not found, nothing merged.
    response = world.open(
        "lead",
        "POST",
        f"{base}/findings/merge",
        {"finding": [a.findings[0], b.findings[0]], "text": "x"},
    )
    assert response.status_code == 404
    assert {f.status for f in finding_data.for_review(db, b.id)} == {"accepted"}
    assert {f.status for f in finding_data.for_review(db, a.id)} == {"accepted"}

    # Adding a user who does not exist, or cannot sign in, to review A: rejected.
    members = review_data.members(db, a.id)
    # An unknown id fails the form's choices: refused with 400, or sent back with an error.
    response = world.open("lead", "POST", f"{base}/members", {"user": "999999", "role": "reviewer"})
    assert response.status_code in {302, 400}
    if response.status_code == 302:
        page = world.clients["lead"].get(response.headers["Location"]).text
        assert "Choose a person to add" in page
    assert review_data.members(db, a.id) == members
    users.set_active(db, people["spare"].id, False, by=people["admin"].id)
    response = world.open(
        "lead", "POST", f"{base}/members", {"user": str(people["spare"].id), "role": "reviewer"}
    )
    assert response.status_code == 400
    assert review_data.members(db, a.id) == members


def test_the_other_reviewer_in_the_review_cannot_touch_an_audit_or_case(world: World) -> None:
    """``other`` is in review A but the audits and cases are ``reviewer``'s."""
    db, a = world.db, world.a
    base = f"/reviews/{a.id}"
    draft = audits.get(db, a.draft)
    assert world.open("reviewer_peer", "GET", f"{base}/audits/{a.draft}").status_code == 403
    response = world.open(
        "reviewer_peer", "POST", f"{base}/audits/{a.draft}", {"version": str(draft.version)}
    )
    assert response.status_code == 403
    assert (
        world.open("reviewer_peer", "GET", f"{base}/escalations/{a.escalation}").status_code == 403
    )
    response = world.open(
        "reviewer_peer",
        "POST",
        f"{base}/escalations/{a.escalation}",
        {"told_who": "Team manager", "told_at": "27/10/2026", "agreed_action": "Visit."},
    )
    assert response.status_code == 403
    # A case assigned to someone else, not yet started: refused, nothing created.
    assert (
        world.open("reviewer_peer", "POST", f"{base}/cases/{a.cases[2]}/audit").status_code == 403
    )
    # A second audit they were not assigned: refused.
    response = world.open(
        "reviewer_peer", "POST", f"{base}/cases/{a.cases[0]}/audit?purpose=second"
    )
    assert response.status_code == 403
    assert audits.get(db, a.draft).version == draft.version
    assert audits.escalation(db, a.escalation, a.id)["recorded_at"] is None
    assert (
        db.execute("SELECT count(*) FROM case_audit WHERE case_id = ?", [a.cases[2]]).fetchone()[0]
        == 0
    )
    # The author still gets their draft.
    assert world.open("reviewer_in", "GET", f"{base}/audits/{a.draft}").status_code == 200


def test_a_bundle_cannot_make_an_outsider_a_member_of_a_review(world: World) -> None:
    """Importing a bundle that names review A merges into it: only A's managers may do that.

    ``lead_other`` holds a copy of review A's bundle (bundles travel between installations
    by design). Uploading it must not give them review A, nor change review A.
    """
    db, a = world.db, world.a
    data = bundle.dumps(bundle.export_review(db, a.id, exported_by="lead"))
    members = review_data.members(db, a.id)
    client = world.clients["lead_other"]
    page = client.get("/reviews/import")
    response = client.post(
        "/reviews/import",
        data={
            "csrf_token": csrf_token(page.text),
            "bundle_file": (io.BytesIO(data), "a.case-audit.json"),
        },
        content_type="multipart/form-data",
    )
    response.close()
    assert response.status_code in {200, 400, 403, 404}
    assert review_data.membership(db, a.id, world.people["lead_other"].id) is None, (
        "importing review A's bundle made lead_other a lead of review A"
    )
    assert review_data.members(db, a.id) == members
    assert world.open("lead_other", "GET", f"/reviews/{a.id}").status_code == 404


def test_unsaved_work_cannot_be_planted_on_someone_elses_audit(world: World) -> None:
    """A post kept because its sign-in ran out must not let others prefill an audit.

    ``reviewer_out`` (not in review A) posts answers to reviewer_in's draft with a stale
    form token, from a page of this site. Whatever is kept must not turn up in
    reviewer_in's form through the restore link the poster is given.
    """
    db, a = world.db, world.a
    url = f"/reviews/{a.id}/audits/{a.draft}"
    planted = "Planted by someone outside the review"
    client = world.clients["reviewer_out"]
    response = client.post(
        url,
        data={"csrf_token": "stale", "feedback_response": planted, "version": "1"},
        headers={"Referer": f"http://localhost{url}"},
    )
    response.close()
    location = response.headers.get("Location", "")
    assert response.status_code in {302, 400, 403, 404}
    restore = re.search(r"restore=([^&]+)", location)
    if restore:
        page = world.clients["reviewer_in"].get(f"{url}?restore={restore.group(1)}").text
        assert planted not in page, (
            "a user outside review A prefilled reviewer_in's audit through a restore link"
        )
    kept = db.execute("SELECT count(*) FROM pending_save WHERE audit_id = ?", [a.draft])
    assert kept.fetchone()[0] == 0, "work was kept for an audit the poster cannot open"


# --------------------------------------------------------------------------- headers


def _header_problems(response: TestResponse) -> list[str]:
    problems = []
    csp = response.headers.get("Content-Security-Policy")
    if not csp:
        return ["no Content-Security-Policy"]
    directives = {
        parts[0].lower(): parts[1:] for parts in (d.split() for d in csp.split(";")) if parts
    }
    if "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
        problems.append(f"CSP allows unsafe-inline or unsafe-eval: {csp}")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append(f"CSP frame-ancestors is not 'none': {csp}")
    scripts = directives.get("script-src", directives.get("default-src"))
    if not scripts or "*" in scripts or any(s.endswith(":") for s in scripts):
        problems.append(f"CSP script sources are too loose: {scripts}")
    if directives.get("object-src") != ["'none'"]:
        problems.append(f"CSP object-src is not 'none': {csp}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    referrer = response.headers.get("Referrer-Policy", "")
    if referrer not in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }:
        problems.append(f"Referrer-Policy is {referrer!r}")
    return problems


def test_security_headers_on_every_route_for_every_role(world: World) -> None:
    """Every GET route for every role (so 200s, redirects, 403s and 404s), and the extras."""
    problems = []
    seen: set[int] = set()
    for rule, method in _routes(world.app):
        if method != "GET" or rule.endpoint not in {e for e, _m in ACCESS}:
            continue
        url = world.url(rule)
        for role in ROLES:
            response = world.open(role, "GET", url)
            seen.add(response.status_code)
            problems += [
                f"GET {url} as {role} ({response.status_code}): {p}"
                for p in _header_problems(response)
            ]
    extras = [
        ("anonymous", "GET", "/no-such-page", None),
        ("lead", "GET", "/no-such-page", None),
        ("anonymous", "GET", "/static/css/case-audit.css", None),
        ("lead", "GET", "/static/js/app.js", None),
        ("lead", "GET", "/static/no-such-file.css", None),
        ("lead", "GET", "/sign-out", None),  # 405
        ("lead", "POST", f"/reviews/{world.a.id}/findings/new", {}),  # redirect after a POST
        ("reviewer_in", "POST", f"/reviews/{world.a.id}/status", {}),  # 403 on a POST
    ]
    for role, method, url, data in extras:
        response = world.open(role, method, url, data)
        seen.add(response.status_code)
        problems += [
            f"{method} {url} as {role} ({response.status_code}): {p}"
            for p in _header_problems(response)
        ]
    # A POST whose CSRF token is missing (400).
    response = world.clients["lead"].post(f"/reviews/{world.a.id}/findings/new", data={})
    response.close()
    seen.add(response.status_code)
    problems += [
        f"POST without CSRF ({response.status_code}): {p}" for p in _header_problems(response)
    ]
    assert not problems, "\n".join(problems)
    assert {200, 302, 400, 403, 404, 405} <= seen


# --------------------------------------------------------------------------- session cookie


def _session_cookie(app: Flask, response: TestResponse) -> str:
    name = app.config["SESSION_COOKIE_NAME"]
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert cookies, "signing in set no session cookie"
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(
    app: Flask, client: FlaskClient, people: dict[str, users.User]
) -> None:
    response = Auth(client).sign_in("lead")
    assert response.status_code == 302
    attributes = [a.strip().lower() for a in _session_cookie(app, response).split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_session_cookie_is_secure_when_configured(
    app: Flask, people: dict[str, users.User]
) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    page = client.get("/sign-in", base_url="https://localhost")
    response = client.post(
        "/sign-in",
        base_url="https://localhost",
        data={"username": "lead", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302
    attributes = [a.strip().lower() for a in _session_cookie(app, response).split(";")]
    assert {"secure", "httponly", "samesite=lax"} <= set(attributes)
