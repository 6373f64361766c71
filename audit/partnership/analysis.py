"""Glue between the data layer and the partnership's figures, so every surface shows the same.

The partnership findings page, its JSON download, its exports and the partnership report all
call :func:`figures` (and :func:`trend`), which read the records once and hand them to
:func:`audit.partnership.figures.gather`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import pairwise
from typing import Any

import sqlite_utils

from audit import moments
from audit.data import agencies as agency_data
from audit.data import agency_audits, panels, programmes
from audit.data import reviews as review_data
from audit.partnership import is_multi_agency
from audit.partnership.figures import Inputs, PartnershipFigures, gather
from audit.partnership.panel import answer_label
from audit.reporting.exports import date_cell, to_csv, to_xlsx
from audit.rubric import PANEL
from audit.stats import Proportion, newcombe_difference
from audit.trends import Change, Point, Series


def inputs(
    db: sqlite_utils.Database, review: review_data.Review, today: date | None = None
) -> Inputs:
    """Read everything a multi-agency review's figures are made from."""
    agencies = agency_data.all_agencies(db)
    return Inputs(
        rubric=review.rubric,
        cases=[
            {"id": c["id"], "pseudonym": c["pseudonym"], "case_type": c["case_type"]}
            for c in review_data.case_files(db, review.id)
        ],
        case_agencies=agency_audits.case_agencies(db, review.id),
        agency_audits=[
            {
                "case_id": a.case_id,
                "agency_id": a.agency_id,
                "status": a.status,
                "sections_na": a.sections_na,
                "answers": a.answers,
            }
            for a in agency_audits.for_review(db, review.id)
        ],
        panels=[
            {"case_id": p.case_id, "agreed_at": p.agreed_at, "answers": p.answers}
            for p in panels.for_review(db, review.id)
        ],
        alerts=agency_audits.escalations(db, review.id),
        learning=panels.learning(db, review.id),
        actions=panels.actions(db, review.id, today=today),
        agency_names={a.id: a.name for a in agencies},
        agency_order=[a.id for a in agencies],
        today=today or moments.today(),
    )


def figures(
    db: sqlite_utils.Database, review: review_data.Review, today: date | None = None
) -> PartnershipFigures:
    """Gather the review's partnership figures."""
    return gather(inputs(db, review, today))


# --------------------------------------------------------------------------- trend


def _series(key: str, label: str, points: Sequence[Point]) -> Series:
    changes = tuple(
        Change(
            a.review_id,
            b.review_id,
            newcombe_difference(a.good.count, a.good.n, b.good.count, b.good.n),
        )
        for a, b in pairwise(points)
    )
    return Series(key, label, tuple(points), changes)


def trend(db: sqlite_utils.Database, review: review_data.Review) -> list[Series]:
    """Return the overall judgement across the programme's multi-agency reviews up to this one.

    One line for the panel's agreed judgements and one per agency (its own grades), each
    point a share of children with a Wilson interval and each change Newcombe's interval,
    as on a programme's trend page. Empty outside a programme or with only one such review.
    """
    if not review.programme_id:
        return []
    ids = programmes.review_ids(db, review.programme_id)
    chosen = []
    for review_id in ids:
        other = review_data.get(db, review_id)
        if is_multi_agency(other):
            chosen.append(other)
        if review_id == review.id:
            break
    if len(chosen) < 2:
        return []
    gathered = [(r, figures(db, r)) for r in chosen]
    parties: dict[str, str] = {PANEL: "The panel (agreed judgements)"}
    for _r, f in gathered:
        parties.update(dict(f.agencies))
    out = []
    for party, name in parties.items():
        points = []
        for r, f in gathered:
            results = f.panel if party == PANEL else f.by_agency.get(party)
            good = (
                results.overall_good.proportion
                if results is not None and results.overall_good is not None
                else Proportion(0, 0, None, None, None)
            )
            points.append(Point(r.id, r.title, good))
        out.append(_series(party, name, points))
    return out


# --------------------------------------------------------------------------- exports

ANSWER_HEADER = (
    "Child",
    "Review reference",
    "Case type",
    "Answered by",
    "Agency's reference",
    "Status",
    "Section",
    "Question",
    "Answer",
    "Evidence or rationale",
    "Question id",
)


