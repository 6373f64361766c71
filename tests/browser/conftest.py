"""Real-browser harness: the real server in a subprocess, driven by the system Chromium.

The browser is Debian's ``chromium`` (or ``$CASE_AUDIT_CHROMIUM``); these tests never download
one. Without a usable Chromium the browser tests are skipped, except under ``CI=true``, where
a missing browser is a failure so the suite cannot go quietly green.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[2]
DEBIAN_CHROMIUM = "/usr/bin/chromium"
MISSING_BROWSER = (
    "Browser tests need Debian's chromium: sudo apt-get install chromium "
    "(or set CASE_AUDIT_CHROMIUM)"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 20.0
DEFAULT_TIMEOUT_MS = 10_000
DEMO_USERS = {
    "admin": "admin",
    "lead": "lead",
    "reviewer1": "reviewer",
    "reviewer2": "reviewer",
    "reviewer3": "reviewer",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser with ``browser`` (``-m "not browser"`` skips them)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


# --- finding Chromium ----------------------------------------------------------------------


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_chromium() -> tuple[str | None, str]:
    """Return ``(path, why)``: the Chromium to drive, or ``None`` and why there is none.

    ``$CASE_AUDIT_CHROMIUM`` wins when set; if it names something that is not an executable
    file, there is no browser (an explicit choice is never silently swapped for another).
    """
    override = os.environ.get("CASE_AUDIT_CHROMIUM")
    if override:
        if _is_executable(override):
            return override, ""
        return None, f"CASE_AUDIT_CHROMIUM={override} is not an executable file"
    found = shutil.which("chromium")
    if found and _is_executable(found):
        return found, ""
    if _is_executable(DEBIAN_CHROMIUM):
        return DEBIAN_CHROMIUM, ""
    return None, f"no chromium on PATH or at {DEBIAN_CHROMIUM}"


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium executable, or skip (fail under ``CI=true``) when there is none."""
    path, why = find_chromium()
    if path is None:
        message = f"{MISSING_BROWSER} [{why}]"
        if _running_in_ci():
            pytest.fail(f"CI=true and no browser: {message}", pytrace=False)
        pytest.skip(message)
    return path


# --- the real server -----------------------------------------------------------------------


@dataclass
class LiveServer:
    """The running server: its base URL, instance folder and the demo users' passwords."""

    url: str
    instance: Path
    credentials: dict[str, str] = field(default_factory=dict)
    log: Path | None = None

    def output(self) -> str:
        """Everything the server has printed so far (for failure messages)."""
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def read_demo_credentials(instance: Path) -> dict[str, str]:
    """Read ``username<TAB>password<TAB>role`` lines from the instance's demo-credentials.txt."""
    credentials = {}
    path = instance / "demo-credentials.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        username, password, _role = line.split("\t")
        credentials[username] = password
    return credentials


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


SERVER_START_ATTEMPTS = 3


def _start_server(
    workdir: Path, instance: Path, attempt: int
) -> tuple[subprocess.Popen[bytes], LiveServer, list[str]]:
    """Start ``case-audit serve --demo`` on a port free just now, logging to its own file."""
    cwd = workdir / "cwd"
    cwd.mkdir(exist_ok=True)
    log_path = workdir / f"server-{attempt}.log"
    port = _free_port()
    env = dict(os.environ)
    env.pop("CASE_AUDIT_INSTANCE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    command = [
        sys.executable,
        "-m",
        "audit",
        "serve",
        "--demo",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--instance",
        str(instance),
    ]
    server = LiveServer(url=f"http://127.0.0.1:{port}", instance=instance, log=log_path)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return process, server, command


