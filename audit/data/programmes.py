"""Programmes: reviews of the same kind repeated over time (monthly or quarterly audits)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlite_utils

from audit.data import changes
from audit.data.db import utcnow, write


class ProgrammeNotFound(LookupError):
    """No programme with that id."""


def create(
    db: sqlite_utils.Database,
    *,
    title: str,
    kind: str,
    description: str = "",
    by: int | None = None,
    programme_id: str | None = None,
) -> str:
    """Start a programme; reviews join it when created from it."""
    row = {
        "id": programme_id or str(uuid.uuid4()),
        "title": title.strip(),
        "kind": kind,
        "description": description.strip(),
        "created_by": by,
        "created_at": utcnow(),
    }
    with write(db):
        db["programme"].insert(row)
        changes.record(
            db,
            user_id=by,
            entity="programme",
            entity_id=row["id"],
            action="create",
            after={k: row[k] for k in ("title", "kind")},
        )
    return row["id"]


def get(db: sqlite_utils.Database, programme_id: str) -> dict[str, Any]:
    """Return one programme."""
    row = db.execute("SELECT * FROM programme WHERE id = ?", [programme_id]).fetchone()
    if row is None:
        raise ProgrammeNotFound(programme_id)
    return dict(row)


def all_programmes(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Return every programme with how many reviews it holds and its latest review's date."""
    return [
        dict(row)
        for row in db.execute(
            "SELECT programme.*, count(review.id) AS reviews,"
            " max(coalesce(review.start_date, review.created_at)) AS latest"
            " FROM programme LEFT JOIN review ON review.programme_id = programme.id"
            " GROUP BY programme.id ORDER BY programme.title COLLATE NOCASE"
        )
    ]


def review_ids(db: sqlite_utils.Database, programme_id: str) -> list[str]:
    """Return the programme's reviews in time order (start date, then creation)."""
    return [
        row["id"]
        for row in db.execute(
            "SELECT id FROM review WHERE programme_id = ?"
            " ORDER BY coalesce(start_date, substr(created_at, 1, 10)), created_at",
            [programme_id],
        )
    ]


def earlier_audits(
    db: sqlite_utils.Database, programme_id: str, before_review: str
) -> list[dict[str, Any]]:
    """Return submitted first audits from the programme's other reviews, newest first.

    These are the cases a lead may deliberately re-audit in a later review.
    """
    return [
        dict(row)
        for row in db.execute(
            "SELECT case_audit.id AS audit_id, case_audit.submitted_at, case_file.reference,"
            " case_file.case_type, case_file.team, case_file.dates, case_file.pseudonym,"
            " review.title AS review_title, review.id AS review_id"
            " FROM case_audit JOIN case_file ON case_file.id = case_audit.case_id"
            " JOIN review ON review.id = case_audit.review_id"
            " WHERE review.programme_id = ? AND review.id != ? AND case_audit.purpose = 'first'"
            " AND case_audit.status = 'submitted'"
            " ORDER BY case_audit.submitted_at DESC",
            [programme_id, before_review],
        )
    ]


def recently_audited(db: sqlite_utils.Database, since: str) -> set[str]:
    """Return host references with a submitted audit since ``since`` (an ISO date), anywhere."""
    return {
        row[0]
        for row in db.execute(
            "SELECT DISTINCT case_file.reference FROM case_audit"
            " JOIN case_file ON case_file.id = case_audit.case_id"
            " WHERE case_audit.status = 'submitted' AND case_audit.submitted_at >= ?",
            [since],
        )
    }


def re_audits(db: sqlite_utils.Database, programme_id: str) -> list[dict[str, Any]]:
    """Return the programme's submitted re-audits, each with the earlier audit it repeats."""
    return [
        dict(row)
        for row in db.execute(
            "SELECT later.id AS audit_id, later.earlier_audit_id, case_file.pseudonym,"
            " review.id AS review_id, review.title AS review_title,"
            " earlier_review.title AS earlier_review_title"
            " FROM case_audit AS later JOIN case_file ON case_file.id = later.case_id"
            " JOIN review ON review.id = later.review_id"
            " JOIN case_audit AS earlier ON earlier.id = later.earlier_audit_id"
            " JOIN review AS earlier_review ON earlier_review.id = earlier.review_id"
            " WHERE review.programme_id = ? AND later.status = 'submitted'"
            " AND earlier.status = 'submitted'"
            " ORDER BY review.start_date, case_file.pseudonym",
            [programme_id],
        )
    ]
