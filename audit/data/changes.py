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


def for_review(db: sqlite_utils.Database, review_id: str, limit: int = 500) -> list[dict]:
    """Return a review's change log, newest first, with the name of who made each change."""
    return [
        dict(row)
        for row in db.query(
            "SELECT change_log.*, user.display_name AS user_name FROM change_log"
            " LEFT JOIN user ON user.id = change_log.user_id"
            " WHERE review_id = ? ORDER BY change_log.id DESC LIMIT ?",
            [review_id, limit],
        )
    ]
