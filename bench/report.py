"""Findings report render time and memory: the whole pipeline beside WeasyPrint alone.

Targets (from the issue):
- "a 40-case report renders in under 3 seconds on the 2-core machine"
- "a 1,000-case review's report in under 15 seconds and 300 MB"
- "the whole pipeline is at most 1.2x the time WeasyPrint alone takes to render the same
  finished HTML"

The pipeline is ``audit.reporting.report.build_html`` (queries, charts, template) then
``audit.reporting.report.render_pdf`` (WeasyPrint through the allow-listing URL fetcher, PDF/UA-1).
"WeasyPrint alone" renders the very HTML the pipeline built, with WeasyPrint's own fetcher
reading the stylesheet from disk, to the same PDF variant. Each measurement runs in a fresh
process (after one small warm-up render that loads fonts), so peak RSS is that process's
own (``resource.getrusage``).

The whole command: ``case-audit report REVIEW -o FILE.pdf`` as a user runs it (a fresh
process: interpreter start-up, imports, opening the instance, building and rendering) beside
a bare ``python -c`` process that imports WeasyPrint and renders the same HTML (the
command's own ``--html`` copy) to the same PDF variant. The two take turns, best of
``COMMAND_REPEATS`` each, in the same run; target: at most 1.2x.

Protection: what the public version adds (defining every printed count in the disclosure
model, then protecting it with the exact attacker), timed on its own line for the demo, the
1,000-case review and a 1,000-case review with small counts to protect; target: at most 1 s.

Run: .venv/bin/python bench/report.py (``--command-only`` for the whole-command figure alone,
``--protection-only`` for the protection figures alone)
"""

from __future__ import annotations

import gc
import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from common import (
    DEMO_RUBRIC,
    REPO,
    connect_db,
    demo_review_id,
    header,
    make_app,
    median,
    result,
    secs,
    seed_demo,
    table,
    temp_instance,
)

LARGE_CASES = 1000
LARGE_TITLE = "Synthetic 1,000-case self-audit"
REPEATS = {"demo": 7, "large": 7}
COMMAND_REPEATS = 5
TARGETS_S = {"demo": 3.0, "large": 15.0}
LARGE_RSS_MB = 300
RATIO_TARGET = 1.2
TEAMS = [f"Synthetic Team {n:02d}" for n in range(1, 21)]
PROTECTION_REPEATS = 5
PROTECTION_TARGET_S = 1.0
PROTECTION_LABELS = {
    "demo": "demo (24 cases audited)",
    "large": f"{LARGE_CASES:,} cases",
    "small counts": f"{LARGE_CASES:,} cases with small counts",
}
CASE_TYPES = ["early_help", "referral_assessment", "cin", "cp", "cla", "care_leaver"]


# --------------------------------------------------------------------------- the large review


