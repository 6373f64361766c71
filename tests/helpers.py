"""Builders for tests: a review with cases, and complete or partial audit form posts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.data import reviews
from audit.rubric import Rubric, parse_rubric
from audit.scoring import answer_field, applicable, evidence_field

REPO = Path(__file__).resolve().parent.parent
HEALTH_CHECK = REPO / "rubrics" / "peer-safeguarding-health-check.yaml"


def health_check() -> Rubric:
    """The shipped peer safeguarding health-check rubric."""
    return parse_rubric(HEALTH_CHECK.read_text(encoding="utf-8"), source=str(HEALTH_CHECK))


def make_review(db, people, *, title: str = "Test review", case_types=("cp", "early_help", "cin")):  # type: ignore[no-untyped-def]
    """Create a review led by ``lead`` with ``reviewer`` and ``other``, cases for ``reviewer``."""
    review = reviews.create(
        db,
        title=title,
        host_organisation="Testshire Council",
        kind="peer_review",
        rubric=health_check(),
        by=people["lead"].id,
    )
    reviews.add_member(db, review.id, people["lead"].id, "lead")
    reviews.add_member(db, review.id, people["reviewer"].id, "reviewer")
    reviews.add_member(db, review.id, people["other"].id, "reviewer")
    case_ids = reviews.add_case_files(
        db,
        review.id,
        [
            {
                "reference": f"TST-{n:04d}",
                "case_type": case_type,
                "team": "Team A",
                "assigned_to": people["reviewer"].id,
            }
            for n, case_type in enumerate(case_types, start=1)
        ],
    )
    return review, case_ids


def full_answers(rubric: Rubric, case_type: str, **overrides: str) -> dict[str, Any]:
    """Form data answering every question well, with evidence, for a case type."""
    data: dict[str, Any] = {}
    for _section, questions in applicable(rubric, case_type):
        for q in questions:
            if q.type == "grade":
                data[answer_field(q.id)] = "good"
            elif q.type == "yes_no":
                data[answer_field(q.id)] = q.good_answer or "yes"
            else:
                data[answer_field(q.id)] = "Synthetic summary: practice was sound."
            if q.type != "text":
                data[evidence_field(q.id)] = "Synthetic evidence note."
    data.update(overrides)
    return data
