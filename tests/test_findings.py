"""Findings: counting answers, suggestions, curation, moderation, second audits, JSON export.

Most tests run on a small fixed data set scored against a tiny rubric, so every expected
number below can be checked by hand from the table in :func:`dataset`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from audit import agreement, analysis, findings, scoring
from audit.cli import main
from audit.data import audits, moderation, results
from audit.data import findings as finding_data
from audit.data import reviews as review_data
from audit.data.db import connect
from audit.rubric import Rubric, parse_rubric
from audit.scoring import Answer
from audit.stats import (
    REASON_FEW_PAIRS,
    REASON_NO_PAIRS,
    cohen_kappa,
    exact_agreement,
    krippendorff_alpha,
    share_of_answers,
    wilson,
)
from tests.conftest import Auth, csrf_token

LEVELS = ("outstanding", "good", "requires_improvement", "inadequate")
SCALE = """
scale:
  levels:
    - {id: outstanding, label: Outstanding, value: 4}
    - {id: good, label: Good, value: 3}
    - {id: requires_improvement, label: Requires improvement, value: 2}
    - {id: inadequate, label: Inadequate, value: 1}
  good_or_better: [outstanding, good]
"""
CASE_TYPES = """
case_types:
  - {id: cp, label: Child protection}
  - {id: cin, label: Child in need}
"""
SAFETY = """
  - id: safety
    title: Safety
    compulsory: true
    questions:
      - id: child_safe
        text: Is the child adequately safeguarded?
        type: yes_no
        critical: true
        adverse_answer: "no"
"""

# A section graded by a grade question, an optional yes/no, a question allowing N/A, and an
# overall grade question.
MINI = (
    'id: mini-audit\nversion: "1.0"\ntitle: Mini audit\n'
    + CASE_TYPES
    + SCALE
    + "sections:"
    + SAFETY
    + """
  - id: plan
    title: Plans
    grade_question: plan_grade
    questions:
      - id: plan_grade
        text: How good is the plan?
        type: grade
      - id: plan_shared
        text: Was the plan shared with the family?
        type: yes_no
        required: false
      - id: plan_reviewed
        text: Was the plan reviewed well?
        type: grade
        allow_na: true
  - id: overall
    title: Overall
    compulsory: true
    questions:
      - id: overall_grade
        text: Overall judgement
        type: grade
overall:
  question: overall_grade
findings:
  min_answers: 2
  strength_at_least: 0.75
  development_below: 0.5
"""
)

# Two graded sections and a rule for the overall grade (filled in per test).
RULED = (
    'id: ruled-audit\nversion: "1.0"\ntitle: Ruled audit\n'
    + CASE_TYPES
    + SCALE
    + "sections:"
    + SAFETY
    + """
  - id: practice
    title: Practice
    compulsory: true
    grade_question: practice_grade
    questions:
      - id: practice_grade
        text: How good is practice?
        type: grade
  - id: plan
    title: Plans
    grade_question: plan_grade
    questions:
      - id: plan_grade
        text: How good is the plan?
        type: grade
overall:
{overall}
"""
)

# One graded question on its own (its section has no grade question and no checks), a
# yes/no check, and the critical question: for the suggestion thresholds.
THRESHOLDS = (
    'id: thresholds\nversion: "1.0"\ntitle: Thresholds\n'
    + CASE_TYPES
    + SCALE
    + "sections:"
    + SAFETY
    + """
  - id: practice
    title: Practice
    compulsory: true
    questions:
      - id: practice_grade
        text: How   good is practice?
        type: grade
      - id: overall_grade
        text: Overall judgement
        type: grade
overall:
  question: overall_grade
findings:
  min_answers: 4
  strength_at_least: 0.75
  development_below: 0.5
  wording:
    strength: "S|{subject}|{share}|{count}|{n}|{low}|{high}"
    development: "D|{subject}|{share}|{count}|{n}|{low}|{high}"
    critical: "C|{subject}|{count} of {n}"
