"""The partnership report of a multi-agency audit (PDF and Word), a chapter per agency.

Built like the findings report (:mod:`audit.reporting.report`): one HTML document from
``templates/partnership/report/``, rendered to PDF by the same allow-listing WeasyPrint
renderer and to Word by the same converter, so both carry the same figures. Every figure
comes from :func:`audit.partnership.analysis.figures` and every number is printed through a
view: :class:`audit.partnership.figures.InternalView` for the internal version (every count
as it is) or :class:`audit.partnership.public.PublicView` for the public one (the
partnership's disclosure model, protected at the review's threshold). The chapters never
format a count themselves, and are the same for both versions; what the public version
leaves out by design is listed in :data:`audit.partnership.public.LEFT_OUT_BY_DESIGN`.
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
from audit.partnership import analysis, public
from audit.partnership.figures import InternalView, PartnershipFigures, steps_words
from audit.partnership.public import PublicView
from audit.reporting import disclosure
from audit.reporting import report as findings_report
from audit.rubric import PANEL

AUDIENCES = ("internal", "public")
View = InternalView | PublicView


def check_audience(audience: str) -> None:
    """Refuse an audience the partnership report does not have."""
    if audience not in AUDIENCES:
        raise findings_report.ReportError(f"There is no {audience!r} version of the report.")


# --------------------------------------------------------------------------- chapters

Chapter = Callable[[dict[str, Any], PartnershipFigures, View], dict[str, Any]]


def cover_chapter(facts: dict[str, Any], f: PartnershipFigures, view: View) -> dict[str, Any]:
    """The cover: the audit, its dates, agencies and lead."""
    review = facts["review"]
    return {
        "dates": {"start": moments.day(review.start_date), "end": moments.day(review.end_date)},
        "agency_names": [name for _id, name in f.agencies],
        "leads": facts["leads"],
        "generated": findings_report.produced_words(facts["now"]),
        "draft": review.status not in ("complete", "closed"),
    }


def method_chapter(facts: dict[str, Any], f: PartnershipFigures, view: View) -> dict[str, Any]:
    """How the audit was done: children, agencies, panels, the tool."""
    children = view.words("children", "child", "children")
    held = view.words(f"{PANEL}/children", "child", "children")
    still = view.words("panels/open")
    return {
        "children_chosen": (
            f"{children[:1].upper()}{children[1:]} known to several agencies"
            f" {'was' if view.one('children') else 'were'} chosen for the audit."
        ),
        "panels_sentence": (
            f"Audit discussions were held for {held}; {still} more"
            f" {'is' if view.one('panels/open') else 'are'} open."
        ),
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


def _children(view: View, key: str, what: str, zero: str) -> str:
    """Word "N children <what>" through the view: "no child", "1 child", "fewer than 5"."""
    if view.zero(key):
        return zero
    return f"{view.words(key, 'child', 'children')} {what}"


def safety_chapter(facts: dict[str, Any], f: PartnershipFigures, view: View) -> dict[str, Any]:
    """Children found not adequately safeguarded, and the alerts: worded once, from counts."""
    held = view.words(f"{PANEL}/children", "audit discussion", "audit discussions")
    panel_key = "safety/panel/not_safe"
    sentences = []
    if view.zero(panel_key):
        sentences.append(
            f"At the {held} held, the panel agreed no child was left not adequately safeguarded."
        )
    else:
        sentences.append(
            f"At the {held} held, the panel agreed "
            + view.words(panel_key, "child", "children")
            + f" {'was' if view.one(panel_key) else 'were'} not adequately safeguarded"
            " (each child counted once)."
        )
    anyone = "safety/any_agency/not_safe"
    found = "no child" if view.zero(anyone) else view.words(anyone, "child", "children")
    sentences.append(
        f"In their own audits, the agencies found {found} not adequately safeguarded (a child"
        " counted once however many agencies said so)."
    )
    if view.zero("alerts/raised"):
        sentences.append("No safeguarding alert was raised.")
    else:
        raised = view.words("alerts/raised", "safeguarding alert", "safeguarding alerts")
        about = (
            "" if view.public else f", about {view.words('alerts/children', 'child', 'children')}"
        )
        sentences.append(
            f"{raised[:1].upper()}{raised[1:]}"
            f" {'was' if view.one('alerts/raised') else 'were'} raised{about};"
            f" the escalation and the action agreed are recorded for"
            f" {view.words('alerts/recorded')}."
        )
    return {"safety": " ".join(sentences)}


def _party(f: PartnershipFigures, view: View, party: str) -> dict[str, Any]:
    results = f.panel if party == PANEL else f.by_agency[party]
    return {
        "name": results.name,
        "left_out": view.left_out(public.party_group(party)),
        "children_words": view.words(results.children, "child", "children"),
        "overall_share": view.share(results.overall_good),
        "overall": [(label, view.count(key)) for label, key in results.overall],
        "sections": [
            {
                "title": s.section.title,
                "basis": s.basis,
                "cases": view.share(s.cases) if s.cases else "",
                "answers": view.share(s.answers) if s.answers and not view.public else "",
                "questions": []
                if view.public
                else [
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


def partnership_chapter(facts: dict[str, Any], f: PartnershipFigures, view: View) -> dict[str, Any]:
    """The panel's agreed judgements across the children: the partnership-wide findings."""
    return {"panel": _party(f, view, PANEL), "threshold": f.threshold}


