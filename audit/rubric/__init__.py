"""Load, validate and query audit rubrics: the YAML files that say what a case audit asks.

A rubric is data. It is parsed once into immutable objects; every problem found is
reported with its path inside the file (``sections[2].questions[4].type``) and, where
known, its line, so a lead can fix a rubric without reading code. Nothing here knows a
question id.
"""

from audit.rubric.agency_parts import PANEL, agency_part, panel_part
from audit.rubric.library import RubricLibrary
from audit.rubric.model import (
    DEFAULT_WORDING,
    MAX_QUESTIONS,
    NOT_APPLICABLE,
    OVERALL_RULES,
    QUESTION_TYPES,
    TIMELINESS_UNITS,
    WORDING_KINDS,
    WORDING_PLACEHOLDERS,
    YES_NO,
    CaseType,
    EvidenceRule,
    FindingRules,
    Level,
    Overall,
    Problem,
    Question,
    Rubric,
    RubricInvalid,
    Scale,
    Section,
    TimelinessMeasure,
)
from audit.rubric.parsing import (
    check_rubric_file,
    load_rubric_file,
    parse_rubric,
    validate_rubric_text,
    version_sort_key,
)
from audit.rubric.schema import rubric_schema

__all__ = [
    "DEFAULT_WORDING",
    "MAX_QUESTIONS",
    "NOT_APPLICABLE",
    "OVERALL_RULES",
    "PANEL",
    "QUESTION_TYPES",
    "TIMELINESS_UNITS",
    "WORDING_KINDS",
    "WORDING_PLACEHOLDERS",
    "YES_NO",
    "CaseType",
    "EvidenceRule",
    "FindingRules",
    "Level",
    "Overall",
    "Problem",
    "Question",
    "Rubric",
    "RubricInvalid",
    "RubricLibrary",
    "Scale",
    "Section",
    "TimelinessMeasure",
    "agency_part",
    "check_rubric_file",
    "load_rubric_file",
    "panel_part",
    "parse_rubric",
    "rubric_schema",
    "validate_rubric_text",
    "version_sort_key",
]