"""
)


def mini() -> Rubric:
    return parse_rubric(MINI, source="mini.yaml")


def ruled(overall: str) -> Rubric:
    return parse_rubric(RULED.replace("{overall}", overall), source="ruled.yaml")


# --------------------------------------------------------------------------- builders


def new_review(db, people, rubric: Rubric, cases, *, title: str = "Findings review"):  # type: ignore[no-untyped-def]
    """A review on ``rubric`` led by ``lead``, with ``reviewer`` and ``other`` as reviewers.

    ``cases`` holds (case type, team) pairs, all assigned to ``reviewer``.
    """
    review = review_data.create(
        db,
        title=title,
        host_organisation="Testshire Council",
        kind="peer_review",
        rubric=rubric,
        by=people["lead"].id,
    )
    review_data.add_member(db, review.id, people["lead"].id, "lead")
    review_data.add_member(db, review.id, people["reviewer"].id, "reviewer")
    review_data.add_member(db, review.id, people["other"].id, "reviewer")
    case_ids = add_cases(db, review.id, cases, people["reviewer"].id)
    return review, case_ids


def add_cases(db, review_id: str, cases, assigned_to: int) -> list[str]:  # type: ignore[no-untyped-def]
    existing = len(review_data.case_files(db, review_id))
    return review_data.add_case_files(
        db,
        review_id,
        [
            {"reference": f"REF-{n:03d}", "case_type": ct, "team": team, "assigned_to": assigned_to}
            for n, (ct, team) in enumerate(cases, start=existing + 1)
        ],
    )


def score(  # type: ignore[no-untyped-def]
    db,
    rubric: Rubric,
    case_id: str,
    by: int,
    values: dict[str, str | None],
    *,
    sections_na=(),
    purpose: str = "first",
    submit: bool = True,
    record: bool = True,
) -> str:
    """Save (and submit) an audit: values are level ids, yes/no, "na" or None (blank).

    An adverse critical answer raises an escalation; with ``record`` it is recorded so the
    audit can be submitted, as the reviewer would do on the escalation page.
    """
    audit_id = audits.start(db, case_id, by, purpose=purpose)
    current = audits.get(db, audit_id)
    case_type = db.execute("SELECT case_type FROM case_file WHERE id = ?", [case_id]).fetchone()[0]
    answers = {
        qid: Answer(None, True) if value == "na" else Answer(value) for qid, value in values.items()
    }
    kwargs: dict[str, Any] = {
        "answers": answers,
        "sections_na": set(sections_na),
        "feedback": {},
        "adverse_questions": [q.id for q in scoring.adverse(rubric, case_type, answers)],
        "critical_questions": [q.id for q in rubric.critical_questions()],
        "by": by,
        "submit": submit,
    }
    result = audits.save(db, audit_id, expected_version=current.version, **kwargs)
    if submit and result.open_escalations and record:
        for escalation_id in result.open_escalations:
            audits.record_escalation(
                db,
                escalation_id,
                current.review_id,
                told_who="Team manager",
                told_at="2026-10-27",
                agreed_action="Strategy discussion today.",
                by=by,
            )
        result = audits.save(db, audit_id, expected_version=result.version, **kwargs)
        assert result.submitted
    return audit_id


def answers(safe: str, plan: str | None, shared: str | None, reviewed: str | None, overall: str):  # type: ignore[no-untyped-def]
    return {
        "child_safe": safe,
        "plan_grade": plan,
        "plan_shared": shared,
        "plan_reviewed": reviewed,
        "overall_grade": overall,
    }


@dataclass
class Data:
    """The fixed data set: the review, its cases by pseudonym and their first audits."""

    review: review_data.Review
    rubric: Rubric
    cases: dict[str, str]
    first: dict[str, str]
    second: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def dataset(db, people) -> Data:  # type: ignore[no-untyped-def]
    """Seven cases over two case types and two teams, scored and moderated.

    ==== ===== ====== ===== ================= ======= ============== ===================
    case type  team   safe  plan_grade        shared  plan_reviewed  overall_grade
    ==== ===== ====== ===== ================= ======= ============== ===================
    C01  cp    Team A yes   outstanding       yes     good           good -> RI (moderated)
    C02  cp    Team B yes   good              (blank) N/A            outstanding
    C03  cp    Team A NO    inadequate        no      RI             inadequate
    C04  cin   Team B yes   [plan section marked not applicable; a stale "good" left in it]
                                                                     good
    C05  cin   Team A yes   RI                yes     N/A            RI
    C06  cin   Team B yes   good -> outst. -> RI (moderated twice)
                                              no      outstanding    good
    C07  cin   Team A draft only: yes, inadequate, yes, inadequate, inadequate
    ==== ===== ====== ===== ================= ======= ============== ===================

    C03's child was not adequately safeguarded; the escalation was recorded before
    submission. C01 also has a submitted second audit by ``other`` that must not count.
    """
    rubric = mini()
    cases = [
        ("cp", "Team A"),
        ("cp", "Team B"),
        ("cp", "Team A"),
        ("cin", "Team B"),
        ("cin", "Team A"),
        ("cin", "Team B"),
        ("cin", "Team A"),
    ]
    review, ids = new_review(db, people, rubric, cases)
    names = {f"C{n:02d}": case_id for n, case_id in enumerate(ids, start=1)}
    rid = people["reviewer"].id
    out, ri, inad = "outstanding", "requires_improvement", "inadequate"
    table = {
        "C01": ("yes", out, "yes", "good", "good"),
        "C02": ("yes", "good", None, "na", out),
        "C03": ("no", inad, "no", ri, inad),
        "C04": ("yes", "good", None, None, "good"),  # plan section marked not applicable
        "C05": ("yes", ri, "yes", "na", ri),
        "C06": ("yes", "good", "no", out, "good"),
        "C07": ("yes", inad, "yes", inad, inad),  # a draft
    }
    first = {
        name: score(
            db,
            rubric,
            names[name],
            rid,
            answers(*row),
            sections_na={"plan"} if name == "C04" else (),
            submit=name != "C07",
        )
        for name, row in table.items()
    }
    lead = people["lead"].id
    moderation.moderate(
        db,
        first["C01"],
        review.id,
        changed={"overall_grade": ("good", "requires_improvement", "Drift since the last review")},
        note="Discussed with the reviewer.",
        by=lead,
    )
    moderation.moderate(
        db,
        first["C06"],
        review.id,
        changed={"plan_grade": ("good", "outstanding", "Exceptionally clear")},
        note="",
        by=lead,
    )
    moderation.moderate(
        db,
        first["C06"],
        review.id,
        changed={"plan_grade": ("outstanding", "requires_improvement", "Outcomes not measurable")},
        note="Second look.",
        by=lead,
    )
    assert audits.choose_second_audits(db, review.id, [names["C01"]], by=lead) == 1
    second = {
        "C01": score(
            db,
            rubric,
            names["C01"],
            people["other"].id,
            answers("yes", "good", "no", "na", "outstanding"),
            purpose="second",
        )
    }
    return Data(review_data.get(db, review.id), rubric, names, first, second)


def dist(  # type: ignore[no-untyped-def]
    distribution: findings.Distribution,
    counts: dict[str, int],
    *,
    na: int = 0,
    unanswered: int = 0,
    good: tuple[int, int],
) -> None:
    """Assert a distribution exactly: counts in scale order, N/A, unanswered, share."""
    assert dict(distribution.counts) == counts
    assert list(distribution.counts) == list(counts)  # scale order, best first
    assert distribution.answered == sum(counts.values())
    assert distribution.not_applicable == na
    assert distribution.unanswered == unanswered
    assert distribution.good == wilson(*good)


def levels(o: int = 0, g: int = 0, ri: int = 0, i: int = 0) -> dict[str, int]:
    return dict(zip(LEVELS, (o, g, ri, i), strict=True))


def yes_no(yes: int = 0, no: int = 0) -> dict[str, int]:
    return {"yes": yes, "no": no}


# --------------------------------------------------------------------------- 1. aggregation


def test_counting_reads_submitted_first_audits_with_moderated_grades(db, dataset) -> None:  # type: ignore[no-untyped-def]
    review = dataset.review
    counted = results.counted_audits(db, review.id)
    assert sorted(a["audit_id"] for a in counted) == sorted(
        dataset.first[c] for c in ("C01", "C02", "C03", "C04", "C05", "C06")
    )  # no draft (C07), no second audit
    by_audit = {a["audit_id"]: a for a in counted}
    assert by_audit[dataset.first["C04"]]["sections_na"] == ["plan"]
    assert by_audit[dataset.first["C01"]]["team"] == "Team A"

    sections = {q.id: dataset.rubric.section_of(q.id).id for q in dataset.rubric.questions}
    rows = results.answer_counts(db, review.id, sections)
    overall = {
        (r["value"], r["case_type"], r["team"]): r["n"]
        for r in rows
        if r["question_id"] == "overall_grade"
    }
    assert overall == {
        ("requires_improvement", "cp", "Team A"): 1,  # C01 as moderated
        ("outstanding", "cp", "Team B"): 1,
        ("inadequate", "cp", "Team A"): 1,
        ("good", "cin", "Team B"): 2,
        ("requires_improvement", "cin", "Team A"): 1,
    }
    plan = {
        (r["value"], r["case_type"], r["team"]) for r in rows if r["question_id"] == "plan_grade"
    }
    assert ("good", "cin", "Team B") not in plan  # C04's plan section does not apply
    assert ("requires_improvement", "cin", "Team B") in plan  # C06's latest moderation

    grades = results.case_grades(db, review.id, ["overall_grade", "plan_grade"])
    assert grades[dataset.first["C01"]] == {
        "overall_grade": "requires_improvement",
        "plan_grade": "outstanding",
    }
    assert grades[dataset.first["C06"]]["plan_grade"] == "requires_improvement"
    assert dataset.first["C07"] not in grades
    assert results.case_grades(db, review.id, []) == {}
    assert results.answer_counts(db, review.id, {}) == []


def test_aggregate_whole_review_against_hand_counts(db, dataset) -> None:  # type: ignore[no-untyped-def]
    agg = analysis.aggregate(db, dataset.review)
    assert agg.audited == 6
    assert agg.case_types == ("cin", "cp")
    assert agg.teams == ("Team A", "Team B")

    # The headline is the overall grade question, with C01's moderated grade.
    dist(agg.headline.whole, levels(o=1, g=2, ri=2, i=1), good=(3, 6))
    assert agg.headline == agg.question("overall_grade").breakdown
    dist(agg.question("child_safe").breakdown.whole, yes_no(5, 1), good=(5, 6))
    # C04's plan section is N/A (its stale "good" is not counted); C06 as moderated last.
    dist(agg.question("plan_grade").breakdown.whole, levels(o=1, g=1, ri=2, i=1), na=1, good=(2, 5))
    # The optional check left blank in C02 is unanswered, not N/A.
    dist(agg.question("plan_shared").breakdown.whole, yes_no(2, 2), na=1, unanswered=1, good=(2, 4))
    # N/A answered in C02 and C05, plus C04's section.
    dist(agg.question("plan_reviewed").breakdown.whole, levels(o=1, g=1, ri=1), na=3, good=(2, 3))

    plan = agg.section("plan")
    assert plan.basis == "grade"
    assert plan.breakdown == agg.question("plan_grade").breakdown
    safety = agg.section("safety")
    assert safety.basis == "checks"
    dist(safety.breakdown.whole, yes_no(5, 1), good=(5, 6))
    assert agg.critical == _critical(1, 6, 1, 1, 1)


def test_aggregate_by_case_type_and_team(db, dataset) -> None:  # type: ignore[no-untyped-def]
    agg = analysis.aggregate(db, dataset.review)
    headline = agg.headline
    assert set(headline.by_case_type) == {"cp", "cin"}
    assert set(headline.by_team) == {"Team A", "Team B"}
    dist(headline.by_case_type["cp"], levels(o=1, ri=1, i=1), good=(1, 3))
    dist(headline.by_case_type["cin"], levels(g=2, ri=1), good=(2, 3))
    dist(headline.by_team["Team A"], levels(ri=2, i=1), good=(0, 3))
    dist(headline.by_team["Team B"], levels(o=1, g=2), good=(3, 3))

    plan = agg.question("plan_grade").breakdown
    dist(plan.by_case_type["cp"], levels(o=1, g=1, i=1), good=(2, 3))
    dist(plan.by_case_type["cin"], levels(ri=2), na=1, good=(0, 2))
    dist(plan.by_team["Team A"], levels(o=1, ri=1, i=1), good=(1, 3))
    dist(plan.by_team["Team B"], levels(g=1, ri=1), na=1, good=(1, 2))

    shared = agg.question("plan_shared").breakdown
    dist(shared.by_case_type["cp"], yes_no(1, 1), unanswered=1, good=(1, 2))
    dist(shared.by_case_type["cin"], yes_no(1, 1), na=1, good=(1, 2))
    dist(shared.by_team["Team A"], yes_no(2, 1), good=(2, 3))
    dist(shared.by_team["Team B"], yes_no(0, 1), na=1, unanswered=1, good=(0, 1))

    reviewed = agg.question("plan_reviewed").breakdown
    dist(reviewed.by_case_type["cp"], levels(g=1, ri=1), na=1, good=(1, 2))
    dist(reviewed.by_case_type["cin"], levels(o=1), na=2, good=(1, 1))

    exported = agg.headline.as_dict()
    assert exported["all"]["good_or_better"] == wilson(3, 6).as_dict()
    assert exported["by_team"]["Team B"]["counts"] == levels(o=1, g=2)


def test_draft_then_submitted_counts_once_submitted(db, people, dataset) -> None:  # type: ignore[no-untyped-def]
    before = analysis.aggregate(db, dataset.review)
    audit = audits.get(db, dataset.first["C07"])
    audits.save(
        db,
        audit.id,
        expected_version=audit.version,
        answers=audit.answers,
        sections_na=(),
        feedback={},
        adverse_questions=[],
        critical_questions=["child_safe"],
        by=people["reviewer"].id,
        submit=True,
    )
    after = analysis.aggregate(db, dataset.review)
    assert (before.audited, after.audited) == (6, 7)
    dist(after.headline.whole, levels(o=1, g=2, ri=2, i=2), good=(3, 7))
    dist(after.headline.by_team["Team A"], levels(ri=2, i=2), good=(0, 4))
    assert after.headline.by_team["Team B"] == before.headline.by_team["Team B"]


def _rule_data(db, people, rubric: Rubric, *, stale: bool):  # type: ignore[no-untyped-def]
    """Four counted cases and a draft, scored on a rubric whose overall grade is a rule.

    ==== ==== ====== ============== ============================= ======= =========
    case type team   practice_grade plan_grade                    lowest  weighted
    ==== ==== ====== ============== ============================= ======= =========
    R1   cp   Team A inadequate     outstanding                   inad.   good (9/3)
    R2   cp   Team B outstanding    good                          good    good
    R3   cin  Team A RI             section N/A                   RI      RI
    R4   cin  Team B good           good, moderated to RI         RI      RI (7/3)
    R5   cp   Team A draft: inadequate, inadequate (not counted)
    ==== ==== ====== ============== ============================= ======= =========
    """
    cases = [("cp", "Team A"), ("cp", "Team B"), ("cin", "Team A"), ("cin", "Team B")]
    review, ids = new_review(db, people, rubric, [*cases, ("cp", "Team A")])
    rid = people["reviewer"].id

    def grades(practice: str | None, plan: str | None) -> dict[str, str | None]:
        return {"child_safe": "yes", "practice_grade": practice, "plan_grade": plan}

    score(db, rubric, ids[0], rid, grades("inadequate", "outstanding"))
    score(db, rubric, ids[1], rid, grades("outstanding", "good"))
    left = "inadequate" if stale else None
    score(db, rubric, ids[2], rid, grades("requires_improvement", left), sections_na={"plan"})
    r4 = score(db, rubric, ids[3], rid, grades("good", "good"))
    score(db, rubric, ids[4], rid, grades("inadequate", "inadequate"), submit=False)
    moderation.moderate(
        db,
        r4,
        review.id,
        changed={"plan_grade": ("good", "requires_improvement", "No end point")},
        note="",
        by=people["lead"].id,
    )
    return review_data.get(db, review.id)


@pytest.mark.parametrize(
    ("overall", "whole", "by_type", "by_team"),
    [
        (
            "  rule: lowest_section_grade",
            (levels(g=1, ri=2, i=1), (1, 4)),
            {"cp": (levels(g=1, i=1), (1, 2)), "cin": (levels(ri=2), (0, 2))},
            {"Team A": (levels(ri=1, i=1), (0, 2)), "Team B": (levels(g=1, ri=1), (1, 2))},
        ),
        (
            "  rule: weighted_mean\n  weights: {plan: 2}",
            (levels(g=2, ri=2), (2, 4)),
            {"cp": (levels(g=2), (2, 2)), "cin": (levels(ri=2), (0, 2))},
            {"Team A": (levels(g=1, ri=1), (1, 2)), "Team B": (levels(g=1, ri=1), (1, 2))},
        ),
    ],
    ids=["lowest_section_grade", "weighted_mean"],
)
def test_rule_based_overall_through_analysis(db, people, overall, whole, by_type, by_team) -> None:  # type: ignore[no-untyped-def]
    review = _rule_data(db, people, ruled(overall), stale=False)
    agg = analysis.aggregate(db, review)
    assert agg.audited == 4
    dist(agg.headline.whole, whole[0], good=whole[1])
    for case_type, (counts, good) in by_type.items():
        dist(agg.headline.by_case_type[case_type], counts, good=good)
    for team, (counts, good) in by_team.items():
        dist(agg.headline.by_team[team], counts, good=good)
    # The section grades themselves: R3's plan section is N/A, R4's plan grade moderated.
    dist(agg.section("plan").breakdown.whole, levels(o=1, g=1, ri=1), na=1, good=(2, 3))
    dist(agg.section("practice").breakdown.whole, levels(o=1, g=1, ri=1, i=1), good=(2, 4))


@pytest.mark.parametrize("rule", ["  rule: lowest_section_grade", "  rule: weighted_mean"])
def test_rule_based_overall_ignores_grade_left_in_section_marked_not_applicable(  # type: ignore[no-untyped-def]
    db, people, rule
) -> None:
    # R3 marked its plan section "does not apply" but an earlier "inadequate" plan grade
    # is still stored (the scoring form posts every shown answer). docs/rubrics.md: sections
    # marked not applicable are left out of the rule, so R3 stays requires improvement.
    review = _rule_data(db, people, ruled(rule), stale=True)
    agg = analysis.aggregate(db, review)
    assert agg.headline.by_case_type["cin"].counts["requires_improvement"] == 2
    assert agg.headline.by_case_type["cin"].counts["inadequate"] == 0
    # The plan section's own figures already leave the stale grade out.
    assert agg.section("plan").breakdown.whole.not_applicable == 1


def test_aggregate_pure_function_with_no_audits() -> None:
    agg = findings.aggregate(mini(), [], [])
    assert agg.audited == 0
    dist(agg.headline.whole, levels(), good=(0, 0))
    assert agg.headline.whole.good.share is None
    assert agg.headline.by_case_type == {} and agg.headline.by_team == {}
    assert findings.suggest(agg) == []
    assert findings.percent(None) == "n/a"
    assert findings.percent(0.615) == "62%"
    assert findings.percent(1.0) == "100%"


def test_moderated_grade_for_an_unanswered_question_counts(db, people, dataset) -> None:  # type: ignore[no-untyped-def]
    # The moderation form offers every graded question, including one the reviewer left
    # blank. A grade the lead gives there (with a reason) replaces the blank in the counts.
    review = dataset.review
    [case_id] = add_cases(db, review.id, [("cp", "Team B")], people["reviewer"].id)
    audit_id = score(
        db,
        dataset.rubric,
        case_id,
        people["reviewer"].id,
        answers("yes", "good", "yes", None, "good"),
    )
    before = analysis.aggregate(db, review).question("plan_reviewed").breakdown.whole
    dist(before, levels(o=1, g=1, ri=1), na=3, unanswered=1, good=(2, 3))
    moderation.moderate(
        db,
        audit_id,
        review.id,
        changed={"plan_reviewed": (None, "good", "Reviewed at the last conference")},
        note="",
        by=people["lead"].id,
    )
    after = analysis.aggregate(db, review).question("plan_reviewed").breakdown.whole
    dist(after, levels(o=1, g=2, ri=1), na=3, unanswered=0, good=(3, 4))


# --------------------------------------------------------------------------- 2. critical


def _critical(cases: int, audited: int, alerts: int, alert_cases: int, recorded: int) -> dict:
    return {
        "cases": cases,
        "audited": audited,
        "alerts": alerts,
        "alert_cases": alert_cases,
        "recorded": recorded,
    }


def test_critical_cases_and_recorded_escalations(db, people, dataset) -> None:  # type: ignore[no-untyped-def]
    """Cases count the submitted first audit's (moderated) answer; alerts count every audit."""
    rubric, review = dataset.rubric, dataset.review
    assert analysis.aggregate(db, review).critical == _critical(1, 6, 1, 1, 1)
    c08, c09 = add_cases(
        db, review.id, [("cp", "Team B"), ("cin", "Team B")], people["reviewer"].id
    )
    rid = people["reviewer"].id
    # A draft with an unsafe child: the alert is live at once, not yet recorded; the case
    # is not counted until its audit is submitted.
    score(db, rubric, c08, rid, answers("no", "good", "yes", "good", "good"), submit=False)
    assert analysis.aggregate(db, review).critical == _critical(1, 6, 2, 2, 1)
    # An answer changed back before anyone was told: the alert is withdrawn, not counted.
    score(db, rubric, c09, rid, answers("no", None, None, None, None), submit=False)
    assert analysis.aggregate(db, review).critical == _critical(1, 6, 3, 3, 1)
    score(db, rubric, c09, rid, answers("yes", None, None, None, None), submit=False)
    assert analysis.aggregate(db, review).critical == _critical(1, 6, 2, 2, 1)
    # Recording C08's escalation and submitting it.
    score(db, rubric, c08, rid, answers("no", "good", "yes", "good", "good"))
    assert analysis.aggregate(db, review).critical == _critical(2, 7, 2, 2, 2)
    # A second audit of C03 that also finds the child unsafe raises a second alert about the
    # same case; the case is still counted once.
    audits.choose_second_audits(db, review.id, [dataset.cases["C03"]], by=people["lead"].id)
    score(
        db,
        rubric,
        dataset.cases["C03"],
        people["other"].id,
        answers("no", "inadequate", "no", "inadequate", "inadequate"),
        purpose="second",
    )
    agg = analysis.aggregate(db, review)
    assert agg.critical == _critical(2, 7, 3, 2, 3)
    assert agg.question("child_safe").breakdown.whole.counts == {"yes": 5, "no": 2}
    critical = next(s for s in findings.suggest(agg) if s.critical)
    assert "2 case(s) where a child was found not adequately safeguarded" in critical.text
    doc = analysis.findings_document(db, review)
    sentences = findings.safeguarding_sentences(agg.critical)
    assert doc["safeguarding"] == {
        "cases_not_adequately_safeguarded": 2,
        "cases_audited": 7,
        "definition": findings.SAFEGUARDING_DEFINITION,
        "alerts_raised": 3,
        "cases_with_alerts": 2,
        "alerts_recorded": 3,
        "alerts_definition": findings.ALERTS_DEFINITION,
        "sentences": sentences,
    }
    assert sentences[0].startswith("In 2 of the 7 cases audited a child was found not")
    assert sentences[1].startswith("3 safeguarding alerts were raised about 2 cases (counting")


