"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from audit.data import throttle, users
from audit.forms import ActionForm, SignInForm
from audit.views import get_db
from audit.views.scoring import PENDING_KEY

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
def sign_in() -> str | Response | tuple[str, int]:
    """Show the sign-in form and sign the user in."""
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        db = get_db()
        username = form.username.data.strip()
        address = request.remote_addr or "unknown"
        settings = current_app.config
        if throttle.blocked(
            db,
            username,
            address,
            max_failures=settings["SIGN_IN_MAX_FAILURES"],
            minutes=settings["SIGN_IN_WINDOW_MINUTES"],
        ):
            error = (
                "Too many failed attempts to sign in. Wait "
                f"{settings['SIGN_IN_WINDOW_MINUTES']} minutes and try again, or ask your "
                "administrator to reset your password."
            )
            form.password.errors = [error]
            return render_template("auth/sign_in.html", form=form, error=error), 429
        user = users.authenticate(db, username, form.password.data)
        throttle.record(db, username, address, succeeded=user is not None)
        if user is not None:
            kept = session.get(PENDING_KEY)  # work kept while the last sign-in ran out
            session.clear()
            session.permanent = True
            session["user_id"] = user.id
            if kept:
                session[PENDING_KEY] = kept
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
