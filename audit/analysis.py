"""Gather a review's numbers in one place: the aggregation, timeliness, moderation, agreement.

Glue between the data layer (which counts) and the domain modules (which judge): the
dashboard, the findings page, ``case-audit findings --json`` and the report all call these,
so they all show the same figures.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlite_utils
from markupsafe import Markup

from audit import agreement, findings, integrity, timeliness
from audit.data import audits, moderation, results, stamps
from audit.data import findings as finding_data
from audit.data import holidays as holidays_data
from audit.data import integrity as integrity_data
from audit.data.reviews import Review
from audit.findings import percent
from audit.moments import LOCAL
from audit.reporting import charts
from audit.stats import Proportion, wilson

# --------------------------------------------------------------------------- figures, once

# A review's figures are worked out once per change of its data and kept here, per process.
# The key holds the review's stamp and the instance-wide one (audit/data/stamps.py: triggers
# give a review a new random stamp on any write to its rows), the state of the review row the
# caller holds, and London's date (figures such as what is overdue move with the day).
# Values are shared between requests: callers only read them.
CACHE_ENTRIES = 256
_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_cache_lock = threading.Lock()
_T = TypeVar("_T")


@contextmanager
def _snapshot(db: sqlite_utils.Database) -> Iterator[None]:
    """Read in one transaction, so the stamp and every figure come from the same snapshot."""
    if db.conn.in_transaction:  # inside the caller's own transaction: it is the snapshot
        yield
        return
    db.conn.execute("BEGIN")
    try:
        yield
    finally:
        if db.conn.in_transaction:
            db.conn.execute("COMMIT")


def cached(db: sqlite_utils.Database, review: Review, part: str, compute: Callable[[], _T]) -> _T:
    """Return ``compute()`` for this review, worked out again only when its data has changed."""
    with _snapshot(db):
        place = db.execute("PRAGMA database_list").fetchone()[2]
        state = (review.rubric_hash, review.status, json.dumps(review.settings, sort_keys=True))
        key = (
            place,
            review.id,
            part,
            stamps.current(db, review.id),
            state,
            datetime.now(LOCAL).date(),
        )
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]  # type: ignore[no-any-return]
        value = compute()
    with _cache_lock:
        for old in [k for k in _cache if k[:3] == key[:3]]:
            del _cache[old]  # figures of this review from before its last change
        _cache[key] = value
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return value


def forget_cached() -> None:
    """Empty the cache (benchmarks time the first view after a change this way)."""
    with _cache_lock:
        _cache.clear()


@dataclass(frozen=True)
class DashboardFigures:
    """What the dashboard shows that takes counting, from one snapshot of the review."""

    agg: findings.Aggregation
    cases: list[dict[str, Any]]
    agreement: dict[str, Any]
    queue: list[dict[str, Any]]
    moderation: dict[str, Any]
    timeliness: list[TimelinessRow]
    data_errors: list[integrity.DataError]


def dashboard_figures(db: sqlite_utils.Database, review: Review) -> DashboardFigures:
    """Return the dashboard's counted figures, worked out once per change of the review's data."""

    def compute() -> DashboardFigures:
        return DashboardFigures(
            agg=aggregate(db, review),
            cases=audits.reviewer_cases(db, review.id),
            agreement=agreement_for(db, review),
            queue=moderation_queue(db, review),
            moderation=moderation_summary(db, review),
            timeliness=timeliness_rows(db, review),
            data_errors=data_errors(db, review),
        )

    return cached(db, review, "dashboard", compute)


def aggregate(db: sqlite_utils.Database, review: Review) -> findings.Aggregation:
    """Aggregate the review's submitted first audits, with moderated grades applied."""
    return cached(db, review, "aggregate", lambda: _aggregate(db, review)[0])


