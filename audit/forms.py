"""Forms for the fixed pages; rubric-driven scoring forms are built per request elsewhere."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovFileInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from audit.caselist import parse_date
from audit.data.users import ROLES
from audit.moments import iso_moment

ROLE_CHOICES = [
    SelectChoice("reviewer", "Reviewer: scores the case files they are given"),
    SelectChoice("lead", "Lead: sets up reviews, moderates, writes findings"),
    SelectChoice("admin", "Admin: manages users and every review"),
]
assert {choice.value for choice in ROLE_CHOICES} == set(ROLES)


def at_most(name: str, limit: int) -> Length:
    """Limit a text's length with an error that names the field, GOV.UK style."""
    return Length(max=limit, message=f"{name} must be {limit:,} characters or fewer")


class SignInForm(FlaskForm):
    """Username and password."""

    username = StringField(
        "Username", widget=GovTextInput(), validators=[DataRequired("Enter your username")]
    )
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[DataRequired("Enter your password")]
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class StrongPassword:
    """Refuse short and common passwords (the length comes from the app's settings)."""

    def __call__(self, form: FlaskForm, field: PasswordField) -> None:
        from flask import current_app

        from audit.passwords import problem

        message = problem(field.data or "", current_app.config["PASSWORD_MIN_LENGTH"])
        if message:
            raise ValidationError(message)


def _password_fields() -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Enter a password"), StrongPassword()],
    )
    confirm = PasswordField(
        "Confirm password",
        widget=GovPasswordInput(),
        validators=[
            DataRequired("Enter the password again"),
            EqualTo("password", message="The passwords do not match"),
        ],
    )
    return password, confirm


class UserForm(FlaskForm):
    """Add a user."""

    username = StringField(
        "Username",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter a username"),
            Length(max=80, message="Username must be 80 characters or fewer"),
            Regexp(
                r"^[A-Za-z0-9._@-]+$",
                message="Username can only use letters, numbers, dots, dashes, underscores and @",
            ),
        ],
    )
    display_name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the person's name"), at_most("Full name", 120)],
    )
    email = StringField(
        "Work email (optional)",
        description="Their email at the identity provider, if they will use single sign-on",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=254, message="Email must be 254 characters or fewer"),
            Regexp(
                r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email like name@example.gov.uk"
            ),
        ],
    )
    role = RadioField(
        "Role",
        choices=ROLE_CHOICES,
        default="reviewer",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose a role")],
        invalid_choice_message="Choose a role from the list",
    )
    password, confirm = _password_fields()
    submit = SubmitField("Add user", widget=GovSubmitInput())


class PasswordResetForm(FlaskForm):
    """Set a new password for a user."""

    password, confirm = _password_fields()
    submit = SubmitField("Set password", widget=GovSubmitInput())


