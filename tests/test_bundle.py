"""Review bundles: round trip, merging with conflicts, and bad bundles that write nothing."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import bundle, create_app, demo
from audit.data import audits
from audit.data import reviews as review_data
from audit.data.db import connect
from tests.conftest import csrf_token

# Documented as differing between two exports of the same review: only the export's own
# time and who exported it (docs/bundle.md).
VOLATILE = ("exported_at", "exported_by")

TABLES = (
    "review",
    "review_member",
    "case_file",
    "case_audit",
    "answer",
    "escalation",
    "moderation",
    "finding",
    "action",
    "action_note",
    "user",
)


def _instance(tmp_path: Path, name: str, seed_demo: bool):  # type: ignore[no-untyped-def]
    app = create_app({"INSTANCE_PATH": tmp_path / name, "TESTING": True})
    db = connect(app.config["DATABASE"])
    if seed_demo:
        demo.seed(db, app.extensions["rubric_library"], Path(app.instance_path))
    return app, db


class _Blob(bytes):
    """Bundle bytes with a short repr (hypothesis prints test arguments)."""

    def __repr__(self) -> str:
        return f"<bundle of {len(self)} bytes>"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A bundle of the demo review."""
    _, db = _instance(tmp_path_factory.mktemp("src"), "a", seed_demo=True)
    review = review_data.all_reviews(db)[0]
    data = bundle.dumps(bundle.export_review(db, review.id, exported_by="test"))
    db.conn.close()
    return _Blob(data)


def _counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _strip(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in VOLATILE}


def test_round_trip_into_a_fresh_instance_is_identical(tmp_path: Path, exported: bytes) -> None:
    _, db = _instance(tmp_path, "b", seed_demo=False)
    report = bundle.import_bundle(db, exported)
    assert report.created and not report.conflicts
    assert report.added["case_audit"] == 36 and report.added["case_file"] == 40
    again = bundle.export_review(db, report.review_id)
    assert _strip(json.loads(exported)) == _strip(json.loads(bundle.dumps(again)))
    # people unknown here arrive as deactivated reviewers, so they cannot sign in
    assert db.execute("SELECT count(*) FROM user WHERE active = 1").fetchone()[0] == 0
    # importing the same bundle again adds nothing and reports no conflict
    before = _counts(db)
    second = bundle.import_bundle(db, exported)
    assert not second.created and second.added.get("case_audit", 0) == 0
    assert not second.conflicts
    assert {k: v for k, v in _counts(db).items()} == before
    db.conn.close()


def test_merge_adds_missing_audits_and_reports_conflicts(tmp_path: Path, exported: bytes) -> None:
    _, db = _instance(tmp_path, "c", seed_demo=False)
    doc = json.loads(exported)
    # The lead's installation has the review without the last four audits...
    held_back = doc["audits"][-4:]
    partial = copy.deepcopy(doc)
    partial["audits"] = doc["audits"][:-4]
    held_ids = {a["id"] for a in held_back}
    partial["escalations"] = [e for e in doc["escalations"] if e["audit_id"] not in held_ids]
    partial["moderation"] = [m for m in doc["moderation"] if m["audit_id"] not in held_ids]
    partial["actions"] = [a for a in doc["actions"] if a["audit_id"] not in held_ids]
    bundle.import_bundle(db, json.dumps(partial).encode())
    # ...and has since changed one audit that the reviewer's laptop also has.
    changed = partial["audits"][0]
    here = audits.get(db, changed["id"])
    db.execute(
        "UPDATE answer SET evidence = 'Edited by the lead here' WHERE audit_id = ?", [here.id]
    )
    report = bundle.import_bundle(db, exported)
    assert not report.created
    assert report.added["case_audit"] == 4
    assert len(report.conflicts) == 1 and "differs here" in report.conflicts[0]
    kept = audits.get(db, here.id)
    assert all(a.evidence == "Edited by the lead here" for a in kept.answers.values())
    db.conn.close()


