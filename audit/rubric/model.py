"""The rubric as immutable objects: constants, problems and the frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

QUESTION_TYPES = ("grade", "yes_no", "text")
YES_NO = ("yes", "no")
OVERALL_RULES = ("lowest_section_grade", "weighted_mean")
TIMELINESS_UNITS = ("working_days", "calendar_days")
WORDING_KINDS = ("strength", "development", "critical")
WORDING_PLACEHOLDERS = ("subject", "share", "count", "n", "low", "high")
# The answer value the app stores for "not applicable"; a level may not use it as its id.
NOT_APPLICABLE = "na"
# Guards uploads: YAML aliases can make a short file expand into a huge rubric.
MAX_QUESTIONS = 1000
DEFAULT_WORDING: Mapping[str, str] = MappingProxyType(
    {
        "strength": "{subject}: {share} of audited cases were good or better ({count} of {n}).",
        "development": (
            "{subject}: only {share} of audited cases were good or better ({count} of {n})."
        ),
        "critical": (
            "{subject}: {count} case(s) where a child was found not adequately safeguarded;"
            " each must be escalated."
        ),
    }
)
DEFAULT_MIN_ANSWERS = 5


class Keys(NamedTuple):
    """The keys one kind of mapping in a rubric must have and may have."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


# Every mapping the checker reads, by name; the checker and the JSON Schema test both use it,
# so a key the checker starts to accept cannot be left out of the schema.
KEYS: Mapping[str, Keys] = MappingProxyType(
    {
        "rubric": Keys(
            ("id", "version", "title", "case_types", "scale", "sections", "overall"),
            ("description", "findings", "timeliness"),
        ),
        "case_type": Keys(("id", "label"), ("aliases",)),
        "scale": Keys(("levels", "good_or_better")),
        "level": Keys(("id", "label", "value")),
        "section": Keys(
            ("id", "title", "questions"),
            ("description", "applies_to", "compulsory", "grade_question", "agencies"),
        ),
        "question": Keys(
            ("id", "text", "type"),
            (
                "hint",
                "good_answer",
                "required",
                "allow_na",
                "applies_to",
                "evidence",
                "critical",
                "adverse_answer",
                "adverse_levels",
                "guidance",
                "each_agency",
            ),
        ),
        "evidence": Keys((), ("required_below", "required_when")),
        "overall": Keys((), ("question", "rule", "weights")),
        "findings": Keys((), ("min_answers", "strength_at_least", "development_below", "wording")),
        "wording": Keys((), WORDING_KINDS),
        "timeliness": Keys(("id", "name", "start", "end", "limit", "unit"), ("applies_to",)),
    }
)
DEFAULT_STRENGTH_AT_LEAST = 0.75
DEFAULT_DEVELOPMENT_BELOW = 0.5


# --- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a rubric, located by its path in the file and, if known, line."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.line is not None:
            where = f"line {self.line}"
            if self.column is not None:
                where += f", column {self.column}"
            where += ": "
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.message}"


