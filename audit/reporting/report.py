"""The findings report: HTML from templates/report/, a tagged PDF from WeasyPrint, issuing.

:func:`build_html` gathers the review's numbers (through :mod:`audit.analysis`, so the report
shows what the dashboard shows, drawn by the same chart code) and renders
``templates/report/report.html``; :func:`render_pdf` turns that HTML into an accessible
PDF/UA-1 document; :func:`issue` does both and stores the bytes with their SHA-256 hash.

Two audiences: ``internal`` (the protective marking, the case-level appendix with the host's
references) and ``public`` (its own marking, no case-level appendix, and every count through
disclosure control, :mod:`audit.reporting.disclosure`: counts below the review's threshold written
"<5", and the counts that would let them be worked out "[c]").

:func:`gather` computes the figures once (:class:`Figures`); :func:`report_context` asks one
builder per chapter for its part of the template's context.

Rendering never reads a file or URL other than the report's own stylesheet and its own
chart images: :class:`ReportFetcher` serves an allow-list and refuses everything else, so
nothing typed into a title, note or finding can make WeasyPrint fetch ``file://`` or the
network (and all such text is escaped by Jinja anyway). WeasyPrint is imported only inside
:func:`render_pdf`, so command-line commands that do not render start quickly.
"""

from __future__ import annotations

import base64
import binascii
import html as html_lib
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from audit import analysis, findings, moments, paths, trends
from audit.data import actions as action_data
from audit.data import findings as finding_data
from audit.data import moderation as moderation_data
from audit.data import programmes as programme_data
from audit.data import reports as report_data
from audit.data import reviews as review_data
from audit.findings import Aggregation, percent
from audit.reporting import disclosure
from audit.stats import Proportion, Statistic

if TYPE_CHECKING:
    from flask import Flask

AUDIENCES = ("internal", "public")
COMPLETE_STATUSES = frozenset({"complete", "closed"})
APPENDIX_MAX_CASES = 200
INLINE_MAX_CASES = 100
"""Reviews with at most this many audited cases render while the browser waits."""

PDF_VARIANT = "pdf/ua-1"
BASE_URL = "https://case-audit.invalid/"
"""Relative URLs resolve here; ``.invalid`` never resolves, and nothing is fetched anyway."""
STATIC_URL = BASE_URL + "static/"
STATIC_FILES = frozenset({"css/report.css"})
"""The static files (under ``audit/static``) a report may use; nothing else is served."""
SVG_DATA = "data:image/svg+xml;base64,"
_SVG_START = b'<svg xmlns="http://www.w3.org/2000/svg"'


class ReportError(Exception):
    """The report could not be made (for example, an unknown audience)."""


class RefusedURL(ValueError):
    """A render asked for a URL outside the allow-list."""


# --------------------------------------------------------------------------- fetching


def resolve_url(url: str) -> tuple[bytes, str]:
    """Return (bytes, MIME type) for an allow-listed URL, or raise :class:`RefusedURL`.

    Allowed: the report's own static files under ``audit/static`` (exact names in
    :data:`STATIC_FILES`, addressed under :data:`STATIC_URL`), and base64 ``data:`` SVG
    images (the charts and the watermark). Anything else, ``file:``, ``http(s):`` or a
    static file not listed, is refused.
    """
    if url.startswith(SVG_DATA):
        try:
            body = base64.b64decode(url[len(SVG_DATA) :], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RefusedURL("malformed data: URL") from exc
        if not body.startswith(_SVG_START):
            raise RefusedURL("a data: URL that is not an SVG image")
        return body, "image/svg+xml"
    if url.startswith(STATIC_URL):
        name = url[len(STATIC_URL) :]
        if name in STATIC_FILES:
            path = paths.STATIC_DIR / name
            mime = "text/css" if name.endswith(".css") else "image/svg+xml"
            return path.read_bytes(), mime
    raise RefusedURL(url[:200])


def make_fetcher(on_fetch: Callable[[str], None] | None = None) -> Any:
    """Return a WeasyPrint URL fetcher that serves only :func:`resolve_url`'s allow-list.

    ``on_fetch`` is called with every URL WeasyPrint asks for (tests record them). A refused
    URL stops the render: it can only mean something unexpected reached the HTML.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ReportFetcher(URLFetcher):
        """Serve the allow-list; refuse everything else, never touching disk or network."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data", "https"), fail_on_errors=True)

        def fetch(self, url: str, headers: Any = None) -> Any:
            if on_fetch is not None:
                on_fetch(url)
            body, mime = resolve_url(url)
            return URLFetcherResponse(url, body, {"Content-Type": mime})

    return ReportFetcher()


# --------------------------------------------------------------------------- rendering


def render_pdf(
    html: str,
    *,
    title: str,
    author: str,
    on_fetch: Callable[[str], None] | None = None,
) -> bytes:
    """Render the report's HTML to a tagged PDF/UA-1 document and return its bytes."""
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    options = {"pdf_variant": PDF_VARIANT}
    try:
        document = weasyprint.HTML(
            string=html, base_url=BASE_URL, url_fetcher=make_fetcher(on_fetch)
        ).render(**options)
    except FatalURLFetchingError as exc:  # a BaseException: turn it into an ordinary error
        raise ReportError(f"the report asked for a resource it may not use: {exc}") from None
    document.metadata.title = title
    document.metadata.authors = [author]
    document.metadata.lang = document.metadata.lang or "en-GB"
    # Belt and braces: a report never carries attachments, whatever the HTML says.
    document.metadata.attachments = []
    return document.write_pdf(**options)


def pdf_title(review: review_data.Review, audience: str) -> str:
    """Return the PDF's title: the review's title and which version it is."""
    return f"{review.title}: findings report ({'public' if audience == 'public' else 'internal'})"


def pdf_author(app: Flask, db: sqlite_utils.Database, review: review_data.Review) -> str:
    """Return the PDF's author: the review's lead(s), or the service name."""
    leads = [m["display_name"] for m in review_data.members(db, review.id) if m["role"] == "lead"]
    return ", ".join(leads) if leads else str(app.config["SERVICE_NAME"])


