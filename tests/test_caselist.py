"""Case lists: reading CSV and Excel exports, rejecting bad files whole, and sampling."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import zipfile
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from audit import caselist, limits
from audit.caselist import (
    DATE_COLUMNS,
    CaseList,
    CaseListInvalid,
    CaseRow,
    ImportProblem,
    check_duplicates,
    draw_sample,
    parse_date,
    read_case_list,
)
from audit.rubric import Rubric, load_rubric_file

RUBRIC_FILE = (
    Path(__file__).resolve().parents[1] / "rubrics" / "peer-safeguarding-health-check.yaml"
)
LABELS = (
    "Early help, Referral and assessment, Child in need, Child protection, Child looked after,"
    " Care leaver"
)
HEADER = "reference,case_type,team,referral_date"


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    """The built-in peer safeguarding rubric, whose case types the files refer to."""
    return load_rubric_file(RUBRIC_FILE)


def read(rubric: Rubric, text: str, name: str = "cases.csv", encoding: str = "utf-8") -> CaseList:
    """Read CSV text encoded as a case-management system would have written it."""
    return read_case_list(text.encode(encoding), name, rubric)


def problems(rubric: Rubric, data: bytes | str, name: str = "cases.csv") -> list[str]:
    """Return the problems reported for a file that must be rejected."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with pytest.raises(CaseListInvalid) as caught:
        read_case_list(raw, name, rubric)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return [str(problem) for problem in caught.value.problems]


def workbook_bytes(
    rows: list[list[object]], first_sheet: list[list[object]] | None = None
) -> bytes:
    """Build an .xlsx in memory, as Excel would save it."""
    book = Workbook()
    sheet = book.active
    for row in first_sheet if first_sheet is not None else rows:
        sheet.append(row)
    if first_sheet is not None:
        other = book.create_sheet("Other")
        for row in rows:
            other.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def population(counts: dict[str, int]) -> CaseList:
    """Make a case list with the given number of cases of each type, references shuffled."""
    rows = []
    number = 2
    for case_type, count in counts.items():
        for i in range(count):
            rows.append(CaseRow(number, f"EXB-{case_type}-{i:03d}", case_type, team=f"T{i % 3}"))
            number += 1
    random.Random(1).shuffle(rows)
    return CaseList(tuple(rows), ("reference", "case_type", "team"), "cases.csv")


# --------------------------------------------------------------------------- encodings and layout


def test_utf8_with_bom(rubric: Rubric) -> None:
    cases = read(rubric, "\ufeff" + HEADER + "\nEXB-100234,CP,Ynys Môn,2012-10-03\n")
    assert cases.columns == ("reference", "case_type", "team", "referral_date")
    (row,) = cases.rows
    assert row == CaseRow(
        2, "EXB-100234", "cp", "Ynys Môn", "", "", {"referral_date": "2012-10-03"}
    )
    assert dict(row.dates) == {"referral_date": "2012-10-03"}


def test_utf8_without_bom(rubric: Rubric) -> None:
    cases = read(rubric, HEADER + "\nEXB-100234,cin,Équipe Nord \u2013 Ó,\n")
    assert cases.rows[0].team == "Équipe Nord \u2013 Ó"
    assert cases.rows[0].case_type == "cin"
    assert dict(cases.rows[0].dates) == {}


def test_windows_1252_from_excel(rubric: Rubric) -> None:
    data = (
        HEADER + "\nEXB-100234,CLA,Children\u2019s team \u2013 Ó,\nEXB-100235,CLA,Café,\n"
    ).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    cases = read_case_list(data, "cases.csv", rubric)
    assert [row.team for row in cases.rows] == ["Children\u2019s team \u2013 Ó", "Café"]


def test_crlf_line_ends_and_quoted_values(rubric: Rubric) -> None:
    text = HEADER + '\r\nEXB-1,cp,"North, East",03/10/2012\r\nEXB-2,cin,"Line\r\nbreak",\r\n'
    cases = read(rubric, text)
    assert [(row.row, row.reference, row.team) for row in cases.rows] == [
        (2, "EXB-1", "North, East"),
        (3, "EXB-2", "Line break"),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "Reference,Case Type",
        " REFERENCE , case-type ",
        "reference,CASE_TYPE",
        "Reference,Case  Type",
        "\tReference\t,Case - Type",
    ],
)
def test_header_case_and_spacing_variants(rubric: Rubric, header: str) -> None:
    cases = read(rubric, f"{header}\nEXB-1,Child protection\n")
    assert cases.columns == ("reference", "case_type")
    assert cases.rows[0].case_type == "cp"


