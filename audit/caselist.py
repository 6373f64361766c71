"""Read, check and sample case lists: the CSV or Excel files that case-management systems export.

A case list names the cases a review may audit: one row per case with its reference in the
host's system, its case type (matched against the review's rubric), a few optional facts and
the dates the timeliness measures need. A file is accepted whole or not at all: every problem
is collected, located by row and column, and reported together so a lead can fix the file in
one pass. Cell values are only ever read as text or dates; nothing in a file is evaluated.

Sampling is reproducible: rows are put in reference order before drawing and the random
generator is seeded, so the same file and seed always give the same sample.
"""

from __future__ import annotations

import csv
import difflib
import io
import random
import re
import secrets
import unicodedata
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial
from types import MappingProxyType
from typing import Any, TypeVar

from audit import limits
from audit.rubric import Rubric

__all__ = [
    "DATE_COLUMNS",
    "KNOWN_COLUMNS",
    "MAX_PROBLEMS",
    "MAX_REFERENCE_LENGTH",
    "MAX_TEXT_LENGTH",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "STRATIFY_BY",
    "CaseList",
    "CaseListInvalid",
    "CaseRow",
    "ImportProblem",
    "Sample",
    "check_duplicates",
    "draw_sample",
    "normalise_header",
    "parse_date",
    "read_case_list",
    "reference_key",
]

REQUIRED_COLUMNS = ("reference", "case_type")
OPTIONAL_COLUMNS = ("team", "worker_role", "age_band")
DATE_COLUMNS: tuple[str, ...] = (
    "referral_date",
    "assessment_start_date",
    "assessment_completed_date",
    "strategy_discussion_date",
    "initial_conference_date",
    "plan_start_date",
    "last_supervision_date",
    "previous_supervision_date",
    "last_visit_date",
    "previous_visit_date",
)
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS + DATE_COLUMNS
STRATIFY_BY = ("case_type", "team")

# Guard rails on the content. Module attributes, read at call time, so tests can lower them.
# The limits on size and work (rows, columns, cells, bytes) live in audit.limits.
MAX_PROBLEMS = 200
MAX_REFERENCE_LENGTH = 64
MAX_TEXT_LENGTH = 200
# What a spreadsheet would run as a formula if the text were typed into a cell.
_FORMULA_START = re.compile(r"[=+@]|-[^0-9\s.,]")

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary .xls (and other Office files)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_LOCAL_DATE_COLUMN = re.compile(r"[a-z][a-z0-9_]*_date")
_HEADER_SEPARATORS = re.compile(r"[\s\-]+")
_TIME_PART = r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?)?"
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME_PART, re.ASCII)
_UK_DATE = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})" + _TIME_PART, re.ASCII)
_DATE_HINT = "use 2012-10-03 or 03/10/2012"
_TEXT_COLUMNS = ("team", "worker_role", "age_band")
_T = TypeVar("_T")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with a case list, located by spreadsheet row and column where known."""

    row: int | None
    column: str | None
    message: str
    summary: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        if self.summary:
            return self.message
        if self.row is not None and self.column is not None:
            return f"Row {self.row}, column {self.column}: {self.message}"
        if self.row is not None:
            return f"Row {self.row}: {self.message}"
        if self.column is not None:
            return f"Column {self.column}: {self.message}"
        return f"File: {self.message}"


class CaseListInvalid(Exception):
    """Raised when a case list cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[ImportProblem], source: str = "") -> None:
        problems = tuple(problems)
        limit = MAX_PROBLEMS
        if len(problems) > limit:
            more = len(problems) - limit
            noun = "problem" if more == 1 else "problems"
            problems = (
                *problems[:limit],
                ImportProblem(None, None, f"...and {more} more {noun}", summary=True),
            )
        super().__init__(problems)
        self.problems: tuple[ImportProblem, ...] = problems
        self.source = source

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


@dataclass(frozen=True)
class CaseRow:
    """One case from a case list, its case type resolved to the rubric's id and dates in ISO."""

    row: int
    reference: str
    case_type: str
    team: str = ""
    worker_role: str = ""
    age_band: str = ""
    dates: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)


