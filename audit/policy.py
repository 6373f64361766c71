"""Who may do what: the one place that maps role and review membership to allowed actions.

Views never check roles themselves; they ask :func:`allowed` (or use the decorators in
``audit.web_auth``) with the action they are about to perform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Person(Protocol):
    """What the policy needs to know about a user."""

    id: int
    role: str
    active: bool


@dataclass(frozen=True)
class Rule:
    """Who may perform an action: by account role, and by role within the review."""

    account_roles: frozenset[str] = frozenset()
    review_roles: frozenset[str] = frozenset()
    description: str = ""


def _rule(description: str, account: tuple[str, ...] = (), review: tuple[str, ...] = ()) -> Rule:
    return Rule(frozenset(account), frozenset(review), description)


# Admins are listed explicitly rather than bypassing the table, so the table is the truth.
RULES: dict[str, Rule] = {
    "reviews.list": _rule("See the list of reviews", ("admin", "lead", "reviewer")),
    "review.create": _rule("Create a review", ("admin", "lead")),
    "review.view": _rule("Open a review", ("admin",), ("lead", "reviewer")),
    "review.manage": _rule(
        "Set up a review: cases, members, status, moderation, findings", ("admin",), ("lead",)
    ),
    "review.score": _rule("Score case files in a review", (), ("lead", "reviewer")),
    "rubrics.view": _rule("See the rubrics and their errors", ("admin", "lead")),
    "rubrics.upload": _rule("Upload a rubric", ("admin", "lead")),
    "users.manage": _rule("Add, deactivate and reset users", ("admin",)),
    "programmes.manage": _rule(
        "See programmes and their trends, start a programme's next review", ("admin", "lead")
    ),
    "review.delete": _rule("Delete a closed review and everything in it", ("admin",)),
    "calibration.view": _rule(
        "See the review's calibration exercises you run or take part in",
        ("admin",),
        ("lead", "reviewer"),
    ),
    "calibration.manage": _rule(
        "Set up a calibration exercise, open its results, record agreed grades",
        ("admin",),
        ("lead",),
    ),
    "calibration.grade": _rule(
        "Grade a calibration exercise's cases you take part in", (), ("lead", "reviewer")
    ),
    "calibration.exemplar": _rule(
        "Read a calibrated exemplar's agreed grade and rationale", ("admin",), ("lead", "reviewer")
    ),
    "programmes.leniency": _rule(
        "See each auditor's leniency across a programme", ("admin", "lead")
    ),
    "calibration.programme_manage": _rule(
        "Set up a programme's calibration exercise, open its results, record agreed grades",
        ("admin", "lead"),
    ),
    "calibration.programme_take_part": _rule(
        "Open, grade and see the results of a programme's calibration exercise you take part"
        " in; read its exemplars from a review in the programme (checked in the view)",
        ("admin", "lead", "reviewer"),
    ),
    # For a programme's pages the review role is the person's role in any of its reviews.
    "themes.view": _rule(
        "Read a programme's list of learning themes", ("admin", "lead"), ("lead", "reviewer")
    ),
    "themes.manage": _rule(
        "Add, rename, retire learning themes; see the theme page's counts", ("admin", "lead")
    ),
    "themes.tag": _rule(
        "Tag evidence notes and conversation notes with learning themes",
        (),
        ("lead", "reviewer"),
    ),
    "themes.tag_findings": _rule("Tag findings with learning themes", ("admin",), ("lead",)),
    # Multi-agency case audit. "agency" is the review role of an agency auditor: a person who
    # belongs to an agency and audits that agency's records of the review's children.
    "agencies.manage": _rule(
        "Keep the installation's list of agencies; say which agency each person belongs to",
        ("admin",),
    ),
    "partnership.view": _rule(
        "Open a multi-agency review's page (an agency auditor sees their agency's children)",
        ("admin",),
        ("lead", "reviewer", "agency"),
    ),
    "agency.audit": _rule(
        "Audit your agency's records of the children it knows (a lead only for their own"
        " agency; checked in the view)",
        (),
        ("agency", "lead"),
    ),
    "panel.view": _rule(
        "Read a child's audit discussion: an agency auditor once it is open and only for"
        " children their agency knows (checked in the view)",
        ("admin",),
        ("lead", "agency"),
    ),
    "panel.run": _rule(
        "Open a child's panel; record the agreed judgements, learning and agency actions",
        ("admin",),
        ("lead",),
    ),
    "agency.bundle": _rule(
        "Download one agency's part of the review as a bundle (an agency auditor only their"
        " own agency's; checked in the view)",
        ("admin",),
        ("lead", "agency"),
    ),
}


def allowed(user: Person | None, action: str, review_role: str | None = None) -> bool:
    """Return whether ``user`` may perform ``action``, given their role in the review if any."""
    if user is None or not user.active:
        return False
    rule = RULES[action]
    if user.role in rule.account_roles:
        return True
    return review_role is not None and review_role in rule.review_roles


def manages_exercise(user: Person | None, review_role: str | None, programme: bool) -> bool:
    """Return whether the user runs the exercise: its review's leads; any lead for a programme."""
    action = "calibration.programme_manage" if programme else "calibration.manage"
    return allowed(user, action, review_role)


