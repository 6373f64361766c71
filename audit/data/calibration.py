"""Calibration exercises: several people grade the same case files blind, then agree grades.

A participant's grades are kept apart from audits (they are practice, not findings), so no
count on the findings pages moves. Results open when the lead opens them or when the last
participant submits; until then only each participant's own grades leave this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from audit.data import changes
from audit.data.db import utcnow, write
from audit.scoring import Answer


class ExerciseNotFound(LookupError):
    """No calibration exercise with this id in this review (or programme)."""


class AlreadySubmitted(Exception):
    """The participant has submitted, or results are open: their grades can no longer change."""


class DuplicateExercise(ValueError):
    """The same exercise (title, case files, participants) already exists here: a double submit."""

    def __init__(self, exercise_id: str) -> None:
        super().__init__("an identical exercise already exists")
        self.exercise_id = exercise_id


class NotDeletable(Exception):
    """The exercise's results are open and it holds grades: the panel's work is kept."""


class ResultsNotOpen(Exception):
    """Agreed grades need the results open: nobody has seen everyone's grades yet."""


@dataclass(frozen=True)
class Participant:
    """One person grading in an exercise, and whether they have submitted."""

    user_id: int
    display_name: str
    submitted_at: str | None


@dataclass(frozen=True)
class Exercise:
    """A calibration exercise: its case files, its participants and whether results are open."""

    id: str
    review_id: str
    title: str
    created_at: str
    results_opened_at: str | None
    cases: tuple[dict[str, Any], ...]
    participants: tuple[Participant, ...]
    programme_id: str | None = None  # set for a programme's exercise, hosted by ``review_id``

    @property
    def results_open(self) -> bool:
        """Tell whether everyone's grades may now be shown."""
        return self.results_opened_at is not None

    @property
    def submitted(self) -> int:
        """Return how many participants have submitted."""
        return sum(p.submitted_at is not None for p in self.participants)

    def participant(self, user_id: int) -> Participant | None:
        """Return this user's place in the exercise, or None if they do not take part."""
        return next((p for p in self.participants if p.user_id == user_id), None)

    def case(self, case_id: str) -> dict[str, Any] | None:
        """Return one of the exercise's case files, or None."""
        return next((c for c in self.cases if c["id"] == case_id), None)


def create(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    title: str,
    case_ids: Sequence[str],
    participant_ids: Collection[int],
    by: int | None,
    programme_id: str | None = None,
) -> str:
    """Create an exercise over some of the review's case files; return its id.

    Refuses (ValueError) a case file of another review or a participant who is not a member,
    and (DuplicateExercise) one identical to an exercise already there, in the same review or
    programme: same title (ignoring case), case files and participants, as a form sent twice
    makes. With ``programme_id`` the exercise is the programme's, hosted by ``review_id`` (which
    must belong to it): any active user may take part, member of the review or not.
    """
    if not title.strip():
        raise ValueError("the exercise needs a title")
    if not case_ids:
        raise ValueError("choose at least one case file")
    if len(participant_ids) < 2:
        raise ValueError("choose at least two participants")
    exercise_id = str(uuid.uuid4())
    with write(db):
        known_cases = {
            row[0]
            for row in db.execute("SELECT id FROM case_file WHERE review_id = ?", [review_id])
        }
        if programme_id is None:
            members = _ids(db, "SELECT user_id FROM review_member WHERE review_id = ?", review_id)
            where = "a member of this review"
        else:
            host = db.execute(
                "SELECT 1 FROM review WHERE id = ? AND programme_id = ?", [review_id, programme_id]
            ).fetchone()
            if host is None:
                raise ValueError("the case files must come from a review in this programme")
            members = _ids(db, "SELECT id FROM user WHERE active = ? AND awaiting_role = 0", 1)
            where = "an active user"
        stray_cases = [c for c in case_ids if c not in known_cases]
        if stray_cases:
            raise ValueError(f"case file {stray_cases[0]} is not in this review")
        strangers = sorted(set(participant_ids) - members)
        if strangers:
            raise ValueError(f"user {strangers[0]} is not {where}")
        twin = _identical(db, review_id, programme_id, title, case_ids, participant_ids)
        if twin is not None:
            raise DuplicateExercise(twin)
        db.execute(
            "INSERT INTO calibration_exercise (id, review_id, title, created_by, created_at,"
            " programme_id) VALUES (?, ?, ?, ?, ?, ?)",
            [exercise_id, review_id, title.strip(), by, utcnow(), programme_id],
        )
        for position, case_id in enumerate(dict.fromkeys(case_ids)):
            db.execute(
                "INSERT INTO calibration_case (exercise_id, case_id, position) VALUES (?, ?, ?)",
                [exercise_id, case_id, position],
            )
        for user_id in sorted(set(participant_ids)):
            db.execute(
                "INSERT INTO calibration_participant (exercise_id, user_id) VALUES (?, ?)",
                [exercise_id, user_id],
            )
        changes.record(
            db,
            user_id=by,
            entity="calibration_exercise",
            entity_id=exercise_id,
            action="create",
            after={
                "title": title.strip(),
                "cases": list(dict.fromkeys(case_ids)),
                "participants": sorted(set(participant_ids)),
                "programme_id": programme_id,
            },
            review_id=review_id,
        )
    return exercise_id


