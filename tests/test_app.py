"""The app's foundation: settings, secret key, migrations, sign-in, CSRF, CSP, access."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from audit import create_app
from audit.config import ConfigError, load_settings
from audit.data import migrations, users
from audit.data.db import connect
from audit.views import PUBLIC_ENDPOINTS
from tests.conftest import PASSWORD, csrf_token


def test_secret_key_is_generated_once_with_owner_only_permissions(instance: Path) -> None:
    first = create_app({"INSTANCE_PATH": instance})
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = create_app({"INSTANCE_PATH": instance})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 64
    other = create_app({"INSTANCE_PATH": instance.parent / "elsewhere"})
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]


def test_settings_come_from_defaults_then_toml_then_environment(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('service_name = "Toml name"\nsession_hours = 3\n')
    settings = load_settings(tmp_path, environ={})
    assert settings["SERVICE_NAME"] == "Toml name"
    assert settings["PROTECTIVE_MARKING"] == "OFFICIAL-SENSITIVE"
    settings = load_settings(
        tmp_path, environ={"CASE_AUDIT_SERVICE_NAME": "Env name", "CASE_AUDIT_SESSION_HOURS": "2"}
    )
    assert settings["SERVICE_NAME"] == "Env name"
    assert settings["SESSION_HOURS"] == 2
    assert settings["PERMANENT_SESSION_LIFETIME"].total_seconds() == 7200
    with pytest.raises(ConfigError, match="CASE_AUDIT_SESSION_HOURS"):
        load_settings(tmp_path, environ={"CASE_AUDIT_SESSION_HOURS": "lots"})


def test_service_name_setting_shows_in_header_and_title(instance: Path) -> None:
    instance.mkdir(parents=True)
    (instance / "config.toml").write_text('service_name = "Northshire audit"\n')
    page = create_app({"INSTANCE_PATH": instance}).test_client().get("/sign-in").text
    assert "<title>Sign in - Northshire audit</title>" in page
    assert "govuk-generic-header" in page


def test_database_uses_wal_and_foreign_keys(app, db) -> None:  # type: ignore[no-untyped-def]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert migrations.applied(db)[-1] == migrations.latest()


def test_first_migration_upgrades_to_latest_with_data_intact(tmp_path: Path) -> None:
    db = connect(tmp_path / "old.db")
    assert migrations.migrate(db, upto="0001_core") == ["0001_core"]
    assert "escalation" not in db.table_names()
    db.execute(
        "INSERT INTO user (username, display_name, role, password_hash, created_at, updated_at)"
        " VALUES ('kept', 'Kept User', 'lead', 'x', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
    )
    applied = migrations.migrate(db)
    assert applied == [name for name, _ in migrations.MIGRATIONS[1:]]
    assert {"escalation", "moderation", "finding", "action", "change_log"} <= set(db.table_names())
    row = db.execute("SELECT display_name, role FROM user WHERE username = 'kept'").fetchone()
    assert tuple(row) == ("Kept User", "lead")
    assert migrations.migrate(db) == []  # nothing runs twice
    db.conn.close()


def _walk(app):  # type: ignore[no-untyped-def]
    """Yield (path, method) for every registered route, with placeholder arguments."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(
            r"<(?:int:)?(\w+)>", lambda m: "1" if "int:" in m.group(0) else "x", rule.rule
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, path, method


def test_every_route_but_sign_in_needs_a_signed_in_user(app, client) -> None:  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False  # reach the login check, not the CSRF check
    checked = 0
    for endpoint, path, method in _walk(app):
        if endpoint in PUBLIC_ENDPOINTS:  # the steps of signing in (tests/test_access.py)
            continue
        response = client.open(path, method=method)
        assert response.status_code == 302, (endpoint, path, method, response.status_code)
        assert response.headers["Location"].startswith("/sign-in"), (endpoint, path)
        checked += 1
    assert checked >= 8


def test_sign_in_and_out(client, auth, people) -> None:  # type: ignore[no-untyped-def]
    response = auth.sign_in("lead")
    assert response.status_code == 302
    assert client.get("/reviews").status_code == 200
    token = auth.token()
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.headers["Location"].endswith("/sign-in")
    assert client.get("/reviews").status_code == 302


def test_wrong_password_and_unknown_user_give_the_same_message(client, auth, people) -> None:  # type: ignore[no-untyped-def]
    wrong = auth.sign_in("lead", "not-the-password", follow=True).text
    unknown = auth.sign_in("nobody-here", "not-the-password", follow=True).text
    for page in (wrong, unknown):
        assert "The username or password is not right" in page
        assert "<title>Error: Sign in" in page
    assert "nobody-here" not in unknown.split("<main")[1].split("value=")[0]


def test_deactivated_user_cannot_sign_in_and_is_signed_out(client, auth, db, people) -> None:  # type: ignore[no-untyped-def]
    assert auth.sign_in("reviewer").status_code == 302
    users.set_active(db, people["reviewer"].id, False, by=people["admin"].id)
    assert client.get("/reviews").status_code == 302  # the existing session no longer works
    page = auth.sign_in("reviewer", follow=True).text
    assert "The username or password is not right" in page


