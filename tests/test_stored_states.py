"""Every stored state renders: pages, exports, findings JSON and report never fail on bad data.

A database edited by hand or filled by an older import can hold values the review's rubric
does not allow. They are left out of the figures, named as data errors for the admin and
the lead, and no page answers 5xx.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from audit import analysis, create_app, demo
from audit.cli import main
from audit.data import reviews as review_data
from audit.data.db import connect
from audit.reporting import report
from tests.crawl import crawl

LEVELS = ("outstanding", "good", "requires_improvement", "inadequate")


def _seeded(path: Path) -> Flask:
    app = create_app({"INSTANCE_PATH": path, "TESTING": True})
    db = connect(app.config["DATABASE"])
    demo.seed(db, app.extensions["rubric_library"], Path(app.instance_path))
    db.conn.close()
    return app


def _demo_review(db) -> str:  # type: ignore[no-untyped-def]
    return db.execute("SELECT id FROM review WHERE title = ?", [demo.DEMO_TITLE]).fetchone()[0]


def _counted_grades(db, review_id: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(audit id, question id) of counted grade answers, in a stable order."""
    return [
        tuple(row)
        for row in db.execute(
            "SELECT answer.audit_id, answer.question_id FROM answer"
            " JOIN case_audit ON case_audit.id = answer.audit_id"
            " WHERE case_audit.review_id = ? AND purpose = 'first' AND status = 'submitted'"
            " AND answer.question_id = 'overall_grade' AND answer.value IN ('good', 'outstanding')"
            " AND answer.audit_id NOT IN (SELECT audit_id FROM moderation"
            "   WHERE question_id = 'overall_grade')"
            " ORDER BY answer.audit_id",
            [review_id],
        )
    ]


def corrupt(db, review_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Edit stored values by hand as a careless admin or an old import would; say what."""
    graded = _counted_grades(db, review_id)
    excellent, extra = graded[0], graded[1]
    db.execute(
        "UPDATE answer SET value = 'excellent' WHERE audit_id = ? AND question_id = ?", excellent
    )
    db.execute(
        "UPDATE answer SET value = 'good (see notes)' WHERE audit_id = ? AND question_id = ?",
        extra,
    )
    yes = db.execute(
        "SELECT answer.audit_id, answer.question_id FROM answer"
        " JOIN case_audit ON case_audit.id = answer.audit_id"
        " WHERE review_id = ? AND value = 'yes' ORDER BY 1, 2 LIMIT 2",
        [review_id],
    ).fetchall()
    db.execute("UPDATE answer SET value = 'maybe' WHERE audit_id = ? AND question_id = ?", yes[0])
    db.execute(
        "UPDATE answer SET question_id = 'no_such_question' WHERE audit_id = ? AND question_id = ?",
        yes[1],
    )
    case = db.execute(
        "SELECT id, pseudonym FROM case_file WHERE review_id = ? ORDER BY pseudonym LIMIT 1",
        [review_id],
    ).fetchone()
    db.execute("UPDATE case_file SET case_type = 'unknown_type' WHERE id = ?", [case[0]])
    db.execute(
        "UPDATE moderation SET moderated_value = 'superb' WHERE moderated_value IS NOT NULL"
        " AND audit_id IN (SELECT id FROM case_audit WHERE review_id = ?)",
        [review_id],
    )
    db.execute(
        "UPDATE escalation SET told_at = '02/05/2024 10:00' WHERE review_id = ?", [review_id]
    )
    return {"excellent": excellent, "extra": extra, "case": case[1]}


@pytest.fixture(scope="module")
def clean_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The demo (five reviews) and a generated review with moderation and second audits."""
    app = _seeded(tmp_path_factory.mktemp("clean") / "instance")
    # the benchmarks' generator (bench/ scripts import each other as top-level modules)
    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    from aggregation import bulk_review

    bulk_review(app, title="Generated review", cases=30, seed=7, moderated=8, second_every=4)
    return app


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, str, dict[str, Any]]:
    """The demo with its peer review's stored values edited by hand."""
    app = _seeded(tmp_path_factory.mktemp("corrupt") / "instance")
    db = connect(app.config["DATABASE"])
    review_id = _demo_review(db)
    changed = corrupt(db, review_id)
    db.conn.close()
    return app, review_id, changed


def test_every_page_of_the_demo_and_a_generated_review_renders(clean_app: Flask) -> None:
    assert crawl(clean_app) == []
    db = connect(clean_app.config["DATABASE"])
    for review in review_data.all_reviews(db):
        assert analysis.data_errors(db, review) == []
    db.conn.close()


def test_every_page_of_a_review_edited_by_hand_renders(corrupted) -> None:  # type: ignore[no-untyped-def]
    app, _review_id, _changed = corrupted
    assert crawl(app) == []


def _signed_in(app: Flask, username: str):  # type: ignore[no-untyped-def]
    db = connect(app.config["DATABASE"])
    user_id = db.execute("SELECT id FROM user WHERE username = ?", [username]).fetchone()[0]
    db.conn.close()
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user_id
    return client


