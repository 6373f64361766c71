"""Multi-agency case audit: the review's page, agency audits, alerts and the panel.

Who sees what is :mod:`audit.policy`'s (``agency.audit``, ``panel.view``, ``panel.run``,
``may_see_agency_answers``): an agency auditor sees only the children their agency knows and,
until a child's panel opens, only their own agency's answers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from audit import caselist, moments, policy, scoring, themes
from audit.data import agencies as agency_data
from audit.data import agency_audits, panels, users
from audit.data import reviews as review_data
from audit.data import themes as theme_data
from audit.forms import ActionForm, MemberForm, StatusForm
from audit.partnership import is_multi_agency
from audit.partnership.panel import agenda, answer_label, own_sections
from audit.rubric import agency_part, panel_part
from audit.views import alerts, get_db, place, requires
from audit.views.partnership_forms import (
    AgencyActionForm,
    AgencyAuditFormBase,
    AuditorForm,
    LearningForm,
    PanelFormBase,
    agency_field,
    child_form_class,
    reference_field,
)
from audit.views.scoring_form import answers_from, build_form_class, form_data, sections_na_from

bp = Blueprint("partnership", __name__, url_prefix="/reviews/<review_id>/partnership")


# --------------------------------------------------------------------------- helpers


def _check_multi_agency() -> None:
    """A page of a multi-agency review: any other review has none (404)."""
    if not is_multi_agency(g.review):
        abort(404)


def _case_or_404(case_id: str) -> dict[str, Any]:
    try:
        return review_data.case_file(get_db(), case_id, g.review.id)
    except LookupError:
        abort(404)


def _names() -> dict[str, str]:
    return agency_data.names(get_db())


def _known(case_id: str) -> dict[str, str]:
    """The agencies that know the child, with their references, in the list's order."""
    return agency_audits.case_agencies(get_db(), g.review.id).get(case_id, {})


def _manages() -> bool:
    return policy.allowed(g.user, "panel.run", g.review_role)


def _iso(text: str | None) -> str | None:
    parsed = caselist.parse_date(text or "")
    return parsed.isoformat() if parsed else None


def _case_type_label(case_type: str) -> str:
    try:
        return str(g.review.rubric.case_type(case_type).label)
    except KeyError:
        return case_type


def _audits_shown(case_id: str, panel_is_open: bool) -> dict[str, Any]:
    """Return the agencies' audits of a child this user may read, by agency id."""
    known = _known(case_id)
    found = agency_audits.for_case(get_db(), case_id)
    return {
        agency_id: audit
        for agency_id, audit in found.items()
        if policy.may_see_agency_answers(
            g.user,
            g.review_role,
            g.user.agency_id,
            agency_id,
            submitted=audit.submitted,
            panel_open=panel_is_open,
            knows_child=g.user.agency_id in known,
        )
    }


# --------------------------------------------------------------------------- the review's page


