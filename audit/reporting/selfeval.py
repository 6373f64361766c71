"""The "what we know about our practice" pack: a programme's period, ready for self-evaluation.

For the reviews of a programme that started in a chosen period it gathers the trend with
its 95% intervals (``audit/trends.py``), the agreed strengths and areas for development,
the actions and what happened to them, and the re-audits of earlier cases. One HTML
document is rendered from it and turned into a PDF (WeasyPrint, as the findings report) or
a Word document (``audit/reporting/report_docx.py``), so both carry the same figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from audit import analysis, moments, scoring, trends
from audit.data import actions as action_data
from audit.data import audits as audit_data
from audit.data import findings as finding_data
from audit.data import programmes
from audit.data import reviews as review_data
from audit.reporting import charts, report, report_docx

if TYPE_CHECKING:  # a Flask app is passed in; the module itself needs no Flask
    from flask import Flask

FORMATS = ("pdf", "docx")


class PackError(ValueError):
    """The pack cannot be made as asked (bad period, unknown format, nothing in it)."""


@dataclass(frozen=True)
class Period:
    """The inclusive dates whose reviews (by start date) the pack covers."""

    start: date
    end: date

    @classmethod
    def parse(cls, start: str, end: str) -> Period:
        """Read two dates typed as 1/4/2026 (or ISO), naming the one that is wrong."""
        from audit.caselist import parse_date
        from audit.moments import day

        days = []
        for name, text in (("from", start), ("to", end)):
            parsed = parse_date(text)
            if parsed is None:
                raise PackError(f"the {name} date must be a date like 1/4/2026, not {text!r}")
            days.append(parsed)
        if days[0] > days[1]:
            raise PackError(
                f"the from date ({day(days[0])}) is after the to date ({day(days[1])})"
            )
        return cls(days[0], days[1])

    def covers(self, review: review_data.Review) -> bool:
        """Tell whether a review started (or, without a start date, was created) in the period."""
        when = review.start_date or review.created_at[:10]
        return self.start.isoformat() <= when[:10] <= self.end.isoformat()


def _reviews(
    db: sqlite_utils.Database, programme_id: str, period: Period
) -> list[review_data.Review]:
    ids = programmes.review_ids(db, programme_id)
    return [r for r in (review_data.get(db, rid) for rid in ids) if period.covers(r)]


def _pct(share: float | None) -> str:
    return "no answers" if share is None else f"{round(100 * share)}%"


def _point(good: Any) -> str:
    """Write a share with its interval and counts, e.g. '40% (95% interval 20% to 63%; 6 of 15)'."""
    if good.share is None:
        return "no answers"
    interval = f"95% interval {_pct(good.low)} to {_pct(good.high)}"
    return f"{_pct(good.share)} ({interval}; {good.count} of {good.n})"


def short_titles(titles: list[str]) -> list[str]:
    """Return the reviews' titles without the words they all start with, for table columns.

    "Monthly practice audit, August 2026" and "..., September 2026" become "August 2026" and
    "September 2026"; titles with nothing in common (or one review) are kept whole.
    """
    if len(titles) < 2:
        return list(titles)
    words = [t.split() for t in titles]
    common = 0
    while all(len(w) > common + 1 for w in words) and len({w[common] for w in words}) == 1:
        common += 1
    if not common:
        return list(titles)
    return [
        " ".join(w[common:]).strip(" ,:;-\u2013\u2014") or t
        for w, t in zip(words, titles, strict=True)
    ]


def _changes(lines: list[Any], reviews: list[review_data.Review]) -> dict[str, Any]:
    """Gather every change between consecutive reviews into one table, line by review pair.

    A cell is the change in points with its 95% interval; only a real rise or fall says so,
    since the rest could be noise (said once, above the table, not in every cell).
    """
    short = dict(
        zip([r.id for r in reviews], short_titles([r.title for r in reviews]), strict=True)
    )
    pairs = [(a.id, b.id) for a, b in pairwise(reviews)]
    rows = []
    real = computed = 0
    for line in lines:
        by_pair = {(c.from_review, c.to_review): c for c in line.changes}
        cells = []
        for pair in pairs:
            change = by_pair.get(pair)
            amount = change.amount() if change is not None else None
            verdict = change.verdict if change is not None else None
            if amount is not None:
                computed += 1
                real += verdict != "could be noise"
            cells.append(
                {
                    "amount": amount or "not computable",
                    "real": verdict if verdict not in (None, "could be noise") else "",
                }
            )
        rows.append({"label": line.label, "cells": cells})
    return {
        "columns": [f"{short[a]} to {short[b]}" for a, b in pairs],
        "rows": rows,
        "real": real,
        "computed": computed,
        "not_computed": len(lines) * len(pairs) - computed,
    }


def _trend(db: sqlite_utils.Database, reviews: list[review_data.Review]) -> dict[str, Any] | None:
    """Return the trend lines as rows, the overall chart, and the changes in one table."""
    if not reviews:
        return None
    labels = short_titles([r.title for r in reviews])
    result = trends.trend(
        [(r.id, label, analysis.aggregate(db, r)) for r, label in zip(reviews, labels, strict=True)]
    )
    overall = result["overall"]
    svg = charts.proportion_chart(
        [(p.label, p.good.share, p.good.low, p.good.high) for p in overall.points],
        title="Cases good or better overall, by review",
        chart_id="pack-trend",
    )
    lines = [overall, *result["sections"]]
    return {
        "figure": report._figure(
            str(svg), None, "Each dot is a review; the line is its 95% interval."
        ),
        "labels": labels,
        "rows": [
            {"label": line.label, "cells": [_point(p.good) for p in line.points]} for line in lines
        ],
        "changes": _changes(lines, reviews) if len(reviews) > 1 else None,
        "titles": {r.id: r.title for r in reviews},
    }


def _themes(db: sqlite_utils.Database, reviews: list[review_data.Review]) -> list[dict[str, Any]]:
    """Return each review's accepted strengths and areas for development, in the lead's order."""
    out = []
    for review in reviews:
        accepted = [f for f in finding_data.for_review(db, review.id) if f.status == "accepted"]
        out.append(
            {
                "review": review.title,
                "strengths": [f.text for f in accepted if f.kind == "strength"],
                "developments": [f.text for f in accepted if f.kind == "development"],
            }
        )
    return out


def _grade(rubric: Any, audit: Any) -> str:
    """Return the audit's overall judgement as the rubric words it."""
    value = audit.answers.get(rubric.overall.question, scoring.Answer()).effective
    if not value or value == scoring.NOT_APPLICABLE:
        return "Not graded"
    try:
        return str(rubric.scale.level(value).label)
    except LookupError:
        return str(value)


