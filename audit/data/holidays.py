"""The instance's nation and the bank holidays an admin adds to its list (no network look-up)."""

from __future__ import annotations

from datetime import date

import sqlite_utils

from audit.data import changes
from audit.data.db import write


def extra(db: sqlite_utils.Database) -> list[dict]:
    """Return the added days, soonest first."""
    return [dict(r) for r in db.execute("SELECT day, name FROM bank_holiday ORDER BY day")]


def add(db: sqlite_utils.Database, day: date, name: str, by: int | None) -> None:
    """Add (or rename) a day that working-day counts must skip."""
    with write(db):
        db.execute(
            "INSERT INTO bank_holiday (day, name, added_by) VALUES (?, ?, ?)"
            " ON CONFLICT (day) DO UPDATE SET name = excluded.name",
            [day.isoformat(), name.strip(), by],
        )
        changes.record(
            db,
            user_id=by,
            entity="bank_holiday",
            entity_id=day.isoformat(),
            action="create",
            after={"name": name.strip()},
        )


def remove(db: sqlite_utils.Database, day: str, by: int | None) -> bool:
    """Remove an added day; the shipped list cannot be changed here."""
    with write(db):
        gone = db.execute("DELETE FROM bank_holiday WHERE day = ?", [day]).rowcount
        if gone:
            changes.record(db, user_id=by, entity="bank_holiday", entity_id=day, action="delete")
    return bool(gone)


def nation(db: sqlite_utils.Database) -> str | None:
    """Return the nation chosen for this instance, or None if none was ever chosen."""
    row = db.execute("SELECT value FROM instance_setting WHERE key = 'nation'").fetchone()
    return row[0] if row else None


def set_nation(db: sqlite_utils.Database, value: str, by: int | None) -> bool:
    """Store the nation whose bank holidays working days skip; return whether it changed."""
    before = nation(db)
    if before == value:
        return False
    with write(db):
        db.execute(
            "INSERT INTO instance_setting (key, value) VALUES ('nation', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [value],
        )
        changes.record(
            db,
            user_id=by,
            entity="instance_setting",
            entity_id="nation",
            action="update",
            before={"nation": before},
            after={"nation": value},
        )
    return True
