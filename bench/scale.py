"""The scale curve: 1,000 to 100,000 submitted audits in one programme, what each step costs.

Target (issue 17): "1,000, 10,000, 50,000 and 100,000 submitted audits across reviews and a
programme; per size: aggregation, dashboard, programme trends, public and internal report,
XLSX export, bundle export and import, backup; time and peak memory, and the growth
exponent between sizes. Nothing worse than linear."

The instance grows in steps: the demo, then reviews of 1,000 submitted first audits each
(the health-check rubric, 31 to 39 answers an audit, moderation and escalations as in
bench/aggregation.py), all in one programme: 1, 10, 50 and 100 reviews. A council auditing
50 cases a month has 1,000 audits in under two years; a region of twenty councils pooling
their bundles has about 100,000. At each size every operation runs in a fresh process (so
its peak resident memory is its own: VmHWM, read by the process as it ends), on the newest
review where it is about one review:

- aggregation: ``analysis.aggregate`` of one review (counted, not cached);
- dashboard: ``GET /reviews/<id>/dashboard`` through the test client as the lead, first view
  (figures counted) and the median of the next five (figures kept);
- programme trends: ``trend_for`` over every review of the programme (grows with size);
- public and internal report: ``case-audit report`` to PDF;
- XLSX export: ``case-audit answers`` to .xlsx;
- bundle export: ``case-audit export``; bundle import: ``case-audit import`` of a
  1,000-audit review made elsewhere (deleted again, untimed, after each size);
- backup: ``case-audit backup`` of the whole database (grows with size).

Times exclude interpreter start-up (each operation times itself inside its process); peak
memory is the whole process's. The growth exponent between two sizes is
log(t2 / t1) / log(n2 / n1): 0 means the cost does not grow with the database, 1 linear.

Run: .venv/bin/python bench/scale.py [--sizes 1000,10000]   (100,000 takes a while)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aggregation import bulk_review
from common import REPO, connect_db, header, make_app, seed_demo, table

REVIEW_SIZE = 1_000
SIZES = (1_000, 10_000, 50_000, 100_000)

RUNNER = """
import json, sys, time


def peak_mb():
    # This process's own high-water mark (VmHWM is per process image, from exec).
    line = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
    return int(line.split()[1]) / 1024


REFERENCE = (
    "SELECT answer.question_id, answer.value, count(*) FROM answer"
    " JOIN case_audit ON case_audit.id = answer.audit_id WHERE case_audit.review_id = ?"
    " AND case_audit.purpose = 'first' AND case_audit.status = 'submitted' GROUP BY 1, 2"
)


def reference_seconds():
    # The same fixed work at every size (one 1,000-audit review's answers counted), timed in
    # this process beside the operation: how fast the shared machine is right now.
    import sqlite3, statistics
    conn = sqlite3.connect(f"{instance}/audit.db")
    times = []
    for _ in range(3):
        start = time.perf_counter()
        conn.execute(REFERENCE, [review]).fetchall()
        times.append(time.perf_counter() - start)
    conn.close()
    return statistics.median(times)

op, instance, review, programme, extra = sys.argv[1:6]
from pathlib import Path
if op in ("report-internal", "report-public", "xlsx", "export", "import", "backup"):
    from audit.cli import main
    args = {
        "report-internal": ["report", review, "-o", extra],
        "report-public": ["report", review, "-o", extra, "--public"],
        "xlsx": ["answers", review, "-o", extra],
        "export": ["export", review, "-o", extra],
        "import": ["import", extra],
        "backup": ["backup", extra],
    }[op] + ["--instance", instance]
    before = reference_seconds()
    start = time.perf_counter()
    try:
        main(args, standalone_mode=False)
    except SystemExit as exit:
        assert not exit.code, exit.code
    seconds = time.perf_counter() - start
    reference = (before + reference_seconds()) / 2
    print("RESULT", json.dumps({"seconds": seconds, "reference": reference, "peak_mb": peak_mb()}))
    sys.exit(0)
from audit import analysis, create_app
from audit.data.db import connect
from audit.data import reviews as review_data
app = create_app({"INSTANCE_PATH": instance})
db = connect(app.config["DATABASE"])
out = {}
before = reference_seconds()
if op == "aggregation":
    start = time.perf_counter()
    analysis.aggregate(db, review_data.get(db, review))
    out["seconds"] = time.perf_counter() - start
