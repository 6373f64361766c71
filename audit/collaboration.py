"""Auditing with the practitioner and the family's view: what is recorded and how it counts.

Plain Python, no Flask: the findings page, the internal report, the exports and the findings
JSON all take their numbers from :func:`summarise`, so every surface agrees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from audit.rubric import Rubric, Section
from audit.scoring import Answer
from audit.stats import Proportion, clustered_share, wilson

# The structured part of family feedback, in the order it is asked.
FAMILY_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("felt_listened_to", "Did the family feel listened to?"),
    ("knows_plan", "Does the family know the plan?"),
    ("life_better", "Has life got better for the family?"),
)
FAMILY_ANSWERS: dict[str, str] = {
    "yes": "Yes",
    "partly": "Partly",
    "no": "No",
    "not_asked": "Not asked",
}
# Answers that count towards a share; "not asked" is reported beside it, never as a no.
COUNTED_ANSWERS = ("yes", "partly", "no")
CONTACT_METHODS: dict[str, str] = {
    "phone": "Phone call",
    "visit": "Home visit",
    "meeting": "Meeting in person",
    "video": "Video call",
    "written": "Letter, email or survey",
    "other": "Another way",
}


@dataclass(frozen=True)
class SectionView:
    """The practitioner's view of one section grade: agreed, or their view in their words."""

    section_id: str
    question_id: str
    grade: str
    agrees: bool
    practitioner_view: str = ""


@dataclass(frozen=True)
class Conversation:
    """The conversation with the practitioner about an audit, held after scoring."""

    audit_id: str
    held_on: str
    worker_role: str
    manager_role: str
    worker_name: str
    will_do_differently: str
    manager_response: str
    sections: tuple[SectionView, ...] = ()
    recorded_by: str = ""
    recorded_at: str = ""

    @property
    def disputed(self) -> tuple[SectionView, ...]:
        """Return the section grades the practitioner does not agree with."""
        return tuple(view for view in self.sections if not view.agrees)

    def view_of(self, question_id: str) -> SectionView | None:
        """Return the practitioner's view of the section graded by this question, if discussed."""
        return next((v for v in self.sections if v.question_id == question_id), None)


