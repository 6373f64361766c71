"""Nothing is written for a request that is not signed in.

Walks the app's URL map and posts to every route that changes state, as someone not signed
in: with no cookie, with a same-origin Origin or Referer header (the keep-unsaved-work path
looks at those), and with the signed anonymous cookie and a valid form token from the
sign-in page. The row counts of every table must not move. The one exception is the point
of its route: a failed sign-in is counted (``sign_in_attempt``, at most one row a post) so
that guessing passwords gets slower.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from audit import create_app, demo
from audit.data.db import connect
from tests.conftest import csrf_token
from tests.test_hostile import table_counts

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
FIXED = {"measure_id": "x", "change": "accept", "day": "2026-12-25", "session_id": 1, "user_id": 1}
SIGN_IN_ROUTES = {"/sign-in", "/sign-in/code"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, dict[str, object]]:
    """The demo instance (every kind of record exists) and a real id for each URL argument."""
    instance = Path(tmp_path_factory.mktemp("anonymous")) / "instance"
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True})
    db = connect(app.config["DATABASE"])
    demo.seed(db, app.extensions["rubric_library"], instance)

    def first(sql: str) -> object:
        row = db.execute(sql).fetchone()
        return "x" if row is None else row[0]

    values: dict[str, object] = {
        **FIXED,
        "review_id": first("SELECT review_id FROM case_audit WHERE status = 'draft'"),
        "audit_id": first("SELECT id FROM case_audit WHERE status = 'draft'"),
        "case_id": first("SELECT case_id FROM case_audit WHERE status = 'draft'"),
        "escalation_id": first("SELECT id FROM escalation"),
        "finding_id": first("SELECT id FROM finding"),
        "action_id": first("SELECT id FROM action"),
        "exercise_id": first("SELECT id FROM calibration_exercise"),
        "theme_id": first("SELECT id FROM theme"),
        "programme_id": first("SELECT id FROM programme"),
        "question_id": first("SELECT question_id FROM answer"),
        "agency_id": first("SELECT id FROM agency"),
        "alert_id": first("SELECT id FROM agency_escalation"),
        "learning_id": first("SELECT id FROM panel_learning"),
    }
    db.conn.close()
    return app, values


def _routes(app: Flask, values: dict[str, object]) -> list[str]:
    urls = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not (rule.methods or set()) & STATE_CHANGING:
            continue
        urls.append(adapter.build(rule.endpoint, {a: values[a] for a in rule.arguments}))
    return urls


def test_the_walk_covers_every_state_changing_route(seeded) -> None:  # type: ignore[no-untyped-def]
    app, values = seeded
    routes = _routes(app, values)
    assert len(routes) >= 70
    assert f"/reviews/{values['review_id']}/audits/{values['audit_id']}" in routes


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "http://localhost"}, {"Referer": "http://localhost/sign-in"}],
    ids=["no-origin", "same-origin", "same-referer"],
)
def test_forged_anonymous_posts_change_no_table(seeded, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    app, values = seeded
    db = connect(app.config["DATABASE"])
    client = app.test_client()
    form = {"csrf_token": "forged", "version": "1", "action": "save", "title": "Planted"}
    for url in _routes(app, values):
        form[f"evidence-{values['question_id']}"] = "Planted evidence"
        before = table_counts(db)
        response = client.post(url, data=form, headers=headers)
        response.close()
        assert response.status_code in {302, 400, 404, 405}, (url, response.status_code)
        assert table_counts(db) == before, url
        assert client.get_cookie("session") is None or "." in client.get_cookie("session").value
    db.conn.close()


def test_anonymous_posts_with_a_valid_form_token_change_no_table(seeded) -> None:  # type: ignore[no-untyped-def]
    app, values = seeded
    db = connect(app.config["DATABASE"])
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").text)  # a real token, in the signed cookie
    form = {"csrf_token": token, "username": "nobody-here", "password": "wrong password"}
    for url in _routes(app, values):
        before = table_counts(db)
        response = client.post(url, data=form, headers={"Origin": "http://localhost"})
        response.close()
        assert response.status_code in {200, 302, 400, 404, 405}, (url, response.status_code)
        after = table_counts(db)
        if url in SIGN_IN_ROUTES:
            moved = {t for t in after if after[t] != before[t]}
            assert moved <= {"sign_in_attempt"}, url
            assert after["sign_in_attempt"] - before["sign_in_attempt"] <= 1, url
        else:
            assert after == before, url
    db.conn.close()


def test_anonymous_page_views_write_no_session_rows(seeded) -> None:  # type: ignore[no-untyped-def]
    app, _values = seeded
    db = connect(app.config["DATABASE"])
    before = table_counts(db)
    for _ in range(30):
        fresh = app.test_client()  # a new visitor each time, no cookie
        assert fresh.get("/sign-in").status_code == 200
        assert fresh.get("/reviews").status_code == 302
    assert table_counts(db) == before
    db.conn.close()
