"""The ``case-audit`` command line: set up, serve, seed the demo, manage users and rubrics.

Kept light on imports so commands that do not render PDFs start in well under a second.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def instance_option(command: F) -> F:
    """Add ``--instance DIR`` to a command (default ./instance or CASE_AUDIT_INSTANCE)."""
    return click.option(
        "--instance",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="CASE_AUDIT_INSTANCE",
        default=None,
        help="Instance folder holding the database, secret key and config "
        "(default: ./instance, or $CASE_AUDIT_INSTANCE).",
    )(command)


def _app(instance: Path | None):  # type: ignore[no-untyped-def]
    from audit import create_app

    return create_app({"INSTANCE_PATH": instance} if instance else None)


def _db(app):  # type: ignore[no-untyped-def]
    from audit.data.db import connect

    return connect(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="case-audit")
def main() -> None:
    """case-audit: audit children's social-care case files against configurable rubrics."""


@main.command()
@instance_option
@click.option("--password-stdin", is_flag=True, help="Read the first admin's password from stdin.")
def init(instance: Path | None, password_stdin: bool) -> None:
    """Create the database and, if there are no users yet, an admin account."""
    import secrets

    from audit.data import users

    app = _app(instance)
    db = _db(app)
    click.echo(f"Instance folder: {app.instance_path}")
    click.echo(f"Database ready: {app.config['DATABASE']}")
    if users.count(db) == 0:
        password = (
            sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(12)
        )
        if len(password) < app.config["PASSWORD_MIN_LENGTH"]:
            raise click.ClickException(
                f"the password must be at least {app.config['PASSWORD_MIN_LENGTH']} characters"
            )
        users.create(db, "admin", password, "admin", display_name="Administrator")
        click.echo("Created the admin account:")
        click.echo("  username: admin")
        if not password_stdin:
            click.echo(f"  password: {password}   (change it after signing in)")
    else:
        click.echo("Users already exist; no account created.")


def _seed_demo(app) -> list:  # type: ignore[no-untyped-def]
    from audit import demo

    db = _db(app)
    try:
        return demo.seed(db, app.extensions["rubric_library"], Path(app.instance_path))
    finally:
        db.conn.close()


def _print_credentials(credentials: list) -> None:
    click.echo("Demo users (synthetic) and their passwords for this instance:")
    for cred in credentials:
        click.echo(f"  {cred.username:<10} {cred.password:<20} {cred.role}")


@main.command()
@instance_option
def demo(instance: Path | None) -> None:
    """Seed the demo review into an empty instance, without serving."""
    from audit.demo import DemoAlreadySeeded

    app = _app(instance)
    click.echo(f"Instance folder: {app.instance_path}")
    try:
        credentials = _seed_demo(app)
    except DemoAlreadySeeded as exc:
        raise click.ClickException(f"not seeding the demo: {exc}") from exc
    click.echo("Seeded the demo review.")
    _print_credentials(credentials)


@main.command()
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads.")
@click.option(
    "--demo", "with_demo", is_flag=True, help="Seed the demo first if the instance is empty."
)
def serve(instance: Path | None, host: str, port: int, threads: int, with_demo: bool) -> None:
    """Serve the app with waitress."""
    started = time.perf_counter()
    from audit import demo as demo_module
    from audit.data import users

    app = _app(instance)
    click.echo(f"Instance folder: {app.instance_path}")
    if with_demo:
        db = _db(app)
        empty = users.count(db) == 0
        db.conn.close()
        if empty:
            _print_credentials(_seed_demo(app))
        else:
            saved = demo_module.read_credentials(Path(app.instance_path))
            if saved:
                _print_credentials(saved)
            else:
                click.echo("The instance already has data; the demo was not seeded.")
    import waitress

    click.echo(f"Serving on http://{host}:{port}/ (ready in {time.perf_counter() - started:.2f} s)")
    click.echo("Press Ctrl+C to stop.")
    sys.stdout.flush()
    waitress.serve(app, host=host, port=port, threads=threads, ident="case-audit")


@main.group()
def user() -> None:
    """Add and list users."""


@user.command("add")
@instance_option
@click.argument("username")
@click.option(
    "--role", type=click.Choice(["admin", "lead", "reviewer"]), required=True, help="Account role."
)
@click.option("--name", "display_name", default=None, help="Full name shown in the app.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin, not a prompt.")
def user_add(
    instance: Path | None, username: str, role: str, display_name: str | None, password_stdin: bool
) -> None:
    """Add a user (the password is asked for, or read from stdin)."""
    from audit.data import users

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = _app(instance)
    if len(password) < app.config["PASSWORD_MIN_LENGTH"]:
        raise click.ClickException(
            f"the password must be at least {app.config['PASSWORD_MIN_LENGTH']} characters"
        )
    try:
        created = users.create(_db(app), username, password, role, display_name=display_name)
    except users.UserExists as exc:
        raise click.ClickException(f"a user called {username!r} already exists") from exc
    click.echo(f"Added {created.username} ({created.role}).")


@user.command("list")
@instance_option
def user_list(instance: Path | None) -> None:
    """List users with their role and whether they can sign in."""
    from audit.data import users

    for person in users.all_users(_db(_app(instance))):
        state = "active" if person.active else "deactivated"
        click.echo(f"{person.username}\t{person.role}\t{state}\t{person.display_name}")


@main.group()
def rubric() -> None:
    """Check and list rubrics."""


@rubric.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def rubric_check(files: tuple[Path, ...]) -> None:
    """Check rubric files; print each file's problems; exit 1 if any file is invalid."""
    from audit.rubric import check_rubric_file

    failed = 0
    for path in files:
        problems = check_rubric_file(path)
        if problems:
            failed += 1
            click.echo(f"{path}: {len(problems)} problem(s)")
            for problem in problems:
                click.echo(f"  {path}: {problem}")
        else:
            click.echo(f"{path}: valid")
    if failed:
        click.echo(f"{failed} of {len(files)} file(s) invalid.", err=True)
        sys.exit(1)


@rubric.command("list")
@instance_option
def rubric_list(instance: Path | None) -> None:
    """List the rubrics loaded from the built-in and instance folders."""
    app = _app(instance)
    library = app.extensions["rubric_library"]
    for item in library.rubrics():
        click.echo(f"{item.id}\t{item.version}\t{item.title}\t{item.source}")
    for path, problems in library.invalid():
        click.echo(f"INVALID\t{path}\t{len(problems)} problem(s)", err=True)


@main.group()
def review() -> None:
    """List reviews."""


@review.command("list")
@instance_option
def review_list(instance: Path | None) -> None:
    """Print each review's id, title, rubric and status."""
    from audit.data import reviews

    found = reviews.all_reviews(_db(_app(instance)))
    if not found:
        click.echo("No reviews yet.")
    for item in found:
        click.echo(
            f"{item.id}\t{item.title}\t{item.rubric_id} {item.rubric_version}\t{item.status_label}"
        )
