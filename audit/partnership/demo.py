"""The demo's multi-agency case audit: neglect, six children, four agencies, four panels held.

Everything is invented and deterministic from a seed. An earlier neglect audit of the same
programme (five children, every panel held) gives the trend a first point. In the current
audit every agency has submitted except education for the sixth child, so five panels are
open and four were held, with learning tagged by theme and actions owned by agencies; the
police found one child not adequately safeguarded and the escalation is recorded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import sqlite_utils

from audit.data import agencies as agency_data
from audit.data import agency_audits, panels, programmes, reviews, users
from audit.data import findings as finding_data
from audit.data import themes as theme_data
from audit.data.db import write
from audit.rubric import Rubric, RubricLibrary, agency_part, panel_part
from audit.scoring import Answer, adverse, applicable

RUBRIC_ID = "multi-agency-case-audit"
HOST = "Example Borough Safeguarding Children Partnership"
PROGRAMME_TITLE = "Multi-agency case audits"
EARLIER_TITLE = "Multi-agency audit: neglect (spring 2026)"
TITLE = "Multi-agency audit: neglect (autumn 2026)"

# (username, display name, agency)
PEOPLE = [
    ("social1", "Demo Social Care Auditor", "childrens_social_care"),
    ("police1", "Demo Police Auditor", "police"),
    ("health1", "Demo Health Visiting Auditor", "health_visiting"),
    ("school1", "Demo Education Auditor", "education"),
]
AGENCIES = [agency for _u, _n, agency in PEOPLE]
REF_PREFIX = {
    "childrens_social_care": "CSC-",
    "police": "PN-",
    "health_visiting": "HV-",
    "education": "EDU-",
}
# (case type, agencies that know the child) for the six children of the current audit.
CHILDREN = [
    ("cp", ["childrens_social_care", "police", "health_visiting", "education"]),
    ("cp", ["childrens_social_care", "police", "education"]),
    ("cin", ["childrens_social_care", "health_visiting", "education"]),
    ("early_help", ["police", "health_visiting", "education"]),
    ("cin", ["childrens_social_care", "police", "health_visiting", "education"]),
    ("cp", ["childrens_social_care", "police", "health_visiting", "education"]),
]
EARLIER_CHILDREN = [
    ("cp", ["childrens_social_care", "police", "health_visiting"]),
    ("cin", ["childrens_social_care", "health_visiting", "education"]),
    ("early_help", ["health_visiting", "education"]),
    ("cp", ["childrens_social_care", "police", "education"]),
    ("cin", ["childrens_social_care", "police", "health_visiting", "education"]),
]
# How generously each agency grades its own practice (the panel tends to sit in between).
LEANING = {"childrens_social_care": 0.55, "police": 0.35, "health_visiting": 0.7, "education": 0.6}
THEMES = [
    ("Cumulative harm of neglect", "Seeing the pattern over time, not incident by incident."),
    ("Information sharing", "Telling partners what we know, in time."),
    ("Voice of the child", "The child seen, heard and their daily life understood."),
    ("Escalation between agencies", "Using the escalation policy when progress stalls."),
    ("Was not brought", "Missed health appointments treated as a sign of neglect."),
]
NOTES = {
    "good": "The record shows this was done well and in good time.",
    "requires_improvement": "The record shows this happened, but late or only in part.",
    "inadequate": "The record shows this did not happen when it should have.",
    "no": "Nothing in the record shows this happened ({what}).",
}
PANEL_TEXT = {
    "journey_summary": [
        "Neglect was visible to school and health visiting for over a year before a referral;"
        " once the child protection plan started, agencies worked together well.",
        "Repeated police call-outs for domestic abuse were not linked with poor school"
        " attendance until the strategy discussion; the plan is now improving home conditions.",
        "Early help support stalled when the family disengaged; health visiting escalated and"
        " a child in need assessment followed.",
        "Missed health appointments were recorded as did not attend rather than was not"
        " brought; education's concerns were shared late.",
        "A consistent social worker and a clear plan made a difference; the mother now attends"
        " the nursery's parenting group.",
    ],
    "what_worked_well": [
        "The core group met on time and every agency reported progress against the plan.",
        "The designated safeguarding lead kept a clear chronology that the panel relied on.",
    ],
    "what_must_change": [
        "Agencies to use the neglect assessment tool at the first sign of cumulative harm.",
        "Missed appointments to be recorded and followed up as was not brought.",
        "Police notifications to reach the school within a day.",
        "Escalate when a plan drifts, using the partnership's escalation policy.",
    ],
}
LEARNING = [
    (0, "Cumulative harm was missed because each agency saw single incidents.", [0, 2]),
    (0, "Information held by school was not shared until the strategy discussion.", [1]),
    (
        1,
        "Police notifications reached school late, so the child's absences were not linked.",
        [1, 3],
    ),
    (2, "Health visiting escalated well when early help stalled: a model to share.", [3]),
    (3, "Missed appointments were recorded as did not attend instead of was not brought.", [4, 0]),
    (3, "The child's own view of home life was not recorded by any agency.", [2]),
]
ACTIONS = [
    (
        0,
        "childrens_social_care",
        "Brief all teams on the neglect assessment tool and audit its use.",
        -20,
    ),
    (
        1,
        "police",
        "Share domestic abuse notifications with the child's school within 24 hours.",
        30,
    ),
    (
        3,
        "health_visiting",
        "Adopt was not brought wording and follow-up in all health records.",
        45,
    ),
    (
        0,
        "education",
        "Designated safeguarding leads to record the child's voice at each concern.",
        60,
    ),
    (2, "childrens_social_care", "Remind managers of the escalation policy in supervision.", 14),
]


def _answers(
    part: Rubric,
    case_type: str,
    rng: random.Random,
    leaning: float,
    adverse_now: bool = False,
) -> dict[str, Answer]:
    """Answer a part of the tool for one child: grades around a leaning, checks mostly met."""
    out: dict[str, Answer] = {}
    for _section, questions in applicable(part, case_type):
        grade = _grade(rng, leaning)
        for question in questions:
            what = " ".join(question.text.split()).rstrip("?").lower()
            if question.type == "grade":
                value = grade if question.id != part.overall.question else _grade(rng, leaning)
                note = "" if value in ("outstanding",) else NOTES.get(value, NOTES["good"])
                out[question.id] = Answer(value, False, note.format(what=what) if note else "")
            elif question.type == "yes_no":
                if question.critical:
                    value = "no" if adverse_now else "yes"
                elif question.allow_na and rng.random() < 0.12:
                    out[question.id] = Answer(None, True, "")
                    continue
                else:
                    value = "yes" if rng.random() < 0.45 + leaning * 0.5 else "no"
                note = NOTES["no"].format(what=what) if value == "no" else ""
                if question.critical and value == "no":
                    note = (
                        "Three incidents in a month with the child present and no referral made;"
                        " the child is living with an adult assessed as high risk."
                    )
                out[question.id] = Answer(value, False, note)
            else:
                texts = PANEL_TEXT.get(question.id) or ["Agreed at the audit discussion."]
                out[question.id] = Answer(rng.choice(texts), False, "")
    return out


def _grade(rng: random.Random, leaning: float) -> str:
    roll = rng.random() * 0.6 + leaning * 0.4
    if roll > 0.78:
        return "outstanding"
    if roll > 0.45:
        return "good"
    if roll > 0.22:
        return "requires_improvement"
    return "inadequate"


def _panel_answers(
    part: Rubric, case_type: str, audits: list[dict[str, Answer]], rng: random.Random
) -> dict[str, Answer]:
    """Agree an answer per question: the middle grade of the agencies', the majority yes/no."""
    order = [level.id for level in part.scale.levels]
    out = _answers(part, case_type, rng, 0.5)
    for question in part.questions:
        given = [
            a[question.id].effective for a in audits if question.id in a and a[question.id].answered
        ]
        given = [v for v in given if v and v != "na"]
        if not given:
            continue
        if question.type == "grade":
            middle = sorted(given, key=order.index)[len(given) // 2]
            out[question.id] = Answer(
                middle, False, "Agreed after hearing each agency's view of its own records."
            )
        elif question.type == "yes_no":
            value = "yes" if question.critical else max(set(given), key=given.count)
            note = "" if value == "yes" else "The panel agreed this did not happen in time."
            if question.critical:
                note = "Since the escalation a strategy discussion was held and a plan is in place."
            out[question.id] = Answer(value, False, note)
    return out


def _audit(
    db: sqlite_utils.Database,
    review: reviews.Review,
    case: dict[str, Any],
    agency_id: str,
    by: int,
    rng: random.Random,
    *,
    submit: bool = True,
    adverse_now: bool = False,
    record_alert: Callable[[str], None] | None = None,
) -> dict[str, Answer]:
    part = agency_part(review.rubric, agency_id)
    answers = _answers(part, case["case_type"], rng, LEANING[agency_id], adverse_now)
    if not submit:
        answers = dict(list(answers.items())[:6])
    audit_id = agency_audits.start(db, review.id, case["id"], agency_id, by=by)
    critical = [q.id for q in part.critical_questions()]
    bad = [q.id for q in adverse(part, case["case_type"], answers)]
    result = agency_audits.save(
        db,
        audit_id,
        expected_version=1,
        answers=answers,
        sections_na=(),
        adverse_questions=bad,
        critical_questions=critical,
        by=by,
        submit=submit,
    )
    if result.open_escalations and record_alert is not None:
        record_alert(result.open_escalations[0])
        agency_audits.save(
            db,
            audit_id,
            expected_version=result.version,
            answers=answers,
            sections_na=(),
            adverse_questions=bad,
            critical_questions=critical,
            by=by,
            submit=submit,
        )
    return answers


def _hold(
    db: sqlite_utils.Database,
    review: reviews.Review,
    case: dict[str, Any],
    said: list[dict[str, Answer]],
    held_on: date,
    lead_id: int,
    rng: random.Random,
) -> None:
    part = panel_part(review.rubric)
    answers = _panel_answers(part, case["case_type"], said, rng)
    panels.open_panel(db, review.id, case["id"], by=lead_id)
    panel = panels.get(db, review.id, case["id"])
    assert panel is not None
    panels.save(
        db,
        review.id,
        case["id"],
        expected_version=panel.version,
        answers=answers,
        held_on=held_on.isoformat(),
        adverse_questions=[],
        critical_questions=[q.id for q in part.critical_questions()],
        by=lead_id,
        agree=True,
    )


def _reference(agency_id: str, n: int) -> str:
    """An invented reference in each agency's own style (different numbers per agency)."""
    return f"{REF_PREFIX[agency_id]}{n * (37 + 11 * AGENCIES.index(agency_id)) % 9000 + 1000}"


def _review(
    db: sqlite_utils.Database,
    rubric: Rubric,
    *,
    title: str,
    start: date,
    programme_id: str,
    lead_id: int,
    children: list[tuple[str, list[str]]],
    auditors: dict[str, int],
    reference_base: int,
) -> tuple[reviews.Review, list[dict[str, Any]]]:
    review = reviews.create(
        db,
        title=title,
        host_organisation=HOST,
        kind="thematic",
        rubric=rubric,
        start_date=start.isoformat(),
        end_date=(start + timedelta(days=28)).isoformat(),
        programme_id=programme_id,
        by=lead_id,
    )
    reviews.add_member(db, review.id, lead_id, "lead", by=lead_id)
    for user_id in auditors.values():
        agency_audits.add_auditor(db, review.id, user_id, by=lead_id)
    cases = []
    for n, (case_type, known) in enumerate(children, start=1):
        case_id = agency_audits.add_child(
            db,
            review.id,
            reference=f"MACA-{reference_base + n:04d}",
            case_type=case_type,
            agencies={a: _reference(a, reference_base + n) for a in known},
            by=lead_id,
        )
        cases.append(reviews.case_file(db, case_id, review.id))
    reviews.set_status(db, review.id, "in_progress", by=lead_id)
    return reviews.get(db, review.id), cases


def seed(
    db: sqlite_utils.Database, library: RubricLibrary, lead_id: int, password: Callable[[], str]
) -> list[tuple[str, str, str]]:
    """Seed the partnership's two neglect audits; return the agency auditors' sign-in details.

    One transaction for the lot: every save would otherwise wait for its own disk sync, and
    the demo seeds each time a browser test's server starts.
    """
    with write(db):
        return _seed(db, library, lead_id, password)


def _seed(
    db: sqlite_utils.Database, library: RubricLibrary, lead_id: int, password: Callable[[], str]
) -> list[tuple[str, str, str]]:
    rubric = library.get(RUBRIC_ID)
    rng = random.Random(2026)
    credentials = []
    auditors: dict[str, int] = {}
    for username, name, agency_id in PEOPLE:
        secret = password()
        person = users.create(db, username, secret, "reviewer", display_name=name)
        agency_data.set_user_agency(db, person.id, agency_id, by=lead_id)
        auditors[agency_id] = person.id
        credentials.append((username, secret, "reviewer"))
    programme_id = programmes.create(
        db,
        title=PROGRAMME_TITLE,
        kind="thematic",
        by=lead_id,
        description="The partnership's themed multi-agency case audits, twice a year.",
    )
    theme_ids = [
        theme_data.create(db, name=name, description=text, programme_id=programme_id, by=lead_id)
        for name, text in THEMES
    ]
    # Actions fall due around today, so the demo always shows one overdue and others to come.
    today = date.today()

    earlier, cases = _review(
        db,
        rubric,
        title=EARLIER_TITLE,
        start=date(2026, 4, 13),
        programme_id=programme_id,
        lead_id=lead_id,
        children=EARLIER_CHILDREN,
        auditors=auditors,
        reference_base=100,
    )
    for case, (_type, known) in zip(cases, EARLIER_CHILDREN, strict=True):
        said = [_audit(db, earlier, case, a, auditors[a], rng) for a in known]
        _hold(db, earlier, case, said, date(2026, 5, 11), lead_id, rng)
    reviews.set_status(db, earlier.id, "moderation", by=lead_id)
    reviews.set_status(db, earlier.id, "complete", by=lead_id)

    review, cases = _review(
        db,
        rubric,
        title=TITLE,
        start=date(2026, 10, 5),
        programme_id=programme_id,
        lead_id=lead_id,
        children=CHILDREN,
        auditors=auditors,
        reference_base=200,
    )

    def recorded(alert_id: str) -> None:
        agency_audits.record_escalation(
            db,
            alert_id,
            review.id,
            told_who="Detective sergeant, Public Protection Unit, and the children's social care"
            " front door",
            told_at="2026-10-13T09:30:00Z",
            agreed_action="Strategy discussion the same afternoon; child protection enquiries"
            " began.",
            by=auditors["police"],
        )

    said_by_case = []
    for index, (case, (_type, known)) in enumerate(zip(cases, CHILDREN, strict=True)):
        said = []
        for agency_id in known:
            last = index == len(cases) - 1 and agency_id == "education"
            said.append(
                _audit(
                    db,
                    review,
                    case,
                    agency_id,
                    auditors[agency_id],
                    rng,
                    submit=not last,
                    adverse_now=index == 1 and agency_id == "police",
                    record_alert=recorded,
                )
            )
        said_by_case.append(said)
    for index in range(4):
        _hold(
            db,
            review,
            cases[index],
            said_by_case[index],
            date(2026, 11, 2 + index),
            lead_id,
            rng,
        )
    for index, text, themes in LEARNING:
        panels.add_learning(
            db,
            review.id,
            cases[index]["id"],
            text=text,
            theme_ids=[theme_ids[t] for t in themes],
            by=lead_id,
        )
    names = agency_data.names(db)
    for index, agency_id, what, due in ACTIONS:
        panels.add_action(
            db,
            review.id,
            cases[index]["id"],
            agency_id=agency_id,
            agency_name=names[agency_id],
            what=what,
            due_date=(today + timedelta(days=due)).isoformat(),
            by=lead_id,
        )
    finding_data.set_executive_summary(
        db,
        review.id,
        "Six children living with neglect were audited by the four agencies that knew them."
        " Where agencies shared what they knew early, plans worked; where each agency saw single"
        " incidents, the cumulative harm was missed for months.\n\nThe partnership will act on"
        " information sharing, was not brought, and using the neglect assessment tool.",
        by=lead_id,
    )
    return credentials