def answers_table(
    db: sqlite_utils.Database, review: review_data.Review
) -> tuple[list[str], list[list[Any]]]:
    """Lay out every answer the lead may read: agencies' and the panel's, one row each.

    As on the pages: an agency's answers once it has submitted or the child's panel is open
    (its drafts before then are the agency's alone); the panel's agreed answers.
    """
    rubric = review.rubric
    cases = {c["id"]: c for c in review_data.case_files(db, review.id)}
    refs = agency_audits.case_agencies(db, review.id)
    names = agency_data.names(db)
    opened = panels.states(db, review.id)
    rows: list[list[Any]] = []

    def add(case_id: str, who: str, reference: str, status: str, answers: Any) -> None:
        case = cases.get(case_id)
        if case is None:
            return
        for question in rubric.questions:
            answer = answers.get(question.id)
            if answer is None:
                continue
            section = rubric.section_of(question.id)
            rows.append(
                [
                    case["pseudonym"],
                    case["reference"],
                    _case_type(rubric, case["case_type"]),
                    who,
                    reference,
                    status,
                    section.title,
                    " ".join(question.text.split()),
                    answer_label(question, rubric, answer),
                    answer.evidence,
                    question.id,
                ]
            )

    for audit in agency_audits.for_review(db, review.id):
        if not (audit.submitted or audit.case_id in opened):
            continue
        add(
            audit.case_id,
            names.get(audit.agency_id, audit.agency_id),
            refs.get(audit.case_id, {}).get(audit.agency_id, ""),
            "Submitted" if audit.submitted else "Not submitted (fixed when the panel opened)",
            audit.answers,
        )
    for panel in panels.for_review(db, review.id):
        add(
            panel.case_id,
            "Panel (agreed)",
            "",
            "Held" if panel.held else "Open, not yet held",
            panel.answers,
        )
    rows.sort(key=lambda r: (r[0], r[3] != "Panel (agreed)", r[3]))
    return list(ANSWER_HEADER), rows


ACTION_HEADER = ("Agency", "Child", "Action", "Due", "Status", "Progress notes")
LEARNING_HEADER = ("Child", "Learning", "Themes")


def actions_table(
    db: sqlite_utils.Database, review: review_data.Review
) -> tuple[list[str], list[list[Any]]]:
    """Lay out the agency actions, overdue first."""
    return list(ACTION_HEADER), [
        [
            a["agency_name"] or a["agency_id"],
            a["pseudonym"] or "",
            a["what"],
            date_cell(a["due_date"]),
            a["status_label"],
            a["note_count"],
        ]
        for a in panels.actions(db, review.id)
    ]


def learning_table(
    db: sqlite_utils.Database, review: review_data.Review
) -> tuple[list[str], list[list[Any]]]:
    """Lay out the learning the panels recorded, with its themes."""
    return list(LEARNING_HEADER), [
        [item["pseudonym"], item["text"], "; ".join(name for _id, name in item["themes"])]
        for item in panels.learning(db, review.id)
    ]


EXPORTS = {"answers": answers_table, "actions": actions_table, "learning": learning_table}


def export(
    db: sqlite_utils.Database, review: review_data.Review, what: str, fmt: str
) -> tuple[bytes, str]:
    """Return one export as CSV, or every table as one Excel workbook (``what`` "all")."""
    if fmt == "xlsx":
        sheets = [(name.capitalize(), *EXPORTS[name](db, review)) for name in EXPORTS]
        return (
            to_xlsx(sheets),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    header, rows = EXPORTS[what](db, review)
    return to_csv(header, rows), "text/csv; charset=utf-8"


def document(db: sqlite_utils.Database, review: review_data.Review) -> dict[str, Any]:
    """Return the partnership figures as the JSON a lead downloads (every count defined)."""
    f = figures(db, review)
    series = trend(db, review)
    return {
        "review": {"id": review.id, "title": review.title, "rubric": review.rubric_id},
        "figures": f.as_dict(),
        "trend": [s.as_dict() for s in series],
    }


def _case_type(rubric: Any, case_type: str) -> str:
    try:
        return str(rubric.case_type(case_type).label)
    except KeyError:
        return case_type