def test_semicolon_delimiter(rubric: Rubric) -> None:
    cases = read(rubric, "Reference;Case type;Team\nEXB-1;cp;North, East\n")
    assert cases.rows[0].team == "North, East"


def test_blank_rows_ignored_and_rows_numbered_as_in_the_spreadsheet(rubric: Rubric) -> None:
    cases = read(rubric, HEADER + "\n,,,\nEXB-1,cp,,\n\n  , ,,\nEXB-2,cin,,\n,,,\n")
    assert [row.row for row in cases.rows] == [3, 6]


def test_whitespace_stripped_everywhere(rubric: Rubric) -> None:
    cases = read(
        rubric,
        "reference,case_type,team,worker_role,age_band\n"
        "  EXB-1 , cp ,  North   East , SW ,  0-4 \n",
    )
    row = cases.rows[0]
    assert (row.reference, row.case_type, row.team, row.worker_role, row.age_band) == (
        "EXB-1",
        "cp",
        "North East",
        "SW",
        "0-4",
    )


@pytest.mark.parametrize("value", ["cp", "CP", "Child Protection", "child  protection", "CPP"])
def test_case_type_matched_by_id_label_or_alias(rubric: Rubric, value: str) -> None:
    assert read(rubric, f"reference,case_type\nEXB-1,{value}\n").rows[0].case_type == "cp"


def test_formula_looking_values_are_refused(rubric: Rubric) -> None:
    text = 'reference,case_type,team\n=1+1,cp,"=HYPERLINK(""http://x"",""y"")"\n@SUM(A1),cin,+1\n'
    found = problems(rubric, text)
    assert len(found) == 4
    assert found[0].startswith('Row 2, column reference: "=1+1" starts with =, so a spreadsheet')
    assert found[1].startswith('Row 2, column team: "=HYPERLINK(')
    assert [p.split(":")[0] for p in found[2:]] == ["Row 3, column reference", "Row 3, column team"]
    # A leading minus sign before a number, or a lone dash, is not a formula.
    assert read(rubric, "reference,case_type,team,age_band\n-12,cp,-,- \n").rows[0].team == "-"


def test_extra_columns_ignored_and_local_dates_accepted(rubric: Rubric) -> None:
    text = (
        "reference,case_type,Notes,Notes,Local Review Date,date,gender\n"
        "EXB-1,cp,anything,at all,03/10/2012,not a date,x\n"
    )
    cases = read(rubric, text)
    assert dict(cases.rows[0].dates) == {"local_review_date": "2012-10-03"}
    assert cases.columns == (
        "reference",
        "case_type",
        "notes",
        "local_review_date",
        "date",
        "gender",
    )


def test_every_known_date_column_is_read(rubric: Rubric) -> None:
    header = "reference,case_type," + ",".join(DATE_COLUMNS)
    values = ",".join(f"{day}/10/2012" for day in range(1, len(DATE_COLUMNS) + 1))
    cases = read(rubric, f"{header}\nEXB-1,cp,{values}\n")
    assert dict(cases.rows[0].dates) == {
        column: f"2012-10-{day:02d}" for day, column in enumerate(DATE_COLUMNS, start=1)
    }


def test_example_in_the_documentation_imports(rubric: Rubric) -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "case-import.md").read_text("utf-8")
    example = page.split("```csv\n", 1)[1].split("```", 1)[0]
    cases = read(rubric, example)
    assert [(row.reference, row.case_type) for row in cases.rows] == [
        ("EXB-100234", "cp"),
        ("EXB-100871", "cin"),
        ("EXB-101502", "cla"),
        ("EXB-102118", "early_help"),
    ]
    assert dict(cases.rows[0].dates) == {
        "referral_date": "2012-10-03",
        "assessment_completed_date": "2012-10-12",
    }


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2012-10-03", date(2012, 10, 3)),
        ("03/10/2012", date(2012, 10, 3)),
        ("3/10/2012", date(2012, 10, 3)),
        ("03-10-2012", date(2012, 10, 3)),
        ("03.10.2012", date(2012, 10, 3)),
        ("03/10/2012 00:00", date(2012, 10, 3)),
        ("3/1/2013 14:30:59", date(2013, 1, 3)),
        ("2012-10-03T09:15:00", date(2012, 10, 3)),
        ("29/02/2012", date(2012, 2, 29)),
        (" 2012-10-03 ", date(2012, 10, 3)),
    ],
)
def test_dates_accepted(value: str, expected: date) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "31/02/2012",
        "29/02/2013",
        "2012/13/45",
        "2012/10/03",
        "03/10/12",
        "10-03/2012",
        "03/10/2012 25:00",
        "tomorrow",
        "41185",
        "",
    ],
)
def test_dates_rejected(value: str) -> None:
    assert parse_date(value) is None


