"""Views: validate a form, call the data layer or domain, flash, redirect."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlite_utils
from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for

from audit import policy
from audit.data import reviews as review_data
from audit.data import themes as theme_data
from audit.data import users
from audit.data.db import connect
from audit.views import instead

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints anyone may reach without signing in.
PUBLIC_ENDPOINTS = {
    "auth.sign_in",
    "auth.sign_in_code",
    "auth.sso_start",
    "auth.sso_callback",
    "static",
}
# What a signed-in person may still reach before they can use the service: a single sign-on
# account waiting for a role, or an admin or lead who must first set up one-time codes.
ACCOUNT_ENDPOINTS = {"auth.sign_out", "auth.waiting", "static"}
MFA_ROLES = ("admin", "lead")


def get_db() -> sqlite_utils.Database:
    """Return this request's database connection, opening it on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"], current_app.config["BUSY_TIMEOUT_MS"])
    return g.db


def mfa_required(user: users.User) -> bool:
    """Tell whether this user must use one-time codes (an admin's setting, password sign-ins)."""
    return (
        user.role in MFA_ROLES
        and session.get("auth_method") == "password"
        and users.auth_setting(get_db(), "mfa_required_for_admins_and_leads") == "1"
    )


def register_request_hooks(app: Flask) -> None:
    """Load the signed-in user and send everyone else to sign in."""

    @app.before_request
    def _load_user() -> Any:
        g.user = None
        user_id = session.get("user_id")
        if user_id is not None:
            user = users.get(get_db(), user_id)
            if user is not None and user.active:
                g.user = user
            else:
                session.clear()
        endpoint = request.endpoint
        if g.user is None and endpoint not in PUBLIC_ENDPOINTS:
            if endpoint is None:
                return None  # let the 404 handler answer
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        if endpoint is None or endpoint in ACCOUNT_ENDPOINTS or endpoint in PUBLIC_ENDPOINTS:
            return None
        if g.user.awaiting_role and not endpoint.startswith("account."):
            return redirect(url_for("auth.waiting"))
        if not g.user.totp_enabled and endpoint != "account.two_factor" and mfa_required(g.user):
            flash("Your administrator asks admins and leads to use a one-time code: set it up now.")
            return redirect(url_for("account.two_factor"))
        return None


def requires(action: str) -> Callable[[F], F]:
    """Allow the view only if the policy allows ``action``; review views pass ``review_id``.

    For a view with a ``review_id`` argument, the review is loaded into ``g.review`` and the
    user's role in it into ``g.review_role``; a review the user may not see is a 404, so
    its existence is not revealed. A single-agency page of a multi-agency review, once
    allowed, sends the person to its partnership equivalent (:mod:`audit.views.instead`).
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            review_id = kwargs.get("review_id")
            role = None
            if review_id is None and kwargs.get("programme_id") is not None:
                # A programme's pages: the person's role in any of its reviews.
                role = theme_data.programme_role(get_db(), kwargs["programme_id"], g.user.id)
                g.review_role = role
            if review_id is not None:
                try:
                    g.review = review_data.get(get_db(), review_id)
                except review_data.ReviewNotFound:
                    abort(404)
                role = review_data.membership(get_db(), review_id, g.user.id)
                g.review_role = role
                if not policy.may_see_review(g.user, role):
                    abort(404)
            if not policy.allowed(g.user, action, role):
                abort(403)
            if review_id is not None:
                # A single-agency page of a multi-agency review: its partnership equivalent.
                moved = instead.elsewhere(g.review, request.endpoint, kwargs)
                if moved is not None:
                    return moved
            return view(*args, **kwargs)

        wrapped.required_action = action  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def can(action: str) -> bool:
    """Return whether the signed-in user may do ``action`` here (for templates)."""
    return policy.allowed(g.get("user"), action, g.get("review_role"))
