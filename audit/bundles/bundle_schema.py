"""The shape of a review bundle as a JSON Schema, and the structural check against it.

The schema is the one published in docs/bundle.md (a test keeps the two identical), so a
sender can check a bundle before sending it. It says what every key holds: kinds of value,
enumerations, UUIDs, ISO 8601 dates and times, ranges and lengths. What depends on the
bundle's own rubric (question ids, levels of the scale, case types) is checked afterwards by
:mod:`audit.bundles.bundle_checks`.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from audit import collaboration
from audit.data.reviews import KINDS, STATUSES

FORMAT = "case-audit-bundle"
FORMAT_VERSION = 1

PURPOSES = ("first", "second", "re_audit")
AUDIT_STATUSES = ("draft", "submitted")
MEMBER_ROLES = ("lead", "reviewer")
MODERATION_OUTCOMES = ("agreed", "changed")
FINDING_KINDS = ("strength", "development")
FINDING_STATUSES = ("suggested", "accepted", "rejected", "merged")
FINDING_ORIGINS = ("audits", "other")
ACTION_STATUSES = ("not_started", "in_progress", "done", "dropped")
HISTORY_ACTIONS = ("create", "update", "delete")

SHORT = 500  # ids, names, labels, references
LONG = 20_000  # evidence, notes, findings, summaries
RUBRIC_TEXT = 2_000_000

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|\+00:00)$"
DATE_OR_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|\+00:00))?$"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [{"type": "null"}, schema]}


UUID = {"type": "string", "pattern": UUID_PATTERN}
DATE = {"type": "string", "pattern": DATE_PATTERN, "format": "date"}
TIME = {"type": "string", "pattern": TIME_PATTERN, "format": "date-time"}
DATE_OR_TIME = {"type": "string", "pattern": DATE_OR_TIME_PATTERN, "format": "date-or-time"}
SHORT_TEXT = {"type": "string", "maxLength": SHORT}
LONG_TEXT = {"type": "string", "maxLength": LONG}
USERNAME = {"type": "string", "minLength": 1, "maxLength": 80}
VERSION = {"type": "integer", "minimum": 1}


SHARE = _nullable({"type": "number", "minimum": 0, "maximum": 1})
# The share a finding rested on when the lead agreed it; the findings page and the report
# read these as numbers (a text here once broke both).
FINDING_EVIDENCE = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "minimum": 0},
        "n": {"type": "integer", "minimum": 0},
        "share": SHARE,
        "low": SHARE,
        "high": SHARE,
        "key": SHORT_TEXT,
        "unit": SHORT_TEXT,
    },
}


def _enum(values: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _record(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


# Calibration exercises, conversations with the practitioner and family feedback (issue 13);
# optional, so a version 1 bundle made before they existed still imports.
AGREES = ("yes", "no")
CONSENT = ("yes", "no")
FAMILY_ANSWERS = tuple(collaboration.FAMILY_ANSWERS)
CONTACT_METHODS = ("", *collaboration.CONTACT_METHODS)  # "" when there was no contact
COLLAB_PROPERTIES: dict[str, Any] = {
    "calibration_exercises": {
        "type": "array",
        "items": _record(
            {
                "id": UUID,
                "title": {"type": "string", "minLength": 1, "maxLength": SHORT},
                "created_at": TIME,
                "cases": {
                    "type": "array",
                    "minItems": 1,
                    "items": _record(
                        {"case_id": UUID, "position": {"type": "integer", "minimum": 0}}
                    ),
                },
                "participants": {
                    "type": "array",
                    "items": _record({"username": USERNAME}, {"submitted_at": _nullable(TIME)}),
                },
                "grades": {
                    "type": "array",
                    "items": _record(
                        {
                            "case_id": UUID,
                            "username": USERNAME,
                            "question_id": SHORT_TEXT,
                            "updated_at": TIME,
                        },
                        {"value": _nullable(LONG_TEXT), "evidence": _nullable(LONG_TEXT)},
                    ),
                },
                "agreed": {
                    "type": "array",
                    "items": _record(
                        {
                            "case_id": UUID,
                            "question_id": SHORT_TEXT,
                            "value": {"type": "string", "minLength": 1, "maxLength": SHORT},
                            "rationale": LONG_TEXT,
                            "agreed_at": TIME,
                        },
                        {"agreed_by": _nullable(USERNAME)},
                    ),
                },
            },
            {
                "created_by": _nullable(USERNAME),
                "results_opened_by": _nullable(USERNAME),
                "results_opened_at": _nullable(TIME),
            },
        ),
    },
    "conversations": {
        "type": "array",
        "items": _record(
            {
                "audit_id": UUID,
                "held_on": DATE,
                "worker_role": {"type": "string", "minLength": 1, "maxLength": SHORT},
                "recorded_at": TIME,
                "sections": {
                    "type": "array",
                    "items": _record(
                        {
                            "section_id": SHORT_TEXT,
                            "question_id": SHORT_TEXT,
                            "grade": SHORT_TEXT,
                            "agrees": _enum(AGREES),
                        },
                        {"practitioner_view": _nullable(LONG_TEXT)},
                    ),
                },
            },
            {
                "manager_role": _nullable(SHORT_TEXT),
                "worker_name": _nullable(SHORT_TEXT),
                "will_do_differently": _nullable(LONG_TEXT),
                "manager_response": _nullable(LONG_TEXT),
                "recorded_by": _nullable(USERNAME),
            },
        ),
    },
    "family_feedback": {
        "type": "array",
        "items": _record(
            {"audit_id": UUID, "consent": _enum(CONSENT), "recorded_at": TIME},
            {
                "contact_method": _nullable(_enum(CONTACT_METHODS)),
                "family_said": _nullable(LONG_TEXT),
                "felt_listened_to": _enum(FAMILY_ANSWERS),
                "knows_plan": _enum(FAMILY_ANSWERS),
                "life_better": _enum(FAMILY_ANSWERS),
                "quote_included": {"type": "boolean"},
                "recorded_by": _nullable(USERNAME),
            },
        ),
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "case-audit review bundle, format version 1",
    "type": "object",
    "required": [
        "actions",
        "audits",
        "cases",
        "escalations",
        "findings",
        "format",
        "format_version",
        "history",
        "members",
        "moderation",
        "people",
        "review",
    ],
    "properties": {
        "format": {"const": FORMAT},
        "format_version": {"const": FORMAT_VERSION},
        "exported_at": TIME,
        "exported_by": SHORT_TEXT,
        "review": _record(
            {
                "id": UUID,
                "title": {"type": "string", "minLength": 1, "maxLength": SHORT},
                "host_organisation": SHORT_TEXT,
                "kind": _enum(list(KINDS)),
                "status": _enum(list(STATUSES)),
                "rubric": _record(
                    {
                        "id": {"type": "string", "minLength": 1, "maxLength": SHORT},
                        "version": {"type": "string", "minLength": 1, "maxLength": SHORT},
                        "hash": {"type": "string", "pattern": r"^[0-9a-f]{64}$"},
                        "text": {"type": "string", "minLength": 1, "maxLength": RUBRIC_TEXT},
                    }
                ),
            },
            {
                "start_date": _nullable(DATE),
                "end_date": _nullable(DATE),
                "settings": _nullable({"type": "object"}),
                "executive_summary": _nullable(LONG_TEXT),
                "created_at": _nullable(TIME),
                "created_by": _nullable(USERNAME),
            },
        ),
        "people": {
            "type": "array",
            "items": _record({"username": USERNAME}, {"display_name": _nullable(SHORT_TEXT)}),
        },
        "members": {
            "type": "array",
            "items": _record(
                {"username": USERNAME, "role": _enum(MEMBER_ROLES)},
                {"added_at": _nullable(TIME)},
            ),
        },
        "cases": {
            "type": "array",
            "items": _record(
                {
                    "id": UUID,
                    "reference": {"type": "string", "minLength": 1, "maxLength": SHORT},
                    "pseudonym": {"type": "string", "minLength": 1, "maxLength": SHORT},
                    "case_type": SHORT_TEXT,
                },
                {
                    "team": _nullable(SHORT_TEXT),
                    "worker_role": _nullable(SHORT_TEXT),
                    "age_band": _nullable(SHORT_TEXT),
                    "dates": _nullable({"type": "object", "additionalProperties": _nullable(DATE)}),
                    "assigned_to": _nullable(USERNAME),
                    "second_audit": {"type": "boolean"},
                    "second_assigned_to": _nullable(USERNAME),
                    "created_at": _nullable(TIME),
                },
            ),
        },
        "audits": {
            "type": "array",
            "items": _record(
                {
                    "id": UUID,
                    "case_id": UUID,
                    "reviewer": USERNAME,
                    "purpose": _enum(PURPOSES),
                    "status": _enum(AUDIT_STATUSES),
                    "version": VERSION,
                    "answers": {
                        "type": "array",
                        "items": _record(
                            {"question_id": SHORT_TEXT},
                            {
                                "value": _nullable(LONG_TEXT),
                                "not_applicable": {"type": "boolean"},
                                "evidence": _nullable(LONG_TEXT),
                                "updated_at": _nullable(TIME),
                            },
                        ),
                    },
                },
                {
                    "earlier_audit_id": _nullable(UUID),
                    "sections_not_applicable": _nullable({"type": "array", "items": SHORT_TEXT}),
                    "feedback": _nullable({"type": "object"}),
                    "created_at": _nullable(TIME),
                    "updated_at": _nullable(TIME),
                    "submitted_at": _nullable(TIME),
                },
            ),
        },
        "escalations": {
            "type": "array",
            "items": _record(
                {
                    "id": UUID,
                    "case_id": UUID,
                    "audit_id": UUID,
                    "question_id": SHORT_TEXT,
                    "raised_by": USERNAME,
                    "raised_at": TIME,
                },
                {
                    "told_who": _nullable(SHORT_TEXT),
                    "told_at": _nullable(DATE_OR_TIME),
                    "agreed_action": _nullable(LONG_TEXT),
                    "recorded_by": _nullable(USERNAME),
                    "recorded_at": _nullable(TIME),
                    "withdrawn_by": _nullable(USERNAME),
                    "withdrawn_at": _nullable(TIME),
                },
            ),
        },
        "moderation": {
            "type": "array",
            "items": _record(
                {
                    "id": UUID,
                    "audit_id": UUID,
                    "outcome": _enum(MODERATION_OUTCOMES),
                    "moderator": USERNAME,
                    "created_at": TIME,
                },
                {
                    "question_id": _nullable(SHORT_TEXT),
                    "original_value": _nullable(LONG_TEXT),
                    "moderated_value": _nullable(LONG_TEXT),
                    "reason": _nullable(LONG_TEXT),
                },
            ),
        },
        "findings": {
            "type": "array",
            "items": _record(
                {
                    "id": UUID,
                    "kind": _enum(FINDING_KINDS),
                    "status": _enum(FINDING_STATUSES),
                    "text": {"type": "string", "minLength": 1, "maxLength": LONG},
                    "created_at": TIME,
                    "updated_at": TIME,
                },
                {
                    "origin": _nullable(_enum(FINDING_ORIGINS)),
                    "position": {"type": "integer", "minimum": 0, "maximum": 100_000},
                    "question_ids": _nullable({"type": "array", "items": SHORT_TEXT}),
                    "evidence": _nullable(FINDING_EVIDENCE),
                    "merged_into": _nullable(UUID),
                    "created_by": _nullable(USERNAME),
                    "version": VERSION,
                },
            ),
        },
        "actions": {
            "type": "array",
            "items": _record(
                {
                    "id": UUID,
                    "what": {"type": "string", "minLength": 1, "maxLength": LONG},
                    "status": _enum(ACTION_STATUSES),
                    "created_at": TIME,
                    "updated_at": TIME,
                },
                {
                    "finding_id": _nullable(UUID),
                    "audit_id": _nullable(UUID),
                    "owner": _nullable(SHORT_TEXT),
                    "due_date": _nullable(DATE),
                    "created_by": _nullable(USERNAME),
                    "notes": {
                        "type": "array",
                        "items": _record(
                            {
                                "id": UUID,
                                "note": {"type": "string", "minLength": 1, "maxLength": LONG},
                                "noted_on": DATE,
                                "created_at": TIME,
                            },
                            {"created_by": _nullable(USERNAME)},
                        ),
                    },
                },
            ),
        },
        "history": {
            "type": "array",
            "items": _record(
                {
                    "at": TIME,
                    "entity": SHORT_TEXT,
                    "entity_id": SHORT_TEXT,
                    "action": _enum(HISTORY_ACTIONS),
                },
                {"user": _nullable(USERNAME), "before": {}, "after": {}},
            ),
        },
        **COLLAB_PROPERTIES,
    },
}

# Learning themes (optional, so bundles from before themes still import): the review's
# theme list and the tags on its evidence notes, findings and conversations.
THEME_TAG_KINDS = ("evidence", "finding", "conversation")
SCHEMA["properties"]["themes"] = {
    "type": "array",
    "items": _record(
        {
            "id": UUID,
            "name": {"type": "string", "minLength": 1, "maxLength": 80},
            "retired": {"type": "boolean"},
        },
        {"description": {"type": "string", "maxLength": 500}, "created_at": TIME},
    ),
}
SCHEMA["properties"]["theme_tags"] = {
    "type": "array",
    "items": _record(
        {"kind": _enum(THEME_TAG_KINDS), "theme_id": UUID, "tagged_at": TIME},
        {
            "audit_id": UUID,
            "question_id": SHORT_TEXT,
            "finding_id": UUID,
            "tagged_by": _nullable(USERNAME),
        },
    ),
}

# Multi-agency case audit (optional: only a multi-agency review's bundle has it): agencies,
# which agencies know each child, agency auditors, the agencies' own audits and alerts, and
# the panels' agreed answers, learning and agency actions. See docs/bundle.md.
AGENCY_ID = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 80}
_PARTNERSHIP_ANSWER = _record(
    {"question_id": SHORT_TEXT, "not_applicable": {"type": "boolean"}},
    {"value": _nullable(LONG_TEXT), "evidence": LONG_TEXT, "updated_at": TIME},
)
_WHO = _nullable(USERNAME)
SCHEMA["properties"]["partnership"] = {
    "type": "object",
    "required": ["agencies", "case_agencies", "agency_audits"],
    "properties": {
        "agencies": {
            "type": "array",
            "items": _record(
                {"id": AGENCY_ID, "name": {"type": "string", "minLength": 1, "maxLength": 80}}
            ),
        },
        "case_agencies": {
            "type": "array",
            "items": _record(
                {"case_id": UUID, "agency_id": AGENCY_ID},
                {"reference": {"type": "string", "maxLength": 80}},
            ),
        },
        "agency_members": {
            "type": "array",
            "items": _record({"username": USERNAME, "agency_id": AGENCY_ID}, {"added_at": TIME}),
        },
        "people_agencies": {
            "type": "array",
            "items": _record({"username": USERNAME, "agency_id": AGENCY_ID}),
        },
        "agency_audits": {
            "type": "array",
            "items": _record(
                {
                    "id": UUID,
                    "case_id": UUID,
                    "agency_id": AGENCY_ID,
                    "status": _enum(AUDIT_STATUSES),
                    "version": VERSION,
                    "answers": {"type": "array", "items": _PARTNERSHIP_ANSWER},
                },
                {
                    "sections_not_applicable": {"type": "array", "items": SHORT_TEXT},
                    "started_by": _WHO,
                    "updated_by": _WHO,
                    "submitted_by": _WHO,
                    "created_at": TIME,
                    "updated_at": TIME,
                    "submitted_at": _nullable(TIME),
                },
            ),
        },
        "alerts": {
            "type": "array",
            "items": _record(
                {"id": UUID, "case_id": UUID, "question_id": SHORT_TEXT, "raised_at": TIME},
                {
                    "agency_audit_id": _nullable(UUID),
                    "agency_id": _nullable(AGENCY_ID),
                    "raised_by": _WHO,
                    "told_who": _nullable(SHORT_TEXT),
                    "told_at": _nullable(DATE_OR_TIME),
                    "agreed_action": _nullable(LONG_TEXT),
                    "recorded_by": _WHO,
                    "recorded_at": _nullable(TIME),
                    "withdrawn_by": _WHO,
                    "withdrawn_at": _nullable(TIME),
                },
            ),
        },
        "panels": {
            "type": "array",
            "items": _record(
                {
                    "case_id": UUID,
                    "opened_at": TIME,
                    "version": VERSION,
                    "answers": {"type": "array", "items": _PARTNERSHIP_ANSWER},
                },
                {
                    "opened_by": _WHO,
                    "held_on": _nullable(DATE),
                    "agreed_at": _nullable(TIME),
                    "agreed_by": _WHO,
                    "updated_at": TIME,
                },
            ),
        },
        "learning": {
            "type": "array",
            "items": _record(
                {
                    "id": UUID,
                    "case_id": UUID,
                    "text": {"type": "string", "minLength": 1, "maxLength": LONG},
                    "themes": {"type": "array", "items": UUID},
                },
                {"created_by": _WHO, "created_at": TIME, "updated_at": TIME},
            ),
        },
        "actions": {
            "type": "array",
            "items": _record(
                {
                    "id": UUID,
                    "agency_id": AGENCY_ID,
                    "case_id": UUID,
                    "what": {"type": "string", "minLength": 1, "maxLength": LONG},
                    "status": _enum(ACTION_STATUSES),
                },
                {
                    "owner": SHORT_TEXT,
                    "due_date": _nullable(DATE),
                    "created_by": _WHO,
                    "created_at": TIME,
                    "updated_at": TIME,
                    "notes": {
                        "type": "array",
                        "items": _record(
                            {
                                "id": UUID,
                                "note": {"type": "string", "minLength": 1, "maxLength": LONG},
                                "noted_on": DATE,
                                "created_at": TIME,
                            },
                            {"created_by": _WHO},
                        ),
                    },
                },
            ),
        },
    },
}

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


@_FORMATS.checks("date-time", raises=ValueError)
def _is_time(value: object) -> bool:
    return not isinstance(value, str) or bool(datetime.fromisoformat(value.replace("Z", "+00:00")))


@_FORMATS.checks("date-or-time", raises=ValueError)
def _is_date_or_time(value: object) -> bool:
    return not isinstance(value, str) or (_is_date(value) if len(value) == 10 else _is_time(value))


_VALIDATOR = Draft202012Validator(SCHEMA, format_checker=_FORMATS)
_PATTERN_NAMES = {
    UUID_PATTERN: "expected a record id (UUID)",
    DATE_PATTERN: "expected an ISO 8601 date such as 2026-10-27",
    TIME_PATTERN: "expected a UTC time in ISO 8601 such as 2026-10-27T14:05:00Z",
    DATE_OR_TIME_PATTERN: "expected an ISO 8601 date or UTC time such as 2026-10-27T14:05:00Z",
    r"^[0-9a-f]{64}$": "expected a SHA-256 hash (64 hexadecimal digits)",
}
_TYPE_NAMES = {
    "object": "a record",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing (null)",
}


def path_text(parts: Any) -> str:
    """Write a JSON path the way problems name it: ``audits[3].answers[12].value``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "bundle"


