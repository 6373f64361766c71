"""Security and data safety: throttling, passwords, audit trail, backups, deletion, hostile text."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit import create_app
from audit.cli import main
from audit.data import audits, findings, migrations, users
from audit.data import reviews as review_data
from audit.data.backup import BackupInvalid, backup, check
from audit.data.db import connect
from audit.scoring import Answer
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.helpers import make_review

HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}{% raw %}",
    "${7*7}",
    '=HYPERLINK("http://evil.example","click")',
    "@SUM(1+1)",
    "javascript:alert(1)",
]


def test_sign_in_is_throttled_per_account_and_the_message_never_says_who_exists(
    client,
    auth,
    people,  # type: ignore[no-untyped-def]
) -> None:
    for _ in range(5):
        auth.sign_in("lead", "wrong-password-123")
    blocked = auth.sign_in("lead", PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert "Too many failed attempts to sign in" in blocked.text
    for _ in range(5):
        auth.sign_in("nobody-at-all", "wrong-password-123")
    ghost = auth.sign_in("nobody-at-all", "wrong-password-123")
    assert ghost.status_code == 429 and "Too many failed attempts" in ghost.text
    assert auth.sign_in("reviewer").status_code == 302  # other accounts are unaffected


def test_throttle_counts_live_in_the_database_across_processes(instance: Path, people) -> None:  # type: ignore[no-untyped-def]
    first = create_app({"INSTANCE_PATH": instance})
    second = create_app({"INSTANCE_PATH": instance})
    for _ in range(5):
        Auth(first.test_client()).sign_in("admin", "wrong-password-123")
    assert Auth(second.test_client()).sign_in("admin").status_code == 429


def test_throttle_per_address_across_usernames(client, auth, people) -> None:  # type: ignore[no-untyped-def]
    for n in range(20):
        auth.sign_in(f"guess{n}", "wrong-password-123")
    assert auth.sign_in("admin").status_code == 429


def test_common_and_short_passwords_are_refused(client, auth, db, people) -> None:  # type: ignore[no-untyped-def]
    auth.sign_in("admin")
    page = client.get("/admin/users/new").text
    for password, message in [("password123", "too easy to guess"), ("short", "at least 10")]:
        response = client.post(
            "/admin/users/new",
            data={
                "username": "newbie",
                "display_name": "New",
                "role": "reviewer",
                "password": password,
                "confirm": password,
                "csrf_token": csrf_token(page),
            },
        )
        assert message in response.text
    assert users.by_username(db, "newbie") is None
    result = CliRunner().invoke(
        main,
        [
            "user",
            "add",
            "x",
            "--role",
            "lead",
            "--password-stdin",
            "--instance",
            str(Path(db.conn.execute("PRAGMA database_list").fetchone()[2]).parent),
        ],
        input="qwerty12345\n",
    )
    assert result.exit_code == 1 and "too easy to guess" in result.output


def test_audit_trail_is_readable_by_leads_and_admins_only_and_not_editable(
    client,
    auth,
    db,
    people,  # type: ignore[no-untyped-def]
) -> None:
    review, case_ids = make_review(db, people)
    audit_id = audits.start(db, case_ids[0], people["reviewer"].id)
    audits.save(
        db,
        audit_id,
        expected_version=1,
        answers={"risks_identified": Answer("no")},
        sections_na=(),
        feedback={},
        adverse_questions=(),
        critical_questions=(),
        by=people["reviewer"].id,
    )
    auth.sign_in("lead")
    page = client.get(f"/reviews/{review.id}/history").text
    assert "Audit trail" in page and "Update case audit" in page and "Test Reviewer" in page
    assert client.post(f"/reviews/{review.id}/history").status_code == 405
    auth.sign_in("reviewer")
    assert client.get(f"/reviews/{review.id}/history").status_code == 403
    auth.sign_in("admin")
    everything = client.get("/admin/history").text
    assert "Create user" in everything and review.title in everything


def test_backup_while_saving_is_consistent_and_restores(app, db, people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = make_review(db, people)
    audit_id = audits.start(db, case_ids[0], people["reviewer"].id)
    stop = threading.Event()
    saved: list[int] = []

    def keep_saving() -> None:
        writer = connect(app.config["DATABASE"])
        version = 1
        while not stop.is_set():
            result = audits.save(
                writer,
                audit_id,
                expected_version=version,
                answers={"risks_identified": Answer("yes", evidence=f"note {version}")},
                sections_na=(),
                feedback={},
                adverse_questions=(),
                critical_questions=(),
                by=people["reviewer"].id,
            )
            version = result.version
            saved.append(version)
        writer.conn.close()

    thread = threading.Thread(target=keep_saving)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(saved) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)  # let the writer commit some saves before copying
        assert len(saved) >= 20, "the writer thread did not get going"
        copies = [tmp_path / f"copy{n}.db" for n in range(3)]
        for copy in copies:
            backup(app.config["DATABASE"], copy)
    finally:
        stop.set()
        thread.join()
    for copy in copies:
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (version,) = conn.execute(
            "SELECT version FROM case_audit WHERE id = ?", [audit_id]
        ).fetchone()
        (evidence,) = conn.execute(
            "SELECT evidence FROM answer WHERE audit_id = ?", [audit_id]
        ).fetchone()
        assert evidence == f"note {version - 1}"  # answer and version from one transaction
        assert conn.execute("SELECT count(*) FROM case_file").fetchone()[0] == 3
        conn.close()
    # restore the first copy into a fresh instance through the command line
    other = tmp_path / "restored"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--instance", str(other)]).exit_code == 0
    result = runner.invoke(main, ["restore", str(copies[0]), "--yes", "--instance", str(other)])
    assert result.exit_code == 0, result.output
    restored = connect(other / "audit.db")
    assert review_data.get(restored, review.id).title == review.title
    restored.conn.close()
    (tmp_path / "junk.db").write_bytes(b"not a database at all")
    with pytest.raises(BackupInvalid, match="not an SQLite database"):
        check(tmp_path / "junk.db")
    bad = runner.invoke(
        main, ["restore", str(tmp_path / "junk.db"), "--yes", "--instance", str(other)]
    )
    assert bad.exit_code == 1


def test_backup_command(tmp_path: Path) -> None:
    runner = CliRunner()
    inst = str(tmp_path / "inst")
    runner.invoke(main, ["demo", "--instance", inst])
    result = runner.invoke(main, ["backup", str(tmp_path / "b.db"), "--instance", inst])
    assert result.exit_code == 0 and "integrity check ok" in result.output
    # Every migration is in the backup, the newest last (names need not start with digits).
    assert check(tmp_path / "b.db")[-1] == migrations.latest()


def test_admin_deletes_a_closed_review_for_good(client, auth, app, db, people) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = make_review(db, people, title="Unforgettable Title Zebra")
    audit_id = audits.start(db, case_ids[0], people["reviewer"].id)
    audits.save(
        db,
        audit_id,
        expected_version=1,
        answers={"risks_identified": Answer("no", evidence="Sensitive note Quokka")},
        sections_na=(),
        feedback={},
        adverse_questions=(),
        critical_questions=(),
        by=people["reviewer"].id,
    )
    findings.add_own(db, review.id, kind="strength", text="Finding Wombat", by=None)
    auth.sign_in("admin")
    refused = client.get(f"/reviews/{review.id}/delete", follow_redirects=True)
    assert "Only a closed review can be deleted" in refused.text
    for status in ("in_progress", "moderation", "complete", "closed"):
        review_data.set_status(db, review.id, status, by=None)
    page = client.get(f"/reviews/{review.id}/delete").text
    wrong = client.post(
        f"/reviews/{review.id}/delete", data={"confirm": "nope", "csrf_token": csrf_token(page)}
    )
    assert "Type the review" in wrong.text
    done = client.post(
        f"/reviews/{review.id}/delete",
        follow_redirects=True,
        data={"confirm": review.title, "csrf_token": csrf_token(page)},
    )
    assert "Deleted the review" in done.text
    for table in ("review", "case_file", "case_audit", "finding", "escalation"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM answer").fetchone()[0] == 0
    entry = db.execute("SELECT * FROM change_log WHERE action = 'delete'").fetchone()
    assert entry["entity_id"] == review.id and "Zebra" not in (entry["after"] or "")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files = Path(app.config["DATABASE"]).parent.glob("audit.db*")
    raw = b"".join(path.read_bytes() for path in files)
    for secret in (b"Sensitive note Quokka", b"Finding Wombat", b"Unforgettable Title Zebra"):
        assert secret not in raw
    auth.sign_in("lead")
    assert client.get(f"/reviews/{review.id}/delete").status_code == 404


def test_uploads_over_the_size_limit_get_a_clear_413_page(client, auth, app, db, people) -> None:  # type: ignore[no-untyped-def]
    review, _ = make_review(db, people)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    auth.sign_in("lead")
    page = client.get(f"/reviews/{review.id}/cases/import").text
    body = b"x" * (2 * 1024 * 1024)  # raw bytes: no temporary file for the test to leak
    response = client.post(
        f"/reviews/{review.id}/cases/import",
        data=body,
        content_type="multipart/form-data; boundary=boundary",
        headers={"X-CSRFToken": csrf_token(page)},
    )
    assert response.status_code == 413
    assert "The file is too large" in response.text and "smaller than 1 MB" in response.text


def test_hostile_text_is_escaped_on_every_page(client, auth, db, people) -> None:  # type: ignore[no-untyped-def]
    review, case_ids = make_review(db, people, title=HOSTILE[0])
    db.execute("UPDATE case_file SET team = ?", [HOSTILE[1]])
    audit_id = audits.start(db, case_ids[0], people["reviewer"].id)
    audits.save(
        db,
        audit_id,
        expected_version=1,
        answers={"risks_identified": Answer("no", evidence=" ".join(HOSTILE))},
        sections_na=(),
        feedback={"feedback_response": HOSTILE[2]},
        adverse_questions=(),
        critical_questions=(),
        by=people["reviewer"].id,
        new_action={"what": HOSTILE[3], "owner": HOSTILE[1]},
    )
    findings.add_own(db, review.id, kind="strength", text=" ".join(HOSTILE), by=None)
    findings.set_executive_summary(db, review.id, HOSTILE[1], by=None)
    auth.sign_in("lead")
    pages = [
        f"/reviews/{review.id}",
        f"/reviews/{review.id}/dashboard",
        f"/reviews/{review.id}/findings",
        f"/reviews/{review.id}/audits/{audit_id}",
        f"/reviews/{review.id}/history",
        "/reviews",
    ]
    for path in pages:
        html = client.get(path).text
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
    record = client.get(f"/reviews/{review.id}/audits/{audit_id}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in record
    assert "{{ 7*7 }}" in record  # shown as typed, never evaluated as a template


def test_instance_files_are_owner_only(app, instance: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import stat

    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert stat.S_IMODE((instance / "audit.db").stat().st_mode) == 0o600
    backup(instance / "audit.db", tmp_path / "copy.db")
    assert stat.S_IMODE((tmp_path / "copy.db").stat().st_mode) == 0o600


def test_behind_a_trusted_proxy_throttling_counts_the_real_address(instance: Path, people) -> None:  # type: ignore[no-untyped-def]
    app = create_app({"INSTANCE_PATH": instance, "TRUSTED_PROXY_COUNT": 1})
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    attacker = Auth(app.test_client())
    attacker.client.environ_base.update(proxy | {"HTTP_X_FORWARDED_FOR": "203.0.113.9"})
    for n in range(20):
        attacker.sign_in(f"guess{n}", "wrong-password-123")
    assert attacker.sign_in("admin").status_code == 429
    colleague = Auth(app.test_client())
    colleague.client.environ_base.update(proxy | {"HTTP_X_FORWARDED_FOR": "198.51.100.7"})
    assert colleague.sign_in("admin").status_code == 302  # not locked out by the attacker
