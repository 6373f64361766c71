"""Auditing with the practitioner and the family's view: settings, conversation, feedback."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea, GovTextInput
from werkzeug.wrappers import Response
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from audit import caselist, collaboration, moments, policy
from audit.collaboration import Conversation, FamilyFeedback, SectionView
from audit.data import audits, moderation
from audit.data import conversations as conversation_data
from audit.data import reviews as review_data
from audit.forms import (
    YES_NO_CHOICES,
    ActionForm,
    CollaborationForm,
    FamilyFeedbackForm,
    at_most,
)
from audit.views import get_db, requires

bp = Blueprint("collab", __name__, url_prefix="/reviews/<review_id>")

NO_NAMES = "Do not write the names of children or family members."


@bp.app_context_processor
def family_words() -> dict[str, Any]:
    """Give every template the family questions and answers in words, for records and reports."""
    return {
        "family_questions": collaboration.FAMILY_QUESTIONS,
        "family_answers": collaboration.FAMILY_ANSWERS,
    }


def is_collaborative(review: review_data.Review) -> bool:
    """Tell whether a review's audits each have a conversation with the practitioner."""
    return bool(review.settings.get("collaborative"))


def _audit_to_record(review_id: str, audit_id: str) -> audits.CaseAudit:
    """Return the audit if the signed-in person may record its conversation or feedback.

    That is the audit's own reviewer, or a lead of the review; anyone else gets a 403.
    """
    try:
        audit = audits.get(get_db(), audit_id, review_id=review_id)
    except audits.AuditNotFound:
        abort(404)
    if audit.reviewer_id != g.user.id and not policy.allowed(
        g.user, "review.manage", g.review_role
    ):
        abort(403)
    return audit


def _back_to(audit: audits.CaseAudit) -> Response:
    return redirect(url_for("scoring.audit_page", review_id=audit.review_id, audit_id=audit.id))


@bp.route("/collaboration", methods=["GET", "POST"])
@requires("review.manage")
def settings(review_id: str) -> str | Response:
    """Set whether audits are done with the practitioner, and whether workers are named."""
    review = g.review
    form = CollaborationForm(
        data={
            "collaborative": "yes" if is_collaborative(review) else "no",
            "worker_names": "yes" if review.settings.get("worker_names") else "no",
        }
    )
    if form.validate_on_submit():
        names = form.worker_names.data == "yes"
        removed = conversation_data.save_settings(
            get_db(),
            review_id,
            collaborative=form.collaborative.data == "yes",
            worker_names=names,
            by=g.user.id,
        )
        flash(
            (
                "Audits in this review are done with the practitioner: each has a conversation "
                "after scoring."
                if form.collaborative.data == "yes"
                else "Audits in this review are not done with the practitioner."
            )
            + (
                " Workers' names are recorded."
                if names
                else " Workers' names are not recorded: the role only."
            )
            + (f" {removed} worker name(s) already recorded were removed." if removed else "")
        )
        return redirect(url_for("collab.settings", review_id=review_id))
    return render_template("collab/settings.html", form=form, review=review)


def _grades(audit: audits.CaseAudit) -> dict[str, str | None]:
    """Return the audit's grades as they stand, moderated grades in place of the auditor's."""
    current: dict[str, str | None] = {
        qid: (None if answer.not_applicable else answer.value)
        for qid, answer in audit.answers.items()
    }
    return current | moderation.current_values(get_db(), audit.id)


def _notes(label: str, name: str, description: str = NO_NAMES) -> TextAreaField:
    """Make an optional free-text box for the conversation record; its errors say ``name``."""
    return TextAreaField(
        label,
        description=description,
        widget=GovTextArea(),
        validators=[Optional(), at_most(name, 5000)],
    )


