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


_INSTANCE_KEY = "case_audit.instance"
_INSTANCE_HELP = (
    "Instance folder holding the database, secret key and config "
    "(default: ./instance, or $CASE_AUDIT_INSTANCE)."
)


def _remember_instance(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    """Keep ``case-audit --instance DIR`` for the command after it, as ``flask --app`` does."""
    if value is not None:
        ctx.meta[_INSTANCE_KEY] = value


def _command_instance(
    ctx: click.Context, param: click.Parameter, value: Path | None
) -> Path | None:
    """Use the command's own --instance, else the one before the command, else the env var."""
    from click.core import ParameterSource

    typed_here = ctx.get_parameter_source(param.name or "instance") == ParameterSource.COMMANDLINE
    before = ctx.meta.get(_INSTANCE_KEY)
    return before if before is not None and not typed_here else value


def instance_option(command: F) -> F:
    """Add ``--instance DIR`` to a command (default ./instance or CASE_AUDIT_INSTANCE)."""
    return click.option(
        "--instance",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="CASE_AUDIT_INSTANCE",
        default=None,
        callback=_command_instance,
        help=_INSTANCE_HELP,
    )(command)


def output_option(help_text: str) -> Callable[[F], F]:
    """Add the required ``-o/--output FILE`` every exporting command takes."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help=help_text,
    )


def _app(instance: Path | None):  # type: ignore[no-untyped-def]
    from audit import create_app

    return create_app({"INSTANCE_PATH": instance} if instance else None)


def _import_in_background(module: str) -> None:
    """Start importing a slow module while the command does other work (its C parts overlap)."""
    import importlib
    import threading

    threading.Thread(target=importlib.import_module, args=(module,), daemon=True).start()


def _render_app(instance: Path | None):  # type: ignore[no-untyped-def]
    """Build the app without its pages: rendering a report needs settings and templates only."""
    from audit import create_render_app

    return create_render_app({"INSTANCE_PATH": instance} if instance else None)


def _db(app):  # type: ignore[no-untyped-def]
    from audit.data.db import connect

    return connect(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])


def _check_password(password: str, min_length: int) -> None:
    from audit.passwords import problem

    message = problem(password, min_length)
    if message:
        raise click.ClickException(message[0].lower() + message[1:])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="case-audit")
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    expose_value=False,
    is_eager=True,
    callback=_remember_instance,
    help=_INSTANCE_HELP + " Given here, it applies to the command after it.",
)
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
        _check_password(password, app.config["PASSWORD_MIN_LENGTH"])
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
    options: dict[str, Any] = {}
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies:
        # waitress drops X-Forwarded-* from peers it does not trust before the app sees them.
        options = {
            "trusted_proxy": app.config["TRUSTED_PROXY"],
            "trusted_proxy_count": proxies,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
        }
    # waitress buffers a request body (to disk) before the app sees it. Bound it: up to ten
    # times MAX_CONTENT_LENGTH the app answers with its own page naming the limit; beyond,
    # waitress refuses the body itself with a plain "Request Entity Too Large".
    body_limit = 10 * int(app.config.get("MAX_CONTENT_LENGTH") or 10 * 1024 * 1024)
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="case-audit",
        max_request_body_size=body_limit,
        **options,
    )


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
    _check_password(password, app.config["PASSWORD_MIN_LENGTH"])
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
        role = person.role or "waiting"  # single sign-on, no role given yet
        click.echo(f"{person.username}\t{role}\t{state}\t{person.display_name}")


@main.group()
def rubric() -> None:
    """Check and list rubrics, and print the rubric format's JSON Schema."""


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


@rubric.command("schema")
def rubric_schema() -> None:
    """Print the JSON Schema of rubric files, for an editor's completion and inline errors."""
    import json

    from audit.rubric.schema import rubric_schema as build_schema

    click.echo(json.dumps(build_schema(), indent=2))


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
    """List and create reviews, and add people to a review's team."""


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


@review.command("new")
@instance_option
@click.option(
    "--rubric",
    "rubric_key",
    required=True,
    metavar="ID[@VERSION]",
    help="The rubric (latest version unless @VERSION); see `case-audit rubric list`.",
)
@click.option("--title", required=True, help="The review's title.")
@click.option("--host", "host_organisation", required=True, help="The council audited.")
@click.option(
    "--kind",
    type=click.Choice(["peer_review", "self_audit", "thematic"]),
    default="peer_review",
    show_default=True,
    help="The kind of review.",
)
@click.option("--start", "start", default=None, help="Start date, 27/10/2026 or 2026-10-27.")
@click.option("--end", "end", default=None, help="End date, on or after the start date.")
@click.option("--programme", default=None, help="Id of the programme the review joins.")
@click.option("--lead", "lead_username", default=None, help="Username of the review's lead.")
def review_new(
    instance: Path | None,
    rubric_key: str,
    title: str,
    host_organisation: str,
    kind: str,
    start: str | None,
    end: str | None,
    programme: str | None,
    lead_username: str | None,
) -> None:
    """Create a review with its own copy of a rubric, as the New review page does."""
    from audit import review_setup
    from audit.data import users

    app = _app(instance)
    db = _db(app)
    rubric_id, _, version = rubric_key.partition("@")
    try:
        chosen = app.extensions["rubric_library"].get(rubric_id, version or None)
    except KeyError as exc:
        raise click.ClickException(f"{exc.args[0]} (see case-audit rubric list)") from exc
    lead = None
    if lead_username is not None:
        lead = users.by_username(db, lead_username)
        if lead is None or not lead.active or lead.role == "reviewer":
            raise click.ClickException(
                f"--lead: {lead_username!r} is not an active admin or lead account"
            )
    try:
        created = review_setup.new_review(
            db,
            title=title,
            host_organisation=host_organisation,
            kind=kind,
            rubric=chosen,
            start=start,
            end=end,
            programme_id=programme,
            lead_id=lead.id if lead else None,
        )
    except review_setup.SetupProblem as problem:
        raise click.ClickException(f"--{_OPTION_OF[problem.field]}: {problem.message}") from None
    click.echo(f"Created {created.title} ({created.id}) with {chosen.id} {chosen.version}.")
    click.echo(created.id)


# The command-line option for each field the shared review rules may refuse.
_OPTION_OF = {
    "title": "title",
    "host_organisation": "host",
    "kind": "kind",
    "start_date": "start",
    "end_date": "end",
    "programme": "programme",
}


@review.group("member")
def review_member() -> None:
    """Add people to a review's team."""


@review_member.command("add")
@instance_option
@click.argument("review_key", metavar="REVIEW")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["reviewer", "lead"]),
    default="reviewer",
    show_default=True,
    help="Their role in this review (a reviewer account always joins as reviewer).",
)
def review_member_add(instance: Path | None, review_key: str, username: str, role: str) -> None:
    """Add USERNAME to REVIEW's team (its id, id prefix or title), or change their role."""
    from audit import review_setup
    from audit.data import users

    found, db = _review_and_db(instance, review_key)
    try:
        added = review_setup.add_member(db, found.id, users.by_username(db, username), role)
    except review_setup.SetupProblem as problem:
        raise click.ClickException(
            f"{username!r}: no active account with that username (see case-audit user list)"
            if problem.field == "user"
            else problem.message
        ) from None
    if added.note:
        click.echo(added.note)
    click.echo(f"Added {added.person.display_name} to {found.title} as {added.role}.")


