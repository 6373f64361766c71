"""Trends over a programme's reviews: share good or better per review, and each change.

Pure functions over :class:`audit.findings.Aggregation` objects, one per review in time
order: no Flask, no SQL. The programme page, the report and the JSON export all call
:func:`trend`, so they show the same figures.

Each review's figure is its share good or better with a Wilson interval (as on the findings
page). A change between consecutive reviews comes with Newcombe's hybrid score interval for
the difference of two independent shares (Newcombe 1998b, method 10; ``stats.newcombe_
difference``), which keeps close to 95% on 40 cases where Wald's interval does not.

Where the rubric changed between reviews only questions with the same id, the same type and
the same scale (grade) or good answer (yes/no) are compared; :func:`comparability` says which
were left out and why, in plain words. See docs/trends.md for leads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from audit.findings import Aggregation, Breakdown, Distribution
from audit.rubric import Question, Rubric, Scale, Section
from audit.stats import Interval, Proportion, newcombe_difference, wilson

__all__ = [
    "NOT_COMPUTABLE",
    "OVERALL_LABEL",
    "Change",
    "Comparability",
    "Point",
    "Series",
    "as_dict",
    "comparability",
    "trend",
]

OVERALL_LABEL = "Overall judgement"
NOT_COMPUTABLE = "not computable: no answers in one review"

_SCORED = ("grade", "yes_no")
_TYPE_WORDS = {"grade": "graded", "yes_no": "yes/no", "text": "text"}
# Below this a difference is treated as exactly zero (float noise from p2 - p1).
_ZERO = 1e-9


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class Point:
    """One review's figure: the share good or better, with its Wilson interval."""

    review_id: str
    label: str
    good: Proportion

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form."""
        return {
            "review_id": self.review_id,
            "label": self.label,
            "good_or_better": self.good.as_dict(),
        }


@dataclass(frozen=True)
class Change:
    """The change between two consecutive reviews: p_to - p_from with Newcombe's interval.

    All of ``difference`` is None when either review has no answers.
    """

    from_review: str
    to_review: str
    difference: Interval

    @property
    def significant(self) -> bool | None:
        """Tell whether the 95% interval excludes 0; None when it cannot be computed."""
        low, high = self.difference.low, self.difference.high
        if low is None or high is None:
            return None
        return low > 0 or high < 0

    def describe(self) -> str:
        """Say the change in plain words, e.g. "up 12 points (95% interval -8 to +31): could be
        noise" or "down 25 points (95% interval -44 to -4): a real fall"."""
        estimate, low, high = self.difference.estimate, self.difference.low, self.difference.high
        if estimate is None or low is None or high is None:
            return NOT_COMPUTABLE
        interval = f"95% interval {_signed_points(low)} to {_signed_points(high)}"
        return f"{_size(estimate)} ({interval}): {self.verdict}"

    def amount(self) -> str | None:
        """Say the change and its interval briefly, for a table: "up 12 points (-8 to +31)".

        None when it cannot be computed (a review without answers).
        """
        estimate, low, high = self.difference.estimate, self.difference.low, self.difference.high
        if estimate is None or low is None or high is None:
            return None
        return f"{_size(estimate)} ({_signed_points(low)} to {_signed_points(high)})"

    @property
    def verdict(self) -> str | None:
        """Say whether the change is real: "a real rise", "a real fall" or "could be noise"."""
        low, high = self.difference.low, self.difference.high
        if low is None or high is None:
            return None
        if low > 0:
            return "a real rise"
        if high < 0:
            return "a real fall"
        return "could be noise"

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form, with the plain-words description."""
        return {
            "from_review": self.from_review,
            "to_review": self.to_review,
            "difference": self.difference.as_dict(),
            "significant": self.significant,
            "description": self.describe(),
        }


@dataclass(frozen=True)
class Series:
    """One line of the trend: a figure per review and the change between consecutive ones.

    ``key`` is "overall", "section:<id>" or "question:<id>".
    """

    key: str
    label: str
    points: tuple[Point, ...]
    changes: tuple[Change, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form."""
        return {
            "key": self.key,
            "label": self.label,
            "points": [point.as_dict() for point in self.points],
            "changes": [change.as_dict() for change in self.changes],
        }


