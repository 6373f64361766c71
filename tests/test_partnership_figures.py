"""Partnership figures recomputed independently: per agency, partnership-wide and compared.

A partnership of five children and four agencies is answered at random (a fixed seed): grades
on the whole scale, checks met or not, "not applicable" where allowed, an agency's own
section marked as not applying, drafts that must not count, three panels held. Every count
and share is then worked out again here, straight from the answers, with a Wilson interval
written out by hand, and compared with what the figures module registered and what the pages
and the report print.
"""

from __future__ import annotations

import html
import math
import random
import re
from collections import Counter
from typing import Any

import pytest
from flask import Flask

from audit.data import agency_audits, panels, reviews, users
from audit.partnership import analysis
from audit.rubric import NOT_APPLICABLE, Rubric, agency_part, panel_part
from audit.rubric.agency_parts import compared_questions
from audit.scoring import Answer, adverse, applicable
from tests.conftest import PASSWORD, Auth
from tests.partnership_helpers import auditor, partnership

AGENCIES = ["childrens_social_care", "police", "health_visiting", "education"]
CHILDREN = [
    ("cp", {"childrens_social_care": "C1", "police": "P1", "health_visiting": "H1"}),
    ("cin", {"childrens_social_care": "C2", "education": "E2"}),
    ("cp", {"police": "P3", "health_visiting": "H3", "education": "E3"}),
    ("early_help", {"health_visiting": "H4", "education": "E4"}),
    ("cla", {"childrens_social_care": "C5", "police": "P5", "education": "E5"}),
]
LEVELS = ["outstanding", "good", "requires_improvement", "inadequate"]


