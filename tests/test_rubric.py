"""The rubric engine: parsing, every class of validation problem, queries and the library."""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
import os
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.cli import main
from audit.rubric import (
    MAX_QUESTIONS,
    Problem,
    Rubric,
    RubricInvalid,
    RubricLibrary,
    check_rubric_file,
    load_rubric_file,
    parse_rubric,
    validate_rubric_text,
    version_sort_key,
)
from audit.rubric.model import KEYS
from audit.rubric.schema import rubric_schema

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "rubrics").glob("*.yaml"))
DOCS = ROOT / "docs" / "rubrics.md"
FIXTURES = Path(__file__).resolve().parent / "data" / "rubrics"


def minimal() -> dict[str, Any]:
    """Return a small valid rubric as plain data, for tests to break one thing at a time."""
    return {
        "id": "test-rubric",
        "version": "1.0",
        "title": "Test rubric",
        "case_types": [
            {"id": "cin", "label": "Child in need", "aliases": ["CIN"]},
            {"id": "cp", "label": "Child protection", "aliases": ["CP", "Child protection plan"]},
        ],
        "scale": {
            "levels": [
                {"id": "outstanding", "label": "Outstanding", "value": 4},
                {"id": "good", "label": "Good", "value": 3},
                {"id": "requires_improvement", "label": "Requires improvement", "value": 2},
                {"id": "inadequate", "label": "Inadequate", "value": 1},
            ],
            "good_or_better": ["outstanding", "good"],
        },
        "sections": [
            {
                "id": "safety",
                "title": "Safety",
                "compulsory": True,
                "grade_question": "safety_grade",
                "questions": [
                    {
                        "id": "safe",
                        "text": "Is the child adequately safeguarded?",
                        "type": "yes_no",
                        "critical": True,
                        "adverse_answer": "no",
                        "evidence": {"required_when": "no"},
                    },
                    {
                        "id": "safety_grade",
                        "text": "How safe is the child?",
                        "type": "grade",
                        "evidence": {"required_below": "good"},
                        "guidance": {"good": "Safe and well supported."},
                    },
                ],
            },
            {
                "id": "plans",
                "title": "Plans",
                "applies_to": ["cp"],
                "grade_question": "plan_grade",
                "questions": [
                    {"id": "plan_clear", "text": "Is the plan clear?", "type": "yes_no"},
                    {"id": "plan_grade", "text": "How good is the plan?", "type": "grade"},
                    {"id": "notes", "text": "Notes", "type": "text", "required": False},
                ],
            },
        ],
        "overall": {"rule": "lowest_section_grade"},
    }


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def problems_of(data: Any) -> tuple[Problem, ...]:
    return validate_rubric_text(dump(data), "test.yaml")


def q(data: dict[str, Any], section: int, question: int) -> dict[str, Any]:
    return data["sections"][section]["questions"][question]


def test_minimal_rubric_is_valid() -> None:
    rubric = parse_rubric(dump(minimal()), "test.yaml")
    assert rubric.key == ("test-rubric", "1.0")
    assert rubric.source == "test.yaml"
    assert [question.id for question in rubric.questions] == [
        "safe",
        "safety_grade",
        "plan_clear",
        "plan_grade",
        "notes",
    ]


