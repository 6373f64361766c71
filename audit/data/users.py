"""User accounts: create, find, deactivate, reset passwords, sign-on links, one-time codes."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from audit.data import changes, sessions
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
    """A user with that username (or email) already exists."""


class AccountDeactivated(Exception):
    """The account signing on through the identity provider has been deactivated."""


# A password hash no password matches: accounts made by single sign-on have no password.
NO_PASSWORD = "!sso"

# Settings an admin changes on the security page, with their defaults.
AUTH_SETTINGS = {"mfa_required_for_admins_and_leads": "0"}


@dataclass(frozen=True)
class User:
    """A signed-in person and the role the policy module decides on."""

    id: int
    username: str
    display_name: str
    role: str  # "" while a single sign-on account waits for an admin to give it a role
    active: bool
    email: str | None = None
    has_password: bool = True
    totp_enabled: bool = False
    agency_id: str | None = None  # the agency the person belongs to (multi-agency audits)

    @property
    def is_admin(self) -> bool:
        """Admins see and manage everything."""
        return self.role == "admin"

    @property
    def awaiting_role(self) -> bool:
        """Whether an admin still has to give this account a role before it can do anything."""
        return self.role == ""


def _user(row: sqlite_utils.db.Row | dict | None) -> User | None:  # type: ignore[name-defined]
    if row is None:
        return None
    return User(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role="" if row["awaiting_role"] else row["role"],
        active=bool(row["active"]),
        email=row["email"],
        has_password=row["password_hash"] != NO_PASSWORD,
        totp_enabled=row["totp_secret"] is not None,
        # Read only where the column exists: tests build databases of earlier migrations.
        agency_id=row["agency_id"] if "agency_id" in row.keys() else None,  # noqa: SIM118
    )


def _log(
    db: sqlite_utils.Database,
    by: int | None,
    user_id: int,
    after: dict,
    before: dict | None = None,
) -> None:
    """Record a change to a user account in the change log (inside the caller's write)."""
    changes.record(
        db,
        user_id=by,
        entity="user",
        entity_id=user_id,
        action="update",
        before=before,
        after=after,
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
    email: str | None = None,
) -> User:
    """Add a user; raise :class:`UserExists` if the username or email is taken."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    now = utcnow()
    email = (email or "").strip() or None
    with write(db):
        if db.execute("SELECT 1 FROM user WHERE username = ?", [username]).fetchone():
            raise UserExists(username)
        if email and by_email(db, email) is not None:
            raise UserExists(email)
        cursor = db.execute(
            "INSERT INTO user (username, display_name, role, password_hash, active,"
            " created_at, updated_at, email) VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
            [username, display_name or username, role, hash_password(password), now, now, email],
        )
        user_id = cursor.lastrowid
        changes.record(
            db,
            user_id=by,
            entity="user",
            entity_id=user_id,
            action="create",
            after={
                "username": username,
                "display_name": display_name or username,
                "role": role,
                "email": email,
            },
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


def by_email(db: sqlite_utils.Database, email: str) -> User | None:
    """Return the user with this email (case-insensitive), or None."""
    return _user(
        db.execute("SELECT * FROM user WHERE email = ? COLLATE NOCASE", [email]).fetchone()
    )


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
    if row["password_hash"] == NO_PASSWORD:
        # A single sign-on account has no password: take as long as a wrong one would.
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(row["password_hash"], password) or not row["active"]:
        return None
    return _user(row)


def set_active(db: sqlite_utils.Database, user_id: int, active: bool, by: int | None) -> None:
    """Activate or deactivate an account; deactivating ends all its sessions at once."""
    with write(db):
        before = db.execute("SELECT active FROM user WHERE id = ?", [user_id]).fetchone()
        if before is None:
            raise LookupError(user_id)
        db.execute(
            "UPDATE user SET active = ?, updated_at = ? WHERE id = ?",
            [int(active), utcnow(), user_id],
        )
        _log(db, by, user_id, {"active": active}, before={"active": bool(before["active"])})
        if not active:
            sessions.end_all(db, user_id)


def set_password(
    db: sqlite_utils.Database,
    user_id: int,
    password: str,
    by: int | None,
    keep_session: str | None = None,
) -> None:
    """Replace a user's password and end their sessions (but ``keep_session``, their own).

    The change log records that it changed, never the value.
    """
    with write(db):
        cursor = db.execute(
            "UPDATE user SET password_hash = ?, updated_at = ? WHERE id = ?",
            [hash_password(password), utcnow(), user_id],
        )
        if cursor.rowcount == 0:
            raise LookupError(user_id)
        _log(db, by, user_id, {"password": "reset"})
        sessions.end_all(db, user_id, keep_token=keep_session)


def set_role(db: sqlite_utils.Database, user_id: int, role: str, by: int | None) -> None:
    """Give a user a role (a single sign-on account waiting for access gets its first)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    with write(db):
        before = db.execute(
            "SELECT role, awaiting_role FROM user WHERE id = ?", [user_id]
        ).fetchone()
        if before is None:
            raise LookupError(user_id)
        db.execute(
            "UPDATE user SET role = ?, awaiting_role = 0, updated_at = ? WHERE id = ?",
            [role, utcnow(), user_id],
        )
        _log(
            db,
            by,
            user_id,
            {"role": role},
            before={"role": "" if before["awaiting_role"] else before["role"]},
        )


def sign_on(
    db: sqlite_utils.Database, *, issuer: str, subject: str, email: str, name: str
) -> tuple[User, bool]:
    """Return the user an identity provider vouched for, and whether they were just created.

    The provider's (issuer, subject) pair is the lasting link; the first time, a user with
    the same (verified) email is linked, or a new account is made with no role and no
    password. A deactivated account raises :class:`AccountDeactivated`.
    """
    now = utcnow()
    created = False
    with write(db):
        link = db.execute(
            "SELECT user_id FROM user_identity WHERE issuer = ? AND subject = ?",
            [issuer, subject],
        ).fetchone()
        if link is not None:
            user_id = link["user_id"]
        else:
            match = db.execute(
                "SELECT id FROM user WHERE email = ? COLLATE NOCASE"
                " OR (email IS NULL AND username = ?) ORDER BY email IS NULL LIMIT 1",
                [email, email],
            ).fetchone()
            if match is not None:
                user_id = match["id"]
                db.execute(
                    "UPDATE user SET email = coalesce(email, ?), updated_at = ? WHERE id = ?",
                    [email, now, user_id],
                )
            else:
                # A local user may already have the email as a username (with another email).
                username, n = email, 1
                while db.execute("SELECT 1 FROM user WHERE username = ?", [username]).fetchone():
                    n += 1
                    username = f"{email}-{n}"
                cursor = db.execute(
                    "INSERT INTO user (username, display_name, role, password_hash, active,"
                    " created_at, updated_at, email, awaiting_role)"
                    " VALUES (?, ?, 'reviewer', ?, 1, ?, ?, ?, 1)",
                    [username, name or email, NO_PASSWORD, now, now, email],
                )
                user_id = cursor.lastrowid
                created = True
                changes.record(
                    db,
                    user_id=None,
                    entity="user",
                    entity_id=user_id,
                    action="create",
                    after={"username": username, "display_name": name or email, "role": ""},
                )
            db.execute(
                "INSERT INTO user_identity (issuer, subject, user_id, email, linked_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [issuer, subject, user_id, email, now],
            )
    user = get(db, user_id)
    assert user is not None
    if not user.active:
        raise AccountDeactivated(user.username)
    return user, created


# --- one-time codes ------------------------------------------------------------------------


def totp_secret(db: sqlite_utils.Database, user_id: int) -> str | None:
    """Return the user's one-time-code secret, or None if they have not turned codes on."""
    row = db.execute("SELECT totp_secret FROM user WHERE id = ?", [user_id]).fetchone()
    return None if row is None else row["totp_secret"]


def enable_totp(
    db: sqlite_utils.Database, user_id: int, secret: str, step: int, recovery_hashes: list[str]
) -> None:
    """Turn one-time codes on with a confirmed secret and a fresh set of recovery codes."""
    with write(db):
        db.execute(
            "UPDATE user SET totp_secret = ?, totp_last_step = ?, updated_at = ? WHERE id = ?",
            [secret, step, utcnow(), user_id],
        )
        db.execute("DELETE FROM recovery_code WHERE user_id = ?", [user_id])
        db.conn.executemany(
            "INSERT INTO recovery_code (user_id, code_hash) VALUES (?, ?)",
            [(user_id, code_hash) for code_hash in recovery_hashes],
        )
        _log(db, user_id, user_id, {"one_time_codes": "on"})


def disable_totp(db: sqlite_utils.Database, user_id: int, by: int | None) -> None:
    """Turn one-time codes off and forget the secret and recovery codes."""
    with write(db):
        db.execute(
            "UPDATE user SET totp_secret = NULL, totp_last_step = 0, updated_at = ? WHERE id = ?",
            [utcnow(), user_id],
        )
        db.execute("DELETE FROM recovery_code WHERE user_id = ?", [user_id])
        _log(db, by, user_id, {"one_time_codes": "off"})


def use_totp_step(db: sqlite_utils.Database, user_id: int, step: int) -> bool:
    """Accept a code's time step once only; return False for a step already used (a replay)."""
    with write(db):
        cursor = db.execute(
            "UPDATE user SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
            [step, user_id, step],
        )
    return cursor.rowcount > 0


def use_recovery_code(db: sqlite_utils.Database, user_id: int, code_hash: str) -> bool:
    """Spend an unused recovery code; return whether it was one."""
    with write(db):
        cursor = db.execute(
            "UPDATE recovery_code SET used_at = ? WHERE user_id = ? AND code_hash = ?"
            " AND used_at IS NULL",
            [utcnow(), user_id, code_hash],
        )
    return cursor.rowcount > 0


def recovery_codes_left(db: sqlite_utils.Database, user_id: int) -> int:
    """Return how many unused recovery codes the user has."""
    return db.execute(
        "SELECT count(*) FROM recovery_code WHERE user_id = ? AND used_at IS NULL", [user_id]
    ).fetchone()[0]


# --- settings ------------------------------------------------------------------------------


def auth_setting(db: sqlite_utils.Database, name: str) -> str:
    """Return an admin's sign-in setting (or its default)."""
    row = db.execute("SELECT value FROM auth_setting WHERE name = ?", [name]).fetchone()
    return AUTH_SETTINGS[name] if row is None else row["value"]


def set_auth_setting(db: sqlite_utils.Database, name: str, value: str, by: int | None) -> None:
    """Change a sign-in setting, recording who changed it."""
    if name not in AUTH_SETTINGS:
        raise KeyError(name)
    with write(db):
        before = auth_setting(db, name)
        db.execute(
            "INSERT INTO auth_setting (name, value, updated_by, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value,"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            [name, value, by, utcnow()],
        )
        changes.record(
            db,
            user_id=by,
            entity="auth_setting",
            entity_id=name,
            action="update",
            before={name: before},
            after={name: value},
        )
