"""Seed the demo review: synthetic cases, a lead and three reviewers, deterministic from a seed.

Every name and reference here is invented. Passwords are generated afresh for each instance
and written to ``demo-credentials.txt`` in the instance folder (owner-only), never committed.
"""

from __future__ import annotations

import os
import random
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from audit.data import reviews, users
from audit.rubric import RubricLibrary

DEMO_SEED = 2012
DEMO_TITLE = "Example Borough peer safeguarding health check"
DEMO_RUBRIC = "peer-safeguarding-health-check"
DEMO_HOST = "Example Borough Council"

# (username, display name, account role, role in the demo review)
DEMO_PEOPLE = [
    ("admin", "Demo Administrator", "admin", None),
    ("lead", "Demo Lead Reviewer", "lead", "lead"),
    ("reviewer1", "Demo Reviewer One", "reviewer", "reviewer"),
    ("reviewer2", "Demo Reviewer Two", "reviewer", "reviewer"),
    ("reviewer3", "Demo Reviewer Three", "reviewer", "reviewer"),
]

# A realistic mix for a 40-case health check: more statutory than early help.
CASE_MIX = [
    ("early_help", 6),
    ("referral_assessment", 8),
    ("cin", 8),
    ("cp", 9),
    ("cla", 6),
    ("care_leaver", 3),
]
TEAMS = {
    "early_help": ["Early Help North", "Early Help South"],
    "referral_assessment": ["Assessment Team 1", "Assessment Team 2"],
    "cin": ["Family Support East", "Family Support West"],
    "cp": ["Family Support East", "Family Support West"],
    "cla": ["Children in Care"],
    "care_leaver": ["Leaving Care"],
}
WORKER_ROLES = ["Social worker", "Senior practitioner", "Newly qualified social worker"]
AGE_BANDS = ["0-4", "5-9", "10-15", "16-17", "18-21"]


@dataclass(frozen=True)
class DemoCredential:
    """A demo user's sign-in details."""

    username: str
    password: str
    role: str


class DemoAlreadySeeded(Exception):
    """The instance already holds data, so the demo is not seeded over it."""


def _password() -> str:
    return "demo-" + secrets.token_urlsafe(9)


def _case_dates(rng: random.Random, case_type: str, start: date) -> dict[str, str]:
    """Make plausible, sometimes late, sometimes missing dates for timeliness measures."""
    referral = start - timedelta(days=rng.randint(40, 400))
    assessment_start = referral + timedelta(days=rng.randint(0, 3))
    completed = assessment_start + timedelta(days=rng.choice([6, 9, 12, 14, 20, 30, 45, 52]))
    dates = {
        "referral_date": referral,
        "assessment_start_date": assessment_start,
        "assessment_completed_date": completed,
    }
    if case_type in {"cin", "cp", "cla", "care_leaver"}:
        dates["plan_start_date"] = completed + timedelta(days=rng.randint(3, 25))
    if case_type == "cp":
        strategy = referral + timedelta(days=rng.randint(0, 2))
        dates["strategy_discussion_date"] = strategy
        dates["initial_conference_date"] = strategy + timedelta(days=rng.choice([10, 14, 19, 24]))
    last_supervision = start - timedelta(days=rng.randint(1, 40))
    dates["last_supervision_date"] = last_supervision
    dates["previous_supervision_date"] = last_supervision - timedelta(
        days=rng.choice([14, 21, 28, 35, 49])
    )
    if rng.random() < 0.1:
        dates.pop("assessment_completed_date")  # not recorded: a realistic gap
    return {key: value.isoformat() for key, value in dates.items()}


def demo_cases(seed: int = DEMO_SEED, start: date = date(2026, 10, 27)) -> list[dict]:
    """Return the 40 synthetic demo case files, the same every time for the same seed."""
    rng = random.Random(seed)
    cases = []
    used: set[str] = set()
    for case_type, count in CASE_MIX:
        for _ in range(count):
            reference = f"EXB-{rng.randint(100000, 999999)}"
            while reference in used:
                reference = f"EXB-{rng.randint(100000, 999999)}"
            used.add(reference)
            cases.append(
                {
                    "reference": reference,
                    "case_type": case_type,
                    "team": rng.choice(TEAMS[case_type]),
                    "worker_role": rng.choice(WORKER_ROLES),
                    "age_band": (
                        "18-21" if case_type == "care_leaver" else rng.choice(AGE_BANDS[:4])
                    ),
                    "dates": _case_dates(rng, case_type, start),
                }
            )
    rng.shuffle(cases)
    return cases


