"""A multi-agency review's children, agency auditors, agency audits and safeguarding alerts.

Each agency that knows a child audits its own records of the child: one ``agency_audit`` per
child and agency, saved like a case audit (optimistic locking by ``version``, an adverse
critical answer raising an alert in the same transaction, no submission while an alert is
unrecorded). Once the child's panel is open the agency audits of that child are fixed: the
panel discusses what the agencies said, so nothing may change under it.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from audit.data import changes
from audit.data import reviews as review_data
from audit.data.db import utcnow, write
from audit.scoring import Answer


class PanelOpen(Exception):
    """The child's panel is open: the agencies' audits of the child can no longer change."""


class NotKnown(LookupError):
    """The agency is not recorded as knowing this child."""


class AgencyInUse(Exception):
    """The agency has saved answers about the child, so it cannot be taken off the child."""


class DuplicateReference(ValueError):
    """The agency's reference is already used for another child of the review."""


class NotAnAgencyAuditor(ValueError):
    """The person cannot audit for an agency in this review (no agency, or another role)."""


class AuditLocked(Exception):
    """The agency audit is submitted: only the lead reopening it makes it editable again."""


class StaleAudit(Exception):
    """The agency audit changed since the page was loaded; saving would overwrite it."""

    def __init__(self, current: AgencyAudit) -> None:
        super().__init__(current.id)
        self.current = current


# --------------------------------------------------------------------------- children


def case_agencies(db: sqlite_utils.Database, review_id: str) -> dict[str, dict[str, str]]:
    """Return, per child (case id), the agencies that know them and each agency's reference."""
    out: dict[str, dict[str, str]] = {}
    for row in db.execute(
        "SELECT case_agency.case_id, case_agency.agency_id, case_agency.reference"
        " FROM case_agency LEFT JOIN agency ON agency.id = case_agency.agency_id"
        " WHERE case_agency.review_id = ? ORDER BY agency.position, case_agency.agency_id",
        [review_id],
    ):
        out.setdefault(row["case_id"], {})[row["agency_id"]] = row["reference"]
    return out


def knows(db: sqlite_utils.Database, case_id: str, agency_id: str) -> bool:
    """Tell whether the agency is recorded as knowing the child."""
    return (
        db.execute(
            "SELECT 1 FROM case_agency WHERE case_id = ? AND agency_id = ?", [case_id, agency_id]
        ).fetchone()
        is not None
    )


def panel_open(db: sqlite_utils.Database, case_id: str) -> bool:
    """Tell whether the child's panel has opened (the agencies' audits are then fixed)."""
    return db.execute("SELECT 1 FROM panel WHERE case_id = ?", [case_id]).fetchone() is not None


def set_case_agencies(
    db: sqlite_utils.Database,
    review_id: str,
    case_id: str,
    agencies: Mapping[str, str],
    *,
    by: int | None,
) -> None:
    """Record which agencies know the child and each one's own reference for its record.

    An agency whose audit of the child holds answers cannot be taken off; nothing changes
    once the child's panel is open. An agency's reference is unique within the review.
    """
    with write(db):
        review_data.case_file(db, case_id, review_id)
        current = case_agencies(db, review_id).get(case_id, {})
        wanted = {a: " ".join((r or "").split()) for a, r in agencies.items()}
        if wanted == current:
            return
        if panel_open(db, case_id):
            raise PanelOpen(case_id)
        for agency_id in set(current) - set(wanted):
            used = db.execute(
                "SELECT count(*) FROM agency_answer JOIN agency_audit"
                " ON agency_audit.id = agency_answer.audit_id"
                " WHERE agency_audit.case_id = ? AND agency_audit.agency_id = ?",
                [case_id, agency_id],
            ).fetchone()[0]
            if used:
                raise AgencyInUse(agency_id)
        for agency_id, reference in wanted.items():
            if reference:
                clash = db.execute(
                    "SELECT case_file.pseudonym FROM case_agency JOIN case_file"
                    " ON case_file.id = case_agency.case_id WHERE case_agency.review_id = ?"
                    " AND case_agency.agency_id = ? AND case_agency.reference = ?"
                    " AND case_agency.case_id != ?",
                    [review_id, agency_id, reference, case_id],
                ).fetchone()
                if clash is not None:
                    raise DuplicateReference(f"{agency_id}:{reference}:{clash['pseudonym']}")
        now = utcnow()
        for agency_id in set(current) - set(wanted):
            db.execute(
                "DELETE FROM case_agency WHERE case_id = ? AND agency_id = ?", [case_id, agency_id]
            )
        for agency_id, reference in wanted.items():
            db.execute(
                "INSERT INTO case_agency (case_id, review_id, agency_id, reference, added_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id, agency_id)"
                " DO UPDATE SET reference = excluded.reference",
                [case_id, review_id, agency_id, reference, now],
            )
        changes.record(
            db,
            user_id=by,
            entity="case_agency",
            entity_id=case_id,
            action="update" if current else "create",
            before=current or None,
            after=wanted,
            review_id=review_id,
        )


