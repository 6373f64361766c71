"""Programmes of repeated reviews: trends over time, the next review, action plans."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from audit import analysis, caselist, findings, moments, programme, trends
from audit.data import actions, programmes
from audit.data import findings as finding_data
from audit.data import reviews as review_data
from audit.forms import ActionForm, ActionNoteForm, ActionPlanForm, NextReviewForm, ProgrammeForm
from audit.reporting import charts, report_docx, selfeval
from audit.views import get_db, requires
from audit.views.report import file_response

bp = Blueprint("programmes", __name__)


def _iso(text: str | None) -> str | None:
    parsed = caselist.parse_date(text or "")
    return parsed.isoformat() if parsed else None


def _programme_or_404(programme_id: str) -> dict[str, Any]:
    try:
        return programmes.get(get_db(), programme_id)
    except programmes.ProgrammeNotFound:
        abort(404)


@bp.route("/programmes")
@requires("programmes.manage")
def programme_list() -> str:
    """List the programmes of repeated reviews."""
    return render_template("programmes/list.html", programmes=programmes.all_programmes(get_db()))


@bp.route("/programmes/new", methods=["GET", "POST"])
@requires("programmes.manage")
def programme_new() -> str | Response:
    """Start a programme; its first review is created from the programme page."""
    form = ProgrammeForm()
    if form.validate_on_submit():
        programme_id = programmes.create(
            get_db(),
            title=form.title.data,
            kind=form.kind.data,
            description=form.description.data or "",
            by=g.user.id,
        )
        flash("Programme created. Add its first review, or move an existing review into it.")
        return redirect(url_for("programmes.programme_page", programme_id=programme_id))
    return render_template("programmes/new.html", form=form)


def trend_for(
    db: Any, programme_id: str, case_type: str | None = None, team: str | None = None
) -> dict[str, Any] | None:
    """Return the programme's trend over its reviews (None with fewer than one review)."""
    reviews = [review_data.get(db, rid) for rid in programmes.review_ids(db, programme_id)]
    if not reviews:
        return None
    series = [(r.id, r.title, analysis.aggregate(db, r)) for r in reviews]
    return trends.trend(series, case_type=case_type, team=team)


def _trend_chart(result: dict[str, Any], threshold: str) -> Any:
    overall = result["overall"]
    return charts.proportion_chart(
        [(p.label, p.good.share, p.good.low, p.good.high) for p in overall.points],
        title=f"Cases {threshold.lower()} overall, by review",
        chart_id="trend-overall",
    )


@bp.route("/programmes/<programme_id>")
@requires("programmes.manage")
def programme_page(programme_id: str) -> str:
    """Show the programme: its reviews, the trend with honest intervals, overdue actions."""
    db = get_db()
    item = _programme_or_404(programme_id)
    ids = programmes.review_ids(db, programme_id)
    reviews = [review_data.get(db, rid) for rid in ids]
    chosen = request.args.get("filter", "")
    case_type = chosen.removeprefix("case_type:") if chosen.startswith("case_type:") else None
    team = chosen.removeprefix("team:") if chosen.startswith("team:") else None
    result = trend_for(db, programme_id, case_type, team)
    case_types: dict[str, str] = {}
    teams: set[str] = set()
    for review in reviews:
        case_types.update({ct.id: ct.label for ct in review.rubric.case_types})
        teams.update(c["team"] for c in review_data.case_files(db, review.id) if c["team"])
    # The trend speaks the latest review's words, as it does for sections and questions.
    threshold = findings.threshold_label(reviews[-1].rubric.scale) if reviews else ""
    return render_template(
        "programmes/programme.html",
        programme=item,
        reviews=reviews,
        trend=result,
        threshold=threshold,
        chart=_trend_chart(result, threshold) if result else None,
        actions=actions.for_programme(db, programme_id),
        case_types=case_types,
        teams=sorted(teams),
        chosen=chosen,
        rubric_changed=len({(r.rubric_id, r.rubric_version) for r in reviews}) > 1,
    )