@dataclass(frozen=True)
class Comparability:
    """Which questions can be compared across the reviews, which were left out and why.

    ``comparable_questions``: graded and yes/no question ids in every review's rubric with
    the same type and the same scale (level ids, values and the good-or-better set) or the
    same good answer, in the latest rubric's order. ``left_out``: (question id, reason in
    plain words) for every other graded or yes/no question, in rubric order with questions
    added later at the end. ``rubric_versions``: (review label, rubric id, version) in
    time order, to show where the rubric changed.
    """

    comparable_questions: tuple[str, ...]
    left_out: tuple[tuple[str, str], ...]
    rubric_versions: tuple[tuple[str, str, str], ...]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form."""
        return {
            "comparable_questions": list(self.comparable_questions),
            "left_out": [
                {"question_id": question_id, "reason": reason}
                for question_id, reason in self.left_out
            ],
            "rubric_versions": [
                {"review": label, "rubric_id": rubric_id, "version": version}
                for label, rubric_id, version in self.rubric_versions
            ],
        }


# --------------------------------------------------------------------------- wording


def _signed_points(share: float) -> str:
    """Format a difference as signed percentage points, whole unless that would hide the sign."""
    value = share * 100
    if abs(value) < _ZERO:
        return "0"
    whole = round(value)
    if whole != 0:
        return f"{whole:+d}"
    # -0.1 must not print as 0: whether the interval includes zero is the point of it.
    return f"{value:+.1f}" if abs(value) >= 0.05 else f"{value:+.1g}"


def _size(estimate: float) -> str:
    """Say how far the share moved: "up 12 points", "down 1 point", "no change"."""
    if abs(estimate) < _ZERO:
        return "no change"
    direction = "up" if estimate > 0 else "down"
    points = round(abs(estimate) * 100)
    if points == 0:
        return f"{direction} less than 1 point"
    return f"{direction} {points} point{'' if points == 1 else 's'}"


# --------------------------------------------------------------------------- comparability


def _scale_signature(scale: Scale) -> tuple[tuple[tuple[str, float], ...], frozenset[str]]:
    """Return what makes two scales count the same: level ids and values, and good or better."""
    return tuple((level.id, level.value) for level in scale.levels), scale.good_or_better


def _change_reason(
    previous: tuple[Question, Rubric], current: tuple[Question, Rubric], label: str
) -> str | None:
    """Say how a question differs from its previous version, or None if it counts the same."""
    (before, old), (after, new) = previous, current
    where = f"in review {label} (rubric version {new.version})"
    if before.type != after.type:
        return (
            f"type changed {where}: was {_TYPE_WORDS.get(before.type, before.type)}, "
            f"now {_TYPE_WORDS.get(after.type, after.type)}"
        )
    if after.type == "grade" and _scale_signature(old.scale) != _scale_signature(new.scale):
        return f"scale changed {where}"
    if after.type == "yes_no" and before.good_answer != after.good_answer:
        return f'good answer changed {where}: was "{before.good_answer}", now "{after.good_answer}"'
    return None


def _reasons(versions: Sequence[tuple[str, Rubric, Question | None]]) -> list[str]:
    """Return why a question cannot be compared across the reviews (empty when it can)."""
    reasons: list[str] = []
    previous: tuple[Question, Rubric] | None = None
    present_before = False
    for index, (label, rubric, question) in enumerate(versions):
        if question is None:
            if present_before:
                reasons.append(f"not in rubric version {rubric.version} of review {label}")
            present_before = False
            continue
        if previous is None:
            if index > 0:
                reasons.append(f"added in rubric version {rubric.version} of review {label}")
        else:
            reason = _change_reason(previous, (question, rubric), label)
            if reason:
                reasons.append(reason)
        previous = (question, rubric)
        present_before = True
    return reasons


def _find(rubric: Rubric, question_id: str) -> Question | None:
    try:
        return rubric.question(question_id)
    except KeyError:
        return None


def comparability(rubrics: Sequence[tuple[str, Rubric]]) -> Comparability:
    """Say which questions can be compared across reviews, given (review label, rubric) in
    time order, and which were left out, with the reason naming the review."""
    rubrics = list(rubrics)
    order: list[str] = []
    seen: set[str] = set()
    for _label, rubric in rubrics:
        for question in rubric.questions:
            if question.id not in seen:
                seen.add(question.id)
                order.append(question.id)
    comparable: set[str] = set()
    left_out: list[tuple[str, str]] = []
    for question_id in order:
        versions = [(label, rubric, _find(rubric, question_id)) for label, rubric in rubrics]
        if all(q is None or q.type not in _SCORED for _l, _r, q in versions):
            continue  # text throughout: there is no share to compare
        reasons = _reasons(versions)
        if reasons:
            left_out.append((question_id, "; ".join(reasons)))
        else:
            comparable.add(question_id)
    latest = rubrics[-1][1] if rubrics else None
    return Comparability(
        comparable_questions=tuple(
            q.id for q in (latest.questions if latest else ()) if q.id in comparable
        ),
        left_out=tuple(left_out),
        rubric_versions=tuple((label, rubric.id, rubric.version) for label, rubric in rubrics),
    )


def _basis(section: Section) -> tuple[str, tuple[str, ...]]:
    """Return what a section's share rests on: its grade question, or its yes/no checks."""
    if section.grade_question:
        return "grade", (section.grade_question,)
    return "checks", tuple(sorted(q.id for q in section.questions if q.type == "yes_no"))


