"""Sessions live on the server: every way of ending one stops a copied cookie working.

Each test signs in, copies the session cookie into a second client (the attacker's), ends
the session some way, and replays the cookie: it must be sent to sign in, not shown a page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from audit.data import audits, users
from audit.data.db import utcnow
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.helpers import make_review

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _cookie(app: Flask, client: FlaskClient) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, "no session cookie"
    return cookie.value


def _replay(app: Flask, value: str) -> FlaskClient:
    """A second client (someone who copied the cookie) carrying ``value``."""
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return thief


def _opens(client: FlaskClient) -> bool:
    """Whether the client gets a signed-in page (200) rather than being sent to sign in."""
    response = client.get("/reviews")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    return False


def _signed_in(app: Flask, username: str, user_agent: str = FIREFOX) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    assert Auth(client).sign_in(username).status_code == 302
    assert _opens(client)
    return client


def test_the_cookie_holds_only_a_random_token_and_the_database_only_its_hash(
    app: Flask, db, people
) -> None:  # type: ignore[no-untyped-def]
    client = _signed_in(app, "lead")
    value = _cookie(app, client)
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", value), value  # no signed payload, no dots
    stored = db.execute("SELECT token_hash, user_id, data FROM auth_session").fetchall()
    assert [row["user_id"] for row in stored] == [people["lead"].id]
    assert value not in {row["token_hash"] for row in stored}
    assert value not in stored[0]["data"]


def test_signing_in_starts_a_new_session_so_a_planted_token_is_useless(app: Flask, people) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    page = client.get("/sign-in")
    before = _cookie(app, client)  # the anonymous session holding the form's token
    client.post(
        "/sign-in",
        data={"username": "lead", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    after = _cookie(app, client)
    assert after != before
    assert not _opens(_replay(app, before))
    assert _opens(_replay(app, after))


def test_sign_out_ends_the_session_for_a_copied_cookie(app: Flask, people) -> None:  # type: ignore[no-untyped-def]
    client = _signed_in(app, "reviewer")
    copied = _cookie(app, client)
    assert _opens(_replay(app, copied))
    response = client.post("/sign-out", data={"csrf_token": Auth(client).token()})
    assert response.status_code == 302
    assert not _opens(_replay(app, copied))
    assert not _opens(client)


def test_changing_your_password_signs_out_your_other_browsers(app: Flask, people) -> None:  # type: ignore[no-untyped-def]
    here = _signed_in(app, "lead")
    elsewhere = _cookie(app, _signed_in(app, "lead", SAFARI))
    page = here.get("/account/password")
    response = here.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "a-new-long-passphrase",
            "confirm": "a-new-long-passphrase",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 302
    assert not _opens(_replay(app, elsewhere))
    assert _opens(here), "the browser that changed the password stays signed in"
    assert Auth(app.test_client()).sign_in("lead", "a-new-long-passphrase").status_code == 302


def test_a_wrong_current_password_changes_nothing(app: Flask, db, people) -> None:  # type: ignore[no-untyped-def]
    here = _signed_in(app, "lead")
    page = here.get("/account/password")
    response = here.post(
        "/account/password",
        data={
            "current": "not-my-password",
            "password": "a-new-long-passphrase",
            "confirm": "a-new-long-passphrase",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 200
    assert "Your current password is not right" in response.text
    assert users.authenticate(db, "lead", PASSWORD) is not None


def test_an_admin_resetting_a_password_ends_every_session(app: Flask, people) -> None:  # type: ignore[no-untyped-def]
    copied = _cookie(app, _signed_in(app, "reviewer"))
    admin = _signed_in(app, "admin")
    url = f"/admin/users/{people['reviewer'].id}/password"
    page = admin.get(url)
    admin.post(
        url,
        data={
            "password": "another-long-passphrase",
            "confirm": "another-long-passphrase",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert not _opens(_replay(app, copied))


def test_an_admin_deactivating_a_user_ends_their_sessions(app: Flask, db, people) -> None:  # type: ignore[no-untyped-def]
    copied = _cookie(app, _signed_in(app, "reviewer"))
    admin = _signed_in(app, "admin")
    admin.post(
        f"/admin/users/{people['reviewer'].id}/deactivate",
        data={"csrf_token": Auth(admin).token()},
    )
    rows = db.execute(
        "SELECT count(*) FROM auth_session WHERE user_id = ?", [people["reviewer"].id]
    ).fetchone()[0]
    assert rows == 0
    assert not _opens(_replay(app, copied))
    # Reactivating does not bring the old session back.
    users.set_active(db, people["reviewer"].id, True, by=people["admin"].id)
    assert not _opens(_replay(app, copied))


def test_sign_out_everywhere_ends_every_session_of_yours_only(app: Flask, people) -> None:  # type: ignore[no-untyped-def]
    here = _signed_in(app, "lead")
    elsewhere = _cookie(app, _signed_in(app, "lead", SAFARI))
    someone_else = _signed_in(app, "reviewer")
    current = _cookie(app, here)
    response = here.post("/account/sessions/end-all", data={"csrf_token": Auth(here).token()})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert not _opens(_replay(app, current))
    assert not _opens(_replay(app, elsewhere))
    assert _opens(someone_else)


def test_idle_sessions_end_after_the_setting(app: Flask, db, people) -> None:  # type: ignore[no-untyped-def]
    assert app.config["SESSION_IDLE_MINUTES"] == 30  # the default
    client = _signed_in(app, "lead")
    copied = _cookie(app, client)
    quiet = (datetime.now(UTC) - timedelta(minutes=29)).isoformat().replace("+00:00", "Z")
    db.execute("UPDATE auth_session SET last_seen_at = ?", [quiet])
    assert _opens(_replay(app, copied)), "29 minutes idle is still inside the limit"
    idle = (datetime.now(UTC) - timedelta(minutes=31)).isoformat().replace("+00:00", "Z")
    db.execute("UPDATE auth_session SET last_seen_at = ?", [idle])
    assert not _opens(_replay(app, copied))
    assert not _opens(client)
    assert (
        db.execute("SELECT count(*) FROM auth_session WHERE user_id IS NOT NULL").fetchone()[0] == 0
    )


def test_the_idle_limit_is_a_setting(instance, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from audit import create_app
    from audit.data.db import connect

    instance.mkdir(parents=True)
    (instance / "config.toml").write_text("session_idle_minutes = 5\n", encoding="utf-8")
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    users.create(db, "lead", PASSWORD, "lead")
    client = _signed_in(app, "lead")
    six = (datetime.now(UTC) - timedelta(minutes=6)).isoformat().replace("+00:00", "Z")
    db.execute("UPDATE auth_session SET last_seen_at = ?", [six])
    assert not _opens(client)
    db.conn.close()


def test_sessions_past_the_absolute_limit_end_however_busy(app: Flask, db, people) -> None:  # type: ignore[no-untyped-def]
    client = _signed_in(app, "lead")
    old = (datetime.now(UTC) - timedelta(hours=13)).isoformat().replace("+00:00", "Z")
    db.execute("UPDATE auth_session SET created_at = ?, last_seen_at = ?", [old, utcnow()])
    assert not _opens(client)


def test_you_see_your_sessions_and_end_one(app: Flask, db, people) -> None:  # type: ignore[no-untyped-def]
    here = _signed_in(app, "lead")
    phone = _cookie(app, _signed_in(app, "lead", SAFARI))
    _signed_in(app, "reviewer")  # someone else's session is never listed
    page = here.get("/account")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', page.text, re.S)[1:]
    assert len(rows) == 2
    text = " ".join(re.sub(r"<[^>]+>", " ", row) for row in rows)
    assert "Firefox 128 on Windows" in text and "Mobile Safari 17 on iOS" in text
    assert text.count("This browser") == 1
    assert "2 active sessions" in page.text
    # The button on the phone's row ends the phone's session, and only that.
    phone_row = next(row for row in rows if "Safari" in row)
    action = re.search(r'action="(/account/sessions/\d+/end)"', phone_row)
    assert action
    response = here.post(action.group(1), data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert not _opens(_replay(app, phone))
    assert _opens(here)
    assert "1 active session<" in here.get("/account").text


def test_you_cannot_end_someone_elses_session(app: Flask, db, people) -> None:  # type: ignore[no-untyped-def]
    victim = _signed_in(app, "reviewer")
    victim_id = db.execute(
        "SELECT id FROM auth_session WHERE user_id = ?", [people["reviewer"].id]
    ).fetchone()[0]
    attacker = _signed_in(app, "other")
    attacker.post(f"/account/sessions/{victim_id}/end", data={"csrf_token": Auth(attacker).token()})
    assert _opens(victim)


def test_work_typed_while_the_session_idled_out_is_kept(app: Flask, db, people) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = make_review(db, people)
    client = _signed_in(app, "reviewer")
    start = client.post(
        f"/reviews/{review.id}/cases/{case_ids[0]}/audit",
        data={"csrf_token": Auth(client).token()},
    )
    url = start.headers["Location"]
    token = csrf_token(client.get(url).text)
    long_ago = (datetime.now(UTC) - timedelta(minutes=45)).isoformat().replace("+00:00", "Z")
    db.execute("UPDATE auth_session SET last_seen_at = ?", [long_ago])
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "version": "1",
            "action": "save",
            "answer-risks_identified": "no",
            "evidence-risks_identified": "Typed for forty-five minutes",
        },
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    sign_in_url = response.headers["Location"]
    page = client.get(sign_in_url).text
    assert "what you typed has been kept" in page
    signed_in = client.post(
        sign_in_url,
        data={"username": "reviewer", "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    restored = client.get(signed_in.headers["Location"]).text
    assert "Not saved yet" in restored and "Typed for forty-five minutes" in restored
    assert audits.get(db, url.rsplit("/", 1)[1]).answers == {}


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (FIREFOX, "Firefox 128 on Windows"),
        (SAFARI, "Mobile Safari 17 on iOS"),
        ("", "Unknown browser"),
        ("curl/8.5.0", "curl 8"),
    ],
)
def test_browser_names(agent: str, expected: str) -> None:
    from audit.session_store import browser_name

    assert browser_name(agent) == expected