@bp.route("")
@requires("partnership.view")
def overview(review_id: str) -> str:
    """The multi-agency review: the lead's overview, or an agency auditor's children."""
    _check_multi_agency()
    db = get_db()
    review = g.review
    manage = policy.allowed(g.user, "review.manage", g.review_role)
    cases = {c["id"]: c for c in review_data.case_files(db, review_id)}
    known = agency_audits.case_agencies(db, review_id)
    states = panels.states(db, review_id)
    progress = agency_audits.progress(db, review_id)
    names = _names()
    mine = g.user.agency_id
    my_children = []
    if mine and policy.allowed(g.user, "agency.audit", g.review_role):
        for row in progress:
            if row["agency_id"] == mine and row["case_id"] in cases:
                case = cases[row["case_id"]]
                # Only what the agency may see of the child: its pseudonym, its case type and
                # the agency's own reference (not the review's, nor other agencies').
                my_children.append(
                    {
                        "case_id": case["id"],
                        "pseudonym": case["pseudonym"],
                        "case_type": case["case_type"],
                        "agency_reference": row["reference"],
                        "audit_id": row["audit_id"],
                        "status": row["status"],
                        "panel": states.get(case["id"]),
                    }
                )
        my_children.sort(key=lambda r: r["pseudonym"])
    context: dict[str, Any] = {
        "review": review,
        "manage": manage,
        "agency_name": names.get(mine or "", ""),
        "my_children": my_children,
        "my_alerts": [
            a
            for a in agency_audits.escalations(db, review_id, open_only=True)
            if a["raised_by"] == g.user.id
        ],
        "action_form": ActionForm(),
        "case_type_label": _case_type_label,
        "names": names,
    }
    if manage:
        by_case: dict[str, dict[str, Any]] = {}
        for row in progress:
            by_case.setdefault(row["case_id"], {})[row["agency_id"]] = row
        finished: dict[str, list[int]] = {}
        for row in progress:
            tally = finished.setdefault(row["agency_id"], [0, 0])
            tally[1] += 1
            tally[0] += row["status"] == "submitted"
        auditors = agency_audits.auditors(db, review_id)
        in_review = {a["id"] for a in auditors} | {
            m["id"] for m in review_data.members(db, review_id)
        }
        auditor_form = AuditorForm()
        auditor_form.user.choices = [
            SelectChoice(str(p["id"]), f"{p['display_name']} ({p['agency_name']})")
            for p in agency_data.people(db)
            if p["agency_id"] and p["active"] and p["id"] not in in_review
        ]
        status_form = StatusForm()
        status_form.status.choices = [
            SelectChoice(s, review_data.STATUSES[s])
            for s in review_data.next_statuses(review.status)
        ]
        member_form = MemberForm()
        member_form.role.choices = [SelectChoice("lead", "Lead")]
        member_form.role.data = "lead"
        member_form.user.choices = [
            SelectChoice(str(u.id), f"{u.display_name} ({u.username})")
            for u in users.all_users(db)
            if u.active and u.id not in in_review and u.role in ("lead", "admin")
        ]
        installed = {a.id for a in agency_data.all_agencies(db)}
        context.update(
            children=[
                {
                    **case,
                    "agencies": [
                        {
                            "id": agency_id,
                            "name": names.get(agency_id, agency_id),
                            "reference": reference,
                            "status": by_case.get(case["id"], {})
                            .get(agency_id, {})
                            .get("status", "not_started"),
                        }
                        for agency_id, reference in known.get(case["id"], {}).items()
                    ],
                    "panel": states.get(case["id"]),
                }
                for case in cases.values()
            ],
            finished=[
                (agency_id, names.get(agency_id, agency_id), done, total)
                for agency_id, (done, total) in finished.items()
            ],
            alerts=agency_audits.escalations(db, review_id, open_only=True),
            auditors=auditors,
            auditor_form=auditor_form,
            leads=[m for m in review_data.members(db, review_id) if m["role"] == "lead"],
            member_form=member_form,
            status_form=status_form,
            unknown_agencies=[a for a in review.rubric.agencies_named() if a not in installed],
            conflicts=panels.conflicts(db, review_id),
            part_agencies=sorted({a for k in known.values() for a in k}, key=names.get),
        )
    return render_template("partnership/overview.html", **context)


def _child_form(case: dict[str, Any] | None, *, new: bool) -> Any:
    db = get_db()
    current = _known(case["id"]) if case else {}
    offered = [
        (a.id, a.name) for a in agency_data.all_agencies(db) if not a.retired or a.id in current
    ]
    case_types = [(ct.id, ct.label) for ct in g.review.rubric.case_types]
    form_class = child_form_class(offered, case_types, new=new)
    if request.method == "POST":
        return form_class(), offered
    data: dict[str, Any] = {}
    for agency_id, reference in current.items():
        data[agency_field(agency_id)] = True
        data[reference_field(agency_id)] = reference
    return form_class(data=data), offered


def _chosen_agencies(form: Any, offered: list[tuple[str, str]]) -> dict[str, str]:
    return {
        agency_id: (form[reference_field(agency_id)].data or "").strip()
        for agency_id, _name in offered
        if form[agency_field(agency_id)].data
    }


def _no_agency(form: Any, offered: list[tuple[str, str]]) -> Any:
    """The field to hang "tick an agency" on: the first agency's box (the button if none)."""
    return form[agency_field(offered[0][0])] if offered else form.submit