def _aggregate(db: sqlite_utils.Database, review: Review) -> tuple[findings.Aggregation, int]:
    """Aggregate through the rubric's screen; also return how many answers it left out."""
    rubric = review.rubric
    screen = integrity.Screen(rubric)
    sections = {q.id: rubric.section_of(q.id).id for q in rubric.questions}
    rows, left_out = screen.counts(results.answer_counts(db, review.id, sections))
    counted = screen.audits(results.counted_audits(db, review.id))
    rule_questions = findings.grade_questions_for_rule(rubric)
    grades = results.case_grades(db, review.id, rule_questions, sections) if rule_questions else {}
    case_answers = results.case_grades(
        db, review.id, findings.case_answer_questions(rubric), sections, not_applicable=True
    )
    agg = findings.aggregate(
        rubric,
        counted,
        rows,
        screen.grades(grades),
        critical=results.escalation_summary(db, review.id),
        # "na" marks a not-applicable answer here, kept beside the values that fit.
        case_answers={
            audit_id: {q: v for q, v in values.items() if v == "na" or screen.value_ok(q, v)}
            for audit_id, values in case_answers.items()
        },
    )
    return agg, left_out


def data_errors(db: sqlite_utils.Database, review: Review) -> list[integrity.DataError]:
    """Name every stored value of the review that its rubric does not allow (left out)."""
    screen = integrity.Screen(review.rubric)
    found = integrity_data.suspects(
        db,
        review.id,
        allowed={q: v for q, v in screen.allowed.items() if v},
        free_text=screen.free_text,
        case_types=screen.case_types,
    )
    return integrity.data_errors(screen, found)


@dataclass(frozen=True)
class TimelinessRow:
    """A timeliness measure beside the quality of the same cases."""

    result: timeliness.MeasureResult
    on_time: Proportion
    quality: Proportion

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able form (without per-case rows)."""
        data = self.result.as_dict()
        data.pop("cases", None)
        return {
            **data,
            "on_time_share": self.on_time.as_dict(),
            "quality_good_or_better": self.quality.as_dict(),
        }


def timeliness_rows(db: sqlite_utils.Database, review: Review) -> list[TimelinessRow]:
    """Judge each timeliness measure over the audited cases, beside those cases' quality."""
    rubric = review.rubric
    try:
        measures = timeliness.measures_for(rubric.timeliness, review.settings)
    except ValueError:
        measures = tuple(timeliness.Measure.from_rubric(m) for m in rubric.timeliness)
    holidays = timeliness.bank_holidays(
        [row["day"] for row in holidays_data.extra(db)],
        holidays_data.nation(db) or timeliness.DEFAULT_NATION,
    )
    cases = results.case_dates(db, review.id)
    overall_question = rubric.overall.question
    question_ids = (
        [overall_question] if overall_question else findings.grade_questions_for_rule(rubric)
    )
    sections = {q.id: rubric.section_of(q.id).id for q in rubric.questions}
    grades = integrity.Screen(rubric).grades(
        results.case_grades(db, review.id, question_ids, sections)
    )
    judged = {
        case["audit_id"]: rubric.overall.judge(grades.get(case["audit_id"], {}), rubric)
        for case in cases
    }
    rows = []
    for measure in measures:
        result = timeliness.evaluate(measure, cases, holidays)
        applicable_ids = {t.case_id for t in result.cases if t.status != "not_applicable"}
        levels = [
            judged[c["audit_id"]]
            for c in cases
            if c["id"] in applicable_ids and judged[c["audit_id"]] is not None
        ]
        rows.append(
            TimelinessRow(
                result=result,
                on_time=wilson(result.on_time, result.on_time + result.late),
                quality=wilson(sum(1 for lv in levels if rubric.scale.is_good(lv)), len(levels)),
            )
        )
    return rows


def moderation_summary(db: sqlite_utils.Database, review: Review) -> dict[str, Any]:
    """Return the moderation rate and how often grades moved, and in which direction."""
    raw = moderation.summary(db, review.id)
    scale = review.rubric.scale
    values = {level.id: level.value for level in scale.levels}
    up = down = other = 0
    for _question, before, after in raw["changes"]:
        if before in values and after in values:
            if values[after] > values[before]:
                up += 1
            elif values[after] < values[before]:
                down += 1
            else:
                other += 1
        else:
            other += 1
    return {
        "submitted": raw["submitted"],
        "moderated": raw["moderated"],
        "rate": wilson(raw["moderated"], raw["submitted"]).as_dict(),
        "grades_changed": len(raw["changes"]),
        "raised": up,
        "lowered": down,
        "other_changes": other,
    }


