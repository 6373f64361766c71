"""Learning themes: the list, tagging, the theme page's counts and Newcombe changes, pages."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from audit import analysis
from audit import themes as theme_domain
from audit.collaboration import Conversation, SectionView
from audit.data import actions, audits, programmes
from audit.data import conversations as conversation_data
from audit.data import findings as finding_data
from audit.data import reviews as review_data
from audit.data import themes as theme_data
from audit.rubric import Rubric
from audit.scoring import Answer, adverse, applicable
from audit.stats import newcombe_difference
from tests.conftest import Auth, csrf_token
from tests.helpers import health_check

QUESTION = "safeguarding_grade"


def _answers(rubric: Rubric, case_type: str, grade: str) -> dict[str, Answer]:
    """Answer every applicable question well, the themed question with ``grade``."""
    out: dict[str, Answer] = {}
    for _section, questions in applicable(rubric, case_type):
        for q in questions:
            if q.type == "grade":
                out[q.id] = Answer("good", False, "")
            elif q.type == "yes_no":
                out[q.id] = Answer(q.good_answer or "yes", False, "")
            else:
                out[q.id] = Answer("Synthetic summary.")
    out[QUESTION] = Answer(grade, False, f"Synthetic note: plan drifted ({grade}).")
    return out


def submit(db: Any, rubric: Rubric, case_id: str, by: int, grade: str) -> str:
    """Start and submit a first audit of a CP case; return its id."""
    audit_id = audits.start(db, case_id, by)
    answers = _answers(rubric, "cp", grade)
    result = audits.save(
        db,
        audit_id,
        expected_version=audits.get(db, audit_id).version,
        answers=answers,
        sections_na=set(),
        feedback={},
        adverse_questions=[q.id for q in adverse(rubric, "cp", answers)],
        critical_questions=[q.id for q in rubric.critical_questions()],
        by=by,
        submit=True,
    )
    assert result.submitted
    return audit_id


def programme_review(db: Any, people: dict, programme_id: str, title: str, start: str) -> Any:
    """A review in the programme, led by ``lead`` with ``reviewer``, with four CP cases."""
    review = review_data.create(
        db,
        title=title,
        host_organisation="Testshire Council",
        kind="self_audit",
        rubric=health_check(),
        by=people["lead"].id,
        programme_id=programme_id,
        start_date=start,
    )
    review_data.add_member(db, review.id, people["lead"].id, "lead")
    review_data.add_member(db, review.id, people["reviewer"].id, "reviewer")
    cases = review_data.add_case_files(
        db,
        review.id,
        [
            {
                "reference": f"{title[:3].upper()}-{n}",
                "case_type": "cp",
                "team": "Team A",
                "assigned_to": people["reviewer"].id,
            }
            for n in range(4)
        ],
    )
    return review, list(cases)


@pytest.fixture
def world(db: Any, people: dict) -> dict[str, Any]:
    """A programme with two reviews: the themed question 1 of 4 good, then 4 of 4."""
    rubric = health_check()
    programme_id = programmes.create(db, title="Monthly audit", kind="self_audit", by=None)
    drift = theme_data.create(
        db, name="Drift", description="Plans that stall", programme_id=programme_id, by=None
    )
    voice = theme_data.create(db, name="Voice of the child", programme_id=programme_id, by=None)
    first, first_cases = programme_review(db, people, programme_id, "January", "2026-01-05")
    second, second_cases = programme_review(db, people, programme_id, "February", "2026-02-02")
    by = people["reviewer"].id
    first_audits = [
        submit(db, rubric, case, by, grade)
        for case, grade in zip(
            first_cases, ["good", "inadequate", "requires_improvement", "inadequate"], strict=True
        )
    ]
    second_audits = [submit(db, rubric, case, by, "good") for case in second_cases]
    # Drift: two January audits' notes, one February audit's note; voice: one February note.
    for audit_id in first_audits[1:3]:
        theme_data.set_evidence_tags(db, first.id, audit_id, {QUESTION: {drift}}, by=by)
    theme_data.set_evidence_tags(db, second.id, second_audits[0], {QUESTION: {drift, voice}}, by=by)
    finding = finding_data.add_own(
        db, first.id, kind="development", text="Plans drift.", by=people["lead"].id
    )
    theme_data.set_finding_tags(db, first.id, finding, {drift}, by=people["lead"].id)
    action = actions.add(
        db,
        first.id,
        finding_id=finding,
        what="Review plans monthly",
        owner="Head of Service",
        due_date=None,
        by=people["lead"].id,
    )
    return {
        "programme": programme_id,
        "drift": drift,
        "voice": voice,
        "first": first,
        "second": second,
        "first_audits": first_audits,
        "second_audits": second_audits,
        "finding": finding,
        "action": action,
    }


def _summaries(db: Any, programme_id: str) -> dict[str, theme_domain.ThemeSummary]:
    return {s.theme.name: s for s in analysis.programme_themes(db, programme_id)}


# --------------------------------------------------------------------------- domain


def test_theme_names_are_required_short_and_unique_ignoring_case() -> None:
    assert [p.field for p in theme_domain.check_theme("  ", "")] == ["name"]
    assert [p.field for p in theme_domain.check_theme("x" * 81, "")] == ["name"]
    assert [p.field for p in theme_domain.check_theme("x", "d" * 501)] == ["description"]
    clash = theme_domain.check_theme("drift ", "", taken=["Drift"])
    assert clash and "already has a theme called drift" in clash[0].message
    assert not theme_domain.check_theme("Drift", "Plans that stall", taken=["Voice"])


def test_a_retired_theme_can_be_unticked_but_never_newly_ticked(db: Any) -> None:
    programme_id = programmes.create(db, title="P", kind="self_audit", by=None)
    current = theme_data.create(db, name="Current", programme_id=programme_id)
    old = theme_data.create(db, name="Old", programme_id=programme_id)
    theme_data.set_retired(db, old, True, by=None)
    themes = theme_data.for_programme(db, programme_id)
    assert [t.id for t in theme_domain.usable(themes)] == [current]
    assert theme_domain.chosen([current, old, "unknown"], theme_domain.usable(themes)) == {current}
    # Held already: it is offered (to untick) and kept when left ticked.
    offered = theme_domain.usable(themes, held={old})
    assert {t.id for t in offered} == {current, old}
    assert theme_domain.chosen([old], offered, held={old}) == {old}


# --------------------------------------------------------------------------- data layer


def test_a_theme_in_use_is_retired_not_deleted_and_renaming_keeps_tags(
    world: dict, db: Any
) -> None:
    drift = world["drift"]
    with pytest.raises(theme_data.ThemeInUse):
        theme_data.delete(db, drift, by=None)
    theme_data.update(db, drift, name="Drift in planning", description="", by=None)
    assert theme_data.get(db, drift).name == "Drift in planning"
    assert drift in theme_data.evidence_tags(db, world["first_audits"][1])[QUESTION]
    with pytest.raises(theme_data.DuplicateTheme):
        theme_data.update(db, drift, name="voice of the CHILD", description="", by=None)
    unused = theme_data.create(db, name="Typo", programme_id=world["programme"])
    theme_data.delete(db, unused, by=None)
    with pytest.raises(theme_data.ThemeNotFound):
        theme_data.get(db, unused)


def test_tags_are_replaced_whole_and_logged(world: dict, db: Any, people: dict) -> None:
    audit_id = world["second_audits"][0]
    changed = theme_data.set_evidence_tags(
        db, world["second"].id, audit_id, {QUESTION: {world["voice"]}}, by=people["lead"].id
    )
    assert changed == 1  # drift removed, voice kept
    assert theme_data.evidence_tags(db, audit_id) == {QUESTION: {world["voice"]}}
    logged = db.execute(
        "SELECT before, after FROM change_log WHERE entity = 'theme_tag' AND entity_id = ?",
        [f"evidence/{audit_id}/{QUESTION}"],
    ).fetchall()
    assert any(world["drift"] in row["before"] for row in logged)


def test_deleting_an_answer_or_finding_takes_its_tags_with_it(world: dict, db: Any) -> None:
    db.execute("DELETE FROM finding WHERE id = ?", [world["finding"]])
    assert world["finding"] not in theme_data.finding_tags(db, world["first"].id)
    assert theme_data.uses(db, world["drift"]) == 3


def test_a_programme_role_is_the_strongest_role_in_any_of_its_reviews(
    world: dict, db: Any, people: dict
) -> None:
    assert theme_data.programme_role(db, world["programme"], people["lead"].id) == "lead"
    assert theme_data.programme_role(db, world["programme"], people["reviewer"].id) == "reviewer"
    assert theme_data.programme_role(db, world["programme"], people["other"].id) is None


# --------------------------------------------------------------------------- the theme page


def test_theme_page_counts_audits_and_findings_per_review(world: dict, db: Any) -> None:
    found = _summaries(db, world["programme"])
    drift = found["Drift"]
    assert [(c.label, c.audits, c.submitted, c.findings) for c in drift.counts] == [
        ("January", 2, 4, 1),  # the lead's own finding is accepted when added
        ("February", 1, 4, 0),
    ]
    assert (drift.audits, drift.finding_count) == (3, 1)
    assert [(c.audits, c.findings) for c in found["Voice of the child"].counts] == [(0, 0), (1, 0)]


def test_only_accepted_findings_and_submitted_first_audits_count(world: dict, db: Any) -> None:
    db.execute("UPDATE finding SET status = 'accepted' WHERE id = ?", [world["finding"]])
    assert _summaries(db, world["programme"])["Drift"].counts[0].findings == 1
    db.execute("UPDATE finding SET status = 'rejected' WHERE id = ?", [world["finding"]])
    assert _summaries(db, world["programme"])["Drift"].counts[0].findings == 0
    db.execute("UPDATE case_audit SET status = 'draft' WHERE id = ?", [world["first_audits"][1]])
    january = _summaries(db, world["programme"])["Drift"].counts[0]
    assert (january.audits, january.submitted) == (1, 3)


def test_a_tagged_conversation_counts_its_audit_once(world: dict, db: Any, people: dict) -> None:
    audit_id = world["first_audits"][1]  # its evidence note already carries drift
    other = world["first_audits"][0]
    for target in (audit_id, other):
        conversation_data.save_conversation(
            db,
            world["first"].id,
            Conversation(target, "2026-01-20", "Social worker", "", "", "", "", ()),
            by=people["reviewer"].id,
        )
        theme_data.set_conversation_tags(
            db, world["first"].id, target, {world["drift"]}, by=people["reviewer"].id
        )
    assert _summaries(db, world["programme"])["Drift"].counts[0].audits == 3


def test_correcting_a_tagged_conversation_keeps_its_tags(
    world: dict, db: Any, people: dict
) -> None:
    review_id, audit_id = world["first"].id, world["first_audits"][0]
    first = Conversation(
        audit_id,
        "2026-01-20",
        "Social worker",
        "",
        "",
        "Visit monthly.",
        "",
        (SectionView("s1", "q1", "good", False, "Synthetic view."),),
    )
    conversation_data.save_conversation(db, review_id, first, by=people["reviewer"].id)
    theme_data.set_conversation_tags(
        db, review_id, audit_id, {world["drift"]}, by=people["reviewer"].id
    )
    corrected = replace(first, will_do_differently="Visit fortnightly.", sections=())
    conversation_data.save_conversation(db, review_id, corrected, by=people["reviewer"].id)
    assert theme_data.conversation_tags(db, audit_id) == {world["drift"]}
    saved = conversation_data.conversation(db, audit_id)
    assert saved is not None
    assert (saved.will_do_differently, saved.sections) == ("Visit fortnightly.", ())


def test_theme_links_to_the_actions_on_its_findings(world: dict, db: Any) -> None:
    found = _summaries(db, world["programme"])
    assert [a["id"] for a in found["Drift"].actions] == [world["action"]]
    assert found["Voice of the child"].actions == ()


def test_themed_question_change_is_the_trend_pages_newcombe_difference(
    world: dict, db: Any
) -> None:
    drift = _summaries(db, world["programme"])["Drift"]
    (question,) = drift.questions
    assert question.question_id == QUESTION
    expected = newcombe_difference(1, 4, 4, 4)
    assert question.overall is not None and question.overall.difference == expected
    # The same as the trend page's change between the two (consecutive) reviews.
    assert question.series is not None
    assert question.series.changes[0].difference == expected
    assert question.describe() == question.series.changes[0].describe()
    assert question.describe().startswith("up 75 points (95% interval +")
    assert question.improved is True


def test_a_question_with_one_review_or_no_share_is_not_compared(world: dict, db: Any) -> None:
    only_one = theme_domain._question_change(QUESTION, None, health_check())
    assert only_one.overall is None and only_one.improved is None
    assert "not compared" in only_one.describe()


# --------------------------------------------------------------------------- pages


def _signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    assert Auth(client).sign_in(username).status_code == 302
    return client


def test_lead_keeps_the_list_on_the_page(app: Any, world: dict, db: Any) -> None:
    client = _signed_in(app, "lead")
    url = f"/programmes/{world['programme']}/themes"
    page = client.get(url)
    assert page.status_code == 200 and "Themes over time" in page.text
    token = csrf_token(page.text)
    done = client.post(url, data={"csrf_token": token, "name": "Contingency planning"})
    assert done.status_code == 302
    again = client.post(url, data={"csrf_token": token, "name": "contingency PLANNING"})
    assert again.status_code == 200 and "already has a theme called" in again.text
    assert again.text.count("<title>Error: ") == 1
    refused = client.post(f"{url}/{world['drift']}/delete", data={"csrf_token": token})
    assert refused.status_code == 302
    assert theme_data.get(db, world["drift"])  # in use: still there
    client.post(f"{url}/{world['drift']}/retire", data={"csrf_token": token, "retired": "1"})
    assert theme_data.get(db, world["drift"]).retired


def test_a_failed_add_stays_on_an_address_that_reloads(app: Any, world: dict, db: Any) -> None:
    client = _signed_in(app, "lead")
    url = f"/programmes/{world['programme']}/themes"
    page = client.get(url)
    assert f'action="{url}"' in page.text  # the add form posts to the list's own address
    failed = client.post(url, data={"csrf_token": csrf_token(page.text), "name": ""})
    assert failed.status_code == 200 and "Enter the theme" in failed.text
    assert "Add a theme" in client.get(url).text  # reloading it (or signing in again) works
    assert [t.name for t in theme_data.for_programme(db, world["programme"])] == [
        "Drift",
        "Voice of the child",
    ]
    # The old address of the add form leads to it rather than to a 404.
    old = client.get(f"{url}/new")
    assert old.status_code == 302 and old.headers["Location"] == f"{url}#add"
    assert _signed_in(app, "reviewer").get(f"{url}/new").status_code == 403


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x" * 81}, "Theme name must be 80 characters or fewer"),
        ({"name": "Drift 2", "description": "x" * 501}, "covers must be 500 characters or fewer"),
    ],
)
def test_an_over_long_theme_is_refused_by_name(
    app: Any, world: dict, data: dict[str, str], message: str
) -> None:
    client = _signed_in(app, "lead")
    url = f"/programmes/{world['programme']}/themes"
    token = csrf_token(client.get(url).text)
    page = client.post(url, data={"csrf_token": token, **data})
    assert page.status_code == 200 and message in page.text
    assert not re.search(r"cannot be longer than", page.text)


def test_the_audit_record_shows_each_notes_themes_beside_it(app: Any, world: dict) -> None:
    review_id = world["second"].id
    record = _signed_in(app, "lead").get(f"/reviews/{review_id}/audits/{world['second_audits'][0]}")
    assert record.status_code == 200 and "Audit record for case" in record.text
    # Beside the tagged note, in name order; no other answer carries a theme line.
    assert re.search(
        r"Synthetic note: plan drifted \(good\)\.</p>\s*<p[^>]*>"
        r"Learning themes: Drift, Voice of the child</p>",
        record.text,
    )
    assert record.text.count("Learning themes: ") == 1
    untagged = _signed_in(app, "reviewer").get(
        f"/reviews/{review_id}/audits/{world['second_audits'][1]}"
    )
    assert untagged.status_code == 200 and "Learning themes: " not in untagged.text


def test_a_reviewer_reads_the_list_but_not_the_counts(app: Any, world: dict) -> None:
    client = _signed_in(app, "reviewer")
    page = client.get(f"/programmes/{world['programme']}/themes")
    assert page.status_code == 200
    assert "Voice of the child" in page.text
    assert "Themes over time" not in page.text and "Add a theme" not in page.text
    # docs/themes.md: reviewers see the list and descriptions, not the counts (Drift has 4 tags).
    assert ">Tags</th>" not in page.text
    assert "govuk-table__cell--numeric" not in page.text
    lead_page = _signed_in(app, "lead").get(f"/programmes/{world['programme']}/themes").text
    assert ">Tags</th>" in lead_page
    assert re.search(r"Drift</th>\s*<td[^>]*>Plans that stall</td>\s*<td[^>]*>4</td>", lead_page)
    outsider = _signed_in(app, "other")  # a reviewer in none of the programme's reviews
    assert outsider.get(f"/programmes/{world['programme']}/themes").status_code == 403


def test_reviewer_tags_evidence_notes_on_the_themes_step(app: Any, world: dict, db: Any) -> None:
    client = _signed_in(app, "reviewer")
    audit_id = world["second_audits"][1]
    url = f"/reviews/{world['second'].id}/audits/{audit_id}/themes"
    page = client.get(url)
    assert page.status_code == 200
    assert "Synthetic note: plan drifted (good)." in page.text
    field = f"themes-{QUESTION}"
    assert f'name="{field}"' in page.text
    # A retired theme is not offered for new tags, and a posted one is ignored.
    theme_data.set_retired(db, world["voice"], True, by=None)
    assert world["voice"] not in client.get(url).text
    done = client.post(
        url,
        data={"csrf_token": csrf_token(page.text), field: [world["drift"], world["voice"]]},
    )
    assert done.status_code == 302
    assert theme_data.evidence_tags(db, audit_id) == {QUESTION: {world["drift"]}}


def test_lead_tags_a_finding_and_sees_it_on_the_findings_page(
    app: Any, world: dict, db: Any
) -> None:
    client = _signed_in(app, "lead")
    review_id = world["first"].id
    url = f"/reviews/{review_id}/findings/{world['finding']}/themes"
    page = client.get(url)
    assert page.status_code == 200
    client.post(url, data={"csrf_token": csrf_token(page.text), "themes": [world["voice"]]})
    assert theme_data.finding_tags(db, review_id)[world["finding"]] == {world["voice"]}
    findings_page = client.get(f"/reviews/{review_id}/findings").text
    assert re.search(r"Themes:.*Voice of the child", findings_page)


def test_a_review_outside_any_programme_cannot_tag(app: Any, db: Any, people: dict) -> None:
    from tests.helpers import make_review

    review, cases = make_review(db, people)
    audit_id = submit(db, health_check(), cases[0], people["reviewer"].id, "good")
    client = _signed_in(app, "reviewer")
    url = f"/reviews/{review.id}/audits/{audit_id}/themes"
    page = client.get(url)
    assert "not in a programme" in page.text and "Save themes" not in page.text
    refused = client.post(url, data={"csrf_token": csrf_token(page.text)}, follow_redirects=True)
    assert "cannot be tagged" in refused.text


# --------------------------------------------------------------------------- bundles


def _fresh(tmp_path: Any, name: str) -> Any:
    from audit import create_app
    from audit.data.db import connect

    app = create_app({"INSTANCE_PATH": tmp_path / name, "TESTING": True})
    return connect(app.config["DATABASE"])


def _strip(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in ("exported_at", "exported_by")}


def _tag_counts(db: Any) -> tuple[int, ...]:
    return tuple(
        db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("theme", "evidence_theme", "finding_theme", "conversation_theme")
    )


def test_bundle_round_trip_keeps_themes_and_tags(world: dict, db: Any, tmp_path: Any) -> None:
    from audit.bundles import bundle

    theme_data.set_retired(db, world["voice"], True, by=None)
    review_id = world["first"].id
    exported = bundle.export_review(db, review_id, exported_by="test")
    names = {t["name"]: t for t in exported["themes"]}
    assert set(names) == {"Drift", "Voice of the child"} and names["Voice of the child"]["retired"]
    assert sorted(t["kind"] for t in exported["theme_tags"]) == ["evidence", "evidence", "finding"]
    data = bundle.dumps(exported)
    other = _fresh(tmp_path, "fresh")
    report = bundle.import_bundle(other, data)
    assert not report.conflicts and report.added["theme"] == 2
    # Outside any programme here, the themes belong to the imported review itself.
    owned = theme_data.for_review(other, review_id)
    assert {t.review_id for t in owned} == {review_id} and {t.programme_id for t in owned} == {None}
    again = bundle.export_review(other, review_id)
    assert _strip(json.loads(data)) == _strip(json.loads(bundle.dumps(again)))
    before = _tag_counts(other)
    second = bundle.import_bundle(other, data)
    assert not second.conflicts and _tag_counts(other) == before
    other.conn.close()


def test_bundle_merge_adds_new_tags_and_keeps_a_differing_theme(
    world: dict, db: Any, tmp_path: Any
) -> None:
    from audit.bundles import bundle

    review_id = world["first"].id
    other = _fresh(tmp_path, "lead")
    bundle.import_bundle(other, bundle.dumps(bundle.export_review(db, review_id)))
    # Meanwhile the source tags another note and renames a theme.
    theme_data.set_evidence_tags(
        db, review_id, world["first_audits"][0], {QUESTION: {world["voice"]}}, by=None
    )
    theme_data.update(db, world["drift"], name="Drift in plans", description="", by=None)
    report = bundle.import_bundle(other, bundle.dumps(bundle.export_review(db, review_id)))
    assert report.added.get("evidence_theme") == 1
    assert report.conflicts == ["theme Drift in plans: differs here; kept this installation's copy"]
    assert theme_data.get(other, world["drift"]).name == "Drift"
    other.conn.close()


def test_a_merged_theme_joins_the_programme_of_the_review_here(
    world: dict, db: Any, people: dict
) -> None:
    """A review already here in a programme: new themes join that programme's list."""
    from audit.bundles import bundle

    review_id = world["first"].id
    doc = bundle.export_review(db, review_id)
    new_theme = "2f0c3f47-4a25-4d87-9d3c-3b7f3c1f0a11"
    doc["themes"].append({"id": new_theme, "name": "Neglect", "retired": False})
    doc["theme_tags"].append(
        {
            "kind": "evidence",
            "theme_id": new_theme,
            "audit_id": world["first_audits"][3],
            "question_id": QUESTION,
            "tagged_at": "2026-02-01T10:00:00Z",
        }
    )
    report = bundle.import_bundle(db, bundle.dumps(doc))
    assert report.added == {"theme": 1, "evidence_theme": 1} and not report.conflicts
    assert theme_data.get(db, new_theme).programme_id == world["programme"]


