"""The page that records an escalation, for a case audit's alert and an agency's or panel's.

A child found not adequately safeguarded is escalated the same way whoever audited them: the
person who raised the alert, or a lead of the review, says who was told, when, and what was
agreed. :func:`record_page` is that page's logic; each kind of audit gives its own alert,
its own way of recording it, where to go afterwards and its template.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import abort, flash, g, redirect, render_template
from werkzeug.wrappers import Response

from audit import policy
from audit.forms import EscalationForm
from audit.views import get_db


def record_page(
    item: Mapping[str, Any],
    record: Callable[..., None],
    done: str,
    template: str,
    **context: Any,
) -> str | Response:
    """Show the alert and its form; on a valid post record the escalation and go to ``done``.

    ``record`` is the data layer's ``record_escalation`` for the alert's table. Anyone but
    the alert's raiser and the review's leads is refused (403).
    """
    if not (
        item["raised_by"] == g.user.id or policy.allowed(g.user, "review.manage", g.review_role)
    ):
        abort(403)
    form = EscalationForm()
    if form.validate_on_submit():
        record(
            get_db(),
            item["id"],
            g.review.id,
            told_who=form.told_who.data.strip(),
            told_at=form.told_at.data.strip(),
            agreed_action=form.agreed_action.data.strip(),
            by=g.user.id,
        )
        flash(f"Escalation for {item['pseudonym']} recorded.")
        return redirect(done)
    return render_template(
        template,
        form=form,
        item=item,
        review=g.review,
        question=g.review.rubric.question(item["question_id"]),
        **context,
    )