# --- error classes

Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[Any], value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _q(section: int, question: int, **changes: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        item = q(data, section, question)
        for key, value in changes.items():
            if value is _DROP:
                item.pop(key, None)
            else:
                item[key] = value

    return mutate


_DROP = object()
CRITICAL = (0, 0)


def _append_section(section: dict[str, Any]) -> Mutation:
    return lambda data: data["sections"].append(section)


ERROR_CASES: list[tuple[str, Mutation, str, str]] = [
    ("missing key", _delete(["title"]), "title", 'required key "title" is missing'),
    (
        "missing nested key",
        _q(1, 0, text=_DROP),
        "sections[1].questions[0].text",
        'required key "text" is missing',
    ),
    ("wrong type", _set(["sections"], "none"), "sections", "expected a list of sections"),
    ("wrong nested type", _q(1, 0, text=7), "sections[1].questions[0].text", "expected text"),
    (
        "wrong flag type",
        _q(1, 0, required="often"),
        "sections[1].questions[0].required",
        "true or false",
    ),
    ("unknown top key", _set(["colour"], "red"), "colour", "allowed keys: id, version, title"),
    (
        "unknown nested key with a suggestion",
        _q(1, 0, hnit="x"),
        "sections[1].questions[0].hnit",
        'unknown key "hnit" (did you mean "hint"?)',
    ),
    (
        "unknown question type",
        _q(0, 1, type="grde"),
        "sections[0].questions[1].type",
        'unknown question type "grde"; expected one of: grade, yes_no, text',
    ),
    ("rubric id not a slug", _set(["id"], "Test Rubric"), "id", "not a valid id"),
    (
        "question id not a slug",
        _q(1, 0, id="Plan!"),
        "sections[1].questions[0].id",
        "not a valid id",
    ),
    ("empty version", _set(["version"], " "), "version", "must not be empty"),
    (
        "duplicate case type",
        lambda d: d["case_types"].append({"id": "cp", "label": "Protection"}),
        "case_types[2].id",
        'duplicate case type id "cp"; first used at case_types[1].id',
    ),
    (
        "alias naming two case types",
        lambda d: d["case_types"][0]["aliases"].append("child protection"),
        "case_types[1].label",
        'already names case type "cin"',
    ),
    (
        "duplicate level",
        _set(["scale", "levels", 1, "id"], "outstanding"),
        "scale.levels[1].id",
        'duplicate level id "outstanding"',
    ),
    (
        "duplicate section",
        _set(["sections", 1, "id"], "safety"),
        "sections[1].id",
        'duplicate section id "safety"',
    ),
    (
        "duplicate question across sections",
        _q(1, 0, id="safe"),
        "sections[1].questions[0].id",
        'duplicate question id "safe"; first used at sections[0].questions[0].id',
    ),
    ("empty scale", _set(["scale", "levels"], []), "scale.levels", "at least one"),
    (
        "good_or_better unknown",
        _set(["scale", "good_or_better"], ["great"]),
        "scale.good_or_better[0]",
        'unknown level "great"',
    ),
    (
        "good_or_better empty",
        _set(["scale", "good_or_better"], []),
        "scale.good_or_better",
        "at least one",
    ),
    (
        "good_or_better not the top levels",
        _set(["scale", "good_or_better"], ["good"]),
        "scale.good_or_better",
        "best levels",
    ),
    (
        "values not strictly decreasing",
        _set(["scale", "levels", 2, "value"], 3),
        "scale.levels[2].value",
        "strictly decreasing",
    ),
    (
        "non-numeric value",
        _set(["scale", "levels", 0, "value"], "four"),
        "scale.levels[0].value",
        "number",
    ),
    (
        "threshold out of range",
        _set(["findings"], {"strength_at_least": 1.5}),
        "findings.strength_at_least",
        "from 0 to 1",
    ),
    (
        "strength not above development",
        _set(["findings"], {"strength_at_least": 0.5, "development_below": 0.5}),
        "findings.strength_at_least",
        "must be greater than development_below",
    ),
    (
        "min_answers below 1",
        _set(["findings"], {"min_answers": 0}),
        "findings.min_answers",
        "at least 1",
    ),
    (
        "unknown wording placeholder",
        _set(["findings"], {"wording": {"strength": "{subject} {percent}"}}),
        "findings.wording.strength",
        'unknown placeholder "{percent}"',
    ),
    (
        "formatted placeholder",
        _set(["findings"], {"wording": {"critical": "{count:d} cases"}}),
        "findings.wording.critical",
        "no format",
    ),
    (
        "unknown wording kind",
        _set(["findings"], {"wording": {"weakness": "x"}}),
        "findings.wording.weakness",
        "allowed keys: strength, development, critical",
    ),
    (
        "section applies_to undeclared",
        _set(["sections", 1, "applies_to"], ["cla"]),
        "sections[1].applies_to[0]",
        'unknown case type "cla"; declared case types: cin, cp',
    ),
    (
        "question applies_to undeclared",
        _q(1, 0, applies_to=["care_leaver"]),
        "sections[1].questions[0].applies_to[0]",
        'unknown case type "care_leaver"',
    ),
    (
        "question applies_to outside its section",
        _q(1, 0, applies_to=["cin"]),
        "sections[1].questions[0].applies_to[0]",
        "outside the section's applies_to",
    ),
    (
        "required_below on yes_no",
        _q(1, 0, evidence={"required_below": "good"}),
        "sections[1].questions[0].evidence.required_below",
        "only to grade questions",
    ),
    (
        "required_when on grade",
        _q(1, 1, evidence={"required_when": "no"}),
        "sections[1].questions[1].evidence.required_when",
        "only to yes_no questions",
    ),
    (
        "required_below unknown level",
        _q(1, 1, evidence={"required_below": "great"}),
        "sections[1].questions[1].evidence.required_below",
        'unknown level "great"',
    ),
    (
        "required evidence on text",
        _q(1, 2, evidence="required"),
        "sections[1].questions[2].evidence",
        "its own evidence",
    ),
    (
        "unknown evidence rule",
        _q(1, 0, evidence="always"),
        "sections[1].questions[0].evidence",
        "always",
    ),
    (
        "guidance for unknown level",
        _q(0, 1, guidance={"excellent": "x"}),
        "sections[0].questions[1].guidance.excellent",
        'unknown level "excellent"',
    ),
    (
        "guidance on non-grade question",
        _q(1, 0, guidance={"good": "x"}),
        "sections[1].questions[0].guidance",
        "only to grade questions",
    ),
    (
        "good_answer on grade question",
        _q(1, 1, good_answer="yes"),
        "sections[1].questions[1].good_answer",
        "only to yes_no",
    ),
    (
        "critical not required",
        _q(*CRITICAL, required=False),
        "sections[0].questions[0].required",
        "must be required",
    ),
    (
        "critical allows N/A",
        _q(*CRITICAL, allow_na=True),
        "sections[0].questions[0].allow_na",
        "must not allow N/A",
    ),
    (
        "critical not for every case type",
        _q(*CRITICAL, applies_to=["cp"]),
        "sections[0].questions[0].applies_to",
        "apply to all case types",
    ),
    (
        "critical in a section not for every case type",
        _set(["sections", 0, "applies_to"], ["cin"]),
        "sections[0].questions[0].critical",
        "its section (sections[0]) must apply to all case types",
    ),
    (
        "critical in a non-compulsory section",
        _set(["sections", 0, "compulsory"], False),
        "sections[0].questions[0].critical",
        "must be compulsory",
    ),
    (
        "critical yes_no without adverse answer",
        _q(*CRITICAL, adverse_answer=_DROP),
        "sections[0].questions[0].critical",
        "adverse_answer",
    ),
    (
        "adverse answer equal to good answer",
        _q(*CRITICAL, adverse_answer="yes"),
        "sections[0].questions[0].adverse_answer",
        "both good and adverse",
    ),
    (
        "critical grade without adverse levels",
        _q(0, 1, critical=True),
        "sections[0].questions[1].critical",
        "adverse_levels",
    ),
    (
        "adverse level that is good",
        _q(0, 1, critical=True, adverse_levels=["good"]),
        "sections[0].questions[1].adverse_levels[0]",
        "cannot be adverse",
    ),
    (
        "critical text question",
        _q(1, 2, critical=True),
        "sections[1].questions[2].critical",
        "text question cannot be critical",
    ),
    (
        "adverse answer on non-critical question",
        _q(1, 0, adverse_answer="no"),
        "sections[1].questions[0].adverse_answer",
        "only to critical questions",
    ),
    (
        "no critical question",
        _q(*CRITICAL, critical=False, adverse_answer=_DROP),
        "sections",
        "critical",
    ),
    (
        "overall question unknown",
        _set(["overall"], {"question": "overall_grade"}),
        "overall.question",
        'no question "overall_grade"',
    ),
    (
        "overall question not a grade",
        _set(["overall"], {"question": "safe"}),
        "overall.question",
        "is a yes_no question, not grade",
    ),
    (
        "overall question not required",
        lambda d: (_q(0, 1, required=False)(d), d.update(overall={"question": "safety_grade"})),
        "overall.question",
        "must be required",
    ),
    (
        "overall question not for every case type",
        _set(["overall"], {"question": "plan_grade"}),
        "overall.question",
        "must apply to all case types",
    ),
    ("overall with neither", _set(["overall"], {}), "overall", "exactly one of"),
    (
        "overall with both",
        _set(["overall"], {"rule": "weighted_mean", "question": "safety_grade"}),
        "overall",
        "exactly one of",
    ),
    (
        "unknown overall rule",
        _set(["overall"], {"rule": "average"}),
        "overall.rule",
        "expected one of: lowest_section_grade, weighted_mean",
    ),
    (
        "rule without section grades",
        lambda d: [s.pop("grade_question") for s in d["sections"]],
        "overall.rule",
        "no section names a grade_question",
    ),
    (
        "weight for unknown section",
        _set(["overall"], {"rule": "weighted_mean", "weights": {"visits": 2}}),
        "overall.weights.visits",
        'no section "visits"',
    ),
    (
        "weight for section without grade",
        lambda d: (
            _append_section(
                {
                    "id": "extra",
                    "title": "Extra",
                    "questions": [{"id": "extra_q", "text": "Extra?", "type": "yes_no"}],
                }
            )(d),
            d.update(overall={"rule": "weighted_mean", "weights": {"extra": 2}}),
        ),
        "overall.weights.extra",
        "has no grade_question",
    ),
    (
        "non-positive weight",
        _set(["overall"], {"rule": "weighted_mean", "weights": {"plans": 0}}),
        "overall.weights.plans",
        "positive number",
    ),
    (
        "weights with the wrong rule",
        _set(["overall"], {"rule": "lowest_section_grade", "weights": {"plans": 2}}),
        "overall.weights",
        "only with rule: weighted_mean",
    ),
    (
        "grade_question not a grade",
        _set(["sections", 1, "grade_question"], "plan_clear"),
        "sections[1].grade_question",
        "must be a grade question",
    ),
    (
        "grade_question in another section",
        _set(["sections", 1, "grade_question"], "safety_grade"),
        "sections[1].grade_question",
        "not in this section",
    ),
    (
        "grade_question unknown",
        _set(["sections", 1, "grade_question"], "nothing"),
        "sections[1].grade_question",
        'no question "nothing"',
    ),
]

TIMELINESS = {
    "id": "visits",
    "name": "Visits within 15 working days",
    "start": "previous_visit_date",
    "end": "last_visit_date",
    "limit": 15,
    "unit": "working_days",
}


def _timeliness(*changes: dict[str, Any]) -> Mutation:
    return _set(["timeliness"], [{**TIMELINESS, **change} for change in changes])


ERROR_CASES += [
    (
        "duplicate timeliness id",
        _timeliness({}, {}),
        "timeliness[1].id",
        'duplicate timeliness measure id "visits"',
    ),
    (
        "timeliness unit",
        _timeliness({"unit": "weeks"}),
        "timeliness[0].unit",
        'unknown unit "weeks"',
    ),
    ("timeliness limit zero", _timeliness({"limit": 0}), "timeliness[0].limit", "at least 1"),
    (
        "timeliness limit fraction",
        _timeliness({"limit": 1.5}),
        "timeliness[0].limit",
        "whole number",
    ),
    (
        "timeliness applies_to undeclared",
        _timeliness({"applies_to": ["cla"]}),
        "timeliness[0].applies_to[0]",
        'unknown case type "cla"',
    ),
    (
        "timeliness column name",
        _timeliness({"start": "Referral date"}),
        "timeliness[0].start",
        "column",
    ),
    (
        "timeliness same columns",
        _timeliness({"end": "previous_visit_date"}),
        "timeliness[0].end",
        "different",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_each_class_of_error_names_its_path(mutate: Mutation, path: str, fragment: str) -> None:
    data = minimal()
    mutate(data)
    problems = problems_of(data)
    at_path = [p for p in problems if p.path == path]
    assert at_path, f"no problem at {path}; got:\n" + "\n".join(map(str, problems))
    assert any(fragment in p.message for p in at_path), "\n".join(map(str, problems))
    assert all(p.line is not None for p in at_path), "problems should cite a line"


def test_all_problems_are_collected_not_just_the_first() -> None:
    data = minimal()
    data["id"] = "Bad Id"
    data["colour"] = "red"
    q(data, 1, 0)["type"] = "grde"
    data["scale"]["levels"][2]["value"] = 9
    data["timeliness"] = [{**TIMELINESS, "unit": "weeks"}]
    with pytest.raises(RubricInvalid) as caught:
        parse_rubric(dump(data), "bad.yaml")
    paths = {p.path for p in caught.value.problems}
    assert {
        "id",
        "colour",
        "sections[1].questions[0].type",
        "scale.levels[2].value",
        "timeliness[0].unit",
    } <= paths
    assert caught.value.source == "bad.yaml"


SEVERAL_PROBLEMS = (FIXTURES / "several-problems.yaml").read_text(encoding="utf-8")


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if fragment in row)


def test_several_problems_at_once_are_all_reported_with_path_and_line() -> None:
    problems = validate_rubric_text(SEVERAL_PROBLEMS, "three-point.yaml")
    found = {(p.path, p.line): p.message for p in problems}
    expected = [
        ("colour", "colour: red", 'unknown key "colour"'),
        ("scale.levels[1].value", "value: high", "expected a number"),
        ("scale.good_or_better", "good_or_better", "for example Strong and Adequate"),
        ("sections[0].questions[1].type", "type: grde", 'unknown question type "grde"'),
        ("findings.wording.strength", "strength:", 'placeholder "{share}" takes no format'),
        ("findings.wording.strength", "strength:", 'unknown placeholder "{total}"'),
    ]
    for path, row, fragment in expected:
        line = _line_of(SEVERAL_PROBLEMS, row)
        messages = [p.message for p in problems if (p.path, p.line) == (path, line)]
        assert any(fragment in m for m in messages), f"{path} line {line}: {fragment}\n{found}"
    assert len(problems) == len(expected), "\n".join(map(str, problems))


def test_good_or_better_example_uses_the_rubric_s_own_labels() -> None:
    data = minimal()
    data["scale"]["good_or_better"] = ["good"]
    (problem,) = problems_of(data)
    assert "for example Outstanding and Good" in problem.message
    assert "expected outstanding" in problem.message


def test_levels_out_of_order_do_not_also_blame_good_or_better() -> None:
    data = minimal()
    data["scale"]["levels"][0]["value"] = 2  # outstanding below good: which is best is unclear
    data["scale"]["good_or_better"] = ["good"]
    assert [p.path for p in problems_of(data)] == ["scale.levels[1].value"]


def test_an_invalid_type_does_not_cause_echo_problems() -> None:
    data = minimal()
    q(data, 0, 1)["type"] = "grde"  # the section's grade_question: must not also be blamed
    problems = problems_of(data)
    assert [p.path for p in problems] == ["sections[0].questions[1].type"]


def test_problems_cite_lines_in_the_file() -> None:
    text = dump(minimal()).replace("type: grade", "type: grde", 1)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "type: grde" in row)
    (problem,) = validate_rubric_text(text)
    assert problem.line == line
    assert str(problem).startswith(f"line {line}: sections[0].questions[1].type: unknown")


def test_duplicate_keys_in_a_mapping_are_reported() -> None:
    text = dump(minimal()).replace("title: Test rubric\n", "title: Test rubric\ntitle: Again\n")
    problems = validate_rubric_text(text)
    assert [(p.path, p.line) for p in problems] == [("title", 4)]
    assert "more than once" in problems[0].message


def test_unquoted_yes_and_no_are_read_as_answers() -> None:
    text = dump(minimal()).replace("adverse_answer: 'no'", "adverse_answer: no")
    text = text.replace("required_when: 'no'", "required_when: no")
    assert "adverse_answer: no\n" in text
    rubric = parse_rubric(text, "x")
    safe = rubric.question("safe")
    assert safe.adverse_answer == "no"
    assert safe.evidence.answer == "no"
    assert safe.good_answer == "yes"


def test_numeric_version_is_kept_as_written() -> None:
    text = dump(minimal()).replace("version: '1.0'", "version: 1.10")
    assert parse_rubric(text).version == "1.10"


def test_a_bool_where_text_is_expected_suggests_quoting() -> None:
    data = minimal()
    data["case_types"][0]["label"] = True
    (problem,) = problems_of(data)
    assert problem.path == "case_types[0].label"
    assert "quote it" in problem.message


def test_na_is_not_a_level_id() -> None:
    data = minimal()
    data["scale"]["levels"][3]["id"] = "na"
    (problem,) = problems_of(data)
    assert problem.path == "scale.levels[3].id"


def test_rubric_with_too_many_questions_is_refused() -> None:
    text = dump(minimal()).replace("sections:\n", "sections:\n- &big\n  id: big\n  title: Big\n", 1)
    questions = "\n".join(
        f"  - {{id: q{i}, text: Q, type: yes_no}}" for i in range(MAX_QUESTIONS + 1)
    )
    text = text.replace("  title: Big\n", f"  title: Big\n  questions:\n{questions}\n", 1)
    problems = validate_rubric_text(text)
    assert [p.path for p in problems] == ["sections"]
    assert "limit" in problems[0].message


# --- malformed input


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("id: x\nversion: '1.0'\ntitle: [unclosed\ncase_types: []\n", 4),
        ("id: x\n  title: y\n", 2),
        ('id: x\ntitle: "open\n', 3),
        ("id: x\n---\nid: y\n", 2),
        ("id: x\nwhen: 2024-13-01\n", 2),
        ("id: x\nbad: !!python/object:os.system {}\n", 2),
        ("id: x\nv: \x07\n", 2),
        ("id: x\nv: !!map [1]\n", 2),
        ("id: x\nv: !!seq {a: 1}\n", 2),
        ("id: x\nv: !!int ten\n", 2),
    ],
)
def test_malformed_yaml_gives_line_and_column(text: str, line: int) -> None:
    with pytest.raises(RubricInvalid) as caught:
        parse_rubric(text, "broken.yaml")
    (problem,) = caught.value.problems
    assert problem.message.startswith("not valid YAML")
    assert problem.line == line
    assert problem.column is not None
    assert str(caught.value).startswith(f"broken.yaml: line {line}, column {problem.column}: ")


