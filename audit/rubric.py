"""Load, validate and query audit rubrics: the YAML files that say what a case audit asks.

A rubric is data. It is parsed once into immutable objects; every problem found is
reported with its path inside the file (``sections[2].questions[4].type``) and, where
known, its line, so a lead can fix a rubric without reading code. Nothing here knows a
question id.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import re
import stat
import string
import threading
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

__all__ = [
    "DEFAULT_WORDING",
    "MAX_QUESTIONS",
    "NOT_APPLICABLE",
    "OVERALL_RULES",
    "QUESTION_TYPES",
    "TIMELINESS_UNITS",
    "WORDING_KINDS",
    "WORDING_PLACEHOLDERS",
    "YES_NO",
    "CaseType",
    "EvidenceRule",
    "FindingRules",
    "Level",
    "Overall",
    "Problem",
    "Question",
    "Rubric",
    "RubricInvalid",
    "RubricLibrary",
    "Scale",
    "Section",
    "TimelinessMeasure",
    "check_rubric_file",
    "load_rubric_file",
    "parse_rubric",
    "validate_rubric_text",
    "version_sort_key",
]

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
DEFAULT_STRENGTH_AT_LEAST = 0.75
DEFAULT_DEVELOPMENT_BELOW = 0.5

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_COLUMN = re.compile(r"[a-z][a-z0-9_]*")
_MERGE_TAG = "tag:yaml.org,2002:merge"


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


# --- YAML loading


class _LineDict(dict):  # type: ignore[type-arg]
    """A mapping from YAML that remembers where it and each of its keys started."""

    line: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[Any, int] = {}
        self.raw: dict[Any, str] = {}
        self.duplicates: list[tuple[Any, int]] = []


class _LineList(list):  # type: ignore[type-arg]
    """A sequence from YAML that remembers where it and each of its items started."""

    line: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.item_lines: list[int] = []


# libyaml's parser is several times faster; the constructors (safe_load semantics) are the same.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """A SafeLoader that records line numbers so problems can cite them."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Turn stray errors from odd explicit tags (!!int x) into errors with a line."""
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as error:  # PyYAML's constructors raise assorted built-in errors
            shown = f' "{_short(node.value)}"' if isinstance(node, yaml.ScalarNode) else ""
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value{shown} ({error})", node.start_mark
            ) from error


