"""Checks that need a whole multi-agency rubric: who can raise an alert, who agrees the overall.

A rubric is multi-agency when a section lists ``agencies`` or a question says
``each_agency``. Agencies answer their own sections and the ``each_agency`` questions; the
panel answers every question of the sections without ``agencies``. Two things must then
hold, or a partnership could not use the tool safely.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.rubric.checks.base import BaseChecker, _line
from audit.rubric.model import Overall, Section


class AgencyChecks(BaseChecker):
    """Check what a multi-agency rubric needs besides the shape of its keys."""

    def agency_rules(
        self, root: Mapping[Any, Any], sections: tuple[Section, ...], overall: Overall | None
    ) -> None:
        """Report a multi-agency rubric where no agency can escalate, or nobody agrees overall."""
        questions = [q for s in sections for q in s.questions]
        if not any(s.agencies is not None for s in sections) and not any(
            q.each_agency for q in questions
        ):
            return
        if not any(q.critical and q.each_agency for q in questions):
            self.add(
                "sections",
                "a multi-agency rubric needs a critical question every agency answers"
                " (critical: true and each_agency: true, in a compulsory section without"
                " agencies), so that any agency finding a child not adequately safeguarded"
                " raises an alert the same day",
                _line(root, "sections"),
            )
        if not any(s.agencies is None for s in sections):
            self.add(
                "sections",
                "a multi-agency rubric needs at least one section without agencies: the panel's"
                " section for the agreed multi-agency judgements",
                _line(root, "sections"),
            )
        if overall is not None and overall.question is not None:
            found = self.questions.get(overall.question)
            section = found[0] if found else None
            if section is not None and section.agencies is not None:
                m = root.get("overall")
                self.add(
                    "overall.question",
                    f'question "{overall.question}" is in section "{section.id}", which only'
                    " its agencies answer; the overall judgement is the panel's, so put it in"
                    " a section without agencies (each_agency: true lets every agency grade"
                    " it too)",
                    _line(m, "question") if isinstance(m, dict) else _line(root, "overall"),
                )
