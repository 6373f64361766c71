"""Open an instance folder without Flask: settings, database, templates and rubrics.

The web app is built on this (``audit.web``), and so is :class:`RenderApp`, which is all a
command that only reads and renders needs: ``case-audit report`` uses it so a person
waiting at the command line does not pay for importing Flask and building every page.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader

from audit import paths
from audit.config import ConfigError, load_settings
from audit.data.db import connect
from audit.data.migrations import migrate
from audit.rubric import RubricLibrary

__all__ = [
    "RenderApp",
    "init_database",
    "open_instance",
    "set_configured_nation",
    "template_loader",
]


def open_instance(test_config: Mapping[str, Any] | None = None) -> tuple[Path, dict[str, Any]]:
    """Resolve the instance folder, read its settings and bring its database up to date."""
    overrides = dict(test_config or {})
    instance = paths.instance_dir(overrides.pop("INSTANCE_PATH", None))
    # Owner-only: the folder holds the database, its backups and the signing key.
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings = load_settings(instance)
    settings.update(overrides)
    settings.setdefault("DATABASE", str(instance / "audit.db"))
    init_database(settings["DATABASE"], settings["BUSY_TIMEOUT_MS"])
    if settings.get("NATION"):
        set_configured_nation(settings["DATABASE"], str(settings["NATION"]))
    return instance, settings


def template_loader() -> ChoiceLoader:
    """Find the app's templates and the GOV.UK Frontend macros they import."""
    return ChoiceLoader(
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


def rubric_library(instance: Path) -> RubricLibrary:
    """Return the rubrics shipped with the app and those in the instance's own folder."""
    return RubricLibrary([paths.RUBRICS_DIR, instance / "rubrics"])


class RenderApp:
    """The parts of the Flask app that report rendering reads, without importing Flask.

    It has the same ``config``, ``instance_path``, ``extensions`` and a Jinja environment set
    up as Flask sets up its own (HTML autoescaping, the same loader and whitespace rules), so
    a report rendered with it is byte for byte the one the web app renders.
    """

    def __init__(self, test_config: Mapping[str, Any] | None = None) -> None:
        instance, self.config = open_instance(test_config)
        self.instance_path = str(instance)
        self.jinja_env = Environment(
            loader=template_loader(),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.extensions: dict[str, Any] = {"rubric_library": rubric_library(instance)}

    def app_context(self) -> contextlib.nullcontext[None]:
        """Stand in for Flask's app context: report templates need no request or globals."""
        return contextlib.nullcontext()


def set_configured_nation(path: str, nation: str) -> None:
    """Make config.toml's nation the one working days use, refusing one we do not know."""
    from audit.data import holidays
    from audit.timeliness import check_nation

    try:
        check_nation(nation)
    except ValueError as error:
        raise ConfigError(f"nation: {error}") from None
    db = connect(path)
    try:
        holidays.set_nation(db, nation, by=None)
    finally:
        db.conn.close()


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