def test_iso_and_day_first_dates_in_a_file(rubric: Rubric) -> None:
    text = (
        "reference,case_type,referral_date\n"
        "EXB-1,cp,2012-10-03\nEXB-2,cp,03/10/2012\nEXB-3,cp,3/10/2012\n"
    )
    cases = read(rubric, text)
    assert [row.dates["referral_date"] for row in cases.rows] == ["2012-10-03"] * 3


# --------------------------------------------------------------------------- xlsx


def test_xlsx_real_dates_and_numeric_references(rubric: Rubric) -> None:
    data = workbook_bytes(
        [
            ["Reference", "Case type", "Team", "Referral date", "Assessment completed date"],
            [123456, "CP", "North", datetime(2012, 10, 3), date(2012, 10, 10)],
            [],
            [123457.0, "cin", None, "03/10/2012", None],
            ["EXB-1", "LAC", 7, datetime(2012, 10, 3, 14, 30), "2012-10-04"],
        ]
    )
    cases = read_case_list(data, "Cases.XLSX", rubric)
    assert cases.source == "Cases.XLSX"
    assert [(row.row, row.reference, row.case_type, row.team) for row in cases.rows] == [
        (2, "123456", "cp", "North"),
        (4, "123457", "cin", ""),
        (5, "EXB-1", "cla", "7"),
    ]
    assert [dict(row.dates) for row in cases.rows] == [
        {"referral_date": "2012-10-03", "assessment_completed_date": "2012-10-10"},
        {"referral_date": "2012-10-03"},
        {"referral_date": "2012-10-03", "assessment_completed_date": "2012-10-04"},
    ]


def test_xlsx_reads_the_first_worksheet_only(rubric: Rubric) -> None:
    data = workbook_bytes(
        [["nothing", "here"]], first_sheet=[["reference", "case_type"], ["EXB-1", "cp"]]
    )
    assert [row.reference for row in read_case_list(data, "cases.xlsx", rubric).rows] == ["EXB-1"]


def test_xlsx_with_a_wrong_declared_size_is_read_to_the_end(rubric: Rubric) -> None:
    data = workbook_bytes([["reference", "case_type"], ["EXB-1", "cp"], ["EXB-2", "cin"]])
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # openpyxl writes the tag with or without a space, depending on lxml.
                declared = rb'<dimension ref="A1:B3"\s?/>'
                assert re.search(declared, content)
                content = re.sub(declared, b'<dimension ref="A1" />', content)
            target.writestr(item, content)
    cases = read_case_list(buffer.getvalue(), "cases.xlsx", rubric)
    assert [row.reference for row in cases.rows] == ["EXB-1", "EXB-2"]


def test_xlsx_problems_are_located(rubric: Rubric) -> None:
    data = workbook_bytes(
        [["reference", "case_type", "referral_date"], ["EXB-1", "Child prot", 41185], [None, "cp"]]
    )
    assert problems(rubric, data, "cases.xlsx") == [
        f'Row 2, column case_type: "Child prot" is not a case type in this rubric; expected one'
        f" of: {LABELS}",
        'Row 2, column referral_date: "41185" is not a date; use 2012-10-03 or 03/10/2012',
        "Row 3, column reference: the case reference is empty; every case needs one",
    ]


def test_xlsx_empty_first_sheet(rubric: Rubric) -> None:
    assert problems(rubric, workbook_bytes([]), "cases.xlsx") == [
        "File: the first worksheet of cases.xlsx is empty; it needs a heading row and cases"
    ]


