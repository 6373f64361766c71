"""A review's figures are counted once per change of its data, and never shown stale.

``analysis.dashboard_figures`` and ``analysis.aggregate`` keep what they count until a trigger
gives the review a new stamp (audit/data/stamps.py). After every kind of write (answers
saved and submitted, moderation, a case list imported, a bundle imported, a status change,
a person renamed, a bank holiday, and a raw SQL write that no code path announces) the
cached figures must equal figures counted from scratch.
"""

from __future__ import annotations

import io

import pytest

from audit import analysis, intake
from audit.bundles import bundle
from audit.data import audits, holidays, moderation, stamps
from audit.data import reviews as review_data
from tests.conftest import csrf_token
from tests.helpers import full_answers, health_check, make_review
from tests.test_findings import score


def fresh(db, review) -> analysis.DashboardFigures:  # type: ignore[no-untyped-def]
    """Count every dashboard figure from scratch, bypassing the cache."""
    return analysis.DashboardFigures(
        agg=analysis._aggregate(db, review)[0],
        cases=audits.reviewer_cases(db, review.id),
        agreement=analysis.agreement_for(db, review),
        queue=analysis.moderation_queue(db, review),
        moderation=analysis.moderation_summary(db, review),
        timeliness=analysis.timeliness_rows(db, review),
        data_errors=analysis.data_errors(db, review),
    )


def check(db, review_id: str) -> analysis.DashboardFigures:  # type: ignore[no-untyped-def]
    """Assert the cached figures are today's figures; return them."""
    review = review_data.get(db, review_id)
    shown = analysis.dashboard_figures(db, review)
    assert shown == fresh(db, review)
    assert analysis.aggregate(db, review) == shown.agg
    return shown


@pytest.fixture
def world(db, people):  # type: ignore[no-untyped-def]
    analysis.forget_cached()
    review, case_ids = make_review(db, people, case_types=("cp", "cp", "cin", "early_help"))
    rubric = health_check()
    values = {
        k.removeprefix("answer-"): v
        for k, v in full_answers(rubric, "cp").items()
        if k.startswith("answer-")
    }
    score(db, rubric, case_ids[0], people["reviewer"].id, values)
    return review, case_ids, rubric, values


def test_figures_are_reused_until_the_review_changes(db, world) -> None:  # type: ignore[no-untyped-def]
    review, *_ = world
    first = check(db, review.id)
    again = analysis.dashboard_figures(db, review_data.get(db, review.id))
    assert again is first  # the same object: counted once


def test_no_write_leaves_stale_figures(db, people, world, app, client, auth) -> None:  # type: ignore[no-untyped-def]
    review, case_ids, rubric, values = world
    before = check(db, review.id)

    # Answers: a second audit submitted.
    score(
        db,
        rubric,
        case_ids[1],
        people["reviewer"].id,
        {**values, "overall_grade": "requires_improvement"},
    )
    after = check(db, review.id)
    assert after.agg.audited == before.agg.audited + 1

    # A draft saved (progress on the dashboard moves, the counted figures do not).
    draft = audits.start(db, case_ids[2], people["reviewer"].id)
    check(db, review.id)
    current = audits.get(db, draft)
    audits.save(
        db,
        draft,
        expected_version=current.version,
        answers={},
        sections_na=set(),
        feedback={"feedback_given": "yes"},
        adverse_questions=[],
        critical_questions=[],
        by=people["reviewer"].id,
        submit=False,
    )
    check(db, review.id)

    # Moderation: a grade changed.
    audit_id = audits.first_audit_id(db, case_ids[0])
    moderation.moderate(
        db,
        audit_id,
        review.id,
        changed={"overall_grade": ("good", "inadequate", "Evidence thin")},
        note="Moderated",
        by=people["lead"].id,
    )
    moderated = check(db, review.id)
    assert moderated.moderation["moderated"] == 1

    # A case list imported, through the real page.
    auth.sign_in("lead")
    route = f"/reviews/{review.id}/cases/import"
    response = client.post(
        route,
        data={
            "csrf_token": csrf_token(client.get(route).text),
            "case_file": (io.BytesIO(b"reference,case_type\nNEW-1,cp\nNEW-2,cin\n"), "new.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert len(check(db, review.id).cases) == len(case_ids) + 2

    # A case sampled in from the command line's code path.
    intake.import_cases(
        db, review_data.get(db, review.id), b"reference,case_type\nNEW-3,cp\n", "more.csv"
    )
    check(db, review.id)

    # A bundle imported: the review's own bundle with one more case merged back in.
    doc = bundle.export_review(db, review.id)
    extra = dict(
        doc["cases"][0],
        id="0f0e0d0c-0b0a-4909-8807-060504030201",
        reference="BND-9",
        pseudonym="C99",
    )
    doc["cases"].append(extra)
    bundle.import_bundle(db, bundle.dumps(doc))
    assert len(check(db, review.id).cases) == len(case_ids) + 4

    # A status change, a person renamed, a bank holiday, and the nation.
    review_data.set_status(db, review.id, "in_progress", by=people["lead"].id)
    check(db, review.id)
    db.execute(
        "UPDATE user SET display_name = 'Renamed Reviewer' WHERE id = ?", [people["reviewer"].id]
    )
    assert any(c["assignee"] == "Renamed Reviewer" for c in check(db, review.id).cases)
    from datetime import date

    holidays.add(db, date(2026, 3, 4), "Local holiday", by=None)
    check(db, review.id)
    holidays.set_nation(db, "scotland", by=None)
    check(db, review.id)

    # A raw write no code path announces: the triggers see it all the same.
    db.execute("UPDATE answer SET value = 'inadequate' WHERE question_id = 'overall_grade'")
    check(db, review.id)
    db.execute("DELETE FROM answer WHERE audit_id = ?", [audit_id])
    check(db, review.id)


def test_every_table_of_review_data_has_stamp_triggers(db) -> None:  # type: ignore[no-untyped-def]
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    triggers = {
        row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    for table in tables:
        if table in stamps.SKIP:
            continue
        for event in ("insert", "update", "delete"):
            assert f"stamp_{table}_{event}" in triggers, (table, event)
    # A table added later gets them on the next migration run.
    db.execute("CREATE TABLE later_thing (id INTEGER PRIMARY KEY, review_id TEXT)")
    assert len(stamps.ensure_triggers(db)) == 3


def test_an_agency_answer_renews_its_own_review_s_stamp_not_every_review_s(db) -> None:  # type: ignore[no-untyped-def]
    """An agency's answers hang on its agency audit: a save must not empty every cache."""
    from audit.data import agency_audits, users
    from tests.partnership_helpers import auditor, partnership

    lead = users.create(db, "stamp-lead", "correct-horse-battery", "lead")
    review, (case_id,) = partnership(db, lead, [("cp", {"police": "P"})])
    police = auditor(db, "stamp-pc", "police")
    audit_id = agency_audits.start(db, review.id, case_id, "police", by=police.id)
    before = stamps.current(db, review.id)
    db.execute(
        "INSERT INTO agency_answer (audit_id, question_id, value, updated_at)"
        " VALUES (?, 'child_safe', 'yes', '2026-12-05T10:00:00Z')",
        [audit_id],
    )
    after = stamps.current(db, review.id)
    assert after[0] != before[0], "the review's own stamp did not change"
    assert after[1] == before[1], "an agency answer emptied every review's cache"
