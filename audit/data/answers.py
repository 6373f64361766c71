"""The answers of every kind of audit: read, grouped and written once.

A case audit keeps its answers in ``answer`` (by ``audit_id``), an agency audit in
``agency_answer`` (by ``audit_id``) and a child's panel its agreed answers in
``panel_answer`` (by ``case_id``). The rows are alike (question, value, not applicable,
evidence), so one implementation reads them and writes only what changed, returning the
change log's before and after.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlite_utils

from audit.scoring import Answer

# The tables of answers and the column that names whose answers they are (never from a request).
TABLES = {"answer": "audit_id", "agency_answer": "audit_id", "panel_answer": "case_id"}


def _table(table: str, key_column: str) -> None:
    if TABLES.get(table) != key_column:
        raise ValueError(f"not a table of answers: {table}.{key_column}")


def answers_of(
    db: sqlite_utils.Database, table: str, key_column: str, key: str
) -> dict[str, Answer]:
    """Return the answers kept in ``table`` under one key (an audit, or a child's panel)."""
    _table(table, key_column)
    return {
        r["question_id"]: Answer(r["value"], bool(r["not_applicable"]), r["evidence"])
        for r in db.execute(
            f"SELECT question_id, value, not_applicable, evidence FROM {table}"
            f" WHERE {key_column} = ?",
            [key],
        )
    }


def grouped_answers(
    db: sqlite_utils.Database, sql: str, key: str, args: list[Any]
) -> dict[str, dict[str, Answer]]:
    """Return answer rows grouped by ``key`` (an audit or a child), then by question."""
    answers: dict[str, dict[str, Answer]] = {}
    for r in db.execute(sql, args):
        answers.setdefault(r[key], {})[r["question_id"]] = Answer(
            r["value"], bool(r["not_applicable"]), r["evidence"]
        )
    return answers


def loggable(answer: Answer) -> dict[str, Any]:
    """Return an answer as the change log records it."""
    return {"value": answer.value, "na": answer.not_applicable, "evidence": answer.evidence}


def write_answers(
    db: sqlite_utils.Database,
    table: str,
    key_column: str,
    key: str,
    current: Mapping[str, Answer],
    answers: Mapping[str, Answer],
    now: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write the answers that changed (a blank answer without evidence clears one).

    ``answers`` holds every question shown on the page; ``current`` what is stored. Call
    inside the save's write transaction. Returns what changed, before and after, for the
    change log.
    """
    _table(table, key_column)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for question_id, answer in answers.items():
        old = current.get(question_id)
        if old == answer or (old is None and not answer.answered and not answer.evidence):
            continue
        before[question_id] = None if old is None else loggable(old)
        after[question_id] = loggable(answer)
        if not answer.answered and not answer.evidence.strip():
            db.execute(
                f"DELETE FROM {table} WHERE {key_column} = ? AND question_id = ?",
                [key, question_id],
            )
            continue
        db.execute(
            f"INSERT INTO {table} ({key_column}, question_id, value, not_applicable, evidence,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT ({key_column}, question_id) DO UPDATE SET value = excluded.value,"
            " not_applicable = excluded.not_applicable, evidence = excluded.evidence,"
            " updated_at = excluded.updated_at",
            [key, question_id, answer.value, int(answer.not_applicable), answer.evidence, now],
        )
    return before, after
