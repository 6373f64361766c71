"""Forms of the multi-agency pages; the agency and panel forms are built per request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, Regexp

from audit.forms import DATE_PATTERN, at_most

NAMES = "Do not write children's, families' or workers' names: use roles and agencies."


class AgencyAuditFormBase(FlaskForm):
    """What an agency's audit form holds besides the rubric's questions."""

    version = HiddenField()


class PanelFormBase(FlaskForm):
    """What the panel's agreed-judgements form holds besides the rubric's questions."""

    version = HiddenField()
    held_on = StringField(
        "Date of the audit discussion",
        description="For example, 27/10/2026. Needed to record the agreed judgements.",
        widget=GovTextInput(),
        validators=[Regexp(DATE_PATTERN, message="Enter the date of the discussion as 27/10/2026")],
    )


def agency_field(agency_id: str) -> str:
    """Return the checkbox name for "this agency knows the child"."""
    return f"agency-{agency_id}"


def reference_field(agency_id: str) -> str:
    """Return the text field name for the agency's own reference."""
    return f"reference-{agency_id}"


class ChildFormBase(FlaskForm):
    """A child in a multi-agency review: the review's reference, case type, agencies."""

    submit = SubmitField("Save", widget=GovSubmitInput())


def child_form_class(
    agencies: Sequence[tuple[str, str]],
    case_types: Sequence[tuple[str, str]],
    *,
    new: bool,
) -> type[ChildFormBase]:
    """Return a fresh form class: one checkbox and one reference box per agency."""
    attrs: dict[str, Any] = {}
    if new:
        attrs["reference"] = StringField(
            "The review's reference for the child",
            description="The lead agency's case reference, or the partnership's own. " + NAMES,
            widget=GovTextInput(),
            validators=[
                DataRequired("Enter the review's reference for the child"),
                at_most("The reference", 80),
            ],
        )
        attrs["case_type"] = RadioField(
            "Case type",
            choices=[SelectChoice(i, label) for i, label in case_types],
            widget=GovRadioInput(),
            validators=[DataRequired("Choose the case type")],
            invalid_choice_message="Choose the case type from the list",
        )
    for agency_id, name in agencies:
        attrs[agency_field(agency_id)] = BooleanField(f"Known to {name}", widget=GovCheckboxInput())
        attrs[reference_field(agency_id)] = StringField(
            f"{name}'s own reference (optional)",
            widget=GovTextInput(),
            validators=[Optional(), at_most(f"{name}'s reference", 80)],
        )
    return type("ChildForm", (ChildFormBase,), attrs)


class AuditorForm(FlaskForm):
    """Add someone who belongs to an agency as an agency auditor of the review."""

    user = SelectField(
        "Person",
        description="Only people who belong to an agency are listed (an admin sets that on"
        " the Agencies page).",
        widget=GovSelect(),
        validators=[DataRequired("Choose a person")],
        invalid_choice_message="Choose a person from the list",
    )
    submit = SubmitField("Add agency auditor", widget=GovSubmitInput())


class LearningForm(FlaskForm):
    """A piece of learning the panel agreed, with its themes."""

    text = TextAreaField(
        "Learning",
        description="What the partnership should learn from this child's journey. " + NAMES,
        widget=GovTextArea(),
        validators=[DataRequired("Write the learning"), at_most("The learning", 4000)],
    )
    themes = SelectMultipleField(
        "Learning themes",
        widget=GovCheckboxesInput(),
        validators=[Optional()],
        invalid_choice_message="Choose themes from the list",
    )
    new_theme = StringField(
        "Or a new theme (optional)",
        description="It is added to the programme's list of themes (or this review's).",
        widget=GovTextInput(),
        validators=[Optional(), at_most("The new theme", 80)],
    )
    submit = SubmitField("Add learning", widget=GovSubmitInput())


class AgencyActionForm(FlaskForm):
    """An action the panel agreed, owned by one agency, due by a date."""

    agency = RadioField(
        "Agency that owns the action",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose the agency that owns the action")],
        invalid_choice_message="Choose the agency from the list",
    )
    what = TextAreaField(
        "Action",
        description=NAMES,
        widget=GovTextArea(),
        validators=[DataRequired("Describe the action"), at_most("The action", 2000)],
    )
    due_date = StringField(
        "Due date",
        description="For example, 31/1/2027",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the date the action is due"),
            Regexp(DATE_PATTERN, message="Enter the due date as 31/1/2027"),
        ],
    )
    submit = SubmitField("Add action", widget=GovSubmitInput())


class AgencyNameForm(FlaskForm):
    """Add an agency to the installation's list, or rename one."""

    name = StringField(
        "Name of the agency",
        description="For example, Ambulance service",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the agency's name"), at_most("The agency's name", 80)],
    )
    submit = SubmitField("Add agency", widget=GovSubmitInput())


class PersonAgencyForm(FlaskForm):
    """Say which agency a person belongs to."""

    user = SelectField(
        "Person",
        widget=GovSelect(),
        validators=[DataRequired("Choose a person")],
        invalid_choice_message="Choose a person from the list",
    )
    agency = SelectField(
        "Agency",
        widget=GovSelect(),
        validators=[Optional()],
        invalid_choice_message="Choose an agency from the list",
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class ReportForm(FlaskForm):
    """Download the partnership report."""

    fmt = RadioField(
        "Format",
        choices=[SelectChoice("pdf", "PDF"), SelectChoice("docx", "Word (.docx)")],
        default="pdf",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose PDF or Word")],
        invalid_choice_message="Choose PDF or Word",
    )
    submit = SubmitField("Download the internal report", widget=GovSubmitInput())
