"""The findings report in the app: preview, download, background renders, issuing.

Small reviews render while the browser waits; larger ones render in a background thread
that records its progress in ``report_job`` while the page refreshes itself (a meta
refresh: no script, so the Content-Security-Policy is untouched). An issued report is
stored once and always served from its stored bytes.
"""

from __future__ import annotations

import io
import logging
import threading

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response

from audit.data import reports as report_data
from audit.data import reviews as review_data
from audit.data.db import connect
from audit.forms import ActionForm, ThresholdForm
from audit.partnership import is_multi_agency
from audit.reporting import disclosure, report, report_docx
from audit.views import get_db, requires

bp = Blueprint("report", __name__, url_prefix="/reviews/<review_id>/report")
log = logging.getLogger("audit.reporting.report")

# At most two renders at once (the machine has two cores); others wait in "queued".
_RENDER_SLOTS = threading.BoundedSemaphore(2)
RUNNING: dict[str, threading.Thread] = {}
"""Render threads by job id, so tests (and a graceful shutdown) can wait for them."""


def _audience(value: str | None) -> str:
    audience = value or "internal"
    if audience not in report.AUDIENCES:
        abort(400)
    return audience


def _inline_limit() -> int:
    return int(current_app.config.get("REPORT_INLINE_MAX_CASES", report.INLINE_MAX_CASES))


def file_response(
    data: bytes, filename: str, mimetype: str = "application/pdf", etag: str | None = None
) -> Response:
    """Send a made document as a download that is never cached."""
    response = send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=filename,
        etag=etag or False,
        max_age=0,
    )
    response.headers["Content-Length"] = str(len(data))
    return response


def _pdf_response(pdf: bytes, filename: str, etag: str | None = None) -> Response:
    return file_response(pdf, filename, etag=etag)


def _render_job(app: Flask, review_id: str, job_id: str, audience: str) -> None:
    """Render one report in the background, recording queued -> running -> done | failed."""
    db = connect(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])
    try:
        with _RENDER_SLOTS:
            report_data.mark_running(db, job_id)
            review = review_data.get(db, review_id)
            pdf = report.render(app, db, review, audience)
            report_data.mark_done(db, job_id, pdf)
    except Exception as exc:  # a failed render must show as failed, whatever the cause
        log.exception("report render %s failed", job_id)
        report_data.mark_failed(db, job_id, f"The report could not be made ({type(exc).__name__}).")
    finally:
        db.conn.close()
        RUNNING.pop(job_id, None)


def _start_job(audience: str) -> str:
    """Open (or reuse) a render job for this review and audience; start its thread if new."""
    job_id, created = report_data.open_job(get_db(), g.review.id, audience, g.user.id)
    if created:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        thread = threading.Thread(
            target=_render_job,
            args=(app, g.review.id, job_id, audience),
            name=f"report-{job_id[:8]}",
            daemon=True,
        )
        RUNNING[job_id] = thread
        thread.start()
    return job_id


def _is_small() -> bool:
    return report_data.audited_count(get_db(), g.review.id) <= _inline_limit()


@bp.route("")
@requires("review.manage")
def preview(review_id: str) -> str:
    """Show the report as it stands, in either version, with download and issue buttons.

    The public version says what protecting it cost (counts withheld of those printed,
    breakdowns shown together or left out, the attacker's verdict) and lists the lead's words
    that give a withheld count away: until they are reworded it can be neither downloaded nor
    issued.
    """
    db = get_db()
    audience = _audience(request.args.get("audience"))
    figures = report.gather(current_app, db, g.review)
    blockers: list[report.Blocker] = []
    cost = None
    if audience == "public":
        blockers = report.public_blockers(figures)
        cost = figures.public.cost()
    context = report.report_context(current_app, db, g.review, audience=audience, figures=figures)
    return render_template(
        "report/preview.html",
        **context,
        heading_offset=1,
        action_form=ActionForm(),
        issued_count=len(report_data.issued(db, review_id)),
        inline=_is_small(),
        blockers=blockers,
        cost=cost,
        min_values=disclosure.needed_width(figures.threshold) + 1,
        threshold_form=ThresholdForm(threshold=figures.threshold),
    )


@bp.route("/threshold", methods=["POST"])
@requires("review.manage")
def threshold(review_id: str) -> Response:
    """Set the count below which the public report withholds figures, for this review."""
    form = ThresholdForm()
    if form.validate_on_submit():
        review_data.update_settings(
            get_db(), review_id, {"public_threshold": form.threshold.data}, by=g.user.id
        )
        flash(f"The public report now withholds counts below {form.threshold.data}.")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(f"The threshold was not changed: {message}.", "error")
    if is_multi_agency(g.review):  # the partnership report's public version uses it too
        return redirect(url_for("partnership.report_page", review_id=review_id, audience="public"))
    return redirect(url_for("report.preview", review_id=review_id, audience="public"))


