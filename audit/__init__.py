"""case-audit: audit children's social-care case files against configurable rubrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from audit.instance import RenderApp


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: config, database, blueprints, security headers, error pages."""
    from audit.web import build_app

    return build_app(test_config)


def create_render_app(test_config: Mapping[str, Any] | None = None) -> RenderApp:
    """Open the instance for rendering without Flask, so report commands start quickly."""
    from audit.instance import RenderApp

    return RenderApp(test_config)
