"""Review bundles: one JSON file holding a whole review, to move it between installations.

A reviewer's laptop hands its work to the lead's installation this way, and a region pools
reviews. Records keep their UUIDs, so the same audit is recognised everywhere; importing a
bundle for a review that already exists adds what is missing and reports conflicts
instead of overwriting. A bad bundle is rejected whole before anything is written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from audit import limits
from audit.bundles import bundle_checks, bundle_collab, bundle_schema
from audit.data import bundles
from audit.data import reviews as review_data
from audit.data import themes as theme_data
from audit.data.db import utcnow, write
from audit.moments import iso_moment
from audit.partnership import bundle as partnership_bundle
from audit.rubric import RubricInvalid, parse_rubric

FORMAT = bundle_schema.FORMAT
FORMAT_VERSION = bundle_schema.FORMAT_VERSION


class BundleInvalid(Exception):
    """The file is not a bundle this version can import; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    """What an import did: the review, whether it was new, what was added, what conflicted."""

    review_id: str
    title: str
    created: bool
    added: dict[str, int] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _iso_told_at(value: str | None) -> str | None:
    """Write a time typed before times were stored as ISO 8601 in ISO form, if it can be read."""
    return None if value is None else iso_moment(value) or value


def export_review(
    db: sqlite_utils.Database, review_id: str, exported_by: str = "", for_user: int | None = None
) -> dict:
    """Return the bundle for one review as a JSON-able dict.

    ``for_user`` is who downloads it in the browser: calibration grades not yet open to
    everyone are left out but theirs. The command line exports everything.
    """
    raw = bundles.read_review(db, review_id)
    names = raw["names"]
    review = raw["review"]
    people = {m["username"]: m["display_name"] for m in raw["members"]}
    answers: dict[str, list[dict]] = {}
    for a in raw["answers"]:
        answers.setdefault(a["audit_id"], []).append(
            {
                "question_id": a["question_id"],
                "value": a["value"],
                "not_applicable": bool(a["not_applicable"]),
                "evidence": a["evidence"],
                "updated_at": a["updated_at"],
            }
        )

    def who(user_id: int | None) -> str | None:
        if user_id is None:
            return None
        username = names.get(user_id)
        if username and username not in people:
            people[username] = username
        return username

    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": utcnow(),
        "exported_by": exported_by,
        "review": {
            "id": review["id"],
            "title": review["title"],
            "host_organisation": review["host_organisation"],
            "kind": review["kind"],
            "start_date": review["start_date"],
            "end_date": review["end_date"],
            "status": review["status"],
            "settings": _json(review["settings"]),
            "executive_summary": review["executive_summary"],
            "created_at": review["created_at"],
            "created_by": who(review["created_by"]),
            "rubric": {
                "id": review["rubric_id"],
                "version": review["rubric_version"],
                "hash": review["rubric_hash"],
                "text": review["rubric_text"],
            },
        },
        "members": [
            {"username": m["username"], "role": m["role"], "added_at": m["added_at"]}
            for m in raw["members"]
        ],
        "cases": [
            {
                "id": c["id"],
                "reference": c["reference"],
                "pseudonym": c["pseudonym"],
                "case_type": c["case_type"],
                "team": c["team"],
                "worker_role": c["worker_role"],
                "age_band": c["age_band"],
                "dates": _json(c["dates"]),
                "assigned_to": who(c["assigned_to"]),
                "second_audit": bool(c["second_audit"]),
                "second_assigned_to": who(c["second_assigned_to"]),
                "created_at": c["created_at"],
            }
            for c in raw["cases"]
        ],
        "audits": [
            {
                "id": a["id"],
                "case_id": a["case_id"],
                "reviewer": who(a["reviewer_id"]),
                "purpose": a["purpose"],
                "status": a["status"],
                "version": a["version"],
                "earlier_audit_id": a["earlier_audit_id"],
                "sections_not_applicable": _json(a["sections_not_applicable"]),
                "feedback": _json(a["feedback"]),
                "created_at": a["created_at"],
                "updated_at": a["updated_at"],
                "submitted_at": a["submitted_at"],
                "answers": answers.get(a["id"], []),
            }
            for a in raw["audits"]
        ],
        "escalations": [
            {
                "id": e["id"],
                "case_id": e["case_id"],
                "audit_id": e["audit_id"],
                "question_id": e["question_id"],
                "raised_by": who(e["raised_by"]),
                "raised_at": e["raised_at"],
                "told_who": e["told_who"],
                "told_at": _iso_told_at(e["told_at"]),
                "agreed_action": e["agreed_action"],
                "recorded_by": who(e["recorded_by"]),
                "recorded_at": e["recorded_at"],
                "withdrawn_by": who(e["withdrawn_by"]),
                "withdrawn_at": e["withdrawn_at"],
            }
            for e in raw["escalations"]
        ],
        "moderation": [
            {
                "id": m["id"],
                "audit_id": m["audit_id"],
                "question_id": m["question_id"],
                "outcome": m["outcome"],
                "original_value": m["original_value"],
                "moderated_value": m["moderated_value"],
                "reason": m["reason"],
                "moderator": who(m["moderator_id"]),
                "created_at": m["created_at"],
            }
            for m in raw["moderation"]
        ],
        "findings": [
            {
                "id": f["id"],
                "kind": f["kind"],
                "status": f["status"],
                "origin": f["origin"],
                "text": f["text"],
                "position": f["position"],
                "question_ids": _json(f["question_ids"]),
                "evidence": _json(f["evidence"]),
                "merged_into": f["merged_into"],
                "created_by": who(f["created_by"]),
                "created_at": f["created_at"],
                "updated_at": f["updated_at"],
                "version": f["version"],
            }
            for f in raw["findings"]
        ],
        "actions": [
            {
                "id": a["id"],
                "finding_id": a["finding_id"],
                "audit_id": a["audit_id"],
                "what": a["what"],
                "owner": a["owner"],
                "due_date": a["due_date"],
                "status": a["status"],
                "created_by": who(a["created_by"]),
                "created_at": a["created_at"],
                "updated_at": a["updated_at"],
                "notes": [
                    {
                        "id": n["id"],
                        "note": n["note"],
                        "noted_on": n["noted_on"],
                        "created_by": who(n["created_by"]),
                        "created_at": n["created_at"],
                    }
                    for n in raw["notes"]
                    if n["action_id"] == a["id"]
                ],
            }
            for a in raw["actions"]
        ],
        "history": [
            {
                "at": h["at"],
                "user": who(h["user_id"]),
                "entity": h["entity"],
                "entity_id": h["entity_id"],
                "action": h["action"],
                "before": _json(h["before"]),
                "after": _json(h["after"]),
            }
            for h in raw["history"]
        ],
    }
    doc.update(_export_themes(db, review_id, who))
    doc.update(bundle_collab.export_parts(db, review_id, who, for_user))
    if review_data.get(db, review_id).rubric.multi_agency:
        doc.update(partnership_bundle.export_part(db, review_id, who))
    doc["people"] = [{"username": u, "display_name": n} for u, n in sorted(people.items())]
    return doc