def test_a_conversation_tag_arrives_only_with_its_conversation(
    world: dict, db: Any, people: dict, tmp_path: Any
) -> None:
    from audit.bundles import bundle

    review_id, audit_id = world["first"].id, world["first_audits"][0]
    conversation_data.save_conversation(
        db,
        review_id,
        Conversation(audit_id, "2026-01-20", "Social worker", "", "", "", "", ()),
        by=people["reviewer"].id,
    )
    theme_data.set_conversation_tags(db, review_id, audit_id, {world["drift"]}, by=None)
    other = _fresh(tmp_path, "talk")
    report = bundle.import_bundle(other, bundle.dumps(bundle.export_review(db, review_id)))
    arrived = theme_data.present(other, "conversation", "audit_id", [audit_id])
    assert bool(theme_data.conversation_tags(other, audit_id)) == bool(arrived)
    if not arrived:
        assert any("the conversation it is on was not added" in c for c in report.conflicts)
    other.conn.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["theme_tags"][0].update(theme_id="00000000-0000-4000-8000-000000000000"),
            "theme_tags[0].theme_id: refers to a theme that is not in the bundle",
        ),
        (
            lambda d: d["theme_tags"][2].update(finding_id="00000000-0000-4000-8000-000000000000"),
            "theme_tags[2].finding_id: refers to a finding that is not in the bundle",
        ),
        (
            lambda d: d["theme_tags"][0].update(question_id="no_such_question"),
            'theme_tags[0].question_id: "no_such_question" is not an answer of that audit',
        ),
        (
            lambda d: d["theme_tags"][0].update(audit_id="00000000-0000-4000-8000-000000000000"),
            "theme_tags[0].audit_id: refers to an audit that is not in the bundle",
        ),
        (
            lambda d: d["theme_tags"][0].pop("question_id"),
            "theme_tags[0].question_id: an evidence tag needs question_id",
        ),
        (
            lambda d: d["theme_tags"].append(dict(d["theme_tags"][0])),
            "theme_tags[3]: the same tag appears more than once in theme_tags",
        ),
        (
            lambda d: d["themes"][0].update(retired="no"),
            'themes[0].retired: expected true or false, got "no"',
        ),
        (
            lambda d: d["themes"].append(dict(d["themes"][0], id=d["theme_tags"][0]["audit_id"])),
            'themes[2].name: "Drift" appears more than once in themes',
        ),
    ],
)
def test_bad_theme_records_are_rejected_by_path(
    world: dict, db: Any, tmp_path: Any, change: Any, message: str
) -> None:
    from audit.bundles import bundle

    doc = bundle.export_review(db, world["first"].id)
    doc["theme_tags"].sort(key=lambda t: t["kind"])  # evidence, evidence, finding
    change(doc)
    other = _fresh(tmp_path, "bad")
    with pytest.raises(bundle.BundleInvalid) as caught:
        bundle.import_bundle(other, bundle.dumps(doc))
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems
    assert _tag_counts(other) == (0, 0, 0, 0)
    other.conn.close()