def test_moderation_turns_a_case_unsafe_without_an_alert(db, people, dataset) -> None:  # type: ignore[no-untyped-def]
    """A moderated answer is the one counted: the case counts though no alert was raised."""
    moderation.moderate(
        db,
        dataset.first["C05"],
        dataset.review.id,
        changed={"child_safe": ("yes", "no", "Risk missed at first reading")},
        note="",
        by=people["lead"].id,
    )
    agg = analysis.aggregate(db, dataset.review)
    assert agg.critical == _critical(2, 6, 1, 1, 1)
    assert agg.question("child_safe").breakdown.whole.counts == {"yes": 4, "no": 2}


# --------------------------------------------------------------------------- 3. suggestions


def _practice(good: int, n: int, rubric: Rubric | None = None) -> findings.Aggregation:
    """An aggregation where ``good`` of ``n`` practice grades are good (the rest inadequate)."""
    rows = [
        {"question_id": "practice_grade", "value": value, "not_applicable": 0,
         "case_type": "cp", "team": "Team A", "n": count}
        for value, count in (("good", good), ("inadequate", n - good))
        if count
    ]  # fmt: skip
    return findings.aggregate(rubric or parse_rubric(THRESHOLDS), [], rows)


@pytest.mark.parametrize(
    ("good", "n", "kind"),
    [
        (76, 100, "strength"),  # just above strength_at_least
        (75, 100, "strength"),  # exactly at it
        (74, 100, None),  # just below it
        (51, 100, None),  # just above development_below
        (50, 100, None),  # exactly at it: not below
        (49, 100, "development"),  # just below it
        (4, 4, "strength"),  # exactly min_answers
        (3, 4, "strength"),
        (0, 4, "development"),
        (3, 3, None),  # fewer than min_answers
        (0, 3, None),
        (0, 0, None),
    ],
)
def test_suggestion_thresholds(good: int, n: int, kind: str | None) -> None:
    rubric = parse_rubric(THRESHOLDS)
    assert rubric.findings.suggestion(good, n) == kind
    suggested = findings.suggest(_practice(good, n, rubric))
    if kind is None:
        assert suggested == []
        return
    [item] = suggested
    proportion = wilson(good, n)
    assert item.key == "question:practice_grade"
    assert item.kind == kind
    assert item.question_ids == ("practice_grade",)
    assert item.good == proportion
    assert not item.critical
    assert item.subject == "How good is practice?"  # spaces collapsed
    pct = findings.percent
    assert item.text == (
        f"{'S' if kind == 'strength' else 'D'}|How good is practice?|{pct(proportion.share)}"
        f"|{good}|{n}|{pct(proportion.low)}|{pct(proportion.high)}"
    )
    assert item.evidence() == {"key": "question:practice_grade", **proportion.as_dict()}


