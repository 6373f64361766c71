"""Safeguarding alerts of every kind of audit: raised, withdrawn, listed and recorded once.

A child found not adequately safeguarded is escalated the same way whoever audited them, so
the rules live here for both tables that keep alerts: ``escalation`` (a case audit's; it can
only point at a ``case_audit``) and ``agency_escalation`` (an agency audit's, or the panel's
agreed answers', naming the agency). :mod:`audit.data.audits` and
:mod:`audit.data.agency_audits` keep their own public functions and say which table and which
record; the SQL is written once, here.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

import sqlite_utils

from audit.data import changes
from audit.data.db import utcnow, write

# The tables that keep alerts (table names are never taken from a request).
TABLES = ("escalation", "agency_escalation")
_OPEN = "recorded_at IS NULL AND withdrawn_at IS NULL"


def _table(table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"not a table of alerts: {table}")
    return table


def select(table: str) -> str:
    """Return the SELECT of an alert with its child's pseudonym and who raised and recorded it.

    An agency's alert also carries the agency's name (none for the panel's).
    """
    t = _table(table)
    agency = t == "agency_escalation"
    return (
        f"SELECT {t}.*, case_file.pseudonym, case_file.reference,"
        " raiser.display_name AS raised_by_name, recorder.display_name AS recorded_by_name"
        + (", agency.name AS agency_name" if agency else "")
        + f" FROM {t} JOIN case_file ON case_file.id = {t}.case_id"
        f" JOIN user AS raiser ON raiser.id = {t}.raised_by"
        f" LEFT JOIN user AS recorder ON recorder.id = {t}.recorded_by"
        + (" LEFT JOIN agency ON agency.id = agency_escalation.agency_id" if agency else "")
    )


def listed(
    db: sqlite_utils.Database,
    table: str,
    review_id: str,
    *,
    where: Mapping[str, str | None] | None = None,
    open_only: bool = False,
) -> list[dict[str, Any]]:
    """Return a review's alerts, oldest first; ``where`` narrows by columns given a value."""
    t = _table(table)
    sql = select(t) + f" WHERE {t}.review_id = ?"
    args: list[Any] = [review_id]
    for column, value in (where or {}).items():
        if value:
            sql += f" AND {t}.{column} = ?"
            args.append(value)
    if open_only:
        sql += f" AND {t}.recorded_at IS NULL AND {t}.withdrawn_at IS NULL"
    return [dict(row) for row in db.execute(sql + f" ORDER BY {t}.raised_at", args)]


def one(db: sqlite_utils.Database, table: str, alert_id: str, review_id: str) -> dict[str, Any]:
    """Return one alert of this review (LookupError for any other)."""
    t = _table(table)
    row = db.execute(
        select(t) + f" WHERE {t}.id = ? AND {t}.review_id = ?", [alert_id, review_id]
    ).fetchone()
    if row is None:
        raise LookupError(alert_id)
    return dict(row)


def sync(
    db: sqlite_utils.Database,
    table: str,
    *,
    scope: tuple[str, list[Any]],
    new: Mapping[str, Any],
    logged: Mapping[str, Any],
    adverse_questions: Collection[str],
    critical_questions: Collection[str],
    by: int,
    now: str,
) -> list[str]:
    """Raise an alert for each new adverse answer; withdraw unrecorded ones no longer adverse.

    ``scope`` is the WHERE clause (and its arguments) naming the audit's alerts, ``new`` the
    columns a new alert of it carries besides its question (``review_id`` and ``case_id`` at
    least), ``logged`` what the change log says of it. Call inside the audit's write
    transaction, so the lead sees the alert the moment the answer is saved.
    """
    t = _table(table)
    where, args = scope
    live = {
        row["question_id"]: row
        for row in db.execute(f"SELECT * FROM {t} WHERE {where} AND withdrawn_at IS NULL", args)
    }
    review_id = new["review_id"]
    raised = []
    for question_id in adverse_questions:
        if question_id in live:
            continue
        alert_id = str(uuid.uuid4())
        db[t].insert(
            {
                "id": alert_id,
                **new,
                "question_id": question_id,
                "raised_by": by,
                "raised_at": now,
            }
        )
        changes.record(
            db,
            user_id=by,
            entity=t,
            entity_id=alert_id,
            action="create",
            after={"question_id": question_id, **logged},
            review_id=review_id,
        )
        raised.append(alert_id)
    for question_id, row in live.items():
        if (
            question_id in critical_questions
            and question_id not in adverse_questions
            and row["recorded_at"] is None
        ):
            # The answer changed before anyone was told: keep the alert, marked withdrawn with
            # who and when, so the history still shows it was raised.
            db.execute(
                f"UPDATE {t} SET withdrawn_by = ?, withdrawn_at = ? WHERE id = ?",
                [by, now, row["id"]],
            )
            changes.record(
                db,
                user_id=by,
                entity=t,
                entity_id=row["id"],
                action="update",
                after={"withdrawn": True},
                review_id=review_id,
            )
    return raised


def open_ids(db: sqlite_utils.Database, table: str, column: str, key: str) -> tuple[str, ...]:
    """Return the alerts of one audit still without an escalation recorded, oldest first.

    An audit with one of these is never submitted.
    """
    t = _table(table)
    return tuple(
        row["id"]
        for row in db.execute(
            f"SELECT id FROM {t} WHERE {column} = ? AND {_OPEN} ORDER BY raised_at", [key]
        )
    )


def record(
    db: sqlite_utils.Database,
    table: str,
    alert_id: str,
    review_id: str,
    *,
    told_who: str,
    told_at: str,
    agreed_action: str,
    by: int,
) -> None:
    """Record who was told about a child not adequately safeguarded, when, and what was agreed.

    Recording again corrects the record; the change log keeps the earlier version.
    """
    t = _table(table)
    with write(db):
        row = one(db, t, alert_id, review_id)
        fields = {"told_who": told_who, "told_at": told_at, "agreed_action": agreed_action}
        db.execute(
            f"UPDATE {t} SET told_who = ?, told_at = ?, agreed_action = ?,"
            " recorded_by = ?, recorded_at = ? WHERE id = ?",
            [told_who, told_at, agreed_action, by, utcnow(), alert_id],
        )
        changes.record(
            db,
            user_id=by,
            entity=t,
            entity_id=alert_id,
            action="update",
            before={k: row[k] for k in fields},
            after=fields,
            review_id=review_id,
        )
