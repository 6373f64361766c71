"""Unsaved work kept when a reviewer's sign-in runs out mid-audit, until they sign in and save."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlite_utils

from audit.data.db import utcnow, write

KEEP_FOR = timedelta(hours=24)
# A kept form is the scoring form's own fields only (the caller filters them); these bound what
# one post and one audit can hold, so kept work can never grow the database without limit.
MAX_CHARS = 500_000
PER_AUDIT = 3


class TooLarge(ValueError):
    """A form too large to keep (no real scoring form is): nothing was kept."""


def keep(
    db: sqlite_utils.Database, audit_id: str, user_id: int, pairs: Sequence[tuple[str, str]]
) -> str:
    """Store a posted form for an audit and its reviewer; return the token that restores it.

    Keeps at most :data:`PER_AUDIT` forms per audit (the newest) and refuses one longer than
    :data:`MAX_CHARS` with :class:`TooLarge`.
    """
    form = json.dumps(list(pairs))
    if len(form) > MAX_CHARS:
        raise TooLarge(f"{len(form):,} characters, more than the {MAX_CHARS:,} kept")
    token = secrets.token_urlsafe(24)
    cutoff = (datetime.now(UTC) - KEEP_FOR).isoformat().replace("+00:00", "Z")
    with write(db):
        if db.execute("SELECT 1 FROM case_audit WHERE id = ?", [audit_id]).fetchone() is None:
            raise LookupError(audit_id)
        db.execute("DELETE FROM pending_save WHERE created_at < ?", [cutoff])
        db.execute(
            "INSERT INTO pending_save (token, audit_id, user_id, form, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [token, audit_id, user_id, form, utcnow()],
        )
        db.execute(
            "DELETE FROM pending_save WHERE audit_id = ? AND token NOT IN (SELECT token FROM"
            " pending_save WHERE audit_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)",
            [audit_id, audit_id, PER_AUDIT],
        )
    return token


def find(
    db: sqlite_utils.Database, token: str, audit_id: str, user_id: int
) -> list[tuple[str, str]] | None:
    """Return the form this user's post kept for this audit, or None if unknown or expired."""
    cutoff = (datetime.now(UTC) - KEEP_FOR).isoformat().replace("+00:00", "Z")
    row = db.execute(
        "SELECT form FROM pending_save WHERE token = ? AND audit_id = ? AND user_id = ?"
        " AND created_at >= ?",
        [token, audit_id, user_id, cutoff],
    ).fetchone()
    return None if row is None else [tuple(pair) for pair in json.loads(row["form"])]


def clear(db: sqlite_utils.Database, audit_id: str) -> None:
    """Forget kept work for an audit once a save has gone through."""
    with write(db):
        db.execute("DELETE FROM pending_save WHERE audit_id = ?", [audit_id])
