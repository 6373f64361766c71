"""Visit every page, export, findings JSON and report of an installation; collect any failure.

Used by the stored-state tests and the bundle property test: whatever a review holds, no page
may answer 5xx or show a traceback. The Flask test client is used (fast); users are signed in
by setting the session, since the sign-in form is tested elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import Flask

from audit import analysis
from audit.data import reviews as review_data
from audit.data.db import connect
from audit.partnership import is_multi_agency
from audit.reporting import report

# Pages that take no record id, for any signed-in user.
FIXED = (
    "/",
    "/reviews",
    "/reviews/new",
    "/reviews/import",
    "/programmes",
    "/programmes/new",
    "/rubrics/",
    "/admin/users",
    "/admin/users/new",
    "/admin/history",
    "/admin/bank-holidays",
    "/admin/agencies",
)

# Pages of one review, for any signed-in user.
REVIEW_PAGES = (
    "",
    "/dashboard",
    "/findings",
    "/agreement",
    "/history",
    "/report",
    "/report/issued",
    "/actions",
    "/timeliness",
    "/cases/assign",
    "/cases/import",
    "/cases/sample",
    "/re-audit",
    "/delete",
    "/bundle",
    "/export/answers.xlsx",
    "/export/answers.csv",
    "/export/findings.xlsx",
    "/export/findings.csv",
    "/export/action-plan.xlsx",
    "/export/action-plan.csv",
    "/export/themes.csv",
)


def _ids(db, sql: str, args: Iterable[object] = ()) -> list:  # type: ignore[no-untyped-def]
    return [row[0] for row in db.execute(sql, list(args))]


def urls(app: Flask) -> list[str]:
    """List every GET page of the installation, with every record filled in."""
    return urls_in(app.config["DATABASE"])


def urls_in(database: str) -> list[str]:
    """List every GET page of the installation whose database file is ``database``."""
    db = connect(database)
    try:
        out = list(FIXED)
        out += [f"/admin/users/{uid}/password" for uid in _ids(db, "SELECT id FROM user")]
        out += [f"/admin/agencies/{agency}" for agency in _ids(db, "SELECT id FROM agency")]
        for pid in _ids(db, "SELECT id FROM programme"):
            out += [f"/programmes/{pid}", f"/programmes/{pid}/next", f"/programmes/{pid}/themes"]
            themes = _ids(db, "SELECT id FROM theme WHERE programme_id = ?", [pid])
            out += [f"/programmes/{pid}/themes/{theme_id}" for theme_id in themes]
        for rid, version in db.execute("SELECT DISTINCT rubric_id, rubric_version FROM review"):
            out.append(f"/rubrics/{rid}/{version}")
        for review_id in _ids(db, "SELECT id FROM review"):
            base = f"/reviews/{review_id}"
            out += [base + page for page in REVIEW_PAGES]
            for audit_id in _ids(db, "SELECT id FROM case_audit WHERE review_id = ?", [review_id]):
                out += [f"{base}/audits/{audit_id}", f"{base}/audits/{audit_id}/moderate"]
                out.append(f"{base}/audits/{audit_id}/themes")
            for finding_id in _ids(db, "SELECT id FROM finding WHERE review_id = ?", [review_id]):
                out.append(f"{base}/findings/{finding_id}/themes")
            for table, path in (("escalation", "escalations"), ("action", "actions")):
                for item in _ids(db, f"SELECT id FROM {table} WHERE review_id = ?", [review_id]):
                    out.append(f"{base}/{path}/{item}")
            out += _collab_urls(db, base, review_id)
        for review in review_data.all_reviews(db):
            if is_multi_agency(review):
                out += _partnership_urls(db, f"/reviews/{review.id}/partnership", review.id)
        return out
    finally:
        db.conn.close()


def _partnership_urls(db, base: str, review_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    """A multi-agency review's pages (issue 19): children, agency audits, alerts, panels."""
    out = [base, f"{base}/children/new", f"{base}/findings", f"{base}/findings.json"]
    out += [f"{base}/report", f"{base}/export/all.xlsx"]
    out += [f"{base}/export/{what}.csv" for what in ("answers", "actions", "learning")]
    args = [review_id]
    agencies = _ids(db, "SELECT DISTINCT agency_id FROM case_agency WHERE review_id = ?", args)
    out += [f"{base}/bundle/{agency}" for agency in agencies]
    for case_id in _ids(db, "SELECT DISTINCT case_id FROM case_agency WHERE review_id = ?", args):
        out += [f"{base}/children/{case_id}", f"{base}/children/{case_id}/panel"]
    out += [
        f"{base}/audits/{audit_id}"
        for audit_id in _ids(db, "SELECT id FROM agency_audit WHERE review_id = ?", args)
    ]
    out += [
        f"{base}/alerts/{alert_id}"
        for alert_id in _ids(db, "SELECT id FROM agency_escalation WHERE review_id = ?", args)
    ]
    return out


def _collab_urls(db, base: str, review_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Calibration panels, conversations and family feedback of one review (issue 13)."""
    out = [f"{base}/calibration", f"{base}/collaboration"]
    for exercise_id in _ids(
        db, "SELECT id FROM calibration_exercise WHERE review_id = ?", [review_id]
    ):
        page = f"{base}/calibration/{exercise_id}"
        out += [page, f"{page}/results", f"{page}/results.json"]
        args = [exercise_id]
        for case_id in _ids(db, "SELECT case_id FROM calibration_case WHERE exercise_id = ?", args):
            out.append(f"{page}/cases/{case_id}")
        for case_id, question_id in db.execute(
            "SELECT case_id, question_id FROM calibration_agreed WHERE exercise_id = ?", args
        ):
            out += [
                f"{page}/agreed/{case_id}/{question_id}",
                f"{page}/exemplars/{case_id}/{question_id}",
            ]
    for table, path in (("conversation", "conversation"), ("family_feedback", "family")):
        for audit_id in _ids(
            db,
            f"SELECT {table}.audit_id FROM {table} JOIN case_audit"
            f" ON case_audit.id = {table}.audit_id WHERE case_audit.review_id = ?",
            [review_id],
        ):
            out.append(f"{base}/audits/{audit_id}/{path}")
    return out


def crawl(app: Flask, usernames: Iterable[str] = ("admin", "lead", "reviewer1")) -> list[str]:
    """Visit every page as each user, plus findings JSON and the report; return the failures."""
    failures: list[str] = []
    db = connect(app.config["DATABASE"])
    pages = urls(app)
    try:
        for username in usernames:
            row = db.execute("SELECT id FROM user WHERE username = ?", [username]).fetchone()
            assert row is not None, f"no user {username}"
            client = app.test_client()
            with client.session_transaction() as session:
                session["user_id"] = row[0]
            for url in pages:
                response = client.get(url)
                body = (
                    response.get_data(as_text=True) if response.mimetype.startswith("text") else ""
                )
                if response.status_code >= 500 or "Traceback" in body:
                    failures.append(f"{username} GET {url}: {response.status_code}")
        for review in review_data.all_reviews(db):
            try:
                json.dumps(analysis.findings_document(db, review), allow_nan=False)
                report.build_html(app, db, review, audience="internal")
                try:
                    report.build_html(app, db, review, audience="public")
                except report.ReportError as refusal:
                    # A public version refused (too few cases to protect, or wording that gives
                    # a withheld count away) is a message for the lead, not a failure.
                    if "public version" not in str(refusal):
                        raise
            except Exception as exc:  # the crawl reports any failure at all
                failures.append(f"review {review.id}: {type(exc).__name__}: {exc}")
    finally:
        db.conn.close()
    return failures