def moderation_queue(db: sqlite_utils.Database, review: Review) -> list[dict[str, Any]]:
    """Return submitted audits waiting for moderation, those that must be moderated first.

    Unmoderated audits wait, and so do moderated ones whose practitioner disputed a grade
    since: the flash after recording the dispute promises the lead sees it in moderation.
    """
    rubric = review.rubric
    adverse = []
    for q in rubric.critical_questions():
        if q.type == "yes_no" and q.adverse_answer:
            adverse.append((q.id, q.adverse_answer))
        adverse.extend((q.id, level) for level in q.adverse_levels)
    rows = moderation.queue(db, review.id, lowest_level=rubric.scale.lowest.id, adverse=adverse)
    required = bool(review.settings.get("require_moderation"))
    from audit.data import conversations

    disputed = conversations.disputed_audits(db, review.id)
    for row in rows:
        row["required"] = required and bool(row["flagged"]) and not row["moderated"]
        row["disputed"] = row["audit_id"] in disputed
    return rows


def agreement_for(db: sqlite_utils.Database, review: Review) -> dict[str, Any]:
    """Return the auditors' agreement for cases audited twice with both audits submitted."""
    screen = integrity.Screen(review.rubric)
    return agreement.agreement(review.rubric, screen.pairs(audits.paired_ratings(db, review.id)))


def moved(agg: findings.Aggregation, finding: finding_data.Finding) -> dict[str, Any] | None:
    """Return a curated finding's current numbers if they differ from those it was based on.

    Audits submitted, reopened or moderated after curation move the numbers; the finding
    is flagged for the lead and its wording is never rewritten.
    """
    if not finding.key or not finding.question_ids:
        return None
    try:
        now = findings.evidence_for(agg, finding.question_ids, finding.key)
    except KeyError:
        return None
    if any(now.get(k) != finding.evidence.get(k) for k in ("count", "n")):
        return now
    return None


def findings_document(
    db: sqlite_utils.Database, review: Review, viewer: Any = None, role: str | None = None
) -> dict[str, Any]:
    """Return the review's figures and findings as the JSON of ``case-audit findings``.

    ``viewer`` (and their ``role`` in the review) decides whose calibration grades are in it;
    the command line reads as ``policy.COMMAND_LINE``.
    """
    agg, left_out = _aggregate(db, review)
    agreed = agreement_for(db, review)
    rubric = review.rubric
    errors = data_errors(db, review)
    return {
        "format": "case-audit-findings",
        "format_version": 1,
        "review": {
            "id": review.id,
            "title": review.title,
            "host_organisation": review.host_organisation,
            "kind": review.kind,
            "status": review.status,
            "start_date": review.start_date,
            "end_date": review.end_date,
            "rubric": {"id": rubric.id, "version": rubric.version, "title": rubric.title},
        },
        "audited_cases": agg.audited,
        "headline": {
            "overall_judgement": agg.headline.as_dict(),
            "scale": [
                {
                    "id": lv.id,
                    "label": lv.label,
                    "value": lv.value,
                    "good_or_better": scale_good(rubric, lv.id),
                }
                for lv in rubric.scale.levels
            ],
        },
        "safeguarding": {
            "cases_not_adequately_safeguarded": agg.critical.get("cases", 0),
            "cases_audited": agg.audited,
            "definition": findings.SAFEGUARDING_DEFINITION,
            "alerts_raised": agg.critical.get("alerts", 0),
            "cases_with_alerts": agg.critical.get("alert_cases", 0),
            "alerts_recorded": agg.critical.get("recorded", 0),
            "alerts_definition": findings.ALERTS_DEFINITION,
            "sentences": findings.safeguarding_sentences(agg.critical),
        },
        "good_or_better_label": findings.threshold_label(rubric.scale),
        "sections": [
            {
                "id": s.section.id,
                "title": s.section.title,
                "basis": s.basis,
                "measure": findings.measure_words(s, rubric),
                **s.breakdown.as_dict(),
                **({"checks_met": s.answers.as_dict()} if s.answers is not None else {}),
            }
            for s in agg.sections
        ],
        "questions": [
            {
                "id": q.question.id,
                "section": q.section_id,
                "type": q.question.type,
                "text": q.question.text,
                **q.breakdown.as_dict(),
            }
            for q in agg.questions
            if q.question.type != "text"
        ],
        "timeliness": [row.as_dict() for row in timeliness_rows(db, review)],
        "moderation": moderation_summary(db, review),
        "agreement": {
            "cases_audited_twice": agreed["cases"],
            "overall": agreed["overall"].as_dict(),
            "sections": [item.as_dict() for item in agreed["sections"]],
            "questions": [item.as_dict() for item in agreed["questions"]],
        },
        "suggested_findings": [
            {
                "key": s.key,
                "kind": s.kind,
                "text": s.text,
                "question_ids": list(s.question_ids),
                "evidence": s.good.as_dict(),
            }
            for s in findings.suggest(agg)
        ],
        "curated_findings": [
            {
                "id": f.id,
                "kind": f.kind,
                "status": f.status,
                "origin": f.origin,
                "text": f.text,
                "position": f.position,
                "question_ids": list(f.question_ids),
                "evidence": dict(f.evidence),
                "numbers_moved": now,
                "flagged": now is not None,
            }
            for f in finding_data.for_review(db, review.id)
            if f.status == "accepted"
            for now in [moved(agg, f)]
        ],
        "executive_summary": review.executive_summary,
        "data_errors": {
            "answers_left_out": left_out,
            "problems": [error.as_dict() for error in errors],
        },
        "collaboration": {
            "collaborative": bool(review.settings.get("collaborative")),
            **collaboration_summary(db, review).as_dict(),
        },
        "calibration": calibration_document(db, review, viewer, role),
        "themes": theme_figures(db, review),
    }


