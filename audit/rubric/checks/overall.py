"""Checks of the overall grade: a question or a rule over section grades."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from audit.rubric.checks.base import (
    BaseChecker,
    _at,
    _covers_all,
    _describe,
    _is_number,
    _line,
    _one_of,
)
from audit.rubric.loading import _short
from audit.rubric.model import KEYS, OVERALL_RULES, Overall, Section


class OverallChecks(BaseChecker):
    """Check the overall rule, its question or its weights."""

    def overall(self, root: Mapping[Any, Any], sections: tuple[Section, ...]) -> Overall | None:
        """Return how the overall grade is judged: one grade question or a rule."""
        if "overall" not in root:
            return None
        m = self.mapping(root["overall"], "overall", _line(root, "overall"), *KEYS["overall"])
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
        """Report an overall question that some audit could leave without a grade."""
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
        """Return section weights for weighted_mean, reporting unknown or ungraded sections."""
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
