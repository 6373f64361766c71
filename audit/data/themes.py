"""Learning themes: the list a lead keeps per programme, and the tags that carry them.

A theme belongs to a programme, or (for a review imported outside any programme) to that
review alone. Evidence notes (an answer's evidence), findings and conversations with the
practitioner carry tags. A theme that a tag uses is never deleted, only retired.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from audit.data import changes
from audit.data.db import utcnow, write

KINDS = ("evidence", "finding", "conversation")


class ThemeNotFound(LookupError):
    """No theme with that id where it was looked for."""


class ThemeInUse(Exception):
    """The theme carries tags, so it can be retired but not deleted."""


class DuplicateTheme(ValueError):
    """Another theme in the same list already has that name."""


@dataclass(frozen=True)
class Theme:
    """One theme: its owner (a programme, or an imported review), name, description, state."""

    id: str
    programme_id: str | None
    review_id: str | None
    name: str
    description: str
    retired: bool
    created_at: str
    updated_at: str

    def as_bundle(self) -> dict[str, Any]:
        """Return what a review bundle carries of the theme."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "retired": self.retired,
            "created_at": self.created_at,
        }


def _theme(row: Mapping[str, Any]) -> Theme:
    return Theme(
        id=row["id"],
        programme_id=row["programme_id"],
        review_id=row["review_id"],
        name=row["name"],
        description=row["description"],
        retired=bool(row["retired"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _owner_clause(programme_id: str | None, review_id: str | None) -> tuple[str, list[str]]:
    if programme_id is not None:
        return "programme_id = ?", [programme_id]
    if review_id is not None:
        return "review_id = ?", [review_id]
    raise ValueError("a theme belongs to a programme or to a review")


def _check_name(
    db: sqlite_utils.Database,
    name: str,
    programme_id: str | None,
    review_id: str | None,
    except_id: str | None = None,
) -> None:
    where, args = _owner_clause(programme_id, review_id)
    clash = db.execute(
        f"SELECT name FROM theme WHERE {where} AND name = ? COLLATE NOCASE AND id IS NOT ?",
        [*args, name, except_id],
    ).fetchone()
    if clash is not None:
        raise DuplicateTheme(clash["name"])


def create(
    db: sqlite_utils.Database,
    *,
    name: str,
    description: str = "",
    programme_id: str | None = None,
    review_id: str | None = None,
    by: int | None = None,
    theme_id: str | None = None,
) -> str:
    """Add a theme to a programme's list (or an imported review's own); names are unique."""
    now = utcnow()
    row = {
        "id": theme_id or str(uuid.uuid4()),
        "programme_id": programme_id,
        "review_id": None if programme_id is not None else review_id,
        "name": " ".join(name.split()),
        "description": description.strip(),
        "retired": 0,
        "created_by": by,
        "created_at": now,
        "updated_at": now,
    }
    with write(db):
        _check_name(db, row["name"], row["programme_id"], row["review_id"])
        db["theme"].insert(row)
        changes.record(
            db,
            user_id=by,
            entity="theme",
            entity_id=row["id"],
            action="create",
            after={"name": row["name"], "programme_id": programme_id},
            review_id=row["review_id"],
        )
    return row["id"]


def get(db: sqlite_utils.Database, theme_id: str, *, programme_id: str | None = None) -> Theme:
    """Return one theme; with ``programme_id``, only if it is on that programme's list."""
    row = db.execute("SELECT * FROM theme WHERE id = ?", [theme_id]).fetchone()
    if row is None or (programme_id is not None and row["programme_id"] != programme_id):
        raise ThemeNotFound(theme_id)
    return _theme(row)


_ORDER = "theme.retired, theme.name COLLATE NOCASE, theme.id"


def _select(db: sqlite_utils.Database, tail: str, args: Any, order: str = _ORDER) -> list[Theme]:
    return [
        _theme(r)
        for r in db.execute(f"SELECT DISTINCT theme.* FROM theme{tail} ORDER BY {order}", args)
    ]


def for_programme(db: sqlite_utils.Database, programme_id: str) -> list[Theme]:
    """Return a programme's themes, current ones first, each group by name."""
    return _select(db, " WHERE theme.programme_id = ?", [programme_id])


def for_review(db: sqlite_utils.Database, review_id: str) -> list[Theme]:
    """Return the themes a review can see: its programme's list and any it brought itself."""
    return _select(
        db,
        ", review WHERE review.id = ?"
        " AND (theme.programme_id = review.programme_id OR theme.review_id = review.id)",
        [review_id],
    )


def in_bundle(db: sqlite_utils.Database, review_id: str) -> list[Theme]:
    """Return the themes a review's bundle carries: those it can see and those its tags use."""
    return _select(
        db,
        ", review WHERE review.id = :review"
        " AND (theme.programme_id = review.programme_id OR theme.review_id = review.id"
        "   OR theme.id IN (SELECT theme_id FROM evidence_theme JOIN case_audit"
        "       ON case_audit.id = evidence_theme.audit_id WHERE case_audit.review_id = :review"
        "     UNION SELECT theme_id FROM finding_theme JOIN finding"
        "       ON finding.id = finding_theme.finding_id WHERE finding.review_id = :review"
        "     UNION SELECT theme_id FROM conversation_theme JOIN case_audit"
        "       ON case_audit.id = conversation_theme.audit_id"
        "       WHERE case_audit.review_id = :review))",
        {"review": review_id},
        order="theme.name COLLATE NOCASE, theme.id",
    )


def update(
    db: sqlite_utils.Database, theme_id: str, *, name: str, description: str, by: int | None
) -> None:
    """Rename a theme or change its description; its tags keep pointing at it."""
    name = " ".join(name.split())
    with write(db):
        before = get(db, theme_id)
        _check_name(db, name, before.programme_id, before.review_id, except_id=theme_id)
        db.execute(
            "UPDATE theme SET name = ?, description = ?, updated_at = ? WHERE id = ?",
            [name, description.strip(), utcnow(), theme_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="theme",
            entity_id=theme_id,
            action="update",
            before={"name": before.name, "description": before.description},
            after={"name": name, "description": description.strip()},
            review_id=before.review_id,
        )


def set_retired(db: sqlite_utils.Database, theme_id: str, retired: bool, by: int | None) -> None:
    """Retire a theme (no new tags, old ones kept and counted) or bring it back."""
    with write(db):
        before = get(db, theme_id)
        db.execute(
            "UPDATE theme SET retired = ?, updated_at = ? WHERE id = ?",
            [int(retired), utcnow(), theme_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="theme",
            entity_id=theme_id,
            action="update",
            before={"retired": before.retired},
            after={"retired": retired},
            review_id=before.review_id,
        )


def uses(db: sqlite_utils.Database, theme_id: str) -> int:
    """Return how many tags carry the theme (evidence notes, findings and conversations)."""
    return int(
        db.execute(
            "SELECT (SELECT count(*) FROM evidence_theme WHERE theme_id = :t)"
            " + (SELECT count(*) FROM finding_theme WHERE theme_id = :t)"
            " + (SELECT count(*) FROM conversation_theme WHERE theme_id = :t)",
            {"t": theme_id},
        ).fetchone()[0]
    )


def delete(db: sqlite_utils.Database, theme_id: str, by: int | None) -> None:
    """Delete a theme added by mistake; one that any tag uses raises :class:`ThemeInUse`."""
    with write(db):
        before = get(db, theme_id)
        if uses(db, theme_id):
            raise ThemeInUse(before.name)
        db.execute("DELETE FROM theme WHERE id = ?", [theme_id])
        changes.record(
            db,
            user_id=by,
            entity="theme",
            entity_id=theme_id,
            action="delete",
            before={"name": before.name},
            review_id=before.review_id,
        )


# --------------------------------------------------------------------------- tags


def _grouped(db: sqlite_utils.Database, sql: str, args: Any) -> dict[str, set[str]]:
    """Group a two-column query's rows: first column -> set of the second."""
    out: dict[str, set[str]] = {}
    for key, value in db.execute(sql, args):
        out.setdefault(key, set()).add(value)
    return out


def evidence_tags(db: sqlite_utils.Database, audit_id: str) -> dict[str, set[str]]:
    """Return an audit's evidence tags: question id -> theme ids."""
    return _grouped(
        db, "SELECT question_id, theme_id FROM evidence_theme WHERE audit_id = ?", [audit_id]
    )


def evidence_theme_names(db: sqlite_utils.Database, audit_id: str) -> dict[str, list[str]]:
    """Return, per question of an audit, the names of the themes its evidence note carries."""
    out: dict[str, list[str]] = {}
    for question_id, name in db.execute(
        "SELECT evidence_theme.question_id, theme.name FROM evidence_theme"
        " JOIN theme ON theme.id = evidence_theme.theme_id"
        " WHERE evidence_theme.audit_id = ? ORDER BY theme.name COLLATE NOCASE",
        [audit_id],
    ):
        out.setdefault(question_id, []).append(name)
    return out


def finding_tags(db: sqlite_utils.Database, review_id: str) -> dict[str, set[str]]:
    """Return a review's finding tags: finding id -> theme ids."""
    return _grouped(
        db,
        "SELECT finding_theme.finding_id, finding_theme.theme_id FROM finding_theme"
        " JOIN finding ON finding.id = finding_theme.finding_id WHERE finding.review_id = ?",
        [review_id],
    )


def conversation_tags(db: sqlite_utils.Database, audit_id: str) -> set[str]:
    """Return the theme ids the conversation about an audit carries."""
    return {
        row["theme_id"]
        for row in db.execute(
            "SELECT theme_id FROM conversation_theme WHERE audit_id = ?", [audit_id]
        )
    }


def _replace(
    db: sqlite_utils.Database,
    table: str,
    key: Mapping[str, str],
    theme_ids: Iterable[str],
    by: int | None,
    now: str,
) -> tuple[set[str], set[str]]:
    """Make the tags on one thing exactly ``theme_ids``; return (added, removed)."""
    where = " AND ".join(f"{column} = ?" for column in key)
    held = {
        row["theme_id"]
        for row in db.execute(f"SELECT theme_id FROM {table} WHERE {where}", list(key.values()))
    }
    wanted = set(theme_ids)
    for theme_id in held - wanted:
        db.execute(f"DELETE FROM {table} WHERE {where} AND theme_id = ?", [*key.values(), theme_id])
    rows = [
        {**key, "theme_id": theme_id, "tagged_by": by, "tagged_at": now}
        for theme_id in sorted(wanted - held)
    ]
    if rows:
        db[table].insert_all(rows)
    return wanted - held, held - wanted


def _retag(
    db: sqlite_utils.Database,
    review_id: str,
    table: str,
    key: Mapping[str, str],
    theme_ids: Iterable[str],
    by: int | None,
    now: str,
) -> int:
    """Replace one thing's tags and log what changed (inside the caller's transaction)."""
    added, removed = _replace(db, table, key, theme_ids, by, now)
    if added or removed:
        changes.record(
            db,
            user_id=by,
            entity="theme_tag",
            entity_id="/".join([table.removesuffix("_theme"), *key.values()]),
            action="update",
            before={"removed": sorted(removed)},
            after={"added": sorted(added)},
            review_id=review_id,
        )
    return len(added) + len(removed)


def set_evidence_tags(
    db: sqlite_utils.Database,
    review_id: str,
    audit_id: str,
    tags: Mapping[str, Iterable[str]],
    by: int | None,
) -> int:
    """Replace the themes on an audit's evidence notes (question id -> theme ids) at once.

    Questions not in ``tags`` lose their tags. Returns how many tags changed.
    """
    now = utcnow()
    with write(db):
        held = evidence_tags(db, audit_id)
        return sum(
            _retag(
                db,
                review_id,
                "evidence_theme",
                {"audit_id": audit_id, "question_id": question_id},
                tags.get(question_id, ()),
                by,
                now,
            )
            for question_id in sorted(set(held) | set(tags))
        )


def set_finding_tags(
    db: sqlite_utils.Database,
    review_id: str,
    finding_id: str,
    theme_ids: Iterable[str],
    by: int | None,
) -> int:
    """Replace a finding's themes; return how many tags changed."""
    with write(db):
        return _retag(
            db, review_id, "finding_theme", {"finding_id": finding_id}, theme_ids, by, utcnow()
        )


def set_conversation_tags(
    db: sqlite_utils.Database,
    review_id: str,
    audit_id: str,
    theme_ids: Iterable[str],
    by: int | None,
) -> int:
    """Replace the themes of the conversation about an audit; return how many tags changed."""
    with write(db):
        return _retag(
            db, review_id, "conversation_theme", {"audit_id": audit_id}, theme_ids, by, utcnow()
        )


def review_tags(db: sqlite_utils.Database, review_id: str) -> list[dict[str, Any]]:
    """Return every tag in a review, as bundles and exports write them, in a stable order."""
    rows = db.execute(
        "SELECT 'evidence' AS kind, evidence_theme.theme_id, evidence_theme.audit_id,"
        " evidence_theme.question_id, NULL AS finding_id, evidence_theme.tagged_by,"
        " evidence_theme.tagged_at FROM evidence_theme JOIN case_audit"
        " ON case_audit.id = evidence_theme.audit_id WHERE case_audit.review_id = :review"
        " UNION ALL SELECT 'finding', finding_theme.theme_id, NULL, NULL,"
        " finding_theme.finding_id, finding_theme.tagged_by, finding_theme.tagged_at"
        " FROM finding_theme JOIN finding ON finding.id = finding_theme.finding_id"
        " WHERE finding.review_id = :review"
        " UNION ALL SELECT 'conversation', conversation_theme.theme_id,"
        " conversation_theme.audit_id, NULL, NULL, conversation_theme.tagged_by,"
        " conversation_theme.tagged_at FROM conversation_theme JOIN case_audit"
        " ON case_audit.id = conversation_theme.audit_id WHERE case_audit.review_id = :review"
        " ORDER BY 1, 3, 4, 5, 2",
        {"review": review_id},
    )
    return [dict(row) for row in rows]


def existing_themes(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, Theme]:
    """Return the themes here among ``ids``."""
    wanted = list(ids)
    if not wanted:
        return {}
    marks = ", ".join("?" for _ in wanted)
    return {
        row["id"]: _theme(row)
        for row in db.execute(f"SELECT * FROM theme WHERE id IN ({marks})", wanted)
    }


def present(db: sqlite_utils.Database, table: str, column: str, ids: Iterable[str]) -> set[str]:
    """Return which of ``ids`` exist as ``column`` of ``table`` (answers, findings, talks)."""
    allowed = {("finding", "id"), ("conversation", "audit_id"), ("case_audit", "id")}
    if (table, column) not in allowed:
        raise ValueError(f"{table}.{column}")
    wanted = sorted(set(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        found |= {
            row[0]
            for row in db.execute(
                f"SELECT {column} FROM {table} WHERE {column} IN ({marks})", chunk
            )
        }
    return found


def answers_present(
    db: sqlite_utils.Database, keys: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Return which (audit id, question id) answers exist here."""
    audit_ids = sorted({audit_id for audit_id, _q in keys})
    found: set[tuple[str, str]] = set()
    for start in range(0, len(audit_ids), 500):
        chunk = audit_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        found |= {
            (row[0], row[1])
            for row in db.execute(
                f"SELECT audit_id, question_id FROM answer WHERE audit_id IN ({marks})", chunk
            )
        }
    return found


def tag_key(tag: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    """Return what identifies a tag: its kind, theme and the thing it is on."""
    return (
        tag["kind"],
        tag["theme_id"],
        tag.get("audit_id") or "",
        tag.get("question_id") or "",
        tag.get("finding_id") or "",
    )


# --------------------------------------------------------------------------- the theme page


def programme_role(db: sqlite_utils.Database, programme_id: str, user_id: int) -> str | None:
    """Return the user's strongest role in any review of the programme (lead over reviewer)."""
    row = db.execute(
        "SELECT min(review_member.role) FROM review_member JOIN review"
        " ON review.id = review_member.review_id"
        " WHERE review.programme_id = ? AND review_member.user_id = ?",
        [programme_id, user_id],
    ).fetchone()
    return row[0] if row else None


def counts(db: sqlite_utils.Database, programme_id: str) -> list[dict[str, Any]]:
    """Count, per theme and review of the programme, audits and findings carrying it.

    Audits: submitted first audits (as the findings count them) with at least one tagged
    evidence note or a tagged conversation. Findings: accepted findings carrying the theme.
    """
    return [
        dict(row)
        for row in db.execute(
            """
            WITH audited AS (
                SELECT evidence_theme.theme_id, evidence_theme.audit_id FROM evidence_theme
                UNION SELECT conversation_theme.theme_id, conversation_theme.audit_id
                FROM conversation_theme
            )
            SELECT theme.id AS theme_id, review.id AS review_id,
                (SELECT count(DISTINCT audited.audit_id) FROM audited
                 JOIN case_audit ON case_audit.id = audited.audit_id
                 WHERE audited.theme_id = theme.id AND case_audit.review_id = review.id
                   AND case_audit.purpose = 'first' AND case_audit.status = 'submitted')
                    AS audits,
                (SELECT count(*) FROM finding_theme JOIN finding
                   ON finding.id = finding_theme.finding_id
                 WHERE finding_theme.theme_id = theme.id AND finding.review_id = review.id
                   AND finding.status = 'accepted') AS findings
            FROM theme, review
            WHERE theme.programme_id = :programme AND review.programme_id = :programme
            """,
            {"programme": programme_id},
        )
    ]


def submitted_audits(db: sqlite_utils.Database, programme_id: str) -> dict[str, int]:
    """Return each programme review's number of submitted first audits (the denominators)."""
    return {
        row["id"]: row["n"]
        for row in db.execute(
            "SELECT review.id, count(case_audit.id) AS n FROM review LEFT JOIN case_audit"
            " ON case_audit.review_id = review.id AND case_audit.purpose = 'first'"
            " AND case_audit.status = 'submitted' WHERE review.programme_id = ?"
            " GROUP BY review.id",
            [programme_id],
        )
    }


def themed_questions(db: sqlite_utils.Database, programme_id: str) -> dict[str, set[str]]:
    """Return, per theme of the programme, the questions whose evidence notes carry it."""
    return _grouped(
        db,
        "SELECT DISTINCT evidence_theme.theme_id, evidence_theme.question_id"
        " FROM evidence_theme JOIN theme ON theme.id = evidence_theme.theme_id"
        " JOIN case_audit ON case_audit.id = evidence_theme.audit_id"
        " JOIN review ON review.id = case_audit.review_id"
        " WHERE theme.programme_id = :p AND review.programme_id = :p",
        {"p": programme_id},
    )


def programme_finding_tags(db: sqlite_utils.Database, programme_id: str) -> dict[str, set[str]]:
    """Return, per theme of the programme, the ids of findings carrying it."""
    return _grouped(
        db,
        "SELECT finding_theme.theme_id, finding_theme.finding_id FROM finding_theme"
        " JOIN theme ON theme.id = finding_theme.theme_id WHERE theme.programme_id = ?",
        [programme_id],
    )