def _pack_defaults(programme_id: str) -> dict[str, str]:
    """Suggest the period from the first review's start to today, as a PDF."""
    db = get_db()
    starts = [
        r.start_date or r.created_at[:10]
        for r in (review_data.get(db, rid) for rid in programmes.review_ids(db, programme_id))
    ]
    today = moments.today().isoformat()
    return {
        "from": moments.shown(min(starts, default=today)),
        "to": moments.shown(max([today, *starts])),
        "format": "pdf",
    }


@bp.route("/programmes/<programme_id>/pack")
@requires("programmes.manage")
def pack(programme_id: str) -> str:
    """Choose the period and format of the programme's self-evaluation pack."""
    item = _programme_or_404(programme_id)
    return render_template(
        "programmes/pack.html", programme=item, values=_pack_defaults(programme_id), error=None
    )


@bp.route("/programmes/<programme_id>/pack/download")
@requires("programmes.manage")
def pack_download(programme_id: str) -> Response | str:
    """Download the pack for the period chosen, or show the form again naming the problem."""
    item = _programme_or_404(programme_id)
    values = {k: request.args.get(k, "") for k in ("from", "to", "format")}
    fmt = values["format"] if values["format"] in selfeval.FORMATS else ""
    try:
        period = selfeval.Period.parse(values["from"], values["to"])
        if not fmt:
            raise selfeval.PackError("Choose PDF or Word document")
    except selfeval.PackError as exc:
        message = str(exc)
        field = "to" if message.startswith("the to") else "from"
        if message.startswith("Choose"):
            field = "format-pdf"
        return render_template(
            "programmes/pack.html",
            programme=item,
            values={**values, "format": fmt or "pdf"},
            error=message[0].upper() + message[1:],
            error_field=field,
        )
    data = selfeval.build(current_app, get_db(), programme_id, period, fmt)
    mimetype = report_docx.DOCX_MIME if fmt == "docx" else "application/pdf"
    name = selfeval.filename(get_db(), programme_id, period, fmt)
    return file_response(data, name, mimetype)


@bp.route("/programmes/<programme_id>/next", methods=["GET", "POST"])
@requires("programmes.manage")
def next_review(programme_id: str) -> str | Response:
    """Start the programme's next review from the last one's set-up, in one step."""
    db = get_db()
    item = _programme_or_404(programme_id)
    ids = programmes.review_ids(db, programme_id)
    if not ids:
        flash("This programme has no review yet: create one and choose this programme.", "error")
        return redirect(url_for("programmes.programme_page", programme_id=programme_id))
    previous = review_data.get(db, ids[-1])
    library = current_app.extensions["rubric_library"]
    choices = {f"{r.id}@{r.version}": r for r in library.rubrics() if r.id == previous.rubric_id}
    same = f"{previous.rubric_id}@{previous.rubric_version}"
    if same not in choices:
        choices[same] = previous.rubric
    form = NextReviewForm()
    form.rubric.choices = [
        SelectChoice(
            key,
            f"{r.title}, version {r.version}"
            + (" (as the last review)" if key == same else " (upgrade)"),
        )
        for key, r in sorted(choices.items(), key=lambda kv: kv[0] != same)
    ]
    if request.method == "GET":
        form.rubric.data = same
        form.title.data = f"{item['title']}, {date.today():%B %Y}"
    if form.validate_on_submit():
        review = programme.start_next(
            db,
            previous,
            title=form.title.data.strip(),
            rubric=choices[form.rubric.data],
            start_date=_iso(form.start_date.data),
            end_date=_iso(form.end_date.data),
            by=g.user.id,
        )
        flash(
            f"Started {review.title} with the team, measures and sampling rules of "
            f"{previous.title}. Next: draw its sample."
        )
        return redirect(url_for("reviews.review_page", review_id=review.id))
    return render_template(
        "programmes/next.html",
        form=form,
        programme=item,
        previous=previous,
        rules=programme.sampling_rules(previous),
    )


