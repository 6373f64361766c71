"""The audit trail: who changed what and when. Read-only: nothing here edits it."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, g, render_template, request

from audit.data import changes
from audit.views import get_db, requires

bp = Blueprint("history", __name__)
PAGE = 200


def _page(review_id: str | None) -> dict[str, Any]:
    before = request.args.get("before", type=int)
    rows = changes.entries(get_db(), review_id=review_id, before=before, limit=PAGE)
    for row in rows:
        for key in ("before", "after"):
            row[key] = json.loads(row[key]) if row[key] else None
    return {"rows": rows, "older": rows[-1]["id"] if len(rows) == PAGE else None}


@bp.route("/reviews/<review_id>/history")
@requires("review.manage")
def review_history(review_id: str) -> str:
    """Show a review's audit trail to its lead."""
    return render_template("history/history.html", review=g.review, **_page(review_id))


@bp.route("/admin/history")
@requires("users.manage")
def all_history() -> str:
    """Show every change in the installation to an admin."""
    return render_template("history/history.html", review=None, **_page(None))
