"""Forms for the fixed pages; rubric-driven scoring forms are built per request elsewhere."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import PasswordField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from audit.data.users import ROLES

ROLE_CHOICES = [
    SelectChoice("reviewer", "Reviewer: scores the case files they are given"),
    SelectChoice("lead", "Lead: sets up reviews, moderates, writes findings"),
    SelectChoice("admin", "Admin: manages users and every review"),
]
assert {choice.value for choice in ROLE_CHOICES} == set(ROLES)


class SignInForm(FlaskForm):
    """Username and password."""

    username = StringField(
        "Username", widget=GovTextInput(), validators=[DataRequired("Enter your username")]
    )
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[DataRequired("Enter your password")]
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())



def _password_fields(min_length: int = 10) -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[
            DataRequired("Enter a password"),
            Length(min=min_length, message=f"Password must be at least {min_length} characters"),
        ],
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
        validators=[DataRequired("Enter the person's name"), Length(max=120)],
    )
    role = RadioField(
        "Role", choices=ROLE_CHOICES, default="reviewer", widget=GovRadioInput(),
        validators=[DataRequired("Choose a role")],
    )
    password, confirm = _password_fields()
    submit = SubmitField("Add user", widget=GovSubmitInput())


class PasswordResetForm(FlaskForm):
    """Set a new password for a user."""

    password, confirm = _password_fields()
    submit = SubmitField("Set password", widget=GovSubmitInput())


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
