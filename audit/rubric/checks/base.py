"""Shared helpers and the generic shape checks (mapping, list, text, id, flag, share)."""

from __future__ import annotations

import difflib
import math
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.rubric.loading import _LineDict, _LineList, _short
from audit.rubric.model import WORDING_PLACEHOLDERS, YES_NO, Problem, Question, Section

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")


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


def _wording_problems(template: str) -> list[str]:
    """Return every problem with a wording template, so one save shows them all."""
    allowed = ", ".join("{" + name + "}" for name in WORDING_PLACEHOLDERS)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return ['has an unmatched "{" or "}"; write {{ or }} for a literal brace']
    problems: list[str] = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in WORDING_PLACEHOLDERS:
            problems.append(
                f'unknown placeholder "{{{_short(name)}}}"; allowed placeholders: {allowed}'
            )
        elif spec or conversion:
            problems.append(
                f'placeholder "{{{name}}}" takes no format or conversion; write {{{name}}}'
            )
    return problems


@dataclass(frozen=True)
class _SectionContext:
    """What a question needs to know about its section while being checked."""

    applies_to: frozenset[str] | None
    compulsory: bool
    path: str
    agencies: frozenset[str] | None = None


class BaseChecker:
    """Collects problems; the generic checks every part of a rubric uses."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.case_type_ids: list[str] | None = None
        self.level_ids: list[str] | None = None
        self.good_or_better: frozenset[str] | None = None
        self.question_paths: dict[str, str] = {}
        self.questions: dict[str, tuple[Section | None, Question, str]] = {}

    def add(self, path: str, message: str, line: int | None = None) -> None:
        """Record one problem; checking goes on, so every problem is reported."""
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
        """Return value if it is a mapping with the right keys, reporting every wrong key."""
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
        """Return stripped text, or None after reporting why the value is not usable text."""
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

    def matching(
        self, m: Mapping[Any, Any], path: str, key: str, pattern: re.Pattern[str], rule: str
    ) -> str | None:
        """Return m[key] as text in the form pattern describes, or report the rule it breaks."""
        value = self.text(m, path, key)
        if value is not None and not pattern.fullmatch(value):
            self.add(_at(path, key), f'"{_short(value)}" {rule}', _line(m, key))
            return None
        return value

    def slug(self, m: Mapping[Any, Any], path: str, key: str = "id") -> str | None:
        return self.matching(
            m,
            path,
            key,
            _SLUG,
            'is not a valid id: use lower-case letters, digits, "_" and "-",'
            " starting with a letter or digit",
        )

    def only_for(
        self, path: str, key: str, wanted: str, q_type: str | None, line: int | None
    ) -> bool:
        """Report a key used on the wrong type of question; return True when it was."""
        if q_type is None or q_type == wanted:
            return False
        self.add(
            path, f"{key} applies only to {wanted} questions; this is a {q_type} question", line
        )
        return True

    def flag(self, m: Mapping[Any, Any], path: str, key: str, default: bool) -> bool:
        """Return a true/false setting, or the default after reporting a non-boolean."""
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
        """Record an id as used; report it (citing the first use) when it is a duplicate."""
        if value is None:
            return False
        if value in seen:
            self.add(path, f'duplicate {what} id "{value}"; first used at {seen[value]}', line)
            return False
        seen[value] = path
        return True
