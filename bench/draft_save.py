"""Draft save time with 10,000 audits already in the database.

Target (from the issue): "A draft save takes under 100 ms of server time with 10,000 audits
already in the database."

Run: .venv/bin/python bench/draft_save.py
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from typing import Any

from common import (
    DEMO_RUBRIC,
    connect_db,
    csrf_token,
    half_answered_form,
    header,
    hidden_value,
    make_app,
    median,
    ms,
    p95,
    result,
    seed_demo,
    start_half_answered_audit,
    table,
    temp_instance,
    timed,
    user_id,
)

CASE_TYPE = "cp"
BULK_AUDITS = 10_000
SAVES = 50
TARGET_S = 0.100
CASE_TYPES = ["early_help", "referral_assessment", "cin", "cp", "cla", "care_leaver"]
EVIDENCE = (
    "Synthetic evidence {n}: the record shows the plan was reviewed on time and the child's "
    "views were sought by the allocated worker; manager oversight is recorded."
)


def bulk_insert(app: Any, count: int = BULK_AUDITS) -> dict[str, Any]:
    """Add a second review with ``count`` case files, each with a submitted first audit.

    Answers follow the real rubric's questions for each case type (31 to 39 per audit).
    """
    from audit.data import reviews
    from audit.data.db import utcnow, write
    from audit.scoring import applicable

    rubric = app.extensions["rubric_library"].get(DEMO_RUBRIC)
    lead = user_id(app, "lead")
    reviewers = [user_id(app, f"reviewer{n}") for n in (1, 2, 3)]
    rng = random.Random(10_000)
    questions = {ct: [q for _s, qs in applicable(rubric, ct) for q in qs] for ct in CASE_TYPES}
    grades = [level.id for level in rubric.scale.levels]
    now = utcnow()
    db = connect_db(app)
    started = time.perf_counter()
    try:
        review = reviews.create(
            db,
            title="Bench: 10,000 audits",
            host_organisation="Bench Borough Council",
            kind="self_audit",
            rubric=rubric,
            by=lead,
        )
        for reviewer in reviewers:
            reviews.add_member(db, review.id, reviewer, "reviewer", by=lead)
        cases, audits, answers = [], [], []
        for n in range(1, count + 1):
            case_type = CASE_TYPES[n % len(CASE_TYPES)]
            case_id, audit_id = str(uuid.uuid4()), str(uuid.uuid4())
            reviewer = reviewers[n % len(reviewers)]
            cases.append(
                (
                    case_id,
                    review.id,
                    f"BULK-{n:06d}",
                    f"C{n:05d}",
                    case_type,
                    "Bench Team",
                    json.dumps({"referral_date": "2026-01-05"}),
                    reviewer,
                    now,
                )
            )
            audits.append((audit_id, case_id, review.id, reviewer, now, now, now))
            for question in questions[case_type]:
                if question.type == "grade":
                    value = rng.choice(grades)
                elif question.type == "yes_no":
                    value = question.good_answer if rng.random() < 0.85 else "no"
                    if question.critical:
                        value = question.good_answer or "yes"
                else:
                    value = "Synthetic summary of practice on this case."
                evidence = EVIDENCE.format(n=n) if question.type != "text" else ""
                answers.append((audit_id, question.id, value, evidence, now))
        with write(db):
            db.conn.executemany(
                "INSERT INTO case_file (id, review_id, reference, pseudonym, case_type, team,"
                " dates, assigned_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                cases,
            )
            db.conn.executemany(
                "INSERT INTO case_audit (id, case_id, review_id, reviewer_id, purpose, status,"
                " version, created_at, updated_at, submitted_at)"
                " VALUES (?, ?, ?, ?, 'first', 'submitted', 2, ?, ?, ?)",
                audits,
            )
            db.conn.executemany(
                "INSERT INTO answer (audit_id, question_id, value, not_applicable, evidence,"
                " updated_at) VALUES (?, ?, ?, 0, ?, ?)",
                answers,
            )
        seconds = time.perf_counter() - started
        counts = {
            table_name: db.execute(f"SELECT count(*) FROM {table_name}").fetchone()[0]
            for table_name in ("case_file", "case_audit", "answer", "change_log")
        }
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.conn.close()
    size = os.path.getsize(app.config["DATABASE"]) / 1024 / 1024
    return {"seconds": seconds, "counts": counts, "size_mb": size}


def time_posts(client: Any, path: str, rubric: Any, first_evidence: str, n: int) -> list[float]:
    """Time ``n`` draft saves through the scoring form; each changes one evidence box."""
    base = half_answered_form(rubric, CASE_TYPE)
    times = []
    last_version = None
    for i in range(n):
        page = client.get(path)
        if page.status_code != 200:
            raise RuntimeError(f"GET {path}: {page.status_code}")
        version = int(hidden_value(page.text, "version"))
        if last_version is not None and version != last_version + 1:
            raise RuntimeError(f"save {i - 1} did not store a new version")
        last_version = version
        data = dict(base)
        data[first_evidence] = f"Edited evidence, save {i}: the plan was reviewed."
        data.update(
            {
                "csrf_token": csrf_token(page.text),
                "version": str(version),
                "action": "save",
            }
        )
        start = time.perf_counter()
        response = client.post(path, data=data)
        times.append(time.perf_counter() - start)
        if response.status_code != 302 or not response.headers["Location"].startswith(path):
            raise RuntimeError(f"draft save {i} gave {response.status_code}, not a redirect back")
    return times


def time_direct(app: Any, audit_id: str, rubric: Any, first_question: str, n: int) -> list[float]:
    """Time ``n`` calls of audit.data.audits.save on its own connection (no Flask)."""
    from audit.data import audits
    from audit.scoring import Answer, adverse, applicable

    form = half_answered_form(rubric, CASE_TYPE)
    shown = [q for _s, qs in applicable(rubric, CASE_TYPE) for q in qs]
    critical = [q.id for q in rubric.critical_questions()]
    reviewer = user_id(app, "reviewer1")
    db = connect_db(app)
    times = []
    try:
        for i in range(n):
            answers = {
                q.id: Answer(
                    form[f"answer-{q.id}"] or None, False, form.get(f"evidence-{q.id}", "")
                )
                for q in shown
            }
            old = answers[first_question]
            answers[first_question] = Answer(old.value, False, f"Direct save {i}: edited.")
            current = audits.get(db, audit_id)
            adverse_ids = [q.id for q in adverse(rubric, CASE_TYPE, answers)]

            def save(
                current: Any = current, answers: Any = answers, adv: Any = adverse_ids
            ) -> None:
                audits.save(
                    db,
                    audit_id,
                    expected_version=current.version,
                    answers=answers,
                    sections_na=current.sections_na,
                    feedback=current.feedback,
                    adverse_questions=adv,
                    critical_questions=critical,
                    by=reviewer,
                )

            times.append(timed(save))
    finally:
        db.conn.close()
    return times


def main() -> int:
    from audit.data import reviews as review_data

    header("draft save: scoring form POST with 10,000 audits in the database")
    with temp_instance() as instance:
        app = make_app(instance)
        passwords = seed_demo(app)
        client = app.test_client()
        review_id, path, how = start_half_answered_audit(
            app, client, "reviewer1", passwords["reviewer1"], CASE_TYPE
        )
        audit_id = path.rstrip("/").rsplit("/", 1)[1]
        db = connect_db(app)
        try:
            rubric = review_data.get(db, review_id).rubric
            journal = db.execute("PRAGMA journal_mode").fetchone()[0]
            demo_audits = db.execute("SELECT count(*) FROM case_audit").fetchone()[0]
        finally:
            db.conn.close()
        first_evidence = next(k for k in half_answered_form(rubric, CASE_TYPE) if "evidence-" in k)
        first_question = first_evidence.split("-", 1)[1]

        before_post = time_posts(client, path, rubric, first_evidence, SAVES)
        before_direct = time_direct(app, audit_id, rubric, first_question, SAVES)
        bulk = bulk_insert(app)
        after_post = time_posts(client, path, rubric, first_evidence, SAVES)
        after_direct = time_direct(app, audit_id, rubric, first_question, SAVES)

    counts = bulk["counts"]
    print(f"\n-- reviewer1's draft of {how}; journal_mode={journal}, synchronous=FULL")
    print(
        f"   bulk insert: {BULK_AUDITS:,} case files + submitted audits, "
        f"{counts['answer']:,} answer rows in all, in {bulk['seconds']:.1f} s; "
        f"database {bulk['size_mb']:.0f} MB"
    )
    print(
        f"   tables now: case_file {counts['case_file']:,}, case_audit {counts['case_audit']:,}, "
        f"answer {counts['answer']:,}, change_log {counts['change_log']:,}"
    )
    print(f"   {SAVES} saves each; POST timed alone (the GET for token and version is not)")
    rows = [
        [
            f"POST draft save, demo only ({demo_audits} audits)",
            ms(median(before_post)),
            ms(p95(before_post)),
        ],
        [
            f"POST draft save, +{BULK_AUDITS:,} audits",
            ms(median(after_post)),
            ms(p95(after_post)),
        ],
        [
            "audits.save() direct, demo only",
            ms(median(before_direct)),
            ms(p95(before_direct)),
        ],
        [
            f"audits.save() direct, +{BULK_AUDITS:,} audits",
            ms(median(after_direct)),
            ms(p95(after_direct)),
        ],
    ]
    table(rows, ["figure", "median", "p95"])
    passed = median(after_post) < TARGET_S
    result(
        "draft save",
        passed,
        f"POST median {ms(median(after_post))}, p95 {ms(p95(after_post))} with "
        f"{counts['case_audit']:,} audits; audits.save() median {ms(median(after_direct))} "
        f"(target median < {TARGET_S * 1000:.0f} ms)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