class CodeForm(FlaskForm):
    """A one-time code from an authenticator app, or a recovery code."""

    code = StringField(
        "Code",
        description="The 6-digit code from your authenticator app, or one of your recovery codes",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the code from your authenticator app"),
            Length(max=40, message="Enter a 6-digit code or a recovery code"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class PasswordChangeForm(FlaskForm):
    """Change your own password (you must know the current one)."""

    current = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Enter your current password")],
    )
    password, confirm = _password_fields()
    submit = SubmitField("Change password", widget=GovSubmitInput())


class SecuritySettingsForm(FlaskForm):
    """The admin's sign-in settings."""

    mfa_required = BooleanField(
        "Require a one-time code for admins and leads who sign in with a password",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Save settings", widget=GovSubmitInput())


class RoleForm(FlaskForm):
    """Give a user a role."""

    role = RadioField(
        "Role",
        choices=ROLE_CHOICES,
        widget=GovRadioInput(),
        validators=[DataRequired("Choose a role")],
        invalid_choice_message="Choose a role from the list",
    )
    submit = SubmitField("Give role", widget=GovSubmitInput())


class ActionForm(FlaskForm):
    """A bare form for buttons that change state, so they carry a CSRF token."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class RubricUploadForm(FlaskForm):
    """Upload a rubric YAML file."""

    rubric_file = FileField(
        "Rubric file (YAML)",
        widget=GovFileInput(),
        validators=[
            FileRequired("Choose a rubric file"),
            FileAllowed(["yaml", "yml"], "The rubric must be a .yaml or .yml file"),
        ],
    )
    submit = SubmitField("Check and upload", widget=GovSubmitInput())


def _iso_moment(_form: FlaskForm, field: StringField) -> None:
    """Keep the time as ISO 8601 UTC, the form the database, bundles and exports hold."""
    moment = iso_moment(field.data or "")
    if moment is None:
        raise ValidationError("Enter a real date, and a time if you have it, like 27/10/2026 14:30")
    field.data = moment


class EscalationForm(FlaskForm):
    """Who was told about a child found not adequately safeguarded, when, and what was agreed."""

    told_who = StringField(
        "Who did you tell?",
        description="Their role and team, for example the team manager of Assessment Team 1. "
        "Do not write the child's or family's names.",
        widget=GovTextInput(),
        validators=[DataRequired("Enter who you told"), at_most("Who you told", 200)],
    )
    told_at = StringField(
        "When did you tell them?",
        description="Date and time, for example 27/10/2026 14:30",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter when you told them"),
            at_most("When you told them", 40),
            _iso_moment,
        ],
    )
    agreed_action = TextAreaField(
        "What was agreed?",
        description="The action the manager agreed to take today.",
        widget=GovTextArea(),
        validators=[DataRequired("Enter what was agreed"), at_most("What was agreed", 5000)],
    )
    submit = SubmitField("Record the escalation", widget=GovSubmitInput())


KIND_CHOICES = [
    SelectChoice("peer_review", "Peer review"),
    SelectChoice("self_audit", "Self-audit"),
    SelectChoice("thematic", "Thematic audit"),
]
DATE_PATTERN = r"^\s*(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})?\s*$"


def uk_date(message: str) -> Callable[[FlaskForm, Field], None]:
    """Accept a blank or a real date typed as 27/10/2026 (or ISO); refuse 31/13/2027 too.

    A pattern alone lets an impossible date through, and the view would then store nothing
    without a word: the person must be told, with the field's own example.
    """

    def check(_form: FlaskForm, field: Field) -> None:
        text = (field.data or "").strip()
        if text and (not re.fullmatch(DATE_PATTERN, text) or parse_date(text) is None):
            raise ValidationError(message)

    return check


def collaborative_field(label: str, default: str | None = None) -> RadioField:
    """Ask whether a review's audits are done with the practitioner (a conversation each)."""
    return RadioField(
        label,
        choices=[
            SelectChoice("no", "No"),
            SelectChoice("yes", "Yes: each audit has a conversation with the worker after scoring"),
        ],
        default=default,
        widget=GovRadioInput(),
        validators=[DataRequired("Say whether audits are done with the practitioner")],
        invalid_choice_message="Say whether audits are done with the practitioner: yes or no",
    )


class ReviewForm(FlaskForm):
    """Create a review: what, where, when, and which rubric it scores against."""

    title = StringField(
        "Title",
        widget=GovTextInput(),
        validators=[DataRequired("Enter a title for the review"), at_most("Review title", 200)],
    )
    host_organisation = StringField(
        "Host organisation",
        description="The council whose case files are audited.",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the host organisation"),
            at_most("Host organisation", 200),
        ],
    )
    kind = RadioField(
        "Kind of review",
        choices=KIND_CHOICES,
        default="peer_review",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose the kind of review")],
        invalid_choice_message="Choose the kind of review from the list",
    )
    start_date = StringField(
        "Start date",
        description="For example, 27/10/2026",
        widget=GovTextInput(),
        # Real dates and their order are checked by review_setup (the command line's too).
        validators=[Regexp(DATE_PATTERN, message="Enter the start date as 27/10/2026")],
    )
    end_date = StringField(
        "End date",
        description="For example, 29/10/2026",
        widget=GovTextInput(),
        validators=[Regexp(DATE_PATTERN, message="Enter the end date as 29/10/2026")],
    )
    rubric = RadioField(
        "Rubric",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose a rubric")],
        description="The review keeps its own copy: later changes to the file do not affect it.",
        invalid_choice_message="Choose a rubric from the list",
    )
    programme = SelectField(
        "Programme (optional)",
        widget=GovSelect(),
        validate_choice=True,
        description="For repeated audits: the review joins the programme and its trend.",
        invalid_choice_message="Choose a programme from the list, or none",
    )
    collaborative = collaborative_field("Audit with the practitioner?", default="no")
    submit = SubmitField("Create review", widget=GovSubmitInput())


class MemberForm(FlaskForm):
    """Add a user to a review."""

    user = RadioField(
        "Person",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose a person")],
        invalid_choice_message="Choose a person from the list",
    )
    role = RadioField(
        "Role in this review",
        choices=[SelectChoice("reviewer", "Reviewer"), SelectChoice("lead", "Lead")],
        default="reviewer",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose their role")],
        invalid_choice_message="Choose their role: reviewer or lead",
    )
    submit = SubmitField("Add to review", widget=GovSubmitInput())


class StatusForm(FlaskForm):
    """Move the review along its lifecycle."""

    status = RadioField(
        "Move the review to",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose a status")],
        invalid_choice_message="Choose a status from the list",
    )
    submit = SubmitField("Change status", widget=GovSubmitInput())


class CaseImportForm(FlaskForm):
    """Upload a case list (CSV or XLSX)."""

    case_file = FileField(
        "Case list (CSV or Excel .xlsx)",
        widget=GovFileInput(),
        validators=[
            FileRequired("Choose a case list file"),
            FileAllowed(["csv", "xlsx"], "The case list must be a .csv or .xlsx file"),
        ],
    )
    skip_existing = BooleanField(
        "Skip references already in the review (instead of rejecting the file)",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Import cases", widget=GovSubmitInput())


class SampleForm(FlaskForm):
    """Draw a random sample from the full list of open cases."""

    case_file = FileField(
        "Full list of open cases (CSV or Excel .xlsx)",
        widget=GovFileInput(),
        validators=[
            FileRequired("Choose the list of open cases"),
            FileAllowed(["csv", "xlsx"], "The list must be a .csv or .xlsx file"),
        ],
    )
    size = IntegerField(
        "How many cases to audit",
        widget=GovTextInput(),
        invalid_value_message="Enter how many cases to audit as a number, like 40",
        validators=[
            DataRequired("Enter how many cases to draw"),
            NumberRange(min=1, max=5000, message="Enter a number from 1 to 5000"),
        ],
    )
    stratify_by = RadioField(
        "Draw in proportion to",
        choices=[
            SelectChoice("", "Nothing: a simple random sample"),
            SelectChoice("case_type", "Case type"),
            SelectChoice("team", "Team"),
        ],
        default="",
        widget=GovRadioInput(),
        validate_choice=True,
        invalid_choice_message="Choose what to draw in proportion to from the list",
    )
    exclude_months = IntegerField(
        "Leave out cases audited in the last … months (optional)",
        description="Councils usually avoid re-auditing a file within 12 months. Leave blank "
        "to draw from every case.",
        widget=GovTextInput(),
        invalid_value_message="Enter the months to leave out as a number, like 12",
        validators=[Optional(), NumberRange(min=1, max=60, message="Enter 1 to 60 months")],
    )
    seed = StringField(
        "Random seed (optional)",
        description="Leave blank for a new one. The seed is recorded: the same list and seed "
        "always give the same sample.",
        widget=GovTextInput(),
        validators=[Regexp(r"^\s*\d{0,10}\s*$", message="The seed must be a whole number")],
    )
    submit = SubmitField("Draw the sample", widget=GovSubmitInput())


class SummaryForm(FlaskForm):
    """The lead's executive summary for the report."""

    summary = TextAreaField(
        "Executive summary",
        description="What a director or scrutiny committee should take away. No case details.",
        widget=GovTextArea(),
        validators=[at_most("Executive summary", 20_000)],
    )
    submit = SubmitField("Save summary", widget=GovSubmitInput())


class FindingForm(FlaskForm):
    """The lead's own finding."""

    kind = RadioField(
        "Kind of finding",
        choices=[
            SelectChoice("strength", "Strength"),
            SelectChoice("development", "Area for development"),
        ],
        widget=GovRadioInput(),
        validators=[DataRequired("Choose strength or area for development")],
        invalid_choice_message="Choose strength or area for development",
    )
    text = TextAreaField(
        "Finding",
        widget=GovTextArea(),
        validators=[DataRequired("Write the finding"), at_most("Finding", 4000)],
    )
    questions = SelectField(
        "Linked to the audit question",
        widget=GovSelect(),
        validate_choice=True,
        description="Leave unlinked for findings from interviews, focus groups or observation.",
        invalid_choice_message="Choose an audit question from the list, or leave it unlinked",
    )
    submit = SubmitField("Add finding", widget=GovSubmitInput())


class SecondAuditForm(FlaskForm):
    """Choose cases for an independent second audit."""

    share = IntegerField(
        "Or choose a random share of cases (percent)",
        widget=GovTextInput(),
        invalid_value_message="Enter the share of cases as a number from 1 to 100",
        validators=[Optional(), NumberRange(min=1, max=100, message="Enter a share from 1 to 100")],
    )
    submit = SubmitField("Choose for second audit", widget=GovSubmitInput())


class ThresholdForm(FlaskForm):
    """Set the review's public threshold: counts below it are withheld in the public report."""

    threshold = IntegerField(
        "Withhold counts below",
        widget=GovTextInput(),
        invalid_value_message="Enter the smallest count as a number from 2 to 50",
        validators=[
            DataRequired(message="Enter the smallest count the public report may print"),
            NumberRange(min=2, max=50, message="Enter a whole number from 2 to 50"),
        ],
    )
    submit = SubmitField("Save the threshold", widget=GovSubmitInput())


class BankHolidayForm(FlaskForm):
    """Add a day that working-day counts skip."""

    day = StringField(
        "Date",
        description="For example, 8/5/2028",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the date")],
    )
    name = StringField(
        "Name",
        description="For example, Local closure day",
        widget=GovTextInput(),
        validators=[DataRequired("Enter a name for the day"), at_most("Name of the day", 100)],
    )
    submit = SubmitField("Add day", widget=GovSubmitInput())


class NationForm(FlaskForm):
    """Choose the UK nation whose bank holidays working-day counts skip."""

    nation = RadioField(
        "Nation",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose the nation")],
        invalid_choice_message="Choose a nation from the list",
    )
    submit = SubmitField("Save nation", widget=GovSubmitInput())


class TimelinessForm(FlaskForm):
    """One timeliness measure of a review."""

    measure_id = HiddenField()
    name = StringField(
        "Name",
        description="For example, Assessment completed within 10 working days of referral",
        widget=GovTextInput(),
        validators=[DataRequired("Enter a name"), at_most("Name of the measure", 200)],
    )
    start = SelectField(
        "Counted from (date column)",
        widget=GovSelect(),
        validate_choice=True,
        invalid_choice_message="Choose the date column the measure counts from",
    )
    end = SelectField(
        "Until (date column)",
        widget=GovSelect(),
        validate_choice=True,
        invalid_choice_message="Choose the date column the measure counts until",
    )
    limit = IntegerField(
        "Within how many days",
        widget=GovTextInput(),
        invalid_value_message="Enter the number of days as a number, like 10",
        validators=[
            DataRequired("Enter the number of days"),
            NumberRange(min=1, max=3650, message="Enter a number of days from 1 to 3650"),
        ],
    )
    unit = RadioField(
        "Counting",
        choices=[
            SelectChoice("working_days", "Working days (skip weekends and bank holidays)"),
            SelectChoice("calendar_days", "Calendar days"),
        ],
        default="working_days",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose how to count")],
        invalid_choice_message="Choose working days or calendar days",
    )
    applies_to = SelectMultipleField(
        "Case types",
        description="Leave all unticked for every case type.",
        widget=GovCheckboxesInput(),
        validate_choice=True,
        invalid_choice_message="Choose case types from the rubric's list",
    )
    submit = SubmitField("Save measure", widget=GovSubmitInput())


class BundleForm(FlaskForm):
    """Upload a review bundle."""

    bundle_file = FileField(
        "Review bundle (.json)",
        widget=GovFileInput(),
        validators=[
            FileRequired("Choose a bundle file"),
            FileAllowed(["json"], "A bundle is a .json file exported from case-audit"),
        ],
    )
    submit = SubmitField("Import", widget=GovSubmitInput())


class DeleteReviewForm(FlaskForm):
    """Confirm deleting a review by typing its title."""

    confirm = StringField(
        "Type the review's title to confirm",
        widget=GovTextInput(),
        validators=[DataRequired("Type the review's title to confirm")],
    )
    submit = SubmitField("Delete the review for good", widget=GovSubmitInput())


class ProgrammeForm(FlaskForm):
    """Start a programme of repeated reviews."""

    title = StringField(
        "Title",
        description="For example, Monthly practice audit",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter a title for the programme"),
            at_most("Programme title", 200),
        ],
    )
    kind = RadioField(
        "Kind of review",
        choices=KIND_CHOICES,
        default="self_audit",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose the kind of review")],
        invalid_choice_message="Choose the kind of review from the list",
    )
    description = TextAreaField(
        "What the programme is for (optional)",
        widget=GovTextArea(),
        validators=[Optional(), at_most("What the programme is for", 2000)],
    )
    submit = SubmitField("Create programme", widget=GovSubmitInput())


class NextReviewForm(FlaskForm):
    """The next review of a programme: title, dates and the rubric version."""

    title = StringField(
        "Title",
        widget=GovTextInput(),
        validators=[DataRequired("Enter a title for the review"), at_most("Review title", 200)],
    )
    start_date = StringField(
        "Start date",
        description="For example, 1/12/2026",
        widget=GovTextInput(),
        validators=[uk_date("Enter the start date as 1/12/2026")],
    )
    end_date = StringField(
        "End date",
        description="For example, 31/12/2026",
        widget=GovTextInput(),
        validators=[uk_date("Enter the end date as 31/12/2026")],
    )
    rubric = RadioField(
        "Rubric",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose a rubric")],
        invalid_choice_message="Choose a rubric from the list",
    )
    submit = SubmitField("Start the next review", widget=GovSubmitInput())


class ActionPlanForm(FlaskForm):
    """An action on an area for development."""

    what = TextAreaField(
        "Action",
        widget=GovTextArea(),
        validators=[DataRequired("Describe the action"), at_most("Action", 2000)],
    )
    owner = StringField(
        "Owner",
        description="A role, for example Head of Service, Children in Need",
        widget=GovTextInput(),
        validators=[Optional(), at_most("Owner", 200)],
    )
    due_date = StringField(
        "Due date",
        description="For example, 31/1/2027",
        widget=GovTextInput(),
        validators=[uk_date("Enter the due date as 31/1/2027")],
    )
    status = RadioField(
        "Status",
        choices=[
            SelectChoice("not_started", "Not started"),
            SelectChoice("in_progress", "In progress"),
            SelectChoice("done", "Done"),
            SelectChoice("dropped", "Dropped"),
        ],
        default="not_started",
        widget=GovRadioInput(),
        validators=[DataRequired("Choose the status")],
        invalid_choice_message="Choose the status from the list",
    )
    submit = SubmitField("Save action", widget=GovSubmitInput())


class ActionNoteForm(FlaskForm):
    """A dated progress note on an action."""

    note = TextAreaField(
        "Progress note",
        widget=GovTextArea(),
        validators=[DataRequired("Write the progress note"), at_most("Progress note", 4000)],
    )
    noted_on = StringField(
        "Date",
        description="For example, 15/12/2026",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the date"),
            uk_date("Enter the date as 15/12/2026"),
        ],
    )
    submit = SubmitField("Add note", widget=GovSubmitInput())


