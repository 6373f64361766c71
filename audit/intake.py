"""Bring case files into a review: import a whole list, or draw a sample from one.

Shared by the browser and the command line so both check, reject and record the same way.
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlite_utils

from audit import caselist
from audit.data import programmes, reviews
from audit.data.db import utcnow


@dataclass(frozen=True)
class ImportResult:
    """What an import added and which rows it skipped as already in the review."""

    added: int
    skipped: tuple[caselist.CaseRow, ...]


def _rows(rows: Iterable[caselist.CaseRow]) -> list[dict]:
    return [
        {
            "reference": row.reference,
            "case_type": row.case_type,
            "team": row.team,
            "worker_role": row.worker_role,
            "age_band": row.age_band,
            "dates": dict(row.dates),
        }
        for row in rows
    ]


def months_ago(months: int, today: date | None = None) -> date:
    """Return the date ``months`` calendar months before today (clamped to month ends)."""
    today = today or date.today()
    month_index = today.year * 12 + today.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(today.day, last_day))


def import_cases(
    db: sqlite_utils.Database,
    review: reviews.Review,
    data: bytes,
    filename: str,
    *,
    skip_existing: bool = False,
    by: int | None = None,
) -> ImportResult:
    """Check a case list against the review's rubric and add it whole, or raise and add nothing.

    Raises :class:`caselist.CaseListInvalid` listing every problem by row and column.
    """
    parsed = caselist.read_case_list(data, filename, review.rubric)
    to_add, skipped = caselist.check_duplicates(
        parsed, reviews.references(db, review.id), skip_existing
    )
    reviews.add_case_files(db, review.id, _rows(to_add.rows), by=by)
    return ImportResult(added=len(to_add.rows), skipped=tuple(skipped))


def sample_cases(
    db: sqlite_utils.Database,
    review: reviews.Review,
    data: bytes,
    filename: str,
    *,
    size: int,
    stratify_by: str | None = None,
    seed: int | None = None,
    exclude_months: int = 0,
    by: int | None = None,
) -> caselist.Sample:
    """Draw a reproducible sample and keep only the drawn cases, recording how it was drawn.

    Cases already in the review are left out of the population, so a second draw tops up
    rather than duplicating. Raises CaseListInvalid for a bad file, ValueError for a bad size.
    """
    parsed = caselist.read_case_list(data, filename, review.rubric)
    population, _ = caselist.check_duplicates(
        parsed, reviews.references(db, review.id), skip_existing=True
    )
    excluded = 0
    if exclude_months > 0:
        recent = programmes.recently_audited(db, months_ago(exclude_months).isoformat())
        population, left_out = caselist.check_duplicates(population, recent, skip_existing=True)
        excluded = len(left_out)
    if seed is None:
        seed = secrets.randbelow(2**31)
    sample = caselist.draw_sample(population, size, stratify_by, seed)
    reviews.add_case_files(db, review.id, _rows(sample.rows), by=by)
    record = {
        **sample.record(),
        "drawn_at": utcnow(),
        "exclude_months": exclude_months,
        "excluded_recently_audited": excluded,
    }
    history = list(review.settings.get("samples", []))
    reviews.update_settings(
        db, review.id, {"sampling": record, "samples": [*history, record]}, by=by
    )
    return sample