def theme_figures(db: sqlite_utils.Database, review: Review) -> list[dict[str, Any]]:
    """Return each theme the review can use with what carries it, for the findings JSON.

    ``audits`` counts submitted first audits with a tagged evidence note or conversation,
    as the programme's theme page does; ``findings`` lists accepted findings' ids.
    """
    from audit.data import conversations
    from audit.data import themes as theme_data

    counted = set(conversations.counted_audits(db, review.id))
    accepted = {f.id for f in finding_data.for_review(db, review.id) if f.status == "accepted"}
    tags = theme_data.review_tags(db, review.id)
    out = []
    for theme in theme_data.in_bundle(db, review.id):
        mine = [t for t in tags if t["theme_id"] == theme.id]
        out.append(
            {
                "id": theme.id,
                "name": theme.name,
                "description": theme.description,
                "retired": theme.retired,
                "evidence_notes": sum(1 for t in mine if t["kind"] == "evidence"),
                "conversations": sum(1 for t in mine if t["kind"] == "conversation"),
                "audits": len({t["audit_id"] for t in mine if t["audit_id"] in counted}),
                "findings": sorted(t["finding_id"] for t in mine if t["finding_id"] in accepted),
            }
        )
    return out


def collaboration_summary(db: sqlite_utils.Database, review: Review) -> Any:
    """Return how far the review's counted audits were done with the practitioner and family."""
    from audit import collaboration
    from audit.data import conversations

    talks, heard = conversations.for_review(db, review.id)
    return collaboration.summarise(conversations.counted_audits(db, review.id), talks, heard)


def calibration_shown(
    db: sqlite_utils.Database, review: Review, viewer: Any, role: str | None
) -> list[Any]:
    """Return the review's calibration exercises as ``viewer`` may see them in a download."""
    from audit import calibration, policy
    from audit.data import calibration as calibration_data

    viewer = policy.COMMAND_LINE if viewer is None else viewer
    out = []
    for exercise in reversed(calibration_data.for_review(db, review.id)):
        me = exercise.participant(viewer.id)
        shown = policy.calibration_grades_shown(viewer, role, me is not None, exercise.results_open)
        if shown == "all":
            people = [(p.user_id, p.display_name) for p in exercise.participants]
            grades = calibration_data.grades(db, exercise.id)
            agreed = calibration_data.agreed(db, exercise.id)
        elif shown == "own" and me is not None:
            people = [(me.user_id, me.display_name)]
            grades = calibration_data.grades(db, exercise.id, user_id=me.user_id)
            agreed = {}
        else:
            people, grades, agreed = [], {}, {}
        out.append(
            calibration.Shown(
                exercise_id=exercise.id,
                title=exercise.title,
                created_at=exercise.created_at,
                results_opened_at=exercise.results_opened_at,
                cases=tuple(case["pseudonym"] for case in exercise.cases),
                participants=tuple((p.display_name, p.submitted_at) for p in exercise.participants),
                shown=shown,
                shown_ids=tuple(user_id for user_id, _name in people),
                results=calibration.results(review.rubric, exercise.cases, people, grades, agreed),
                grades=grades,
            )
        )
    return out