def dumps(doc: Mapping[str, Any]) -> bytes:
    """Serialise a bundle the same way every time (sorted keys, UTF-8)."""
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- validation

MAX_PROBLEMS = 200


def load(data: bytes) -> Any:
    """Read a bundle file's JSON within the limits of :mod:`audit.limits`, or raise BundleInvalid.

    The limits (size, depth, number of values, length of a text or number) are checked on
    the bytes before the JSON parser builds anything, so a hostile file costs no more than
    reading it once; they are generic, so keys a later version adds are covered too.
    """
    try:
        if len(data) > limits.BUNDLE_BYTES:
            raise limits.LimitExceeded("BUNDLE_BYTES", f"a file of {len(data) / limits.MB:.1f} MB")
        limits.check_json(data)
        text = data.decode("utf-8-sig")
    except limits.LimitExceeded as exc:
        raise BundleInvalid([f"file: {exc}"]) from None
    except UnicodeDecodeError:
        raise BundleInvalid(["file: not UTF-8 text, so not a case-audit bundle"]) from None
    nul = limits.json_nul_line(data)
    if nul is not None:
        raise BundleInvalid(
            [f"file: line {nul}: a text holds a NUL character (\\u0000), which no bundle needs"]
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleInvalid(
            [
                f"file: not a complete bundle (the JSON breaks at line {exc.lineno}, "
                f"column {exc.colno}: {exc.msg}); was the file cut short?"
            ]
        ) from None
    except (RecursionError, ValueError) as exc:  # ValueError: a number too long for Python
        raise BundleInvalid([f"file: cannot be read as a bundle ({exc})"]) from None


def parse(data: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """Read and check a bundle whole; raise :class:`BundleInvalid` listing every problem.

    ``data`` is the file's bytes, or what :func:`load` read from them. The shape is checked
    against the published schema, then everything against the bundle's own rubric, so a
    bundle either fits completely or nothing of it is written.
    """
    doc = load(data) if isinstance(data, bytes) else data
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BundleInvalid(["format: this is not a case-audit review bundle"])
    if doc.get("format_version") != FORMAT_VERSION:
        raise BundleInvalid(
            [
                f"format_version: this installation reads version {FORMAT_VERSION} bundles; the "
                f"file is version {doc.get('format_version')!r}. Upgrade the app that imports it."
            ]
        )
    problems = bundle_schema.structure_problems(doc)
    review = doc.get("review") if isinstance(doc.get("review"), dict) else {}
    rubric_doc = review.get("rubric") if isinstance(review.get("rubric"), dict) else {}
    rubric = None
    if isinstance(rubric_doc.get("text"), str):
        try:
            rubric = parse_rubric(rubric_doc["text"], source="bundle rubric")
        except RubricInvalid as exc:
            problems.append(
                f"review.rubric.text: the rubric in the bundle is not valid ({exc.problems[0]})"
            )
    if rubric is not None and rubric.content_hash != rubric_doc.get("hash"):
        problems.append("review.rubric.hash: does not match the rubric text: the file was edited")
    if rubric is not None:
        problems += bundle_checks.rubric_problems(doc, rubric)
        problems += partnership_bundle.problems(doc, rubric)
    if problems:
        problems.sort(key=bundle_schema.problem_order)
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], f"bundle: and {more} more problems"]
        raise BundleInvalid(problems)
    return doc