def _save_problem(exc: Exception, form: Any, offered: list[tuple[str, str]]) -> str:
    names = dict(offered)
    if isinstance(exc, agency_audits.DuplicateReference):
        agency_id, reference, pseudonym = str(exc).split(":", 2)
        form[reference_field(agency_id)].errors = [
            f"{names.get(agency_id, agency_id)}'s reference {reference} is already given to"
            f" child {pseudonym}"
        ]
        return ""
    if isinstance(exc, agency_audits.AgencyInUse):
        agency_id = str(exc)
        form[agency_field(agency_id)].errors = [
            f"{names.get(agency_id, agency_id)} has saved answers about this child, so it"
            " stays: ask the lead to remove them first"
        ]
        return ""
    return "The child's panel is open: the agencies that know the child can no longer change."


@bp.route("/children/new", methods=["GET", "POST"])
@requires("review.manage")
def child_new(review_id: str) -> str | Response:
    """Add a child to the review with the agencies that know them."""
    _check_multi_agency()
    form, offered = _child_form(None, new=True)
    form.submit.label.text = "Add the child"
    if form.validate_on_submit():
        chosen = _chosen_agencies(form, offered)
        reference = " ".join(form.reference.data.split())
        if reference in review_data.references(get_db(), review_id):
            form.reference.errors = ["A child with that reference is already in the review"]
        elif not chosen:
            _no_agency(form, offered).errors = ["Tick at least one agency that knows the child"]
        else:
            try:
                case_id = agency_audits.add_child(
                    get_db(),
                    review_id,
                    reference=reference,
                    case_type=form.case_type.data,
                    agencies=chosen,
                    by=g.user.id,
                )
            except (agency_audits.DuplicateReference, agency_audits.AgencyInUse) as exc:
                _save_problem(exc, form, offered)
            else:
                pseudonym = review_data.case_file(get_db(), case_id, review_id)["pseudonym"]
                flash(
                    f"Child {pseudonym} added, known to {len(chosen)}"
                    f" agenc{'y' if len(chosen) == 1 else 'ies'}."
                )
                return redirect(url_for("partnership.overview", review_id=review_id) + "#children")
    return render_template(
        "partnership/child.html", form=form, offered=offered, case=None, review=g.review
    )


@bp.route("/children/<case_id>", methods=["GET", "POST"])
@requires("review.manage")
def child_agencies(review_id: str, case_id: str) -> str | Response:
    """Say which agencies know a child, with each agency's own reference."""
    _check_multi_agency()
    case = _case_or_404(case_id)
    form, offered = _child_form(case, new=False)
    form.submit.label.text = "Save the agencies"
    if form.validate_on_submit():
        chosen = _chosen_agencies(form, offered)
        if not chosen:
            _no_agency(form, offered).errors = ["Tick at least one agency that knows the child"]
        else:
            try:
                agency_audits.set_case_agencies(get_db(), review_id, case_id, chosen, by=g.user.id)
            except (
                agency_audits.DuplicateReference,
                agency_audits.AgencyInUse,
                agency_audits.PanelOpen,
            ) as exc:
                message = _save_problem(exc, form, offered)
                if message:
                    flash(message, "error")
                    return redirect(
                        url_for("partnership.overview", review_id=review_id) + "#children"
                    )
            else:
                flash(f"Agencies that know {case['pseudonym']} saved.")
                return redirect(url_for("partnership.overview", review_id=review_id) + "#children")
    return render_template(
        "partnership/child.html", form=form, offered=offered, case=case, review=g.review
    )


@bp.route("/auditors", methods=["POST"])
@requires("review.manage")
def auditor_add(review_id: str) -> Response:
    """Add a person who belongs to an agency as an agency auditor of the review."""
    _check_multi_agency()
    form = AuditorForm()
    form.user.choices = [SelectChoice(str(p["id"]), "") for p in agency_data.people(get_db())]
    if form.validate_on_submit():
        person = users.get(get_db(), int(form.user.data))
        try:
            agency_audits.add_auditor(get_db(), review_id, int(form.user.data), by=g.user.id)
        except agency_audits.NotAnAgencyAuditor as exc:
            flash(
                f"{person.display_name if person else 'That person'} cannot be added: {exc}.",
                "error",
            )
        else:
            flash(
                f"{person.display_name if person else 'They'} can now audit their agency's records."
            )
    else:
        flash("Choose a person to add.", "error")
    return redirect(url_for("partnership.overview", review_id=review_id) + "#auditors")