# --------------------------------------------------------------------------- exports


def test_exports_list_every_tag_with_what_carries_it(world: dict, db: Any) -> None:
    import io

    from openpyxl import load_workbook

    review = review_data.get(db, world["first"].id)
    data, _ = analysis.spreadsheet(db, review, "csv", "themes")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Theme,Theme retired,Tagged,Case,Host reference,Question")
    rows = lines[1:]
    assert len(rows) == 3
    assert sum("Evidence note" in r and "plan drifted" in r for r in rows) == 2
    assert any(r.startswith("Drift,No,Finding,,,,Plans drift.,") for r in rows)
    book, _ = analysis.spreadsheet(db, review, "xlsx")
    sheet = load_workbook(io.BytesIO(book), read_only=True)["Themes"]
    assert sum(1 for _ in sheet.iter_rows()) == 4


def test_findings_json_counts_each_theme_in_the_review(world: dict, db: Any) -> None:
    review = review_data.get(db, world["first"].id)
    doc = {t["name"]: t for t in analysis.findings_document(db, review)["themes"]}
    drift = doc["Drift"]
    assert (drift["evidence_notes"], drift["audits"], drift["conversations"]) == (2, 2, 0)
    assert drift["findings"] == [world["finding"]]
    assert doc["Voice of the child"]["audits"] == 0  # its note is in February's review