# --------------------------------------------------------------------------- import


def _same(local: Mapping[str, Any], incoming: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    return all(_json(local.get(k)) == _json(incoming.get(k)) for k in keys)


def import_bundle(
    db: sqlite_utils.Database, data: bytes | Mapping[str, Any], by: int | None = None
) -> ImportReport:
    """Import a bundle (its bytes, or what :func:`load` read): a new review, or merge into one.

    Everything is checked first and written in one transaction, so a bundle either imports
    or changes nothing. Records already here with different contents are conflicts: they
    are reported and the local copy is kept.
    """
    doc = parse(data)
    review = doc["review"]
    with write(db):
        try:
            local_review = review_data.get(db, review["id"])
        except review_data.ReviewNotFound:
            local_review = None
        if local_review is not None and local_review.rubric_hash != review["rubric"]["hash"]:
            raise BundleInvalid(
                [
                    "review.rubric: this review here uses a different rubric "
                    f"({local_review.rubric_id} {local_review.rubric_version}); not merged"
                ]
            )
        report = ImportReport(review["id"], review["title"], created=local_review is None)
        people = {p["username"]: p.get("display_name") or p["username"] for p in doc["people"]}
        # Usernames are case-insensitive here (COLLATE NOCASE), and the checks match them so.
        ids = {name.casefold(): n for name, n in bundles.user_ids(db, people, by).items()}

        def uid(username: str | None) -> int | None:
            return None if username is None else ids[username.casefold()]

        now = bundles.now()
        records: dict[str, list[dict[str, Any]]] = {}
        if local_review is None:
            records["review"] = [
                {
                    "id": review["id"],
                    "title": review["title"],
                    "host_organisation": review["host_organisation"],
                    "kind": review["kind"],
                    "start_date": review.get("start_date"),
                    "end_date": review.get("end_date"),
                    "status": review["status"],
                    "rubric_id": review["rubric"]["id"],
                    "rubric_version": review["rubric"]["version"],
                    "rubric_hash": review["rubric"]["hash"],
                    "rubric_text": review["rubric"]["text"],
                    "settings": json.dumps(review.get("settings") or {}, sort_keys=True),
                    "executive_summary": review.get("executive_summary") or "",
                    "created_by": uid(review.get("created_by")),
                    "created_at": review.get("created_at") or now,
                    "updated_at": now,
                }
            ]
        members_here = {m["username"].casefold() for m in review_data.members(db, review["id"])}
        records["review_member"] = [
            {
                "review_id": review["id"],
                "user_id": uid(m["username"]),
                "role": m["role"],
                "added_at": m.get("added_at") or now,
            }
            for m in doc["members"]
            if m["username"].casefold() not in members_here
        ]
        _merge_cases(db, doc, records, report, uid)
        _merge_audits(db, doc, records, report, uid)
        _merge_simple(db, doc, records, report, uid)
        bundle_collab.merge(db, doc, records, report.conflicts, uid)
        _merge_themes(db, doc, records, report, uid, local_review)
        partnership_bundle.merge(
            db, doc, records, report.conflicts, uid, review_id=review["id"], by=by
        )
        known = bundles.history_keys(db, review["id"])
        records["change_log"] = []
        for h in doc["history"]:
            row = {
                "at": h["at"],
                "user_id": uid(h.get("user")) if str(h.get("user")).casefold() in ids else None,
                "review_id": review["id"],
                "entity": h["entity"],
                "entity_id": h["entity_id"],
                "action": h["action"],
                "before": None
                if h.get("before") is None
                else json.dumps(h["before"], sort_keys=True, default=str),
                "after": None
                if h.get("after") is None
                else json.dumps(h["after"], sort_keys=True, default=str),
            }
            key = json.dumps(
                [
                    row["at"],
                    row["entity"],
                    row["entity_id"],
                    row["action"],
                    row["before"],
                    row["after"],
                ]
            )
            if key not in known:
                records["change_log"].append(row)
        report.added = {t: len(rows) for t, rows in records.items() if rows}
        bundles.write_records(
            db,
            records,
            review_id=review["id"],
            by=by,
            summary={
                "created": report.created,
                "added": report.added,
                "conflicts": len(report.conflicts),
                "exported_at": doc.get("exported_at"),
                "exported_by": doc.get("exported_by"),
            },
        )
    return report


def _merge_cases(db, doc, records, report, uid) -> None:  # type: ignore[no-untyped-def]
    review_id = doc["review"]["id"]
    local = bundles.existing_ids(db, "case_file", [c["id"] for c in doc["cases"]])
    references = {r: True for r in review_data.references(db, review_id)}
    rows = []
    for case in doc["cases"]:
        here = local.get(case["id"])
        if here is not None:
            if here["review_id"] != review_id:
                report.conflicts.append(
                    f"case {case['pseudonym']}: its id belongs to another review"
                )
            elif not _same(here, case, ("reference", "case_type")):
                report.conflicts.append(
                    f"case {case['pseudonym']}: differs here (kept this installation's copy)"
                )
            continue
        if case["reference"] in references:
            report.conflicts.append(
                f"case {case['pseudonym']}: reference {case['reference']} is already in the "
                "review under another record; not added"
            )
            continue
        rows.append(
            {
                "id": case["id"],
                "review_id": review_id,
                "reference": case["reference"],
                "pseudonym": case["pseudonym"],
                "case_type": case["case_type"],
                "team": case.get("team") or "",
                "worker_role": case.get("worker_role") or "",
                "age_band": case.get("age_band") or "",
                "dates": json.dumps(case.get("dates") or {}, sort_keys=True),
                "assigned_to": uid(case.get("assigned_to")),
                "second_audit": int(bool(case.get("second_audit"))),
                "second_assigned_to": uid(case.get("second_assigned_to")),
                "created_at": case.get("created_at") or bundles.now(),
            }
        )
    records["case_file"] = rows


def _merge_audits(db, doc, records, report, uid) -> None:  # type: ignore[no-untyped-def]
    review_id = doc["review"]["id"]
    skipped_cases = {c["id"] for c in doc["cases"]} - {r["id"] for r in records["case_file"]}
    existing_cases = bundles.existing_ids(db, "case_file", list(skipped_cases))
    local = bundles.existing_ids(db, "case_audit", [a["id"] for a in doc["audits"]])
    pseudonyms = {c["id"]: c["pseudonym"] for c in doc["cases"]}
    audits, answers = [], []
    for audit in doc["audits"]:
        label = f"audit of {pseudonyms.get(audit['case_id'], '?')} ({audit['purpose']})"
        here = local.get(audit["id"])
        mine = sorted(
            (a["question_id"], a.get("value"), bool(a.get("not_applicable")), a.get("evidence", ""))
            for a in audit.get("answers", [])
        )
        if here is not None:
            theirs = sorted(
                (a["question_id"], a["value"], bool(a["not_applicable"]), a["evidence"])
                for a in bundles.answers_of(db, audit["id"])
            )
            if (here["status"], theirs) != (audit["status"], mine):
                report.conflicts.append(
                    f"{label}: differs here (version {here['version']} here, "
                    f"{audit['version']} in the bundle); kept this installation's copy"
                )
            continue
        if audit["case_id"] in skipped_cases and audit["case_id"] not in existing_cases:
            report.conflicts.append(f"{label}: its case was not added; not added")
            continue
        audits.append(
            {
                "id": audit["id"],
                "case_id": audit["case_id"],
                "review_id": review_id,
                "reviewer_id": uid(audit["reviewer"]),
                "purpose": audit["purpose"],
                "status": audit["status"],
                "version": audit["version"],
                "earlier_audit_id": audit.get("earlier_audit_id"),
                "sections_not_applicable": json.dumps(audit.get("sections_not_applicable") or []),
                "feedback": json.dumps(audit.get("feedback") or {}, sort_keys=True),
                "created_at": audit.get("created_at") or bundles.now(),
                "updated_at": audit.get("updated_at") or bundles.now(),
                "submitted_at": audit.get("submitted_at"),
            }
        )
        for a in audit.get("answers", []):
            answers.append(
                {
                    "audit_id": audit["id"],
                    "question_id": a["question_id"],
                    # An empty answer is a blank one, stored as the app stores blanks.
                    "value": a.get("value") if a.get("value") != "" else None,
                    "not_applicable": int(bool(a.get("not_applicable"))),
                    "evidence": a.get("evidence") or "",
                    "updated_at": a.get("updated_at") or bundles.now(),
                }
            )
    records["case_audit"] = audits
    records["answer"] = answers


def _merge_simple(db, doc, records, report, uid) -> None:  # type: ignore[no-untyped-def]
    """Escalations, moderation, findings and actions: add what is missing, report clashes."""
    review_id = doc["review"]["id"]
    present_audits = set(bundles.existing_ids(db, "case_audit", [a["id"] for a in doc["audits"]]))
    present_audits |= {a["id"] for a in records["case_audit"]}
    specs = [
        ("escalation", "escalations", ("told_who", "recorded_at", "withdrawn_at")),
        ("moderation", "moderation", ("outcome", "moderated_value")),
        ("finding", "findings", ("text", "status", "position")),
        ("action", "actions", ("what", "status", "due_date")),
    ]
    for table, key, compare in specs:
        local = bundles.existing_ids(db, table, [item["id"] for item in doc[key]])
        rows = []
        for item in doc[key]:
            if item["id"] in local:
                if not _same(local[item["id"]], item, compare):
                    report.conflicts.append(
                        f"{table} {item['id'][:8]}: differs here; kept this installation's copy"
                    )
                continue
            if item.get("audit_id") and item["audit_id"] not in present_audits:
                report.conflicts.append(f"{table} {item['id'][:8]}: its audit was not added")
                continue
            rows.append(_row(table, item, review_id, uid))
        records[table] = rows
    records["action_note"] = [
        {
            "id": n["id"],
            "action_id": a["id"],
            "note": n["note"],
            "noted_on": n["noted_on"],
            "created_by": uid(n.get("created_by")),
            "created_at": n["created_at"],
        }
        for a in doc["actions"]
        if any(r["id"] == a["id"] for r in records["action"])
        for n in a.get("notes", [])
    ]


def _row(table: str, item: Mapping[str, Any], review_id: str, uid: Any) -> dict[str, Any]:
    if table == "escalation":
        return {
            "id": item["id"],
            "review_id": review_id,
            "case_id": item["case_id"],
            "audit_id": item["audit_id"],
            "question_id": item["question_id"],
            "raised_by": uid(item["raised_by"]),
            "raised_at": item["raised_at"],
            "told_who": item.get("told_who"),
            "told_at": item.get("told_at"),
            "agreed_action": item.get("agreed_action"),
            "recorded_by": uid(item.get("recorded_by")),
            "recorded_at": item.get("recorded_at"),
            "withdrawn_by": uid(item.get("withdrawn_by")),
            "withdrawn_at": item.get("withdrawn_at"),
        }
    if table == "moderation":
        return {
            "id": item["id"],
            "audit_id": item["audit_id"],
            "question_id": item.get("question_id"),
            "outcome": item["outcome"],
            "original_value": item.get("original_value"),
            "moderated_value": item.get("moderated_value"),
            "reason": item.get("reason") or "",
            "moderator_id": uid(item["moderator"]),
            "created_at": item["created_at"],
        }
    if table == "finding":
        return {
            "id": item["id"],
            "review_id": review_id,
            "kind": item["kind"],
            "status": item["status"],
            "origin": item.get("origin") or "audits",
            "text": item["text"],
            "position": item.get("position") or 0,
            "question_ids": json.dumps(item.get("question_ids") or []),
            "evidence": json.dumps(item.get("evidence") or {}, sort_keys=True),
            "merged_into": item.get("merged_into"),
            "created_by": uid(item.get("created_by")),
            "created_at": item["created_at"],
            "updated_at": item["updated_at"],
            "version": item.get("version") or 1,
        }
    return {
        "id": item["id"],
        "review_id": review_id,
        "finding_id": item.get("finding_id"),
        "audit_id": item.get("audit_id"),
        "what": item["what"],
        "owner": item.get("owner") or "",
        "due_date": item.get("due_date"),
        "status": item.get("status") or "not_started",
        "created_by": uid(item.get("created_by")),
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }


def new_id() -> str:
    """Return a fresh record id (for tests and tools that build bundles)."""
    return str(uuid.uuid4())


# --------------------------------------------------------------------------- learning themes


def _export_themes(db: sqlite_utils.Database, review_id: str, who: Any) -> dict[str, list]:
    """Return the bundle's ``themes`` (the review's list) and ``theme_tags`` (its tags)."""
    tags = []
    for tag in theme_data.review_tags(db, review_id):
        item = {"kind": tag["kind"], "theme_id": tag["theme_id"]}
        if tag["kind"] in ("evidence", "conversation"):
            item["audit_id"] = tag["audit_id"]
        if tag["kind"] == "evidence":
            item["question_id"] = tag["question_id"]
        if tag["kind"] == "finding":
            item["finding_id"] = tag["finding_id"]
        item["tagged_by"] = who(tag["tagged_by"])
        item["tagged_at"] = tag["tagged_at"]
        tags.append(item)
    return {
        "themes": [theme.as_bundle() for theme in theme_data.in_bundle(db, review_id)],
        "theme_tags": tags,
    }


def _theme_owner(local_review: Any, review_id: str) -> dict[str, str | None]:
    """Say who owns an imported theme: the local review's programme, else the review itself."""
    programme_id = getattr(local_review, "programme_id", None)
    return {"programme_id": programme_id, "review_id": None if programme_id else review_id}


def _merge_themes(db, doc, records, report, uid, local_review) -> None:  # type: ignore[no-untyped-def]
    """Themes and their tags: add what is missing, keep the local copy of a differing theme.

    A new theme joins the local review's programme, or belongs to the review itself when it
    is in none (docs/themes.md). One whose name the owner's list already has is not added:
    its tags go to the theme of that name here. A tag whose note, finding or conversation
    did not arrive is not added.
    """
    review_id = doc["review"]["id"]
    incoming = doc.get("themes") or []
    local = theme_data.existing_themes(db, [t["id"] for t in incoming])
    owner = _theme_owner(local_review, review_id)
    if owner["programme_id"]:
        names = {
            t.name.casefold(): t.id for t in theme_data.for_programme(db, owner["programme_id"])
        }
    else:
        names = {t.name.casefold(): t.id for t in theme_data.for_review(db, review_id)}
    mapped: dict[str, str] = {}
    rows = []
    for theme in incoming:
        here = local.get(theme["id"])
        if here is not None:
            mapped[theme["id"]] = here.id
            if (here.name, here.description, here.retired) != (
                theme["name"],
                theme.get("description") or "",
                bool(theme.get("retired")),
            ):
                report.conflicts.append(
                    f"theme {theme['name']}: differs here; kept this installation's copy"
                )
            continue
        same_name = names.get(theme["name"].casefold())
        if same_name is not None:
            mapped[theme["id"]] = same_name
            report.conflicts.append(
                f"theme {theme['name']}: a theme of that name is already here under another "
                "record; its tags use the one here"
            )
            continue
        mapped[theme["id"]] = theme["id"]
        names[theme["name"].casefold()] = theme["id"]
        now = bundles.now()
        rows.append(
            {
                "id": theme["id"],
                **owner,
                "name": theme["name"],
                "description": theme.get("description") or "",
                "retired": int(bool(theme.get("retired"))),
                "created_by": None,
                "created_at": theme.get("created_at") or now,
                "updated_at": now,
            }
        )
    records["theme"] = rows
    _merge_theme_tags(db, doc, records, report, uid, mapped)


def _merge_theme_tags(db, doc, records, report, uid, mapped) -> None:  # type: ignore[no-untyped-def]
    tags = doc.get("theme_tags") or []
    answers = theme_data.answers_present(
        db, [(t["audit_id"], t["question_id"]) for t in tags if t["kind"] == "evidence"]
    ) | {(a["audit_id"], a["question_id"]) for a in records.get("answer", [])}
    findings = theme_data.present(
        db, "finding", "id", [t["finding_id"] for t in tags if t["kind"] == "finding"]
    ) | {f["id"] for f in records.get("finding", [])}
    talks = theme_data.present(
        db, "conversation", "audit_id", [t["audit_id"] for t in tags if t["kind"] == "conversation"]
    ) | {c["audit_id"] for c in records.get("conversation", [])}
    held = {theme_data.tag_key(t) for t in theme_data.review_tags(db, doc["review"]["id"])}
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in theme_data.KINDS}
    for tag in tags:
        tag = {**tag, "theme_id": mapped.get(tag["theme_id"], tag["theme_id"])}
        key = theme_data.tag_key(tag)
        if key in held:
            continue
        kind = tag["kind"]
        target = {
            "evidence": (tag.get("audit_id"), tag.get("question_id")) in answers,
            "finding": tag.get("finding_id") in findings,
            "conversation": tag.get("audit_id") in talks,
        }[kind]
        if not target:
            report.conflicts.append(
                f"theme tag on {'an evidence note' if kind == 'evidence' else 'a ' + kind}: "
                f"the {kind} it is on was not added; not added"
            )
            continue
        held.add(key)
        row = {"theme_id": tag["theme_id"], "tagged_by": uid(tag.get("tagged_by"))}
        if kind == "evidence":
            row |= {"audit_id": tag["audit_id"], "question_id": tag["question_id"]}
        elif kind == "finding":
            row["finding_id"] = tag["finding_id"]
        else:
            row["audit_id"] = tag["audit_id"]
        row["tagged_at"] = tag["tagged_at"]
        out[kind].append(row)
    for kind, rows in out.items():
        records[f"{kind}_theme"] = rows
