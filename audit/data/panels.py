"""The audit discussion (panel) of each child: the agreed answers, learning and agency actions.

A child's panel opens when every agency that knows the child has submitted its audit, or when
the lead opens it; from then on every agency that knows the child sees all the agencies'
answers, and the agencies' audits of the child are fixed. The lead records the agreed answers
(optimistic locking by ``version``, an adverse critical agreed answer raising an alert), when
the discussion was held, the learning with its themes, and actions owned by agencies. Agency
actions are rows of ``action`` (so they are followed up like every action, with progress
notes), linked to their agency and child by ``agency_action``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlite_utils

from audit import moments
from audit.data import changes
from audit.data.actions import OPEN, STATUSES
from audit.data.agency_audits import sync_alerts
from audit.data.answers import answers_of, grouped_answers, write_answers
from audit.data.db import utcnow, write
from audit.scoring import Answer


class PanelNotOpen(Exception):
    """The child's panel has not opened yet: nothing can be agreed."""


class StalePanel(Exception):
    """The panel's record changed since the page was loaded; saving would overwrite it."""

    def __init__(self, current: Panel) -> None:
        super().__init__(current.case_id)
        self.current = current


@dataclass(frozen=True)
class Panel:
    """One child's audit discussion: when it opened, when it was held, what it agreed."""

    case_id: str
    review_id: str
    opened_at: str
    opened_by: int | None
    held_on: str | None
    agreed_at: str | None
    agreed_by: int | None
    version: int
    updated_at: str
    answers: Mapping[str, Answer] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        """The agreed judgements are recorded in full: the panel counts in the figures."""
        return self.agreed_at is not None


def get(db: sqlite_utils.Database, review_id: str, case_id: str) -> Panel | None:
    """Return the child's panel, or None while it has not opened."""
    row = db.execute(
        "SELECT * FROM panel WHERE case_id = ? AND review_id = ?", [case_id, review_id]
    ).fetchone()
    if row is None:
        return None
    return Panel(**dict(row), answers=answers_of(db, "panel_answer", "case_id", case_id))


def states(db: sqlite_utils.Database, review_id: str) -> dict[str, dict[str, Any]]:
    """Return each opened panel's dates by case id (children absent have not opened)."""
    return {
        r["case_id"]: dict(r)
        for r in db.execute(
            "SELECT case_id, opened_at, opened_by, held_on, agreed_at FROM panel"
            " WHERE review_id = ?",
            [review_id],
        )
    }


def open_panel(db: sqlite_utils.Database, review_id: str, case_id: str, *, by: int | None) -> bool:
    """Open the child's panel (the lead's decision); return False if it was already open."""
    with write(db):
        if db.execute("SELECT 1 FROM panel WHERE case_id = ?", [case_id]).fetchone():
            return False
        if not db.execute(
            "SELECT 1 FROM case_file WHERE id = ? AND review_id = ?", [case_id, review_id]
        ).fetchone():
            raise LookupError(case_id)
        now = utcnow()
        db.execute(
            "INSERT INTO panel (case_id, review_id, opened_at, opened_by, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [case_id, review_id, now, by, now],
        )
        changes.record(
            db,
            user_id=by,
            entity="panel",
            entity_id=case_id,
            action="create",
            after={"opened": True, "when_all_submitted": by is None},
            review_id=review_id,
        )
    return True


def open_when_all_submitted(db: sqlite_utils.Database, review_id: str, case_id: str) -> bool:
    """Open the panel once every agency that knows the child has submitted its audit.

    Not in one agency's part of an audit led on another installation: there the agency only
    audits and sends its part back, and may still reopen and change its audits.
    """
    settings = db.execute("SELECT settings FROM review WHERE id = ?", [review_id]).fetchone()
    if settings is not None and "agency_part" in json.loads(settings[0] or "{}"):
        return False
    waiting = db.execute(
        "SELECT count(*) FROM case_agency LEFT JOIN agency_audit"
        " ON agency_audit.case_id = case_agency.case_id"
        " AND agency_audit.agency_id = case_agency.agency_id"
        " WHERE case_agency.case_id = ? AND coalesce(agency_audit.status, '') != 'submitted'",
        [case_id],
    ).fetchone()[0]
    return not waiting and open_panel(db, review_id, case_id, by=None)


@dataclass(frozen=True)
class PanelSave:
    """What saving the agreed answers did."""

    version: int
    raised: tuple[str, ...]
    agreed: bool


