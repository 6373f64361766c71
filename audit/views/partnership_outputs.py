"""What leaves a multi-agency review: partnership findings, exports, JSON, report and bundles.

Lead pages (``review.manage``), except an agency's part as a bundle (``agency.bundle``), which
an agency auditor may download for their own agency only.
"""

from __future__ import annotations

import json

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from audit import policy
from audit.bundles import bundle
from audit.data import agencies as agency_data
from audit.data import agency_audits, panels
from audit.data import findings as finding_data
from audit.forms import SummaryForm
from audit.partnership import analysis
from audit.partnership import bundle as partnership_bundle
from audit.partnership import report as partnership_report
from audit.partnership.figures import InternalView, steps_words
from audit.views import get_db, requires
from audit.views.partnership import _check_multi_agency, bp
from audit.views.partnership_forms import ReportForm
from audit.views.transfer import _filename, download


@bp.route("/findings")
@requires("review.manage")
def findings_page(review_id: str) -> str:
    """The partnership's findings: the panel's agreed judgements, each agency's, compared."""
    _check_multi_agency()
    db = get_db()
    figures = analysis.figures(db, g.review)
    form = SummaryForm(summary=g.review.executive_summary)
    return render_template(
        "partnership/findings.html",
        review=g.review,
        f=figures,
        view=InternalView(figures),
        steps_words=steps_words,
        trend=analysis.trend(db, g.review),
        learning=panels.learning(db, review_id),
        actions=panels.actions(db, review_id),
        alerts=agency_audits.escalations(db, review_id, open_only=True),
        summary_form=form,
        safety=partnership_report.safety_chapter({}, figures, InternalView(figures))["safety"],
    )


@bp.route("/findings/summary", methods=["POST"])
@requires("review.manage")
def summary_save(review_id: str) -> Response:
    """Save the summary the partnership report opens with."""
    _check_multi_agency()
    form = SummaryForm()
    if form.validate_on_submit():
        finding_data.set_executive_summary(
            get_db(), review_id, form.summary.data or "", by=g.user.id
        )
        flash("Summary saved.")
    else:
        flash("The summary is too long: " + "; ".join(form.summary.errors), "error")
    return redirect(url_for("partnership.findings_page", review_id=review_id) + "#summary")


@bp.route("/findings.json")
@requires("review.manage")
def findings_json(review_id: str) -> Response:
    """Download every partnership figure, each count with its definition, as JSON."""
    _check_multi_agency()
    doc = analysis.document(get_db(), g.review)
    data = json.dumps(doc, indent=2, allow_nan=False).encode("utf-8")
    return download(data, _filename(g.review.title, "-partnership.json"), "application/json")


@bp.route("/export/<what>.<fmt>")
@requires("review.manage")
def export_download(review_id: str, what: str, fmt: str) -> Response:
    """Download the answers, actions or learning as CSV, or all three as one Excel workbook."""
    _check_multi_agency()
    if not ((what == "all" and fmt == "xlsx") or (what in analysis.EXPORTS and fmt == "csv")):
        abort(404)
    data, mimetype = analysis.export(get_db(), g.review, what, fmt)
    suffix = "-partnership.xlsx" if fmt == "xlsx" else f"-partnership-{what}.csv"
    return download(data, _filename(g.review.title, suffix), mimetype)


@bp.route("/report", methods=["GET", "POST"])
@requires("review.manage")
def report_page(review_id: str) -> str | Response | tuple[str, int]:
    """Show the internal partnership report as it stands; download it as PDF or Word."""
    _check_multi_agency()
    db = get_db()
    audience = request.values.get("audience", "internal")
    form = ReportForm()
    if audience != "internal":
        return render_template(
            "partnership/report_preview.html",
            review=g.review,
            form=form,
            refused=partnership_report.PUBLIC_NOT_YET,
        ), 409
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if form.fmt.data == "docx":
            data = partnership_report.render_docx(current_app, db, g.review)
            return download(
                data,
                partnership_report.filename(g.review, "docx"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            )
        data = partnership_report.render_pdf(current_app, db, g.review)
        return download(data, partnership_report.filename(g.review, "pdf"), "application/pdf")
    context = partnership_report.report_context(current_app, db, g.review)
    return render_template(
        "partnership/report_preview.html",
        **context,
        form=form,
        refused="",
        heading_offset=1,
    )


@bp.route("/bundle/<agency_id>")
@requires("agency.bundle")
def bundle_download(review_id: str, agency_id: str) -> Response:
    """Download one agency's part of the review (its children and its own audits) as a bundle."""
    _check_multi_agency()
    try:
        agency = agency_data.get(get_db(), agency_id)
    except agency_data.AgencyNotFound:
        abort(404)
    if not (
        policy.allowed(g.user, "review.manage", g.review_role) or g.user.agency_id == agency_id
    ):
        abort(403)
    doc = partnership_bundle.agency_export(get_db(), review_id, agency_id, g.user.username)
    slug = agency.id.replace("_", "-")
    return download(
        bundle.dumps(doc),
        _filename(g.review.title, f"-{slug}.case-audit.json"),
        "application/json",
    )
