"""Reviews, their members and their case files."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlite_utils

from audit.data import changes
from audit.data.db import utcnow, write
from audit.rubric import Rubric, parse_rubric

KINDS = {"peer_review": "Peer review", "self_audit": "Self-audit", "thematic": "Thematic audit"}
STATUSES = {
    "setting_up": "Setting up",
    "in_progress": "In progress",
    "moderation": "Moderation",
    "complete": "Complete",
    "closed": "Closed",
}
MEMBER_ROLES = ("lead", "reviewer")


class ReviewNotFound(LookupError):
    """No review with that id (or the user may not see it)."""


@lru_cache(maxsize=64)
def stored_rubric(text: str) -> Rubric:
    """Parse a review's own rubric copy once; scoring never reads the current YAML file."""
    return parse_rubric(text, source="review rubric")


@dataclass(frozen=True)
class Review:
    """A peer review, self-audit or thematic audit with its frozen rubric copy."""

    id: str
    title: str
    host_organisation: str
    kind: str
    start_date: str | None
    end_date: str | None
    status: str
    rubric_id: str
    rubric_version: str
    rubric_hash: str
    rubric_text: str
    settings: Mapping[str, Any]
    executive_summary: str
    programme_id: str | None
    created_at: str
    updated_at: str
    version: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rubric(self) -> Rubric:
        """The rubric exactly as it was when the review was created."""
        return stored_rubric(self.rubric_text)

    @property
    def kind_label(self) -> str:
        """The kind in words."""
        return KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        """The lifecycle status in words."""
        return STATUSES.get(self.status, self.status)


def _review(row: Mapping[str, Any]) -> Review:
    data = dict(row)
    known = {f for f in Review.__dataclass_fields__ if f != "extra"}
    values = {k: data.pop(k) for k in list(data) if k in known}
    values["settings"] = json.loads(values.get("settings") or "{}")
    return Review(**values, extra=data)


def create(
    db: sqlite_utils.Database,
    *,
    title: str,
    host_organisation: str,
    kind: str,
    rubric: Rubric,
    start_date: str | None = None,
    end_date: str | None = None,
    settings: Mapping[str, Any] | None = None,
    programme_id: str | None = None,
    by: int | None = None,
    review_id: str | None = None,
) -> Review:
    """Create a review holding its own copy of the rubric text, version and hash."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    now = utcnow()
    row = {
        "id": review_id or str(uuid.uuid4()),
        "title": title,
        "host_organisation": host_organisation,
        "kind": kind,
        "start_date": start_date,
        "end_date": end_date,
        "status": "setting_up",
        "rubric_id": rubric.id,
        "rubric_version": rubric.version,
        "rubric_hash": rubric.content_hash,
        "rubric_text": rubric.text,
        "settings": json.dumps(dict(settings or {}), sort_keys=True),
        "programme_id": programme_id,
        "created_by": by,
        "created_at": now,
        "updated_at": now,
    }
    with write(db):
        db["review"].insert(row)
        logged = {k: v for k, v in row.items() if k not in {"rubric_text", "settings"}}
        changes.record(
            db,
            user_id=by,
            entity="review",
            entity_id=row["id"],
            action="create",
            after=logged,
            review_id=row["id"],
        )
    return get(db, row["id"])


def get(db: sqlite_utils.Database, review_id: str) -> Review:
    """Return the review or raise :class:`ReviewNotFound`."""
    row = db.execute("SELECT * FROM review WHERE id = ?", [review_id]).fetchone()
    if row is None:
        raise ReviewNotFound(review_id)
    return _review(row)


def find(db: sqlite_utils.Database, key: str) -> Review:
    """Find a review by full id, unique id prefix or exact title (for the command line)."""
    rows = db.execute(
        "SELECT * FROM review WHERE id = ? OR id LIKE ? OR title = ? ORDER BY created_at",
        [key, key + "%", key],
    ).fetchall()
    exact = [r for r in rows if r["id"] == key]
    if exact:
        return _review(exact[0])
    if len(rows) == 1:
        return _review(rows[0])
    if not rows:
        raise ReviewNotFound(key)
    raise ReviewNotFound(f"{key!r} matches {len(rows)} reviews; give more of the id")


_LIST_SQL = """
SELECT review.*,
  (SELECT count(*) FROM case_file WHERE case_file.review_id = review.id) AS case_count,
  (SELECT count(*) FROM case_audit WHERE case_audit.review_id = review.id
     AND case_audit.purpose = 'first' AND case_audit.status = 'submitted') AS submitted_count,
  coalesce((SELECT role FROM review_member WHERE review_member.review_id = review.id
     AND review_member.user_id = :user_id),
    (SELECT 'agency' FROM agency_member WHERE agency_member.review_id = review.id
     AND agency_member.user_id = :user_id)) AS my_role
