"""The lead's view of the numbers: dashboard, findings curation, moderation, agreement."""

from __future__ import annotations

import random
import secrets
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from audit import analysis, findings, integrity, policy
from audit.analysis import section_charts
from audit.data import actions, audits, conversations, moderation
from audit.data import findings as finding_data
from audit.data import reviews as review_data
from audit.findings import percent
from audit.forms import (
    ActionForm,
    ActionPlanForm,
    FindingForm,
    SecondAuditForm,
    SummaryForm,
    at_most,
)
from audit.views import get_db, place, requires
from audit.widgets import FastRadioInput, FastTextArea, FastTextInput

bp = Blueprint("findings", __name__, url_prefix="/reviews/<review_id>")


def _levels() -> list[tuple[str, str]]:
    return [(level.id, level.label) for level in g.review.rubric.scale.levels]


def section_rows(agg: findings.Aggregation) -> list[dict[str, Any]]:
    """Return each countable section's share in cases, what it counts, and its checks met."""
    overall = agg.rubric.overall.question
    return [
        {"result": s, "measure": findings.measure_words(s, agg.rubric)}
        for s in agg.sections
        if s.basis != "none" and not (overall and s.section.grade_question == overall)
    ]


@bp.route("/dashboard")
@requires("review.manage")
def dashboard(review_id: str) -> str:
    """Show where the review stands: progress, alerts, moderation, the numbers so far."""
    db = get_db()
    review = g.review
    # Counted once per change of the review's data (analysis.dashboard_figures).
    figures = analysis.dashboard_figures(db, review)
    agg, cases, agreed = figures.agg, figures.cases, figures.agreement
    by_reviewer: dict[str, dict[str, int]] = {}
    for case in cases:
        name = case["assignee"] or "Not assigned"
        row = by_reviewer.setdefault(name, {"not_started": 0, "in_progress": 0, "submitted": 0})
        row[case["status"]] += 1
    return render_template(
        "findings/dashboard.html",
        review=review,
        agg=agg,
        data_errors=figures.data_errors
        if policy.allowed(g.user, "review.manage", g.review_role)
        else [],
        counts={
            s: sum(1 for c in cases if c["status"] == s)
            for s in ("not_started", "in_progress", "submitted")
        },
        total=len(cases),
        by_reviewer=by_reviewer,
        alerts=audits.escalations(db, review_id, open_only=True),
        queue=figures.queue,
        moderation=figures.moderation,
        timeliness=figures.timeliness,
        overall_agreement=agreed["overall"],
        plan=actions.for_review(db, review_id),
        twice=agreed["cases"],
        percent=percent,
        threshold=findings.threshold_label(review.rubric.scale),
        safeguarding=findings.safeguarding_sentences(agg.critical),
        section_rows=section_rows(agg),
        **section_charts(agg, "dashboard"),
    )


# --------------------------------------------------------------------------- findings


@bp.route("/findings")
@requires("review.manage")
def findings_page(review_id: str) -> str:
    """Curate strengths and areas for development from the suggestions and the lead's own."""
    db = get_db()
    review = g.review
    agg = analysis.aggregate(db, review)
    stored = finding_data.for_review(db, review_id)
    keys = {f.key for f in stored if f.key}
    pending = [s for s in findings.suggest(agg) if s.key not in keys]
    quotes = {s.key: _evidence(s.question_ids, s.kind == "strength") for s in pending}
    moved = {f.id: analysis.moved(agg, f) for f in stored}
    summary_form = SummaryForm(data={"summary": review.executive_summary})
    own_form = FindingForm()
    own_form.questions.choices = [
        SelectChoice("", "Not linked: from interviews, focus groups or observation")
    ] + [
        SelectChoice(q.id, " ".join(q.text.split()))
        for q in review.rubric.questions
        if q.type != "text"
    ]
    from audit.views import themes as theme_views

    plan: dict[str, list] = {}
    for item in actions.for_review(db, review_id):
        plan.setdefault(item["finding_id"], []).append(item)
    return render_template(
        "findings/findings.html",
        review=review,
        agg=agg,
        data_errors=analysis.data_errors(db, review),
        plan=plan,
        plan_form=ActionPlanForm(formdata=None),
        last_time=_last_time(review, stored, pending),
        pending=pending,
        quotes=quotes,
        accepted=[f for f in stored if f.status == "accepted"],
        rejected=[f for f in stored if f.status == "rejected"],
        moved=moved,
        collaboration=analysis.collaboration_summary(db, review),
        quote_choices=analysis.family_quote_choices(db, review),
        summary_form=summary_form,
        own_form=own_form,
        percent=percent,
        finding_themes=theme_views.finding_panels(review),
    )


