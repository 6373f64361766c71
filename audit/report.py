"""The findings report: HTML from templates/report/, a tagged PDF from WeasyPrint, issuing.

:func:`build_html` gathers the review's numbers (through :mod:`audit.analysis`, so the report
shows what the dashboard shows, drawn by the same chart code) and renders
``templates/report/report.html``; :func:`render_pdf` turns that HTML into an accessible
PDF/UA-1 document; :func:`issue` does both and stores the bytes with their SHA-256 hash.

Two audiences: ``internal`` (the protective marking, the case-level appendix with the host's
references) and ``public`` (its own marking, no case-level appendix, every count below
``PUBLIC_SUPPRESS_BELOW`` written as "<5").

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from audit import analysis, paths, trends
from audit.data import actions as action_data
from audit.data import findings as finding_data
from audit.data import programmes as programme_data
from audit.data import reports as report_data
from audit.data import reviews as review_data
from audit.findings import Aggregation, percent
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
    context = report_context(app, db, review, audience=audience)
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


# --------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Numbers:
    """Write counts and shares for one audience: the public version hides small counts."""

    public: bool
    below: int

    def small(self, n: int) -> bool:
        """Tell whether a count is hidden in this version (1 to ``below - 1``, public only)."""
        return self.public and 0 < n < self.below

    def count(self, n: int) -> str:
        """Write a count, or "<5" for a small count in the public version."""
        return f"<{self.below}" if self.small(n) else str(n)

    def share(self, p: Proportion, *, none: str = "no answers") -> str:
        """Write a share, its interval and counts: "50% (95% interval 31% to 69%; 12 of 24)".

        Where the count or the total is hidden, so is the share (it would give the count away);
        so too where the cases left over are a small count ("more than 19 of 24").
        """
        if p.share is None or p.n == 0:
            return none
        if self.small(p.count) or self.small(p.n):
            return f"{self.count(p.count)} of {self.count(p.n)}"
        if self.small(p.n - p.count):  # "23 of 24" would give away the one case left
            return f"more than {p.n - self.below} of {p.n}"
        return (
            f"{percent(p.share)} (95% interval {percent(p.low)} to {percent(p.high)}; "
            f"{p.count} of {p.n})"
        )

    def share_of_counts(self, count: int, n: int) -> str:
        """Write "count (share%)" for a cell of a distribution table."""
        if n == 0:
            return str(count)
        if self.small(count) or self.small(n):
            return self.count(count)
        return f"{count} ({percent(count / n)})"

    def _implied_small(self, n: str, pct: str) -> bool:
        """Tell whether a percentage of ``n`` gives away a small count (or ``n`` is small)."""
        whole = int(n)
        return self.small(whole) or self.small(round(whole * int(pct) / 100))

    def text(self, words: str) -> str:
        """Hide small counts written into prose as "N of M" (curated findings' wording).

        "23 of 24" hides the one case left over too: "more than 19 of 24".
        """
        if not self.public:
            return words

        def hide(match: re.Match[str]) -> str:
            count, n = int(match[1]), int(match[2])
            if not self.small(count) and not self.small(n) and self.small(n - count):
                return f"more than {n - self.below} of {n}"
            return f"{self.count(count)} of {self.count(n)}"

        return _OF.sub(hide, words)

    def markup(self, markup: str) -> str:
        """Hide small counts in a chart or chart table drawn by :mod:`audit.charts`.

        Chart code writes counts in a few known forms: the count inside a segment, "C of T
        (P%)" in tooltips, "N (P%)" in descriptions and table cells, "N answers", "n=N" in
        notes, and data attributes. Each small count becomes "<5" (or is left out of the
        drawing, where "<5" would not fit), and its percentage goes with it.
        """
        if not self.public:
            return markup

        def esc(n: str) -> str:
            return html_lib.escape(self.count(int(n)))

        def either_small(m: re.Match[str]) -> bool:
            return self.small(int(m[1])) or self.small(int(m[2]))

        out = _COUNT_LABEL.sub(lambda m: "" if self.small(int(m[2])) else m[0], markup)
        out = _DATA_COUNT.sub("", out)
        # Shares of good-or-better first, while the counts they sit beside are still digits.
        out = _DESC_GOOD.sub(
            lambda m: m[0] if not self._implied_small(m["n"], m["p"]) else m["n"] + m["mid"] + ".",
            out,
        )
        out = _NOTE_GOOD.sub(
            lambda m: m[0] if not self._implied_small(m["n"], m["p"]) else "n=" + m["n"], out
        )
        out = _C_OF_T_P.sub(
            lambda m: f"{esc(m[1])} of {esc(m[2])}" if either_small(m) else m[0], out
        )
        out = _N_P.sub(lambda m: esc(m[1]) if self.small(int(m[1])) else m[0], out)
        out = _N_ANSWERS.sub(lambda m: f"{esc(m[1])} answers", out)
        out = _N_EQ.sub(lambda m: f"n={esc(m[1])}", out)
        return _CELL.sub(lambda m: f">{esc(m[1])}</td>", out)


_OF = re.compile(r"\b(\d+) of (\d+)\b")
_COUNT_LABEL = re.compile(
    r'(<rect [^>]*height="18" rx="2"[^>]*/>)?<text [^>]*class="app-chart__count">(\d+)</text>'
)
_DATA_COUNT = re.compile(r' data-(?:count|total)="\d+"')
_C_OF_T_P = re.compile(r"\b(\d+) of (\d+) \(\d+%\)")
_N_P = re.compile(r"\b(\d+)(?:\s|\u00a0)\(\d+%\)")
# "Label: N answers; Level C (P%), ...; P% good or better." (a chart description's sentence)
_DESC_GOOD = re.compile(r"(?P<n>\d+)(?P<mid> answers; [^;]*); (?P<p>\d+)% [^.;<]*\.")
# "n=N, P% good or better" (a bar's note)
_NOTE_GOOD = re.compile(r"n=(?P<n>\d+), (?P<p>\d+)% [a-z ]*good or better")
_N_ANSWERS = re.compile(r"\b(\d+) answers\b")
_N_EQ = re.compile(r"\bn=(\d+)\b")
_CELL = re.compile(r">(\d+)</td>")


def _stat(s: Statistic, *, as_percent: bool = False) -> str:
    if s.value is None:
        return f"not computable: {s.reason}"
    return percent(s.value) if as_percent else f"{s.value:.2f}"


# --------------------------------------------------------------------------- context


def marking_for(app: Flask, audience: str) -> str:
    """Return the protective marking printed on every page of this version."""
    key = "PUBLIC_MARKING" if audience == "public" else "PROTECTIVE_MARKING"
    default = "OFFICIAL" if audience == "public" else "OFFICIAL-SENSITIVE"
    return str(app.config.get(key) or default)


def safeguarding_statement(critical: Mapping[str, int], audited: int, numbers: Numbers) -> str:
    """Word the safeguarding headline: how many children were not adequately safeguarded.

    No case details: only counts, and whether each escalation has been recorded.
    """
    cases = int(critical.get("cases", 0) or 0)
    recorded = int(critical.get("recorded", 0) or 0)
    if cases == 0:
        return f"No child was found not adequately safeguarded in the {audited} cases audited."
    statement = (
        f"In {numbers.count(cases)} of the {audited} cases audited a child was found not "
        "adequately safeguarded; each was escalated to the responsible manager"
    )
    missing = cases - recorded
    if missing <= 0:
        return statement + " and the action recorded."
    return (
        f"In {numbers.count(cases)} of the {audited} cases audited a child was found not "
        f"adequately safeguarded. For {numbers.count(recorded)} the escalation to the "
        f"responsible manager and the action taken are recorded; {numbers.count(missing)} "
        f"{'is' if missing == 1 else 'are'} still to be recorded."
    )


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
    try:
        day = date.fromisoformat((value or "")[:10])
    except ValueError:
        return value or ""
    return f"{day.day} {day:%B %Y}"


def _case_type_label(rubric: Any, case_type: str) -> str:
    try:
        return str(rubric.case_type(case_type).label)
    except (KeyError, LookupError, AttributeError):
        return case_type


def _public_aggregation(agg: Aggregation, below: int) -> Aggregation:
    """Leave out of the public charts the rows with fewer answers than the threshold."""
    by_type = {k: v for k, v in agg.headline.by_case_type.items() if v.answered >= below}
    sections = tuple(s for s in agg.sections if s.breakdown.whole.answered >= below)
    return replace(agg, headline=replace(agg.headline, by_case_type=by_type), sections=sections)


_SVG_TITLE = re.compile(r"<title id=\"[^\"]*-title\">(.*?)</title>", re.S)
_SVG_DESC = re.compile(r"<desc id=\"[^\"]*-desc\">(.*?)</desc>", re.S)


def _figure(svg: str, table: str, caption: str) -> dict[str, Any]:
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


def report_context(
    app: Flask, db: sqlite_utils.Database, review: review_data.Review, *, audience: str
) -> dict[str, Any]:
    """Gather everything the report template shows, already worded for the audience."""
    from markupsafe import Markup

    from audit.views.findings import section_charts  # the dashboard's charts, reused

    check_audience(audience)
    public = audience == "public"
    numbers = Numbers(public=public, below=int(app.config.get("PUBLIC_SUPPRESS_BELOW", 5) or 0))
    rubric = review.rubric
    levels = [(level.id, level.label) for level in rubric.scale.levels]
    agg = analysis.aggregate(db, review)
    members = review_data.members(db, review.id)
    leads = [m["display_name"] for m in members if m["role"] == "lead"]
    reviewers = [m["display_name"] for m in members if m["role"] == "reviewer"]

    # Charts: the dashboard's own, with small rows and counts hidden in the public version.
    drawn = section_charts(_public_aggregation(agg, numbers.below) if public else agg, "report")
    figures = {
        "headline": _figure(
            numbers.markup(str(drawn["headline_chart"])),
            Markup(numbers.markup(str(drawn["headline_table"]))),
            "Overall judgement of the cases audited, all together and by case type.",
        ),
        "sections": _figure(
            numbers.markup(str(drawn["sections_chart"])),
            Markup(numbers.markup(str(drawn["sections_table"]))),
            "Grades given in each section of the audit tool.",
        ),
    }

    whole = agg.headline.whole
    distribution = [
        {
            "label": label,
            "cell": numbers.share_of_counts(whole.counts.get(key, 0), whole.answered),
            "good": rubric.scale.is_good(key),
        }
        for key, label in levels
    ]

    # Findings as curated: accepted only, in the lead's order.
    strengths, developments = [], []
    for finding in finding_data.for_review(db, review.id):
        if finding.status != "accepted":
            continue
        evidence = finding.evidence
        if finding.origin == "other" or not evidence.get("n"):
            source = "From interviews and focus groups" if finding.origin == "other" else ""
        else:
            source = "Evidence: " + numbers.share(
                Proportion(
                    count=int(evidence.get("count", 0)),
                    n=int(evidence.get("n", 0)),
                    share=evidence.get("share"),
                    low=evidence.get("low"),
                    high=evidence.get("high"),
                )
            )
        item = {"text": numbers.text(finding.text), "source": source}
        (strengths if finding.kind == "strength" else developments).append(item)

    # Section by section: the grade, then the yes/no checks (compliance beside quality).
    sections = []
    for result in agg.sections:
        if result.section.grade_question and result.section.grade_question == (
            rubric.overall.question
        ):
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
                    "share": numbers.share(dist.good),
                    "not_applicable": numbers.count(dist.not_applicable),
                }
            )
        sections.append(
            {
                "id": result.section.id,
                "title": result.section.title,
                "basis": result.basis,
                "share": numbers.share(result.breakdown.whole.good),
                "checks": checks,
            }
        )

    timeliness = [
        {
            "name": row.result.measure.name,
            "on_time": numbers.share(row.on_time, none="no cases with both dates"),
            "late": numbers.count(row.result.late),
            "not_recorded": numbers.count(row.result.not_recorded),
            "quality": numbers.share(row.quality),
        }
        for row in analysis.timeliness_rows(db, review)
    ]

    agreed = analysis.agreement_for(db, review)
    overall_section = next(
        (
            s.id
            for s in rubric.sections
            if rubric.overall.question and s.grade_question == rubric.overall.question
        ),
        None,
    )
    agreement = [
        {
            "label": item.label,
            "pairs": numbers.count(item.pairs),
            "exact": _stat(item.exact, as_percent=True),
            "kappa": _stat(item.kappa),
            "alpha": _stat(item.alpha),
        }
        for item in [agreed["overall"], *agreed["sections"]]
        if item is agreed["overall"] or item.key != overall_section
    ]

    moderation = analysis.moderation_summary(db, review)
    audited = report_data.audited_cases(db, review.id)
    by_type = Counter(c["case_type"] for c in audited)
    by_team = Counter(c["team"] or "No team given" for c in audited)
    sampling = review.settings.get("sampling")
    strata = []
    if sampling and sampling.get("strata"):
        for name, counts in sorted(sampling["strata"].items()):
            label = (
                _case_type_label(rubric, name)
                if sampling.get("stratify_by") == "case_type"
                else name
            )
            strata.append(
                {
                    "label": label,
                    "population": numbers.count(int(counts.get("population", 0))),
                    "sample": numbers.count(int(counts.get("sample", 0))),
                }
            )

    appendix = None
    if not public and len(audited) <= APPENDIX_MAX_CASES:
        appendix = _appendix(db, review, audited)

    total_cases = report_data.case_file_count(db, review.id)
    draft = review.status not in COMPLETE_STATUSES
    plan = [
        {
            "finding": numbers.text(item["finding_text"] or ""),
            "what": item["what"],
            "owner": item["owner"],
            "due": _long_date(item["due_date"]) if item["due_date"] else "",
            "status": "Overdue" if item["overdue"] else item["status_label"],
            "last": _long_date(item["last_note"]) if item["last_note"] else "",
        }
        for item in action_data.for_review(db, review.id)
    ]
    return {
        "plan": plan,
        "trend": _trend(db, review, numbers),
        "review": review,
        "audience": audience,
        "public": public,
        "draft": draft,
        "marking": marking_for(app, audience),
        "service_name": app.config["SERVICE_NAME"],
        "threshold": numbers.below,
        "numbers": numbers,
        "generated": _long_date(datetime.now(UTC).date().isoformat()),
        "generated_iso": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "author": ", ".join(leads) if leads else app.config["SERVICE_NAME"],
        "title": pdf_title(review, audience),
        "dates": {
            "start": _long_date(review.start_date),
            "end": _long_date(review.end_date),
            "days": _days(review.start_date, review.end_date),
        },
        "leads": leads,
        "reviewers": reviewers,
        "rubric": rubric,
        "summary": [numbers.text(p) for p in _paragraphs(review.executive_summary)],
        "audited": agg.audited,
        "total_cases": total_cases,
        "by_type": [
            {"label": _case_type_label(rubric, ct), "count": numbers.count(n)}
            for ct, n in sorted(by_type.items(), key=lambda kv: _case_type_label(rubric, kv[0]))
        ],
        "by_team": [
            {"label": team, "count": numbers.count(n)} for team, n in sorted(by_team.items())
        ],
        "sampling": sampling,
        "strata": strata,
        "stratified_by": {"case_type": "case type", "team": "team"}.get(
            (sampling or {}).get("stratify_by") or "", ""
        ),
        "sample_population": numbers.count(int((sampling or {}).get("population", 0) or 0)),
        "moderation": {
            "moderated": numbers.count(moderation["moderated"]),
            "submitted": moderation["submitted"],
            "changed": numbers.count(moderation["grades_changed"]),
            "raised": numbers.count(moderation["raised"]),
            "lowered": numbers.count(moderation["lowered"]),
        },
        "second_chosen": numbers.count(report_data.second_audits_chosen(db, review.id)),
        "twice": numbers.count(agreed["cases"]),
        "twice_n": agreed["cases"],
        "headline": numbers.share(whole.good),
        "headline_share": percent(whole.good.share) if whole.good.share is not None else None,
        "headline_hidden": numbers.small(whole.good.count) or numbers.small(whole.good.n),
        "distribution": distribution,
        "good_label": _good_label(levels, rubric.scale.good_or_better),
        "safeguarding": safeguarding_statement(agg.critical, agg.audited, numbers),
        "strengths": strengths,
        "developments": developments,
        "figures": figures,
        "sections": sections,
        "timeliness": timeliness,
        "agreement": agreement,
        "appendix": appendix,
        "appendix_max": APPENDIX_MAX_CASES,
        # Practitioner and family voices are internal only: the public report has none.
        "voices": None if public else analysis.collaboration_summary(db, review),
    }


def _trend(db: sqlite_utils.Database, review: review_data.Review, numbers: Numbers) -> Any:
    """Return the programme's trend up to this review, worded for the report, or None."""
    if review.programme_id is None:
        return None
    ids = programme_data.review_ids(db, review.programme_id)
    if review.id not in ids or ids.index(review.id) == 0:
        return None
    series = []
    for rid in ids[: ids.index(review.id) + 1]:
        other = review_data.get(db, rid)
        series.append((other.id, other.title, analysis.aggregate(db, other)))
    result = trends.trend(series)
    rows = []
    for line in [result["overall"], *result["sections"]]:
        rows.append(
            {
                "label": line.label,
                "points": [
                    {
                        "label": point.label,
                        "share": numbers.share(point.good),
                        "change": line.changes[i - 1].describe() if i else "",
                    }
                    for i, point in enumerate(line.points)
                ],
            }
        )
    return {"rows": rows, "left_out": list(result["comparability"].left_out)}


def wording_warnings(
    db: sqlite_utils.Database, review: review_data.Review, numbers: Numbers
) -> list[str]:
    """Return accepted findings whose own wording may give a small count away in public.

    The public version hides "N of M" counts below the threshold, but a share written into
    a finding ("80% of the cases") can still reveal one; the lead is asked to reword these.
    """
    out = []
    for finding in finding_data.for_review(db, review.id):
        if finding.status != "accepted" or finding.origin == "other":
            continue
        count, n = int(finding.evidence.get("count", 0)), int(finding.evidence.get("n", 0))
        if (numbers.small(count) or numbers.small(n) or numbers.small(n - count)) and re.search(
            r"\d+\s?%", finding.text
        ):
            out.append(numbers.text(finding.text))
    return out


def _good_label(levels: Sequence[tuple[str, str]], good: frozenset[str] | Any) -> str:
    ordered = [label for key, label in levels if key in good]
    return f"{ordered[-1]} or better" if ordered else "Good or better"


def _appendix(
    db: sqlite_utils.Database, review: review_data.Review, audited: list[dict[str, Any]]
) -> dict[str, Any]:
    """Return the case-level table: each audited case's overall judgement and section grades."""
    from audit.data import results

    rubric = review.rubric
    graded = [s for s in rubric.sections if s.grade_question]
    question_ids = [s.grade_question for s in graded]
    if rubric.overall.question:
        question_ids.append(rubric.overall.question)
    sections = {q.id: rubric.section_of(q.id).id for q in rubric.questions}
    grades = results.case_grades(db, review.id, question_ids, sections)
    labels = {level.id: level.label for level in rubric.scale.levels}
    overall_section = None
    if rubric.overall.question:
        overall_section = next(
            (s.id for s in graded if s.grade_question == rubric.overall.question), None
        )
    columns = [s for s in graded if s.id != overall_section]
    rows = []
    for case in audited:
        mine = grades.get(case["audit_id"], {})
        overall = rubric.overall.judge(mine, rubric)
        rows.append(
            {
                "pseudonym": case["pseudonym"],
                "reference": case["reference"],
                "case_type": _case_type_label(rubric, case["case_type"]),
                "team": case["team"],
                "overall": labels.get(overall, "Not graded") if overall else "Not graded",
                "moderated": bool(case["moderated"]),
                "grades": [
                    labels.get(mine.get(s.grade_question or ""), "") or "—" for s in columns
                ],
            }
        )
    return {"columns": [s.title for s in columns], "rows": rows}
