"""Exports: answers and findings leave the app as labelled CSV and XLSX, formula-safe."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.data import audits, moderation, reviews, users
from audit.data import exports as export_data
from audit.data import findings as finding_data
from audit.reporting import exports
from audit.rubric import Rubric
from audit.scoring import Answer, adverse, answer_field, applicable, evidence_field
from tests.helpers import full_answers, health_check, make_review

FORMULAS = [
    '=HYPERLINK("http://evil.example","click")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\uff1d1+1",
    "\uff0b1+1",
    "\uff0d2+3",
    "\uff20SUM(A1)",
]
XSS = "<script>alert(1)</script>"
TRIGGERS = tuple("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def form_to_answers(rubric: Rubric, case_type: str, data: dict[str, Any]) -> dict[str, Answer]:
    """Turn scoring-form data into answers, as the scoring page does."""
    out = {}
    for _section, questions in applicable(rubric, case_type):
        for q in questions:
            value = data.get(answer_field(q.id))
            evidence = data.get(evidence_field(q.id), "")
            if value == "na":
                out[q.id] = Answer(None, True, evidence)
            elif value or evidence:
                out[q.id] = Answer(value, False, evidence)
    return out


def score(db, rubric, case_id, case_type, by, data, *, purpose="first", submit=True) -> str:  # type: ignore[no-untyped-def]
    """Start and save an audit from form data; return its id."""
    audit_id = audits.start(db, case_id, by, purpose=purpose)
    current = audits.get(db, audit_id)
    answers = form_to_answers(rubric, case_type, data)
    result = audits.save(
        db,
        audit_id,
        expected_version=current.version,
        answers=answers,
        sections_na=(),
        feedback={},
        adverse_questions=[q.id for q in adverse(rubric, case_type, answers)],
        critical_questions=[q.id for q in rubric.critical_questions()],
        by=by,
        submit=submit,
    )
    assert result.submitted is submit
    return audit_id


@dataclass
class Built:
    review: Any
    rubric: Rubric
    submitted: str
    draft: str
    empty: str
    second: str


@pytest.fixture
def built(db, people) -> Built:  # type: ignore[no-untyped-def]
    """A review: a submitted, moderated CP audit, a draft, an empty draft, a second audit."""
    rubric = health_check()
    review, (cp, early_help, cin) = make_review(db, people)
    reviewer, other, lead = people["reviewer"].id, people["other"].id, people["lead"].id
    submitted = score(
        db,
        rubric,
        cp,
        "cp",
        reviewer,
        full_answers(
            rubric,
            "cp",
            **{
                answer_field("overall_grade"): "requires_improvement",
                evidence_field("overall_grade"): "Plans drift; " + XSS,
                answer_field("strategy_discussion_held"): "na",
            },
        ),
    )
    moderation.moderate(
        db,
        submitted,
        review.id,
        changed={"overall_grade": ("requires_improvement", "outstanding", "First look")},
        note="",
        by=lead,
    )
    moderation.moderate(
        db,
        submitted,
        review.id,
        changed={"overall_grade": ("outstanding", "good", "Evidence supports good")},
        note="Second look",
        by=lead,
    )
    draft = score(
        db,
        rubric,
        early_help,
        "early_help",
        reviewer,
        {answer_field("child_safeguarded"): "yes", answer_field("safeguarding_grade"): "good"},
        submit=False,
    )
    empty = audits.start(db, cin, reviewer)
    second = score(
        db,
        rubric,
        cp,
        "cp",
        other,
        {answer_field("overall_grade"): "good"},
        purpose="second",
        submit=False,
    )
    return Built(review, rubric, submitted, draft, empty, second)


def table(db, built: Built) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    header, rows = exports.answers_table(built.rubric, export_data.answer_rows(db, built.review.id))
    return [dict(zip(header, row, strict=True)) for row in rows]


def cell(rows: list[dict[str, Any]], audit_id: str, question_id: str) -> dict[str, Any]:
    [row] = [r for r in rows if r["audit_id"] == audit_id and r["question_id"] == question_id]
    return row


# --------------------------------------------------------------------------- answers


def test_one_row_per_audit_and_question_asked(db, built) -> None:  # type: ignore[no-untyped-def]
    rows = table(db, built)
    asked = {
        ct: [q.id for _s, qs in applicable(built.rubric, ct) for q in qs]
        for ct in ("cp", "early_help", "cin")
    }
    by_audit: dict[str, list[str]] = {}
    for row in rows:
        by_audit.setdefault(row["audit_id"], []).append(row["question_id"])
    assert by_audit == {
        built.submitted: asked["cp"],
        built.second: asked["cp"],
        built.draft: asked["early_help"],
        built.empty: asked["cin"],
    }
    assert len(rows) == 2 * len(asked["cp"]) + len(asked["early_help"]) + len(asked["cin"])


def test_labels_not_codes(db, built) -> None:  # type: ignore[no-untyped-def]
    rows = table(db, built)
    safe = cell(rows, built.submitted, "child_safeguarded")
    assert safe["Answer"] == "Yes"
    assert safe["Case type"] == "Child protection"
    assert safe["Section"] == "Safeguarding"
    assert safe["Question"] == "Is the child adequately safeguarded?"
    assert safe["Case"] == "C01"
    assert safe["Host reference"] == "TST-0001"
    assert safe["Team"] == "Team A"
    assert safe["Reviewer"] == "Test Reviewer"
    assert safe["Audit purpose"] == "First audit"
    assert safe["Status"] == "Submitted"
    # A moment is a London wall-clock time (a spreadsheet has no time zones).
    assert isinstance(safe["Submitted at"], datetime) and safe["Submitted at"].tzinfo is None
    assert safe["Evidence"] == "Synthetic evidence note."
    # A yes/no check has no grade columns.
    assert safe["Original grade"] == safe["Moderated grade"] == safe["Effective grade"] == ""
    assert cell(rows, built.submitted, "strategy_discussion_held")["Answer"] == "Not applicable"
    assert cell(rows, built.submitted, "safeguarding_grade")["Effective grade"] == "Good"
    summary = cell(rows, built.submitted, "overall_summary")
    assert summary["Answer"] == "Synthetic summary: practice was sound."
    assert cell(rows, built.draft, "child_safeguarded")["Case type"] == "Early help"
    codes = {"cp", "requires_improvement", "yes", "no", "draft", "submitted", "first"}
    for row in rows:
        for column in exports.ANSWER_HEADER[:-2]:
            assert row[column] not in codes, (column, row[column])


def test_original_and_moderated_grades(db, built) -> None:  # type: ignore[no-untyped-def]
    rows = table(db, built)
    overall = cell(rows, built.submitted, "overall_grade")
    assert overall["Answer"] == "Requires improvement to be good"
    assert overall["Original grade"] == "Requires improvement to be good"
    # The latest change wins: outstanding, then good.
    assert overall["Moderated grade"] == "Good"
    assert overall["Effective grade"] == "Good"
    assert overall["Moderated by"] == "Test Lead"
    assert overall["Moderation reason"] == "Evidence supports good"
    assert isinstance(overall["Moderated at"], datetime)
    assert overall["Evidence"] == "Plans drift; " + XSS
    plan = cell(rows, built.submitted, "plan_grade")
    assert (plan["Original grade"], plan["Moderated grade"], plan["Effective grade"]) == (
        "Good",
        "",
        "Good",
    )
    assert plan["Moderated by"] == plan["Moderated at"] == plan["Moderation reason"] == ""


def test_drafts_and_second_audits_are_marked(db, built) -> None:  # type: ignore[no-untyped-def]
    rows = table(db, built)
    draft = [r for r in rows if r["audit_id"] == built.draft]
    assert {r["Status"] for r in draft} == {"Draft"}
    assert {r["Submitted at"] for r in draft} == {""}
    assert cell(rows, built.draft, "safeguarding_grade")["Answer"] == "Good"
    assert cell(rows, built.draft, "assessment_grade")["Answer"] == ""  # not answered yet
    empty = [r for r in rows if r["audit_id"] == built.empty]
    assert {r["Answer"] for r in empty} == {""}
    assert {r["Status"] for r in empty} == {"Draft"}
    second = cell(rows, built.second, "overall_grade")
    assert (second["Audit purpose"], second["Reviewer"], second["Answer"]) == (
        "Second audit",
        "Test Other",
        "Good",
    )
    # The first audit comes before the second audit of the same case.
    order = list(dict.fromkeys(r["audit_id"] for r in rows))
    assert order.index(built.submitted) < order.index(built.second)


def test_section_marked_not_applicable(db, people) -> None:  # type: ignore[no-untyped-def]
    rubric = health_check()
    review, (cp, *_rest) = make_review(db, people)
    audit_id = audits.start(db, cp, people["reviewer"].id)
    current = audits.get(db, audit_id)
    audits.save(
        db,
        audit_id,
        expected_version=current.version,
        answers={},
        sections_na={"plans"},
        feedback={},
        adverse_questions=[],
        critical_questions=[],
        by=people["reviewer"].id,
    )
    header, rows = exports.answers_table(rubric, export_data.answer_rows(db, review.id))
    plan = dict(zip(header, next(r for r in rows if r[-2] == "plan_grade"), strict=True))
    assert plan["Answer"] == exports.SECTION_NOT_APPLICABLE_LABEL


def test_answers_outside_the_rubric_are_kept() -> None:
    rubric = health_check()
    row = _row(case_type="gone", question_id="retired_question", value="maybe")
    header, rows = exports.answers_table(rubric, [row])
    [only] = rows
    got = dict(zip(header, only, strict=True))
    assert (got["Case type"], got["Question"], got["Answer"]) == (
        "gone",
        "retired_question",
        "maybe",
    )


def _row(**values: Any) -> dict[str, Any]:
    base = {
        "audit_id": "a1",
        "pseudonym": "C01",
        "reference": "R1",
        "case_type": "cp",
        "team": "",
        "purpose": "first",
        "status": "submitted",
        "reviewer": "R",
        "submitted_at": "2026-01-01T00:00:00Z",
        "sections_not_applicable": "[]",
        "question_id": "plan_grade",
        "value": None,
        "not_applicable": 0,
        "evidence": "",
        "moderated_value": None,
    }
    return base | values


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # The lead graded an answer the reviewer marked N/A: the lead's grade counts.
        (
            {"not_applicable": 1, "moderated_value": "good"},
            ("Not applicable", "Not applicable", "Good", "Good"),
        ),
        # The lead graded a question the reviewer left blank.
        ({"moderated_value": "inadequate"}, ("", "", "Inadequate", "Inadequate")),
        # Nothing in a section that does not apply is counted, moderated or not.
        (
            {
                "value": "good",
                "moderated_value": "inadequate",
                "sections_not_applicable": '["plans"]',
            },
            (exports.SECTION_NOT_APPLICABLE_LABEL,) * 2
            + ("Inadequate", exports.SECTION_NOT_APPLICABLE_LABEL),
        ),
    ],
)
def test_effective_grade_follows_the_findings(values: dict[str, Any], expected: tuple) -> None:  # type: ignore[type-arg]
    header, rows = exports.answers_table(health_check(), [_row(**values)])
    got = next(dict(zip(header, r, strict=True)) for r in rows if r[-2] == "plan_grade")
    columns = ("Answer", "Original grade", "Moderated grade", "Effective grade")
    assert tuple(got[c] for c in columns) == expected


# --------------------------------------------------------------------------- findings


def test_findings_export_columns(db, built, people) -> None:  # type: ignore[no-untyped-def]
    lead = people["lead"].id
    evidence = {"count": 3, "n": 4, "share": 0.75, "low": 0.30063, "high": 0.95442}
    finding_data.add_own(
        db,
        built.review.id,
        kind="strength",
        text="Children are seen alone.",
        question_ids=["child_seen_alone", "direct_work"],
        evidence=evidence,
        by=lead,
    )
    other = finding_data.add_own(
        db, built.review.id, kind="development", text="Staff turnover is high.", by=lead
    )
    finding_data.set_status(db, built.review.id, other, "rejected", by=lead)
    header, rows = exports.findings_table(export_data.finding_rows(db, built.review.id))
    assert header == exports.FINDING_HEADER
    got = [dict(zip(header, row, strict=True)) for row in rows]
    assert got[0] == {
        "Kind": "Strength",
        "Status": "Accepted",
        "Origin": "Audits",
        "Position": 1,
        "Finding": "Children are seen alone.",
        "Questions": "child_seen_alone, direct_work",
        "Good or better": 3,
        "Out of": 4,
        "Counted in": "answers",
        "Share good or better": 0.75,
        "95% interval low": 0.3006,
        "95% interval high": 0.9544,
        "finding_id": got[0]["finding_id"],
        "merged_into": "",
    }
    assert got[1]["Kind"] == "Area for development"
    assert (got[1]["Status"], got[1]["Origin"], got[1]["Questions"]) == (
        "Rejected",
        "Other evidence",
        "",
    )
    assert got[1]["Good or better"] is None and got[1]["Share good or better"] is None
    assert got[1]["finding_id"] == other


# --------------------------------------------------------------------------- files


def test_csv_bom_crlf_and_readable(db, built) -> None:  # type: ignore[no-untyped-def]
    header, rows = exports.answers_table(built.rubric, export_data.answer_rows(db, built.review.id))
    data = exports.to_csv(header, rows)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert back[0] == header
    assert len(back) == len(rows) + 1

    def text(value: Any) -> str:
        if isinstance(value, datetime):
            return value.strftime("%d/%m/%Y %H:%M")
        return "" if value is None else str(value)

    assert back[1:] == [[text(v) for v in row] for row in rows]
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", back[1][header.index("Submitted at")])
    assert XSS in data.decode("utf-8-sig")  # literal text, not escaped or altered


def test_xlsx_sheets_header_and_widths(db, built) -> None:  # type: ignore[no-untyped-def]
    answers = exports.answers_table(built.rubric, export_data.answer_rows(db, built.review.id))
    found = exports.findings_table(export_data.finding_rows(db, built.review.id))
    data = exports.to_xlsx([("Answers", *answers), ("Findings", *found)])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Answers", "Findings"]
    sheet = book["Answers"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == answers[0]
    assert all(c.font.b for c in sheet[1])
    assert sheet.max_row == len(answers[1]) + 1
    widths = [sheet.column_dimensions[c.column_letter].width for c in sheet[1]]
    assert all(8 <= w <= 60 for w in widths)
    evidence = sheet.cell(row=1, column=answers[0].index("Evidence") + 1).column_letter
    assert sheet.column_dimensions[evidence].width > sheet.column_dimensions["A"].width
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values == [[None if v == "" else v for v in row] for row in answers[1]]
    assert any(XSS in str(v) for row in values for v in row)
    assert [c.value for c in book["Findings"][1]] == exports.FINDING_HEADER
    assert book["Findings"].freeze_panes == "A2"


def test_xlsx_dates_as_uk_dates_and_numbers_as_numbers() -> None:
    import datetime as dt

    data = exports.to_xlsx(
        [
            (
                "S",
                ["when", "n", "text", "at"],
                [
                    [dt.date(2026, 3, 1), -5, "-5", dt.datetime(2026, 7, 1, 14, 30)],
                    [None, 0.5, "ok", ""],
                ],
            )
        ]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data))["S"]
    # Real dates Excel sorts and filters as dates, shown the UK way.
    assert (sheet["A2"].is_date, sheet["A2"].number_format) == (True, "dd/mm/yyyy")
    assert sheet["A2"].value.date() == dt.date(2026, 3, 1)
    assert (sheet["D2"].value, sheet["D2"].number_format) == (
        dt.datetime(2026, 7, 1, 14, 30),
        "dd/mm/yyyy hh:mm",
    )
    assert [(c.value, c.data_type) for c in sheet[2]][1:3] == [(-5, "n"), ("'-5", "s")]
    assert sheet["B3"].value == 0.5


def test_stored_moments_are_written_in_london_time() -> None:
    # 13:30 UTC on 1 July is 14:30 in London (summer time); 28 October is after the clocks
    # go back, so London is UTC again. A date stays a date; other text is kept as it was.
    cells = [
        exports.date_cell(v) for v in ("2026-07-01T13:30:00Z", "2026-10-28T09:05:00Z", "2026-10-27")
    ]
    assert cells == [datetime(2026, 7, 1, 14, 30), datetime(2026, 10, 28, 9, 5), date(2026, 10, 27)]
    assert exports.date_cell("") == exports.date_cell(None) == ""
    assert exports.date_cell("soon") == "soon"
    data = exports.to_csv(["at", "on"], [[cells[0], cells[2]]])
    back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert back[1] == ["01/07/2026 14:30", "27/10/2026"]


def test_xlsx_survives_control_characters_and_huge_text() -> None:
    data = exports.to_xlsx([("S", ["a", "b"], [["bell\x07here", "x" * 40_000]])])
    sheet = openpyxl.load_workbook(io.BytesIO(data))["S"]
    assert sheet["A2"].value == "bell\ufffdhere"
    assert len(sheet["B2"].value) == exports.EXCEL_CELL_LIMIT
    assert sheet["B2"].value.endswith("[truncated: the CSV export has the full text]")


def test_xlsx_refuses_bad_sheet_names() -> None:
    with pytest.raises(ValueError):
        exports.to_xlsx([("a/b", [], [])])
    with pytest.raises(ValueError):
        exports.to_xlsx([("Answers", [], []), ("answers", [], [])])


# --------------------------------------------------------------------------- formula safety


@pytest.fixture
def hostile(db, people) -> tuple[Any, Rubric]:  # type: ignore[no-untyped-def]
    """A review whose every free-text field holds a formula-injection or XSS string."""
    rubric = health_check()
    evil_lead = users.create(db, "evil", "correct-horse-battery", "lead", display_name="=1+1")
    review, _ = make_review(db, people, title='=HYPERLINK("x")')
    reviews.add_member(db, review.id, evil_lead.id, "lead")
    case_ids = reviews.add_case_files(
        db,
        review.id,
        [
            {
                "reference": text,
                "case_type": "cp",
                "team": text,
                "assigned_to": people["reviewer"].id,
            }
            for text in [*FORMULAS, XSS]
        ],
    )
    for n, case_id in enumerate(case_ids):
        text = [*FORMULAS, XSS][n]
        audit_id = score(
            db,
            rubric,
            case_id,
            "cp",
            people["reviewer"].id,
            full_answers(
                rubric,
                "cp",
                **{
                    answer_field("overall_grade"): "requires_improvement",
                    evidence_field("overall_grade"): text,
                    evidence_field("plan_grade"): text,
                    answer_field("overall_summary"): text,
                },
            ),
        )
        moderation.moderate(
            db,
            audit_id,
            review.id,
            changed={"overall_grade": ("requires_improvement", "good", text)},
            note=text,
            by=evil_lead.id,
        )
        finding_data.add_own(db, review.id, kind="strength", text=text, by=evil_lead.id)
    return review, rubric


def _hostile_tables(db, hostile) -> list[tuple[str, list[str], list[list[Any]]]]:  # type: ignore[no-untyped-def]
    review, rubric = hostile
    return [
        ("Answers", *exports.answers_table(rubric, export_data.answer_rows(db, review.id))),
        ("Findings", *exports.findings_table(export_data.finding_rows(db, review.id))),
    ]


def _check_cells(values: list[str]) -> None:
    """Every formula string appears only neutralised; the XSS string stays literal."""
    # XML turns a raw CR into LF when the file is read back; compare on the stored form.
    formulas = {f.replace("\r", "\n") for f in FORMULAS} | set(FORMULAS)
    seen = set()
    for value in values:
        assert not value.startswith(TRIGGERS), repr(value)
        assert value not in formulas, repr(value)
        if value.startswith("'") and value[1:] in formulas:
            seen.add(value[1:].replace("\n", "\r"))
    assert seen == {f.replace("\n", "\r") for f in FORMULAS}
    assert XSS in values


def test_formula_corpus_neutralised_in_xlsx(db, hostile) -> None:  # type: ignore[no-untyped-def]
    sheets = _hostile_tables(db, hostile)
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(sheets)))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (sheet.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    values.append(c.value)
    _check_cells(values)
    # Each hostile string turns up in every free-text column it was typed into.
    answers = book["Answers"]
    header = [c.value for c in answers[1]]
    for column in ("Host reference", "Team", "Evidence", "Moderation reason", "Moderated by"):
        index = header.index(column)
        got = {row[index] for row in answers.iter_rows(min_row=2, values_only=True)}
        assert "'=1+1" in got, column
    finding_texts = {r[4] for r in book["Findings"].iter_rows(min_row=2, values_only=True)}
    assert {'\'=HYPERLINK("http://evil.example","click")', "'@SUM(A1)", XSS} <= finding_texts


def test_formula_corpus_neutralised_in_csv(db, hostile) -> None:  # type: ignore[no-untyped-def]
    values = []
    for _name, header, rows in _hostile_tables(db, hostile):
        data = exports.to_csv(header, rows)
        for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
            values.extend(row)
    _check_cells(values)


@pytest.mark.parametrize("text", FORMULAS)
def test_neutralise_corpus(text: str) -> None:
    assert exports.neutralise(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-5, -5),
        (2.5, 2.5),
        (None, None),
        ("", ""),
        ("-5", "'-5"),
        ("Good", "Good"),
        (" =1+1", "' =1+1"),
        (XSS, XSS),
        ("'already", "'already"),
    ],
)
def test_neutralise_values(value: Any, expected: Any) -> None:
    assert exports.neutralise(value) == expected


@given(st.text())
def test_neutralise_never_leaves_a_formula_start(text: str) -> None:
    out = exports.neutralise(text)
    assert not out.startswith(TRIGGERS)
    assert out in (text, "'" + text)


@given(st.one_of(st.integers(), st.floats(allow_nan=False)))
def test_neutralise_keeps_numbers(number: float) -> None:
    assert exports.neutralise(number) == number
