"""Rules for scoring one case: which questions apply, what a submission needs, what escalates.

Plain Python over the rubric objects: no Flask, no SQL, so the same rules serve the scoring
page, the command line and the tests.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from audit.rubric import NOT_APPLICABLE, YES_NO, Question, Rubric, Section

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
SECTION_NOT_APPLICABLE = "not_applicable"
SECTION_STATUS_LABELS = {
    NOT_STARTED: "Not started",
    IN_PROGRESS: "In progress",
    COMPLETED: "Completed",
    SECTION_NOT_APPLICABLE: "Does not apply",
}


@dataclass(frozen=True)
class Answer:
    """What a reviewer recorded for one question: a value or N/A, and their evidence."""

    value: str | None = None
    not_applicable: bool = False
    evidence: str = ""

    @property
    def answered(self) -> bool:
        """A value or an explicit "not applicable" counts as answered."""
        return self.not_applicable or bool(self.value)

    @property
    def effective(self) -> str | None:
        """The value the rules look at: the level, yes/no, text, or "na"."""
        return NOT_APPLICABLE if self.not_applicable else self.value


@dataclass(frozen=True)
class ScoringProblem:
    """Something stopping submission, tied to the form field a reviewer must fix."""

    field: str
    message: str
    section_id: str


def answer_field(question_id: str) -> str:
    """Return the form field name for a question's answer."""
    return f"answer-{question_id}"


def evidence_field(question_id: str) -> str:
    """Return the form field name for a question's evidence notes."""
    return f"evidence-{question_id}"


def section_na_field(section_id: str) -> str:
    """Return the form field name for "this section does not apply"."""
    return f"section-na-{section_id}"


def applicable(rubric: Rubric, case_type: str) -> list[tuple[Section, tuple[Question, ...]]]:
    """Return the sections asked for this case type, each with the questions it asks."""
    out = []
    for section in rubric.sections_for(case_type):
        questions = tuple(q for q in section.questions if q.applies(case_type))
        if questions:
            out.append((section, questions))
    return out


def allowed_values(question: Question, rubric: Rubric) -> tuple[str, ...]:
    """Return the values a question accepts (text questions accept anything)."""
    if question.type == "grade":
        values: tuple[str, ...] = tuple(level.id for level in rubric.scale.levels)
    elif question.type == "yes_no":
        values = YES_NO
    else:
        return ()
    return (*values, NOT_APPLICABLE) if question.allow_na else values


def section_status(
    questions: tuple[Question, ...],
    answers: Mapping[str, Answer],
    not_applicable: bool,
) -> str:
    """Return a section's task-list status from its answers."""
    if not_applicable:
        return SECTION_NOT_APPLICABLE
    answered = [q for q in questions if q.id in answers and answers[q.id].answered]
    if not answered:
        return NOT_STARTED
    required = [q for q in questions if q.required]
    if all(q.id in answers and answers[q.id].answered for q in required) and (
        required or len(answered) == len(questions)
    ):
        return COMPLETED
    return IN_PROGRESS


def progress(
    rubric: Rubric, case_type: str, answers: Mapping[str, Answer], sections_na: Collection[str]
) -> dict[str, str]:
    """Return each applicable section's status, keyed by section id."""
    return {
        section.id: section_status(questions, answers, section.id in sections_na)
        for section, questions in applicable(rubric, case_type)
    }


def check_submission(
    rubric: Rubric,
    case_type: str,
    answers: Mapping[str, Answer],
    sections_na: Collection[str],
) -> list[ScoringProblem]:
    """List everything the rubric requires that is missing or invalid, in page order."""
    problems: list[ScoringProblem] = []
    for section, questions in applicable(rubric, case_type):
        if section.id in sections_na:
            if section.compulsory:
                problems.append(
                    ScoringProblem(
                        section_na_field(section.id),
                        f"{section.title} must be completed for every case",
                        section.id,
                    )
                )
            else:
                continue
        for question in questions:
            answer = answers.get(question.id, Answer())
            problems.extend(_check_answer(rubric, section, question, answer))
    return problems


def _check_answer(
    rubric: Rubric, section: Section, question: Question, answer: Answer
) -> list[ScoringProblem]:
    field = answer_field(question.id)
    short = _short(question.text)
    if not answer.answered:
        if question.required:
            verb = "Write" if question.type == "text" else "Answer"
            return [ScoringProblem(field, f"{verb} “{short}”", section.id)]
        return []
    if answer.not_applicable and not question.allow_na:
        return [ScoringProblem(field, f"“{short}” cannot be not applicable", section.id)]
    allowed = allowed_values(question, rubric)
    if allowed and answer.effective not in allowed:
        return [ScoringProblem(field, f"Choose one of the answers for “{short}”", section.id)]
    if question.evidence_required(answer.effective) and not answer.evidence.strip():
        return [
            ScoringProblem(
                evidence_field(question.id),
                f"Write the evidence for your answer to “{short}”",
                section.id,
            )
        ]
    return []


def adverse(rubric: Rubric, case_type: str, answers: Mapping[str, Answer]) -> list[Question]:
    """Return the critical questions answered adversely: each child must be escalated today."""
    return [
        q
        for q in rubric.critical_questions()
        if q.applies(case_type) and q.id in answers and q.is_adverse(answers[q.id].effective)
    ]


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
