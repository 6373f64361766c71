"""Curated findings: suggestions stored for the lead to accept, reword, reorder or merge."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from audit.data import changes
from audit.data.db import utcnow, write

KINDS = ("strength", "development")


class FindingNotFound(LookupError):
    """No finding with that id in this review."""


@dataclass(frozen=True)
class Finding:
    """A strength or area for development as the lead curated it."""

    id: str
    review_id: str
    kind: str
    status: str
    origin: str
    text: str
    position: int
    question_ids: tuple[str, ...]
    evidence: Mapping[str, Any]
    flagged: bool
    merged_into: str | None
    updated_at: str
    version: int

    @property
    def key(self) -> str:
        """The suggestion this finding came from (empty for the lead's own)."""
        return str(self.evidence.get("key", ""))


def _finding(row: Mapping[str, Any]) -> Finding:
    return Finding(
        id=row["id"],
        review_id=row["review_id"],
        kind=row["kind"],
        status=row["status"],
        origin=row["origin"],
        text=row["text"],
        position=row["position"],
        question_ids=tuple(json.loads(row["question_ids"])),
        evidence=json.loads(row["evidence"]),
        flagged=bool(row["flagged"]),
        merged_into=row["merged_into"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def for_review(db: sqlite_utils.Database, review_id: str) -> list[Finding]:
    """Return every finding of the review in the lead's order."""
    rows = db.execute(
        "SELECT * FROM finding WHERE review_id = ? ORDER BY kind = 'development', position,"
        " created_at",
        [review_id],
    )
    return [_finding(r) for r in rows]


def get(db: sqlite_utils.Database, review_id: str, finding_id: str) -> Finding:
    """Return one finding of this review."""
    row = db.execute(
        "SELECT * FROM finding WHERE id = ? AND review_id = ?", [finding_id, review_id]
    ).fetchone()
    if row is None:
        raise FindingNotFound(finding_id)
    return _finding(row)


def _next_position(db: sqlite_utils.Database, review_id: str, kind: str) -> int:
    return db.execute(
        "SELECT coalesce(max(position), 0) + 1 FROM finding WHERE review_id = ? AND kind = ?",
        [review_id, kind],
    ).fetchone()[0]


def _insert(db: sqlite_utils.Database, review_id: str, by: int | None, **values: Any) -> str:
    now = utcnow()
    finding_id = str(uuid.uuid4())
    row = {
        "id": finding_id,
        "review_id": review_id,
        "created_by": by,
        "created_at": now,
        "updated_at": now,
        "position": _next_position(db, review_id, values["kind"]),
        **values,
    }
    row["question_ids"] = json.dumps(list(row.get("question_ids", [])))
    row["evidence"] = json.dumps(dict(row.get("evidence", {})), sort_keys=True)
    db["finding"].insert(row)
    changes.record(
        db,
        user_id=by,
        entity="finding",
        entity_id=finding_id,
        action="create",
        after={k: row[k] for k in ("kind", "status", "origin", "text")},
        review_id=review_id,
    )
    return finding_id


def add_from_suggestion(
    db: sqlite_utils.Database,
    review_id: str,
    suggestion: Any,
    *,
    status: str,
    text: str,
    by: int | None,
) -> str:
    """Store a suggestion the lead accepted (perhaps reworded) or rejected, with its numbers."""
    if status not in {"accepted", "rejected"}:
        raise ValueError(status)
    with write(db):
        existing = [f for f in for_review(db, review_id) if f.key == suggestion.key]
        if existing:
            return existing[0].id
        return _insert(
            db,
            review_id,
            by,
            kind=suggestion.kind,
            status=status,
            origin="audits",
            text=text.strip() or suggestion.text,
            question_ids=suggestion.question_ids,
            evidence=suggestion.evidence(),
        )


def set_status(
    db: sqlite_utils.Database, review_id: str, finding_id: str, status: str, by: int | None
) -> None:
    """Accept or reject a finding (or put it back to suggested)."""
    if status not in {"suggested", "accepted", "rejected"}:
        raise ValueError(status)
    _update(db, review_id, finding_id, by, status=status)


def reword(
    db: sqlite_utils.Database, review_id: str, finding_id: str, text: str, by: int | None
) -> None:
    """Replace a finding's wording (the lead's words are what the report prints)."""
    _update(db, review_id, finding_id, by, text=text.strip())


def refresh_evidence(
    db: sqlite_utils.Database,
    review_id: str,
    finding_id: str,
    evidence: Mapping[str, Any],
    by: int | None,
) -> None:
    """Take the current numbers as the finding's evidence and clear its flag."""
    _update(
        db,
        review_id,
        finding_id,
        by,
        evidence=json.dumps(dict(evidence), sort_keys=True),
        flagged=0,
    )


def _update(
    db: sqlite_utils.Database, review_id: str, finding_id: str, by: int | None, **values: Any
) -> None:
    with write(db):
        before = get(db, review_id, finding_id)
        assignments = ", ".join(f"{column} = ?" for column in values)
        db.execute(
            f"UPDATE finding SET {assignments}, updated_at = ?, version = version + 1 WHERE id = ?",
            [*values.values(), utcnow(), finding_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="finding",
            entity_id=finding_id,
            action="update",
            before={k: getattr(before, k, None) for k in values if k != "evidence"},
            after={k: v for k, v in values.items() if k != "evidence"},
            review_id=review_id,
        )


def move(
    db: sqlite_utils.Database, review_id: str, finding_id: str, direction: int, by: int | None
) -> None:
    """Move a finding up (-1) or down (+1) among the accepted findings of its kind."""
    with write(db):
        target = get(db, review_id, finding_id)
        siblings = [
            f
            for f in for_review(db, review_id)
            if f.kind == target.kind and f.status == target.status
        ]
        index = next(i for i, f in enumerate(siblings) if f.id == finding_id)
        other = index + direction
        if not 0 <= other < len(siblings):
            return
        siblings[index], siblings[other] = siblings[other], siblings[index]
        for position, finding in enumerate(siblings, start=1):
            db.execute("UPDATE finding SET position = ? WHERE id = ?", [position, finding.id])
        changes.record(
            db,
            user_id=by,
            entity="finding",
            entity_id=finding_id,
            action="update",
            after={"moved": "up" if direction < 0 else "down"},
            review_id=review_id,
        )


def add_own(
    db: sqlite_utils.Database,
    review_id: str,
    *,
    kind: str,
    text: str,
    question_ids: Sequence[str] = (),
    evidence: Mapping[str, Any] | None = None,
    by: int | None = None,
) -> str:
    """Add the lead's own finding: linked to questions, or from interviews and focus groups."""
    if kind not in KINDS:
        raise ValueError(kind)
    with write(db):
        return _insert(
            db,
            review_id,
            by,
            kind=kind,
            status="accepted",
            origin="audits" if question_ids else "other",
            text=text.strip(),
            question_ids=list(question_ids),
            evidence=dict(evidence or {}),
        )


def merge(
    db: sqlite_utils.Database,
    review_id: str,
    finding_ids: Sequence[str],
    text: str,
    evidence: Mapping[str, Any],
    by: int | None,
) -> str:
    """Merge several findings of one kind into one; the originals are kept, marked merged."""
    with write(db):
        parts = [get(db, review_id, fid) for fid in finding_ids]
        kinds = {p.kind for p in parts}
        if len(parts) < 2 or len(kinds) != 1:
            raise ValueError("choose two or more findings of the same kind to merge")
        question_ids = sorted({q for p in parts for q in p.question_ids})
        merged_id = _insert(
            db,
            review_id,
            by,
            kind=parts[0].kind,
            status="accepted",
            origin="audits" if question_ids else "other",
            text=text.strip(),
            question_ids=question_ids,
            evidence=dict(evidence),
        )
        for part in parts:
            db.execute(
                "UPDATE finding SET status = 'merged', merged_into = ?, updated_at = ?"
                " WHERE id = ?",
                [merged_id, utcnow(), part.id],
            )
            changes.record(
                db,
                user_id=by,
                entity="finding",
                entity_id=part.id,
                action="update",
                before={"status": part.status},
                after={"status": "merged", "merged_into": merged_id},
                review_id=review_id,
            )
    return merged_id


def set_executive_summary(
    db: sqlite_utils.Database, review_id: str, text: str, by: int | None
) -> None:
    """Store the lead's executive summary for the report."""
    with write(db):
        before = db.execute(
            "SELECT executive_summary FROM review WHERE id = ?", [review_id]
        ).fetchone()[0]
        db.execute(
            "UPDATE review SET executive_summary = ?, updated_at = ?, version = version + 1"
            " WHERE id = ?",
            [text.strip(), utcnow(), review_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="review",
            entity_id=review_id,
            action="update",
            before={"executive_summary": before},
            after={"executive_summary": text.strip()},
            review_id=review_id,
        )