def calibration_document(
    db: sqlite_utils.Database, review: Review, viewer: Any, role: str | None
) -> dict[str, Any]:
    """Return the findings JSON's calibration part: exercises, grades as far as ``viewer`` may."""
    from audit import calibration

    levels = calibration.answer_labels(review.rubric)
    return {
        "exercises": [
            calibration.shown_as_dict(item, levels)
            for item in calibration_shown(db, review, viewer, role)
        ]
    }


def family_quote_choices(db: sqlite_utils.Database, review: Review) -> list[dict[str, Any]]:
    """Return what families said on counted audits, with the case, for the lead to choose from."""
    from audit.data import conversations

    counted = set(conversations.counted_audits(db, review.id))
    cases = {row["audit_id"]: row["pseudonym"] for row in conversations.export_rows(db, review.id)}
    _talks, heard = conversations.for_review(db, review.id)
    return sorted(
        (
            {"audit_id": f.audit_id, "pseudonym": cases.get(f.audit_id, ""), "feedback": f}
            for f in heard
            if f.audit_id in counted and f.consent and f.family_said
        ),
        key=lambda item: (item["pseudonym"], item["audit_id"]),
    )


def scale_good(rubric: Any, level_id: str) -> bool:
    """Tell whether a level counts as good or better (for JSON readers)."""
    return rubric.scale.is_good(level_id)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


CALIBRATION_SHEETS = {
    "calibration-exercises": "Calibration exercises",
    "calibration-questions": "Calibration questions",
    "calibration-grades": "Calibration grades",
}


def spreadsheet(
    db: sqlite_utils.Database,
    review: Review,
    fmt: str,
    what: str = "answers",
    viewer: tuple[Any, str | None] = (None, None),
) -> tuple[bytes, str]:
    """Build an export and its media type: XLSX (every table) or one CSV table.

    ``viewer`` is (user, role in the review): whose calibration grades the export may hold.
    """
    from audit.data import conversations
    from audit.data import exports as export_data
    from audit.reporting import exports

    answers = exports.answers_table(review.rubric, export_data.answer_rows(db, review.id))
    found = exports.findings_table(
        export_data.finding_rows(db, review.id), findings.threshold_label(review.rubric.scale)
    )
    audit_rows = conversations.export_rows(db, review.id)
    talks, heard = conversations.for_review(db, review.id)
    talked = exports.conversations_table(review.rubric, audit_rows, talks)
    family = exports.family_table(audit_rows, heard)
    calibrated = exports.calibration_tables(review.rubric, calibration_shown(db, review, *viewer))
    themed = exports.themes_table(review.rubric, export_data.theme_rows(db, review.id))
    if fmt == "xlsx":
        sheets = [("Answers", *answers), ("Findings", *found)]
        sheets += [("Conversations", *talked), ("Family feedback", *family)]
        sheets += [(CALIBRATION_SHEETS[key], *table) for key, table in calibrated.items()]
        sheets += [("Themes", *themed)]
        return exports.to_xlsx(sheets), XLSX
    tables = {
        "answers": answers,
        "findings": found,
        "conversations": talked,
        "family-feedback": family,
        **calibrated,
        "themes": themed,
    }
    header, rows = tables[what]
    return exports.to_csv(header, rows), "text/csv; charset=utf-8"


ACTION_PLAN_HEADER = [
    "Area for development",
    "Action",
    "Owner",
    "Due date",
    "Status",
    "Overdue",
    "Progress notes",
    "Last progress",
    "action_id",
]