def may_see_exercise(
    user: Person | None, review_role: str | None, participant: bool, programme: bool = False
) -> bool:
    """Return whether the user may open a calibration exercise: its managers and participants."""
    return participant or manages_exercise(user, review_role, programme)


def may_see_calibration_grades(
    user: Person | None,
    review_role: str | None,
    participant: bool,
    results_open: bool,
    programme: bool = False,
) -> bool:
    """Return whether everyone's grades may be shown: nobody sees them before results open."""
    return results_open and may_see_exercise(user, review_role, participant, programme)


def calibration_grades_shown(
    user: Person | None, review_role: str | None, participant: bool, results_open: bool
) -> str:
    """Return whose calibration grades a page or download may show: "all", "own" or "none".

    Before results open a participant sees only their own grades and everyone else none,
    so a download can never break the panel's blindness.
    """
    if may_see_calibration_grades(user, review_role, participant, results_open):
        return "all"
    return "own" if participant else "none"


@dataclass(frozen=True)
class CommandLine:
    """Whoever runs a command on the instance's files: sees what an admin who takes no part sees."""

    id: int = 0
    role: str = "admin"
    active: bool = True


COMMAND_LINE = CommandLine()


def may_see_review(user: Person | None, review_role: str | None) -> bool:
    """Return whether the review exists for this user at all (others get a 404).

    An agency auditor sees that their multi-agency review exists (``partnership.view``), yet
    no page that needs ``review.view``.
    """
    return allowed(user, "review.view", review_role) or allowed(
        user, "partnership.view", review_role
    )


def may_audit_for(
    user: Person | None, review_role: str | None, user_agency: str | None, agency_id: str
) -> bool:
    """Return whether the user may change this agency's audits: its own auditors (or a lead
    of the review who belongs to it)."""
    return user_agency == agency_id and allowed(user, "agency.audit", review_role)


def may_see_agency_answers(
    user: Person | None,
    review_role: str | None,
    user_agency: str | None,
    agency_id: str,
    *,
    submitted: bool,
    panel_open: bool,
    knows_child: bool,
) -> bool:
    """Return whether one agency's answers about a child may be shown to the user.

    The agency's own people always see them. Until the child's panel opens no other agency
    does (as calibration grades are blind); the lead reads what an agency has submitted, to
    prepare the discussion, but never a draft. Once the panel is open everyone at it (the
    lead, and the auditors of every agency that knows the child) sees every answer.
    """
    if user_agency == agency_id and allowed(user, "agency.audit", review_role):
        return True
    if allowed(user, "panel.run", review_role):
        return submitted or panel_open
    return panel_open and knows_child and allowed(user, "panel.view", review_role)
