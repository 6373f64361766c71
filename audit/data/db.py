"""Open SQLite the one way the app needs it: WAL, foreign keys, busy timeout, UTC times."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils


def utcnow() -> str:
    """Return the current UTC time as ISO 8601 text, the form every timestamp is stored in."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def connect(path: Path | str, busy_timeout_ms: int = 10_000) -> sqlite_utils.Database:
    """Open the database with the pragmas every connection needs.

    The driver runs in autocommit mode so that :func:`write` can issue ``BEGIN IMMEDIATE``
    itself; sqlite-utils' own ``atomic()`` then nests inside it as a savepoint.
    """
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    # FULL: a save acknowledged to a reviewer must survive the process being killed.
    conn.execute("PRAGMA synchronous = FULL")
    conn.row_factory = sqlite3.Row
    return sqlite_utils.Database(conn)


@contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """Run a read-then-write unit of work under ``BEGIN IMMEDIATE``.

    Taking the write lock at the start means two reviewers saving at once queue on the busy
    timeout instead of one failing with "database is locked" when a deferred read lock
    cannot be upgraded.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")
