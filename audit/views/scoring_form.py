"""Build the scoring form for one case from the review's own rubric, fresh per request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from audit import moments
from audit.caselist import parse_date
from audit.forms import at_most, uk_date
from audit.rubric import NOT_APPLICABLE, Question, Rubric
from audit.scoring import Answer, answer_field, applicable, evidence_field, section_na_field
from audit.widgets import FastCheckboxInput, FastRadioInput, FastTextArea, FastTextInput

NAMES_REMINDER = (
    "Do not write children's, families' or workers' names: use roles (mother, social worker)."
)
MAX_NOTE = 10_000
FormT = TypeVar("FormT", bound=FlaskForm)


def _answer_field(question: Question, rubric: Rubric) -> Any:
    if question.type == "text":
        return TextAreaField(
            question.text,
            description=question.hint or NAMES_REMINDER,
            widget=FastTextArea(),
            validators=[Optional(), at_most(f"The answer to “{question.text}”", MAX_NOTE)],
        )
    if question.type == "grade":
        choices = [SelectChoice(level.id, level.label) for level in rubric.scale.levels]
    else:
        choices = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
    if question.allow_na:
        choices.append(SelectChoice(NOT_APPLICABLE, "Not applicable"))
    return RadioField(
        question.text,
        choices=choices,
        description=question.hint,
        widget=FastRadioInput(),
        validate_choice=True,
        validators=[Optional()],
        invalid_choice_message=f"Choose an answer to “{question.text}” from the list",
    )


class ScoringFormBase(FlaskForm):
    """Fields every audit has besides the rubric's questions."""

    version = HiddenField()
    feedback_given = RadioField(
        "Was feedback given to the worker and their manager?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "Not yet")],
        widget=FastRadioInput(),
        validators=[Optional()],
        invalid_choice_message="Say whether feedback was given: yes or not yet",
    )
    feedback_date = StringField(
        "Date feedback was given",
        description="For example, 27/10/2026",
        widget=FastTextInput(),
        validators=[
            Optional(),
            uk_date("Enter the date feedback was given as 27/10/2026"),
        ],
    )
    feedback_response = TextAreaField(
        "The worker's and manager's response",
        description=NAMES_REMINDER,
        widget=FastTextArea(),
        validators=[Optional(), at_most("The worker's and manager's response", MAX_NOTE)],
    )
    action_what = TextAreaField(
        "Case action agreed (optional)",
        description="What must happen on this case, for the lead to follow up.",
        widget=FastTextArea(),
        validators=[Optional(), at_most("Case action", 2000)],
    )
    action_owner = StringField(
        "Who will do it",
        description="A role, for example team manager.",
        widget=FastTextInput(),
        validators=[Optional(), at_most("Who will do the case action", 200)],
    )
    action_due = StringField(
        "By when",
        description="For example, 10/11/2026",
        widget=FastTextInput(),
        validators=[
            Optional(),
            uk_date("Enter the date the action is due as 10/11/2026"),
        ],
    )


def build_form_class(
    rubric: Rubric,
    case_type: str,
    base: type[FormT] = ScoringFormBase,  # type: ignore[assignment]
) -> type[FormT]:
    """Return a new form class with a field per question asked for this case type.

    A fresh class per request: WTForms binds fields at class level, so mutating a shared
    class would leak one case's questions into another's form. ``base`` holds the fields
    besides the questions (a multi-agency audit passes its own, with the agency's part of
    the rubric as ``rubric``).
    """
    attrs: dict[str, Any] = {}
    for section, questions in applicable(rubric, case_type):
        if not section.compulsory:
            attrs[section_na_field(section.id)] = BooleanField(
                "This section does not apply to this case",
                widget=FastCheckboxInput(),
            )
        for question in questions:
            attrs[answer_field(question.id)] = _answer_field(question, rubric)
            if question.type != "text":
                attrs[evidence_field(question.id)] = TextAreaField(
                    "Evidence and analysis",
                    description=NAMES_REMINDER,
                    widget=FastTextArea(),
                    validators=[
                        Optional(),
                        at_most(f"Evidence and analysis for “{question.text}”", MAX_NOTE),
                    ],
                )
    return type("ScoringForm", (base,), attrs)


def form_data(
    rubric: Rubric,
    case_type: str,
    answers: Mapping[str, Answer],
    sections_na: frozenset[str],
    feedback: Mapping[str, Any],
    version: int,
) -> dict[str, Any]:
    """Return the form's initial data from a saved audit, so reopening shows what was saved."""
    data: dict[str, Any] = {"version": str(version)}
    for section, questions in applicable(rubric, case_type):
        data[section_na_field(section.id)] = section.id in sections_na
        for question in questions:
            answer = answers.get(question.id, Answer())
            data[answer_field(question.id)] = answer.effective
            data[evidence_field(question.id)] = answer.evidence
    for key in ("feedback_given", "feedback_date", "feedback_response"):
        data[key] = feedback.get(key, "")
    # Shown back as typed (27/10/2026), as the hint asks, though kept in ISO form.
    data["feedback_date"] = moments.shown(data["feedback_date"])
    return data


def answers_from(form: ScoringFormBase, rubric: Rubric, case_type: str) -> dict[str, Answer]:
    """Read every shown question's answer from a submitted form (blanks included)."""
    out: dict[str, Answer] = {}
    for _section, questions in applicable(rubric, case_type):
        for question in questions:
            raw = form[answer_field(question.id)].data
            value = raw.strip() if isinstance(raw, str) else raw
            evidence = ""
            if question.type != "text":
                evidence = (form[evidence_field(question.id)].data or "").strip()
            if value == NOT_APPLICABLE:
                out[question.id] = Answer(None, True, evidence)
            else:
                out[question.id] = Answer(value or None, False, evidence)
    return out


def sections_na_from(form: ScoringFormBase, rubric: Rubric, case_type: str) -> set[str]:
    """Return the sections the reviewer marked as not applying to this case."""
    return {
        section.id
        for section, _ in applicable(rubric, case_type)
        if not section.compulsory and form[section_na_field(section.id)].data
    }


def feedback_from(form: ScoringFormBase) -> dict[str, str]:
    """Return the practice-feedback fields as stored on the audit (dates in ISO form)."""
    feedback = {
        key: (form[key].data or "").strip()
        for key in ("feedback_given", "feedback_date", "feedback_response")
        if (form[key].data or "").strip()
    }
    when = parse_date(feedback.get("feedback_date", ""))
    if when is not None:
        feedback["feedback_date"] = when.isoformat()
    return feedback
