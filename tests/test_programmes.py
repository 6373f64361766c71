"""Self-audit programmes: next review, exclusion window, re-audits, action plans and exports."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest

from audit import analysis, intake, programme
from audit.data import actions, audits, programmes
from audit.data import findings as finding_data
from audit.data import reviews as review_data
from audit.scoring import Answer
from tests.conftest import csrf_token
from tests.helpers import health_check, make_review


@pytest.fixture
def series(db, people):  # type: ignore[no-untyped-def]
    """A programme holding one review with a submitted audit and an area for development."""
    programme_id = programmes.create(db, title="Monthly audit", kind="self_audit", by=None)
    review, case_ids = make_review(db, people, title="Monthly audit, October")
    db.execute(
        "UPDATE review SET programme_id = ?, start_date = '2026-10-01' WHERE id = ?",
        [programme_id, review.id],
    )
    review_data.update_settings(
        db,
        review.id,
        {
            "require_moderation": True,
            "sampling": {"size": 2, "stratify_by": "case_type", "seed": 1, "population": 3},
            "sampling_rules": {"exclude_months": 12},
        },
        by=None,
    )
    audit_id = audits.start(db, case_ids[0], people["reviewer"].id)
    audits.save(
        db,
        audit_id,
        expected_version=1,
        answers={
            "risks_identified": Answer("no"),
            "safeguarding_grade": Answer("requires_improvement", evidence="Drift."),
        },
        sections_na=(),
        feedback={},
        adverse_questions=(),
        critical_questions=(),
        by=people["reviewer"].id,
        submit=True,
    )
    finding = finding_data.add_own(
        db,
        review.id,
        kind="development",
        text="Plans drift.",
        question_ids=["safeguarding_grade"],
        by=None,
    )
    return programme_id, review_data.get(db, review.id), case_ids, audit_id, finding


def test_next_review_copies_the_set_up_and_allows_a_rubric_upgrade(db, people, series) -> None:  # type: ignore[no-untyped-def]
    programme_id, october, *_ = series
    november = programme.start_next(
        db,
        october,
        title="Monthly audit, November",
        rubric=health_check(),
        start_date="2026-11-02",
        end_date=None,
        by=people["lead"].id,
    )
    assert november.programme_id == programme_id
    assert november.settings["require_moderation"] is True
    assert november.settings["sampling_rules"] == {
        "size": 2,
        "stratify_by": "case_type",
        "exclude_months": 12,
    }
    assert november.settings["previous_review"] == october.id
    assert {m["username"] for m in review_data.members(db, november.id)} == {
        "lead",
        "reviewer",
        "other",
    }
    assert review_data.case_files(db, november.id) == []  # each review draws its own sample
    assert programmes.review_ids(db, programme_id) == [october.id, november.id]
    assert programme.previous_review(db, november).id == october.id


def test_lead_starts_the_next_review_in_the_browser(client, auth, db, people, series) -> None:  # type: ignore[no-untyped-def]
    programme_id, *_ = series
    auth.sign_in("lead")
    page = client.get(f"/programmes/{programme_id}/next").text
    assert "Monthly audit, October" in page and "(as the last review)" in page
    response = client.post(
        f"/programmes/{programme_id}/next",
        data={
            "csrf_token": csrf_token(page),
            "title": "Monthly audit, November",
            "start_date": "2/11/2026",
            "end_date": "",
            "rubric": "peer-safeguarding-health-check@1.0",
        },
        follow_redirects=True,
    )
    assert "Started Monthly audit, November with the team" in response.text
    trend = client.get(f"/programmes/{programme_id}").text
    assert "Monthly audit, November" in trend and "Trend" in trend
    assert client.get(f"/programmes/{programme_id}?filter=case_type:cp").status_code == 200
    assert client.get(f"/programmes/{programme_id}?filter=team:Team A").status_code == 200


def test_sample_leaves_out_cases_audited_recently(db, people, series) -> None:  # type: ignore[no-untyped-def]
    _, october, *_ = series
    november = programme.start_next(
        db,
        october,
        title="November",
        rubric=health_check(),
        start_date=None,
        end_date=None,
        by=None,
    )
    population = (
        "reference,case_type\n"
        + "\n".join(
            [f"TST-{n:04d},CP" for n in range(1, 4)] + [f"NEW-{n:04d},CIN" for n in range(10)]
        )
        + "\n"
    )
    sample = intake.sample_cases(
        db, november, population.encode(), "open.csv", size=10, seed=5, exclude_months=12
    )
    refs = {row.reference for row in sample.rows}
    assert "TST-0001" not in refs  # audited in October, within 12 months
    record = review_data.get(db, november.id).settings["sampling"]
    assert record["excluded_recently_audited"] == 1 and record["exclude_months"] == 12
    assert sample.population == 12
    assert intake.months_ago(12, date(2026, 2, 28)) == date(2025, 2, 28)
    assert intake.months_ago(1, date(2026, 3, 31)) == date(2026, 2, 28)


def test_re_audit_links_to_the_earlier_audit_and_shows_what_changed(
    client,
    auth,
    db,
    people,
    series,  # type: ignore[no-untyped-def]
) -> None:
    _, october, _, earlier_id, _ = series
    november = programme.start_next(
        db,
        october,
        title="November",
        rubric=health_check(),
        start_date=None,
        end_date=None,
        by=None,
    )
    auth.sign_in("lead")
    page = client.get(f"/reviews/{november.id}/re-audit").text
    assert "TST-0001" in page
    client.post(
        f"/reviews/{november.id}/re-audit",
        data={"csrf_token": csrf_token(page), "audit": earlier_id},
    )
    [case] = review_data.case_files(db, november.id)
    assert case["reference"] == "TST-0001"
    assert review_data.get(db, november.id).settings["re_audits"] == {case["id"]: earlier_id}
    review_data.assign(db, november.id, {case["id"]: people["reviewer"].id}, by=None)
    auth.sign_in("reviewer")
    home = client.get(f"/reviews/{november.id}").text
    started = client.post(
        f"/reviews/{november.id}/cases/{case['id']}/audit", data={"csrf_token": csrf_token(home)}
    )
    new_id = started.headers["Location"].rsplit("/", 1)[1]
    assert audits.get(db, new_id).earlier_audit_id == earlier_id
    audits.save(
        db,
        new_id,
        expected_version=1,
        answers={"risks_identified": Answer("yes")},
        sections_na=(),
        feedback={},
        adverse_questions=(),
        critical_questions=(),
        by=people["reviewer"].id,
    )
    scoring_page = client.get(started.headers["Location"]).text
    assert "Re-audit." in scoring_page and "What changed since the earlier audit" in scoring_page
    assert "Monthly audit, October" in scoring_page


def test_action_lifecycle_and_overdue_first(client, auth, db, people, series) -> None:  # type: ignore[no-untyped-def]
    programme_id, october, _, _, finding = series
    today = date.today()
    later = actions.add(
        db,
        october.id,
        finding_id=finding,
        what="Later",
        owner="A",
        due_date=(today + timedelta(days=30)).isoformat(),
        by=None,
    )
    overdue = actions.add(
        db,
        october.id,
        finding_id=finding,
        what="Overdue",
        owner="B",
        due_date=(today - timedelta(days=3)).isoformat(),
        by=None,
    )
    done = actions.add(
        db,
        october.id,
        finding_id=finding,
        what="Finished",
        owner="C",
        due_date=(today - timedelta(days=30)).isoformat(),
        by=None,
    )
    undated = actions.add(
        db, october.id, finding_id=finding, what="Undated", owner="D", due_date=None, by=None
    )
    actions.update(
        db,
        october.id,
        done,
        status="done",
        what="Finished",
        owner="C",
        due_date=(today - timedelta(days=30)).isoformat(),
        by=None,
    )
    plan = actions.for_review(db, october.id)
    assert [a["id"] for a in plan] == [overdue, later, undated, done]
    assert plan[0]["overdue"] and not plan[-1]["overdue"]
    assert actions.for_programme(db, programme_id)[0]["id"] == overdue
    with pytest.raises(LookupError):
        actions.add(
            db, october.id, finding_id="not-a-finding", what="x", owner="", due_date=None, by=None
        )
    auth.sign_in("lead")
    page = client.get(f"/reviews/{october.id}/actions/{later}").text
    client.post(
        f"/reviews/{october.id}/actions/{later}",
        data={
            "csrf_token": csrf_token(page),
            "form": "action",
            "what": "Later, reworded",
            "owner": "A",
            "due_date": "1/3/2027",
            "status": "in_progress",
        },
    )
    client.post(
        f"/reviews/{october.id}/actions/{later}",
        data={
            "csrf_token": csrf_token(page),
            "form": "note",
            "note-note": "Half done",
            "note-noted_on": "2/12/2026",
        },
    )
    item = actions.get(db, october.id, later)
    assert (item["status"], item["what"], item["due_date"]) == (
        "in_progress",
        "Later, reworded",
        "2027-03-01",
    )
    assert [(n["noted_on"], n["note"]) for n in item["notes"]] == [("2026-12-02", "Half done")]
    plan_page = client.get(f"/reviews/{october.id}/actions").text
    assert plan_page.index("Overdue") < plan_page.index("Later, reworded")
    findings_page = client.get(f"/reviews/{october.id}/findings").text
    assert "Later, reworded" in findings_page and "Add an action" in findings_page


def test_action_plan_export_contents(client, auth, db, people, series) -> None:  # type: ignore[no-untyped-def]
    _, october, _, _, finding = series
    action = actions.add(
        db,
        october.id,
        finding_id=finding,
        what='=HYPERLINK("x")',
        owner="Head of Service",
        due_date="2020-01-01",
        by=None,
    )
    actions.add_note(db, october.id, action, note="Started", noted_on="2020-01-02", by=None)
    header, rows = analysis.action_plan_table(db, october)
    assert header[:6] == [
        "Area for development",
        "Action",
        "Owner",
        "Due date",
        "Status",
        "Overdue",
    ]
    assert rows[0][:6] == [
        "Plans drift.",
        '=HYPERLINK("x")',
        "Head of Service",
        date(2020, 1, 1),
        "Not started",
        "Yes",
    ]
    assert rows[0][6] == "02/01/2020: Started"
    assert rows[0][7] == date(2020, 1, 2)
    auth.sign_in("lead")
    xlsx = client.get(f"/reviews/{october.id}/export/action-plan.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    sheet = book["Action plan"]
    assert sheet["B2"].value.startswith("'=HYPERLINK") and sheet["B2"].data_type == "s"
    # The due date is a real date cell, shown the UK way.
    assert sheet["D2"].is_date and sheet["D2"].number_format == "dd/mm/yyyy"
    book.close()
    csv = client.get(f"/reviews/{october.id}/export/action-plan.csv").data.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("Area for development,Action")
    assert ",01/01/2020,Not started,Yes," in csv


def test_next_review_shows_last_time_beside_the_new_findings(
    client, auth, db, people, series
) -> None:  # type: ignore[no-untyped-def]
    _, october, _, _, finding = series
    actions.add(
        db,
        october.id,
        finding_id=finding,
        what="Supervise plans",
        owner="HoS",
        due_date=None,
        by=None,
    )
    november = programme.start_next(
        db,
        october,
        title="November",
        rubric=health_check(),
        start_date="2026-11-02",
        end_date=None,
        by=None,
    )
    finding_data.add_own(
        db,
        november.id,
        kind="development",
        text="Plans still drift.",
        question_ids=["safeguarding_grade"],
        by=None,
    )
    auth.sign_in("lead")
    page = client.get(f"/reviews/{november.id}/findings").text
    assert "Last time: Monthly audit, October" in page
    then = page.split("Last time:")[1]
    assert "Plans drift." in then and "Supervise plans" in then and "Plans still drift." in then


def test_report_has_the_trend_and_the_action_plan(app, db, people, series, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from audit.cli import main
    from audit.reporting import report

    _, october, _, _, finding = series
    actions.add(db, october.id, finding_id=finding, what="Supervise every plan monthly",
                owner="Head of Service", due_date="2020-01-01", by=None)
    november = programme.start_next(db, october, title="Monthly audit, November",
                                    rubric=health_check(), start_date="2026-11-02",
                                    end_date=None, by=None)
    html = report.build_html(app, db, october)
    assert "Action plan" in html and "Supervise every plan monthly" in html and "Overdue" in html
    assert "Trend over the programme" not in html  # the first review has nothing to compare
    later = report.build_html(app, db, review_data.get(db, november.id))
    assert "Trend over the programme" in later and "Monthly audit, October" in later
    out = tmp_path / "october.pdf"
    result = CliRunner().invoke(main, ["report", october.id, "-o", str(out), "--public",
                                       "--instance", app.instance_path])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