def wilson(k: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (0.0 if k == 0 else centre - half, 1.0 if k == n else centre + half)


def random_answers(part: Rubric, case_type: str, rng: random.Random) -> dict[str, Answer]:
    out = {}
    for _section, questions in applicable(part, case_type):
        for q in questions:
            if q.allow_na and rng.random() < 0.2:
                out[q.id] = Answer(None, True, "")
            elif q.type == "grade":
                out[q.id] = Answer(rng.choice(LEVELS), False, "Note.")
            elif q.type == "yes_no":
                out[q.id] = Answer(rng.choice(["yes", "yes", "no"]), False, "Note.")
            else:
                out[q.id] = Answer("Synthetic text.", False, "")
    return out


@pytest.fixture
def built(app: Flask, db: Any) -> dict[str, Any]:
    rng = random.Random(19)
    lead = users.create(db, "lead", PASSWORD, "lead")
    review, cases = partnership(db, lead, CHILDREN)
    people = {a: auditor(db, f"a{i}", a) for i, a in enumerate(AGENCIES)}
    raw: dict[tuple[str, str], dict[str, Any]] = {}
    agency_of: dict[str, str] = {}

    def save(
        audit_id: str, answers: Any, na: set[str], version: int, submit: bool, unsafe: bool
    ) -> Any:
        return agency_audits.save(
            db,
            audit_id,
            expected_version=version,
            answers=answers,
            sections_na=na,
            adverse_questions=["child_safe"] if unsafe else [],
            critical_questions=["child_safe"],
            by=people[agency_of[audit_id]].id,
            submit=submit,
        )

    for case_id, (case_type, known) in zip(cases, CHILDREN, strict=True):
        for agency_id in known:
            part = agency_part(review.rubric, agency_id)
            answers = random_answers(part, case_type, rng)
            # The police find the first child not adequately safeguarded: the alert is raised
            # on saving and the audit is submitted once the escalation is recorded.
            unsafe = case_id == cases[0] and agency_id == "police"
            answers["child_safe"] = Answer("no" if unsafe else "yes", False, "x")
            own = [s.id for s, _ in applicable(part, case_type) if not s.compulsory]
            sections_na = set(own) if own and rng.random() < 0.35 else set()
            submit = unsafe or rng.random() < 0.85
            audit_id = agency_audits.start(db, review.id, case_id, agency_id, by=lead.id)
            agency_of[audit_id] = agency_id
            result = save(audit_id, answers, sections_na, 1, submit, unsafe)
            if unsafe:
                assert result.raised and not result.submitted
                agency_audits.record_escalation(
                    db,
                    result.raised[0],
                    review.id,
                    told_who="Inspector",
                    told_at="2026-10-27",
                    agreed_action="Visit today.",
                    by=lead.id,
                )
                result = save(audit_id, answers, sections_na, result.version, submit, unsafe)
            assert result.submitted == submit
            raw[(case_id, agency_id)] = {
                "answers": answers,
                "sections_na": sections_na,
                "submitted": submit,
                "case_type": case_type,
            }
    held = {}
    for index in (0, 1, 4):
        case_id, case_type = cases[index], CHILDREN[index][0]
        part = panel_part(review.rubric)
        answers = random_answers(part, case_type, rng)
        answers["child_safe"] = Answer("no" if index == 4 else "yes", False, "x")
        panels.open_panel(db, review.id, case_id, by=lead.id)
        version = panels.get(db, review.id, case_id).version  # type: ignore[union-attr]
        panels.save(
            db,
            review.id,
            case_id,
            expected_version=version,
            answers=answers,
            held_on="2026-10-27",
            adverse_questions=[q.id for q in adverse(part, case_type, answers)],
            critical_questions=["child_safe"],
            by=lead.id,
            agree=True,
        )
        held[case_id] = (case_type, answers)
    # A panel that is open but not held does not count.
    panels.open_panel(db, review.id, cases[2], by=lead.id)
    return {"review": reviews.get(db, review.id), "cases": cases, "raw": raw, "held": held}


def _values(part: Rubric, units: list[tuple[str, str, dict[str, Answer], set[str]]]) -> Counter:
    """Count (question, value) over units (case, case type, answers, sections marked N/A)."""
    found: Counter[tuple[str, str]] = Counter()
    for _case, case_type, answers, sections_na in units:
        for section, questions in applicable(part, case_type):
            for q in questions:
                if q.type == "text":
                    continue
                if section.id in sections_na:
                    found[(q.id, NOT_APPLICABLE)] += 1
                elif q.id in answers and answers[q.id].answered:
                    found[(q.id, answers[q.id].effective)] += 1  # type: ignore[index]
    return found


def test_every_count_and_share_is_what_the_answers_say(built: dict[str, Any], db: Any) -> None:
    review = built["review"]
    f = analysis.figures(db, review)
    rubric = review.rubric
    parties: dict[str, list[tuple[str, str, dict[str, Answer], set[str]]]] = {
        a: [
            (case_id, r["case_type"], r["answers"], r["sections_na"])
            for (case_id, agency_id), r in built["raw"].items()
            if agency_id == a and r["submitted"]
        ]
        for a in AGENCIES
    }
    parties["panel"] = [(c, t, answers, set()) for c, (t, answers) in built["held"].items()]
    checked = 0
    for party, units in parties.items():
        part = panel_part(rubric) if party == "panel" else agency_part(rubric, party)
        assert f.count(f"{party}/children") == len(units)
        expected = _values(part, units)
        for q in part.questions:
            if q.type == "text":
                continue
            values = LEVELS if q.type == "grade" else ["yes", "no"]
            for value in [*values, NOT_APPLICABLE]:
                assert f.count(f"{party}/q/{q.id}/value/{value}") == expected[(q.id, value)], (
                    party,
                    q.id,
                    value,
                )
                checked += 1
            answered = sum(expected[(q.id, v)] for v in values)
            good = sum(expected[(q.id, v)] for v in values if q.is_good(v, rubric.scale))
            row = next(
                r
                for s in (f.panel if party == "panel" else f.by_agency[party]).sections
                for r in s.questions
                if r.question.id == q.id
            )
            assert row.good is not None
            p = row.good.proportion
            assert (p.count, p.n, p.unit) == (good, answered, "cases")
            if answered:
                low, high = wilson(good, answered)
                assert p.low == pytest.approx(low) and p.high == pytest.approx(high)
        # Overall: the overall question's grade, good or better.
        overall = [a[rubric.overall.question] for _c, _t, a, _n in units]
        judged = [a.value for a in overall if a.answered and not a.not_applicable]
        results = f.panel if party == "panel" else f.by_agency[party]
        assert results.overall_good is not None
        got = results.overall_good.proportion
        assert (got.count, got.n) == (
            sum(v in ("outstanding", "good") for v in judged),
            len(judged),
        )
        # A section without a grade: a child counts as good when every check answered was met.
        for section in part.sections:
            if section.grade_question or not any(q.type == "yes_no" for q in section.questions):
                continue
            good_children = judged_children = 0
            for _c, case_type, answers, sections_na in units:
                if section.id in sections_na or not section.applies(case_type):
                    continue
                given = [
                    answers[q.id]
                    for q in section.questions
                    if q.type == "yes_no"
                    and q.applies(case_type)
                    and q.id in answers
                    and answers[q.id].answered
                    and not answers[q.id].not_applicable
                ]
                if given:
                    judged_children += 1
                    good_children += all(a.value == "yes" for a in given)
            assert f.count(f"{party}/section/{section.id}/good") == good_children
            assert f.count(f"{party}/section/{section.id}/judged") == judged_children
    assert checked > 200
    # How each agency's grades compare with the panel's, child by child.
    for agency_id in AGENCIES:
        steps = []
        for case_id, (_t, agreed) in built["held"].items():
            mine = built["raw"].get((case_id, agency_id))
            if not mine or not mine["submitted"]:
                continue
            for question_id in compared_questions(rubric):
                q = rubric.question(question_id)
                a, b = mine["answers"].get(question_id), agreed.get(question_id)
                if q.type != "grade" or not a or not b or a.not_applicable or b.not_applicable:
                    continue
                steps.append(LEVELS.index(b.value) - LEVELS.index(a.value))
        total = next((c for c in f.comparisons.get(agency_id, ()) if c.question is None), None)
        if not steps:
            assert total is None
            continue
        assert total is not None
        assert f.count(total.pairs) == len(steps)
        assert f.count(total.same) == steps.count(0)
        assert f.count(total.higher or "") == sum(s > 0 for s in steps)
        assert f.count(total.lower or "") == sum(s < 0 for s in steps)
        assert total.mean_steps == pytest.approx(sum(steps) / len(steps))
        assert total.agreement is not None and total.agreement.proportion.unit == "answers"
    # The agencies' own answers pooled: a share of answers, clustered by child.
    for question, share in f.pooled:
        given = [
            r["answers"][question.id]
            for r in built["raw"].values()
            if r["submitted"]
            and question.id in r["answers"]
            and r["answers"][question.id].answered
            and not r["answers"][question.id].not_applicable
        ]
        p = share.proportion
        assert p.n == len(given) and p.unit == "answers"
        assert p.count == sum(bool(question.is_good(a.value, rubric.scale)) for a in given)
    # Children's safety: the panel's adverse agreed answer, any agency's, and the alerts.
    assert f.count("safety/panel/not_safe") == 1
    assert f.count("safety/any_agency/not_safe") == 1
    assert f.count("safety/police/not_safe") == 1
    alerts = agency_audits.escalations(db, review.id)
    assert f.count("alerts/raised") == len(alerts) == 2  # the police's and the panel's
    assert f.count("alerts/recorded") == sum(1 for a in alerts if a["recorded_at"])
    # Every count is the number of its records, and the records are the figures' own.
    for count in f.counts.values():
        assert count.value == len(count.cells) and count.cells <= f.cells


def test_a_figure_shown_on_the_page_and_in_the_report_is_the_same(
    built: dict[str, Any], app: Flask, db: Any
) -> None:
    review = built["review"]
    f = analysis.figures(db, review)
    from audit.partnership.figures import share_words

    headline = share_words(f.panel.overall_good)
    client = app.test_client()
    assert Auth(client).sign_in("lead").status_code == 302
    page = html.unescape(client.get(f"/reviews/{review.id}/partnership/findings").text)
    report = html.unescape(client.get(f"/reviews/{review.id}/partnership/report").text)
    for text in (page, report):
        assert headline in re.sub(r"\s+", " ", text)
    for agency_id, _name in f.agencies:
        share = share_words(f.by_agency[agency_id].overall_good)
        assert share in re.sub(r"\s+", " ", report)