def test_themes_never_reach_the_public_report(app: Any, world: dict, db: Any) -> None:
    from audit.reporting import report

    review = review_data.get(db, world["first"].id)
    with app.app_context():
        public = report.build_html(app, db, review, audience="public")
    assert "Drift" not in public and "theme" not in public.lower()


def test_a_review_just_started_is_left_out_of_first_to_latest(
    world: dict, db: Any, people: dict
) -> None:
    programme_review(db, people, world["programme"], "March", "2026-03-02")  # no audits yet
    (question,) = _summaries(db, world["programme"])["Drift"].questions
    assert question.series is not None and len(question.series.points) == 3
    assert question.overall is not None
    assert (question.overall.from_review, question.overall.to_review) == (
        world["first"].id,
        world["second"].id,
    )
    assert question.overall.difference == newcombe_difference(1, 4, 4, 4)


def test_the_demo_programme_has_themes_over_time_with_an_improved_question(
    tmp_path: Any,
) -> None:
    from pathlib import Path

    from audit import create_app, demo
    from audit.data.db import connect

    app = create_app({"INSTANCE_PATH": tmp_path / "demo", "TESTING": True})
    demo_db = connect(app.config["DATABASE"])
    demo.seed(demo_db, app.extensions["rubric_library"], Path(app.instance_path))
    # The demo has two programmes: the monthly audits and the partnership's (multi-agency).
    programme_id = demo_db.execute(
        "SELECT id FROM programme WHERE title = 'Monthly practice audit'"
    ).fetchone()[0]
    found = _summaries(demo_db, programme_id)
    assert 4 <= len([s for s in found.values() if not s.theme.retired]) <= 5
    voice = found["Voice of the child"]
    assert [c.audits for c in voice.counts][:3] == sorted(
        [c.audits for c in voice.counts][:3], reverse=True
    )
    assert any(q.improved for q in voice.questions)
    assert found["Drift"].actions and found["Drift"].finding_count == 3
    talks = demo_db.execute("SELECT count(*) FROM conversation_theme").fetchone()[0]
    assert talks == 2
    demo_db.conn.close()