FROM review
"""


def visible_to(db: sqlite_utils.Database, user_id: int, is_admin: bool) -> list[Review]:
    """Return the reviews a user may see: admins all, everyone else those they belong to."""
    where = (
        ""
        if is_admin
        else (
            " WHERE review.id IN (SELECT review_id FROM review_member WHERE user_id = :user_id"
            " UNION SELECT review_id FROM agency_member WHERE user_id = :user_id)"
        )
    )
    rows = db.execute(
        _LIST_SQL + where + " ORDER BY review.created_at DESC, review.rowid DESC",
        {"user_id": user_id},
    ).fetchall()
    return [_review(r) for r in rows]


def all_reviews(db: sqlite_utils.Database) -> list[Review]:
    """Return every review, newest first (for the command line)."""
    rows = db.execute(
        _LIST_SQL + " ORDER BY review.created_at DESC, review.rowid DESC", {"user_id": None}
    )
    return [_review(r) for r in rows.fetchall()]


def membership(db: sqlite_utils.Database, review_id: str, user_id: int) -> str | None:
    """Return the user's role in the review (lead, reviewer, or agency for an agency auditor)."""
    row = db.execute(
        "SELECT role FROM review_member WHERE review_id = ? AND user_id = ?"
        " UNION ALL SELECT 'agency' FROM agency_member WHERE review_id = ? AND user_id = ?",
        [review_id, user_id, review_id, user_id],
    ).fetchone()
    return None if row is None else row["role"]