class RubricInvalid(Exception):
    """Raised when a rubric cannot be used; carries every problem found, not just the first."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        super().__init__(source, tuple(problems))
        self.source = source
        self.problems: tuple[Problem, ...] = tuple(problems)

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {problem}" for problem in self.problems)


# --- model


@dataclass(frozen=True)
class CaseType:
    """A kind of case (child in need, child protection...) and the names it goes by."""

    id: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Level:
    """One step of the grading scale."""

    id: str
    label: str
    value: float


@dataclass(frozen=True)
class Scale:
    """The grading scale, best level first, and which levels count as good or better."""

    levels: tuple[Level, ...]
    good_or_better: frozenset[str]

    def level(self, level_id: str) -> Level:
        """Return the level with this id so callers never search the tuple by hand."""
        for level in self.levels:
            if level.id == level_id:
                return level
        raise KeyError(level_id)

    def is_good(self, level_id: str) -> bool:
        """Tell whether a grade counts towards the headline "good or better" share."""
        return level_id in self.good_or_better

    @property
    def highest(self) -> Level:
        """Return the best level."""
        return self.levels[0]

    @property
    def lowest(self) -> Level:
        """Return the worst level."""
        return self.levels[-1]

    def round_down(self, value: float) -> Level:
        """Return the highest level whose value is at or below value, so averages never flatter."""
        for level in self.levels:
            # The tolerance keeps a mean such as 2.9999999 from dropping a whole level.
            if level.value <= value + 1e-9:
                return level
        return self.lowest


@dataclass(frozen=True)
class EvidenceRule:
    """When a reviewer must write evidence for an answer.

    ``kind`` is optional, required, required_below (``level`` names the threshold and
    ``levels`` holds the levels below it) or required_when (``answer`` is yes or no).
    """

    kind: str = "optional"
    level: str | None = None
    answer: str | None = None
    levels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Question:
    """One question of a rubric, with everything needed to ask, check and score it."""

    id: str
    text: str
    hint: str
    type: str
    required: bool
    allow_na: bool
    applies_to: frozenset[str] | None
    evidence: EvidenceRule
    critical: bool
    good_answer: str | None
    adverse_answer: str | None
    adverse_levels: frozenset[str]
    guidance: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    # In a multi-agency rubric: every agency that knows the child answers it for itself, and
    # the panel agrees an answer too (see audit/rubric/agency_parts.py).
    each_agency: bool = False

    def applies(self, case_type_id: str) -> bool:
        """Tell whether this question is asked for a case of this type."""
        return self.applies_to is None or case_type_id in self.applies_to

    def is_adverse(self, value: str | None) -> bool:
        """Tell whether this answer means the child must be escalated today."""
        if not self.critical or value is None:
            return False
        if self.type == "yes_no":
            return value == self.adverse_answer
        return value in self.adverse_levels

    def evidence_required(self, value: str | None) -> bool:
        """Tell whether this answer needs written evidence (None or N/A never does)."""
        if value is None or value == NOT_APPLICABLE:
            return False
        rule = self.evidence
        if rule.kind == "required":
            return True
        if rule.kind == "required_below":
            return value in rule.levels
        if rule.kind == "required_when":
            return value == rule.answer
        return False

    def is_good(self, value: str | None, scale: Scale) -> bool | None:
        """Tell whether an answer is good practice; None when the question is not scored."""
        if value is None or value == NOT_APPLICABLE:
            return None
        if self.type == "grade":
            if value not in {level.id for level in scale.levels}:
                return None
            return scale.is_good(value)
        if self.type == "yes_no":
            if value not in YES_NO:
                return None
            return value == self.good_answer
        return None


@dataclass(frozen=True)
class Section:
    """A group of questions, answered only for the case types it applies to."""

    id: str
    title: str
    description: str
    applies_to: frozenset[str] | None
    compulsory: bool
    grade_question: str | None
    questions: tuple[Question, ...]
    # In a multi-agency rubric, the agency ids that answer this section from their own
    # records; None for a section the panel answers (its each_agency questions aside).
    agencies: frozenset[str] | None = None

    def applies(self, case_type_id: str) -> bool:
        """Tell whether this section is answered for a case of this type."""
        return self.applies_to is None or case_type_id in self.applies_to


@dataclass(frozen=True)
class Overall:
    """How a case's overall grade is reached: one question, or a rule over section grades."""

    question: str | None = None
    rule: str | None = None
    weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def judge(self, grades: Mapping[str, str], rubric: Rubric) -> str | None:
        """Return the case's overall level id from its grade answers, or None if undecided.

        ``grades`` maps question id to level id; N/A and unanswered questions are absent.
        """
        scale = rubric.scale
        known = {level.id: level for level in scale.levels}
        if self.question is not None:
            answer = grades.get(self.question)
            return answer if answer in known else None
        section_grades = [
            (section, known[grades[section.grade_question]])
            for section in rubric.sections
            if section.grade_question is not None and grades.get(section.grade_question) in known
        ]
        if not section_grades:
            return None
        if self.rule == "lowest_section_grade":
            return min(section_grades, key=lambda pair: pair[1].value)[1].id
        if self.rule == "weighted_mean":
            total = sum(self.weights.get(section.id, 1.0) for section, _ in section_grades)
            mean = (
                sum(
                    self.weights.get(section.id, 1.0) * level.value
                    for section, level in section_grades
                )
                / total
            )
            return scale.round_down(mean).id
        return None


@dataclass(frozen=True)
class FindingRules:
    """When a share of good-or-better answers suggests a strength or an area for development."""

    min_answers: int = DEFAULT_MIN_ANSWERS
    strength_at_least: float = DEFAULT_STRENGTH_AT_LEAST
    development_below: float = DEFAULT_DEVELOPMENT_BELOW
    wording: Mapping[str, str] = field(default_factory=lambda: DEFAULT_WORDING, hash=False)

    def suggestion(self, good: int, total: int) -> str | None:
        """Return "strength", "development" or None for good answers out of total."""
        if total < self.min_answers or total <= 0:
            return None
        share = good / total
        if share >= self.strength_at_least:
            return "strength"
        if share < self.development_below:
            return "development"
        return None

    def phrase(self, kind: str, **values: object) -> str:
        """Fill the wording for kind (strength, development, critical) with the given values."""
        return self.wording[kind].format_map(values)


