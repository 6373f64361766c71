"""Action plans: what will be done about each area for development, by whom, by when."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlite_utils

from audit import moments
from audit.data import changes
from audit.data.db import utcnow, write

STATUSES = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "done": "Done",
    "dropped": "Dropped",
}
OPEN = ("not_started", "in_progress")


class ActionNotFound(LookupError):
    """No action with that id in this review."""


def add(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    what: str,
    owner: str,
    due_date: str | None,
    by: int | None,
    finding_id: str | None = None,
    audit_id: str | None = None,
) -> str:
    """Add an action: on an area for development, or a case action agreed during an audit."""
    if (finding_id is None) == (audit_id is None):
        raise ValueError("an action belongs to either a finding or an audit")
    now = utcnow()
    row = {
        "id": str(uuid.uuid4()),
        "review_id": review_id,
        "finding_id": finding_id,
        "audit_id": audit_id,
        "what": what.strip(),
        "owner": owner.strip(),
        "due_date": due_date or None,
        "status": "not_started",
        "created_by": by,
        "created_at": now,
        "updated_at": now,
    }
    table, owner_id = ("finding", finding_id) if finding_id else ("case_audit", audit_id)
    with write(db):
        found = db.execute(
            f"SELECT 1 FROM {table} WHERE id = ? AND review_id = ?", [owner_id, review_id]
        ).fetchone()
        if found is None:
            raise LookupError(owner_id)
        db["action"].insert(row)
        changes.record(
            db,
            user_id=by,
            entity="action",
            entity_id=row["id"],
            action="create",
            after={k: row[k] for k in ("what", "owner", "due_date", "finding_id", "audit_id")},
            review_id=review_id,
        )
    return row["id"]


def case_actions(
    db: sqlite_utils.Database, *, audit_id: str | None = None, review_id: str | None = None
) -> list[dict[str, Any]]:
    """Return case-level actions for one audit or a whole review, soonest due first."""
    where, args = (
        ("action.audit_id = ?", [audit_id])
        if audit_id
        else ("action.review_id = ? AND action.audit_id IS NOT NULL", [review_id])
    )
    return [
        dict(row)
        for row in db.execute(
            "SELECT action.*, case_file.pseudonym FROM action"
            " JOIN case_audit ON case_audit.id = action.audit_id"
            " JOIN case_file ON case_file.id = case_audit.case_id"
            f" WHERE {where} ORDER BY action.due_date IS NULL, action.due_date, action.created_at",
            args,
        )
    ]


def get(db: sqlite_utils.Database, review_id: str, action_id: str) -> dict[str, Any]:
    """Return one action of this review with its notes."""
    row = db.execute(
        "SELECT action.*, finding.text AS finding_text FROM action"
        " LEFT JOIN finding ON finding.id = action.finding_id"
        " WHERE action.id = ? AND action.review_id = ?",
        [action_id, review_id],
    ).fetchone()
    if row is None:
        raise ActionNotFound(action_id)
    item = dict(row)
    item["notes"] = notes(db, action_id)
    return item


def notes(db: sqlite_utils.Database, action_id: str) -> list[dict[str, Any]]:
    """Return an action's progress notes, newest first."""
    return [
        dict(r)
        for r in db.execute(
            "SELECT action_note.*, user.display_name AS author FROM action_note"
            " LEFT JOIN user ON user.id = action_note.created_by"
            " WHERE action_id = ? ORDER BY noted_on DESC, created_at DESC",
            [action_id],
        )
    ]


def update(
    db: sqlite_utils.Database,
    review_id: str,
    action_id: str,
    *,
    status: str,
    what: str,
    owner: str,
    due_date: str | None,
    by: int | None,
) -> None:
    """Change an action's status, wording, owner or due date."""
    if status not in STATUSES:
        raise ValueError(status)
    with write(db):
        before = get(db, review_id, action_id)
        values = {
            "status": status,
            "what": what.strip(),
            "owner": owner.strip(),
            "due_date": due_date or None,
        }
        db.execute(
            "UPDATE action SET status = ?, what = ?, owner = ?, due_date = ?, updated_at = ?"
            " WHERE id = ?",
            [status, values["what"], values["owner"], values["due_date"], utcnow(), action_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="action",
            entity_id=action_id,
            action="update",
            before={k: before[k] for k in values},
            after=values,
            review_id=review_id,
        )


def add_note(
    db: sqlite_utils.Database,
    review_id: str,
    action_id: str,
    *,
    note: str,
    noted_on: str,
    by: int | None,
) -> None:
    """Record progress on an action, dated."""
    with write(db):
        get(db, review_id, action_id)
        note_id = str(uuid.uuid4())
        db["action_note"].insert(
            {
                "id": note_id,
                "action_id": action_id,
                "note": note.strip(),
                "noted_on": noted_on,
                "created_by": by,
                "created_at": utcnow(),
            }
        )
        db.execute("UPDATE action SET updated_at = ? WHERE id = ?", [utcnow(), action_id])
        changes.record(
            db,
            user_id=by,
            entity="action_note",
            entity_id=note_id,
            action="create",
            after={"action_id": action_id, "noted_on": noted_on},
            review_id=review_id,
        )


_LIST = """
SELECT action.*, finding.text AS finding_text, finding.question_ids,
       review.title AS review_title, review.id AS review_id,
       (SELECT count(*) FROM action_note WHERE action_note.action_id = action.id) AS note_count,
       (SELECT max(noted_on) FROM action_note WHERE action_note.action_id = action.id) AS last_note
FROM action JOIN review ON review.id = action.review_id
LEFT JOIN finding ON finding.id = action.finding_id
WHERE action.finding_id IS NOT NULL AND {where}
"""


def _ordered(rows: list[dict[str, Any]], today: str) -> list[dict[str, Any]]:
    """Overdue actions first (oldest due first), then open ones by due date, then closed."""
    for row in rows:
        row["overdue"] = bool(row["due_date"]) and row["due_date"] < today and row["status"] in OPEN
        row["status_label"] = STATUSES.get(row["status"], row["status"])

    def key(row: dict[str, Any]) -> tuple:
        rank = 0 if row["overdue"] else 1 if row["status"] in OPEN else 2
        return (rank, row["due_date"] or "9999-99-99", row["created_at"])

    return sorted(rows, key=key)


def for_review(db: sqlite_utils.Database, review_id: str, today: date | None = None) -> list:
    """Return a review's action plan, overdue first."""
    rows = [dict(r) for r in db.execute(_LIST.format(where="action.review_id = ?"), [review_id])]
    return _ordered(rows, (today or moments.today()).isoformat())


def for_programme(db: sqlite_utils.Database, programme_id: str, today: date | None = None) -> list:
    """Return every action across a programme's reviews, overdue first."""
    rows = [
        dict(r) for r in db.execute(_LIST.format(where="review.programme_id = ?"), [programme_id])
    ]
    return _ordered(rows, (today or moments.today()).isoformat())