@main.group()
def cases() -> None:
    """Import case lists into a review, or draw a sample."""


def _review_and_db(instance: Path | None, key: str):  # type: ignore[no-untyped-def]
    from audit.data import reviews

    app = _app(instance)
    db = _db(app)
    try:
        return reviews.find(db, key), db
    except reviews.ReviewNotFound as exc:
        raise click.ClickException(f"no review matches {exc.args[0]!r}") from exc


def _read(path: Path, limit: str = "CASE_LIST_BYTES") -> bytes:
    """Read a file whole, refusing it (exit 1, nothing imported) if it is over the size limit."""
    from audit import limits

    try:
        return limits.read_file(path, limit)
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from exc
    except limits.LimitExceeded as exc:
        click.echo(f"{path}: rejected, nothing imported: {exc}", err=True)
        sys.exit(1)


def _fail_invalid(path: Path, exc: Exception) -> None:
    problems = getattr(exc, "problems", ())
    click.echo(f"{path}: rejected, nothing imported ({len(problems)} problem(s)):", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@cases.command("import")
@instance_option
@click.argument("review_key", metavar="REVIEW")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-existing", is_flag=True, help="Skip references already in the review.")
def cases_import(instance: Path | None, review_key: str, file: Path, skip_existing: bool) -> None:
    """Import a case list (CSV or XLSX) into REVIEW (its id, id prefix or title).

    An invalid file is rejected whole, with every problem listed by row and column.
    """
    from audit import intake
    from audit.caselist import CaseListInvalid

    found, db = _review_and_db(instance, review_key)
    try:
        result = intake.import_cases(db, found, _read(file), file.name, skip_existing=skip_existing)
    except CaseListInvalid as exc:
        _fail_invalid(file, exc)
        return
    click.echo(f"Imported {result.added} case file(s) into {found.title}.")
    for row in result.skipped:
        click.echo(f"  skipped row {row.row}: {row.reference} is already in the review")


@cases.command("sample")
@instance_option
@click.argument("review_key", metavar="REVIEW")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--size", type=click.IntRange(min=1), required=True, help="How many cases to draw.")
@click.option(
    "--by",
    "stratify_by",
    type=click.Choice(["case_type", "team"]),
    default=None,
    help="Draw in proportion to case type or team.",
)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (recorded).")
@click.option(
    "--exclude-months",
    type=click.IntRange(min=0, max=60),
    default=0,
    help="Leave out cases with a submitted audit in the last N months.",
)
def cases_sample(
    instance: Path | None,
    review_key: str,
    file: Path,
    size: int,
    stratify_by: str | None,
    seed: int | None,
    exclude_months: int,
) -> None:
    """Draw a random sample of --size cases from FILE into REVIEW; keep only those drawn."""
    from audit import intake
    from audit.caselist import CaseListInvalid

    found, db = _review_and_db(instance, review_key)
    try:
        sample = intake.sample_cases(
            db,
            found,
            _read(file),
            file.name,
            size=size,
            stratify_by=stratify_by,
            seed=seed,
            exclude_months=exclude_months,
        )
    except CaseListInvalid as exc:
        _fail_invalid(file, exc)
        return
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Drew {len(sample.rows)} of {sample.population} cases into {found.title} "
        f"with seed {sample.seed}."
    )
    for name, counts in sample.strata.items():
        click.echo(f"  {name}: {counts['sample']} of {counts['population']}")


