"""The reviewer's day: their cases, the scoring page, conflicts, escalations, the record."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms.fields.core import UnboundField
from wtforms.validators import ValidationError

from audit import caselist, integrity, policy, scoring
from audit.data import actions, audits, conversations, moderation, pending, sessions
from audit.data import reviews as review_data
from audit.data import themes as theme_data
from audit.forms import ActionForm
from audit.views import alerts, get_db, place, requires
from audit.views.calibration import exemplar_links
from audit.views.scoring_form import (
    answers_from,
    build_form_class,
    feedback_from,
    form_data,
    sections_na_from,
)

bp = Blueprint("scoring", __name__, url_prefix="/reviews/<review_id>")


def _audit_or_404(review_id: str, audit_id: str) -> audits.CaseAudit:
    try:
        return audits.get(get_db(), audit_id, review_id=review_id)
    except audits.AuditNotFound:
        abort(404)


def _may_edit(audit: audits.CaseAudit) -> bool:
    return audit.reviewer_id == g.user.id and not audit.submitted


def _may_view(audit: audits.CaseAudit) -> bool:
    from audit.views.findings import may_see_both

    return (
        audit.reviewer_id == g.user.id
        or policy.allowed(g.user, "review.manage", g.review_role)
        or may_see_both(g.user.id, audit)
    )


@bp.route("/cases/<case_id>/audit", methods=["POST"])
@requires("review.score")
def start_audit(review_id: str, case_id: str) -> Response:
    """Open this reviewer's audit of a case (first, or an assigned second audit)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        case = review_data.case_file(get_db(), case_id, review_id)
    except LookupError:
        abort(404)
    if request.args.get("purpose") == "second":
        if not case["second_audit"] or case["second_assigned_to"] != g.user.id:
            abort(403)
        existing = audits.start(get_db(), case_id, g.user.id, purpose="second")
        return redirect(url_for("scoring.audit_page", review_id=review_id, audit_id=existing))
    existing = audits.first_audit_id(get_db(), case_id)
    if existing is None:
        if case["assigned_to"] != g.user.id:
            abort(403)
        earlier = (g.review.settings.get("re_audits") or {}).get(case_id)
        existing = audits.start(get_db(), case_id, g.user.id, earlier_audit_id=earlier)
    return redirect(url_for("scoring.audit_page", review_id=review_id, audit_id=existing))


def _context(audit: audits.CaseAudit, **extra: Any) -> dict[str, Any]:
    db = get_db()
    review = g.review
    case = review_data.case_file(db, audit.case_id, review.id)
    rubric = review.rubric
    answers = extra.pop("answers", audit.answers)
    sections_na = extra.pop("sections_na", audit.sections_na)
    return {
        "review": review,
        "audit": audit,
        "case": case,
        "rubric": rubric,
        "case_type": rubric.case_type(case["case_type"]),
        "sections": scoring.applicable(rubric, case["case_type"]),
        "progress": scoring.progress(rubric, case["case_type"], answers, sections_na),
        "status_labels": scoring.SECTION_STATUS_LABELS,
        "escalations": audits.escalations(db, review.id, audit_id=audit.id),
        "actions": actions.case_actions(db, audit_id=audit.id),
        "reviewer": next(
            (m for m in review_data.members(db, review.id) if m["id"] == audit.reviewer_id),
            None,
        ),
        "may_reopen": policy.allowed(g.user, "review.manage", g.review_role),
        "moderation": moderation.for_audit(db, audit.id),
        "earlier": _earlier(audit, answers),
        "conversation": conversations.conversation(db, audit.id),
        "family": conversations.family_feedback(db, audit.id),
        "collaborative": bool(review.settings.get("collaborative")),
        "may_record_collab": policy.allowed(g.user, "review.score", g.review_role)
        and (
            audit.reviewer_id == g.user.id or policy.allowed(g.user, "review.manage", g.review_role)
        ),
        "action_form": ActionForm(),
        "exemplars": exemplar_links(review),
        **extra,
    }