def conversation_form_class(
    sections: list[tuple[Any, str]], worker_names: bool, scale: Any
) -> type[FlaskForm]:
    """Build the conversation form: who took part, each section grade agreed or not, and after."""
    attrs: dict[str, Any] = {
        "held_on": StringField(
            "Date of the conversation",
            description="For example, 27/10/2026",
            widget=GovTextInput(),
            validators=[Optional(), at_most("Date of the conversation", 20)],
        ),
        "worker_role": StringField(
            "Practitioner's role",
            description="For example, social worker in Assessment Team 1. " + NO_NAMES,
            widget=GovTextInput(),
            validators=[Optional(), at_most("Practitioner's role", 200)],
        ),
        "manager_role": StringField(
            "Manager's role, if a manager took part",
            description="For example, team manager.",
            widget=GovTextInput(),
            validators=[Optional(), at_most("Manager's role", 200)],
        ),
        "will_do_differently": _notes(
            "What will the worker do differently?", "What the worker will do differently"
        ),
        "manager_response": _notes("The manager's response", "The manager's response"),
    }
    if worker_names:
        attrs["worker_name"] = StringField(
            "Practitioner's name",
            description="Your council records workers' names. Never a child's or family's.",
            widget=GovTextInput(),
            validators=[Optional(), at_most("Practitioner's name", 200)],
        )
    for section, grade in sections:
        attrs[f"agrees-{section.id}"] = RadioField(
            f"Does the practitioner agree with the grade for {section.title}?",
            choices=[SelectChoice(c.value, c.label) for c in YES_NO_CHOICES],
            description=f"Auditor's grade: {scale.level(grade).label}",
            widget=GovRadioInput(),
            validators=[Optional()],
            invalid_choice_message=f"Say whether the practitioner agrees with the grade for"
            f" {section.title}: yes or no",
        )
        attrs[f"view-{section.id}"] = _notes(
            f"If not, the practitioner's view of the grade for {section.title}",
            f"The practitioner's view of the grade for {section.title}",
            "In their words. " + NO_NAMES,
        )
    return type("ConversationForm", (FlaskForm,), attrs)


def _conversation_data(record: Conversation | None) -> dict[str, Any]:
    if record is None:
        return {}
    data: dict[str, Any] = {
        "held_on": moments.shown(record.held_on),
        "worker_role": record.worker_role,
        "manager_role": record.manager_role,
        "worker_name": record.worker_name,
        "will_do_differently": record.will_do_differently,
        "manager_response": record.manager_response,
    }
    for view in record.sections:
        data[f"agrees-{view.section_id}"] = "yes" if view.agrees else "no"
        data[f"view-{view.section_id}"] = view.practitioner_view
    return data


def _attach(form: FlaskForm, problems: list[collaboration.Problem]) -> None:
    """Put each problem on its field, so the error summary links to it."""
    for problem in problems:
        form[problem.field].errors = [*form[problem.field].errors, problem.message]


