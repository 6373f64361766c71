"""The change log: who changed what, when, with the values before and after."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from audit.data.db import utcnow


def record(
    db: sqlite_utils.Database,
    *,
    user_id: int | None,
    entity: str,
    entity_id: str | int,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    review_id: str | None = None,
) -> None:
    """Append one entry; call inside the same transaction as the change it describes."""
    db.execute(
        "INSERT INTO change_log (at, user_id, review_id, entity, entity_id, action, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            utcnow(),
            user_id,
            review_id,
            entity,
            str(entity_id),
            action,
            None if before is None else json.dumps(dict(before), sort_keys=True, default=str),
            None if after is None else json.dumps(dict(after), sort_keys=True, default=str),
        ],
    )


def entries(
    db: sqlite_utils.Database,
    *,
    review_id: str | None = None,
    before: int | None = None,
    limit: int = 200,
) -> list[dict]:
    """Return change-log entries, newest first, for one review or (admins) every review.

    ``before`` pages back: entries with a smaller id than the last one shown.
    """
    clauses, args = [], []
    if review_id is not None:
        clauses.append("change_log.review_id = ?")
        args.append(review_id)
    if before is not None:
        clauses.append("change_log.id < ?")
        args.append(before)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = db.execute(
        "SELECT change_log.*, user.display_name AS user_name, review.title AS review_title"
        " FROM change_log LEFT JOIN user ON user.id = change_log.user_id"
        " LEFT JOIN review ON review.id = change_log.review_id"
        f"{where} ORDER BY change_log.id DESC LIMIT ?",
        [*args, limit],
    )
    return [dict(row) for row in rows]