def test_a_theme_of_another_programme_is_not_found_here(app: Any, world: dict, db: Any) -> None:
    other = programmes.create(db, title="Quarterly audit", kind="self_audit", by=None)
    stranger = theme_data.create(db, name="Elsewhere", programme_id=other)
    client = _signed_in(app, "lead")
    url = f"/programmes/{world['programme']}/themes/{stranger}"
    assert client.get(url).status_code == 404
    token = csrf_token(client.get(f"/programmes/{world['programme']}/themes").text)
    assert client.post(f"{url}/retire", data={"csrf_token": token}).status_code == 404
    assert not theme_data.get(db, stranger).retired


def test_the_conversation_page_tags_a_recorded_conversation(
    app: Any, world: dict, db: Any, people: dict
) -> None:
    review_id, audit_id = world["first"].id, world["first_audits"][0]
    review_data.update_settings(db, review_id, {"collaborative": True}, by=None)
    client = _signed_in(app, "reviewer")
    page_url = f"/reviews/{review_id}/audits/{audit_id}/conversation"
    token = csrf_token(client.get(page_url).text)
    early = client.post(
        f"{page_url}/themes",
        data={"csrf_token": token, "themes": [world["drift"]]},
        follow_redirects=True,
    )
    assert "Record the conversation first" in early.text
    assert not theme_data.conversation_tags(db, audit_id)
    conversation_data.save_conversation(
        db,
        review_id,
        Conversation(audit_id, "2026-01-20", "Social worker", "", "", "", "", ()),
        by=people["reviewer"].id,
    )
    page = client.get(page_url)
    assert "Learning themes in the conversation" in page.text
    client.post(f"{page_url}/themes", data={"csrf_token": token, "themes": [world["drift"]]})
    assert theme_data.conversation_tags(db, audit_id) == {world["drift"]}
    assert f'value="{world["drift"]}" checked' in client.get(page_url).text