# --------------------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"reference,case_type\n", "cases.txt", "File: cases.txt must be a .csv or .xlsx file"),
        (b"reference,case_type\n", "cases", "File: cases must be a .csv or .xlsx file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "cases.xls", "File: cases.xls must be a .csv"),
        (b"", "cases.csv", "File: cases.csv is empty; it needs a heading row"),
        (b"\r\n \r\n,,\r\n", "cases.csv", "File: cases.csv is empty; it needs a heading row"),
        (b"PK\x03\x04rest", "cases.csv", "File: cases.csv looks like an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "cases.csv", "File: cases.csv looks like an old"),
        ("reference".encode("utf-16"), "cases.csv", "File: cases.csv is saved as UTF-16"),
        (b"ref\x00erence", "cases.csv", "File: cases.csv is not a text file"),
        (b"reference\x81", "cases.csv", "File: cases.csv is neither UTF-8 nor Windows-1252"),
        (b"reference,case_type\n", "cases.csv", "File: cases.csv has a heading row but no cases"),
        (b"not a zip", "cases.xlsx", "File: cases.xlsx is not an Excel .xlsx workbook"),
        (b"PK\x03\x04broken", "cases.xlsx", "File: cases.xlsx cannot be read as an Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "cases.xlsx", "File: cases.xlsx is an old Excel"),
    ],
)
def test_file_level_rejections(rubric: Rubric, data: bytes, name: str, expected: str) -> None:
    (found,) = problems(rubric, data, name)
    assert found.startswith(expected)


def test_missing_required_columns_are_named(rubric: Rubric) -> None:
    assert problems(rubric, "Ref,Casetype,Team\nEXB-1,cp,North\n") == [
        'Column reference: this required column is missing; the heading row (row 1) has: "Ref",'
        ' "Casetype", "Team"',
        'Column case_type: this required column is missing; the heading row (row 1) has: "Ref",'
        ' "Casetype", "Team". If "casetype" is the case_type column, rename it case_type',
    ]


def test_duplicate_header(rubric: Rubric) -> None:
    assert problems(rubric, "reference,Case Type,case_type\nEXB-1,cp,cin\n") == [
        "Column case_type: appears more than once in the heading row (columns B and C);"
        " keep only one"
    ]


def test_empty_reference(rubric: Rubric) -> None:
    assert problems(rubric, "reference,case_type\nEXB-1,cp\n  ,cp\n") == [
        "Row 3, column reference: the case reference is empty; every case needs one"
    ]


def test_reference_too_long_or_with_a_line_break(rubric: Rubric) -> None:
    long = "X" * 65
    assert problems(rubric, f'reference,case_type\n{"X" * 64},cp\n{long},cp\n"A\nB",cp\n') == [
        f'Row 3, column reference: "{"X" * 39}…" is 65 characters long; a reference may have at'
        " most 64",
        'Row 4, column reference: "A B" contains a line break or control character',
    ]


def test_free_text_too_long(rubric: Rubric) -> None:
    text = f"reference,case_type,team,worker_role\nEXB-1,cp,{'t' * 200},{'w' * 201}\n"
    assert problems(rubric, text) == [
        f'Row 2, column worker_role: "{"w" * 39}…" is 201 characters long; at most 200 are allowed'
    ]


def test_unknown_case_type_lists_the_rubrics_case_types(rubric: Rubric) -> None:
    assert problems(rubric, "reference,case_type\nEXB-1,Child prot\nEXB-2,\n") == [
        f'Row 2, column case_type: "Child prot" is not a case type in this rubric; expected one'
        f" of: {LABELS}",
        f"Row 3, column case_type: the case type is empty; expected one of: {LABELS}",
    ]


def test_bad_date(rubric: Rubric) -> None:
    assert problems(rubric, "reference,case_type,referral_date\nEXB-1,cp,2012/13/45\n") == [
        'Row 2, column referral_date: "2012/13/45" is not a date; use 2012-10-03 or 03/10/2012'
    ]


def test_impossible_date(rubric: Rubric) -> None:
    assert problems(rubric, "reference,case_type,last_visit_date\nEXB-1,cp,31/02/2012\n") == [
        'Row 2, column last_visit_date: "31/02/2012" is not a date; use 2012-10-03 or 03/10/2012'
    ]


def test_duplicate_reference_within_the_file(rubric: Rubric) -> None:
    text = "reference,case_type\nEXB-1,cp\nEXB-2,cp\n exb-1 ,cin\n"
    assert problems(rubric, text) == [
        'Row 4, column reference: "exb-1" is already on row 2; each case may be listed once'
    ]


def test_unquoted_comma_shifting_values_is_caught(rubric: Rubric) -> None:
    assert problems(rubric, "reference,case_type,team\nEXB-1,cp,North, East\nEXB-2,cp,,,\n") == [
        "Row 2: has 4 values but the heading row has 3 columns; a value containing a comma or"
        " semicolon must be in quotes"
    ]


def test_too_many_rows(rubric: Rubric, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "CASE_LIST_ROWS", 3)
    assert (
        len(read(rubric, "reference,case_type\n" + "".join(f"E{i},cp\n" for i in range(3))).rows)
        == 3
    )
    text = "reference,case_type\n" + "".join(f"E{i},cp\n" for i in range(4)) + ",bad\n"
    assert problems(rubric, text) == [
        "File: cases.csv has more than 3 cases (limit CASE_LIST_ROWS); split it into smaller"
        " files, or draw the sample from a shorter list"
    ]


def test_too_many_empty_rows(rubric: Rubric, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "CASE_LIST_BLANK_ROWS", 2)
    assert len(read(rubric, "reference,case_type\n\nEXB-1,cp\n,\n").rows) == 1
    assert problems(rubric, "reference,case_type\nEXB-1,cp\n\n,\n\nEXB-2,cp\n") == [
        "File: cases.csv has more than 2 empty rows (limit CASE_LIST_BLANK_ROWS); delete the"
        " empty rows and save it again"
    ]


def test_workbook_that_unpacks_too_large(rubric: Rubric, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "XLSX_UNPACKED_BYTES", 1000)
    data = workbook_bytes([["reference", "case_type"], ["EXB-1", "cp"]])
    (found,) = problems(rubric, data, "cases.xlsx")
    assert found.startswith("File: cases.xlsx was not read: ")
    assert "the limit for a case list is 1,000 bytes" in found and "XLSX_UNPACKED_BYTES" in found


def test_every_problem_is_listed_at_once(rubric: Rubric) -> None:
    text = (
        "reference,case_type,referral_date\n"
        "EXB-1,cp,2012-10-03\n"
        ",cp,\n"
        "EXB-3,Child prot,\n"
        "EXB-4,cin,45/45/2012\n"
        "EXB-5,cla,\n"
    )
    found = problems(rubric, text)
    assert len(found) == 3
    assert [p.split(":")[0] for p in found] == [
        "Row 3, column reference",
        "Row 4, column case_type",
        "Row 5, column referral_date",
    ]


def test_problem_list_is_capped(rubric: Rubric) -> None:
    text = "reference,case_type\n" + "".join(f"E{i},nope\n" for i in range(250))
    found = problems(rubric, text)
    assert len(found) == 201
    assert found[0].startswith('Row 2, column case_type: "nope"')
    assert found[-1] == "...and 50 more problems"


def test_problem_wording() -> None:
    assert str(ImportProblem(7, "case_type", "bad")) == "Row 7, column case_type: bad"
    assert str(ImportProblem(7, None, "bad")) == "Row 7: bad"
    assert str(ImportProblem(None, "team", "bad")) == "Column team: bad"
    assert str(ImportProblem(None, None, "bad")) == "File: bad"
    error = CaseListInvalid([ImportProblem(1, "a", "x"), ImportProblem(None, None, "y")])
    assert str(error) == "Row 1, column a: x\nFile: y"


# --------------------------------------------------------------------------- already in the review


def test_existing_references_rejected_by_default(rubric: Rubric) -> None:
    cases = read(rubric, "reference,case_type\nEXB-1,cp\nEXB-2,cp\nEXB-3,cin\n")
    with pytest.raises(CaseListInvalid) as caught:
        check_duplicates(cases, {" exb-1", "EXB-3 ", "EXB-9"}, skip_existing=False)
    assert [str(p) for p in caught.value.problems] == [
        'Row 2, column reference: "EXB-1" is already in this review; remove the row or choose to'
        " skip cases that are already there",
        'Row 4, column reference: "EXB-3" is already in this review; remove the row or choose to'
        " skip cases that are already there",
    ]


def test_existing_references_skipped_and_reported(rubric: Rubric) -> None:
    cases = read(rubric, "reference,case_type\nEXB-1,cp\nEXB-2,cp\nEXB-3,cin\n")
    kept, skipped = check_duplicates(cases, ["exb-1", "EXB-3"], skip_existing=True)
    assert [row.reference for row in kept.rows] == ["EXB-2"]
    assert [(row.row, row.reference) for row in skipped] == [(2, "EXB-1"), (4, "EXB-3")]
    assert (kept.columns, kept.source) == (cases.columns, cases.source)


def test_no_existing_references(rubric: Rubric) -> None:
    cases = read(rubric, "reference,case_type\nEXB-1,cp\n")
    assert check_duplicates(cases, (), skip_existing=False) == (cases, ())


# --------------------------------------------------------------------------- sampling


def refs(rows: tuple[CaseRow, ...]) -> list[str]:
    return [row.reference for row in rows]


def test_sample_reproducible_from_its_seed() -> None:
    cases = population({"cp": 30, "cin": 30})
    first = draw_sample(cases, 10, seed=42)
    assert first == draw_sample(cases, 10, seed=42)
    assert len(first.rows) == 10
    assert refs(first.rows) == sorted(refs(first.rows), key=lambda r: (r.casefold(), r))
    assert refs(draw_sample(cases, 10, seed=43).rows) != refs(first.rows)


def test_sample_ignores_the_order_of_rows() -> None:
    cases = population({"cp": 40, "cin": 25, "cla": 5})
    shuffled = list(cases.rows)
    random.Random(99).shuffle(shuffled)
    other = CaseList(tuple(reversed(shuffled)), cases.columns, cases.source)
    for by in (None, "case_type", "team"):
        assert draw_sample(cases, 12, by, seed=7).rows == draw_sample(other, 12, by, seed=7).rows


def test_same_file_and_seed_give_the_same_sample(rubric: Rubric) -> None:
    lines = [f"EXB-{100000 + i},{('cp', 'cin', 'cla')[i % 3]},T{i % 4}" for i in range(90)]
    text = "reference,case_type,team\n" + "\n".join(lines) + "\n"
    random.Random(3).shuffle(lines)
    reordered = "reference,case_type,team\n" + "\n".join(lines) + "\n"
    for by in (None, "case_type", "team"):
        one = draw_sample(read(rubric, text), 15, by, seed=2024)
        two = draw_sample(read(rubric, reordered), 15, by, seed=2024)
        assert refs(one.rows) == refs(two.rows)
        assert one.record() == two.record()


def test_seed_generated_and_recorded() -> None:
    cases = population({"cp": 50})
    sample = draw_sample(cases, 5)
    assert 0 <= sample.seed < 2**31
    assert draw_sample(cases, 5, seed=sample.seed).rows == sample.rows


def test_proportional_stratification_is_exact() -> None:
    sample = draw_sample(population({"cp": 60, "cin": 30, "cla": 10}), 20, "case_type", seed=1)
    assert Counter(row.case_type for row in sample.rows) == {"cp": 12, "cin": 6, "cla": 2}
    assert {name: dict(counts) for name, counts in sample.strata.items()} == {
        "cin": {"population": 30, "sample": 6},
        "cla": {"population": 10, "sample": 2},
        "cp": {"population": 60, "sample": 12},
    }


def test_largest_remainder_allocation() -> None:
    # Exact shares 5.6, 3.2 and 1.2: floors 5, 3, 1 leave one case for the largest remainder.
    sample = draw_sample(population({"cp": 28, "cin": 16, "cla": 6}), 10, "case_type", seed=5)
    assert Counter(row.case_type for row in sample.rows) == {"cp": 6, "cin": 3, "cla": 1}


def test_largest_remainder_ties_go_to_the_first_stratum_by_name() -> None:
    # Exact shares 3.5, 3.5 and 3.0: cin and cla tie, cin comes first.
    sample = draw_sample(population({"cla": 7, "cin": 7, "cp": 6}), 10, "case_type", seed=5)
    assert Counter(row.case_type for row in sample.rows) == {"cin": 4, "cla": 3, "cp": 3}


def test_stratify_by_team_includes_cases_without_a_team() -> None:
    rows = tuple(
        CaseRow(i + 2, f"E{i:02d}", "cp", team="" if i < 4 else "North") for i in range(12)
    )
    sample = draw_sample(CaseList(rows, ("reference", "case_type", "team"), "x.csv"), 6, "team", 3)
    assert {name: counts["sample"] for name, counts in sample.strata.items()} == {"": 2, "North": 4}


def test_whole_population_and_single_case() -> None:
    cases = population({"cp": 4, "cin": 3})
    assert refs(draw_sample(cases, 7, "case_type", seed=1).rows) == sorted(
        refs(cases.rows), key=lambda r: (r.casefold(), r)
    )
    assert len(draw_sample(cases, 1, seed=1).rows) == 1


@pytest.mark.parametrize("size", [0, -1, 8])
def test_size_outside_the_population_raises(size: int) -> None:
    with pytest.raises(ValueError, match=r"between 1 and 7 \(the number of cases in the list\)"):
        draw_sample(population({"cp": 4, "cin": 3}), size, seed=1)


def test_bad_sampling_arguments_raise() -> None:
    cases = population({"cp": 4})
    with pytest.raises(ValueError, match="cannot stratify by"):
        draw_sample(cases, 2, "worker_role", seed=1)
    with pytest.raises(ValueError, match="whole number"):
        draw_sample(cases, 2.5, seed=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no cases to sample"):
        draw_sample(CaseList((), (), "x.csv"), 1, seed=1)


def test_sample_record_is_json() -> None:
    sample = draw_sample(population({"cp": 6, "cin": 4}), 5, "case_type", seed=11)
    record = json.loads(json.dumps(sample.record()))
    assert record == {
        "seed": 11,
        "size": 5,
        "population": 10,
        "stratify_by": "case_type",
        "strata": {"cin": {"population": 4, "sample": 2}, "cp": {"population": 6, "sample": 3}},
        "method": record["method"],
        "source": "cases.csv",
    }
    assert "drawn_at" not in record
    assert draw_sample(population({"cp": 6}), 2, seed=1).record()["strata"] == {}


@settings(max_examples=200, database=None, deadline=None)
@given(
    counts=st.dictionaries(
        st.sampled_from(["cp", "cin", "cla", "early_help", "care_leaver"]),
        st.integers(1, 40),
        min_size=1,
    ),
    data=st.data(),
)
def test_allocation_is_proportional_and_complete(
    counts: dict[str, int], data: st.DataObject
) -> None:
    total = sum(counts.values())
    size = data.draw(st.integers(1, total))
    sample = draw_sample(population(counts), size, "case_type", seed=data.draw(st.integers(0, 99)))
    got = Counter(row.case_type for row in sample.rows)
    assert sum(got.values()) == size
    for name, n in counts.items():
        exact = size * n / total
        assert int(exact) <= got[name] <= min(n, int(exact) + 1)
        assert sample.strata[name] == {"population": n, "sample": got[name]}


# --------------------------------------------------------------------------- robustness


@settings(max_examples=300, database=None, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_as_csv_parse_or_are_rejected(data: bytes) -> None:
    rubric = load_rubric_file(RUBRIC_FILE)
    try:
        read_case_list(data, "cases.csv", rubric)
    except CaseListInvalid as error:
        assert error.problems


_CELL = st.one_of(
    st.sampled_from(["cp", "CIN", "Looked after", "03/10/2012", "2012-02-30", "", " ", '"', "="]),
    st.text(max_size=12),
)


@settings(
    max_examples=200, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    header=st.lists(
        st.sampled_from([*caselist.KNOWN_COLUMNS, "Case Type", "x_date", "notes", ""]), max_size=6
    ),
    rows=st.lists(st.lists(_CELL, max_size=7), max_size=8),
    delimiter=st.sampled_from([",", ";"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_arbitrary_csv_text_parses_or_is_rejected(
    header: list[str], rows: list[list[str]], delimiter: str, encoding: str
) -> None:
    rubric = load_rubric_file(RUBRIC_FILE)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding, errors="replace")
    try:
        cases = read_case_list(data, "cases.csv", rubric)
    except CaseListInvalid as error:
        assert error.problems
    else:
        assert {"reference", "case_type"} <= set(cases.columns)
        assert all(row.reference and row.case_type for row in cases.rows)


@settings(max_examples=50, database=None, deadline=None)
@given(st.binary(max_size=500))
def test_arbitrary_bytes_as_xlsx_are_rejected(data: bytes) -> None:
    rubric = load_rubric_file(RUBRIC_FILE)
    with pytest.raises(CaseListInvalid):
        read_case_list(b"PK\x03\x04" + data, "cases.xlsx", rubric)
