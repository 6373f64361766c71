"""The internal partnership report of a multi-agency audit (PDF and Word), a chapter per agency.

Built like the findings report (:mod:`audit.reporting.report`): one HTML document from
``templates/partnership/report/``, rendered to PDF by the same allow-listing WeasyPrint
renderer and to Word by the same converter, so both carry the same figures. Every figure
comes from :func:`audit.partnership.analysis.figures` and every number is printed through a
view (:class:`audit.partnership.figures.InternalView`): the chapters never format a count
themselves.

Only the internal version exists. Per agency the numbers are small (five to ten children,
some known to two agencies), so a public version needs the new disclosure control first;
until then it is refused with :data:`PUBLIC_NOT_YET`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import sqlite_utils
from flask import Flask

from audit import moments, paths
from audit.data import agencies as agency_data
from audit.data import agency_audits, panels
from audit.data import reviews as review_data
from audit.findings import percent
from audit.partnership import analysis
from audit.partnership.figures import InternalView, PartnershipFigures, steps_words
from audit.reporting import report as findings_report
from audit.rubric import PANEL

PUBLIC_NOT_YET = (
    "A public version of the partnership report is not available yet: per agency the counts"
    " are small enough to identify a child, so it will come with the partnership's disclosure"
    " control. Share this internal report within the partnership only."
)


class PublicNotAvailable(findings_report.ReportError):
    """Only the internal partnership report can be made for now."""


def check_audience(audience: str) -> None:
    """Refuse anything but the internal version, saying why."""
    if audience != "internal":
        raise PublicNotAvailable(PUBLIC_NOT_YET)


# --------------------------------------------------------------------------- chapters

Chapter = Callable[[dict[str, Any], PartnershipFigures, InternalView], dict[str, Any]]


def cover_chapter(
    facts: dict[str, Any], f: PartnershipFigures, view: InternalView
) -> dict[str, Any]:
    """The cover: the audit, its dates, agencies and lead."""
    review = facts["review"]
    return {
        "dates": {"start": moments.day(review.start_date), "end": moments.day(review.end_date)},
        "agency_names": [name for _id, name in f.agencies],
        "leads": facts["leads"],
        "generated": moments.day(facts["now"]),
        "draft": review.status not in ("complete", "closed"),
    }


def method_chapter(
    facts: dict[str, Any], f: PartnershipFigures, view: InternalView
) -> dict[str, Any]:
    """How the audit was done: children, agencies, panels, the tool."""
    return {
        "children": view.count("children"),
        "panels_held": view.count(f"{PANEL}/children"),
        "panels_open": view.count("panels/open"),
        "participation": [
            {
                "name": name,
                "known": view.count(f"known/{agency_id}"),
                "submitted": view.count(f"{agency_id}/children"),
            }
            for agency_id, name in f.agencies
        ],
        "rubric": f.rubric,
    }


def safety_chapter(
    facts: dict[str, Any], f: PartnershipFigures, view: InternalView
) -> dict[str, Any]:
    """Children found not adequately safeguarded, and the alerts: worded once, from counts."""
    held = view.count(f"{PANEL}/children")
    panel = view.count("safety/panel/not_safe")
    anyone = view.count("safety/any_agency/not_safe")
    raised = view.count("alerts/raised")
    children = view.count("alerts/children")
    recorded = view.count("alerts/recorded")
    sentences = []
    if panel == "0":
        sentences.append(
            f"At the {held} audit discussions held, the panel agreed no child was left not"
            " adequately safeguarded."
        )
    else:
        sentences.append(
            f"At the {held} audit discussions held, the panel agreed {panel}"
            f" child{'ren were' if panel != '1' else ' was'} not adequately safeguarded"
            " (each child counted once)."
        )
    sentences.append(
        f"In their own audits, the agencies found {anyone}"
        f" child{'ren' if anyone != '1' else ''} not adequately safeguarded (a child counted"
        " once however many agencies said so)."
    )
    if raised == "0":
        sentences.append("No safeguarding alert was raised.")
    else:
        sentences.append(
            f"{raised} safeguarding alert{'s were' if raised != '1' else ' was'} raised, about"
            f" {children} child{'ren' if children != '1' else ''};"
            f" the escalation and the action agreed are recorded for {recorded}."
        )
    return {"safety": " ".join(sentences)}


def _party(f: PartnershipFigures, view: InternalView, party: str) -> dict[str, Any]:
    results = f.panel if party == PANEL else f.by_agency[party]
    return {
        "name": results.name,
        "children": view.count(results.children),
        "overall_share": view.share(results.overall_good),
        "overall": [(label, view.count(key)) for label, key in results.overall],
        "sections": [
            {
                "title": s.section.title,
                "basis": s.basis,
                "cases": view.share(s.cases) if s.cases else "",
                "answers": view.share(s.answers) if s.answers else "",
                "questions": [
                    {
                        "text": " ".join(q.question.text.split()),
                        "counts": [(label, view.count(key)) for label, key in q.values],
                        "na": view.count(q.not_applicable),
                        "good": view.share(q.good) if q.good else "",
                    }
                    for q in s.questions
                ],
            }
            for s in results.sections
        ],
    }


def partnership_chapter(
    facts: dict[str, Any], f: PartnershipFigures, view: InternalView
) -> dict[str, Any]:
    """The panel's agreed judgements across the children: the partnership-wide findings."""
    return {"panel": _party(f, view, PANEL), "threshold": f.threshold}


