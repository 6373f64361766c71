"""Admin bank holidays and a review's timeliness measures, through the pages."""

from __future__ import annotations

import json

from audit import analysis, timeliness
from audit.data import holidays
from audit.data import reviews as review_data
from audit.data.db import connect
from tests.conftest import csrf_token
from tests.helpers import make_review


def test_admin_adds_and_removes_a_bank_holiday(client, auth, db, people) -> None:  # type: ignore[no-untyped-def]
    auth.sign_in("admin")
    page = client.get("/admin/bank-holidays").text
    assert "Bank holidays" in page and "Christmas Day" in page
    response = client.post(
        "/admin/bank-holidays",
        data={"day": "7/8/2028", "name": "Local closure day", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "Added 7 August 2028" in response.text
    assert holidays.extra(db) == [{"day": "2028-08-07", "name": "Local closure day"}]
    bad = client.post(
        "/admin/bank-holidays",
        data={"day": "31/02/2028", "name": "Nope", "csrf_token": csrf_token(page)},
    )
    assert "Enter a real date" in bad.text and "<title>Error: Bank holidays" in bad.text
    client.post("/admin/bank-holidays/2028-08-07/delete", data={"csrf_token": csrf_token(page)})
    assert holidays.extra(db) == []
    auth.sign_in("lead")
    assert client.get("/admin/bank-holidays").status_code == 403


def test_admin_chooses_the_nation_and_working_days_follow_it(client, auth, db, people) -> None:  # type: ignore[no-untyped-def]
    # Thursday 11 to Monday 15 July 2024: 2 working days, or 1 in Northern Ireland (12 July).
    review = _review_with_one_timed_case(db, people, "2024-07-11", "2024-07-15")
    assert analysis.timeliness_rows(db, review_data.get(db, review.id))[0].result.late == 1

    auth.sign_in("admin")
    page = client.get("/admin/bank-holidays").text
    assert 'value="england-and-wales" checked' in page and "England and Wales, around" in page
    done = client.post(
        "/admin/bank-holidays/nation",
        data={"nation": "northern-ireland", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "now skip the bank holidays of Northern Ireland" in done.text
    assert "Battle of the Boyne" in done.text and 'value="northern-ireland" checked' in done.text
    assert holidays.nation(db) == "northern-ireland"
    assert analysis.timeliness_rows(db, review_data.get(db, review.id))[0].result.on_time == 1
    logged = db.execute("SELECT after FROM change_log WHERE entity = 'instance_setting'").fetchall()
    assert [row[0] for row in logged] == ['{"nation": "northern-ireland"}']

    bad = client.post(
        "/admin/bank-holidays/nation", data={"nation": "wales", "csrf_token": csrf_token(page)}
    )
    assert "<title>Error: Bank holidays" in bad.text and "There is a problem" in bad.text
    assert holidays.nation(db) == "northern-ireland"


def test_config_nation_is_used_and_the_page_cannot_change_it(tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from audit import create_app
    from audit.config import ConfigError
    from audit.data import users
    from tests.conftest import Auth

    def db_for(app):  # type: ignore[no-untyped-def]
        conn = connect(app.config["DATABASE"])
        request.addfinalizer(conn.conn.close)
        return conn

    (tmp_path / "config.toml").write_text('nation = "scotland"\n', encoding="utf-8")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    assert holidays.nation(db_for(app)) == "scotland"
    client = app.test_client()
    users.create(db_for(app), "boss", "long-enough-password", "admin", display_name="Boss")
    Auth(client).sign_in("boss", "long-enough-password")
    page = client.get("/admin/bank-holidays").text
    assert "set by <code>nation</code> in <code>config.toml</code>" in page
    assert 'name="nation"' not in page and "Scotland, around this year" in page
    refused = client.post(
        "/admin/bank-holidays/nation",
        data={"nation": "northern-ireland", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "The nation is set in config.toml; change it there." in refused.text
    assert holidays.nation(db_for(app)) == "scotland"
    (tmp_path / "config.toml").write_text('nation = "wales"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="nation: unknown nation 'wales'"):
        create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})


def _review_with_one_timed_case(db, people, referral: str, completed: str):  # type: ignore[no-untyped-def]
    """Make a review judged within 1 working day, with one submitted case of these dates."""
    review, case_ids = make_review(db, people, case_types=("referral_assessment",))
    measure = timeliness.Measure(
        "m", "Within 1 working day", "referral_date", "assessment_completed_date", 1, "working_days"
    )
    review_data.update_settings(db, review.id, {"timeliness": [measure.to_dict()]}, by=None)
    dates = {"referral_date": referral, "assessment_completed_date": completed}
    db.execute("UPDATE case_file SET dates = ? WHERE id = ?", [json.dumps(dates), case_ids[0]])
    _submit_audit(db, people, case_ids[0])
    return review


def _submit_audit(db, people, case_id: str) -> None:  # type: ignore[no-untyped-def]
    """Submit an audit of the case, so timeliness counts it."""
    from audit.data import audits
    from audit.scoring import Answer

    audit_id = audits.start(db, case_id, people["reviewer"].id)
    audits.save(
        db,
        audit_id,
        expected_version=1,
        answers={"overall_grade": Answer("good")},
        sections_na=(),
        feedback={},
        adverse_questions=(),
        critical_questions=(),
        by=people["reviewer"].id,
        submit=True,
    )


def test_added_bank_holiday_changes_working_day_counts(db, people) -> None:  # type: ignore[no-untyped-def]
    review = _review_with_one_timed_case(db, people, "2028-08-04", "2028-08-08")
    review = review_data.get(db, review.id)
    # Friday 4 August to Tuesday 8 August 2028 is 2 working days: late for a 1-day limit...
    assert analysis.timeliness_rows(db, review)[0].result.late == 1
    # ...but only 1 once Monday 7 August is a local closure day.
    holidays.add(db, __import__("datetime").date(2028, 8, 7), "Local closure day", by=None)
    assert analysis.timeliness_rows(db, review)[0].result.on_time == 1


def test_lead_changes_adds_removes_and_resets_timeliness_measures(client, auth, db, people) -> None:  # type: ignore[no-untyped-def]
    review, _ = make_review(db, people)
    auth.sign_in("lead")
    url = f"/reviews/{review.id}/timeliness"
    page = client.get(url).text
    defaults = review.rubric.timeliness
    assert all(m.name in page for m in defaults)
    assert "uses the rubric's default measures" in page
    first = defaults[0]
    page = client.get(f"{url}?measure={first.id}").text
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(page),
            "measure_id": first.id,
            "name": "Assessment in 12 days",
            "start": first.start,
            "end": first.end,
            "limit": "12",
            "unit": "calendar_days",
        },
        follow_redirects=True,
    )
    assert "Saved “Assessment in 12 days”" in response.text
    stored = review_data.get(db, review.id).settings["timeliness"]
    assert stored[0]["id"] == first.id and stored[0]["limit"] == 12
    assert stored[0]["unit"] == "calendar_days" and len(stored) == len(defaults)
    client.post(
        url,
        data={
            "csrf_token": csrf_token(page),
            "name": "Supervision within 6 weeks",
            "start": "previous_supervision_date",
            "end": "last_supervision_date",
            "limit": "42",
            "unit": "calendar_days",
            "applies_to": ["cp", "cin"],
        },
    )
    stored = review_data.get(db, review.id).settings["timeliness"]
    assert stored[-1]["name"] == "Supervision within 6 weeks"
    assert stored[-1]["applies_to"] == ["cin", "cp"]
    same = client.post(
        url,
        data={
            "csrf_token": csrf_token(page),
            "name": "Broken",
            "start": "referral_date",
            "end": "referral_date",
            "limit": "3",
            "unit": "working_days",
        },
    )
    assert "Choose a different date column" in same.text
    client.post(f"{url}/{first.id}/remove", data={"csrf_token": csrf_token(page)})
    assert first.id not in {m["id"] for m in review_data.get(db, review.id).settings["timeliness"]}
    client.post(f"{url}/reset", data={"csrf_token": csrf_token(page)})
    assert "timeliness" not in review_data.get(db, review.id).settings
    auth.sign_in("reviewer")
    assert client.get(url).status_code == 403