def _identical(
    db: sqlite_utils.Database,
    review_id: str,
    programme_id: str | None,
    title: str,
    case_ids: Sequence[str],
    participant_ids: Collection[int],
) -> str | None:
    """Return the id of an exercise here with this title, these cases and these people."""
    if programme_id is None:
        where, params = "review_id = ? AND programme_id IS NULL", [review_id]
    else:
        where, params = "programme_id = ?", [programme_id]
    for (exercise_id,) in db.execute(
        f"SELECT id FROM calibration_exercise WHERE {where}"
        " AND lower(trim(title)) = lower(?) ORDER BY created_at, rowid",
        [*params, title.strip()],
    ):
        cases = {r[0] for r in db.execute(_CASES_OF, [exercise_id])}
        people = _ids(db, _PEOPLE_OF, exercise_id)
        if cases == set(case_ids) and people == set(participant_ids):
            return str(exercise_id)
    return None


_CASES_OF = "SELECT case_id FROM calibration_case WHERE exercise_id = ?"
_PEOPLE_OF = "SELECT user_id FROM calibration_participant WHERE exercise_id = ?"


def grade_count(db: sqlite_utils.Database, exercise_id: str) -> int:
    """Return how many answers the participants have saved in the exercise."""
    return int(
        db.execute(
            "SELECT count(*) FROM calibration_grade WHERE exercise_id = ?", [exercise_id]
        ).fetchone()[0]
    )


def delete(db: sqlite_utils.Database, exercise_id: str, review_id: str, by: int) -> None:
    """Delete an exercise set up by mistake: before its results open, or while nobody graded.

    Refuses (NotDeletable) one whose results are open and which holds grades: its agreed
    answers may be exemplars and its grades count in leniency.
    """
    with write(db):
        row = db.execute(
            "SELECT title, results_opened_at, programme_id FROM calibration_exercise"
            " WHERE id = ? AND review_id = ?",
            [exercise_id, review_id],
        ).fetchone()
        if row is None:
            raise ExerciseNotFound(exercise_id)
        graded = grade_count(db, exercise_id)
        if row["results_opened_at"] is not None and graded:
            raise NotDeletable(exercise_id)
        before = {
            "title": row["title"],
            "cases": [r[0] for r in db.execute(_CASES_OF, [exercise_id])],
            "participants": sorted(_ids(db, _PEOPLE_OF, exercise_id)),
            "programme_id": row["programme_id"],
            "grades": graded,
            "results_open": row["results_opened_at"] is not None,
        }
        db.execute("DELETE FROM calibration_exercise WHERE id = ?", [exercise_id])
        changes.record(
            db,
            user_id=by,
            entity="calibration_exercise",
            entity_id=exercise_id,
            action="delete",
            before=before,
            review_id=review_id,
        )


def _ids(db: sqlite_utils.Database, sql: str, value: Any) -> set[int]:
    return {row[0] for row in db.execute(sql, [value])}


def get(db: sqlite_utils.Database, exercise_id: str, review_id: str) -> Exercise:
    """Return one of this review's own exercises (not a programme's) with cases and people."""
    row = db.execute(
        "SELECT * FROM calibration_exercise WHERE id = ? AND review_id = ?"
        " AND programme_id IS NULL",
        [exercise_id, review_id],
    ).fetchone()
    if row is None:
        raise ExerciseNotFound(exercise_id)
    return _load(db, row)


def get_in_programme(db: sqlite_utils.Database, exercise_id: str, programme_id: str) -> Exercise:
    """Return one of this programme's exercises with its cases and participants."""
    row = db.execute(
        "SELECT * FROM calibration_exercise WHERE id = ? AND programme_id = ?",
        [exercise_id, programme_id],
    ).fetchone()
    if row is None:
        raise ExerciseNotFound(exercise_id)
    return _load(db, row)