def _comparisons(f: PartnershipFigures, view: InternalView, agency_id: str) -> list[dict[str, Any]]:
    return [
        {
            "what": "All graded questions"
            if c.question is None
            else " ".join(c.question.text.split()),
            "pairs": view.count(c.pairs),
            "same": view.count(c.same),
            "higher": view.count(c.higher) if c.higher else "",
            "lower": view.count(c.lower) if c.lower else "",
            "steps": steps_words(c.mean_steps) if c.higher else "",
            "agreement": view.share(c.agreement),
        }
        for c in f.comparisons.get(agency_id, ())
    ]


def differences_chapter(
    facts: dict[str, Any], f: PartnershipFigures, view: InternalView
) -> dict[str, Any]:
    """How each agency's own grades compare with the panel's, and the agencies' answers pooled."""
    return {
        "compared": [
            {"name": name, "rows": _comparisons(f, view, agency_id)[:1]}
            for agency_id, name in f.agencies
        ],
        "pooled": [
            {"text": " ".join(q.text.split()), "share": view.share(share)} for q, share in f.pooled
        ],
    }


def learning_chapter(
    facts: dict[str, Any], f: PartnershipFigures, view: InternalView
) -> dict[str, Any]:
    """The learning the panels agreed, by theme."""
    return {
        "learning_items": view.count("learning/items"),
        "themes": [{"name": name, "children": view.count(key)} for _id, name, key in f.themes],
        "learning": facts["learning"],
    }


def actions_chapter(
    facts: dict[str, Any], f: PartnershipFigures, view: InternalView
) -> dict[str, Any]:
    """The actions each agency owns."""
    owners = sorted(
        {a["agency_id"] for a in facts["actions"]}, key=lambda a: facts["order"].get(a, 99)
    )
    names = facts["names"]
    return {
        "action_totals": [
            {
                "name": names.get(agency_id, agency_id),
                "all": view.count(f"actions/{agency_id}/all"),
                "open": view.count(f"actions/{agency_id}/open"),
                "overdue": view.count(f"actions/{agency_id}/overdue"),
                "done": view.count(f"actions/{agency_id}/done"),
            }
            for agency_id in owners
        ],
        "actions": facts["actions"],
    }


def agency_chapters(
    facts: dict[str, Any], f: PartnershipFigures, view: InternalView
) -> dict[str, Any]:
    """A chapter per agency: its own audits, how they compare with the panel, its actions."""
    chapters = []
    for agency_id, _name in f.agencies:
        party = _party(f, view, agency_id)
        party.update(
            id=agency_id,
            known=view.count(f"known/{agency_id}"),
            not_safe=view.count(f"safety/{agency_id}/not_safe"),
            compared=_comparisons(f, view, agency_id),
            actions=[a for a in facts["actions"] if a["agency_id"] == agency_id],
        )
        chapters.append(party)
    return {"agency_chapters": chapters}


def trend_chapter(
    facts: dict[str, Any], f: PartnershipFigures, view: InternalView
) -> dict[str, Any]:
    """The overall judgement across the programme's multi-agency audits, panel and agencies."""
    series = facts["trend"]
    return {
        "trend": [
            {
                "name": s.label,
                "points": [(p.label, view.share(p.good)) for p in s.points],
                "changes": [c.describe() for c in s.changes],
            }
            for s in series
        ]
    }


def appendix_chapter(
    facts: dict[str, Any], f: PartnershipFigures, view: InternalView
) -> dict[str, Any]:
    """The children one by one (internal only): agencies, when the panel was held, its overall."""
    return {"appendix": facts["children"]}


CHAPTERS: tuple[Chapter, ...] = (
    cover_chapter,
    method_chapter,
    safety_chapter,
    partnership_chapter,
    differences_chapter,
    learning_chapter,
    actions_chapter,
    agency_chapters,
    trend_chapter,
    appendix_chapter,
)


# --------------------------------------------------------------------------- assembling