def seed_large_review(
    app: Any, cases: int = LARGE_CASES, seed: int = 1000, *, small_counts: bool = False
) -> str:
    """Create a review of ``cases`` submitted audits by SQL, as a council's year might hold.

    Case files go in through the data layer; audits, answers, a few second audits, moderations
    and escalations are inserted directly (executemany), which is what makes 1,000 quick.
    With ``small_counts`` the review also has what gives a public report small counts to
    protect: a few cases of a rare case type and of small teams, checks answered "not
    applicable" now and then, a handful of children not adequately safeguarded.
    """
    from audit import analysis
    from audit import findings as findings_domain
    from audit.data import findings as finding_data
    from audit.data import reviews
    from audit.data.db import utcnow, write
    from audit.scoring import applicable

    rng = random.Random(seed)
    db = connect_db(app)
    try:
        lead = db.execute("SELECT id FROM user WHERE username = 'lead'").fetchone()[0]
        reviewer_ids = [row[0] for row in db.execute("SELECT id FROM user WHERE role = 'reviewer'")]
        rubric = app.extensions["rubric_library"].get(DEMO_RUBRIC)
        review = reviews.create(
            db,
            title=LARGE_TITLE + (", with small counts" if small_counts else ""),
            host_organisation="Synthetic Council",
            kind="self_audit",
            rubric=rubric,
            start_date="2026-01-05",
            end_date="2026-12-18",
            by=lead,
        )
        reviews.add_member(db, review.id, lead, "lead", by=lead)
        for reviewer in reviewer_ids:
            reviews.add_member(db, review.id, reviewer, "reviewer", by=lead)
        rare = dict.fromkeys((3, 400, 777), "care_leaver") if small_counts else {}
        small_teams = {5: "Team 21", 50: "Team 21", 500: "Team 22"} if small_counts else {}
        types_pool = [t for t in CASE_TYPES if not (small_counts and t == "care_leaver")]
        case_ids = reviews.add_case_files(
            db,
            review.id,
            [
                {
                    "reference": f"SYN-{n:06d}",
                    "case_type": rare.get(n) or rng.choice(types_pool),
                    "team": small_teams.get(n) or rng.choice(TEAMS),
                    "assigned_to": reviewer_ids[n % len(reviewer_ids)],
                    "dates": {
                        "referral_date": "2026-03-02",
                        "assessment_start_date": "2026-03-03",
                        "assessment_completed_date": f"2026-03-{rng.randint(9, 28):02d}",
                        "last_supervision_date": "2026-11-20",
                        "previous_supervision_date": f"2026-10-{rng.randint(10, 30):02d}",
                    },
                }
                for n in range(1, cases + 1)
            ],
            by=lead,
        )
        reviews.set_status(db, review.id, "in_progress", by=lead)
        levels = [level.id for level in rubric.scale.levels]
        now = utcnow()
        audits, answers, seconds = [], [], []
        nas: list[tuple[str, str]] = []
        types = {
            row["id"]: row["case_type"]
            for row in db.execute(
                "SELECT id, case_type FROM case_file WHERE review_id = ?", [review.id]
            )
        }
        for index, case_id in enumerate(case_ids):
            reviewer = reviewer_ids[index % len(reviewer_ids)]
            audit_id = str(uuid.uuid4())
            audits.append((audit_id, case_id, review.id, reviewer, "first", now))
            leaning = rng.random()
            values: dict[str, str] = {}
            for _section, questions in applicable(rubric, types[case_id]):
                for q in questions:
                    if q.type == "grade":
                        value = levels[min(3, int((1 - leaning) * 2.2 + rng.random() * 1.8))]
                    elif q.type == "yes_no":
                        good = q.critical or rng.random() < 0.4 + leaning * 0.5
                        if small_counts and q.critical and index % 250 == 7:
                            good = False  # four children not adequately safeguarded
                        value = (
                            (q.good_answer or "yes")
                            if good
                            else ("no" if (q.good_answer or "yes") == "yes" else "yes")
                        )
                        if small_counts and q.allow_na and rng.random() < 0.004:
                            nas.append((audit_id, q.id))
                    else:
                        value = "Synthetic summary."
                    values[q.id] = value
                    answers.append((audit_id, q.id, value, "Synthetic evidence.", now))
            if index % 20 == 0:  # one case in twenty gets an independent second audit
                second_id = str(uuid.uuid4())
                second = reviewer_ids[(index + 1) % len(reviewer_ids)]
                audits.append((second_id, case_id, review.id, second, "second", now))
                seconds.append((second, case_id))
                for question_id, value in values.items():
                    if value in levels and rng.random() < 0.25:
                        value = levels[max(0, min(3, levels.index(value) + rng.choice([-1, 1])))]
                    answers.append((second_id, question_id, value, "", now))
        with write(db):
            db.conn.executemany(
                "INSERT INTO case_audit (id, case_id, review_id, reviewer_id, purpose, status,"
                " created_at, updated_at, submitted_at) VALUES (?, ?, ?, ?, ?, 'submitted',"
                " ?6, ?6, ?6)",
                audits,
            )
            db.conn.executemany(
                "INSERT INTO answer (audit_id, question_id, value, evidence, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                answers,
            )
            db.conn.executemany(
                "UPDATE case_file SET second_audit = 1, second_assigned_to = ? WHERE id = ?",
                seconds,
            )
            db.conn.executemany(
                "UPDATE answer SET value = NULL, not_applicable = 1"
                " WHERE audit_id = ? AND question_id = ?",
                nas,
            )
        agg = analysis.aggregate(db, reviews.get(db, review.id))
        suggestions = findings_domain.suggest(agg)
        for kind in ("strength", "development"):
            for suggestion in [s for s in suggestions if s.kind == kind][:3]:
                finding_data.add_from_suggestion(
                    db, review.id, suggestion, status="accepted", text=suggestion.text, by=lead
                )
        finding_data.set_executive_summary(
            db, review.id, "A year of monthly self-audits.\n\nSynthetic data.", by=lead
        )
        return review.id
    finally:
        db.conn.close()


# --------------------------------------------------------------------------- one measurement


def _warm_up() -> None:
    """Render a tiny document so font loading is not counted in either figure."""
    from audit.reporting import report

    report.render_pdf(
        '<html lang="en-GB"><body><p>Warm-up</p></body></html>', title="warm", author="bench"
    )


