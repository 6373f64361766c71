"""Locate the files the app ships with, in a checkout and in an installed wheel alike."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def _shipped(name: str) -> Path:
    """Return the folder ``name`` from the wheel (inside the package) or the checkout (top level).

    The repository keeps templates/ and rubrics/ at the top level; the wheel carries them
    inside the package, so an installed copy looks there first.
    """
    inside = PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    return REPO_DIR / name


TEMPLATES_DIR = _shipped("templates")
RUBRICS_DIR = _shipped("rubrics")
STATIC_DIR = PACKAGE_DIR / "static"
DATA_DIR = PACKAGE_DIR / "data"


def instance_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the instance folder: ``--instance``, ``CASE_AUDIT_INSTANCE``, or ./instance."""
    chosen = explicit or os.environ.get("CASE_AUDIT_INSTANCE") or "instance"
    return Path(chosen).expanduser().resolve()
