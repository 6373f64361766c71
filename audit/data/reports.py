"""Findings reports: issued PDFs (kept, never regenerated) and background renders.

An issued report is a record: its bytes, SHA-256 hash, date, audience and who issued it are
stored once and served back unchanged. Issuing again makes a new row. A render job is
working state: one row per requested render, ``queued -> running -> done | failed``, its
PDF kept until a newer job for the same review and audience replaces it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from audit.data import changes
from audit.data.db import utcnow, write

AUDIENCES = ("internal", "public")
# A job still "running" after this long belonged to a process that stopped (a restart).
STALE_AFTER = timedelta(minutes=15)


class ReportNotFound(LookupError):
    """No issued report with that id in this review."""


class JobNotFound(LookupError):
    """No render job with that id in this review."""


def _check_audience(audience: str) -> None:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}")


# --------------------------------------------------------------------------- issued reports


def store_issued(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    audience: str,
    pdf: bytes,
    filename: str,
    by: int | None,
) -> dict[str, Any]:
    """Store an issued report's bytes with their SHA-256 hash; return the row without the PDF."""
    _check_audience(audience)
    row = {
        "id": str(uuid.uuid4()),
        "review_id": review_id,
        "audience": audience,
        "issued_by": by,
        "issued_at": utcnow(),
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "filename": filename,
        "pdf": pdf,
    }
    with write(db):
        db["issued_report"].insert(row)
        changes.record(
            db,
            user_id=by,
            entity="issued_report",
            entity_id=row["id"],
            action="create",
            after={k: row[k] for k in ("audience", "sha256", "filename", "issued_at")},
            review_id=review_id,
        )
    return {k: v for k, v in row.items() if k != "pdf"} | {"size": len(pdf)}