@dataclass(frozen=True)
class CaseList:
    """A whole, valid case list: its rows in file order, its columns and the file it came from."""

    rows: tuple[CaseRow, ...]
    columns: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Sample:
    """A drawn sample, with everything needed to explain it and draw it again."""

    rows: tuple[CaseRow, ...]
    seed: int
    size: int
    population: int
    stratify_by: str | None
    strata: Mapping[str, Mapping[str, int]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    source: str = ""

    def record(self) -> dict[str, Any]:
        """Return a JSON-able summary for the review's settings so the draw can be repeated."""
        return {
            "seed": self.seed,
            "size": self.size,
            "population": self.population,
            "stratify_by": self.stratify_by,
            "strata": {
                name: {"population": counts["population"], "sample": counts["sample"]}
                for name, counts in self.strata.items()
            },
            "method": _METHOD_STRATIFIED if self.stratify_by else _METHOD_SIMPLE,
            "source": self.source,
        }


_METHOD_SIMPLE = "simple random sample of rows sorted by reference (Python random.Random)"
_METHOD_STRATIFIED = (
    "proportional stratified sample, largest-remainder allocation, rows sorted by reference"
    " (Python random.Random)"
)


# --------------------------------------------------------------------------- small helpers


def normalise_header(value: str) -> str:
    """Turn a heading such as " Case-Type " into case_type so exports from any system match."""
    return _HEADER_SEPARATORS.sub("_", value.strip().casefold()).strip("_")


def reference_key(reference: str) -> str:
    """Return the form references are compared in, so "exb-1 " and "EXB-1" are the same case."""
    return reference.strip().casefold()


def _sort_key(row: CaseRow) -> tuple[str, str, int]:
    """Order rows by reference, so a draw never depends on the order of rows in the file."""
    return (row.reference.casefold(), row.reference, row.row)


def _quote(value: str, limit: int = 40) -> str:
    """Show a cell value in a message: quoted, on one line, and short."""
    shown = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in value)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return f'"{shown}"'


def _has_control(value: str) -> bool:
    """Tell whether text holds a control character, which no reference or team name needs."""
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def _formula_message(value: str) -> str:
    """Say why a value that a spreadsheet would run as a formula is refused."""
    return (
        f"{_quote(value)} starts with {value[0]}, so a spreadsheet would run it as a formula;"
        " no reference, team or other value needs that: correct the cell"
    )


def _basename(filename: str) -> str:
    """Keep only the file's own name: browsers and the CLI may pass a path."""
    return re.split(r"[\\/]", filename)[-1].strip() or filename


def _check_time(match: re.Match[str], first_group: int) -> bool:
    """Tell whether the optional time after a date is a real time of day."""
    hour, minute, second = match.group(first_group, first_group + 1, first_group + 2)
    if hour is None:
        return True
    return int(hour) < 24 and int(minute) < 60 and (second is None or int(second) < 60)


def parse_date(value: str) -> date | None:
    """Read a date the way case systems and Excel write it, so exports need no editing.

    Returns None if the text is not a real date. Accepts ISO (2012-10-03) and UK day-first
    dates (03/10/2012, 3/10/2012, 03-10-2012, 03.10.2012), each optionally followed by a time
    such as 00:00 (the time is dropped).
    """
    text = value.strip()
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(part) for part in match.group(1, 2, 3))
        time_group = 4
    else:
        match = _UK_DATE.fullmatch(text)
        if not match:
            return None
        day, month, year = (int(part) for part in match.group(1, 3, 4))
        time_group = 5
    if not _check_time(match, time_group):
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --------------------------------------------------------------------------- reading cells


# A cell: text from a CSV file; text, number, bool, date, datetime, time or None from a workbook.
_Cell = Any


def _cell_text(value: _Cell) -> str:
    """Turn any cell value into stripped text, writing whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def as_date(value: Any) -> date | None:
    """Return the date a cell or stored value holds: a real date, or text in a known format."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return parse_date(value)
    return None


