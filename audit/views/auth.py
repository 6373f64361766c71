"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from audit.data import users
from audit.forms import ActionForm, SignInForm
from audit.views import get_db

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Return ``target`` if it is a path on this site, else the home page (no open redirects)."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("reviews.home")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response:
    """Show the sign-in form and sign the user in."""
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        user = users.authenticate(get_db(), form.username.data.strip(), form.password.data)
        if user is not None:
            session.clear()
            session.permanent = True
            session["user_id"] = user.id
            return redirect(_safe_next(request.args.get("next")))
        # Never say whether the username exists.
        error = "The username or password is not right"
        form.password.errors = [error]
    return render_template("auth/sign_in.html", form=form, error=error)


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    """Sign out and forget the session."""
    form = ActionForm()
    if form.validate_on_submit():
        session.clear()
        flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))
