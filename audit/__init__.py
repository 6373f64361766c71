"""case-audit: audit children's social-care case files against configurable rubrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: config, database, blueprints, security headers, error pages."""
    from audit.web import build_app

    return build_app(test_config)
