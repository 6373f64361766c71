"""Learning themes: a programme's list and theme page, and tagging notes and findings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from audit import analysis, policy
from audit import themes as theme_domain
from audit.data import audits, programmes
from audit.data import findings as finding_data
from audit.data import reviews as review_data
from audit.data import themes as theme_data
from audit.forms import ActionForm, ThemeForm
from audit.views import get_db, requires
from audit.views.collab import _audit_to_record

bp = Blueprint("themes", __name__)


def _programme_or_404(programme_id: str) -> dict[str, Any]:
    try:
        return programmes.get(get_db(), programme_id)
    except programmes.ProgrammeNotFound:
        abort(404)


def _theme_or_404(programme_id: str, theme_id: str) -> theme_data.Theme:
    try:
        return theme_data.get(get_db(), theme_id, programme_id=programme_id)
    except theme_data.ThemeNotFound:
        abort(404)


def _attach(form: ThemeForm, problems: list[theme_domain.Problem]) -> None:
    for problem in problems:
        form[problem.field].errors = [*form[problem.field].errors, problem.message]


def _list_page(programme_id: str, form: ThemeForm, status: int = 200) -> tuple[str, int]:
    db = get_db()
    item = _programme_or_404(programme_id)
    themes = theme_data.for_programme(db, programme_id)
    manager = policy.allowed(g.user, "themes.manage", g.get("review_role"))
    reviews = [review_data.get(db, rid) for rid in programmes.review_ids(db, programme_id)]
    return (
        render_template(
            "themes/list.html",
            programme=item,
            themes=themes,
            # Reviewers read the list and descriptions, never the counts (docs/themes.md).
            uses={t.id: theme_data.uses(db, t.id) for t in themes} if manager else {},
            manager=manager,
            form=form,
            learning=analysis.programme_themes(db, programme_id) if manager else [],
            reviews=reviews,
        ),
        status,
    )


@bp.route("/programmes/<programme_id>/themes")
@requires("themes.view")
def theme_list(programme_id: str) -> tuple[str, int]:
    """Show the programme's learning themes; for leads, the counts, actions and questions."""
    return _list_page(programme_id, ThemeForm(formdata=None))


@bp.route("/programmes/<programme_id>/themes", methods=["POST"])
@requires("themes.manage")
def theme_add(programme_id: str) -> Response | tuple[str, int]:
    """Add a theme to the programme's list; errors show on the list's own URL, so it reloads."""
    _programme_or_404(programme_id)
    form = ThemeForm()
    if form.validate_on_submit():
        taken = [t.name for t in theme_data.for_programme(get_db(), programme_id)]
        problems = theme_domain.check_theme(form.name.data, form.description.data or "", taken)
        if not problems:
            theme_data.create(
                get_db(),
                name=form.name.data,
                description=form.description.data or "",
                programme_id=programme_id,
                by=g.user.id,
            )
            flash(f"Theme {' '.join(form.name.data.split())} added.")
            return redirect(url_for("themes.theme_list", programme_id=programme_id))
        _attach(form, problems)
    return _list_page(programme_id, form)


@bp.route("/programmes/<programme_id>/themes/new")
@requires("themes.manage")
def theme_new(programme_id: str) -> Response:
    """Send an old or typed "new theme" address to the list's add form instead of a 404."""
    _programme_or_404(programme_id)
    return redirect(url_for("themes.theme_list", programme_id=programme_id, _anchor="add"))


@bp.route("/programmes/<programme_id>/themes/<theme_id>", methods=["GET", "POST"])
@requires("themes.manage")
def theme_edit(programme_id: str, theme_id: str) -> str | Response:
    """Rename a theme or change its description; its tags stay with it."""
    item = _programme_or_404(programme_id)
    theme = _theme_or_404(programme_id, theme_id)
    form = ThemeForm(data={"name": theme.name, "description": theme.description})
    form.submit.label.text = "Save theme"
    if request.method == "POST" and form.validate_on_submit():
        taken = [
            t.name for t in theme_data.for_programme(get_db(), programme_id) if t.id != theme.id
        ]
        problems = theme_domain.check_theme(form.name.data, form.description.data or "", taken)
        if not problems:
            theme_data.update(
                get_db(),
                theme.id,
                name=form.name.data,
                description=form.description.data or "",
                by=g.user.id,
            )
            flash("Theme saved. Everything tagged with it keeps the tag.")
            return redirect(url_for("themes.theme_list", programme_id=programme_id))
        _attach(form, problems)
    return render_template(
        "themes/edit.html",
        programme=item,
        theme=theme,
        form=form,
        uses=theme_data.uses(get_db(), theme.id),
    )


@bp.route("/programmes/<programme_id>/themes/<theme_id>/retire", methods=["POST"])
@requires("themes.manage")
def theme_retire(programme_id: str, theme_id: str) -> Response:
    """Retire a theme (kept, counted, but no new tags) or bring it back."""
    if not ActionForm().validate_on_submit():
        abort(400)
    theme = _theme_or_404(programme_id, theme_id)
    retire = request.form.get("retired") != "0"
    theme_data.set_retired(get_db(), theme.id, retire, by=g.user.id)
    flash(f"Theme {theme.name} {'retired' if retire else 'back in use'}.")
    return redirect(url_for("themes.theme_list", programme_id=programme_id))


