"""Assemble the Flask app: settings, database, templates, security, errors and blueprints."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from audit import paths
from audit.config import load_settings, secret_key
from audit.data.db import connect
from audit.data.migrations import migrate
from audit.rubric import RubricLibrary

csrf = CSRFProtect()
log = logging.getLogger("audit")

CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def build_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the app; see :func:`audit.create_app`."""
    test_config = dict(test_config or {})
    instance = paths.instance_dir(test_config.pop("INSTANCE_PATH", None))
    # Owner-only: the folder holds the database, its backups and the signing key.
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    app = Flask(
        "audit",
        instance_path=str(instance),
        static_folder=str(paths.STATIC_DIR),
        template_folder=None,
    )
    app.config.update(load_settings(instance))
    app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(instance)
    app.config.setdefault("DATABASE", str(instance / "audit.db"))

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(paths.TEMPLATES_DIR)),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    init_database(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies:
        # Behind a reverse proxy, take the client's address (for sign-in throttling) and
        # scheme from the proxy's X-Forwarded-* headers, trusting exactly that many hops.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.extensions["rubric_library"] = RubricLibrary(
        [paths.RUBRICS_DIR, Path(app.instance_path) / "rubrics"]
    )
    from audit.session_store import DatabaseSessionInterface
    from audit.views.scoring import keep_unsaved_work

    app.session_interface = DatabaseSessionInterface()

    # Before the CSRF check, so a post that fails it because a sign-in expired is kept.
    app.before_request(keep_unsaved_work)
    csrf.init_app(app)

    from audit import errors, views
    from audit.views import (
        account,
        admin,
        auth,
        collab,
        findings,
        history,
        programmes,
        report,
        reviews,
        rubrics,
        scoring,
        transfer,
    )

    app.register_blueprint(auth.bp)
    auth.init_app(app)
    app.register_blueprint(account.bp)
    app.register_blueprint(reviews.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(rubrics.bp)
    app.register_blueprint(scoring.bp)
    app.register_blueprint(findings.bp)
    app.register_blueprint(report.bp)
    app.register_blueprint(transfer.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(programmes.bp)
    app.register_blueprint(collab.bp)
    errors.register(app)
    views.register_request_hooks(app)

    @app.before_request
    def _nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        nonce = getattr(g, "csp_nonce", None) or secrets.token_urlsafe(16)
        response.headers["Content-Security-Policy"] = CSP.format(nonce=nonce)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_appcontext
    def _close_db(_exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.conn.close()

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "can": views.can,
            "service_name": app.config["SERVICE_NAME"],
            "csp_nonce": getattr(g, "csp_nonce", ""),
            "current_user": getattr(g, "user", None),
        }

    return app


def init_database(path: str, busy_timeout_ms: int = 10_000) -> None:
    """Create the database if needed and apply any pending migrations."""
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    db = connect(path, busy_timeout_ms)
    try:
        migrate(db)
    finally:
        db.conn.close()
    # Owner-only; SQLite gives the -wal and -shm files the database's permissions.
    os.chmod(path, 0o600)