def issued(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return the review's issued reports, newest first, without their bytes."""
    return [
        dict(row)
        for row in db.execute(
            "SELECT issued_report.id, issued_report.audience, issued_report.issued_at,"
            " issued_report.sha256, issued_report.filename, length(issued_report.pdf) AS size,"
            " user.display_name AS issued_by_name"
            " FROM issued_report LEFT JOIN user ON user.id = issued_report.issued_by"
            " WHERE issued_report.review_id = ?"
            " ORDER BY issued_report.issued_at DESC, issued_report.rowid DESC",
            [review_id],
        )
    ]


def issued_pdf(db: sqlite_utils.Database, review_id: str, report_id: str) -> dict[str, Any]:
    """Return one issued report with its stored bytes, or raise :class:`ReportNotFound`."""
    row = db.execute(
        "SELECT * FROM issued_report WHERE id = ? AND review_id = ?", [report_id, review_id]
    ).fetchone()
    if row is None:
        raise ReportNotFound(report_id)
    return dict(row)


# --------------------------------------------------------------------------- render jobs

_JOB_COLUMNS = (
    "report_job.id, report_job.review_id, report_job.audience, report_job.status,"
    " report_job.requested_by, report_job.requested_at, report_job.finished_at,"
    " report_job.error, length(report_job.pdf) AS size"
)


def _stale_before() -> str:
    cutoff = datetime.now(UTC) - STALE_AFTER
    return cutoff.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def open_job(
    db: sqlite_utils.Database, review_id: str, audience: str, by: int | None
) -> tuple[str, bool]:
    """Return (job id, created): an unfinished job for this review and audience, or a new one.

    Reusing a queued or running job stops repeated clicks from starting parallel renders.
    Jobs left running by a stopped process are marked failed; older finished jobs for the
    same review and audience are deleted, so their PDFs do not pile up.
    """
    _check_audience(audience)
    with write(db):
        db.execute(
            "UPDATE report_job SET status = 'failed', finished_at = ?,"
            " error = 'The render stopped (the server was restarted). Try again.'"
            " WHERE review_id = ? AND status IN ('queued', 'running') AND requested_at < ?",
            [utcnow(), review_id, _stale_before()],
        )
        row = db.execute(
            "SELECT id FROM report_job WHERE review_id = ? AND audience = ?"
            " AND status IN ('queued', 'running') ORDER BY requested_at DESC LIMIT 1",
            [review_id, audience],
        ).fetchone()
        if row is not None:
            return row["id"], False
        db.execute(
            "DELETE FROM report_job WHERE review_id = ? AND audience = ?"
            " AND status IN ('done', 'failed')",
            [review_id, audience],
        )
        job_id = str(uuid.uuid4())
        db["report_job"].insert(
            {
                "id": job_id,
                "review_id": review_id,
                "audience": audience,
                "status": "queued",
                "requested_by": by,
                "requested_at": utcnow(),
            }
        )
    return job_id, True


def job(db: sqlite_utils.Database, review_id: str, job_id: str) -> dict[str, Any]:
    """Return a job's state (without its bytes), or raise :class:`JobNotFound`."""
    row = db.execute(
        f"SELECT {_JOB_COLUMNS} FROM report_job WHERE id = ? AND review_id = ?",
        [job_id, review_id],
    ).fetchone()
    if row is None:
        raise JobNotFound(job_id)
    return dict(row)


def job_pdf(db: sqlite_utils.Database, review_id: str, job_id: str) -> bytes:
    """Return a finished job's PDF, or raise :class:`JobNotFound` if there is none."""
    row = db.execute(
        "SELECT pdf FROM report_job WHERE id = ? AND review_id = ? AND status = 'done'",
        [job_id, review_id],
    ).fetchone()
    if row is None or row["pdf"] is None:
        raise JobNotFound(job_id)
    return bytes(row["pdf"])


def mark_running(db: sqlite_utils.Database, job_id: str) -> None:
    """Record that a job's render has started."""
    with write(db):
        db.execute("UPDATE report_job SET status = 'running' WHERE id = ?", [job_id])


def mark_done(db: sqlite_utils.Database, job_id: str, pdf: bytes) -> None:
    """Store a job's PDF and mark it done."""
    with write(db):
        db.execute(
            "UPDATE report_job SET status = 'done', finished_at = ?, pdf = ?, error = NULL"
            " WHERE id = ?",
            [utcnow(), pdf, job_id],
        )


def mark_failed(db: sqlite_utils.Database, job_id: str, error: str) -> None:
    """Mark a job failed with a short reason for the lead."""
    with write(db):
        db.execute(
            "UPDATE report_job SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
            [utcnow(), error[:500], job_id],
        )


# --------------------------------------------------------------------------- report data


def audited_cases(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return the counted (submitted first) audits' case facts, in pseudonym order.

    ``moderated`` is true where moderation changed any of the audit's grades.
    """
    return [
        dict(row)
        for row in db.execute(
            "SELECT case_file.pseudonym, case_file.reference, case_file.case_type,"
            " case_file.team, case_audit.id AS audit_id, case_file.id AS case_id,"
            " EXISTS (SELECT 1 FROM moderation WHERE moderation.audit_id = case_audit.id"
            "   AND moderation.outcome = 'changed' AND moderation.question_id IS NOT NULL)"
            "   AS moderated"
            " FROM case_audit JOIN case_file ON case_file.id = case_audit.case_id"
            " WHERE case_audit.review_id = ? AND case_audit.purpose = 'first'"
            "   AND case_audit.status = 'submitted'"
            " ORDER BY case_file.pseudonym",
            [review_id],
        )
    ]


def audited_count(db: sqlite_utils.Database, review_id: str) -> int:
    """Return how many submitted first audits the review has (the cases a report counts)."""
    return db.execute(
        "SELECT count(*) FROM case_audit WHERE review_id = ? AND purpose = 'first'"
        " AND status = 'submitted'",
        [review_id],
    ).fetchone()[0]


def case_file_count(db: sqlite_utils.Database, review_id: str) -> int:
    """Return how many case files the review holds, audited or not."""
    return db.execute("SELECT count(*) FROM case_file WHERE review_id = ?", [review_id]).fetchone()[
        0
    ]


def second_audits_chosen(db: sqlite_utils.Database, review_id: str) -> int:
    """Return how many case files were chosen for an independent second audit."""
    return db.execute(
        "SELECT count(*) FROM case_file WHERE review_id = ? AND second_audit = 1", [review_id]
    ).fetchone()[0]


def case_file_facts(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return every case file's id, case type and team (the public report's case files)."""
    return [
        dict(row)
        for row in db.execute(
            "SELECT id, case_type, team FROM case_file WHERE review_id = ? ORDER BY pseudonym",
            [review_id],
        )
    ]


def alerts(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return each safeguarding alert not withdrawn: its case and whether it is recorded."""
    return [
        dict(row)
        for row in db.execute(
            "SELECT case_id, recorded_at IS NOT NULL AS recorded FROM escalation"
            " WHERE review_id = ? AND withdrawn_at IS NULL ORDER BY raised_at, id",
            [review_id],
        )
    ]


def submitted_audits(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Count submitted audits by purpose and whether the lead moderated them."""
    return [
        dict(row)
        for row in db.execute(
            "SELECT purpose, EXISTS (SELECT 1 FROM moderation WHERE moderation.audit_id ="
            " case_audit.id AND moderation.question_id IS NULL) AS moderated, count(*) AS n"
            " FROM case_audit WHERE review_id = ? AND status = 'submitted'"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            [review_id],
        )
    ]
