"""Reviews: the list, a review's page, and the lead's set-up (team, cases, sample, status)."""

from __future__ import annotations

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

from audit import analysis, caselist, intake, policy, review_setup
from audit.data import actions, agency_audits, audits, conversations, users
from audit.data import calibration as calibration_data
from audit.data import reviews as review_data
from audit.forms import (
    ActionForm,
    CaseImportForm,
    DeleteReviewForm,
    MemberForm,
    ReviewForm,
    SampleForm,
    StatusForm,
    TimelinessForm,
)
from audit.partnership import is_multi_agency
from audit.views import get_db, requires

bp = Blueprint("reviews", __name__)


@bp.route("/")
def home() -> Response:
    """Send everyone to their reviews."""
    return redirect(url_for("reviews.review_list"))


@bp.route("/reviews")
@requires("reviews.list")
def review_list() -> str:
    """List the reviews this user may see."""
    db = get_db()
    visible = review_data.visible_to(db, g.user.id, g.user.is_admin)
    panels = calibration_data.programme_panels_for(db, g.user.id)
    # A multi-agency review has no case audits: it shows its agency audits and panels held,
    # an agency auditor only their own agency's (none, if they no longer belong to one).
    partnership = {
        review.id: agency_audits.list_counts(
            db,
            review.id,
            (g.user.agency_id or "") if review.extra.get("my_role") == "agency" else None,
        )
        for review in visible
        if is_multi_agency(review)
    }
    return render_template(
        "reviews/list.html", reviews=visible, panels=panels, partnership=partnership
    )


@bp.route("/reviews/new", methods=["GET", "POST"])
@requires("review.create")
def review_new() -> str | Response:
    """Create a review, freezing a copy of the chosen rubric into it."""
    library = current_app.extensions["rubric_library"]
    rubrics = {f"{r.id}@{r.version}": r for r in library.rubrics()}
    form = ReviewForm()
    form.rubric.choices = [
        SelectChoice(key, f"{r.title} (version {r.version})") for key, r in rubrics.items()
    ]
    from audit.data import programmes

    form.programme.choices = [SelectChoice("", "Not part of a programme")] + [
        SelectChoice(p["id"], p["title"]) for p in programmes.all_programmes(get_db())
    ]
    if request.method == "GET" and request.args.get("programme"):
        form.programme.data = request.args["programme"]
    if form.validate_on_submit():
        try:
            review = review_setup.new_review(
                get_db(),
                title=form.title.data,
                host_organisation=form.host_organisation.data,
                kind=form.kind.data,
                rubric=rubrics[form.rubric.data],
                start=form.start_date.data,
                end=form.end_date.data,
                programme_id=form.programme.data or None,
                lead_id=g.user.id,
                by=g.user.id,
            )
        except review_setup.SetupProblem as problem:
            getattr(form, problem.field).errors = [problem.message]
        else:
            if form.collaborative.data == "yes":
                review_data.update_settings(
                    get_db(), review.id, {"collaborative": True}, by=g.user.id
                )
            flash(f"Created {review.title}. Next: add reviewers and import the case list.")
            return redirect(url_for("reviews.review_page", review_id=review.id))
    return render_template("reviews/new.html", form=form)


