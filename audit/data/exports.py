"""Read the rows behind the downloads: every answer with its moderation, every finding.

Unlike the counting queries in ``results.py`` these keep drafts, second audits and
re-audits, so a lead can see work in progress; the status and purpose say which is which.
Labels are not applied here: ``audit/reporting/exports.py`` turns these rows into files.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

# The latest moderation of each (audit, question) of this review that changed the grade.
_LATEST_MODERATION = """
SELECT m.audit_id, m.question_id, m.moderated_value, m.moderator_id, m.created_at, m.reason
FROM moderation AS m
JOIN (SELECT moderation.audit_id, moderation.question_id, max(moderation.rowid) AS last
      FROM moderation JOIN case_audit ON case_audit.id = moderation.audit_id
      WHERE case_audit.review_id = :review_id AND moderation.question_id IS NOT NULL
        AND moderation.outcome = 'changed'
      GROUP BY moderation.audit_id, moderation.question_id) AS latest
  ON latest.last = m.rowid
"""

# Every question an audit has something for: an answer, or a moderated grade (even if the
# answer was later cleared, the moderation must still be visible).
_QUESTIONS = """
SELECT answer.audit_id, answer.question_id FROM answer
JOIN case_audit ON case_audit.id = answer.audit_id WHERE case_audit.review_id = :review_id
UNION
SELECT audit_id, question_id FROM latest
"""

_ANSWER_ROWS = f"""
WITH latest AS ({_LATEST_MODERATION}), questions AS ({_QUESTIONS})
SELECT case_file.id AS case_id, case_file.pseudonym, case_file.reference,
       case_file.case_type, case_file.team,
       case_audit.id AS audit_id, case_audit.purpose, case_audit.status,
       reviewer.display_name AS reviewer, case_audit.submitted_at,
       case_audit.sections_not_applicable,
       questions.question_id, answer.value, coalesce(answer.not_applicable, 0) AS not_applicable,
       coalesce(answer.evidence, '') AS evidence,
       latest.moderated_value, moderator.display_name AS moderated_by,
       latest.created_at AS moderated_at, latest.reason AS moderation_reason
FROM case_audit
JOIN case_file ON case_file.id = case_audit.case_id
JOIN user AS reviewer ON reviewer.id = case_audit.reviewer_id
LEFT JOIN questions ON questions.audit_id = case_audit.id
LEFT JOIN answer ON answer.audit_id = questions.audit_id
     AND answer.question_id = questions.question_id
LEFT JOIN latest ON latest.audit_id = questions.audit_id
     AND latest.question_id = questions.question_id
LEFT JOIN user AS moderator ON moderator.id = latest.moderator_id
WHERE case_audit.review_id = :review_id
ORDER BY case_file.pseudonym,
         CASE case_audit.purpose WHEN 'first' THEN 0 WHEN 'second' THEN 1 ELSE 2 END,
         case_audit.created_at, case_audit.id, questions.question_id
"""

_FINDING_ROWS = """
SELECT id, kind, status, origin, position, text, question_ids, merged_into,
       json_extract(evidence, '$.count') AS count, json_extract(evidence, '$.n') AS n,
       json_extract(evidence, '$.share') AS share, json_extract(evidence, '$.low') AS low,
       json_extract(evidence, '$.high') AS high, json_extract(evidence, '$.unit') AS unit
FROM finding WHERE review_id = :review_id
ORDER BY kind = 'development',
         CASE status WHEN 'accepted' THEN 0 WHEN 'suggested' THEN 1 WHEN 'rejected' THEN 2
                     ELSE 3 END,
         position, created_at, id
"""


def answer_rows(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return every answer of every audit (drafts too) so leads can take the data away.

    One row per audit and question answered or moderated, with keys ``case_id``,
    ``pseudonym``, ``reference``, ``case_type`` (id), ``team``, ``audit_id``, ``purpose``,
    ``status``, ``reviewer`` (display name), ``submitted_at``, ``sections_not_applicable``
    (JSON list), ``question_id``, ``value``, ``not_applicable`` (0/1), ``evidence``,
    ``moderated_value``, ``moderated_by``, ``moderated_at`` and ``moderation_reason`` (the
    latest moderation that changed the question, else None). An audit with no answers yet
    has one row whose ``question_id`` is None, so the export can still list its questions.
    """
    return [dict(row) for row in db.execute(_ANSWER_ROWS, {"review_id": review_id})]


def finding_rows(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return every finding (any status) with its evidence numbers, for the findings export.

    Keys: ``id``, ``kind``, ``status``, ``origin``, ``position``, ``text``, ``question_ids``
    (JSON list), ``merged_into``, and the evidence snapshot's ``count``, ``n``, ``share``,
    ``low``, ``high`` and ``unit`` (None where the finding has no numbers).
    """
    return [dict(row) for row in db.execute(_FINDING_ROWS, {"review_id": review_id})]


_THEME_ROWS = """
SELECT tag.kind, theme.id AS theme_id, theme.name AS theme, theme.retired,
       case_file.pseudonym, case_file.reference, tag.audit_id, tag.question_id, tag.finding_id,
       CASE tag.kind WHEN 'evidence' THEN answer.evidence WHEN 'finding' THEN finding.text
                     ELSE '' END AS text,
       user.display_name AS tagged_by, tag.tagged_at
FROM (
    SELECT 'evidence' AS kind, theme_id, audit_id, question_id, NULL AS finding_id, tagged_by,
           tagged_at FROM evidence_theme
    UNION ALL SELECT 'finding', theme_id, NULL, NULL, finding_id, tagged_by, tagged_at
           FROM finding_theme
    UNION ALL SELECT 'conversation', theme_id, audit_id, NULL, NULL, tagged_by, tagged_at
           FROM conversation_theme
) AS tag
JOIN theme ON theme.id = tag.theme_id
LEFT JOIN case_audit ON case_audit.id = tag.audit_id
LEFT JOIN case_file ON case_file.id = case_audit.case_id
LEFT JOIN answer ON answer.audit_id = tag.audit_id AND answer.question_id = tag.question_id
LEFT JOIN finding ON finding.id = tag.finding_id
LEFT JOIN user ON user.id = tag.tagged_by
WHERE coalesce(case_audit.review_id, finding.review_id) = :review_id
ORDER BY theme.name COLLATE NOCASE, theme.id, tag.kind, case_file.pseudonym, tag.question_id,
         finding.position, tag.finding_id
"""


def theme_rows(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return every theme tag in a review with what it is on, for the themes export.

    Keys: ``kind`` (evidence, finding, conversation), ``theme_id``, ``theme`` (name),
    ``retired`` (0/1), ``pseudonym`` and ``reference`` (None on a finding), ``audit_id``,
    ``question_id``, ``finding_id``, ``text`` (the evidence note or the finding's wording),
    ``tagged_by`` (display name) and ``tagged_at``.
    """
    return [dict(row) for row in db.execute(_THEME_ROWS, {"review_id": review_id})]
