"""How far the auditors agree: per question, per section and on the overall judgement.

Rater 1 is always the first audit and rater 2 the second, whoever did them. Agreement uses
each auditor's own grades (moderation is a third opinion, not an auditor's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit.rubric import Question, Rubric
from audit.stats import (
    REASON_FEW_PAIRS,
    REASON_NO_PAIRS,
    Statistic,
    cohen_kappa,
    exact_agreement,
    krippendorff_alpha,
)


@dataclass(frozen=True)
class AgreementResult:
    """Agreement statistics for one question, section or the overall judgement."""

    key: str
    label: str
    pairs: int
    exact: Statistic
    kappa: Statistic
    alpha: Statistic

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form ("not computable" is a null value with its reason)."""
        return {
            "key": self.key,
            "label": self.label,
            "pairs": self.pairs,
            "exact_agreement": self.exact.as_dict(),
            "weighted_kappa_quadratic": self.kappa.as_dict(),
            "krippendorff_alpha_ordinal": self.alpha.as_dict(),
        }


@dataclass(frozen=True)
class Disagreement:
    """A case where the two audits differ, for the calibration conversation."""

    case_id: str
    pseudonym: str
    first_audit: str
    second_audit: str
    distance: float
    differences: tuple[tuple[str, str | None, str | None], ...]  # (question id, first, second)


def _result(
    key: str, label: str, pairs: list[tuple[Any, Any]], categories: list[str], nominal: bool = False
) -> AgreementResult:
    present = [(a, b) for a, b in pairs if a is not None and b is not None]
    level = "nominal" if nominal else "ordinal"
    if len(present) < 2:
        # One case cannot show agreement beyond chance: say so rather than print 0 or 1.
        alpha = Statistic(None, REASON_FEW_PAIRS if present else REASON_NO_PAIRS, len(present))
    else:
        alpha = krippendorff_alpha([list(p) for p in pairs], level=level, categories=categories)
    return AgreementResult(
        key=key,
        label=label,
        pairs=len(present),
        exact=exact_agreement(present),
        kappa=cohen_kappa(present, categories, weights="none" if nominal else "quadratic"),
        alpha=alpha,
    )


def agreement(rubric: Rubric, cases: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Compute agreement for every graded and yes/no question, each section and overall.

    ``cases`` comes from ``audits.paired_ratings``: per case, the first and second audits'
    answers. Yes/no questions use unweighted kappa and nominal alpha.
    """
    levels = [level.id for level in rubric.scale.levels]
    questions = []
    for question in rubric.questions:
        if question.type == "text":
            continue
        pairs = [
            (c["answers"]["first"].get(question.id), c["answers"]["second"].get(question.id))
            for c in cases.values()
            if question.applies(c["case_type"])
        ]
        nominal = question.type == "yes_no"
        questions.append(
            _result(
                question.id, question.text, pairs, ["yes", "no"] if nominal else levels, nominal
            )
        )
    by_question = {item.key: item for item in questions}
    sections = []
    for section in rubric.sections:
        if section.grade_question and section.grade_question in by_question:
            graded = by_question[section.grade_question]
            sections.append(
                AgreementResult(
                    section.id,
                    section.title,
                    graded.pairs,
                    graded.exact,
                    graded.kappa,
                    graded.alpha,
                )
            )
            continue
        checks = [q for q in section.questions if q.type == "yes_no"]
        if section.grade_question or not checks:
            continue
        # A section without a grade is counted per case as "every check met": agree on that.
        pairs = [
            (_all_met(checks, c, "first"), _all_met(checks, c, "second"))
            for c in cases.values()
            if section.applies(c["case_type"])
        ]
        sections.append(_result(section.id, section.title, pairs, ["yes", "no"], nominal=True))
    overall_pairs = [
        (
            rubric.overall.judge(c["answers"]["first"], rubric),
            rubric.overall.judge(c["answers"]["second"], rubric),
        )
        for c in cases.values()
    ]
    return {
        "cases": len(cases),
        "overall": _result("overall", "Overall judgement", overall_pairs, levels),
        "sections": sections,
        "questions": questions,
        "disagreements": disagreements(rubric, cases),
    }


def _all_met(checks: list[Question], case: Mapping[str, Any], audit: str) -> str | None:
    """Return "yes" if every check this audit answered had the good answer, None if none."""
    given = [
        (q, case["answers"][audit][q.id])
        for q in checks
        if q.applies(case["case_type"]) and q.id in case["answers"][audit]
    ]
    if not given:
        return None
    return "yes" if all(value == q.good_answer for q, value in given) else "no"


def disagreements(
    rubric: Rubric, cases: Mapping[str, Mapping[str, Any]], limit: int = 10
) -> list[Disagreement]:
    """Return the cases where the auditors' grades are furthest apart, most different first.

    Distance is the sum, over graded questions both answered, of the gap in scale steps,
    plus one for each yes/no answered differently and each question only one answered.
    """
    rank = {level.id: i for i, level in enumerate(rubric.scale.levels)}
    out = []
    for case_id, case in cases.items():
        first, second = case["answers"]["first"], case["answers"]["second"]
        distance = 0.0
        differences = []
        for question in rubric.questions:
            a, b = first.get(question.id), second.get(question.id)
            if question.type == "text" or a == b or (a is None and b is None):
                continue
            differences.append((question.id, a, b))
            if question.type == "grade" and a in rank and b in rank:
                distance += abs(rank[a] - rank[b])
            else:
                distance += 1
        if differences:
            out.append(
                Disagreement(
                    case_id,
                    case["pseudonym"],
                    case["audits"]["first"],
                    case["audits"]["second"],
                    distance,
                    tuple(differences),
                )
            )
    out.sort(key=lambda d: (-d.distance, d.pseudonym))
    return out[:limit]
