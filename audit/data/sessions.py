"""Server-side sessions: the cookie carries a random token, the database everything else.

Only a SHA-256 of the token is stored, so a copy of the database cannot be replayed as a
cookie. A session ends for real when its row is deleted: signing out, a password change,
deactivation, "sign out everywhere", or the idle and absolute time limits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from audit.data.db import utcnow, write

# Touch ``last_seen_at`` at most this often: a page with many requests writes once.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class StoredSession:
    """A live session as loaded for a request."""

    id: int
    user_id: int | None
    data: str


@dataclass(frozen=True)
class SessionSummary:
    """One of a user's sessions, as listed on their account page."""

    id: int
    created_at: str
    last_seen_at: str
    user_agent: str
    address: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _cutoffs(idle: timedelta, lifetime: timedelta) -> tuple[str, str]:
    now = datetime.now(UTC)
    return _iso(now - idle), _iso(now - lifetime)


# A session that timed out is remembered this long (its user, not its data): long enough for
# a reviewer to come back to work typed before the time-out and have it kept for them.
LAPSED_KEPT_FOR = timedelta(hours=24)


def _lapse(db: sqlite_utils.Database, where: str, params: list[object]) -> None:
    """Move timed-out sessions matching ``where`` to ``lapsed_session``: who, not what."""
    db.execute(
        "INSERT OR REPLACE INTO lapsed_session (token_hash, user_id, lapsed_at)"
        f" SELECT token_hash, user_id, ? FROM auth_session WHERE user_id IS NOT NULL AND ({where})",
        [utcnow(), *params],
    )
    db.execute(f"DELETE FROM auth_session WHERE {where}", params)
    db.execute(
        "DELETE FROM lapsed_session WHERE lapsed_at < ?",
        [_iso(datetime.now(UTC) - LAPSED_KEPT_FOR)],
    )


def lapsed_user(db: sqlite_utils.Database, token: str) -> int | None:
    """Return the user whose session had this token and timed out in the last day, if any."""
    row = db.execute(
        "SELECT user_id FROM lapsed_session WHERE token_hash = ? AND lapsed_at >= ?",
        [_hash(token), _iso(datetime.now(UTC) - LAPSED_KEPT_FOR)],
    ).fetchone()
    return None if row is None else row["user_id"]


def create(
    db: sqlite_utils.Database,
    *,
    user_id: int | None,
    data: str,
    user_agent: str,
    address: str,
    idle: timedelta,
    lifetime: timedelta,
) -> str:
    """Store a new session and return its token (forgetting sessions that have run out)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    idle_cutoff, life_cutoff = _cutoffs(idle, lifetime)
    with write(db):
        _lapse(db, "last_seen_at < ? OR created_at < ?", [idle_cutoff, life_cutoff])
        db.execute(
            "INSERT INTO auth_session (token_hash, user_id, data, created_at, last_seen_at,"
            " user_agent, address) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [_hash(token), user_id, data, now, now, user_agent[:400], address[:100]],
        )
    return token


def load(
    db: sqlite_utils.Database, token: str, *, idle: timedelta, lifetime: timedelta
) -> StoredSession | None:
    """Return the live session for ``token``, or None if unknown, ended or timed out."""
    row = db.execute(
        "SELECT id, user_id, data, created_at, last_seen_at FROM auth_session WHERE token_hash = ?",
        [_hash(token)],
    ).fetchone()
    if row is None:
        return None
    idle_cutoff, life_cutoff = _cutoffs(idle, lifetime)
    if row["last_seen_at"] < idle_cutoff or row["created_at"] < life_cutoff:
        with write(db):
            _lapse(db, "id = ?", [row["id"]])
        return None
    if row["last_seen_at"] < _iso(datetime.now(UTC) - TOUCH_EVERY):
        with write(db):
            db.execute(
                "UPDATE auth_session SET last_seen_at = ? WHERE id = ?", [utcnow(), row["id"]]
            )
    return StoredSession(row["id"], row["user_id"], row["data"])


def save(db: sqlite_utils.Database, token: str, data: str) -> bool:
    """Replace a session's data; return False if the session has been ended meanwhile."""
    with write(db):
        cursor = db.execute(
            "UPDATE auth_session SET data = ?, last_seen_at = ? WHERE token_hash = ?",
            [data, utcnow(), _hash(token)],
        )
    return cursor.rowcount > 0


def end(db: sqlite_utils.Database, token: str) -> None:
    """End the session with this token."""
    with write(db):
        db.execute("DELETE FROM auth_session WHERE token_hash = ?", [_hash(token)])


def end_one(db: sqlite_utils.Database, user_id: int, session_id: int) -> bool:
    """End one of a user's own sessions by its id; return whether there was one."""
    with write(db):
        cursor = db.execute(
            "DELETE FROM auth_session WHERE id = ? AND user_id = ?", [session_id, user_id]
        )
    return cursor.rowcount > 0


def end_all(db: sqlite_utils.Database, user_id: int, keep_token: str | None = None) -> int:
    """End every session of a user (but ``keep_token``'s); return how many ended."""
    with write(db):
        cursor = db.execute(
            "DELETE FROM auth_session WHERE user_id = ? AND token_hash != ?",
            [user_id, _hash(keep_token) if keep_token else ""],
        )
        # A timed-out session proves nothing more either (work is no longer kept for it).
        db.execute("DELETE FROM lapsed_session WHERE user_id = ?", [user_id])
    return cursor.rowcount


def for_user(
    db: sqlite_utils.Database, user_id: int, *, idle: timedelta, lifetime: timedelta
) -> list[SessionSummary]:
    """Return a user's live sessions, most recently used first."""
    idle_cutoff, life_cutoff = _cutoffs(idle, lifetime)
    rows = db.execute(
        "SELECT id, created_at, last_seen_at, user_agent, address FROM auth_session"
        " WHERE user_id = ? AND last_seen_at >= ? AND created_at >= ?"
        " ORDER BY last_seen_at DESC, id DESC",
        [user_id, idle_cutoff, life_cutoff],
    ).fetchall()
    return [
        SessionSummary(r["id"], r["created_at"], r["last_seen_at"], r["user_agent"], r["address"])
        for r in rows
    ]


def id_for(db: sqlite_utils.Database, token: str) -> int | None:
    """Return the id of the session with this token (to mark "this browser" in a list)."""
    row = db.execute("SELECT id FROM auth_session WHERE token_hash = ?", [_hash(token)]).fetchone()
    return None if row is None else row["id"]