def members(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return the review's members with their names, leads first."""
    return [
        dict(r)
        for r in db.execute(
            "SELECT user.id, user.username, user.display_name, user.active, review_member.role"
            " FROM review_member JOIN user ON user.id = review_member.user_id"
            " WHERE review_member.review_id = ?"
            " ORDER BY review_member.role = 'reviewer', user.display_name COLLATE NOCASE",
            [review_id],
        ).fetchall()
    ]


def add_member(
    db: sqlite_utils.Database, review_id: str, user_id: int, role: str, by: int | None = None
) -> None:
    """Add a user to a review, or change their role in it."""
    if role not in MEMBER_ROLES:
        raise ValueError(f"role must be one of {', '.join(MEMBER_ROLES)}")
    with write(db):
        before = membership(db, review_id, user_id)
        db.execute(
            "INSERT INTO review_member (review_id, user_id, role, added_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (review_id, user_id) DO UPDATE SET role = excluded.role",
            [review_id, user_id, role, utcnow()],
        )
        changes.record(
            db,
            user_id=by,
            entity="review_member",
            entity_id=f"{review_id}:{user_id}",
            action="create" if before is None else "update",
            before=None if before is None else {"role": before},
            after={"role": role},
            review_id=review_id,
        )


def pseudonym(number: int, width: int = 2) -> str:
    """Return the per-review pseudonym for the n-th case, e.g. C07."""
    return f"C{number:0{width}d}"


def add_case_files(
    db: sqlite_utils.Database,
    review_id: str,
    cases: Iterable[Mapping[str, Any]],
    by: int | None = None,
) -> list[str]:
    """Insert case files in one transaction, numbering pseudonyms after the existing ones."""
    now = utcnow()
    ids: list[str] = []
    with write(db):
        existing = db.execute(
            "SELECT count(*) FROM case_file WHERE review_id = ?", [review_id]
        ).fetchone()[0]
        rows = list(cases)
        width = max(2, len(str(existing + len(rows))))
        for offset, case in enumerate(rows, start=1):
            case_id = str(case.get("id") or uuid.uuid4())
            db["case_file"].insert(
                {
                    "id": case_id,
                    "review_id": review_id,
                    "reference": case["reference"],
                    "pseudonym": case.get("pseudonym") or pseudonym(existing + offset, width),
                    "case_type": case["case_type"],
                    "team": case.get("team") or "",
                    "worker_role": case.get("worker_role") or "",
                    "age_band": case.get("age_band") or "",
                    "dates": json.dumps(dict(case.get("dates") or {}), sort_keys=True),
                    "assigned_to": case.get("assigned_to"),
                    "created_at": now,
                }
            )
            ids.append(case_id)
        changes.record(
            db,
            user_id=by,
            entity="case_file",
            entity_id=review_id,
            action="create",
            after={"added": len(rows)},
            review_id=review_id,
        )
    return ids


def case_files(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return the review's case files in pseudonym order, with assignee names."""
    rows = db.execute(
        "SELECT case_file.*, user.display_name AS assignee FROM case_file"
        " LEFT JOIN user ON user.id = case_file.assigned_to"
        " WHERE review_id = ? ORDER BY pseudonym",
        [review_id],
    ).fetchall()
    out = []
    for row in rows:
        item = dict(row)
        item["dates"] = json.loads(item["dates"])
        out.append(item)
    return out


class OpenAlerts(Exception):
    """A review cannot be completed while a child's escalation is still to be recorded."""


STATUS_ORDER = list(STATUSES)


def set_status(db: sqlite_utils.Database, review_id: str, status: str, by: int | None) -> None:
    """Move a review one step along its lifecycle (forwards or back).

    Completing or closing a review needs every safeguarding alert to have its escalation
    recorded: the app never lets an unsafe child be merely counted.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    with write(db):
        current = get(db, review_id)
        if current.status == status:
            return
        if abs(STATUS_ORDER.index(status) - STATUS_ORDER.index(current.status)) != 1:
            raise ValueError(
                f"a review moves one step at a time: from {current.status_label} it can go to "
                + " or ".join(STATUSES[s] for s in next_statuses(current.status))
            )
        if status in {"complete", "closed"}:
            # Alerts raised in agency audits and at panels (multi-agency reviews) count too.
            open_count = db.execute(
                "SELECT (SELECT count(*) FROM escalation WHERE review_id = :r"
                " AND recorded_at IS NULL AND withdrawn_at IS NULL)"
                " + (SELECT count(*) FROM agency_escalation WHERE review_id = :r"
                " AND recorded_at IS NULL AND withdrawn_at IS NULL)",
                {"r": review_id},
            ).fetchone()[0]
            if open_count:
                raise OpenAlerts(open_count)
        db.execute(
            "UPDATE review SET status = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            [status, utcnow(), review_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="review",
            entity_id=review_id,
            action="update",
            before={"status": current.status},
            after={"status": status},
            review_id=review_id,
        )


def next_statuses(status: str) -> list[str]:
    """Return the statuses a review can move to from ``status``."""
    index = STATUS_ORDER.index(status)
    return [STATUS_ORDER[i] for i in (index - 1, index + 1) if 0 <= i < len(STATUS_ORDER)]


def case_file(db: sqlite_utils.Database, case_id: str, review_id: str) -> dict[str, Any]:
    """Return one case file of this review (LookupError if it belongs to another)."""
    row = db.execute(
        "SELECT * FROM case_file WHERE id = ? AND review_id = ?", [case_id, review_id]
    ).fetchone()
    if row is None:
        raise LookupError(case_id)
    item = dict(row)
    item["dates"] = json.loads(item["dates"])
    return item


def references(db: sqlite_utils.Database, review_id: str) -> set[str]:
    """Return the host references already in the review."""
    return {
        row[0]
        for row in db.execute("SELECT reference FROM case_file WHERE review_id = ?", [review_id])
    }


def assign(
    db: sqlite_utils.Database,
    review_id: str,
    assignments: Mapping[str, int | None],
    by: int | None,
) -> int:
    """Assign case files to reviewers (None unassigns); return how many changed."""
    changed = 0
    with write(db):
        member_ids = {m["id"] for m in members(db, review_id)}
        for case_id, user_id in assignments.items():
            if user_id is not None and user_id not in member_ids:
                raise ValueError(f"user {user_id} is not a member of this review")
            before = db.execute(
                "SELECT assigned_to FROM case_file WHERE id = ? AND review_id = ?",
                [case_id, review_id],
            ).fetchone()
            if before is None:
                raise LookupError(case_id)
            if before["assigned_to"] == user_id:
                continue
            db.execute("UPDATE case_file SET assigned_to = ? WHERE id = ?", [user_id, case_id])
            changes.record(
                db,
                user_id=by,
                entity="case_file",
                entity_id=case_id,
                action="update",
                before={"assigned_to": before["assigned_to"]},
                after={"assigned_to": user_id},
                review_id=review_id,
            )
            changed += 1
    return changed


def share_evenly(db: sqlite_utils.Database, review_id: str, by: int | None) -> int:
    """Give unassigned case files to the review's reviewers, evening out their loads.

    Cases already assigned stay where they are (a reviewer may have started them); each
    unassigned case goes to whoever has fewest, in pseudonym order, ties by name.
    """
    reviewers = [m for m in members(db, review_id) if m["role"] == "reviewer" and m["active"]]
    if not reviewers:
        raise ValueError("add reviewers to the review before sharing cases")
    cases = case_files(db, review_id)
    load = {m["id"]: 0 for m in reviewers}
    for case in cases:
        if case["assigned_to"] in load:
            load[case["assigned_to"]] += 1
    order = {m["id"]: index for index, m in enumerate(reviewers)}
    plan: dict[str, int | None] = {}
    for case in cases:
        if case["assigned_to"] is None:
            chosen = min(load, key=lambda uid: (load[uid], order[uid]))
            plan[case["id"]] = chosen
            load[chosen] += 1
    return assign(db, review_id, plan, by)


def _replace_settings(
    db: sqlite_utils.Database,
    review_id: str,
    settings: Mapping[str, Any],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    by: int | None,
) -> None:
    db.execute(
        "UPDATE review SET settings = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        [json.dumps(dict(settings), sort_keys=True), utcnow(), review_id],
    )
    changes.record(
        db,
        user_id=by,
        entity="review",
        entity_id=review_id,
        action="update",
        before=before,
        after=after,
        review_id=review_id,
    )


def update_settings(
    db: sqlite_utils.Database, review_id: str, updates: Mapping[str, Any], by: int | None
) -> None:
    """Merge keys into the review's settings JSON (timeliness, thresholds, sampling record)."""
    with write(db):
        current = get(db, review_id)
        _replace_settings(
            db,
            review_id,
            {**current.settings, **updates},
            {k: current.settings.get(k) for k in updates},
            dict(updates),
            by,
        )


def clear_setting(db: sqlite_utils.Database, review_id: str, key: str, by: int | None) -> None:
    """Remove a key from the review's settings, falling back to the rubric's default."""
    with write(db):
        current = get(db, review_id)
        if key in current.settings:
            remaining = {k: v for k, v in current.settings.items() if k != key}
            _replace_settings(
                db, review_id, remaining, {key: current.settings[key]}, {key: None}, by
            )


class ReviewNotClosed(Exception):
    """Only a closed review can be deleted."""


def delete(db: sqlite_utils.Database, review_id: str, by: int | None) -> dict[str, int]:
    """Delete a closed review and everything in it, for good.

    Its change log goes too (it holds the content); one entry records that a review was
    deleted, by whom and how much, without its title or any content. Deleted pages are
    overwritten (secure_delete) and the write-ahead log is checkpointed and truncated, so
    nothing readable is left in the database files.
    """
    db.execute("PRAGMA secure_delete = ON")
    with write(db):
        review = get(db, review_id)
        if review.status != "closed":
            raise ReviewNotClosed(review.status)
        counts = {
            "case_files": db.execute(
                "SELECT count(*) FROM case_file WHERE review_id = ?", [review_id]
            ).fetchone()[0],
            "audits": db.execute(
                "SELECT count(*) FROM case_audit WHERE review_id = ?", [review_id]
            ).fetchone()[0],
        }
        db.execute("DELETE FROM change_log WHERE review_id = ?", [review_id])
        db.execute("DELETE FROM review WHERE id = ?", [review_id])
        changes.record(
            db,
            user_id=by,
            entity="review",
            entity_id=review_id,
            action="delete",
            after={"deleted": True, **counts},
        )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts
