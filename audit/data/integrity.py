"""Find stored values a review's rubric does not allow: the suspects for data errors.

A database edited by hand or filled by an older import can hold a grade that is not a
level of the scale, an answer to a question the rubric lacks, or a case type it does not
declare. The queries only return rows outside what the caller says is allowed, so each
stays one pass however large the review.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import sqlite_utils

# Joins a question id and a value into one key, so one IN list (an index SQLite builds once)
# checks both: a unit separator never appears in either.
_SEP = "\x1f"


def _marks(values: Collection[str]) -> str:
    # an empty list matches nothing (NOT IN (NULL) would exclude every row)
    return ", ".join("?" for _ in values) or "''"


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
    keys = [f"{q}{_SEP}{v}" for q, values in allowed.items() for v in values]
    free = list(free_text)
    outside = (
        f"{{q}} NOT IN ({_marks(free)}) AND ({{q}} || char(31) || {{v}}) NOT IN ({_marks(keys)})"
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
            f"SELECT {who}, {table}.question_id, {table}.{value} AS value"
            f" FROM {table}{joins.format(t=table)}"
            f" WHERE case_audit.review_id = ? AND {condition} AND {table}.{value} IS NOT NULL"
            f" AND {outside.format(q=f'{table}.question_id', v=f'{table}.{value}')}"
            f" ORDER BY case_file.pseudonym, {order}",
            [review_id, *free, *keys],
        )
        return [dict(r) for r in rows]

    marks = _marks(case_types)
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
