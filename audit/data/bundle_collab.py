"""Read a review's calibration exercises, conversations and family feedback for a bundle.

The rows come back as stored (user ids, not usernames); :mod:`audit.bundles.bundle_collab` names the
users and shapes the records. Writing goes through :func:`audit.data.bundles.write_records`,
in the same transaction as the rest of an import, in the order of :data:`TABLES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlite_utils

# Tables an import writes, parents before children (foreign keys are on).
TABLES = (
    "calibration_exercise",
    "calibration_case",
    "calibration_participant",
    "calibration_grade",
    "calibration_agreed",
    "conversation",
    "conversation_section",
    "family_feedback",
)


def _rows(db: sqlite_utils.Database, sql: str, args: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute(sql, list(args))]


def _review_panels_only(db: sqlite_utils.Database) -> str:
    """Return the condition that leaves out a programme's panels hosted by the review.

    A programme's panel (``programme_id``, from the programme calibration migration) belongs
    to the programme: like the hosting review's exports, its bundle does not carry it.
    """
    columns = {column.name for column in db["calibration_exercise"].columns}
    return " AND calibration_exercise.programme_id IS NULL" if "programme_id" in columns else ""


def read_calibration(
    db: sqlite_utils.Database, review_id: str, *, for_user: int | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Return the review's exercises and every row that hangs off them, in a stable order.

    With ``for_user``, an exercise whose results are not open gives only that user's own
    grades (none if they do not take part): grading stays blind in a downloaded bundle.
    """
    own = _review_panels_only(db)
    exercises = _rows(
        db,
        f"SELECT * FROM calibration_exercise WHERE review_id = ?{own} ORDER BY created_at, id",
        [review_id],
    )
    of_review = (
        " JOIN calibration_exercise ON calibration_exercise.id = {t}.exercise_id"
        " WHERE calibration_exercise.review_id = ?" + own
    )
    cases = _rows(
        db,
        "SELECT calibration_case.* FROM calibration_case"
        + of_review.format(t="calibration_case")
        + " ORDER BY calibration_case.exercise_id, calibration_case.position",
        [review_id],
    )
    participants = _rows(
        db,
        "SELECT calibration_participant.* FROM calibration_participant"
        + of_review.format(t="calibration_participant"),
        [review_id],
    )
    grades = _rows(
        db,
        "SELECT calibration_grade.* FROM calibration_grade"
        + of_review.format(t="calibration_grade")
        + " AND (? IS NULL OR calibration_exercise.results_opened_at IS NOT NULL"
        " OR calibration_grade.user_id = ?)",
        [review_id, for_user, for_user],
    )
    agreed = _rows(
        db,
        "SELECT calibration_agreed.* FROM calibration_agreed"
        + of_review.format(t="calibration_agreed")
        + " ORDER BY calibration_agreed.case_id, calibration_agreed.question_id",
        [review_id],
    )
    return {
        "exercises": exercises,
        "cases": cases,
        "participants": participants,
        "grades": grades,
        "agreed": agreed,
    }


def read_voices(db: sqlite_utils.Database, review_id: str) -> dict[str, list[dict[str, Any]]]:
    """Return the review's conversations (with their sections) and family feedback rows."""
    of_review = " JOIN case_audit ON case_audit.id = {t}.audit_id WHERE case_audit.review_id = ?"
    conversations = _rows(
        db,
        "SELECT conversation.* FROM conversation"
        + of_review.format(t="conversation")
        + " ORDER BY conversation.audit_id",
        [review_id],
    )
    sections = _rows(
        db,
        "SELECT conversation_section.* FROM conversation_section"
        + of_review.format(t="conversation_section")
        + " ORDER BY conversation_section.audit_id, conversation_section.rowid",
        [review_id],
    )
    feedback = _rows(
        db,
        "SELECT family_feedback.* FROM family_feedback"
        + of_review.format(t="family_feedback")
        + " ORDER BY family_feedback.audit_id",
        [review_id],
    )
    return {"conversations": conversations, "sections": sections, "feedback": feedback}


def local_calibration(
    db: sqlite_utils.Database, exercise_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Return the exercises here among ``exercise_ids``, each with its rows keyed for merging.

    Keys: the exercise row itself, and ``cases`` (case id -> position), ``participants``
    (user id -> submitted_at), ``grades`` ((case id, user id, question id) -> row) and
    ``agreed`` ((case id, question id) -> row).
    """
    found: dict[str, dict[str, Any]] = {}
    for exercise_id in dict.fromkeys(exercise_ids):
        row = db.execute(
            "SELECT * FROM calibration_exercise WHERE id = ?", [exercise_id]
        ).fetchone()
        if row is None:
            continue
        args = [exercise_id]
        found[exercise_id] = {
            **dict(row),
            "cases": {
                r["case_id"]: r["position"]
                for r in db.execute(
                    "SELECT case_id, position FROM calibration_case WHERE exercise_id = ?", args
                )
            },
            "participants": {
                r["user_id"]: r["submitted_at"]
                for r in db.execute(
                    "SELECT user_id, submitted_at FROM calibration_participant"
                    " WHERE exercise_id = ?",
                    args,
                )
            },
            "grades": {
                (r["case_id"], r["user_id"], r["question_id"]): dict(r)
                for r in db.execute("SELECT * FROM calibration_grade WHERE exercise_id = ?", args)
            },
            "agreed": {
                (r["case_id"], r["question_id"]): dict(r)
                for r in db.execute("SELECT * FROM calibration_agreed WHERE exercise_id = ?", args)
            },
        }
    return found


def review_ids_of(db: sqlite_utils.Database, table: str, ids: Iterable[str]) -> dict[str, str]:
    """Return the review of each case file or audit (``table``) here among ``ids``."""
    if table not in ("case_file", "case_audit"):
        raise ValueError(table)
    wanted = list(dict.fromkeys(ids))
    out: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in db.execute(f"SELECT id, review_id FROM {table} WHERE id IN ({marks})", chunk):
            out[row["id"]] = row["review_id"]
    return out


def local_voices(
    db: sqlite_utils.Database, audit_ids: Iterable[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Return the conversations (with ``sections``) and family feedback here for these audits."""
    wanted = list(dict.fromkeys(audit_ids))
    conversations: dict[str, dict[str, Any]] = {}
    feedback: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in db.execute(f"SELECT * FROM conversation WHERE audit_id IN ({marks})", chunk):
            conversations[row["audit_id"]] = {**dict(row), "sections": []}
        for row in db.execute(
            f"SELECT * FROM conversation_section WHERE audit_id IN ({marks}) ORDER BY rowid", chunk
        ):
            conversations[row["audit_id"]]["sections"].append(dict(row))
        for row in db.execute(f"SELECT * FROM family_feedback WHERE audit_id IN ({marks})", chunk):
            feedback[row["audit_id"]] = dict(row)
    return conversations, feedback
