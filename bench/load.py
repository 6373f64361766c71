"""Load: 20 reviewers at once against the real server, saving drafts for a minute.

Target (from the issue): "20 reviewers at once, each opening cases and saving drafts every
few seconds for a minute. Expect zero errors, zero lost or overwritten saves, no 'database is
locked', and save p95 under 250 ms on the 2-core machine."

What it does, with no dependency beyond the standard library (threads and http.client):

1. Makes a temporary instance, seeds the demo (``python -m audit demo``) and adds reviewers
   r1..r20 (``python -m audit user add rN --role reviewer --password-stdin``). Through the
   data layer it adds them to the demo review and gives each two new child-protection cases.
2. Starts the real server: ``python -m audit serve --instance DIR --port P --threads N``,
   its output going to a log file.
3. Each of 20 client threads signs in through the form (with its CSRF token), opens its
   cases' audits with the Start button's POST, then, until the time is up, repeatedly:
   opens the review page; opens one of its audits (GET); "types" for 2 to 4 s (random);
   posts the whole scoring form back as a browser would, with one evidence box changed to a
   unique marker and ``action=save``; follows the redirect. A 302 back to the audit page is
   an acknowledged save.
4. Stops the server and checks, in the database, that every acknowledged save's marker is
   stored or was superseded by a later acknowledged save of the same field; that no two
   acknowledged saves of one audit claim the same version (a silent overwrite); that every
   acknowledged marker is in the change log; and ``PRAGMA integrity_check``. It greps the
   server log for "database is locked" and tracebacks.

``--shared``: the two sessions of each pair edit the SAME audit from stale pages. The app
lets only an audit's own reviewer edit it (another reviewer gets 403, which the script
checks once), so a pair is one reviewer signed in twice (two tabs or two devices): 20 sessions,
reviewers r1..r10. Each session posts the version it loaded 2 to 4 s earlier, so when its
partner saved in between it must get the 409 conflict page and nothing is overwritten.

Run:  .venv/bin/python bench/load.py [--seconds 60] [--threads 8] [--shared]
      .venv/bin/python bench/load.py --gunicorn 4   (several processes on one instance folder;
      gunicorn is not a dependency: pip install gunicorn first)
      (``--reviewers 20``; ``BENCH_TMPDIR`` picks the disk, as for the other benchmarks)

The script's own client threads run on the same machine as the server and compete for its
cores; latencies are measured at the client (request sent to response read, loopback), so
they include that contention and are an upper bound on the server's time.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import html
import http.client
import os
import random
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    REPO,
    free_port,
    header,
    median,
    ms,
    p95,
    result,
    table,
    temp_instance,
    verdict,
)

SAVE_P95_TARGET_S = 0.250
THINK_S = (2.0, 4.0)
CASE_TYPE = "cp"
CASES_PER_REVIEWER = 2


# --------------------------------------------------------------------------- set-up


def run_cli(instance: Path, *args: str, stdin: str | None = None) -> str:
    """Run ``python -m audit ARGS --instance DIR`` and return its output (fail loudly)."""
    proc = subprocess.run(
        [sys.executable, "-m", "audit", *args, "--instance", str(instance)],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"audit {' '.join(args)} failed: {proc.stdout}{proc.stderr}")
    return proc.stdout


def set_up(instance: Path, reviewers: int) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    """Seed the demo, add reviewers r1..rN with two new cases each.

    Returns (review id, {username: password}, {username: [case id, ...]}).
    """
    run_cli(instance, "demo")
    passwords = {f"r{n}": secrets.token_urlsafe(18) for n in range(1, reviewers + 1)}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        list(
            pool.map(
                lambda name: run_cli(
                    instance,
                    "user",
                    "add",
                    name,
                    "--role",
                    "reviewer",
                    "--name",
                    f"Load Reviewer {name[1:]}",
                    "--password-stdin",
                    stdin=passwords[name] + "\n",
                ),
                passwords,
            )
        )

    from audit.data import reviews
    from audit.data.db import connect
    from audit.demo import DEMO_TITLE

    db = connect(instance / "audit.db")
    try:
        review_id = db.execute("SELECT id FROM review WHERE title = ?", [DEMO_TITLE]).fetchone()[0]
        lead = db.execute("SELECT id FROM user WHERE username = 'lead'").fetchone()[0]
        ids = {
            row["username"]: row["id"]
            for row in db.execute("SELECT id, username FROM user WHERE username LIKE 'r%'")
        }
        for name in passwords:
            reviews.add_member(db, review_id, ids[name], "reviewer", by=lead)
        case_ids = reviews.add_case_files(
            db,
            review_id,
            [
                {"reference": f"LOAD-{n:05d}", "case_type": CASE_TYPE, "team": "Load Team"}
                for n in range(1, reviewers * CASES_PER_REVIEWER + 1)
            ],
            by=lead,
        )
        cases: dict[str, list[str]] = {}
        assignments: dict[str, int | None] = {}
        for index, name in enumerate(passwords):
            mine = case_ids[index * CASES_PER_REVIEWER : (index + 1) * CASES_PER_REVIEWER]
            cases[name] = mine
            assignments.update(dict.fromkeys(mine, ids[name]))
        reviews.assign(db, review_id, assignments, by=lead)
    finally:
        db.conn.close()
    return review_id, passwords, cases


@dataclass
class Server:
    """The real server in a subprocess, with its output in a log file."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    started_s: float

    def cpu_seconds(self) -> float:
        """User + system CPU the server (and any worker processes) used so far (Linux /proc)."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if stat.parent.name == str(self.proc.pid) or fields[1] == str(self.proc.pid):
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def server_command(instance: Path, port: int, args: argparse.Namespace) -> list[str]:
    """``python -m audit serve`` (waitress), or gunicorn with ``--gunicorn N`` workers."""
    if args.gunicorn:
        command = [sys.executable, "-m", "gunicorn", "-w", str(args.gunicorn)]
        command += ["-b", f"127.0.0.1:{port}", "audit:create_app()"]
        return command
    command = [sys.executable, "-m", "audit", "serve", "--instance", str(instance)]
    return [*command, "--port", str(port), "--threads", str(args.threads)]


def start_server(instance: Path, args: argparse.Namespace, log: Path) -> Server:
    """Start the server and wait until it answers ``GET /sign-in``."""
    port = free_port()
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            server_command(instance, port, args),
            cwd=REPO,
            env={**os.environ, "CASE_AUDIT_INSTANCE": str(instance)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/sign-in")
            if conn.getresponse().status == 200:
                conn.close()
                return Server(proc, port, log, time.perf_counter() - started)
            conn.close()
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not answer within 30 s")


# --------------------------------------------------------------------------- a browser


class Browser:
    """One reviewer's browser: a keep-alive connection and a cookie jar, no redirects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, form: list[tuple[str, str]] | None = None
    ) -> tuple[int, dict[str, str], str, float]:
        """Send one request; return (status, headers, body, seconds). Retries a dropped
        keep-alive connection once, before anything was sent."""
        body = urllib.parse.urlencode(form) if form is not None else None
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept": "text/html"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2 or method == "POST":
                    raise
                continue
            elapsed = time.perf_counter() - started
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if response.headers.get("Connection", "").lower() == "close":
                self.close()
            return response.status, dict(response.headers.items()), text, elapsed
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