@dataclass(frozen=True)
class FamilyFeedback:
    """What the family said about the help they received, in the auditor's words."""

    audit_id: str
    consent: bool
    contact_method: str
    family_said: str
    felt_listened_to: str = "not_asked"
    knows_plan: str = "not_asked"
    life_better: str = "not_asked"
    quote_included: bool = False
    recorded_by: str = ""
    recorded_at: str = ""

    def answer(self, key: str) -> str:
        """Return the structured answer to one of :data:`FAMILY_QUESTIONS`."""
        if key not in dict(FAMILY_QUESTIONS):
            raise KeyError(key)
        return str(getattr(self, key))

    @property
    def contact_label(self) -> str:
        """Say how contact was made, in words."""
        return CONTACT_METHODS.get(self.contact_method, "")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with what was typed, naming the field it belongs to."""

    field: str
    message: str


def sections_to_discuss(
    rubric: Rubric,
    case_type: str,
    sections_na: Iterable[str],
    grades: Mapping[str, Answer | str | None],
) -> list[tuple[Section, str]]:
    """Return each section of this audit that has a grade, with that grade's level id.

    Only sections that apply, are not marked as not applying, and whose grade question was
    answered with a level of the scale are discussed: there is nothing to agree with otherwise.
    """
    skipped = set(sections_na)
    levels = {level.id for level in rubric.scale.levels}
    found = []
    for section in rubric.sections_for(case_type):
        if section.id in skipped or section.grade_question is None:
            continue
        value = grades.get(section.grade_question)
        if isinstance(value, Answer):
            value = None if value.not_applicable else value.value
        if value in levels:
            found.append((section, str(value)))
    return found


def check_conversation(
    *,
    held_on: str | None,
    worker_role: str,
    agreements: Mapping[str, tuple[str | None, str]],
    titles: Mapping[str, str],
    today: str | None = None,
) -> list[Problem]:
    """Say what is missing from a conversation record, field by field.

    ``agreements`` maps section id to (``yes``/``no``/None, the practitioner's view);
    ``held_on`` is the ISO date, or None when what was typed is not a date; with ``today``
    (ISO), a date after it is refused: a conversation is recorded once it has happened.
    """
    problems = []
    if not held_on:
        problems.append(Problem("held_on", "Enter the date of the conversation, like 27/10/2026"))
    elif today is not None and held_on > today:
        problems.append(Problem("held_on", "The conversation date must be today or earlier"))
    if not worker_role.strip():
        problems.append(
            Problem("worker_role", "Enter the practitioner's role, for example social worker")
        )
    for section_id, (agrees, view) in agreements.items():
        title = titles.get(section_id, section_id)
        if agrees not in {"yes", "no"}:
            problems.append(
                Problem(
                    f"agrees-{section_id}",
                    f"Say whether the practitioner agrees with the grade for {title}",
                )
            )
        elif agrees == "no" and not view.strip():
            problems.append(
                Problem(
                    f"view-{section_id}",
                    f"Write the practitioner's view of the grade for {title}, in their words",
                )
            )
    return problems


def check_family_feedback(
    *, consent: str | None, contact_method: str, family_said: str, answers: Mapping[str, str]
) -> list[Problem]:
    """Say what is wrong with family feedback: nothing beyond consent is kept without consent."""
    problems = []
    if consent not in {"yes", "no"}:
        problems.append(Problem("consent", "Say whether the family consented to be contacted"))
        return problems
    if consent == "no":
        if contact_method or family_said.strip() or any(a != "not_asked" for a in answers.values()):
            problems.append(
                Problem(
                    "consent",
                    "Without consent to contact, record nothing the family said: "
                    "clear the other answers or change the consent answer",
                )
            )
        return problems
    if contact_method not in CONTACT_METHODS:
        problems.append(Problem("contact_method", "Choose how contact was made"))
    for key, text in FAMILY_QUESTIONS:
        if answers.get(key) not in FAMILY_ANSWERS:
            problems.append(Problem(key, f"Answer “{text}”, or choose not asked"))
    return problems


@dataclass(frozen=True)
class FamilyShares:
    """One structured family question: the share of each answer among those asked."""

    key: str
    text: str
    shares: Mapping[str, Proportion]
    not_asked: int

    def as_dict(self) -> dict[str, Any]:
        """Return the shares as plain JSON-able values."""
        return {
            "key": self.key,
            "text": self.text,
            "asked": next(iter(self.shares.values())).n if self.shares else 0,
            "not_asked": self.not_asked,
            **{answer: share.as_dict() for answer, share in self.shares.items()},
        }


@dataclass(frozen=True)
class Summary:
    """How far audits were done with the practitioner and carry the family's view."""

    audits: int
    conversations: Proportion
    grades_agreed: Proportion
    disputed: int
    feedback: Proportion
    consent: Proportion
    family: tuple[FamilyShares, ...]
    quotes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def recorded(self) -> bool:
        """Tell whether any counted audit has a conversation or family feedback."""
        return bool(self.conversations.count or self.feedback.count)

    def as_dict(self, *, with_quotes: bool = True) -> dict[str, Any]:
        """Return the summary as plain JSON-able values (quotes only when asked for)."""
        doc: dict[str, Any] = {
            "audits_counted": self.audits,
            "audits_with_conversation": self.conversations.as_dict(),
            "section_grades_agreed": self.grades_agreed.as_dict(),
            "section_grades_disputed": self.disputed,
            "audits_with_family_feedback": self.feedback.as_dict(),
            "family_consented": self.consent.as_dict(),
            "family_answers": [item.as_dict() for item in self.family],
        }
        if with_quotes:
            doc["family_quotes"] = list(self.quotes)
        return doc


def summarise(
    counted: Sequence[str],
    conversations: Iterable[Conversation],
    feedback: Iterable[FamilyFeedback],
) -> Summary:
    """Count conversations, agreed grades and the family's answers over the counted audits.

    ``counted`` holds the ids of the audits the findings count (submitted first audits):
    anything recorded on other audits (drafts, second audits) is left out, as in the
    findings. Shares are of audits (conversations, feedback), of section grades discussed
    (agreement), of feedback with consent (consent), and of families asked (answers).
    """
    ids = set(counted)
    talks = [c for c in conversations if c.audit_id in ids]
    views = [v for c in talks for v in c.sections]
    agreed = sum(1 for v in views if v.agrees)
    heard = [f for f in feedback if f.audit_id in ids]
    consented = [f for f in heard if f.consent]
    family = []
    for key, text in FAMILY_QUESTIONS:
        answers = [f.answer(key) for f in consented]
        asked = [a for a in answers if a in COUNTED_ANSWERS]
        family.append(
            FamilyShares(
                key=key,
                text=text,
                shares={
                    a: replace(wilson(asked.count(a), len(asked)), unit="families asked")
                    for a in COUNTED_ANSWERS
                },
                not_asked=len(answers) - len(asked),
            )
        )
    # Section grades discussed in one conversation go together (one practitioner, one
    # case): the interval allows for that clustering, as shares of answers do.
    per_talk = [(sum(1 for v in c.sections if v.agrees), len(c.sections)) for c in talks]
    return Summary(
        audits=len(ids),
        conversations=replace(wilson(len(talks), len(ids)), unit="audits"),
        grades_agreed=replace(clustered_share(per_talk), unit="section grades"),
        disputed=len(views) - agreed,
        feedback=replace(wilson(len(heard), len(ids)), unit="audits"),
        consent=replace(wilson(len(consented), len(heard)), unit="feedback records"),
        family=tuple(family),
        quotes=tuple(f.family_said for f in consented if f.quote_included and f.family_said),
    )