@bp.route("/auditors/<int:user_id>/remove", methods=["POST"])
@requires("review.manage")
def auditor_remove(review_id: str, user_id: int) -> Response:
    """Stop a person auditing in this review (their agency's answers stay)."""
    _check_multi_agency()
    if ActionForm().validate_on_submit():
        agency_audits.remove_auditor(get_db(), review_id, user_id, by=g.user.id)
        flash("Removed from the review's agency auditors; their agency's answers stay.")
    return redirect(url_for("partnership.overview", review_id=review_id) + "#auditors")


# --------------------------------------------------------------------------- agency audits


@bp.route("/children/<case_id>/audit", methods=["POST"])
@requires("agency.audit")
def audit_start(review_id: str, case_id: str) -> Response:
    """Open your agency's audit of a child it knows (starting it the first time)."""
    _check_multi_agency()
    if not ActionForm().validate_on_submit():
        abort(400)
    _case_or_404(case_id)
    agency_id = g.user.agency_id
    if not agency_id or agency_id not in _known(case_id):
        abort(403)
    try:
        audit_id = agency_audits.start(get_db(), review_id, case_id, agency_id, by=g.user.id)
    except agency_audits.PanelOpen:
        flash("The child's panel is open, so the agencies' audits can no longer change.", "error")
        return redirect(url_for("partnership.overview", review_id=review_id) + "#your-children")
    return redirect(url_for("partnership.agency_audit", review_id=review_id, audit_id=audit_id))


def _audit_context(audit: agency_audits.AgencyAudit, **extra: Any) -> dict[str, Any]:
    db = get_db()
    case = review_data.case_file(db, audit.case_id, g.review.id)
    part = agency_part(g.review.rubric, audit.agency_id)
    answers = extra.pop("answers", audit.answers)
    sections_na = extra.pop("sections_na", audit.sections_na)
    names = _names()
    return {
        "review": g.review,
        "audit": audit,
        "case": case,
        "rubric": part,
        "case_type": _case_type_label(case["case_type"]),
        "agency_name": names.get(audit.agency_id, audit.agency_id),
        "reference": _known(audit.case_id).get(audit.agency_id, ""),
        "sections": scoring.applicable(part, case["case_type"]),
        "progress": scoring.progress(part, case["case_type"], answers, sections_na),
        "status_labels": scoring.SECTION_STATUS_LABELS,
        "escalations": agency_audits.escalations(db, g.review.id, agency_audit_id=audit.id),
        "panel_open": agency_audits.panel_open(db, audit.case_id),
        "may_reopen": policy.allowed(g.user, "review.manage", g.review_role),
        "answer_label": answer_label,
        **extra,
    }