def _facts(db: sqlite_utils.Database, review: review_data.Review) -> dict[str, Any]:
    """What the chapters show besides counts: who, the learning's words, the actions."""
    agencies = agency_data.all_agencies(db)
    names = {a.id: a.name for a in agencies}
    known = agency_audits.case_agencies(db, review.id)
    opened = {p.case_id: p for p in panels.for_review(db, review.id)}
    overall_id = review.rubric.overall.question
    children = []
    for case in review_data.case_files(db, review.id):
        panel = opened.get(case["id"])
        level = ""
        if panel is not None and panel.held and overall_id:
            answer = panel.answers.get(overall_id)
            if answer is not None and answer.value:
                try:
                    level = review.rubric.scale.level(answer.value).label
                except KeyError:
                    level = ""
        children.append(
            {
                "pseudonym": case["pseudonym"],
                "case_type": _case_type(review, case["case_type"]),
                "agencies": [names.get(a, a) for a in known.get(case["id"], {})],
                "held_on": moments.day(panel.held_on) if panel is not None and panel.held else "",
                "overall": level,
            }
        )
    return {
        "review": review,
        "leads": [
            m["display_name"] for m in review_data.members(db, review.id) if m["role"] == "lead"
        ],
        "now": datetime.now(UTC),
        "names": names,
        "order": {a.id: i for i, a in enumerate(agencies)},
        "learning": panels.learning(db, review.id),
        "actions": [
            {**a, "due": moments.day(a["due_date"])} for a in panels.actions(db, review.id)
        ],
        "children": children,
        "trend": analysis.trend(db, review),
    }


def report_context(
    app: Flask,
    db: sqlite_utils.Database,
    review: review_data.Review,
    *,
    figures: PartnershipFigures | None = None,
) -> dict[str, Any]:
    """Gather everything the partnership report shows, chapter by chapter."""
    f = figures or analysis.figures(db, review)
    view = InternalView(f)
    facts = _facts(db, review)
    context: dict[str, Any] = {}
    for chapter in CHAPTERS:
        context.update(chapter(facts, f, view))
    summary = [p.strip() for p in re.split(r"\n\s*\n", review.executive_summary or "") if p.strip()]
    context.update(
        review=review,
        summary=summary,
        marking=findings_report.marking_for(app, "internal"),
        service_name=app.config["SERVICE_NAME"],
        title=pdf_title(review),
        author=", ".join(facts["leads"]) or app.config["SERVICE_NAME"],
        percent=percent,
    )
    return context


def pdf_title(review: review_data.Review) -> str:
    """The document's title."""
    return f"{review.title}: partnership report (internal)"


def filename(review: review_data.Review, ext: str, on: date | None = None) -> str:
    """A safe download name, e.g. ``neglect-audit-partnership-internal-2026-10-29.pdf``."""
    slug = re.sub(r"[^a-z0-9]+", "-", review.title.lower()).strip("-")[:60].strip("-")
    day = (on or datetime.now(UTC).date()).isoformat()
    return f"{slug or 'review'}-partnership-internal-{day}.{ext}"


def build_html(
    app: Flask, db: sqlite_utils.Database, review: review_data.Review, *, standalone: bool = False
) -> str:
    """Render the whole internal partnership report as one HTML document (no request needed)."""
    context = report_context(app, db, review)
    stylesheet = None
    if standalone:
        stylesheet = (paths.STATIC_DIR / "css" / "report.css").read_text(encoding="utf-8")
    with app.app_context():
        template = app.jinja_env.get_template("partnership/report/report.html")
        return template.render(**context, inline_stylesheet=stylesheet, heading_offset=0)


def render_pdf(app: Flask, db: sqlite_utils.Database, review: review_data.Review) -> bytes:
    """Return the internal partnership report as PDF bytes."""
    html = build_html(app, db, review)
    author = ", ".join(
        m["display_name"] for m in review_data.members(db, review.id) if m["role"] == "lead"
    )
    return findings_report.render_pdf(
        html, title=pdf_title(review), author=author or str(app.config["SERVICE_NAME"])
    )


def render_docx(app: Flask, db: sqlite_utils.Database, review: review_data.Review) -> bytes:
    """Return the internal partnership report as a Word document, from the same HTML."""
    from audit.reporting.report_docx import html_to_docx

    html = build_html(app, db, review)
    author = ", ".join(
        m["display_name"] for m in review_data.members(db, review.id) if m["role"] == "lead"
    )
    return html_to_docx(
        html, title=pdf_title(review), author=author or str(app.config["SERVICE_NAME"])
    )


def _case_type(review: review_data.Review, case_type: str) -> str:
    try:
        return str(review.rubric.case_type(case_type).label)
    except KeyError:
        return case_type
