"""Data leaving and entering the app: review bundles and spreadsheet exports."""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, abort, g, render_template

from audit import analysis, limits, policy
from audit.bundles import bundle
from audit.data import reviews as review_data
from audit.forms import BundleForm
from audit.views import get_db, requires

bp = Blueprint("transfer", __name__)


def _filename(title: str, suffix: str) -> str:
    """Make a safe download name from a review title."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:60] or "review"
    return f"{stem}{suffix}"


def download(data: bytes, filename: str, mimetype: str) -> Response:
    """Send bytes as a file download that browsers never render inline."""
    # Sent as given (CSV types already name their charset; ``mimetype=`` would add another).
    response = Response(data, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/reviews/<review_id>/bundle")
@requires("review.manage")
def bundle_download(review_id: str) -> Response:
    """Download the review as a bundle for another installation."""
    doc = bundle.export_review(get_db(), review_id, g.user.username, for_user=g.user.id)
    return download(
        bundle.dumps(doc), _filename(g.review.title, ".case-audit.json"), "application/json"
    )


def _existing_review(doc: object) -> str | None:
    """Return the id of the review a bundle would merge into, if it exists here."""
    review = doc.get("review") if isinstance(doc, dict) else None
    review_id = review.get("id") if isinstance(review, dict) else None
    if not isinstance(review_id, str):
        return None
    try:
        return review_data.get(get_db(), review_id).id
    except review_data.ReviewNotFound:
        return None


@bp.route("/reviews/import", methods=["GET", "POST"])
@requires("review.create")
def bundle_upload() -> str | Response:
    """Import a bundle: a new review, or merge a reviewer's work into one held here."""
    form = BundleForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            # Read within the limits first: the review's id decides who may merge it.
            doc = bundle.load(limits.read_stream(form.bundle_file.data.stream, "BUNDLE_BYTES"))
        except limits.LimitExceeded as exc:
            doc, problems = None, [f"file: {exc}"]
        except bundle.BundleInvalid as exc:
            doc, problems = None, exc.problems
        existing = _existing_review(doc)
        if existing is not None and not policy.allowed(
            g.user, "review.manage", review_data.membership(get_db(), existing, g.user.id)
        ):
            # Merging changes a review: only its leads (or an admin) may, and a bundle must
            # never make its uploader a member of someone else's review.
            abort(404)
        try:
            if doc is None:
                raise bundle.BundleInvalid(problems)
            report = bundle.import_bundle(get_db(), doc, by=g.user.id)
        except bundle.BundleInvalid as exc:
            problems = exc.problems
            form.bundle_file.errors = ["The bundle was rejected: nothing was imported"]
        else:
            if report.created and not g.user.is_admin:
                review_data.add_member(get_db(), report.review_id, g.user.id, "lead", by=g.user.id)
            return render_template("transfer/imported.html", report=report)
    return render_template("transfer/import.html", form=form, problems=problems)


# The downloads offered: every table as CSV; the Excel workbook holds them all.
EXPORTS = {
    ("answers", "xlsx"),
    ("answers", "csv"),
    ("findings", "csv"),
    ("conversations", "csv"),
    ("family-feedback", "csv"),
    *((what, "csv") for what in analysis.CALIBRATION_SHEETS),
    ("themes", "csv"),
}


@bp.route("/reviews/<review_id>/export/<what>.<fmt>")
@requires("review.manage")
def export_download(review_id: str, what: str, fmt: str) -> Response:
    """Download every answer, the findings, or the practitioner conversations or family views."""
    if (what, fmt) not in EXPORTS:
        from flask import abort

        abort(404)
    viewer = (g.user, g.review_role)
    data, mimetype = analysis.spreadsheet(get_db(), g.review, fmt, what, viewer)
    suffix = ".xlsx" if fmt == "xlsx" else f"-{what}.csv"
    return download(data, _filename(g.review.title, suffix), mimetype)


@bp.route("/reviews/<review_id>/findings.json")
@requires("review.manage")
def findings_json(review_id: str) -> Response:
    """Download the figures, findings and calibration exercises as the findings JSON."""
    doc = analysis.findings_document(get_db(), g.review, g.user, g.review_role)
    data = json.dumps(doc, indent=2, allow_nan=False).encode("utf-8")
    return download(data, _filename(g.review.title, "-findings.json"), "application/json")


@bp.route("/reviews/<review_id>/export/action-plan.<fmt>")
@requires("review.manage")
def action_plan_download(review_id: str, fmt: str) -> Response:
    """Download the review's action plan (Excel or CSV), overdue first."""
    if fmt not in {"xlsx", "csv"}:
        abort(404)
    data, mimetype = analysis.action_plan_file(get_db(), g.review, fmt)
    return download(data, _filename(g.review.title, f"-action-plan.{fmt}"), mimetype)