def test_bad_character_after_non_ascii_text_is_located_by_character() -> None:
    (problem,) = validate_rubric_text("title: café crème\nv: ok \x07\n")
    assert (problem.line, problem.column) == (2, 7)
    assert "U+0007" in problem.message


@pytest.mark.parametrize("text", ["", "just text", "- a list\n", "42", "[" * 3000])
def test_documents_that_are_not_a_mapping_are_refused(text: str) -> None:
    with pytest.raises(RubricInvalid) as caught:
        parse_rubric(text)
    assert len(caught.value.problems) == 1


def test_rubric_invalid_lists_source_path_and_message_per_line() -> None:
    error = RubricInvalid(
        "r.yaml", [Problem("id", "bad id", 1), Problem("sections[0].title", "must not be empty")]
    )
    assert str(error).splitlines() == [
        "r.yaml: line 1: id: bad id",
        "r.yaml: sections[0].title: must not be empty",
    ]


# --- shipped rubrics and docs


def test_three_rubrics_are_shipped() -> None:
    assert {p.name for p in SHIPPED} >= {
        "peer-safeguarding-health-check.yaml",
        "supervision-thematic.yaml",
        "plan-quality-thematic.yaml",
    }


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_rubric_parses(path: Path) -> None:
    assert check_rubric_file(path) == ()
    rubric = load_rubric_file(path)
    assert rubric.id == path.stem
    # The app escalates unsafe children in every audit, whatever the case type.
    critical = rubric.critical_questions()
    assert critical
    for case_type in rubric.case_types:
        assert set(critical) <= set(rubric.questions_for(case_type.id))


