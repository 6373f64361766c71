"""Case audits, their answers, escalations of unsafe children, and case-level actions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from audit.data import actions, changes
from audit.data import escalations as alerts
from audit.data.answers import answers_of, write_answers
from audit.data.db import utcnow, write
from audit.scoring import Answer


class AuditNotFound(LookupError):
    """No audit with that id in this review."""


class AuditLocked(Exception):
    """The audit has been submitted: only a lead reopening it makes it editable again."""


class StaleAudit(Exception):
    """The audit changed since the page was loaded; saving would overwrite someone's work."""

    def __init__(self, current: CaseAudit) -> None:
        super().__init__(current.id)
        self.current = current


@dataclass(frozen=True)
class CaseAudit:
    """One reviewer's audit of one case file, with everything they recorded."""

    id: str
    case_id: str
    review_id: str
    reviewer_id: int
    purpose: str
    status: str
    version: int
    earlier_audit_id: str | None
    sections_na: frozenset[str]
    feedback: Mapping[str, Any]
    created_at: str
    updated_at: str
    submitted_at: str | None
    answers: Mapping[str, Answer] = field(default_factory=dict)

    @property
    def submitted(self) -> bool:
        """Submitted audits are read-only for their reviewer."""
        return self.status == "submitted"


def _audit(row: Mapping[str, Any], answers: Mapping[str, Answer]) -> CaseAudit:
    return CaseAudit(
        id=row["id"],
        case_id=row["case_id"],
        review_id=row["review_id"],
        reviewer_id=row["reviewer_id"],
        purpose=row["purpose"],
        status=row["status"],
        version=row["version"],
        earlier_audit_id=row["earlier_audit_id"],
        sections_na=frozenset(json.loads(row["sections_not_applicable"])),
        feedback=json.loads(row["feedback"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        submitted_at=row["submitted_at"],
        answers=answers,
    )


def get(db: sqlite_utils.Database, audit_id: str, review_id: str | None = None) -> CaseAudit:
    """Return the audit with its answers; with ``review_id``, only if it belongs to that review."""
    row = db.execute("SELECT * FROM case_audit WHERE id = ?", [audit_id]).fetchone()
    if row is None or (review_id is not None and row["review_id"] != review_id):
        raise AuditNotFound(audit_id)
    return _audit(row, answers_of(db, "answer", "audit_id", audit_id))


def first_audit_id(db: sqlite_utils.Database, case_id: str) -> str | None:
    """Return the id of the case's first audit, if one has been started."""
    row = db.execute(
        "SELECT id FROM case_audit WHERE case_id = ? AND purpose = 'first'", [case_id]
    ).fetchone()
    return None if row is None else row["id"]


def start(
    db: sqlite_utils.Database,
    case_id: str,
    reviewer_id: int,
    purpose: str = "first",
    earlier_audit_id: str | None = None,
) -> str:
    """Return the case's audit for this purpose, creating an empty draft if none exists.

    ``earlier_audit_id`` links a deliberate re-audit to the audit of the same case in an
    earlier review, so the page can show what changed.
    """
    with write(db):
        row = db.execute(
            "SELECT id FROM case_audit WHERE case_id = ? AND purpose = ?"
            + (" AND reviewer_id = ?" if purpose != "first" else ""),
            [case_id, purpose, reviewer_id] if purpose != "first" else [case_id, purpose],
        ).fetchone()
        if row is not None:
            return row["id"]
        case = db.execute("SELECT review_id FROM case_file WHERE id = ?", [case_id]).fetchone()
        if case is None:
            raise LookupError(case_id)
        audit_id = str(uuid.uuid4())
        now = utcnow()
        db["case_audit"].insert(
            {
                "id": audit_id,
                "case_id": case_id,
                "review_id": case["review_id"],
                "reviewer_id": reviewer_id,
                "purpose": purpose,
                "status": "draft",
                "version": 1,
                "earlier_audit_id": earlier_audit_id,
                "created_at": now,
                "updated_at": now,
            }
        )
        changes.record(
            db,
            user_id=reviewer_id,
            entity="case_audit",
            entity_id=audit_id,
            action="create",
            after={"case_id": case_id, "purpose": purpose},
            review_id=case["review_id"],
        )
    return audit_id


@dataclass(frozen=True)
class SaveResult:
    """What a save did: the audit's new version and any escalation still to be recorded."""

    version: int
    open_escalations: tuple[str, ...]
    raised: tuple[str, ...]
    submitted: bool


def save(
    db: sqlite_utils.Database,
    audit_id: str,
    *,
    expected_version: int,
    answers: Mapping[str, Answer],
    sections_na: Collection[str],
    feedback: Mapping[str, Any],
    adverse_questions: Collection[str],
    critical_questions: Collection[str],
    by: int,
    submit: bool = False,
    new_action: Mapping[str, str] | None = None,
) -> SaveResult:
    """Save a draft (or submit) if nobody else saved since ``expected_version``.

    ``answers`` holds every question shown on the page: a blank answer clears a saved one.
    An adverse critical answer raises an escalation alert in the same transaction, so the
    lead sees it the moment the draft is saved, not when the audit is submitted.
    """
    now = utcnow()
    with write(db):
        current = get(db, audit_id)
        if current.submitted:
            raise AuditLocked(audit_id)
        if current.version != expected_version:
            raise StaleAudit(current)
        before, after = write_answers(
            db, "answer", "audit_id", audit_id, current.answers, answers, now
        )
        sections = sorted(sections_na)
        if sections != sorted(current.sections_na):
            before["sections_not_applicable"] = sorted(current.sections_na)
            after["sections_not_applicable"] = sections
        if dict(feedback) != dict(current.feedback):
            before["feedback"] = dict(current.feedback)
            after["feedback"] = dict(feedback)
        raised = _sync_escalations(
            db, current, adverse_questions, critical_questions, by=by, now=now
        )
        open_ids = alerts.open_ids(db, "escalation", "audit_id", audit_id)
        # An audit with an unsafe child still to be escalated is never submitted.
        submitted = submit and not open_ids
        status = "submitted" if submitted else "draft"
        if submitted:
            before["status"], after["status"] = current.status, status
        version = current.version + 1
        db.execute(
            "UPDATE case_audit SET version = ?, status = ?, sections_not_applicable = ?,"
            " feedback = ?, updated_at = ?, submitted_at = ? WHERE id = ?",
            [
                version,
                status,
                json.dumps(sections),
                json.dumps(dict(feedback), sort_keys=True),
                now,
                now if submitted else None,
                audit_id,
            ],
        )
        if after:
            changes.record(
                db,
                user_id=by,
                entity="case_audit",
                entity_id=audit_id,
                action="update",
                before=before,
                after=after,
                review_id=current.review_id,
            )
        if new_action and new_action.get("what", "").strip():
            actions.add(
                db,
                current.review_id,
                audit_id=current.id,
                what=new_action["what"],
                owner=new_action.get("owner") or "",
                due_date=new_action.get("due_date") or None,
                by=by,
            )
    return SaveResult(
        version=version, open_escalations=open_ids, raised=raised, submitted=submitted
    )


def _sync_escalations(
    db: sqlite_utils.Database,
    audit: CaseAudit,
    adverse_questions: Collection[str],
    critical_questions: Collection[str],
    *,
    by: int,
    now: str,
) -> tuple[str, ...]:
    """Raise an alert for each new adverse answer; withdraw unrecorded ones no longer adverse."""
    return tuple(
        alerts.sync(
            db,
            "escalation",
            scope=("audit_id = ?", [audit.id]),
            new={"review_id": audit.review_id, "case_id": audit.case_id, "audit_id": audit.id},
            logged={"audit_id": audit.id},
            adverse_questions=adverse_questions,
            critical_questions=critical_questions,
            by=by,
            now=now,
        )
    )


def reopen(db: sqlite_utils.Database, audit_id: str, by: int) -> None:
    """Make a submitted audit editable again (a lead's decision, recorded)."""
    with write(db):
        current = get(db, audit_id)
        if not current.submitted:
            return
        db.execute(
            "UPDATE case_audit SET status = 'draft', version = version + 1, updated_at = ?,"
            " submitted_at = NULL WHERE id = ?",
            [utcnow(), audit_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="case_audit",
            entity_id=audit_id,
            action="update",
            before={"status": "submitted"},
            after={"status": "draft", "reopened": True},
            review_id=current.review_id,
        )


# --------------------------------------------------------------------------- escalations


def escalation(db: sqlite_utils.Database, escalation_id: str, review_id: str) -> dict[str, Any]:
    """Return one escalation of this review, with its case pseudonym."""
    return alerts.one(db, "escalation", escalation_id, review_id)


def escalations(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    audit_id: str | None = None,
    open_only: bool = False,
) -> list[dict[str, Any]]:
    """Return a review's escalations (or one audit's), oldest first, with who raised them."""
    return alerts.listed(
        db, "escalation", review_id, where={"audit_id": audit_id}, open_only=open_only
    )


def record_escalation(
    db: sqlite_utils.Database,
    escalation_id: str,
    review_id: str,
    *,
    told_who: str,
    told_at: str,
    agreed_action: str,
    by: int,
) -> None:
    """Record who was told about an unsafe child, when, and what was agreed."""
    alerts.record(
        db,
        "escalation",
        escalation_id,
        review_id,
        told_who=told_who,
        told_at=told_at,
        agreed_action=agreed_action,
        by=by,
    )


# --------------------------------------------------------------------------- lists


def reviewer_cases(
    db: sqlite_utils.Database, review_id: str, reviewer_id: int | None = None
) -> list[dict[str, Any]]:
    """Return case files with their first audit's status and answer count.

    With ``reviewer_id``, only the cases assigned to that reviewer.
    """
    sql = (
        "SELECT case_file.id AS case_id, case_file.pseudonym, case_file.reference,"
        " case_file.case_type, case_file.team, case_file.assigned_to,"
        " user.display_name AS assignee, case_audit.id AS audit_id,"
        " case_audit.status AS audit_status, case_audit.updated_at AS audit_updated_at,"
        " (SELECT count(*) FROM answer WHERE answer.audit_id = case_audit.id"
        "   AND (answer.value IS NOT NULL OR answer.not_applicable = 1)) AS answered"
        " FROM case_file"
        " LEFT JOIN case_audit ON case_audit.case_id = case_file.id"
        "   AND case_audit.purpose = 'first'"
        " LEFT JOIN user ON user.id = case_file.assigned_to"
        " WHERE case_file.review_id = ?"
    )
    args: list[Any] = [review_id]
    if reviewer_id is not None:
        sql += " AND case_file.assigned_to = ?"
        args.append(reviewer_id)
    rows = [dict(row) for row in db.execute(sql + " ORDER BY case_file.pseudonym", args)]
    for row in rows:
        if row["audit_status"] == "submitted":
            row["status"] = "submitted"
        elif row["audit_id"] and row["answered"]:
            row["status"] = "in_progress"
        else:
            row["status"] = "not_started"
    return rows


# --------------------------------------------------------------------------- second audits


def choose_second_audits(
    db: sqlite_utils.Database, review_id: str, case_ids: Collection[str], by: int | None
) -> int:
    """Mark cases for an independent second audit, each given to a different reviewer.

    The second reviewer is never the first one; loads are evened out across the review's
    active reviewers. Returns how many cases were newly chosen.
    """
    with write(db):
        reviewers = [
            row["id"]
            for row in db.execute(
                "SELECT user.id FROM review_member JOIN user ON user.id = review_member.user_id"
                " WHERE review_member.review_id = ? AND review_member.role = 'reviewer'"
                " AND user.active = 1 ORDER BY user.display_name",
                [review_id],
            )
        ]
        if len(reviewers) < 2:
            raise ValueError("a second audit needs at least two reviewers in the review")
        load = dict.fromkeys(reviewers, 0)
        for row in db.execute(
            "SELECT second_assigned_to, count(*) AS n FROM case_file WHERE review_id = ?"
            " AND second_audit = 1 GROUP BY 1",
            [review_id],
        ):
            if row["second_assigned_to"] in load:
                load[row["second_assigned_to"]] = row["n"]
        chosen = 0
        for case_id in sorted(case_ids):
            case = db.execute(
                "SELECT assigned_to, second_audit FROM case_file WHERE id = ? AND review_id = ?",
                [case_id, review_id],
            ).fetchone()
            if case is None:
                raise LookupError(case_id)
            if case["second_audit"]:
                continue
            first = db.execute(
                "SELECT reviewer_id FROM case_audit WHERE case_id = ? AND purpose = 'first'",
                [case_id],
            ).fetchone()
            first_reviewer = first["reviewer_id"] if first else case["assigned_to"]
            candidates = [r for r in reviewers if r != first_reviewer]
            second = min(candidates, key=lambda r: (load[r], reviewers.index(r)))
            load[second] += 1
            db.execute(
                "UPDATE case_file SET second_audit = 1, second_assigned_to = ? WHERE id = ?",
                [second, case_id],
            )
            changes.record(
                db,
                user_id=by,
                entity="case_file",
                entity_id=case_id,
                action="update",
                after={"second_audit": True, "second_assigned_to": second},
                review_id=review_id,
            )
            chosen += 1
    return chosen


def second_cases(db: sqlite_utils.Database, review_id: str, reviewer_id: int) -> list[dict]:
    """Return the cases a reviewer is second-auditing, with their second audit's status."""
    rows = [
        dict(row)
        for row in db.execute(
            "SELECT case_file.id AS case_id, case_file.pseudonym, case_file.reference,"
            " case_file.case_type, case_file.team, case_audit.id AS audit_id,"
            " case_audit.status AS audit_status"
            " FROM case_file LEFT JOIN case_audit ON case_audit.case_id = case_file.id"
            "   AND case_audit.purpose = 'second' AND case_audit.reviewer_id = ?"
            " WHERE case_file.review_id = ? AND case_file.second_audit = 1"
            "   AND case_file.second_assigned_to = ? ORDER BY case_file.pseudonym",
            [reviewer_id, review_id, reviewer_id],
        )
    ]
    for row in rows:
        row["status"] = (
            "submitted"
            if row["audit_status"] == "submitted"
            else "in_progress"
            if row["audit_id"]
            else "not_started"
        )
    return rows


def paired_ratings(db: sqlite_utils.Database, review_id: str) -> dict[str, dict[str, Any]]:
    """Return, per case audited twice with both audits submitted, each audit's own answers.

    Agreement is about the auditors, so these are the reviewers' original values, not
    the moderated ones. Keyed by case id: pseudonym, first and second audit ids, answers.
    """
    cases: dict[str, dict[str, Any]] = {}
    rows = db.execute(
        "SELECT case_file.id AS case_id, case_file.pseudonym, case_file.case_type,"
        " case_audit.id AS audit_id, case_audit.purpose, answer.question_id, answer.value,"
        " answer.not_applicable"
        " FROM case_audit JOIN case_file ON case_file.id = case_audit.case_id"
        " LEFT JOIN answer ON answer.audit_id = case_audit.id"
        " WHERE case_audit.review_id = ? AND case_audit.status = 'submitted'"
        "   AND case_audit.purpose IN ('first', 'second')"
        "   AND case_file.id IN (SELECT case_id FROM case_audit WHERE review_id = ?"
        "     AND purpose = 'second' AND status = 'submitted')",
        [review_id, review_id],
    )
    for row in rows:
        case = cases.setdefault(
            row["case_id"],
            {
                "pseudonym": row["pseudonym"],
                "case_type": row["case_type"],
                "audits": {},
                "answers": {"first": {}, "second": {}},
            },
        )
        case["audits"][row["purpose"]] = row["audit_id"]
        if row["question_id"] and row["value"] is not None and not row["not_applicable"]:
            case["answers"][row["purpose"]][row["question_id"]] = row["value"]
    return {k: v for k, v in cases.items() if {"first", "second"} <= set(v["audits"])}


def both_submitted(db: sqlite_utils.Database, case_id: str) -> bool:
    """Tell whether a case's first and second audits are both submitted (blindness ends)."""
    row = db.execute(
        "SELECT count(DISTINCT purpose) FROM case_audit WHERE case_id = ?"
        " AND purpose IN ('first', 'second') AND status = 'submitted'",
        [case_id],
    ).fetchone()
    return row[0] == 2
