"""One review carrying everything issue 13 adds survives a bundle round trip and a merge.

The other bundle tests take each kind of record alone. Here one review of the demo's monthly
programme holds them together (learning themes tagged on evidence notes, findings and a
conversation; conversations with the practitioner; family feedback; a calibration exercise
of its own), so a conversation's theme tag must arrive with the conversation it is on.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from audit.bundles import bundle
from audit.collaboration import FamilyFeedback
from audit.data import calibration as calibration_data
from audit.data import conversations as conversation_data
from audit.data import reviews as review_data
from audit.data import themes as theme_data
from audit.data import users
from audit.scoring import Answer
from tests.test_bundle import _instance

VOLATILE = ("exported_at", "exported_by")


def _strip(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in VOLATILE}


def _learning_review(db) -> str:  # type: ignore[no-untyped-def]
    """Return the demo review whose conversations carry themes, given a panel of its own."""
    for review in review_data.all_reviews(db):
        doc = bundle.export_review(db, review.id)
        if any(t["kind"] == "conversation" for t in doc.get("theme_tags", [])):
            break
    else:
        raise AssertionError("the demo has no review with a themed conversation")
    case_id = doc["audits"][0]["case_id"]
    members = [
        users.by_username(db, m["username"]).id  # type: ignore[union-attr]
        for m in doc["members"]
    ]
    lead = users.by_username(db, "lead").id  # type: ignore[union-attr]
    exercise = calibration_data.create(
        db,
        review.id,
        title="Before the audits",
        case_ids=[case_id],
        participant_ids=members[:2],
        by=lead,
    )
    for n, user_id in enumerate(members[:2]):
        grade = ("good", "requires_improvement")[n]
        calibration_data.save_grades(
            db, exercise, case_id, user_id, {"plan_grade": Answer(grade, False, f"note {n}")}
        )
        calibration_data.submit(db, exercise, user_id, review.id)
    calibration_data.open_results(db, exercise, review.id, by=lead)
    calibration_data.record_agreed(
        db,
        exercise,
        review.id,
        case_id=case_id,
        question_id="plan_grade",
        value="requires_improvement",
        rationale="Contingency plan missing.",
        by=lead,
    )
    for n, audit in enumerate(doc["audits"][:2]):
        conversation_data.save_family_feedback(
            db,
            review.id,
            FamilyFeedback(
                audit_id=audit["id"],
                consent=True,
                contact_method="phone",
                family_said=f"Synthetic words {n}: the worker listened.",
                felt_listened_to="yes",
                knows_plan="partly",
            ),
            by=lead,
        )
    return review.id


def test_themes_panel_conversations_and_feedback_round_trip_and_merge(tmp_path: Path) -> None:
    _, source = _instance(tmp_path / "source", "a", seed_demo=True)
    review_id = _learning_review(source)
    doc = json.loads(bundle.dumps(bundle.export_review(source, review_id, exported_by="t")))
    kinds = {t["kind"] for t in doc["theme_tags"]}
    assert kinds == {"evidence", "finding", "conversation"}
    assert doc["themes"] and doc["conversations"] and doc["family_feedback"]
    (exercise,) = doc["calibration_exercises"]
    assert len(exercise["grades"]) == 2 and exercise["agreed"][0]["value"] == "requires_improvement"

    # Into a fresh installation and out again: the same file.
    _, fresh = _instance(tmp_path / "fresh", "b", seed_demo=False)
    report = bundle.import_bundle(fresh, bundle.dumps(doc))
    assert report.created and not report.conflicts, report.conflicts
    assert report.added["conversation_theme"] == sum(
        t["kind"] == "conversation" for t in doc["theme_tags"]
    )
    again = json.loads(bundle.dumps(bundle.export_review(fresh, review_id, exported_by="t")))
    assert _strip(again) == _strip(doc)

    # Merge: a copy made earlier lacked one conversation (with its theme tags), one family
    # feedback, a participant's grade and the agreed grade; the full bundle adds just those.
    partial = copy.deepcopy(doc)
    talked = next(t["audit_id"] for t in partial["theme_tags"] if t["kind"] == "conversation")
    partial["conversations"] = [c for c in partial["conversations"] if c["audit_id"] != talked]
    partial["theme_tags"] = [
        t
        for t in partial["theme_tags"]
        if not (t["kind"] == "conversation" and t["audit_id"] == talked)
    ]
    heard = partial["family_feedback"].pop()["audit_id"]
    partial["calibration_exercises"][0]["grades"].pop()
    partial["calibration_exercises"][0]["agreed"] = []
    _, merged = _instance(tmp_path / "merged", "c", seed_demo=False)
    bundle.import_bundle(merged, bundle.dumps(partial))
    assert theme_data.conversation_tags(merged, talked) == set()
    report = bundle.import_bundle(merged, bundle.dumps(doc))
    assert not report.conflicts, report.conflicts
    assert report.added["conversation"] == 1 and report.added["family_feedback"] == 1
    assert report.added["calibration_grade"] == 1 and report.added["calibration_agreed"] == 1
    assert theme_data.conversation_tags(merged, talked) == {
        t["theme_id"]
        for t in doc["theme_tags"]
        if t["kind"] == "conversation" and t["audit_id"] == talked
    }
    assert conversation_data.family_feedback(merged, heard) is not None
    out = json.loads(bundle.dumps(bundle.export_review(merged, review_id, exported_by="t")))
    assert _strip(out) == _strip(doc)
    # and a second import adds nothing
    twice = bundle.import_bundle(merged, bundle.dumps(doc))
    assert not twice.conflicts and not any(twice.added.values())
    for db in (source, fresh, merged):
        db.conn.close()