def save(
    db: sqlite_utils.Database,
    review_id: str,
    case_id: str,
    *,
    expected_version: int,
    answers: Mapping[str, Answer],
    held_on: str | None,
    adverse_questions: Collection[str],
    critical_questions: Collection[str],
    by: int,
    agree: bool,
) -> PanelSave:
    """Save the agreed answers; with ``agree``, record the panel as held (it then counts).

    The caller checks that everything required is answered before asking to agree. An
    agreed answer finding the child not adequately safeguarded raises an alert at once.
    """
    now = utcnow()
    with write(db):
        current = get(db, review_id, case_id)
        if current is None:
            raise PanelNotOpen(case_id)
        if current.version != expected_version:
            raise StalePanel(current)
        before, after = write_answers(
            db, "panel_answer", "case_id", case_id, current.answers, answers, now
        )
        if held_on != current.held_on:
            before["held_on"], after["held_on"] = current.held_on, held_on
        agreed_at = current.agreed_at
        if agree and not current.held:
            agreed_at = now
            before["agreed"], after["agreed"] = False, True
        raised = sync_alerts(
            db,
            review_id=review_id,
            case_id=case_id,
            agency_audit_id=None,
            agency_id=None,
            adverse_questions=adverse_questions,
            critical_questions=critical_questions,
            by=by,
            now=now,
        )
        version = current.version + 1
        db.execute(
            "UPDATE panel SET version = ?, held_on = ?, agreed_at = ?, agreed_by = ?,"
            " updated_at = ? WHERE case_id = ?",
            [
                version,
                held_on,
                agreed_at,
                by if agreed_at and not current.held else current.agreed_by,
                now,
                case_id,
            ],
        )
        if after:
            changes.record(
                db,
                user_id=by,
                entity="panel",
                entity_id=case_id,
                action="update",
                before=before,
                after=after,
                review_id=review_id,
            )
    return PanelSave(version, tuple(raised), agreed_at is not None)


# --------------------------------------------------------------------------- learning


def learning(
    db: sqlite_utils.Database, review_id: str, case_id: str | None = None
) -> list[dict[str, Any]]:
    """Return the learning the panels agreed (one child's, or all), with theme ids and names."""
    sql = (
        "SELECT panel_learning.*, case_file.pseudonym FROM panel_learning"
        " JOIN case_file ON case_file.id = panel_learning.case_id"
        " WHERE panel_learning.review_id = ?"
    )
    args: list[Any] = [review_id]
    if case_id is not None:
        sql += " AND panel_learning.case_id = ?"
        args.append(case_id)
    rows = [dict(r) for r in db.execute(sql + " ORDER BY case_file.pseudonym, created_at", args)]
    themes: dict[str, list[tuple[str, str]]] = {}
    for r in db.execute(
        "SELECT panel_learning_theme.learning_id, theme.id, theme.name FROM panel_learning_theme"
        " JOIN theme ON theme.id = panel_learning_theme.theme_id"
        " JOIN panel_learning ON panel_learning.id = panel_learning_theme.learning_id"
        " WHERE panel_learning.review_id = ? ORDER BY theme.name COLLATE NOCASE",
        [review_id],
    ):
        themes.setdefault(r["learning_id"], []).append((r["id"], r["name"]))
    for row in rows:
        row["themes"] = themes.get(row["id"], [])
        row["theme_ids"] = {theme_id for theme_id, _name in row["themes"]}
    return rows


def add_learning(
    db: sqlite_utils.Database,
    review_id: str,
    case_id: str,
    *,
    text: str,
    theme_ids: Iterable[str],
    by: int,
) -> str:
    """Record a piece of learning the panel agreed about the child, tagged with themes."""
    now = utcnow()
    learning_id = str(uuid.uuid4())
    with write(db):
        if get(db, review_id, case_id) is None:
            raise PanelNotOpen(case_id)
        db["panel_learning"].insert(
            {
                "id": learning_id,
                "review_id": review_id,
                "case_id": case_id,
                "text": text.strip(),
                "created_by": by,
                "created_at": now,
                "updated_at": now,
            }
        )
        tags = sorted(set(theme_ids))
        for theme_id in tags:
            db.execute(
                "INSERT INTO panel_learning_theme (learning_id, theme_id, tagged_by, tagged_at)"
                " VALUES (?, ?, ?, ?)",
                [learning_id, theme_id, by, now],
            )
        changes.record(
            db,
            user_id=by,
            entity="panel_learning",
            entity_id=learning_id,
            action="create",
            after={"case_id": case_id, "text": text.strip(), "themes": tags},
            review_id=review_id,
        )
    return learning_id


def delete_learning(
    db: sqlite_utils.Database, review_id: str, learning_id: str, *, by: int
) -> None:
    """Remove a piece of learning recorded by mistake (the change log keeps it)."""
    with write(db):
        row = db.execute(
            "SELECT * FROM panel_learning WHERE id = ? AND review_id = ?", [learning_id, review_id]
        ).fetchone()
        if row is None:
            raise LookupError(learning_id)
        db.execute("DELETE FROM panel_learning WHERE id = ?", [learning_id])
        changes.record(
            db,
            user_id=by,
            entity="panel_learning",
            entity_id=learning_id,
            action="delete",
            before={"case_id": row["case_id"], "text": row["text"]},
            review_id=review_id,
        )


