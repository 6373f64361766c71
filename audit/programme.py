"""Run audits as a programme: start the next review from the last, re-audit chosen cases.

Glue over the data layer, used by the programme pages and the demo.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from audit.data import programmes, reviews
from audit.rubric import Rubric

# Settings a new review in a programme inherits from the one before it.
INHERITED_SETTINGS = ("timeliness", "require_moderation", "sampling_rules")


def sampling_rules(review: reviews.Review) -> dict[str, Any]:
    """Return how the review's sample was drawn, as rules the next review can reuse."""
    rules = dict(review.settings.get("sampling_rules") or {})
    record = review.settings.get("sampling") or {}
    for key in ("size", "stratify_by", "exclude_months"):
        if key in record and record[key] is not None:
            rules[key] = record[key]
    return rules


def start_next(
    db: sqlite_utils.Database,
    previous: reviews.Review,
    *,
    title: str,
    rubric: Rubric,
    start_date: str | None,
    end_date: str | None,
    by: int | None,
) -> reviews.Review:
    """Create the programme's next review, copying the previous one's set-up in one step.

    The rubric may be a newer version (an upgrade is shown on the trend); the team, the
    timeliness measures, the moderation rule and the sampling rules are copied. Cases are
    not: each review draws its own sample.
    """
    if previous.programme_id is None:
        raise ValueError("the previous review is not part of a programme")
    settings = {k: previous.settings[k] for k in INHERITED_SETTINGS if k in previous.settings}
    rules = sampling_rules(previous)
    if rules:
        settings["sampling_rules"] = rules
    settings["previous_review"] = previous.id
    review = reviews.create(
        db, title=title, host_organisation=previous.host_organisation, kind=previous.kind,
        rubric=rubric, start_date=start_date, end_date=end_date, settings=settings,
        programme_id=previous.programme_id, by=by,
    )
    for member in reviews.members(db, previous.id):
        if member["active"]:
            reviews.add_member(db, review.id, member["id"], member["role"], by=by)
    return reviews.get(db, review.id)


def previous_review(db: sqlite_utils.Database, review: reviews.Review) -> reviews.Review | None:
    """Return the review before this one in its programme, if any."""
    if review.programme_id is None:
        return None
    ids = programmes.review_ids(db, review.programme_id)
    if review.id not in ids or ids.index(review.id) == 0:
        return None
    return reviews.get(db, ids[ids.index(review.id) - 1])


def add_re_audits(
    db: sqlite_utils.Database, review: reviews.Review, earlier_audit_ids: list[str],
    by: int | None,
) -> int:
    """Add chosen cases from earlier reviews to this one, each linked to its earlier audit.

    The link is kept in the review's settings (case id -> earlier audit id) and set on the
    case's audit when it is started, so the scoring page can show what changed.
    """
    if review.programme_id is None:
        raise ValueError("re-audits need a review that is part of a programme")
    earlier = {a["audit_id"]: a for a in programmes.earlier_audits(db, review.programme_id,
                                                                   review.id)}
    here = reviews.references(db, review.id)
    rows, links = [], {}
    for audit_id in earlier_audit_ids:
        source = earlier.get(audit_id)
        if source is None:
            raise LookupError(audit_id)
        if source["reference"] in here:
            continue
        here.add(source["reference"])
        rows.append({"reference": source["reference"], "case_type": source["case_type"],
                     "team": source["team"], "dates": json.loads(source["dates"]),
                     "earlier_audit": audit_id})
    case_ids = reviews.add_case_files(db, review.id, rows, by=by)
    for case_id, row in zip(case_ids, rows, strict=True):
        links[case_id] = row["earlier_audit"]
    if links:
        current = dict(review.settings.get("re_audits") or {})
        reviews.update_settings(db, review.id, {"re_audits": {**current, **links}}, by=by)
    return len(links)