def _serving(process: subprocess.Popen[bytes], server: LiveServer) -> bool:
    """True once *this* process serves its port (a parallel worker's server never counts)."""
    port = int(server.url.rsplit(":", 1)[1])
    return (
        process.poll() is None
        and f"Serving on {server.url}/" in server.output()
        and _port_answers(port)
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``case-audit serve --demo`` on a free port with a fresh instance, for the whole session.

    Under pytest-xdist each worker has its own session, so its own server, port and instance
    (``tmp_path_factory`` is per worker). Between picking a free port and the server binding
    it, another worker can take it: then the server exits and is started again on another.
    """
    workdir = tmp_path_factory.mktemp("live-server")
    instance = workdir / "instance"
    for attempt in range(1, SERVER_START_ATTEMPTS + 1):
        process, server, command = _start_server(workdir, instance, attempt)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _serving(process, server):
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if _serving(process, server):
            break
        _stop(process)
        if attempt == SERVER_START_ATTEMPTS:
            pytest.fail(
                f"the server did not serve within {SERVER_START_TIMEOUT_S:.0f} s in"
                f" {attempt} attempts (exit code {process.returncode}):\n"
                f"$ {' '.join(command)}\n{server.output()}",
                pytrace=False,
            )
    try:
        try:
            server.credentials = read_demo_credentials(instance)
        except (OSError, ValueError) as exc:
            pytest.fail(
                f"could not read the demo credentials: {exc}\n{server.output()}", pytrace=False
            )
        missing = set(DEMO_USERS) - set(server.credentials)
        assert not missing, f"demo users missing from demo-credentials.txt: {sorted(missing)}"
        yield server
    finally:
        _stop(process)


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    """Headless system Chromium for the whole session."""
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class ConsoleLog:
    """Console errors and uncaught page errors, with the URL they happened on."""

    errors: list[str] = field(default_factory=list)
    checked: int = 0

    def unchecked(self) -> list[str]:
        return self.errors[self.checked :]


_CONSOLE_LOGS: dict[int, ConsoleLog] = {}


def console_log(page: Page) -> ConsoleLog:
    """The console-error record the ``page`` fixture keeps for ``page``."""
    return _CONSOLE_LOGS[id(page)]


@contextmanager
def recorded_page(
    browser: Browser, live_server: LiveServer, viewport: dict[str, int] | None = None
) -> Iterator[Page]:
    """A fresh page in its own browser context, its console errors recorded.

    Console errors (which include CSP violations) and uncaught exceptions are recorded; the
    helpers below check them page by page, and anything left unchecked fails on exit.
    ``viewport`` sets the window's size (Playwright's default is 1280 by 720).
    """
    options: dict = {"viewport": viewport} if viewport else {}
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    new_page = context.new_page()
    record = ConsoleLog()
    _CONSOLE_LOGS[id(new_page)] = record

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url") or new_page.url
            record.errors.append(f"console error on {new_page.url} ({where}): {message.text}")

    def on_page_error(error: Exception) -> None:
        record.errors.append(f"uncaught exception on {new_page.url}: {error}")

    new_page.on("console", on_console)
    new_page.on("pageerror", on_page_error)
    try:
        yield new_page
        leftover = record.unchecked()
        assert not leftover, "console errors after the last check:\n" + "\n".join(leftover)
    finally:
        _CONSOLE_LOGS.pop(id(new_page), None)
        context.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh page in its own browser context (no cookies shared between tests).

    Console errors (which include CSP violations) and uncaught exceptions are recorded; the
    helpers below check them page by page, and anything left unchecked fails the teardown.
    """
    with recorded_page(browser, live_server) as new_page:
        yield new_page


# A phone held upright: the narrowest width the pages are made for.
NARROW = {"width": 375, "height": 812}


@pytest.fixture
def narrow_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """Like ``page``, in a window 375 pixels wide."""
    with recorded_page(browser, live_server, NARROW) as new_page:
        yield new_page


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[], Page]]:
    """Open further pages, each in its own context (a second person signed in at once).

    Each is recorded like ``page`` and closed, with the same console check, at teardown.
    """
    with ExitStack() as stack:
        yield lambda: stack.enter_context(recorded_page(browser, live_server))


# --- helpers -------------------------------------------------------------------------------