def filename(review: review_data.Review, audience: str, on: date | None = None) -> str:
    """Return a safe download name, e.g. ``example-borough-...-internal-2026-10-29.pdf``."""
    slug = re.sub(r"[^a-z0-9]+", "-", review.title.lower()).strip("-")[:60].strip("-")
    day = (on or datetime.now(UTC).date()).isoformat()
    return f"{slug or 'review'}-findings-{audience}-{day}.pdf"


def build_html(
    app: Flask,
    db: sqlite_utils.Database,
    review: review_data.Review,
    *,
    audience: str = "internal",
    standalone: bool = False,
) -> str:
    """Render the complete report as one HTML document (no request needed).

    With ``standalone`` the stylesheet is written into the document, for an HTML file to be
    opened on its own (``case-audit report --html``); otherwise it is linked, and served to
    WeasyPrint by the allow-listing fetcher.
    """
    figures = gather(app, db, review)
    if audience == "public":
        check_public(figures)
    context = report_context(app, db, review, audience=audience, figures=figures)
    stylesheet = None
    if standalone:
        stylesheet = (paths.STATIC_DIR / "css" / "report.css").read_text(encoding="utf-8")
    with app.app_context():
        template = app.jinja_env.get_template("report/report.html")
        return template.render(**context, inline_stylesheet=stylesheet, heading_offset=0)


def issue(
    app: Flask,
    db: sqlite_utils.Database,
    review: review_data.Review,
    *,
    audience: str,
    by: int | None,
    pdf: bytes | None = None,
) -> dict[str, Any]:
    """Render (unless ``pdf`` is given) and store an issued report; return its record.

    An issued report is never regenerated: downloading it returns these bytes, and issuing
    again makes a new record with its own date and hash.
    """
    check_audience(audience)
    if pdf is None:
        pdf = render(app, db, review, audience)
    return report_data.store_issued(
        db, review.id, audience=audience, pdf=pdf, filename=filename(review, audience), by=by
    )


def write_report(
    app: Flask,
    db: sqlite_utils.Database,
    review: review_data.Review,
    pdf_path: Path,
    *,
    audience: str = "internal",
    html_path: Path | None = None,
) -> int:
    """Write the report's PDF, and a standalone HTML copy if asked; return the PDF's size.

    This is ``case-audit report REVIEW -o FILE.pdf [--html FILE.html] [--public]``.
    """
    html = build_html(app, db, review, audience=audience)
    if html_path is not None:
        standalone = build_html(app, db, review, audience=audience, standalone=True)
        html_path.write_text(standalone, encoding="utf-8")
    pdf = render_pdf(html, title=pdf_title(review, audience), author=pdf_author(app, db, review))
    pdf_path.write_bytes(pdf)
    return len(pdf)


def render(
    app: Flask, db: sqlite_utils.Database, review: review_data.Review, audience: str
) -> bytes:
    """Build and render one version of the report."""
    html = build_html(app, db, review, audience=audience)
    return render_pdf(html, title=pdf_title(review, audience), author=pdf_author(app, db, review))


def check_audience(audience: str) -> None:
    """Refuse an audience other than internal or public."""
    if audience not in AUDIENCES:
        raise ReportError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")


# --------------------------------------------------------------------------- figures


def _stat(s: Statistic, *, as_percent: bool = False) -> str:
    if s.value is None:
        return f"not computable: {s.reason}"
    return percent(s.value) if as_percent else f"{s.value:.2f}"


def threshold_for(app: Flask, review: review_data.Review) -> int:
    """Return the review's public threshold: its own setting, else the site's default."""
    own = review.settings.get("public_threshold")
    if isinstance(own, int) and not isinstance(own, bool) and own >= 2:
        return own
    return int(app.config.get("PUBLIC_SUPPRESS_BELOW", disclosure.DEFAULT_THRESHOLD) or 0)


@dataclass(frozen=True)
class Figures:
    """Every number the report prints, gathered once and shared by both versions.

    ``table`` registers each printed count under a key with the sums that tie counts
    together; :attr:`internal` writes them as they are and :attr:`public` through
    disclosure control (:mod:`audit.reporting.disclosure`). The chapter builders read only these.
    """

    review: review_data.Review
    agg: Aggregation
    leads: list[str]
    reviewers: list[str]
    timeliness: list[analysis.TimelinessRow]
    agreement: dict[str, Any]
    moderation: dict[str, Any]
    audited: list[dict[str, Any]]
    total_cases: int
    second_chosen: int
    findings: list[finding_data.Finding]
    actions: list[dict[str, Any]]
    trend: dict[str, Any] | None
    grades: dict[str, Any]
    moderated: dict[str, set[str]]
    left_out: int
    voices: Any
    threshold: int
    table: disclosure.Table = field(default_factory=disclosure.Table)

    @property
    def rubric(self) -> Any:
        """Return the review's rubric."""
        return self.review.rubric

    @property
    def levels(self) -> list[tuple[str, str]]:
        """Return the scale as (id, label), best first."""
        return [(level.id, level.label) for level in self.rubric.scale.levels]

    @cached_property
    def internal(self) -> disclosure.View:
        """Return the unprotected view: every count as it is."""
        return self.table.unprotected()

    @cached_property
    def public(self) -> disclosure.View:
        """Return the protected view (raises DisclosureError if it cannot be protected)."""
        return self.table.protect(self.threshold)

    def view(self, audience: str) -> disclosure.View:
        """Return the view of the figures for one version of the report."""
        check_audience(audience)
        return self.public if audience == "public" else self.internal


def gather(app: Flask, db: sqlite_utils.Database, review: review_data.Review) -> Figures:
    """Compute every figure the report shows, once, and register what it prints."""
    members = review_data.members(db, review.id)
    audited = report_data.audited_cases(db, review.id)
    figures = Figures(
        review=review,
        agg=analysis.aggregate(db, review),
        leads=[m["display_name"] for m in members if m["role"] == "lead"],
        reviewers=[m["display_name"] for m in members if m["role"] == "reviewer"],
        timeliness=analysis.timeliness_rows(db, review),
        agreement=analysis.agreement_for(db, review),
        moderation=analysis.moderation_summary(db, review),
        audited=audited,
        total_cases=report_data.case_file_count(db, review.id),
        second_chosen=report_data.second_audits_chosen(db, review.id),
        findings=[f for f in finding_data.for_review(db, review.id) if f.status == "accepted"],
        actions=action_data.for_review(db, review.id),
        trend=_trend_series(db, review),
        grades=_case_grades(db, review) if len(audited) <= APPENDIX_MAX_CASES else {},
        moderated=moderation_data.moderated_questions(db, review.id),
        left_out=len(analysis.data_errors(db, review)),
        voices=analysis.collaboration_summary(db, review),
        threshold=threshold_for(app, review),
    )
    _register(figures)
    return figures