def test_default_wording_and_section_and_check_suggestions(db, dataset) -> None:  # type: ignore[no-untyped-def]
    agg = analysis.aggregate(db, dataset.review)
    by_key = {s.key: s for s in findings.suggest(agg)}
    # min_answers 2 in the mini rubric. The plan section: 2 of 5 good or better.
    plan = by_key["section:plan"]
    assert (plan.kind, plan.question_ids, plan.good) == (
        "development",
        ("plan_grade",),
        wilson(2, 5),
    )
    assert plan.text == "Plans: only 40% of audited cases were good or better (2 of 5)."
    # plan_reviewed: 2 of 3 is between the thresholds; plan_shared: 2 of 4 is exactly at 50%.
    assert "question:plan_reviewed" not in by_key
    assert "question:plan_shared" not in by_key
    # Neither the section grade question, the overall question nor the critical question
    # is suggested on its own; the critical question's adverse answer always is.
    assert "question:plan_grade" not in by_key
    assert "question:overall_grade" not in by_key
    assert "question:child_safe" not in by_key
    critical = by_key["critical:child_safe"]
    assert critical.kind == "development" and critical.critical
    assert critical.text == (
        "Is the child adequately safeguarded?: 1 case(s) where a child was found not adequately "
        "safeguarded; each must be escalated."
    )
    # Yes/no checks pooled into the safety section: 5 of 6 safe.
    assert by_key["section:safety"].kind == "strength"
    assert by_key["section:safety"].question_ids == ("child_safe",)
    assert next(iter(by_key)).startswith("section:")  # sections come first


