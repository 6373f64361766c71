"""The review list and a review's overview page."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from werkzeug.wrappers import Response

from audit.data import reviews as review_data
from audit.views import get_db, requires

bp = Blueprint("reviews", __name__)


@bp.route("/")
def home() -> Response:
    """Send everyone to their reviews."""
    return redirect(url_for("reviews.review_list"))


@bp.route("/reviews")
@requires("reviews.list")
def review_list() -> str:
    """List the reviews this user may see."""
    visible = review_data.visible_to(get_db(), g.user.id, g.user.is_admin)
    return render_template("reviews/list.html", reviews=visible)


@bp.route("/reviews/<review_id>")
@requires("review.view")
def review_page(review_id: str) -> str:
    """Show a review: its rubric, members and case files."""
    db = get_db()
    return render_template(
        "reviews/review.html",
        review=g.review,
        members=review_data.members(db, review_id),
        cases=review_data.case_files(db, review_id),
    )