def child(instance: str, review_id: str, mode: str, repeats: int) -> None:
    """Measure in this fresh process and print JSON: seconds per run, peak RSS.

    ``pipeline`` runs the pipeline alone (its peak RSS is the pipeline's); ``compare``
    alternates pipeline and WeasyPrint-alone runs, so both see the same machine load.
    """
    import resource

    import weasyprint

    from audit.data import reviews
    from audit.data.db import connect
    from audit.reporting import report

    app = make_app(Path(instance))
    db = connect(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])
    review = reviews.get(db, review_id)
    title = report.pdf_title(review, "internal")
    author = report.pdf_author(app, db, review)
    _warm_up()
    static = (REPO / "audit" / "static").as_uri() + "/"
    pipeline, html_times, alone = [], [], []
    html = ""
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        html = report.build_html(app, db, review, audience="internal")
        built = time.perf_counter()
        report.render_pdf(html, title=title, author=author)
        pipeline.append(time.perf_counter() - start)
        html_times.append(built - start)
        if mode == "compare":
            plain = html.replace('href="/static/', f'href="{static}')
            gc.collect()
            start = time.perf_counter()
            weasyprint.HTML(string=plain, base_url=static).write_pdf(pdf_variant=report.PDF_VARIANT)
            alone.append(time.perf_counter() - start)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "pipeline": pipeline,
                "html_times": html_times,
                "alone": alone,
                "rss_mb": rss_kb / 1024,
                "html_kb": len(html) / 1024,
            }
        )
    )


def protection_child(instance: str, review_id: str, repeats: int) -> None:
    """Time the public version's own work in this process and print JSON.

    Defining the model (``public_figures.define``) and protecting it (primary suppression,
    the exact attacker, complementary suppression: ``protection.protect``, never the cache)
    are what the public report adds to the internal one; the figures they start from are
    gathered once, as both versions share them.
    """
    from audit.data import reviews
    from audit.data.db import connect
    from audit.reporting import disclosure, protection, public_figures, report

    app = make_app(Path(instance))
    db = connect(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])
    review = reviews.get(db, review_id)
    figures = report.gather(app, db, review)
    protection.protect(public_figures.define(figures).model, figures.threshold)  # imports
    define, protect = [], []
    result = None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        model = public_figures.define(figures).model
        defined = time.perf_counter()
        result = protection.protect(model, figures.threshold)
        protect.append(time.perf_counter() - defined)
        define.append(defined - start)
    assert result is not None
    cost = disclosure.View(
        model, figures.threshold, result.status, frozenset(result.dropped), result.ranges
    ).cost()
    print(
        json.dumps(
            {
                "define": define,
                "protect": protect,
                "withheld": cost.withheld,
                "primary": cost.primary,
                "printed": cost.printed,
                "left_out": len(cost.left_out),
                "solves": result.solves,
            }
        )
    )


