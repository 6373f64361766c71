"""A JSON Schema (draft 2020-12) of the rubric format, so editors can complete and check rubrics.

The schema catches the shape of a rubric as an editor sees it (keys, types, allowed words);
the checker still does the rest (ids that refer to each other, the order of the scale). A test
keeps the two in step: every shipped and example rubric must pass, and every key the checker
accepts (``KEYS``) must be a property here.
"""

from __future__ import annotations

from typing import Any

from audit.rubric.model import (
    OVERALL_RULES,
    QUESTION_TYPES,
    TIMELINESS_UNITS,
    WORDING_KINDS,
    WORDING_PLACEHOLDERS,
)

_ID = {
    "type": "string",
    "pattern": r"^\s*[a-z0-9][a-z0-9_-]*\s*$",
    "description": 'Lower-case letters, digits, "_" and "-", starting with a letter or digit.',
}
_TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}
_OPTIONAL_TEXT = {"type": ["string", "null"]}
_FLAG = {"type": ["boolean", "null"]}
# YAML 1.1 (the app's reader) takes unquoted yes/no as true/false; editors often use YAML 1.2.
_YES_NO = {
    "anyOf": [
        {"type": "boolean"},
        {"type": "string", "pattern": r"^\s*([Yy][Ee][Ss]|[Nn][Oo])\s*$"},
    ],
    "description": '"yes" or "no" (quote them: YAML reads bare yes and no as true and false).',
}
_SHARE = {
    "type": "number",
    "minimum": 0,
    "maximum": 1,
    "description": "A share from 0 to 1: 0.75 means 75%.",
}
_WHOLE = {"type": "integer", "minimum": 1}
_LEVEL_IDS = {"type": "array", "minItems": 1, "items": {"type": "string"}}


def _object(
    properties: dict[str, Any],
    required: tuple[str, ...] = (),
    *,
    nullable: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """Return a closed object schema, so an editor flags a misspelt key."""
    schema: dict[str, Any] = {
        "type": ["object", "null"] if nullable else "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def rubric_schema() -> dict[str, Any]:
    """Return the JSON Schema of a rubric file, for `case-audit rubric schema` and editors."""
    placeholders = ", ".join("{" + name + "}" for name in WORDING_PLACEHOLDERS)
    wording_text = {
        "type": "string",
        "description": f"Finding wording; placeholders: {placeholders}.",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "case-audit rubric",
        "description": "What a case audit asks: case types, grading scale, sections and"
        " questions, how the overall grade is worked out, findings and timeliness.",
        "$ref": "#/$defs/rubric",
        "$defs": {
            "rubric": _object(
                {
                    "id": _ID,
                    "version": {
                        "type": ["string", "number"],
                        "description": 'The version, such as "1.0"; a new version for any change.',
                    },
                    "title": _TEXT,
                    "description": _OPTIONAL_TEXT,
                    "case_types": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/$defs/case_type"},
                    },
                    "scale": {"$ref": "#/$defs/scale"},
                    "sections": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/$defs/section"},
                    },
                    "overall": {"$ref": "#/$defs/overall"},
                    "findings": {"$ref": "#/$defs/findings"},
                    "timeliness": {
                        "type": ["array", "null"],
                        "minItems": 1,
                        "items": {"$ref": "#/$defs/timeliness"},
                    },
                },
                ("id", "version", "title", "case_types", "scale", "sections", "overall"),
            ),
            "case_type": _object(
                {
                    "id": _ID,
                    "label": _TEXT,
                    "aliases": {"type": ["array", "null"], "items": _TEXT},
                },
                ("id", "label"),
            ),
            "scale": _object(
                {
                    "levels": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/$defs/level"},
                        "description": "Best first, with strictly decreasing values.",
                    },
                    "good_or_better": {
                        **_LEVEL_IDS,
                        "description": "The best levels of the scale, the ones that count as"
                        " good or better.",
                    },
                },
                ("levels", "good_or_better"),
            ),
            "level": _object(
                {"id": _ID, "label": _TEXT, "value": {"type": "number"}},
                ("id", "label", "value"),
            ),
            "applies_to": {
                "anyOf": [
                    {"type": "string", "pattern": r"^\s*[Aa][Ll][Ll]\s*$"},
                    {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    {"type": "null"},
                ],
                "description": '"all" or a list of case type ids.',
            },
            "section": _object(
                {
                    "id": _ID,
                    "title": _TEXT,
                    "description": _OPTIONAL_TEXT,
                    "applies_to": {"$ref": "#/$defs/applies_to"},
                    "compulsory": _FLAG,
                    "grade_question": _OPTIONAL_TEXT,
                    "agencies": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": _ID,
                        "description": "Multi-agency audits: the agency ids that answer this"
                        " section from their own records (for example [police]). A section"
                        " without agencies is the panel's.",
                    },
                    "questions": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/$defs/question"},
                    },
                },
                ("id", "title", "questions"),
            ),
            "question": _object(
                {
                    "id": _ID,
                    "text": _TEXT,
                    "type": {"enum": list(QUESTION_TYPES)},
                    "hint": _OPTIONAL_TEXT,
                    "good_answer": _YES_NO,
                    "required": _FLAG,
                    "allow_na": _FLAG,
                    "applies_to": {"$ref": "#/$defs/applies_to"},
                    "evidence": {"$ref": "#/$defs/evidence"},
                    "critical": _FLAG,
                    "adverse_answer": _YES_NO,
                    "adverse_levels": _LEVEL_IDS,
                    "guidance": {
                        "type": ["object", "null"],
                        "additionalProperties": {"type": "string"},
                        "description": "Guidance text for each level id.",
                    },
                    "each_agency": {
                        **_FLAG,
                        "description": "Multi-agency audits: every agency that knows the"
                        " child answers this question for itself, and the panel agrees it.",
                    },
                },
                ("id", "text", "type"),
            ),
            "evidence": {
                "anyOf": [
                    {"enum": ["optional", "required", None]},
                    _object(
                        {"required_below": {"type": "string"}, "required_when": _YES_NO},
                        minProperties=1,
                        maxProperties=1,
                    ),
                ]
            },
            "overall": _object(
                {
                    "question": {"type": "string"},
                    "rule": {"enum": list(OVERALL_RULES)},
                    "weights": {
                        "type": ["object", "null"],
                        "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
                    },
                },
                oneOf=[{"required": ["question"]}, {"required": ["rule"]}],
            ),
            "findings": _object(
                {
                    "min_answers": _WHOLE,
                    "strength_at_least": _SHARE,
                    "development_below": _SHARE,
                    "wording": _object(
                        {kind: wording_text for kind in WORDING_KINDS}, nullable=True
                    ),
                },
                nullable=True,
            ),
            "timeliness": _object(
                {
                    "id": _ID,
                    "name": _TEXT,
                    "start": {"type": "string", "pattern": r"^\s*[a-z][a-z0-9_]*\s*$"},
                    "end": {"type": "string", "pattern": r"^\s*[a-z][a-z0-9_]*\s*$"},
                    "limit": _WHOLE,
                    "unit": {"enum": list(TIMELINESS_UNITS)},
                    "applies_to": {"$ref": "#/$defs/applies_to"},
                },
                ("id", "name", "start", "end", "limit", "unit"),
            ),
        },
    }
