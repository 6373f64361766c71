"""Learning themes: checking a theme list, reading tag forms, and a programme's theme page.

Plain Python over rows the data layer returns (no Flask, no SQL). The theme page counts,
per theme and review, the audits and findings carrying the theme, links the theme to the
actions on those findings, and says for each themed question whether later reviews
improved, with the same Newcombe difference the trends page uses (:mod:`audit.trends`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.data.themes import Theme
from audit.rubric import Question, Rubric
from audit.stats import newcombe_difference
from audit.trends import Change, Series

NAME_MAX = 80
DESCRIPTION_MAX = 500


@dataclass(frozen=True)
class Problem:
    """A problem with a form field: which field and what is wrong, in plain words."""

    field: str
    message: str


def check_theme(name: str, description: str, taken: Iterable[str] = ()) -> list[Problem]:
    """Return what is wrong with a theme's name and description (empty when it is fine)."""
    problems = []
    clean = " ".join(name.split())
    if not clean:
        problems.append(Problem("name", "Enter the theme's name, for example Drift"))
    elif len(clean) > NAME_MAX:
        problems.append(Problem("name", f"The name must be {NAME_MAX} characters or fewer"))
    elif clean.casefold() in {t.casefold() for t in taken}:
        problems.append(Problem("name", f"The list already has a theme called {clean}"))
    if len(description.strip()) > DESCRIPTION_MAX:
        problems.append(
            Problem("description", f"The description must be {DESCRIPTION_MAX} characters or fewer")
        )
    return problems


def usable(themes: Sequence[Theme], held: Iterable[str] = ()) -> list[Theme]:
    """Return the themes a tag form offers: current ones, and retired ones already held."""
    kept = set(held)
    return [t for t in themes if not t.retired or t.id in kept]


def chosen(posted: Iterable[str], offered: Sequence[Theme], held: Iterable[str] = ()) -> set[str]:
    """Return the theme ids ticked on a form that may be kept: offered current ones, or held.

    A retired theme can be unticked but never newly ticked; an unknown id is ignored.
    """
    allowed = {t.id for t in offered if not t.retired} | set(held)
    return {theme_id for theme_id in posted if theme_id in allowed}


@dataclass(frozen=True)
class EvidenceNote:
    """An answer's evidence text, with the question it answers, for the tagging page."""

    question: Question
    section_title: str
    text: str


def evidence_notes(rubric: Rubric, evidence: Mapping[str, str]) -> list[EvidenceNote]:
    """Return the audit's non-empty evidence notes in rubric order."""
    notes = []
    for section in rubric.sections:
        for question in section.questions:
            text = (evidence.get(question.id) or "").strip()
            if text:
                notes.append(EvidenceNote(question, section.title, text))
    return notes


# --------------------------------------------------------------------------- the theme page


@dataclass(frozen=True)
class ReviewCount:
    """One theme in one review: audits carrying it (of those submitted) and findings."""

    review_id: str
    label: str
    audits: int
    submitted: int
    findings: int


@dataclass(frozen=True)
class QuestionChange:
    """A themed question over the programme: its trend and the first-to-latest change."""

    question_id: str
    label: str
    series: Series | None
    overall: Change | None
    reason: str  # why there is no comparison, when there is none

    @property
    def improved(self) -> bool | None:
        """Tell whether the latest review is really better than the first (None: unknown)."""
        low = None if self.overall is None else self.overall.difference.low
        return None if low is None else low > 0

    def describe(self) -> str:
        """Say in plain words how the share moved from the first review to the latest."""
        if self.overall is None:
            return self.reason
        return self.overall.describe()


@dataclass(frozen=True)
class ThemeSummary:
    """Everything the theme page shows for one theme."""

    theme: Theme
    counts: tuple[ReviewCount, ...]
    findings: frozenset[str]
    actions: tuple[dict[str, Any], ...]
    questions: tuple[QuestionChange, ...]

    @property
    def audits(self) -> int:
        """Return the audits carrying the theme across the programme."""
        return sum(c.audits for c in self.counts)

    @property
    def finding_count(self) -> int:
        """Return the accepted findings carrying the theme across the programme."""
        return sum(c.findings for c in self.counts)


def _question_change(
    question_id: str,
    trend: Mapping[str, Any] | None,
    rubric: Rubric | None,
) -> QuestionChange:
    """Compare a themed question's share between the first and latest review of the trend."""
    label = question_id
    if rubric is not None:
        with contextlib.suppress(KeyError):
            label = " ".join(rubric.question(question_id).text.split())
    series = None
    if trend is not None:
        series = next((s for s in trend["questions"] if s.key == f"question:{question_id}"), None)
    if series is None:
        reason = "not compared: the question has no share good or better (a text question)"
        if trend is not None:
            left = dict(trend["comparability"].left_out)
            if question_id in left:
                reason = f"not compared: {left[question_id]}"
        return QuestionChange(question_id, label, None, None, reason)
    # The first and latest reviews with answers: a review just started has none yet.
    answered = [point for point in series.points if point.good.n]
    if len(answered) < 2:
        return QuestionChange(
            question_id,
            series.label,
            series,
            None,
            "not compared: fewer than two reviews have answers to it",
        )
    first, last = answered[0], answered[-1]
    change = Change(
        from_review=first.review_id,
        to_review=last.review_id,
        difference=newcombe_difference(
            first.good.count, first.good.n, last.good.count, last.good.n
        ),
    )
    return QuestionChange(question_id, series.label, series, change, "")


def theme_page(
    themes: Sequence[Theme],
    reviews: Sequence[tuple[str, str]],
    counts: Iterable[Mapping[str, Any]],
    submitted: Mapping[str, int],
    themed_questions: Mapping[str, set[str]],
    finding_tags: Mapping[str, set[str]],
    actions: Iterable[Mapping[str, Any]],
    trend: Mapping[str, Any] | None,
    rubric: Rubric | None,
) -> list[ThemeSummary]:
    """Put together the theme page: per theme, counts per review, its actions, its questions.

    ``reviews`` are (review id, label) in time order; ``counts`` rows come from
    ``data.themes.counts``; ``trend`` is :func:`audit.trends.trend` over the same reviews;
    ``rubric`` (the latest review's) orders and words the questions.
    """
    by_key = {(row["theme_id"], row["review_id"]): row for row in counts}
    actions = list(actions)
    order = {q.id: i for i, q in enumerate(rubric.questions)} if rubric is not None else {}
    out = []
    for theme in themes:
        rows = tuple(
            ReviewCount(
                review_id=review_id,
                label=label,
                audits=int(by_key.get((theme.id, review_id), {}).get("audits") or 0),
                submitted=int(submitted.get(review_id, 0)),
                findings=int(by_key.get((theme.id, review_id), {}).get("findings") or 0),
            )
            for review_id, label in reviews
        )
        tagged = frozenset(finding_tags.get(theme.id, set()))
        questions = sorted(
            themed_questions.get(theme.id, set()), key=lambda q: (order.get(q, len(order)), q)
        )
        out.append(
            ThemeSummary(
                theme=theme,
                counts=rows,
                findings=tagged,
                actions=tuple(a for a in actions if a.get("finding_id") in tagged),
                questions=tuple(_question_change(q, trend, rubric) for q in questions),
            )
        )
    return out
