"""One-time codes (TOTP) for local accounts: enrol, sign in, recovery codes, throttling, policy."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from audit import passwords
from audit.data import users
from tests.conftest import Auth, csrf_token


def _secret_on_page(html: str) -> str:
    match = re.search(r'<code class="app-setup-key">([A-Z2-7]+)</code>', html)
    assert match, "no setup key on the page"
    return match.group(1)


def _enrol(client: FlaskClient) -> tuple[str, list[str]]:
    """Turn codes on through the pages; return the secret and the recovery codes shown."""
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    secret = _secret_on_page(page.text)
    done = client.post(
        "/account/two-factor",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(page.text)},
    )
    assert done.status_code == 200 and "Save your recovery codes" in done.text
    codes = re.findall(r"<li><code>([a-z0-9-]{19})</code></li>", done.text)
    assert len(codes) == passwords.RECOVERY_CODE_COUNT
    return secret, codes


def _password_step(client: FlaskClient, username: str = "lead"):  # type: ignore[no-untyped-def]
    return Auth(client).sign_in(username)


def _code_step(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    page = client.get("/sign-in/code")
    assert page.status_code == 200, page.headers.get("Location")
    return client.post("/sign-in/code", data={"code": code, "csrf_token": csrf_token(page.text)})


def _a_while_later(db) -> None:  # type: ignore[no-untyped-def]
    """Forget which code step was used last, as if that sign-in were long ago."""
    db.execute("UPDATE user SET totp_last_step = 0")


@pytest.fixture
def enrolled(app: Flask, people) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """The lead has turned codes on; returns their secret and recovery codes."""
    client = app.test_client()
    Auth(client).sign_in("lead")
    return _enrol(client)


def test_setup_page_shows_an_inline_svg_qr_code_and_the_key(app: Flask, people) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    Auth(client).sign_in("lead")
    page = client.get("/account/two-factor").text
    assert '<svg role="img" aria-label="QR code to add' in page
    assert "<script" not in page.split("<main")[1].split("</main>")[0]
    secret = _secret_on_page(page)
    assert client.get("/account/two-factor").text.count(secret) == 1, "the key is kept"


def test_a_wrong_first_code_does_not_turn_codes_on(app: Flask, db, people) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    Auth(client).sign_in("lead")
    page = client.get("/account/two-factor")
    response = client.post(
        "/account/two-factor", data={"code": "000000", "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 200 and "The code is not right" in response.text
    assert "<title>Error: Set up one-time codes" in response.text
    assert not users.get(db, people["lead"].id).totp_enabled


def test_recovery_codes_are_stored_hashed(db, people, enrolled) -> None:  # type: ignore[no-untyped-def]
    _secret, codes = enrolled
    stored = [row[0] for row in db.execute("SELECT code_hash FROM recovery_code").fetchall()]
    assert len(stored) == len(codes)
    assert not set(codes) & set(stored)
    assert {passwords.recovery_code_hash(code) for code in codes} == set(stored)


def test_recovery_codes_are_shown_once(app: Flask, people, enrolled) -> None:  # type: ignore[no-untyped-def]
    secret, codes = enrolled
    client = app.test_client()
    _password_step(client)
    assert _code_step(client, pyotp.TOTP(secret).at(time.time() + 30)).status_code == 302
    page = client.get("/account/two-factor").text
    assert "One-time codes are on" in page
    assert not any(code in page for code in codes)
    assert f"You have {len(codes)} unused recovery codes" in page


def test_sign_in_asks_for_the_code_after_the_password(app: Flask, db, people, enrolled) -> None:  # type: ignore[no-untyped-def]
    secret, _codes = enrolled
    _a_while_later(db)
    client = app.test_client()
    response = _password_step(client)
    assert response.headers["Location"] == "/sign-in/code"
    # A right password alone opens nothing.
    assert client.get("/reviews").status_code == 302
    # The code from the step before this one: the phone's clock may be a little behind.
    earlier = pyotp.TOTP(secret).at(time.time() - 30)
    signed_in = _code_step(client, earlier)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    assert client.get("/reviews").status_code == 200


def test_a_code_works_once(app: Flask, people, enrolled) -> None:  # type: ignore[no-untyped-def]
    secret, _codes = enrolled
    first = app.test_client()
    _password_step(first)
    # The enrolment used the current step, so only the next one is new.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert _code_step(first, code).status_code == 302
    second = app.test_client()
    _password_step(second)
    replay = _code_step(second, code)
    assert replay.status_code == 200
    assert "has been used already" in replay.text
    assert second.get("/reviews").status_code == 302


def test_a_recovery_code_works_once(app: Flask, db, people, enrolled) -> None:  # type: ignore[no-untyped-def]
    _secret, codes = enrolled
    client = app.test_client()
    _password_step(client)
    typed = codes[0].upper().replace("-", " ")  # however they type it
    assert _code_step(client, typed).status_code == 302
    assert users.recovery_codes_left(db, people["lead"].id) == len(codes) - 1
    again = app.test_client()
    _password_step(again)
    assert _code_step(again, codes[0]).status_code == 200


def test_wrong_codes_are_throttled_like_passwords(app: Flask, people, enrolled) -> None:  # type: ignore[no-untyped-def]
    secret, _codes = enrolled
    client = app.test_client()
    _password_step(client)
    for _ in range(app.config["CODE_MAX_FAILURES"]):
        assert _code_step(client, "123456").status_code == 200
    blocked = _code_step(client, pyotp.TOTP(secret).at(time.time() + 30))
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.text
    assert client.get("/reviews").status_code == 302


def test_the_code_step_runs_out(app: Flask, people, enrolled, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _secret, _codes = enrolled
    client = app.test_client()
    _password_step(client)
    later = time.time() + 6 * 60
    monkeypatch.setattr("audit.views.auth.time.time", lambda: later)
    response = client.get("/sign-in/code")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"


def test_the_code_page_needs_a_right_password_first(client: FlaskClient) -> None:
    response = client.get("/sign-in/code")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"


def test_turning_codes_off_needs_a_current_code(app: Flask, db, people, enrolled) -> None:  # type: ignore[no-untyped-def]
    secret, _codes = enrolled
    client = app.test_client()
    _password_step(client)
    _code_step(client, pyotp.TOTP(secret).at(time.time() + 30))
    _a_while_later(db)
    page = client.get("/account/two-factor")
    wrong = client.post(
        "/account/two-factor/off", data={"code": "000000", "csrf_token": csrf_token(page.text)}
    )
    assert wrong.status_code == 200 and users.get(db, people["lead"].id).totp_enabled
    off = client.post(
        "/account/two-factor/off",
        data={
            "code": pyotp.TOTP(secret).now(),
            "csrf_token": csrf_token(page.text),
        },
    )
    assert off.status_code == 302
    assert not users.get(db, people["lead"].id).totp_enabled
    assert db.execute("SELECT count(*) FROM recovery_code").fetchone()[0] == 0
    assert Auth(app.test_client()).sign_in("lead").headers["Location"] == "/"


def _require_codes(app: Flask) -> None:
    admin = app.test_client()
    Auth(admin).sign_in("admin")
    page = admin.get("/admin/security")
    assert "Require a one-time code for admins and leads" in page.text
    saved = admin.post(
        "/admin/security", data={"mfa_required": "y", "csrf_token": csrf_token(page.text)}
    )
    assert saved.status_code == 302


def test_an_admin_can_require_codes_for_admins_and_leads(app: Flask, db, people) -> None:  # type: ignore[no-untyped-def]
    _require_codes(app)
    assert users.auth_setting(db, "mfa_required_for_admins_and_leads") == "1"
    lead = app.test_client()
    Auth(lead).sign_in("lead")
    sent = lead.get("/reviews")
    assert sent.status_code == 302 and sent.headers["Location"] == "/account/two-factor"
    secret, _codes = _enrol(lead)
    assert lead.get("/reviews").status_code == 200
    # Now required, it cannot be turned off.
    page = lead.get("/account/two-factor")
    assert "cannot turn them off" in page.text
    lead.post(
        "/account/two-factor/off",
        data={
            "code": pyotp.TOTP(secret).at(time.time() + 30),
            "csrf_token": csrf_token(page.text),
        },
    )
    assert users.get(db, people["lead"].id).totp_enabled
    # Reviewers are not asked.
    reviewer = app.test_client()
    Auth(reviewer).sign_in("reviewer")
    assert reviewer.get("/reviews").status_code == 200


def test_the_setting_is_off_by_default_and_recorded_in_the_audit_trail(
    app: Flask, db, people
) -> None:  # type: ignore[no-untyped-def]
    assert users.auth_setting(db, "mfa_required_for_admins_and_leads") == "0"
    lead = app.test_client()
    Auth(lead).sign_in("lead")
    assert lead.get("/reviews").status_code == 200
    _require_codes(app)
    logged = db.execute("SELECT user_id FROM change_log WHERE entity = 'auth_setting'").fetchall()
    assert [row[0] for row in logged] == [people["admin"].id]


def test_only_admins_change_the_setting(app: Flask, db, people) -> None:  # type: ignore[no-untyped-def]
    lead = app.test_client()
    Auth(lead).sign_in("lead")
    token = Auth(lead).token()
    response = lead.post("/admin/security", data={"mfa_required": "y", "csrf_token": token})
    assert response.status_code == 403
    assert users.auth_setting(db, "mfa_required_for_admins_and_leads") == "0"


def test_totp_step_accepts_only_near_codes() -> None:
    secret = passwords.new_totp_secret()
    totp = pyotp.TOTP(secret)
    now = 1_800_000_000.0
    assert passwords.totp_step(secret, totp.at(now), at=now) == int(now // 30)
    assert passwords.totp_step(secret, totp.at(now - 30), at=now) == int(now // 30) - 1
    assert passwords.totp_step(secret, totp.at(now - 90), at=now) is None
    assert passwords.totp_step(secret, "12345", at=now) is None
    assert passwords.totp_step(secret, "abcdef", at=now) is None
    spaced = totp.at(now)[:3] + " " + totp.at(now)[3:]
    assert passwords.totp_step(secret, spaced, at=now) is not None


def test_password_is_still_checked_before_the_code(app: Flask, people, enrolled) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = Auth(client).sign_in("lead", "wrong-password-here")
    assert response.status_code == 200
    assert client.get("/sign-in/code").status_code == 302


def test_an_admin_turns_codes_off_for_someone_who_lost_their_phone(
    app: Flask, db, people, enrolled
) -> None:  # type: ignore[no-untyped-def]
    admin = app.test_client()
    Auth(admin).sign_in("admin")
    listing = admin.get("/admin/users").text
    assert listing.count("Turn off one-time codes") == 1
    response = admin.post(
        f"/admin/users/{people['lead'].id}/codes-off", data={"csrf_token": csrf_token(listing)}
    )
    assert response.status_code == 302
    assert not users.get(db, people["lead"].id).totp_enabled
    assert Auth(app.test_client()).sign_in("lead").headers["Location"] == "/"
    logged = db.execute(
        "SELECT user_id, after FROM change_log WHERE entity = 'user' AND entity_id = ?"
        " ORDER BY id DESC LIMIT 1",
        [str(people["lead"].id)],
    ).fetchone()
    assert logged["user_id"] == people["admin"].id and "off" in logged["after"]


def test_an_account_made_by_single_sign_on_has_no_password(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    user, created = users.sign_on(
        db, issuer="https://idp.example", subject="s1", email="a.b@example.org", name="A B"
    )
    assert created and not user.has_password
    for guess in ("", users.NO_PASSWORD, "password"):
        assert users.authenticate(db, "a.b@example.org", guess) is None