@main.command()
@instance_option
@click.argument("review_key", metavar="REVIEW")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    required=True,
    help="Print the figures and findings as JSON (docs/findings-json.md).",
)
def findings(instance: Path | None, review_key: str, as_json: bool) -> None:
    """Print REVIEW's aggregation, agreement and findings as JSON for councils' dashboards."""
    import json

    from audit import analysis

    found, db = _review_and_db(instance, review_key)
    click.echo(json.dumps(analysis.findings_document(db, found), indent=2, allow_nan=False))
    _warn_data_errors(db, found)


def _warn_data_errors(db: Any, review: Any) -> None:
    """Tell whoever runs a command which stored values were left out of the figures."""
    from audit import analysis

    for error in analysis.data_errors(db, review):
        click.echo(f"data error (left out of the figures): {error}", err=True)


@main.command("export")
@instance_option
@click.argument("review_key", metavar="REVIEW")
@output_option("The bundle file to write (JSON).")
def export_command(instance: Path | None, review_key: str, output: Path) -> None:
    """Write REVIEW as a bundle: one JSON file another installation can import."""
    from audit.bundles import bundle

    found, db = _review_and_db(instance, review_key)
    data = bundle.dumps(bundle.export_review(db, found.id, exported_by="command line"))
    tmp = output.with_name(output.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(output)
    click.echo(f"Wrote {found.title} to {output} ({len(data):,} bytes).")


@main.command("import")
@instance_option
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def import_command(instance: Path | None, file: Path) -> None:
    """Import a review bundle: a new review, or merge into the same review here.

    Records already here with different contents are reported as conflicts and kept as
    they are; a bad bundle is rejected whole and nothing is written.
    """
    from audit.bundles import bundle

    db = _db(_app(instance))
    try:
        report = bundle.import_bundle(db, _read(file, "BUNDLE_BYTES"))
    except bundle.BundleInvalid as exc:
        click.echo(
            f"{file}: rejected, nothing imported ({len(exc.problems)} problem(s)):", err=True
        )
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    verb = "Imported" if report.created else "Merged into"
    added = ", ".join(f"{n} {table}" for table, n in sorted(report.added.items())) or "nothing"
    click.echo(f"{verb} {report.title} ({report.review_id}): added {added}.")
    for conflict in report.conflicts:
        click.echo(f"  conflict: {conflict}")


# Kept here, not imported from audit.analysis, so the command line starts fast.
CALIBRATION_TABLES = ("calibration-exercises", "calibration-questions", "calibration-grades")


@main.command()
@instance_option
@click.argument("review_key", metavar="REVIEW")
@output_option("FILE.xlsx (every table, one sheet each) or FILE.csv (one table).")
@click.option(
    "--findings", is_flag=True, help="With a .csv file: export the findings, not the answers."
)
@click.option(
    "--table",
    type=click.Choice(
        ["answers", "findings", "conversations", "family-feedback", *CALIBRATION_TABLES, "themes"]
    ),
    help="With a .csv file: the table to export (conversations with practitioners, "
    "family feedback...). Default: answers.",
)
def answers(
    instance: Path | None, review_key: str, output: Path, findings: bool, table: str | None
) -> None:
    """Export REVIEW's answers (one row per case and question) as Excel or CSV."""
    from audit.analysis import spreadsheet

    suffix = output.suffix.lower().lstrip(".")
    if suffix not in {"xlsx", "csv"}:
        raise click.ClickException("the output file must end in .xlsx or .csv")
    found, db = _review_and_db(instance, review_key)
    data, _ = spreadsheet(db, found, suffix, table or ("findings" if findings else "answers"))
    output.write_bytes(data)
    click.echo(f"Wrote {output} ({len(data):,} bytes).")


@main.command("backup")
@instance_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(instance: Path | None, file: Path) -> None:
    """Write a consistent copy of the database to FILE, safely while the app is serving."""
    from audit.data.backup import BackupInvalid, backup
    from audit.paths import instance_dir

    database = instance_dir(instance) / "audit.db"
    if not database.exists():
        raise click.ClickException(f"no database at {database}")
    try:
        size = backup(database, file)
    except BackupInvalid as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up {database} to {file} ({size:,} bytes, integrity check ok).")


@main.command("restore")
@instance_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(instance: Path | None, file: Path, yes: bool) -> None:
    """Replace the instance's database with the backup FILE (stop the server first)."""
    from audit.data.backup import BackupInvalid, check, restore
    from audit.paths import instance_dir

    database = instance_dir(instance) / "audit.db"
    try:
        check(file)
    except BackupInvalid as exc:
        raise click.ClickException(str(exc)) from exc
    if not yes:
        click.confirm(f"Replace everything in {database} with {file}?", abort=True)
    restore(file, database)
    _app(instance)  # runs any migrations newer than the backup
    click.echo(f"Restored {database} from {file}.")


@main.command("report")
@instance_option
@click.argument("review_key", metavar="REVIEW")
@output_option("The file to write: FILE.pdf (tagged PDF) or FILE.docx (editable Word).")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the report as a standalone HTML file.",
)
@click.option(
    "--public",
    is_flag=True,
    help="The public version: no case-level table, small counts withheld (see docs/report.md).",
)
def report_command(
    instance: Path | None, review_key: str, output: Path, html_path: Path | None, public: bool
) -> None:
    """Write REVIEW's findings report as a tagged PDF or a Word document (and optionally HTML)."""
    _import_in_background("weasyprint")
    from audit.data import reviews
    from audit.reporting import report, report_docx

    suffix = output.suffix.lower()
    if suffix not in (".pdf", ".docx"):
        raise click.ClickException(f"the output file must end in .pdf or .docx, not {output.name}")

    app = _render_app(instance)
    db = _db(app)
    try:
        found = reviews.find(db, review_key)
    except reviews.ReviewNotFound as exc:
        raise click.ClickException(f"no review matches {exc.args[0]!r}") from exc
    try:
        audience = "public" if public else "internal"
        if suffix == ".docx":
            size = report_docx.write_docx(app, db, found, output, audience=audience)
            if html_path is not None:
                html = report.build_html(app, db, found, audience=audience, standalone=True)
                html_path.write_text(html, encoding="utf-8")
        else:
            size = report.write_report(
                app, db, found, output, audience=audience, html_path=html_path
            )
    except report.ReportError as exc:  # e.g. the lead's wording gives a withheld count away
        raise click.ClickException(str(exc)) from None
    _warn_data_errors(db, found)
    click.echo(
        f"Wrote {output} ({size:,} bytes)" + (f" and {html_path}" if html_path else "") + "."
    )


