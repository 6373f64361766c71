"""Map errors to pages: one template per status, and a plain fallback if rendering fails."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("audit")

TITLES = {
    400: "There was a problem with your request",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "Somebody else changed this",
    413: "The file is too large",
    500: "Sorry, there is a problem with the service",
}


def _page(status: int, detail: str = "") -> tuple[str, int]:
    title = TITLES.get(status, "Something went wrong")
    try:
        page = render_template("errors/error.html", status=status, title=title, detail=detail)
        return page, status
    except Exception:
        log.exception("error page failed to render")
        html = (
            f"<!DOCTYPE html><html lang='en'><head><title>{escape(title)}</title></head>"
            f"<body><main><h1>{escape(title)}</h1><p>{escape(detail)}</p></main></body></html>"
        )
        return html, status


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        return _page(
            400,
            "Your form could not be checked as coming from this page. Go back, reload the "
            "page and try again. Nothing was saved.",
        )

    @app.errorhandler(413)
    def _too_large(error: HTTPException) -> tuple[str, int]:
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        return _page(413, f"Files must be smaller than {limit // (1024 * 1024)} MB.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int]:
        return _page(error.code or 500, error.description if error.code in (400, 422) else "")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error", exc_info=error)
        return _page(InternalServerError.code)
