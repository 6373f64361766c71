"""Checks of what a question's answers mean: good, adverse, evidence, guidance, critical."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from audit.rubric.checks.base import (
    BaseChecker,
    _at,
    _covers_all,
    _describe,
    _line,
    _one_of,
    _SectionContext,
    _yes_no,
)
from audit.rubric.loading import _short
from audit.rubric.model import KEYS, EvidenceRule


class AnswerChecks(BaseChecker):
    """Check the answer rules of one question."""

    def good_answer(self, m: Mapping[Any, Any], path: str, q_type: str | None) -> str | None:
        """Return a yes_no question's good answer (yes unless stated), checking it fits."""
        if "good_answer" not in m:
            return "yes" if q_type == "yes_no" else None
        p, line = _at(path, "good_answer"), _line(m, "good_answer")
        if self.only_for(p, "good_answer", "yes_no", q_type, line):
            return None
        answer = _yes_no(m["good_answer"])
        if answer is None:
            self.add(p, f'expected "yes" or "no"; got {_describe(m["good_answer"])}', line)
            return "yes"
        return answer

    def evidence(self, m: Mapping[Any, Any], path: str, q_type: str | None) -> EvidenceRule:
        """Return when evidence is needed, checking the rule fits the question type."""
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
        em = self.mapping(value, p, line, *KEYS["evidence"])
        assert em is not None
        given = [key for key in ("required_below", "required_when") if key in em]
        if len(given) != 1:
            self.add(p, "give exactly one of required_below or required_when", line)
            return optional
        key = given[0]
        kp, kl = _at(p, key), _line(em, key)
        if key == "required_below":
            if self.only_for(kp, key, "grade", q_type, kl):
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
        if self.only_for(kp, key, "yes_no", q_type, kl):
            return optional
        answer = _yes_no(em[key])
        if answer is None:
            self.add(kp, f'expected "yes" or "no"; got {_describe(em[key])}', kl)
            return optional
        return EvidenceRule("required_when", answer=answer)

    def guidance(self, m: Mapping[Any, Any], path: str, q_type: str | None) -> Mapping[str, str]:
        """Return per-level guidance in scale order, checking every level exists."""
        value = m.get("guidance")
        empty: Mapping[str, str] = MappingProxyType({})
        if value is None:
            return empty
        p, line = _at(path, "guidance"), _line(m, "guidance")
        if self.only_for(p, "guidance", "grade", q_type, line):
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

    def adverse_fits(
        self, path: str, key: str, q_type: str | None, critical: bool, line: int | None
    ) -> bool:
        """Report an adverse rule on the wrong type of question or a non-critical one."""
        wanted, other, other_key = (
            ("yes_no", "grade", "adverse_levels")
            if key == "adverse_answer"
            else ("grade", "yes_no", "adverse_answer")
        )
        if q_type is not None and q_type != wanted:
            self.add(
                path,
                f"{key} applies only to {wanted} questions; {other} questions use {other_key}",
                line,
            )
            return False
        if not critical:
            self.add(
                path,
                f"{key} applies only to critical questions: add critical: true or remove it",
                line,
            )
            return False
        return True

    def adverse_answer(
        self, m: Mapping[Any, Any], path: str, q_type: str | None, critical: bool, good: str | None
    ) -> str | None:
        """Return the answer that makes a critical yes_no question escalate."""
        if "adverse_answer" not in m:
            return None
        p, line = _at(path, "adverse_answer"), _line(m, "adverse_answer")
        if not self.adverse_fits(p, "adverse_answer", q_type, critical, line):
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
        """Return the levels that make a critical grade question escalate."""
        if "adverse_levels" not in m:
            return frozenset()
        p, line = _at(path, "adverse_levels"), _line(m, "adverse_levels")
        if not self.adverse_fits(p, "adverse_levels", q_type, critical, line):
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
        """Report anything that would let a critical question go unanswered."""
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