def test_health_check_rubric_shape() -> None:
    rubric = load_rubric_file(ROOT / "rubrics" / "peer-safeguarding-health-check.yaml")
    assert (rubric.title, rubric.version) == ("Peer safeguarding health check", "1.0")
    assert 35 <= len(rubric.questions) <= 45
    assert rubric.overall.question == "overall_grade"
    assert [ct.id for ct in rubric.case_types] == [
        "early_help",
        "referral_assessment",
        "cin",
        "cp",
        "cla",
        "care_leaver",
    ]
    for section in rubric.sections:
        grades = [question for question in section.questions if question.type == "grade"]
        if grades:
            assert section.grade_question == grades[0].id
    assert rubric.resolve_case_type("R&A").id == "referral_assessment"
    assert rubric.resolve_case_type("lac").id == "cla"
    early_help = {question.id for question in rubric.questions_for("early_help")}
    assert "plan_grade" not in early_help and "child_safeguarded" in early_help
    assert "cp_plan_expectations" in {question.id for question in rubric.questions_for("cp")}
    assert "cp_plan_expectations" not in {question.id for question in rubric.questions_for("cla")}


def test_thematic_rubrics_use_rules() -> None:
    supervision = load_rubric_file(ROOT / "rubrics" / "supervision-thematic.yaml")
    plans = load_rubric_file(ROOT / "rubrics" / "plan-quality-thematic.yaml")
    assert supervision.overall.rule == "lowest_section_grade"
    assert plans.overall.rule == "weighted_mean"
    assert plans.overall.weights
    assert [ct.id for ct in plans.case_types] == ["cin", "cp", "cla"]


