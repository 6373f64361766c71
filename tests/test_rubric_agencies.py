"""Multi-agency rubrics: the `agencies` and `each_agency` keys, their checks, schema and parts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask import Flask

from audit.rubric import (
    agency_part,
    load_rubric_file,
    panel_part,
    parse_rubric,
    rubric_schema,
    validate_rubric_text,
)
from audit.rubric.agency_parts import asks_agency, compared_questions
from audit.scoring import answer_field, applicable
from audit.views.partnership_forms import AgencyAuditFormBase
from audit.views.scoring_form import build_form_class
from tests.test_rubric import dump, minimal

SHIPPED = Path(__file__).resolve().parent.parent / "rubrics" / "multi-agency-case-audit.yaml"


def multi_agency() -> dict[str, Any]:
    """A small valid multi-agency rubric: every agency answers safety, the police its own."""
    data = minimal()
    safety = data["sections"][0]
    critical = next(q for q in safety["questions"] if q.get("critical"))
    critical["each_agency"] = True
    data["sections"].append(
        {
            "id": "police_own",
            "title": "Police: from your records",
            "agencies": ["police"],
            "questions": [{"id": "notified", "text": "Notified in 24 hours?", "type": "yes_no"}],
        }
    )
    return data


def problems(data: dict[str, Any]) -> list[str]:
    return [str(p) for p in validate_rubric_text(dump(data))]


def test_the_shipped_multi_agency_rubric_is_valid_and_multi_agency() -> None:
    rubric = load_rubric_file(SHIPPED)
    assert rubric.multi_agency
    assert set(rubric.agencies_named()) >= {"police", "health_visiting", "education"}
    assert "childrens_social_care" in rubric.agencies_named()
    # The stages of the child's journey partnerships judge, each graded by every agency.
    titles = [s.title for s in rubric.sections]
    for stage in ("Recognition", "Assessment", "Planning", "Joint working", "Impact", "Overall"):
        assert any(t.startswith(stage) for t in titles), stage
    assert any(q.critical and q.each_agency for q in rubric.questions)
    assert rubric.question(rubric.overall.question or "").each_agency


def test_a_rubric_without_the_keys_is_not_multi_agency() -> None:
    rubric = parse_rubric(dump(minimal()), "t.yaml")
    assert not rubric.multi_agency
    assert rubric.agencies_named() == ()


def test_parts_say_who_answers_what() -> None:
    rubric = load_rubric_file(SHIPPED)
    panel = panel_part(rubric)
    assert all(s.agencies is None for s in panel.sections)
    assert panel.question("journey_summary").type == "text"  # the panel's own section
    assert panel.overall.question == rubric.overall.question
    police = agency_part(rubric, "police")
    ids = {q.id for q in police.questions}
    assert "notifications_shared" in ids  # its own section
    assert "contacts_completed" not in ids  # health's section
    assert "journey_summary" not in ids  # the panel's alone
    assert set(compared_questions(rubric)) <= ids
    # A section reduced to its each_agency questions keeps its grade only if that is one.
    assert police.section_of("recognition_grade").grade_question == "recognition_grade"
    # An agency no section names still answers every each_agency question.
    housing = agency_part(rubric, "housing")
    assert {q.id for q in housing.questions} == set(compared_questions(rubric))
    assert asks_agency(rubric, "housing", "cp")


def test_the_form_builder_asks_an_agency_only_its_questions(app: Flask) -> None:
    rubric = load_rubric_file(SHIPPED)
    part = agency_part(rubric, "education")
    with app.test_request_context():
        form = build_form_class(part, "cin", base=AgencyAuditFormBase)(formdata=None)
    asked = {q.id for _s, qs in applicable(part, "cin") for q in qs}
    fields = {name.removeprefix("answer-") for name in form._fields if name.startswith("answer-")}
    assert fields == asked
    assert answer_field("attendance_acted_on") in form._fields
    assert answer_field("notifications_shared") not in form._fields
    assert "feedback_given" not in form._fields  # the case audit's own fields are not asked


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d["sections"][-1].update(agencies=[]), "sections[2].agencies", "at least one"),
        (
            lambda d: d["sections"][-1].update(agencies=["police", "police"]),
            "sections[2].agencies[1]",
            "listed twice",
        ),
        (
            lambda d: d["sections"][-1].update(agencies=["Police Force"]),
            "sections[2].agencies[0]",
            "not an agency id",
        ),
        (
            lambda d: d["sections"][-1]["questions"][0].update(each_agency=True),
            "sections[2].questions[0].each_agency",
            "already answered by each of those agencies",
        ),
        (
            lambda d: d["sections"][0]["questions"][0].update(each_agency="yes"),
            "sections[0].questions[0].each_agency",
            "expected true or false",
        ),
    ],
)
def test_each_problem_names_its_place(change: Any, path: str, words: str) -> None:
    data = multi_agency()
    change(data)
    found = problems(data)
    assert any(path in p and words in p for p in found), found


def test_a_multi_agency_rubric_needs_a_critical_question_every_agency_answers() -> None:
    data = multi_agency()
    for section in data["sections"]:
        for question in section["questions"]:
            question.pop("each_agency", None)
    found = problems(data)
    assert any("critical question every agency answers" in p for p in found), found


def test_a_multi_agency_rubric_needs_the_panel_s_section() -> None:
    data = multi_agency()
    for section in data["sections"]:
        section["agencies"] = ["police"]
        for question in section["questions"]:
            question.pop("each_agency", None)
    found = problems(data)
    assert any("at least one section without agencies" in p for p in found), found


def test_the_overall_question_is_the_panel_s() -> None:
    data = multi_agency()
    data["overall"] = {"question": "own_overall"}
    data["sections"][-1]["compulsory"] = True
    data["sections"][-1]["questions"].append(
        {"id": "own_overall", "text": "Overall?", "type": "grade"}
    )
    found = problems(data)
    assert any("overall.question" in p and "only its agencies answer" in p for p in found), found


def test_the_schema_knows_both_keys() -> None:
    validator = jsonschema.Draft202012Validator(rubric_schema())
    assert list(validator.iter_errors(multi_agency())) == []
    broken = copy.deepcopy(multi_agency())
    broken["sections"][-1]["agencies"] = "police"
    broken["sections"][0]["questions"][0]["each_agency"] = "often"
    paths = {tuple(e.absolute_path) for e in validator.iter_errors(broken)}
    assert ("sections", 2, "agencies") in paths
    assert ("sections", 0, "questions", 0, "each_agency") in paths