def _earlier(audit: audits.CaseAudit, answers: Any) -> dict[str, Any] | None:
    """Return the earlier audit this one re-audits, and the answers that changed since."""
    if not audit.earlier_audit_id:
        return None
    db = get_db()
    try:
        before = audits.get(db, audit.earlier_audit_id)
    except audits.AuditNotFound:
        return None
    source = review_data.get(db, before.review_id)
    rubric = g.review.rubric
    known = {q.id for q in rubric.questions}
    changed = []
    for question in rubric.questions:
        old = before.answers.get(question.id, scoring.Answer())
        new = answers.get(question.id, scoring.Answer())
        if question.id in known and old.effective != new.effective:
            changed.append((question, old, new))
    return {"audit": before, "review": source, "changed": changed}


@bp.route("/audits/<audit_id>", methods=["GET", "POST"])
@requires("review.view")
def audit_page(review_id: str, audit_id: str) -> str | Response | tuple[str, int]:
    """Score a case (the audit's reviewer, while a draft) or read its record (lead)."""
    audit = _audit_or_404(review_id, audit_id)
    if not _may_view(audit):
        abort(403)
    case_type = review_data.case_file(get_db(), audit.case_id, review_id)["case_type"]
    problem = integrity.unknown_case_type(g.review.rubric, case_type)
    if problem:
        abort(422, problem)
    if not _may_edit(audit):
        if request.method == "POST":
            flash(
                "This audit has been submitted, so it can no longer be changed. "
                "Ask the review lead to reopen it.",
                "error",
            )
            return redirect(url_for("scoring.audit_page", review_id=review_id, audit_id=audit_id))
        # Themes are internal: the record is an internal page, the report never shows them.
        themed = theme_data.evidence_theme_names(get_db(), audit.id)
        return render_template("scoring/record.html", **_context(audit, evidence_themes=themed))

    rubric = g.review.rubric
    case_type = review_data.case_file(get_db(), audit.case_id, review_id)["case_type"]
    form_class = build_form_class(rubric, case_type)
    if request.method == "GET":
        token = request.args.get("restore", "")
        # Kept work is restored only to the reviewer it was kept for: a post from elsewhere
        # cannot plant text in someone else's form.
        kept = pending.find(get_db(), token, audit.id, g.user.id) if token else None
        if kept is not None:
            form = form_class(formdata=MultiDict(kept))
            return render_template(
                "scoring/audit.html", form=form, restored=True, **_context(audit)
            )
        form = form_class(
            formdata=None,
            data=form_data(
                rubric, case_type, audit.answers, audit.sections_na, audit.feedback, audit.version
            ),
        )
        return render_template("scoring/audit.html", form=form, **_context(audit))

    form = form_class()
    if not form.validate_on_submit():
        return render_template("scoring/audit.html", form=form, **_context(audit))
    answers = answers_from(form, rubric, case_type)
    sections_na = sections_na_from(form, rubric, case_type)
    submitting = request.form.get("action") == "submit"
    problems = (
        scoring.check_submission(rubric, case_type, answers, sections_na) if submitting else []
    )
    adverse = [q.id for q in scoring.adverse(rubric, case_type, answers)]
    try:
        version = int(form.version.data or 0)
    except ValueError:
        abort(400)
    new_action = None
    if (form.action_what.data or "").strip():
        new_action = {
            "what": form.action_what.data,
            "owner": form.action_owner.data or "",
            "due_date": _iso_or_blank(form.action_due.data),
        }
    try:
        result = audits.save(
            get_db(),
            audit.id,
            expected_version=version,
            answers=answers,
            sections_na=sections_na,
            feedback=feedback_from(form),
            adverse_questions=adverse,
            critical_questions=[q.id for q in rubric.critical_questions()],
            by=g.user.id,
            submit=submitting and not problems,
            new_action=new_action,
        )
    except audits.StaleAudit as stale:
        return _conflict(stale.current, answers, sections_na)
    except audits.AuditLocked:
        flash("This audit was submitted meanwhile, so your changes were not saved.", "error")
        return redirect(url_for("scoring.audit_page", review_id=review_id, audit_id=audit_id))

    pending.clear(get_db(), audit.id)
    if result.raised:
        flash(
            "Draft saved. You said a child may not be adequately safeguarded: "
            "tell the responsible manager today and record it below."
        )
        return redirect(
            url_for("scoring.escalation_page", review_id=review_id, escalation_id=result.raised[0])
        )
    if submitting and not result.submitted:
        saved = audits.get(get_db(), audit.id)
        form = form_class(
            formdata=None,
            data=form_data(
                rubric, case_type, saved.answers, saved.sections_na, saved.feedback, saved.version
            ),
        )
        extra_errors = [{"text": p.message, "href": f"#{p.field}"} for p in problems]
        if result.open_escalations:
            extra_errors.insert(
                0,
                {
                    "text": "Record the escalation of the child found not adequately safeguarded "
                    "before submitting",
                    "href": url_for(
                        "scoring.escalation_page",
                        review_id=review_id,
                        escalation_id=result.open_escalations[0],
                    ),
                },
            )
        field_errors = {p.field: p.message for p in problems}
        return render_template(
            "scoring/audit.html",
            form=form,
            submit_errors=extra_errors,
            field_errors=field_errors,
            draft_saved=True,
            **_context(saved),
        )
    if submitting:
        pseudonym = review_data.case_file(get_db(), audit.case_id, review_id)["pseudonym"]
        # The result is shown above the reviewer's list of cases, the next one in view.
        cases = "second-audits" if audit.purpose == "second" else "my-cases"
        if g.review.settings.get("collaborative"):
            # The conversation with the worker usually happens on another day: the case
            # list shows which submitted audits still need one.
            flash(
                f"Audit of {pseudonym} submitted. Next: talk it through with the practitioner "
                "and record the conversation (Your cases, Conversation column)."
            )
            return redirect(url_for("reviews.review_page", review_id=review_id) + f"#{cases}")
        flash(f"Audit of {pseudonym} submitted.")
        return redirect(url_for("reviews.review_page", review_id=review_id) + f"#{cases}")
    flash("Draft saved.")
    # Back where the reviewer pressed Save draft: the end of that section.
    here = url_for("scoring.audit_page", review_id=review_id, audit_id=audit_id)
    return redirect(place.at(here, place.form_place()))