def seed(db: sqlite_utils.Database, library: RubricLibrary, instance: Path) -> list[DemoCredential]:
    """Seed the demo into an empty database and return the sign-in details."""
    if users.count(db) or db.execute("SELECT count(*) FROM review").fetchone()[0]:
        raise DemoAlreadySeeded("the instance already has users or reviews")
    credentials = []
    people: dict[str, users.User] = {}
    for username, name, role, _ in DEMO_PEOPLE:
        password = _password()
        people[username] = users.create(db, username, password, role, display_name=name)
        credentials.append(DemoCredential(username, password, role))
    lead = people["lead"]
    rubric = library.get(DEMO_RUBRIC)
    # The programme comes first so that the peer review is the newest review in the lists.
    november = seed_programme(db, rubric, people, random.Random(seed_value(DEMO_SEED, "programme")))
    # The partnership's multi-agency audits, before the peer review so it stays the newest.
    from audit.partnership import demo as partnership_demo

    for username, password, role in partnership_demo.seed(db, library, lead.id, _password):
        credentials.append(DemoCredential(username, password, role))
    review = reviews.create(
        db,
        title=DEMO_TITLE,
        host_organisation=DEMO_HOST,
        kind="peer_review",
        rubric=rubric,
        start_date="2026-10-27",
        end_date="2026-10-29",
        by=lead.id,
    )
    for username, _, _, review_role in DEMO_PEOPLE:
        if review_role:
            reviews.add_member(db, review.id, people[username].id, review_role, by=lead.id)
    reviewer_ids = [people[f"reviewer{n}"].id for n in (1, 2, 3)]
    cases = demo_cases()
    for index, case in enumerate(cases):
        case["assigned_to"] = reviewer_ids[index % len(reviewer_ids)]
    reviews.add_case_files(db, review.id, cases, by=lead.id)
    reviews.set_status(db, review.id, "in_progress", by=lead.id)
    seed_audits(db, reviews.get(db, review.id), random.Random(seed_value(DEMO_SEED, "audits")))
    seed_oversight(
        db, reviews.get(db, review.id), lead.id, random.Random(seed_value(DEMO_SEED, "oversight"))
    )
    seed_calibration(db, reviews.get(db, review.id), [lead.id, *reviewer_ids], lead.id)
    # Reviewer three takes part though not in the programme's reviews; reviewer one, last,
    # grades a step above the panel, as their moderated audits show.
    seed_calibration(
        db,
        november,
        [lead.id, reviewer_ids[1], reviewer_ids[2], reviewer_ids[0]],
        lead.id,
        title=PROGRAMME_PANEL_TITLE,
        programme_id=november.programme_id,
    )
    seed_programme_moderation(db, lead.id, reviewer_ids[0])
    seed_collaboration(
        db,
        reviews.get(db, review.id),
        lead.id,
        random.Random(seed_value(DEMO_SEED, "collaboration")),
    )
    seed_themes(db, lead.id)
    write_credentials(instance, credentials)
    return credentials


PROGRAMME_TITLE = "Monthly practice audit"
PROGRAMME_PANEL_TITLE = "Programme calibration before the November audits"
DEMO_ACTIONS = [
    "Team managers to check this in every supervision and record the decision",
    "Practice workshop for all social workers, led by the principal social worker",
    "Add a prompt to the case recording template and check it in monthly dip samples",
    "Heads of service to review a sample each month with team managers",
    "Refresh the practice standard and brief every team at the next team meeting",
    "Pair newly qualified workers with a senior practitioner for case recording",
]
PROGRAMME_MONTHS = [
    ("August 2026", "2026-08-03", "2026-08-14", 0.0),
    ("September 2026", "2026-09-01", "2026-09-11", 0.25),
    ("October 2026", "2026-10-01", "2026-10-12", 0.5),
]