@bp.route("/audits/<audit_id>", methods=["GET", "POST"])
@requires("partnership.view")
def agency_audit(review_id: str, audit_id: str) -> str | Response | tuple[str, int]:
    """An agency audits its records of a child (while a draft); others read it if they may."""
    _check_multi_agency()
    db = get_db()
    try:
        audit = agency_audits.get(db, audit_id, review_id)
    except LookupError:
        abort(404)
    is_open = agency_audits.panel_open(db, audit.case_id)
    known = _known(audit.case_id)
    if not policy.may_see_agency_answers(
        g.user,
        g.review_role,
        g.user.agency_id,
        audit.agency_id,
        submitted=audit.submitted,
        panel_open=is_open,
        knows_child=g.user.agency_id in known,
    ):
        abort(403)
    editable = (
        policy.may_audit_for(g.user, g.review_role, g.user.agency_id, audit.agency_id)
        and not audit.submitted
        and not is_open
    )
    case = review_data.case_file(db, audit.case_id, review_id)
    part = agency_part(g.review.rubric, audit.agency_id)
    if not editable:
        if request.method == "POST":
            flash(
                "This audit can no longer be changed: it is submitted, or the child's panel is"
                " open. Ask the review lead if it must change.",
                "error",
            )
            return redirect(
                url_for("partnership.agency_audit", review_id=review_id, audit_id=audit_id)
            )
        return render_template("partnership/agency_record.html", **_audit_context(audit))
    form_class = build_form_class(part, case["case_type"], base=AgencyAuditFormBase)
    if request.method == "GET":
        form = form_class(
            formdata=None,
            data=form_data(
                part, case["case_type"], audit.answers, audit.sections_na, {}, audit.version
            ),
        )
        return render_template("partnership/agency_audit.html", form=form, **_audit_context(audit))
    form = form_class()
    if not form.validate_on_submit():
        return render_template("partnership/agency_audit.html", form=form, **_audit_context(audit))
    answers = answers_from(form, part, case["case_type"])  # type: ignore[arg-type]
    sections_na = sections_na_from(form, part, case["case_type"])  # type: ignore[arg-type]
    submitting = request.form.get("action") == "submit"
    problems = (
        scoring.check_submission(part, case["case_type"], answers, sections_na)
        if submitting
        else []
    )
    try:
        version = int(form.version.data or 0)
    except ValueError:
        abort(400)
    try:
        result = agency_audits.save(
            db,
            audit.id,
            expected_version=version,
            answers=answers,
            sections_na=sections_na,
            adverse_questions=[q.id for q in scoring.adverse(part, case["case_type"], answers)],
            critical_questions=[q.id for q in part.critical_questions()],
            by=g.user.id,
            submit=submitting and not problems,
        )
    except agency_audits.StaleAudit as stale:
        return _conflict(stale.current, answers, part)
    except (agency_audits.AuditLocked, agency_audits.PanelOpen):
        flash(
            "The audit was submitted, or the panel opened, meanwhile: your changes were not saved.",
            "error",
        )
        return redirect(url_for("partnership.agency_audit", review_id=review_id, audit_id=audit_id))
    if result.raised:
        flash(
            "Draft saved. You said the child may not be adequately safeguarded: tell the"
            " responsible manager today and record it below."
        )
        return redirect(
            url_for("partnership.alert", review_id=review_id, alert_id=result.raised[0])
        )
    if submitting and not result.submitted:
        saved = agency_audits.get(db, audit.id)
        form = form_class(
            formdata=None,
            data=form_data(
                part, case["case_type"], saved.answers, saved.sections_na, {}, saved.version
            ),
        )
        errors = [{"text": p.message, "href": f"#{p.field}"} for p in problems]
        if result.open_escalations:
            errors.insert(
                0,
                {
                    "text": "Record the escalation of the child found not adequately safeguarded"
                    " before submitting",
                    "href": url_for(
                        "partnership.alert",
                        review_id=review_id,
                        alert_id=result.open_escalations[0],
                    ),
                },
            )
        return render_template(
            "partnership/agency_audit.html",
            form=form,
            submit_errors=errors,
            field_errors={p.field: p.message for p in problems},
            **_audit_context(saved),
        )
    if submitting:
        names = _names()
        opened = (
            " Every agency that knows the child has now submitted, so the child's panel is open."
            if result.panel_opened
            else ""
        )
        flash(
            f"{names.get(audit.agency_id, audit.agency_id)}'s audit of {case['pseudonym']}"
            f" submitted.{opened}"
        )
        return redirect(url_for("partnership.overview", review_id=review_id) + "#your-children")
    flash("Draft saved.")
    here = url_for("partnership.agency_audit", review_id=review_id, audit_id=audit_id)
    return redirect(place.at(here, place.form_place()))


def _conflict(
    current: agency_audits.AgencyAudit, mine: dict[str, scoring.Answer], part: Any
) -> tuple[str, int]:
    """Show both versions; nothing is overwritten (someone else from the agency saved first)."""
    differences = []
    for question_id, answer in mine.items():
        theirs = current.answers.get(question_id, scoring.Answer())
        if (answer.effective, answer.evidence) != (theirs.effective, theirs.evidence):
            differences.append((part.question(question_id), answer, theirs))
    resubmit = MultiDict(
        [
            (k, v)
            for k, v in request.form.items(multi=True)
            if k not in {"version", "action", "csrf_token"}
        ]
    )
    return render_template(
        "partnership/conflict.html",
        review=g.review,
        audit=current,
        case=review_data.case_file(get_db(), current.case_id, g.review.id),
        differences=differences,
        resubmit=resubmit,
        rubric=part,
        answer_label=answer_label,
    ), 409