# Keys of the figures in the table (one place, read by registration and by the builders).
def _type(ct: str) -> str:
    return f"type/{ct}"


def _team(team: str) -> str:
    return f"team/{team}"


def _overall(ct: str | None = None) -> str:
    return "overall" if ct is None else f"overall/{ct}"


def _overall_team(team: str) -> str:
    return f"overall/team/{team}"


_SAFEGUARDING = {
    "cases": "safeguarding",
    "audited": "audited",
    "alerts": "alerts",
    "alert_cases": "alerts/cases",
    "recorded": "alerts/recorded",
    "waiting": "alerts/waiting",
}
"""The table keys of the counts ``findings.safeguarding_sentences`` writes."""


def _section(section_id: str) -> str:
    return f"section/{section_id}"


def _check(question_id: str) -> str:
    return f"check/{question_id}"


def _measure(index: int) -> str:
    return f"time/{index}"


def _register(figures: Figures) -> None:
    """Register every count the report prints and every sum a reader could use."""
    t = figures.table
    agg, rubric = figures.agg, figures.rubric
    t.cell("audited", len(figures.audited), anchor=True)
    t.cell("cases", figures.total_cases, anchor=True)
    if figures.total_cases >= len(figures.audited):
        t.cell("cases/waiting", figures.total_cases - len(figures.audited))
        t.relate("cases", ["audited", "cases/waiting"])
    by_type = Counter(c["case_type"] for c in figures.audited)
    by_team = Counter(c["team"] or "No team given" for c in figures.audited)
    t.relate("audited", [t.cell(_type(ct), n) for ct, n in by_type.items()])
    t.relate("audited", [t.cell(_team(team), n) for team, n in by_team.items()])
    _register_sample(figures)
    _register_moderation(figures)
    critical = agg.critical
    t.cell(_SAFEGUARDING["cases"], int(critical.get("cases", 0) or 0))
    alerts = int(critical.get("alerts", 0) or 0)
    recorded = min(int(critical.get("recorded", 0) or 0), alerts)
    t.cell(_SAFEGUARDING["alert_cases"], int(critical.get("alert_cases", 0) or 0))
    t.cell(_SAFEGUARDING["alerts"], alerts)
    t.relate(
        _SAFEGUARDING["alerts"],
        [
            t.cell(_SAFEGUARDING["recorded"], recorded),
            t.cell(_SAFEGUARDING["waiting"], alerts - recorded),
        ],
    )
    # The overall judgement: all together and by case type, each adding up to its cases.
    keys = [key for key, _ in figures.levels]
    good = rubric.scale.good_or_better
    _distribution(t, _overall(), agg.headline.whole, keys, good, population="audited")
    for ct, dist in agg.headline.by_case_type.items():
        pop = _type(ct) if ct in by_type else None
        _distribution(t, _overall(ct), dist, keys, good, population=pop)
    if agg.headline.by_case_type:
        for part in ("n", "count", "rest", *keys):
            t.relate(
                f"overall:{part}", [f"{_overall(ct)}:{part}" for ct in agg.headline.by_case_type]
            )
    for team, dist in agg.headline.by_team.items():
        t.share(_overall_team(team), dist.good.count, dist.good.n)
    if agg.headline.by_team:
        for part in ("n", "count", "rest"):
            t.relate(
                f"overall:{part}",
                [f"{_overall_team(team)}:{part}" for team in agg.headline.by_team],
            )
    overall_section = _overall_section(rubric)
    checks_by_section: dict[str, list[str]] = {}
    for q in agg.questions:
        if q.question.type != "yes_no":
            continue
        dist = q.breakdown.whole
        if dist.answered == 0 and dist.not_applicable == 0:
            continue
        section = rubric.section_of(q.question.id)
        types = [ct for ct in by_type if section.applies(ct) and q.question.applies(ct)]
        prefix = _check(q.question.id)
        # A check prints only its share (good answers of answers) and its N/A.
        _distribution(t, prefix, dist, (), (), population=_eligible(t, types, by_type))
        checks_by_section.setdefault(q.section_id, []).append(prefix)
    for result in agg.sections:
        sid = result.section.id
        if sid == overall_section and result.basis == "grade":
            continue
        dist = result.breakdown.whole
        prefix = _section(sid)
        if result.basis == "grade":
            types = [ct for ct in by_type if result.section.applies(ct)]
            _distribution(t, prefix, dist, keys, good, population=_eligible(t, types, by_type))
        else:
            t.share(prefix, dist.good.count, dist.good.n)
            # The share of check answers met pools the section's checks: their sum.
            if result.answers is not None:
                pooled = f"{prefix}/answers"
                t.share(pooled, result.answers.count, result.answers.n)
                parts = checks_by_section.get(sid, [])
                if parts and sum(t.values[f"{p}:n"] for p in parts) == result.answers.n:
                    for part in ("n", "count", "rest"):
                        t.relate(f"{pooled}:{part}", [f"{p}:{part}" for p in parts])
    for i, row in enumerate(figures.timeliness):
        prefix = _measure(i)
        t.share(prefix, row.on_time.count, row.on_time.n)
        t.cell(f"{prefix}:unrecorded", row.result.not_recorded)
        other = len(figures.audited) - row.on_time.n - row.result.not_recorded
        if other >= 0:
            t.relate(
                "audited",
                [
                    f"{prefix}:n",
                    f"{prefix}:unrecorded",
                    t.cell(f"{prefix}:other", other, unseen=True),
                ],
            )
        t.share(f"{prefix}/quality", row.quality.count, row.quality.n)
    agreed = figures.agreement
    t.cell("twice", agreed["cases"])
    t.cell("second", figures.second_chosen)
    for item in _agreement_items(figures):
        key = t.cell(f"agreement/{item.key or 'overall'}:pairs", item.pairs)
        if item.pairs == agreed["cases"]:
            t.same("twice", key)
    shares = _printed_shares(t)
    if figures.trend is not None:
        for li, line in enumerate([figures.trend["overall"], *figures.trend["sections"]]):
            for pi, point in enumerate(line.points):
                _linked_share(t, f"trend/{li}/{pi}", point.good, shares)
    for finding in figures.findings:
        if finding.origin != "other" and finding.evidence.get("n"):
            _linked_share(
                t, f"finding/{finding.id}", _evidence_proportion(finding.evidence), shares
            )


