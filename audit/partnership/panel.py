"""The audit discussion's agenda: every agency's answers side by side, disagreements first.

For each question every agency answers about a child (``each_agency``), the agencies' answers
are laid side by side with how far apart they are: for a grade the number of scale steps
between the highest and the lowest, for yes/no 1 when they differ; agencies split between
"not applicable" and an answer disagree too. The panel takes the widest disagreements first,
then confirms the rest. The agencies' own sections follow, agency by agency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.rubric import NOT_APPLICABLE, Question, Rubric, Section, agency_part
from audit.scoring import Answer, applicable


@dataclass(frozen=True)
class AgencyAnswer:
    """One agency's answer to one question about the child (None: not answered)."""

    agency_id: str
    agency_name: str
    answer: Answer | None
    submitted: bool
    shown: bool = True

    @property
    def value(self) -> str | None:
        """The value compared: a level, yes/no, or "na"."""
        return None if self.answer is None or not self.answer.answered else self.answer.effective


@dataclass(frozen=True)
class AgendaRow:
    """One question, every agency's answer to it, and how far apart they are."""

    question: Question
    section: Section
    answers: tuple[AgencyAnswer, ...]
    spread: int | None  # None: fewer than one answer to compare
    split_na: bool
    agreed: Answer | None

    @property
    def differs(self) -> bool:
        """Tell whether the agencies disagree (so the question is on the agenda first)."""
        return bool(self.spread) or self.split_na

    @property
    def answered(self) -> int:
        """How many agencies answered it."""
        return sum(1 for a in self.answers if a.value is not None)


@dataclass(frozen=True)
class OwnSection:
    """One agency's own section about the child (asked of that agency only)."""

    agency_id: str
    agency_name: str
    section: Section
    questions: tuple[Question, ...]
    answers: Mapping[str, Answer]
    not_applicable: bool
    submitted: bool


def spread(question: Question, rubric: Rubric, values: Sequence[str]) -> tuple[int | None, bool]:
    """Return (steps between the highest and lowest answer, whether N/A splits the agencies)."""
    given = [v for v in values if v is not None]
    answers = [v for v in given if v != NOT_APPLICABLE]
    split = bool(answers) and len(answers) != len(given)
    if not answers:
        return (None if not given else 0), False
    if question.type == "grade":
        order = [level.id for level in rubric.scale.levels]
        places = [order.index(v) for v in answers if v in order]
        return (max(places) - min(places) if places else None), split
    if question.type == "yes_no":
        return (0 if len(set(answers)) == 1 else 1), split
    return None, False


def agenda(
    rubric: Rubric,
    case_type: str,
    agencies: Sequence[tuple[str, str]],
    audits: Mapping[str, Any],
    agreed: Mapping[str, Answer],
) -> list[AgendaRow]:
    """Return the each-agency questions for the child, disagreements first (widest first).

    ``agencies`` are (id, name) of the agencies that know the child, ``audits`` their audits
    (objects with ``answers`` and ``submitted``) by agency id, ``agreed`` the panel's answers.
    Written questions are laid side by side too but never ranked: there is no spread to read.
    """
    rows: list[AgendaRow] = []
    for section, questions in applicable(rubric, case_type):
        for question in questions:
            if not question.each_agency:
                continue
            answers = tuple(
                AgencyAnswer(
                    agency_id,
                    name,
                    audits[agency_id].answers.get(question.id) if agency_id in audits else None,
                    bool(agency_id in audits and audits[agency_id].submitted),
                    agency_id in audits,
                )
                for agency_id, name in agencies
            )
            width, split = spread(question, rubric, [a.value for a in answers])
            rows.append(
                AgendaRow(question, section, answers, width, split, agreed.get(question.id))
            )
    order = {row.question.id: i for i, row in enumerate(rows)}
    return sorted(
        rows,
        key=lambda r: (not r.differs, -(r.spread or 0), not r.split_na, order[r.question.id]),
    )


def own_sections(
    rubric: Rubric,
    case_type: str,
    agencies: Sequence[tuple[str, str]],
    audits: Mapping[str, Any],
) -> list[OwnSection]:
    """Return each agency's own sections about the child, agency by agency."""
    out = []
    for agency_id, name in agencies:
        audit = audits.get(agency_id)
        for section, questions in applicable(agency_part(rubric, agency_id), case_type):
            if section.agencies is None:
                continue
            out.append(
                OwnSection(
                    agency_id,
                    name,
                    section,
                    questions,
                    audit.answers if audit is not None else {},
                    bool(audit is not None and section.id in audit.sections_na),
                    bool(audit is not None and audit.submitted),
                )
            )
    return out


def answer_label(question: Question, rubric: Rubric, answer: Answer | None) -> str:
    """Word an answer as the page shows it: the level's label, Yes, No, Not applicable, text."""
    if answer is None or not answer.answered:
        return "No answer"
    if answer.not_applicable:
        return "Not applicable"
    if question.type == "grade":
        try:
            return rubric.scale.level(answer.value or "").label
        except KeyError:
            return str(answer.value)
    if question.type == "yes_no":
        return {"yes": "Yes", "no": "No"}.get(answer.value or "", str(answer.value))
    return str(answer.value)