@bp.route("/audits/<audit_id>/reopen", methods=["POST"])
@requires("review.manage")
def audit_reopen(review_id: str, audit_id: str) -> Response:
    """Let the agency change its submitted audit again (before the child's panel opens)."""
    _check_multi_agency()
    if ActionForm().validate_on_submit():
        try:
            agency_audits.reopen(get_db(), audit_id, review_id, by=g.user.id)
        except LookupError:
            abort(404)
        except agency_audits.PanelOpen:
            flash("The child's panel is open, so the agency's audit stays as it is.", "error")
        else:
            flash("Audit reopened: the agency can change it and submit it again.")
    return redirect(url_for("partnership.agency_audit", review_id=review_id, audit_id=audit_id))


@bp.route("/alerts/<alert_id>", methods=["GET", "POST"])
@requires("partnership.view")
def alert(review_id: str, alert_id: str) -> str | Response:
    """Say what to do about a child found not adequately safeguarded, and record it."""
    _check_multi_agency()
    try:
        item = agency_audits.escalation(get_db(), alert_id, review_id)
    except LookupError:
        abort(404)
    if item["agency_audit_id"]:
        done = url_for(
            "partnership.agency_audit", review_id=review_id, audit_id=item["agency_audit_id"]
        )
    else:
        done = url_for("partnership.panel_page", review_id=review_id, case_id=item["case_id"])
    return alerts.record_page(
        item,
        agency_audits.record_escalation,
        done,
        "partnership/alert.html",
        reference=_known(item["case_id"]).get(item["agency_id"] or "", ""),
    )


# --------------------------------------------------------------------------- the panel


@bp.route("/children/<case_id>/panel/open", methods=["POST"])
@requires("panel.run")
def panel_open(review_id: str, case_id: str) -> Response:
    """Open a child's panel before every agency has submitted (the lead's decision)."""
    _check_multi_agency()
    case = _case_or_404(case_id)
    if ActionForm().validate_on_submit() and panels.open_panel(
        get_db(), review_id, case_id, by=g.user.id
    ):
        flash(
            f"The panel for {case['pseudonym']} is open: every agency that knows the child now"
            " sees all the agencies' answers, and their audits can no longer change."
        )
    return redirect(url_for("partnership.panel_page", review_id=review_id, case_id=case_id))


def _panel_context(
    case: dict[str, Any], panel: panels.Panel | None, **extra: Any
) -> dict[str, Any]:
    db = get_db()
    rubric = g.review.rubric
    names = _names()
    known = _known(case["id"])
    agencies = [(a, names.get(a, a)) for a in known]
    shown = _audits_shown(case["id"], panel is not None)
    all_audits = agency_audits.for_case(db, case["id"])
    statuses = {
        a: ("submitted" if all_audits[a].submitted else "in_progress")
        if a in all_audits
        else "not_started"
        for a in known
    }
    agreed = panel.answers if panel else {}
    rows = agenda(rubric, case["case_type"], agencies, shown, agreed)
    theme_list = theme_data.for_review(db, g.review.id)
    learning_form = extra.pop("learning_form", None) or LearningForm(prefix="learning")
    learning_form.themes.choices = [SelectChoice(t.id, t.name) for t in themes.usable(theme_list)]
    action_form = extra.pop("action_form", None) or AgencyActionForm(prefix="action")
    others = [a for a in agency_data.all_agencies(db) if not a.retired and a.id not in known]
    action_form.agency.choices = [SelectChoice(a, n) for a, n in agencies] + [
        SelectChoice(a.id, a.name) for a in others
    ]
    return {
        "review": g.review,
        "case": case,
        "case_type": _case_type_label(case["case_type"]),
        "panel": panel,
        "known": [(a, names.get(a, a), known[a], statuses[a]) for a in known],
        "agenda": rows,
        "own": own_sections(rubric, case["case_type"], agencies, shown),
        "hidden": [names.get(a, a) for a in known if a not in shown],
        "part": panel_part(rubric),
        "sections": scoring.applicable(panel_part(rubric), case["case_type"]),
        "answer_label": answer_label,
        "rubric": rubric,
        "manage": _manages(),
        "learning": panels.learning(db, g.review.id, case["id"]),
        "learning_form": learning_form,
        "actions": panels.actions(db, g.review.id, case_id=case["id"]),
        "action_form": action_form,
        "alerts": agency_audits.escalations(db, g.review.id, case_id=case["id"]),
        "shown_answers": {
            row.question.id: [
                (a.agency_name, answer_label(row.question, rubric, a.answer)) for a in row.answers
            ]
            for row in rows
        },
        "action_button": ActionForm(),
        "conflicts": _conflicts(case["id"], all_audits),
        **extra,
    }


