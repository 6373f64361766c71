"""Password rules, one-time codes and recovery codes: plain Python, no Flask."""

from __future__ import annotations

import functools
import hashlib
import hmac
import html
import secrets
import time

import pyotp
import qrcode
import qrcode.image.svg

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


# --- one-time codes (TOTP, RFC 6238) and recovery codes ------------------------------------

TOTP_DRIFT_STEPS = 1  # accept the code before and after this one: phone clocks drift
RECOVERY_CODE_COUNT = 10


def new_totp_secret() -> str:
    """Return a fresh base32 secret for an authenticator app."""
    return pyotp.random_base32()


def totp_uri(secret: str, account: str, issuer: str) -> str:
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def totp_step(secret: str, code: str, at: float | None = None) -> int | None:
    """Return the time step a six-digit code belongs to (within the drift), or None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    for offset in range(-TOTP_DRIFT_STEPS, TOTP_DRIFT_STEPS + 1):
        moment = now + offset * totp.interval
        if hmac.compare_digest(totp.at(moment), code):
            return int(moment // totp.interval)
    return None


def qr_svg(data: str, label: str) -> str:
    """Return ``data`` as an inline SVG QR code (no script, no external fetch), labelled."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    return svg.replace(
        "<svg ", f'<svg role="img" aria-label="{html.escape(label, quote=True)}" ', 1
    )


def new_recovery_codes() -> list[str]:
    """Return fresh recovery codes, 80 random bits each, written as four groups of four."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o or 1/l/i to misread
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_code_hash(code: str) -> str:
    """Hash a recovery code as typed (ignoring case, spaces and dashes) for storing or lookup.

    The codes carry 80 random bits, so a plain SHA-256 cannot be reversed by guessing.
    """
    folded = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(folded.encode("ascii", "ignore")).hexdigest()
