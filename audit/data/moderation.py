"""Moderation: a lead agrees with a submitted audit or changes grades, with reasons."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

import sqlite_utils

from audit.data import changes
from audit.data.db import utcnow, write


def moderate(
    db: sqlite_utils.Database,
    audit_id: str,
    review_id: str,
    *,
    changed: Mapping[str, tuple[str | None, str, str]],
    note: str,
    by: int,
) -> None:
    """Record a moderation: each changed grade keeps the original, the new grade and why.

    ``changed`` maps question id to (original value, moderated value, reason). With no
    changes the moderation records agreement.
    """
    now = utcnow()
    with write(db):
        audit = db.execute(
            "SELECT status FROM case_audit WHERE id = ? AND review_id = ?", [audit_id, review_id]
        ).fetchone()
        if audit is None or audit["status"] != "submitted":
            raise ValueError("only a submitted audit of this review can be moderated")
        outcome = "changed" if changed else "agreed"
        rows = [
            {
                "id": str(uuid.uuid4()),
                "audit_id": audit_id,
                "question_id": None,
                "outcome": outcome,
                "reason": note.strip(),
                "moderator_id": by,
                "created_at": now,
            }
        ]
        for question_id, (original, moderated, reason) in changed.items():
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "audit_id": audit_id,
                    "question_id": question_id,
                    "outcome": "changed",
                    "original_value": original,
                    "moderated_value": moderated,
                    "reason": reason.strip(),
                    "moderator_id": by,
                    "created_at": now,
                }
            )
        db["moderation"].insert_all(rows, alter=False)
        changes.record(
            db,
            user_id=by,
            entity="moderation",
            entity_id=audit_id,
            action="create",
            after={
                "outcome": outcome,
                "changed": {q: v[1] for q, v in changed.items()},
                "note": note.strip(),
            },
            review_id=review_id,
        )


def for_audit(db: sqlite_utils.Database, audit_id: str) -> list[dict[str, Any]]:
    """Return an audit's moderation history, oldest first, with the moderator's name."""
    return [
        dict(r)
        for r in db.execute(
            "SELECT moderation.*, user.display_name AS moderator FROM moderation"
            " JOIN user ON user.id = moderation.moderator_id WHERE audit_id = ?"
            " ORDER BY moderation.rowid",
            [audit_id],
        )
    ]


def current_values(db: sqlite_utils.Database, audit_id: str) -> dict[str, str | None]:
    """Return the latest moderated value of each question an audit's moderation changed."""
    rows = db.execute(
        "SELECT question_id, moderated_value FROM moderation WHERE audit_id = ?"
        " AND question_id IS NOT NULL ORDER BY rowid",
        [audit_id],
    )
    return {row["question_id"]: row["moderated_value"] for row in rows}


def summary(db: sqlite_utils.Database, review_id: str) -> dict[str, Any]:
    """Count submitted audits (first and second), how many were moderated, every grade change."""
    submitted = db.execute(
        "SELECT count(*) FROM case_audit WHERE review_id = ? AND status = 'submitted'",
        [review_id],
    ).fetchone()[0]
    moderated = db.execute(
        "SELECT count(DISTINCT moderation.audit_id) FROM moderation"
        " JOIN case_audit ON case_audit.id = moderation.audit_id"
        " WHERE case_audit.review_id = ? AND case_audit.status = 'submitted'"
        " AND moderation.question_id IS NULL",
        [review_id],
    ).fetchone()[0]
    moves = [
        (row["question_id"], row["original_value"], row["moderated_value"])
        for row in db.execute(
            "SELECT moderation.question_id, moderation.original_value,"
            " moderation.moderated_value FROM moderation"
            " JOIN case_audit ON case_audit.id = moderation.audit_id"
            " WHERE case_audit.review_id = ? AND moderation.question_id IS NOT NULL",
            [review_id],
        )
    ]
    return {"submitted": submitted, "moderated": moderated, "changes": moves}


def moderated_questions(db: sqlite_utils.Database, review_id: str) -> dict[str, set[str]]:
    """Return audit id -> the questions whose answer moderation changed (for the appendix)."""
    out: dict[str, set[str]] = {}
    for audit_id, question_id in db.execute(
        "SELECT moderation.audit_id, moderation.question_id FROM moderation"
        " JOIN case_audit ON case_audit.id = moderation.audit_id"
        " WHERE case_audit.review_id = ? AND moderation.question_id IS NOT NULL"
        " AND moderation.outcome = 'changed'",
        [review_id],
    ):
        out.setdefault(audit_id, set()).add(question_id)
    return out


def queue(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    lowest_level: str,
    adverse: Collection[tuple[str, str]],
) -> list[dict[str, Any]]:
    """Return submitted first audits waiting for moderation, marking those that need it.

    An audit needs moderation when it has a grade at the scale's lowest level or an adverse
    answer to a critical question (``adverse`` holds (question id, value) pairs). A moderated
    audit comes back (``disputed_since`` true) when its conversation with the practitioner,
    recorded or corrected at or after its last moderation, disputes a grade: the lead has
    not seen that dispute yet.
    """
    pairs = list(adverse)
    adverse_sql = " OR ".join("(a.question_id = ? AND a.value = ?)" for _ in pairs) or "0"
    args: list[Any] = [review_id, lowest_level, *[x for pair in pairs for x in pair]]
    # The last whole-audit moderation is looked up per audit (idx_moderation_audit), and
    # moderated audits without a later dispute are dropped before anything else is worked out.
    sql = f"""
    WITH submitted AS (
        SELECT case_audit.id AS audit_id, case_file.pseudonym, case_file.case_type,
               case_audit.submitted_at, user.display_name AS reviewer,
               (SELECT max(created_at) FROM moderation
                WHERE moderation.audit_id = case_audit.id
                  AND moderation.question_id IS NULL) AS moderated_at
        FROM case_audit JOIN case_file ON case_file.id = case_audit.case_id
        JOIN user ON user.id = case_audit.reviewer_id
        WHERE case_audit.review_id = ? AND case_audit.purpose = 'first'
          AND case_audit.status = 'submitted'
    )
    SELECT audit_id, pseudonym, case_type, submitted_at, reviewer,
           EXISTS (SELECT 1 FROM answer AS a WHERE a.audit_id = submitted.audit_id
                   AND (a.value = ? OR {adverse_sql})) AS flagged,
           moderated_at IS NOT NULL AS moderated,
           moderated_at IS NOT NULL AS disputed_since
    FROM submitted
    WHERE moderated_at IS NULL OR EXISTS (
        SELECT 1 FROM conversation JOIN conversation_section
          ON conversation_section.audit_id = conversation.audit_id
        WHERE conversation.audit_id = submitted.audit_id
          AND conversation_section.agrees = 'no'
          AND conversation.recorded_at >= submitted.moderated_at)
    ORDER BY flagged AND NOT moderated DESC, disputed_since DESC, flagged DESC, pseudonym
    """
    return [dict(r) for r in db.execute(sql, args)]
