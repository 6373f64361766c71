"""Calibration exercises, conversations and family feedback in review bundles.

:mod:`audit.bundles.bundle` calls :func:`export_parts` to add the three lists to a bundle and
:func:`merge` to turn them into rows an import writes. The merge works record by record, as
for audits: an exercise, each of its cases, participants, grades and agreed grades, a
conversation (with its section views, as one record) and a family feedback are each added
when missing and, when present here with other contents, listed as a conflict while this
installation's copy is kept. Blindness survives a merge: grades stay grades, results that
are open here stay open, and an agreed grade is never added to an exercise whose results
are not open here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlite_utils

from audit.data import bundle_collab as data
from audit.data import bundles

Who = Callable[[int | None], str | None]
Uid = Callable[[str | None], int | None]

CONVERSATION_FIELDS = (
    "held_on",
    "worker_role",
    "manager_role",
    "worker_name",
    "will_do_differently",
    "manager_response",
)
SECTION_FIELDS = ("section_id", "question_id", "grade", "agrees", "practitioner_view")
FEEDBACK_FIELDS = (
    "consent",
    "contact_method",
    "family_said",
    "felt_listened_to",
    "knows_plan",
    "life_better",
)


# --------------------------------------------------------------------------- export


def export_parts(
    db: sqlite_utils.Database, review_id: str, who: Who, for_user: int | None = None
) -> dict[str, list[dict]]:
    """Return the review's ``calibration_exercises``, ``conversations`` and ``family_feedback``.

    Given ``for_user`` (a download in the browser), exercises whose results are not open
    carry only that user's own grades, as the calibration pages show them.
    """
    return {
        "calibration_exercises": _export_calibration(db, review_id, who, for_user),
        **_export_voices(db, review_id, who),
    }


def _export_calibration(
    db: sqlite_utils.Database, review_id: str, who: Who, for_user: int | None
) -> list[dict]:
    raw = data.read_calibration(db, review_id, for_user=for_user)
    out = []
    for exercise in raw["exercises"]:
        mine = exercise["id"]
        out.append(
            {
                "id": mine,
                "title": exercise["title"],
                "created_by": who(exercise["created_by"]),
                "created_at": exercise["created_at"],
                "results_opened_by": who(exercise["results_opened_by"]),
                "results_opened_at": exercise["results_opened_at"],
                "cases": [
                    {"case_id": c["case_id"], "position": c["position"]}
                    for c in raw["cases"]
                    if c["exercise_id"] == mine
                ],
                "participants": sorted(
                    (
                        {"username": who(p["user_id"]) or "", "submitted_at": p["submitted_at"]}
                        for p in raw["participants"]
                        if p["exercise_id"] == mine
                    ),
                    key=lambda p: p["username"],
                ),
                "grades": sorted(
                    (
                        {
                            "case_id": g["case_id"],
                            "username": who(g["user_id"]) or "",
                            "question_id": g["question_id"],
                            "value": g["value"],
                            "evidence": g["evidence"],
                            "updated_at": g["updated_at"],
                        }
                        for g in raw["grades"]
                        if g["exercise_id"] == mine
                    ),
                    key=lambda g: (g["case_id"], g["username"], g["question_id"]),
                ),
                "agreed": [
                    {
                        "case_id": a["case_id"],
                        "question_id": a["question_id"],
                        "value": a["value"],
                        "rationale": a["rationale"],
                        "agreed_by": who(a["agreed_by"]),
                        "agreed_at": a["agreed_at"],
                    }
                    for a in raw["agreed"]
                    if a["exercise_id"] == mine
                ],
            }
        )
    return out


def _export_voices(db: sqlite_utils.Database, review_id: str, who: Who) -> dict[str, list[dict]]:
    raw = data.read_voices(db, review_id)
    sections: dict[str, list[dict]] = {}
    for s in raw["sections"]:
        sections.setdefault(s["audit_id"], []).append({k: s[k] for k in SECTION_FIELDS})
    conversations = [
        {
            "audit_id": c["audit_id"],
            **{k: c[k] for k in CONVERSATION_FIELDS},
            "recorded_by": who(c["recorded_by"]),
            "recorded_at": c["recorded_at"],
            "sections": sections.get(c["audit_id"], []),
        }
        for c in raw["conversations"]
    ]
    feedback = [
        {
            "audit_id": f["audit_id"],
            **{k: f[k] for k in FEEDBACK_FIELDS},
            "quote_included": bool(f["quote_included"]),
            "recorded_by": who(f["recorded_by"]),
            "recorded_at": f["recorded_at"],
        }
        for f in raw["feedback"]
    ]
    return {"conversations": conversations, "family_feedback": feedback}


# --------------------------------------------------------------------------- import


def merge(
    db: sqlite_utils.Database,
    doc: Mapping[str, Any],
    records: dict[str, list[dict[str, Any]]],
    conflicts: list[str],
    uid: Uid,
) -> None:
    """Add to ``records`` the rows the three lists add here; list clashes in ``conflicts``.

    Runs after cases and audits are merged, so ``records`` says which of them are being
    added; a record whose case or audit is not in this review after the import is a conflict.
    """
    review_id = doc["review"]["id"]
    cases_here = {
        case_id
        for case_id, owner in data.review_ids_of(
            db, "case_file", [c["id"] for c in doc["cases"]]
        ).items()
        if owner == review_id
    } | {r["id"] for r in records.get("case_file", [])}
    audits_here = {
        audit_id
        for audit_id, owner in data.review_ids_of(
            db, "case_audit", [a["id"] for a in doc["audits"]]
        ).items()
        if owner == review_id
    } | {r["id"] for r in records.get("case_audit", [])}
    for table in data.TABLES:
        records[table] = []
    _merge_calibration(db, doc, records, conflicts, uid, cases_here)
    _merge_voices(db, doc, records, conflicts, uid, audits_here)


def _blank(value: object) -> object:
    # An empty grade is a blank one, stored as the app stores blanks.
    return None if value == "" else value


def _merge_calibration(
    db: sqlite_utils.Database,
    doc: Mapping[str, Any],
    records: dict[str, list[dict[str, Any]]],
    conflicts: list[str],
    uid: Uid,
    cases_here: set[str],
) -> None:
    review_id = doc["review"]["id"]
    exercises = doc.get("calibration_exercises") or []
    local = data.local_calibration(db, [e["id"] for e in exercises])
    pseudonyms = {c["id"]: c["pseudonym"] for c in doc["cases"]}
    now = bundles.now()
    kept = "kept this installation's copy"
    for exercise in exercises:
        label = f'calibration exercise "{exercise["title"]}"'
        here = local.get(exercise["id"])
        if here is not None and here["review_id"] != review_id:
            conflicts.append(f"{label}: its id belongs to another review; not added")
            continue
        if here is None:
            records["calibration_exercise"].append(
                {
                    "id": exercise["id"],
                    "review_id": review_id,
                    "title": exercise["title"],
                    "results_opened_at": exercise.get("results_opened_at"),
                    "results_opened_by": uid(exercise.get("results_opened_by")),
                    "created_by": uid(exercise.get("created_by")),
                    "created_at": exercise.get("created_at") or now,
                }
            )
            here = {
                "results_opened_at": exercise.get("results_opened_at"),
                "cases": {},
                "participants": {},
                "grades": {},
                "agreed": {},
            }
        elif (here["title"], here["results_opened_at"]) != (
            exercise["title"],
            exercise.get("results_opened_at"),
        ):
            conflicts.append(f"{label}: differs here (title or results opened); {kept}")
        left_out: set[str] = set()
        for case in exercise.get("cases") or []:
            case_id = case["case_id"]
            pseudonym = pseudonyms.get(case_id, "?")
            if case_id in here["cases"]:
                if here["cases"][case_id] != case["position"]:
                    conflicts.append(f"{label}: case {pseudonym} differs here; {kept}")
                continue
            if case_id not in cases_here:
                left_out.add(case_id)
                conflicts.append(
                    f"{label}: case {pseudonym} was not added, so neither are its grades"
                )
                continue
            records["calibration_case"].append(
                {"exercise_id": exercise["id"], "case_id": case_id, "position": case["position"]}
            )
        for person in exercise.get("participants") or []:
            user_id = uid(person["username"])
            if user_id in here["participants"]:
                if here["participants"][user_id] != person.get("submitted_at"):
                    conflicts.append(
                        f"{label}: {person['username']}'s submission differs here; {kept}"
                    )
                continue
            records["calibration_participant"].append(
                {
                    "exercise_id": exercise["id"],
                    "user_id": user_id,
                    "submitted_at": person.get("submitted_at"),
                }
            )
        for grade in exercise.get("grades") or []:
            if grade["case_id"] in left_out:
                continue
            user_id = uid(grade["username"])
            value, evidence = _blank(grade.get("value")), grade.get("evidence") or ""
            mine = here["grades"].get((grade["case_id"], user_id, grade["question_id"]))
            if mine is not None:
                if (mine["value"], mine["evidence"]) != (value, evidence):
                    conflicts.append(
                        f"{label}: {grade['username']}'s grade for {grade['question_id']} of "
                        f"{pseudonyms.get(grade['case_id'], '?')} differs here; {kept}"
                    )
                continue
            records["calibration_grade"].append(
                {
                    "exercise_id": exercise["id"],
                    "case_id": grade["case_id"],
                    "user_id": user_id,
                    "question_id": grade["question_id"],
                    "value": value,
                    "evidence": evidence,
                    "updated_at": grade.get("updated_at") or now,
                }
            )
        for agreed in exercise.get("agreed") or []:
            if agreed["case_id"] in left_out:
                continue
            where = f"{agreed['question_id']} of {pseudonyms.get(agreed['case_id'], '?')}"
            mine = here["agreed"].get((agreed["case_id"], agreed["question_id"]))
            if mine is not None:
                if (mine["value"], mine["rationale"]) != (agreed["value"], agreed["rationale"]):
                    conflicts.append(f"{label}: the agreed grade for {where} differs here; {kept}")
                continue
            if here["results_opened_at"] is None:
                # Adding it would show the panel's view before everyone has graded blind.
                conflicts.append(
                    f"{label}: the agreed grade for {where} was not added: "
                    "the results are not open here"
                )
                continue
            records["calibration_agreed"].append(
                {
                    "exercise_id": exercise["id"],
                    "case_id": agreed["case_id"],
                    "question_id": agreed["question_id"],
                    "value": agreed["value"],
                    "rationale": agreed["rationale"],
                    "agreed_by": uid(agreed.get("agreed_by")),
                    "agreed_at": agreed["agreed_at"],
                }
            )


def _merge_voices(
    db: sqlite_utils.Database,
    doc: Mapping[str, Any],
    records: dict[str, list[dict[str, Any]]],
    conflicts: list[str],
    uid: Uid,
    audits_here: set[str],
) -> None:
    conversations = doc.get("conversations") or []
    feedback = doc.get("family_feedback") or []
    local_conversations, local_feedback = data.local_voices(
        db, [c["audit_id"] for c in conversations] + [f["audit_id"] for f in feedback]
    )
    pseudonyms = {c["id"]: c["pseudonym"] for c in doc["cases"]}
    labels = {
        a["id"]: f"audit of {pseudonyms.get(a['case_id'], '?')} ({a['purpose']})"
        for a in doc["audits"]
    }
    kept = "kept this installation's copy"
    for item in conversations:
        audit_id = item["audit_id"]
        label = f"conversation on the {labels.get(audit_id, 'audit')}"
        if audit_id not in audits_here:
            conflicts.append(f"{label}: its audit was not added; not added")
            continue
        sections = [{k: s.get(k) or "" for k in SECTION_FIELDS} for s in item.get("sections") or []]
        mine = local_conversations.get(audit_id)
        if mine is not None:
            theirs = [{k: s[k] for k in SECTION_FIELDS} for s in mine["sections"]]
            ours = {k: item.get(k) or "" for k in CONVERSATION_FIELDS}
            if ({k: mine[k] for k in CONVERSATION_FIELDS}, theirs) != (ours, sections):
                conflicts.append(f"{label}: differs here; {kept}")
            continue
        records["conversation"].append(
            {
                "audit_id": audit_id,
                **{k: item.get(k) or "" for k in CONVERSATION_FIELDS},
                "recorded_by": uid(item.get("recorded_by")),
                "recorded_at": item["recorded_at"],
            }
        )
        records["conversation_section"] += [{"audit_id": audit_id, **s} for s in sections]
    for item in feedback:
        audit_id = item["audit_id"]
        label = f"family feedback on the {labels.get(audit_id, 'audit')}"
        if audit_id not in audits_here:
            conflicts.append(f"{label}: its audit was not added; not added")
            continue
        row = {
            "audit_id": audit_id,
            **{k: item.get(k) or "" for k in FEEDBACK_FIELDS},
            "quote_included": int(bool(item.get("quote_included"))),
        }
        for key in FEEDBACK_FIELDS[3:]:
            row[key] = row[key] or "not_asked"
        mine = local_feedback.get(audit_id)
        if mine is not None:
            if any(mine[k] != row[k] for k in (*FEEDBACK_FIELDS, "quote_included")):
                conflicts.append(f"{label}: differs here; {kept}")
            continue
        records["family_feedback"].append(
            {**row, "recorded_by": uid(item.get("recorded_by")), "recorded_at": item["recorded_at"]}
        )
