"""Consistent backups while the app serves, and restoring one (SQLite's online backup API)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from audit.data.migrations import MIGRATIONS


class BackupInvalid(Exception):
    """The file is not a usable case-audit database; nothing was restored."""


def backup(database: Path | str, target: Path | str) -> int:
    """Copy the live database to ``target`` page by page and check the copy; return its size.

    The backup API copies a consistent snapshot even while reviewers are saving; the copy is
    written beside the target and renamed into place only once it passes integrity_check.
    """
    target = Path(target)
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    # Owner-only from the start: a backup holds everything the database does.
    os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(str(database), timeout=30)
    copy = sqlite3.connect(str(part))
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")
        if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupInvalid("the copy failed its integrity check; try again")
    finally:
        copy.close()
        source.close()
    part.replace(target)
    return target.stat().st_size


def check(file: Path | str) -> list[str]:
    """Return the migrations recorded in a backup, or raise if it is not a usable backup."""
    path = Path(file)
    if not path.is_file():
        raise BackupInvalid(f"{path}: no such file")
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupInvalid(f"{path}: not an SQLite database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupInvalid(f"{path}: the database is damaged (integrity check failed)")
        try:
            names = [r[0] for r in conn.execute("SELECT name FROM schema_migration ORDER BY id")]
        except sqlite3.DatabaseError:
            raise BackupInvalid(f"{path}: not a case-audit database") from None
    finally:
        conn.close()
    known = [name for name, _ in MIGRATIONS]
    if names != known[: len(names)]:
        raise BackupInvalid(f"{path}: made by a newer or different version of case-audit")
    return names


def restore(file: Path | str, database: Path | str) -> None:
    """Replace the instance's database with a checked backup (stop the server first)."""
    check(file)
    source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    target = sqlite3.connect(str(database), timeout=30)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