def for_programme(db: sqlite_utils.Database, programme_id: str) -> list[Exercise]:
    """Return the programme's exercises, newest first."""
    rows = db.execute(
        "SELECT * FROM calibration_exercise WHERE programme_id = ?"
        " ORDER BY created_at DESC, rowid DESC",
        [programme_id],
    ).fetchall()
    return [_load(db, row) for row in rows]


def programme_panels_for(db: sqlite_utils.Database, user_id: int) -> list[dict[str, Any]]:
    """Return the programmes' exercises this user takes part in, newest first, for their list."""
    return [
        dict(row)
        for row in db.execute(
            "SELECT calibration_exercise.id, calibration_exercise.programme_id,"
            " calibration_exercise.title, calibration_exercise.results_opened_at,"
            " calibration_participant.submitted_at, programme.title AS programme_title"
            " FROM calibration_participant JOIN calibration_exercise"
            " ON calibration_exercise.id = calibration_participant.exercise_id"
            " JOIN programme ON programme.id = calibration_exercise.programme_id"
            " WHERE calibration_participant.user_id = ?"
            " ORDER BY calibration_exercise.created_at DESC, calibration_exercise.rowid DESC",
            [user_id],
        )
    ]


def _load(db: sqlite_utils.Database, row: Any) -> Exercise:
    """Return the exercise of a ``calibration_exercise`` row with its cases and participants."""
    exercise_id = row["id"]
    cases = tuple(
        dict(r)
        for r in db.execute(
            "SELECT case_file.id, case_file.pseudonym, case_file.case_type, case_file.team"
            " FROM calibration_case JOIN case_file ON case_file.id = calibration_case.case_id"
            " WHERE calibration_case.exercise_id = ? ORDER BY calibration_case.position",
            [exercise_id],
        )
    )
    participants = tuple(
        Participant(r["user_id"], r["display_name"], r["submitted_at"])
        for r in db.execute(
            "SELECT calibration_participant.user_id, user.display_name,"
            " calibration_participant.submitted_at FROM calibration_participant"
            " JOIN user ON user.id = calibration_participant.user_id"
            " WHERE exercise_id = ? ORDER BY user.display_name COLLATE NOCASE, user.id",
            [exercise_id],
        )
    )
    return Exercise(
        id=row["id"],
        review_id=row["review_id"],
        title=row["title"],
        created_at=row["created_at"],
        results_opened_at=row["results_opened_at"],
        cases=cases,
        participants=participants,
        programme_id=row["programme_id"],
    )


def for_review(db: sqlite_utils.Database, review_id: str) -> list[Exercise]:
    """Return the review's exercises, newest first."""
    ids = [
        row[0]
        for row in db.execute(
            "SELECT id FROM calibration_exercise WHERE review_id = ? AND programme_id IS NULL"
            " ORDER BY created_at DESC, rowid DESC",
            [review_id],
        )
    ]
    return [get(db, exercise_id, review_id) for exercise_id in ids]


def grades(
    db: sqlite_utils.Database, exercise_id: str, *, user_id: int | None = None
) -> dict[tuple[str, int], dict[str, Answer]]:
    """Return grades keyed by (case id, participant); only ``user_id``'s when given.

    Callers showing a participant their own work pass ``user_id``, so others' grades never
    leave the database before results open.
    """
    sql = (
        "SELECT case_id, user_id, question_id, value, evidence FROM calibration_grade"
        " WHERE exercise_id = ?"
    )
    params: list[Any] = [exercise_id]
    if user_id is not None:
        sql += " AND user_id = ?"
        params.append(user_id)
    out: dict[tuple[str, int], dict[str, Answer]] = {}
    for row in db.execute(sql, params):
        value = row["value"]
        answer = (
            Answer(None, True, row["evidence"])
            if value == "na"
            else Answer(value, False, row["evidence"])
        )
        out.setdefault((row["case_id"], row["user_id"]), {})[row["question_id"]] = answer
    return out


