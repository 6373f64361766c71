"""GOV.UK widgets that render byte-for-byte what govuk-frontend-wtf's widgets render, from a cache.

Where the time went (cProfile, scoring form for the health-check rubric): almost all of it is
Jinja *inside* the govuk-frontend-jinja macros, about 0.6 ms per radio group. ``govukRadios``
calls ``govukLabel``, ``govukHint`` and ``govukAttributes`` for every choice, every macro call
re-runs its ``{% from ... import %}`` lines, and the ``trim``/``indent`` filters re-escape the
nested markup. govuk-frontend-wtf's per-field ``render_template`` and deepmerge add little:
calling the macro directly, which this module first did, saved only about 15%.

What this module does instead: a macro's output depends on nothing but its params, so each
field's HTML is rendered once and kept in a bounded LRU cache, one per app, keyed by the *whole*
params (every label, hint, legend, class, id, name, checked flag and error message, each tagged
with its type). Two fields share an entry only if the macro would be called with equal params,
so different rubrics and forms never get each other's markup. On a miss the macro is called with
params rebuilt from the key itself, so nothing outside the key can reach the cached HTML.

- Radios and the single checkbox are cached as they are. Their only per-request parts are which
  choice is checked (at most choices + 1 states) and the rare error message, so the hit rate is
  high across requests: a ``cp`` form in every answer state needs about 180 entries.
- Textareas and text inputs hold free text, which would make every request a miss. Their
  ``value`` is replaced in the key by a sentinel. The cached HTML is split at the sentinel, and
  the real value, escaped exactly as the macro's ``{{ params.value }}`` escapes it, is put back
  in per request. If the sentinel does not appear exactly once, the macro is called directly.
- Params that are not plain dicts/lists/tuples of str, Markup, bool, int, float or None (for
  example lazy strings) bypass the cache and go straight to the macro.

Measured by ``bench/scoring_page.py`` on the 2-core development machine (docs/benchmarks.md):
with the cache warm, the scoring form's 85 GOV.UK fields render in 2.3 to 2.5 ms against 36 to
48 ms for the stock widgets (15 to 19 times faster), and the whole page in 8.6 to 9.6 ms instead
of about 41 ms. On a miss a field costs about what the stock widget costs (1.05 to 1.08 times
as fast), so the first view after a restart is no faster. tests/test_widgets_speed.py checks the
output against the stock widgets for every kind of field the scoring form uses.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask, current_app
from govuk_frontend_wtf import wtforms_widgets as gov
from markupsafe import Markup, escape

_MACROS = {
    "radios": ("govuk_frontend_jinja/components/radios/macro.html", "govukRadios"),
    "textarea": ("govuk_frontend_jinja/components/textarea/macro.html", "govukTextarea"),
    "checkboxes": ("govuk_frontend_jinja/components/checkboxes/macro.html", "govukCheckboxes"),
    "input": ("govuk_frontend_jinja/components/input/macro.html", "govukInput"),
}

#: Rendered fields kept per app. A scoring page has ~85 fields; each radio group has at most
#: (choices + 1) checked states, so this holds several rubrics' worth (entries are a few KB).
CACHE_SIZE = 2048

#: Stands in for a textarea's or text input's value while the cached HTML is rendered. Only
#: letters, digits and hyphens, so escaping and the macros' filters leave it as it is.
VALUE_SENTINEL = "case-audit-widget-value-7c1e9b4f2a"

_SCALARS = frozenset({str, Markup, bool, int, float, type(None)})


class _NotCacheable(Exception):
    """Params hold something other than plain data, so they cannot be a cache key."""


def _freeze(obj: Any) -> tuple[Any, Any]:
    """Return a hashable key for params, tagging every value with its exact type.

    Type tags keep apart values that compare equal but render differently: ``"<b>"`` and
    ``Markup("<b>")``, ``True`` and ``1``, a list and a tuple. Dict order is kept, because
    ``govukAttributes`` writes attributes in insertion order.
    """
    kind = type(obj)
    if kind in _SCALARS:
        return (kind, obj)
    if kind is dict:
        return (dict, tuple((_freeze(k), _freeze(v)) for k, v in obj.items()))
    if kind is list or kind is tuple:
        return (kind, tuple(_freeze(v) for v in obj))
    raise _NotCacheable(kind.__name__)


def _thaw(frozen: tuple[Any, Any]) -> Any:
    """Rebuild fresh params from a key made by :func:`_freeze`."""
    kind, value = frozen
    if kind is dict:
        return {_thaw(k): _thaw(v) for k, v in value}
    if kind is list:
        return [_thaw(v) for v in value]
    if kind is tuple:
        return tuple(_thaw(v) for v in value)
    return value


class _Renderer:
    """One app's GOV.UK macros and its cache of rendered fields (lives in ``app.extensions``)."""

    def __init__(self, app: Flask) -> None:
        self.env = app.jinja_env
        self._macros: dict[str, Any] = {}
        # lru_cache is thread-safe; two threads missing on the same key both render, harmlessly.
        self.cached = functools.lru_cache(maxsize=CACHE_SIZE)(self._render_key)

    def macro(self, name: str) -> Any:
        """Return a GOV.UK macro by short name, loading its template module once."""
        found = self._macros.get(name)
        if found is None:
            path, macro_name = _MACROS[name]
            found = self._macros[name] = getattr(self.env.get_template(path).module, macro_name)
        return found

    def _render_key(self, name: str, key: tuple[Any, Any]) -> tuple[str, ...]:
        """Render the macro with the params in ``key``; return the HTML split at the sentinel."""
        return tuple(str(self.macro(name)(_thaw(key))).split(VALUE_SENTINEL))

    def render(self, name: str, params: dict[str, Any], value_slot: bool) -> Markup:
        """Return exactly ``macro(params)``, from the cache when the params allow it."""
        value = params.get("value")
        fill = value_slot and type(value) is str
        if fill:
            params = {**params, "value": VALUE_SENTINEL}
        try:
            pieces = self.cached(name, _freeze(params))
        except _NotCacheable:
            pieces = None
        if fill and pieces is not None and len(pieces) == 2:
            # The macros print the value with ``{{ params.value }}`` (textarea) or
            # ``value | escape`` (input): markupsafe's escape, nothing else.
            return Markup(pieces[0] + str(escape(value)) + pieces[1])
        if not fill and pieces is not None and len(pieces) == 1:
            return Markup(pieces[0])
        # Uncacheable params, or the sentinel appears in a label or hint too: no shortcut.
        if fill:
            params = {**params, "value": value}
        return Markup(self.macro(name)(params))


def renderer(app: Flask) -> _Renderer:
    """Return the app's renderer, creating it on first use."""
    found = app.extensions.get("audit.widgets")
    if found is None:
        found = app.extensions["audit.widgets"] = _Renderer(app)
    return found


def cache_clear(app: Flask) -> None:
    """Empty the app's cache of rendered fields (the benchmark uses it to time cold renders)."""
    renderer(app).cached.cache_clear()


class _Fast:
    macro_name = ""
    value_slot = False

    def render(self, params: dict[str, Any]) -> Markup:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        return renderer(app).render(self.macro_name, params, self.value_slot)


class FastRadioInput(_Fast, gov.GovRadioInput):
    """GOV.UK radios."""

    macro_name = "radios"


class FastTextArea(_Fast, gov.GovTextArea):
    """GOV.UK textarea."""

    macro_name = "textarea"
    value_slot = True


class FastCheckboxInput(_Fast, gov.GovCheckboxInput):
    """A single GOV.UK checkbox."""

    macro_name = "checkboxes"


class FastTextInput(_Fast, gov.GovTextInput):
    """GOV.UK text input."""

    macro_name = "input"
    value_slot = True