def seed_programme(  # type: ignore[no-untyped-def]
    db: sqlite_utils.Database, rubric, people: dict, rng: random.Random
) -> reviews.Review:
    """Seed a self-audit programme: three completed monthly reviews and the next under way.

    Practice improves month by month (with honest intervals on the trend); each month's
    areas for development carry actions, one of them overdue; November's review was started
    from October's in one step and re-audits two of October's cases.
    """
    from datetime import date, timedelta

    from audit import analysis, programme
    from audit import findings as findings_domain
    from audit.data import actions, audits, programmes
    from audit.data import findings as finding_data

    lead = people["lead"]
    reviewer_ids = [people["reviewer1"].id, people["reviewer2"].id]
    programme_id = programmes.create(
        db,
        title=PROGRAMME_TITLE,
        kind="self_audit",
        description="Fifteen open cases drawn at random each month, audited by team managers.",
        by=lead.id,
    )
    today = date.today()
    previous = None
    for month_index, (month, start, end, lift) in enumerate(PROGRAMME_MONTHS):
        review = reviews.create(
            db,
            title=f"{PROGRAMME_TITLE}, {month}",
            host_organisation=DEMO_HOST,
            kind="self_audit",
            rubric=rubric,
            start_date=start,
            end_date=end,
            programme_id=programme_id,
            by=lead.id,
            settings={
                "sampling_rules": {"size": 15, "stratify_by": "case_type", "exclude_months": 12}
            },
        )
        reviews.add_member(db, review.id, lead.id, "lead", by=lead.id)
        for reviewer in reviewer_ids:
            reviews.add_member(db, review.id, reviewer, "reviewer", by=lead.id)
        cases = demo_cases(seed=DEMO_SEED + 100 + month_index)[:15]
        for index, case in enumerate(cases):
            case["reference"] = f"EXM-{month_index + 1}{case['reference'][4:]}"
            case["assigned_to"] = reviewer_ids[index % 2]
        reviews.add_case_files(db, review.id, cases, by=lead.id)
        reviews.set_status(db, review.id, "in_progress", by=lead.id)
        for case in reviews.case_files(db, review.id):
            audit_id = audits.start(db, case["id"], case["assigned_to"])
            answers = demo_answers(rubric, case["case_type"], rng, complete=True, lift=lift)
            audits.save(
                db,
                audit_id,
                expected_version=1,
                answers=answers,
                sections_na=(),
                feedback={},
                adverse_questions=[],
                critical_questions=[],
                by=case["assigned_to"],
                submit=True,
            )
        review = reviews.get(db, review.id)
        agg = analysis.aggregate(db, review)
        development = [
            s for s in findings_domain.suggest(agg) if s.kind == "development" and not s.critical
        ][:2]
        for number, suggestion in enumerate(development):
            finding_id = finding_data.add_from_suggestion(
                db, review.id, suggestion, status="accepted", text=suggestion.text, by=lead.id
            )
            due = (
                today - timedelta(days=20)
                if month_index == 2 and number == 0
                else today + timedelta(days=30 * (number + 1))
            )
            what = DEMO_ACTIONS[(month_index * 2 + number) % len(DEMO_ACTIONS)]
            action_id = actions.add(
                db,
                review.id,
                finding_id=finding_id,
                what=what,
                owner="Head of Service",
                due_date=due.isoformat(),
                by=lead.id,
            )
            status = "done" if month_index == 0 else "in_progress"
            actions.update(
                db,
                review.id,
                action_id,
                status=status,
                what=what,
                owner="Head of Service",
                due_date=due.isoformat(),
                by=lead.id,
            )
            actions.add_note(
                db,
                review.id,
                action_id,
                note="Discussed at the practice meeting; guidance sent to team managers.",
                noted_on=end,
                by=lead.id,
            )
        for status in ("moderation", "complete"):
            reviews.set_status(db, review.id, status, by=lead.id)
        previous = reviews.get(db, review.id)
    assert previous is not None
    november = programme.start_next(
        db,
        previous,
        title=f"{PROGRAMME_TITLE}, November 2026",
        rubric=rubric,
        start_date="2026-11-02",
        end_date="2026-11-13",
        by=lead.id,
    )
    earlier = programmes.earlier_audits(db, programme_id, november.id)[:2]
    programme.add_re_audits(db, november, [a["audit_id"] for a in earlier], by=lead.id)
    reviews.share_evenly(db, november.id, by=lead.id)
    reviews.set_status(db, november.id, "in_progress", by=lead.id)
    return reviews.get(db, november.id)


def seed_value(seed: int, purpose: str) -> int:
    """Derive a sub-seed so each part of the demo is stable when another part changes."""
    return seed * 1000 + sum(ord(ch) for ch in purpose)


