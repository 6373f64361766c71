"""Bundles carry calibration exercises, conversations and family feedback (issue 13).

Round trip with the demo review (which holds the calibration panel, the conversations and
the family feedback), merging record by record with conflicts kept local, blindness kept
through a merge, and every new check rejecting a bundle whole with the JSON path named.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from audit.bundles import bundle
from audit.data import bundle_collab as collab_data
from audit.data import calibration as calibration_data
from audit.data import conversations as conversation_data
from audit.data import reviews as review_data
from tests.test_bundle import _counts, _instance, _set

KEYS = ("calibration_exercises", "conversations", "family_feedback")


def _collab_counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in collab_data.TABLES}


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo peer review's bundle: the review with the panel, conversations and feedback."""
    _, db = _instance(tmp_path_factory.mktemp("collab-src"), "a", seed_demo=True)
    review = review_data.all_reviews(db)[0]
    doc = json.loads(bundle.dumps(bundle.export_review(db, review.id, exported_by="test")))
    db.conn.close()
    return doc


def _bytes(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def test_the_demo_review_bundle_holds_the_panel_conversations_and_feedback(
    demo_bundle: dict,
) -> None:
    (exercise,) = demo_bundle["calibration_exercises"]
    assert exercise["results_opened_at"] and len(exercise["participants"]) == 4
    assert all(p["submitted_at"] for p in exercise["participants"])
    assert {g["username"] for g in exercise["grades"]} == {"lead", "reviewer1", "reviewer2"} | {
        "reviewer3"
    }
    assert [a["question_id"] for a in exercise["agreed"]] == [
        "assessment_grade",
        "safeguarding_grade",
    ]
    assert all(a["rationale"] and a["agreed_by"] == "lead" for a in exercise["agreed"])
    assert len(demo_bundle["conversations"]) == 12
    disputed = [
        s for c in demo_bundle["conversations"] for s in c["sections"] if s["agrees"] == "no"
    ]
    assert len(disputed) == 1 and disputed[0]["section_id"] == "plans"
    assert disputed[0]["practitioner_view"].startswith("The plan was agreed")
    feedback = demo_bundle["family_feedback"]
    assert len(feedback) == 8 and sum(f["consent"] == "no" for f in feedback) == 2
    assert sum(f["quote_included"] for f in feedback) == 2
    # every username the new records name is listed in people
    people = {p["username"] for p in demo_bundle["people"]}
    assert {c["recorded_by"] for c in demo_bundle["conversations"]} <= people


def test_round_trip_keeps_them_and_blindness(tmp_path: Path, demo_bundle: dict) -> None:
    _, db = _instance(tmp_path, "b", seed_demo=False)
    report = bundle.import_bundle(db, _bytes(demo_bundle))
    assert report.created and not report.conflicts
    (exercise,) = demo_bundle["calibration_exercises"]
    assert report.added["calibration_exercise"] == 1
    assert report.added["calibration_grade"] == len(exercise["grades"])
    assert report.added["calibration_agreed"] == 2
    assert report.added["conversation"] == 12 and report.added["family_feedback"] == 8
    again = json.loads(bundle.dumps(bundle.export_review(db, report.review_id)))
    for key in KEYS:
        assert again[key] == demo_bundle[key], key
    # What the app shows from them: results open, everyone's grades, agreed grades, voices.
    review_id = report.review_id
    (here,) = calibration_data.for_review(db, review_id)
    assert here.results_open and here.submitted == 4
    assert len({user for _case, user in calibration_data.grades(db, here.id)}) == 4
    agreed = calibration_data.agreed(db, here.id)
    assert {q for _c, q in agreed} == {"assessment_grade", "safeguarding_grade"}
    assert set(calibration_data.exemplars(db, review_id)) == {
        "assessment_grade",
        "safeguarding_grade",
    }
    conversations, feedback = conversation_data.for_review(db, review_id)
    assert len(conversations) == 12 and len(conversation_data.disputed_audits(db, review_id)) == 1
    assert sum(f.quote_included for f in feedback) == 2
    # grades stay practice: the panel's case gets no audit from them
    case_id = exercise["cases"][0]["case_id"]
    assert (
        db.execute("SELECT count(*) FROM case_audit WHERE case_id = ?", [case_id]).fetchone()[0]
        == 0
    )
    # importing the same bundle again adds nothing and reports nothing
    before = _collab_counts(db)
    second = bundle.import_bundle(db, _bytes(demo_bundle))
    assert not second.conflicts and not second.added.get("calibration_grade")
    assert _collab_counts(db) == before
    db.conn.close()


def test_a_version_1_bundle_made_before_them_still_imports(
    tmp_path: Path, demo_bundle: dict
) -> None:
    doc = {k: v for k, v in copy.deepcopy(demo_bundle).items() if k not in KEYS}
    _, db = _instance(tmp_path, "old", seed_demo=False)
    report = bundle.import_bundle(db, _bytes(doc))
    assert report.created and not report.conflicts
    assert _collab_counts(db) == dict.fromkeys(collab_data.TABLES, 0)
    exported = bundle.export_review(db, report.review_id)
    assert all(exported[key] == [] for key in KEYS)
    # merging the full bundle afterwards adds them all
    merged = bundle.import_bundle(db, _bytes(demo_bundle))
    assert merged.added["conversation"] == 12 and merged.added["calibration_exercise"] == 1
    assert not merged.conflicts
    db.conn.close()


def test_merge_adds_what_is_missing_and_keeps_local_copies_of_what_differs(
    tmp_path: Path, demo_bundle: dict
) -> None:
    _, db = _instance(tmp_path, "merge", seed_demo=False)
    partial = copy.deepcopy(demo_bundle)
    exercise = partial["calibration_exercises"][0]
    missing_grades = [g for g in exercise["grades"] if g["username"] == "reviewer3"]
    exercise["grades"] = [g for g in exercise["grades"] if g["username"] != "reviewer3"]
    exercise["agreed"] = exercise["agreed"][:1]
    partial["conversations"] = partial["conversations"][:-2]
    partial["family_feedback"] = partial["family_feedback"][:-1]
    bundle.import_bundle(db, _bytes(partial))
    # This installation has since corrected a grade, a conversation and a family feedback.
    graded = exercise["grades"][0]
    db.execute(
        "UPDATE calibration_grade SET evidence = 'Corrected here' WHERE question_id = ?"
        " AND user_id = (SELECT id FROM user WHERE username = ?)",
        [graded["question_id"], graded["username"]],
    )
    talked = partial["conversations"][0]["audit_id"]
    db.execute(
        "UPDATE conversation SET manager_response = 'Changed here' WHERE audit_id = ?", [talked]
    )
    told = partial["family_feedback"][0]["audit_id"]
    db.execute(
        "UPDATE family_feedback SET contact_method = 'video' WHERE audit_id = ?",
        [told],
    )
    report = bundle.import_bundle(db, _bytes(demo_bundle))
    assert report.added["calibration_grade"] == len(missing_grades)
    assert report.added["calibration_agreed"] == 1
    assert report.added["conversation"] == 2 and report.added["family_feedback"] == 1
    assert report.added["conversation_section"] == sum(
        len(c["sections"]) for c in demo_bundle["conversations"][-2:]
    )
    assert len(report.conflicts) == 3, report.conflicts
    grade_conflict, conversation_conflict, feedback_conflict = report.conflicts
    assert f"{graded['username']}'s grade for {graded['question_id']}" in grade_conflict
    assert conversation_conflict.startswith("conversation on the audit of ")
    assert feedback_conflict.startswith("family feedback on the audit of ")
    assert all("kept this installation's copy" in c for c in report.conflicts)
    assert conversation_data.conversation(db, talked).manager_response == "Changed here"
    assert conversation_data.family_feedback(db, told).contact_method == "video"
    kept = db.execute(
        "SELECT evidence FROM calibration_grade WHERE question_id = ?"
        " AND user_id = (SELECT id FROM user WHERE username = ?)",
        [graded["question_id"], graded["username"]],
    ).fetchone()[0]
    assert kept == "Corrected here"
    # importing it twice adds nothing more, and names the same conflicts
    before = _collab_counts(db)
    again = bundle.import_bundle(db, _bytes(demo_bundle))
    assert _collab_counts(db) == before and again.conflicts == report.conflicts
    db.conn.close()


def test_a_merge_never_opens_results_or_closes_them(tmp_path: Path, demo_bundle: dict) -> None:
    _, db = _instance(tmp_path, "blind", seed_demo=False)
    closed = copy.deepcopy(demo_bundle)
    exercise = closed["calibration_exercises"][0]
    exercise["results_opened_at"] = None
    exercise["agreed"] = []
    exercise["participants"][0]["submitted_at"] = None
    bundle.import_bundle(db, _bytes(closed))
    review_id = closed["review"]["id"]
    report = bundle.import_bundle(db, _bytes(demo_bundle))
    assert not calibration_data.get(db, exercise["id"], review_id).results_open
    assert not calibration_data.agreed(db, exercise["id"])
    assert any("differs here (title or results opened)" in c for c in report.conflicts)
    assert any("submission differs here" in c for c in report.conflicts)
    not_open = [c for c in report.conflicts if "the results are not open here" in c]
    assert len(not_open) == 2, report.conflicts
    # ...and results open here stay open when a bundle says they are not
    _, other = _instance(tmp_path, "open", seed_demo=False)
    bundle.import_bundle(other, _bytes(demo_bundle))
    later = bundle.import_bundle(other, _bytes(closed))
    assert calibration_data.get(other, exercise["id"], review_id).results_open
    assert len(calibration_data.agreed(other, exercise["id"])) == 2
    assert any("differs here (title or results opened)" in c for c in later.conflicts)
    db.conn.close()
    other.conn.close()


def test_records_whose_case_or_audit_was_not_added_are_conflicts(
    tmp_path: Path, demo_bundle: dict
) -> None:
    """The panel's case and an audited case are here under other ids: theirs are not added."""
    _, db = _instance(tmp_path, "clash", seed_demo=False)
    mine = copy.deepcopy(demo_bundle)
    exercise = mine["calibration_exercises"][0]
    talked = mine["conversations"][0]["audit_id"]
    talked_case = next(a["case_id"] for a in mine["audits"] if a["id"] == talked)
    renamed = {exercise["cases"][0]["case_id"]: bundle.new_id(), talked_case: bundle.new_id()}
    text = json.dumps(mine)
    for old, new in renamed.items():
        text = text.replace(old, new)
    here = json.loads(text)
    # the other installation's audits of the renamed case are its own, not the bundle's
    for audit in here["audits"]:
        if audit["case_id"] in renamed.values():
            audit["id"] = bundle.new_id()
    renamed_audits = {a["id"] for a in mine["audits"] if a["case_id"] == talked_case}
    for key in ("conversations", "family_feedback"):
        here[key] = [x for x in here[key] if x["audit_id"] not in renamed_audits]
    here["escalations"] = [e for e in here["escalations"] if e["audit_id"] not in renamed_audits]
    here["moderation"] = [m for m in here["moderation"] if m["audit_id"] not in renamed_audits]
    here["actions"] = [a for a in here["actions"] if a["audit_id"] not in renamed_audits]
    here["calibration_exercises"] = []
    bundle.import_bundle(db, _bytes(here))
    report = bundle.import_bundle(db, _bytes(demo_bundle))
    assert report.added["calibration_exercise"] == 1
    assert not report.added.get("calibration_case") and not report.added.get("calibration_grade")
    assert not report.added.get("calibration_agreed")
    assert any("was not added, so neither are its grades" in c for c in report.conflicts)
    assert any(
        c.startswith("conversation on the audit of") and "its audit was not added" in c
        for c in report.conflicts
    ), report.conflicts
    assert conversation_data.conversation(db, talked) is None
    db.conn.close()


def _index(items: list[dict], test) -> int:  # type: ignore[no-untyped-def]
    return next(i for i, item in enumerate(items) if test(item))


def _mutations(doc: dict) -> list[tuple[str, object, str]]:
    """(path, new value, expected message) for each check on the three new lists."""
    exercise = doc["calibration_exercises"][0]
    grade = _index(exercise["grades"], lambda g: g["question_id"] == "safeguarding_grade")
    yes_no = _index(exercise["grades"], lambda g: g["value"] in ("yes", "no"))
    other_case = next(c["id"] for c in doc["cases"] if c["id"] != exercise["cases"][0]["case_id"])
    no_na = _index(exercise["grades"], lambda g: g["question_id"] == "risks_identified")
    disputed = _index(
        doc["conversations"], lambda c: any(s["agrees"] == "no" for s in c["sections"])
    )
    view = _index(doc["conversations"][disputed]["sections"], lambda s: s["agrees"] == "no")
    consented = _index(doc["family_feedback"], lambda f: f["consent"] == "yes" and f["family_said"])
    refused = _index(doc["family_feedback"], lambda f: f["consent"] == "no")
    unquoted = _index(
        doc["family_feedback"], lambda f: f["consent"] == "yes" and not f["quote_included"]
    )
    e = "calibration_exercises[0]"
    c = "conversations"
    f = "family_feedback"
    v = f"{c}[{disputed}].sections[{view}]"
    return [
        (f"{e}.title", "", "must not be empty"),
        (f"{e}.grades[{grade}].value", "superb", "not a level of the scale"),
        (f"{e}.grades[{yes_no}].value", "perhaps", "not an answer to a yes/no question"),
        (f"{e}.grades[{grade}].case_id", other_case, "is not one of the exercise's cases"),
        (f"{e}.grades[0].username", "reviewer4", "is not a participant"),
        (f"{e}.grades[1].question_id", "no_such", "is not a question of the rubric"),
        (f"{e}.grades[{no_na}].value", "na", '"risks_identified" cannot be N/A'),
        (f"{e}.grades[2].updated_at", "today", "expected a UTC time in ISO 8601"),
        (f"{e}.agreed[0].value", "excellent", "not a level of the scale"),
        (f"{e}.agreed[0].agreed_by", "nobody", "is not listed in people"),
        (f"{e}.agreed[1].question_id", "no_such", "is not a question of the rubric"),
        (f"{e}.results_opened_at", None, "its results must be open"),
        (f"{e}.created_by", "ghost", "is not listed in people"),
        (f"{c}[0].audit_id", bundle.new_id(), "refers to an audit that is not in the bundle"),
        (f"{c}[0].held_on", "29/10/2026", "expected an ISO 8601 date"),
        (f"{c}[0].worker_role", "", "must not be empty"),
        (f"{c}[0].sections[0].section_id", "nowhere", "is not a section of the rubric"),
        (f"{c}[0].sections[1].agrees", "maybe", "not one of the allowed values (yes, no)"),
        (f"{c}[0].sections[2].grade", "fine", "is not a level of the scale"),
        (f"{c}[0].sections[3].question_id", "overall_summary", "is not the grade question of"),
        (f"{v}.practitioner_view", "", "a disputed grade needs the practitioner's view"),
        (f"{c}[1].will_do_differently", "x" * 30_000, "longer than 20000 characters"),
        (f"{c}[2].recorded_by", "ghost", "is not listed in people"),
        (f"{f}[{consented}].consent", "maybe", "not one of the allowed values (yes, no)"),
        (f"{f}[{consented}].felt_listened_to", "sometimes", "(yes, partly, no, not_asked)"),
        (f"{f}[{consented}].contact_method", "pigeon", "not one of the allowed values"),
        (f"{f}[{refused}].family_said", "They were upset.", "without the family's consent"),
        (f"{f}[{refused}].knows_plan", "yes", "recorded without the family's consent"),
        (f"{f}[{unquoted}].audit_id", bundle.new_id(), "refers to an audit that is not in"),
        (f"{f}[{unquoted}].quote_included", "yes", "expected true or false"),
    ]


def test_every_new_problem_is_listed_at_once_by_path(tmp_path: Path, demo_bundle: dict) -> None:
    doc = copy.deepcopy(demo_bundle)
    mutations = _mutations(doc)
    for path, value, _ in mutations:
        _set(doc, path, value)
    _, db = _instance(tmp_path, "bad", seed_demo=False)
    before = _counts(db)  # the calibration and voices tables among them
    with pytest.raises(bundle.BundleInvalid) as caught:
        bundle.import_bundle(db, _bytes(doc))
    problems = caught.value.problems
    for path, _value, message in mutations:
        if message:
            assert any(p.startswith(f"{path}:") and message in p for p in problems), (
                path,
                problems,
            )
    assert _counts(db) == before
    db.conn.close()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "cases[0].case_id",
            "00000000-0000-4000-8000-000000000000",
            "refers to a case that is not",
        ),
        ("cases", [], "must not be empty"),
        ("participants[1].username", "stranger", "is not listed in people"),
    ],
)
def test_a_changed_case_or_participant_is_named_and_so_are_the_grades_it_leaves(
    demo_bundle: dict, path: str, value: object, expected: str
) -> None:
    """One wrong case or participant: named at its path, and every grade left without it."""
    doc = copy.deepcopy(demo_bundle)
    _set(doc, f"calibration_exercises[0].{path}", value)
    problems = _problems_of(doc)
    named = f"calibration_exercises[0].{path}: "
    assert any(p.startswith(named) and expected in p for p in problems), problems
    left = [p for p in problems if ".grades[" in p]
    assert left and all(
        "is not one of the exercise's cases" in p or "is not a participant" in p for p in left
    ), left


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["conversations"].append(copy.deepcopy(d["conversations"][0])),
            "conversations[12].audit_id: ",
        ),
        (
            lambda d: d["calibration_exercises"][0]["grades"].append(
                copy.deepcopy(d["calibration_exercises"][0]["grades"][0])
            ),
            "is graded twice by them",
        ),
        (
            lambda d: d["calibration_exercises"][0]["agreed"].append(
                copy.deepcopy(d["calibration_exercises"][0]["agreed"][0])
            ),
            "is agreed twice for the case",
        ),
        (
            lambda d: d["calibration_exercises"].append(
                copy.deepcopy(d["calibration_exercises"][0])
            ),
            "calibration_exercises[1].id: ",
        ),
        (
            lambda d: d["conversations"][0]["sections"].append(
                copy.deepcopy(d["conversations"][0]["sections"][0])
            ),
            "is discussed twice",
        ),
        (
            lambda d: d["family_feedback"].append(copy.deepcopy(d["family_feedback"][0])),
            "family_feedback[8].audit_id: ",
        ),
    ],
)
def test_duplicates_are_named(demo_bundle: dict, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(demo_bundle)
    change(doc)
    with pytest.raises(bundle.BundleInvalid) as caught:
        bundle.parse(_bytes(doc))
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_a_grade_not_asked_for_the_case_type_is_rejected(demo_bundle: dict) -> None:
    doc = copy.deepcopy(demo_bundle)
    exercise = doc["calibration_exercises"][0]
    case_type = next(
        c["case_type"] for c in doc["cases"] if c["id"] == exercise["cases"][0]["case_id"]
    )
    assert case_type == "cp"
    exercise["grades"].append({**exercise["grades"][0], "question_id": "cin_plan_purposeful"})
    index = len(exercise["grades"]) - 1
    assert _problems_of(doc) == [
        f'calibration_exercises[0].grades[{index}].question_id: "cin_plan_purposeful" is not asked'
        " for a cp case"
    ]


def test_a_section_not_asked_for_the_case_type_is_rejected(demo_bundle: dict) -> None:
    """Early help has no plans section: a practitioner's view of its grade cannot be."""
    doc = copy.deepcopy(demo_bundle)
    case_types = {c["id"]: c["case_type"] for c in doc["cases"]}
    early = {a["id"] for a in doc["audits"] if case_types[a["case_id"]] == "early_help"}
    i = _index(doc["conversations"], lambda c: c["audit_id"] in early)
    plans = {
        "section_id": "plans",
        "question_id": "plan_grade",
        "grade": "good",
        "agrees": "yes",
        "practitioner_view": "",
    }
    doc["conversations"][i]["sections"].append(plans)
    j = len(doc["conversations"][i]["sections"]) - 1
    assert _problems_of(doc) == [
        f'conversations[{i}].sections[{j}].section_id: "plans" is not asked for a early_help case'
    ]


def _problems_of(doc: dict) -> list[str]:
    with pytest.raises(bundle.BundleInvalid) as caught:
        bundle.parse(_bytes(doc))
    return caught.value.problems


def test_blanks_given_as_null_or_empty_import_as_the_app_stores_blanks(
    tmp_path: Path, demo_bundle: dict
) -> None:
    """Optional text given as null is stored empty, an empty grade as a blank grade."""
    doc = copy.deepcopy(demo_bundle)
    conversation = doc["conversations"][0]
    conversation["sections"][0]["practitioner_view"] = None
    conversation["manager_response"] = None
    refused = next(f for f in doc["family_feedback"] if f["consent"] == "no")
    refused["contact_method"] = refused["family_said"] = None
    grade = doc["calibration_exercises"][0]["grades"][0]
    grade["value"], grade["evidence"] = "", None
    _, db = _instance(tmp_path, "blanks", seed_demo=False)
    report = bundle.import_bundle(db, _bytes(doc))
    again = bundle.export_review(db, report.review_id)
    assert again["conversations"][0]["sections"][0]["practitioner_view"] == ""
    assert again["conversations"][0]["manager_response"] == ""
    stored = next(f for f in again["family_feedback"] if f["audit_id"] == refused["audit_id"])
    assert (stored["contact_method"], stored["family_said"]) == ("", "")
    first = again["calibration_exercises"][0]["grades"][0]
    assert (first["value"], first["evidence"]) == (None, "")
    # and the same bundle merged again finds nothing different
    assert not bundle.import_bundle(db, _bytes(doc)).conflicts
    db.conn.close()


def test_a_list_where_an_id_belongs_is_named_not_a_crash(demo_bundle: dict) -> None:
    """Found exploring mutations: a list as a grade's case id broke the duplicate check."""
    doc = copy.deepcopy(demo_bundle)
    doc["calibration_exercises"][0]["grades"][4]["username"] = []
    doc["calibration_exercises"][0]["agreed"][0]["case_id"] = []
    problems = _problems_of(doc)
    assert "calibration_exercises[0].agreed[0].case_id: expected text, got []" in (problems)
    assert "calibration_exercises[0].grades[4].username: expected text, got []" in problems


def _download(app, db, username: str, review_id: str) -> dict:  # type: ignore[no-untyped-def]
    user_id = db.execute("SELECT id FROM user WHERE username = ?", [username]).fetchone()[0]
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user_id
    response = client.get(f"/reviews/{review_id}/bundle")
    assert response.status_code == 200
    return json.loads(response.data)


def test_a_bundle_downloaded_before_results_open_holds_only_the_downloaders_grades(
    tmp_path: Path,
) -> None:
    """Blindness: the lead taking part sees only their own grades, the admin none."""
    app, db = _instance(tmp_path, "closed", seed_demo=True)
    review_id = review_data.all_reviews(db)[0].id
    (exercise,) = calibration_data.for_review(db, review_id)
    db.execute("DELETE FROM calibration_agreed WHERE exercise_id = ?", [exercise.id])
    db.execute(
        "UPDATE calibration_exercise SET results_opened_at = NULL WHERE id = ?", [exercise.id]
    )
    db.execute(
        "UPDATE calibration_participant SET submitted_at = NULL WHERE exercise_id = ?"
        " AND user_id = (SELECT id FROM user WHERE username = 'reviewer3')",
        [exercise.id],
    )

    def graders(doc: dict) -> set[str]:
        return {g["username"] for g in doc["calibration_exercises"][0]["grades"]}

    assert graders(_download(app, db, "lead", review_id)) == {"lead"}
    assert graders(_download(app, db, "admin", review_id)) == set()
    # the command line (whoever runs it can read the database) exports every grade
    assert graders(bundle.export_review(db, review_id)) == {"lead", "reviewer1", "reviewer2"} | {
        "reviewer3"
    }
    # once results open, everyone's grades are in every download
    calibration_data.open_results(db, exercise.id, review_id, by=1)
    assert len(graders(_download(app, db, "admin", review_id))) == 4
    db.conn.close()


def test_a_programme_panel_hosted_by_the_review_stays_out_of_its_bundle(tmp_path: Path) -> None:
    """A programme's panel belongs to the programme, as in the hosting review's exports."""
    _, db = _instance(tmp_path, "programme", seed_demo=True)
    review_id = review_data.all_reviews(db)[0].id
    if "programme_id" not in {c.name for c in db["calibration_exercise"].columns}:
        db.execute("ALTER TABLE calibration_exercise ADD COLUMN programme_id TEXT")
    programme_id = db.execute("SELECT id FROM programme").fetchone()[0]
    db.execute("UPDATE calibration_exercise SET programme_id = ?", [programme_id])
    doc = bundle.export_review(db, review_id)
    assert doc["calibration_exercises"] == []
    db.execute("UPDATE calibration_exercise SET programme_id = NULL")
    assert len(bundle.export_review(db, review_id)["calibration_exercises"]) == 1
    db.conn.close()
