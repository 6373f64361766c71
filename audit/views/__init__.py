"""Views: validate a form, call the data layer or domain, flash, redirect."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlite_utils
from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from audit import policy
from audit.data import reviews as review_data
from audit.data import users
from audit.data.db import connect

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints anyone may reach without signing in.
PUBLIC_ENDPOINTS = {"auth.sign_in", "static"}


def get_db() -> sqlite_utils.Database:
    """Return this request's database connection, opening it on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"], current_app.config["BUSY_TIMEOUT_MS"])
    return g.db


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
        if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
            if request.endpoint is None:
                return None  # let the 404 handler answer
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        return None


def requires(action: str) -> Callable[[F], F]:
    """Allow the view only if the policy allows ``action``; review views pass ``review_id``.

    For a view with a ``review_id`` argument, the review is loaded into ``g.review`` and the
    user's role in it into ``g.review_role``; a review the user may not see is a 404, so
    its existence is not revealed.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            review_id = kwargs.get("review_id")
            role = None
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
            return view(*args, **kwargs)

        wrapped.required_action = action  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def can(action: str) -> bool:
    """Return whether the signed-in user may do ``action`` here (for templates)."""
    return policy.allowed(g.get("user"), action, g.get("review_role"))