def _is_blank(cells: Sequence[_Cell]) -> bool:
    """Tell whether a row is empty, as the blank rows Excel leaves are."""
    return all(_cell_text(cell) == "" for cell in cells)


class _FileProblem(Exception):
    """A problem that stops the file being read at all."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _decode_csv(data: bytes, name: str) -> str:
    """Decode CSV bytes as UTF-8 (with or without BOM) or, failing that, Windows-1252."""
    if data.startswith(_ZIP_MAGIC):
        raise _FileProblem(
            f"{name} looks like an Excel workbook, not a CSV file; rename it to .xlsx or save it"
            " from Excel as CSV"
        )
    if data.startswith(_OLE_MAGIC):
        raise _FileProblem(
            f"{name} looks like an old Excel .xls workbook, not a CSV file; save it from Excel"
            ' as "CSV UTF-8" or as .xlsx'
        )
    if data.startswith(_UTF16_BOMS):
        raise _FileProblem(
            f'{name} is saved as UTF-16 ("Unicode text"); save it from Excel as "CSV UTF-8"'
        )
    if b"\x00" in data:
        raise _FileProblem(
            f'{name} is not a text file; save the case list from Excel as "CSV UTF-8" or .xlsx'
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise _FileProblem(
            f"{name} is neither UTF-8 nor Windows-1252 text (byte 0x{data[error.start]:02x}"
            f' cannot be read); save it from Excel as "CSV UTF-8"'
        ) from None


def _header_score(cells: Sequence[str]) -> int:
    names = {normalise_header(cell) for cell in cells}
    return sum(1 for name in names if name in KNOWN_COLUMNS or _LOCAL_DATE_COLUMN.fullmatch(name))


def _sniff_delimiter(text: str) -> str:
    """Choose comma or semicolon by which one splits the heading row into more known columns."""
    first = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    scores = {}
    for delimiter in (",", ";"):
        try:
            cells = next(csv.reader([first], delimiter=delimiter), [])
        except csv.Error:
            cells = []
        scores[delimiter] = _header_score(cells)
    return ";" if scores[";"] > scores[","] else ","


def _csv_rows(data: bytes, name: str) -> Iterator[tuple[int, list[_Cell]]]:
    """Yield (spreadsheet row number, cells) for each record of a CSV file."""
    text = _decode_csv(data, name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _FileProblem(
                f"{name} cannot be read as CSV near line {reader.line_num}: {error}"
            ) from None
        number += 1
        if limits.over("CASE_LIST_COLUMNS", len(cells)):
            raise limits.LimitExceeded(
                "CASE_LIST_COLUMNS", f"row {number} has {len(cells):,} columns"
            )
        for index, cell in enumerate(cells):
            if limits.over("CELL_CHARS", len(cell)):
                raise limits.LimitExceeded(
                    "CELL_CHARS",
                    f"row {number}, column {_column_letter(index)} holds {len(cell):,} characters",
                )
        yield number, cells


def _quietly(action: Callable[[], _T]) -> _T:
    """Run an openpyxl step with its warnings silenced: styles and extensions it skips never
    affect cell values, and a warning must not turn a good workbook into a rejected one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return action()