class CalibrationForm(FlaskForm):
    """A new calibration exercise: its title, case files and participants."""

    title = StringField(
        "Title",
        description="For example, Calibration panel before the March audits",
        widget=GovTextInput(),
        validators=[DataRequired("Enter a title"), at_most("Exercise title", 200)],
    )
    cases = SelectMultipleField(
        "Case files to grade",
        description="One or a few. Participants see only the pseudonym and the host reference.",
        widget=GovCheckboxesInput(),
        validate_choice=True,
        invalid_choice_message="Choose case files from this review's list",
        validators=[DataRequired("Choose at least one case file")],
    )
    participants = SelectMultipleField(
        "Participants",
        description="Everyone who will grade the case files. Choose at least two.",
        widget=GovCheckboxesInput(),
        validate_choice=True,
        invalid_choice_message="Choose participants from this review's team",
        validators=[DataRequired("Choose at least two participants")],
    )
    submit = SubmitField("Create exercise", widget=GovSubmitInput())

    def validate_participants(self, field: SelectMultipleField) -> None:
        """Refuse a panel of one: agreement needs at least two people."""
        if len(field.data or []) < 2:
            raise ValidationError("Choose at least two participants")


class ProgrammeCalibrationForm(CalibrationForm):
    """A programme's calibration exercise: case files from one of its reviews, anyone to grade."""

    cases = SelectMultipleField(
        "Case files to grade",
        description="One or a few, all from one review: the exercise uses that review's"
        " rubric. Participants see only the pseudonym and the host reference.",
        widget=GovCheckboxesInput(),
        validate_choice=True,
        invalid_choice_message="Choose case files from the programme's reviews",
        validators=[DataRequired("Choose at least one case file")],
    )
    participants = SelectMultipleField(
        "Participants",
        description="Anyone who will grade the case files, for example the reviewers of the"
        " next review. Choose at least two.",
        widget=GovCheckboxesInput(),
        validate_choice=True,
        invalid_choice_message="Choose participants from the list of people",
        validators=[DataRequired("Choose at least two participants")],
    )