def _last_time(review: Any, stored: list, pending: list) -> dict[str, Any] | None:
    """Return the previous review's areas for development and their actions, if any.

    Each is marked with today's findings on the same questions, so "did it work?" is one
    look.
    """
    from audit import programme

    db = get_db()
    previous = programme.previous_review(db, review)
    if previous is None:
        return None
    now = [(f.text, set(f.question_ids)) for f in stored if f.status == "accepted"]
    now += [(s.text, set(s.question_ids)) for s in pending]
    plan: dict[str, list] = {}
    for item in actions.for_review(db, previous.id):
        plan.setdefault(item["finding_id"], []).append(item)
    items = []
    for finding in finding_data.for_review(db, previous.id):
        if finding.status != "accepted" or finding.kind != "development":
            continue
        same = [text for text, ids in now if ids & set(finding.question_ids)]
        items.append({"finding": finding, "actions": plan.get(finding.id, []), "now": same})
    return {"review": previous, "items": items}


def _evidence(question_ids: tuple[str, ...], good: bool) -> dict[str, Any]:
    """Return short quotes and the audits behind a finding."""
    from audit.data import results

    db = get_db()
    rubric = g.review.rubric
    good_values = set(rubric.scale.good_or_better) | {"yes"}
    return {
        "quotes": results.evidence_quotes(
            db, g.review.id, question_ids, good=good, good_values=good_values
        ),
        "audits": results.audits_behind(db, g.review.id, question_ids),
    }


def _back(where: str | None = None) -> Response:
    """Back to the findings page, its result shown (and focused) at ``where``."""
    return redirect(place.at(url_for("findings.findings_page", review_id=g.review.id), where))


def _suggestion(key: str) -> findings.Suggestion:
    agg = analysis.aggregate(get_db(), g.review)
    for suggestion in findings.suggest(agg):
        if suggestion.key == key:
            return suggestion
    abort(404)


@bp.route("/findings/suggestion", methods=["POST"])
@requires("review.manage")
def suggestion_decide(review_id: str) -> Response:
    """Accept (perhaps reworded) or reject a suggested finding."""
    if not ActionForm().validate_on_submit():
        abort(400)
    suggestion = _suggestion(request.form.get("key", ""))
    decision = request.form.get("decision")
    if decision not in {"accept", "reject"}:
        abort(400)
    text = (request.form.get("text") or "").strip()[:2000]
    finding_data.add_from_suggestion(
        get_db(),
        review_id,
        suggestion,
        status="accepted" if decision == "accept" else "rejected",
        text=text,
        by=g.user.id,
    )
    heading = "Strengths" if suggestion.kind == "strength" else "Areas for development"
    flash(
        f"Finding accepted. It is now the last under {heading}."
        if decision == "accept"
        else "Suggestion rejected. It is under Rejected, at the foot of the page."
    )
    # The person goes on to the next suggestion: the result is shown there.
    return _back(place.form_place("suggested"))