@bp.route("/reviews/<review_id>/re-audit", methods=["GET", "POST"])
@requires("review.manage")
def re_audit(review_id: str) -> str | Response:
    """Choose cases from the programme's earlier reviews to audit again, linked to then."""
    db = get_db()
    review = g.review
    if review.programme_id is None:
        abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        chosen = request.form.getlist("audit")
        try:
            added = programme.add_re_audits(db, review, chosen, by=g.user.id)
        except LookupError:
            abort(400)
        flash(f"Added {added} case(s) to re-audit. Assign them to reviewers.")
        return redirect(url_for("reviews.review_page", review_id=review_id) + "#cases")
    here = review_data.references(db, review_id)
    earlier = [
        a
        for a in programmes.earlier_audits(db, review.programme_id, review_id)
        if a["reference"] not in here
    ]
    return render_template("programmes/re_audit.html", review=review, earlier=earlier, form=form)


# --------------------------------------------------------------------------- actions


@bp.route("/reviews/<review_id>/findings/<finding_id>/actions", methods=["POST"])
@requires("review.manage")
def action_add(review_id: str, finding_id: str) -> Response:
    """Add an action to an area for development."""
    form = ActionPlanForm()
    try:
        finding = finding_data.get(get_db(), review_id, finding_id)
    except finding_data.FindingNotFound:
        abort(404)
    if finding.kind != "development":
        abort(400)
    if form.validate_on_submit():
        actions.add(
            get_db(),
            review_id,
            finding_id=finding.id,
            what=form.what.data,
            owner=form.owner.data or "",
            due_date=_iso(form.due_date.data),
            by=g.user.id,
        )
        flash("Action added to the plan.")
    else:
        flash("Describe the action (and give the due date as 31/1/2027).", "error")
    return redirect(
        url_for("findings.findings_page", review_id=review_id) + f"#actions-{finding.id}"
    )


@bp.route("/reviews/<review_id>/actions/<action_id>", methods=["GET", "POST"])
@requires("review.manage")
def action_page(review_id: str, action_id: str) -> str | Response:
    """Follow an action up: status, owner, due date, and dated progress notes."""
    db = get_db()
    try:
        item = actions.get(db, review_id, action_id)
    except actions.ActionNotFound:
        abort(404)
    form = ActionPlanForm(
        data={
            "what": item["what"],
            "owner": item["owner"],
            "status": item["status"],
            "due_date": moments.shown(item["due_date"]),
        }
    )
    today = moments.shown(moments.today().isoformat())
    note_form = ActionNoteForm(data={"noted_on": today}, prefix="note")
    if request.method == "POST" and request.form.get("form") == "note":
        note_form = ActionNoteForm(prefix="note")
        if note_form.validate_on_submit():
            actions.add_note(
                db,
                review_id,
                action_id,
                note=note_form.note.data,
                noted_on=_iso(note_form.noted_on.data) or moments.today().isoformat(),
                by=g.user.id,
            )
            flash("Progress note added.")
            return redirect(
                url_for("programmes.action_page", review_id=review_id, action_id=action_id)
            )
    elif form.validate_on_submit():
        actions.update(
            db,
            review_id,
            action_id,
            status=form.status.data,
            what=form.what.data,
            owner=form.owner.data or "",
            due_date=_iso(form.due_date.data),
            by=g.user.id,
        )
        flash("Action saved.")
        return redirect(url_for("programmes.action_page", review_id=review_id, action_id=action_id))
    return render_template(
        "programmes/action.html", review=g.review, item=item, form=form, note_form=note_form
    )


@bp.route("/reviews/<review_id>/actions")
@requires("review.manage")
def action_plan(review_id: str) -> str:
    """The review's action plan, overdue first."""
    return render_template(
        "programmes/action_plan.html",
        review=g.review,
        actions=actions.for_review(get_db(), review_id),
        statuses=actions.STATUSES,
    )
