"""Read what the findings are built from: counted answers, per-case grades, moderation.

Only submitted first audits count towards the figures (a case audited twice counts once),
and a moderated grade replaces the reviewer's where the lead changed it. The counting is
done by SQLite (GROUP BY) so that 10,000 audits aggregate in one pass.
"""

from __future__ import annotations

import json
from collections import Counter
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

# Counted audits with a small integer per (case type, team), so the big GROUP BY groups on
# one integer rather than two text columns; names are joined back onto the few result rows.
_COUNTED_GROUPED = """
SELECT case_audit.id AS audit_id, case_audit.sections_not_applicable AS na_sections,
       dense_rank() OVER (ORDER BY case_file.case_type, case_file.team) AS grp,
       case_file.case_type, case_file.team
FROM case_audit JOIN case_file ON case_file.id = case_audit.case_id
WHERE case_audit.review_id = ? AND case_audit.purpose = 'first'
  AND case_audit.status = 'submitted'
"""

# An answer counts unless its section was marked "does not apply" in that audit. Most
# audits mark none ('[]'), so the JSON is only opened when there is something in it.
_IN_APPLICABLE_SECTION = """
({na} = '[]' OR NOT EXISTS (
    SELECT 1 FROM json_each({na})
    JOIN question_section ON question_section.section_id = json_each.value
    WHERE question_section.question_id = {question}))
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

    Moderation is applied as a correction to the plain counts (the reviewer's grade out,
    the lead's in), which keeps the one pass over every answer as cheap as a plain GROUP BY:
    joining the moderation table to each answer made 10,000 audits eight times slower.
    """
    if not sections:
        return []
    section_cte, args = _sections_cte(sections)
    applicable = _IN_APPLICABLE_SECTION.format(
        na="counted.na_sections", question="answer.question_id"
    )
    main = f"""
    WITH counted AS MATERIALIZED ({_COUNTED_GROUPED}), {section_cte},
    raw AS (
      SELECT answer.question_id,
             CASE WHEN answer.not_applicable THEN NULL ELSE answer.value END AS value,
             answer.not_applicable, counted.grp, count(*) AS n
      FROM counted JOIN answer ON answer.audit_id = counted.audit_id
      WHERE {applicable}
      GROUP BY 1, 2, 3, 4)
    SELECT raw.question_id, raw.value, raw.not_applicable, names.case_type, names.team, raw.n
    FROM raw JOIN (SELECT DISTINCT grp, case_type, team FROM counted) AS names
      ON names.grp = raw.grp
    """
    counts: Counter[tuple[Any, ...]] = Counter()
    for row in db.execute(main, [review_id, *args]):
        counts[tuple(row[:5])] += row[5]
    moderated_applicable = _IN_APPLICABLE_SECTION.format(
        na="counted.sections_not_applicable", question="moderated.question_id"
    )
    correction = f"""
    WITH moderated AS ({_MODERATED}), {section_cte}
    SELECT moderated.question_id, moderated.moderated_value, answer.rowid IS NOT NULL,
           CASE WHEN answer.not_applicable THEN NULL ELSE answer.value END,
           answer.not_applicable, case_file.case_type, case_file.team
    FROM moderated JOIN case_audit AS counted ON counted.id = moderated.audit_id
    JOIN case_file ON case_file.id = counted.case_id
    LEFT JOIN answer ON answer.audit_id = moderated.audit_id
         AND answer.question_id = moderated.question_id
    WHERE counted.review_id = ? AND counted.purpose = 'first' AND counted.status = 'submitted'
      AND moderated.moderated_value IS NOT NULL AND {moderated_applicable}
    """
    for question, new, had, old, old_na, case_type, team in db.execute(
        correction, [*args, review_id]
    ):
        if had:
            counts[(question, old, old_na, case_type, team)] -= 1
        counts[(question, new, 0, case_type, team)] += 1
    return [
        {
            "question_id": k[0],
            "value": k[1],
            "not_applicable": k[2],
            "case_type": k[3],
            "team": k[4],
            "n": n,
        }
        for k, n in counts.items()
        if n
    ]


def counted_audits(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return the counted audits with case type, team and sections marked not applicable."""
    rows = []
    for row in db.execute(_COUNTED, {"review_id": review_id}):
        item = dict(row)
        marked = item.pop("sections_not_applicable")
        # Almost every audit marks no section: skip the JSON parser for the common case.
        item["sections_na"] = [] if marked == "[]" else json.loads(marked)
        rows.append(item)
    return rows


def case_grades(
    db: sqlite_utils.Database,
    review_id: str,
    question_ids: Iterable[str],
    sections: Mapping[str, str] | None = None,
    *,
    not_applicable: bool = False,
) -> dict[str, dict[str, str]]:
    """Return audit id -> {question id: effective value} for the given questions.

    With ``sections`` (question id -> section id), grades left in a section marked "does
    not apply" are ignored, as they are in the counts. Moderated grades are laid over the
    reviewer's from a second, small query. With ``not_applicable`` an answer of "not
    applicable" is returned as "na" (otherwise it is left out).
    """
    ids = sorted(set(question_ids))
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    section_cte, section_args = _sections_cte(dict(sections or {q: "" for q in ids}))
    where = "counted.review_id = ? AND counted.purpose = 'first' AND counted.status = 'submitted'"
    out: dict[str, dict[str, str]] = {}
    answers = _IN_APPLICABLE_SECTION.format(
        na="counted.sections_not_applicable", question="answer.question_id"
    )
    given = (
        "(answer.not_applicable = 1 OR answer.value IS NOT NULL)"
        if not_applicable
        else "answer.not_applicable = 0 AND answer.value IS NOT NULL"
    )
    for audit_id, question_id, value in db.execute(
        f"WITH {section_cte} SELECT counted.id, answer.question_id,"
        f" CASE WHEN answer.not_applicable THEN 'na' ELSE answer.value END"
        f" FROM case_audit AS counted JOIN answer ON answer.audit_id = counted.id"
        f" WHERE {where} AND answer.question_id IN ({marks}) AND {given} AND {answers}",
        [*section_args, review_id, *ids],
    ):
        out.setdefault(audit_id, {})[question_id] = value
    moderated = _IN_APPLICABLE_SECTION.format(
        na="counted.sections_not_applicable", question="moderated.question_id"
    )
    for audit_id, question_id, value in db.execute(
        f"WITH moderated AS ({_MODERATED}), {section_cte}"
        f" SELECT moderated.audit_id, moderated.question_id, moderated.moderated_value"
        f" FROM moderated JOIN case_audit AS counted ON counted.id = moderated.audit_id"
        f" WHERE {where} AND moderated.question_id IN ({marks})"
        f" AND moderated.moderated_value IS NOT NULL AND {moderated}",
        [*section_args, review_id, *ids],
    ):
        out.setdefault(audit_id, {})[question_id] = value
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
    """Count safeguarding alerts raised by any audit, the cases they concern, those recorded."""
    row = db.execute(
        "SELECT count(*) AS alerts, count(DISTINCT case_id) AS alert_cases,"
        " count(recorded_at) AS recorded"
        " FROM escalation WHERE review_id = ? AND withdrawn_at IS NULL",
        [review_id],
    ).fetchone()
    return {"alerts": row["alerts"], "alert_cases": row["alert_cases"], "recorded": row["recorded"]}


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
