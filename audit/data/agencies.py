"""The installation's agencies, and which agency each person belongs to.

An agency's id is what a multi-agency rubric names (``agencies: [police]``), so it never
changes once made; its name can. An agency is retired rather than deleted, because audits,
children's references and actions point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from audit.data import changes
from audit.data.db import utcnow, write

NAME_MAX = 80
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")


class AgencyNotFound(LookupError):
    """No agency with that id."""


class DuplicateAgency(ValueError):
    """An agency with that name (or id) is already on the list."""


@dataclass(frozen=True)
class Agency:
    """One agency on the installation's list."""

    id: str
    name: str
    retired: bool
    position: int


def _agency(row: Any) -> Agency:
    return Agency(row["id"], row["name"], bool(row["retired"]), row["position"])


def all_agencies(db: sqlite_utils.Database, *, include_retired: bool = True) -> list[Agency]:
    """Return the list in its order (current ones first when retired ones are included)."""
    where = "" if include_retired else " WHERE retired = 0"
    return [
        _agency(r)
        for r in db.execute(f"SELECT * FROM agency{where} ORDER BY retired, position, name")
    ]


def names(db: sqlite_utils.Database) -> dict[str, str]:
    """Return every agency's name by id, retired ones included (records still name them)."""
    return {r["id"]: r["name"] for r in db.execute("SELECT id, name FROM agency")}


def get(db: sqlite_utils.Database, agency_id: str) -> Agency:
    """Return one agency or raise :class:`AgencyNotFound`."""
    row = db.execute("SELECT * FROM agency WHERE id = ?", [agency_id]).fetchone()
    if row is None:
        raise AgencyNotFound(agency_id)
    return _agency(row)


def clean_name(name: str) -> str:
    """Collapse spaces, so "Ambulance  service" and "Ambulance service" are one name."""
    return " ".join(name.split())


def id_for(name: str) -> str:
    """Return the id a new agency gets from its name: "Ambulance service" -> ambulance_service."""
    slug = re.sub(r"[^a-z0-9]+", "_", clean_name(name).casefold()).strip("_")
    return slug[:40].strip("_") or "agency"


def add(
    db: sqlite_utils.Database, name: str, *, by: int | None, agency_id: str | None = None
) -> Agency:
    """Add an agency at the end of the list; its id is made from the name unless given."""
    name = clean_name(name)
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"an agency's name must be 1 to {NAME_MAX} characters")
    new_id = agency_id or id_for(name)
    if not _ID.fullmatch(new_id):
        raise ValueError(f'"{new_id}" is not an agency id')
    with write(db):
        taken = db.execute(
            "SELECT id, name FROM agency WHERE id = ? OR name = ? COLLATE NOCASE", [new_id, name]
        ).fetchone()
        if taken is not None:
            raise DuplicateAgency(taken["name"])
        position = db.execute("SELECT coalesce(max(position), -1) + 1 FROM agency").fetchone()[0]
        db.execute(
            "INSERT INTO agency (id, name, position, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [new_id, name, position, by, utcnow()],
        )
        changes.record(
            db, user_id=by, entity="agency", entity_id=new_id, action="create", after={"name": name}
        )
    return get(db, new_id)


def rename(db: sqlite_utils.Database, agency_id: str, name: str, *, by: int | None) -> None:
    """Change an agency's name (its id, which rubrics use, stays)."""
    name = clean_name(name)
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"an agency's name must be 1 to {NAME_MAX} characters")
    with write(db):
        before = get(db, agency_id)
        if before.name == name:
            return
        taken = db.execute(
            "SELECT name FROM agency WHERE name = ? COLLATE NOCASE AND id != ?", [name, agency_id]
        ).fetchone()
        if taken is not None:
            raise DuplicateAgency(taken["name"])
        db.execute("UPDATE agency SET name = ? WHERE id = ?", [name, agency_id])
        changes.record(
            db,
            user_id=by,
            entity="agency",
            entity_id=agency_id,
            action="update",
            before={"name": before.name},
            after={"name": name},
        )


def set_retired(
    db: sqlite_utils.Database, agency_id: str, retired: bool, *, by: int | None
) -> None:
    """Retire an agency (no longer offered for new children or people) or bring it back."""
    with write(db):
        before = get(db, agency_id)
        if before.retired == retired:
            return
        db.execute("UPDATE agency SET retired = ? WHERE id = ?", [int(retired), agency_id])
        changes.record(
            db,
            user_id=by,
            entity="agency",
            entity_id=agency_id,
            action="update",
            before={"retired": before.retired},
            after={"retired": retired},
        )


def user_agency(db: sqlite_utils.Database, user_id: int) -> str | None:
    """Return the id of the agency a person belongs to, or None."""
    row = db.execute("SELECT agency_id FROM user WHERE id = ?", [user_id]).fetchone()
    return None if row is None else row["agency_id"]


def set_user_agency(
    db: sqlite_utils.Database, user_id: int, agency_id: str | None, *, by: int | None
) -> None:
    """Say which agency a person belongs to (one at most), or that they belong to none."""
    with write(db):
        if agency_id is not None:
            get(db, agency_id)
        before = user_agency(db, user_id)
        if before == agency_id:
            return
        db.execute("UPDATE user SET agency_id = ? WHERE id = ?", [agency_id, user_id])
        changes.record(
            db,
            user_id=by,
            entity="user",
            entity_id=user_id,
            action="update",
            before={"agency_id": before},
            after={"agency_id": agency_id},
        )


def people(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Return every person with their agency (or none), by name."""
    return [
        dict(r)
        for r in db.execute(
            "SELECT user.id, user.username, user.display_name, user.role, user.active,"
            " user.agency_id, agency.name AS agency_name FROM user"
            " LEFT JOIN agency ON agency.id = user.agency_id"
            " WHERE user.awaiting_role = 0 ORDER BY user.display_name COLLATE NOCASE"
        )
    ]


def in_use(db: sqlite_utils.Database, agency_id: str) -> int:
    """Return how many people, children and audits name the agency (it is then never deleted)."""
    return sum(
        db.execute(f"SELECT count(*) FROM {table} WHERE agency_id = ?", [agency_id]).fetchone()[0]
        for table in ("user", "case_agency", "agency_audit")
    )
