"""Your account: where you are signed in, your password, one-time codes.

Every signed-in person may reach these pages (even one still waiting for a role), and each
acts only on the signed-in user's own account, so they need no ``@requires``.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from audit import passwords
from audit.data import sessions, users
from audit.forms import ActionForm, CodeForm, PasswordChangeForm
from audit.session_store import ServerSession, browser_name
from audit.views import get_db, mfa_required

bp = Blueprint("account", __name__, url_prefix="/account")

ENROL_KEY = "totp_enrol"  # the secret being set up, until a first code confirms it


def _token() -> str | None:
    return session.token if isinstance(session, ServerSession) else None


@bp.route("")
def overview() -> str:
    """List the places you are signed in, with a button to end each."""
    db = get_db()
    token = _token()
    listed = sessions.for_user(
        db,
        g.user.id,
        idle=current_app.config["SESSION_IDLE"],
        lifetime=current_app.permanent_session_lifetime,
    )
    current = sessions.id_for(db, token) if token else None
    return render_template(
        "account/overview.html",
        sessions=[(s, browser_name(s.user_agent), s.id == current) for s in listed],
        idle_minutes=current_app.config["SESSION_IDLE_MINUTES"],
        action_form=ActionForm(),
    )


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
def session_end(session_id: int) -> Response:
    """End one of your sessions (a browser you left signed in elsewhere)."""
    if ActionForm().validate_on_submit():
        if sessions.end_one(get_db(), g.user.id, session_id):
            flash("That session has ended: the browser will have to sign in again.")
        else:
            flash("That session had already ended.")
    return redirect(url_for("account.overview"))


@bp.route("/sessions/end-all", methods=["POST"])
def sessions_end_all() -> Response:
    """Sign out everywhere, this browser included."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("account.overview"))
    sessions.end_all(get_db(), g.user.id)
    session.clear()
    flash("You have signed out everywhere.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/password", methods=["GET", "POST"])
def password() -> Any:
    """Change your own password; every other session of yours ends."""
    if not g.user.has_password:
        flash("You sign in with your organisation's account, so you have no password here.")
        return redirect(url_for("account.overview"))
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if users.authenticate(get_db(), g.user.username, form.current.data) is None:
            form.current.errors = ["Your current password is not right"]
        else:
            users.set_password(
                get_db(), g.user.id, form.password.data, by=g.user.id, keep_session=_token()
            )
            flash("Your password has changed. Every other browser has been signed out.")
            return redirect(url_for("account.overview"))
    return render_template("account/password.html", form=form)


@bp.route("/two-factor", methods=["GET", "POST"])
def two_factor() -> Any:
    """Set up one-time codes: scan the QR code, then type a first code to confirm."""
    db = get_db()
    if g.user.totp_enabled:
        return render_template(
            "account/two_factor_on.html",
            form=CodeForm(formdata=None),
            left=users.recovery_codes_left(db, g.user.id),
            required=mfa_required(g.user),
        )
    if not g.user.has_password:
        flash("Your organisation's sign-in asks for any second factor, not this service.")
        return redirect(url_for("account.overview"))
    secret = session.get(ENROL_KEY)
    if not secret:
        secret = session[ENROL_KEY] = passwords.new_totp_secret()
    form = CodeForm()
    if form.validate_on_submit():
        step = passwords.totp_step(secret, form.code.data)
        if step is None:
            form.code.errors = ["The code is not right: check your app and type the newest code"]
        else:
            codes = passwords.new_recovery_codes()
            users.enable_totp(
                db, g.user.id, secret, step, [passwords.recovery_code_hash(c) for c in codes]
            )
            session.pop(ENROL_KEY, None)
            return render_template("account/recovery_codes.html", codes=codes)
    service = current_app.config["SERVICE_NAME"]
    uri = passwords.totp_uri(secret, g.user.username, service)
    return render_template(
        "account/two_factor_setup.html",
        form=form,
        secret=secret,
        qr=passwords.qr_svg(uri, f"QR code to add {service} to your authenticator app"),
        required=mfa_required(g.user),
    )


@bp.route("/two-factor/off", methods=["POST"])
def two_factor_off() -> Any:
    """Turn one-time codes off, after a current code (not allowed where an admin requires it)."""
    db = get_db()
    if not g.user.totp_enabled:
        return redirect(url_for("account.two_factor"))
    form = CodeForm()
    required = mfa_required(g.user)
    if form.validate_on_submit() and not required:
        secret = users.totp_secret(db, g.user.id) or ""
        step = passwords.totp_step(secret, form.code.data)
        if step is not None and users.use_totp_step(db, g.user.id, step):
            users.disable_totp(db, g.user.id, by=g.user.id)
            flash("One-time codes are off. You sign in with your password alone.")
            return redirect(url_for("account.overview"))
        form.code.errors = ["The code is not right, or has been used already"]
    return render_template(
        "account/two_factor_on.html",
        form=form,
        left=users.recovery_codes_left(db, g.user.id),
        required=required,
    )