def test_adverse_critical_answer_always_suggests_development() -> None:
    rubric = parse_rubric(THRESHOLDS)
    # One case only, far below min_answers: still an area for development.
    rows = [{"question_id": "child_safe", "value": "no", "not_applicable": 0,
             "case_type": "cin", "team": "", "n": 1}]  # fmt: skip
    audit = {"audit_id": "a1", "case_type": "cin", "team": "", "sections_na": []}
    suggested = findings.suggest(findings.aggregate(rubric, [audit], rows))
    assert [(s.key, s.kind, s.critical) for s in suggested] == [
        ("critical:child_safe", "development", True)
    ]
    assert suggested[0].text == "C|Is the child adequately safeguarded?|1 of 1"
    # All safe: nothing to escalate, nothing suggested.
    rows[0]["value"] = "yes"
    assert findings.suggest(findings.aggregate(rubric, [audit], rows)) == []


def test_check_wording_for_yes_no_questions() -> None:
    rubric = parse_rubric(MINI)
    rows = [
        {"question_id": "plan_shared", "value": value, "not_applicable": 0,
         "case_type": "cp", "team": "A", "n": n}
        for value, n in (("yes", 1), ("no", 3))
    ]  # fmt: skip
    suggested = {s.key: s for s in findings.suggest(findings.aggregate(rubric, [], rows))}
    item = suggested["question:plan_shared"]
    assert item.kind == "development"
    assert item.text == (
        "“Was the plan shared with the family?” Yes in only 25% of the cases audited (1 of 4)."
    )
    # The section has a grade question, so its checks are not pooled into a suggestion.
    assert "section:plan" not in suggested


def test_evidence_for_questions_sections_and_pools() -> None:
    rubric = parse_rubric(MINI)
    rows = [
        {"question_id": q, "value": v, "not_applicable": 0, "case_type": "cp", "team": "A", "n": n}
        for q, v, n in (
            ("plan_grade", "good", 3),
            ("plan_grade", "inadequate", 1),
            ("plan_shared", "yes", 1),
            ("plan_shared", "no", 1),
        )
    ]
    agg = findings.aggregate(rubric, [], rows)
    assert findings.evidence_for(agg, ["plan_grade"]) == wilson(3, 4).as_dict()
    assert findings.evidence_for(agg, ["plan_grade"], "section:plan") == {
        "key": "section:plan",
        **wilson(3, 4).as_dict(),
    }
    # Two questions pooled are answers, not cases: the interval is Wilson's over the cases.
    pooled = findings.evidence_for(agg, ["plan_grade", "plan_shared"])
    assert pooled == share_of_answers(4, 6, 4).as_dict()
    assert pooled["unit"] == "answers" and pooled["cases"] == 4
    assert (pooled["low"], pooled["high"]) == pytest.approx(
        (wilson(3, 4).low, wilson(3, 4).high), abs=0.1
    )
    assert pooled["low"] < wilson(4, 6).low
    with pytest.raises(KeyError):
        findings.evidence_for(agg, ["no_such_question"])


# --------------------------------------------------------------------------- 4. curation


def test_curated_finding_survives_reaggregation_and_flags_moved_numbers(  # type: ignore[no-untyped-def]
    db, people, dataset, client
) -> None:
    review, lead = dataset.review, people["lead"].id
    agg = analysis.aggregate(db, review)
    suggestion = next(s for s in findings.suggest(agg) if s.key == "section:plan")
    fid = finding_data.add_from_suggestion(
        db, review.id, suggestion, status="accepted", text="  ", by=lead
    )
    stored = finding_data.get(db, review.id, fid)
    assert stored.text == suggestion.text  # blank wording keeps the suggestion's
    assert stored.evidence == suggestion.evidence()
    assert stored.key == "section:plan" and stored.origin == "audits"
    # Deciding the same suggestion again never duplicates it.
    again = finding_data.add_from_suggestion(
        db, review.id, suggestion, status="rejected", text="", by=lead
    )
    assert again == fid
    finding_data.reword(db, review.id, fid, "  Plans are too often not good enough. ", by=lead)
    assert analysis.moved(agg, finding_data.get(db, review.id, fid)) is None

    # C07 is submitted: the plan section is now 2 of 6.
    draft = audits.get(db, dataset.first["C07"])
    audits.save(
        db,
        draft.id,
        expected_version=draft.version,
        answers=draft.answers,
        sections_na=(),
        feedback={},
        adverse_questions=[],
        critical_questions=["child_safe"],
        by=people["reviewer"].id,
        submit=True,
    )
    agg = analysis.aggregate(db, review)
    stored = finding_data.get(db, review.id, fid)
    assert stored.text == "Plans are too often not good enough."
    assert stored.status == "accepted"
    assert (stored.evidence["count"], stored.evidence["n"]) == (2, 5)
    now = analysis.moved(agg, stored)
    assert now == {"key": "section:plan", **wilson(2, 6).as_dict()}
    # The suggestion is not offered again, since the lead already decided it.
    decided = {f.key for f in finding_data.for_review(db, review.id)}
    assert "section:plan" in decided

    auth = Auth(client)
    auth.sign_in("lead")
    page = client.get(f"/reviews/{review.id}/findings")
    assert page.status_code == 200
    assert "The numbers have moved since you curated this" in page.text
    assert "it was 2 of 5, now 2 of 6" in page.text
    assert "Plans are too often not good enough." in page.text

    finding_data.refresh_evidence(db, review.id, fid, now, by=lead)
    refreshed = finding_data.get(db, review.id, fid)
    assert analysis.moved(agg, refreshed) is None
    assert refreshed.text == "Plans are too often not good enough."
    assert not refreshed.flagged
    assert "The numbers have moved" not in client.get(f"/reviews/{review.id}/findings").text