@bp.route("/audits/<audit_id>/conversation", methods=["GET", "POST"])
@requires("review.score")
def conversation(review_id: str, audit_id: str) -> str | Response:
    """Record the conversation with the practitioner about a submitted audit."""
    review = g.review
    audit = _audit_to_record(review_id, audit_id)
    if not is_collaborative(review):
        flash("This review is not set up for auditing with the practitioner.", "error")
        return _back_to(audit)
    if not audit.submitted:
        flash("Submit the audit first: the conversation comes after scoring.", "error")
        return _back_to(audit)
    db = get_db()
    case = review_data.case_file(db, audit.case_id, review_id)
    rubric = review.rubric
    sections = collaboration.sections_to_discuss(
        rubric, case["case_type"], audit.sections_na, _grades(audit)
    )
    worker_names = bool(review.settings.get("worker_names"))
    form_class = conversation_form_class(sections, worker_names, rubric.scale)
    existing = conversation_data.conversation(db, audit.id)
    from audit.views.themes import conversation_panel

    if request.method == "GET":
        form = form_class(formdata=None, data=_conversation_data(existing))
    else:
        form = form_class()
        if form.validate_on_submit():
            held_on = caselist.parse_date(form.held_on.data or "")
            agreements = {
                section.id: (
                    form[f"agrees-{section.id}"].data,
                    (form[f"view-{section.id}"].data or "").strip(),
                )
                for section, _grade in sections
            }
            problems = collaboration.check_conversation(
                held_on=held_on.isoformat() if held_on else None,
                worker_role=form.worker_role.data or "",
                agreements=agreements,
                titles={section.id: section.title for section, _grade in sections},
                today=moments.today().isoformat(),
            )
            if not problems and held_on is not None:
                record = Conversation(
                    audit_id=audit.id,
                    held_on=held_on.isoformat(),
                    worker_role=form.worker_role.data.strip(),
                    manager_role=(form.manager_role.data or "").strip(),
                    worker_name=(form.worker_name.data or "").strip() if worker_names else "",
                    will_do_differently=(form.will_do_differently.data or "").strip(),
                    manager_response=(form.manager_response.data or "").strip(),
                    sections=tuple(
                        SectionView(
                            section_id=section.id,
                            question_id=section.grade_question or "",
                            grade=grade,
                            agrees=agreements[section.id][0] == "yes",
                            practitioner_view=agreements[section.id][1],
                        )
                        for section, grade in sections
                    ),
                )
                conversation_data.save_conversation(db, review_id, record, by=g.user.id)
                disputed = len(record.disputed)
                flash(
                    f"Conversation about {case['pseudonym']} recorded"
                    + (
                        f": the practitioner disputes {disputed} grade(s), which the lead "
                        "sees in moderation."
                        if disputed
                        else "."
                    )
                )
                return _back_to(audit)
            _attach(form, problems)
    return render_template(
        "collab/conversation.html",
        form=form,
        review=review,
        audit=audit,
        case=case,
        sections=sections,
        rubric=rubric,
        worker_names=worker_names,
        existing=existing,
        themes=conversation_panel(review, audit),
    )


@bp.route("/audits/<audit_id>/family", methods=["GET", "POST"])
@requires("review.score")
def family(review_id: str, audit_id: str) -> str | Response:
    """Record what the family said about the help they received."""
    db = get_db()
    audit = _audit_to_record(review_id, audit_id)
    case = review_data.case_file(db, audit.case_id, review_id)
    existing = conversation_data.family_feedback(db, audit.id)
    if request.method == "GET" and existing is not None:
        form = FamilyFeedbackForm(
            formdata=None,
            data={
                "consent": "yes" if existing.consent else "no",
                "contact_method": existing.contact_method,
                "family_said": existing.family_said,
                **{key: existing.answer(key) for key, _text in collaboration.FAMILY_QUESTIONS},
            },
        )
    else:
        form = FamilyFeedbackForm()
    form.contact_method.choices = [
        SelectChoice(key, label) for key, label in collaboration.CONTACT_METHODS.items()
    ]
    if form.validate_on_submit():
        answers = {
            key: form[key].data or "not_asked" for key, _text in collaboration.FAMILY_QUESTIONS
        }
        said = (form.family_said.data or "").strip()
        problems = collaboration.check_family_feedback(
            consent=form.consent.data,
            contact_method=form.contact_method.data or "",
            family_said=said,
            answers=answers,
        )
        if not problems:
            consent = form.consent.data == "yes"
            record = FamilyFeedback(
                audit_id=audit.id,
                consent=consent,
                contact_method=form.contact_method.data if consent else "",
                family_said=said if consent else "",
                **(answers if consent else {}),
            )
            conversation_data.save_family_feedback(db, review_id, record, by=g.user.id)
            flash(f"Family feedback for {case['pseudonym']} recorded.")
            return _back_to(audit)
        _attach(form, problems)
    return render_template("collab/family.html", form=form, review=g.review, audit=audit, case=case)


@bp.route("/family-quotes", methods=["POST"])
@requires("review.manage")
def family_quotes(review_id: str) -> Response:
    """Choose which family quotes the findings and the internal report include."""
    if not ActionForm().validate_on_submit():
        abort(400)
    count = conversation_data.choose_quotes(
        get_db(), review_id, request.form.getlist("quote"), by=g.user.id
    )
    flash(
        f"{count} family quote(s) included in the findings and the internal report. "
        "The public report never includes quotes."
    )
    return redirect(url_for("findings.findings_page", review_id=review_id) + "#family-quotes")