def _register_sample(figures: Figures) -> None:
    """Register the sample's list sizes and draws by stratum."""
    t = figures.table
    sampling = figures.review.settings.get("sampling") or {}
    population = int(sampling.get("population", 0) or 0)
    t.cell("sample/population", population)
    strata = sampling.get("strata") or {}
    keys = []
    for name, counts in strata.items():
        keys.append(t.cell(f"stratum/{name}:population", int(counts.get("population", 0))))
        t.cell(f"stratum/{name}:sample", int(counts.get("sample", 0)))
    if keys and sum(t.values[k] for k in keys) == population:
        t.relate("sample/population", keys)


def _register_moderation(figures: Figures) -> None:
    """Register moderation's counts: changed grades are raised, lowered or moved otherwise."""
    t = figures.table
    m = figures.moderation
    t.cell("moderation/submitted", m["submitted"])
    t.cell("moderation/moderated", m["moderated"])
    t.cell("moderation/changed", m["grades_changed"])
    parts = [
        t.cell("moderation/raised", m["raised"]),
        t.cell("moderation/lowered", m["lowered"]),
        t.cell("moderation/other", m["other_changes"], known=True),
    ]
    if m["raised"] + m["lowered"] + m["other_changes"] == m["grades_changed"]:
        t.relate("moderation/changed", parts)


def _eligible(t: disclosure.Table, types: Sequence[str], by_type: Mapping[str, int]) -> str:
    """Return the key of the cases a question applies to: the sum of its case types' cases."""
    if set(types) == set(by_type):
        return "audited"
    key = "eligible/" + ",".join(sorted(types))
    t.cell(key, sum(by_type[ct] for ct in types), unseen=True)
    t.relate(key, [_type(ct) for ct in types])
    return key


def _distribution(
    t: disclosure.Table,
    prefix: str,
    dist: Any,
    keys: Sequence[str],
    good: Collection[str],
    *,
    population: str | None,
) -> None:
    """Register a distribution: each answer's count, the share good, and what they add to.

    ``population`` is the key of the cases asked. For a check, its answers, its N/A (printed)
    and its unanswered add up to it, and the unanswered are treated as known to a reader (to
    be safe: a reader may guess there are none). For a grade, N/A and unanswered are not
    printed: a reader who guesses none are left over is right only when none are.
    """
    t.share(prefix, dist.good.count, dist.good.n)
    if keys:
        cells = {key: t.cell(f"{prefix}:{key}", dist.counts.get(key, 0)) for key in keys}
        t.relate(f"{prefix}:n", cells.values())
        t.relate(f"{prefix}:count", [c for key, c in cells.items() if key in good])
        t.relate(f"{prefix}:rest", [c for key, c in cells.items() if key not in good])
    if population is None:
        return
    if keys:
        left = t.values[population] - dist.good.n
        if left >= 0:
            # A reader may guess every case was graded: right when none is left over.
            leftover = t.cell(f"{prefix}:left", left, known=left == 0, unseen=left > 0)
            t.relate(population, [f"{prefix}:n", leftover])
        return
    t.cell(f"{prefix}:na", dist.not_applicable)
    left = t.values[population] - dist.good.n - dist.not_applicable
    if left >= 0:
        t.relate(
            population,
            [f"{prefix}:n", f"{prefix}:na", t.cell(f"{prefix}:unanswered", left, known=True)],
        )


def _printed_shares(t: disclosure.Table) -> dict[tuple[int, int], str]:
    """Return the shares registered so far by their (count, n), to link repeats to."""
    out: dict[tuple[int, int], str] = {}
    for key in t.values:
        if key.endswith(":count"):
            prefix = key[: -len(":count")]
            out.setdefault((t.values[key], t.values[f"{prefix}:n"]), prefix)
    return out


def _linked_share(
    t: disclosure.Table, prefix: str, p: Proportion, shares: Mapping[tuple[int, int], str]
) -> None:
    """Register a share printed again elsewhere; one with the same counts is the same figure.

    A reader who sees "23 of 28" beside a finding and "[c] of 28" in a table would take them
    for the same figure, so they are protected together.
    """
    t.share(prefix, p.count, p.n)
    same = shares.get((p.count, p.n))
    if same is not None:
        for part in ("n", "count", "rest"):
            t.same(f"{same}:{part}", f"{prefix}:{part}")


def _agreement_items(figures: Figures) -> list[Any]:
    """Return the agreement rows the report prints: overall, then each other section."""
    agreed = figures.agreement
    overall_section = _overall_section(figures.rubric)
    return [
        item
        for item in [agreed["overall"], *agreed["sections"]]
        if item is agreed["overall"] or item.key != overall_section
    ]


def _overall_section(rubric: Any) -> str | None:
    """Return the id of the section whose grade is the overall judgement, if any."""
    return next(
        (
            s.id
            for s in rubric.sections
            if rubric.overall.question and s.grade_question == rubric.overall.question
        ),
        None,
    )


# --------------------------------------------------------------------------- context


def marking_for(app: Flask, audience: str) -> str:
    """Return the protective marking printed on every page of this version."""
    key = "PUBLIC_MARKING" if audience == "public" else "PROTECTIVE_MARKING"
    default = "OFFICIAL" if audience == "public" else "OFFICIAL-SENSITIVE"
    return str(app.config.get(key) or default)


def safeguarding_statement(view: disclosure.View) -> str:
    """Word the safeguarding headline as every surface does (``findings.safeguarding_sentences``).

    No case details: only counts, and whether each escalation has been recorded.
    """
    values = {name: view.value(key) for name, key in _SAFEGUARDING.items()}
    return " ".join(
        findings.safeguarding_sentences(values, lambda name, _: view.count(_SAFEGUARDING[name]))
    )


