"""Crash safety: a process saving audits is killed with SIGKILL mid-write, many times.

The promise under test (``audit/data/db.py``: WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE``)
is that a draft save a reviewer saw acknowledged survives the server process dying at any
moment, and that a kill never leaves the database damaged or half-written.

How: a child process (a small script written into ``tmp_path``) opens the database with
``audit.data.db.connect`` and loops over ``audit.data.audits.save``, changing one answer's
evidence to a counter value. Only after ``save`` has returned (the transaction committed)
does it print ``ACK <audit_id> <version> <counter>`` and flush. The parent reads those lines
and, a random 20 to 200 ms after the child's first acknowledgement, sends SIGKILL. Every line
that reached the pipe before the kill counts as acknowledged: the client saw it.

After each kill the parent opens the database afresh (WAL recovery runs) and checks:

- ``PRAGMA integrity_check`` is ``ok`` and ``PRAGMA foreign_key_check`` finds nothing;
- for every acknowledged save, the stored audit's version is at least the acknowledged one;
- the last acknowledged counter's evidence is stored, or the one after it (a save that
  committed but whose acknowledgement the kill cut off); nothing older, nothing further;
- the version and the evidence moved together (each save adds one to both), and the change
  log holds exactly one entry per save: no save was half-applied.

About 15 rounds with one writer, then rounds with two writer processes on different audits
at once (contending for the write lock), then the same checks. Runs in well under 20 s.

What a killed process cannot show: losing power or the operating system. The kernel's page
cache outlives a killed process, so this tests the commit protocol (acknowledge only after
COMMIT; WAL recovery on the next open), not the fsyncs that ``synchronous=FULL`` adds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from audit.data import audits
from audit.data.db import connect
from audit.scoring import applicable
from tests.helpers import health_check, make_review

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGKILL"), reason="needs POSIX signals (SIGKILL)"
)

REPO = Path(__file__).resolve().parent.parent
SINGLE_ROUNDS = 15
PAIR_ROUNDS = 3
KILL_AFTER_MS = (20, 200)
FILLER = "Synthetic evidence: the plan was reviewed on time and the child's views sought. " * 8

# The writer: loops saving drafts and acknowledges each save only after it has returned.
WRITER = textwrap.dedent(
    """
    import sys

    from audit.data import audits
    from audit.data.db import connect
    from audit.scoring import Answer

    db_path, audit_id, question_id, reviewer_id, counter = sys.argv[1:6]
    reviewer_id, counter = int(reviewer_id), int(counter)
    filler = sys.stdin.read()
    db = connect(db_path)
    version = audits.get(db, audit_id).version
    print("READY", audit_id, version, flush=True)
    while True:
        counter += 1
        result = audits.save(
            db,
            audit_id,
            expected_version=version,
            answers={question_id: Answer(None, False, f"counter {counter}: {filler}")},
            sections_na=[],
            feedback={},
            adverse_questions=[],
            critical_questions=[],
            by=reviewer_id,
        )
        version = result.version
        print("ACK", audit_id, version, counter, flush=True)
    """
)


@dataclass
class Writer:
    """One writer process and the acknowledgements its parent has read from it."""

    audit_id: str
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    first_ack: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None

    def read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if not line.endswith("\n"):  # cut off by the kill: never seen whole, not acked
                break
            self.lines.append(line)
            if line.startswith("ACK "):
                self.first_ack.set()
        self.first_ack.set()  # the process ended (or was killed): stop waiting either way

    @property
    def acks(self) -> list[tuple[int, int]]:
        """(version, counter) of every acknowledged save, in order."""
        found = []
        for line in self.lines:
            kind, audit_id, *rest = line.split()
            if kind == "ACK":
                assert audit_id == self.audit_id
                found.append((int(rest[0]), int(rest[1])))
        return found


def _stored(db_path: str, audit_id: str) -> tuple[int, int | None, int]:
    """Return (version, counter in the evidence or None, change-log updates) for an audit."""
    db = connect(db_path)
    try:
        sql = "SELECT version FROM case_audit WHERE id = ?"
        version = db.execute(sql, [audit_id]).fetchone()[0]
        row = db.execute("SELECT evidence FROM answer WHERE audit_id = ?", [audit_id]).fetchone()
        counter = None if row is None else int(row[0].split(":", 1)[0].removeprefix("counter "))
        logged = db.execute(
            "SELECT count(*) FROM change_log WHERE entity = 'case_audit' AND entity_id = ?"
            " AND action = 'update'",
            [audit_id],
        ).fetchone()[0]
    finally:
        db.conn.close()
    return version, counter, logged


def _check_database(db_path: str) -> None:
    db = connect(db_path)
    try:
        assert [r[0] for r in db.execute("PRAGMA integrity_check")] == ["ok"]
        assert list(db.execute("PRAGMA foreign_key_check")) == []
    finally:
        db.conn.close()


def _start(
    script: Path, db_path: str, audit_id: str, question_id: str, reviewer_id: int, counter: int
) -> Writer:
    args = [db_path, audit_id, question_id, str(reviewer_id), str(counter)]
    proc = subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(FILLER)
    proc.stdin.close()
    writer = Writer(audit_id, proc)
    writer.reader = threading.Thread(target=writer.read, daemon=True)
    writer.reader.start()
    return writer


def _kill(writer: Writer, delay: float) -> str:
    """SIGKILL the writer ``delay`` seconds after its first ack; return its stderr."""
    if not writer.first_ack.wait(timeout=10):
        writer.proc.kill()
    time.sleep(delay)
    still_running = writer.proc.poll() is None
    writer.proc.send_signal(signal.SIGKILL)
    writer.proc.wait(timeout=10)
    assert writer.reader is not None
    writer.reader.join(timeout=10)
    assert writer.proc.stdout is not None and writer.proc.stderr is not None
    stderr = writer.proc.stderr.read()
    writer.proc.stdout.close()
    writer.proc.stderr.close()
    # The writer must have been saving until the kill, not died of an error of its own
    # (a "database is locked" while another writer held the lock would show up here).
    assert still_running and writer.proc.returncode == -signal.SIGKILL, stderr
    assert writer.acks, f"no save was acknowledged before the kill; stderr: {stderr}"
    return stderr


def _verify(db_path: str, writer: Writer, before: tuple[int, int]) -> tuple[int, int]:
    """Check every acknowledged save of one writer is stored; return (version, counter) now."""
    acks = writer.acks
    version, counter, logged = _stored(db_path, writer.audit_id)
    assert counter is not None
    for acked_version, _acked_counter in acks:
        assert version >= acked_version, (writer.audit_id, version, acked_version)
    last_version, last_counter = acks[-1]
    # The latest acknowledged save is visible; at most one later (unacknowledged) save is.
    assert counter in (last_counter, last_counter + 1), (counter, last_counter)
    assert version - last_version == counter - last_counter
    # Every save since the round began committed whole: one version, one log entry each.
    assert version - before[0] == counter - before[1]
    assert logged == version - 1
    return version, counter


def test_acknowledged_saves_survive_sigkill(app, db, people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL a process mid-save ~15 times (and two at once 3 times): nothing acked is lost.

    Each round: start a writer, let it save for a random 20 to 200 ms after its first
    acknowledgement, SIGKILL it, then check the database is intact (integrity_check "ok")
    and holds every acknowledged save (the last acked counter, or the one after it).
    """
    started = time.monotonic()
    _review, case_ids = make_review(db, people, case_types=("cp", "cin"))
    reviewer = people["reviewer"].id
    audit_ids = [audits.start(db, case_id, reviewer) for case_id in case_ids]
    rubric = health_check()
    question = next(q for _s, qs in applicable(rubric, "cp") for q in qs if q.type != "text")
    # cp and cin share the rubric's core questions; use one both case types show.
    assert any(q.id == question.id for _s, qs in applicable(rubric, "cin") for q in qs)
    db.conn.close()
    db_path = app.config["DATABASE"]
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    rng = random.Random(20261126)
    state = {audit_id: (1, 0) for audit_id in audit_ids}  # (version, counter) stored now
    acknowledged = 0

    rounds = [[audit_ids[0]]] * SINGLE_ROUNDS + [audit_ids] * PAIR_ROUNDS
    for index, round_audits in enumerate(rounds):
        writers = [
            _start(script, db_path, audit_id, question.id, reviewer, state[audit_id][1])
            for audit_id in round_audits
        ]
        delays = [rng.uniform(*KILL_AFTER_MS) / 1000 for _ in writers]
        for writer, delay in zip(writers, delays, strict=True):
            _kill(writer, delay)
        _check_database(db_path)
        for writer in writers:
            state[writer.audit_id] = _verify(db_path, writer, state[writer.audit_id])
            acknowledged += len(writer.acks)
        assert time.monotonic() - started < 60, f"too slow: stopped after round {index + 1}"

    # Some real work was interrupted: many saves in all, and both audits moved on.
    assert acknowledged >= len(rounds)
    assert all(version > 1 for version, _counter in state.values())
    assert not list(tmp_path.glob("*.db-journal"))