def _xlsx_rows(data: bytes, name: str) -> Iterator[tuple[int, list[_Cell]]]:
    """Yield (spreadsheet row number, values) for each row of the workbook's first worksheet."""
    if data.startswith(_OLE_MAGIC):
        raise _FileProblem(
            f"{name} is an old Excel .xls workbook; open it in Excel and save it as .xlsx"
        )
    if not data.startswith(_ZIP_MAGIC):
        raise _FileProblem(
            f"{name} is not an Excel .xlsx workbook (it is not a zip file); save it from Excel"
            " as .xlsx or CSV"
        )
    from openpyxl import load_workbook  # imported here so CSV-only callers start fast

    workbook = None
    where = ""
    try:
        # Counted while streaming the zip and its XML, before openpyxl reads a cell: openpyxl
        # builds each row whole, so a row of 15 million cells would cost gigabytes.
        limits.check_xlsx(data)
        workbook = _quietly(
            lambda: load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
        )
        if not workbook.worksheets:
            raise _FileProblem(f"{name} has no worksheet")
        sheet = workbook.worksheets[0]
        # Declared sizes are often wrong (some exporters write A1), so read to the real end.
        sheet.reset_dimensions()
        # Find the heading row within the first CASE_LIST_COLUMNS columns, then read only as many
        # columns as it has: cells beyond the headings are ignored anyway.
        rows = sheet.iter_rows(max_col=limits.CASE_LIST_COLUMNS, values_only=True)
        number = 0
        while True:
            where = f" at row {number + 1}"
            values = _quietly(partial(next, rows, None))
            if values is None:
                return
            number += 1
            if not _is_blank(values):
                break
        width = max(i for i, value in enumerate(values) if _cell_text(value)) + 1
        yield number, list(values[:width])
        rows.close()
        rows = sheet.iter_rows(min_row=number + 1, max_col=width, values_only=True)
        while True:
            where = f" at row {number + 1}"
            values = _quietly(partial(next, rows, None))
            if values is None:
                return
            number += 1
            for index, value in enumerate(values):
                if isinstance(value, str) and limits.over("CELL_CHARS", len(value)):
                    raise limits.LimitExceeded(
                        "CELL_CHARS",
                        f"row {number}, column {_column_letter(index)} holds"
                        f" {len(value):,} characters",
                    )
            yield number, list(values)
    except (_FileProblem, limits.LimitExceeded):
        raise
    except limits.Refused as error:
        raise _FileProblem(f"{name}: {error.message}") from None
    except Exception as error:  # openpyxl raises many kinds of error on a damaged file
        raise _FileProblem(
            f"{name} cannot be read as an Excel .xlsx workbook{where} ({type(error).__name__});"
            " open it in Excel and save it again as .xlsx, or save it as CSV"
        ) from None
    finally:
        if workbook is not None:
            workbook.close()


# --------------------------------------------------------------------------- checking rows


@dataclass
class _Header:
    """Where each used column is, and the problems found in the heading row."""

    row: int
    width: int
    positions: dict[str, int]
    columns: tuple[str, ...]
    date_columns: tuple[str, ...]
    problems: list[ImportProblem]


def _read_header(row: int, cells: Sequence[_Cell]) -> _Header:
    """Map each known (or local *_date) column to its position and report heading problems."""
    problems: list[ImportProblem] = []
    positions: dict[str, int] = {}
    duplicated: set[str] = set()
    columns: list[str] = []
    headings: list[str] = []
    for index, cell in enumerate(cells):
        text = _cell_text(cell)
        name = normalise_header(text)
        if not name:
            continue
        headings.append(text)
        if name not in columns:
            columns.append(name)
        if name not in KNOWN_COLUMNS and not _LOCAL_DATE_COLUMN.fullmatch(name):
            continue  # an extra column, ignored (a second "Notes" column too)
        if name in positions and name not in duplicated:
            duplicated.add(name)
            problems.append(
                ImportProblem(
                    None,
                    name,
                    "appears more than once in the heading row (columns"
                    f" {_column_letter(positions[name])} and {_column_letter(index)});"
                    " keep only one",
                )
            )
        positions.setdefault(name, index)
    for name in duplicated:
        positions.pop(name)
    for required in REQUIRED_COLUMNS:
        if required in positions or required in duplicated:
            continue
        shown = ", ".join(_quote(text, 30) for text in headings[:12]) or "no headings"
        if len(headings) > 12:
            shown += f" and {len(headings) - 12} more"
        message = f"this required column is missing; the heading row (row {row}) has: {shown}"
        close = difflib.get_close_matches(
            required, [normalise_header(text) for text in headings], n=1, cutoff=0.75
        )
        if close:
            message += f'. If "{close[0]}" is the {required} column, rename it {required}'
        problems.append(ImportProblem(None, required, message))
    date_columns = tuple(
        name for name in positions if name in DATE_COLUMNS or name not in KNOWN_COLUMNS
    )
    return _Header(row, len(cells), positions, tuple(columns), date_columns, problems)