def _corrupt(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    doc = json.loads(data)
    change(doc)
    return json.dumps(doc).encode()


def _edit_rubric(doc: dict) -> None:
    doc["review"]["rubric"]["text"] += "\n# edited\n"


def _missing_case(doc: dict) -> None:
    doc["audits"][3]["case_id"] = "00000000-0000-4000-8000-000000000000"


def _future(doc: dict) -> None:
    doc["format_version"] = 99


def _bad_question(doc: dict) -> None:
    doc["audits"][0]["answers"][0]["question_id"] = "no_such_question"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d[: len(d) // 2], "was the file cut short"),
        (lambda d: _corrupt(d, _future), "reads version 1 bundles"),
        (lambda d: _corrupt(d, _missing_case), "audits[3].case_id"),
        (lambda d: _corrupt(d, _edit_rubric), "the file was edited"),
        (lambda d: _corrupt(d, _bad_question), "audits[0].answers[0].question_id"),
        (lambda d: b'{"format": "something-else"}', "not a case-audit review bundle"),
        (lambda d: b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_bad_bundles_are_rejected_whole(tmp_path: Path, exported: bytes, make, message) -> None:  # type: ignore[no-untyped-def]
    _, db = _instance(tmp_path, "d", seed_demo=False)
    before = _counts(db)
    with pytest.raises(bundle.BundleInvalid) as caught:
        bundle.import_bundle(db, make(exported))
    assert any(message in p for p in caught.value.problems), caught.value.problems
    assert _counts(db) == before
    db.conn.close()


def test_merging_into_a_review_with_another_rubric_is_refused(
    tmp_path: Path, exported: bytes
) -> None:
    _, db = _instance(tmp_path, "e", seed_demo=False)
    bundle.import_bundle(db, exported)
    doc = json.loads(exported)
    other = (Path(__file__).parent.parent / "rubrics" / "supervision-thematic.yaml").read_text()
    from audit.rubric import parse_rubric

    rubric = parse_rubric(other)
    doc["review"]["rubric"] = {
        "id": rubric.id,
        "version": rubric.version,
        "hash": rubric.content_hash,
        "text": rubric.text,
    }
    doc["cases"], doc["audits"], doc["escalations"] = [], [], []
    doc["moderation"], doc["actions"], doc["findings"] = [], [], []
    before = _counts(db)
    with pytest.raises(bundle.BundleInvalid, match="different rubric"):
        bundle.import_bundle(db, json.dumps(doc).encode())
    assert _counts(db) == before
    db.conn.close()


def _can_step(target: object, step: object) -> bool:
    if isinstance(target, dict):
        return step in target
    return isinstance(target, list) and isinstance(step, int) and step < len(target)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    path=st.lists(
        st.sampled_from(
            [
                "review",
                "cases",
                "audits",
                "answers",
                "moderation",
                "findings",
                "people",
                0,
                1,
                "id",
                "case_id",
                "kind",
                "status",
                "version",
                "question_id",
                "reviewer",
            ]
        ),
        min_size=1,
        max_size=4,
    ),
    value=st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=20),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
)
def test_any_edited_bundle_imports_or_is_rejected_whole(
    tmp_path_factory,
    exported: bytes,  # type: ignore[no-untyped-def]
    path,
    value,
) -> None:
    doc = json.loads(exported)
    target = doc
    for step in path[:-1]:
        if _can_step(target, step):
            target = target[step]
    last = path[-1]
    if _can_step(target, last) or (isinstance(target, dict) and isinstance(last, str)):
        target[last] = value
    _, db = _instance(tmp_path_factory.mktemp("h"), "i", seed_demo=False)
    before = _counts(db)
    try:
        bundle.import_bundle(db, json.dumps(doc).encode())
    except bundle.BundleInvalid:
        assert _counts(db) == before
    db.conn.close()


def test_lead_downloads_and_uploads_bundles_in_the_browser(
    client, auth, db, people, exported: bytes
) -> None:  # type: ignore[no-untyped-def]
    auth.sign_in("lead")
    page = client.get("/reviews/import")
    assert "Import a review bundle" in page.text
    response = client.post(
        "/reviews/import",
        data={
            "csrf_token": csrf_token(page.text),
            "bundle_file": (io.BytesIO(exported), "demo.case-audit.json"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "Review imported" in response.text
    review_id = json.loads(exported)["review"]["id"]
    assert review_data.membership(db, review_id, people["lead"].id) == "lead"
    download = client.get(f"/reviews/{review_id}/bundle")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert json.loads(download.data)["review"]["id"] == review_id
    bad = client.post(
        "/reviews/import",
        data={
            "csrf_token": csrf_token(page.text),
            "bundle_file": (io.BytesIO(exported[:500]), "cut.json"),
        },
        content_type="multipart/form-data",
    )
    assert "The bundle was rejected: nothing was imported" in bad.text
    auth.sign_in("reviewer")
    assert client.get("/reviews/import").status_code == 403
    assert client.get(f"/reviews/{review_id}/bundle").status_code == 404