def report_context(
    app: Flask,
    db: sqlite_utils.Database,
    review: review_data.Review,
    *,
    audience: str,
    figures: Figures | None = None,
) -> dict[str, Any]:
    """Gather everything the report template shows, already worded for the audience.

    The context is flat (the template's names); each chapter builder adds its own keys:
    :func:`cover_chapter` (who, when, marking), :func:`method_chapter` (cases, sample,
    moderation), :func:`headline_chapter`, :func:`findings_chapter`,
    :func:`sections_chapter`, :func:`timeliness_chapter`, :func:`agreement_chapter`,
    :func:`trends_chapter`, :func:`actions_chapter` and :func:`appendix_chapter`. Every
    count in it was written by ``numbers`` (a :class:`audit.reporting.disclosure.View`): as it is in
    the internal version, protected in the public one.
    """
    check_audience(audience)
    figures = figures or gather(app, db, review)
    view = figures.view(audience)
    context: dict[str, Any] = {}
    for chapter in CHAPTERS:
        context.update(chapter(figures, view))
    context.update(
        audience=audience,
        marking=marking_for(app, audience),
        service_name=app.config["SERVICE_NAME"],
        author=", ".join(figures.leads) if figures.leads else app.config["SERVICE_NAME"],
        title=pdf_title(review, audience),
    )
    return context


def cover_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return the cover's facts: the review, its dates and people, the version."""
    review = figures.review
    return {
        "review": review,
        "public": view.public,
        "draft": review.status not in COMPLETE_STATUSES,
        "threshold": figures.threshold,
        "withheld_any": any(s == disclosure.SECONDARY for s in view.withheld.values()),
        "numbers": view,
        "generated": produced_words(datetime.now(UTC)),
        "generated_iso": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "dates": {
            "start": _long_date(review.start_date),
            "end": _long_date(review.end_date),
            "days": _days(review.start_date, review.end_date),
        },
        "leads": figures.leads,
        "reviewers": figures.reviewers,
        "rubric": figures.rubric,
        "summary": [view.text(p) for p in _paragraphs(review.executive_summary)],
    }


def method_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return how the review was done: cases by type and team, the sample, moderation."""
    rubric = figures.rubric
    by_type = sorted(
        {c["case_type"] for c in figures.audited}, key=lambda ct: _case_type_label(rubric, ct)
    )
    by_team = sorted({c["team"] or "No team given" for c in figures.audited})
    sampling = figures.review.settings.get("sampling")
    strata = []
    if sampling and sampling.get("strata"):
        for name in sorted(sampling["strata"]):
            label = (
                _case_type_label(rubric, name)
                if sampling.get("stratify_by") == "case_type"
                else name
            )
            strata.append(
                {
                    "label": label,
                    "population": view.count(f"stratum/{name}:population"),
                    "sample": view.count(f"stratum/{name}:sample"),
                }
            )
    return {
        "audited": figures.agg.audited,
        "left_out": figures.left_out,
        "total_cases": figures.total_cases,
        "by_type": [
            {"label": _case_type_label(rubric, ct), "count": view.count(_type(ct))}
            for ct in by_type
        ],
        "by_team": [{"label": team, "count": view.count(_team(team))} for team in by_team],
        "sampling": sampling,
        "strata": strata,
        "stratified_by": {"case_type": "case type", "team": "team"}.get(
            (sampling or {}).get("stratify_by") or "", ""
        ),
        "sample_population": view.count("sample/population"),
        "moderation": {
            key: view.count(f"moderation/{key}")
            for key in ("moderated", "submitted", "changed", "raised", "lowered")
        },
        "second_chosen": view.count("second"),
        "twice": view.count("twice"),
        "twice_n": figures.agreement["cases"],
        "good_label": findings.threshold_label(rubric.scale),
    }


def headline_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return the headline: safeguarding, the overall share, its spread and its charts."""
    whole = figures.agg.headline.whole
    prefix = _overall()
    return {
        "headline": view.share(prefix, whole.good),
        "headline_share": percent(whole.good.share) if whole.good.share is not None else None,
        "headline_hidden": any(view.hidden(f"{prefix}:{part}") for part in ("count", "n", "rest")),
        "distribution": [
            {
                "label": label,
                "cell": view.part(f"{prefix}:{key}", f"{prefix}:n"),
                "good": figures.rubric.scale.is_good(key),
            }
            for key, label in figures.levels
        ],
        "safeguarding": safeguarding_statement(view),
        "figures": _charts(figures, view),
    }


