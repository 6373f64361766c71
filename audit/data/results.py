"""Read what the findings are built from: counted answers, per-case grades, moderation.

Only submitted first audits count towards the figures (a case audited twice counts once),
and a moderated grade replaces the reviewer's where the lead changed it. The counting is
done by SQLite (GROUP BY) so that 10,000 audits aggregate in one pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

# The latest moderation of each (audit, question) that changed the grade.
_MODERATED = """
SELECT m.audit_id, m.question_id, m.moderated_value
FROM moderation AS m
JOIN (SELECT audit_id, question_id, max(rowid) AS last FROM moderation
      WHERE question_id IS NOT NULL GROUP BY audit_id, question_id) AS latest
  ON latest.last = m.rowid
WHERE m.outcome = 'changed'
"""

# Each counted answer with moderation applied: a moderated grade replaces the reviewer's
# (even an N/A), and a grade the lead gave where the reviewer left none is counted too.
_EFFECTIVE = """
SELECT answer.audit_id, answer.question_id,
       CASE WHEN moderated.moderated_value IS NOT NULL THEN moderated.moderated_value
            WHEN answer.not_applicable THEN NULL ELSE answer.value END AS value,
       CASE WHEN moderated.moderated_value IS NOT NULL THEN 0
            ELSE answer.not_applicable END AS not_applicable
FROM answer JOIN counted ON counted.audit_id = answer.audit_id
LEFT JOIN moderated ON moderated.audit_id = answer.audit_id
     AND moderated.question_id = answer.question_id
UNION ALL
SELECT moderated.audit_id, moderated.question_id, moderated.moderated_value, 0
FROM moderated JOIN counted ON counted.audit_id = moderated.audit_id
WHERE moderated.moderated_value IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM answer WHERE answer.audit_id = moderated.audit_id
    AND answer.question_id = moderated.question_id)
"""

# Answers in a section the reviewer marked "does not apply" are left out.
_IN_APPLICABLE_SECTION = """
(counted.sections_not_applicable = '[]'
 OR NOT EXISTS (SELECT 1 FROM json_each(counted.sections_not_applicable)
                WHERE json_each.value = question_section.section_id))
"""

_COUNTED = """
SELECT case_audit.id AS audit_id, case_file.id AS case_id, case_file.case_type,
       case_file.team, case_audit.sections_not_applicable
FROM case_audit JOIN case_file ON case_file.id = case_audit.case_id
WHERE case_audit.review_id = :review_id AND case_audit.purpose = 'first'
  AND case_audit.status = 'submitted'
"""


def _sections_cte(sections: Mapping[str, str]) -> tuple[str, list[Any]]:
    values = ", ".join("(?, ?)" for _ in sections)
    args: list[Any] = [item for pair in sections.items() for item in pair]
    return f"question_section(question_id, section_id) AS (VALUES {values})", args


def answer_counts(
    db: sqlite_utils.Database, review_id: str, sections: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Count counted answers by question, effective value, N/A, case type and team.

    ``sections`` maps question id to section id: answers left in a section the reviewer
    marked "does not apply" are not counted (the section counts as not applicable).
    """
    if not sections:
        return []
    section_cte, args = _sections_cte(sections)
    sql = f"""
    WITH counted AS ({_COUNTED.replace(":review_id", "?")}), moderated AS ({_MODERATED}),
         effective AS ({_EFFECTIVE}), {section_cte}
    SELECT effective.question_id, effective.value, effective.not_applicable,
           counted.case_type, counted.team, count(*) AS n
    FROM effective
    JOIN counted ON counted.audit_id = effective.audit_id
    JOIN question_section ON question_section.question_id = effective.question_id
    WHERE {_IN_APPLICABLE_SECTION}
    GROUP BY 1, 2, 3, 4, 5
    """
    return [dict(row) for row in db.execute(sql, [review_id, *args])]