def docs_examples() -> list[str]:
    blocks = re.findall(r"^```yaml\n(.*?)^```", DOCS.read_text(encoding="utf-8"), re.M | re.S)
    return [block for block in blocks if block.startswith("id:")]


def test_docs_have_two_complete_examples() -> None:
    examples = [parse_rubric(block, "docs") for block in docs_examples()]
    assert len(examples) >= 2
    assert any(r.overall.question for r in examples)
    assert any(r.overall.rule for r in examples)


@pytest.mark.parametrize("index", range(len(docs_examples())))
def test_every_docs_example_parses(index: int) -> None:
    parse_rubric(docs_examples()[index], f"docs/rubrics.md example {index + 1}")


RUBRIC_KEYS = sorted({key for keys in KEYS.values() for key in (*keys.required, *keys.optional)})


def test_docs_describe_every_key() -> None:
    code_spans = re.findall(r"`([^`\n]+)`", DOCS.read_text(encoding="utf-8"))
    documented = {word for span in code_spans for word in re.findall(r"[a-z_]+", span)}
    assert sorted(set(RUBRIC_KEYS) - documented) == []


# --- the objects


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return parse_rubric(dump(minimal()), "test.yaml")


def test_rubric_is_immutable(rubric: Rubric) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        rubric.title = "Changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rubric.sections[0].questions[0].critical = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        rubric.question("safety_grade").guidance["good"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        rubric.findings.wording["strength"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        rubric.scale.good_or_better.add("requires_improvement")  # type: ignore[attr-defined]
    assert isinstance(rubric.sections, tuple)
    assert isinstance(rubric.case_types[1].aliases, tuple)
    assert hash(rubric) == hash(parse_rubric(rubric.text, "elsewhere"))


def test_rubric_pickles_and_copies_as_its_text(rubric: Rubric) -> None:
    for clone in (pickle.loads(pickle.dumps(rubric)), copy.deepcopy(rubric)):
        assert clone == rubric
        assert clone.source == rubric.source
        assert clone.question("safety_grade").guidance == {"good": "Safe and well supported."}


def test_rubric_keeps_exact_text_and_hash(rubric: Rubric) -> None:
    import hashlib

    assert rubric.text == dump(minimal())
    assert rubric.content_hash == hashlib.sha256(rubric.text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cp", "cp"),
        ("CP", "cp"),
        ("  child   PROTECTION plan ", "cp"),
        ("Child protection", "cp"),
        ("cin", "cin"),
        ("child in need", "cin"),
        ("Looked after", None),
        ("", None),
    ],
)
def test_resolve_case_type(rubric: Rubric, value: str, expected: str | None) -> None:
    found = rubric.resolve_case_type(value)
    assert (found.id if found else None) == expected