@bp.route("/reviews/<review_id>")
@requires("review.view")
def review_page(review_id: str) -> str:
    """Show a review: a reviewer's own cases, or the lead's overview of everything.

    A multi-agency review's page is ``partnership.overview`` (see audit/views/instead.py).
    """
    db = get_db()
    review = g.review
    manage = policy.allowed(g.user, "review.manage", g.review_role)
    mine = audits.reviewer_cases(db, review_id, g.user.id)
    context = {
        "review": review,
        "manage": manage,
        "my_cases": mine,
        "my_done": sum(1 for c in mine if c["status"] == "submitted"),
        "second_cases": audits.second_cases(db, review_id, g.user.id),
        "action_form": ActionForm(),
        "case_type_labels": {ct.id: ct.label for ct in review.rubric.case_types},
        "collaborative": bool(review.settings.get("collaborative")),
        "talked": conversations.audits_with_conversation(db, review_id),
    }
    if manage:
        all_cases = audits.reviewer_cases(db, review_id)
        members = review_data.members(db, review_id)
        status_form = StatusForm()
        status_form.status.choices = [
            SelectChoice(s, review_data.STATUSES[s])
            for s in review_data.next_statuses(review.status)
        ]
        member_form = MemberForm()
        member_ids = {m["id"] for m in members}
        member_form.user.choices = [
            SelectChoice(str(u.id), f"{u.display_name} ({u.username})")
            for u in users.all_users(db)
            if u.active and u.id not in member_ids
        ]
        context.update(
            data_errors=analysis.data_errors(db, review),
            all_cases=all_cases,
            members=members,
            status_form=status_form,
            member_form=member_form,
            alerts=review_data_alerts(review_id),
            case_actions=actions.case_actions(db, review_id=review_id),
            counts={
                status: sum(1 for c in all_cases if c["status"] == status)
                for status in ("not_started", "in_progress", "submitted")
            },
        )
    return render_template("reviews/review.html", **context)


def review_data_alerts(review_id: str) -> list[dict]:
    """Return the review's safeguarding alerts still waiting for an escalation record."""
    return audits.escalations(get_db(), review_id, open_only=True)


@bp.route("/reviews/<review_id>/status", methods=["POST"])
@requires("review.manage")
def review_status(review_id: str) -> Response:
    """Move the review to the next (or previous) stage of its lifecycle."""
    form = StatusForm()
    form.status.choices = [SelectChoice(s, s) for s in review_data.STATUSES]
    if form.validate_on_submit():
        try:
            review_data.set_status(get_db(), review_id, form.status.data, by=g.user.id)
        except review_data.OpenAlerts as exc:
            flash(
                f"The review cannot be {review_data.STATUSES[form.status.data].lower()} while "
                f"{exc.args[0]} safeguarding alert(s) have no escalation recorded.",
                "error",
            )
        except ValueError as exc:
            flash(str(exc).capitalize() + ".", "error")
        else:
            flash(f"The review is now: {review_data.STATUSES[form.status.data]}.")
    else:
        flash("Choose the status to move the review to.", "error")
    return redirect(url_for("reviews.review_page", review_id=review_id) + "#status")


@bp.route("/reviews/<review_id>/members", methods=["POST"])
@requires("review.manage")
def review_members(review_id: str) -> Response:
    """Add a user to the review team."""
    form = MemberForm()
    form.user.choices = [SelectChoice(str(u.id), u.username) for u in users.all_users(get_db())]
    if form.validate_on_submit():
        person = users.get(get_db(), int(form.user.data))
        try:
            added = review_setup.add_member(get_db(), review_id, person, form.role.data, g.user.id)
        except review_setup.SetupProblem:
            abort(400)
        if added.note:
            flash(added.note)
        flash(f"Added {added.person.display_name} to the review as {added.role}.")
    else:
        flash("Choose a person to add.", "error")
    return redirect(url_for("reviews.review_page", review_id=review_id) + "#team")


@bp.route("/reviews/<review_id>/cases/import", methods=["GET", "POST"])
@requires("review.manage")
def cases_import(review_id: str) -> str | Response:
    """Import a case list; an invalid file is rejected whole with every problem listed."""
    form = CaseImportForm()
    problems: tuple = ()
    if form.validate_on_submit():
        upload = form.case_file.data
        try:
            result = intake.import_cases(
                get_db(),
                g.review,
                upload.read(),
                upload.filename or "",
                skip_existing=form.skip_existing.data,
                by=g.user.id,
            )
        except caselist.CaseListInvalid as exc:
            problems = exc.problems
            form.case_file.errors = [
                f"The file was not imported: {len(problems)} problem(s) to fix"
            ]
        else:
            message = f"Imported {result.added} case file(s)."
            if result.skipped:
                shown = ", ".join(row.reference for row in result.skipped[:20])
                more = "…" if len(result.skipped) > 20 else ""
                message += f" Skipped {len(result.skipped)} already in the review: {shown}{more}."
            flash(message)
            return redirect(url_for("reviews.review_page", review_id=review_id) + "#cases")
    return render_template("cases/import.html", form=form, problems=problems, review=g.review)


