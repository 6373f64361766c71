"""Conversations with the practitioner and family feedback, one of each per audit."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import sqlite_utils

from audit.collaboration import Conversation, FamilyFeedback, SectionView
from audit.data import changes, reviews
from audit.data.db import utcnow, write

_CONVERSATION = """
SELECT conversation.*, user.display_name AS recorded_by_name
FROM conversation LEFT JOIN user ON user.id = conversation.recorded_by
JOIN case_audit ON case_audit.id = conversation.audit_id
"""
_FEEDBACK = """
SELECT family_feedback.*, user.display_name AS recorded_by_name
FROM family_feedback LEFT JOIN user ON user.id = family_feedback.recorded_by
JOIN case_audit ON case_audit.id = family_feedback.audit_id
"""


def _sections(db: sqlite_utils.Database, audit_ids: Sequence[str]) -> dict[str, list[SectionView]]:
    found: dict[str, list[SectionView]] = {}
    if not audit_ids:
        return found
    marks = ", ".join("?" for _ in audit_ids)
    rows = db.execute(
        f"SELECT * FROM conversation_section WHERE audit_id IN ({marks}) ORDER BY rowid",
        list(audit_ids),
    )
    for row in rows:
        found.setdefault(row["audit_id"], []).append(
            SectionView(
                section_id=row["section_id"],
                question_id=row["question_id"],
                grade=row["grade"],
                agrees=row["agrees"] == "yes",
                practitioner_view=row["practitioner_view"],
            )
        )
    return found


def _conversations(db: sqlite_utils.Database, where: str, args: list[Any]) -> list[Conversation]:
    rows = [dict(r) for r in db.execute(f"{_CONVERSATION} WHERE {where}", args)]
    sections = _sections(db, [r["audit_id"] for r in rows])
    return [
        Conversation(
            audit_id=r["audit_id"],
            held_on=r["held_on"],
            worker_role=r["worker_role"],
            manager_role=r["manager_role"],
            worker_name=r["worker_name"],
            will_do_differently=r["will_do_differently"],
            manager_response=r["manager_response"],
            sections=tuple(sections.get(r["audit_id"], [])),
            recorded_by=r["recorded_by_name"] or "",
            recorded_at=r["recorded_at"],
        )
        for r in rows
    ]


def _feedback(db: sqlite_utils.Database, where: str, args: list[Any]) -> list[FamilyFeedback]:
    return [
        FamilyFeedback(
            audit_id=r["audit_id"],
            consent=r["consent"] == "yes",
            contact_method=r["contact_method"],
            family_said=r["family_said"],
            felt_listened_to=r["felt_listened_to"],
            knows_plan=r["knows_plan"],
            life_better=r["life_better"],
            quote_included=bool(r["quote_included"]),
            recorded_by=r["recorded_by_name"] or "",
            recorded_at=r["recorded_at"],
        )
        for r in db.execute(f"{_FEEDBACK} WHERE {where}", args)
    ]


def conversation(db: sqlite_utils.Database, audit_id: str) -> Conversation | None:
    """Return the conversation recorded for an audit, or None."""
    found = _conversations(db, "conversation.audit_id = ?", [audit_id])
    return found[0] if found else None


def family_feedback(db: sqlite_utils.Database, audit_id: str) -> FamilyFeedback | None:
    """Return the family feedback recorded for an audit, or None."""
    found = _feedback(db, "family_feedback.audit_id = ?", [audit_id])
    return found[0] if found else None


def for_review(
    db: sqlite_utils.Database, review_id: str
) -> tuple[list[Conversation], list[FamilyFeedback]]:
    """Return every conversation and every family feedback recorded in a review."""
    where = "case_audit.review_id = ?"
    return _conversations(db, where, [review_id]), _feedback(db, where, [review_id])


def counted_audits(db: sqlite_utils.Database, review_id: str) -> list[str]:
    """Return the ids of the audits the findings count: submitted first audits."""
    rows = db.execute(
        "SELECT id FROM case_audit WHERE review_id = ? AND purpose = 'first'"
        " AND status = 'submitted' ORDER BY id",
        [review_id],
    )
    return [row["id"] for row in rows]


def audits_with_conversation(db: sqlite_utils.Database, review_id: str) -> set[str]:
    """Return the ids of the review's audits whose conversation has been recorded."""
    rows = db.execute(
        "SELECT conversation.audit_id FROM conversation"
        " JOIN case_audit ON case_audit.id = conversation.audit_id WHERE case_audit.review_id = ?",
        [review_id],
    )
    return {row["audit_id"] for row in rows}


