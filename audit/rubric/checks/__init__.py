"""Validation of raw rubric data, grouped by the part of the rubric each module checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.rubric.checks.agencies import AgencyChecks
from audit.rubric.checks.base import _describe, _is_number, _line
from audit.rubric.checks.case_types import CaseTypeChecks
from audit.rubric.checks.findings import FindingChecks
from audit.rubric.checks.overall import OverallChecks
from audit.rubric.checks.scale import ScaleChecks
from audit.rubric.checks.sections import SectionChecks
from audit.rubric.checks.timeliness import TimelinessChecks
from audit.rubric.model import KEYS


class Checker(
    CaseTypeChecks,
    ScaleChecks,
    SectionChecks,
    OverallChecks,
    FindingChecks,
    TimelinessChecks,
    AgencyChecks,
):
    """Walks raw YAML data, collecting problems and building model objects as it goes."""

    def rubric(self, data: Any) -> dict[str, Any] | None:
        """Check the whole rubric and return its parts, so parse_rubric can build a Rubric."""
        root = self.mapping(data, "", None, *KEYS["rubric"])
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
        self.agency_rules(root, sections, overall)
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
        """Return the version as written (1.10 stays 1.10), or report why it is unusable."""
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