def _charts(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Draw the dashboard's own charts; in public, charts drawn from the protected figures.

    In public a withheld count is a hatched band of fixed width (a bar's length would give
    the count away) and the tables beside the charts are written from the protected figures.
    """
    from markupsafe import Markup

    from audit.analysis import section_charts  # the dashboard's charts, reused
    from audit.reporting import charts

    agg = figures.agg
    headline_caption = "Overall judgement of the cases audited, all together and by case type."
    sections_caption = "Grades given in each section of the audit tool."
    if not view.public:
        drawn = section_charts(agg, "report")
        return {
            "headline": _figure(
                str(drawn["headline_chart"]), drawn["headline_table"], headline_caption
            ),
            "sections": _figure(
                str(drawn["sections_chart"]), drawn["sections_table"], sections_caption
            ),
        }
    rubric = figures.rubric
    headline_rows = [("All audited cases", _overall(), agg.headline.whole)] + [
        (_case_type_label(rubric, ct), _overall(ct), dist)
        for ct, dist in agg.headline.by_case_type.items()
    ]
    section_rows = [
        (s.section.title, _section(s.section.id), s.breakdown.whole)
        for s in agg.sections
        if s.basis == "grade" and s.section.id != _overall_section(rubric)
    ]
    out = {}
    for name, rows, caption, title, header in (
        (
            "headline",
            headline_rows,
            headline_caption,
            "Overall judgement by case type",
            "Case type",
        ),
        ("sections", section_rows, sections_caption, "Grades by section", "Section"),
    ):
        table = Markup(_protected_table(figures, view, rows, title, header))
        if not rows:
            out[name] = {"caption": caption, "table": table, "withheld": False}
            continue
        cells = [(label, _chart_cells(figures, view, prefix)) for label, prefix, _ in rows]
        svg = charts.protected_bars(
            cells, title=title, levels=figures.levels, chart_id=f"report-{name}"
        )
        out[name] = _figure(str(svg), table, caption)
        out[name]["withheld"] = any(isinstance(c, str) for _, row in cells for c in row)
    return out


def _chart_cells(figures: Figures, view: disclosure.View, prefix: str) -> list[int | str]:
    """Return a public chart row: each level's printed count, or how its withheld count reads."""
    keys = [f"{prefix}:{key}" for key, _ in figures.levels]
    return [view.count(k) if view.hidden(k) else view.value(k) for k in keys]


def _protected_table(
    figures: Figures,
    view: disclosure.View,
    rows: Sequence[tuple[str, str, Any]],
    caption: str,
    row_header: str,
) -> str:
    """Write a chart's data table from the protected figures: "<5" and "[c]" where withheld."""
    esc = html_lib.escape
    levels = figures.levels
    good_label = findings.threshold_label(figures.rubric.scale)
    num = 'class="govuk-table__header govuk-table__header--numeric"'
    cell = 'class="govuk-table__cell govuk-table__cell--numeric"'
    head = [f'<th scope="col" class="govuk-table__header">{esc(row_header)}</th>']
    head += [f'<th scope="col" {num}>{esc(label)}</th>' for _, label in levels]
    head += [
        f'<th scope="col" {num}>Total answers</th>',
        f'<th scope="col" {num}>{esc(good_label)}</th>',
    ]
    body = []
    for label, prefix, _dist in rows:
        cells = [f'<th scope="row" class="govuk-table__header">{esc(label)}</th>']
        cells += [
            f"<td {cell}>{esc(view.part(f'{prefix}:{key}', f'{prefix}:n'))}</td>"
            for key, _ in levels
        ]
        cells.append(f"<td {cell}>{esc(view.count(f'{prefix}:n'))}</td>")
        cells.append(f"<td {cell}>{esc(view.part(f'{prefix}:count', f'{prefix}:n'))}</td>")
        body.append(f'<tr class="govuk-table__row">{"".join(cells)}</tr>')
    return (
        '<table class="govuk-table app-chart-table">'
        f'<caption class="govuk-table__caption govuk-table__caption--m">{esc(caption)}</caption>'
        f'<thead class="govuk-table__head"><tr class="govuk-table__row">{"".join(head)}</tr>'
        f'</thead><tbody class="govuk-table__body">{"".join(body)}</tbody></table>'
    )


_SVG_TITLE = re.compile(r"<title id=\"[^\"]*-title\">(.*?)</title>", re.S)
_SVG_DESC = re.compile(r"<desc id=\"[^\"]*-desc\">(.*?)</desc>", re.S)


def _figure(svg: str, table: Any, caption: str) -> dict[str, Any]:
    """Turn an inline chart into an image with alternative text (its title and description).

    PDF/UA needs every figure to carry alternative text; WeasyPrint takes it from an
    image's ``alt``, so the chart goes in as a ``data:`` SVG image.
    """
    title = _SVG_TITLE.search(svg)
    desc = _SVG_DESC.search(svg)
    alt = ". ".join(
        html_lib.unescape(m[1]).strip().rstrip(".") for m in (title, desc) if m and m[1].strip()
    )
    return {
        "src": SVG_DATA + base64.b64encode(svg.encode("utf-8")).decode("ascii"),
        "alt": alt + ".",
        "caption": caption,
        "table": table,
    }


def findings_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return the curated findings: accepted only, in the lead's order, with evidence."""
    strengths, developments = [], []
    for finding in figures.findings:
        evidence = finding.evidence
        if finding.origin == "other" or not evidence.get("n"):
            source = "From interviews and focus groups" if finding.origin == "other" else ""
        else:
            p = _evidence_proportion(evidence)
            source = "Evidence: " + view.share(f"finding/{finding.id}", p)
        item = {"text": view.text(finding.text), "source": source}
        (strengths if finding.kind == "strength" else developments).append(item)
    return {"strengths": strengths, "developments": developments}


def _evidence_proportion(evidence: Mapping[str, Any]) -> Proportion:
    """Return a finding's stored evidence as the share it was when the lead agreed it."""
    return Proportion(
        count=int(evidence.get("count", 0)),
        n=int(evidence.get("n", 0)),
        share=evidence.get("share"),
        low=evidence.get("low"),
        high=evidence.get("high"),
    )


def sections_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return section by section: the grade, then the yes/no checks beside it."""
    agg = figures.agg
    overall_section = _overall_section(figures.rubric)
    sections = []
    for result in agg.sections:
        if result.section.id == overall_section and result.basis == "grade":
            continue  # the overall judgement has its own place in the headline
        checks = []
        for q in agg.questions:
            if q.section_id != result.section.id or q.question.type != "yes_no":
                continue
            dist = q.breakdown.whole
            if dist.answered == 0 and dist.not_applicable == 0:
                continue
            checks.append(
                {
                    "text": " ".join(q.question.text.split()),
                    "good_answer": (q.question.good_answer or "yes").capitalize(),
                    "good_is_no": (q.question.good_answer or "yes") == "no",
                    "share": view.share(_check(q.question.id), dist.good),
                    "not_applicable": view.count(f"{_check(q.question.id)}:na"),
                }
            )
        if result.basis == "none" and not checks:
            continue
        prefix = _section(result.section.id)
        sections.append(
            {
                "id": result.section.id,
                "title": result.section.title,
                "basis": result.basis,
                "measure": findings.measure_words(result, figures.rubric),
                "share": view.share(prefix, result.breakdown.whole.good),
                "checks_met": (
                    view.share(f"{prefix}/answers", result.answers) if result.answers else ""
                ),
                "checks": checks,
            }
        )
    rubric = figures.rubric
    by_group = [
        {
            "heading": heading,
            "rows": [
                {"label": label(key), "share": view.share(prefix(key), d.good)}
                for key, d in sorted(rows.items(), key=lambda kv: label(kv[0]))
            ],
        }
        for heading, rows, label, prefix in (
            (
                "Case type",
                agg.headline.by_case_type,
                lambda k: _case_type_label(rubric, k),
                _overall,
            ),
            ("Team", agg.headline.by_team, lambda k: k or "No team given", _overall_team),
        )
    ]
    return {
        "sections": sections,
        "by_group": by_group,
        "rubric_sentences": findings.describe_rubric(rubric),
    }


def timeliness_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return each timeliness measure beside the quality of the same cases."""
    return {
        "timeliness": [
            {
                "name": row.result.measure.name,
                "on_time": view.share(_measure(i), row.on_time, none="no cases with both dates"),
                "late": view.count(f"{_measure(i)}:rest"),
                "not_recorded": view.count(f"{_measure(i)}:unrecorded"),
                "quality": view.share(f"{_measure(i)}/quality", row.quality),
            }
            for i, row in enumerate(figures.timeliness)
        ]
    }


def agreement_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return agreement between auditors, overall and by section.

    In public, a row whose number of cases is withheld shows no statistics: a "100%" or a
    reason beside "<5" would give the count away.
    """
    rows = []
    for item in _agreement_items(figures):
        key = f"agreement/{item.key or 'overall'}:pairs"
        if view.hidden(key):
            hidden = "not shown: too few cases"
            rows.append(
                {
                    "label": item.label,
                    "pairs": view.count(key),
                    "exact": hidden,
                    "kappa": hidden,
                    "alpha": hidden,
                }
            )
            continue
        stat = _stat if not view.public else _public_stat
        rows.append(
            {
                "label": item.label,
                "pairs": view.count(key),
                "exact": stat(item.exact, as_percent=True),
                "kappa": stat(item.kappa),
                "alpha": stat(item.alpha),
            }
        )
    return {"agreement": rows}


def _public_stat(s: Statistic, *, as_percent: bool = False) -> str:
    """Write a statistic for the public version: a reason that is not computable has no numbers."""
    if s.value is None:
        reason = s.reason or ""
        return "not computable: " + ("too few cases" if re.search(r"\d", reason) else reason)
    return _stat(s, as_percent=as_percent)


def trends_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return the programme's trend up to this review, worded for the report, or None."""
    if figures.trend is None:
        return {"trend": None}
    result = figures.trend
    rows = []
    for li, line in enumerate([result["overall"], *result["sections"]]):
        points = []
        for pi, point in enumerate(line.points):
            prefix = f"trend/{li}/{pi}"
            change = line.changes[pi - 1].describe() if pi else ""
            if (
                pi
                and view.public
                and any(
                    view.hidden(f"trend/{li}/{j}:{part}")
                    for j in (pi - 1, pi)
                    for part in ("count", "n", "rest")
                )
            ):
                change = "not shown: too few cases"
            points.append(
                {"label": point.label, "share": view.share(prefix, point.good), "change": change}
            )
        rows.append({"label": line.label, "points": points})
    return {"trend": {"rows": rows, "left_out": list(result["comparability"].left_out)}}


def actions_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return the action plan as it stands."""
    return {
        "plan": [
            {
                "finding": view.text(item["finding_text"] or ""),
                "what": item["what"],
                "owner": item["owner"],
                "due": _long_date(item["due_date"]) if item["due_date"] else "",
                "status": "Overdue" if item["overdue"] else item["status_label"],
                "last": _long_date(item["last_note"]) if item["last_note"] else "",
            }
            for item in figures.actions
        ]
    }


def voices_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return the practitioner's and the family's view: internal only, never in public."""
    return {"voices": None if view.public else figures.voices}


def appendix_chapter(figures: Figures, view: disclosure.View) -> dict[str, Any]:
    """Return the case-level appendix (internal version only, and only if not too long)."""
    appendix = None
    if not view.public and len(figures.audited) <= APPENDIX_MAX_CASES:
        appendix = _appendix(figures.grades, figures.moderated, figures.review, figures.audited)
    return {"appendix": appendix, "appendix_max": APPENDIX_MAX_CASES}


CHAPTERS: tuple[Callable[[Figures, disclosure.View], dict[str, Any]], ...] = (
    cover_chapter,
    method_chapter,
    headline_chapter,
    findings_chapter,
    sections_chapter,
    timeliness_chapter,
    agreement_chapter,
    trends_chapter,
    actions_chapter,
    voices_chapter,
    appendix_chapter,
)
"""The chapter builders, in the report's order; each reads the same :class:`Figures`."""


def _trend_series(db: sqlite_utils.Database, review: review_data.Review) -> Any:
    """Return the programme's trend up to this review, or None if it is the first."""
    if review.programme_id is None:
        return None
    ids = programme_data.review_ids(db, review.programme_id)
    if review.id not in ids or ids.index(review.id) == 0:
        return None
    series = []
    for rid in ids[: ids.index(review.id) + 1]:
        other = review_data.get(db, rid)
        series.append((other.id, other.title, analysis.aggregate(db, other)))
    return trends.trend(series)


# --------------------------------------------------------------------------- the lead's wording


@dataclass(frozen=True)
class Blocker:
    """A phrase in the lead's wording that gives a withheld count away in public."""

    where: str
    text: str
    phrases: tuple[str, ...]


def public_blockers(figures: Figures) -> list[Blocker]:
    """Return the lead's wording that must change before the public version can be issued.

    Findings, the executive summary and the actions are the lead's own words: a number in
    them that matches a withheld count, or any count below the threshold, would undo the
    protection.
    """
    view = figures.public
    values = view.table.values
    shares = [
        (values[key], values[f"{key.rsplit(':', 1)[0]}:n"])
        for key in view.withheld
        if ":" in key and f"{key.rsplit(':', 1)[0]}:n" in values
    ]
    out = []
    for finding in figures.findings:
        evidence = _evidence_proportion(finding.evidence)
        own = list(shares)
        if (
            finding.origin != "other"
            and evidence.n
            and any(view.hidden(f"finding/{finding.id}:{part}") for part in ("count", "n", "rest"))
        ):
            own.append((evidence.count, evidence.n))
        phrases = view.revealing(finding.text, shares=own)
        if phrases:
            kind = "Strength" if finding.kind == "strength" else "Area for development"
            out.append(Blocker(kind, finding.text, tuple(phrases)))
    for paragraph in _paragraphs(figures.review.executive_summary):
        phrases = view.revealing(paragraph, shares=shares)
        if phrases:
            out.append(Blocker("Executive summary", paragraph, tuple(phrases)))
    for action in figures.actions:
        phrases = view.revealing(action["what"] or "", shares=shares)
        if phrases:
            out.append(Blocker("Action plan", action["what"], tuple(phrases)))
    return out


class PublicBlocked(ReportError):
    """The public version cannot be issued: the lead's wording gives withheld counts away."""

    def __init__(self, blockers: Sequence[Blocker]) -> None:
        self.blockers = list(blockers)
        listed = "; ".join(f"{b.where}: “{'”, “'.join(b.phrases)}”" for b in self.blockers)
        super().__init__(
            "The public version cannot be issued until the lead rewords what gives a withheld "
            f"count away: {listed}."
        )


def check_public(figures: Figures) -> None:
    """Refuse the public version while the lead's wording gives a withheld count away."""
    try:
        blockers = public_blockers(figures)
    except disclosure.DisclosureError as exc:
        raise ReportError(f"The public version cannot be made: {exc}") from None
    if blockers:
        raise PublicBlocked(blockers)


def _paragraphs(text: str) -> list[str]:
    """Split the lead's text into paragraphs at blank lines; lines within one are joined."""
    blocks = re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip())
    return [" ".join(line.strip() for line in block.splitlines()) for block in blocks if block]