def disputed_audits(db: sqlite_utils.Database, review_id: str) -> set[str]:
    """Return the ids of the review's audits with a section grade the practitioner disputes."""
    rows = db.execute(
        "SELECT DISTINCT conversation_section.audit_id FROM conversation_section"
        " JOIN case_audit ON case_audit.id = conversation_section.audit_id"
        " WHERE case_audit.review_id = ? AND conversation_section.agrees = 'no'",
        [review_id],
    )
    return {row["audit_id"] for row in rows}


def _in_review(db: sqlite_utils.Database, audit_id: str, review_id: str) -> None:
    row = db.execute(
        "SELECT 1 FROM case_audit WHERE id = ? AND review_id = ?", [audit_id, review_id]
    ).fetchone()
    if row is None:
        raise LookupError(f"no audit {audit_id} in review {review_id}")


def save_conversation(
    db: sqlite_utils.Database, review_id: str, record: Conversation, *, by: int
) -> None:
    """Record (or correct) an audit's conversation; the earlier version stays in the change log."""
    with write(db):
        _in_review(db, record.audit_id, review_id)
        before = conversation(db, record.audit_id)
        now = utcnow()
        # Update in place: deleting the row would cascade to the conversation's theme tags.
        db.execute(
            "INSERT INTO conversation (audit_id, held_on, worker_role, manager_role, worker_name,"
            " will_do_differently, manager_response, recorded_by, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (audit_id) DO UPDATE SET held_on = excluded.held_on,"
            " worker_role = excluded.worker_role, manager_role = excluded.manager_role,"
            " worker_name = excluded.worker_name,"
            " will_do_differently = excluded.will_do_differently,"
            " manager_response = excluded.manager_response, recorded_by = excluded.recorded_by,"
            " recorded_at = excluded.recorded_at",
            [
                record.audit_id,
                record.held_on,
                record.worker_role,
                record.manager_role,
                record.worker_name,
                record.will_do_differently,
                record.manager_response,
                by,
                now,
            ],
        )
        db.execute("DELETE FROM conversation_section WHERE audit_id = ?", [record.audit_id])
        for view in record.sections:
            db.execute(
                "INSERT INTO conversation_section (audit_id, section_id, question_id, grade,"
                " agrees, practitioner_view) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    record.audit_id,
                    view.section_id,
                    view.question_id,
                    view.grade,
                    "yes" if view.agrees else "no",
                    "" if view.agrees else view.practitioner_view,
                ],
            )
        _log(db, "conversation", review_id, before, record, by)


def save_settings(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    collaborative: bool,
    worker_names: bool,
    by: int,
) -> int:
    """Save a review's collaborative settings; return how many recorded names were removed.

    Turning worker names off removes every name already recorded in the review's
    conversations (each removal logged), so no page, export or bundle carries a name the
    council has chosen not to keep.
    """
    with write(db):
        reviews.update_settings(
            db,
            review_id,
            {"collaborative": collaborative, "worker_names": worker_names},
            by=by,
        )
        if worker_names:
            return 0
        named = db.execute(
            "SELECT conversation.audit_id, conversation.worker_name FROM conversation"
            " JOIN case_audit ON case_audit.id = conversation.audit_id"
            " WHERE case_audit.review_id = ? AND conversation.worker_name != ''",
            [review_id],
        ).fetchall()
        for row in named:
            db.execute(
                "UPDATE conversation SET worker_name = '' WHERE audit_id = ?", [row["audit_id"]]
            )
            changes.record(
                db,
                user_id=by,
                entity="conversation",
                entity_id=row["audit_id"],
                action="update",
                before={"worker_name": row["worker_name"]},
                after={"worker_name": ""},
                review_id=review_id,
            )
        return len(named)