class AgreedGradeForm(FlaskForm):
    """The panel's agreed answer to one question of one case, and why."""

    value = RadioField(
        "Agreed answer",
        widget=GovRadioInput(),
        validate_choice=True,
        validators=[DataRequired("Choose the agreed answer")],
        invalid_choice_message="Choose the agreed answer from the list",
    )
    rationale = TextAreaField(
        "Why the panel agreed this",
        description="A short rationale other auditors can learn from. Do not write names.",
        widget=GovTextArea(),
        validators=[DataRequired("Enter the panel's rationale"), at_most("Rationale", 4000)],
    )
    submit = SubmitField("Save agreed answer", widget=GovSubmitInput())
YES_NO_CHOICES = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class CollaborationForm(FlaskForm):
    """A review's collaborative-audit settings."""

    collaborative = collaborative_field("Are audits done with the practitioner?")
    worker_names = RadioField(
        "Record the worker's name?",
        choices=[
            SelectChoice("no", "No: record the worker's role only"),
            SelectChoice("yes", "Yes: the council has chosen to record workers' names"),
        ],
        description="Children's and families' names are never recorded. Choosing No removes "
        "the workers' names already recorded in this review's conversations: they cannot be "
        "brought back (the audit trail keeps the earlier versions).",
        widget=GovRadioInput(),
        validators=[DataRequired("Say whether workers' names are recorded")],
        invalid_choice_message="Say whether workers' names are recorded: yes or no",
    )
    submit = SubmitField("Save settings", widget=GovSubmitInput())