def _conflict(
    current: audits.CaseAudit, mine: dict[str, scoring.Answer], mine_na: set[str]
) -> tuple[str, int]:
    """Show both versions side by side and let the reviewer choose; nothing is overwritten."""
    rubric = g.review.rubric
    differences = []
    for question_id, answer in mine.items():
        theirs = current.answers.get(question_id, scoring.Answer())
        if (answer.effective, answer.evidence) != (theirs.effective, theirs.evidence):
            differences.append((rubric.question(question_id), answer, theirs))
    resubmit = MultiDict(
        [(k, v) for k, v in request.form.items(multi=True) if k not in {"version", "action"}]
    )
    return render_template(
        "scoring/conflict.html",
        audit=current,
        review=g.review,
        differences=differences,
        resubmit=resubmit,
        rubric=rubric,
        case=review_data.case_file(get_db(), current.case_id, g.review.id),
    ), 409


def _iso_or_blank(text: str | None) -> str:
    """Store dates typed as 10/11/2026 in ISO form, as every other date is kept."""
    parsed = caselist.parse_date(text or "")
    return parsed.isoformat() if parsed else ""


@bp.route("/audits/<audit_id>/reopen", methods=["POST"])
@requires("review.manage")
def reopen(review_id: str, audit_id: str) -> Response:
    """Let the reviewer change a submitted audit again."""
    audit = _audit_or_404(review_id, audit_id)
    if ActionForm().validate_on_submit():
        audits.reopen(get_db(), audit.id, by=g.user.id)
        flash("Audit reopened: the reviewer can change it and submit it again.")
    return redirect(url_for("scoring.audit_page", review_id=review_id, audit_id=audit_id))