def save_family_feedback(
    db: sqlite_utils.Database, review_id: str, record: FamilyFeedback, *, by: int
) -> None:
    """Record (or correct) an audit's family feedback, keeping the lead's quote choice.

    A changed account of what the family said is no longer the text the lead chose to
    quote, so the choice is cleared and the lead must choose it again.
    """
    with write(db):
        _in_review(db, record.audit_id, review_id)
        before = family_feedback(db, record.audit_id)
        keep_quote = bool(
            before and before.quote_included and before.family_said == record.family_said
        )
        db.execute(
            "INSERT INTO family_feedback (audit_id, consent, contact_method, family_said,"
            " felt_listened_to, knows_plan, life_better, quote_included, recorded_by,"
            " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (audit_id) DO UPDATE SET consent = excluded.consent,"
            " contact_method = excluded.contact_method, family_said = excluded.family_said,"
            " felt_listened_to = excluded.felt_listened_to, knows_plan = excluded.knows_plan,"
            " life_better = excluded.life_better, quote_included = excluded.quote_included,"
            " recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
            [
                record.audit_id,
                "yes" if record.consent else "no",
                record.contact_method,
                record.family_said,
                record.felt_listened_to,
                record.knows_plan,
                record.life_better,
                int(keep_quote and record.consent),
                by,
                utcnow(),
            ],
        )
        _log(db, "family_feedback", review_id, before, record, by)


def choose_quotes(
    db: sqlite_utils.Database, review_id: str, audit_ids: Collection[str], *, by: int
) -> int:
    """Include exactly these audits' family quotes in the findings; return how many are in.

    Only feedback given with consent and with something said can be quoted.
    """
    with write(db):
        rows = db.execute(
            "SELECT family_feedback.audit_id, family_feedback.quote_included FROM family_feedback"
            " JOIN case_audit ON case_audit.id = family_feedback.audit_id"
            " WHERE case_audit.review_id = ? AND family_feedback.consent = 'yes'"
            " AND family_feedback.family_said != ''",
            [review_id],
        ).fetchall()
        wanted = set(audit_ids)
        included = 0
        for row in rows:
            new = int(row["audit_id"] in wanted)
            included += new
            if new != row["quote_included"]:
                db.execute(
                    "UPDATE family_feedback SET quote_included = ? WHERE audit_id = ?",
                    [new, row["audit_id"]],
                )
                changes.record(
                    db,
                    user_id=by,
                    entity="family_feedback",
                    entity_id=row["audit_id"],
                    action="update",
                    before={"quote_included": bool(row["quote_included"])},
                    after={"quote_included": bool(new)},
                    review_id=review_id,
                )
        return included


def export_rows(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return one row per audit of the review (drafts too) with the case and reviewer.

    Keys: ``audit_id``, ``pseudonym``, ``reference``, ``purpose``, ``status``, ``reviewer``;
    the exports join these to :func:`for_review`'s records.
    """
    rows = db.execute(
        "SELECT case_audit.id AS audit_id, case_file.pseudonym, case_file.reference,"
        " case_audit.purpose, case_audit.status, user.display_name AS reviewer"
        " FROM case_audit JOIN case_file ON case_file.id = case_audit.case_id"
        " JOIN user ON user.id = case_audit.reviewer_id WHERE case_audit.review_id = ?"
        " ORDER BY case_file.pseudonym, case_audit.created_at, case_audit.id",
        [review_id],
    )
    return [dict(row) for row in rows]


def _loggable(record: Conversation | FamilyFeedback | None) -> Mapping[str, Any] | None:
    """Return a record as the change log keeps it (who recorded it is the log's own column)."""
    if record is None:
        return None
    data = asdict(record)
    data.pop("recorded_by", None)
    data.pop("recorded_at", None)
    return data


def _log(
    db: sqlite_utils.Database,
    entity: str,
    review_id: str,
    before: Conversation | FamilyFeedback | None,
    after: Conversation | FamilyFeedback,
    by: int,
) -> None:
    """Log a recorded or corrected record, with the version it replaced."""
    changes.record(
        db,
        user_id=by,
        entity=entity,
        entity_id=after.audit_id,
        action="update" if before else "create",
        before=_loggable(before),
        after=_loggable(after),
        review_id=review_id,
    )
