"""Unsaved work kept when a reviewer's sign-in runs out mid-audit, until they sign in and save."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlite_utils

from audit.data.db import utcnow, write

KEEP_FOR = timedelta(hours=24)


def keep(db: sqlite_utils.Database, audit_id: str, pairs: Sequence[tuple[str, str]]) -> str:
    """Store a posted form for an audit; return the token that restores it."""
    token = secrets.token_urlsafe(24)
    cutoff = (datetime.now(UTC) - KEEP_FOR).isoformat().replace("+00:00", "Z")
    with write(db):
        if db.execute("SELECT 1 FROM case_audit WHERE id = ?", [audit_id]).fetchone() is None:
            raise LookupError(audit_id)
        db.execute("DELETE FROM pending_save WHERE created_at < ?", [cutoff])
        db.execute(
            "INSERT INTO pending_save (token, audit_id, form, created_at) VALUES (?, ?, ?, ?)",
            [token, audit_id, json.dumps(list(pairs)), utcnow()],
        )
    return token


def find(db: sqlite_utils.Database, token: str, audit_id: str) -> list[tuple[str, str]] | None:
    """Return the kept form for this audit and token, or None if unknown or expired."""
    cutoff = (datetime.now(UTC) - KEEP_FOR).isoformat().replace("+00:00", "Z")
    row = db.execute(
        "SELECT form FROM pending_save WHERE token = ? AND audit_id = ? AND created_at >= ?",
        [token, audit_id, cutoff],
    ).fetchone()
    return None if row is None else [tuple(pair) for pair in json.loads(row["form"])]


def clear(db: sqlite_utils.Database, audit_id: str) -> None:
    """Forget kept work for an audit once a save has gone through."""
    with write(db):
        db.execute("DELETE FROM pending_save WHERE audit_id = ?", [audit_id])