def test_case_type_lookup(rubric: Rubric) -> None:
    assert rubric.case_type("cp").label == "Child protection"
    with pytest.raises(KeyError):
        rubric.case_type("cla")


def test_questions_for_respects_section_and_question_applies_to() -> None:
    data = minimal()
    data["sections"][1]["applies_to"] = ["cin", "cp"]
    q(data, 1, 0)["applies_to"] = ["cp"]
    rubric = parse_rubric(dump(data))
    assert [x.id for x in rubric.questions_for("cp")] == [
        "safe",
        "safety_grade",
        "plan_clear",
        "plan_grade",
        "notes",
    ]
    assert [x.id for x in rubric.questions_for("cin")] == [
        "safe",
        "safety_grade",
        "plan_grade",
        "notes",
    ]
    original = parse_rubric(dump(minimal()))
    assert [s.id for s in original.sections_for("cin")] == ["safety"]
    assert [x.id for x in original.questions_for("cin")] == ["safe", "safety_grade"]
    with pytest.raises(KeyError):
        original.questions_for("cla")


def test_question_lookups(rubric: Rubric) -> None:
    assert rubric.question("plan_clear").text == "Is the plan clear?"
    assert rubric.section_of("plan_clear").id == "plans"
    assert [x.id for x in rubric.critical_questions()] == ["safe"]
    with pytest.raises(KeyError):
        rubric.question("nope")


def test_scale(rubric: Rubric) -> None:
    scale = rubric.scale
    assert (scale.highest.id, scale.lowest.id) == ("outstanding", "inadequate")
    assert scale.level("good").value == 3.0
    assert scale.is_good("outstanding") and not scale.is_good("requires_improvement")
    assert scale.round_down(3.5).id == "good"
    assert scale.round_down(0.2).id == "inadequate"
    with pytest.raises(KeyError):
        scale.level("great")


def test_question_answers(rubric: Rubric) -> None:
    safe, grade, plan_clear, _, notes = rubric.questions
    assert safe.is_adverse("no") and not safe.is_adverse("yes")
    assert not plan_clear.is_adverse("no")
    assert safe.evidence_required("no") and not safe.evidence_required("yes")
    assert grade.evidence_required("requires_improvement") and grade.evidence_required("inadequate")
    assert not grade.evidence_required("good") and not grade.evidence_required(None)
    assert not grade.evidence_required("na")
    assert grade.is_good("good", rubric.scale) is True
    assert grade.is_good("inadequate", rubric.scale) is False
    assert grade.is_good(None, rubric.scale) is None
    assert safe.is_good("yes", rubric.scale) is True
    assert safe.is_good("no", rubric.scale) is False
    assert notes.is_good("anything", rubric.scale) is None
    assert grade.guidance == {"good": "Safe and well supported."}


def test_critical_grade_question_is_adverse_at_its_levels() -> None:
    data = minimal()
    q(data, 0, 1).update(critical=True, adverse_levels=["inadequate"])
    question = parse_rubric(dump(data)).question("safety_grade")
    assert question.is_adverse("inadequate")
    assert not question.is_adverse("requires_improvement")


def test_findings_rules_defaults_and_suggestions(rubric: Rubric) -> None:
    rules = rubric.findings
    assert (rules.min_answers, rules.strength_at_least, rules.development_below) == (5, 0.75, 0.5)
    assert rules.suggestion(4, 4) is None
    assert rules.suggestion(8, 10) == "strength"
    assert rules.suggestion(4, 10) == "development"
    assert rules.suggestion(6, 10) is None
    text = rules.phrase("strength", subject="Plans", share="80%", count=8, n=10)
    assert text == "Plans: 80% of audited cases were good or better (8 of 10)."


def test_custom_wording_keeps_other_defaults() -> None:
    data = minimal()
    data["findings"] = {"wording": {"strength": "{subject} is strong ({low} to {high})"}}
    rules = parse_rubric(dump(data)).findings
    assert rules.wording["strength"] == "{subject} is strong ({low} to {high})"
    assert rules.wording["critical"].startswith("{subject}: {count} case(s)")


# --- overall judgement


def test_overall_by_question() -> None:
    data = minimal()
    data["overall"] = {"question": "safety_grade"}
    rubric = parse_rubric(dump(data))
    assert (
        rubric.overall.judge({"safety_grade": "good", "plan_grade": "inadequate"}, rubric) == "good"
    )
    assert rubric.overall.judge({"plan_grade": "inadequate"}, rubric) is None
    assert rubric.overall.judge({"safety_grade": "nonsense"}, rubric) is None


def test_overall_lowest_section_grade(rubric: Rubric) -> None:
    judge = rubric.overall.judge
    assert judge({"safety_grade": "good", "plan_grade": "requires_improvement"}, rubric) == (
        "requires_improvement"
    )
    assert judge({"safety_grade": "outstanding"}, rubric) == "outstanding"
    assert judge({}, rubric) is None


def test_overall_weighted_mean_rounds_down() -> None:
    data = minimal()
    data["overall"] = {"rule": "weighted_mean"}
    rubric = parse_rubric(dump(data))
    judge = rubric.overall.judge
    assert judge({"safety_grade": "outstanding", "plan_grade": "good"}, rubric) == "good"
    assert judge({"safety_grade": "outstanding", "plan_grade": "outstanding"}, rubric) == (
        "outstanding"
    )
    assert judge({"plan_grade": "inadequate"}, rubric) == "inadequate"
    assert judge({"notes": "x"}, rubric) is None