@bp.route("/programmes/<programme_id>/themes/<theme_id>/delete", methods=["POST"])
@requires("themes.manage")
def theme_delete(programme_id: str, theme_id: str) -> Response:
    """Delete a theme nothing is tagged with (added by mistake); one in use is only retired."""
    if not ActionForm().validate_on_submit():
        abort(400)
    theme = _theme_or_404(programme_id, theme_id)
    try:
        theme_data.delete(get_db(), theme.id, by=g.user.id)
    except theme_data.ThemeInUse:
        flash(f"Theme {theme.name} is in use, so it cannot be deleted: retire it instead.", "error")
    else:
        flash(f"Theme {theme.name} deleted.")
    return redirect(url_for("themes.theme_list", programme_id=programme_id))


# --------------------------------------------------------------------------- tagging


def _no_programme(review: review_data.Review) -> bool:
    return review.programme_id is None


def tag_panel(review: review_data.Review, held: set[str]) -> dict[str, Any]:
    """Return what a theme checkbox panel needs: the themes it offers and those ticked."""
    themes = theme_data.for_review(get_db(), review.id)
    return {
        "offered": theme_domain.usable(themes, held),
        "held": held,
        "held_names": sorted(t.name for t in themes if t.id in held),
        "programme_id": review.programme_id,
    }


@bp.route("/reviews/<review_id>/audits/<audit_id>/themes", methods=["GET", "POST"])
@requires("themes.tag")
def audit_themes(review_id: str, audit_id: str) -> str | Response:
    """Tag an audit's evidence notes with the programme's themes, all on one page."""
    audit = _audit_to_record(review_id, audit_id)
    db = get_db()
    review = g.review
    case = review_data.case_file(db, audit.case_id, review_id)
    notes = theme_domain.evidence_notes(
        review.rubric, {qid: answer.evidence for qid, answer in audit.answers.items()}
    )
    held = theme_data.evidence_tags(db, audit.id)
    themes = theme_data.for_review(db, review.id)
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        if _no_programme(review):
            flash("This review is not in a programme, so its notes cannot be tagged.", "error")
            return redirect(request.path)
        tags = {}
        for note in notes:
            mine = held.get(note.question.id, set())
            tags[note.question.id] = theme_domain.chosen(
                request.form.getlist(f"themes-{note.question.id}"),
                theme_domain.usable(themes, mine),
                mine,
            )
        changed = theme_data.set_evidence_tags(db, review_id, audit.id, tags, by=g.user.id)
        flash(f"Themes saved for case {case['pseudonym']} ({changed} change(s)).")
        return redirect(url_for("scoring.audit_page", review_id=review_id, audit_id=audit.id))
    return render_template(
        "themes/audit.html",
        review=review,
        audit=audit,
        case=case,
        notes=[(note, tag_panel(review, held.get(note.question.id, set()))) for note in notes],
        in_programme=not _no_programme(review),
        form=ActionForm(formdata=None),
    )


@bp.route("/reviews/<review_id>/findings/<finding_id>/themes", methods=["GET", "POST"])
@requires("themes.tag_findings")
def finding_themes(review_id: str, finding_id: str) -> str | Response:
    """Tag a curated finding with the programme's themes."""
    db = get_db()
    try:
        finding = finding_data.get(db, review_id, finding_id)
    except finding_data.FindingNotFound:
        abort(404)
    review = g.review
    held = theme_data.finding_tags(db, review_id).get(finding.id, set())
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        if _no_programme(review):
            flash("This review is not in a programme, so its findings cannot be tagged.", "error")
            return redirect(request.path)
        themes = theme_data.for_review(db, review.id)
        offered = theme_domain.usable(themes, held)
        wanted = theme_domain.chosen(request.form.getlist("themes"), offered, held)
        theme_data.set_finding_tags(db, review_id, finding.id, wanted, by=g.user.id)
        flash("Themes saved for the finding.")
        return redirect(
            url_for("findings.findings_page", review_id=review_id) + f"#finding-{finding.id}"
        )
    return render_template(
        "themes/finding.html",
        review=review,
        finding=finding,
        panel=tag_panel(review, held),
        in_programme=not _no_programme(review),
        form=ActionForm(formdata=None),
    )


@bp.route("/reviews/<review_id>/audits/<audit_id>/conversation/themes", methods=["POST"])
@requires("themes.tag")
def conversation_themes(review_id: str, audit_id: str) -> Response:
    """Tag the conversation with the practitioner with the programme's themes."""
    audit = _audit_to_record(review_id, audit_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db()
    back = url_for("collab.conversation", review_id=review_id, audit_id=audit.id)
    if _no_programme(g.review):
        flash("This review is not in a programme, so the conversation cannot be tagged.", "error")
        return redirect(back)
    if not theme_data.present(db, "conversation", "audit_id", [audit.id]):
        flash("Record the conversation first, then tag it.", "error")
        return redirect(back)
    held = theme_data.conversation_tags(db, audit.id)
    offered = theme_domain.usable(theme_data.for_review(db, review_id), held)
    wanted = theme_domain.chosen(request.form.getlist("themes"), offered, held)
    theme_data.set_conversation_tags(db, review_id, audit.id, wanted, by=g.user.id)
    flash("Themes saved for the conversation.")
    return redirect(back + "#themes")


def finding_panels(review: review_data.Review) -> dict[str, list[str]]:
    """Return, per finding of the review, the names of its themes (for the findings page)."""
    names = {t.id: t.name for t in theme_data.for_review(get_db(), review.id)}
    return {
        finding_id: sorted(names[t] for t in ids if t in names)
        for finding_id, ids in theme_data.finding_tags(get_db(), review.id).items()
    }


def conversation_panel(review: review_data.Review, audit: audits.CaseAudit) -> dict[str, Any]:
    """Return the conversation page's theme panel."""
    return tag_panel(review, theme_data.conversation_tags(get_db(), audit.id))
