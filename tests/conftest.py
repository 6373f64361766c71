"""Shared fixtures: an app on a temporary instance, users of every role, a signed-in client."""

from __future__ import annotations

import gc
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from audit import create_app
from audit.data import users
from audit.data.db import connect

# The machine running the tests is shared and its speed varies: a property test must fail on
# a wrong answer, never on a slow example.
settings.register_profile(
    "case-audit", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("case-audit")

PASSWORD = "correct-horse-battery"
ROLES = {"admin": "admin", "lead": "lead", "reviewer": "reviewer", "other": "reviewer"}


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """A fresh, empty instance folder."""
    return tmp_path / "instance"


@pytest.fixture
def app(instance: Path) -> Iterator[Flask]:
    """The real app on a temporary instance, CSRF switched on as in production."""
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    yield app


@pytest.fixture
def db(app: Flask):  # type: ignore[no-untyped-def]
    """A direct connection to the app's database."""
    conn = connect(app.config["DATABASE"])
    yield conn
    conn.conn.close()


@pytest.fixture
def people(db) -> dict[str, users.User]:  # type: ignore[no-untyped-def]
    """One user per role (plus a second reviewer, ``other``), all with :data:`PASSWORD`."""
    return {
        name: users.create(db, name, PASSWORD, role, display_name=f"Test {name.title()}")
        for name, role in ROLES.items()
    }


def csrf_token(html: str) -> str:
    """Pull the CSRF token out of a rendered form, as a browser would submit it."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


class Auth:
    """Sign a test client in and out through the real sign-in form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def sign_in(self, username: str, password: str = PASSWORD, follow: bool = False):  # type: ignore[no-untyped-def]
        page = self.client.get("/sign-in")
        return self.client.post(
            "/sign-in",
            data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
            follow_redirects=follow,
        )

    def token(self, path: str = "/reviews") -> str:
        """Return a CSRF token valid for this client's session."""
        return csrf_token(self.client.get(path).text)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    """Sign-in helper bound to ``client``."""
    return Auth(client)


@pytest.fixture(autouse=True)
def _collect_leaked_files() -> Iterator[None]:
    """Collect each test's garbage at its end, so a leak can't fail an unrelated test.

    Werkzeug's test client spools a large upload to a temporary file it never closes; left to
    the garbage collector, its ResourceWarning would surface (under ``-W error``) in
    whichever test happens to be running, mid-example in a hypothesis test.
    """
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()