@bp.route("/findings/<finding_id>/<change>", methods=["POST"])
@requires("review.manage")
def finding_change(review_id: str, finding_id: str, change: str) -> Response:
    """Reword, reorder, accept, reject or take the new numbers for a curated finding."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db()
    try:
        finding = finding_data.get(db, review_id, finding_id)
    except finding_data.FindingNotFound:
        abort(404)
    here = f"finding-{finding.id}"
    if change == "reword":
        text = (request.form.get("text") or "").strip()
        if not text:
            flash("A finding needs some words: nothing was changed.", "error")
            return _back(here)
        finding_data.reword(db, review_id, finding.id, text[:2000], by=g.user.id)
        flash("Finding reworded.")
    elif change in {"up", "down"}:
        finding_data.move(db, review_id, finding.id, -1 if change == "up" else 1, by=g.user.id)
        flash(f"Finding moved {change}.")
    elif change in {"accept", "reject"}:
        finding_data.set_status(
            db,
            review_id,
            finding.id,
            "accepted" if change == "accept" else "rejected",
            by=g.user.id,
        )
        if change == "reject":
            flash("Finding rejected. It is under Rejected, at the foot of the page.")
            return _back(place.form_place(finding.kind))
        flash("Finding accepted.")
    elif change == "renumber":
        now = analysis.moved(analysis.aggregate(db, g.review), finding)
        if now is not None:
            finding_data.refresh_evidence(db, review_id, finding.id, now, by=g.user.id)
            flash("The finding now uses the current numbers. Check its wording still holds.")
    else:
        abort(404)
    return _back(here)


@bp.route("/findings/merge", methods=["POST"])
@requires("review.manage")
def findings_merge(review_id: str) -> Response:
    """Merge two or more accepted findings of one kind into one."""
    if not ActionForm().validate_on_submit():
        abort(400)
    ids = request.form.getlist("finding")
    text = (request.form.get("text") or "").strip()
    db = get_db()
    try:
        parts = [finding_data.get(db, review_id, fid) for fid in ids]
    except finding_data.FindingNotFound:
        abort(404)
    if not text:
        text = " ".join(p.text for p in parts)
    agg = analysis.aggregate(db, g.review)
    question_ids = sorted({q for p in parts for q in p.question_ids})
    evidence = findings.evidence_for(agg, question_ids) if question_ids else {}
    kind = parts[0].kind if parts else None
    try:
        merged = finding_data.merge(db, review_id, ids, text[:4000], evidence, by=g.user.id)
    except ValueError as exc:
        flash(str(exc).capitalize() + ".", "error")
        return _back(kind)
    flash(f"Merged {len(ids)} findings into one.")
    return _back(f"finding-{merged}")


@bp.route("/findings/new", methods=["POST"])
@requires("review.manage")
def finding_new(review_id: str) -> Response:
    """Add the lead's own finding, linked to questions or from other evidence."""
    form = FindingForm()
    form.questions.choices = [SelectChoice("", "")] + [
        SelectChoice(q.id, q.id) for q in g.review.rubric.questions
    ]
    if form.validate_on_submit():
        question_ids = [form.questions.data] if form.questions.data else []
        evidence = {}
        if question_ids:
            agg = analysis.aggregate(get_db(), g.review)
            evidence = findings.evidence_for(agg, question_ids)
        added = finding_data.add_own(
            get_db(),
            review_id,
            kind=form.kind.data,
            text=form.text.data,
            question_ids=question_ids,
            evidence=evidence,
            by=g.user.id,
        )
        flash("Your finding was added.")
        return _back(f"finding-{added}")
    flash("Choose strength or area for development and write the finding.", "error")
    return _back("own")


@bp.route("/findings/summary", methods=["POST"])
@requires("review.manage")
def summary_save(review_id: str) -> Response:
    """Save the executive summary."""
    form = SummaryForm()
    if form.validate_on_submit():
        finding_data.set_executive_summary(
            get_db(), review_id, form.summary.data or "", by=g.user.id
        )
        flash("Executive summary saved.")
    return _back("executive-summary")


# --------------------------------------------------------------------------- moderation


def _moderation_form(rubric: Any, case_type: str, current: dict[str, str | None]) -> Any:
    """Build a moderation form: each graded question's grade, and a reason when changed."""
    from flask_wtf import FlaskForm

    attrs: dict[str, Any] = {
        "note": TextAreaField(
            "Moderation note",
            widget=FastTextArea(),
            description="For example, what you discussed with the reviewer.",
            validators=[Optional(), at_most("Moderation note", 5000)],
        )
    }
    choices = [SelectChoice(level.id, level.label) for level in rubric.scale.levels]
    for question in rubric.questions_for(case_type):
        if question.type != "grade":
            continue
        attrs[f"grade-{question.id}"] = RadioField(
            question.text,
            choices=choices,
            widget=FastRadioInput(),
            default=current.get(question.id),
            validators=[Optional()],
            invalid_choice_message=f"Choose a grade for “{question.text}” from the scale",
        )
        attrs[f"reason-{question.id}"] = StringField(
            "Reason for the change",
            widget=FastTextInput(),
            validators=[Optional(), at_most(f"Reason for the change to “{question.text}”", 1000)],
        )
    return type("ModerationForm", (FlaskForm,), attrs)


