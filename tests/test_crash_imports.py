"""Crash safety of the big writes: the server is killed (SIGKILL) in the middle of one.

In the spirit of tests/test_crash_safety.py (which does it to draft saves): the real server
(``python -m audit serve``) imports a bundle or a case list posted over HTTP, or runs a
migration as it starts, and is killed while that write holds the database's write lock.
The test knows it is in the middle because it polls for the lock from its own connection
(``BEGIN IMMEDIATE`` with no wait fails only while someone else is writing) and kills at the
first failure. Then it opens the database afresh (WAL recovery runs) and checks:

- ``PRAGMA integrity_check`` is ``ok`` and ``PRAGMA foreign_key_check`` finds nothing;
- nothing of the operation was written: every table holds exactly the rows it held before;
- the operation can be run again, on a restarted server, and then it is all there.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from audit import create_app
from audit.bundles import bundle
from audit.data import reviews, users
from audit.data.db import connect, utcnow
from audit.scoring import applicable
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import health_check
from tests.test_hostile import table_counts

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGKILL"), reason="needs POSIX signals (SIGKILL)"
)

REPO = Path(__file__).resolve().parent.parent
LOCK_WAIT_S = 60.0


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(instance: Path, log: Path, code: str = "") -> tuple[subprocess.Popen[bytes], str]:
    """Start the real server on ``instance`` (after running ``code`` in it); wait for it."""
    port = _port()
    script = code + textwrap.dedent(
        f"""
        from audit.cli import main
        main(["serve", "--port", "{port}", "--instance", {str(instance)!r}])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", script], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return proc, f"http://127.0.0.1:{port}"


