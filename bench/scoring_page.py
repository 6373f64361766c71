"""Scoring page render time, beside plain WTForms rendering the same fields in the same run.

Target (from the issue): "The scoring page for the full health-check rubric renders in under
100 ms of server time (median), and print that figure beside plain WTForms rendering the same
fields in the same run".

The app's widgets (audit/widgets.py) cache each field's HTML, so they are timed twice: warm (what
every view after the first costs) and with the cache emptied first (the first view after a
restart, every field a miss).

Run: .venv/bin/python bench/scoring_page.py
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from common import (
    connect_db,
    header,
    make_app,
    median,
    ms,
    p95,
    result,
    seed_demo,
    start_half_answered_audit,
    table,
    temp_instance,
    timed,
)

CASE_TYPE = "cp"
REPEATS = 100
WARMUP = 10
TARGET_S = 0.100
NAMES_HINT = " Do not write children\u2019s, families\u2019 or workers\u2019 names."


# --------------------------------------------------------------------------- fields only


def _evidence_need(question: Any, rubric: Any) -> str:
    """The evidence hint's first sentence, as templates/components/scoring.html words it."""
    rule = question.evidence
    if rule.kind == "required":
        return "Required."
    if rule.kind == "required_below":
        return f"Required if you grade below {rubric.scale.level(rule.level).label}."
    if rule.kind == "required_when":
        return f"Required if you answer “{rule.answer}”."
    return "Optional."


def _gov_params(field: Any, rubric: Any) -> dict[str, Any] | None:
    """The params the scoring template passes to each GOV.UK widget (fresh dict per call)."""
    from wtforms import HiddenField

    name = field.name
    if isinstance(field, HiddenField):
        return None
    if name.startswith("section-na-"):
        return {"classes": "govuk-checkboxes--small"}
    if name.startswith(("answer-", "evidence-")):
        question = rubric.question(name.split("-", 1)[1])
        if name.startswith("evidence-"):
            return {
                "label": {
                    "html": 'Evidence and analysis<span class="govuk-visually-hidden"> for: '
                    f"{question.text}</span>"
                },
                "hint": {"text": _evidence_need(question, rubric) + NAMES_HINT},
                "rows": 3,
            }
        if question.type == "text":
            return {"label": {"text": question.text, "classes": "govuk-label--s"}, "rows": 4}
        items = []
        if question.type == "grade":
            for level in rubric.scale.levels:
                guidance = question.guidance.get(level.id)
                items.append({"hint": {"text": guidance}} if guidance else {})
        legend = question.text + ("" if question.required else " (optional)")
        params: dict[str, Any] = {
            "fieldset": {"legend": {"text": legend, "classes": "govuk-fieldset__legend--s"}},
            "classes": "govuk-radios--small"
            + (" govuk-radios--inline" if question.type == "yes_no" else ""),
            "items": items,
        }
        if question.critical:
            params["formGroup"] = {"classes": "app-critical"}
        return params
    if name == "feedback_given":
        return {
            "fieldset": {
                "legend": {"text": field.label.text, "classes": "govuk-fieldset__legend--s"}
            },
            "classes": "govuk-radios--inline govuk-radios--small",
        }
    if name in {"feedback_date", "action_due"}:
        return {"classes": "govuk-input--width-10"}
    if name == "action_owner":
        return {"classes": "govuk-!-width-one-half"}
    return {"rows": 3 if name == "feedback_response" else 2}


class FieldRenderers:
    """The scoring form's fields, ready to render with three sets of widgets.

    ``plain``: each field's WTForms default widget (ListWidget of RadioInput, TextArea, ...),
    with its label. ``stock``: govuk-frontend-wtf's GovRadioInput/GovTextArea/... ``fast``: the
    app's widgets in audit/widgets.py. The GOV.UK variants get the params the scoring template
    passes. Call them inside ``app.test_request_context()``.
    """

    def __init__(self, app: Any, review_id: str, audit_id: str) -> None:
        from govuk_frontend_wtf import wtforms_widgets as gov

        from audit import widgets as fast
        from audit.data import audits
        from audit.data import reviews as review_data
        from audit.views.scoring_form import build_form_class, form_data

        stock_for = {
            fast.FastRadioInput: gov.GovRadioInput,
            fast.FastTextArea: gov.GovTextArea,
            fast.FastCheckboxInput: gov.GovCheckboxInput,
            fast.FastTextInput: gov.GovTextInput,
        }
        db = connect_db(app)
        try:
            self.rubric = review_data.get(db, review_id).rubric
            saved = audits.get(db, audit_id)
        finally:
            db.conn.close()
        data = form_data(
            self.rubric, CASE_TYPE, saved.answers, saved.sections_na, saved.feedback, saved.version
        )
        self.build = lambda: build_form_class(self.rubric, CASE_TYPE)(formdata=None, data=data)
        with app.test_request_context():
            self.plain_form, self.stock_form, self.fast_form = (self.build() for _ in range(3))
        for field in self.plain_form:
            # The class attribute is WTForms' default; the app sets its widget per instance.
            field.widget = type(field).widget
        for field in self.stock_form:
            if type(field.widget) in stock_for:
                field.widget = stock_for[type(field.widget)]()
        self.fields = [f for f in self.fast_form if f.name != "csrf_token"]

    def plain(self) -> str:
        """Render every field with WTForms' default widgets, label included."""
        from wtforms import HiddenField

        parts = []
        for field in self.plain_form:
            if field.name == "csrf_token":
                continue
            if not isinstance(field, HiddenField):
                parts.append(str(field.label()))
            parts.append(str(field()))
        return "".join(parts)

    def _gov(self, form: Any) -> str:
        parts = []
        for field in form:
            if field.name == "csrf_token":
                continue
            params = _gov_params(field, self.rubric)
            parts.append(str(field() if params is None else field(params=params)))
        return "".join(parts)

    def stock(self) -> str:
        """Render every field with govuk-frontend-wtf's own widgets."""
        return self._gov(self.stock_form)

    def fast(self) -> str:
        """Render every field with the app's fast widgets."""
        return self._gov(self.fast_form)