@bp.route("/reviews/<review_id>/cases/sample", methods=["GET", "POST"])
@requires("review.manage")
def cases_sample(review_id: str) -> str | Response:
    """Draw a reproducible random sample; only the sampled cases are kept."""
    form = SampleForm()
    problems: tuple = ()
    if form.validate_on_submit():
        upload = form.case_file.data
        seed_text = (form.seed.data or "").strip()
        try:
            sample = intake.sample_cases(
                get_db(),
                g.review,
                upload.read(),
                upload.filename or "",
                size=form.size.data,
                stratify_by=form.stratify_by.data or None,
                seed=int(seed_text) if seed_text else None,
                exclude_months=form.exclude_months.data or 0,
                by=g.user.id,
            )
        except caselist.CaseListInvalid as exc:
            problems = exc.problems
            form.case_file.errors = [f"The file was not used: {len(problems)} problem(s) to fix"]
        except ValueError as exc:
            form.size.errors = [str(exc)]
        else:
            record = review_data.get(get_db(), review_id).settings.get("sampling", {})
            left_out = record.get("excluded_recently_audited", 0)
            flash(
                f"Drew {len(sample.rows)} of {sample.population} cases with seed {sample.seed}."
                + (
                    f" Left out {left_out} audited in the last {record['exclude_months']} months."
                    if left_out
                    else ""
                )
            )
            return redirect(url_for("reviews.review_page", review_id=review_id) + "#cases")
    return render_template("cases/sample.html", form=form, problems=problems, review=g.review)


@bp.route("/reviews/<review_id>/cases/assign", methods=["GET", "POST"])
@requires("review.manage")
def cases_assign(review_id: str) -> str | Response:
    """Assign case files to reviewers by hand."""
    db = get_db()
    members = review_data.members(db, review_id)
    cases = review_data.case_files(db, review_id)
    form = ActionForm()
    if form.validate_on_submit():
        valid = {str(m["id"]): m["id"] for m in members}
        plan: dict[str, int | None] = {}
        for case in cases:
            choice = request.form.get(f"assign-{case['id']}")
            if choice is None:
                continue
            if choice and choice not in valid:
                abort(400)
            plan[case["id"]] = valid.get(choice)
        changed = review_data.assign(db, review_id, plan, by=g.user.id)
        flash(f"Saved assignments ({changed} changed).")
        return redirect(url_for("reviews.review_page", review_id=review_id) + "#cases")
    return render_template(
        "cases/assign.html",
        review=g.review,
        members=members,
        cases=cases,
        form=form,
    )


@bp.route("/reviews/<review_id>/cases/share-evenly", methods=["POST"])
@requires("review.manage")
def cases_share_evenly(review_id: str) -> Response:
    """Share unassigned cases evenly among the review's reviewers."""
    if ActionForm().validate_on_submit():
        try:
            changed = review_data.share_evenly(get_db(), review_id, by=g.user.id)
        except ValueError as exc:
            flash(str(exc).capitalize() + ".", "error")
        else:
            flash(f"Shared {changed} unassigned case(s) among the reviewers.")
    return redirect(url_for("reviews.review_page", review_id=review_id) + "#cases")


def _measure_choices(form: TimelinessForm) -> None:
    from audit.caselist import DATE_COLUMNS

    columns = list(DATE_COLUMNS)
    for measure in g.review.rubric.timeliness:
        columns += [c for c in (measure.start, measure.end) if c not in columns]
    labels = [SelectChoice(c, c.replace("_", " ").capitalize()) for c in columns]
    form.start.choices = labels
    form.end.choices = labels
    form.applies_to.choices = [SelectChoice(ct.id, ct.label) for ct in g.review.rubric.case_types]


