"""The parts of a multi-agency rubric: what each agency answers, and what the panel agrees.

A section with ``agencies`` is answered by each of those agencies from its own records. A
section without is the panel's: at the audit discussion the lead records the agreed answer
to each of its questions; its ``each_agency`` questions are also answered by every agency
that knows the child beforehand, each for itself, so the panel sees them side by side.

A part is a :class:`Rubric` holding only those sections (a shared section reduced to its
``each_agency`` questions for an agency), so the scoring rules, the form builder and the
figures work on it unchanged. A part is derived, never stored: a review keeps the whole text.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from types import MappingProxyType

from audit.rubric.model import Overall, Rubric, Section

PANEL = "panel"
"""The name of the panel's part, where an agency id would be."""


def panel_part(rubric: Rubric) -> Rubric:
    """Return the sections the panel answers: every section without ``agencies``."""
    return _part(rubric, PANEL)


def agency_part(rubric: Rubric, agency_id: str) -> Rubric:
    """Return what one agency answers: its own sections and the ``each_agency`` questions."""
    return _part(rubric, agency_id)


def asks_agency(rubric: Rubric, agency_id: str, case_type: str) -> bool:
    """Tell whether the rubric asks this agency anything about a child of this case type."""
    return bool(agency_part(rubric, agency_id).questions_for(case_type))


def compared_questions(rubric: Rubric) -> tuple[str, ...]:
    """Return the questions both agencies and the panel answer (``each_agency``), in order."""
    return tuple(q.id for q in rubric.questions if q.each_agency)


@lru_cache(maxsize=256)
def _part(rubric: Rubric, who: str) -> Rubric:
    # Keyed on the rubric's identity (a frozen dataclass hashes its fields); parts are cheap
    # to build but every page of an agency audit asks for one.
    sections: list[Section] = []
    for section in rubric.sections:
        if who == PANEL:
            if section.agencies is None:
                sections.append(section)
            continue
        if section.agencies is not None:
            if who in section.agencies:
                sections.append(section)
            continue
        kept = tuple(q for q in section.questions if q.each_agency)
        if kept:
            sections.append(
                dataclasses.replace(
                    section,
                    questions=kept,
                    grade_question=section.grade_question
                    if section.grade_question in {q.id for q in kept}
                    else None,
                )
            )
    return dataclasses.replace(
        rubric,
        sections=tuple(sections),
        overall=_overall(rubric.overall, sections),
        timeliness=(),
    )


def _overall(overall: Overall, sections: list[Section]) -> Overall:
    """Keep the overall judgement where the part can make it; otherwise there is none."""
    if overall.question is not None:
        asked = {q.id for s in sections for q in s.questions}
        return overall if overall.question in asked else Overall()
    graded = {s.id for s in sections if s.grade_question}
    if not graded:
        return Overall()
    weights = {k: v for k, v in overall.weights.items() if k in graded}
    return Overall(rule=overall.rule, weights=MappingProxyType(weights))