def test_overall_weighted_mean_uses_weights() -> None:
    data = minimal()
    data["overall"] = {"rule": "weighted_mean", "weights": {"plans": 3}}
    rubric = parse_rubric(dump(data))
    # (4 * 1 + 2 * 3) / 4 = 2.5, rounded down to requires improvement (2).
    grades = {"safety_grade": "outstanding", "plan_grade": "requires_improvement"}
    assert rubric.overall.judge(grades, rubric) == "requires_improvement"
    # (4 * 1 + 3 * 3) / 4 = 3.25: good.
    assert rubric.overall.judge({"safety_grade": "outstanding", "plan_grade": "good"}, rubric) == (
        "good"
    )
    assert rubric.overall.weights == {"plans": 3.0}


# --- files and the library


def write(folder: Path, name: str, data: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else dump(data), encoding="utf-8")
    return path


def with_version(version: str, **changes: Any) -> dict[str, Any]:
    data = minimal()
    data["version"] = version
    data.update(changes)
    return data


def test_check_rubric_file(tmp_path: Path) -> None:
    assert check_rubric_file(write(tmp_path, "ok.yaml", minimal())) == ()
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"id: x\ntitle: caf\xe9\n")
    (problem,) = check_rubric_file(bad)
    assert problem.line == 2 and "UTF-8" in problem.message
    (missing,) = check_rubric_file(tmp_path / "missing.yaml")
    assert "cannot read" in missing.message
    with pytest.raises(RubricInvalid) as caught:
        load_rubric_file(bad)
    assert caught.value.source == str(bad)


def test_library_picks_up_new_and_changed_files(tmp_path: Path) -> None:
    own = tmp_path / "own"
    library = RubricLibrary([tmp_path / "missing", own])
    assert library.rubrics() == ()
    write(own, "a.yaml", minimal())
    assert [r.key for r in library.rubrics()] == [("test-rubric", "1.0")]
    first = library.rubrics()[0]
    assert library.rubrics()[0] is first  # nothing changed: nothing re-read
    path = write(own, "a.yaml", with_version("1.0", title="Renamed rubric"))
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    assert library.rubrics()[0].title == "Renamed rubric"
    assert library.rubrics()[0].source == str(path)


def test_library_lists_invalid_files_without_raising(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", minimal())
    write(tmp_path, "broken.yml", "id: [\n")
    bad = with_version("2.0")
    q(bad, 1, 0)["type"] = "grde"
    write(tmp_path, "typo.yaml", bad)
    write(tmp_path, "notes.txt", "ignored")
    write(tmp_path, ".hidden.yaml", "ignored: true")
    library = RubricLibrary([tmp_path])
    assert [r.key for r in library.rubrics()] == [("test-rubric", "1.0")]
    invalid = dict(library.invalid())
    assert set(invalid) == {tmp_path / "broken.yml", tmp_path / "typo.yaml"}
    assert invalid[tmp_path / "broken.yml"][0].line is not None
    assert [p.path for p in invalid[tmp_path / "typo.yaml"]] == ["sections[1].questions[0].type"]


def test_library_duplicate_id_and_version_across_folders(tmp_path: Path) -> None:
    built_in = write(tmp_path / "built-in", "test.yaml", minimal())
    write(tmp_path / "instance", "copy.yaml", with_version("1.0", title="Copy"))
    library = RubricLibrary([tmp_path / "built-in", tmp_path / "instance"])
    assert [r.title for r in library.rubrics()] == ["Test rubric"]
    ((path, problems),) = library.invalid()
    assert path == tmp_path / "instance" / "copy.yaml"
    assert str(built_in) in problems[0].message


def test_library_get_latest_version(tmp_path: Path) -> None:
    for version in ("1.9", "1.10", "1.2"):
        write(tmp_path, f"v{version}.yaml", with_version(version))
    write(tmp_path, "other.yaml", with_version("3.0", id="another", title="Another"))
    library = RubricLibrary([tmp_path])
    assert library.get("test-rubric").version == "1.10"
    assert library.get("test-rubric", "1.2").version == "1.2"
    with pytest.raises(KeyError):
        library.get("test-rubric", "4.0")
    with pytest.raises(KeyError):
        library.get("missing")
    assert [(r.title, r.version) for r in library.rubrics()] == [
        ("Another", "3.0"),
        ("Test rubric", "1.2"),
        ("Test rubric", "1.9"),
        ("Test rubric", "1.10"),
    ]


def test_library_of_shipped_rubrics_is_all_valid() -> None:
    library = RubricLibrary([ROOT / "rubrics"])
    assert library.invalid() == ()
    assert len(library.rubrics()) == len(SHIPPED)


def test_version_sort_key() -> None:
    versions = ["2.0", "1.10", "1.9", "1.9.1", "10", "1.0"]
    assert sorted(versions, key=version_sort_key) == ["1.0", "1.9", "1.9.1", "1.10", "2.0", "10"]


def test_fixture_rubrics() -> None:
    assert check_rubric_file(FIXTURES / "minimal.yaml") == ()
    (problem,) = check_rubric_file(FIXTURES / "invalid-type.yaml")
    assert (problem.path, problem.line) == ("sections[0].questions[1].type", 29)


# --- robustness

yaml_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12) | st.integers(), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _paths(value, (*prefix, i))
    return found


PATHS = _paths(minimal())[1:]


def _only_rubric_or_invalid(text: str) -> None:
    try:
        result = parse_rubric(text, "fuzz")
    except RubricInvalid as error:
        assert error.problems
        assert all(isinstance(p, Problem) and p.message for p in error.problems)
        str(error)
    else:
        assert isinstance(result, Rubric)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    _only_rubric_or_invalid(text)


YAML_TOKENS = [
    *("!!map ", "!!seq ", "!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!binary "),
    *("!!timestamp ", "!!omap ", "!!set ", "!!pairs ", "&a ", "*a", "<<: ", "? ", ": ", "- "),
    *("[", "]", "{", "}", ", ", "\n", "  ", "x", "1", "yes", "2024-13-01", "'", '"', "#", "---"),
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(YAML_TOKENS), max_size=30).map("".join))
def test_yaml_like_text_never_raises_anything_else(text: str) -> None:
    _only_rubric_or_invalid(text)


