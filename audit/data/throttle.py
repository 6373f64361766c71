"""Sign-in throttling, counted in the database so several server processes act as one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from audit.data.db import utcnow, write


def _since(minutes: int) -> str:
    return (
        (datetime.now(UTC) - timedelta(minutes=minutes))
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z")
    )


def blocked(
    db: sqlite_utils.Database, username: str, address: str, *, max_failures: int, minutes: int
) -> bool:
    """Tell whether sign-in is paused for this username or this address.

    An account is paused after ``max_failures`` failures in the window since its last
    success; an address after four times as many, whichever usernames it tried.
    """
    since = _since(minutes)
    account = db.execute(
        "SELECT count(*) FROM sign_in_attempt WHERE username = ? AND at >= ? AND succeeded = 0"
        " AND at > coalesce((SELECT max(at) FROM sign_in_attempt WHERE username = ?"
        " AND succeeded = 1), '')",
        [username, since, username],
    ).fetchone()[0]
    from_address = db.execute(
        "SELECT count(*) FROM sign_in_attempt WHERE address = ? AND at >= ? AND succeeded = 0",
        [address, since],
    ).fetchone()[0]
    return account >= max_failures or from_address >= max_failures * 4


def record(db: sqlite_utils.Database, username: str, address: str, succeeded: bool) -> None:
    """Count one sign-in attempt (and forget attempts older than a day)."""
    with write(db):
        db.execute(
            "INSERT INTO sign_in_attempt (at, username, address, succeeded) VALUES (?, ?, ?, ?)",
            [utcnow(), username[:200], address[:100], int(succeeded)],
        )
        db.execute("DELETE FROM sign_in_attempt WHERE at < ?", [_since(24 * 60)])