def _conflicts(case_id: str, audits: dict[str, Any]) -> list[dict[str, Any]]:
    """Other versions of the child's agency audits that merged bundles held, with what differs."""
    from audit.partnership.bundle import differences

    out = []
    for conflict in panels.conflicts(get_db(), g.review.id):
        if conflict["case_id"] != case_id:
            continue
        local = audits.get(conflict["agency_id"])
        rows = differences(g.review.rubric, local, conflict["incoming"]) if local else []
        out.append({**conflict, "differences": rows})
    return out


@bp.route("/children/<case_id>/panel", methods=["GET", "POST"])
@requires("panel.view")
def panel_page(review_id: str, case_id: str) -> str | Response | tuple[str, int]:
    """The audit discussion of one child: answers side by side, then what the panel agreed."""
    _check_multi_agency()
    db = get_db()
    case = _case_or_404(case_id)
    panel = panels.get(db, review_id, case_id)
    if not _manages():
        if panel is None or g.user.agency_id not in _known(case_id):
            abort(403)
        if request.method == "POST":
            abort(403)
        return render_template("partnership/panel.html", form=None, **_panel_context(case, panel))
    part = panel_part(g.review.rubric)
    form_class = build_form_class(part, case["case_type"], base=PanelFormBase)
    if panel is None:
        if request.method == "POST":
            flash("Open the panel before recording what it agreed.", "error")
            return redirect(url_for("partnership.panel_page", review_id=review_id, case_id=case_id))
        return render_template("partnership/panel.html", form=None, **_panel_context(case, panel))
    if request.method == "GET":
        form = _panel_form(case, panel)
        return render_template("partnership/panel.html", form=form, **_panel_context(case, panel))
    form = form_class()
    if not form.validate_on_submit():
        return render_template("partnership/panel.html", form=form, **_panel_context(case, panel))
    answers = answers_from(form, part, case["case_type"])  # type: ignore[arg-type]
    agreeing = request.form.get("action") == "agree"
    held_on = _iso(form.held_on.data)
    problems = scoring.check_submission(part, case["case_type"], answers, set()) if agreeing else []
    if agreeing and held_on is None:
        problems.insert(
            0, scoring.ScoringProblem("held_on", "Enter the date of the audit discussion", "")
        )
    try:
        version = int(form.version.data or 0)
    except ValueError:
        abort(400)
    try:
        result = panels.save(
            db,
            review_id,
            case_id,
            expected_version=version,
            answers=answers,
            held_on=held_on,
            adverse_questions=[q.id for q in scoring.adverse(part, case["case_type"], answers)],
            critical_questions=[q.id for q in part.critical_questions()],
            by=g.user.id,
            agree=agreeing and not problems,
        )
    except panels.StalePanel as stale:
        flash(
            "Someone else saved the panel's record while you were working: nothing of yours"
            " was saved. Here is the record as it stands; make your changes again.",
            "error",
        )
        current = stale.current
        return render_template(
            "partnership/panel.html",
            form=_panel_form(case, current),
            **_panel_context(case, current),
        ), 409
    if problems:
        saved = panels.get(db, review_id, case_id)
        assert saved is not None  # it was saved just now
        return render_template(
            "partnership/panel.html",
            form=_panel_form(case, saved, held_on=form.held_on.data),
            submit_errors=[{"text": p.message, "href": f"#{p.field}"} for p in problems],
            field_errors={p.field: p.message for p in problems},
            **_panel_context(case, saved),
        )
    if result.raised:
        flash(
            "Saved. The panel agreed the child may not be adequately safeguarded: tell the"
            " responsible manager today and record it below."
        )
        return redirect(
            url_for("partnership.alert", review_id=review_id, alert_id=result.raised[0])
        )
    if agreeing:
        flash(f"The panel's agreed judgements for {case['pseudonym']} are recorded.")
    else:
        flash("Saved.")
    return _to_panel(review_id, case_id, "agreed")


def _to_panel(review_id: str, case_id: str, part: str) -> Response:
    """Back to one part of the child's panel page, after a post."""
    return redirect(
        url_for("partnership.panel_page", review_id=review_id, case_id=case_id) + f"#{part}"
    )