@bp.route("/escalations/<escalation_id>", methods=["GET", "POST"])
@requires("review.view")
def escalation_page(review_id: str, escalation_id: str) -> str | Response:
    """Tell the reviewer what to do about an unsafe child and record the escalation."""
    try:
        item = audits.escalation(get_db(), escalation_id, review_id)
    except LookupError:
        abort(404)
    done = url_for("scoring.audit_page", review_id=review_id, audit_id=item["audit_id"])
    return alerts.record_page(item, audits.record_escalation, done, "scoring/escalation.html")


def _same_origin() -> bool:
    """Tell whether a POST came from one of our own pages (never keep a cross-site post)."""
    origin = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return bool(origin) and urlsplit(origin).netloc == request.host


# The token of the session that ran out, carried in the signed cookie until sign-in.
LAPSED_KEY = "lapsed_session"


def _reviewer_proved() -> int | None:
    """Return who is posting: the signed-in user, or the user whose session just timed out.

    The cookie of a session that ran out still names it, and ``lapsed_session`` remembers
    for a day whose it was; a cookie that names nothing proves nothing.
    """
    user_id = session.get("user_id")
    if user_id is not None:
        return int(user_id)
    token = request.cookies.get(current_app.config.get("SESSION_COOKIE_NAME", "session"), "")
    if "." in token:  # already signed out of the database: the token it had, if any
        token = str(session.get(LAPSED_KEY, ""))
    if not token or len(token) >= 100:
        return None
    user_id = sessions.lapsed_user(get_db(), token)
    if user_id is not None:
        session[LAPSED_KEY] = token  # a second post before signing in is kept too
    return user_id


def _scoring_fields(review_id: str, audit_id: str, reviewer: int) -> set[str] | None:
    """Return the scoring form's own field names for this audit, if ``reviewer`` is its own."""
    db = get_db()
    row = db.execute(
        "SELECT case_audit.reviewer_id, case_audit.status, case_file.case_type"
        " FROM case_audit JOIN case_file ON case_file.id = case_audit.case_id"
        " WHERE case_audit.id = ? AND case_audit.review_id = ?",
        [audit_id, review_id],
    ).fetchone()
    if row is None or row["reviewer_id"] != reviewer or row["status"] != "draft":
        return None
    form_class = build_form_class(review_data.get(db, review_id).rubric, row["case_type"])
    return {
        name
        for klass in form_class.__mro__
        for name, value in vars(klass).items()
        if isinstance(value, UnboundField)
    }


def keep_unsaved_work() -> Response | None:
    """Keep a scoring post whose sign-in or form token ran out, instead of throwing it away.

    Registered to run before the CSRF check: when a reviewer's session expired while they
    typed, the post would fail that check. A same-origin post is kept server-side under a
    random token only when the session store proves whose it is (signed in, or a session of
    theirs that timed out in the last day) and that person is the audit's reviewer; only the
    scoring form's own fields are kept, within pending.MAX_CHARS, and at most
    pending.PER_AUDIT forms per audit. The reviewer is sent to sign in, then back to the
    audit with the kept answers filled in but not yet saved: they check them and save (a
    stale version then gets the usual conflict page, so nothing is overwritten silently).
    Anything else is left to the CSRF check, which refuses it with nothing written.
    """
    if request.method != "POST" or request.endpoint != "scoring.audit_page":
        return None
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        pass
    else:
        return None
    if not _same_origin():
        return None
    args = request.view_args or {}
    audit_id, review_id = args.get("audit_id", ""), args.get("review_id", "")
    reviewer = _reviewer_proved()
    if reviewer is None:
        return None
    try:
        fields = _scoring_fields(review_id, audit_id, reviewer)
    except review_data.ReviewNotFound:
        return None
    if fields is None:
        return None  # only the audit's own reviewer's work is kept, while it is a draft
    pairs = [(k, v) for k, v in request.form.items(multi=True) if k in fields]
    try:
        token = pending.keep(get_db(), audit_id, reviewer, pairs)
    except (LookupError, pending.TooLarge):
        return None
    back = url_for("scoring.audit_page", review_id=review_id, audit_id=audit_id, restore=token)
    if session.get("user_id") is None:
        flash("Your sign-in ran out. Sign in again: what you typed has been kept.")
        return redirect(url_for("auth.sign_in", next=back))
    return redirect(back)