# --------------------------------------------------------------------------- agency actions


def add_action(
    db: sqlite_utils.Database,
    review_id: str,
    case_id: str,
    *,
    agency_id: str,
    agency_name: str,
    what: str,
    due_date: str | None,
    by: int,
) -> str:
    """Record an action the panel agreed, owned by an agency, due by a date."""
    now = utcnow()
    action_id = str(uuid.uuid4())
    row = {
        "id": action_id,
        "review_id": review_id,
        "finding_id": None,
        "audit_id": None,
        "what": what.strip(),
        "owner": agency_name,
        "due_date": due_date or None,
        "status": "not_started",
        "created_by": by,
        "created_at": now,
        "updated_at": now,
    }
    with write(db):
        if get(db, review_id, case_id) is None:
            raise PanelNotOpen(case_id)
        db["action"].insert(row)
        db["agency_action"].insert(
            {"action_id": action_id, "agency_id": agency_id, "case_id": case_id}
        )
        changes.record(
            db,
            user_id=by,
            entity="action",
            entity_id=action_id,
            action="create",
            after={"what": row["what"], "agency_id": agency_id, "due_date": row["due_date"]},
            review_id=review_id,
        )
    return action_id


def actions(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    case_id: str | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Return the agency actions of the review (or one child's), overdue first, then by due date."""
    sql = (
        "SELECT action.*, agency_action.agency_id, agency_action.case_id,"
        " case_file.pseudonym, agency.name AS agency_name,"
        " (SELECT count(*) FROM action_note WHERE action_note.action_id = action.id)"
        "   AS note_count"
        " FROM agency_action JOIN action ON action.id = agency_action.action_id"
        " LEFT JOIN case_file ON case_file.id = agency_action.case_id"
        " LEFT JOIN agency ON agency.id = agency_action.agency_id"
        " WHERE action.review_id = ?"
    )
    args: list[Any] = [review_id]
    if case_id is not None:
        sql += " AND agency_action.case_id = ?"
        args.append(case_id)
    rows = [dict(r) for r in db.execute(sql, args)]
    day = (today or moments.today()).isoformat()
    for row in rows:
        row["overdue"] = bool(row["due_date"]) and row["due_date"] < day and row["status"] in OPEN
        row["status_label"] = STATUSES.get(row["status"], row["status"])
    rank = {status: i for i, status in enumerate(STATUSES)}
    return sorted(
        rows,
        key=lambda r: (
            not r["overdue"],
            r["status"] not in OPEN,
            r["due_date"] or "9999-99-99",
            rank.get(r["status"], 9),
            r["created_at"],
        ),
    )


def action_ids(db: sqlite_utils.Database, review_id: str) -> set[str]:
    """Return the ids of the review's agency actions (kept out of the findings' action plan)."""
    return {
        r[0]
        for r in db.execute(
            "SELECT agency_action.action_id FROM agency_action JOIN action"
            " ON action.id = agency_action.action_id WHERE action.review_id = ?",
            [review_id],
        )
    }


# --------------------------------------------------------------------------- bundle conflicts


def conflicts(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return the agency audits a merged bundle held another version of, newest first."""
    return [
        dict(r)
        for r in db.execute(
            "SELECT agency_audit_conflict.*, agency_audit.case_id, agency_audit.agency_id,"
            " case_file.pseudonym, agency.name AS agency_name,"
            " user.display_name AS received_by_name"
            " FROM agency_audit_conflict"
            " JOIN agency_audit ON agency_audit.id = agency_audit_conflict.agency_audit_id"
            " JOIN case_file ON case_file.id = agency_audit.case_id"
            " LEFT JOIN agency ON agency.id = agency_audit.agency_id"
            " LEFT JOIN user ON user.id = agency_audit_conflict.received_by"
            " WHERE agency_audit_conflict.review_id = ?"
            " ORDER BY agency_audit_conflict.received_at DESC, agency_audit_conflict.id",
            [review_id],
        )
    ]


def for_review(db: sqlite_utils.Database, review_id: str) -> list[Panel]:
    """Return every opened panel of the review with its agreed answers (two queries)."""
    answers = grouped_answers(
        db,
        "SELECT panel_answer.* FROM panel_answer JOIN panel ON panel.case_id = panel_answer.case_id"
        " WHERE panel.review_id = ?",
        "case_id",
        [review_id],
    )
    return [
        Panel(**dict(row), answers=answers.get(row["case_id"], {}))
        for row in db.execute(
            "SELECT * FROM panel WHERE review_id = ? ORDER BY case_id", [review_id]
        )
    ]