def action_plan_table(db: sqlite_utils.Database, review: Review) -> tuple[list[str], list[list]]:
    """Return the action plan as a table: one row per action, its notes joined, overdue first."""
    from audit import moments
    from audit.data import actions
    from audit.reporting.exports import date_cell

    rows = []
    for item in actions.for_review(db, review.id):
        notes = actions.notes(db, item["id"])
        rows.append(
            [
                item["finding_text"] or "",
                item["what"],
                item["owner"],
                date_cell(item["due_date"]),
                item["status_label"],
                "Yes" if item["overdue"] else "No",
                "\n".join(f"{moments.shown(n['noted_on'])}: {n['note']}" for n in reversed(notes)),
                date_cell(item["last_note"]),
                item["id"],
            ]
        )
    return ACTION_PLAN_HEADER, rows


def action_plan_file(db: sqlite_utils.Database, review: Review, fmt: str) -> tuple[bytes, str]:
    """Build the action plan as XLSX or CSV (formula-safe, like every export)."""
    from audit.reporting import exports

    header, rows = action_plan_table(db, review)
    if fmt == "xlsx":
        return exports.to_xlsx([("Action plan", header, rows)]), XLSX
    return exports.to_csv(header, rows), "text/csv; charset=utf-8"


# --- charts the dashboard and the report share


def _bar(
    label: str, distribution: findings.Distribution, values: list[tuple[str, str]], threshold: str
) -> Any:
    good = distribution.good
    note = f"n={distribution.answered}"
    if good.share is not None:
        note += f", {percent(good.share)} {threshold.lower()}"
    return charts.Bar(
        label=label,
        segments=tuple(
            charts.Segment(key, text, distribution.counts.get(key, 0)) for key, text in values
        ),
        note=note,
    )


def section_charts(agg: findings.Aggregation, chart_id: str) -> dict[str, Markup]:
    """Draw the per-section grade distributions (the same code the PDF report uses)."""
    levels = [(level.id, level.label) for level in agg.rubric.scale.levels]
    threshold = findings.threshold_label(agg.rubric.scale)
    graded = [s for s in agg.sections if s.basis == "grade"]
    bars = [_bar(s.section.title, s.breakdown.whole, levels, threshold) for s in graded]
    headline = [_bar("All audited cases", agg.headline.whole, levels, threshold)] + [
        _bar(agg.rubric.case_type(ct).label, d, levels, threshold)
        for ct, d in agg.headline.by_case_type.items()
    ]
    good = agg.rubric.scale.good_or_better
    return {
        "headline_chart": charts.stacked_bars(
            headline,
            title="Overall judgement by case type",
            levels=levels,
            chart_id=f"{chart_id}-headline",
            good_keys=good,
            unit="cases",
        ),
        "headline_table": charts.bar_table(
            headline,
            caption="Overall judgement by case type",
            levels=levels,
            good_keys=good,
            row_header="Case type",
        ),
        "sections_chart": charts.stacked_bars(
            bars,
            title="Grades by section",
            levels=levels,
            chart_id=f"{chart_id}-sections",
            good_keys=good,
            unit="cases",
        ),
        "sections_table": charts.bar_table(
            bars, caption="Grades by section", levels=levels, good_keys=good
        ),
    }


def programme_themes(db: sqlite_utils.Database, programme_id: str) -> list[Any]:
    """Return the programme's theme page: per theme, counts per review, actions, questions."""
    from audit import themes, trends
    from audit.data import actions, programmes
    from audit.data import reviews as review_data
    from audit.data import themes as theme_data

    reviews = [review_data.get(db, rid) for rid in programmes.review_ids(db, programme_id)]
    trend = trends.trend([(r.id, r.title, aggregate(db, r)) for r in reviews]) if reviews else None
    return themes.theme_page(
        theme_data.for_programme(db, programme_id),
        [(r.id, r.title) for r in reviews],
        theme_data.counts(db, programme_id),
        theme_data.submitted_audits(db, programme_id),
        theme_data.themed_questions(db, programme_id),
        theme_data.programme_finding_tags(db, programme_id),
        actions.for_programme(db, programme_id),
        trend,
        reviews[-1].rubric if reviews else None,
    )
