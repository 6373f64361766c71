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

    def outside_rows(table: str, value: str, condition: str, order: str) -> list[dict[str, Any]]:
        rows = db.execute(
            f"WITH {allowed_cte}, {free_cte}"
            f" SELECT {who}, {table}.question_id, {table}.{value} AS value"
            f" FROM {table}{joins.format(t=table)}"
            f" WHERE case_audit.review_id = ? AND {condition} AND {table}.{value} IS NOT NULL"
            f" AND {outside.format(q=f'{table}.question_id', v=f'{table}.{value}')}"
            f" ORDER BY case_file.pseudonym, {order}",
            [*allowed_args, *free_args, review_id],
        )
        return [dict(r) for r in rows]

    marks = ", ".join("?" for _ in case_types) or "NULL"
    cases = db.execute(
        "SELECT id AS case_id, pseudonym, case_type FROM case_file"
        f" WHERE review_id = ? AND (case_type IS NULL OR case_type NOT IN ({marks}))"
        " ORDER BY pseudonym",
        [review_id, *case_types],
    )
    return {
        "answers": outside_rows(
            "answer", "value", "answer.not_applicable = 0", "case_audit.purpose, answer.question_id"
        ),
        "moderation": outside_rows(
            "moderation",
            "moderated_value",
            "moderation.question_id IS NOT NULL",
            "moderation.rowid",
        ),
        "cases": [dict(r) for r in cases],
    }
