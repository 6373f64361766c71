"""Create a review and build its team: the rules the web forms and the command line share.

The pages and ``case-audit review new`` / ``review member add`` call these, so a review made
by a script is checked exactly as one made by clicking.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from audit.caselist import parse_date
from audit.data import programmes, users
from audit.data import reviews as review_data
from audit.rubric import Rubric

__all__ = ["MemberAdded", "SetupProblem", "add_member", "new_review", "review_dates"]


class SetupProblem(ValueError):
    """A value given for a new review or member cannot be used; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _iso(field: str, text: str | None) -> str | None:
    """Read 27/10/2026 or 2026-10-27 as ISO text; None when blank."""
    text = (text or "").strip()
    if not text:
        return None
    parsed = parse_date(text)
    if parsed is None:
        raise SetupProblem(field, "Enter real dates, for example 27/10/2026")
    return parsed.isoformat()


def review_dates(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """Return the review's start and end dates as ISO text, refusing unreal or reversed ones."""
    start_iso, end_iso = _iso("start_date", start), _iso("end_date", end)
    if start_iso and end_iso and end_iso < start_iso:
        raise SetupProblem("end_date", "The end date must be on or after the start date")
    return start_iso, end_iso


def new_review(
    db: sqlite_utils.Database,
    *,
    title: str,
    host_organisation: str,
    kind: str,
    rubric: Rubric,
    start: str | None = None,
    end: str | None = None,
    programme_id: str | None = None,
    lead_id: int | None = None,
    by: int | None = None,
) -> review_data.Review:
    """Check and create a review with its own copy of the rubric, its lead on the team."""
    if not title.strip():
        raise SetupProblem("title", "Enter a title for the review")
    if not host_organisation.strip():
        raise SetupProblem("host_organisation", "Enter the host organisation")
    if kind not in review_data.KINDS:
        raise SetupProblem(
            "kind", f"The kind of review must be one of {', '.join(review_data.KINDS)}"
        )
    start_iso, end_iso = review_dates(start, end)
    if programme_id:
        try:
            programmes.get(db, programme_id)
        except programmes.ProgrammeNotFound:
            raise SetupProblem("programme", f"There is no programme {programme_id!r}") from None
    review = review_data.create(
        db,
        title=title.strip(),
        host_organisation=host_organisation.strip(),
        kind=kind,
        rubric=rubric,
        start_date=start_iso,
        end_date=end_iso,
        programme_id=programme_id or None,
        by=by,
    )
    if lead_id is not None:
        review_data.add_member(db, review.id, lead_id, "lead", by=by)
    return review


@dataclass(frozen=True)
class MemberAdded:
    """Who joined a review and as what; ``note`` says why the role differs from the one asked."""

    person: users.User
    role: str
    note: str | None


def add_member(
    db: sqlite_utils.Database,
    review_id: str,
    person: users.User | None,
    role: str,
    by: int | None = None,
) -> MemberAdded:
    """Add an active user to a review; a reviewer account joins as a reviewer even if asked lead."""
    if person is None or not person.active:
        raise SetupProblem("user", "Choose a person with an active account")
    if role not in review_data.MEMBER_ROLES:
        raise SetupProblem("role", f"The role must be one of {', '.join(review_data.MEMBER_ROLES)}")
    note = None
    if role == "lead" and person.role == "reviewer":
        note = f"{person.display_name} has a reviewer account, so joins as a reviewer."
        role = "reviewer"
    review_data.add_member(db, review_id, person.id, role, by=by)
    return MemberAdded(person, role, note)