def _comparisons(f: PartnershipFigures, view: View, agency_id: str) -> list[dict[str, Any]]:
    if view.public:  # left out by design: a handful of children per agency
        return []
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


def differences_chapter(facts: dict[str, Any], f: PartnershipFigures, view: View) -> dict[str, Any]:
    """How each agency's own grades compare with the panel's, and the agencies' answers pooled."""
    if view.public:
        return {"compared": [], "pooled": []}
    return {
        "compared": [
            {"name": name, "rows": _comparisons(f, view, agency_id)[:1]}
            for agency_id, name in f.agencies
        ],
        "pooled": [
            {"text": " ".join(q.text.split()), "share": view.share(share)} for q, share in f.pooled
        ],
    }


def learning_chapter(facts: dict[str, Any], f: PartnershipFigures, view: View) -> dict[str, Any]:
    """The learning the panels agreed, by theme (its words in the internal version only)."""
    return {
        "learning_sentence": (
            f"The panels recorded {view.words('learning/items', 'piece', 'pieces')} of learning."
        ),
        "themes_left_out": view.left_out(public.THEMES),
        "themes": [{"name": name, "children": view.count(key)} for _id, name, key in f.themes],
        "learning": [] if view.public else facts["learning"],
    }


def actions_chapter(facts: dict[str, Any], f: PartnershipFigures, view: View) -> dict[str, Any]:
    """The actions each agency owns (each action's words in the internal version only)."""
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
        "actions": [] if view.public else facts["actions"],
    }


def agency_chapters(facts: dict[str, Any], f: PartnershipFigures, view: View) -> dict[str, Any]:
    """A chapter per agency: its own audits, how they compare with the panel, its actions."""
    chapters = []
    for agency_id, name in f.agencies:
        party = _party(f, view, agency_id)
        submitted = view.words(f"{agency_id}/children", "audit", "audits")
        not_safe = _children(
            view, f"safety/{agency_id}/not_safe", "not adequately safeguarded", "no child"
        )
        if not_safe == "no child":
            not_safe = "no child not adequately safeguarded"
        party.update(
            id=agency_id,
            opening=(
                f"{name} knew {view.words(f'known/{agency_id}')} of the children and submitted"
                f" {submitted}. In its own audits it found {not_safe}."
            ),
            compared=_comparisons(f, view, agency_id),
            actions=[]
            if view.public
            else [a for a in facts["actions"] if a["agency_id"] == agency_id],
        )
        chapters.append(party)
    return {"agency_chapters": chapters}


def trend_chapter(facts: dict[str, Any], f: PartnershipFigures, view: View) -> dict[str, Any]:
    """The overall judgement across the programme's multi-agency audits (internal only)."""
    if view.public:
        return {"trend": []}
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


def appendix_chapter(facts: dict[str, Any], f: PartnershipFigures, view: View) -> dict[str, Any]:
    """The children one by one (internal only): agencies, when the panel was held, its overall."""
    return {"appendix": [] if view.public else facts["children"]}


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


def view_for(app: Flask, review: review_data.Review, f: PartnershipFigures, audience: str) -> View:
    """Return the view the audience reads: every count as is, or protected for the public."""
    check_audience(audience)
    if audience == "internal":
        return InternalView(f)
    return public.protected(f, findings_report.threshold_for(app, review))


def summary_paragraphs(review: review_data.Review) -> list[str]:
    """The lead's summary, split at blank lines."""
    return [p.strip() for p in re.split(r"\n\s*\n", review.executive_summary or "") if p.strip()]


def public_blockers(review: review_data.Review, view: View) -> list[findings_report.Blocker]:
    """Return the summary's phrases that would give a withheld count away in public.

    The summary is the lead's own words (the rest of the public version is written by the
    view): a count below the threshold, a withheld count's value, or a singular child while
    the count of children found not safeguarded is withheld would undo the protection.
    """
    if not isinstance(view, PublicView):
        return []
    shown = view.view
    shares = sorted(shown.shares_withheld())
    singular = any(
        shown.hidden(key)
        for key in ("safety/panel/not_safe", "safety/any_agency/not_safe", "alerts/raised")
    )
    out = []
    for paragraph in summary_paragraphs(review):
        phrases = shown.revealing(paragraph, shares=shares, singular=singular)
        if phrases:
            out.append(findings_report.Blocker("Summary", paragraph, tuple(phrases)))
    return out