@bp.route("/audits/<audit_id>/moderate", methods=["GET", "POST"])
@requires("review.manage")
def moderate(review_id: str, audit_id: str) -> str | Response:
    """Agree with a submitted audit's grades, or change any with a reason."""
    db = get_db()
    try:
        audit = audits.get(db, audit_id, review_id=review_id)
    except audits.AuditNotFound:
        abort(404)
    if not audit.submitted:
        flash("Only a submitted audit can be moderated.", "error")
        return redirect(url_for("scoring.audit_page", review_id=review_id, audit_id=audit_id))
    case = review_data.case_file(db, audit.case_id, review_id)
    rubric = g.review.rubric
    problem = integrity.unknown_case_type(rubric, case["case_type"])
    if problem:
        abort(422, problem)
    moderated = moderation.current_values(db, audit.id)
    current = {q: a.value for q, a in audit.answers.items()} | moderated
    form_class = _moderation_form(rubric, case["case_type"], current)
    form = form_class()
    errors: list[dict[str, str]] = []
    graded = [q for q in rubric.questions_for(case["case_type"]) if q.type == "grade"]
    if form.validate_on_submit():
        changed = {}
        for question in graded:
            new = form[f"grade-{question.id}"].data
            if new and new != current.get(question.id):
                reason = (form[f"reason-{question.id}"].data or "").strip()
                if not reason:
                    message = f"Give a reason for changing “{question.text}”"
                    form[f"reason-{question.id}"].errors = [message]
                    errors.append({"text": message, "href": f"#reason-{question.id}"})
                changed[question.id] = (current.get(question.id), new, reason)
        if not errors:
            moderation.moderate(
                db, audit.id, review_id, changed=changed, note=form.note.data or "", by=g.user.id
            )
            flash(
                f"Moderation of {case['pseudonym']} saved: "
                + (f"{len(changed)} grade(s) changed." if changed else "grades agreed.")
            )
            # Back to the queue, the result shown above the next audit waiting.
            queue = url_for("findings.dashboard", review_id=review_id) + "#moderation-queue"
            return redirect(queue)
    return render_template(
        "findings/moderate.html",
        form=form,
        review=g.review,
        audit=audit,
        case=case,
        graded=graded,
        original={q: a.value for q, a in audit.answers.items()},
        history=moderation.for_audit(db, audit.id),
        conversation=conversations.conversation(db, audit.id),
        errors=errors,
        rubric=rubric,
    )


@bp.route("/moderation-setting", methods=["POST"])
@requires("review.manage")
def moderation_setting(review_id: str) -> Response:
    """Require moderation of every audit with a lowest grade or an adverse critical answer."""
    if ActionForm().validate_on_submit():
        required = request.form.get("require") == "yes"
        review_data.update_settings(
            get_db(), review_id, {"require_moderation": required}, by=g.user.id
        )
        flash(
            "Moderation is now required for audits with the lowest grade or an adverse "
            "critical answer."
            if required
            else "Moderation is no longer required."
        )
    return redirect(url_for("findings.dashboard", review_id=review_id) + "#moderation")


# --------------------------------------------------------------------------- agreement


@bp.route("/agreement")
@requires("review.manage")
def agreement_page(review_id: str) -> str:
    """Show how far the auditors agree, and the cases to talk through first."""
    db = get_db()
    form = SecondAuditForm()
    return render_template(
        "findings/agreement.html",
        review=g.review,
        result=analysis.agreement_for(db, g.review),
        cases=audits.reviewer_cases(db, review_id),
        form=form,
        rubric=g.review.rubric,
        second=[c for c in review_data.case_files(db, review_id) if c["second_audit"]],
    )


@bp.route("/second-audits", methods=["POST"])
@requires("review.manage")
def second_audits(review_id: str) -> Response:
    """Choose cases for an independent second audit, by hand or a random share."""
    form = SecondAuditForm()
    db = get_db()
    if not form.validate_on_submit():
        flash("Choose cases, or give a share between 1 and 100 percent.", "error")
        return redirect(url_for("findings.agreement_page", review_id=review_id))
    chosen = set(request.form.getlist("case"))
    all_cases = review_data.case_files(db, review_id)
    known = {c["id"] for c in all_cases}
    if not chosen <= known:
        abort(400)
    if form.share.data:
        seed = secrets.randbelow(2**31)
        eligible = sorted(c["id"] for c in all_cases if not c["second_audit"])
        count = max(1, round(len(all_cases) * form.share.data / 100))
        chosen |= set(random.Random(seed).sample(eligible, min(count, len(eligible))))
    try:
        added = audits.choose_second_audits(db, review_id, chosen, by=g.user.id)
    except ValueError as exc:
        flash(str(exc).capitalize() + ".", "error")
    else:
        flash(f"{added} case(s) chosen for an independent second audit.")
    return redirect(url_for("findings.agreement_page", review_id=review_id))


def may_see_both(user_id: int, audit: audits.CaseAudit) -> bool:
    """Tell whether a reviewer may read the other audit of a case they audited.

    Second audits are blind: neither auditor sees the other's until both are submitted.
    """
    db = get_db()
    mine = db.execute(
        "SELECT 1 FROM case_audit WHERE case_id = ? AND reviewer_id = ? AND id != ?"
        " AND purpose IN ('first', 'second')",
        [audit.case_id, user_id, audit.id],
    ).fetchone()
    return mine is not None and audits.both_submitted(db, audit.case_id)


def can_manage() -> bool:
    """Tell whether the signed-in user leads this review."""
    return policy.allowed(g.user, "review.manage", g.review_role)