elif op == "trends":
    from audit.views.programmes import trend_for
    start = time.perf_counter()
    trend = trend_for(db, programme)
    out["seconds"] = time.perf_counter() - start
    out["points"] = len(trend["overall"].points)
elif op == "dashboard":
    import re, statistics
    lines = (Path(instance) / "demo-credentials.txt").read_text().splitlines()
    password = [line.split("\\t")[1] for line in lines if line.startswith("lead\\t")][0]
    client = app.test_client()
    page = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/sign-in", data={"username": "lead", "password": password, "csrf_token": token})
    times = []
    for _ in range(6):
        start = time.perf_counter()
        response = client.get(f"/reviews/{review}/dashboard")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    out["seconds"] = statistics.median(times[1:])
    out["first"] = times[0]
out["reference"] = (before + reference_seconds()) / 2
out["peak_mb"] = peak_mb()
print("RESULT", json.dumps(out))
"""


def run(op: str, instance: Path, review: str, programme: str, extra: str = "-") -> dict[str, Any]:
    """Run one operation in a fresh process; return its own timing and its peak memory."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER, op, str(instance), review, programme, extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        status = proc.wait()
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if status != 0 or "RESULT " not in text:
        raise RuntimeError(f"{op} failed:\n{text[-3000:]}")
    return json.loads(text.rsplit("RESULT ", 1)[1].splitlines()[0])


def grow(app: Any, programme: str, reviews: int, start: int) -> list[str]:
    """Add ``reviews`` reviews of REVIEW_SIZE submitted audits to the programme."""
    ids = []
    for n in range(start, start + reviews):
        info = bulk_review(
            app,
            title=f"Scale review {n:03d}",
            cases=REVIEW_SIZE,
            seed=n,
            moderated=REVIEW_SIZE // 20,
            second_every=20,
        )
        ids.append(info["id"])
    db = connect_db(app)
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        db.conn.executemany(
            "UPDATE review SET programme_id = ? WHERE id = ?", [(programme, i) for i in ids]
        )
        db.conn.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.conn.close()
    return ids


def held_out_bundle(folder: Path) -> tuple[Path, str]:
    """A 1,000-audit review made in another instance, as a bundle file, and its id."""
    from audit.bundles import bundle

    app = make_app(folder / "elsewhere")
    seed_demo(app)
    info = bulk_review(
        app, title="Imported review", cases=REVIEW_SIZE, seed=99_999, moderated=50, second_every=20
    )
    db = connect_db(app)
    try:
        path = folder / "held-out.case-audit.json"
        path.write_bytes(bundle.dumps(bundle.export_review(db, info["id"])))
    finally:
        db.conn.close()
    return path, info["id"]


def forget(instance: Path, review_id: str) -> None:
    """Delete the imported review again (untimed), so each size holds what it says."""
    app = make_app(instance)
    db = connect_db(app)
    try:
        from audit.data import reviews

        db.execute("UPDATE review SET status = 'closed' WHERE id = ?", [review_id])
        reviews.delete(db, review_id, by=None)
    finally:
        db.conn.close()


OPS = (
    ("aggregation", "aggregation of one review (1,000 audits)"),
    ("dashboard", "dashboard of one review, figures kept (first view below)"),
    ("trends", "programme trends over every review"),
    ("report-internal", "internal report (PDF) of one review"),
    ("report-public", "public report (PDF) of one review"),
    ("xlsx", "XLSX export of one review"),
    ("export", "bundle export of one review"),
    ("import", "bundle import of a 1,000-audit review"),
    ("backup", "backup of the whole database"),
)


def _median_reference(found: dict[str, dict[str, Any]]) -> float:
    return statistics.median(f["reference"] for f in found.values())


def exponent(t1: float, t2: float, n1: int, n2: int) -> str:
    if t1 <= 0 or t2 <= 0:
        return ""
    return f"{math.log(t2 / t1) / math.log(n2 / n1):+.2f}"