def test_next_parameter_cannot_redirect_off_site(client, people) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in?next=//evil.example/x",
        data={"username": "lead", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.headers["Location"] == "/"


def test_form_post_without_csrf_token_is_rejected(client, auth, people) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/sign-in", data={"username": "lead", "password": PASSWORD})
    assert response.status_code == 400
    assert "Nothing was saved" in response.text
    auth.sign_in("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "x",
            "display_name": "X",
            "role": "lead",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 400


def test_csp_header_is_strict_on_every_kind_of_response(client, auth, people) -> None:  # type: ignore[no-untyped-def]
    responses = [client.get("/sign-in"), client.get("/no-such-page")]
    auth.sign_in("lead")
    responses += [client.get("/reviews"), client.get("/static/css/case-audit.css")]
    for response in responses:
        response.close()
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]


def test_only_inline_script_carries_the_request_nonce(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sign-in")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script([^>]*)>", response.text)
    assert scripts, "expected the module script and GOV.UK's body-class script"
    for attrs in scripts:
        assert f'nonce="{nonce}"' in attrs or "src=" in attrs
    assert 'type="module"' in response.text
    assert " style=" not in response.text


def test_pages_have_one_h1_and_a_title_that_starts_with_it(client, auth, people) -> None:  # type: ignore[no-untyped-def]
    auth.sign_in("admin")
    for path in ["/reviews", "/rubrics/", "/admin/users", "/admin/users/new", "/rubrics/upload"]:
        html = client.get(path).text
        h1s = re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)
        assert len(h1s) == 1, path
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
        assert title.startswith(re.sub(r"<[^>]+>", "", h1s[0]).strip()), path


def test_error_pages_render_with_status(client, auth, people) -> None:  # type: ignore[no-untyped-def]
    auth.sign_in("reviewer")
    assert client.get("/admin/users").status_code == 403
    missing = client.get("/reviews/not-a-review")
    assert missing.status_code == 404
    assert "Page not found" in missing.text


def test_no_crown_or_gds_transport_in_served_assets(client) -> None:  # type: ignore[no-untyped-def]
    with client.get("/static/css/case-audit.css") as response:
        css = response.text
    assert "GDS Transport" not in css
    assert "@font-face" not in css
    page = client.get("/sign-in").text
    assert "crown" not in page.lower()
    assert "govuk-footer__copyright-logo" not in page


def test_admin_adds_deactivates_and_resets_users(client, auth, db, people) -> None:  # type: ignore[no-untyped-def]
    auth.sign_in("admin")
    page = client.get("/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "visitor",
            "display_name": "Visiting Reviewer",
            "role": "reviewer",
            "password": "a-long-password",
            "confirm": "a-long-password",
            "csrf_token": csrf_token(page.text),
        },
        follow_redirects=True,
    )
    assert "Added Visiting Reviewer" in response.text
    visitor = users.by_username(db, "visitor")
    assert visitor is not None and visitor.role == "reviewer"
    page = client.get("/admin/users/new")
    duplicate = client.post(
        "/admin/users/new",
        data={
            "username": "VISITOR",
            "display_name": "Again",
            "role": "reviewer",
            "password": "a-long-password",
            "confirm": "a-long-password",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert "already exists" in duplicate.text
    short = client.post(
        "/admin/users/new",
        data={
            "username": "short",
            "display_name": "Short",
            "role": "reviewer",
            "password": "tiny",
            "confirm": "tiny",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert "at least 10 characters" in short.text
    assert "<title>Error: Add a user" in short.text
    token = csrf_token(client.get("/admin/users").text)
    client.post(f"/admin/users/{visitor.id}/deactivate", data={"csrf_token": token})
    assert users.by_username(db, "visitor").active is False
    page = client.get(f"/admin/users/{visitor.id}/password")
    client.post(
        f"/admin/users/{visitor.id}/password",
        data={
            "password": "another-long-one",
            "confirm": "another-long-one",
            "csrf_token": csrf_token(page.text),
        },
    )
    client.post(f"/admin/users/{visitor.id}/activate", data={"csrf_token": token})
    assert users.authenticate(db, "visitor", "another-long-one") is not None
    logged = db.execute(
        "SELECT action, after FROM change_log WHERE entity = 'user' AND entity_id = ?",
        [str(visitor.id)],
    ).fetchall()
    assert len(logged) == 4
    assert all("another-long-one" not in (row["after"] or "") for row in logged)


def test_passwords_are_hashed_with_scrypt(db, people) -> None:  # type: ignore[no-untyped-def]
    stored = db.execute("SELECT password_hash FROM user WHERE username = 'lead'").fetchone()[0]
    assert stored.startswith("scrypt:") and PASSWORD not in stored


def test_instance_env_variable_chooses_the_folder(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CASE_AUDIT_INSTANCE", str(tmp_path / "from-env"))
    app = create_app()
    assert Path(app.instance_path) == tmp_path / "from-env"
    assert os.path.exists(tmp_path / "from-env" / "audit.db")