def sign_in(
    page: Page, live_server: LiveServer, username: str, password: str | None = None
) -> None:
    """Sign in through the real form and wait for the page it lands on."""
    page.goto(f"{live_server.url}/sign-in")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(
        live_server.credentials[username] if password is None else password
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if page.url.split("?")[0].endswith("/sign-in"):
        summary = page.locator(".govuk-error-summary")
        detail = summary.inner_text() if summary.count() else "(no error summary)"
        pytest.fail(f"signing in as {username} failed; still on {page.url}: {detail}")


def assert_no_console_errors(page: Page) -> None:
    """No console errors (so no CSP violations) and no uncaught exceptions since the last check."""
    record = console_log(page)
    new = record.unchecked()
    record.checked = len(record.errors)
    assert not new, "console errors:\n" + "\n".join(new)


def _format_violations(page: Page, violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {page.url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation.get('help')} "
            f"[{violation.get('helpUrl', '')}]"
        )
        for node in violation.get("nodes", []):
            target = " ".join(str(part) for part in node.get("target", []))
            lines.append(f"    {target}: {node.get('html', '')[:200]}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Run axe-core on the page as it stands and fail listing every violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    assert results.violations_count == 0, _format_violations(page, violations)


def assert_one_h1(page: Page) -> str:
    """Exactly one ``<h1>``, and the ``<title>`` starts with its text (after any "Error: ").

    Returns the h1 text.
    """
    headings = page.locator("h1")
    count = headings.count()
    assert count == 1, f"{page.url} has {count} <h1> elements, not 1"
    heading = " ".join(headings.inner_text().split())
    title = " ".join(page.title().split())
    bare_title = title.removeprefix("Error: ")
    assert bare_title.startswith(heading), (
        f"{page.url}: the <title> {title!r} does not start with the <h1> {heading!r}"
    )
    return heading


def check_page(page: Page, problems: list[str] | None = None) -> None:
    """The checks every page gets: no console errors, one h1 matching the title, axe clean.

    With ``problems``, failures are appended to it instead of raised, so a journey can go on
    and report every page's problems together (assert the list is empty at the end).
    """
    for check in (assert_no_console_errors, assert_one_h1, assert_accessible):
        try:
            check(page)
        except AssertionError as exc:
            if problems is None:
                raise
            # Drop pytest's "assert x == y / where ..." explanation: the message says it all.
            message = str(exc).split("\nassert ")[0]
            problems.append(f"{check.__name__}: {message}")


# What has focus after a page loads, where it is, and whether it is the result of a post: a
# notification banner with role="alert" (news or a refusal) or an error summary.
FOCUSED_RESULT_JS = """() => {
    const el = document.activeElement;
    const box = el.getBoundingClientRect();
    return {
        html: el === document.body ? '<body>' : el.outerHTML.slice(0, 200),
        result: el.matches(
            '.govuk-notification-banner[role="alert"], .govuk-error-summary'),
        text: (el.innerText || '').replace(/\\s+/g, ' ').trim(),
        top: box.top, bottom: box.bottom, height: window.innerHeight,
    };
}"""


def assert_result_in_view(page: Page) -> str:
    """After a form post: its banner or error summary has focus and is in view; its text.

    In view means its top edge and title are inside the window (a long error summary may
    run on below it).
    """
    page.wait_for_load_state()
    state = page.evaluate(FOCUSED_RESULT_JS)
    assert state["result"], (
        f"after the post, focus is on {state['html']} at {page.url}, not on the result "
        "(a notification banner or an error summary)"
    )
    assert state["top"] >= -1 and state["top"] + 40 <= state["height"], (
        f"the result {state['text'][:80]!r} has focus but is out of view at {page.url}: "
        f"its top is at {state['top']:.0f} px in a window {state['height']} px high"
    )
    return state["text"]


def tab_from_focus(page: Page) -> str:
    """Press Tab once; return the outer HTML of what then has focus (to say where it went)."""
    page.keyboard.press("Tab")
    return page.evaluate("() => document.activeElement.outerHTML")


def assert_no_problems(problems: list[str]) -> None:
    """Fail listing every problem :func:`check_page` collected."""
    if problems:
        pytest.fail(
            f"{len(problems)} page check(s) failed:\n\n" + "\n\n".join(problems), pytrace=False
        )