def _wait_up(proc: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server stopped"
        try:
            requests.get(f"{url}/sign-in", timeout=10)
            return
        except requests.RequestException:  # not listening yet, or slow on a busy machine
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def _writing(db_path: str) -> bool:
    """Tell whether another connection holds the write lock right now."""
    conn = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        conn.execute("ROLLBACK")
        return False
    finally:
        conn.close()


def _kill_mid_write(proc: subprocess.Popen, db_path: str) -> None:  # type: ignore[type-arg]
    """SIGKILL the process as soon as it is seen holding the write lock."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while time.monotonic() < deadline:
        if _writing(db_path):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            return
        assert proc.poll() is None, "the server stopped before it wrote"
        time.sleep(0.002)
    proc.kill()
    raise AssertionError("never saw the server writing")


def _check_database(db_path: str) -> None:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def _sign_in(url: str) -> requests.Session:
    web = requests.Session()
    token = csrf_token(web.get(f"{url}/sign-in", timeout=30).text)
    signed = web.post(
        f"{url}/sign-in",
        data={"username": "lead", "password": PASSWORD, "csrf_token": token},
        timeout=30,
    )
    assert signed.ok
    return web


def _upload(web: requests.Session, url: str, route: str, field: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    token = csrf_token(web.get(f"{url}{route}", timeout=30).text)
    return web.post(
        f"{url}{route}",
        data={"csrf_token": token},
        files={field: (name, data)},
        timeout=120,
    )


def _post_in_background(  # type: ignore[no-untyped-def]
    web: requests.Session, url: str, route: str, field: str, name: str, data: bytes
):
    """Start posting an upload on a thread (the server will die under it); return the thread."""
    token = csrf_token(web.get(f"{url}{route}", timeout=30).text)

    def post() -> None:
        with contextlib.suppress(requests.RequestException):
            web.post(
                f"{url}{route}",
                data={"csrf_token": token},
                files={field: (name, data)},
                timeout=120,
            )

    poster = threading.Thread(target=post)
    poster.start()
    return poster


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """An instance with a lead and a review, built in this process, served by another."""
    folder = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": folder})
    db = connect(app.config["DATABASE"])
    lead = users.create(db, "lead", PASSWORD, "lead")
    reviewer = users.create(db, "reviewer", PASSWORD, "reviewer")
    review = reviews.create(
        db,
        title="Crash review",
        host_organisation="Testshire Council",
        kind="peer_review",
        rubric=health_check(),
        by=lead.id,
    )
    reviews.add_member(db, review.id, lead.id, "lead")
    reviews.add_member(db, review.id, reviewer.id, "reviewer")
    (folder / "review_id").write_text(review.id)
    db.conn.close()
    return folder


def _big_bundle(tmp_path: Path, cases: int) -> bytes:
    """Export a review of ``cases`` submitted audits from a scratch instance."""
    app = create_app({"INSTANCE_PATH": tmp_path / "scratch"})
    db = connect(app.config["DATABASE"])
    lead = users.create(db, "lead", PASSWORD, "lead")
    rubric = health_check()
    review = reviews.create(
        db,
        title="Imported review",
        host_organisation="Elsewhere Council",
        kind="peer_review",
        rubric=rubric,
        by=lead.id,
    )
    reviews.add_member(db, review.id, lead.id, "lead")
    case_ids = reviews.add_case_files(
        db,
        review.id,
        [
            {"reference": f"IMP-{n:05d}", "case_type": "cp", "assigned_to": lead.id}
            for n in range(cases)
        ],
    )
    now = utcnow()
    audit_rows, answer_rows = [], []
    for case_id in case_ids:
        audit_id = str(uuid.uuid4())
        audit_rows.append((audit_id, case_id, review.id, lead.id, now))
        for _section, questions in applicable(rubric, "cp"):
            for q in questions:
                value = "good" if q.type == "grade" else (q.good_answer or "yes")
                if q.type == "text":
                    value = "Synthetic summary."
                answer_rows.append((audit_id, q.id, value, "Synthetic evidence.", now))
    with db.conn:
        db.conn.executemany(
            "INSERT INTO case_audit (id, case_id, review_id, reviewer_id, purpose, status,"
            " version, sections_not_applicable, created_at, updated_at, submitted_at)"
            " VALUES (?, ?, ?, ?, 'first', 'submitted', 2, '[]', ?5, ?5, ?5)",
            audit_rows,
        )
        db.conn.executemany(
            "INSERT INTO answer (audit_id, question_id, value, not_applicable, evidence,"
            " updated_at) VALUES (?, ?, ?, 0, ?, ?)",
            answer_rows,
        )
    data = bundle.dumps(bundle.export_review(db, review.id))
    db.conn.close()
    return data


def test_sigkill_mid_bundle_import(instance: Path, tmp_path: Path) -> None:
    data = _big_bundle(tmp_path, cases=60)
    db_path = str(instance / "audit.db")
    imported_id = json.loads(data)["review"]["id"]
    before = table_counts(connect(db_path))
    proc, url = _serve(instance, tmp_path / "server.log")
    _wait_up(proc, url)
    web = _sign_in(url)
    sessions_before = table_counts(connect(db_path))
    poster = _post_in_background(web, url, "/reviews/import", "bundle_file", "big.json", data)
    _kill_mid_write(proc, db_path)
    poster.join(timeout=30)
    _check_database(db_path)
    assert table_counts(connect(db_path)) == sessions_before, "the import was half written"
    assert before["review"] == sessions_before["review"]

    proc, url = _serve(instance, tmp_path / "server.log")
    try:
        _wait_up(proc, url)
        again = _upload(_sign_in(url), url, "/reviews/import", "bundle_file", "big.json", data)
        assert again.ok and "Imported" in again.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    db = connect(db_path)
    audits = db.execute("SELECT count(*) FROM case_audit WHERE review_id = ?", [imported_id])
    assert audits.fetchone()[0] == 60
    _check_database(db_path)


def test_sigkill_mid_case_list_import(instance: Path, tmp_path: Path) -> None:
    review_id = (instance / "review_id").read_text()
    rows = "".join(f"CRASH-{n:05d},cp,Team {n % 9},2026-03-02\n" for n in range(6_000))
    data = f"reference,case_type,team,referral_date\n{rows}".encode()
    db_path = str(instance / "audit.db")
    proc, url = _serve(instance, tmp_path / "server.log")
    _wait_up(proc, url)
    web = _sign_in(url)
    route = f"/reviews/{review_id}/cases/import"
    before = table_counts(connect(db_path))
    poster = _post_in_background(web, url, route, "case_file", "cases.csv", data)
    _kill_mid_write(proc, db_path)
    poster.join(timeout=30)
    _check_database(db_path)
    assert table_counts(connect(db_path)) == before, "the case list was half imported"

    proc, url = _serve(instance, tmp_path / "server.log")
    try:
        _wait_up(proc, url)
        again = _upload(_sign_in(url), url, route, "case_file", "cases.csv", data)
        assert again.ok
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    count = connect(db_path).execute(
        "SELECT count(*) FROM case_file WHERE review_id = ?", [review_id]
    )
    assert count.fetchone()[0] == 6_000
    _check_database(db_path)


# A migration that writes a table and rows, then holds its transaction open: the server is
# killed inside it. On the second start the same migration runs quickly to the end.
SLOW_MIGRATION = textwrap.dedent(
    """
    import os, time
    from audit.data import migrations

    def crash_test_migration(db):
        db.execute("CREATE TABLE crash_probe (id INTEGER PRIMARY KEY, note TEXT)")
        db.conn.executemany(
            "INSERT INTO crash_probe (note) VALUES (?)", [("row",)] * 5000
        )
        db.execute("UPDATE review SET title = title || ' (migrated)'")
        if os.environ.get("CRASH_PROBE_SLOW"):
            time.sleep(60)

    migrations.MIGRATIONS.append(("crash_probe_migration", crash_test_migration))
    """
)


def test_sigkill_mid_migration(instance: Path, tmp_path: Path) -> None:
    db_path = str(instance / "audit.db")
    before = table_counts(connect(db_path))
    title = connect(db_path).execute("SELECT title FROM review").fetchone()[0]
    os.environ["CRASH_PROBE_SLOW"] = "1"
    try:
        proc, _url = _serve(instance, tmp_path / "server.log", SLOW_MIGRATION)
        _kill_mid_write(proc, db_path)
    finally:
        del os.environ["CRASH_PROBE_SLOW"]
    _check_database(db_path)
    db = connect(db_path)
    assert "crash_probe" not in db.table_names(), "the migration was half applied"
    assert table_counts(db) == before
    assert db.execute("SELECT title FROM review").fetchone()[0] == title
    assert "crash_probe_migration" not in {
        row[0] for row in db.execute("SELECT name FROM schema_migration")
    }

    proc, url = _serve(instance, tmp_path / "server.log", SLOW_MIGRATION)
    try:
        _wait_up(proc, url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    db = connect(db_path)
    assert db.execute("SELECT count(*) FROM crash_probe").fetchone()[0] == 5000
    assert db.execute("SELECT title FROM review").fetchone()[0] == f"{title} (migrated)"
    _check_database(db_path)