def _refuse_if_blocked(audience: str) -> Response | None:
    """Send the lead back to the public preview while its wording gives a count away."""
    if audience != "public":
        return None
    try:
        report.check_public(report.gather(current_app, get_db(), g.review))
    except report.ReportError as exc:
        flash(str(exc), "error")
        return redirect(url_for("report.preview", review_id=g.review.id, audience="public"))
    return None


def _posted_audience() -> tuple[str, Response | None]:
    """Check a download form (CSRF, audience) and whether its version may be made now."""
    if not ActionForm().validate_on_submit():
        abort(400)
    audience = _audience(request.form.get("audience"))
    return audience, _refuse_if_blocked(audience)


@bp.route("/pdf", methods=["POST"])
@requires("review.manage")
def download(review_id: str) -> Response:
    """Download the PDF now (small reviews) or start preparing it in the background."""
    audience, refused = _posted_audience()
    if refused is not None:
        return refused
    if _is_small():
        pdf = report.render(current_app, get_db(), g.review, audience)
        return _pdf_response(pdf, report.filename(g.review, audience))
    job_id = _start_job(audience)
    return redirect(url_for("report.job_page", review_id=review_id, job_id=job_id))


@bp.route("/docx", methods=["POST"])
@requires("review.manage")
def download_docx(review_id: str) -> Response:
    """Download the report as an editable Word document (same figures as the PDF)."""
    audience, refused = _posted_audience()
    if refused is not None:
        return refused
    data = report_docx.build_docx(current_app, get_db(), g.review, audience=audience)
    return file_response(data, report_docx.filename(g.review, audience), report_docx.DOCX_MIME)


@bp.route("/jobs/<job_id>")
@requires("review.manage")
def job_page(review_id: str, job_id: str) -> str:
    """Show a background render's progress; the page refreshes itself until it is done."""
    try:
        job = report_data.job(get_db(), review_id, job_id)
    except report_data.JobNotFound:
        abort(404)
    return render_template("report/job.html", review=g.review, job=job, long_time=_long_time)


@bp.route("/jobs/<job_id>/pdf")
@requires("review.manage")
def job_download(review_id: str, job_id: str) -> Response:
    """Download a finished background render."""
    db = get_db()
    try:
        job = report_data.job(db, review_id, job_id)
        pdf = report_data.job_pdf(db, review_id, job_id)
    except report_data.JobNotFound:
        abort(404)
    return _pdf_response(pdf, report.filename(g.review, job["audience"]))


@bp.route("/issue", methods=["POST"])
@requires("review.manage")
def issue(review_id: str) -> Response:
    """Issue a version: store its PDF with the date and SHA-256 hash, never to be redone.

    From a finished background render (``job``), the very bytes the lead prepared are
    issued; otherwise a small review is rendered now, and a large one is prepared first.
    """
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db()
    job_id = request.form.get("job")
    if job_id:
        try:
            job = report_data.job(db, review_id, job_id)
            pdf = report_data.job_pdf(db, review_id, job_id)
        except report_data.JobNotFound:
            abort(404)
        audience = job["audience"]
        refused = _refuse_if_blocked(audience)
        if refused is not None:
            return refused
    else:
        audience = _audience(request.form.get("audience"))
        refused = _refuse_if_blocked(audience)
        if refused is not None:
            return refused
        if not _is_small():
            flash("The report is being prepared. When it is ready, issue it from this page.")
            return redirect(
                url_for("report.job_page", review_id=review_id, job_id=_start_job(audience))
            )
        pdf = None
    issued = report.issue(current_app, db, g.review, audience=audience, by=g.user.id, pdf=pdf)
    flash(
        f"The {audience} report was issued. SHA-256: {issued['sha256']}. "
        "It is kept exactly as issued; issuing again makes a new copy."
    )
    return redirect(url_for("report.issued_list", review_id=review_id))


@bp.route("/issued")
@requires("review.manage")
def issued_list(review_id: str) -> str:
    """List the issued reports: date, version, hash, who issued it, download."""
    return render_template(
        "report/issued.html",
        review=g.review,
        issued=report_data.issued(get_db(), review_id),
        long_time=_long_time,
    )


@bp.route("/issued/<report_id>")
@requires("review.manage")
def issued_download(review_id: str, report_id: str) -> Response:
    """Download an issued report: its stored bytes, never a new render."""
    try:
        row = report_data.issued_pdf(get_db(), review_id, report_id)
    except report_data.ReportNotFound:
        abort(404)
    return _pdf_response(bytes(row["pdf"]), row["filename"], etag=row["sha256"])


def _long_time(value: str) -> str:
    """Write a stored UTC time as people in England read it: "29 October 2026 at 4:05pm"."""
    from audit.moments import when

    return when(value)