@bp.route("/reviews/<review_id>/timeliness", methods=["GET", "POST"])
@requires("review.manage")
def timeliness_settings(review_id: str) -> str | Response:
    """Choose the review's timeliness measures (the rubric's defaults until changed)."""
    from audit import timeliness

    db = get_db()
    review = g.review
    measures = list(timeliness.measures_for(review.rubric.timeliness, review.settings))
    editing = request.args.get("measure") or request.form.get("measure_id") or ""
    current = next((m for m in measures if m.id == editing), None)
    form = TimelinessForm(
        data=None
        if current is None
        else {
            "measure_id": current.id,
            "name": current.name,
            "start": current.start,
            "end": current.end,
            "limit": current.limit,
            "unit": current.unit,
            "applies_to": sorted(current.applies_to or []),
        }
    )
    _measure_choices(form)
    if form.validate_on_submit():
        if form.start.data == form.end.data:
            form.end.errors = ["Choose a different date column from the one counted from"]
        else:
            measure_id = current.id if current else _slug(form.name.data, measures)
            try:
                new = timeliness.Measure(
                    measure_id,
                    form.name.data.strip(),
                    form.start.data,
                    form.end.data,
                    form.limit.data,
                    form.unit.data,
                    frozenset(form.applies_to.data) or None,
                )
            except ValueError as exc:
                form.name.errors = [str(exc)]
            else:
                kept = [m for m in measures if m.id != measure_id]
                position = next(
                    (i for i, m in enumerate(measures) if m.id == measure_id), len(kept)
                )
                kept.insert(position, new)
                review_data.update_settings(
                    db, review_id, {"timeliness": [m.to_dict() for m in kept]}, by=g.user.id
                )
                flash(f"Saved “{new.name}”.")
                return redirect(url_for("reviews.timeliness_settings", review_id=review_id))
    return render_template(
        "reviews/timeliness.html",
        review=review,
        measures=measures,
        form=form,
        editing=current,
        own="timeliness" in review.settings,
        action_form=ActionForm(),
        labels={ct.id: ct.label for ct in review.rubric.case_types},
    )


def _slug(name: str, existing: list) -> str:
    base = "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")[:40] or "measure"
    base = base if base[0].isalpha() else f"m_{base}"
    taken = {m.id for m in existing}
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


@bp.route("/reviews/<review_id>/timeliness/<measure_id>/remove", methods=["POST"])
@requires("review.manage")
def timeliness_remove(review_id: str, measure_id: str) -> Response:
    """Stop reporting one timeliness measure for this review."""
    from audit import timeliness

    if ActionForm().validate_on_submit():
        measures = timeliness.measures_for(g.review.rubric.timeliness, g.review.settings)
        kept = [m.to_dict() for m in measures if m.id != measure_id]
        review_data.update_settings(get_db(), review_id, {"timeliness": kept}, by=g.user.id)
        flash("Measure removed.")
    return redirect(url_for("reviews.timeliness_settings", review_id=review_id))


@bp.route("/reviews/<review_id>/timeliness/reset", methods=["POST"])
@requires("review.manage")
def timeliness_reset(review_id: str) -> Response:
    """Go back to the rubric's default timeliness measures."""
    if ActionForm().validate_on_submit():
        review_data.clear_setting(get_db(), review_id, "timeliness", by=g.user.id)
        flash("Using the rubric's default timeliness measures.")
    return redirect(url_for("reviews.timeliness_settings", review_id=review_id))


@bp.route("/reviews/<review_id>/delete", methods=["GET", "POST"])
@requires("review.delete")
def review_delete(review_id: str) -> str | Response:
    """Delete a closed review for good, after the admin types its title to confirm."""
    review = g.review
    form = DeleteReviewForm()
    if review.status != "closed":
        flash("Only a closed review can be deleted: close it first.", "error")
        return redirect(url_for("reviews.review_page", review_id=review_id))
    if form.validate_on_submit():
        if (form.confirm.data or "").strip() != review.title:
            form.confirm.errors = ["Type the review's title exactly to confirm"]
        else:
            counts = review_data.delete(get_db(), review_id, by=g.user.id)
            flash(
                f"Deleted the review, its {counts['case_files']} case files and "
                f"{counts['audits']} audits. This cannot be undone."
            )
            return redirect(url_for("reviews.review_list"))
    return render_template("reviews/delete.html", review=review, form=form)