_INPUT = re.compile(r"<input\b[^>]*>", re.S)
_TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.S)
_ATTR = re.compile(r'([\w:-]+)(?:="([^"]*)")?')


def _attrs(tag: str) -> dict[str, str]:
    return {k: html.unescape(v or "") for k, v in _ATTR.findall(tag)}


def csrf_token(page: str) -> str:
    """The CSRF token of any form on the page (one token per session)."""
    for tag in _INPUT.findall(page):
        attrs = _attrs(tag)
        if attrs.get("name") == "csrf_token":
            return attrs["value"]
    raise RuntimeError("no CSRF token on the page")


def scoring_form(page: str) -> list[tuple[str, str]]:
    """What a browser would post from the scoring form as shown (buttons left out)."""
    start = page.find('class="app-scoring-form"')
    if start < 0:
        raise RuntimeError("no scoring form on the page")
    end = page.find("</form>", start)
    block = page[start:end]
    fields: list[tuple[str, str]] = []
    for tag in _INPUT.findall(block):
        attrs = _attrs(tag[len("<input") : -1])
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if not name or kind in {"submit", "button", "image", "reset", "file"}:
            continue
        if kind in {"radio", "checkbox"} and "checked" not in attrs:
            continue
        fields.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
    for tag_attrs, content in _TEXTAREA.findall(block):
        name = _attrs(tag_attrs).get("name")
        if name:
            # A browser drops the one newline that follows <textarea>.
            text = html.unescape(content)
            fields.append((name, text[1:] if text.startswith("\n") else text))
    return fields


