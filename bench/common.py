"""Shared helpers for the benchmarks: temp instances, demo seeding, sign-in, timing, tables.

The benchmarks print figures; they are not timed unit tests. Every figure is a median (or a
p95) over several repetitions taken with :func:`time.perf_counter`, because the machine they
run on may be shared and noisy.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import platform
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python bench/NAME.py` from anywhere
    sys.path.insert(0, str(REPO))

DEMO_RUBRIC = "peer-safeguarding-health-check"


# --------------------------------------------------------------------------- machine


def machine_line() -> str:
    """Return one line saying when and where the figures were taken."""
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{datetime.datetime.now().astimezone().isoformat(timespec='seconds')}  "
        f"nproc={os.cpu_count()}  Python {platform.python_version()}  "
        f"{platform.system()} {platform.machine()}  load average {load}"
    )


def header(title: str) -> None:
    """Print a benchmark's title and the machine line."""
    print(f"== {title}")
    print(f"   {machine_line()}")
    print("   (shared machine: figures vary from run to run)")


# --------------------------------------------------------------------------- instances


@contextlib.contextmanager
def temp_instance(prefix: str = "case-audit-bench-") -> Iterator[Path]:
    """Yield a fresh, empty instance folder that is removed afterwards.

    ``BENCH_TMPDIR`` chooses where (default: the system temp folder); put it on the disk the
    app will really use, since draft saves fsync (``synchronous=FULL``).
    """
    base = os.environ.get("BENCH_TMPDIR") or None
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        yield folder / "instance"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_app(instance: Path) -> Any:
    """Build the real app on ``instance`` (CSRF on, as in production)."""
    from audit import create_app

    return create_app({"INSTANCE_PATH": instance})


def connect_db(app: Any) -> Any:
    """Open a connection to the app's database the way the app does."""
    from audit.data.db import connect

    return connect(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])


@contextlib.contextmanager
def bulk_insert(db: Any) -> Iterator[None]:
    """Seed rows by SQL without the stamp triggers, then restore them and renew every stamp.

    Inside the caller's write transaction. The triggers (audit/data/stamps.py) cost a
    lookup and an upsert per row: worth it for the app's writes, waste for a benchmark's
    hundreds of thousands of seeded rows, which no cached figure has seen yet anyway.
    """
    from audit.data import stamps

    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'stamp_%'"
        )
    ]
    for name in names:
        db.execute(f'DROP TRIGGER "{name}"')
    yield
    stamps.ensure_triggers(db)
    db.execute(
        "INSERT OR REPLACE INTO data_stamp (scope, stamp) SELECT id, random() FROM review"
        " UNION ALL SELECT '*', random()"
    )


def seed_demo(app: Any) -> dict[str, str]:
    """Seed the demo review and return ``{username: password}``."""
    from audit import demo

    db = connect_db(app)
    try:
        credentials = demo.seed(db, app.extensions["rubric_library"], Path(app.instance_path))
    finally:
        db.conn.close()
    return {cred.username: cred.password for cred in credentials}


def demo_review_id(app: Any) -> str:
    """Return the id of the demo review."""
    from audit.demo import DEMO_TITLE

    db = connect_db(app)
    try:
        return db.execute("SELECT id FROM review WHERE title = ?", [DEMO_TITLE]).fetchone()[0]
    finally:
        db.conn.close()


def user_id(app: Any, username: str) -> int:
    """Return a user's id."""
    db = connect_db(app)
    try:
        return db.execute("SELECT id FROM user WHERE username = ?", [username]).fetchone()[0]
    finally:
        db.conn.close()


# --------------------------------------------------------------------------- pages and forms


def csrf_token(html: str) -> str:
    """Pull the CSRF token out of a rendered form, as a browser would submit it."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def hidden_value(html: str, name: str) -> str:
    """Return the value of the hidden input called ``name``."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag:
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else ""
    raise RuntimeError(f"no input called {name!r} on the page")


def sign_in(client: Any, username: str, password: str) -> None:
    """Sign a test client in through the real sign-in form."""
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
    )
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {username} failed: {response.status_code}")