def add_child(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    reference: str,
    case_type: str,
    agencies: Mapping[str, str],
    by: int | None,
) -> str:
    """Add a child to the review with the agencies that know them, in one transaction."""
    with write(db):
        (case_id,) = review_data.add_case_files(
            db, review_id, [{"reference": reference, "case_type": case_type}], by=by
        )
        set_case_agencies(db, review_id, case_id, agencies, by=by)
    return case_id


# --------------------------------------------------------------------------- agency auditors


def member_role(db: sqlite_utils.Database, review_id: str, user_id: int) -> str | None:
    """Return "agency" if the person audits for their agency in this review, else None."""
    row = db.execute(
        "SELECT 1 FROM agency_member WHERE review_id = ? AND user_id = ?", [review_id, user_id]
    ).fetchone()
    return None if row is None else "agency"


def auditors(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return the review's agency auditors with their agency, by agency then name."""
    return [
        dict(r)
        for r in db.execute(
            "SELECT user.id, user.username, user.display_name, user.active, user.agency_id,"
            " agency.name AS agency_name, agency_member.added_at FROM agency_member"
            " JOIN user ON user.id = agency_member.user_id"
            " LEFT JOIN agency ON agency.id = user.agency_id"
            " WHERE agency_member.review_id = ?"
            " ORDER BY agency.position, user.display_name COLLATE NOCASE",
            [review_id],
        )
    ]


def add_auditor(db: sqlite_utils.Database, review_id: str, user_id: int, *, by: int | None) -> None:
    """Let a person audit their agency's records in this review."""
    with write(db):
        row = db.execute("SELECT agency_id FROM user WHERE id = ?", [user_id]).fetchone()
        if row is None or row["agency_id"] is None:
            raise NotAnAgencyAuditor("belongs to no agency")
        if review_data.membership(db, review_id, user_id) not in (None, "agency"):
            raise NotAnAgencyAuditor("already in the review with another role")
        if member_role(db, review_id, user_id):
            return
        db.execute(
            "INSERT INTO agency_member (review_id, user_id, added_by, added_at)"
            " VALUES (?, ?, ?, ?)",
            [review_id, user_id, by, utcnow()],
        )
        changes.record(
            db,
            user_id=by,
            entity="agency_member",
            entity_id=f"{review_id}:{user_id}",
            action="create",
            after={"agency_id": row["agency_id"]},
            review_id=review_id,
        )


def remove_auditor(
    db: sqlite_utils.Database, review_id: str, user_id: int, *, by: int | None
) -> None:
    """Stop a person auditing in this review (what they saved stays, as their agency's)."""
    with write(db):
        if not member_role(db, review_id, user_id):
            return
        db.execute(
            "DELETE FROM agency_member WHERE review_id = ? AND user_id = ?", [review_id, user_id]
        )
        changes.record(
            db,
            user_id=by,
            entity="agency_member",
            entity_id=f"{review_id}:{user_id}",
            action="delete",
            review_id=review_id,
        )


# --------------------------------------------------------------------------- agency audits


@dataclass(frozen=True)
class AgencyAudit:
    """One agency's audit of its own records of one child."""

    id: str
    review_id: str
    case_id: str
    agency_id: str
    status: str
    version: int
    sections_na: frozenset[str]
    started_by: int | None
    updated_by: int | None
    submitted_by: int | None
    created_at: str
    updated_at: str
    submitted_at: str | None
    answers: Mapping[str, Answer] = field(default_factory=dict)

    @property
    def submitted(self) -> bool:
        """A submitted agency audit is read-only for its agency."""
        return self.status == "submitted"


def answers_of(
    db: sqlite_utils.Database, table: str, key_column: str, key: str
) -> dict[str, Answer]:
    """Return the answers kept in ``agency_answer`` or ``panel_answer`` under one key."""
    return {
        r["question_id"]: Answer(r["value"], bool(r["not_applicable"]), r["evidence"])
        for r in db.execute(
            f"SELECT question_id, value, not_applicable, evidence FROM {table}"
            f" WHERE {key_column} = ?",
            [key],
        )
    }


def _audit(db: sqlite_utils.Database, row: Mapping[str, Any]) -> AgencyAudit:
    return dataclasses.replace(
        _audit_row(row), answers=answers_of(db, "agency_answer", "audit_id", row["id"])
    )


def get(db: sqlite_utils.Database, audit_id: str, review_id: str | None = None) -> AgencyAudit:
    """Return an agency audit with its answers (LookupError if not in ``review_id``)."""
    row = db.execute("SELECT * FROM agency_audit WHERE id = ?", [audit_id]).fetchone()
    if row is None or (review_id is not None and row["review_id"] != review_id):
        raise LookupError(audit_id)
    return _audit(db, row)


def for_case(db: sqlite_utils.Database, case_id: str) -> dict[str, AgencyAudit]:
    """Return every agency's audit of a child, by agency id."""
    return {
        row["agency_id"]: _audit(db, row)
        for row in db.execute("SELECT * FROM agency_audit WHERE case_id = ?", [case_id])
    }


def start(
    db: sqlite_utils.Database, review_id: str, case_id: str, agency_id: str, *, by: int
) -> str:
    """Return the agency's audit of the child, starting an empty draft if there is none."""
    with write(db):
        row = db.execute(
            "SELECT id FROM agency_audit WHERE case_id = ? AND agency_id = ? AND review_id = ?",
            [case_id, agency_id, review_id],
        ).fetchone()
        if row is not None:
            return str(row["id"])
        review_data.case_file(db, case_id, review_id)
        if not knows(db, case_id, agency_id):
            raise NotKnown(agency_id)
        if panel_open(db, case_id):
            raise PanelOpen(case_id)
        audit_id = str(uuid.uuid4())
        now = utcnow()
        db["agency_audit"].insert(
            {
                "id": audit_id,
                "review_id": review_id,
                "case_id": case_id,
                "agency_id": agency_id,
                "status": "draft",
                "version": 1,
                "started_by": by,
                "updated_by": by,
                "created_at": now,
                "updated_at": now,
            }
        )
        changes.record(
            db,
            user_id=by,
            entity="agency_audit",
            entity_id=audit_id,
            action="create",
            after={"case_id": case_id, "agency_id": agency_id},
            review_id=review_id,
        )
    return audit_id


@dataclass(frozen=True)
class SaveResult:
    """What a save did: the new version, alerts still to record, alerts raised, submitted."""

    version: int
    open_escalations: tuple[str, ...]
    raised: tuple[str, ...]
    submitted: bool
    panel_opened: bool = False


def write_answers(
    db: sqlite_utils.Database,
    table: str,
    key_column: str,
    key: str,
    current: Mapping[str, Answer],
    answers: Mapping[str, Answer],
    now: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write the answers that changed (a blank answer without evidence clears one).

    Returns what changed, before and after, for the change log.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for question_id, answer in answers.items():
        old = current.get(question_id)
        if old == answer or (old is None and not answer.answered and not answer.evidence):
            continue
        before[question_id] = None if old is None else _loggable(old)
        after[question_id] = _loggable(answer)
        if not answer.answered and not answer.evidence.strip():
            db.execute(
                f"DELETE FROM {table} WHERE {key_column} = ? AND question_id = ?",
                [key, question_id],
            )
            continue
        db.execute(
            f"INSERT INTO {table} ({key_column}, question_id, value, not_applicable, evidence,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT ({key_column}, question_id) DO UPDATE SET value = excluded.value,"
            " not_applicable = excluded.not_applicable, evidence = excluded.evidence,"
            " updated_at = excluded.updated_at",
            [key, question_id, answer.value, int(answer.not_applicable), answer.evidence, now],
        )
    return before, after


def _loggable(answer: Answer) -> dict[str, Any]:
    return {"value": answer.value, "na": answer.not_applicable, "evidence": answer.evidence}


def save(
    db: sqlite_utils.Database,
    audit_id: str,
    *,
    expected_version: int,
    answers: Mapping[str, Answer],
    sections_na: Collection[str],
    adverse_questions: Collection[str],
    critical_questions: Collection[str],
    by: int,
    submit: bool = False,
) -> SaveResult:
    """Save (or submit) an agency audit if nobody saved since ``expected_version``.

    As with every audit, an adverse critical answer raises an alert in the same transaction
    and an audit with an alert still to record is not submitted. The last agency to submit
    opens the child's panel.
    """
    from audit.data import panels  # the panel opens when the last agency submits

    now = utcnow()
    with write(db):
        current = get(db, audit_id)
        if panel_open(db, current.case_id):
            raise PanelOpen(current.case_id)
        if current.submitted:
            raise AuditLocked(audit_id)
        if current.version != expected_version:
            raise StaleAudit(current)
        before, after = write_answers(
            db, "agency_answer", "audit_id", audit_id, current.answers, answers, now
        )
        sections = sorted(sections_na)
        if sections != sorted(current.sections_na):
            before["sections_not_applicable"] = sorted(current.sections_na)
            after["sections_not_applicable"] = sections
        raised = sync_alerts(
            db,
            review_id=current.review_id,
            case_id=current.case_id,
            agency_audit_id=audit_id,
            agency_id=current.agency_id,
            adverse_questions=adverse_questions,
            critical_questions=critical_questions,
            by=by,
            now=now,
        )
        open_ids = tuple(
            r["id"]
            for r in db.execute(
                "SELECT id FROM agency_escalation WHERE agency_audit_id = ?"
                " AND recorded_at IS NULL AND withdrawn_at IS NULL ORDER BY raised_at",
                [audit_id],
            )
        )
        submitted = submit and not open_ids
        if submitted:
            before["status"], after["status"] = current.status, "submitted"
        version = current.version + 1
        db.execute(
            "UPDATE agency_audit SET version = ?, status = ?, sections_not_applicable = ?,"
            " updated_by = ?, updated_at = ?, submitted_by = ?, submitted_at = ? WHERE id = ?",
            [
                version,
                "submitted" if submitted else "draft",
                json.dumps(sections),
                by,
                now,
                by if submitted else None,
                now if submitted else None,
                audit_id,
            ],
        )
        if after:
            changes.record(
                db,
                user_id=by,
                entity="agency_audit",
                entity_id=audit_id,
                action="update",
                before=before,
                after=after,
                review_id=current.review_id,
            )
        opened = submitted and panels.open_when_all_submitted(
            db, current.review_id, current.case_id
        )
    return SaveResult(version, open_ids, tuple(raised), submitted, opened)


def reopen(db: sqlite_utils.Database, audit_id: str, review_id: str, *, by: int) -> None:
    """Let the agency change a submitted audit again (the lead's decision, before the panel)."""
    with write(db):
        current = get(db, audit_id, review_id)
        if panel_open(db, current.case_id):
            raise PanelOpen(current.case_id)
        if not current.submitted:
            return
        db.execute(
            "UPDATE agency_audit SET status = 'draft', version = version + 1, updated_at = ?,"
            " submitted_at = NULL, submitted_by = NULL WHERE id = ?",
            [utcnow(), audit_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="agency_audit",
            entity_id=audit_id,
            action="update",
            before={"status": "submitted"},
            after={"status": "draft", "reopened": True},
            review_id=review_id,
        )


def progress(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return, per child and agency that knows them, how far the agency's audit has got.

    Only statuses and counts: the lead sees who has finished without seeing any draft.
    """
    rows = [
        dict(r)
        for r in db.execute(
            "SELECT case_agency.case_id, case_agency.agency_id, case_agency.reference,"
            " agency_audit.id AS audit_id, agency_audit.status AS audit_status,"
            " agency_audit.submitted_at, agency_audit.updated_at,"
            " (SELECT count(*) FROM agency_answer WHERE agency_answer.audit_id = agency_audit.id"
            "   AND (agency_answer.value IS NOT NULL OR agency_answer.not_applicable = 1))"
            "   AS answered"
            " FROM case_agency LEFT JOIN agency_audit ON agency_audit.case_id = case_agency.case_id"
            "   AND agency_audit.agency_id = case_agency.agency_id"
            " LEFT JOIN agency ON agency.id = case_agency.agency_id"
            " WHERE case_agency.review_id = ? ORDER BY agency.position, case_agency.agency_id",
            [review_id],
        )
    ]
    for row in rows:
        if row["audit_status"] == "submitted":
            row["status"] = "submitted"
        elif row["audit_id"] and row["answered"]:
            row["status"] = "in_progress"
        else:
            row["status"] = "not_started"
    return rows


# --------------------------------------------------------------------------- alerts


_ALERT_SELECT = (
    "SELECT agency_escalation.*, case_file.pseudonym, case_file.reference,"
    " raiser.display_name AS raised_by_name, recorder.display_name AS recorded_by_name,"
    " agency.name AS agency_name"
    " FROM agency_escalation JOIN case_file ON case_file.id = agency_escalation.case_id"
    " JOIN user AS raiser ON raiser.id = agency_escalation.raised_by"
    " LEFT JOIN user AS recorder ON recorder.id = agency_escalation.recorded_by"
    " LEFT JOIN agency ON agency.id = agency_escalation.agency_id"
)


def sync_alerts(
    db: sqlite_utils.Database,
    *,
    review_id: str,
    case_id: str,
    agency_audit_id: str | None,
    agency_id: str | None,
    adverse_questions: Collection[str],
    critical_questions: Collection[str],
    by: int,
    now: str,
) -> list[str]:
    """Raise an alert for each new adverse critical answer; withdraw unrecorded ones undone.

    ``agency_audit_id`` None means the panel's agreed answers (the alert names no agency).
    """
    if agency_audit_id is None:
        where, args = "case_id = ? AND agency_audit_id IS NULL", [case_id]
    else:
        where, args = "agency_audit_id = ?", [agency_audit_id]
    live = {
        r["question_id"]: r
        for r in db.execute(
            f"SELECT * FROM agency_escalation WHERE {where} AND withdrawn_at IS NULL", args
        )
    }
    raised = []
    for question_id in adverse_questions:
        if question_id in live:
            continue
        alert_id = str(uuid.uuid4())
        db["agency_escalation"].insert(
            {
                "id": alert_id,
                "review_id": review_id,
                "case_id": case_id,
                "agency_audit_id": agency_audit_id,
                "agency_id": agency_id,
                "question_id": question_id,
                "raised_by": by,
                "raised_at": now,
            }
        )
        changes.record(
            db,
            user_id=by,
            entity="agency_escalation",
            entity_id=alert_id,
            action="create",
            after={"question_id": question_id, "case_id": case_id, "agency_id": agency_id},
            review_id=review_id,
        )
        raised.append(alert_id)
    for question_id, row in live.items():
        if (
            question_id in critical_questions
            and question_id not in adverse_questions
            and row["recorded_at"] is None
        ):
            # Changed before anyone was told: kept, marked withdrawn, so the history shows it.
            db.execute(
                "UPDATE agency_escalation SET withdrawn_by = ?, withdrawn_at = ? WHERE id = ?",
                [by, now, row["id"]],
            )
            changes.record(
                db,
                user_id=by,
                entity="agency_escalation",
                entity_id=row["id"],
                action="update",
                after={"withdrawn": True},
                review_id=review_id,
            )
    return raised


def escalations(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    open_only: bool = False,
    case_id: str | None = None,
    agency_audit_id: str | None = None,
) -> list[dict[str, Any]]:
    """Return a review's agency and panel alerts (or a child's, or one audit's), oldest first."""
    sql = _ALERT_SELECT + " WHERE agency_escalation.review_id = ?"
    args: list[Any] = [review_id]
    if case_id:
        sql += " AND agency_escalation.case_id = ?"
        args.append(case_id)
    if agency_audit_id:
        sql += " AND agency_escalation.agency_audit_id = ?"
        args.append(agency_audit_id)
    if open_only:
        sql += (
            " AND agency_escalation.recorded_at IS NULL AND agency_escalation.withdrawn_at IS NULL"
        )
    return [dict(r) for r in db.execute(sql + " ORDER BY agency_escalation.raised_at", args)]


def escalation(db: sqlite_utils.Database, alert_id: str, review_id: str) -> dict[str, Any]:
    """Return one alert of this review (LookupError otherwise)."""
    row = db.execute(
        _ALERT_SELECT + " WHERE agency_escalation.id = ? AND agency_escalation.review_id = ?",
        [alert_id, review_id],
    ).fetchone()
    if row is None:
        raise LookupError(alert_id)
    return dict(row)


def record_escalation(
    db: sqlite_utils.Database,
    alert_id: str,
    review_id: str,
    *,
    told_who: str,
    told_at: str,
    agreed_action: str,
    by: int,
) -> None:
    """Record who was told about a child found not adequately safeguarded, when, what agreed."""
    with write(db):
        row = escalation(db, alert_id, review_id)
        fields = {"told_who": told_who, "told_at": told_at, "agreed_action": agreed_action}
        db.execute(
            "UPDATE agency_escalation SET told_who = ?, told_at = ?, agreed_action = ?,"
            " recorded_by = ?, recorded_at = ? WHERE id = ?",
            [told_who, told_at, agreed_action, by, utcnow(), alert_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="agency_escalation",
            entity_id=alert_id,
            action="update",
            before={k: row[k] for k in fields},
            after=fields,
            review_id=review_id,
        )


def open_alert_count(db: sqlite_utils.Database, review_id: str) -> int:
    """Return how many agency or panel alerts of the review have no escalation recorded."""
    return int(
        db.execute(
            "SELECT count(*) FROM agency_escalation WHERE review_id = ? AND recorded_at IS NULL"
            " AND withdrawn_at IS NULL",
            [review_id],
        ).fetchone()[0]
    )


def grouped_answers(
    db: sqlite_utils.Database, sql: str, key: str, args: list[Any]
) -> dict[str, dict[str, Answer]]:
    """Return answer rows grouped by ``key`` (an audit or a child), then by question."""
    answers: dict[str, dict[str, Answer]] = {}
    for r in db.execute(sql, args):
        answers.setdefault(r[key], {})[r["question_id"]] = Answer(
            r["value"], bool(r["not_applicable"]), r["evidence"]
        )
    return answers


def for_review(db: sqlite_utils.Database, review_id: str) -> list[AgencyAudit]:
    """Return every agency audit of the review with its answers (two queries in all)."""
    answers = grouped_answers(
        db,
        "SELECT agency_answer.* FROM agency_answer JOIN agency_audit"
        " ON agency_audit.id = agency_answer.audit_id WHERE agency_audit.review_id = ?",
        "audit_id",
        [review_id],
    )
    rows = db.execute(
        "SELECT * FROM agency_audit WHERE review_id = ? ORDER BY case_id, agency_id", [review_id]
    ).fetchall()
    return [
        dataclasses.replace(_audit_row(row), answers=answers.get(row["id"], {})) for row in rows
    ]


def _audit_row(row: Mapping[str, Any]) -> AgencyAudit:
    return AgencyAudit(
        id=row["id"],
        review_id=row["review_id"],
        case_id=row["case_id"],
        agency_id=row["agency_id"],
        status=row["status"],
        version=row["version"],
        sections_na=frozenset(json.loads(row["sections_not_applicable"])),
        started_by=row["started_by"],
        updated_by=row["updated_by"],
        submitted_by=row["submitted_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        submitted_at=row["submitted_at"],
    )