def show(value: object, limit: int = 60) -> str:
    """Quote a value from the bundle briefly, so a huge string does not flood the message."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message(error: ValidationError) -> str:
    kind = error.validator
    if kind in ("anyOf", "oneOf"):
        # a nullable value: explain the non-null branch, which is what was meant
        inner = [e for e in error.context or [] if e.schema.get("type") != "null"]
        if inner:
            return _message(min(inner, key=lambda e: len(e.relative_path)))
    value = error.instance
    if kind == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return f"{show(value)} is not one of the allowed values ({allowed})"
    if kind == "const":
        return f"expected {show(error.validator_value)}, got {show(value)}"
    if kind == "type":
        wanted = _TYPE_NAMES.get(str(error.validator_value), str(error.validator_value))
        return f"expected {wanted}, got {show(value)}"
    if kind == "pattern":
        wanted = _PATTERN_NAMES.get(str(error.validator_value), "not in the expected form")
        return f"{wanted}, got {show(value)}"
    if kind == "format":
        return f"{show(value)} is not a real date or time"
    if kind == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        return f"missing {missing.group(1) if missing else 'a required key'}"
    if kind == "maxLength":
        return f"longer than {error.validator_value} characters ({len(value)})"
    if kind in ("minLength", "minItems"):
        return "must not be empty"
    if kind in ("minimum", "maximum"):
        word = "at least" if kind == "minimum" else "at most"
        return f"must be {word} {error.validator_value}, got {show(value)}"
    return error.message


def _meant(error: ValidationError) -> ValidationError:
    """For a nullable value, the error of the non-null branch, so a nested key is named."""
    while error.validator in ("anyOf", "oneOf"):
        inner = [e for e in error.context or [] if e.schema.get("type") != "null"]
        if not inner:
            break
        error = min(inner, key=lambda e: len(e.relative_path))
    return error


def _path(error: ValidationError) -> str:
    parts = list(error.absolute_path)
    if error.validator == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        if missing:
            parts.append(missing.group(1))
    return path_text(parts)


def _sort_key(parts: Any) -> list[tuple[int, int, str]]:
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in parts]


def problem_order(problem: str) -> list[tuple[int, int, str]]:
    """Sort problems by their place in the file (``audits[2]`` before ``audits[10]``)."""
    path = problem.split(":", 1)[0]
    return _sort_key(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path))


def structure_problems(doc: Any) -> list[str]:
    """List every place a bundle departs from the schema, each as ``path: what is wrong``."""
    errors = sorted(_VALIDATOR.iter_errors(doc), key=lambda e: _sort_key(e.absolute_path))
    return [f"{_path(_meant(error))}: {_message(error)}" for error in errors]


def schema_json() -> str:
    """Return the schema as published in docs/bundle.md (sorted keys, two-space indent)."""
    return json.dumps(SCHEMA, indent=2, sort_keys=True)
