"""The rubrics page: what is loaded, what is invalid and why, and uploading a new one."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from audit import limits
from audit.forms import RubricUploadForm
from audit.rubric import RubricInvalid, RubricLibrary, parse_rubric, rubric_schema
from audit.views import requires
from audit.views.transfer import download

bp = Blueprint("rubrics", __name__, url_prefix="/rubrics")


def library() -> RubricLibrary:
    """Return the app's rubric library (it rescans its folders when files change)."""
    return current_app.extensions["rubric_library"]


@bp.route("/")
@requires("rubrics.view")
def rubric_list() -> str:
    """List valid rubrics and invalid files with their errors."""
    lib = library()
    return render_template(
        "rubrics/list.html",
        rubrics=lib.rubrics(),
        invalid=lib.invalid(),
    )


@bp.route("/schema.json")
@requires("rubrics.view")
def rubric_schema_download() -> Response:
    """Download the rubric format's JSON Schema, for completion and inline errors in an editor."""
    text = json.dumps(rubric_schema(), indent=2) + "\n"
    return download(text.encode("utf-8"), "rubric.schema.json", "application/schema+json")


@bp.route("/<rubric_id>/<version>")
@requires("rubrics.view")
def rubric_detail(rubric_id: str, version: str) -> str:
    """Show a rubric's sections and questions as reviewers will meet them."""
    try:
        rubric = library().get(rubric_id, version)
    except KeyError:
        abort(404)
    return render_template("rubrics/detail.html", rubric=rubric)


@bp.route("/upload", methods=["GET", "POST"])
@requires("rubrics.upload")
def rubric_upload() -> str | Response:
    """Check an uploaded rubric and store it in the instance's rubrics folder if valid."""
    form = RubricUploadForm()
    problems: tuple = ()
    if form.validate_on_submit():
        upload = form.rubric_file.data
        filename = Path(upload.filename or "rubric.yaml").name
        try:
            text = limits.read_stream(upload.stream, "RUBRIC_BYTES").decode("utf-8-sig")
        except limits.LimitExceeded as exc:
            form.rubric_file.errors = [f"{filename} was not accepted, nothing was stored: {exc}"]
        except UnicodeDecodeError:
            form.rubric_file.errors = ["The file must be saved as UTF-8 text; nothing was stored"]
        else:
            try:
                rubric = parse_rubric(text, source=filename)
            except RubricInvalid as exc:
                problems = exc.problems
                form.rubric_file.errors = [
                    f"{filename} has {len(problems)} problem(s); nothing was stored"
                ]
            else:
                lib = library()
                clash = [r for r in lib.rubrics() if r.key == rubric.key]
                if clash:
                    form.rubric_file.errors = [
                        f"A rubric with id {rubric.id} and version {rubric.version} already "
                        "exists: change the version number to upload a new edition"
                    ]
                else:
                    target_dir = Path(current_app.instance_path) / "rubrics"
                    target_dir.mkdir(parents=True, exist_ok=True)
                    target = target_dir / f"{rubric.id}-{rubric.version}.yaml"
                    tmp = target.with_suffix(".yaml.part")
                    tmp.write_text(text, encoding="utf-8")
                    tmp.replace(target)  # atomic: the library never sees half a file
                    flash(f"Uploaded {rubric.title} version {rubric.version}.")
                    return redirect(url_for("rubrics.rubric_list"))
    return render_template("rubrics/upload.html", form=form, problems=problems)
