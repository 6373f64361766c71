"""GOV.UK widgets that render the same markup as govuk-frontend-wtf's, several times faster.

govuk-frontend-wtf renders every field through ``flask.render_template`` on a one-line
template that imports the GOV.UK macro afresh: each field pays for a context-processor run,
a template import and the macro module's set-up. A scoring page has ~100 fields, so that
overhead dominated its render time. These subclasses call the same macro from a module that
is built once per Jinja environment, so the HTML (and its accessibility) is unchanged.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from govuk_frontend_wtf import wtforms_widgets as gov
from jinja2 import Environment
from markupsafe import Markup

_MACROS = {
    "radios": ("govuk_frontend_jinja/components/radios/macro.html", "govukRadios"),
    "textarea": ("govuk_frontend_jinja/components/textarea/macro.html", "govukTextarea"),
    "checkboxes": ("govuk_frontend_jinja/components/checkboxes/macro.html", "govukCheckboxes"),
    "input": ("govuk_frontend_jinja/components/input/macro.html", "govukInput"),
}
_cache: dict[tuple[int, str], Any] = {}


def macro(env: Environment, name: str) -> Any:
    """Return a GOV.UK macro by short name, loading its template module once per environment."""
    key = (id(env), name)
    found = _cache.get(key)
    if found is None:
        path, macro_name = _MACROS[name]
        found = getattr(env.get_template(path).module, macro_name)
        _cache[key] = found
    return found


class _Fast:
    macro_name = ""

    def render(self, params: dict[str, Any]) -> Markup:
        return Markup(macro(current_app.jinja_env, self.macro_name)(params))


class FastRadioInput(_Fast, gov.GovRadioInput):
    """GOV.UK radios."""

    macro_name = "radios"


class FastTextArea(_Fast, gov.GovTextArea):
    """GOV.UK textarea."""

    macro_name = "textarea"


class FastCheckboxInput(_Fast, gov.GovCheckboxInput):
    """A single GOV.UK checkbox."""

    macro_name = "checkboxes"


class FastTextInput(_Fast, gov.GovTextInput):
    """GOV.UK text input."""

    macro_name = "input"
