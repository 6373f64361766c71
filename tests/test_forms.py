"""Every form's errors name their field: no generic WTForms message reaches a page."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from flask_wtf import FlaskForm
from wtforms import DateTimeField, DecimalField, Field, FloatField, IntegerField, TimeField
from wtforms.validators import Length

import audit
from audit import forms
from audit.rubric import Rubric, parse_rubric
from audit.views.collab import conversation_form_class
from audit.views.findings import _moderation_form
from audit.views.scoring_form import build_form_class

TYPED = (IntegerField, DecimalField, FloatField, DateTimeField, TimeField)
RUBRICS = sorted((Path(audit.__file__).parent.parent / "rubrics").glob("*.yaml"))


def _rubrics() -> list[Rubric]:
    return [parse_rubric(path.read_text(encoding="utf-8"), source=str(path)) for path in RUBRICS]


def _form_classes() -> Iterator[type[FlaskForm]]:
    """Yield the fixed pages' forms and the per-request forms built from every shipped rubric."""
    for _, cls in inspect.getmembers(forms, inspect.isclass):
        if issubclass(cls, FlaskForm) and cls is not FlaskForm:
            yield cls
    for rubric in _rubrics():
        sections = [(section, rubric.scale.levels[0].id) for section in rubric.sections]
        yield conversation_form_class(sections, True, rubric.scale)
        for case_type in rubric.case_types:
            yield build_form_class(rubric, case_type.id)
            yield _moderation_form(rubric, case_type.id, {})


def _fields(app: Flask) -> list[tuple[str, Field]]:
    found = []
    with app.test_request_context():
        for cls in _form_classes():
            form = cls(formdata=None, meta={"csrf": False})
            found += [(f"{cls.__name__}.{field.name}", field) for field in form]
    return found


def _specific(check: Length, field: Field) -> bool:
    """Say whether a length error gives the limit or the field's label (as the code's does)."""
    return f"{check.max:,}" in check.message or field.label.text.lower() in check.message.lower()


def test_every_length_and_other_validator_has_a_message_naming_its_field(app: Flask) -> None:
    fields = _fields(app)
    assert len(fields) > 200  # every rubric's questions, not just the fixed pages
    problems = []
    for where, field in fields:
        for validator in field.validators:
            # WTForms falls back to "Field cannot be longer than 80 characters." and the like.
            if getattr(validator, "message", "") is None:
                problems.append(f"{where}: {type(validator).__name__} has no message")
            elif isinstance(validator, Length) and not _specific(validator, field):
                problems.append(f"{where}: {validator.message!r} gives neither limit nor field")
        # Radios and selects fall back to "Not a valid choice."
        if getattr(field, "validate_choice", False) and field.invalid_choice_message is None:
            problems.append(f"{where}: no invalid_choice_message")
        # Number and date fields fall back to "Not a valid integer value." and the like.
        if isinstance(field, TYPED) and field.invalid_value_message is None:
            problems.append(f"{where}: no invalid_value_message")
    assert not problems, "\n".join(problems)


def test_no_length_check_in_the_app_lacks_a_message() -> None:
    """Catch a form built elsewhere that the introspection above does not know about."""
    problems = []
    for path in Path(audit.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Length"
                and not any(k.arg == "message" for k in node.keywords)
            ):
                problems.append(f"{path.name}:{node.lineno}")
    assert not problems, "Length(...) without a message at " + ", ".join(problems)