def test_the_tagging_page_links_to_what_each_theme_covers(app: Any, world: dict) -> None:
    client = _signed_in(app, "reviewer")
    page = client.get(f"/reviews/{world['second'].id}/audits/{world['second_audits'][0]}/themes")
    assert f'href="/programmes/{world["programme"]}/themes"' in page.text
    listed = client.get(f"/programmes/{world['programme']}/themes")
    assert "Plans that stall" in listed.text


def test_deleting_an_imported_review_takes_its_own_themes_and_tags(
    world: dict, db: Any, tmp_path: Any
) -> None:
    from audit.bundles import bundle

    review_id = world["first"].id
    other = _fresh(tmp_path, "delete")
    bundle.import_bundle(other, bundle.dumps(bundle.export_review(db, review_id)))
    assert _tag_counts(other) == (2, 2, 1, 0)
    other.execute("UPDATE review SET status = 'closed' WHERE id = ?", [review_id])
    review_data.delete(other, review_id, by=None)
    assert _tag_counts(other) == (0, 0, 0, 0)
    other.conn.close()


def test_tags_survive_saving_the_audit_again_and_go_with_a_cleared_answer(
    world: dict, db: Any, people: dict
) -> None:
    audit_id = world["first_audits"][1]
    db.execute("UPDATE case_audit SET status = 'draft' WHERE id = ?", [audit_id])

    def save(answer: Answer) -> None:
        audits.save(
            db,
            audit_id,
            expected_version=audits.get(db, audit_id).version,
            answers={QUESTION: answer},
            sections_na=set(),
            feedback={},
            adverse_questions=[],
            critical_questions=[],
            by=people["reviewer"].id,
            submit=False,
        )

    save(Answer("inadequate", False, "Synthetic note, reworded."))
    assert theme_data.evidence_tags(db, audit_id) == {QUESTION: {world["drift"]}}
    save(Answer(None, False, ""))
    assert theme_data.evidence_tags(db, audit_id) == {}
