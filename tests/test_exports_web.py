"""Exports through the browser and the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from audit import analysis
from audit.cli import main
from tests.helpers import make_review


def test_lead_downloads_answers_and_findings(client, auth, db, people) -> None:  # type: ignore[no-untyped-def]
    review, _ = make_review(db, people)
    auth.sign_in("lead")
    xlsx = client.get(f"/reviews/{review.id}/export/answers.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.headers["Content-Disposition"] == 'attachment; filename="test-review.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True)
    assert book.sheetnames[:4] == ["Answers", "Findings", "Conversations", "Family feedback"]
    assert book.sheetnames[4:-1] == list(analysis.CALIBRATION_SHEETS.values())
    assert book.sheetnames[-1] == "Themes"
    book.close()
    for table, first in (
        ("conversations", b"Case,"),
        ("family-feedback", b"Case,"),
        ("themes", b"Theme,"),
    ):
        got = client.get(f"/reviews/{review.id}/export/{table}.csv")
        assert got.status_code == 200 and got.data.startswith(b"\xef\xbb\xbf" + first)
    csv = client.get(f"/reviews/{review.id}/export/answers.csv")
    assert csv.data.startswith(b"\xef\xbb\xbfCase,Host reference")
    findings = client.get(f"/reviews/{review.id}/export/findings.csv")
    assert findings.data.startswith(b"\xef\xbb\xbfKind,")
    assert client.get(f"/reviews/{review.id}/export/findings.xlsx").status_code == 404
    auth.sign_in("reviewer")
    assert client.get(f"/reviews/{review.id}/export/answers.csv").status_code == 403


def test_every_csv_download_names_its_charset_once(client, auth, db, people) -> None:  # type: ignore[no-untyped-def]
    from audit.views.transfer import EXPORTS

    review, _ = make_review(db, people)
    auth.sign_in("lead")
    tables = [*sorted(what for what, fmt in EXPORTS if fmt == "csv"), "action-plan"]
    assert len(tables) > 5
    for table in tables:
        got = client.get(f"/reviews/{review.id}/export/{table}.csv")
        assert got.status_code == 200
        assert got.headers["Content-Type"] == "text/csv; charset=utf-8", table
    json_file = client.get(f"/reviews/{review.id}/findings.json")
    assert json_file.headers["Content-Type"] == "application/json"


def test_answers_command_writes_excel_or_csv(tmp_path: Path) -> None:
    runner = CliRunner()
    inst = str(tmp_path / "inst")
    runner.invoke(main, ["demo", "--instance", inst])
    title = "Example Borough peer safeguarding health check"
    out = tmp_path / "answers.xlsx"
    result = runner.invoke(main, ["answers", title, "-o", str(out), "--instance", inst])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out, read_only=True)
    rows = list(book["Answers"].iter_rows(values_only=True))
    book.close()
    assert rows[0][:3] == ("Case", "Host reference", "Case type")
    assert len(rows) > 1000  # 36 audits x their questions
    csv_out = tmp_path / "findings.csv"
    result = runner.invoke(
        main, ["answers", title, "-o", str(csv_out), "--findings", "--instance", inst]
    )
    assert result.exit_code == 0 and csv_out.read_bytes().startswith(b"\xef\xbb\xbfKind,")
    talks = tmp_path / "conversations.csv"
    result = runner.invoke(
        main,
        ["answers", title, "-o", str(talks), "--table", "conversations", "--instance", inst],
    )
    assert result.exit_code == 0
    assert "Practitioner agrees" in talks.read_bytes().decode("utf-8-sig").splitlines()[0]
    bad = runner.invoke(main, ["answers", title, "-o", str(tmp_path / "x.txt"), "--instance", inst])
    assert bad.exit_code == 1 and ".xlsx or .csv" in bad.output
    # The demo review's calibration panel is open, so the command line gets everyone's grades.
    graded = tmp_path / "calibration-grades.csv"
    result = runner.invoke(
        main,
        ["answers", title, "-o", str(graded), "--table", "calibration-grades", "--instance", inst],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(graded.read_bytes().decode("utf-8-sig"))))
    assert {"Demo Reviewer One", "Demo Lead Reviewer"} <= {row["Participant"] for row in rows}
    found = runner.invoke(main, ["findings", title, "--json", "--instance", inst])
    (panel,) = json.loads(found.stdout)["calibration"]["exercises"]
    assert panel["grades_shown"] == "all" and len(panel["participants"]) == 4
