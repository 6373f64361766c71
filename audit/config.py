"""Settings: defaults, then instance/config.toml, then CASE_AUDIT_* environment variables."""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

ENV_PREFIX = "CASE_AUDIT_"

DEFAULTS: dict[str, Any] = {
    "SERVICE_NAME": "Case audit",
    "PROTECTIVE_MARKING": "OFFICIAL-SENSITIVE",
    "PUBLIC_MARKING": "OFFICIAL",
    "PUBLIC_SUPPRESS_BELOW": 5,
    # A session ends after this long however busy it is, and after IDLE_MINUTES unused.
    "SESSION_HOURS": 12,
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
    # The CSRF token lives as long as the session: a reviewer may read a case for two hours
    # before saving, and an hourly expiry would throw their work away.
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_SSL_STRICT": False,
    "BUSY_TIMEOUT_MS": 10_000,
    "SIGN_IN_MAX_FAILURES": 5,
    "SIGN_IN_WINDOW_MINUTES": 15,
    "PASSWORD_MIN_LENGTH": 10,
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    "TRUSTED_PROXY_COUNT": 0,
    "TRUSTED_PROXY": "127.0.0.1",
    "REPORT_INLINE_MAX_CASES": 100,
    # Single sign-on over OpenID Connect: off until SSO_ISSUER and SSO_CLIENT_ID are set.
    "SSO_ISSUER": "",
    "SSO_CLIENT_ID": "",
    "SSO_CLIENT_SECRET": "",
    "SSO_PROVIDER_NAME": "your organisation's account",
    "SSO_SCOPE": "openid email profile",
    # Only emails in these domains may sign on (empty: any the provider vouches for). Set it
    # for a provider shared by many organisations, such as Google.
    "SSO_EMAIL_DOMAINS": [],
    # How long someone may take at the identity provider before coming back.
    "SSO_STATE_MINUTES": 10,
    # One-time code attempts before a pause, like passwords (per account, in the same window).
    "CODE_MAX_FAILURES": 5,
}


class ConfigError(Exception):
    """A setting in config.toml or the environment cannot be used."""


def _coerce(raw: str, like: Any) -> Any:
    """Turn an environment string into the type of the default it overrides."""
    if isinstance(like, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"expected true or false, got {raw!r}")
    if isinstance(like, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"expected a whole number, got {raw!r}") from exc
    if like is None or isinstance(like, (list, dict)):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def load_settings(instance: Path, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Merge defaults, ``instance/config.toml`` and ``CASE_AUDIT_*`` variables, in that order."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    config_file = instance / "config.toml"
    if config_file.is_file():
        try:
            with config_file.open("rb") as handle:
                loaded = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_file}: {exc}") from exc
        settings.update({key.upper(): value for key, value in loaded.items()})
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "INSTANCE":
            continue
        key = name[len(ENV_PREFIX) :]
        try:
            settings[key] = _coerce(raw, settings.get(key))
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from exc
    settings["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=float(settings["SESSION_HOURS"]))
    settings["SESSION_IDLE"] = timedelta(minutes=float(settings["SESSION_IDLE_MINUTES"]))
    if bool(settings["SSO_ISSUER"]) != bool(settings["SSO_CLIENT_ID"]):
        raise ConfigError("single sign-on needs both sso_issuer and sso_client_id")
    issuer = str(settings["SSO_ISSUER"])
    # Plain http only on this machine's loopback (the tests' provider); never over a network.
    if issuer and not issuer.startswith(("https://", "http://127.0.0.1:")):
        raise ConfigError(f"sso_issuer must be an https:// address, got {issuer!r}")
    return settings


def secret_key(instance: Path) -> str:
    """Return the installation's signing key, generating it (mode 0600) on first use."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two processes starting at once must not both write a key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
