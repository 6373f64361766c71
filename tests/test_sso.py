"""Single sign-on against a real OpenID Connect provider on 127.0.0.1, friendly and hostile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from audit import create_app
from audit.config import ConfigError, load_settings
from audit.data import users
from audit.data.db import connect
from tests.conftest import PASSWORD, Auth
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

FAILED = "Signing in with your organisation&#39;s account did not work"


@pytest.fixture
def provider() -> Iterator[Provider]:
    """The identity provider, running for this test."""
    with running_provider() as running:
        yield running


@pytest.fixture
def sso_app(instance: Path, provider: Provider) -> Flask:
    """The app configured to sign people in through ``provider``."""
    return _app(instance, provider.url, SSO_PROVIDER_NAME="Example Council account")


def _app(instance: Path, issuer: str, **settings: object) -> Flask:
    """The app signing people in through the provider at ``issuer``, with other settings."""
    return create_app(
        {
            "INSTANCE_PATH": instance,
            "TESTING": True,
            "SSO_ISSUER": issuer,
            "SSO_CLIENT_ID": CLIENT_ID,
            "SSO_CLIENT_SECRET": CLIENT_SECRET,
        }
        | settings
    )


@pytest.fixture
def sso_db(sso_app: Flask):  # type: ignore[no-untyped-def]
    conn = connect(sso_app.config["DATABASE"])
    yield conn
    conn.conn.close()


def _to_provider(client: FlaskClient, next_url: str | None = None) -> str:
    """Press "Sign in with ..." and return the callback URL the provider sends back."""
    start = client.get("/sign-in/sso", query_string={"next": next_url} if next_url else None)
    assert start.status_code == 302, start.text
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == "/sign-in/sso/callback"
    return f"{back.path}?{back.query}"


def _sso_sign_in(client: FlaskClient, next_url: str | None = None):  # type: ignore[no-untyped-def]
    return client.get(_to_provider(client, next_url))


def test_sign_in_page_offers_the_provider(sso_app: Flask) -> None:
    page = sso_app.test_client().get("/sign-in").text
    assert "Sign in with Example Council account" in page
    assert 'href="/sign-in/sso' in page
    assert 'name="username"' in page, "local accounts stay for visiting reviewers"


def test_the_request_to_the_provider_carries_state_and_nonce(sso_app: Flask) -> None:
    start = sso_app.test_client().get("/sign-in/sso")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://localhost/sign-in/sso/callback"]
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert "openid" in query["scope"][0].split() and "email" in query["scope"][0].split()


def test_a_new_person_is_created_with_no_role_and_waits_for_an_admin(
    sso_app: Flask, sso_db, provider: Provider
) -> None:  # type: ignore[no-untyped-def]
    client = sso_app.test_client()
    response = _sso_sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = users.by_email(sso_db, "sam.taylor@example-council.gov.uk")
    assert user is not None and user.awaiting_role and user.display_name == "Sam Taylor"
    assert not user.has_password
    # Every page sends them to the waiting page; their account page still works.
    reviews = client.get("/reviews")
    assert reviews.status_code == 302 and reviews.headers["Location"] == "/waiting"
    waiting = client.get("/waiting")
    assert waiting.status_code == 200 and "Waiting for access" in waiting.text
    assert "sam.taylor@example-council.gov.uk" in waiting.text
    assert 'aria-label="Menu"' not in waiting.text, "no menu of pages they cannot open"
    assert client.get("/account").status_code == 200
    # An admin gives them a role; the same session now opens the service.
    admin = users.create(sso_db, "admin", PASSWORD, "admin")
    admin_client = sso_app.test_client()
    Auth(admin_client).sign_in("admin")
    listing = admin_client.get("/admin/users").text
    assert "Waiting for access" in listing
    given = admin_client.post(
        f"/admin/users/{user.id}/role",
        data={"role": "reviewer", "csrf_token": Auth(admin_client).token()},
    )
    assert given.status_code == 302
    assert users.get(sso_db, user.id).role == "reviewer"
    reviews = client.get("/reviews")
    assert reviews.status_code == 200 and 'aria-label="Menu"' in reviews.text
    assert admin.id != user.id


def test_the_next_sign_in_finds_the_same_person(sso_app: Flask, sso_db) -> None:  # type: ignore[no-untyped-def]
    _sso_sign_in(sso_app.test_client())
    _sso_sign_in(sso_app.test_client())
    rows = sso_db.execute("SELECT count(*) FROM user").fetchone()[0]
    assert rows == 1
    links = sso_db.execute("SELECT issuer, subject FROM user_identity").fetchall()
    assert [tuple(link) for link in links] == [(sso_db_issuer(sso_db), "entra-0001")]


def sso_db_issuer(db) -> str:  # type: ignore[no-untyped-def]
    return db.execute("SELECT issuer FROM user_identity").fetchone()[0]


def test_an_existing_user_is_matched_by_verified_email_and_keeps_their_role(
    sso_app: Flask, sso_db
) -> None:  # type: ignore[no-untyped-def]
    lead = users.create(
        sso_db, "slead", PASSWORD, "lead", email="Sam.Taylor@example-council.gov.uk"
    )
    client = sso_app.test_client()
    response = _sso_sign_in(client, next_url="/rubrics/")
    assert response.headers["Location"] == "/rubrics/"
    assert client.get("/rubrics/").status_code == 200  # a lead's page
    assert sso_db.execute("SELECT count(*) FROM user").fetchone()[0] == 1
    assert sso_db.execute("SELECT user_id FROM user_identity").fetchone()[0] == lead.id
    # Their password still works too: local sign-in stays.
    assert Auth(sso_app.test_client()).sign_in("slead").status_code == 302


def test_a_username_already_taken_by_someone_else_gets_a_new_one(sso_app: Flask, sso_db) -> None:  # type: ignore[no-untyped-def]
    other = users.create(
        sso_db, "sam.taylor@example-council.gov.uk", PASSWORD, "lead", email="st2@example.org"
    )
    _sso_sign_in(sso_app.test_client())
    made = users.by_email(sso_db, "sam.taylor@example-council.gov.uk")
    assert made is not None and made.id != other.id and made.awaiting_role
    assert made.username == "sam.taylor@example-council.gov.uk-2"
    assert users.get(sso_db, other.id).role == "lead"


def test_a_next_address_off_the_site_is_ignored(sso_app: Flask) -> None:
    response = _sso_sign_in(sso_app.test_client(), next_url="https://evil.example/")
    assert response.headers["Location"] == "/"


def _refused(response, status: int = 400) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert "Sign in" in response.text and "govuk-error-summary" in response.text


def _nobody_signed_in(client: FlaskClient, db) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/reviews").status_code == 302
    assert db.execute("SELECT count(*) FROM user_identity").fetchone()[0] == 0


EVIL = "https://login.evil.example/tenant"


@pytest.mark.parametrize(
    "knobs",
    [
        pytest.param({"issuer_in_token": EVIL}, id="id-token-from-another-issuer"),
        pytest.param(
            {"issuer_in_metadata": EVIL, "issuer_in_token": EVIL},
            id="provider-claiming-another-issuer",
        ),
        pytest.param({"forge_signature": True}, id="forged-signature"),
        pytest.param({"nonce_in_token": "a-nonce-from-another-sign-in"}, id="nonce-mismatch"),
        pytest.param({"expired": True}, id="expired-id-token"),
    ],
)
def test_a_hostile_id_token_is_refused(
    sso_app: Flask, sso_db, provider: Provider, knobs: dict
) -> None:  # type: ignore[no-untyped-def]
    for name, value in knobs.items():
        setattr(provider, name, value)
    client = sso_app.test_client()
    response = _sso_sign_in(client)
    _refused(response)
    assert FAILED in response.text
    _nobody_signed_in(client, sso_db)


def test_a_replayed_callback_is_refused(sso_app: Flask, sso_db) -> None:  # type: ignore[no-untyped-def]
    client = sso_app.test_client()
    callback = _to_provider(client)
    assert client.get(callback).status_code == 302  # the real sign-in
    # The same state again, in the same browser and in another: the state is spent.
    _refused(client.get(callback))
    other = sso_app.test_client()
    _refused(other.get(callback))
    assert other.get("/reviews").status_code == 302


def test_a_callback_with_no_or_a_made_up_state_is_refused(sso_app: Flask) -> None:
    client = sso_app.test_client()
    _refused(client.get("/sign-in/sso/callback?code=abc"))
    _refused(client.get("/sign-in/sso/callback?code=abc&state=made-up"))


def test_an_expired_state_is_refused(instance: Path, provider: Provider) -> None:
    # Every state has run out by the time the person is back.
    app = _app(instance, provider.url, SSO_STATE_MINUTES=0)
    client = app.test_client()
    _refused(_sso_sign_in(client))
    assert client.get("/reviews").status_code == 302


def test_an_unverified_email_is_refused_and_no_account_is_made(
    sso_app: Flask, sso_db, provider: Provider
) -> None:  # type: ignore[no-untyped-def]
    users.create(sso_db, "victim", PASSWORD, "admin", email="sam.taylor@example-council.gov.uk")
    provider.user["email_verified"] = False
    client = sso_app.test_client()
    response = _sso_sign_in(client)
    _refused(response, 403)
    assert "no verified email address" in response.text
    _nobody_signed_in(client, sso_db)
    assert sso_db.execute("SELECT count(*) FROM user").fetchone()[0] == 1


def test_only_the_allowed_email_domains_sign_on(instance: Path, provider: Provider) -> None:
    app = _app(instance, provider.url, SSO_EMAIL_DOMAINS=["other-council.gov.uk"])
    client = app.test_client()
    response = _sso_sign_in(client)
    _refused(response, 403)
    assert "is not an account this service accepts" in response.text
    db = connect(app.config["DATABASE"])
    _nobody_signed_in(client, db)
    db.conn.close()
    allowed = _app(instance, provider.url, SSO_EMAIL_DOMAINS=["Example-Council.gov.uk"])
    assert _sso_sign_in(allowed.test_client()).status_code == 302


def test_a_deactivated_user_cannot_sign_on(sso_app: Flask, sso_db) -> None:  # type: ignore[no-untyped-def]
    _sso_sign_in(sso_app.test_client())
    user = users.by_email(sso_db, "sam.taylor@example-council.gov.uk")
    users.set_role(sso_db, user.id, "reviewer", by=None)
    users.set_active(sso_db, user.id, False, by=None)
    client = sso_app.test_client()
    response = _sso_sign_in(client)
    _refused(response, 403)
    assert "Your account has been deactivated" in response.text
    assert client.get("/reviews").status_code == 302


def test_a_wrong_client_secret_is_refused(instance: Path, provider: Provider) -> None:
    app = _app(instance, provider.url, SSO_CLIENT_SECRET="not-the-secret")
    _refused(_sso_sign_in(app.test_client()))


def test_a_provider_that_is_down_gives_a_clear_page(instance: Path) -> None:
    app = _app(instance, "http://127.0.0.1:9")  # nothing listens on the discard port
    response = app.test_client().get("/sign-in/sso")
    assert response.status_code == 502
    assert "is not working just now" in response.text


def test_sso_pages_are_not_found_when_sso_is_off(client: FlaskClient) -> None:
    assert client.get("/sign-in/sso").status_code == 404
    assert client.get("/sign-in/sso/callback?state=x").status_code == 404
    assert "Sign in with" not in client.get("/sign-in").text


def test_settings_need_an_https_issuer_and_a_client_id(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        'sso_issuer = "http://login.example.com/tenant"\nsso_client_id = "x"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="https://"):
        load_settings(tmp_path, environ={})
    (tmp_path / "config.toml").write_text(
        'sso_issuer = "https://login.example.com/tenant"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="sso_client_id"):
        load_settings(tmp_path, environ={})
    (tmp_path / "config.toml").write_text(
        'sso_issuer = "https://login.example.com/tenant"\nsso_client_id = "x"\n'
        'sso_client_secret = "y"\n',
        encoding="utf-8",
    )
    settings = load_settings(
        tmp_path, environ={"CASE_AUDIT_SSO_EMAIL_DOMAINS": '["northshire.gov.uk"]'}
    )
    assert settings["SSO_EMAIL_DOMAINS"] == ["northshire.gov.uk"]
    assert settings["SSO_ISSUER"] == "https://login.example.com/tenant"
    assert settings["SSO_CLIENT_SECRET"] == "y"


def test_the_user_list_command_shows_who_is_waiting(sso_app: Flask) -> None:
    from click.testing import CliRunner

    from audit.cli import main

    _sso_sign_in(sso_app.test_client())
    result = CliRunner().invoke(main, ["user", "list", "--instance", sso_app.instance_path])
    assert result.exit_code == 0, result.output
    assert "sam.taylor@example-council.gov.uk\twaiting\tactive\tSam Taylor" in result.output
