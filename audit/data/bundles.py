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
# A multi-agency review's own records, written after everything they refer to.
PARTNERSHIP_TABLES = (
    "case_agency",
    "agency_member",
    "agency_audit",
    "agency_answer",
    "agency_escalation",
    "panel",
    "panel_answer",
    "panel_learning",
    "panel_learning_theme",
    "agency_action",
    "agency_audit_conflict",
)


def _rows(db: sqlite_utils.Database, sql: str, args: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute(sql, list(args))]


def _named(db: sqlite_utils.Database, sql: str, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute(sql, dict(args))]


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
    # Actions owned by agencies (multi-agency reviews) travel in the bundle's partnership part.
    own = " AND action.id NOT IN (SELECT action_id FROM agency_action)"
    actions = _rows(
        db,
        "SELECT * FROM action WHERE review_id = ?" + own + " ORDER BY created_at, id",
        [review_id],
    )
    notes = _rows(
        db,
        "SELECT action_note.* FROM action_note JOIN action ON action.id = action_note.action_id"
        " WHERE action.review_id = ?" + own + " ORDER BY action_note.created_at, action_note.id",
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
        *PARTNERSHIP_TABLES,
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


def read_partnership(
    db: sqlite_utils.Database, review_id: str, agency_id: str | None = None
) -> dict[str, Any]:
    """Return a multi-agency review's own records; with ``agency_id``, that agency's only.

    One agency's part holds the children it knows, its references and its own audits and
    alerts: no other agency's, no agency auditors, no panels, learning or actions.
    """
    one = agency_id is not None
    mine = " AND agency_id = :agency" if one else ""
    args = {"review": review_id, "agency": agency_id}
    case_agencies = _named(
        db,
        "SELECT * FROM case_agency WHERE review_id = :review"
        + mine
        + " ORDER BY case_id, agency_id",
        args,
    )
    audits = _named(
        db,
        "SELECT * FROM agency_audit WHERE review_id = :review"
        + mine
        + " ORDER BY case_id, agency_id",
        args,
    )
    agency_answers = _named(
        db,
        "SELECT agency_answer.* FROM agency_answer JOIN agency_audit"
        " ON agency_audit.id = agency_answer.audit_id WHERE agency_audit.review_id = :review"
        + mine.replace("agency_id", "agency_audit.agency_id")
        + " ORDER BY agency_answer.audit_id, agency_answer.question_id",
        args,
    )
    alerts = _named(
        db,
        "SELECT * FROM agency_escalation WHERE review_id = :review"
        + (" AND agency_id = :agency AND agency_audit_id IS NOT NULL" if one else "")
        + " ORDER BY raised_at, id",
        args,
    )
    none = " AND 0" if one else ""
    panels = _named(
        db, "SELECT * FROM panel WHERE review_id = :review" + none + " ORDER BY case_id", args
    )
    panel_answers = _named(
        db,
        "SELECT panel_answer.* FROM panel_answer JOIN panel ON panel.case_id = panel_answer.case_id"
        " WHERE panel.review_id = :review" + none + " ORDER BY panel_answer.case_id,"
        " panel_answer.question_id",
        args,
    )
    learning = _named(
        db,
        "SELECT * FROM panel_learning WHERE review_id = :review"
        + none
        + " ORDER BY created_at, id",
        args,
    )
    learning_themes = _named(
        db,
        "SELECT panel_learning_theme.* FROM panel_learning_theme JOIN panel_learning"
        " ON panel_learning.id = panel_learning_theme.learning_id"
        " WHERE panel_learning.review_id = :review" + none,
        args,
    )
    actions = _named(
        db,
        "SELECT action.*, agency_action.agency_id, agency_action.case_id FROM agency_action"
        " JOIN action ON action.id = agency_action.action_id WHERE action.review_id = :review"
        + none
        + " ORDER BY action.created_at, action.id",
        args,
    )
    notes = _named(
        db,
        "SELECT action_note.* FROM action_note JOIN agency_action"
        " ON agency_action.action_id = action_note.action_id JOIN action"
        " ON action.id = action_note.action_id WHERE action.review_id = :review" + none
        + " ORDER BY action_note.created_at, action_note.id",
        args,
    )
    members = _named(
        db,
        "SELECT agency_member.user_id, agency_member.added_at, user.agency_id"
        " FROM agency_member JOIN user ON user.id = agency_member.user_id"
        " WHERE agency_member.review_id = :review" + none + " ORDER BY user.username",
        args,
    )
    used = {r["agency_id"] for r in case_agencies} | {r["agency_id"] for r in actions}
    agencies = [
        r
        for r in _rows(db, "SELECT id, name FROM agency ORDER BY position, id", [])
        if r["id"] in used
    ]
    people = _rows(db, "SELECT id, username, agency_id FROM user", [])
    conflicts = _named(
        db,
        "SELECT agency_audit_id, incoming FROM agency_audit_conflict WHERE review_id = :review",
        args,
    )
    return {
        "agencies": agencies,
        "case_agencies": case_agencies,
        "members": members,
        "audits": audits,
        "agency_answers": agency_answers,
        "alerts": alerts,
        "panels": panels,
        "panel_answers": panel_answers,
        "learning": learning,
        "learning_themes": learning_themes,
        "actions": actions,
        "notes": notes,
        "people": people,
        "people_agencies": {r["id"]: r["agency_id"] for r in people},
        "conflicts": conflicts,
    }


def agency_names(db: sqlite_utils.Database) -> dict[str, str]:
    """Return every agency's name by id."""
    return {r["id"]: r["name"] for r in db.execute("SELECT id, name FROM agency")}


def add_agency(db: sqlite_utils.Database, agency_id: str, name: str, by: int | None) -> None:
    """Add an agency a bundle names and this installation does not have (inside the import)."""
    position = db.execute("SELECT coalesce(max(position), -1) + 1 FROM agency").fetchone()[0]
    db.execute(
        "INSERT INTO agency (id, name, position, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
        [agency_id, name, position, by, utcnow()],
    )


def set_placeholder_agency(db: sqlite_utils.Database, user_id: int, agency_id: str) -> bool:
    """Give a deactivated account with no agency (one a bundle added) the agency it came with."""
    cursor = db.execute(
        "UPDATE user SET agency_id = ? WHERE id = ? AND agency_id IS NULL AND active = 0",
        [agency_id, user_id],
    )
    return cursor.rowcount > 0