def counted_audits(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return the counted audits with case type, team and sections marked not applicable."""
    rows = []
    for row in db.execute(_COUNTED, {"review_id": review_id}):
        item = dict(row)
        item["sections_na"] = json.loads(item.pop("sections_not_applicable"))
        rows.append(item)
    return rows


def case_grades(
    db: sqlite_utils.Database,
    review_id: str,
    question_ids: Iterable[str],
    sections: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """Return audit id -> {question id: effective value} for the given questions.

    With ``sections`` (question id -> section id), grades left in a section marked "does
    not apply" are ignored, as they are in the counts.
    """
    ids = sorted(set(question_ids))
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    mapping = dict(sections or {q: "" for q in ids})
    section_cte, section_args = _sections_cte(mapping)
    sql = f"""
    WITH counted AS ({_COUNTED.replace(":review_id", "?")}), moderated AS ({_MODERATED}),
         effective AS ({_EFFECTIVE}), {section_cte}
    SELECT effective.audit_id, effective.question_id, effective.value
    FROM effective JOIN counted ON counted.audit_id = effective.audit_id
    JOIN question_section ON question_section.question_id = effective.question_id
    WHERE effective.not_applicable = 0 AND effective.value IS NOT NULL
      AND effective.question_id IN ({marks}) AND {_IN_APPLICABLE_SECTION}
    """
    out: dict[str, dict[str, str]] = {}
    for row in db.execute(sql, [review_id, *section_args, *ids]):
        out.setdefault(row["audit_id"], {})[row["question_id"]] = row["value"]
    return out


def evidence_quotes(
    db: sqlite_utils.Database,
    review_id: str,
    question_ids: Iterable[str],
    *,
    good: bool | None = None,
    good_values: Iterable[str] = (),
    limit: int = 3,
) -> list[dict[str, Any]]:
    """Return short evidence notes behind a finding, with the case pseudonym and audit id."""
    ids = sorted(set(question_ids))
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    values = sorted(set(good_values))
    filter_sql, args = "", []
    if good is not None and values:
        value_marks = ", ".join("?" for _ in values)
        filter_sql = f" AND answer.value {'IN' if good else 'NOT IN'} ({value_marks})"
        args = values
    sql = f"""
    SELECT case_file.pseudonym, answer.audit_id, answer.question_id, answer.evidence
    FROM answer JOIN case_audit ON case_audit.id = answer.audit_id
    JOIN case_file ON case_file.id = case_audit.case_id
    WHERE case_audit.review_id = ? AND case_audit.purpose = 'first'
      AND case_audit.status = 'submitted' AND answer.question_id IN ({marks})
      AND trim(answer.evidence) != ''{filter_sql}
    ORDER BY case_file.pseudonym LIMIT ?
    """
    return [dict(r) for r in db.execute(sql, [review_id, *ids, *args, limit])]


def audits_behind(
    db: sqlite_utils.Database, review_id: str, question_ids: Iterable[str]
) -> list[dict[str, Any]]:
    """Return the counted audits that answered any of these questions (for evidence links)."""
    ids = sorted(set(question_ids))
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    sql = f"""
    SELECT DISTINCT case_file.pseudonym, case_audit.id AS audit_id
    FROM answer JOIN case_audit ON case_audit.id = answer.audit_id
    JOIN case_file ON case_file.id = case_audit.case_id
    WHERE case_audit.review_id = ? AND case_audit.purpose = 'first'
      AND case_audit.status = 'submitted' AND answer.question_id IN ({marks})
      AND answer.not_applicable = 0 AND answer.value IS NOT NULL
    ORDER BY case_file.pseudonym
    """
    return [dict(r) for r in db.execute(sql, [review_id, *ids])]


def escalation_summary(db: sqlite_utils.Database, review_id: str) -> dict[str, int]:
    """Count cases with a child found not adequately safeguarded, and those escalated."""
    row = db.execute(
        "SELECT count(DISTINCT case_id) AS cases,"
        " count(DISTINCT CASE WHEN recorded_at IS NOT NULL THEN case_id END) AS recorded"
        " FROM escalation WHERE review_id = ? AND withdrawn_at IS NULL",
        [review_id],
    ).fetchone()
    return {"cases": row["cases"], "recorded": row["recorded"]}


def case_dates(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return the counted cases' types and dates, for timeliness measures."""
    sql = f"""
    WITH counted AS ({_COUNTED})
    SELECT case_file.id, counted.audit_id, case_file.pseudonym, case_file.case_type,
           case_file.team, case_file.dates
    FROM case_file JOIN counted ON counted.case_id = case_file.id
    """
    rows = []
    for row in db.execute(sql, {"review_id": review_id}):
        item = dict(row)
        item["dates"] = json.loads(item["dates"])
        rows.append(item)
    return rows
