"""Builders for multi-agency tests: a partnership review, agency audits and panels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.data import agencies, agency_audits, panels, reviews, users
from audit.rubric import Rubric, agency_part, load_rubric_file, panel_part
from audit.scoring import Answer, adverse, applicable

MULTI_AGENCY = Path(__file__).resolve().parent.parent / "rubrics" / "multi-agency-case-audit.yaml"
PASSWORD = "correct-horse-battery"


def multi_agency_rubric() -> Rubric:
    """The shipped multi-agency case audit tool."""
    return load_rubric_file(MULTI_AGENCY)


def auditor(db: Any, username: str, agency_id: str, role: str = "reviewer") -> users.User:
    """A person who belongs to an agency."""
    person = users.create(db, username, PASSWORD, role, display_name=username.title())
    agencies.set_user_agency(db, person.id, agency_id, by=None)
    return users.get(db, person.id)  # type: ignore[return-value]


def partnership(
    db: Any, lead: users.User, children: list[tuple[str, dict[str, str]]], title: str = "MACA"
) -> tuple[reviews.Review, list[str]]:
    """A multi-agency review led by ``lead`` with children (case type, agency -> reference)."""
    review = reviews.create(
        db,
        title=title,
        host_organisation="Testshire Safeguarding Children Partnership",
        kind="thematic",
        rubric=multi_agency_rubric(),
        by=lead.id,
    )
    reviews.add_member(db, review.id, lead.id, "lead")
    case_ids = [
        agency_audits.add_child(
            db,
            review.id,
            reference=f"{title}-{n:03d}",
            case_type=case_type,
            agencies=known,
            by=lead.id,
        )
        for n, (case_type, known) in enumerate(children, start=1)
    ]
    return reviews.get(db, review.id), case_ids


def answers_for(
    part: Rubric, case_type: str, grade: str = "good", **fixed: str
) -> dict[str, Answer]:
    """Answer every question of a part: one grade throughout, checks met, evidence given."""
    out: dict[str, Answer] = {}
    for _section, questions in applicable(part, case_type):
        for q in questions:
            if q.id in fixed:
                value = fixed[q.id]
                out[q.id] = (
                    Answer(None, True, "") if value == "na" else Answer(value, False, "Noted.")
                )
            elif q.type == "grade":
                out[q.id] = Answer(grade, False, "Synthetic evidence.")
            elif q.type == "yes_no":
                out[q.id] = Answer(q.good_answer or "yes", False, "Synthetic evidence.")
            else:
                out[q.id] = Answer("Synthetic summary, no names.", False, "")
    return out


def agency_audit(
    db: Any,
    review: reviews.Review,
    case_id: str,
    agency_id: str,
    by: users.User,
    answers: dict[str, Answer] | None = None,
    *,
    submit: bool = True,
    grade: str = "good",
    **fixed: str,
) -> tuple[str, agency_audits.SaveResult]:
    """Start and save (or submit) an agency's audit of a child."""
    case_type = reviews.case_file(db, case_id, review.id)["case_type"]
    part = agency_part(review.rubric, agency_id)
    answers = answers if answers is not None else answers_for(part, case_type, grade, **fixed)
    audit_id = agency_audits.start(db, review.id, case_id, agency_id, by=by.id)
    current = agency_audits.get(db, audit_id)
    result = agency_audits.save(
        db,
        audit_id,
        expected_version=current.version,
        answers=answers,
        sections_na=(),
        adverse_questions=[q.id for q in adverse(part, case_type, answers)],
        critical_questions=[q.id for q in part.critical_questions()],
        by=by.id,
        submit=submit,
    )
    return audit_id, result


def hold_panel(
    db: Any,
    review: reviews.Review,
    case_id: str,
    lead: users.User,
    grade: str = "good",
    held_on: str = "2026-10-27",
    **fixed: str,
) -> panels.PanelSave:
    """Open (if need be) and hold a child's panel with every agreed answer given."""
    case_type = reviews.case_file(db, case_id, review.id)["case_type"]
    part = panel_part(review.rubric)
    panels.open_panel(db, review.id, case_id, by=lead.id)
    panel = panels.get(db, review.id, case_id)
    assert panel is not None
    answers = answers_for(part, case_type, grade, **fixed)
    return panels.save(
        db,
        review.id,
        case_id,
        expected_version=panel.version,
        answers=answers,
        held_on=held_on,
        adverse_questions=[q.id for q in adverse(part, case_type, answers)],
        critical_questions=[q.id for q in part.critical_questions()],
        by=lead.id,
        agree=True,
    )