def save_grades(
    db: sqlite_utils.Database,
    exercise_id: str,
    case_id: str,
    user_id: int,
    answers: Mapping[str, Answer],
) -> None:
    """Replace a participant's grades for one case, until they submit or results open."""
    now = utcnow()
    with write(db):
        row = db.execute(
            "SELECT calibration_participant.submitted_at, calibration_exercise.results_opened_at"
            " FROM calibration_participant JOIN calibration_exercise"
            " ON calibration_exercise.id = calibration_participant.exercise_id"
            " WHERE exercise_id = ? AND user_id = ?",
            [exercise_id, user_id],
        ).fetchone()
        if row is None:
            raise ExerciseNotFound(exercise_id)
        # Once everyone's grades can be seen, changing one's own would no longer be blind.
        if row["submitted_at"] is not None or row["results_opened_at"] is not None:
            raise AlreadySubmitted(exercise_id)
        in_exercise = db.execute(
            "SELECT 1 FROM calibration_case WHERE exercise_id = ? AND case_id = ?",
            [exercise_id, case_id],
        ).fetchone()
        if in_exercise is None:
            raise ExerciseNotFound(case_id)
        db.execute(
            "DELETE FROM calibration_grade WHERE exercise_id = ? AND case_id = ? AND user_id = ?",
            [exercise_id, case_id, user_id],
        )
        for question_id, answer in answers.items():
            if not answer.answered and not answer.evidence:
                continue
            db.execute(
                "INSERT INTO calibration_grade (exercise_id, case_id, user_id, question_id,"
                " value, evidence, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    exercise_id,
                    case_id,
                    user_id,
                    question_id,
                    answer.effective,
                    answer.evidence,
                    now,
                ],
            )


def submit(db: sqlite_utils.Database, exercise_id: str, user_id: int, review_id: str) -> bool:
    """Mark a participant's grades final; return True if that opened the results for all."""
    now = utcnow()
    with write(db):
        done = db.execute(
            "UPDATE calibration_participant SET submitted_at = ?"
            " WHERE exercise_id = ? AND user_id = ? AND submitted_at IS NULL",
            [now, exercise_id, user_id],
        ).rowcount
        if not done:
            raise AlreadySubmitted(exercise_id)
        waiting = db.execute(
            "SELECT count(*) FROM calibration_participant"
            " WHERE exercise_id = ? AND submitted_at IS NULL",
            [exercise_id],
        ).fetchone()[0]
        opened = False
        if waiting == 0:
            opened = bool(
                db.execute(
                    "UPDATE calibration_exercise SET results_opened_at = ?"
                    " WHERE id = ? AND results_opened_at IS NULL",
                    [now, exercise_id],
                ).rowcount
            )
        changes.record(
            db,
            user_id=user_id,
            entity="calibration_exercise",
            entity_id=exercise_id,
            action="update",
            after={"submitted_by": user_id, "results_opened": opened},
            review_id=review_id,
        )
    return opened