def _open_panel(case_id: str) -> tuple[dict[str, Any], panels.Panel]:
    """The child and its panel, which must be open to record anything (409 otherwise)."""
    case = _case_or_404(case_id)
    panel = panels.get(get_db(), g.review.id, case_id)
    if panel is None:
        abort(409)
    return case, panel


def _panel_form(case: dict[str, Any], panel: panels.Panel, **fixed: Any) -> Any:
    """The agreed-judgements form filled with what is saved (and ``fixed`` values)."""
    part = panel_part(g.review.rubric)
    form_class = build_form_class(part, case["case_type"], base=PanelFormBase)
    data = form_data(part, case["case_type"], panel.answers, frozenset(), {}, panel.version)
    data["held_on"] = moments.shown(panel.held_on)
    data.update(fixed)
    return form_class(formdata=None, data=data)


@bp.route("/children/<case_id>/panel/learning", methods=["POST"])
@requires("panel.run")
def learning_add(review_id: str, case_id: str) -> str | Response:
    """Record a piece of learning the panel agreed, with its themes."""
    _check_multi_agency()
    db = get_db()
    case, panel = _open_panel(case_id)
    form = LearningForm(prefix="learning")
    theme_list = theme_data.for_review(db, review_id)
    offered = themes.usable(theme_list)
    form.themes.choices = [SelectChoice(t.id, t.name) for t in offered]
    if form.validate_on_submit():
        chosen = themes.chosen(form.themes.data or [], offered)
        new_theme = " ".join((form.new_theme.data or "").split())
        if new_theme:
            problems = themes.check_theme(new_theme, "", [t.name for t in theme_list])
            if problems:
                form.new_theme.errors = [problems[0].message]
                return _panel_again(case, panel, learning_form=form)
            chosen.add(
                theme_data.create(
                    db,
                    name=new_theme,
                    programme_id=g.review.programme_id,
                    review_id=review_id,
                    by=g.user.id,
                )
            )
        panels.add_learning(
            db, review_id, case_id, text=form.text.data, theme_ids=chosen, by=g.user.id
        )
        flash("Learning recorded.")
        return _to_panel(review_id, case_id, "learning")
    return _panel_again(case, panel, learning_form=form)


def _panel_again(case: dict[str, Any], panel: panels.Panel, **forms: Any) -> tuple[str, int]:
    """Show the panel page again with a form's errors (the agreed judgements as saved)."""
    return render_template(
        "partnership/panel.html",
        form=_panel_form(case, panel),
        **_panel_context(case, panel, **forms),
    ), 400


@bp.route("/children/<case_id>/panel/learning/<learning_id>/delete", methods=["POST"])
@requires("panel.run")
def learning_delete(review_id: str, case_id: str, learning_id: str) -> Response:
    """Remove a piece of learning recorded by mistake."""
    _check_multi_agency()
    _case_or_404(case_id)
    if ActionForm().validate_on_submit():
        try:
            panels.delete_learning(get_db(), review_id, learning_id, by=g.user.id)
        except LookupError:
            abort(404)
        flash("Learning removed.")
    return _to_panel(review_id, case_id, "learning")


@bp.route("/children/<case_id>/panel/actions", methods=["POST"])
@requires("panel.run")
def action_add(review_id: str, case_id: str) -> str | Response:
    """Record an action the panel agreed, owned by an agency, with its due date."""
    _check_multi_agency()
    db = get_db()
    case, panel = _open_panel(case_id)
    form = AgencyActionForm(prefix="action")
    live = [a for a in agency_data.all_agencies(db) if not a.retired]
    form.agency.choices = [SelectChoice(a.id, a.name) for a in live]
    if form.validate_on_submit():
        due = _iso(form.due_date.data)
        if due is None:
            form.due_date.errors = ["Enter a real date, for example 31/1/2027"]
            return _panel_again(case, panel, action_form=form)
        agency = agency_data.get(db, form.agency.data)
        panels.add_action(
            db,
            review_id,
            case_id,
            agency_id=agency.id,
            agency_name=agency.name,
            what=form.what.data,
            due_date=due,
            by=g.user.id,
        )
        flash(f"Action for {agency.name} added.")
        return _to_panel(review_id, case_id, "actions")
    return _panel_again(case, panel, action_form=form)
