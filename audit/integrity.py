"""Stored values a review's rubric does not allow: keep them out of the figures and say so.

Imports are checked whole (audit/bundles/bundle_checks.py), but a database edited by hand or filled
by an older version can still hold a grade that is not on the scale, an answer to a question
the rubric lacks, or a case type it does not declare. The figures are read through one
:class:`Screen`, which leaves such values out, and :func:`data_errors` names each one so an
admin or the lead can correct it. Plain Python: no Flask, no SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from audit.rubric import NOT_APPLICABLE, Rubric
from audit.scoring import allowed_values

log = logging.getLogger(__name__)

PURPOSES = {"first": "first audit", "second": "second audit", "re_audit": "re-audit"}


@dataclass(frozen=True)
class DataError:
    """One stored value that does not fit the rubric, located well enough to correct it."""

    where: str
    message: str
    audit_id: str | None = None

    def __str__(self) -> str:
        return f"{self.where} {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form (for the findings JSON)."""
        return {"where": self.where, "problem": self.message, "audit_id": self.audit_id}


class Screen:
    """What a rubric allows, to keep every other stored value out of the counting."""

    def __init__(self, rubric: Rubric) -> None:
        self.rubric = rubric
        self.case_types = frozenset(ct.id for ct in rubric.case_types)
        # N/A is stored as the not-applicable flag, never as a value
        self.allowed = {
            q.id: tuple(v for v in allowed_values(q, rubric) if v != NOT_APPLICABLE)
            for q in rubric.questions
        }
        self.free_text = frozenset(q.id for q in rubric.questions if q.type == "text")

    def value_ok(self, question_id: str, value: object) -> bool:
        """Tell whether a stored answer can be counted for this question."""
        if question_id not in self.allowed:
            return False
        allowed = self.allowed[question_id]
        return value is None or (isinstance(value, str) and (not allowed or value in allowed))

    def counts(self, rows: Iterable[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], int]:
        """Keep the counted answer rows that fit the rubric; return them and how many were not."""
        kept, left_out = [], 0
        for row in rows:
            value = None if row["not_applicable"] else row["value"]
            if row["case_type"] in self.case_types and self.value_ok(row["question_id"], value):
                kept.append(row)
            else:
                left_out += int(row.get("n", 1))
        return kept, left_out

    def audits(self, audits: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Keep the counted audits whose case type the rubric declares."""
        return [a for a in audits if a["case_type"] in self.case_types]

    def grades(self, grades: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
        """Keep each audit's grades that are levels of the scale (for per-case rules)."""
        return {
            audit_id: {q: v for q, v in values.items() if self.value_ok(q, v)}
            for audit_id, values in grades.items()
        }

    def pairs(self, cases: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
        """Keep the double-audited cases of a known case type, with answers that fit."""
        kept: dict[str, Mapping[str, Any]] = {}
        for case_id, case in cases.items():
            if case["case_type"] not in self.case_types:
                continue
            answers = {
                purpose: {q: v for q, v in values.items() if self.value_ok(q, v)}
                for purpose, values in case["answers"].items()
            }
            kept[case_id] = {**case, "answers": answers}
        return kept


def _audit(row: Mapping[str, Any]) -> str:
    purpose = PURPOSES.get(row["purpose"], row["purpose"])
    by = f" by {row['reviewer']}" if row.get("reviewer") else ""
    return f"{row['pseudonym']}'s {purpose}{by} (audit {row['audit_id']})"


def _value_problem(screen: Screen, question_id: str, value: Any) -> str:
    shown = repr(value)[:80]
    if question_id not in screen.allowed:
        return "answers a question the review's rubric does not have"
    question = screen.rubric.question(question_id)
    allowed = ", ".join(screen.allowed[question_id])
    if question.type == "grade":
        return f"holds {shown}, a value that is not on the scale ({allowed})"
    return f"holds {shown}, which is not an answer to a yes/no question ({allowed})"


def data_errors(screen: Screen, suspects: Mapping[str, list[Mapping[str, Any]]]) -> list[DataError]:
    """Word each stored value the rubric does not allow, and log it for whoever maintains it.

    ``suspects`` is what ``audit.data.integrity.suspects`` found for the review.
    """
    errors: list[DataError] = []
    case_types = ", ".join(sorted(screen.case_types))
    for row in suspects.get("cases", []):
        errors.append(
            DataError(
                f"Case {row['pseudonym']}",
                f"has case type {row['case_type']!r}, which the review's rubric does not "
                f"declare ({case_types}); its audits are left out of the figures",
            )
        )
    for kind, label in (("answers", "Answer"), ("moderation", "Moderated grade for")):
        for row in suspects.get(kind, []):
            if screen.value_ok(row["question_id"], row["value"]):
                continue
            errors.append(
                DataError(
                    f"{label} {row['question_id']} of {_audit(row)}",
                    _value_problem(screen, row["question_id"], row["value"])
                    + "; it is left out of the figures",
                    row["audit_id"],
                )
            )
    for error in errors:
        log.warning("data error: %s", error)
    return errors


def grade_label(value: str | None, rubric: Rubric) -> str:
    """Return a level's label for pages, or the stored value marked as off the scale."""
    if value is None:
        return ""
    for level in rubric.scale.levels:
        if level.id == value:
            return level.label
    return f"{value} (not on the scale)"


def unknown_case_type(rubric: Rubric, case_type: str | None) -> str | None:
    """Explain a case type the rubric does not declare (its audit cannot be shown), else None."""
    if case_type in {ct.id for ct in rubric.case_types}:
        return None
    return (
        f"This case's case type, {case_type!r}, is not one the review's rubric declares, so its "
        "audit cannot be shown or moderated. An admin or the review's lead can see it among "
        "the data errors on the review page."
    )