GRADE_NOTES = {
    "outstanding": "Exceptional, reflective practice; the child drives every decision.",
    "good": "Clear analysis of risk and need; actions are timely and reviewed.",
    "requires_improvement": "Some drift between reviews; plans lack measurable outcomes.",
    "inadequate": "Risks not analysed; no evidence that actions were followed up.",
}
# Where the demo's practice is weaker, so the suggested findings include areas for
# development like the seed's (plans clear on expectations, supervision, impact).
DEMO_WEAK_CHECKS = {
    "cp_plan_expectations",
    "cin_plan_purposeful",
    "supervision_regular",
    "supervision_reflective",
    "difference_made",
    "progress_measured",
}
DEMO_WEAK_SECTIONS = {"management_oversight", "impact"}
NO_NOTES = [
    "Not evidenced on the file.",
    "Recorded late and without analysis.",
    "Evidence is partial: only one agency's view is recorded.",
]


def _grade(rng: random.Random, leaning: float, bonus: float = 0.0) -> str:
    """Pick a grade, leaning towards better practice for higher ``leaning`` (and ``bonus``)."""
    roll = rng.random() * 0.7 + leaning * 0.3 + bonus
    if roll > 0.78:
        return "outstanding"
    if roll > 0.42:
        return "good"
    if roll > 0.14:
        return "requires_improvement"
    return "inadequate"