def _re_audits(
    db: sqlite_utils.Database, programme_id: str, reviews: list[review_data.Review]
) -> list[dict[str, Any]]:
    """Return each re-audit in the period: overall judgement before and after, answers changed."""
    chosen = {r.id: r for r in reviews}
    rows = []
    for pair in programmes.re_audits(db, programme_id):
        review = chosen.get(pair["review_id"])
        if review is None:
            continue
        later = audit_data.get(db, pair["audit_id"])
        earlier = audit_data.get(db, pair["earlier_audit_id"])
        rubric = review.rubric
        changed = sum(
            1
            for q in rubric.questions
            if earlier.answers.get(q.id, scoring.Answer()).effective
            != later.answers.get(q.id, scoring.Answer()).effective
        )
        rows.append(
            {
                "case": pair["pseudonym"],
                "earlier": pair["earlier_review_title"],
                "later": pair["review_title"],
                "before": _grade(rubric, earlier),
                "after": _grade(rubric, later),
                "changed": changed,
            }
        )
    return rows


def pack_context(
    app: Flask, db: sqlite_utils.Database, programme_id: str, period: Period
) -> dict[str, Any]:
    """Gather everything the pack shows for the programme's reviews in the period."""
    programme = programmes.get(db, programme_id)
    reviews = _reviews(db, programme_id, period)
    ids = {r.id for r in reviews}
    acted = [
        {**a, "due": moments.day(a["due_date"])}
        for a in action_data.for_programme(db, programme_id)
        if a["review_id"] in ids
    ]
    return {
        "programme": programme,
        "period": period,
        "period_words": f"{moments.day(period.start)} to {moments.day(period.end)}",
        "reviews": reviews,
        "started": {r.id: moments.day(r.start_date) for r in reviews},
        "trend": _trend(db, reviews),
        "themes": _themes(db, reviews),
        "actions": acted,
        "action_counts": {
            "total": len(acted),
            "done": sum(1 for a in acted if a["status"] not in action_data.OPEN),
            "overdue": sum(1 for a in acted if a["overdue"]),
        },
        "re_audits": _re_audits(db, programme_id, reviews),
        "marking": report.marking_for(app, "internal"),
        "service_name": app.config["SERVICE_NAME"],
        "generated": report.produced_words(datetime.now(UTC)),
    }


def build_html(app: Flask, db: sqlite_utils.Database, programme_id: str, period: Period) -> str:
    """Render the pack as one HTML document."""
    context = pack_context(app, db, programme_id, period)
    with app.app_context():
        return app.jinja_env.get_template("selfeval/pack.html").render(**context)


def title(db: sqlite_utils.Database, programme_id: str, period: Period) -> str:
    """Return the pack's document title."""
    name = programmes.get(db, programme_id)["title"]
    return f"{name}: what we know about our practice, {period.start} to {period.end}"


def filename(db: sqlite_utils.Database, programme_id: str, period: Period, fmt: str) -> str:
    """Return a safe download name for the pack."""
    name = programmes.get(db, programme_id)["title"]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-") or "programme"
    return f"{slug}-self-evaluation-{period.start}-to-{period.end}.{fmt}"


def build(
    app: Flask, db: sqlite_utils.Database, programme_id: str, period: Period, fmt: str
) -> bytes:
    """Return the pack as PDF or DOCX bytes."""
    if fmt not in FORMATS:
        raise PackError(f"the pack is written as .pdf or .docx, not .{fmt}")
    html = build_html(app, db, programme_id, period)
    name = title(db, programme_id, period)
    author = str(app.config["SERVICE_NAME"])
    if fmt == "docx":
        return report_docx.html_to_docx(html, title=name, author=author)
    return report.render_pdf(html, title=name, author=author)


def write(
    app: Flask, db: sqlite_utils.Database, programme_id: str, period: Period, path: Path
) -> int:
    """Write the pack to ``path`` (format from its ending), whole or not at all; return its size."""
    data = build(app, db, programme_id, period, path.suffix.lower().lstrip("."))
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return len(data)