def half_answered_form(rubric: Any, case_type: str, every: int = 2) -> dict[str, str]:
    """Form data answering every ``every``-th question well, with evidence; others blank."""
    from audit.scoring import answer_field, applicable, evidence_field

    data: dict[str, str] = {}
    index = 0
    for _section, questions in applicable(rubric, case_type):
        for question in questions:
            answered = index % every == 0
            index += 1
            value = ""
            if answered:
                if question.type == "grade":
                    value = rubric.scale.levels[1].id
                elif question.type == "yes_no":
                    value = question.good_answer or "yes"
                else:
                    value = "Synthetic summary: practice was sound, with roles not names."
            data[answer_field(question.id)] = value
            if question.type != "text":
                data[evidence_field(question.id)] = (
                    "Synthetic evidence: the record shows a clear plan." if answered else ""
                )
    data.update(
        {"feedback_given": "", "feedback_date": "", "feedback_response": "", "action_what": ""}
    )
    return data


def pick_case(app: Any, username: str, case_type: str = "cp") -> tuple[str, str, str]:
    """Return (review id, case id, how chosen) for a case of ``username`` with no audit yet.

    Prefers one of the demo's own cases; if the demo has already started all of them, adds
    one more case of that type assigned to the reviewer (through the data layer).
    """
    from audit.data import audits
    from audit.data import reviews as review_data

    review_id = demo_review_id(app)
    reviewer = user_id(app, username)
    db = connect_db(app)
    try:
        mine = audits.reviewer_cases(db, review_id, reviewer)
        fresh = [c for c in mine if c["case_type"] == case_type and not c["audit_id"]]
        if fresh:
            return review_id, fresh[0]["case_id"], "a demo case not yet started"
        case_id = review_data.add_case_files(
            db,
            review_id,
            [
                {
                    "reference": "BENCH-000001",
                    "case_type": case_type,
                    "team": "Bench Team",
                    "assigned_to": reviewer,
                }
            ],
        )[0]
        return review_id, case_id, "an added case (every demo case had an audit already)"
    finally:
        db.conn.close()


def start_half_answered_audit(
    app: Any, client: Any, username: str, password: str, case_type: str = "cp"
) -> tuple[str, str, str]:
    """Sign in, start an audit through the Start button's POST and save a half-answered draft.

    Returns (review id, audit page path, how the case was chosen).
    """
    from audit.data import reviews as review_data

    review_id, case_id, how = pick_case(app, username, case_type)
    db = connect_db(app)
    try:
        rubric = review_data.get(db, review_id).rubric
    finally:
        db.conn.close()
    sign_in(client, username, password)
    review_page = client.get(f"/reviews/{review_id}")
    if f"/cases/{case_id}/audit" not in review_page.text:
        raise RuntimeError("the review page has no Start button for the chosen case")
    started = client.post(
        f"/reviews/{review_id}/cases/{case_id}/audit",
        data={"csrf_token": csrf_token(review_page.text)},
    )
    if started.status_code != 302:
        raise RuntimeError(f"starting the audit failed: {started.status_code}")
    path = started.headers["Location"]
    page = client.get(path)
    data = half_answered_form(rubric, case_type)
    data.update(
        {
            "csrf_token": csrf_token(page.text),
            "version": hidden_value(page.text, "version"),
            "action": "save",
        }
    )
    saved = client.post(path, data=data)
    if saved.status_code != 302 or saved.headers["Location"].rstrip("/") != path.rstrip("/"):
        raise RuntimeError(f"saving the draft failed: {saved.status_code}")
    return review_id, path, how


# --------------------------------------------------------------------------- timing


def timed(fn: Callable[[], Any]) -> float:
    """Return the seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def repeat(fn: Callable[[], Any], n: int, warmup: int = 0) -> list[float]:
    """Call ``fn`` ``warmup`` times untimed, then ``n`` times; return the seconds of each."""
    for _ in range(warmup):
        fn()
    return [timed(fn) for _ in range(n)]


def median(values: Sequence[float]) -> float:
    """Return the median."""
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    """Return the 95th percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    """Format seconds."""
    return f"{seconds:.2f} s"


# --------------------------------------------------------------------------- output


def table(rows: Sequence[Sequence[Any]], headings: Sequence[str]) -> None:
    """Print a plain-text table."""
    cells = [[str(c) for c in headings], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headings))]
    for index, row in enumerate(cells):
        print("   " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            print("   " + "  ".join("-" * w for w in widths))


def verdict(passed: bool) -> str:
    """Return PASS or FAIL."""
    return "PASS" if passed else "FAIL"


def result(name: str, passed: bool, detail: str) -> None:
    """Print one target's outcome in the form ``bench/run_all.py`` collects."""
    print(f"RESULT {verdict(passed)}  {name}: {detail}")


def free_port() -> int:
    """Return a TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