@main.command("pack")
@instance_option
@click.argument("programme_key", metavar="PROGRAMME")
@click.option("--from", "start", required=True, help="First day of the period (2026-04-01).")
@click.option("--to", "end", required=True, help="Last day of the period (2027-03-31).")
@output_option("FILE.pdf or FILE.docx: the self-evaluation pack to write.")
def pack_command(
    instance: Path | None, programme_key: str, start: str, end: str, output: Path
) -> None:
    """Write PROGRAMME's self-evaluation pack for the reviews that started in a period."""
    from audit.data import programmes
    from audit.reporting import selfeval

    if output.suffix.lower() not in (".pdf", ".docx"):
        raise click.ClickException(f"the output file must end in .pdf or .docx, not {output.name}")
    app = _app(instance)
    db = _db(app)
    matches = [
        p
        for p in programmes.all_programmes(db)
        if p["id"].startswith(programme_key) or p["title"] == programme_key
    ]
    if len(matches) != 1:
        found = "no programme" if not matches else f"{len(matches)} programmes"
        raise click.ClickException(f"{found} match {programme_key!r}: give its id or exact title")
    try:
        period = selfeval.Period.parse(start, end)
        size = selfeval.write(app, db, matches[0]["id"], period, output)
    except selfeval.PackError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {output} ({size:,} bytes).")
