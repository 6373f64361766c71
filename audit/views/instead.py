"""What a multi-agency review has in place of each single-agency page.

A multi-agency review has no case audits, so the single-agency pages (the dashboard, findings,
moderation, agreement, the findings report, their exports and JSON) would show an empty review
("0 cases were audited"). :data:`INSTEAD` names each of them with its partnership equivalent:
a GET goes there (a redirect); a page with no equivalent, or a form posted to one, gets a page
saying what to use instead, and nothing is written (409 for a post).

:func:`elsewhere` is asked by :func:`audit.views.requires` after its access checks, so who may
see what is unchanged: a person who may not see the review still gets a 404, one who may not
use the page a 403. Every review page is either a partnership page, in :data:`INSTEAD`, or in
:data:`BOTH` (a test keeps that true, so a new page has to be placed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from audit.partnership import is_multi_agency


@dataclass(frozen=True)
class Link:
    """A partnership page offered instead, shown to those whose role may open it."""

    text: str
    endpoint: str
    anchor: str = ""
    action: str = "review.manage"

    def url(self, review_id: str) -> str:
        """Return the link's address in this review."""
        return url_for(self.endpoint, review_id=review_id) + (
            f"#{self.anchor}" if self.anchor else ""
        )


# A GET's target: from the view's arguments and the query string, the partnership page's
# address, or None where these arguments have no equivalent (the page then explains).
Target = Callable[[str, Mapping[str, Any], Mapping[str, str]], str | None]


@dataclass(frozen=True)
class Instead:
    """A single-agency page and what a multi-agency review uses in its place."""

    page: str
    use: str
    links: tuple[Link, ...]
    target: Target | None = None


def _to(endpoint: str, anchor: str = "", **fixed: str) -> Target:
    def target(review_id: str, _args: Mapping[str, Any], _query: Mapping[str, str]) -> str:
        return url_for(endpoint, review_id=review_id, **fixed) + (f"#{anchor}" if anchor else "")

    return target


def _report(review_id: str, _args: Mapping[str, Any], query: Mapping[str, str]) -> str:
    """The partnership report, in the version asked for (its public version when there is one)."""
    public = query.get("audience") == "public"
    return url_for(
        "partnership.report_page", review_id=review_id, **({"audience": "public"} if public else {})
    )


# The standard downloads that have a partnership equivalent: (what, format) -> (what, format).
EXPORTS = {
    ("answers", "xlsx"): ("all", "xlsx"),
    ("answers", "csv"): ("answers", "csv"),
    ("themes", "csv"): ("learning", "csv"),
    ("action-plan", "xlsx"): ("all", "xlsx"),
    ("action-plan", "csv"): ("actions", "csv"),
}


def _export(review_id: str, args: Mapping[str, Any], _query: Mapping[str, str]) -> str | None:
    what = args.get("what", "action-plan")  # the action plan's route names no "what"
    found = EXPORTS.get((what, args["fmt"]))
    if found is None:
        return None
    return url_for("partnership.export_download", review_id=review_id, what=found[0], fmt=found[1])


AUDIT = Link(
    "The audit's page: who has finished, and any safeguarding alert",
    "partnership.overview",
    action="partnership.view",
)
CHILDREN = Link(
    "The children, the agencies that know them, and each child's panel",
    "partnership.overview",
    "children",
    "partnership.view",
)
AUDITORS = Link("Agency auditors", "partnership.overview", "auditors")
FINDINGS = Link("Partnership findings", "partnership.findings_page")
COMPARED = Link(
    "Each agency's own grades against the panel's", "partnership.findings_page", "compared"
)
LEARNING = Link(
    "Learning themes and actions owned by agencies", "partnership.findings_page", "learning"
)
REPORT = Link("Partnership report (PDF and Word)", "partnership.report_page")
DOWNLOADS = Link(
    "Partnership downloads: answers, actions and learning (CSV, Excel) and figures (JSON)",
    "partnership.findings_page",
)

_FINDINGS = (
    "In a multi-agency audit the panel agrees each child's judgements, the learning and the"
    " actions agencies own; the partnership findings page gathers them, partnership-wide and"
    " per agency."
)
_NO_MODERATION = (
    "Each agency audits its own records of a child once, and the panel (the audit discussion)"
    " agrees the judgements, so there are no second audits and nothing to moderate. How far"
    " each agency's own grades differ from the panel's is on the partnership findings page."
)
_REPORT = (
    "A multi-agency audit has the partnership report instead: a chapter for the partnership"
    " as a whole, then one per agency, as PDF or Word."
)
_EXPORTS = (
    "A multi-agency audit has its own downloads: every agency's and the panel's answers, the"
    " actions agencies own and the learning, as CSV or one Excel workbook, and every figure as"
    " JSON. Conversations with practitioners, family feedback and calibration are parts of"
    " single-agency case audits."
)

_CURATION = Instead("Strengths and areas for development", _FINDINGS, (FINDINGS, CHILDREN))
_MODERATION = Instead("Moderation", _NO_MODERATION, (CHILDREN, COMPARED))
_ASSIGNING = Instead(
    "Assigning cases to reviewers",
    "Each agency audits the children it knows: say which agencies know each child, and add"
    " each agency's auditors, on the audit's page.",
    (CHILDREN, AUDITORS),
)
_TIMELINESS = Instead(
    "Timeliness measures",
    "The multi-agency audit tool measures no timeliness between a case's dates: its questions"
    " ask whether each agency acted and shared information in time.",
    (AUDIT,),
)
_REPORT_PAGE = Instead("The findings report", _REPORT, (REPORT,), _report)
_REPORT_POST = Instead("The findings report", _REPORT, (REPORT,))