def test_exported_curated_finding_is_flagged_when_numbers_move(db, people, dataset) -> None:  # type: ignore[no-untyped-def]
    # The JSON export carries a "flagged" field per curated finding; a dashboard reading it
    # must learn that the numbers behind the wording moved, as the findings page shows.
    review, lead = dataset.review, people["lead"].id
    suggestion = next(
        s for s in findings.suggest(analysis.aggregate(db, review)) if s.key == "section:plan"
    )
    finding_data.add_from_suggestion(db, review.id, suggestion, status="accepted", text="", by=lead)
    [exported] = analysis.findings_document(db, review)["curated_findings"]
    assert exported["flagged"] is False
    draft = audits.get(db, dataset.first["C07"])
    audits.save(
        db,
        draft.id,
        expected_version=draft.version,
        answers=draft.answers,
        sections_na=(),
        feedback={},
        adverse_questions=[],
        critical_questions=["child_safe"],
        by=people["reviewer"].id,
        submit=True,
    )
    [exported] = analysis.findings_document(db, review)["curated_findings"]
    assert exported["flagged"] is True


def test_curation_order_merge_own_findings_and_statuses(db, people, dataset) -> None:  # type: ignore[no-untyped-def]
    review, lead = dataset.review, people["lead"].id
    rid = review.id
    a = finding_data.add_own(db, rid, kind="development", text=" Supervision drift. ", by=lead)
    b = finding_data.add_own(
        db,
        rid,
        kind="development",
        text="Plans are not shared.",
        question_ids=["plan_shared"],
        evidence=findings.evidence_for(analysis.aggregate(db, review), ["plan_shared"]),
        by=lead,
    )
    c = finding_data.add_own(db, rid, kind="strength", text="Children are seen.", by=lead)
    own = finding_data.get(db, rid, a)
    assert (own.text, own.origin, own.status, own.position) == (
        "Supervision drift.",
        "other",
        "accepted",
        1,
    )
    assert finding_data.get(db, rid, b).origin == "audits"
    assert analysis.moved(analysis.aggregate(db, review), own) is None  # nothing to compare
    with pytest.raises(ValueError):
        finding_data.add_own(db, rid, kind="opinion", text="x", by=lead)

    # Strengths are listed before areas for development, each kind in the lead's order.
    assert [f.id for f in finding_data.for_review(db, rid)] == [c, a, b]
    finding_data.move(db, rid, b, -1, by=lead)
    assert [f.id for f in finding_data.for_review(db, rid)] == [c, b, a]
    finding_data.move(db, rid, b, -1, by=lead)  # already first: nothing happens
    assert [f.id for f in finding_data.for_review(db, rid)] == [c, b, a]

    with pytest.raises(ValueError):
        finding_data.merge(db, rid, [a, c], "Mixed kinds", {}, by=lead)
    with pytest.raises(ValueError):
        finding_data.merge(db, rid, [a], "Only one", {}, by=lead)
    merged = finding_data.merge(db, rid, [a, b], "Oversight and plans.", {}, by=lead)
    parts = {f.id: f for f in finding_data.for_review(db, rid)}
    assert parts[a].status == parts[b].status == "merged"
    assert parts[a].merged_into == parts[b].merged_into == merged
    assert parts[merged].status == "accepted"
    assert parts[merged].question_ids == ("plan_shared",)
    assert parts[merged].origin == "audits"

    finding_data.set_status(db, rid, c, "rejected", by=lead)
    assert finding_data.get(db, rid, c).status == "rejected"
    with pytest.raises(ValueError):
        finding_data.set_status(db, rid, c, "merged", by=lead)
    with pytest.raises(finding_data.FindingNotFound):
        finding_data.get(db, rid, "no-such-finding")
    exported = analysis.findings_document(db, review)["curated_findings"]
    assert [f["id"] for f in exported] == [merged]  # accepted only


# --------------------------------------------------------------------------- 5. moderation


def test_moderation_history_summary_and_queue(db, people, dataset) -> None:  # type: ignore[no-untyped-def]
    review, first = dataset.review, dataset.first
    history = moderation.for_audit(db, first["C06"])
    assert [(h["question_id"], h["outcome"]) for h in history] == [
        (None, "changed"),
        ("plan_grade", "changed"),
        (None, "changed"),
        ("plan_grade", "changed"),
    ]
    change = history[1]
    assert change["original_value"] == "good"
    assert change["moderated_value"] == "outstanding"
    assert change["reason"] == "Exceptionally clear"
    assert change["moderator"] == "Test Lead"
    assert change["moderator_id"] == people["lead"].id
    assert change["created_at"]
    assert moderation.current_values(db, first["C06"]) == {"plan_grade": "requires_improvement"}
    # The reviewer's own answer is kept as it was.
    assert audits.get(db, first["C06"]).answers["plan_grade"].value == "good"

    summary = analysis.moderation_summary(db, review)
    # Six submitted first audits and C01's submitted second audit: moderation counts both.
    assert summary == {
        "submitted": 7,
        "moderated": 2,
        "rate": wilson(2, 7).as_dict(),
        "grades_changed": 3,
        "raised": 1,  # C06 good -> outstanding
        "lowered": 2,  # C01 good -> RI, C06 outstanding -> RI
        "other_changes": 0,
    }

    # Agreeing records a moderation with no change.
    moderation.moderate(
        db, first["C02"], review.id, changed={}, note=" Fine. ", by=people["lead"].id
    )
    [agreed] = moderation.for_audit(db, first["C02"])
    assert (agreed["outcome"], agreed["question_id"], agreed["reason"]) == ("agreed", None, "Fine.")
    assert analysis.moderation_summary(db, review)["moderated"] == 3

    with pytest.raises(ValueError):
        moderation.moderate(db, first["C07"], review.id, changed={}, note="", by=people["lead"].id)
    with pytest.raises(ValueError):  # an audit of another review
        moderation.moderate(db, first["C03"], "other-review", changed={}, note="", by=1)


def test_moderation_queue_puts_required_first(db, people, dataset) -> None:  # type: ignore[no-untyped-def]
    review, rubric, lead = dataset.review, dataset.rubric, people["lead"].id
    # C07 submitted (lowest grade, no adverse answer); C08 with an unsafe child, good grades.
    draft = audits.get(db, dataset.first["C07"])
    audits.save(
        db,
        draft.id,
        expected_version=draft.version,
        answers=draft.answers,
        sections_na=(),
        feedback={},
        adverse_questions=[],
        critical_questions=["child_safe"],
        by=people["reviewer"].id,
        submit=True,
    )
    [c08] = add_cases(db, review.id, [("cp", "Team B")], people["reviewer"].id)
    score(db, rubric, c08, people["reviewer"].id, answers("no", "good", "yes", "good", "good"))

    queue = analysis.moderation_queue(db, review)
    # C01 and C06 are already moderated.
    assert [row["pseudonym"] for row in queue] == ["C03", "C07", "C08", "C02", "C04", "C05"]
    assert [bool(row["flagged"]) for row in queue] == [True, True, True, False, False, False]
    assert not any(row["required"] for row in queue)  # moderation not required

    review_data.update_settings(db, review.id, {"require_moderation": True}, by=lead)
    queue = analysis.moderation_queue(db, review_data.get(db, review.id))
    assert [(row["pseudonym"], row["required"]) for row in queue] == [
        ("C03", True),
        ("C07", True),
        ("C08", True),
        ("C02", False),
        ("C04", False),
        ("C05", False),
    ]
    assert queue[0]["reviewer"] == "Test Reviewer"
    moderation.moderate(db, dataset.first["C03"], review.id, changed={}, note="", by=lead)
    queue = analysis.moderation_queue(db, review_data.get(db, review.id))
    assert [row["pseudonym"] for row in queue] == ["C07", "C08", "C02", "C04", "C05"]