def open_results(db: sqlite_utils.Database, exercise_id: str, review_id: str, by: int) -> None:
    """Open the results to every participant (the lead's call; the last submission also does)."""
    with write(db):
        db.execute(
            "UPDATE calibration_exercise SET results_opened_at = ?, results_opened_by = ?"
            " WHERE id = ? AND review_id = ? AND results_opened_at IS NULL",
            [utcnow(), by, exercise_id, review_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="calibration_exercise",
            entity_id=exercise_id,
            action="update",
            after={"results_opened": True},
            review_id=review_id,
        )


def record_agreed(
    db: sqlite_utils.Database,
    exercise_id: str,
    review_id: str,
    *,
    case_id: str,
    question_id: str,
    value: str,
    rationale: str,
    by: int,
) -> None:
    """Record (or replace) the panel's agreed grade for one question of one case, and why."""
    with write(db):
        row = db.execute(
            "SELECT results_opened_at FROM calibration_exercise WHERE id = ? AND review_id = ?",
            [exercise_id, review_id],
        ).fetchone()
        if row is None:
            raise ExerciseNotFound(exercise_id)
        if row["results_opened_at"] is None:
            raise ResultsNotOpen(exercise_id)
        if not db.execute(
            "SELECT 1 FROM calibration_case WHERE exercise_id = ? AND case_id = ?",
            [exercise_id, case_id],
        ).fetchone():
            raise ExerciseNotFound(case_id)
        before = db.execute(
            "SELECT value, rationale FROM calibration_agreed"
            " WHERE exercise_id = ? AND case_id = ? AND question_id = ?",
            [exercise_id, case_id, question_id],
        ).fetchone()
        db.execute(
            "INSERT OR REPLACE INTO calibration_agreed (exercise_id, case_id, question_id, value,"
            " rationale, agreed_by, agreed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [exercise_id, case_id, question_id, value, rationale.strip(), by, utcnow()],
        )
        changes.record(
            db,
            user_id=by,
            entity="calibration_agreed",
            entity_id=f"{exercise_id}/{case_id}/{question_id}",
            action="update" if before else "create",
            before=dict(before) if before else None,
            after={"value": value, "rationale": rationale.strip()},
            review_id=review_id,
        )


def agreed(db: sqlite_utils.Database, exercise_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Return the agreed grades keyed by (case id, question id)."""
    return {
        (row["case_id"], row["question_id"]): dict(row)
        for row in db.execute(
            "SELECT case_id, question_id, value, rationale, agreed_at FROM calibration_agreed"
            " WHERE exercise_id = ?",
            [exercise_id],
        )
    }


def exemplars(db: sqlite_utils.Database, review_id: str) -> dict[str, list[dict[str, Any]]]:
    """Return, per question id, the agreed grades of this review's opened exercises."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in db.execute(
        "SELECT calibration_agreed.exercise_id, calibration_agreed.case_id,"
        " calibration_agreed.question_id, calibration_agreed.value, case_file.pseudonym"
        " FROM calibration_agreed"
        " JOIN calibration_exercise ON calibration_exercise.id = calibration_agreed.exercise_id"
        " JOIN case_file ON case_file.id = calibration_agreed.case_id"
        " WHERE calibration_exercise.review_id = ? AND calibration_exercise.programme_id IS NULL"
        " AND calibration_exercise.results_opened_at IS NOT NULL"
        " ORDER BY calibration_agreed.agreed_at, case_file.pseudonym",
        [review_id],
    ):
        out.setdefault(row["question_id"], []).append(dict(row))
    return out


def programme_exemplars(db: sqlite_utils.Database, programme_id: str) -> list[dict[str, Any]]:
    """Return the agreed answers of the programme's opened exercises, with the hosting review."""
    return [
        dict(row)
        for row in db.execute(
            "SELECT calibration_agreed.exercise_id, calibration_agreed.case_id,"
            " calibration_agreed.question_id, calibration_agreed.value, case_file.pseudonym,"
            " calibration_exercise.review_id AS host_review_id"
            " FROM calibration_agreed"
            " JOIN calibration_exercise"
            " ON calibration_exercise.id = calibration_agreed.exercise_id"
            " JOIN case_file ON case_file.id = calibration_agreed.case_id"
            " WHERE calibration_exercise.programme_id = ?"
            " AND calibration_exercise.results_opened_at IS NOT NULL"
            " ORDER BY calibration_agreed.agreed_at, case_file.pseudonym",
            [programme_id],
        )
    ]


def leniency_rows(db: sqlite_utils.Database, review_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Return each auditor's grade beside the agreed or moderated grade, across reviews.

    Calibration: a participant's grade against the panel's agreed grade. Moderation: every
    answer of a moderated, submitted audit against the moderated value (its own value when
    the moderator left it unchanged).
    """
    if not review_ids:
        return []
    marks = ", ".join("?" for _ in review_ids)
    rows = [
        dict(r)
        for r in db.execute(
            "SELECT calibration_exercise.review_id, calibration_grade.user_id,"
            " user.display_name, calibration_grade.question_id, calibration_grade.value AS own,"
            " calibration_agreed.value AS reference, 'calibration' AS source"
            " FROM calibration_grade"
            " JOIN calibration_exercise ON calibration_exercise.id = calibration_grade.exercise_id"
            " JOIN calibration_agreed"
            " ON calibration_agreed.exercise_id = calibration_grade.exercise_id"
            " AND calibration_agreed.case_id = calibration_grade.case_id"
            " AND calibration_agreed.question_id = calibration_grade.question_id"
            " JOIN user ON user.id = calibration_grade.user_id"
            f" WHERE calibration_exercise.review_id IN ({marks})",
            list(review_ids),
        )
    ]
    rows += [
        dict(r)
        for r in db.execute(
            "SELECT case_audit.review_id, case_audit.reviewer_id AS user_id, user.display_name,"
            " answer.question_id, answer.value AS own,"
            " coalesce((SELECT m.moderated_value FROM moderation m WHERE m.audit_id = case_audit.id"
            " AND m.question_id = answer.question_id ORDER BY m.rowid DESC LIMIT 1),"
            " answer.value) AS reference, 'moderation' AS source"
            " FROM case_audit JOIN answer ON answer.audit_id = case_audit.id"
            " JOIN user ON user.id = case_audit.reviewer_id"
            f" WHERE case_audit.review_id IN ({marks}) AND case_audit.status = 'submitted'"
            " AND EXISTS (SELECT 1 FROM moderation WHERE moderation.audit_id = case_audit.id)",
            list(review_ids),
        )
    ]
    return rows