def _comparable_sections(rubrics: Sequence[Rubric], comparable: set[str]) -> list[Section]:
    """Return the latest rubric's sections that count the same way in every review."""
    if not rubrics:
        return []
    out = []
    for section in rubrics[-1].sections:
        bases = set()
        for rubric in rubrics:
            match = [s for s in rubric.sections if s.id == section.id]
            if not match:
                break
            bases.add(_basis(match[0]))
        else:
            if len(bases) == 1:
                (_kind, ids) = next(iter(bases))
                if ids and all(question_id in comparable for question_id in ids):
                    out.append(section)
    return out


# --------------------------------------------------------------------------- trend


def _picker(case_type: str | None, team: str | None) -> Callable[[Breakdown], Proportion]:
    """Return how to read the share from a breakdown: whole, one case type or one team."""
    empty = wilson(0, 0)

    def part(breakdown: Breakdown) -> Proportion:
        source: Mapping[str, Distribution]
        if case_type is not None:
            source, key = breakdown.by_case_type, case_type
        elif team is not None:
            source, key = breakdown.by_team, team
        else:
            return breakdown.whole.good
        found = source.get(key)
        return found.good if found is not None else empty

    return part


def _series(key: str, label: str, points: Sequence[Point]) -> Series:
    changes = tuple(
        Change(
            from_review=before.review_id,
            to_review=after.review_id,
            difference=newcombe_difference(
                before.good.count, before.good.n, after.good.count, after.good.n
            ),
        )
        for before, after in pairwise(points)
    )
    return Series(key=key, label=label, points=tuple(points), changes=changes)


def _overall_question(rubrics: Sequence[Rubric]) -> str | None:
    """Return the overall question id when every rubric judges overall by the same question."""
    ids = {rubric.overall.question for rubric in rubrics}
    return ids.pop() if len(ids) == 1 else None


def trend(
    reviews: Sequence[tuple[str, str, Aggregation]],
    *,
    case_type: str | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    """Return the programme's trend from (review id, label, aggregation) in time order.

    ``{"overall": Series, "sections": [Series], "questions": [Series], "comparability":
    Comparability, "filter": {"case_type": ..., "team": ...}}``. The overall line is each
    review's headline; sections and questions are only those that count the same way in
    every review (see :func:`comparability`), labelled from the latest review's rubric.
    Filter by one case type or one team (the aggregation does not cross the two); a review
    without that case type or team gives a point with no answers.
    """
    if case_type is not None and team is not None:
        raise ValueError("filter by a case type or by a team, not both at once")
    reviews = list(reviews)
    pick = _picker(case_type, team)
    rubrics = [agg.rubric for _id, _label, agg in reviews]
    comp = comparability([(label, agg.rubric) for _id, label, agg in reviews])
    comparable = set(comp.comparable_questions)

    overall = _series(
        "overall",
        OVERALL_LABEL,
        [Point(rid, label, pick(agg.headline)) for rid, label, agg in reviews],
    )
    sections = [
        _series(
            f"section:{section.id}",
            section.title,
            [
                Point(rid, label, pick(agg.section(section.id).breakdown))
                for rid, label, agg in reviews
            ],
        )
        for section in _comparable_sections(rubrics, comparable)
        # A section whose grade is the overall judgement would repeat the overall line.
        if not (section.grade_question and section.grade_question == _overall_question(rubrics))
    ]
    latest = rubrics[-1] if rubrics else None
    questions = [
        _series(
            f"question:{question_id}",
            " ".join(latest.question(question_id).text.split()),
            [
                Point(rid, label, pick(agg.question(question_id).breakdown))
                for rid, label, agg in reviews
            ],
        )
        for question_id in comp.comparable_questions
        if latest is not None
    ]
    return {
        "overall": overall,
        "sections": sections,
        "questions": questions,
        "comparability": comp,
        "filter": {"case_type": case_type, "team": team},
    }


def as_dict(result: Mapping[str, Any]) -> dict[str, Any]:
    """Return a trend from :func:`trend` as JSON-able values, for the findings JSON and API."""
    return {
        "overall": result["overall"].as_dict(),
        "sections": [series.as_dict() for series in result["sections"]],
        "questions": [series.as_dict() for series in result["questions"]],
        "comparability": result["comparability"].as_dict(),
        "filter": dict(result["filter"]),
    }