@settings(max_examples=150, deadline=None)
@given(yaml_values)
def test_arbitrary_yaml_data_never_raises_anything_else(data: Any) -> None:
    _only_rubric_or_invalid(dump(data))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), yaml_values), min_size=1, max_size=3))
def test_rubric_with_random_parts_replaced_never_raises_anything_else(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    data = copy.deepcopy(minimal())
    for path, value in changes:
        target = data
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this part
    _only_rubric_or_invalid(dump(data))


# --- the JSON Schema for editors


def _valid_test_rubrics() -> list[tuple[str, Any]]:
    """Return every valid rubric the tests use, as the data an editor would check."""
    by_question = minimal()
    by_question["overall"] = {"question": "safety_grade"}
    weighted = minimal()
    weighted["overall"] = {"rule": "weighted_mean", "weights": {"plans": 3}}
    extras = minimal()
    extras["description"] = "Every optional key"
    extras["findings"] = {
        "min_answers": 3,
        "strength_at_least": 0.8,
        "development_below": 0.4,
        "wording": {"strength": "{subject} is strong ({low} to {high})"},
    }
    extras["timeliness"] = [{**TIMELINESS, "applies_to": ["cp"]}]
    q(extras, 1, 0).update(good_answer="no", hint="Look at the plan", evidence="required")
    q(extras, 1, 2).update(allow_na=True, applies_to="all")
    rubrics: list[tuple[str, Any]] = [
        ("minimal", minimal()),
        ("by question", by_question),
        ("weighted", weighted),
        ("every optional key", extras),
    ]
    for path in [*SHIPPED, *sorted(FIXTURES.glob("*.yaml"))]:
        text = path.read_text(encoding="utf-8")
        if not validate_rubric_text(text):
            rubrics.append((path.name, yaml.safe_load(text)))
    for index, block in enumerate(docs_examples()):
        rubrics.append((f"docs example {index + 1}", yaml.safe_load(block)))
    return rubrics + _rubric_texts_in_other_tests()


def _rubric_texts_in_other_tests() -> list[tuple[str, Any]]:
    """Return the valid rubrics other test files spell out as module-level YAML strings."""
    found: list[tuple[str, Any]] = []
    for path in sorted(Path(__file__).parent.rglob("test_*.py")):
        strings: dict[str, str] = {}  # module-level strings, to follow "A" + B + C
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
                continue
            text = _string_value(node.value, strings)
            if text is None:
                continue
            strings[node.targets[0].id] = text
            if "sections:" in text and not validate_rubric_text(text):
                found.append((f"{path.name}:{node.targets[0].id}", yaml.safe_load(text)))
    return found


def _string_value(node: ast.expr, strings: dict[str, str]) -> str | None:
    """Return the text a module-level string expression spells, if it is one."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return strings.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string_value(node.left, strings), _string_value(node.right, strings)
        return left + right if left is not None and right is not None else None
    return None


VALID_TEST_RUBRICS = _valid_test_rubrics()


def _validator() -> jsonschema.protocols.Validator:
    schema = rubric_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_valid_test_rubrics_really_are_valid() -> None:
    assert len(VALID_TEST_RUBRICS) >= 4 + len(SHIPPED) + 2
    assert len(_rubric_texts_in_other_tests()) >= 3, "other tests' rubrics were not found"
    for name, data in VALID_TEST_RUBRICS:
        assert validate_rubric_text(dump(data)) == (), name


@pytest.mark.parametrize(
    ("name", "data"), VALID_TEST_RUBRICS, ids=[n for n, _ in VALID_TEST_RUBRICS]
)
def test_every_shipped_docs_and_test_rubric_passes_the_schema(name: str, data: Any) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(data)]
    assert errors == [], name


def _object_schema(schema: dict[str, Any], part: str) -> dict[str, Any]:
    """Return the closed object the schema uses for one part of a rubric."""
    defs = schema["$defs"]
    where = defs["findings"]["properties"]["wording"] if part == "wording" else defs[part]
    if "properties" in where:
        return where
    return next(option for option in where["anyOf"] if "properties" in option)


@pytest.mark.parametrize("part", sorted(KEYS))
def test_schema_has_every_key_the_checker_accepts(part: str) -> None:
    found = _object_schema(rubric_schema(), part)
    keys = KEYS[part]
    assert sorted(found["properties"]) == sorted([*keys.required, *keys.optional])
    assert sorted(found.get("required", [])) == sorted(keys.required)
    assert found["additionalProperties"] is False


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (_set(["colour"], "red"), []),
        (_set(["scale", "levels", 0, "value"], "high"), ["scale", "levels", 0, "value"]),
        (_q(1, 0, type="grde"), ["sections", 1, "questions", 0, "type"]),
        (_set(["overall"], {"rule": "average"}), ["overall", "rule"]),
        (_set(["findings"], {"wording": {"weakness": "x"}}), ["findings", "wording"]),
        (_delete(["sections", 0, "title"]), ["sections", 0]),
    ],
)
def test_schema_flags_what_an_editor_should_underline(mutate: Mutation, where: list[Any]) -> None:
    data = minimal()
    mutate(data)
    errors = list(_validator().iter_errors(data))
    assert errors, "the schema accepted a broken rubric"
    assert any(list(e.absolute_path)[: len(where)] == where for e in errors), [
        (list(e.absolute_path), e.message) for e in errors
    ]


def test_rubric_schema_command_prints_the_schema() -> None:
    result = CliRunner().invoke(main, ["rubric", "schema"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == rubric_schema()
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