INSTEAD: dict[str, Instead] = {
    "reviews.review_page": Instead(
        "The review's page",
        "The multi-agency audit has its own page.",
        (AUDIT,),
        _to("partnership.overview"),
    ),
    "findings.dashboard": Instead(
        "The dashboard",
        "The partnership findings show the numbers so far; the audit's page shows who has"
        " finished and any safeguarding alert.",
        (FINDINGS, AUDIT),
        _to("partnership.findings_page"),
    ),
    "findings.findings_page": Instead(
        "Findings", _FINDINGS, (FINDINGS,), _to("partnership.findings_page")
    ),
    "findings.agreement_page": Instead(
        "Auditor agreement",
        _NO_MODERATION,
        (COMPARED,),
        _to("partnership.findings_page", "compared"),
    ),
    "findings.moderate": _MODERATION,
    "findings.moderation_setting": _MODERATION,
    "findings.second_audits": Instead("Second audits", _NO_MODERATION, (CHILDREN, COMPARED)),
    "findings.suggestion_decide": _CURATION,
    "findings.finding_change": _CURATION,
    "findings.findings_merge": _CURATION,
    "findings.finding_new": _CURATION,
    "programmes.action_plan": Instead(
        "The action plan",
        "The actions agencies own are recorded at each child's panel and listed on the"
        " partnership findings page.",
        (LEARNING,),
        _to("partnership.findings_page", "actions"),
    ),
    "programmes.re_audit": Instead(
        "Re-audits",
        "A re-audit audits a single-agency case file again. A partnership audits a theme again"
        " by starting the programme's next multi-agency audit, and the partnership findings show"
        " the trend across them.",
        (FINDINGS,),
    ),
    "report.preview": _REPORT_PAGE,
    "report.issued_list": _REPORT_PAGE,
    "report.issued_download": _REPORT_PAGE,
    "report.job_page": _REPORT_PAGE,
    "report.job_download": _REPORT_PAGE,
    "report.download": _REPORT_POST,
    "report.download_docx": _REPORT_POST,
    "report.issue": _REPORT_POST,
    "transfer.findings_json": Instead(
        "The findings JSON", _EXPORTS, (DOWNLOADS,), _to("partnership.findings_json")
    ),
    "transfer.export_download": Instead("This download", _EXPORTS, (DOWNLOADS,), _export),
    "transfer.action_plan_download": Instead(
        "The action plan's download", _EXPORTS, (DOWNLOADS,), _export
    ),
    "reviews.cases_assign": _ASSIGNING,
    "reviews.cases_share_evenly": _ASSIGNING,
    "reviews.timeliness_settings": _TIMELINESS,
    "reviews.timeliness_remove": _TIMELINESS,
    "reviews.timeliness_reset": _TIMELINESS,
    "collab.settings": Instead(
        "Auditing with the practitioner",
        "Conversations with practitioners and families' views are part of single-agency case"
        " audits. In a multi-agency audit each agency audits its own records, and the panel"
        " brings the agencies together.",
        (AUDIT,),
    ),
    "collab.family_quotes": Instead(
        "Families' views in the report",
        "Families' views are part of single-agency case audits.",
        (REPORT,),
    ),
    "scoring.start_audit": Instead(
        "Case audits",
        "In a multi-agency audit each agency audits its own records of the children it knows,"
        " from the audit's page.",
        (AUDIT,),
    ),
}

# Review pages that serve both kinds of review: the set-up, membership, history and bundle
# every review has; the report's disclosure threshold; and pages of one record (a case audit,
# an escalation, a finding, an action, a calibration exercise) that a multi-agency review
# reaches only where it holds that record (an agency's action is an ``action``).
BOTH = frozenset(
    {
        "reviews.review_status",
        "reviews.review_members",
        "reviews.review_delete",
        "reviews.cases_import",
        "reviews.cases_sample",
        "history.review_history",
        "transfer.bundle_download",
        "findings.summary_save",
        "report.threshold",
        "programmes.action_page",
        "programmes.action_add",
        "scoring.audit_page",
        "scoring.reopen",
        "scoring.escalation_page",
        "collab.conversation",
        "collab.family",
        "themes.audit_themes",
        "themes.conversation_themes",
        "themes.finding_themes",
        "calibration.exercise_list",
        "calibration.exercise_page",
        "calibration.exercise_new",
        "calibration.exercise_delete",
        "calibration.agreed_grade",
        "calibration.grade_case",
        "calibration.exemplar",
        "calibration.open_results",
        "calibration.results_page",
        "calibration.results_json",
        "calibration.submit",
    }
)


def elsewhere(
    review: Any, endpoint: str | None, args: Mapping[str, Any]
) -> Response | str | tuple[str, int] | None:
    """Return where a single-agency page of a multi-agency review sends the person, or None.

    None for any other page or review: the view runs as usual.
    """
    instead = INSTEAD.get(endpoint or "")
    if instead is None or not is_multi_agency(review):
        return None
    reading = request.method in ("GET", "HEAD")
    if reading and instead.target is not None:
        url = instead.target(review.id, args, request.args)
        if url is not None:
            return redirect(url)
    from audit.views import can  # audit.views asks this module, so not at import time

    page = render_template(
        "partnership/instead.html",
        review=review,
        instead=instead,
        links=[link for link in instead.links if can(link.action)],
        posted=not reading,
    )
    return page if reading else (page, 409)
