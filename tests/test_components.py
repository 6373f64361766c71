"""govuk-frontend-jinja 4.1 and govuk-frontend-wtf 3.2 render every component we use on 6.3.

Each component is rendered, and every GOV.UK class in its markup must exist in the CSS we
built from GOV.UK Frontend 6.3.0's Sass: markup from an older macro that 6.3 no longer
styles would fail here.
"""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from audit import paths
from audit.forms import CaseImportForm, SignInForm
from audit.widgets import FastCheckboxInput, FastRadioInput, FastTextArea, FastTextInput

CSS = (paths.STATIC_DIR / "css" / "case-audit.css").read_text(encoding="utf-8")
CSS_CLASSES = set(re.findall(r"\.(govuk-[A-Za-z0-9_-]+)", CSS))
# Hooks for GOV.UK's JavaScript, and wrappers that 6.3's own templates also emit unstyled.
UNSTYLED = re.compile(
    r"^govuk-(js-|frontend-supported$|template$|template__body$"
    r"|generic-header__container$|password-input$|checkboxes$|radios$)"
)

MACROS = {
    "generic-header": ("govukGenericHeader", {"logoText": "Case audit", "url": "/"}),
    "service-navigation": (
        "govukServiceNavigation",
        {
            "navigation": [
                {"href": "/reviews", "text": "Reviews", "active": True},
                {"href": "/rubrics/", "text": "Rubrics"},
            ],
            "navigationLabel": "Menu",
        },
    ),
    "notification-banner": ("govukNotificationBanner", {"text": "Saved", "type": "success"}),
    "error-summary": (
        "govukErrorSummary",
        {"titleText": "There is a problem", "errorList": [{"text": "Enter a name", "href": "#n"}]},
    ),
    "summary-list": (
        "govukSummaryList",
        {"rows": [{"key": {"text": "Kind"}, "value": {"text": "Peer review"}}]},
    ),
    "skip-link": ("govukSkipLink", {"href": "#main-content", "text": "Skip to main content"}),
}


def _classes(html: str) -> set[str]:
    found = set()
    for attr in re.findall(r'class="([^"]*)"', html):
        found.update(c for c in attr.split() if c.startswith("govuk-"))
    return found


def _assert_styled(html: str, what: str) -> None:
    classes = _classes(html)
    assert classes, f"{what} rendered no GOV.UK markup"
    missing = sorted(c for c in classes if c not in CSS_CLASSES and not UNSTYLED.match(c))
    assert not missing, f"{what}: classes not in GOV.UK Frontend 6.3 CSS: {missing}"


@pytest.mark.parametrize("component", sorted(MACROS))
def test_jinja_macro_renders_markup_styled_by_frontend_6_3(app, component: str) -> None:  # type: ignore[no-untyped-def]
    macro, params = MACROS[component]
    template = (
        f'{{% from "govuk_frontend_jinja/components/{component}/macro.html" import {macro} %}}'
        f"{{{{ {macro}(params) }}}}"
    )
    with app.test_request_context():
        html = render_template_string(template, params=params)
    _assert_styled(html, component)


class EveryWidgetForm(FlaskForm):
    """One field per widget the app renders."""

    text = StringField("Text", widget=FastTextInput())
    area = TextAreaField("Area", widget=FastTextArea(), description="Hint")
    radios = RadioField(
        "Radios", widget=FastRadioInput(), choices=[SelectChoice("a", "A"), SelectChoice("b", "B")]
    )
    check = BooleanField("Check", widget=FastCheckboxInput())
    password = PasswordField("Password")


def test_wtf_widgets_render_markup_styled_by_frontend_6_3(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        sign_in = SignInForm()
        upload = CaseImportForm()
        every = EveryWidgetForm()
        rendered = {
            "input": str(sign_in.username()),
            "password": str(sign_in.password()),
            "button": str(sign_in.submit()),
            "file-upload": str(upload.case_file()),
            "checkbox": str(upload.skip_existing()),
            "textarea": str(every.area()),
            "radios": str(every.radios(params={"items": [{"hint": {"text": "Guidance"}}]})),
        }
    for what, html in rendered.items():
        _assert_styled(html, what)
    assert 'class="govuk-hint govuk-radios__hint"' in rendered["radios"]
    assert 'data-module="govuk-password-input"' in rendered["password"]


def test_fast_widgets_render_exactly_what_stock_widgets_render(app) -> None:  # type: ignore[no-untyped-def]
    from govuk_frontend_wtf import wtforms_widgets as stock

    class Stock(FlaskForm):
        text = StringField("Text", widget=stock.GovTextInput())
        area = TextAreaField("Area", widget=stock.GovTextArea(), description="Hint")
        radios = RadioField(
            "Radios",
            widget=stock.GovRadioInput(),
            choices=[SelectChoice("a", "A"), SelectChoice("b", "B")],
        )
        check = BooleanField("Check", widget=stock.GovCheckboxInput())

    with app.test_request_context():
        fast, slow = (
            EveryWidgetForm(data={"radios": "b", "area": "x <y>"}),
            Stock(data={"radios": "b", "area": "x <y>"}),
        )
        for name in ("text", "area", "radios", "check"):
            assert str(fast[name]()) == str(slow[name]()), name