# --------------------------------------------------------------------------- the run


@dataclass
class Save:
    """One posted draft save and what came of it."""

    session: int
    audit_path: str
    posted_version: int
    question_id: str
    marker: str
    status: int | None = None  # None: no answer (a connection error)
    seconds: float = 0.0
    at: float = 0.0  # time.monotonic() when posted


@dataclass
class Stats:
    """Everything the client threads record, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    steady_after: float = float("inf")  # time.monotonic() after which requests count as steady
    steady: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    saves: list[Save] = field(default_factory=list)
    requests: int = 0

    def note(self, kind: str, status: int, seconds: float, expected: set[int]) -> None:
        with self.lock:
            self.requests += 1
            self.latencies.setdefault(kind, []).append(seconds)
            if time.monotonic() - seconds >= self.steady_after:
                self.steady.setdefault(kind, []).append(seconds)
            self.statuses[(kind, status)] += 1
            if status not in expected:
                self.errors.append(f"{kind}: HTTP {status}")

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def reviewer_session(
    index: int,
    username: str,
    password: str,
    review_id: str,
    case_ids: list[str],
    port: int,
    shared: bool,
    ready: threading.Barrier,
    go: threading.Event,
    deadline: list[float],
    stats: Stats,
) -> None:
    """One reviewer: sign in, start their audits, then open and save drafts until time is up."""
    rng = random.Random(index)
    browser = Browser(port)
    audit_paths: list[str] = []
    try:
        status, _h, page, took = browser.request("GET", "/sign-in")
        stats.note("GET /sign-in", status, took, {200})
        status, headers, _b, took = browser.request(
            "POST",
            "/sign-in",
            [("csrf_token", csrf_token(page)), ("username", username), ("password", password)],
        )
        stats.note("POST /sign-in", status, took, {302})
        if status != 302:
            raise RuntimeError(f"{username} could not sign in: HTTP {status}")
        review_path = f"/reviews/{review_id}"
        status, _h, page, took = browser.request("GET", review_path)
        stats.note("GET review page", status, took, {200})
        for case_id in case_ids:
            status, headers, _b, took = browser.request(
                "POST", f"{review_path}/cases/{case_id}/audit", [("csrf_token", csrf_token(page))]
            )
            stats.note("POST start audit", status, took, {302})
            audit_paths.append(urllib.parse.urlsplit(headers["Location"]).path)
    except Exception as exc:
        stats.error(f"session {index} ({username}) set-up: {exc!r}")
    finally:
        ready.wait()
    go.wait()
    if not audit_paths:
        browser.close()
        return
    turn = 0
    while time.monotonic() < deadline[0]:
        path = audit_paths[0] if shared else audit_paths[turn % len(audit_paths)]
        turn += 1
        try:
            status, _h, _b, took = browser.request("GET", f"/reviews/{review_id}")
            stats.note("GET review page", status, took, {200})
            status, _h, page, took = browser.request("GET", path)
            stats.note("GET audit page", status, took, {200})
            if status != 200:
                continue
            form = scoring_form(page)
            evidence = [name for name, _v in form if name.startswith("evidence-")]
            think = rng.uniform(*THINK_S)
            if time.monotonic() + think > deadline[0]:
                break
            time.sleep(think)
            target = rng.choice(evidence)
            marker = f"LOAD-{index:02d}-{turn:04d}-{secrets.token_hex(4)}"
            version = int(dict(form)["version"])
            posted = [(k, v) for k, v in form if k != target]
            posted += [
                (target, f"Synthetic evidence {marker}: the plan was reviewed."),
                ("action", "save"),
            ]
            save = Save(index, path, version, target[len("evidence-") :], marker)
            save.at = time.monotonic()
            try:
                status, headers, _b, took = browser.request("POST", path, posted)
            except Exception:
                with stats.lock:
                    stats.saves.append(save)
                raise
            save.status, save.seconds = status, took
            with stats.lock:
                stats.saves.append(save)
            stats.note("POST save draft", status, took, {302, 409} if shared else {302})
            location = urllib.parse.urlsplit(headers.get("Location", "")).path
            if status == 302:
                if location.rstrip("/") != path.rstrip("/"):
                    stats.error(f"save redirected to {location}, not back to the audit")
                status, _h, _b, took = browser.request("GET", location or path)
                stats.note("GET after save", status, took, {200})
        except Exception as exc:
            stats.error(f"session {index} ({username}): {exc!r}")
            browser.close()
            time.sleep(0.5)
    browser.close()


def probe_other_reviewer(port: int, review_id: str, path: str, user: tuple[str, str]) -> int:
    """Return the status another reviewer gets posting to an audit that is not theirs."""
    browser = Browser(port)
    try:
        _s, _h, page, _t = browser.request("GET", "/sign-in")
        browser.request(
            "POST",
            "/sign-in",
            [("csrf_token", csrf_token(page)), ("username", user[0]), ("password", user[1])],
        )
        _s, _h, page, _t = browser.request("GET", f"/reviews/{review_id}")
        status, _h, _b, _t = browser.request(
            "POST",
            path,
            [("csrf_token", csrf_token(page)), ("version", "1"), ("action", "save")],
        )
        return status
    finally:
        browser.close()


# --------------------------------------------------------------------------- checking


@dataclass
class Check:
    """What the database says about the acknowledged saves."""

    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    overwrites: list[str] = field(default_factory=list)
    not_logged: list[str] = field(default_factory=list)
    unacked_stored: int = 0
    integrity: str = ""
    superseded: int = 0


def check_database(instance: Path, saves: list[Save]) -> Check:
    """Compare every acknowledged save with what the database holds."""
    from audit.data.db import connect

    out = Check()
    db = connect(instance / "audit.db")
    try:
        out.integrity = ";".join(r[0] for r in db.execute("PRAGMA integrity_check"))
        by_audit: dict[str, list[Save]] = {}
        for save in saves:
            by_audit.setdefault(save.audit_path.rstrip("/").rsplit("/", 1)[1], []).append(save)
        for audit_id, mine in by_audit.items():
            acked = sorted((s for s in mine if s.status == 302), key=lambda s: s.posted_version)
            out.acknowledged += len(acked)
            versions = Counter(s.posted_version for s in acked)
            for version, n in versions.items():
                if n > 1:
                    out.overwrites.append(
                        f"{audit_id}: {n} acknowledged saves all posted version {version}"
                    )
            stored_version = db.execute(
                "SELECT version FROM case_audit WHERE id = ?", [audit_id]
            ).fetchone()[0]
            expected_version = 1 + len(acked)
            if stored_version != expected_version:
                # Saves whose answer never arrived may have been stored; they count separately.
                unanswered = sum(1 for s in mine if s.status is None)
                extra = stored_version - expected_version
                if 0 < extra <= unanswered:
                    out.unacked_stored += extra
                else:
                    out.lost.append(
                        f"{audit_id}: version {stored_version}, expected {expected_version}"
                    )
            stored = {
                row["question_id"]: row["evidence"]
                for row in db.execute(
                    "SELECT question_id, evidence FROM answer WHERE audit_id = ?", [audit_id]
                )
            }
            last: dict[str, Save] = {}
            for save in acked:
                if save.question_id in last:
                    out.superseded += 1
                last[save.question_id] = save
            for question_id, save in last.items():
                if save.marker not in (stored.get(question_id) or ""):
                    holder = stored.get(question_id, "")
                    later_unacked = any(
                        s.status is None and s.marker in holder
                        for s in mine
                        if s.question_id == question_id
                    )
                    if not later_unacked:
                        out.lost.append(
                            f"{audit_id} {question_id}: {save.marker} missing"
                            f" (stored: {holder[:60]!r})"
                        )
            logged = "\n".join(
                row[0]
                for row in db.execute(
                    "SELECT after FROM change_log WHERE entity = 'case_audit' AND entity_id = ?"
                    " AND action = 'update'",
                    [audit_id],
                )
            )
            out.not_logged += [s.marker for s in acked if s.marker not in logged]
    finally:
        db.conn.close()
    return out


# --------------------------------------------------------------------------- main


def run(args: argparse.Namespace) -> bool:
    mode = "shared audits (pairs, stale pages)" if args.shared else "own audits"
    server_name = f"gunicorn -w {args.gunicorn}" if args.gunicorn else f"--threads {args.threads}"
    header(f"Load: {args.reviewers} reviewers, {mode}, {args.seconds:.0f} s, {server_name}")
    with temp_instance("case-audit-load-") as instance:
        started = time.perf_counter()
        review_id, passwords, cases = set_up(instance, args.reviewers)
        took = time.perf_counter() - started
        print(f"   set-up (demo, {args.reviewers} users, cases): {took:.1f} s")
        log = instance.parent / "server.log"
        server = start_server(instance, args, log)
        print(f"   server answering after {server.started_s:.2f} s on port {server.port}")
        stats = Stats()
        sessions: list[tuple[str, list[str]]] = []
        names = list(passwords)
        for index in range(args.reviewers):
            # --shared: sessions 2k and 2k+1 are one reviewer signed in twice, on one audit.
            name = names[index // 2] if args.shared else names[index]
            sessions.append((name, cases[name]))
        ready = threading.Barrier(len(sessions) + 1)
        go = threading.Event()
        deadline = [float("inf")]
        threads = [
            threading.Thread(
                target=reviewer_session,
                args=(
                    i,
                    name,
                    passwords[name],
                    review_id,
                    mine,
                    server.port,
                    args.shared,
                    ready,
                    go,
                    deadline,
                    stats,
                ),
                daemon=True,
            )
            for i, (name, mine) in enumerate(sessions)
        ]
        try:
            signed_in_at = time.perf_counter()
            for thread in threads:
                thread.start()
            ready.wait()
            sign_in_s = time.perf_counter() - signed_in_at
            load_before = os.getloadavg()
            cpu_before = server.cpu_seconds()
            log_at_start = log.stat().st_size
            wall_start = time.perf_counter()
            deadline[0] = time.monotonic() + args.seconds
            stats.steady_after = deadline[0] - args.seconds + 10
            go.set()
            for thread in threads:
                thread.join(timeout=args.seconds + 120)
            wall = time.perf_counter() - wall_start
            cpu = server.cpu_seconds() - cpu_before
            load_after = os.getloadavg()
            probe = None
            if args.shared and len(names) > 1:
                first = sessions[0]
                other = names[-1]
                path = next((s.audit_path for s in stats.saves if s.session == 0), None)
                if path and other != first[0]:
                    probe = probe_other_reviewer(
                        server.port, review_id, path, (other, passwords[other])
                    )
        finally:
            server.stop()
        server_log = log.read_text(encoding="utf-8", errors="replace")
        check = check_database(instance, stats.saves)

    locked = server_log.count("database is locked")
    tracebacks = server_log.count("Traceback (most recent call last)")
    queue_warnings = len(re.findall(r"Task queue depth is \d+", server_log))
    queue_in_run = len(re.findall(r"Task queue depth is \d+", server_log[log_at_start:]))
    max_queue = max(
        (int(n) for n in re.findall(r"Task queue depth is (\d+)", server_log)), default=0
    )
    saves = [s for s in stats.saves if s.status == 302]
    conflicts = [s for s in stats.saves if s.status == 409]
    save_times = [s.seconds for s in saves + conflicts]
    # After the first 10 s: the 20 sessions start in step (a burst of first, cold page views).
    steady = [s.seconds for s in saves + conflicts if s.at >= deadline[0] - args.seconds + 10]

    print(f"   {args.reviewers} sessions signed in and opened their audits in {sign_in_s:.2f} s")
    print(
        f"   load average before/after the timed run: "
        f"{'/'.join(f'{x:.2f}' for x in load_before)} -> {'/'.join(f'{x:.2f}' for x in load_after)}"
    )
    print(f"   server CPU during the run: {cpu:.1f} s in {wall:.1f} s ({cpu / wall:.2f} cores)")
    rows = []
    for kind, values in sorted(stats.latencies.items()):
        codes = ", ".join(
            f"{code}x{n}" for (k, code), n in sorted(stats.statuses.items()) if k == kind
        )
        later = stats.steady.get(kind)
        steady_cells = [ms(p95(later)), ms(max(later))] if later else ["-", "-"]
        all_of = [ms(median(values)), ms(p95(values)), ms(max(values))]
        rows.append([kind, len(values), *all_of, codes, *steady_cells])
    table(
        rows,
        ["request", "n", "median", "p95", "max", "statuses", "p95 after 10 s", "max after 10 s"],
    )
    print(f"   requests: {stats.requests} ({stats.requests / wall:.1f}/s)")
    print(f"   errors: {len(stats.errors)}")
    for message in stats.errors[:10]:
        print(f"     {message}")
    print(f"   saves acknowledged (302): {len(saves)} ({len(saves) / wall:.1f}/s)")
    if save_times:
        print(
            f"   save latency (POST, 302 and 409): median {ms(median(save_times))}, "
            f"p95 {ms(p95(save_times))}, max {ms(max(save_times))}"
        )
    if steady:
        print(
            f"   save latency after the first 10 s ({len(steady)} saves): median "
            f"{ms(median(steady))}, p95 {ms(p95(steady))}, max {ms(max(steady))}"
        )
    print(f"   conflicts (409): {len(conflicts)}")
    print(
        f"   database: integrity_check {check.integrity}; acknowledged saves checked "
        f"{check.acknowledged}; lost {len(check.lost)}; silent overwrites {len(check.overwrites)}; "
        f"not in change log {len(check.not_logged)}; superseded by a later save of the same "
        f"box {check.superseded}; stored without an answer {check.unacked_stored}"
    )
    for message in (check.lost + check.overwrites)[:10]:
        print(f"     {message}")
    print(
        f"   server log: 'database is locked' x{locked}; tracebacks x{tracebacks}; "
        f"waitress queue-depth warnings x{queue_warnings} (deepest {max_queue}; "
        f"{queue_warnings - queue_in_run} while signing in, {queue_in_run} in the timed run)"
    )
    if probe is not None:
        print(f"   another reviewer posting to this audit: HTTP {probe} (expected 403)")

    p95_save = p95(save_times) if save_times else float("inf")
    targets = [
        (
            "zero errors",
            not stats.errors and tracebacks == 0,
            f"{len(stats.errors)} errors, {tracebacks} tracebacks",
        ),
        (
            "zero lost saves",
            not check.lost and not check.not_logged and check.integrity == "ok",
            f"{len(check.lost)} lost, {len(check.not_logged)} not in the change log, "
            f"integrity {check.integrity}",
        ),
        ("no silent overwrites", not check.overwrites, f"{len(check.overwrites)}"),
        ("no 'database is locked'", locked == 0, f"{locked} in the server log"),
        (
            f"save p95 < {SAVE_P95_TARGET_S * 1000:.0f} ms",
            p95_save < SAVE_P95_TARGET_S,
            ms(p95_save),
        ),
    ]
    if args.shared:
        targets.append(
            ("stale saves refused (409 seen)", bool(conflicts), f"{len(conflicts)} conflicts")
        )
        if probe is not None:
            targets.append(("other reviewer refused", probe == 403, f"HTTP {probe}"))
    else:
        targets.append(("zero conflicts", not conflicts, f"{len(conflicts)} conflicts"))
    for name, passed, detail in targets:
        print(f"   {verdict(passed)}  {name}: {detail}")
    passed = all(p for _n, p, _d in targets)
    result(
        f"load ({mode}, {server_name})",
        passed,
        f"{len(saves)} saves, p95 {ms(p95_save)}, errors {len(stats.errors)}, "
        f"lost {len(check.lost)}, overwrites {len(check.overwrites)}, locked {locked}, "
        f"409s {len(conflicts)}",
    )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="timed run (default 60)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (default 8)")
    parser.add_argument(
        "--gunicorn",
        type=int,
        default=0,
        metavar="WORKERS",
        help="serve with gunicorn -w WORKERS instead (pip install gunicorn first)",
    )
    parser.add_argument("--reviewers", type=int, default=20, help="client sessions (default 20)")
    parser.add_argument(
        "--shared", action="store_true", help="pairs of sessions edit the same audit"
    )
    args = parser.parse_args()
    if args.shared and args.reviewers % 2:
        parser.error("--shared needs an even number of --reviewers")
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