def _column_letter(index: int) -> str:
    """Return the spreadsheet letter of a 0-based column index, as people see it in Excel."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


class _RowChecker:
    """Check data rows one by one, remembering references to catch duplicates in the file."""

    def __init__(self, header: _Header, rubric: Rubric, check_extra_cells: bool) -> None:
        self.header = header
        self.rubric = rubric
        self.check_extra_cells = check_extra_cells
        self.first_row_of: dict[str, int] = {}
        self.labels = ", ".join(case_type.label for case_type in rubric.case_types)

    def cell(self, cells: Sequence[_Cell], column: str) -> _Cell:
        index = self.header.positions.get(column)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def check(
        self, number: int, cells: Sequence[_Cell]
    ) -> tuple[CaseRow | None, list[ImportProblem]]:
        problems: list[ImportProblem] = []

        def problem(column: str | None, message: str) -> None:
            problems.append(ImportProblem(number, column, message))

        if self.check_extra_cells and len(cells) > self.header.width:
            extra = [_cell_text(cell) for cell in cells[self.header.width :]]
            if any(extra):
                problem(
                    None,
                    f"has {len(cells)} values but the heading row has {self.header.width}"
                    " columns; a value containing a comma or semicolon must be in quotes",
                )

        reference = ""
        if "reference" in self.header.positions:
            reference = _cell_text(self.cell(cells, "reference"))
            if not reference:
                problem("reference", "the case reference is empty; every case needs one")
            elif _has_control(reference):
                problem(
                    "reference", f"{_quote(reference)} contains a line break or control character"
                )
            elif _FORMULA_START.match(reference):
                problem("reference", _formula_message(reference))
            elif len(reference) > MAX_REFERENCE_LENGTH:
                problem(
                    "reference",
                    f"{_quote(reference)} is {len(reference)} characters long;"
                    f" a reference may have at most {MAX_REFERENCE_LENGTH}",
                )
            else:
                key = reference_key(reference)
                earlier = self.first_row_of.get(key)
                if earlier is not None:
                    problem(
                        "reference",
                        f"{_quote(reference)} is already on row {earlier}; each case may be"
                        " listed once",
                    )
                else:
                    self.first_row_of[key] = number

        case_type_id = ""
        if "case_type" in self.header.positions:
            value = _cell_text(self.cell(cells, "case_type"))
            case_type = self.rubric.resolve_case_type(value) if value else None
            if not value:
                problem("case_type", f"the case type is empty; expected one of: {self.labels}")
            elif case_type is None:
                problem(
                    "case_type",
                    f"{_quote(value)} is not a case type in this rubric;"
                    f" expected one of: {self.labels}",
                )
            else:
                case_type_id = case_type.id

        texts: dict[str, str] = {}
        for column in _TEXT_COLUMNS:
            if column not in self.header.positions:
                continue
            # Line breaks and runs of spaces become one space, so "North  East" is one team.
            value = " ".join(_cell_text(self.cell(cells, column)).split())
            if _has_control(value):
                problem(column, f"{_quote(value)} contains a control character")
            elif _FORMULA_START.match(value):
                problem(column, _formula_message(value))
            if len(value) > MAX_TEXT_LENGTH:
                problem(
                    column,
                    f"{_quote(value)} is {len(value)} characters long;"
                    f" at most {MAX_TEXT_LENGTH} are allowed",
                )
            texts[column] = value

        dates: dict[str, str] = {}
        for column in self.header.date_columns:
            value = self.cell(cells, column)
            if _cell_text(value) == "":
                continue
            parsed = as_date(value)
            if parsed is None:
                problem(column, f"{_quote(_cell_text(value))} is not a date; {_DATE_HINT}")
            else:
                dates[column] = parsed.isoformat()

        if problems or not reference or not case_type_id:
            return None, problems
        return (
            CaseRow(
                row=number,
                reference=reference,
                case_type=case_type_id,
                team=texts.get("team", ""),
                worker_role=texts.get("worker_role", ""),
                age_band=texts.get("age_band", ""),
                dates=MappingProxyType(dates),
            ),
            problems,
        )


# --------------------------------------------------------------------------- public functions


def read_case_list(data: bytes, filename: str, rubric: Rubric) -> CaseList:
    """Read and check a whole case list so a caller only ever imports a file with no problems.

    Raises CaseListInvalid listing every problem found (capped at MAX_PROBLEMS).
    """
    name = _basename(filename)
    if limits.over("CASE_LIST_BYTES", len(data)):
        error = limits.LimitExceeded("CASE_LIST_BYTES", f"a file of {len(data) / limits.MB:.1f} MB")
        raise CaseListInvalid([ImportProblem(None, None, f"{name} was not read: {error}")], name)
    extension = name.rpartition(".")[2].casefold() if "." in name else ""
    if extension == "csv":
        rows = _csv_rows(data, name)
    elif extension == "xlsx":
        rows = _xlsx_rows(data, name)
    else:
        raise CaseListInvalid(
            [
                ImportProblem(
                    None,
                    None,
                    f"{name} must be a .csv or .xlsx file; save the case list from Excel or your"
                    " case-management system as CSV or as an Excel workbook (.xlsx)",
                )
            ],
            name,
        )

    file_problems: list[ImportProblem] = []
    row_problems: list[ImportProblem] = []
    header: _Header | None = None
    checker: _RowChecker | None = None
    case_rows: list[CaseRow] = []
    count = 0
    blank = 0
    cells_read = 0
    try:
        with closing(rows):
            for number, cells in rows:
                cells_read += len(cells)
                if limits.over("CASE_LIST_CELLS", cells_read):
                    raise limits.LimitExceeded("CASE_LIST_CELLS", f"more cells by row {number}")
                if _is_blank(cells):
                    blank += 1  # Excel leaves blank rows; they are not cases
                    if limits.over("CASE_LIST_BLANK_ROWS", blank):
                        file_problems.append(
                            ImportProblem(
                                None,
                                None,
                                f"{name} has more than {limits.CASE_LIST_BLANK_ROWS:,} empty rows"
                                " (limit CASE_LIST_BLANK_ROWS); delete the empty rows and save it"
                                " again",
                            )
                        )
                        break
                    continue
                if checker is None:
                    header = _read_header(number, cells)
                    checker = _RowChecker(header, rubric, check_extra_cells=extension == "csv")
                    continue
                count += 1
                if limits.over("CASE_LIST_ROWS", count):
                    file_problems.append(
                        ImportProblem(
                            None,
                            None,
                            f"{name} has more than {limits.CASE_LIST_ROWS:,} cases (limit"
                            " CASE_LIST_ROWS); split it into smaller files, or draw the sample"
                            " from a shorter list",
                        )
                    )
                    break
                case_row, found = checker.check(number, cells)
                row_problems.extend(found)
                if case_row is not None:
                    case_rows.append(case_row)
    except _FileProblem as error:
        raise CaseListInvalid([ImportProblem(None, None, error.message)], name) from None
    except limits.LimitExceeded as error:
        raise CaseListInvalid(
            [ImportProblem(None, None, f"{name} was not read: {error.message}")], name
        ) from None

    if header is None:
        if extension == "xlsx":
            message = f"the first worksheet of {name} is empty; it needs a heading row and cases"
        else:
            message = f"{name} is empty; it needs a heading row and one row per case"
        raise CaseListInvalid([ImportProblem(None, None, message)], name)
    if count == 0 and not file_problems:
        file_problems.append(
            ImportProblem(None, None, f"{name} has a heading row but no cases below it")
        )
    problems = file_problems + header.problems + row_problems
    if problems:
        raise CaseListInvalid(problems, name)
    return CaseList(rows=tuple(case_rows), columns=header.columns, source=name)


def check_duplicates(
    case_list: CaseList, existing_references: Collection[str], skip_existing: bool
) -> tuple[CaseList, tuple[CaseRow, ...]]:
    """Split off cases the review already holds so a case is never imported twice.

    Returns (the case list of rows to add, the rows skipped). Unless skip_existing, any case
    already in the review raises CaseListInvalid naming each row and reference.
    """
    existing = {reference_key(reference) for reference in existing_references}
    add: list[CaseRow] = []
    skipped: list[CaseRow] = []
    for row in case_list.rows:
        (skipped if reference_key(row.reference) in existing else add).append(row)
    if skipped and not skip_existing:
        raise CaseListInvalid(
            [
                ImportProblem(
                    row.row,
                    "reference",
                    f"{_quote(row.reference)} is already in this review; remove the row or"
                    " choose to skip cases that are already there",
                )
                for row in skipped
            ],
            case_list.source,
        )
    kept = CaseList(rows=tuple(add), columns=case_list.columns, source=case_list.source)
    return kept, tuple(skipped)


def _stratum(row: CaseRow, stratify_by: str) -> str:
    """Return the stratum a row belongs to: its case type id or its team ("" for none)."""
    return row.case_type if stratify_by == "case_type" else row.team


def _allocate(counts: Mapping[str, int], size: int) -> dict[str, int]:
    """Share size between strata in proportion to their counts (largest remainder, Hamilton)."""
    total = sum(counts.values())
    quotas = {name: size * n // total for name, n in counts.items()}
    remainders = {name: size * n % total for name, n in counts.items()}
    leftover = size - sum(quotas.values())
    for name in sorted(counts, key=lambda s: (-remainders[s], s)):
        if leftover <= 0:
            break
        if quotas[name] < counts[name]:
            quotas[name] += 1
            leftover -= 1
    return quotas


def draw_sample(
    case_list: CaseList,
    size: int,
    stratify_by: str | None = None,
    seed: int | None = None,
) -> Sample:
    """Draw a reproducible random sample so the same file and seed always pick the same cases.

    Rows are sorted by reference before drawing, so the order of rows in the file does not
    matter. With stratify_by ("case_type" or "team") each stratum gets its proportional share,
    rounded by largest remainder. Raises ValueError for a size outside 1..population.
    """
    population = len(case_list.rows)
    if stratify_by is not None and stratify_by not in STRATIFY_BY:
        raise ValueError(
            f'cannot stratify by "{stratify_by}"; choose one of: {", ".join(STRATIFY_BY)}'
        )
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValueError(f"the sample size must be a whole number; got {size!r}")
    if population == 0:
        raise ValueError("the case list has no cases to sample")
    if not 1 <= size <= population:
        raise ValueError(
            f"the sample size must be between 1 and {population} (the number of cases in the"
            f" list); got {size}"
        )
    if seed is None:
        seed = secrets.randbelow(2**31)
    elif isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"the random seed must be a whole number; got {seed!r}")
    rng = random.Random(seed)
    ordered = sorted(case_list.rows, key=_sort_key)

    strata: dict[str, dict[str, int]] = {}
    if stratify_by is None:
        drawn = rng.sample(ordered, size)
    else:
        groups: dict[str, list[CaseRow]] = {}
        for row in ordered:
            groups.setdefault(_stratum(row, stratify_by), []).append(row)
        quotas = _allocate({name: len(rows) for name, rows in groups.items()}, size)
        drawn = []
        for name in sorted(groups):
            drawn.extend(rng.sample(groups[name], quotas[name]))
            strata[name] = {"population": len(groups[name]), "sample": quotas[name]}

    return Sample(
        rows=tuple(sorted(drawn, key=_sort_key)),
        seed=seed,
        size=size,
        population=population,
        stratify_by=stratify_by,
        strata=MappingProxyType(
            {name: MappingProxyType(counts) for name, counts in strata.items()}
        ),
        source=case_list.source,
    )