def test_admin_and_lead_see_the_data_errors_reviewers_do_not(corrupted) -> None:  # type: ignore[no-untyped-def]
    app, review_id, changed = corrupted
    for username in ("admin", "lead"):
        client = _signed_in(app, username)
        for page in ("", "/dashboard", "/findings"):
            text = client.get(f"/reviews/{review_id}{page}").text
            assert 'id="data-errors"' in text, (username, page)
            assert "6 stored values do not fit" in text
            assert "Answer overall_grade of" in text and "&#39;excellent&#39;" in text
            assert "not on the scale" in text
            assert f"Case {changed['case']} has case type" in text
    client = _signed_in(app, "reviewer1")
    for page in ("", "/dashboard"):
        assert 'id="data-errors"' not in client.get(f"/reviews/{review_id}{page}").text


def test_a_clean_review_shows_no_data_errors_panel(clean_app: Flask) -> None:
    db = connect(clean_app.config["DATABASE"])
    review_id = _demo_review(db)
    db.conn.close()
    text = _signed_in(clean_app, "lead").get(f"/reviews/{review_id}").text
    assert 'id="data-errors"' not in text


def test_an_audit_of_an_undeclared_case_type_explains_itself(corrupted) -> None:  # type: ignore[no-untyped-def]
    app, review_id, changed = corrupted
    db = connect(app.config["DATABASE"])
    audit_id = db.execute(
        "SELECT case_audit.id FROM case_audit JOIN case_file ON case_file.id = case_audit.case_id"
        " WHERE case_file.pseudonym = ? AND case_file.review_id = ?",
        [changed["case"], review_id],
    ).fetchone()[0]
    db.conn.close()
    response = _signed_in(app, "lead").get(f"/reviews/{review_id}/audits/{audit_id}")
    assert response.status_code == 422
    assert "&#39;unknown_type&#39;, is not one the review&#39;s rubric declares" in response.text


def _count_overall(db, review_id: str, value: str) -> int:  # type: ignore[no-untyped-def]
    """Count counted overall grades of a value straight from the tables (moderation applied)."""
    return db.execute(
        "SELECT count(*) FROM answer JOIN case_audit ON case_audit.id = answer.audit_id"
        " JOIN case_file ON case_file.id = case_audit.case_id"
        " WHERE case_audit.review_id = ? AND purpose = 'first' AND status = 'submitted'"
        " AND case_file.case_type != 'unknown_type' AND answer.question_id = 'overall_grade'"
        " AND answer.not_applicable = 0"
        " AND coalesce((SELECT moderated_value FROM moderation AS m"
        "   WHERE m.audit_id = answer.audit_id AND m.question_id = 'overall_grade'"
        "   AND m.outcome = 'changed'"
        "   ORDER BY m.rowid DESC LIMIT 1), answer.value) = ?",
        [review_id, value],
    ).fetchone()[0]


def test_regression_excellent_off_the_scale_is_left_out_not_counted(corrupted) -> None:  # type: ignore[no-untyped-def]
    """Issue 11: a grade of "excellent" became a level of its own and raised the question's n."""
    app, review_id, _changed = corrupted
    db = connect(app.config["DATABASE"])
    review = review_data.get(db, review_id)
    doc = analysis.findings_document(db, review)
    overall = next(q for q in doc["questions"] if q["id"] == "overall_grade")
    assert set(overall["all"]["counts"]) == set(LEVELS)
    for level in LEVELS:
        assert overall["all"]["counts"][level] == _count_overall(db, review_id, level), level
    problems = [p["problem"] for p in doc["data_errors"]["problems"]]
    assert any("'excellent', a value that is not on the scale" in p for p in problems)
    assert doc["data_errors"]["answers_left_out"] >= 4
    assert "were left out of the figures in this report" in report.build_html(app, db, review)
    db.conn.close()


def test_regression_grade_with_extra_text_gives_no_traceback_on_the_command_line(corrupted) -> None:  # type: ignore[no-untyped-def]
    """Issue 11: "good (see notes)" stopped `report` and `findings` with a ValueError."""
    app, review_id, _changed = corrupted
    runner = CliRunner()
    instance = ["--instance", str(app.instance_path)]
    found = runner.invoke(main, ["findings", *instance, review_id, "--json"])
    assert found.exit_code == 0, found.output
    assert found.exception is None
    assert "'good (see notes)', a value that is not on the scale" in found.stderr
    doc = json.loads(found.stdout)
    assert "good (see notes)" not in json.dumps(doc["questions"])
    out = Path(app.instance_path) / "report.pdf"
    made = runner.invoke(main, ["report", *instance, review_id, "-o", str(out)])
    assert made.exit_code == 0 and made.exception is None, made.output
    assert out.read_bytes().startswith(b"%PDF")
    assert "data error (left out of the figures)" in made.stderr