def summarise(
    sizes: list[int],
    figures: dict[int, dict[str, dict[str, Any]]],
    facts: dict[int, dict[str, Any]],
) -> None:
    """Print the tables: times and memory, then times in references with growth exponents."""
    labels = dict(OPS)
    series = {op: [figures[size][op] for size in sizes] for op, _label in OPS}
    series["dashboard-first"] = [
        {**figures[size]["dashboard"], "seconds": figures[size]["dashboard"]["first"]}
        for size in sizes
    ]
    labels["dashboard-first"] = "dashboard, first view after a change (figures counted)"

    print("\n-- time (s) and peak memory (MB) of each operation, in its own process")
    headings = ["operation"]
    for size in sizes:
        headings += [f"{size:,} s", "MB"]
    table(
        [
            [labels[op]]
            + [
                cell
                for found in runs
                for cell in (f"{found['seconds']:.2f}", f"{found['peak_mb']:.0f}")
            ]
            for op, runs in series.items()
        ],
        headings,
    )
    print(
        "\n-- the same times in references (the reference: one 1,000-audit review's answers"
        " counted by a plain GROUP BY, timed in the same process), and the growth exponent"
    )
    headings = ["operation", *(f"{size:,}" for size in sizes)]
    headings += [f"exp {a // 1000}k-{b // 1000}k" for a, b in itertools.pairwise(sizes)]
    rows, worst = [], 0.0
    for op, runs in series.items():
        scaled = [found["seconds"] / found["reference"] for found in runs]
        row = [labels[op], *(f"{value:,.1f}" for value in scaled)]
        for (a, x), (b, y) in itertools.pairwise(zip(sizes, scaled, strict=True)):
            row.append(exponent(x, y, a, b))
            worst = max(worst, math.log(y / x) / math.log(b / a))
        rows.append(row)
    table(rows, headings)
    print(
        "\n   references: "
        + ", ".join(f"{size:,}: {_median_reference(figures[size]) * 1000:.1f} ms" for size in sizes)
    )
    print(
        "   "
        + "; ".join(
            f"{size:,}: {facts[size]['reviews']} reviews, {facts[size]['db_mb']:,.0f} MB database"
            for size in sizes
        )
    )
    print(
        f"RESULT {'PASS' if worst <= 1.2 else 'FAIL'}  nothing worse than linear:"
        f" largest growth exponent {worst:+.2f} in references (1 is linear; 1.2 allows for"
        " noise)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    header("scale curve: submitted audits in one programme, each operation in its own process")
    figures: dict[int, dict[str, dict[str, Any]]] = {}
    facts: dict[int, dict[str, Any]] = {}
    base = os.environ.get("BENCH_TMPDIR") or None
    with tempfile.TemporaryDirectory(prefix="case-audit-scale-", dir=base) as folder:
        root = Path(folder)
        bundle_path, imported_id = held_out_bundle(root)
        instance = root / "instance"
        app = make_app(instance)
        seed_demo(app)
        from audit.data import programmes

        db = connect_db(app)
        try:
            programme = programmes.create(db, title="Scale programme", kind="self_audit")
        finally:
            db.conn.close()
        reviews: list[str] = []
        for size in sizes:
            started = time.perf_counter()
            wanted = size // REVIEW_SIZE - len(reviews)
            reviews += grow(app, programme, wanted, len(reviews))
            seeded = time.perf_counter() - started
            newest = reviews[-1]
            db_bytes = (instance / "audit.db").stat().st_size
            facts[size] = {"reviews": len(reviews), "seeded": seeded, "db_mb": db_bytes / 2**20}
            print(
                f"\n-- {size:,} submitted audits: {len(reviews)} reviews, database"
                f" {db_bytes / 2**20:,.0f} MB (added in {seeded:.0f} s)",
                flush=True,
            )
            out = root / "out"
            out.mkdir(exist_ok=True)
            extra = {
                "report-internal": str(out / "internal.pdf"),
                "report-public": str(out / "public.pdf"),
                "xlsx": str(out / "answers.xlsx"),
                "export": str(out / "bundle.json"),
                "import": str(bundle_path),
                "backup": str(out / "backup.db"),
            }
            figures[size] = {}
            for op, _label in OPS:
                found = run(op, instance, newest, programme, extra.get(op, "-"))
                figures[size][op] = found
                print(
                    f"   {op:16} {found['seconds']:8.2f} s  {found['peak_mb']:6.0f} MB"
                    f"  reference {found['reference'] * 1000:6.1f} ms"
                    f"  = {found['seconds'] / found['reference']:8.1f} references"
                    + (f"  (first view {found['first']:.2f} s)" if "first" in found else ""),
                    flush=True,
                )
                if op == "import":
                    forget(instance, imported_id)
                for leftover in out.iterdir():
                    leftover.unlink()

    summarise(sizes, figures, facts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
