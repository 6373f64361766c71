"""User accounts: create, find, deactivate, reset passwords."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from audit.data import changes
from audit.data.db import utcnow, write

ROLES = ("admin", "lead", "reviewer")


@functools.cache
def _dummy_hash() -> str:
    """Return a hash to check against when the username is unknown.

    A sign-in for a user who does not exist then costs the same time as one with a wrong
    password. Made on first use, not at import, so commands start quickly.
    """
    return generate_password_hash("not-a-real-password-for-timing", method="scrypt")


class UserExists(Exception):
    """A user with that username already exists."""


@dataclass(frozen=True)
class User:
    """A signed-in person and the role the policy module decides on."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool

    @property
    def is_admin(self) -> bool:
        """Admins see and manage everything."""
        return self.role == "admin"


def _user(row: sqlite_utils.db.Row | dict | None) -> User | None:  # type: ignore[name-defined]
    if row is None:
        return None
    return User(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        active=bool(row["active"]),
    )


def hash_password(password: str) -> str:
    """Hash with scrypt, Werkzeug's modern default KDF."""
    return generate_password_hash(password, method="scrypt")


def create(
    db: sqlite_utils.Database,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    by: int | None = None,
) -> User:
    """Add a user; raise :class:`UserExists` if the username is taken."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    now = utcnow()
    with write(db):
        if db.execute("SELECT 1 FROM user WHERE username = ?", [username]).fetchone():
            raise UserExists(username)
        cursor = db.execute(
            "INSERT INTO user (username, display_name, role, password_hash, active,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
            [username, display_name or username, role, hash_password(password), now, now],
        )
        user_id = cursor.lastrowid
        changes.record(
            db,
            user_id=by,
            entity="user",
            entity_id=user_id,
            action="create",
            after={"username": username, "display_name": display_name or username, "role": role},
        )
    found = get(db, user_id)
    assert found is not None
    return found


def get(db: sqlite_utils.Database, user_id: int) -> User | None:
    """Return the user with this id, or None."""
    return _user(db.execute("SELECT * FROM user WHERE id = ?", [user_id]).fetchone())


def by_username(db: sqlite_utils.Database, username: str) -> User | None:
    """Return the user with this username (case-insensitive), or None."""
    return _user(db.execute("SELECT * FROM user WHERE username = ?", [username]).fetchone())


def all_users(db: sqlite_utils.Database) -> list[User]:
    """Return every user, active first, then by name."""
    rows = db.execute("SELECT * FROM user ORDER BY active DESC, display_name COLLATE NOCASE")
    return [u for u in map(_user, rows.fetchall()) if u is not None]


def count(db: sqlite_utils.Database) -> int:
    """Return how many users exist."""
    return db.execute("SELECT count(*) FROM user").fetchone()[0]


def authenticate(db: sqlite_utils.Database, username: str, password: str) -> User | None:
    """Return the active user whose password matches, else None, without saying which failed."""
    row = db.execute("SELECT * FROM user WHERE username = ?", [username]).fetchone()
    if row is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(row["password_hash"], password) or not row["active"]:
        return None
    return _user(row)


def set_active(db: sqlite_utils.Database, user_id: int, active: bool, by: int | None) -> None:
    """Activate or deactivate an account (visiting reviewers leave after the visit)."""
    with write(db):
        before = db.execute("SELECT active FROM user WHERE id = ?", [user_id]).fetchone()
        if before is None:
            raise LookupError(user_id)
        db.execute(
            "UPDATE user SET active = ?, updated_at = ? WHERE id = ?",
            [int(active), utcnow(), user_id],
        )
        changes.record(
            db,
            user_id=by,
            entity="user",
            entity_id=user_id,
            action="update",
            before={"active": bool(before["active"])},
            after={"active": active},
        )


def set_password(db: sqlite_utils.Database, user_id: int, password: str, by: int | None) -> None:
    """Replace a user's password (the change log records that it changed, never the value)."""
    with write(db):
        cursor = db.execute(
            "UPDATE user SET password_hash = ?, updated_at = ? WHERE id = ?",
            [hash_password(password), utcnow(), user_id],
        )
        if cursor.rowcount == 0:
            raise LookupError(user_id)
        changes.record(
            db,
            user_id=by,
            entity="user",
            entity_id=user_id,
            action="update",
            after={"password": "reset"},
        )