def family_answer_field(label: str) -> RadioField:
    """Make one structured family question: yes, partly, no or not asked."""
    return RadioField(
        label,
        choices=[
            SelectChoice("yes", "Yes"),
            SelectChoice("partly", "Partly"),
            SelectChoice("no", "No"),
            SelectChoice("not_asked", "Not asked"),
        ],
        default="not_asked",
        widget=GovRadioInput(),
        validators=[Optional()],
        invalid_choice_message=f"Choose yes, partly, no or not asked for “{label}”",
    )


class FamilyFeedbackForm(FlaskForm):
    """The family's view of the help they received, in the auditor's words."""

    consent = RadioField(
        "Did the family consent to be contacted?",
        choices=YES_NO_CHOICES,
        widget=GovRadioInput(),
        validators=[Optional()],
        invalid_choice_message="Say whether the family consented: yes or no",
    )
    contact_method = RadioField(
        "How was contact made?",
        widget=GovRadioInput(),
        validators=[Optional()],
        invalid_choice_message="Choose how contact was made from the list",
    )
    family_said = TextAreaField(
        "What did the family say about the help they received?",
        description="In your words. Do not write names of children, family members or "
        "professionals. The lead may quote this in the internal findings; it never appears in "
        "the public report.",
        widget=GovTextArea(),
        validators=[Optional(), at_most("What the family said", 5000)],
    )
    felt_listened_to = family_answer_field("Did they feel listened to?")
    knows_plan = family_answer_field("Do they know the plan?")
    life_better = family_answer_field("Has life got better?")
    submit = SubmitField("Save family feedback", widget=GovSubmitInput())


class ThemeForm(FlaskForm):
    """Add a learning theme to a programme's list, or rename one."""

    name = StringField(
        "Theme",
        description="A few words, for example Drift or Voice of the child",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the theme's name, for example Drift"),
            at_most("Theme name", 80),
        ],
    )
    description = TextAreaField(
        "What it covers (optional)",
        description="So every auditor tags the same things with it",
        widget=GovTextArea(),
        validators=[Optional(), at_most("What the theme covers", 500)],
    )
    submit = SubmitField("Add theme", widget=GovSubmitInput())
