"""A multi-agency review in a bundle: agency answers travel, several agencies' bundles merge.

:func:`export_part` adds the ``partnership`` part to a multi-agency review's bundle; an
agency's part alone (:func:`agency_bundle`) holds only the children that agency knows and its
own audits and alerts, so it can be sent to the agency to audit on its own installation and
sent back. :func:`problems` checks the part against the bundle's own rubric, and
:func:`merge` turns it into rows, record by record as for audits: what is missing is added, a
record held here with other contents is a conflict, listed, and this installation's copy is
kept. An agency audit that conflicts is also kept aside as it came (``agency_audit_conflict``)
so the lead sees, on the child's panel page, what the other version said.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import sqlite_utils

from audit.bundles.bundle_schema import show
from audit.data import bundles
from audit.partnership.panel import answer_label
from audit.rubric import NOT_APPLICABLE, Rubric, agency_part, panel_part
from audit.scoring import Answer, allowed_values

Who = Callable[[int | None], str | None]
Uid = Callable[[str | None], int | None]

KEY = "partnership"
TABLES = bundles.PARTNERSHIP_TABLES

AUDIT_FIELDS = ("status", "version", "sections_not_applicable", "answers")
ANSWER_FIELDS = ("question_id", "value", "not_applicable", "evidence")


# --------------------------------------------------------------------------- export


def _answers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "question_id": r["question_id"],
            "value": r["value"],
            "not_applicable": bool(r["not_applicable"]),
            "evidence": r["evidence"],
            "updated_at": r["updated_at"],
        }
        for r in sorted(rows, key=lambda r: r["question_id"])
    ]


def export_part(
    db: sqlite_utils.Database, review_id: str, who: Who, agency_id: str | None = None
) -> dict[str, Any]:
    """Return the review's ``partnership`` part: all of it, or one agency's only."""
    raw = bundles.read_partnership(db, review_id, agency_id)
    answers: dict[str, list[dict[str, Any]]] = {}
    for row in raw["agency_answers"]:
        answers.setdefault(row["audit_id"], []).append(row)
    panel_answers: dict[str, list[dict[str, Any]]] = {}
    for row in raw["panel_answers"]:
        panel_answers.setdefault(row["case_id"], []).append(row)
    themes: dict[str, list[str]] = {}
    for row in raw["learning_themes"]:
        themes.setdefault(row["learning_id"], []).append(row["theme_id"])
    notes: dict[str, list[dict[str, Any]]] = {}
    for row in raw["notes"]:
        notes.setdefault(row["action_id"], []).append(row)
    part: dict[str, Any] = {
        "agencies": [{"id": a["id"], "name": a["name"]} for a in raw["agencies"]],
        "case_agencies": [
            {"case_id": r["case_id"], "agency_id": r["agency_id"], "reference": r["reference"]}
            for r in raw["case_agencies"]
        ],
        "agency_members": [
            {"username": who(m["user_id"]), "agency_id": m["agency_id"], "added_at": m["added_at"]}
            for m in raw["members"]
        ],
        "agency_audits": [
            {
                "id": a["id"],
                "case_id": a["case_id"],
                "agency_id": a["agency_id"],
                "status": a["status"],
                "version": a["version"],
                "sections_not_applicable": json.loads(a["sections_not_applicable"]),
                "started_by": who(a["started_by"]),
                "updated_by": who(a["updated_by"]),
                "submitted_by": who(a["submitted_by"]),
                "created_at": a["created_at"],
                "updated_at": a["updated_at"],
                "submitted_at": a["submitted_at"],
                "answers": _answers(answers.get(a["id"], [])),
            }
            for a in raw["audits"]
        ],
        "alerts": [
            {
                "id": e["id"],
                "case_id": e["case_id"],
                "agency_audit_id": e["agency_audit_id"],
                "agency_id": e["agency_id"],
                "question_id": e["question_id"],
                "raised_by": who(e["raised_by"]),
                "raised_at": e["raised_at"],
                "told_who": e["told_who"],
                "told_at": e["told_at"],
                "agreed_action": e["agreed_action"],
                "recorded_by": who(e["recorded_by"]),
                "recorded_at": e["recorded_at"],
                "withdrawn_by": who(e["withdrawn_by"]),
                "withdrawn_at": e["withdrawn_at"],
            }
            for e in raw["alerts"]
        ],
        "panels": [
            {
                "case_id": p["case_id"],
                "opened_at": p["opened_at"],
                "opened_by": who(p["opened_by"]),
                "held_on": p["held_on"],
                "agreed_at": p["agreed_at"],
                "agreed_by": who(p["agreed_by"]),
                "version": p["version"],
                "updated_at": p["updated_at"],
                "answers": _answers(panel_answers.get(p["case_id"], [])),
            }
            for p in raw["panels"]
        ],
        "learning": [
            {
                "id": item["id"],
                "case_id": item["case_id"],
                "text": item["text"],
                "themes": sorted(themes.get(item["id"], [])),
                "created_by": who(item["created_by"]),
                "created_at": item["created_at"],
                "updated_at": item["updated_at"],
            }
            for item in raw["learning"]
        ],
        "actions": [
            {
                "id": a["id"],
                "agency_id": a["agency_id"],
                "case_id": a["case_id"],
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
                    for n in notes.get(a["id"], [])
                ],
            }
            for a in raw["actions"]
        ],
    }
    mentioned = {
        name
        for section in ("agency_audits", "alerts", "panels", "learning", "actions")
        for item in part[section]
        for key, name in item.items()
        if key.endswith("_by") and name
    } | {m["username"] for m in part["agency_members"] if m["username"]}
    agency_of = {r["username"]: r["agency_id"] for r in raw["people"]}
    part["people_agencies"] = [
        {"username": name, "agency_id": agency_of[name]}
        for name in sorted(mentioned)
        if agency_of.get(name)
    ]
    return {KEY: part}


def agency_bundle(doc: dict[str, Any], part: dict[str, Any], agency_id: str) -> dict[str, Any]:
    """Cut a whole review's bundle down to one agency's part (made by ``export_part``).

    Only the children the agency knows and the agency's own audits and alerts: no members,
    no other agency's references or answers, no panels, findings, actions or history.
    """
    known = {r["case_id"] for r in part["case_agencies"]}
    out = dict(doc)
    out["cases"] = [
        dict(c, assigned_to=None, second_audit=False, second_assigned_to=None)
        for c in doc["cases"]
        if c["id"] in known
    ]
    for key in ("members", "audits", "escalations", "moderation", "findings", "actions", "history"):
        out[key] = []
    for key in (
        "calibration_exercises",
        "conversations",
        "family_feedback",
        "themes",
        "theme_tags",
    ):
        if key in out:
            out[key] = []
    # Imported as a new review, the part remembers whose it is: the panel is held elsewhere.
    settings = {**(doc["review"].get("settings") or {}), "agency_part": agency_id}
    out["review"] = dict(doc["review"], executive_summary="", settings=settings)
    out[KEY] = part
    wanted = {p["username"] for p in part["people_agencies"]}
    wanted |= {
        name
        for item in part["agency_audits"] + part["alerts"]
        for key, name in item.items()
        if key.endswith("_by") and name
    }
    if doc["review"].get("created_by"):
        wanted.add(doc["review"]["created_by"])
    out["people"] = [p for p in doc["people"] if p["username"] in wanted]
    return out


# --------------------------------------------------------------------------- checks


def _items(part: Mapping[str, Any], key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    values = part.get(key)
    for i, item in enumerate(values if isinstance(values, list) else []):
        if isinstance(item, dict):
            yield f"{KEY}.{key}[{i}]", item


def problems(doc: Mapping[str, Any], rubric: Rubric) -> list[str]:
    """List everything in the ``partnership`` part that does not fit the bundle's rubric or
    refers to nothing (the schema has already checked each value's shape)."""
    part = doc.get(KEY)
    if not isinstance(part, dict):
        return []
    out: list[str] = []
    if not rubric.multi_agency:
        return [
            f"{KEY}: the bundle's rubric is not a multi-agency rubric, so it has no agency answers"
        ]
    people = {
        p.get("username", "").casefold() for p in doc.get("people", []) if isinstance(p, dict)
    }
    cases = {
        c["id"]: c.get("case_type")
        for c in doc.get("cases", [])
        if isinstance(c, dict) and isinstance(c.get("id"), str)
    }
    agencies: set[str] = set()
    for path, item in _items(part, "agencies"):
        if item.get("id") in agencies:
            out.append(f"{path}.id: {show(item.get('id'))} appears more than once")
        agencies.add(item.get("id"))

    def person(item: Mapping[str, Any], path: str, *keys: str) -> None:
        for key in keys:
            name = item.get(key)
            if isinstance(name, str) and name.casefold() not in people:
                out.append(f"{path}.{key}: {show(name)} is not listed in people")

    def agency(item: Mapping[str, Any], path: str, key: str = "agency_id") -> None:
        value = item.get(key)
        if isinstance(value, str) and value not in agencies:
            out.append(f"{path}.{key}: {show(value)} is not one of the bundle's agencies")

    def case(item: Mapping[str, Any], path: str) -> str | None:
        value = item.get("case_id")
        if isinstance(value, str) and value not in cases:
            out.append(f"{path}.case_id: refers to a case that is not in the bundle")
            return None
        return cases.get(value) if isinstance(value, str) else None

    knows: set[tuple[str, str]] = set()
    references: set[tuple[str, str]] = set()
    for path, item in _items(part, "case_agencies"):
        case(item, path)
        agency(item, path)
        pair = (item.get("case_id"), item.get("agency_id"))
        if pair in knows:
            out.append(f"{path}: the same child and agency appear more than once")
        knows.add(pair)  # type: ignore[arg-type]
        ref = (item.get("agency_id"), item.get("reference"))
        if item.get("reference") and ref in references:
            out.append(f"{path}.reference: {show(item.get('reference'))} is given to two children")
        references.add(ref)  # type: ignore[arg-type]
    for key in ("agency_members", "people_agencies"):
        for path, item in _items(part, key):
            person(item, path, "username")
            agency(item, path)
    audit_ids: dict[str, str] = {}
    seen_pairs: set[tuple[str, str]] = set()
    for path, item in _items(part, "agency_audits"):
        case_type = case(item, path)
        agency(item, path)
        person(item, path, "started_by", "updated_by", "submitted_by")
        audit_id, agency_id = item.get("id"), item.get("agency_id")
        if audit_id in audit_ids:
            out.append(f"{path}.id: {show(audit_id)} appears more than once")
        if isinstance(audit_id, str) and isinstance(agency_id, str):
            audit_ids[audit_id] = agency_id
        pair = (item.get("case_id"), agency_id)
        if isinstance(agency_id, str) and pair not in knows:
            out.append(f"{path}: the agency is not recorded as knowing the child (case_agencies)")
        if pair in seen_pairs:
            out.append(f"{path}: a second audit of the same child by the same agency")
        seen_pairs.add(pair)  # type: ignore[arg-type]
        if isinstance(agency_id, str) and case_type:
            theirs = agency_part(rubric, agency_id)
            out += _answer_problems(item, path, theirs, case_type)
            sections = {s.id for s in theirs.sections_for(case_type) if not s.compulsory}
            for j, section_id in enumerate(item.get("sections_not_applicable") or []):
                if section_id not in sections:
                    out.append(
                        f"{path}.sections_not_applicable[{j}]: {show(section_id)} is not a"
                        " section this agency may mark not applicable for the child"
                    )
    critical = {q.id for q in rubric.critical_questions()}
    alert_ids: Counter[str] = Counter()
    for path, item in _items(part, "alerts"):
        case(item, path)
        person(item, path, "raised_by", "recorded_by", "withdrawn_by")
        alert_ids[str(item.get("id"))] += 1
        if alert_ids[str(item.get("id"))] == 2:
            out.append(f"{path}.id: {show(item.get('id'))} appears more than once")
        audit_id = item.get("agency_audit_id")
        if audit_id is not None and audit_id not in audit_ids:
            out.append(
                f"{path}.agency_audit_id: refers to an agency audit that is not in the bundle"
            )
        elif audit_id is not None and audit_ids[audit_id] != item.get("agency_id"):
            out.append(f"{path}.agency_id: is not the agency of the alert's audit")
        if item.get("question_id") not in critical:
            out.append(
                f"{path}.question_id: {show(item.get('question_id'))} is not a critical question"
                f" ({', '.join(sorted(critical))})"
            )
    panel_cases: set[str] = set()
    panel = panel_part(rubric)
    for path, item in _items(part, "panels"):
        case_type = case(item, path)
        person(item, path, "opened_by", "agreed_by")
        if item.get("case_id") in panel_cases:
            out.append(f"{path}.case_id: the child's panel appears more than once")
        panel_cases.add(item.get("case_id"))  # type: ignore[arg-type]
        if case_type:
            out += _answer_problems(item, path, panel, case_type)
    theme_ids = {t.get("id") for t in doc.get("themes", []) if isinstance(t, dict)}
    for path, item in _items(part, "learning"):
        case(item, path)
        person(item, path, "created_by")
        if item.get("case_id") not in panel_cases:
            out.append(
                f"{path}.case_id: learning needs the child's panel, which is not in the bundle"
            )
        for j, theme_id in enumerate(item.get("themes") or []):
            if theme_id not in theme_ids:
                out.append(f"{path}.themes[{j}]: refers to a theme that is not in the bundle")
    standard = {a.get("id") for a in doc.get("actions", []) if isinstance(a, dict)}
    for path, item in _items(part, "actions"):
        case(item, path)
        agency(item, path)
        person(item, path, "created_by")
        if item.get("id") in standard:
            out.append(f"{path}.id: {show(item.get('id'))} is also an action of the review")
    return out


def _answer_problems(item: Mapping[str, Any], path: str, part: Rubric, case_type: str) -> list[str]:
    out = []
    asked = {q.id: q for q in part.questions_for(case_type)}
    seen: set[str] = set()
    for j, answer in enumerate(item.get("answers") or []):
        if not isinstance(answer, dict):
            continue
        where = f"{path}.answers[{j}]"
        question_id = answer.get("question_id")
        question = asked.get(question_id)  # type: ignore[arg-type]
        if question is None:
            out.append(
                f"{where}.question_id: {show(question_id)} is not asked here for a {case_type} case"
            )
            continue
        if question_id in seen:
            out.append(f"{where}.question_id: {show(question_id)} is answered twice")
        seen.add(question_id)  # type: ignore[arg-type]
        value = answer.get("value")
        if answer.get("not_applicable"):
            if not question.allow_na:
                out.append(f"{where}.not_applicable: {show(question_id)} does not allow N/A")
        elif value is not None and question.type != "text":
            allowed = [v for v in allowed_values(question, part) if v != NOT_APPLICABLE]
            if value not in allowed:
                out.append(f"{where}.value: {show(value)} is not one of {', '.join(allowed)}")
    return out


# --------------------------------------------------------------------------- merge


def merge(
    db: sqlite_utils.Database,
    doc: Mapping[str, Any],
    records: dict[str, list[dict[str, Any]]],
    conflicts: list[str],
    uid: Uid,
    *,
    review_id: str,
    by: int | None,
) -> None:
    """Turn the ``partnership`` part into rows to write; list what conflicts with what is here."""
    part = doc.get(KEY)
    for table in TABLES:
        records.setdefault(table, [])
    if not isinstance(part, dict):
        return
    here = bundles.read_partnership(db, review_id, None)
    pseudonyms = {c["id"]: c["pseudonym"] for c in doc["cases"]}
    names = {a["id"]: a["name"] for a in here["agencies"]}
    now = bundles.now()
    case_ids = {c["id"] for c in records.get("case_file", [])} | {
        r[0] for r in db.execute("SELECT id FROM case_file WHERE review_id = ?", [review_id])
    }

    def label(case_id: str, agency_id: str | None = None) -> str:
        who = names.get(agency_id or "", agency_id or "the panel")
        return f"{who}'s record of {pseudonyms.get(case_id, case_id)}"

    # Agencies: unknown ones join the installation's list at once (inside the import's
    # transaction), so the rows below can refer to them.
    all_names = {n.casefold() for n in names.values()} | {
        n.casefold() for n in bundles.agency_names(db).values()
    }
    known_agencies = set(bundles.agency_names(db))
    for item in part.get("agencies", []):
        if item["id"] in known_agencies:
            names.setdefault(item["id"], bundles.agency_names(db)[item["id"]])
            continue
        name = item["name"]
        if name.casefold() in all_names:
            name = f"{name} ({item['id']})"
        bundles.add_agency(db, item["id"], name, by)
        names[item["id"]] = name
        all_names.add(name.casefold())
        known_agencies.add(item["id"])

    # People's agencies: only for placeholder accounts (deactivated, with no agency yet).
    agency_of = dict(here["people_agencies"])
    for item in part.get("people_agencies", []):
        user_id = uid(item["username"])
        if user_id is not None and bundles.set_placeholder_agency(db, user_id, item["agency_id"]):
            agency_of[user_id] = item["agency_id"]

    knows = {(r["case_id"], r["agency_id"]): r["reference"] for r in here["case_agencies"]}
    for item in part.get("case_agencies", []):
        key = (item["case_id"], item["agency_id"])
        reference = item.get("reference") or ""
        if key in knows:
            if knows[key] != reference:
                conflicts.append(
                    f"{label(*key)}: the agency's reference differs here ({knows[key] or 'none'}"
                    f" here, {reference or 'none'} in the bundle); kept this installation's"
                )
            continue
        if item["case_id"] not in case_ids:
            conflicts.append(f"{label(*key)}: the child is not in this review here; not added")
            continue
        records["case_agency"].append(
            {
                "case_id": item["case_id"],
                "review_id": review_id,
                "agency_id": item["agency_id"],
                "reference": reference,
                "added_at": now,
            }
        )
        knows[key] = reference

    members = {m["user_id"] for m in here["members"]}
    for item in part.get("agency_members", []):
        user_id = uid(item["username"])
        if user_id in members or user_id is None:
            continue
        if agency_of.get(user_id) != item["agency_id"]:
            conflicts.append(
                f"agency auditor {item['username']}: belongs to another agency here (or none);"
                " not added to the review"
            )
            continue
        if db.execute(
            "SELECT 1 FROM review_member WHERE review_id = ? AND user_id = ?", [review_id, user_id]
        ).fetchone():
            continue
        records["agency_member"].append(
            {
                "review_id": review_id,
                "user_id": user_id,
                "added_by": by,
                "added_at": item.get("added_at") or now,
            }
        )
        members.add(user_id)

    _merge_audits(db, part, records, conflicts, uid, here, knows, label, review_id, by, now, doc)
    _merge_panels(part, records, conflicts, uid, here, label, review_id, case_ids, now)
    _merge_actions(part, records, conflicts, uid, here, label, review_id, now, known_agencies)


def _audit_doc(row: Mapping[str, Any], answers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": row["status"],
        "version": row["version"],
        "sections_not_applicable": sorted(
            json.loads(row["sections_not_applicable"])
            if isinstance(row["sections_not_applicable"], str)
            else row["sections_not_applicable"]
        ),
        "answers": sorted(
            ({k: a[k] for k in ANSWER_FIELDS} for a in answers), key=lambda a: a["question_id"]
        ),
    }


def _comparable(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "status": item["status"],
        "version": item["version"],
        "sections_not_applicable": sorted(item.get("sections_not_applicable") or []),
        "answers": sorted(
            (
                {
                    "question_id": a["question_id"],
                    "value": a.get("value"),
                    "not_applicable": int(bool(a.get("not_applicable"))),
                    "evidence": a.get("evidence") or "",
                }
                for a in item.get("answers", [])
            ),
            key=lambda a: a["question_id"],
        ),
    }


def _merge_audits(
    db, part, records, conflicts, uid, here, knows, label, review_id, by, now, doc
) -> None:  # type: ignore[no-untyped-def]
    audits = {a["id"]: a for a in here["audits"]}
    by_pair = {(a["case_id"], a["agency_id"]): a["id"] for a in here["audits"]}
    answers: dict[str, list[dict[str, Any]]] = {}
    for row in here["agency_answers"]:
        answers.setdefault(row["audit_id"], []).append(
            {**row, "not_applicable": int(bool(row["not_applicable"]))}
        )
    kept = {(c["agency_audit_id"], c["incoming"]) for c in here["conflicts"]}
    added: set[str] = set()
    for item in part.get("agency_audits", []):
        incoming = _comparable(item)
        pair = (item["case_id"], item["agency_id"])
        local_id = item["id"] if item["id"] in audits else by_pair.get(pair)
        if local_id is not None:
            local = _audit_doc(audits[local_id], answers.get(local_id, []))
            if local == incoming and local_id == item["id"]:
                continue
            why = (
                "differs here"
                if local_id == item["id"]
                else "is a second audit of the same child by the same agency"
            )
            conflicts.append(
                f"{label(*pair)}: the agency's audit in the bundle {why}; kept this installation's"
            )
            stored = json.dumps({"id": item["id"], **incoming}, sort_keys=True)
            if (local_id, stored) not in kept:
                records["agency_audit_conflict"].append(
                    {
                        "id": str(uuid.uuid4()),
                        "review_id": review_id,
                        "agency_audit_id": local_id,
                        "received_at": now,
                        "received_by": by,
                        "exported_at": doc.get("exported_at"),
                        "incoming": stored,
                    }
                )
                kept.add((local_id, stored))
            continue
        if pair not in knows:
            conflicts.append(
                f"{label(*pair)}: the agency is not recorded as knowing the child here; not added"
            )
            continue
        records["agency_audit"].append(
            {
                "id": item["id"],
                "review_id": review_id,
                "case_id": item["case_id"],
                "agency_id": item["agency_id"],
                "status": item["status"],
                "version": item["version"],
                "sections_not_applicable": json.dumps(
                    sorted(item.get("sections_not_applicable") or [])
                ),
                "started_by": uid(item.get("started_by")),
                "updated_by": uid(item.get("updated_by")),
                "submitted_by": uid(item.get("submitted_by")),
                "created_at": item.get("created_at") or now,
                "updated_at": item.get("updated_at") or now,
                "submitted_at": item.get("submitted_at"),
            }
        )
        for a in item.get("answers", []):
            records["agency_answer"].append(
                {
                    "audit_id": item["id"],
                    "question_id": a["question_id"],
                    "value": a.get("value"),
                    "not_applicable": int(bool(a.get("not_applicable"))),
                    "evidence": a.get("evidence") or "",
                    "updated_at": a.get("updated_at") or now,
                }
            )
        added.add(item["id"])
        by_pair[pair] = item["id"]
    alerts = {e["id"]: e for e in here["alerts"]}
    fields = ("told_who", "told_at", "agreed_action", "recorded_at", "withdrawn_at")
    for item in part.get("alerts", []):
        if item["id"] in alerts:
            if any((alerts[item["id"]].get(k) or None) != (item.get(k) or None) for k in fields):
                conflicts.append(
                    f"{label(item['case_id'], item.get('agency_id'))}: a safeguarding alert's"
                    " escalation record differs here; kept this installation's"
                )
            continue
        audit_id = item.get("agency_audit_id")
        if audit_id is not None and audit_id not in audits and audit_id not in added:
            continue  # its audit was not added (a conflict already listed)
        records["agency_escalation"].append(
            {
                "id": item["id"],
                "review_id": review_id,
                "case_id": item["case_id"],
                "agency_audit_id": audit_id,
                "agency_id": item.get("agency_id"),
                "question_id": item["question_id"],
                "raised_by": uid(item.get("raised_by")),
                "raised_at": item["raised_at"],
                "told_who": item.get("told_who"),
                "told_at": item.get("told_at"),
                "agreed_action": item.get("agreed_action"),
                "recorded_by": uid(item.get("recorded_by")),
                "recorded_at": item.get("recorded_at"),
                "withdrawn_by": uid(item.get("withdrawn_by")),
                "withdrawn_at": item.get("withdrawn_at"),
            }
        )


def _merge_panels(part, records, conflicts, uid, here, label, review_id, case_ids, now) -> None:  # type: ignore[no-untyped-def]
    panels = {p["case_id"]: p for p in here["panels"]}
    answers: dict[str, list[dict[str, Any]]] = {}
    for row in here["panel_answers"]:
        answers.setdefault(row["case_id"], []).append(
            {**row, "not_applicable": int(bool(row["not_applicable"]))}
        )
    for item in part.get("panels", []):
        case_id = item["case_id"]
        if case_id in panels:
            local = panels[case_id]
            mine = _comparable(
                {**local, "status": local["agreed_at"] or "", "answers": answers.get(case_id, [])}
            )
            theirs = _comparable({**item, "status": item.get("agreed_at") or ""})
            if mine != theirs or (local["held_on"] or None) != (item.get("held_on") or None):
                conflicts.append(
                    f"{label(case_id)}: the panel's record differs here; kept this installation's"
                )
            continue
        if case_id not in case_ids:
            continue
        records["panel"].append(
            {
                "case_id": case_id,
                "review_id": review_id,
                "opened_at": item["opened_at"],
                "opened_by": uid(item.get("opened_by")),
                "held_on": item.get("held_on"),
                "agreed_at": item.get("agreed_at"),
                "agreed_by": uid(item.get("agreed_by")),
                "version": item["version"],
                "updated_at": item.get("updated_at") or now,
            }
        )
        for a in item.get("answers", []):
            records["panel_answer"].append(
                {
                    "case_id": case_id,
                    "question_id": a["question_id"],
                    "value": a.get("value"),
                    "not_applicable": int(bool(a.get("not_applicable"))),
                    "evidence": a.get("evidence") or "",
                    "updated_at": a.get("updated_at") or now,
                }
            )
        panels[case_id] = item
    learning = {item["id"]: item for item in here["learning"]}
    for item in part.get("learning", []):
        if item["id"] in learning:
            if learning[item["id"]]["text"] != item["text"]:
                conflicts.append(
                    f"{label(item['case_id'])}: a piece of learning differs here;"
                    " kept this installation's"
                )
            continue
        if item["case_id"] not in panels:
            continue
        records["panel_learning"].append(
            {
                "id": item["id"],
                "review_id": review_id,
                "case_id": item["case_id"],
                "text": item["text"],
                "created_by": uid(item.get("created_by")),
                "created_at": item.get("created_at") or now,
                "updated_at": item.get("updated_at") or now,
            }
        )
        for theme_id in item.get("themes", []):
            records["panel_learning_theme"].append(
                {
                    "learning_id": item["id"],
                    "theme_id": theme_id,
                    "tagged_by": uid(item.get("created_by")),
                    "tagged_at": item.get("created_at") or now,
                }
            )


def _merge_actions(part, records, conflicts, uid, here, label, review_id, now, agencies) -> None:  # type: ignore[no-untyped-def]
    actions = {a["id"]: a for a in here["actions"]}
    for item in part.get("actions", []):
        if item["id"] in actions:
            local = actions[item["id"]]
            if any(local[k] != item.get(k) for k in ("what", "status", "due_date", "agency_id")):
                conflicts.append(
                    f"{label(item['case_id'], item['agency_id'])}: an agency action differs here;"
                    " kept this installation's"
                )
            continue
        if item["agency_id"] not in agencies:
            continue
        records.setdefault("action", []).append(
            {
                "id": item["id"],
                "review_id": review_id,
                "finding_id": None,
                "audit_id": None,
                "what": item["what"],
                "owner": item.get("owner") or "",
                "due_date": item.get("due_date"),
                "status": item["status"],
                "created_by": uid(item.get("created_by")),
                "created_at": item.get("created_at") or now,
                "updated_at": item.get("updated_at") or now,
            }
        )
        records["agency_action"].append(
            {"action_id": item["id"], "agency_id": item["agency_id"], "case_id": item["case_id"]}
        )
        for note in item.get("notes", []):
            records.setdefault("action_note", []).append(
                {
                    "id": note["id"],
                    "action_id": item["id"],
                    "note": note["note"],
                    "noted_on": note["noted_on"],
                    "created_by": uid(note.get("created_by")),
                    "created_at": note["created_at"],
                }
            )


# --------------------------------------------------------------------------- showing conflicts


def differences(rubric: Rubric, local: Any, incoming_json: str) -> list[tuple[str, str, str]]:
    """Say where a kept agency audit and another version of it differ: (what, here, bundle)."""
    incoming = json.loads(incoming_json)
    part = agency_part(rubric, local.agency_id)
    rows: list[tuple[str, str, str]] = []
    if incoming["status"] != local.status:
        rows.append(("Status", local.status.capitalize(), str(incoming["status"]).capitalize()))
    theirs = {
        a["question_id"]: Answer(
            a.get("value"), bool(a.get("not_applicable")), a.get("evidence") or ""
        )
        for a in incoming["answers"]
    }
    for question in part.questions:
        here, there = local.answers.get(question.id), theirs.get(question.id)
        if (here.effective if here else None, here.evidence if here else "") == (
            there.effective if there else None,
            there.evidence if there else "",
        ):
            continue
        rows.append(
            (
                " ".join(question.text.split()),
                _said(question, part, here),
                _said(question, part, there),
            )
        )
    return rows


def _said(question: Any, rubric: Rubric, answer: Answer | None) -> str:
    text = answer_label(question, rubric, answer)
    if answer is not None and answer.evidence and question.type != "text":
        text += f" ({answer.evidence})"
    return text


def agency_export(
    db: sqlite_utils.Database, review_id: str, agency_id: str, exported_by: str
) -> dict[str, Any]:
    """Return one agency's part of a multi-agency review as a complete bundle."""
    from audit.bundles.bundle import export_review  # the whole-review export builds on this module

    doc = export_review(db, review_id, exported_by)
    names = {r["id"]: r["username"] for r in db.execute("SELECT id, username FROM user")}

    def who(user_id: int | None) -> str | None:
        return None if user_id is None else names.get(user_id)

    return agency_bundle(doc, export_part(db, review_id, who, agency_id)[KEY], agency_id)