def report_context(
    app: Flask,
    db: sqlite_utils.Database,
    review: review_data.Review,
    *,
    audience: str = "internal",
    figures: PartnershipFigures | None = None,
) -> dict[str, Any]:
    """Gather everything the partnership report shows for an audience, chapter by chapter."""
    f = figures or analysis.figures(db, review)
    view = view_for(app, review, f, audience)
    facts = _facts(db, review)
    context: dict[str, Any] = {}
    for chapter in CHAPTERS:
        context.update(chapter(facts, f, view))
    cost = view.view.cost() if isinstance(view, PublicView) else None
    protection = ""
    if isinstance(view, PublicView) and cost is not None:
        fact = view.view.fact
        protection = (
            f"Per agency an audit like this counts a handful of children, so this version"
            f" withholds {fact(cost.withheld, 'cost')} of the {fact(cost.printed, 'cost')}"
            f" counts it could print: {fact(cost.primary, 'cost')} below"
            f" {fact(view.view.threshold, 'threshold')} and {fact(cost.secondary, 'cost')} more"
            " so that those cannot be worked out."
        )
    context.update(
        review=review,
        audience=audience,
        public=view.public,
        view=view,
        cost=cost,
        protection=protection,
        threshold_n=view.view.threshold if isinstance(view, PublicView) else 0,
        min_values=(
            disclosure.needed_width(view.view.threshold) + 1 if isinstance(view, PublicView) else 0
        ),
        left_out_by_design=public.LEFT_OUT_BY_DESIGN if view.public else (),
        blockers=public_blockers(review, view),
        summary=summary_paragraphs(review),
        marking=findings_report.marking_for(app, audience),
        service_name=app.config["SERVICE_NAME"],
        title=pdf_title(review, audience),
        author=", ".join(facts["leads"]) or app.config["SERVICE_NAME"],
        percent=percent,
    )
    return context


def check_public(app: Flask, db: sqlite_utils.Database, review: review_data.Review) -> None:
    """Refuse the public version while the lead's summary gives a withheld count away."""
    f = analysis.figures(db, review)
    blockers = public_blockers(review, view_for(app, review, f, "public"))
    if blockers:
        raise findings_report.PublicBlocked(blockers)


def pdf_title(review: review_data.Review, audience: str = "internal") -> str:
    """The document's title."""
    return f"{review.title}: partnership report ({audience})"


def filename(
    review: review_data.Review, ext: str, on: date | None = None, audience: str = "internal"
) -> str:
    """A safe download name, e.g. ``neglect-audit-partnership-internal-2026-10-29.pdf``."""
    slug = re.sub(r"[^a-z0-9]+", "-", review.title.lower()).strip("-")[:60].strip("-")
    day = (on or datetime.now(UTC).date()).isoformat()
    return f"{slug or 'review'}-partnership-{audience}-{day}.{ext}"


def build_html(
    app: Flask,
    db: sqlite_utils.Database,
    review: review_data.Review,
    *,
    audience: str = "internal",
    standalone: bool = False,
    context: dict[str, Any] | None = None,
) -> str:
    """Render the whole partnership report as one HTML document (no request needed)."""
    context = context or report_context(app, db, review, audience=audience)
    stylesheet = None
    if standalone:
        stylesheet = (paths.STATIC_DIR / "css" / "report.css").read_text(encoding="utf-8")
    with app.app_context():
        template = app.jinja_env.get_template("partnership/report/report.html")
        return template.render(**context, inline_stylesheet=stylesheet, heading_offset=0)


def _issue(
    app: Flask, db: sqlite_utils.Database, review: review_data.Review, audience: str
) -> tuple[str, str, str]:
    """Return the HTML, title and author of a version that may be issued (public: checked)."""
    context = report_context(app, db, review, audience=audience)
    if context["blockers"]:
        raise findings_report.PublicBlocked(context["blockers"])
    html = build_html(app, db, review, context=context)
    author = ", ".join(
        m["display_name"] for m in review_data.members(db, review.id) if m["role"] == "lead"
    )
    return html, pdf_title(review, audience), author or str(app.config["SERVICE_NAME"])


def render_pdf(
    app: Flask, db: sqlite_utils.Database, review: review_data.Review, audience: str = "internal"
) -> bytes:
    """Return the partnership report as PDF bytes (the public version refused while the
    summary gives a withheld count away: :class:`audit.reporting.report.PublicBlocked`)."""
    html, title, author = _issue(app, db, review, audience)
    return findings_report.render_pdf(html, title=title, author=author)


def render_docx(
    app: Flask, db: sqlite_utils.Database, review: review_data.Review, audience: str = "internal"
) -> bytes:
    """Return the partnership report as a Word document, from the same HTML."""
    from audit.reporting.report_docx import html_to_docx

    html, title, author = _issue(app, db, review, audience)
    return html_to_docx(html, title=title, author=author)


def _case_type(review: review_data.Review, case_type: str) -> str:
    try:
        return str(review.rubric.case_type(case_type).label)
    except KeyError:
        return case_type