def main() -> int:
    from audit import widgets

    header("scoring page: full health-check rubric, cp case, half answered")
    with temp_instance() as instance:
        app = make_app(instance)
        passwords = seed_demo(app)
        client = app.test_client()
        review_id, path, how = start_half_answered_audit(
            app, client, "reviewer1", passwords["reviewer1"]
        )
        audit_id = path.rstrip("/").rsplit("/", 1)[1]
        page_html = client.get(path).text
        if 'name="answer-' not in page_html:
            raise RuntimeError("the audit page has no scoring form")
        renderers = FieldRenderers(app, review_id, audit_id)

        def get_page() -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: {response.status_code}")

        def get_page_cold() -> None:
            widgets.cache_clear(app)
            get_page()

        def fast_cold() -> str:
            widgets.cache_clear(app)
            return renderers.fast()

        variants: dict[str, Callable[[], Any]] = {
            "build": renderers.build,
            "plain": renderers.plain,
            "stock": renderers.stock,
            # Cold before warm: the cold render refills the cache with these params.
            "fast_cold": fast_cold,
            "fast": renderers.fast,
        }
        times: dict[str, list[float]] = {
            "page_cold": [],
            "page": [],
            **{name: [] for name in variants},
        }
        # Interleaved, one of each per round, so a noisy neighbour hits every figure alike.
        # The cold page GET empties the widget cache first (the first view after a restart);
        # the warm GET right after it is what every later view of the page costs.
        for round_number in range(WARMUP + REPEATS):
            round_times = {"page_cold": timed(get_page_cold), "page": timed(get_page)}
            with app.test_request_context():
                round_times.update({name: timed(fn) for name, fn in variants.items()})
            if round_number >= WARMUP:
                for name, value in round_times.items():
                    times[name].append(value)
        with app.test_request_context():
            stock_html = renderers.stock()
            same_cold = stock_html == fast_cold()
            same_warm = stock_html == renderers.fast()
            plain_kb = len(renderers.plain()) / 1024
            gov_kb = len(stock_html) / 1024
        cached = widgets.renderer(app).cached.cache_info()

    page = times["page"]
    plain, stock, fast, cold = (median(times[k]) for k in ("plain", "stock", "fast", "fast_cold"))
    kinds = sorted({type(f).__name__ for f in renderers.fields})
    print(f"\n-- reviewer1's audit of {how}, about half the questions answered")
    print(
        f"   {len(renderers.fields)} fields ({', '.join(kinds)}); page "
        f"{len(page_html) / 1024:.0f} KB; fields-only HTML: plain {plain_kb:.0f} KB, "
        f"GOV.UK {gov_kb:.0f} KB"
    )
    print(f"   {REPEATS} interleaved rounds after {WARMUP} warm-up rounds")
    rows = [
        ["full page GET (Flask test client)", ms(median(page)), ms(p95(page))],
        [
            "full page GET, widget cache emptied first",
            ms(median(times["page_cold"])),
            ms(p95(times["page_cold"])),
        ],
        ["fields only: plain WTForms default widgets", ms(plain), ms(p95(times["plain"]))],
        ["fields only: stock govuk-frontend-wtf widgets", ms(stock), ms(p95(times["stock"]))],
        ["fields only: app's widgets (audit/widgets.py)", ms(fast), ms(p95(times["fast"]))],
        [
            "fields only: app's widgets, cache emptied first",
            ms(cold),
            ms(p95(times["fast_cold"])),
        ],
        [
            "build form class + instantiate (each request)",
            ms(median(times["build"])),
            ms(p95(times["build"])),
        ],
        ["ratio app's widgets / plain", f"{fast / plain:.1f}x", ""],
        ["ratio stock / plain", f"{stock / plain:.1f}x", ""],
        ["ratio stock / app's widgets (what the cache saves)", f"{stock / fast:.1f}x", ""],
        ["ratio stock / app's widgets, cache emptied first", f"{stock / cold:.2f}x", ""],
        [
            "stock and app's widgets give identical HTML (cold, warm)",
            f"{same_cold}, {same_warm}",
            "",
        ],
        ["widget cache entries after the run", f"{cached.currsize} of {cached.maxsize}", ""],
    ]
    table(rows, ["figure", "median", "p95"])
    passed = median(page) < TARGET_S
    result(
        "scoring page",
        passed,
        f"page median {ms(median(page))} (target < {TARGET_S * 1000:.0f} ms), "
        f"{ms(median(times['page_cold']))} with the widget cache emptied; "
        f"fields plain {ms(plain)}, stock {ms(stock)}, app's widgets {ms(fast)} "
        f"({ms(cold)} cold); app/plain {fast / plain:.1f}x, stock/plain {stock / plain:.1f}x",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
