"""Sign in (password, then a one-time code if turned on; or single sign-on) and sign out."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from audit import passwords
from audit.data import throttle, users
from audit.forms import ActionForm, CodeForm, SignInForm
from audit.views import get_db

bp = Blueprint("auth", __name__)

SSO = "sso"  # the name the identity provider is registered under with Authlib
MFA_KEY = "mfa_pending"  # a password that was right, waiting for its one-time code
MFA_MINUTES = 5
NEXT_KEY = "sso_next"


def init_app(app: Flask) -> None:
    """Register the identity provider with Authlib when single sign-on is configured."""
    if not app.config.get("SSO_ISSUER"):
        return
    issuer = app.config["SSO_ISSUER"]
    oauth = OAuth(app)
    client = oauth.register(
        SSO,
        client_id=app.config["SSO_CLIENT_ID"],
        client_secret=app.config["SSO_CLIENT_SECRET"] or None,
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["SSO_SCOPE"], "timeout": 15},
    )
    client.framework.expires_in = int(app.config["SSO_STATE_MINUTES"]) * 60
    app.extensions["case_audit_sso"] = client


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


def _start_session(user: users.User, method: str, next_url: str | None) -> Response:
    """Begin a fresh session for ``user`` (new token)."""
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["auth_method"] = method
    return redirect(_safe_next(next_url))


def _throttled(key: str, max_failures: int) -> bool:
    settings = current_app.config
    return throttle.blocked(
        get_db(),
        key,
        request.remote_addr or "unknown",
        max_failures=max_failures,
        minutes=settings["SIGN_IN_WINDOW_MINUTES"],
    )


def _too_many() -> str:
    return (
        "Too many failed attempts to sign in. Wait "
        f"{current_app.config['SIGN_IN_WINDOW_MINUTES']} minutes and try again, or ask your "
        "administrator for help."
    )


def _sign_in_page(form: SignInForm, status: int = 200, sso_error: str | None = None) -> Any:
    return (
        render_template(
            "auth/sign_in.html",
            form=form,
            sso_name=current_app.config["SSO_PROVIDER_NAME"] if _sso_client() else None,
            sso_error=sso_error,
        ),
        status,
    )


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    """Show the sign-in form and check the username and password."""
    form = SignInForm()
    if form.validate_on_submit():
        db = get_db()
        username = form.username.data.strip()
        address = request.remote_addr or "unknown"
        if _throttled(username, current_app.config["SIGN_IN_MAX_FAILURES"]):
            form.password.errors = [_too_many()]
            return _sign_in_page(form, 429)
        user = users.authenticate(db, username, form.password.data)
        throttle.record(db, username, address, succeeded=user is not None)
        if user is not None:
            if user.totp_enabled:
                session.clear()
                session[MFA_KEY] = {
                    "user_id": user.id,
                    "at": time.time(),
                    "next": request.args.get("next"),
                }
                return redirect(url_for("auth.sign_in_code"))
            return _start_session(user, "password", request.args.get("next"))
        # Never say whether the username exists.
        form.password.errors = ["The username or password is not right"]
    return _sign_in_page(form)


@bp.route("/sign-in/code", methods=["GET", "POST"])
def sign_in_code() -> Any:
    """Ask for the one-time code (or a recovery code) after a right password."""
    pending = session.get(MFA_KEY)
    if not pending or time.time() - pending.get("at", 0) > MFA_MINUTES * 60:
        session.pop(MFA_KEY, None)
        if pending:
            flash("That took too long: sign in again.", "error")
        return redirect(url_for("auth.sign_in"))
    db = get_db()
    user = users.get(db, pending["user_id"])
    if user is None or not user.active:
        session.pop(MFA_KEY, None)
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        key = f"code:{user.username}"
        if _throttled(key, current_app.config["CODE_MAX_FAILURES"]):
            form.code.errors = [_too_many()]
            return render_template("auth/code.html", form=form), 429
        if _code_accepted(user, form.code.data):
            throttle.record(db, key, request.remote_addr or "unknown", succeeded=True)
            left = users.recovery_codes_left(db, user.id)
            if left <= 2:
                flash(
                    f"You have {left} recovery code{'' if left == 1 else 's'} left. "
                    "Turn one-time codes off and on again in your account to get new ones.",
                    "error",
                )
            return _start_session(user, "password", pending.get("next"))
        throttle.record(db, key, request.remote_addr or "unknown", succeeded=False)
        form.code.errors = ["The code is not right, or has been used already"]
    return render_template("auth/code.html", form=form)


def _code_accepted(user: users.User, typed: str) -> bool:
    """Check a six-digit code (each only once) or an unused recovery code."""
    db = get_db()
    secret = users.totp_secret(db, user.id)
    if secret is None:
        return False
    step = passwords.totp_step(secret, typed)
    if step is not None:
        return users.use_totp_step(db, user.id, step)
    return users.use_recovery_code(db, user.id, passwords.recovery_code_hash(typed))


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    """Sign out: the session ends on the server, so a copied cookie stops working too."""
    form = ActionForm()
    if form.validate_on_submit():
        session.clear()
        flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/waiting")
def waiting() -> Any:
    """Tell a new single sign-on user that an admin has to give them access first."""
    if g.user is None or not g.user.awaiting_role:
        return redirect(url_for("reviews.home"))
    return render_template("auth/waiting.html")


# --- single sign-on (OpenID Connect) -------------------------------------------------------


def _sso_client() -> Any:
    return current_app.extensions.get("case_audit_sso")


@bp.route("/sign-in/sso")
def sso_start() -> Response:
    """Send the browser to the identity provider, with a fresh state and nonce."""
    client = _sso_client()
    if client is None:
        abort(404)
    session[NEXT_KEY] = request.args.get("next")
    try:
        return client.authorize_redirect(url_for("auth.sso_callback", _external=True))
    except (requests.RequestException, AuthlibBaseError, ValueError, KeyError) as exc:
        current_app.logger.warning("single sign-on could not start: %s", exc)
        return _sign_in_page(SignInForm(formdata=None), 502, _SSO_DOWN)


_SSO_DOWN = "Signing in with your organisation's account is not working just now. Try again later."
_SSO_FAILED = "Signing in with your organisation's account did not work. Try again."


@bp.route("/sign-in/sso/callback")
def sso_callback() -> Any:
    """Check what the identity provider sent back and sign the person in."""
    client = _sso_client()
    if client is None:
        abort(404)
    issuer = current_app.config["SSO_ISSUER"]
    state = request.args.get("state", "")
    stored = session.get(f"_state_{SSO}_{state}") if state else None
    if not isinstance(stored, dict) or stored.get("exp", 0) < time.time():
        # Unknown, used already (a replay) or too old: Authlib does not check the age itself.
        session.pop(f"_state_{SSO}_{state}", None)
        current_app.logger.warning("single sign-on refused: unknown or expired state")
        return _sign_in_page(SignInForm(formdata=None), 400, _SSO_FAILED)
    try:
        metadata = client.load_server_metadata()
        if metadata.get("issuer") != issuer:
            raise ValueError(f"the provider calls itself {metadata.get('issuer')!r}")
        token = client.authorize_access_token(
            claims_options={"iss": {"essential": True, "values": [issuer]}}
        )
    except (requests.RequestException, AuthlibBaseError, JoseError, ValueError, KeyError) as exc:
        session.pop(f"_state_{SSO}_{state}", None)
        current_app.logger.warning("single sign-on refused: %s", exc)
        return _sign_in_page(SignInForm(formdata=None), 400, _SSO_FAILED)
    claims = token.get("userinfo") or {}
    email = str(claims.get("email") or "").strip()
    if not claims.get("sub") or not email:
        return _sign_in_page(SignInForm(formdata=None), 400, _SSO_FAILED)
    if claims.get("email_verified") is not True and claims.get("xms_edov") is not True:
        current_app.logger.warning("single sign-on refused: email %s is not verified", email)
        return _sign_in_page(
            SignInForm(formdata=None),
            403,
            "Your organisation's account has no verified email address, so it cannot be "
            "matched to a user here. Ask your administrator.",
        )
    domains = {d.lower().lstrip("@") for d in current_app.config["SSO_EMAIL_DOMAINS"]}
    if domains and email.rsplit("@", 1)[-1].lower() not in domains:
        current_app.logger.warning("single sign-on refused: %s is not in an allowed domain", email)
        return _sign_in_page(
            SignInForm(formdata=None),
            403,
            f"{email} is not an account this service accepts. Sign in with your work account.",
        )
    try:
        user, created = users.sign_on(
            get_db(),
            issuer=issuer,
            subject=str(claims["sub"]),
            email=email,
            name=str(claims.get("name") or ""),
        )
    except users.AccountDeactivated:
        return _sign_in_page(
            SignInForm(formdata=None),
            403,
            "Your account has been deactivated. Ask your administrator if you need it again.",
        )
    if created:
        current_app.logger.info("single sign-on created user %s, waiting for a role", email)
    return _start_session(user, "sso", session.get(NEXT_KEY))
