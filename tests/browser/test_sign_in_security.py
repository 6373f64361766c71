"""Journeys in a real browser: single sign-on, one-time codes, and ending sessions.

These run against their own demo server configured for single sign-on through the tests'
OpenID Connect provider (``tests/oidc_provider.py``), so turning on codes for a demo user
here never changes the shared server the other browser tests use.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Browser, Page

from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

from .conftest import (
    REPO_ROOT,
    SERVER_START_TIMEOUT_S,
    LiveServer,
    _free_port,
    _port_answers,
    _stop,
    assert_no_problems,
    check_page,
    read_demo_credentials,
    recorded_page,
    sign_in,
)

pytestmark = pytest.mark.browser

PROVIDER_NAME = "Example Council account"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """The identity provider for this module's server."""
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def sso_server(
    tmp_path_factory: pytest.TempPathFactory, provider: Provider
) -> Iterator[LiveServer]:
    """``case-audit serve --demo`` with single sign-on through ``provider``."""
    workdir = tmp_path_factory.mktemp("sso-server")
    instance = workdir / "instance"
    instance.mkdir(mode=0o700)
    (instance / "config.toml").write_text(
        f'sso_issuer = "{provider.url}"\n'
        f'sso_client_id = "{CLIENT_ID}"\n'
        f'sso_client_secret = "{CLIENT_SECRET}"\n'
        f'sso_provider_name = "{PROVIDER_NAME}"\n',
        encoding="utf-8",
    )
    port = _free_port()
    log_path = workdir / "server.log"
    env = dict(os.environ)
    env.pop("CASE_AUDIT_INSTANCE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    command = [sys.executable, "-m", "audit", "serve", "--demo", "--host", "127.0.0.1",
               "--port", str(port), "--instance", str(instance)]  # fmt: skip
    server = LiveServer(url=f"http://127.0.0.1:{port}", instance=instance, log=log_path)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _port_answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the SSO server did not start:\n{server.output()}", pytrace=False)
            time.sleep(0.1)
        server.credentials = read_demo_credentials(instance)
        yield server
    finally:
        _stop(process)


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def _press(page: Page, name: str) -> None:
    """Reach a button or link by its name, then press Enter on it, as a keyboard user does."""
    button = page.get_by_role("button", name=name, exact=True)
    button.or_(page.get_by_role("link", name=name, exact=True)).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()


def test_single_sign_on_journey(
    browser: Browser, sso_server: LiveServer, provider: Provider
) -> None:
    problems: list[str] = []
    provider.user = {
        "sub": "entra-browser-1",
        "email": "robin.shaw@example-council.gov.uk",
        "email_verified": True,
        "name": "Robin Shaw",
    }
    with recorded_page(browser, sso_server) as page, recorded_page(browser, sso_server) as admin:
        page.goto("/sign-in")
        check_page(page, problems)
        _press(page, f"Sign in with {PROVIDER_NAME}")
        # Through the provider and back: a new person waits for an admin.
        assert _path(page) == "/waiting", page.url
        check_page(page, problems)
        assert page.get_by_text("robin.shaw@example-council.gov.uk").count() >= 1

        sign_in(admin, sso_server, "admin")
        admin.get_by_role("link", name="Security", exact=True).click()
        admin.wait_for_load_state()
        assert _path(admin) == "/admin/security"
        check_page(admin, problems)
        assert admin.get_by_text(f"People can sign in with {PROVIDER_NAME}").is_visible()
        assert admin.get_by_label("Require a one-time code for admins and leads").is_visible()
        admin.goto("/admin/users")
        check_page(admin, problems)
        row = admin.get_by_role("row").filter(has_text="Robin Shaw")
        assert row.get_by_text("Waiting for access").is_visible()
        row.get_by_label("Role for Robin Shaw").select_option("reviewer")
        _press(admin, "Give role to Robin Shaw")
        assert admin.get_by_text("Robin Shaw is now a reviewer.").is_visible()
        check_page(admin, problems)

        page.goto("/")
        assert _path(page) == "/reviews", page.url
        assert page.get_by_text("Signed in as Robin Shaw (reviewer)").is_visible()
        check_page(page, problems)
    assert_no_problems(problems)


def test_one_time_code_enrol_and_sign_in_journey(browser: Browser, sso_server: LiveServer) -> None:
    problems: list[str] = []
    with recorded_page(browser, sso_server) as page:
        sign_in(page, sso_server, "reviewer3")
        _press(page, "Your account")
        assert _path(page) == "/account"
        check_page(page, problems)
        _press(page, "Set up one-time codes")
        check_page(page, problems)
        assert page.get_by_role("img", name=re.compile("QR code to add")).is_visible()
        page.get_by_text("I cannot scan the QR code").click()
        secret = page.locator(".app-setup-key").inner_text().strip()
        page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
        _press(page, "Turn on one-time codes")
        assert page.get_by_role("heading", level=1).inner_text() == "Save your recovery codes"
        check_page(page, problems)
        codes = page.locator(".app-recovery-codes code").all_inner_texts()
        assert len(codes) == 10
        _press(page, "Sign out")

        page.get_by_label("Username", exact=True).fill("reviewer3")
        page.get_by_label("Password", exact=True).fill(sso_server.credentials["reviewer3"])
        _press(page, "Sign in")
        assert _path(page) == "/sign-in/code", page.url
        # Nothing takes the focus as the page opens: a screen reader starts at the top.
        assert page.evaluate("() => document.activeElement === document.body")
        check_page(page, problems)
        # A wrong code first: a clear error, nothing opened.
        page.get_by_label("Code").fill("000000")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_load_state()
        assert page.title().startswith("Error: ")
        check_page(page, problems)
        page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_load_state()
        assert _path(page) == "/reviews", page.url

        # A recovery code gets in once when the phone is lost.
        _press(page, "Sign out")
        page.get_by_label("Username", exact=True).fill("reviewer3")
        page.get_by_label("Password", exact=True).fill(sso_server.credentials["reviewer3"])
        _press(page, "Sign in")
        page.get_by_label("Code").fill(codes[0])
        _press(page, "Continue")
        assert _path(page) == "/reviews", page.url
    assert_no_problems(problems)


def test_viewing_and_ending_sessions_journey(browser: Browser, sso_server: LiveServer) -> None:
    problems: list[str] = []
    with recorded_page(browser, sso_server) as page, recorded_page(browser, sso_server) as other:
        sign_in(other, sso_server, "reviewer2")
        sign_in(page, sso_server, "reviewer2")
        page.goto("/account")
        check_page(page, problems)
        table = page.get_by_role("table")
        assert table.locator("caption").inner_text() == "2 active sessions"
        assert table.get_by_text("This browser").count() == 1
        assert "HeadlessChrome" in table.inner_text() or "Chrome" in table.inner_text()
        end_buttons = table.get_by_role("button", name=re.compile("^End session"))
        assert end_buttons.count() == 1
        end_buttons.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_load_state()
        assert page.get_by_text("That session has ended").is_visible()
        assert page.get_by_role("table").locator("caption").inner_text() == "1 active session"
        check_page(page, problems)

        other.goto("/reviews")
        assert _path(other).startswith("/sign-in"), f"the ended session still opened {other.url}"

        _press(page, "Sign out everywhere")
        assert _path(page) == "/sign-in"
        assert page.get_by_text("You have signed out everywhere.").is_visible()
        check_page(page, problems)
        page.goto("/account")
        assert _path(page).startswith("/sign-in")
    assert_no_problems(problems)