def _days(start: str | None, end: str | None) -> int | None:
    try:
        first, last = date.fromisoformat(start or ""), date.fromisoformat(end or "")
    except ValueError:
        return None
    return (last - first).days + 1 if last >= first else None


def _long_date(value: str | None) -> str:
    """Write a stored date or moment as people read it: "27 October 2026" (the London day)."""
    return moments.day(value)


def produced_words(moment: datetime) -> str:
    """Say when a report was made, in London time: "27 October 2026 at 14:30"."""
    return f"{moments.day(moment)} at {moment.astimezone(moments.LOCAL):%H:%M}"


_MINOR_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "be", "but", "by", "for", "in", "is", "of", "on", "or", "than"}
    | {"the", "to", "with"}
)


def short_labels(labels: Sequence[str]) -> list[str]:
    """Return a short form of each grade label for narrow columns: "RI" for "Requires
    improvement to be good", "G" for "Good".

    The initials of the words before the first small word ("to", "of"...), as councils
    abbreviate Ofsted's grades; where two would be the same, more letters of the first word.
    """
    shorts = []
    for label in labels:
        words = label.split() or [label or "?"]
        lead = []
        for word in words:
            if lead and word.lower() in _MINOR_WORDS:
                break
            lead.append(word)
        shorts.append("".join(w[0].upper() for w in lead))
    extra = 1
    while len(set(shorts)) < len(shorts) and extra < 12:
        seen = Counter(shorts)
        shorts = [
            (s[0] + (label.split() or ["?"])[0][1 : 1 + extra] + s[1:]) if seen[s] > 1 else s
            for s, label in zip(shorts, labels, strict=True)
        ]
        extra += 1
    return shorts


