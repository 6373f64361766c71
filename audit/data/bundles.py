"""Read a whole review for a bundle, and write one in a single transaction."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from audit.data import bundle_collab, changes, users
from audit.data.db import utcnow, write

# Entries an installation writes about receiving a bundle; they are not part of the review.
LOCAL_ENTITIES = ("bundle",)


def _rows(db: sqlite_utils.Database, sql: str, args: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute(sql, list(args))]


def read_review(db: sqlite_utils.Database, review_id: str) -> dict[str, Any]:
    """Return every record of a review, with users named by username (ids differ by site)."""
    names = {row["id"]: row["username"] for row in db.execute("SELECT id, username FROM user")}
    review = _rows(db, "SELECT * FROM review WHERE id = ?", [review_id])[0]
    members = _rows(
        db,
        "SELECT user.username, user.display_name, review_member.role, review_member.added_at"
        " FROM review_member JOIN user ON user.id = review_member.user_id"
        " WHERE review_id = ? ORDER BY user.username",
        [review_id],
    )
    cases = _rows(db, "SELECT * FROM case_file WHERE review_id = ? ORDER BY pseudonym", [review_id])
    audits = _rows(
        db, "SELECT * FROM case_audit WHERE review_id = ? ORDER BY created_at, id", [review_id]
    )
    answers = _rows(
        db,
        "SELECT answer.* FROM answer JOIN case_audit ON case_audit.id = answer.audit_id"
        " WHERE case_audit.review_id = ? ORDER BY answer.audit_id, answer.question_id",
        [review_id],
    )
    escalations = _rows(
        db, "SELECT * FROM escalation WHERE review_id = ? ORDER BY raised_at, id", [review_id]
    )
    moderation = _rows(
        db,
        "SELECT moderation.* FROM moderation JOIN case_audit ON case_audit.id = moderation.audit_id"
        " WHERE case_audit.review_id = ? ORDER BY moderation.rowid",
        [review_id],
    )
    findings = _rows(
        db, "SELECT * FROM finding WHERE review_id = ? ORDER BY kind, position, id", [review_id]
    )
    actions = _rows(
        db, "SELECT * FROM action WHERE review_id = ? ORDER BY created_at, id", [review_id]
    )
    notes = _rows(
        db,
        "SELECT action_note.* FROM action_note JOIN action ON action.id = action_note.action_id"
        " WHERE action.review_id = ? ORDER BY action_note.created_at, action_note.id",
        [review_id],
    )
    marks = ", ".join("?" for _ in LOCAL_ENTITIES)
    history = _rows(
        db,
        f"SELECT at, user_id, entity, entity_id, action, before, after FROM change_log"
        f" WHERE review_id = ? AND entity NOT IN ({marks}) ORDER BY id",
        [review_id, *LOCAL_ENTITIES],
    )
    return {
        "names": names,
        "review": review,
        "members": members,
        "cases": cases,
        "audits": audits,
        "answers": answers,
        "escalations": escalations,
        "moderation": moderation,
        "findings": findings,
        "actions": actions,
        "notes": notes,
        "history": history,
    }


def existing_ids(db: sqlite_utils.Database, table: str, ids: Iterable[str]) -> dict[str, dict]:
    """Return the rows of ``table`` whose id is among ``ids``."""
    wanted = list(ids)
    found: dict[str, dict] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in db.execute(f"SELECT * FROM {table} WHERE id IN ({marks})", chunk):
            found[row["id"]] = dict(row)
    return found


def answers_of(db: sqlite_utils.Database, audit_id: str) -> list[dict[str, Any]]:
    """Return an audit's answers in question order."""
    return _rows(db, "SELECT * FROM answer WHERE audit_id = ? ORDER BY question_id", [audit_id])


def user_ids(
    db: sqlite_utils.Database, people: Mapping[str, str], by: int | None
) -> dict[str, int]:
    """Map usernames to local user ids, adding missing people as deactivated reviewers.

    A reviewer's laptop and the lead's installation have different accounts; whoever is
    not known here is added so their work keeps its author, but cannot sign in until an
    admin activates them and sets a password.
    """
    out: dict[str, int] = {}
    for username, display_name in sorted(people.items()):
        user = users.by_username(db, username)
        if user is None:
            user = users.create(
                db,
                username,
                secrets.token_urlsafe(32),
                "reviewer",
                display_name=display_name or username,
                by=by,
            )
            users.set_active(db, user.id, False, by=by)
        out[username] = user.id
    return out


def write_records(
    db: sqlite_utils.Database,
    records: Mapping[str, list[dict[str, Any]]],
    *,
    review_id: str,
    summary: Mapping[str, Any],
    by: int | None,
) -> None:
    """Insert prepared rows table by table, then log the import, all in one transaction."""
    order = [
        "review",
        "review_member",
        "case_file",
        "case_audit",
        "answer",
        "escalation",
        "moderation",
        "finding",
        "action",
        "action_note",
        *bundle_collab.TABLES,
        "change_log",
        "theme",
        "evidence_theme",
        "finding_theme",
        "conversation_theme",
    ]
    with write(db):
        for table in order:
            rows = records.get(table) or []
            if rows:
                db[table].insert_all(rows, alter=False)
        changes.record(
            db,
            user_id=by,
            entity="bundle",
            entity_id=review_id,
            action="create",
            after=dict(summary),
            review_id=review_id,
        )


def history_keys(db: sqlite_utils.Database, review_id: str) -> set[str]:
    """Return a fingerprint of each change-log entry of a review, to skip ones already held."""
    return {
        json.dumps([r["at"], r["entity"], r["entity_id"], r["action"], r["before"], r["after"]])
        for r in db.execute(
            "SELECT at, entity, entity_id, action, before, after FROM change_log"
            " WHERE review_id = ?",
            [review_id],
        )
    }


def now() -> str:
    """Return the import time (one value for every row an import writes)."""
    return utcnow()
