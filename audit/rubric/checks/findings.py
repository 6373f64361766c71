"""Checks of the finding rules: thresholds and wording templates."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from audit.rubric.checks.base import BaseChecker, _at, _describe, _line, _wording_problems
from audit.rubric.model import (
    DEFAULT_DEVELOPMENT_BELOW,
    DEFAULT_MIN_ANSWERS,
    DEFAULT_STRENGTH_AT_LEAST,
    DEFAULT_WORDING,
    KEYS,
    WORDING_KINDS,
    FindingRules,
)


class FindingChecks(BaseChecker):
    """Check findings: min_answers, thresholds and wording."""

    def findings(self, root: Mapping[Any, Any]) -> FindingRules:
        """Return the finding rules, defaults filled in, reporting bad shares or wording."""
        value = root.get("findings")
        if value is None:
            return FindingRules()
        m = self.mapping(
            value,
            "findings",
            _line(root, "findings"),
            *KEYS["findings"],
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
            wm = self.mapping(raw, "findings.wording", _line(m, "wording"), *KEYS["wording"])
            for kind in WORDING_KINDS:
                if wm is None or kind not in wm:
                    continue
                template = self.text(wm, "findings.wording", kind)
                if template is None:
                    continue
                problems = _wording_problems(template)
                for problem in problems:
                    self.add(_at("findings.wording", kind), problem, _line(wm, kind))
                if problems:
                    continue
                wording[kind] = template
        return FindingRules(
            min_answers,
            strength if strength is not None else DEFAULT_STRENGTH_AT_LEAST,
            development if development is not None else DEFAULT_DEVELOPMENT_BELOW,
            MappingProxyType(wording),
        )