def demo_answers(  # type: ignore[no-untyped-def]
    rubric, case_type: str, rng: random.Random, complete: bool = True, lift: float = 0.0
) -> dict:
    """Make a plausible set of answers for one case: grades, yes/no checks, evidence.

    ``lift`` (0 to 1) shifts practice towards better grades, to show a programme improving.
    """
    from audit.scoring import Answer, applicable

    leaning = min(rng.random() + lift, 1.0)
    answers: dict[str, Answer] = {}
    grades: list[str] = []
    for _section, questions in applicable(rubric, case_type):
        if not complete and rng.random() < 0.5:
            continue
        for question in questions:
            if question.critical:
                answers[question.id] = Answer("yes" if question.good_answer == "yes" else "no")
                continue
            if question.type == "grade":
                if question.id == rubric.overall.question and grades:
                    values = sorted(rubric.scale.level(g).value for g in grades)
                    value = rubric.scale.round_down(values[(len(values) - 1) // 2]).id
                else:
                    weak = rubric.section_of(question.id).id in DEMO_WEAK_SECTIONS
                    value = _grade(rng, leaning * (0.3 if weak else 1.0), bonus=lift * 0.12)
                    grades.append(value)
                answers[question.id] = Answer(value, evidence=GRADE_NOTES[value])
            elif question.type == "yes_no":
                if question.allow_na and rng.random() < 0.15:
                    answers[question.id] = Answer(None, True)
                    continue
                rate = 0.3 if question.id in DEMO_WEAK_CHECKS else 0.5 + leaning * 0.4
                good = rng.random() < rate
                value = (
                    question.good_answer
                    if good
                    else ("no" if question.good_answer == "yes" else "yes")
                )
                answers[question.id] = Answer(value, evidence="" if good else rng.choice(NO_NOTES))
            elif question.required or rng.random() < 0.6:
                answers[question.id] = Answer(
                    "Synthetic summary: see section grades and evidence above."
                )
    return answers


def seed_audits(db: sqlite_utils.Database, review: reviews.Review, rng: random.Random) -> None:
    """Give the demo review audits in every state: submitted, in progress, not started.

    One submitted audit found a child not adequately safeguarded, with the escalation
    recorded; one draft has just raised an alert the lead has yet to see escalated, so the
    alert banner and the rule that blocks completion both show in the demo.
    """
    from audit.data import audits
    from audit.scoring import Answer, adverse

    rubric = review.rubric
    critical = [q.id for q in rubric.critical_questions()]
    cases = reviews.case_files(db, review.id)
    for index, case in enumerate(cases):
        if index >= 32:
            break  # the last eight stay "not started"
        reviewer = case["assigned_to"]
        audit_id = audits.start(db, case["id"], reviewer)
        submit = index < 24
        answers = demo_answers(rubric, case["case_type"], rng, complete=submit)
        escalate = index in (5, 27)
        if escalate:
            answers[critical[0]] = Answer(
                "no", evidence="Safety plan not in place after new concerns; escalated same day."
            )
        result = audits.save(
            db,
            audit_id,
            expected_version=1,
            answers=answers,
            sections_na=(),
            feedback={
                "feedback_given": "yes",
                "feedback_date": "2026-10-28",
                "feedback_response": "Worker and manager agreed with the findings.",
            }
            if submit
            else {},
            adverse_questions=[q.id for q in adverse(rubric, case["case_type"], answers)],
            critical_questions=critical,
            by=reviewer,
            submit=False,
            new_action={
                "what": "Update the chronology and record the child's views",
                "owner": "Team manager",
                "due_date": "2026-11-14",
            }
            if index % 7 == 3
            else None,
        )
        if escalate and index == 5:
            audits.record_escalation(
                db,
                result.open_escalations[0],
                review.id,
                told_who="Team manager, Family Support East",
                told_at="2026-10-27T15:10:00Z",
                agreed_action="Strategy discussion held the same afternoon; safety plan agreed.",
                by=reviewer,
            )
        if submit:
            current = audits.get(db, audit_id)
            audits.save(
                db,
                audit_id,
                expected_version=current.version,
                answers=current.answers,
                sections_na=current.sections_na,
                feedback=current.feedback,
                adverse_questions=[],
                critical_questions=[],
                by=reviewer,
                submit=True,
            )


def seed_oversight(
    db: sqlite_utils.Database, review: reviews.Review, lead_id: int, rng: random.Random
) -> None:
    """Show the lead's side: second audits, moderation and curated findings.

    Four submitted cases get an independent second audit (mostly agreeing, sometimes a
    grade apart); the lead moderates three audits, changing one grade; moderation of the
    lowest grades is required; three suggestions are accepted, one is reworded, and a
    finding from the interviews and an executive summary are added.
    """
    from audit import analysis
    from audit import findings as findings_domain
    from audit.data import audits, moderation
    from audit.data import findings as finding_data
    from audit.scoring import Answer

    rubric = review.rubric
    levels = [level.id for level in rubric.scale.levels]
    submitted = [c for c in audits.reviewer_cases(db, review.id) if c["status"] == "submitted"]
    chosen = [c["case_id"] for c in submitted[1:9:2]]
    audits.choose_second_audits(db, review.id, chosen, by=lead_id)
    for case_id in chosen:
        case = reviews.case_file(db, case_id, review.id)
        first = audits.get(db, audits.first_audit_id(db, case_id) or "")
        second_id = audits.start(db, case_id, case["second_assigned_to"], purpose="second")
        answers = {}
        for question_id, answer in first.answers.items():
            value = answer.value
            if rubric.question(question_id).type == "grade" and rng.random() < 0.3:
                index = levels.index(value) + rng.choice([-1, 1])
                value = levels[min(max(index, 0), len(levels) - 2)]
                answers[question_id] = Answer(value, evidence=GRADE_NOTES[value])
            else:
                answers[question_id] = answer
        audits.save(
            db,
            second_id,
            expected_version=1,
            answers=answers,
            sections_na=first.sections_na,
            feedback={},
            adverse_questions=[],
            critical_questions=[],
            by=case["second_assigned_to"],
            submit=True,
        )
    overall = rubric.overall.question
    for index, case in enumerate(submitted[:3]):
        current = audits.get(db, case["audit_id"])
        changed = {}
        if index == 1 and overall and overall in current.answers:
            before = current.answers[overall].value
            after = levels[min(levels.index(before) + 1, len(levels) - 1)]
            if after != before:
                changed[overall] = (
                    before,
                    after,
                    "Evidence describes drift in the plan; agreed with the reviewer.",
                )
        moderation.moderate(
            db,
            case["audit_id"],
            review.id,
            changed=changed,
            note="Moderated in the end-of-day session.",
            by=lead_id,
        )
    reviews.update_settings(db, review.id, {"require_moderation": True}, by=lead_id)
    agg = analysis.aggregate(db, review)
    suggestions = findings_domain.suggest(agg)
    for kind in ("strength", "development"):
        for suggestion in [s for s in suggestions if s.kind == kind][:2]:
            finding_data.add_from_suggestion(
                db,
                review.id,
                suggestion,
                status="accepted",
                text=_reworded_for_publication(suggestion),
                by=lead_id,
            )
    finding_data.add_own(
        db,
        review.id,
        kind="strength",
        text="Leaders know their services well and staff describe a more open culture "
        "(interviews and focus groups).",
        by=lead_id,
    )
    finding_data.set_executive_summary(
        db,
        review.id,
        "The peer team audited the sampled case files over three days, alongside interviews "
        "and focus groups. Practice is improving, with strengths in assessment and planning; "
        "supervision and evidencing the impact of interventions need to become consistent. "
        "Where a child was found not adequately safeguarded, the case was escalated the same "
        "day.",
        by=lead_id,
    )


def _reworded_for_publication(suggestion: Any) -> str:
    """Word a suggested finding as the demo's lead did: no number that gives a small count away.

    The public report withholds counts below 5; a finding that said "(1 of 5)" would block
    issuing it, so the lead writes "few" or "most" instead (see docs/report.md).
    """
    good = suggestion.good
    small = min(good.count, good.n, good.n - good.count)
    if not 0 < small < 5:
        return str(suggestion.text)
    words = "most of" if (good.share or 0) >= 0.5 else "few of"
    text = re.sub(r"\s*\(\d+ of \d+\)", "", suggestion.text)
    return re.sub(r"(?:only )?\d+% of", words, text)


CONVERSATION_ROLES = [
    "Social worker, Assessment Team 1",
    "Social worker, Family Support East",
    "Senior practitioner, Child Protection Team",
    "Newly qualified social worker, Children in Care Team",
]
FAMILY_SAID = [
    "The mother said the worker listened and explained what would happen next.",
    "The father said meetings were cancelled at short notice and he still does not "
    "understand the plan.",
    "The young person said their worker visits often and things at school are better.",
    "The carer said support came quickly once the new worker was allocated.",
    "The grandmother said the family felt judged at the start but listened to later on.",
    "The mother said the plan has helped but housing is still the biggest worry.",
]
FAMILY_ANSWERS = ["yes", "yes", "partly", "no", "not_asked"]


def seed_collaboration(
    db: sqlite_utils.Database, review: reviews.Review, lead_id: int, rng: random.Random
) -> None:
    """Make the demo review collaborative: conversations with practitioners, family feedback.

    Twelve submitted audits have a conversation with the worker; in one the worker disputes
    the plans grade (the lead sees it in moderation: that audit is not moderated yet). Eight
    audits carry family feedback, two without consent; two family quotes are chosen.
    """
    from audit import collaboration
    from audit.data import audits
    from audit.data import conversations as conversation_data

    reviews.update_settings(db, review.id, {"collaborative": True}, by=lead_id)
    rubric = review.rubric
    submitted = [c for c in audits.reviewer_cases(db, review.id) if c["status"] == "submitted"]
    disputed_done = False
    for index, case in enumerate(submitted[3:15]):
        audit = audits.get(db, case["audit_id"])
        sections = collaboration.sections_to_discuss(
            rubric, case["case_type"], audit.sections_na, audit.answers
        )
        views = []
        for section, grade in sections:
            dispute = not disputed_done and section.id == "plans"
            disputed_done = disputed_done or dispute
            views.append(
                collaboration.SectionView(
                    section_id=section.id,
                    question_id=section.grade_question or "",
                    grade=grade,
                    agrees=not dispute,
                    practitioner_view="The plan was agreed with the family at the review "
                    "conference and the actions are in the minutes, not the plan document."
                    if dispute
                    else "",
                )
            )
        conversation_data.save_conversation(
            db,
            review.id,
            collaboration.Conversation(
                audit_id=audit.id,
                held_on="2026-10-29",
                worker_role=CONVERSATION_ROLES[index % len(CONVERSATION_ROLES)],
                manager_role="Team manager" if index % 3 else "",
                worker_name="",
                will_do_differently="Record the child's views in their own words and "
                "write the plan's actions with dates.",
                manager_response="Will check plans and the child's voice in supervision "
                "for the next three months."
                if index % 3
                else "",
                sections=tuple(views),
            ),
            by=audit.reviewer_id,
        )
    for index, case in enumerate(submitted[3:11]):
        consent = index not in (2, 6)
        answers = {
            key: rng.choice(FAMILY_ANSWERS) if consent else "not_asked"
            for key, _text in collaboration.FAMILY_QUESTIONS
        }
        conversation_data.save_family_feedback(
            db,
            review.id,
            collaboration.FamilyFeedback(
                audit_id=case["audit_id"],
                consent=consent,
                contact_method=("phone", "visit", "meeting")[index % 3] if consent else "",
                family_said=FAMILY_SAID[index % len(FAMILY_SAID)] if consent else "",
                **answers,
            ),
            by=lead_id,
        )
    conversation_data.choose_quotes(
        db, review.id, [c["audit_id"] for c in submitted[3:5]], by=lead_id
    )


def write_credentials(instance: Path, credentials: list[DemoCredential]) -> Path:
    """Keep the demo passwords where the person who ran the demo can find them again."""
    path = instance / "demo-credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Demo sign-in details for this instance (synthetic users).\n")
        for cred in credentials:
            handle.write(f"{cred.username}\t{cred.password}\t{cred.role}\n")
    return path


def read_credentials(instance: Path) -> list[DemoCredential]:
    """Return the demo sign-in details saved when the demo was seeded, if any."""
    path = instance / "demo-credentials.txt"
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        username, password, role = line.split("\t")
        found.append(DemoCredential(username, password, role))
    return found


# Two questions the panel split on: each participant's steps up from Good (lead, reviewer
# one, two, three), the agreed grade's steps from Good, and the panel's rationale.
CALIBRATION_SPLITS = [
    ((0, -1, 0, 1), 0, "All risks are named, but the safety plan relies on the mother's word."),
    ((-1, -2, 0, -1), -1, "History is gathered, but the analysis does not use it to weigh risk."),
]


def seed_calibration(
    db: sqlite_utils.Database,
    review: reviews.Review,
    participant_ids: list[int],
    lead_id: int,
    *,
    title: str = "Calibration panel before the health check",
    programme_id: str | None = None,
) -> str:
    """Give the demo review (or its programme) a finished calibration panel, agreed.

    Four graders graded one child protection case not yet audited; everyone agreed except on
    the case's first two graded questions, which the panel discussed and agreed with a
    rationale, so those questions link to the exemplar from every scoring form (of every
    review in the programme, for a programme's panel).
    """
    from audit.data import calibration as calibration_data
    from audit.scoring import Answer

    rubric = review.rubric
    cases = list(reversed(reviews.case_files(db, review.id)))
    # A child protection case where the sample has one (a programme's month may not).
    case = next((c for c in cases if c["case_type"] == "cp"), cases[0])
    exercise_id = calibration_data.create(
        db,
        review.id,
        title=title,
        case_ids=[case["id"]],
        participant_ids=participant_ids,
        by=lead_id,
        programme_id=programme_id,
    )
    levels = [level.id for level in rubric.scale.levels]  # best first
    middle = levels.index("good") if "good" in levels else len(levels) // 2

    def level(steps: int) -> str:
        # A step up the scale is towards the best level, which comes first.
        return levels[min(max(middle - steps, 0), len(levels) - 1)]

    questions = [q for q in rubric.questions_for(case["case_type"]) if q.type != "text"]
    split = [q for q in questions if q.type == "grade"][: len(CALIBRATION_SPLITS)]
    for person, user_id in enumerate(participant_ids):
        answers = {}
        for question in questions:
            if question.type == "yes_no":
                answers[question.id] = Answer(question.good_answer or "yes")
                continue
            steps = 0
            if question in split:
                steps = CALIBRATION_SPLITS[split.index(question)][0][person]
            answers[question.id] = Answer(level(steps))
        calibration_data.save_grades(db, exercise_id, case["id"], user_id, answers)
        calibration_data.submit(db, exercise_id, user_id, review.id)
    for question, (_steps, agreed, rationale) in zip(split, CALIBRATION_SPLITS, strict=False):
        calibration_data.record_agreed(
            db,
            exercise_id,
            review.id,
            case_id=case["id"],
            question_id=question.id,
            value=level(agreed),
            rationale=rationale,
            by=lead_id,
        )
    return exercise_id


def seed_programme_moderation(db: sqlite_utils.Database, lead_id: int, generous: int) -> int:
    """Moderate every third submitted audit of the programmes' reviews, for the leniency page.

    The moderator agrees with most grades but takes the ``generous`` reviewer's first grade
    down a step each time, so that reviewer shows as more generous than the agreed grades.
    Returns how many audits were moderated.
    """
    from audit.data import audits, moderation

    done = 0
    rows = db.execute(
        "SELECT case_audit.id, case_audit.review_id, case_audit.reviewer_id FROM case_audit"
        " JOIN review ON review.id = case_audit.review_id"
        " WHERE review.programme_id IS NOT NULL AND case_audit.status = 'submitted'"
        " ORDER BY review.start_date, case_audit.created_at, case_audit.id"
    ).fetchall()
    for row in rows[::3]:
        review = reviews.get(db, row["review_id"])
        levels = [level.id for level in review.rubric.scale.levels]  # best first
        audit = audits.get(db, row["id"])
        changed = {}
        if row["reviewer_id"] == generous:
            for question in review.rubric.questions:
                value = audit.answers.get(question.id)
                if question.type == "grade" and value and value.value in levels[:-1]:
                    lower = levels[levels.index(value.value) + 1]
                    changed[question.id] = (value.value, lower, "Evidence does not support it.")
                    break
        moderation.moderate(
            db, row["id"], row["review_id"], changed=changed, note="Demo moderation.", by=lead_id
        )
        done += 1
    return done


DEMO_THEMES = [
    ("Drift", "Plans that stall: actions not followed up, reviews late, no one chasing."),
    ("Voice of the child", "The child's wishes and feelings, in their words, shaping the plan."),
    ("Contingency planning", "What happens if the plan does not work, written down and agreed."),
    ("Management oversight", "Supervision and decisions recorded, reflective, acted on."),
    ("Case recording", "Chronologies and case notes up to date (now part of drift)."),
]


def seed_themes(db: sqlite_utils.Database, lead_id: int) -> None:
    """Give the monthly programme its learning themes, tagged across the completed reviews.

    Evidence notes graded below good or better carry "Voice of the child" on the graded
    question that improved most from August to October (so the theme page shows fewer
    audits over time and a rise) and "Drift" on the one that improved least. Each month's
    first area for development carries Drift (linking the theme to its actions), the second
    Management oversight; October is done with the practitioner and one conversation
    carries Voice of the child and Drift. "Case recording" is retired.
    """
    from audit import analysis, collaboration, trends
    from audit.data import audits, programmes
    from audit.data import conversations as conversation_data
    from audit.data import findings as finding_data
    from audit.data import themes as theme_data

    programme_id = db.execute(
        "SELECT id FROM programme WHERE title = ?", [PROGRAMME_TITLE]
    ).fetchone()[0]
    ids = {
        name: theme_data.create(
            db, name=name, description=text, programme_id=programme_id, by=lead_id
        )
        for name, text in DEMO_THEMES
    }
    theme_data.set_retired(db, ids["Case recording"], True, by=lead_id)
    completed = [
        r
        for r in (reviews.get(db, rid) for rid in programmes.review_ids(db, programme_id))
        if r.status == "complete"
    ]
    trend = trends.trend([(r.id, r.title, analysis.aggregate(db, r)) for r in completed])
    graded = [
        series
        for series in trend["questions"]
        if completed[-1].rubric.question(series.key.removeprefix("question:")).type == "grade"
    ]

    def rise(series: trends.Series) -> float:
        first, last = series.points[0].good, series.points[-1].good
        return (last.share or 0.0) - (first.share or 0.0)

    improved = max(graded, key=rise).key.removeprefix("question:")
    stuck = min(graded, key=rise).key.removeprefix("question:")
    scale = completed[-1].rubric.scale
    for review in completed:
        for case in audits.reviewer_cases(db, review.id):
            audit = audits.get(db, case["audit_id"])
            tags = {}
            for question_id, name in ((improved, "Voice of the child"), (stuck, "Drift")):
                answer = audit.answers.get(question_id)
                if answer and answer.evidence and not scale.is_good(answer.value or ""):
                    tags[question_id] = {ids[name]}
            if tags:
                theme_data.set_evidence_tags(db, review.id, audit.id, tags, by=audit.reviewer_id)
        development = [
            f
            for f in finding_data.for_review(db, review.id)
            if f.kind == "development" and f.status == "accepted"
        ]
        for finding, name in zip(development, ("Drift", "Management oversight"), strict=False):
            theme_data.set_finding_tags(db, review.id, finding.id, {ids[name]}, by=lead_id)
    october = completed[-1]
    reviews.update_settings(db, october.id, {"collaborative": True}, by=lead_id)
    case = audits.reviewer_cases(db, october.id)[0]
    audit = audits.get(db, case["audit_id"])
    sections = collaboration.sections_to_discuss(
        october.rubric, case["case_type"], audit.sections_na, audit.answers
    )
    conversation_data.save_conversation(
        db,
        october.id,
        collaboration.Conversation(
            audit_id=audit.id,
            held_on="2026-10-14",
            worker_role="Social worker",
            manager_role="Team manager",
            worker_name="",
            will_do_differently="Visit the child alone and write down what they say in "
            "their own words.",
            manager_response="Will ask about the child's views in every supervision.",
            sections=tuple(
                collaboration.SectionView(section.id, section.grade_question or "", grade, True, "")
                for section, grade in sections
            ),
        ),
        by=audit.reviewer_id,
    )
    theme_data.set_conversation_tags(
        db, october.id, audit.id, {ids["Voice of the child"], ids["Drift"]}, by=audit.reviewer_id
    )
