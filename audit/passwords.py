"""Password rules: long enough, and not one of the passwords people most often choose."""

from __future__ import annotations

import functools

from audit.paths import PACKAGE_DIR

COMMON_FILE = PACKAGE_DIR / "resources" / "common-passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords (lower case)."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and line[0] != "#")


def problem(password: str, min_length: int) -> str | None:
    """Return why a new password is refused, in words for the person choosing it, or None."""
    if len(password) < min_length:
        return f"Password must be at least {min_length} characters"
    folded = password.strip().lower()
    if folded in common_passwords() or len(set(folded)) <= 2:
        return "That password is too easy to guess: choose a less common one"
    return None
