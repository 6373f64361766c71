"""Find stored values a review's rubric does not allow: the suspects for data errors.

A database edited by hand or filled by an older import can hold a grade that is not a
level of the scale, an answer to a question the rubric lacks, or a case type it does not
declare. The query only returns rows outside what the caller says is allowed, so it stays
one pass however large the review.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import sqlite_utils


def _values(pairs: list[tuple[str, str]], columns: str, name: str) -> tuple[str, list[str]]:
    if not pairs:
        pairs = [("", "")] if "," in columns else [("",)]  # type: ignore[list-item]
    marks = ", ".join("(" + ", ".join("?" for _ in pair) + ")" for pair in pairs)
    return f"{name}({columns}) AS (VALUES {marks})", [v for pair in pairs for v in pair]


def suspects(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    allowed: Mapping[str, Collection[str]],
    free_text: Collection[str],
    case_types: Collection[str],
) -> dict[str, list[dict[str, Any]]]:
    """Return the answers, moderated grades and cases of a review holding disallowed values.

    ``allowed`` maps each graded or yes/no question to its values; a question in
    ``free_text`` takes any text; any other question id is unknown to the rubric.
    """
    pairs = [(q, v) for q, values in allowed.items() for v in values]
    allowed_cte, allowed_args = _values(pairs, "question_id, value", "allowed")
    free_cte, free_args = _values([(q,) for q in free_text], "question_id", "free")  # type: ignore[list-item]
    outside = (
        "{q} NOT IN (SELECT question_id FROM free) AND NOT EXISTS (SELECT 1 FROM allowed"
        " WHERE allowed.question_id = {q} AND allowed.value = {v})"
    )
    who = (
        "case_audit.id AS audit_id, case_audit.purpose, case_audit.status,"
        " case_file.pseudonym, user.username AS reviewer"
    )
    joins = (
        " JOIN case_audit ON case_audit.id = {t}.audit_id"
        " JOIN case_file ON case_file.id = case_audit.case_id"
        " LEFT JOIN user ON user.id = case_audit.reviewer_id"
    )
    answers = db.execute(
        f"WITH {allowed_cte}, {free_cte} SELECT {who}, answer.question_id, answer.value"
        f" FROM answer{joins.format(t='answer')}"
        " WHERE case_audit.review_id = ? AND answer.not_applicable = 0"
        " AND answer.value IS NOT NULL AND "
        + outside.format(q="answer.question_id", v="answer.value")
        + " ORDER BY case_file.pseudonym, case_audit.purpose, answer.question_id",
        [*allowed_args, *free_args, review_id],
    )
    moderated = db.execute(
        f"WITH {allowed_cte}, {free_cte} SELECT {who}, moderation.question_id,"
        " moderation.moderated_value AS value"
        f" FROM moderation{joins.format(t='moderation')}"
        " WHERE case_audit.review_id = ? AND moderation.question_id IS NOT NULL"
        " AND moderation.moderated_value IS NOT NULL AND "
        + outside.format(q="moderation.question_id", v="moderation.moderated_value")
        + " ORDER BY case_file.pseudonym, moderation.rowid",
        [*allowed_args, *free_args, review_id],
    )
    marks = ", ".join("?" for _ in case_types) or "NULL"
    cases = db.execute(
        "SELECT id AS case_id, pseudonym, case_type FROM case_file"
        f" WHERE review_id = ? AND (case_type IS NULL OR case_type NOT IN ({marks}))"
        " ORDER BY pseudonym",
        [review_id, *case_types],
    )
    return {
        "answers": [dict(r) for r in answers],
        "moderation": [dict(r) for r in moderated],
        "cases": [dict(r) for r in cases],
    }