def needs_short_labels(labels: Sequence[str]) -> bool:
    """Tell whether grade labels are too long for a table with a column per section."""
    return any(len(label.split()) > 2 or len(label) > 14 for label in labels)


def _case_type_label(rubric: Any, case_type: str) -> str:
    try:
        return str(rubric.case_type(case_type).label)
    except (KeyError, LookupError, AttributeError):
        return case_type


def _case_grades(db: sqlite_utils.Database, review: review_data.Review) -> dict[str, Any]:
    """Return each audited case's section grades and overall grade, for the appendix."""
    from audit.data import results

    rubric = review.rubric
    question_ids = [s.grade_question for s in rubric.sections if s.grade_question]
    if rubric.overall.question:
        question_ids.append(rubric.overall.question)
    sections = {q.id: rubric.section_of(q.id).id for q in rubric.questions}
    return dict(results.case_grades(db, review.id, question_ids, sections))


def _appendix(
    grades: Mapping[str, Any],
    changed: Mapping[str, set[str]],
    review: review_data.Review,
    audited: list[dict[str, Any]],
) -> dict[str, Any]:
    """Return the case-level table: each audited case's overall judgement and section grades."""
    rubric = review.rubric
    graded = [s for s in rubric.sections if s.grade_question]
    labels = {level.id: level.label for level in rubric.scale.levels}
    full = list(labels.values())
    # A column per section: long grade labels ("Requires improvement to be good") are written
    # short, with a key above the table.
    shorts = dict(zip(full, short_labels(full), strict=True)) if needs_short_labels(full) else {}
    overall_section = None
    if rubric.overall.question:
        overall_section = next(
            (s.id for s in graded if s.grade_question == rubric.overall.question), None
        )
    columns = [s for s in graded if s.id != overall_section]
    question_texts = {q.id: " ".join(q.text.split()) for q in rubric.questions}
    shown = {s.grade_question for s in columns} | {rubric.overall.question}
    rows = []
    for case in audited:
        mine = grades.get(case["audit_id"], {})
        moved = changed.get(case["audit_id"], set())
        overall = rubric.overall.judge(mine, rubric)
        rows.append(
            {
                "pseudonym": case["pseudonym"],
                "reference": case["reference"],
                "case_type": _case_type_label(rubric, case["case_type"]),
                "team": case["team"],
                "overall": labels.get(overall, "Not graded") if overall else "Not graded",
                # The dagger marks the moderated question itself, never the overall judgement
                # of a case whose section grade moved.
                "overall_moderated": bool(rubric.overall.question)
                and rubric.overall.question in moved,
                "moderated": bool(moved),
                "grades": [
                    {
                        "label": labels.get(mine.get(s.grade_question or ""), "") or "—",
                        "moderated": s.grade_question in moved,
                    }
                    for s in columns
                ],
                "other_moderated": [
                    question_texts[q] for q in sorted(moved - shown) if q in question_texts
                ],
            }
        )
    return {
        "columns": [s.title for s in columns],
        "rows": rows,
        "short": shorts,
        "key": [(short, label) for label, short in shorts.items()],
    }