def _expect(node: yaml.Node, kind: type[yaml.Node], what: str) -> None:
    """Refuse an explicit tag on the wrong kind of node (!!map [1]), as safe_load does."""
    if not isinstance(node, kind):
        raise yaml.constructor.ConstructorError(
            None, None, f"expected {what}, but found {node.id}", node.start_mark
        )


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[_LineDict]:
    _expect(node, yaml.MappingNode, "a mapping")
    data = _LineDict()
    data.line = node.start_mark.line + 1
    yield data
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
            key = loader.construct_object(key_node)
            if not isinstance(key, Hashable):
                continue  # construct_mapping below reports it as an unhashable key
            if key in seen:
                data.duplicates.append((key, key_node.start_mark.line + 1))
            seen.add(key)
    data.update(loader.construct_mapping(node))
    for key_node, value_node in node.value:  # merged keys are flattened in by now
        if isinstance(key_node, yaml.ScalarNode):
            key = loader.construct_object(key_node)
            data.key_lines.setdefault(key, key_node.start_mark.line + 1)
            if isinstance(value_node, yaml.ScalarNode):
                data.raw[key] = value_node.value


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[_LineList]:
    _expect(node, yaml.SequenceNode, "a sequence")
    data = _LineList()
    data.line = node.start_mark.line + 1
    data.item_lines = [item.start_mark.line + 1 for item in node.value]
    yield data
    data.extend(loader.construct_sequence(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _load_yaml(text: str) -> tuple[Any, Problem | None]:
    """Parse YAML with safe_load semantics, turning any failure into a located problem."""
    try:
        loader = _LineLoader(text)
        try:
            return loader.get_single_data(), None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or "cannot be read"
        if error.context and error.problem:
            message = f"{error.problem} ({error.context}"
            if error.context_mark is not None and error.context_mark is not mark:
                message += f" at line {error.context_mark.line + 1}"
            message += ")"
        if mark is None:
            return None, Problem("", f"not valid YAML: {message}")
        return None, Problem("", f"not valid YAML: {message}", mark.line + 1, mark.column + 1)
    except yaml.reader.ReaderError as error:
        before = text[: error.position]
        if _SafeBase is not yaml.SafeLoader:  # libyaml counts bytes of UTF-8, not characters
            before = text.encode("utf-8")[: error.position].decode("utf-8", "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        char = error.character
        code = ord(char) if isinstance(char, str) else int(char)  # libyaml gives a number
        return None, Problem(
            "", f"not valid YAML: the character U+{code:04X} is not allowed", line, column
        )
    except RecursionError:
        return None, Problem("", "not valid YAML: nested too deeply")
    except yaml.YAMLError as error:
        return None, Problem("", f"not valid YAML: {error}")


# --- validation helpers


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _line(container: Any, key: Any = None) -> int | None:
    if key is not None:
        if isinstance(container, _LineDict):
            try:
                line = container.key_lines.get(key)
            except TypeError:
                line = None
            if line is not None:
                return line
        elif (
            isinstance(container, _LineList)
            and isinstance(key, int)
            and 0 <= key < len(container.item_lines)
        ):
            return container.item_lines[key]
    return getattr(container, "line", None)


def _short(value: object, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"the number {_short(value)}"
    if isinstance(value, str):
        return f'the text "{_short(value)}"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__} value"


def _quote_hint(value: object) -> str:
    if isinstance(value, bool):
        return '; YAML reads yes, no, on, off, true and false as true/false, so quote it: "yes"'
    if isinstance(value, (int, float)) or type(value).__name__ in {"date", "datetime"}:
        return "; put it in quotes to make it text"
    return ""


def _one_of(values: Sequence[str]) -> str:
    return ", ".join(values)


def _yes_no(value: object) -> str | None:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, str) and value.strip().lower() in YES_NO:
        return value.strip().lower()
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _covers_all(applies_to: frozenset[str] | None, declared: Sequence[str]) -> bool:
    return applies_to is None or set(declared) <= applies_to


def _wording_problem(template: str) -> str | None:
    allowed = ", ".join("{" + name + "}" for name in WORDING_PLACEHOLDERS)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return 'has an unmatched "{" or "}"; write {{ or }} for a literal brace'
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in WORDING_PLACEHOLDERS:
            return f'unknown placeholder "{{{_short(name)}}}"; allowed placeholders: {allowed}'
        if spec or conversion:
            return f'placeholder "{{{name}}}" takes no format or conversion; write {{{name}}}'
    return None


class _Checker:
    """Walks raw YAML data, collecting problems and building model objects as it goes."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.case_type_ids: list[str] | None = None
        self.level_ids: list[str] | None = None
        self.good_or_better: frozenset[str] | None = None
        self.question_paths: dict[str, str] = {}
        self.questions: dict[str, tuple[Section | None, Question, str]] = {}

    def add(self, path: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(path, message, line))

    # -- generic shapes

    def mapping(
        self,
        value: Any,
        path: str,
        line: int | None,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> _LineDict | dict[Any, Any] | None:
        if not isinstance(value, dict):
            keys = _one_of([*required, *optional])
            self.add(path, f"expected a mapping with keys {keys}; got {_describe(value)}", line)
            return None
        allowed = [*required, *optional]
        for key in value:
            if isinstance(key, str) and key in allowed:
                continue
            guess = (
                difflib.get_close_matches(str(key), allowed, n=1) if isinstance(key, str) else []
            )
            hint = f' (did you mean "{guess[0]}"?)' if guess else ""
            self.add(
                _at(path, _short(key)),
                f'unknown key "{_short(key)}"{hint}; allowed keys: {_one_of(allowed)}',
                _line(value, key),
            )
        for key in required:
            if key not in value:
                self.add(_at(path, key), f'required key "{key}" is missing', _line(value))
        for key, key_line in getattr(value, "duplicates", ()):
            self.add(
                _at(path, _short(key)),
                f'key "{_short(key)}" is given more than once in the same mapping',
                key_line,
            )
        return value

    def sequence(self, m: Mapping[Any, Any], path: str, key: str, *, what: str) -> list[Any] | None:
        """Return m[key] as a non-empty list, or report why it is not one."""
        if key not in m:
            return None
        value = m[key]
        p, line = _at(path, key), _line(m, key)
        if not isinstance(value, list):
            self.add(p, f"expected a list of {what}; got {_describe(value)}", line)
            return None
        if not value:
            self.add(p, f"must list at least one of {what}", line)
            return None
        return value

    def text(
        self, m: Mapping[Any, Any], path: str, key: str, *, required: bool = True
    ) -> str | None:
        if key not in m:
            return None
        value = m[key]
        p, line = _at(path, key), _line(m, key)
        if value is None:
            if required:
                self.add(p, "must not be empty", line)
            return None
        if not isinstance(value, str):
            self.add(p, f"expected text; got {_describe(value)}{_quote_hint(value)}", line)
            return None
        value = value.strip()
        if not value and required:
            self.add(p, "must not be empty", line)
            return None
        return value

    def slug(self, m: Mapping[Any, Any], path: str, key: str = "id") -> str | None:
        value = self.text(m, path, key)
        if value is not None and not _SLUG.fullmatch(value):
            self.add(
                _at(path, key),
                f'"{_short(value)}" is not a valid id: use lower-case letters, digits, "_" and "-",'
                " starting with a letter or digit",
                _line(m, key),
            )
            return None
        return value

    def flag(self, m: Mapping[Any, Any], path: str, key: str, default: bool) -> bool:
        value = m.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(
                _at(path, key), f"expected true or false; got {_describe(value)}", _line(m, key)
            )
            return default
        return value

    def share(self, m: Mapping[Any, Any], path: str, key: str, default: float) -> float | None:
        """Return a number between 0 and 1, or None when it is not one."""
        if key not in m:
            return default
        value = m[key]
        p, line = _at(path, key), _line(m, key)
        if not _is_number(value):
            self.add(
                p, f"expected a number from 0 to 1 (0.75 means 75%); got {_describe(value)}", line
            )
            return None
        if not 0 <= value <= 1:
            self.add(p, f"{value} is out of range: use a number from 0 to 1 (0.75 means 75%)", line)
            return None
        return float(value)

    def applies_to(
        self, m: Mapping[Any, Any], path: str, within: frozenset[str] | None = None
    ) -> frozenset[str] | None:
        """Return the case type ids listed, or None for all (also on error, to avoid echoes)."""
        value = m.get("applies_to")
        p, line = _at(path, "applies_to"), _line(m, "applies_to")
        if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
            return None
        if not isinstance(value, list):
            self.add(
                p,
                f'expected "all" or a list of case type ids such as [cp]; got {_describe(value)}',
                line,
            )
            return None
        if not value:
            self.add(p, 'must not be an empty list: write "all" or list case type ids', line)
            return None
        declared = self.case_type_ids or None
        ids: list[str] = []
        for i, item in enumerate(value):
            ip, il = _at(p, i), _line(value, i)
            if not isinstance(item, str):
                self.add(ip, f"expected a case type id; got {_describe(item)}", il)
                continue
            item = item.strip()
            if declared is not None and item not in declared:
                self.add(
                    ip,
                    f'unknown case type "{_short(item)}"; declared case types: {_one_of(declared)}',
                    il,
                )
            elif item in ids:
                self.add(ip, f'case type "{item}" is listed twice', il)
            elif within is not None and item not in within:
                self.add(
                    ip,
                    f'case type "{item}" is outside the section\'s applies_to'
                    f" ({_one_of(sorted(within))}): the section is never shown for it",
                    il,
                )
            else:
                ids.append(item)
        return frozenset(ids) if ids else None

    def unique(
        self, seen: dict[str, str], value: str | None, path: str, what: str, line: int | None
    ) -> bool:
        if value is None:
            return False
        if value in seen:
            self.add(path, f'duplicate {what} id "{value}"; first used at {seen[value]}', line)
            return False
        seen[value] = path
        return True

    # -- the rubric

    def rubric(self, data: Any) -> dict[str, Any] | None:
        top_required = ("id", "version", "title", "case_types", "scale", "sections", "overall")
        top_optional = ("description", "findings", "timeliness")
        root = self.mapping(data, "", None, top_required, top_optional)
        if root is None:
            return None
        rubric_id = self.slug(root, "")
        version = self.version(root)
        title = self.text(root, "", "title")
        description = self.text(root, "", "description", required=False) or ""
        case_types = self.case_types(root)
        scale = self.scale(root)
        sections = self.sections(root)
        overall = self.overall(root, sections)
        findings = self.findings(root)
        timeliness = self.timeliness(root)
        if sections and not any(q.critical for s in sections for q in s.questions):
            self.add(
                "sections",
                "no question is critical: mark one critical (for example"
                ' "Is the child adequately safeguarded?") so every audit can record and'
                " escalate a child who is not safe",
                _line(root, "sections"),
            )
        return {
            "id": rubric_id,
            "version": version,
            "title": title,
            "description": description,
            "case_types": case_types,
            "scale": scale,
            "sections": sections,
            "overall": overall,
            "findings": findings,
            "timeliness": timeliness,
        }

    def version(self, root: Mapping[Any, Any]) -> str | None:
        value = root.get("version")
        line = _line(root, "version")
        if _is_number(value):
            # Keep what was written: the number 1.10 must stay "1.10", not become "1.1".
            raw = getattr(root, "raw", {}).get("version")
            return raw.strip() if isinstance(raw, str) and raw.strip() else str(value)
        if isinstance(value, bool):
            self.add("version", f'expected text such as "1.0"; got {_describe(value)}', line)
            return None
        return self.text(root, "", "version")

    def case_types(self, root: Mapping[Any, Any]) -> tuple[CaseType, ...]:
        items = self.sequence(root, "", "case_types", what="case types")
        if items is None:
            return ()
        result: list[CaseType] = []
        seen: dict[str, str] = {}
        names: dict[str, tuple[str, str]] = {}
        for i, item in enumerate(items):
            path = _at("case_types", i)
            m = self.mapping(item, path, _line(items, i), ("id", "label"), ("aliases",))
            if m is None:
                continue
            ct_id = self.slug(m, path)
            label = self.text(m, path, "label")
            aliases: list[str] = []
            names_here: list[tuple[str | None, str, int | None]] = [
                (ct_id, "id", _line(m, "id")),
                (label, "label", _line(m, "label")),
            ]
            raw_aliases = m.get("aliases")
            if raw_aliases is not None and not isinstance(raw_aliases, list):
                self.add(
                    _at(path, "aliases"),
                    f"expected a list of names; got {_describe(raw_aliases)}",
                    _line(m, "aliases"),
                )
            elif raw_aliases:
                for j, alias in enumerate(raw_aliases):
                    ap = _at(_at(path, "aliases"), j)
                    if not isinstance(alias, str) or not alias.strip():
                        self.add(
                            ap,
                            f"expected a name; got {_describe(alias)}{_quote_hint(alias)}",
                            _line(raw_aliases, j),
                        )
                        continue
                    aliases.append(" ".join(alias.split()))
                    names_here.append((alias, f"aliases[{j}]", _line(raw_aliases, j)))
            if not self.unique(seen, ct_id, _at(path, "id"), "case type", _line(m, "id")):
                continue
            assert ct_id is not None
            for name, where, name_line in names_here:
                if name is None:
                    continue
                other = names.setdefault(_normal_name(name), (ct_id, _at(path, where)))
                if other[0] != ct_id:
                    self.add(
                        _at(path, where),
                        f'"{_short(name)}" already names case type "{other[0]}" ({other[1]});'
                        " imported case lists could not tell them apart",
                        name_line,
                    )
            result.append(CaseType(ct_id, label or "", tuple(aliases)))
        self.case_type_ids = [ct.id for ct in result]
        return tuple(result)

    def scale(self, root: Mapping[Any, Any]) -> Scale | None:
        if "scale" not in root:
            return None
        m = self.mapping(root["scale"], "scale", _line(root, "scale"), ("levels", "good_or_better"))
        if m is None:
            return None
        items = self.sequence(m, "scale", "levels", what="levels")
        levels: list[Level] = []
        seen: dict[str, str] = {}
        # Every id written, even on a faulty level, so references to it are not flagged too.
        named: list[str] = []
        ok = items is not None
        ids_complete = ok
        for i, item in enumerate(items or ()):
            path = _at("scale.levels", i)
            lm = self.mapping(item, path, _line(items, i), ("id", "label", "value"))
            if lm is None:
                ok = ids_complete = False
                continue
            level_id = self.slug(lm, path)
            if level_id is None:
                ids_complete = False
            elif level_id not in named:
                named.append(level_id)
            label = self.text(lm, path, "label")
            value = lm.get("value")
            if "value" in lm and not _is_number(value):
                self.add(
                    _at(path, "value"),
                    f"expected a number; got {_describe(value)}",
                    _line(lm, "value"),
                )
                ok = False
            if level_id == NOT_APPLICABLE:
                self.add(
                    _at(path, "id"),
                    f'"{NOT_APPLICABLE}" is kept for "not applicable" answers; choose another id',
                    _line(lm, "id"),
                )
                ok = False
                continue
            if not self.unique(seen, level_id, _at(path, "id"), "level", _line(lm, "id")):
                ok = False
                continue
            if not _is_number(value) or label is None:
                ok = False
                continue
            assert level_id is not None
            if levels and value >= levels[-1].value:
                self.add(
                    _at(path, "value"),
                    f"{value} is not lower than the level above"
                    f' ("{levels[-1].id}", {levels[-1].value:g}):'
                    " list levels best first with strictly decreasing values",
                    _line(lm, "value"),
                )
                ok = False
            levels.append(Level(level_id, label, float(value)))
        self.level_ids = named if ids_complete and named else None
        good = self.good_levels(m, self.level_ids, in_order=ok)
        self.good_or_better = good
        if not ok or not levels or good is None:
            return None
        return Scale(tuple(levels), good)

    def good_levels(
        self, m: Mapping[Any, Any], level_ids: list[str] | None, *, in_order: bool
    ) -> frozenset[str] | None:
        items = self.sequence(m, "scale", "good_or_better", what="level ids")
        if items is None:
            return None
        path = "scale.good_or_better"
        chosen: list[str] = []
        ok = True
        for i, item in enumerate(items):
            ip, il = _at(path, i), _line(items, i)
            if not isinstance(item, str):
                self.add(ip, f"expected a level id; got {_describe(item)}", il)
                ok = False
            elif level_ids is not None and item.strip() not in level_ids:
                self.add(
                    ip, f'unknown level "{_short(item)}"; levels are: {_one_of(level_ids)}', il
                )
                ok = False
            elif item.strip() in chosen:
                self.add(ip, f'level "{item.strip()}" is listed twice', il)
            else:
                chosen.append(item.strip())
        if not ok or level_ids is None:
            return None
        if not in_order:
            return frozenset(chosen)
        top = level_ids[: len(chosen)]
        if set(chosen) != set(top):
            self.add(
                path,
                "must be the best levels of the scale (for example outstanding and good):"
                f" every level above a good one is good too; expected {_one_of(top)}",
                _line(m, "good_or_better"),
            )
            return None
        return frozenset(chosen)

    def sections(self, root: Mapping[Any, Any]) -> tuple[Section, ...]:
        items = self.sequence(root, "", "sections", what="sections")
        if items is None:
            return ()
        total = sum(
            len(item["questions"])
            for item in items
            if isinstance(item, dict) and isinstance(item.get("questions"), list)
        )
        if total > MAX_QUESTIONS:
            self.add(
                "sections",
                f"{total} questions is more than the limit of {MAX_QUESTIONS}",
                _line(root, "sections"),
            )
            return ()
        result: list[Section] = []
        seen: dict[str, str] = {}
        for i, item in enumerate(items):
            section = self.section(item, _at("sections", i), _line(items, i), seen)
            if section is not None:
                result.append(section)
        return tuple(result)

    def section(
        self, item: Any, path: str, line: int | None, seen: dict[str, str]
    ) -> Section | None:
        m = self.mapping(
            item,
            path,
            line,
            ("id", "title", "questions"),
            ("description", "applies_to", "compulsory", "grade_question"),
        )
        if m is None:
            return None
        section_id = self.slug(m, path)
        self.unique(seen, section_id, _at(path, "id"), "section", _line(m, "id"))
        title = self.text(m, path, "title")
        description = self.text(m, path, "description", required=False) or ""
        applies_to = self.applies_to(m, path)
        compulsory = self.flag(m, path, "compulsory", False)
        grade_question = self.text(m, path, "grade_question", required=False) or None
        context = _SectionContext(applies_to, compulsory, path)
        questions: list[Question] = []
        items = self.sequence(m, path, "questions", what="questions")
        for j, q_item in enumerate(items or ()):
            question = self.question(
                q_item, _at(_at(path, "questions"), j), _line(items, j), context
            )
            if question is not None:
                questions.append(question)
        section = Section(
            section_id or "",
            title or "",
            description,
            applies_to,
            compulsory,
            grade_question,
            tuple(questions),
        )
        for question in questions:
            self.questions[question.id] = (section, question, self.question_paths[question.id])
        if grade_question is not None:
            gp, gl = _at(path, "grade_question"), _line(m, "grade_question")
            own = {q.id: q for q in questions}
            if grade_question in own:
                if own[grade_question].type not in ("grade", ""):
                    self.add(
                        gp,
                        f'question "{grade_question}" is a {own[grade_question].type} question;'
                        " the section's grade must be a grade question",
                        gl,
                    )
            elif grade_question in self.question_paths:
                self.add(
                    gp,
                    f'question "{grade_question}" is at {self.question_paths[grade_question]},'
                    " not in this section",
                    gl,
                )
            elif items is not None and len(questions) == len(items):
                self.add(gp, f'no question "{_short(grade_question)}" in this section', gl)
        return section

    def question(
        self, item: Any, path: str, line: int | None, context: _SectionContext
    ) -> Question | None:
        m = self.mapping(
            item,
            path,
            line,
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
            ),
        )
        if m is None:
            return None
        question_id = self.slug(m, path)
        unique = self.unique(
            self.question_paths, question_id, _at(path, "id"), "question", _line(m, "id")
        )
        text = self.text(m, path, "text")
        hint = self.text(m, path, "hint", required=False) or ""
        q_type = self.text(m, path, "type")
        if q_type is not None and q_type not in QUESTION_TYPES:
            self.add(
                _at(path, "type"),
                f'unknown question type "{_short(q_type)}";'
                f" expected one of: {_one_of(QUESTION_TYPES)}",
                _line(m, "type"),
            )
            q_type = None
        required = self.flag(m, path, "required", True)
        allow_na = self.flag(m, path, "allow_na", False)
        critical = self.flag(m, path, "critical", False)
        applies_to = self.applies_to(m, path, within=context.applies_to)
        good_answer = self.good_answer(m, path, q_type)
        evidence = self.evidence(m, path, q_type)
        guidance = self.guidance(m, path, q_type)
        adverse_answer = self.adverse_answer(m, path, q_type, critical, good_answer)
        adverse_levels = self.adverse_levels(m, path, q_type, critical)
        if critical:
            self.critical_rules(m, path, q_type, required, allow_na, applies_to, context)
        if not unique or question_id is None:
            return None
        return Question(
            id=question_id,
            text=text or "",
            hint=hint,
            type=q_type or "",  # "" only while invalid: the rubric is then rejected
            required=required,
            allow_na=allow_na,
            applies_to=applies_to,
            evidence=evidence,
            critical=critical,
            good_answer=good_answer,
            adverse_answer=adverse_answer,
            adverse_levels=adverse_levels,
            guidance=guidance,
        )

    def good_answer(self, m: Mapping[Any, Any], path: str, q_type: str | None) -> str | None:
        if "good_answer" not in m:
            return "yes" if q_type == "yes_no" else None
        p, line = _at(path, "good_answer"), _line(m, "good_answer")
        if q_type is not None and q_type != "yes_no":
            self.add(
                p,
                f"good_answer applies only to yes_no questions; this is a {q_type} question",
                line,
            )
            return None
        answer = _yes_no(m["good_answer"])
        if answer is None:
            self.add(p, f'expected "yes" or "no"; got {_describe(m["good_answer"])}', line)
            return "yes"
        return answer

    def evidence(self, m: Mapping[Any, Any], path: str, q_type: str | None) -> EvidenceRule:
        optional = EvidenceRule()
        value = m.get("evidence")
        if value is None:
            return optional
        p, line = _at(path, "evidence"), _line(m, "evidence")
        expected = (
            "expected optional, required, {required_below: LEVEL} (grade questions)"
            ' or {required_when: "yes" or "no"} (yes_no questions)'
        )
        if isinstance(value, str):
            kind = value.strip()
            if kind == "optional":
                return optional
            if kind == "required":
                if q_type == "text":
                    self.add(
                        p,
                        "a text question is its own evidence:"
                        " leave evidence out or set it to optional",
                        line,
                    )
                return EvidenceRule("required")
            self.add(p, f'unknown evidence rule "{_short(kind)}"; {expected}', line)
            return optional
        if not isinstance(value, dict):
            self.add(p, f"{expected}; got {_describe(value)}", line)
            return optional
        em = self.mapping(value, p, line, (), ("required_below", "required_when"))
        assert em is not None
        given = [key for key in ("required_below", "required_when") if key in em]
        if len(given) != 1:
            self.add(p, "give exactly one of required_below or required_when", line)
            return optional
        key = given[0]
        kp, kl = _at(p, key), _line(em, key)
        if key == "required_below":
            if q_type is not None and q_type != "grade":
                self.add(
                    kp,
                    f"required_below applies only to grade questions; this is a {q_type} question",
                    kl,
                )
                return optional
            level = em[key]
            if not isinstance(level, str):
                self.add(kp, f"expected a level id; got {_describe(level)}", kl)
                return optional
            level = level.strip()
            if self.level_ids is None:
                return EvidenceRule("required_below", level=level)
            if level not in self.level_ids:
                self.add(
                    kp,
                    f'unknown level "{_short(level)}"; levels are: {_one_of(self.level_ids)}',
                    kl,
                )
                return optional
            below = self.level_ids[self.level_ids.index(level) + 1 :]
            if not below:
                self.add(
                    kp,
                    f'no level is below "{level}", the lowest: evidence would never be needed',
                    kl,
                )
                return optional
            return EvidenceRule("required_below", level=level, levels=frozenset(below))
        if q_type is not None and q_type != "yes_no":
            self.add(
                kp,
                f"required_when applies only to yes_no questions; this is a {q_type} question",
                kl,
            )
            return optional
        answer = _yes_no(em[key])
        if answer is None:
            self.add(kp, f'expected "yes" or "no"; got {_describe(em[key])}', kl)
            return optional
        return EvidenceRule("required_when", answer=answer)

    def guidance(self, m: Mapping[Any, Any], path: str, q_type: str | None) -> Mapping[str, str]:
        value = m.get("guidance")
        empty: Mapping[str, str] = MappingProxyType({})
        if value is None:
            return empty
        p, line = _at(path, "guidance"), _line(m, "guidance")
        if q_type is not None and q_type != "grade":
            self.add(
                p, f"guidance applies only to grade questions; this is a {q_type} question", line
            )
            return empty
        if not isinstance(value, dict):
            self.add(p, f"expected a mapping of level id to text; got {_describe(value)}", line)
            return empty
        result: dict[str, str] = {}
        for key, text in value.items():
            kp, kl = _at(p, _short(key)), _line(value, key)
            if not isinstance(key, str):
                self.add(kp, f"expected a level id as the key; got {_describe(key)}", kl)
                continue
            if self.level_ids is not None and key not in self.level_ids:
                self.add(
                    kp, f'unknown level "{_short(key)}"; levels are: {_one_of(self.level_ids)}', kl
                )
                continue
            if not isinstance(text, str) or not text.strip():
                self.add(kp, f"expected guidance text; got {_describe(text)}", kl)
                continue
            result[key] = text.strip()
        for key, key_line in getattr(value, "duplicates", ()):
            self.add(
                _at(p, _short(key)), f'level "{_short(key)}" is given more than once', key_line
            )
        if self.level_ids is not None:
            result = {level: result[level] for level in self.level_ids if level in result}
        return MappingProxyType(result)

    def adverse_answer(
        self, m: Mapping[Any, Any], path: str, q_type: str | None, critical: bool, good: str | None
    ) -> str | None:
        if "adverse_answer" not in m:
            return None
        p, line = _at(path, "adverse_answer"), _line(m, "adverse_answer")
        if q_type is not None and q_type != "yes_no":
            self.add(
                p,
                "adverse_answer applies only to yes_no questions;"
                " grade questions use adverse_levels",
                line,
            )
            return None
        if not critical:
            self.add(
                p,
                "adverse_answer applies only to critical questions:"
                " add critical: true or remove it",
                line,
            )
            return None
        answer = _yes_no(m["adverse_answer"])
        if answer is None:
            self.add(p, f'expected "yes" or "no"; got {_describe(m["adverse_answer"])}', line)
            return None
        if answer == good:
            self.add(
                p,
                f'"{answer}" is also the good_answer: an answer cannot be both good and adverse',
                line,
            )
        return answer

    def adverse_levels(
        self, m: Mapping[Any, Any], path: str, q_type: str | None, critical: bool
    ) -> frozenset[str]:
        if "adverse_levels" not in m:
            return frozenset()
        p, line = _at(path, "adverse_levels"), _line(m, "adverse_levels")
        if q_type is not None and q_type != "grade":
            self.add(
                p,
                "adverse_levels applies only to grade questions;"
                " yes_no questions use adverse_answer",
                line,
            )
            return frozenset()
        if not critical:
            self.add(
                p,
                "adverse_levels applies only to critical questions:"
                " add critical: true or remove it",
                line,
            )
            return frozenset()
        items = self.sequence(m, path, "adverse_levels", what="level ids")
        chosen: set[str] = set()
        for i, item in enumerate(items or ()):
            ip, il = _at(p, i), _line(items, i)
            if not isinstance(item, str):
                self.add(ip, f"expected a level id; got {_describe(item)}", il)
                continue
            item = item.strip()
            if self.level_ids is not None and item not in self.level_ids:
                self.add(
                    ip, f'unknown level "{_short(item)}"; levels are: {_one_of(self.level_ids)}', il
                )
            elif self.good_or_better is not None and item in self.good_or_better:
                self.add(ip, f'level "{item}" is good or better, so it cannot be adverse', il)
            else:
                chosen.add(item)
        return frozenset(chosen)

    def critical_rules(
        self,
        m: Mapping[Any, Any],
        path: str,
        q_type: str | None,
        required: bool,
        allow_na: bool,
        applies_to: frozenset[str] | None,
        context: _SectionContext,
    ) -> None:
        p, line = _at(path, "critical"), _line(m, "critical")
        why = "a critical question must be answered in every audit"
        if q_type == "text":
            self.add(p, "a text question cannot be critical: use a yes_no or grade question", line)
        if not required:
            self.add(_at(path, "required"), f"{why}, so it must be required", _line(m, "required"))
        if allow_na:
            self.add(
                _at(path, "allow_na"), f"{why}, so it must not allow N/A", _line(m, "allow_na")
            )
        declared = self.case_type_ids or []
        if not _covers_all(applies_to, declared):
            self.add(
                _at(path, "applies_to"),
                f"{why}, so it must apply to all case types",
                _line(m, "applies_to"),
            )
        if not _covers_all(context.applies_to, declared):
            self.add(
                p, f"{why}, so its section ({context.path}) must apply to all case types", line
            )
        if not context.compulsory:
            self.add(p, f"{why}, so its section ({context.path}) must be compulsory: true", line)
        if q_type == "yes_no" and "adverse_answer" not in m:
            self.add(
                p, 'a critical yes_no question must name its adverse_answer ("yes" or "no")', line
            )
        if q_type == "grade" and "adverse_levels" not in m:
            self.add(
                p, "a critical grade question must list its adverse_levels, e.g. [inadequate]", line
            )

    def overall(self, root: Mapping[Any, Any], sections: tuple[Section, ...]) -> Overall | None:
        if "overall" not in root:
            return None
        m = self.mapping(
            root["overall"], "overall", _line(root, "overall"), (), ("question", "rule", "weights")
        )
        if m is None:
            return None
        line = _line(root, "overall")
        has_question, has_rule = "question" in m, "rule" in m
        if has_question == has_rule:
            self.add(
                "overall",
                'give exactly one of "question" (a grade question that is the overall grade)'
                ' or "rule" (lowest_section_grade or weighted_mean)',
                line,
            )
            return None
        graded = [s for s in sections if s.grade_question in {q.id for q in s.questions}]
        if has_question:
            question_id = self.text(m, "overall", "question")
            if "weights" in m:
                self.add(
                    "overall.weights",
                    "weights apply only with rule: weighted_mean",
                    _line(m, "weights"),
                )
            if question_id is None:
                return None
            self.overall_question(question_id, _line(m, "question"))
            return Overall(question=question_id)
        rule = self.text(m, "overall", "rule")
        rp, rl = "overall.rule", _line(m, "rule")
        if rule is None:
            return None
        if rule not in OVERALL_RULES:
            self.add(
                rp, f'unknown rule "{_short(rule)}"; expected one of: {_one_of(OVERALL_RULES)}', rl
            )
            return None
        if sections and not graded:
            self.add(
                rp,
                f"rule {rule} needs section grades, but no section names a grade_question",
                rl,
            )
        weights = self.weights(m, rule, sections, graded)
        return Overall(rule=rule, weights=weights)

    def overall_question(self, question_id: str, line: int | None) -> None:
        p = "overall.question"
        found = self.questions.get(question_id)
        if found is None:
            if question_id not in self.question_paths:
                self.add(p, f'no question "{_short(question_id)}" in this rubric', line)
            return
        section, question, where = found
        if question.type == "":
            return  # its type is already reported as unknown
        if question.type != "grade":
            self.add(
                p,
                f'question "{question_id}" ({where}) is a {question.type} question, not grade',
                line,
            )
            return
        if not question.required:
            self.add(p, f'question "{question_id}" ({where}) must be required', line)
        declared = self.case_type_ids or []
        section_all = section is None or _covers_all(section.applies_to, declared)
        if not _covers_all(question.applies_to, declared) or not section_all:
            self.add(p, f'question "{question_id}" ({where}) must apply to all case types', line)
        if section is not None and not section.compulsory:
            self.add(
                p,
                f'question "{question_id}" is in section "{section.id}", which is not compulsory'
                " and so could be marked not applicable",
                line,
            )

    def weights(
        self,
        m: Mapping[Any, Any],
        rule: str,
        sections: tuple[Section, ...],
        graded: list[Section],
    ) -> Mapping[str, float]:
        value = m.get("weights")
        p, line = "overall.weights", _line(m, "weights")
        if value is None:
            return MappingProxyType({})
        if rule != "weighted_mean":
            self.add(p, "weights apply only with rule: weighted_mean", line)
            return MappingProxyType({})
        if not isinstance(value, dict):
            self.add(p, f"expected a mapping of section id to weight; got {_describe(value)}", line)
            return MappingProxyType({})
        known = {s.id for s in sections}
        graded_ids = {s.id for s in graded}
        result: dict[str, float] = {}
        for key, weight in value.items():
            kp, kl = _at(p, _short(key)), _line(value, key)
            if not isinstance(key, str) or key not in known:
                self.add(
                    kp, f'no section "{_short(key)}"; sections are: {_one_of(sorted(known))}', kl
                )
            elif key not in graded_ids:
                self.add(
                    kp, f'section "{key}" has no grade_question, so it has no grade to weigh', kl
                )
            elif not _is_number(weight) or weight <= 0:
                self.add(kp, f"expected a positive number; got {_describe(weight)}", kl)
            else:
                result[key] = float(weight)
        return MappingProxyType(result)

    def findings(self, root: Mapping[Any, Any]) -> FindingRules:
        value = root.get("findings")
        if value is None:
            return FindingRules()
        m = self.mapping(
            value,
            "findings",
            _line(root, "findings"),
            (),
            ("min_answers", "strength_at_least", "development_below", "wording"),
        )
        if m is None:
            return FindingRules()
        min_answers = m.get("min_answers", DEFAULT_MIN_ANSWERS)
        if not isinstance(min_answers, int) or isinstance(min_answers, bool) or min_answers < 1:
            self.add(
                "findings.min_answers",
                f"expected a whole number of at least 1; got {_describe(min_answers)}",
                _line(m, "min_answers"),
            )
            min_answers = DEFAULT_MIN_ANSWERS
        strength = self.share(m, "findings", "strength_at_least", DEFAULT_STRENGTH_AT_LEAST)
        development = self.share(m, "findings", "development_below", DEFAULT_DEVELOPMENT_BELOW)
        if strength is not None and development is not None and strength <= development:
            self.add(
                "findings.strength_at_least",
                f"strength_at_least ({strength:g}) must be greater than development_below"
                f" ({development:g}), or one share would suggest both",
                _line(m, "strength_at_least") if "strength_at_least" in m else _line(m),
            )
        wording = dict(DEFAULT_WORDING)
        raw = m.get("wording")
        if raw is not None:
            wm = self.mapping(raw, "findings.wording", _line(m, "wording"), (), WORDING_KINDS)
            for kind in WORDING_KINDS:
                if wm is None or kind not in wm:
                    continue
                template = self.text(wm, "findings.wording", kind)
                if template is None:
                    continue
                problem = _wording_problem(template)
                if problem is not None:
                    self.add(_at("findings.wording", kind), problem, _line(wm, kind))
                    continue
                wording[kind] = template
        return FindingRules(
            min_answers,
            strength if strength is not None else DEFAULT_STRENGTH_AT_LEAST,
            development if development is not None else DEFAULT_DEVELOPMENT_BELOW,
            MappingProxyType(wording),
        )

    def timeliness(self, root: Mapping[Any, Any]) -> tuple[TimelinessMeasure, ...]:
        if root.get("timeliness") is None:
            return ()
        items = self.sequence(root, "", "timeliness", what="timeliness measures")
        result: list[TimelinessMeasure] = []
        seen: dict[str, str] = {}
        for i, item in enumerate(items or ()):
            path = _at("timeliness", i)
            m = self.mapping(
                item,
                path,
                _line(items, i),
                ("id", "name", "start", "end", "limit", "unit"),
                ("applies_to",),
            )
            if m is None:
                continue
            measure_id = self.slug(m, path)
            unique = self.unique(
                seen, measure_id, _at(path, "id"), "timeliness measure", _line(m, "id")
            )
            name = self.text(m, path, "name")
            columns = []
            for key in ("start", "end"):
                column = self.text(m, path, key)
                if column is not None and not _COLUMN.fullmatch(column):
                    self.add(
                        _at(path, key),
                        f'"{_short(column)}" is not a date column name: use lower-case letters,'
                        ' digits and "_", such as referral_date',
                        _line(m, key),
                    )
                    column = None
                columns.append(column)
            if columns[0] is not None and columns[0] == columns[1]:
                self.add(
                    _at(path, "end"),
                    "end must be a different date column from start",
                    _line(m, "end"),
                )
            limit = m.get("limit")
            if "limit" in m and (
                not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
            ):
                self.add(
                    _at(path, "limit"),
                    f"expected a whole number of at least 1; got {_describe(limit)}",
                    _line(m, "limit"),
                )
                limit = None
            unit = self.text(m, path, "unit")
            if unit is not None and unit not in TIMELINESS_UNITS:
                self.add(
                    _at(path, "unit"),
                    f'unknown unit "{_short(unit)}"; expected one of: {_one_of(TIMELINESS_UNITS)}',
                    _line(m, "unit"),
                )
                unit = None
            applies_to = self.applies_to(m, path)
            if unique and measure_id is not None:
                result.append(
                    TimelinessMeasure(
                        measure_id,
                        name or "",
                        columns[0] or "",
                        columns[1] or "",
                        limit if isinstance(limit, int) else 0,
                        unit or "",
                        applies_to,
                    )
                )
        return tuple(result)


@dataclass(frozen=True)
class _SectionContext:
    """What a question needs to know about its section while being checked."""

    applies_to: frozenset[str] | None
    compulsory: bool
    path: str


# --- public functions


def parse_rubric(text: str, source: str = "<rubric>") -> Rubric:
    """Parse and validate rubric YAML so callers only ever hold a usable rubric."""
    data, problem = _load_yaml(text)
    if problem is not None:
        raise RubricInvalid(source, (problem,))
    checker = _Checker()
    parts = checker.rubric(data)
    if checker.problems or parts is None:
        raise RubricInvalid(source, checker.problems)
    return Rubric(
        **parts,
        text=text,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=source,
    )


def validate_rubric_text(text: str, source: str = "<rubric>") -> tuple[Problem, ...]:
    """Return every problem in rubric YAML, or () when it is valid (for upload forms)."""
    try:
        parse_rubric(text, source)
    except RubricInvalid as error:
        return error.problems
    return ()


def _read_text(path: Path) -> str:
    """Read a rubric file as UTF-8, raising RubricInvalid with a located problem if unable."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RubricInvalid(
            str(path), (Problem("", f"cannot read the file: {error.strerror or error}"),)
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        problem = Problem(
            "",
            f"not UTF-8 text: byte 0x{data[error.start]:02x} cannot be read;"
            " save the file as UTF-8",
            line,
            column,
        )
        raise RubricInvalid(str(path), (problem,)) from None


def load_rubric_file(path: Path) -> Rubric:
    """Read and parse one rubric file, naming the file in any problem."""
    path = Path(path)
    return parse_rubric(_read_text(path), str(path))


def check_rubric_file(path: Path) -> tuple[Problem, ...]:
    """Return every problem in a rubric file, or () when it is valid (for the CLI check)."""
    try:
        load_rubric_file(path)
    except RubricInvalid as error:
        return error.problems
    return ()


def version_sort_key(version: str) -> tuple[tuple[Any, ...], str]:
    """Return a key that orders versions numerically where they are numbers: 1.10 after 1.9."""
    parts = re.split(r"(\d+)", version.strip())
    natural = tuple(int(part) if i % 2 else part.casefold() for i, part in enumerate(parts))
    return natural, version


# --- library


_Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class _LibraryState:
    """One consistent snapshot of the library, swapped in whole so readers never see a mix."""

    signature: tuple[tuple[Path, _Stamp], ...] | None = None
    results: Mapping[Path, tuple[_Stamp, Rubric | tuple[Problem, ...]]] = field(
        default_factory=dict, hash=False
    )
    valid: tuple[Rubric, ...] = ()
    invalid: tuple[tuple[Path, tuple[Problem, ...]], ...] = ()


class RubricLibrary:
    """The rubrics available to reviews: every *.yaml/*.yml file in a list of folders."""

    def __init__(self, dirs: Sequence[Path]) -> None:
        unique: list[Path] = []
        for folder in dirs:
            folder = Path(folder)
            if all(os.path.abspath(folder) != os.path.abspath(other) for other in unique):
                unique.append(folder)
        self.dirs: tuple[Path, ...] = tuple(unique)
        self._lock = threading.Lock()
        self._state = _LibraryState()

    def _scan(self) -> tuple[tuple[Path, _Stamp], ...]:
        found: list[tuple[Path, _Stamp]] = []
        for folder in self.dirs:
            try:
                with os.scandir(folder) as entries:
                    names = sorted(entry.name for entry in entries)
            except OSError:
                continue  # a missing folder just holds no rubrics
            for name in names:
                if name.startswith(".") or not name.endswith((".yaml", ".yml")):
                    continue
                path = folder / name
                try:
                    info = path.stat()
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    found.append((path, (info.st_mtime_ns, info.st_size, info.st_ino)))
        return tuple(found)

    def refresh(self) -> None:
        """Rescan the folders, re-reading only files whose time, size or inode changed."""
        with self._lock:
            signature = self._scan()
            old = self._state
            if signature == old.signature:
                return
            results: dict[Path, tuple[_Stamp, Rubric | tuple[Problem, ...]]] = {}
            for path, stamp in signature:
                previous = old.results.get(path)
                if previous is not None and previous[0] == stamp:
                    results[path] = previous
                    continue
                try:
                    result: Rubric | tuple[Problem, ...] = load_rubric_file(path)
                except RubricInvalid as error:
                    result = error.problems
                results[path] = (stamp, result)
            valid: list[Rubric] = []
            invalid: list[tuple[Path, tuple[Problem, ...]]] = []
            owners: dict[tuple[str, str], Path] = {}
            for path, _ in signature:
                result = results[path][1]
                if not isinstance(result, Rubric):
                    invalid.append((path, result))
                    continue
                if result.key in owners:
                    problem = Problem(
                        "version",
                        f'rubric "{result.id}" version "{result.version}" is already defined in'
                        f" {owners[result.key]}; change the version (or the id) of one of them",
                    )
                    invalid.append((path, (problem,)))
                    continue
                owners[result.key] = path
                valid.append(result)
            valid.sort(key=lambda r: (r.title.casefold(), version_sort_key(r.version)))
            self._state = _LibraryState(signature, results, tuple(valid), tuple(invalid))

    def rubrics(self) -> tuple[Rubric, ...]:
        """Return the valid rubrics, sorted by title then version."""
        self.refresh()
        return self._state.valid

    def invalid(self) -> tuple[tuple[Path, tuple[Problem, ...]], ...]:
        """Return the files that could not be used, each with its problems."""
        self.refresh()
        return self._state.invalid

    def get(self, rubric_id: str, version: str | None = None) -> Rubric:
        """Return a rubric by id, the latest version unless one is named."""
        matches = [r for r in self.rubrics() if r.id == rubric_id]
        if version is not None:
            matches = [r for r in matches if r.version == version]
        if not matches:
            shown = rubric_id if version is None else f"{rubric_id} version {version}"
            raise KeyError(f"no valid rubric {shown}")
        return max(matches, key=lambda r: version_sort_key(r.version))
