"""Calibration panels: published alpha end to end, blindness, agreed grades, exemplars, leniency."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from audit import calibration
from audit.data import audits, moderation, programmes, users
from audit.data import calibration as calibration_data
from audit.data import reviews as review_data
from audit.reporting import charts
from audit.rubric import parse_rubric
from audit.scoring import Answer
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.helpers import REPO, full_answers, make_review

KRIPPENDORFF_RUBRIC = REPO / "tests" / "data" / "rubrics" / "krippendorff-2011.yaml"

# Krippendorff (2011), section C: observers A-D by units 1-12, None where not rated.
_ = None
TABLE = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]
OBSERVERS = ("coder_a", "coder_b", "coder_c", "coder_d")


def _client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert Auth(client).sign_in(username).status_code == 302
    return client


def _post(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> Any:
    token = csrf_token(client.get("/reviews").text)
    return client.post(url, data={"csrf_token": token, **(data or {})})


@pytest.fixture
def krippendorff(app: Flask, db: Any, people: dict[str, users.User]) -> dict[str, Any]:
    """A review on the Krippendorff rubric: one case file, four participants, the lead."""
    rubric = parse_rubric(KRIPPENDORFF_RUBRIC.read_text(encoding="utf-8"), source="test")
    review = review_data.create(
        db,
        title="Calibration check",
        host_organisation="Testshire Council",
        kind="self_audit",
        rubric=rubric,
        by=people["lead"].id,
    )
    review_data.add_member(db, review.id, people["lead"].id, "lead")
    coders = {}
    for name in OBSERVERS:
        coders[name] = users.create(
            db, name, PASSWORD, "reviewer", display_name=f"Coder {name[-1].upper()}"
        )
        review_data.add_member(db, review.id, coders[name].id, "reviewer")
    (case_id,) = review_data.add_case_files(
        db, review.id, [{"reference": "KA-0001", "case_type": "cin", "team": "Team K"}]
    )
    exercise_id = calibration_data.create(
        db,
        review.id,
        title="Reliability data",
        case_ids=[case_id],
        participant_ids=[c.id for c in coders.values()],
        by=people["lead"].id,
    )
    return {
        "review": review,
        "case_id": case_id,
        "exercise_id": exercise_id,
        "coders": coders,
        "rubric": rubric,
    }


def _panel(
    db: Any, review_id: str, case_id: str, people: dict[str, users.User], second: str = "other"
) -> str:
    """An exercise over one case, graded by ``reviewer`` and ``second``, set up by the lead."""
    return calibration_data.create(
        db,
        review_id,
        title="Panel",
        case_ids=[case_id],
        participant_ids=[people["reviewer"].id, people[second].id],
        by=people["lead"].id,
    )


def _grade_table(app: Flask, world: dict[str, Any], submit: bool = True) -> None:
    """Each coder grades the case through the scoring form, as the published table says."""
    review_id, exercise_id, case_id = world["review"].id, world["exercise_id"], world["case_id"]
    base = f"/reviews/{review_id}/calibration/{exercise_id}"
    for name, row in zip(OBSERVERS, TABLE, strict=True):
        client = _client(app, name)
        form = {"answer-child_safeguarded": "yes"}
        form |= {f"answer-unit{n:02d}": f"v{v}" for n, v in enumerate(row, start=1) if v}
        saved = _post(client, f"{base}/cases/{case_id}", form)
        assert saved.status_code == 302, saved.text
        if submit:
            assert _post(client, f"{base}/submit", {"confirm": "1"}).status_code == 302


def test_calibration_path_reproduces_krippendorff_published_alpha(
    app: Flask, db: Any, people: dict[str, users.User], krippendorff: dict[str, Any]
) -> None:
    _grade_table(app, krippendorff)
    review_id, exercise_id = krippendorff["review"].id, krippendorff["exercise_id"]
    exercise = calibration_data.get(db, exercise_id, review_id)
    assert exercise.results_open, "the last submission opens the results"

    lead = _client(app, "lead")
    data = lead.get(f"/reviews/{review_id}/calibration/{exercise_id}/results.json").get_json()
    alpha = data["krippendorff_alpha"]["grades"]
    assert alpha["nominal"]["value"] == pytest.approx(0.7434, abs=5e-5)
    assert alpha["ordinal"]["value"] == pytest.approx(0.8154, abs=5e-5)
    assert alpha["interval"]["value"] == pytest.approx(0.8491, abs=5e-5)
    assert alpha["ordinal"]["n"] == 11  # unit 12 has a single grade and cannot be paired
    # Everyone said yes to the safeguarding question: one answer, so no alpha, with a reason.
    assert data["krippendorff_alpha"]["yes_no_nominal"]["value"] is None
    assert data["krippendorff_alpha"]["yes_no_nominal"]["reason"]

    page = lead.get(f"/reviews/{review_id}/calibration/{exercise_id}/results").text
    assert re.search(r'id="alpha-ordinal">\s*0\.815', page)
    assert re.search(r'id="alpha-nominal">\s*0\.743', page)
    assert re.search(r'id="alpha-interval">\s*0\.849', page)


def test_agenda_puts_the_widest_disagreement_first(
    app: Flask, db: Any, krippendorff: dict[str, Any]
) -> None:
    _grade_table(app, krippendorff)
    lead = _client(app, "lead")
    review_id, exercise_id = krippendorff["review"].id, krippendorff["exercise_id"]
    data = lead.get(f"/reviews/{review_id}/calibration/{exercise_id}/results.json").get_json()
    questions = data["questions"]
    # Unit 6 was graded 1, 2, 3 and 4: three steps apart, the widest of the table.
    assert questions[0]["question_id"] == "unit06"
    assert questions[0]["spread"] == 3
    assert questions[0]["grades"] == {
        "Coder A": "v1",
        "Coder B": "v2",
        "Coder C": "v3",
        "Coder D": "v4",
    }
    spreads = [q["spread"] for q in questions]
    assert spreads == sorted(spreads, reverse=True)
    page = lead.get(f"/reviews/{review_id}/calibration/{exercise_id}/results").text
    agenda = page.split('id="agenda"')[1].split("</ol>")[0]
    # Units 2, 6 and 8 are the only ones with different grades.
    assert agenda.index("Unit 6") < agenda.index("Unit 2")
    assert "Unit 3:" not in agenda
    assert "<svg" in page and 'id="grades-dots-title"' in page


def test_nobody_sees_others_grades_before_results_open(
    app: Flask, db: Any, people: dict[str, users.User], krippendorff: dict[str, Any]
) -> None:
    review_id, exercise_id = krippendorff["review"].id, krippendorff["exercise_id"]
    case_id = krippendorff["case_id"]
    base = f"/reviews/{review_id}/calibration/{exercise_id}"
    coder_a = _client(app, "coder_a")
    coder_b = _client(app, "coder_b")
    _post(
        coder_b, f"{base}/cases/{case_id}", {"answer-unit01": "v5", "evidence-unit01": "Bee note"}
    )
    _post(coder_a, f"{base}/cases/{case_id}", {"answer-unit01": "v2", "evidence-unit01": "Ay note"})
    _post(coder_a, f"{base}/submit", {"confirm": "1"})

    lead = _client(app, "lead")
    admin = _client(app, "admin")
    for who in (coder_a, coder_b, lead, admin):
        assert who.get(f"{base}/results").status_code == 403
        assert who.get(f"{base}/results.json").status_code == 403
    # A participant's own pages show their own grade only, never the other's.
    own = coder_a.get(f"{base}/cases/{case_id}").text
    assert "Ay note" in own and "Bee note" not in own
    assert re.search(r'value="v2"[^>]*checked', own)
    for who in (coder_a, lead):
        page = who.get(base).text
        assert "Bee note" not in page and "Ay note" not in page
        assert "1 of 4 participants have submitted" in page
    # The review's downloads never carry calibration grades (they are not audits).
    for download in ("bundle", "export/answers.csv", "export/findings.csv"):
        response = lead.get(f"/reviews/{review_id}/{download}")
        body = response.get_data(as_text=True)
        assert response.status_code == 200, download
        assert "Bee note" not in body and "Ay note" not in body, download
    # Agreeing needs the results open too.
    agree = _post(lead, f"{base}/agreed/{case_id}/unit01", {"value": "v3", "rationale": "x"})
    assert agree.status_code == 403
    # Someone in the review who is not a participant cannot open it; a participant cannot grade
    # a case outside the exercise.
    outsider = _client(app, "reviewer")
    review_data.add_member(db, review_id, people["reviewer"].id, "reviewer")
    assert outsider.get(base).status_code == 403
    assert outsider.get(f"{base}/cases/{case_id}").status_code == 403

    assert _post(lead, f"{base}/open").status_code == 302
    data = coder_a.get(f"{base}/results.json").get_json()
    assert data["questions"][0]["grades"]["Coder B"] == "v5"
    # A submitted participant cannot change their grades afterwards.
    _post(coder_a, f"{base}/cases/{case_id}", {"answer-unit01": "v5"})
    mine = calibration_data.grades(db, exercise_id, user_id=krippendorff["coders"]["coder_a"].id)
    assert mine[case_id, krippendorff["coders"]["coder_a"].id]["unit01"].value == "v2"


def test_agreed_grade_becomes_an_exemplar_on_the_scoring_form(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    rubric = review.rubric
    exercise_id = _panel(db, review.id, case_ids[0], people)
    base = f"/reviews/{review.id}/calibration/{exercise_id}"
    for name, grade in (("reviewer", "good"), ("other", "inadequate")):
        client = _client(app, name)
        answers = full_answers(rubric, "cp", **{"answer-safeguarding_grade": grade})
        assert _post(client, f"{base}/cases/{case_ids[0]}", answers).status_code == 302
        _post(client, f"{base}/submit", {"confirm": "1"})
    lead = _client(app, "lead")
    page = lead.get(f"{base}/results").text
    assert "Record the agreed answer" in page

    missing = _post(lead, f"{base}/agreed/{case_ids[0]}/safeguarding_grade", {"value": "good"})
    assert missing.status_code == 200 and "Enter the panel&#39;s rationale" in missing.text
    bogus = _post(
        lead, f"{base}/agreed/{case_ids[0]}/safeguarding_grade", {"value": "yes", "rationale": "x"}
    )
    assert bogus.status_code == 200 and "Error:" in bogus.text
    rationale = "Plan reviewed <b>monthly</b>; risks named but contingency thin."
    saved = _post(
        lead,
        f"{base}/agreed/{case_ids[0]}/safeguarding_grade",
        {"value": "requires_improvement", "rationale": rationale},
    )
    assert saved.status_code == 302
    data = lead.get(f"{base}/results.json").get_json()
    unit = next(q for q in data["questions"] if q["question_id"] == "safeguarding_grade")
    assert unit["agreed"] == "requires_improvement" and unit["rationale"] == rationale
    # Neither participant matched the agreed grade on this question.
    assert data["exact_agreement_by_participant"]["Test Reviewer"]["value"] < 1

    # The scoring form of an ordinary audit in the review links to the exemplar.
    audit_id = audits.start(db, case_ids[1], people["reviewer"].id)
    reviewer = _client(app, "reviewer")
    form = reviewer.get(f"/reviews/{review.id}/audits/{audit_id}").text
    link = re.search(r'<a class="govuk-link" href="([^"]+/exemplars/[^"]+)">case C01', form)
    assert link, "the scoring form should link to the calibrated exemplar"
    exemplar = reviewer.get(link.group(1).replace("&amp;", "&")).text
    assert "Requires improvement to be good" in exemplar
    assert "Plan reviewed &lt;b&gt;monthly&lt;/b&gt;" in exemplar  # escaped, not rendered
    assert "TST-0001" not in exemplar  # no case details beyond the pseudonym
    # A question with no agreed answer has no exemplar.
    assert (
        reviewer.get(link.group(1).replace("safeguarding_grade", "child_safeguarded")).status_code
        == 404
    )


def test_exercise_is_set_up_through_the_form_with_clear_errors(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    lead = _client(app, "lead")
    url = f"/reviews/{review.id}/calibration/new"
    page = _post(
        lead,
        url,
        {"title": "Panel", "cases": case_ids[0], "participants": str(people["reviewer"].id)},
    )
    assert page.status_code == 200
    assert "Error:" in page.text and "Choose at least two participants" in page.text
    stranger = users.create(db, "stranger", PASSWORD, "reviewer")
    refused = _post(
        lead,
        url,
        {
            "title": "Panel",
            "cases": case_ids[0],
            "participants": [str(people["reviewer"].id), str(stranger.id)],
        },
    )
    assert (
        refused.status_code == 200
        and "Choose participants from this review&#39;s team" in refused.text
    )
    created = _post(
        lead,
        url,
        {
            "title": "March panel",
            "cases": case_ids[:2],
            "participants": [str(people["reviewer"].id), str(people["other"].id)],
        },
    )
    assert created.status_code == 302
    (exercise,) = calibration_data.for_review(db, review.id)
    assert exercise.title == "March panel" and len(exercise.cases) == 2
    assert "March panel" in _client(app, "reviewer").get(f"/reviews/{review.id}/calibration").text


@pytest.mark.parametrize(
    ("foreign_case", "stranger", "problem"),
    [(True, "other", "not in this review"), (False, "admin", "not a member")],
)
def test_data_layer_refuses_cases_and_people_from_elsewhere(
    db: Any, people: dict[str, users.User], foreign_case: bool, stranger: str, problem: str
) -> None:
    review, case_ids = make_review(db, people)
    _other, other_cases = make_review(db, people, title="Other")
    with pytest.raises(ValueError, match=problem):
        _panel(db, review.id, (other_cases if foreign_case else case_ids)[0], people, stranger)
    assert calibration_data.for_review(db, review.id) == []


def test_programme_exercise_needs_a_host_in_the_programme_and_active_people(
    db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    outside, outside_cases = make_review(db, people, title="Outside")
    programme_id = programmes.create(db, title="Programme", kind="self_audit", by=None)
    db.execute("UPDATE review SET programme_id = ? WHERE id = ?", [programme_id, review.id])
    away = users.create(db, "away", PASSWORD, "reviewer")
    users.set_active(db, away.id, False, by=None)
    newcomer = users.create(db, "newcomer", PASSWORD, "reviewer")

    def create(host: str, case_id: str, person: int) -> str:
        return calibration_data.create(
            db,
            host,
            title="Programme panel",
            case_ids=[case_id],
            participant_ids=[people["reviewer"].id, person],
            by=people["lead"].id,
            programme_id=programme_id,
        )

    with pytest.raises(ValueError, match="from a review in this programme"):
        create(outside.id, outside_cases[0], newcomer.id)
    with pytest.raises(ValueError, match=f"user {away.id} is not an active user"):
        create(review.id, case_ids[0], away.id)
    assert calibration_data.for_programme(db, programme_id) == []
    # Anyone active may take part, member of the hosting review or not.
    exercise = calibration_data.get_in_programme(
        db, create(review.id, case_ids[0], newcomer.id), programme_id
    )
    assert exercise.participant(newcomer.id) is not None
    with pytest.raises(calibration_data.ExerciseNotFound):
        calibration_data.get(db, exercise.id, review.id)


# --------------------------------------------------------------------------- leniency


def _rows(user: int, pairs: list[tuple[str, str]], source: str = "calibration") -> list[dict]:
    return [
        {
            "review_id": "r",
            "user_id": user,
            "display_name": f"Auditor {user}",
            "question_id": "safeguarding_grade",
            "own": own,
            "reference": ref,
            "source": source,
        }
        for own, ref in pairs
    ]


def test_leniency_is_the_mean_signed_step_difference_with_a_caution_when_few() -> None:
    rubric = parse_rubric((REPO / "tests/data/rubrics/minimal.yaml").read_text(), source="t")
    rows = _rows(1, [("outstanding", "good"), ("good", "good"), ("good", "inadequate")])
    rows += _rows(2, [("inadequate", "good")] * 25, source="moderation")
    rows += [{**rows[0], "question_id": "plan_clear", "own": "yes", "reference": "no"}]
    figures = {f.user_id: f for f in calibration.leniency(rows, {"r": rubric})}
    # +1, 0 and +2 steps: 1 step more generous on average, from 3 comparisons.
    assert figures[1].mean == pytest.approx(1.0)
    assert figures[1].comparisons == 3 and figures[1].from_calibration == 3
    assert figures[1].caution and "only 3 comparisons" in figures[1].caution
    assert "more generous" in figures[1].words
    assert figures[2].mean == pytest.approx(-2.0) and figures[2].caution is None
    assert "harsher" in figures[2].words


def test_programme_leniency_page_for_leads_only(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    programme_id = programmes.create(db, title="Monthly", kind="self_audit", by=None)
    db.execute("UPDATE review SET programme_id = ? WHERE id = ?", [programme_id, review.id])
    rubric = review.rubric
    audit_id = audits.start(db, case_ids[0], people["reviewer"].id)
    answers = {
        q.id: Answer("outstanding" if q.type == "grade" else (q.good_answer or "yes"), False, "e")
        for q in rubric.questions_for("cp")
        if q.type != "text"
    }
    audits.save(
        db,
        audit_id,
        expected_version=1,
        answers=answers,
        sections_na=set(),
        feedback={},
        adverse_questions=[],
        critical_questions=[],
        by=people["reviewer"].id,
        submit=True,
    )
    moderation.moderate(
        db,
        audit_id,
        review.id,
        changed={"safeguarding_grade": ("outstanding", "requires_improvement", "Thin plan")},
        note="",
        by=people["lead"].id,
    )
    page = _client(app, "lead").get(f"/programmes/{programme_id}/leniency")
    assert page.status_code == 200
    graded = sum(1 for q in rubric.questions_for("cp") if q.type == "grade")
    assert f"{graded}<span" in page.text  # every graded answer of the moderated audit
    assert "Test Reviewer" in page.text and "more generous" in page.text
    assert "Caution:" in page.text
    assert _client(app, "reviewer").get(f"/programmes/{programme_id}/leniency").status_code == 403


# --------------------------------------------------------------------------- the chart


def test_dot_plot_draws_a_dot_per_answer_and_outlines_the_agreed_grade() -> None:
    rows = [
        charts.DotRow("<Plan> quality", {"good": 2, "inadequate": 1}, agreed="good"),
        charts.DotRow("Voice of the child", {"good": 3}),
    ]
    levels = [("outstanding", "Outstanding"), ("good", "Good"), ("inadequate", "Inadequate")]
    svg = str(charts.dot_plot("dots", rows, levels=levels, title="Grades"))
    assert svg.count("<circle") == 6 + 1  # six answers and the legend's dot
    assert svg.count('fill="none" stroke=') == 1 + 1  # the agreed box and the legend's box
    assert "&lt;Plan&gt; quality" in svg and "<Plan>" not in svg
    assert "2 Good, 1 Inadequate; agreed Good" in svg
    with pytest.raises(ValueError):
        charts.dot_plot("1bad", rows, levels=levels, title="x")


# --------------------------------------------------------------------------- the demo


def test_demo_has_a_finished_panel_with_two_splits_and_a_linked_exemplar(
    app: Flask, db: Any, instance: Any
) -> None:
    from audit import demo

    credentials = demo.seed(db, app.extensions["rubric_library"], instance)
    passwords = {c.username: c.password for c in credentials}
    review = next(r for r in review_data.all_reviews(db) if r.title == demo.DEMO_TITLE)
    (exercise,) = calibration_data.for_review(db, review.id)
    assert len(exercise.participants) == 4 and exercise.results_open
    result = calibration.results(
        review.rubric,
        exercise.cases,
        [(p.user_id, p.display_name) for p in exercise.participants],
        calibration_data.grades(db, exercise.id),
        calibration_data.agreed(db, exercise.id),
    )
    assert len(result.agenda) == 2
    assert all(unit.agreed and unit.rationale for unit in result.agenda)

    client = app.test_client()
    assert Auth(client).sign_in("reviewer1", passwords["reviewer1"]).status_code == 302
    draft = db.execute(
        "SELECT id FROM case_audit WHERE review_id = ? AND status = 'draft' AND reviewer_id = ?",
        [review.id, users.by_username(db, "reviewer1").id],  # type: ignore[union-attr]
    ).fetchone()[0]
    form = client.get(f"/reviews/{review.id}/audits/{draft}").text
    assert f"/calibration/{exercise.id}/exemplars/" in form

    # The programme's moderated audits give the lead a leniency page with something on it.
    lead = app.test_client()
    assert Auth(lead).sign_in("lead", passwords["lead"]).status_code == 302
    # The demo has two programmes: the monthly audits and the partnership's (multi-agency).
    programme_id = db.execute(
        "SELECT id FROM programme WHERE title = 'Monthly practice audit'"
    ).fetchone()[0]
    page = lead.get(f"/programmes/{programme_id}/leniency").text
    assert "Demo Reviewer One" in page and "more generous than the agreed grade" in page

    # The monthly programme has its own panel, opened and agreed, hosted by November's review,
    # with a participant from outside the programme's reviews; its exemplars are linked from
    # the scoring form of an audit in the programme.
    (panel,) = calibration_data.for_programme(db, programme_id)
    assert panel.title == demo.PROGRAMME_PANEL_TITLE and panel.results_open
    assert "Demo Reviewer Three" in [p.display_name for p in panel.participants]
    assert "Calibration panels for the programme" in lead.get(f"/programmes/{programme_id}").text
    results_page = lead.get(f"/programmes/{programme_id}/calibration/{panel.id}/results").text
    assert results_page.count("Change the agreed answer<span") >= 2
    case_id = next(
        c["id"]
        for c in review_data.case_files(db, panel.review_id)
        if c["id"] != panel.cases[0]["id"] and c["assigned_to"]
    )
    reviewer = users.by_username(db, "reviewer1")
    audit_id = audits.start(db, case_id, reviewer.id)  # type: ignore[union-attr]
    form = client.get(f"/reviews/{panel.review_id}/audits/{audit_id}").text
    assert f"/programmes/{programme_id}/calibration/{panel.id}/exemplars/" in form


def test_deleting_a_closed_review_deletes_its_calibration_exercises(
    db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    exercise_id = _panel(db, review.id, case_ids[0], people)
    calibration_data.save_grades(
        db, exercise_id, case_ids[0], people["reviewer"].id, {"safeguarding_grade": Answer("good")}
    )
    db.execute("UPDATE review SET status = 'closed' WHERE id = ?", [review.id])
    review_data.delete(db, review.id, by=people["admin"].id)
    for table in ("calibration_exercise", "calibration_participant", "calibration_grade"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


# --------------------------------------------------------------------------- exports, JSON


def _csv(client: FlaskClient, review_id: str, what: str) -> list[dict[str, str]]:
    response = client.get(f"/reviews/{review_id}/export/{what}.csv")
    assert response.status_code == 200, what
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _sheets(client: FlaskClient, review_id: str) -> dict[str, list[tuple[Any, ...]]]:
    response = client.get(f"/reviews/{review_id}/export/answers.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_exports_and_findings_json_carry_the_results_pages_figures(
    app: Flask, db: Any, krippendorff: dict[str, Any]
) -> None:
    _grade_table(app, krippendorff)
    review_id, exercise_id = krippendorff["review"].id, krippendorff["exercise_id"]
    base = f"/reviews/{review_id}/calibration/{exercise_id}"
    lead = _client(app, "lead")
    agree = {"value": "v2", "rationale": "Two, once the <b>second</b> visit is counted."}
    assert _post(lead, f"{base}/agreed/{krippendorff['case_id']}/unit06", agree).status_code == 302
    page = lead.get(f"{base}/results").text
    shown = lead.get(f"{base}/results.json").get_json()

    (exercise,) = _csv(lead, review_id, "calibration-exercises")
    for level, label in (("ordinal", "ordinal"), ("nominal", "nominal"), ("interval", "interval")):
        cell = exercise[f"Alpha, grades ({label})"]
        assert re.search(rf'id="alpha-{level}">\s*{re.escape(cell)}[\s<]', page), level
        assert float(cell) == round(shown["krippendorff_alpha"]["grades"][level]["value"], 3)
    assert exercise["Alpha, grades (ordinal)"] == "0.815"
    assert exercise["Alpha, yes/no questions (nominal)"].startswith("Not computable")
    assert exercise["Grades shown"].startswith("Everyone")
    # Unit 6: Coder B said Two, the panel agreed Two: 1 of the 4 grades matches.
    assert (
        exercise["Grades matching the agreed grade"],
        exercise["Grades compared with the agreed grade"],
    ) == ("1", "4")
    assert 'id="exact-agreed">25% of 4 grades' in page
    assert exercise["Questions on the agenda"] == "3"

    questions = _csv(lead, review_id, "calibration-questions")
    agenda = [q for q in questions if q["Agenda position"]]
    in_order = sorted(agenda, key=lambda q: int(q["Agenda position"]))
    assert len(in_order) == 3
    page_agenda = page.split('id="agenda"')[1].split("</ol>")[0]
    assert [q["Question"] for q in in_order] == re.findall(
        r"<strong>C\d+: ([^<]+)</strong>", page_agenda
    )
    unit6 = next(q for q in questions if q["question_id"] == "unit06")
    assert (unit6["Spread"], unit6["Agenda position"], unit6["Agreed answer"]) == ("3", "1", "Two")
    assert unit6["Rationale"] == agree["rationale"]

    grades = _csv(lead, review_id, "calibration-grades")
    unit6_grades = {g["Participant"]: g["Answer"] for g in grades if g["question_id"] == "unit06"}
    assert unit6_grades == {
        "Coder A": "One",
        "Coder B": "Two",
        "Coder C": "Three",
        "Coder D": "Four",
    }
    # Every grade of the published table, no more: 12 + 12 + 10 + 11 less the gaps, + yes/no.
    assert len([g for g in grades if g["question_id"] != "child_safeguarded"]) == sum(
        v is not None for row in TABLE for v in row
    )

    sheets = _sheets(lead, review_id)
    header, row = sheets["Calibration exercises"]
    assert dict(zip(header, row, strict=True))["Alpha, grades (ordinal)"] == 0.815
    assert len(sheets["Calibration grades"]) == len(grades) + 1

    document = lead.get(f"/reviews/{review_id}/findings.json").get_json()
    (item,) = document["calibration"]["exercises"]
    assert item["grades_shown"] == "all"
    assert item["krippendorff_alpha"] == shown["krippendorff_alpha"]
    first = item["questions"][0]
    assert (first["question_id"], first["agenda_position"], first["agreed"]) == ("unit06", 1, "v2")
    assert first["grades"] == shown["questions"][0]["grades"]


def test_exports_and_json_stay_blind_until_results_open(
    app: Flask, db: Any, people: dict[str, users.User], krippendorff: dict[str, Any]
) -> None:
    """A lead who takes part sees only their own grades; a lead who does not, none."""
    review_id, exercise_id = krippendorff["review"].id, krippendorff["exercise_id"]
    case_id = krippendorff["case_id"]
    base = f"/reviews/{review_id}/calibration/{exercise_id}"
    # Coder A also leads the review, so may download its exports; Coder B is a reviewer.
    review_data.add_member(db, review_id, krippendorff["coders"]["coder_a"].id, "lead")
    coder_a, coder_b = _client(app, "coder_a"), _client(app, "coder_b")
    _post(coder_a, f"{base}/cases/{case_id}", {"answer-unit01": "v2", "evidence-unit01": "Ay note"})
    _post(
        coder_b, f"{base}/cases/{case_id}", {"answer-unit01": "v5", "evidence-unit01": "Bee note"}
    )
    lead, admin = _client(app, "lead"), _client(app, "admin")

    def everything(client: FlaskClient) -> str:
        """Every download the client may take of the review, as one text."""
        texts = [
            client.get(f"/reviews/{review_id}/export/{what}.csv").get_data(as_text=True)
            for what in (
                "answers",
                "calibration-exercises",
                "calibration-questions",
                "calibration-grades",
            )
        ]
        texts.append(repr(_sheets(client, review_id)))
        texts.append(client.get(f"/reviews/{review_id}/findings.json").get_data(as_text=True))
        return "\n".join(texts)

    mine = everything(coder_a)
    assert "Ay note" in mine and "Bee note" not in mine
    (own,) = _csv(coder_a, review_id, "calibration-grades")
    assert (own["Participant"], own["Answer"], own["Note"]) == ("Coder A", "Two", "Ay note")
    (exercise,) = _csv(coder_a, review_id, "calibration-exercises")
    assert exercise["Alpha, grades (ordinal)"] == "" and exercise["Questions on the agenda"] == ""
    assert exercise["Grades shown"].startswith("Your own only")
    assert _csv(coder_a, review_id, "calibration-questions") == []
    (item,) = coder_a.get(f"/reviews/{review_id}/findings.json").get_json()["calibration"][
        "exercises"
    ]
    assert item["grades_shown"] == "own" and "krippendorff_alpha" not in item
    assert [g["grade"] for g in item["own_grades"] if g["question_id"] == "unit01"] == ["v2"]
    for who in (lead, admin):
        theirs = everything(who)
        assert "Ay note" not in theirs and "Bee note" not in theirs
        assert _csv(who, review_id, "calibration-grades") == []
        (item,) = who.get(f"/reviews/{review_id}/findings.json").get_json()["calibration"][
            "exercises"
        ]
        assert item["grades_shown"] == "none" and "own_grades" not in item
    # The command line reads as an admin who takes no part.
    from audit import analysis, policy

    cli = analysis.findings_document(db, review_data.get(db, review_id))
    assert cli["calibration"]["exercises"][0]["grades_shown"] == "none"
    assert policy.COMMAND_LINE.role == "admin"
    # A reviewer who takes part may not download the review's exports at all, as before.
    for url in ("export/calibration-grades.csv", "export/answers.xlsx", "findings.json"):
        assert coder_b.get(f"/reviews/{review_id}/{url}").status_code == 403, url

    assert _post(lead, f"{base}/open").status_code == 302
    for who in (coder_a, lead, admin):
        text = everything(who)
        assert "Ay note" in text and "Bee note" in text
        names = {g["Participant"] for g in _csv(who, review_id, "calibration-grades")}
        assert names == {"Coder A", "Coder B"}
    cli = analysis.findings_document(db, review_data.get(db, review_id))
    assert cli["calibration"]["exercises"][0]["grades_shown"] == "all"


# --------------------------------------------------------------------------- programme panels


def test_programme_exercise_from_the_programme_page_to_exemplars_and_leniency(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    """A lead runs a panel for the programme; anyone may grade; its exemplars reach every
    review of the programme that asks the same question on the same scale."""
    host, host_cases = make_review(db, people, title="March audits")
    later, later_cases = make_review(db, people, title="April audits")
    outside_review, outside_cases = make_review(db, people, title="Thematic audit")
    programme_id = programmes.create(db, title="Monthly audits", kind="self_audit", by=None)
    for review in (host, later):
        db.execute("UPDATE review SET programme_id = ? WHERE id = ?", [programme_id, review.id])
    # Not a member of any review: a new starter calibrating before their first audit.
    newcomer = users.create(db, "newcomer", PASSWORD, "reviewer", display_name="New Starter")

    lead = _client(app, "lead")
    programme_page = lead.get(f"/programmes/{programme_id}").text
    assert f'href="/programmes/{programme_id}/calibration"' in programme_page
    new = f"/programmes/{programme_id}/calibration/new"
    form = lead.get(new).text
    assert "March audits: C01 (TST-0001)" in form and "New Starter (reviewer)" in form
    assert "Thematic audit" not in form  # not in the programme
    mixed = _post(
        lead,
        new,
        {
            "title": "Before the audits",
            "cases": [host_cases[0], later_cases[0]],
            "participants": [str(people["reviewer"].id), str(newcomer.id)],
        },
    )
    assert mixed.status_code == 200 and "Choose case files from one review" in mixed.text
    assert calibration_data.for_programme(db, programme_id) == []
    created = _post(
        lead,
        new,
        {
            "title": "Before the audits",
            "cases": [host_cases[0]],
            "participants": [str(people["reviewer"].id), str(newcomer.id)],
        },
    )
    assert created.status_code == 302
    (exercise,) = calibration_data.for_programme(db, programme_id)
    assert exercise.review_id == host.id and exercise.programme_id == programme_id
    base = f"/programmes/{programme_id}/calibration/{exercise.id}"
    assert created.headers["Location"] == base
    # It is the programme's, not the hosting review's.
    assert calibration_data.for_review(db, host.id) == []
    assert lead.get(f"/reviews/{host.id}/calibration/{exercise.id}").status_code == 404

    rubric = host.rubric
    grades = {"reviewer": "good", "newcomer": "inadequate"}
    for name, grade in grades.items():
        client = _client(app, name)
        answers = full_answers(rubric, "cp", **{"answer-safeguarding_grade": grade})
        answers["evidence-safeguarding_grade"] = f"{name} note"
        assert _post(client, f"{base}/cases/{host_cases[0]}", answers).status_code == 302
        # Blind until everyone has submitted: neither sees the other's grade.
        assert client.get(f"{base}/results").status_code == 403
        assert client.get(f"{base}/results.json").status_code == 403
    newcomer_client = _client(app, "newcomer")
    listed = newcomer_client.get("/reviews").text
    waiting = f'href="{base}">Before the audits</a> (Monthly audits): waiting for your grades'
    assert waiting in listed
    own = newcomer_client.get(f"{base}/cases/{host_cases[0]}").text
    assert "newcomer note" in own and "reviewer note" not in own
    assert lead.get(f"{base}/results").status_code == 403
    # Someone who neither takes part nor runs it cannot open it.
    assert _client(app, "other").get(base).status_code == 403
    for name in grades:
        submitted = _post(_client(app, name), f"{base}/submit", {"confirm": "1"})
        assert submitted.status_code == 302
    data = newcomer_client.get(f"{base}/results.json").get_json()
    unit = next(q for q in data["questions"] if q["question_id"] == "safeguarding_grade")
    assert unit["grades"] == {"New Starter": "inadequate", "Test Reviewer": "good"}
    assert unit["spread"] == 2  # Good to Inadequate
    # Participants may not agree grades: the lead does.
    agree = {"value": "requires_improvement", "rationale": "Plan thin on contingency."}
    url = f"{base}/agreed/{host_cases[0]}/safeguarding_grade"
    assert _post(newcomer_client, url, agree).status_code == 403
    assert _post(lead, url, agree).status_code == 302

    # The exemplar is linked from the scoring form of another review of the programme...
    audit_id = audits.start(db, later_cases[1], people["reviewer"].id)
    reviewer = _client(app, "reviewer")
    scoring = reviewer.get(f"/reviews/{later.id}/audits/{audit_id}").text
    link = re.search(rf'href="({base}/exemplars/[^"]+/safeguarding_grade)">case C01', scoring)
    assert link, "the programme's exemplar should be linked from the April scoring form"
    exemplar = reviewer.get(link.group(1)).text
    assert "Plan thin on contingency." in exemplar and "TST-0001" not in exemplar
    # ... but not from a review outside the programme, nor to someone outside it.
    outside = audits.start(db, outside_cases[1], people["reviewer"].id)
    assert "/exemplars/" not in reviewer.get(f"/reviews/{outside_review.id}/audits/{outside}").text
    stranger = users.create(db, "stranger", PASSWORD, "reviewer")
    assert stranger and _client(app, "stranger").get(link.group(1)).status_code == 403

    # Its grades count in the programme's leniency: each participant against the agreed grade.
    page = lead.get(f"/programmes/{programme_id}/leniency").text
    assert "New Starter" in page and "harsher" in page
    assert "Test Reviewer" in page and "more generous" in page


def test_programme_exemplar_needs_the_same_rubric_question_and_scale() -> None:
    rubric = parse_rubric(KRIPPENDORFF_RUBRIC.read_text(encoding="utf-8"), source="test")
    text = KRIPPENDORFF_RUBRIC.read_text(encoding="utf-8")
    assert calibration.same_question(rubric, rubric, "unit01")
    assert not calibration.same_question(rubric, rubric, "no_such_question")
    renamed = parse_rubric(text.replace("id: krippendorff-2011", "id: another-tool"), source="t")
    assert not calibration.same_question(rubric, renamed, "unit01")
    rescaled = parse_rubric(
        text.replace("{id: v5, label: Five, value: 5}", "{id: v6, label: Six, value: 6}").replace(
            "good_or_better: [v5, v4]", "good_or_better: [v6, v4]"
        ),
        source="t",
    )
    assert not calibration.same_question(rubric, rescaled, "unit01")
    assert calibration.same_question(rubric, rescaled, "child_safeguarded")  # yes/no: no scale
    retyped = parse_rubric(
        text.replace(
            "      - id: unit02\n        text: Unit 2\n        type: grade",
            "      - id: unit02\n        text: Unit 2\n        type: yes_no",
        ),
        source="t",
    )
    assert retyped.question("unit02").type == "yes_no"
    assert not calibration.same_question(rubric, retyped, "unit02")


def _graded_panel(
    app: Flask, db: Any, people: dict[str, users.User], answers: dict[str, dict[str, str]]
) -> tuple[Any, list[str], str]:
    """A panel on the first case graded through the form by each named person, all submitted."""
    review, case_ids = make_review(db, people)
    exercise_id = _panel(db, review.id, case_ids[0], people)
    base = f"/reviews/{review.id}/calibration/{exercise_id}"
    for name, form in answers.items():
        client = _client(app, name)
        if form:
            assert _post(client, f"{base}/cases/{case_ids[0]}", form).status_code == 302
        assert _post(client, f"{base}/submit", {"confirm": "1"}).status_code == 302
    return review, case_ids, base


def test_not_applicable_is_an_answer_shown_compared_and_agreeable(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids, base = _graded_panel(
        app,
        db,
        people,
        {
            "reviewer": {
                "answer-strategy_discussion_held": "na",
                "answer-child_seen_alone": "na",
                "answer-risks_identified": "yes",
            },
            "other": {
                "answer-strategy_discussion_held": "yes",
                "answer-child_seen_alone": "na",
                "answer-risks_identified": "yes",
            },
        },
    )
    lead = _client(app, "lead")
    data = lead.get(f"{base}/results.json").get_json()
    by_id = {q["question_id"]: q for q in data["questions"]}
    split = by_id["strategy_discussion_held"]
    assert split["grades"] == {"Test Reviewer": "na", "Test Other": "yes"}
    assert split["grade_labels"] == {"Test Reviewer": "Not applicable", "Test Other": "Yes"}
    assert split["spread"] == 1
    assert by_id["child_seen_alone"]["spread"] == 0
    # N/A is a category of nominal alpha: three questions answered by both participants.
    assert data["krippendorff_alpha"]["yes_no_nominal"]["n"] == 3

    page = lead.get(f"{base}/results").text
    agenda = page.split('id="agenda"')[1].split("</ol>")[0]
    assert "Test Other Yes; Test Reviewer Not applicable" in agenda
    assert "split on whether it applies" in agenda
    assert "no answer" not in agenda
    table = page.split('id="yes-no"')[1]
    assert "Not applicable" in table

    url = f"{base}/agreed/{case_ids[0]}/strategy_discussion_held"
    form = lead.get(url).text
    assert 'value="na"' in form and "Not applicable" in form
    assert 'value="na"' not in lead.get(f"{base}/agreed/{case_ids[0]}/risks_identified").text
    saved = _post(lead, url, {"value": "na", "rationale": "No strategy discussion was needed."})
    assert saved.status_code == 302
    data = lead.get(f"{base}/results.json").get_json()
    agreed = next(q for q in data["questions"] if q["question_id"] == "strategy_discussion_held")
    assert (agreed["agreed"], agreed["agreed_label"]) == ("na", "Not applicable")
    assert data["exact_agreement_by_participant"]["Test Reviewer"]["value"] == 1
    refused = _post(lead, f"{base}/agreed/{case_ids[0]}/risks_identified", {"value": "na"})
    assert refused.status_code == 200 and "Error:" in refused.text
    rows = _csv(lead, review.id, "calibration-grades")
    mine = {
        (r["Participant"], r["question_id"]): r["Answer"]
        for r in rows
        if r["question_id"] == "strategy_discussion_held"
    }
    assert mine == {
        ("Test Reviewer", "strategy_discussion_held"): "Not applicable",
        ("Test Other", "strategy_discussion_held"): "Yes",
    }


def test_not_applicable_counts_in_nominal_alpha_but_not_on_the_scale() -> None:
    rubric = parse_rubric(KRIPPENDORFF_RUBRIC.read_text(encoding="utf-8"), source="test")
    case = {"id": "c1", "pseudonym": "C01", "case_type": "cin"}
    grades = {
        ("c1", 1): {"unit01": Answer(None, True), "unit02": Answer("v2")},
        ("c1", 2): {"unit01": Answer("v3"), "unit02": Answer("v2")},
    }
    result = calibration.results(rubric, [case], [(1, "A"), (2, "B")], grades, {})
    unit01 = next(u for u in result.units if u.question.id == "unit01")
    assert unit01.values == ("na", "v3") and unit01.disagree and unit01.split_on_applying
    assert unit01 in result.agenda
    assert result.alpha_grades["nominal"].n == 2
    assert result.alpha_grades["ordinal"].n == 1  # N/A has no place on the scale


def _two_cases(
    db: Any, review_id: str, case_ids: list[str], people: dict[str, users.User], title: str = ""
) -> str:
    """An exercise over the first two cases, for ``reviewer`` and ``other``, set up by the lead."""
    return calibration_data.create(
        db,
        review_id,
        title=title or "Two cases",
        case_ids=case_ids[:2],
        participant_ids=[people["reviewer"].id, people["other"].id],
        by=people["lead"].id,
    )


def test_results_say_truthfully_who_graded_and_unanswered_questions_cannot_be_agreed(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    exercise_id = _two_cases(db, review.id, case_ids, people)
    base = f"/reviews/{review.id}/calibration/{exercise_id}"
    lead = _client(app, "lead")
    assert _post(lead, f"{base}/open").status_code == 302
    page = lead.get(f"{base}/results").text
    assert re.search(r'id="who-graded">\s*Nobody graded C01, C02\.', page)
    assert "participants graded" not in page
    assert "No question was answered by more than one participant" in page
    assert "Every participant gave the same answers" not in page
    assert "There is no answer to agree" not in page and "/agreed/" not in page
    data = lead.get(f"{base}/results.json").get_json()
    assert {q["spread"] for q in data["questions"]} == {None}
    questions = _csv(lead, review.id, "calibration-questions")
    assert {(q["Answers given"], q["Spread"]) for q in questions} == {("0", "")}
    url = f"{base}/agreed/{case_ids[0]}/safeguarding_grade"
    refused = lead.get(url)
    assert refused.status_code == 302 and refused.location.endswith("#agree-other-result")
    assert _post(lead, url, {"value": "good", "rationale": "x"}).status_code == 302
    assert calibration_data.agreed(db, exercise_id) == {}

    # One participant grades one question of one case: one answer, nothing compared.
    second = _two_cases(db, review.id, case_ids, people, title="Half graded")
    calibration_data.save_grades(
        db, second, case_ids[0], people["reviewer"].id, {"safeguarding_grade": Answer("good")}
    )
    calibration_data.open_results(db, second, review.id, people["lead"].id)
    page = lead.get(f"/reviews/{review.id}/calibration/{second}/results").text
    who = r'id="who-graded">\s*1 of 2 participants graded C01\. Nobody graded C02\.'
    assert re.search(who, page)
    agree_other = page.split('id="agree-other"')[1]
    assert agree_other.count("/agreed/") == 1 and "safeguarding_grade" in agree_other


def test_who_graded_groups_cases_by_how_many_graded_them() -> None:
    result = calibration.Results(
        participants=("A", "B", "C", "D"),
        units=(),
        alpha_grades={},
        alpha_yes_no=calibration.Statistic(None, "x", 0),
        agreement_with_agreed=calibration.Statistic(None, "x", 0),
        agreement_by_participant=(),
        graded_by=(("C04", 4), ("C05", 3), ("C06", 0), ("C07", 4)),
    )
    assert result.who_graded == (
        "All 4 participants graded C04, C07. 3 of 4 participants graded C05. Nobody graded C06."
    )


def test_critical_question_answered_adversely_shows_escalation_guidance_and_no_alert(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    exercise_id = _panel(db, review.id, case_ids[0], people)
    base = f"/reviews/{review.id}/calibration/{exercise_id}"
    reviewer = _client(app, "reviewer")
    form = reviewer.get(f"{base}/cases/{case_ids[0]}").text
    assert "raises no audit alert" in form
    calm = reviewer.get(base).text
    assert "may not be adequately safeguarded" not in calm

    saved = _post(reviewer, f"{base}/cases/{case_ids[0]}", {"answer-child_safeguarded": "no"})
    assert saved.status_code == 302
    page = reviewer.get(base).text
    assert "may not be adequately safeguarded: read what to do now" in page
    banner = page.split('id="calibration-escalate-title"')[1].split("</div>\n</div>")[0]
    assert "C01" in banner and "Is the child adequately safeguarded" in banner
    assert "the same day" in banner and "raises no audit alert" in banner
    # Practice only: no escalation and no audit is raised, and others see no banner.
    assert db.execute("SELECT count(*) FROM escalation").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM case_audit").fetchone()[0] == 0
    assert "calibration-escalate-title" not in _client(app, "other").get(base).text


def test_submitting_with_grades_missing_says_what_and_asks_again(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    exercise_id = _two_cases(db, review.id, case_ids, people)
    base = f"/reviews/{review.id}/calibration/{exercise_id}"
    reviewer = _client(app, "reviewer")
    assert "Not everything is graded yet" in reviewer.get(base).text
    asked = _post(reviewer, f"{base}/submit")
    assert asked.status_code == 200
    assert "You have not graded anything yet" in asked.text
    assert "C01: not graded" in asked.text and "C02: not graded" in asked.text
    assert 'name="confirm" value="1"' in asked.text
    assert calibration_data.get(db, exercise_id, review.id).submitted == 0

    rubric = review.rubric
    everything = full_answers(rubric, "cp")
    assert _post(reviewer, f"{base}/cases/{case_ids[0]}", everything).status_code == 302
    partly = {"answer-child_safeguarded": "yes", "answer-child_seen_alone": "na"}
    assert _post(reviewer, f"{base}/cases/{case_ids[1]}", partly).status_code == 302
    asked = _post(reviewer, f"{base}/submit")
    assert asked.status_code == 200 and "Not everything is graded yet" in asked.text
    assert "C01" not in asked.text.split('id="ungraded"')[1].split("</ul>")[0]
    total = sum(1 for q in rubric.questions_for("early_help") if q.type != "text")
    assert f"C02: {total - 2} of {total} questions unanswered" in asked.text
    assert calibration_data.get(db, exercise_id, review.id).submitted == 0

    done = _post(reviewer, f"{base}/submit", {"confirm": "1"})
    assert done.status_code == 302
    assert calibration_data.get(db, exercise_id, review.id).submitted == 1

    # Everything graded: submitted at once, no question asked.
    other = _client(app, "other")
    for case_id, case_type in zip(case_ids[:2], ("cp", "early_help"), strict=True):
        answers = full_answers(rubric, case_type)
        assert _post(other, f"{base}/cases/{case_id}", answers).status_code == 302
    assert "Not everything is graded yet" not in other.get(base).text
    assert _post(other, f"{base}/submit").status_code == 302
    assert calibration_data.get(db, exercise_id, review.id).results_open


def test_a_double_submit_makes_one_exercise_and_the_lead_may_delete_one_made_by_mistake(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    lead = _client(app, "lead")
    form = {
        "title": "March panel",
        "cases": case_ids[:2],
        "participants": [str(people["reviewer"].id), str(people["other"].id)],
    }
    first = _post(lead, f"/reviews/{review.id}/calibration/new", form)
    assert first.status_code == 302
    again = _post(lead, f"/reviews/{review.id}/calibration/new", form | {"title": " march PANEL"})
    assert again.status_code == 302 and again.location == first.location
    (exercise,) = calibration_data.for_review(db, review.id)
    assert "already exists" in lead.get(again.location).text
    # Another title is another exercise (the same panel run again).
    repeat = _post(lead, f"/reviews/{review.id}/calibration/new", form | {"title": "April"})
    assert repeat.status_code == 302 and repeat.location != first.location
    assert len(calibration_data.for_review(db, review.id)) == 2

    base = f"/reviews/{review.id}/calibration/{exercise.id}"
    assert "Delete this exercise" in lead.get(base).text
    assert "Delete this exercise" not in _client(app, "reviewer").get(base).text
    assert _client(app, "reviewer").get(f"{base}/delete").status_code == 403
    calibration_data.save_grades(
        db, exercise.id, case_ids[0], people["reviewer"].id, {"safeguarding_grade": Answer("good")}
    )
    page = lead.get(f"{base}/delete").text
    assert "the 1 answer they have saved" in page
    assert _post(lead, f"{base}/delete").status_code == 400  # not confirmed
    deleted = _post(lead, f"{base}/delete", {"confirm": "1"})
    assert deleted.status_code == 302
    assert deleted.location.endswith(f"/reviews/{review.id}/calibration")
    assert "deleted" in lead.get(deleted.location).text
    assert [e.title for e in calibration_data.for_review(db, review.id)] == ["April"]
    assert db.execute("SELECT count(*) FROM calibration_grade").fetchone()[0] == 0
    logged = db.execute(
        "SELECT action FROM change_log WHERE entity = 'calibration_exercise' AND entity_id = ?",
        [exercise.id],
    ).fetchall()
    assert [row[0] for row in logged][-1] == "delete"

    # Once results are open and grades exist, the panel's work is kept.
    (april,) = calibration_data.for_review(db, review.id)
    april_base = f"/reviews/{review.id}/calibration/{april.id}"
    calibration_data.save_grades(
        db, april.id, case_ids[0], people["other"].id, {"safeguarding_grade": Answer("good")}
    )
    calibration_data.open_results(db, april.id, review.id, people["lead"].id)
    assert "Delete this exercise" not in lead.get(april_base).text
    assert "cannot be deleted" in lead.get(f"{april_base}/delete").text
    refused = _post(lead, f"{april_base}/delete", {"confirm": "1"})
    assert refused.status_code == 302 and refused.location.endswith(april_base)
    with pytest.raises(calibration_data.NotDeletable):
        calibration_data.delete(db, april.id, review.id, people["lead"].id)
    assert len(calibration_data.for_review(db, review.id)) == 1


def test_calibration_figures_give_reasons_in_a_panels_words() -> None:
    rubric = parse_rubric(KRIPPENDORFF_RUBRIC.read_text(encoding="utf-8"), source="test")
    case = {"id": "c1", "pseudonym": "C01", "case_type": "cin"}
    people = [(1, "A"), (2, "B")]
    nobody = calibration.results(rubric, [case], people, {}, {})
    assert nobody.agreement_with_agreed.reason == "no answer has been agreed yet"
    assert dict(nobody.agreement_by_participant)["B"].reason == "no answer has been agreed yet"
    assert nobody.alpha_grades["ordinal"].reason == "nobody has answered these questions yet"

    grades = {("c1", 1): {"unit01": Answer("v2")}, ("c1", 2): {"unit02": Answer("v3")}}
    agreed = {("c1", "unit01"): {"value": "v2", "rationale": "x"}}
    some = calibration.results(rubric, [case], people, grades, agreed)
    by_name = dict(some.agreement_by_participant)
    assert by_name["A"].value == 1
    assert by_name["B"].reason == "this participant answered none of the agreed questions"
    shared = "no question was answered by more than one participant"
    assert some.alpha_grades["ordinal"].reason == shared
    every = [s.reason for s in [*some.alpha_grades.values(), some.agreement_with_agreed]]
    assert not any("auditor" in (reason or "") for reason in every)


def test_alpha_is_shown_with_its_count_and_a_caution_when_it_rests_on_very_few(
    app: Flask, db: Any, people: dict[str, users.User], krippendorff: dict[str, Any]
) -> None:
    _grade_table(app, krippendorff)
    lead = _client(app, "lead")
    base = f"/reviews/{krippendorff['review'].id}/calibration/{krippendorff['exercise_id']}"
    page = lead.get(f"{base}/results").text
    ordinal = page.split('id="alpha-ordinal">')[1].split("</dd>")[0]
    assert (
        "0.815" in ordinal and "from 11 questions answered by two participants or more" in ordinal
    )
    assert "Caution" not in ordinal
    data = lead.get(f"{base}/results.json").get_json()
    assert data["krippendorff_alpha"]["grades"]["ordinal"]["caution"] is None

    _review, _cases, small = _graded_panel(
        app,
        db,
        people,
        {
            "reviewer": {"answer-risks_identified": "yes", "answer-child_seen_alone": "no"},
            "other": {"answer-risks_identified": "no", "answer-child_seen_alone": "no"},
        },
    )
    page = lead.get(f"{small}/results").text
    yes_no = page.split('id="alpha-yes-no">')[1].split("</dd>")[0]
    assert "from 2 questions answered by two participants or more" in yes_no
    assert "Caution:" in yes_no and "Rests on only 2 questions" in yes_no
    data = lead.get(f"{small}/results.json").get_json()
    assert data["krippendorff_alpha"]["yes_no_nominal"]["n"] == 2
    assert data["krippendorff_alpha"]["yes_no_nominal"]["caution"].startswith("Rests on only 2")


@pytest.mark.parametrize(
    ("mean", "figure", "words"),
    [
        (-0.25, "-0.25", "0.25 scale steps harsher"),
        (0.125, "+0.12", "0.12 scale steps more generous"),
        (-0.004, "0.00", "In line with the agreed grades"),
        (0.04, "+0.04", "0.04 scale steps more generous"),
    ],
)
def test_leniency_figure_and_words_are_rounded_alike(mean: float, figure: str, words: str) -> None:
    lean = calibration.Leniency(1, "Auditor", mean, 4, 4, 0)
    assert lean.figure == figure
    assert lean.words.startswith(words)


def test_set_up_page_explains_where_case_files_come_from_when_there_are_none(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    lead = _client(app, "lead")
    programme_id = programmes.create(db, title="Empty", kind="self_audit", by=None)
    page = lead.get(f"/programmes/{programme_id}/calibration/new").text
    note = page.split('id="no-case-files"')[1].split("</div>")[0]
    assert "this programme has no review yet" in note
    assert f'href="/reviews/new?programme={programme_id}"' in note
    assert "Import case list" in note

    review = review_data.create(
        db,
        title="No cases yet",
        host_organisation="Testshire Council",
        kind="self_audit",
        rubric=make_review(db, people)[0].rubric,
        by=people["lead"].id,
    )
    review_data.add_member(db, review.id, people["lead"].id, "lead")
    db.execute("UPDATE review SET programme_id = ? WHERE id = ?", [programme_id, review.id])
    page = lead.get(f"/programmes/{programme_id}/calibration/new").text
    assert "none of its reviews has any case files yet" in page
    own = lead.get(f"/reviews/{review.id}/calibration/new").text
    assert "This review has no case files yet" in own
    assert f'href="/reviews/{review.id}"' in own.split('id="no-case-files"')[1]
    # With case files to choose, no such note.
    filled, _ = make_review(db, people, title="Filled")
    assert 'id="no-case-files"' not in lead.get(f"/reviews/{filled.id}/calibration/new").text


def _programme_panel(
    db: Any, review_id: str, case_ids: list[str], people: dict[str, users.User], title: str
) -> tuple[str, str]:
    """Put the review in a new programme "Monthly audits" and give it a panel on its first case."""
    programme_id = programmes.create(db, title="Monthly audits", kind="self_audit", by=None)
    db.execute("UPDATE review SET programme_id = ? WHERE id = ?", [programme_id, review_id])
    panel = calibration_data.create(
        db,
        review_id,
        title=title,
        case_ids=[case_ids[0]],
        participant_ids=[people["reviewer"].id, people["other"].id],
        by=people["lead"].id,
        programme_id=programme_id,
    )
    return programme_id, panel


def test_a_reviews_calibration_list_points_to_the_users_programme_panels(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    reviewer = _client(app, "reviewer")
    url = f"/reviews/{review.id}/calibration"
    assert "Programme calibration panels you take part in" not in reviewer.get(url).text
    programme_id, panel = _programme_panel(db, review.id, case_ids, people, "Before November")
    page = reviewer.get(url).text
    assert "No calibration exercises in this review for you yet." in page
    panels = page.split('id="calibration-panels"')[1]
    assert f'href="/programmes/{programme_id}/calibration/{panel}"' in panels
    assert "Before November</a> (Monthly audits): waiting for your grades" in panels
    # The Reviews page lists them as before.
    assert "Before November</a> (Monthly audits)" in reviewer.get("/reviews").text


def test_a_lead_deletes_a_programme_panel_set_up_by_mistake(
    app: Flask, db: Any, people: dict[str, users.User]
) -> None:
    review, case_ids = make_review(db, people)
    programme_id, panel = _programme_panel(db, review.id, case_ids, people, "Oops")
    base = f"/programmes/{programme_id}/calibration/{panel}"
    lead = _client(app, "lead")
    assert "Delete this exercise" in lead.get(base).text
    assert _client(app, "reviewer").get(f"{base}/delete").status_code == 403
    assert _post(lead, f"/reviews/{review.id}/calibration/{panel}/delete").status_code == 404
    deleted = _post(lead, f"{base}/delete", {"confirm": "1"})
    assert deleted.location.endswith(f"/programmes/{programme_id}/calibration")
    assert calibration_data.for_programme(db, programme_id) == []