def _protection(instance: Path, review_id: str, repeats: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--protection", str(instance), review_id, str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def protection_figures(instance: Path, review_ids: dict[str, str]) -> None:
    """Print the protection time of each review on its own line, and check the target."""
    for kind, review_id in review_ids.items():
        got = _protection(instance, review_id, PROTECTION_REPEATS)
        define, protect = median(got["define"]), median(got["protect"])
        print(
            f"   protection, {PROTECTION_LABELS[kind]}: {secs(define + protect)}"
            f" (defining the model {secs(define)}, protecting it {secs(protect)};"
            f" {got['withheld']} of {got['printed']} counts withheld, {got['primary']} of them"
            f" below 5, {got['left_out']} parts left out; {got['solves']} programmes solved)"
        )
        if kind == "small counts":
            result(
                f"protecting a {LARGE_CASES:,}-case review adds at most"
                f" {PROTECTION_TARGET_S:.0f} s",
                define + protect <= PROTECTION_TARGET_S,
                secs(define + protect),
            )


def _measure(instance: Path, review_id: str, mode: str, repeats: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(instance), review_id, mode, str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


BARE_WEASYPRINT = (
    "import sys, weasyprint;"
    " weasyprint.HTML(filename=sys.argv[1]).write_pdf(sys.argv[2], pdf_variant=sys.argv[3])"
)


def _timed(argv: list[str]) -> float:
    """Run a command to completion in a fresh process and return its wall time."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - start


def whole_command(instance: Path, review_id: str, repeats: int) -> tuple[float, float]:
    """Return the best wall times of ``case-audit report`` and of bare WeasyPrint, in turns."""
    from audit.reporting.report import PDF_VARIANT

    pdf, html, bare_pdf = (instance / name for name in ("cmd.pdf", "cmd.html", "bare.pdf"))
    command = [sys.executable, "-m", "audit", "report", review_id, "-o", str(pdf)]
    command += ["--instance", str(instance)]
    subprocess.run([*command, "--html", str(html)], check=True, capture_output=True, cwd=REPO)
    bare = [sys.executable, "-c", BARE_WEASYPRINT, str(html), str(bare_pdf), PDF_VARIANT]
    commands, bares = [], []
    for _ in range(repeats):
        commands.append(_timed(command))
        bares.append(_timed(bare))
    return min(commands), min(bares)


def main() -> int:
    header("Findings report: pipeline (build_html + render_pdf) beside WeasyPrint alone")
    with temp_instance() as instance:
        app = make_app(instance)
        seed_demo(app)
        started = time.perf_counter()
        large = seed_large_review(app)
        seeded = secs(time.perf_counter() - started)
        print(f"   synthetic {LARGE_CASES}-case review seeded in {seeded}")
        reviews = {"demo": demo_review_id(app), "large": large}
        rows, outcomes = [], []
        for kind, review_id in reviews.items():
            solo = _measure(instance, review_id, "pipeline", 1)
            both = _measure(instance, review_id, "compare", REPEATS[kind])
            p, a = median(both["pipeline"]), median(both["alone"])
            # Each pipeline run is paired with the WeasyPrint run next to it in time, so a
            # burst of load on the shared machine skews a pair, not the whole comparison.
            ratio = median([x / y for x, y in zip(both["pipeline"], both["alone"], strict=True)])
            rows.append(
                [
                    "demo (40 cases, 24 audited)" if kind == "demo" else f"{LARGE_CASES} cases",
                    secs(median(both["html_times"])),
                    secs(p),
                    secs(a),
                    f"{ratio:.2f}x",
                    f"{solo['rss_mb']:.0f} MB",
                    f"{both['html_kb']:.0f} KB",
                ]
            )
            outcomes.append((kind, p, ratio, solo["rss_mb"]))
        table(
            rows,
            [
                "review",
                "build_html",
                "pipeline",
                "WeasyPrint alone",
                "ratio",
                "peak RSS",
                "HTML",
            ],
        )
        print(
            f"   medians of {REPEATS['demo']} (demo) and {REPEATS['large']} (large) renders of"
            " each, pipeline and WeasyPrint alone taking turns (ratio: median of the pairs');"
            " peak RSS of a process that renders the report once"
        )
        for kind, seconds, ratio, rss in outcomes:
            result(
                f"{kind} report under {TARGETS_S[kind]:.0f} s",
                seconds < TARGETS_S[kind],
                secs(seconds),
            )
            result(
                f"{kind} pipeline at most {RATIO_TARGET}x WeasyPrint alone",
                ratio <= RATIO_TARGET,
                f"{ratio:.2f}x",
            )
            if kind == "large":
                result(f"large report under {LARGE_RSS_MB} MB", rss < LARGE_RSS_MB, f"{rss:.0f} MB")
        small = seed_large_review(app, seed=1001, small_counts=True)
        protection_figures(instance, {**reviews, "small counts": small})
        command, bare = whole_command(instance, reviews["demo"], COMMAND_REPEATS)
        print(
            f"   whole command, demo review: case-audit report {secs(command)}, bare WeasyPrint"
            f" process on the same HTML {secs(bare)} (best of {COMMAND_REPEATS}, taking turns)"
        )
        result(
            f"case-audit report at most {RATIO_TARGET}x a bare WeasyPrint process",
            command / bare <= RATIO_TARGET,
            f"{command / bare:.2f}x",
        )
    return 0


def command_only() -> int:
    """Measure only the whole command on the demo review (``--command-only``): about a minute."""
    header("Findings report: case-audit report as a whole command beside bare WeasyPrint")
    with temp_instance() as instance:
        app = make_app(instance)
        seed_demo(app)
        command, bare = whole_command(instance, demo_review_id(app), COMMAND_REPEATS)
        print(f"   case-audit report {secs(command)}, bare WeasyPrint process {secs(bare)}")
        result(
            f"case-audit report at most {RATIO_TARGET}x a bare WeasyPrint process",
            command / bare <= RATIO_TARGET,
            f"{command / bare:.2f}x (best of {COMMAND_REPEATS})",
        )
    return 0


def protection_only() -> int:
    """Measure only the protection figures (``--protection-only``)."""
    header("Findings report: protecting the public version")
    with temp_instance() as instance:
        app = make_app(instance)
        seed_demo(app)
        large = seed_large_review(app)
        small = seed_large_review(app, seed=1001, small_counts=True)
        protection_figures(
            instance, {"demo": demo_review_id(app), "large": large, "small counts": small}
        )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--protection":
        protection_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1:] == ["--command-only"]:
        sys.exit(command_only())
    elif sys.argv[1:] == ["--protection-only"]:
        sys.exit(protection_only())
    else:
        sys.exit(main())