def test_moderating_through_the_web_needs_a_reason(db, people, dataset, client) -> None:  # type: ignore[no-untyped-def]
    review, audit_id = dataset.review, dataset.first["C02"]
    url = f"/reviews/{review.id}/audits/{audit_id}/moderate"
    Auth(client).sign_in("lead")
    page = client.get(url)
    assert page.status_code == 200
    token = csrf_token(page.text)

    refused = client.post(
        url, data={"csrf_token": token, "grade-overall_grade": "good", "note": ""}
    )
    assert refused.status_code == 200
    assert "There is a problem" in refused.text
    assert "Give a reason for changing" in refused.text
    assert "<title>Error: " in refused.text
    assert moderation.for_audit(db, audit_id) == []

    saved = client.post(
        url,
        data={
            "csrf_token": token,
            "grade-overall_grade": "good",
            "reason-overall_grade": "Impact on the child not evidenced",
            "grade-plan_grade": "good",  # unchanged: not a change, needs no reason
            "note": "Talked it through.",
        },
    )
    assert saved.status_code == 302
    # Back to the queue, the result shown (and focused) above the next audit waiting.
    assert saved.headers["Location"].endswith(
        f"/reviews/{review.id}/dashboard#moderation-queue-result"
    )
    history = moderation.for_audit(db, audit_id)
    assert [(h["question_id"], h["original_value"], h["moderated_value"]) for h in history] == [
        (None, None, None),
        ("overall_grade", "outstanding", "good"),
    ]
    assert history[1]["reason"] == "Impact on the child not evidenced"
    agg = analysis.aggregate(db, review)
    dist(agg.headline.whole, levels(g=3, ri=2, i=1), good=(3, 6))

    # A draft cannot be moderated through the web either.
    draft = client.get(f"/reviews/{review.id}/audits/{dataset.first['C07']}/moderate")
    assert draft.status_code == 302
    assert moderation.for_audit(db, dataset.first["C07"]) == []


# --------------------------------------------------------------------------- 6. second audits


def test_second_audits_never_go_to_the_first_reviewer(db, people) -> None:  # type: ignore[no-untyped-def]
    rubric = mini()
    review, ids = new_review(db, people, rubric, [("cp", "Team A")] * 6)
    review_data.add_member(db, review.id, people["admin"].id, "reviewer")
    # Two cases were started by ``other`` although assigned to ``reviewer``.
    first_by = {case_id: people["reviewer"].id for case_id in ids}
    for case_id in ids[:2]:
        audits.start(db, case_id, people["other"].id)
        first_by[case_id] = people["other"].id
    assert audits.choose_second_audits(db, review.id, ids, by=people["lead"].id) == 6
    chosen = {c["id"]: c for c in review_data.case_files(db, review.id)}
    for case_id in ids:
        assert chosen[case_id]["second_audit"] == 1
        assert chosen[case_id]["second_assigned_to"] != first_by[case_id]
        assert chosen[case_id]["second_assigned_to"] in {
            people[name].id for name in ("reviewer", "other", "admin")
        }
    # Choosing again adds nothing.
    assert audits.choose_second_audits(db, review.id, ids, by=people["lead"].id) == 0

    lonely, [only] = new_review(db, people, rubric, [("cp", "A")], title="Lonely")
    db.execute(
        "DELETE FROM review_member WHERE review_id = ? AND user_id = ?",
        [lonely.id, people["other"].id],
    )
    with pytest.raises(ValueError):
        audits.choose_second_audits(db, lonely.id, [only], by=people["lead"].id)


def test_second_audit_is_blind_until_both_are_submitted(db, people, app) -> None:  # type: ignore[no-untyped-def]
    rubric = mini()
    review, [case_id] = new_review(db, people, rubric, [("cp", "Team A")])
    good = answers("yes", "good", "yes", "good", "good")
    first = score(db, rubric, case_id, people["reviewer"].id, good)
    audits.choose_second_audits(db, review.id, [case_id], by=people["lead"].id)
    second = score(db, rubric, case_id, people["other"].id, good, purpose="second", submit=False)

    other = app.test_client()
    Auth(other).sign_in("other")
    reviewer = app.test_client()
    Auth(reviewer).sign_in("reviewer")
    assert other.get(f"/reviews/{review.id}/audits/{first}").status_code == 403
    assert reviewer.get(f"/reviews/{review.id}/audits/{second}").status_code == 403
    assert other.get(f"/reviews/{review.id}/audits/{second}").status_code == 200

    score(db, rubric, case_id, people["other"].id, good, purpose="second")
    assert audits.both_submitted(db, case_id)
    assert other.get(f"/reviews/{review.id}/audits/{first}").status_code == 200
    assert reviewer.get(f"/reviews/{review.id}/audits/{second}").status_code == 200


def test_paired_ratings_use_the_auditors_own_grades(db, dataset) -> None:  # type: ignore[no-untyped-def]
    review = dataset.review
    paired = audits.paired_ratings(db, review.id)
    assert list(paired) == [dataset.cases["C01"]]
    case = paired[dataset.cases["C01"]]
    assert case["pseudonym"] == "C01" and case["case_type"] == "cp"
    assert case["audits"] == {"first": dataset.first["C01"], "second": dataset.second["C01"]}
    # The first audit's overall grade was moderated to RI; agreement uses the reviewer's own.
    assert case["answers"]["first"] == {
        "child_safe": "yes",
        "plan_grade": "outstanding",
        "plan_shared": "yes",
        "plan_reviewed": "good",
        "overall_grade": "good",
    }
    assert case["answers"]["second"] == {  # N/A is left out
        "child_safe": "yes",
        "plan_grade": "good",
        "plan_shared": "no",
        "overall_grade": "outstanding",
    }

    result = agreement.agreement(dataset.rubric, paired)
    assert result["cases"] == 1
    overall = result["overall"]
    assert overall.pairs == 1
    assert overall.exact.value == 0.0 and overall.exact.n == 1
    assert overall.kappa.value is None and overall.kappa.reason == REASON_FEW_PAIRS
    by_question = {q.key: q for q in result["questions"]}
    assert by_question["child_safe"].exact.value == 1.0
    assert by_question["plan_reviewed"].pairs == 0
    assert by_question["plan_reviewed"].exact.reason == REASON_NO_PAIRS
    # The safety section has no grade: agreement is on "every check met", per case.
    assert [s.key for s in result["sections"]] == ["safety", "plan"]
    assert result["sections"][1].exact == by_question["plan_grade"].exact
    assert result["sections"][0].exact.value == 1.0  # both found the child safe
    [disagreement] = result["disagreements"]
    assert disagreement.pseudonym == "C01"
    assert disagreement.differences == (
        ("plan_grade", "outstanding", "good"),
        ("plan_shared", "yes", "no"),
        ("plan_reviewed", "good", None),  # N/A in the second audit
        ("overall_grade", "good", "outstanding"),
    )
    # One step for each grade, one for the check, one for the grade given only once.
    assert disagreement.distance == 4.0

    nothing = agreement.agreement(dataset.rubric, {})
    assert nothing["cases"] == 0
    assert nothing["overall"].exact.reason == REASON_NO_PAIRS
    assert nothing["overall"].kappa.reason == REASON_NO_PAIRS
    assert nothing["overall"].alpha.value is None and nothing["overall"].alpha.reason
    exported = analysis.findings_document(db, review)["agreement"]
    assert exported["cases_audited_twice"] == 1
    assert exported["overall"]["weighted_kappa_quadratic"] == {
        "value": None,
        "reason": REASON_FEW_PAIRS,
        "n": 1,
    }


