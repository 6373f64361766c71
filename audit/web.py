"""Assemble the Flask app: settings, database, templates, security, errors and blueprints."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, request

from audit import integrity, moments, paths
from audit.config import secret_key
from audit.instance import init_database, open_instance, rubric_library, template_loader

__all__ = ["build_app", "build_base_app", "init_database"]

log = logging.getLogger("audit")

CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def build_base_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app on an opened instance: settings, database, templates, rubrics."""
    instance, settings = open_instance(test_config)
    app = Flask(
        "audit",
        instance_path=str(instance),
        static_folder=str(paths.STATIC_DIR),
        template_folder=None,
    )
    app.config.update(settings)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(instance)
    app.jinja_loader = template_loader()
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.extensions["rubric_library"] = rubric_library(instance)
    return app


def build_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the app; see :func:`audit.create_app`."""
    from flask_wtf.csrf import CSRFProtect

    app = build_base_app(test_config)
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies:
        # Behind a reverse proxy, take the client's address (for sign-in throttling) and
        # scheme from the proxy's X-Forwarded-* headers, trusting exactly that many hops.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    from audit.session_store import DatabaseSessionInterface
    from audit.views.scoring import keep_unsaved_work

    app.session_interface = DatabaseSessionInterface()

    # Before the CSRF check, so a post that fails it because a sign-in expired is kept.
    app.before_request(keep_unsaved_work)
    CSRFProtect(app)

    from audit import errors, views
    from audit.views import (
        account,
        admin,
        agencies,
        auth,
        calibration,
        collab,
        findings,
        history,
        partnership,
        partnership_outputs,
        place,
        programmes,
        report,
        reviews,
        rubrics,
        scoring,
        themes,
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
    app.register_blueprint(calibration.bp)
    app.register_blueprint(collab.bp)
    app.register_blueprint(themes.bp)
    # Multi-agency case audit: partnership_outputs adds its routes to partnership's blueprint.
    assert partnership_outputs.bp is partnership.bp
    app.register_blueprint(partnership.bp)
    app.register_blueprint(agencies.bp)
    errors.register(app)
    views.register_request_hooks(app)
    place.init_app(app)

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

    app.add_template_filter(moments.shown, "moment")
    app.add_template_filter(moments.day, "day")
    app.add_template_filter(moments.when, "when")
    app.add_template_filter(integrity.grade_label, "grade_label")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "can": views.can,
            "service_name": app.config["SERVICE_NAME"],
            "csp_nonce": getattr(g, "csp_nonce", ""),
            "current_user": getattr(g, "user", None),
        }

    return app