@dataclass(frozen=True)
class TimelinessMeasure:
    """A default timescale between two case dates that a review can copy into its settings."""

    id: str
    name: str
    start: str
    end: str
    limit: int
    unit: str
    applies_to: frozenset[str] | None = None

    def applies(self, case_type_id: str) -> bool:
        """Tell whether this measure is counted for a case of this type."""
        return self.applies_to is None or case_type_id in self.applies_to


def _normal_name(value: str) -> str:
    """Fold case and collapse spaces so "Child  protection" matches "child protection"."""
    return " ".join(value.split()).casefold()


@dataclass(frozen=True)
class Rubric:
    """A whole, valid rubric: the exact text it came from and the objects parsed from it."""

    id: str
    version: str
    title: str
    description: str
    case_types: tuple[CaseType, ...]
    scale: Scale
    sections: tuple[Section, ...]
    overall: Overall
    findings: FindingRules
    timeliness: tuple[TimelinessMeasure, ...]
    text: str = field(repr=False)
    content_hash: str = field(repr=False)
    source: str = field(default="<rubric>", compare=False)
    _questions: tuple[Question, ...] = field(init=False, repr=False, compare=False)
    _question_index: Mapping[str, tuple[Section, Question]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _names: Mapping[str, CaseType] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index = {q.id: (s, q) for s in self.sections for q in s.questions}
        names: dict[str, CaseType] = {}
        for case_type in self.case_types:
            for name in (case_type.id, case_type.label, *case_type.aliases):
                names.setdefault(_normal_name(name), case_type)
        # Frozen: these indexes are set once here and never change.
        object.__setattr__(self, "_questions", tuple(q for s in self.sections for q in s.questions))
        object.__setattr__(self, "_question_index", MappingProxyType(index))
        object.__setattr__(self, "_names", MappingProxyType(names))

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        """Pickle and copy a rubric as its text, since read-only mappings cannot be pickled."""
        from audit.rubric.parsing import parse_rubric  # parsing builds rubrics: import late

        return (parse_rubric, (self.text, self.source))

    @property
    def key(self) -> tuple[str, str]:
        """Return (id, version), the identity a review records."""
        return (self.id, self.version)

    @property
    def questions(self) -> tuple[Question, ...]:
        """Return every question in rubric order."""
        return self._questions

    def case_type(self, case_type_id: str) -> CaseType:
        """Return the case type with this id."""
        for case_type in self.case_types:
            if case_type.id == case_type_id:
                return case_type
        raise KeyError(case_type_id)

    def resolve_case_type(self, value: str) -> CaseType | None:
        """Match an imported case type by id, label or alias, ignoring case and spacing."""
        return self._names.get(_normal_name(value))

    def sections_for(self, case_type_id: str) -> tuple[Section, ...]:
        """Return the sections answered for a case of this type (KeyError if undeclared)."""
        self.case_type(case_type_id)
        return tuple(s for s in self.sections if s.applies(case_type_id))

    def questions_for(self, case_type_id: str) -> tuple[Question, ...]:
        """Return the questions asked for a case of this type, in rubric order."""
        return tuple(
            q
            for s in self.sections_for(case_type_id)
            for q in s.questions
            if q.applies(case_type_id)
        )

    def question(self, question_id: str) -> Question:
        """Return the question with this id."""
        return self._question_index[question_id][1]

    def section_of(self, question_id: str) -> Section:
        """Return the section that holds this question."""
        return self._question_index[question_id][0]

    def critical_questions(self) -> tuple[Question, ...]:
        """Return the questions whose adverse answer means escalating the child today."""
        return tuple(q for q in self._questions if q.critical)

    @property
    def multi_agency(self) -> bool:
        """Tell whether agencies answer parts of this rubric (``agencies`` or ``each_agency``)."""
        return any(s.agencies is not None for s in self.sections) or any(
            q.each_agency for q in self._questions
        )

    def agencies_named(self) -> tuple[str, ...]:
        """Return the agency ids the rubric's sections name, in the order first named."""
        named: dict[str, None] = {}
        for section in self.sections:
            for agency_id in sorted(section.agencies or ()):
                named.setdefault(agency_id, None)
        return tuple(named)
