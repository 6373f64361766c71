"""Stamps that change whenever a review's data changes, kept by triggers, for caching figures.

A review's figures (the dashboard's counts, the aggregation behind the findings and the
report) are worked out once and kept until the review's data changes. Knowing when it
changed must not depend on every write path remembering to say so, so SQLite does it: each
table whose rows belong to a review has triggers that give the review a new random stamp on
every insert, update and delete; tables that belong to no review (user names, bank
holidays, the nation) change the instance-wide stamp ``*``. A new table added by a later
migration gets its triggers too: :func:`ensure_triggers` runs after every migration and
finds how each table reaches its review from its columns.

Random stamps, not counters: a database restored from a backup brings its old stamps back,
and a counter would then repeat values already cached for different data.
"""

from __future__ import annotations

import sqlite_utils

GLOBAL = "*"
# Housekeeping with no bearing on any figure: sessions, throttling, the migration record,
# the stamps themselves, the change log (written beside the real change anyway), reports.
SKIP = frozenset(
    {
        "auth_session",
        "lapsed_session",
        "pending_save",
        "sign_in_attempt",
        "schema_migration",
        "data_stamp",
        "recovery_code",
        "user_identity",
        "auth_setting",
        "report_job",
        "issued_report",
        "change_log",
    }
)
# How a row reaches its review, by the first of these columns it has ({row} is NEW or OLD).
VIA = (
    ("review_id", "{row}.review_id"),
    ("audit_id", "(SELECT review_id FROM case_audit WHERE id = {row}.audit_id)"),
    ("case_id", "(SELECT review_id FROM case_file WHERE id = {row}.case_id)"),
    ("finding_id", "(SELECT review_id FROM finding WHERE id = {row}.finding_id)"),
    ("exercise_id", "(SELECT review_id FROM calibration_exercise WHERE id = {row}.exercise_id)"),
    ("action_id", "(SELECT review_id FROM action WHERE id = {row}.action_id)"),
)
# Tables whose first matching column above points elsewhere: an agency's answers hang on its
# agency audit, not on a case audit.
BY_TABLE = {
    "agency_answer": "(SELECT review_id FROM agency_audit WHERE id = {row}.audit_id)",
}
# Only these changes to a user show in figures (names beside cases; who is still active).
USER_COLUMNS = ("username", "display_name", "active", "role")

CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS data_stamp (scope TEXT PRIMARY KEY NOT NULL,"
    " stamp INTEGER NOT NULL)"
)


def _scope(table: str, columns: set[str], row: str) -> str:
    if table == "review":
        return f"{row}.id"
    if table in BY_TABLE:
        return BY_TABLE[table].format(row=row)
    for column, expression in VIA:
        if column in columns:
            return expression.format(row=row)
    return f"'{GLOBAL}'"


def ensure_triggers(db: sqlite_utils.Database) -> list[str]:
    """Create the stamp table and any missing triggers; return the names of triggers made."""
    db.execute(CREATE_TABLE)
    existing = {
        row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    made = []
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for table in tables:
        if table in SKIP:
            continue
        columns = {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            name = f"stamp_{table}_{event.lower()}"
            if name in existing:
                continue
            when = event
            if table == "user" and event == "UPDATE":
                when = f"UPDATE OF {', '.join(c for c in USER_COLUMNS if c in columns)}"
            db.execute(
                f'CREATE TRIGGER "{name}" AFTER {when} ON "{table}" BEGIN'
                " INSERT INTO data_stamp (scope, stamp)"
                f" VALUES (coalesce({_scope(table, columns, row)}, '{GLOBAL}'), random())"
                " ON CONFLICT (scope) DO UPDATE SET stamp = excluded.stamp; END"
            )
            made.append(name)
    return made


def current(db: sqlite_utils.Database, review_id: str) -> tuple[int, int]:
    """Return (the review's stamp, the instance-wide stamp); 0 for one never changed."""
    stamps = dict(
        db.execute(
            "SELECT scope, stamp FROM data_stamp WHERE scope IN (?, ?)", [review_id, GLOBAL]
        ).fetchall()
    )
    return stamps.get(review_id, 0), stamps.get(GLOBAL, 0)