def test_alpha_not_computable_from_a_single_pair() -> None:
    # docs/statistics.md: "fewer than 2 cases were rated by both auditors: one case cannot
    # show agreement beyond chance", and a figure that cannot be calculated is never shown
    # as 0. One case graded differently must not give alpha = 0.0 (nor kappa, which is right).
    rubric = mini()
    one = {
        "case1": {
            "pseudonym": "C01",
            "case_type": "cp",
            "audits": {"first": "a1", "second": "b1"},
            "answers": {
                "first": {"overall_grade": "good"},
                "second": {"overall_grade": "inadequate"},
            },
        }
    }
    overall = agreement.agreement(rubric, one)["overall"]
    assert overall.kappa.value is None and overall.kappa.reason == REASON_FEW_PAIRS
    assert overall.alpha.value is None
    assert overall.alpha.reason == REASON_FEW_PAIRS


def test_agreement_computed_with_enough_pairs() -> None:
    rubric = mini()
    grades = [("good", "good"), ("good", "outstanding"), ("inadequate", "requires_improvement")]
    cases = {
        f"case{n}": {
            "pseudonym": f"C{n:02d}",
            "case_type": "cp",
            "audits": {"first": f"a{n}", "second": f"b{n}"},
            "answers": {"first": {"overall_grade": a}, "second": {"overall_grade": b}},
        }
        for n, (a, b) in enumerate(grades, start=1)
    }
    result = agreement.agreement(rubric, cases)
    overall = result["overall"]
    assert overall.pairs == 3
    assert overall.exact == exact_agreement(grades)
    assert overall.exact.value == pytest.approx(1 / 3)
    assert overall.kappa == cohen_kappa(grades, list(LEVELS), weights="quadratic")
    assert overall.kappa.value is not None
    assert overall.alpha == krippendorff_alpha(
        [list(p) for p in grades], level="ordinal", categories=list(LEVELS)
    )
    assert overall.alpha.value is not None
    assert [d.pseudonym for d in result["disagreements"]] == ["C02", "C03"]


# --------------------------------------------------------------------------- 7. JSON export


def _no_nan(value: str) -> Any:
    raise ValueError(f"not JSON: {value}")


def test_findings_json_command_matches_the_aggregation(tmp_path: Path) -> None:
    runner = CliRunner()
    inst = str(tmp_path / "inst")
    seeded = runner.invoke(main, ["demo", "--instance", inst])
    assert seeded.exit_code == 0, seeded.output
    review_id = runner.invoke(main, ["review", "list", "--instance", inst]).stdout[:36]
    result = runner.invoke(main, ["findings", review_id, "--json", "--instance", inst])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout, parse_constant=_no_nan)
    assert {
        "format_version",
        "headline",
        "safeguarding",
        "sections",
        "questions",
        "timeliness",
        "moderation",
        "agreement",
        "suggested_findings",
        "curated_findings",
    } <= set(doc)
    assert doc["format_version"] == 1

    db = connect(Path(inst) / "audit.db")
    try:
        review = review_data.get(db, review_id)
        agg = analysis.aggregate(db, review)
        assert doc["audited_cases"] == agg.audited > 0
        assert doc["headline"]["overall_judgement"] == agg.headline.as_dict()
        whole = doc["headline"]["overall_judgement"]["all"]["good_or_better"]
        assert whole == wilson(whole["count"], whole["n"]).as_dict()
        assert [lv["id"] for lv in doc["headline"]["scale"]] == [
            lv.id for lv in review.rubric.scale.levels
        ]
        assert doc["safeguarding"]["cases_not_adequately_safeguarded"] == agg.critical["cases"]
        assert doc["safeguarding"]["alerts_recorded"] == agg.critical["recorded"]
        assert [s["id"] for s in doc["sections"]] == [s.section.id for s in agg.sections]
        assert doc["sections"][0]["all"] == agg.sections[0].breakdown.whole.as_dict()
        assert [s["key"] for s in doc["suggested_findings"]] == [
            s.key for s in findings.suggest(agg)
        ]
        assert doc["moderation"] == analysis.moderation_summary(db, review)
        assert doc == json.loads(
            json.dumps(analysis.findings_document(db, review), allow_nan=False)
        )
    finally:
        db.conn.close()
    missing = runner.invoke(main, ["findings", "no-such-review", "--json", "--instance", inst])
    assert missing.exit_code == 1


# --------------------------------------------------------------------------- report appendix


def test_appendix_dagger_marks_the_moderated_answer_not_the_overall(db, dataset) -> None:  # type: ignore[no-untyped-def]
    """C01's overall judgement was moderated, C06's plan grade: each dagger where it belongs."""
    from audit.data import reports as report_data
    from audit.reporting import report

    audited = report_data.audited_cases(db, dataset.review.id)
    from audit.data import moderation as moderation_data

    appendix = report._appendix(
        report._case_grades(db, dataset.review),
        moderation_data.moderated_questions(db, dataset.review.id),
        dataset.review,
        audited,
    )
    assert appendix["columns"] == ["Plans"]
    rows = {row["pseudonym"]: row for row in appendix["rows"]}
    assert rows["C01"]["overall_moderated"] is True
    assert [g["moderated"] for g in rows["C01"]["grades"]] == [False]
    assert rows["C06"]["overall_moderated"] is False
    assert rows["C06"]["grades"] == [{"label": "Requires improvement", "moderated": True}]
    for name in ("C02", "C03", "C04", "C05"):
        assert not rows[name]["moderated"] and not rows[name]["overall_moderated"]
        assert not any(g["moderated"] for g in rows[name]["grades"])


def test_a_case_adverse_on_two_critical_questions_counts_once() -> None:
    """With several critical questions the count goes case by case; with one, answers are cases."""
    two = MINI.replace(
        '        adverse_answer: "no"\n',
        '        adverse_answer: "no"\n'
        "      - id: harm_now\n"
        "        text: Is the child at risk of significant harm now?\n"
        "        type: yes_no\n"
        "        critical: true\n"
        '        good_answer: "no"\n'
        '        adverse_answer: "yes"\n',
        1,
    )
    rubric = parse_rubric(two)
    assert [q.id for q in rubric.critical_questions()] == ["child_safe", "harm_now"]
    assert findings.case_answer_questions(rubric) == ["child_safe", "harm_now"]
    audits = [
        {"audit_id": f"a{n}", "case_type": "cp", "team": "T", "sections_na": []} for n in (1, 2, 3)
    ]
    answers = {
        "a1": {"child_safe": "no", "harm_now": "yes"},  # adverse on both: one case
        "a2": {"child_safe": "yes", "harm_now": "yes"},
        "a3": {"child_safe": "yes", "harm_now": "no"},
    }
    rows = [
        {"question_id": q, "value": v, "not_applicable": 0, "case_type": "cp", "team": "T", "n": 1}
        for given in answers.values()
        for q, v in given.items()
    ]
    agg = findings.aggregate(rubric, audits, rows, case_answers=answers)
    assert agg.critical["cases"] == 2 and agg.critical["audited"] == 3
    # The single-question rubric reads the same count from its answers, not case by case.
    mini = parse_rubric(MINI)
    one = findings.aggregate(mini, audits, [r for r in rows if r["question_id"] == "child_safe"])
    assert one.critical["cases"] == 1
