"""The cached GOV.UK widgets (audit/widgets.py) render byte-for-byte what the stock ones render.

audit/widgets.py keeps each field's HTML in a cache keyed by the macro's params, and puts a
textarea's or text input's value back into cached HTML. These tests compare its output with
govuk-frontend-wtf's own widgets for every kind of field the scoring form uses, over a matrix
of params, both on a cache miss (cold) and on a hit (warm); then the whole scoring page, with
and without errors. Speed itself is measured by bench/scoring_page.py, not here; these tests
only check that repeat renders really are cache hits.
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from govuk_frontend_wtf import gov_form_base
from govuk_frontend_wtf import wtforms_widgets as gov
from markupsafe import Markup
from wtforms import BooleanField, Form, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from audit import create_app, widgets
from audit.rubric import NOT_APPLICABLE
from tests.conftest import csrf_token
from tests.helpers import health_check, make_review

STOCK = {
    widgets.FastRadioInput: gov.GovRadioInput,
    widgets.FastTextArea: gov.GovTextArea,
    widgets.FastCheckboxInput: gov.GovCheckboxInput,
    widgets.FastTextInput: gov.GovTextInput,
}
NASTY = "Mum's <b>partner</b> & \"Dad\" > 'gran' <script>alert(1)</script>"
VALUES = [
    "",
    "plain words",
    NASTY,
    "line one\nline two\r\nline three\n",
    "\n  leading newline and spaces, trailing too  \n",
    "caf\u00e9 \u2013 \u2018curly\u2019 \u201cquotes\u201d \U0001f600",
    "&amp; already-escaped &lt;tag&gt;",
    widgets.VALUE_SENTINEL,
    f"before {widgets.VALUE_SENTINEL} after",
]
ERRORS = {
    "none": ((), None),
    "field error": (("Not a valid choice.",), None),
    "params error": ((), {"text": "Answer “Is the child safe?”"}),
    "both, with escaping": (("Field <error> & more",), {"text": "Template's <error>"}),
}


def _hits(app: Flask) -> int:
    return widgets.renderer(app).cached.cache_info().hits


def _check(
    app: Flask,
    widget: type,
    make_field: Callable[[Any], Any],
    *,
    data: Any = None,
    params: dict[str, Any] | None = None,
    errors: tuple[str, ...] = (),
    cacheable: bool = True,
) -> str:
    """Render one field with the stock widget, then twice with ours; all three must match.

    The cache is not emptied between calls, so params that wrongly shared a key with an
    earlier case would get that case's HTML and fail here. Our first render is a miss unless
    an earlier case had equal params; the second must be a hit. ``params`` is deep-copied for
    every render, because the stock widgets change the dict they get. Returns the HTML.
    """
    html = {}
    with app.test_request_context():
        for name, instance in (
            ("stock", STOCK[widget]()),
            ("first", widget()),
            ("again", widget()),
        ):
            form = type("CaseForm", (Form,), {"field": make_field(instance)})(data={"field": data})
            form.field.errors = list(errors)
            hits = _hits(app)
            kwargs = {} if params is None else {"params": copy.deepcopy(params)}
            html[name] = str(form.field(**kwargs))
            if name == "again" and cacheable:
                assert _hits(app) == hits + 1, "a repeat render must be a cache hit"
    assert html["first"] == html["stock"], (data, params, errors)
    assert html["again"] == html["stock"], (data, params, errors)
    return html["stock"]


# --------------------------------------------------------------------------- radios


@functools.cache
def _levels() -> list[tuple[str, str]]:
    return [(level.id, level.label) for level in health_check().scale.levels]


def _grade_choices(allow_na: bool) -> list[SelectChoice]:
    choices = [SelectChoice(value, label) for value, label in _levels()]
    if allow_na:
        choices.append(SelectChoice(NOT_APPLICABLE, "Not applicable"))
    return choices


def test_radios_match_stock_over_the_scoring_forms_params(app) -> None:  # type: ignore[no-untyped-def]
    legends = {
        "text": {"text": "Is the plan <SMART> & reviewed?", "classes": "govuk-fieldset__legend--s"},
        "optional": {"text": "Any drift? (optional)", "classes": "govuk-fieldset__legend--s"},
        "html": {"html": Markup("Plan <span class='x'>quality</span>")},
        "same text as Markup": {"text": Markup("Is the plan <SMART> & reviewed?")},
    }
    hints = {
        "none": [],
        # The template gives one hint per scale level, none for "Not applicable".
        "every level": [{"hint": {"text": f"Guidance {i} <ok> & 'fine'"}} for i in range(4)],
        "some items": [{"hint": {"text": "Strong"}}, {}, {"hint": {"text": "Weak"}}],
    }
    cases = itertools.product(
        (False, True),  # N/A choice
        (None, "inadequate", NOT_APPLICABLE),  # checked
        hints,
        ERRORS,
        legends,
        ("govuk-radios--small", "govuk-radios--small govuk-radios--inline"),
        # (critical question: formGroup classes, question hint as the field's description)
        ((False, ""), (True, ""), (False, "Think about the whole file.")),
    )
    seen, count = set(), 0
    for allow_na, checked, hint, error, legend, classes, (critical, description) in cases:
        if checked == NOT_APPLICABLE and not allow_na:
            continue
        field_errors, error_message = ERRORS[error]
        params: dict[str, Any] = {
            "fieldset": {"legend": legends[legend]},
            "classes": classes,
            "items": hints[hint],
        }
        if critical:
            params["formGroup"] = {"classes": "app-critical"}
        if error_message:
            params["errorMessage"] = error_message
        html = _check(
            app,
            widgets.FastRadioInput,
            lambda w, allow_na=allow_na, description=description: RadioField(
                "Question", choices=_grade_choices(allow_na), description=description, widget=w
            ),
            data=checked,
            params=params,
            errors=field_errors,
        )
        seen.add(html)
        count += 1
    # Every combination above gives different markup: the cache must tell them all apart.
    assert len(seen) == count


def test_yes_no_and_feedback_radios_match_stock(app) -> None:  # type: ignore[no-untyped-def]
    for checked, error in itertools.product((None, "yes", "no", "maybe"), ERRORS):
        field_errors, error_message = ERRORS[error]
        for params in (
            {
                "fieldset": {
                    "legend": {"text": "Was it done?", "classes": "govuk-fieldset__legend--s"}
                },
                "classes": "govuk-radios--small govuk-radios--inline",
                "items": [],
            },
            {
                "fieldset": {"legend": {"text": "Was feedback given?"}},
                "classes": "govuk-radios--inline",
            },
            None,  # no params at all: the field label becomes the legend
        ):
            if params is not None and error_message:
                params = {**params, "errorMessage": error_message}
            _check(
                app,
                widgets.FastRadioInput,
                lambda w: RadioField(
                    "Was it <done>?",
                    choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "Not yet")],
                    widget=w,
                ),
                data=checked,
                params=params,
                errors=field_errors,
            )


# --------------------------------------------------------------------------- textareas


def test_textareas_match_stock_for_every_value_label_hint_and_error(app) -> None:  # type: ignore[no-untyped-def]
    labels = {
        "text question": {"label": {"text": "Summary <of> the case", "classes": "govuk-label--s"}},
        "evidence (str html)": {
            "label": {
                "html": 'Evidence and analysis<span class="govuk-visually-hidden"> for: '
                "Is the child &amp; family seen?</span>"
            }
        },
        "evidence (Markup html)": {
            "label": {
                "html": Markup(
                    'Evidence and analysis<span class="govuk-visually-hidden"> for: Q</span>'
                )
            }
        },
        "field label": {},
    }
    hints = {
        "field description": {},
        "params hint": {"hint": {"text": "Required. Do not write children\u2019s names <ever>."}},
    }
    for value, label, hint, error, rows in itertools.product(
        VALUES, labels, hints, ERRORS, (None, 2, 3, 4)
    ):
        field_errors, error_message = ERRORS[error]
        params: dict[str, Any] = {**labels[label], **hints[hint]}
        if rows is not None:
            params["rows"] = rows
        if error_message:
            params["errorMessage"] = error_message
        _check(
            app,
            widgets.FastTextArea,
            lambda w: TextAreaField(
                "Evidence", description="Do not write children's, families' names.", widget=w
            ),
            data=value,
            params=params,
            errors=field_errors,
        )


def test_textarea_with_no_data_and_no_params_matches_stock(app) -> None:  # type: ignore[no-untyped-def]
    _check(app, widgets.FastTextArea, lambda w: TextAreaField("Notes", widget=w), data=None)


def test_sentinel_in_a_label_falls_back_to_the_macro(app) -> None:  # type: ignore[no-untyped-def]
    params = {"label": {"text": f"Label {widgets.VALUE_SENTINEL}"}}
    for value in ("", NASTY, widgets.VALUE_SENTINEL):
        # The cached HTML holds the sentinel twice, so the widget renders the macro directly.
        _check(
            app,
            widgets.FastTextArea,
            lambda w: TextAreaField("Notes", widget=w),
            data=value,
            params=params,
        )


# --------------------------------------------------------------------------- checkbox, input


def test_section_does_not_apply_checkbox_matches_stock(app) -> None:  # type: ignore[no-untyped-def]
    for checked, error, params in itertools.product(
        (False, True, None),
        ERRORS,
        ({"classes": "govuk-checkboxes--small"}, {}, None),
    ):
        field_errors, error_message = ERRORS[error]
        if params is not None and error_message:
            params = {**params, "errorMessage": error_message}
        _check(
            app,
            widgets.FastCheckboxInput,
            lambda w: BooleanField("This section does not apply to this case", widget=w),
            data=checked,
            params=params,
            errors=field_errors,
        )


def test_text_inputs_match_stock(app) -> None:  # type: ignore[no-untyped-def]
    for value, error, classes, description in itertools.product(
        [*VALUES, None],
        ERRORS,
        ("govuk-input--width-10", "govuk-!-width-one-half", None),
        ("For example, 27/10/2026", ""),
    ):
        field_errors, error_message = ERRORS[error]
        params: dict[str, Any] = {}
        if classes:
            params["classes"] = classes
        if error_message:
            params["errorMessage"] = error_message
        _check(
            app,
            widgets.FastTextInput,
            lambda w, description=description: StringField(
                "Date <feedback> was given", description=description, widget=w
            ),
            data=value,
            params=params,
            errors=field_errors,
        )


# --------------------------------------------------------------------------- the cache itself


class _LazyText:
    """Stands in for a lazy translation string: not plain data, so never a cache key."""

    def __str__(self) -> str:
        return "Lazy <hint>"


def test_params_that_are_not_plain_data_bypass_the_cache(app) -> None:  # type: ignore[no-untyped-def]
    _check(
        app,
        widgets.FastTextArea,
        lambda w: TextAreaField("Notes", widget=w),
        data=NASTY,
        params={"hint": {"text": _LazyText()}},
        cacheable=False,
    )
    assert widgets.renderer(app).cached.cache_info().currsize == 0


def test_equal_looking_params_of_different_types_never_share_an_entry(app) -> None:  # type: ignore[no-untyped-def]
    def legend(text: Any) -> dict[str, Any]:
        return {"fieldset": {"legend": {"text": text}}}

    def yes_no(w: Any) -> RadioField:
        return RadioField("Q", choices=[SelectChoice("yes", "Yes")], widget=w)

    as_text = _check(app, widgets.FastRadioInput, yes_no, params=legend("<b>Q</b>"))
    as_markup = _check(app, widgets.FastRadioInput, yes_no, params=legend(Markup("<b>Q</b>")))
    assert "&lt;b&gt;Q&lt;/b&gt;" in as_text
    assert "<b>Q</b>" in as_markup
    assert widgets._freeze({"rows": True}) != widgets._freeze({"rows": 1})
    assert widgets._freeze({"a": [1]}) != widgets._freeze({"a": (1,)})


def test_cache_is_bounded(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert widgets.renderer(app).cached.cache_info().maxsize == widgets.CACHE_SIZE
    monkeypatch.setattr(widgets, "CACHE_SIZE", 3)
    app.extensions.pop("audit.widgets")  # a fresh renderer picks up the smaller size
    with app.test_request_context():
        for n in range(10):
            form = type(
                "F", (Form,), {"f": TextAreaField(f"Label {n}", widget=widgets.FastTextArea())}
            )()
            form.f()
    assert widgets.renderer(app).cached.cache_info().currsize == 3


def test_each_app_has_its_own_cache(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    other = create_app({"INSTANCE_PATH": tmp_path / "other", "TESTING": True})
    assert widgets.renderer(app) is not widgets.renderer(other)
    assert widgets.renderer(app).env is app.jinja_env


# --------------------------------------------------------------------------- the whole page


def _normalise(html: str) -> str:
    """Mask what differs between any two renders: CSRF token, CSP nonce, version, save time."""
    html = re.sub(r'nonce="[^"]+"', 'nonce="-"', html)
    html = html.replace(csrf_token(html), "-")
    html = re.sub(r'(name="version" type="hidden" value=")\d+', r"\1-", html)
    return re.sub(r"Saved version \d+(, last saved [^.]*)?\.", "Saved version -.", html)


def test_scoring_page_is_identical_with_stock_widgets(
    client, auth, db, people, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = make_review(db, people)
    auth.sign_in("reviewer")
    page = client.get(f"/reviews/{review.id}")
    url = client.post(
        f"/reviews/{review.id}/cases/{case_ids[0]}/audit",
        data={"csrf_token": csrf_token(page.text)},
    ).headers["Location"]
    app = client.application

    def pages() -> dict[str, str]:
        page = client.get(url).text
        version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
        base = {"csrf_token": csrf_token(page), "version": version}
        invalid = {
            **base,
            "action": "save",
            "answer-risks_identified": "maybe",  # not a choice: a field error on the radios
            "evidence-risks_identified": NASTY,
            "feedback_date": "not a date",
            "action_owner": NASTY,
        }
        got = {
            "GET": page,
            "invalid POST": client.post(url, data=invalid).text,
        }
        # Submitting with answers missing saves the draft and shows errors via the template.
        got["submit with problems"] = client.post(
            url, data={**base, "action": "submit", "evidence-risks_identified": NASTY}
        ).text
        return {name: _normalise(html) for name, html in got.items()}

    pages()  # the first round's POSTs save evidence; from here on every round sees the same audit
    widgets.cache_clear(app)
    cold, warm = pages(), pages()
    monkeypatch.setattr(widgets._Fast, "render", gov_form_base.GovFormBase.render)
    stock = pages()
    assert re.search(r"Choose an answer to “[^”]+” from the list", stock["invalid POST"])
    assert "govuk-form-group--error" in stock["submit with problems"]
    assert "&lt;script&gt;" in stock["submit with problems"]
    for name in stock:
        assert cold[name] == stock[name], name
        assert warm[name] == stock[name], name
