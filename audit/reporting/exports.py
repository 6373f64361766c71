"""Build the downloads people open in Excel: answers and findings as CSV or XLSX.

Pure functions over the rows from ``audit/data/exports.py`` and the review's rubric, so the
browser and the command line produce the same files. Everything free text (evidence,
finding wording, team names, host references, display names) can hold anything a user
typed, so every text cell is neutralised against formula injection before it is written:
a spreadsheet must never run what a reviewer typed.

Dates and times are written as people in England read them: a CSV cell says 27/10/2026 or
27/10/2026 14:30 (London time), and an Excel cell holds a real date with that UK format, so
it sorts and filters as a date. (The findings JSON and bundles keep ISO 8601 UTC: they are
documented machine formats.)
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from audit import calibration, collaboration, moments
from audit.rubric import NOT_APPLICABLE, Question, Rubric
from audit.scoring import applicable
from audit.stats import Statistic

__all__ = [
    "ANSWER_HEADER",
    "FINDING_HEADER",
    "answers_table",
    "date_cell",
    "finding_header",
    "findings_table",
    "neutralise",
    "to_csv",
    "to_xlsx",
]

# Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP's
# list), with the full-width and small-form variants some spreadsheets also accept, and LF.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")
# Characters XML 1.0 cannot hold (openpyxl refuses them); they are shown as U+FFFD instead.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Excel's limit on the text in one cell; longer text makes it report the file as damaged.
EXCEL_CELL_LIMIT = 32_767
_TRUNCATED = " [truncated: the CSV export has the full text]"
_MIN_WIDTH, _MAX_WIDTH = 8, 60
# How dates and London times are written in CSV text and shown in Excel's cells.
CSV_DATE, CSV_MOMENT = "%d/%m/%Y", "%d/%m/%Y %H:%M"
XLSX_DATE, XLSX_MOMENT = "dd/mm/yyyy", "dd/mm/yyyy hh:mm"

PURPOSE_LABELS = {"first": "First audit", "second": "Second audit", "re_audit": "Re-audit"}
STATUS_LABELS = {"draft": "Draft", "submitted": "Submitted"}
YES_NO_LABELS = {"yes": "Yes", "no": "No"}
NOT_APPLICABLE_LABEL = "Not applicable"
SECTION_NOT_APPLICABLE_LABEL = "Not applicable (section does not apply)"
KIND_LABELS = {"strength": "Strength", "development": "Area for development"}
FINDING_STATUS_LABELS = {
    "suggested": "Suggested",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "merged": "Merged",
}
ORIGIN_LABELS = {"audits": "Audits", "other": "Other evidence"}

ANSWER_HEADER = [
    "Case",
    "Host reference",
    "Case type",
    "Team",
    "Section",
    "Question",
    "Answer",
    "Original grade",
    "Moderated grade",
    "Effective grade",
    "Evidence",
    "Audit purpose",
    "Status",
    "Reviewer",
    "Submitted at",
    "Moderated by",
    "Moderated at",
    "Moderation reason",
    "question_id",
    "audit_id",
]


def finding_header(threshold: str = "Good or better") -> list[str]:
    """Return the findings sheet's header in the rubric's words ("Adequate or better")."""
    return [
        "Kind",
        "Status",
        "Origin",
        "Position",
        "Finding",
        "Questions",
        threshold,
        "Out of",
        "Counted in",
        f"Share {threshold.lower()}",
        "95% interval low",
        "95% interval high",
        "finding_id",
        "merged_into",
    ]


FINDING_HEADER = finding_header()


# --------------------------------------------------------------------------- cell safety


def neutralise(value: Any) -> Any:
    """Prefix a quote to text a spreadsheet would run as a formula; numbers stay numbers.

    Text is checked at its first character and at its first non-blank one, so " =1+1" is
    caught too. Text that only looks like a number ("-5") is still prefixed: it came from a
    text field, and a leading minus is how formula payloads such as ``-2+3`` start.
    """
    if not isinstance(value, str) or not value:
        return value
    if value[0] in FORMULA_TRIGGERS or value.lstrip(" \t\r\n")[:1] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def date_cell(value: Any) -> Any:
    """Return a stored date or moment as a cell: a date, or a London wall-clock datetime.

    Blank stays blank, and text that is not a stored date stays as it was (never lost).
    """
    if value is None or value == "":
        return ""
    local = moments.local(value)
    return value if local is None else local


def _plain(value: Any) -> Any:
    """Return a cell value as text, number or None: dates as UK text (27/10/2026 14:30)."""
    if isinstance(value, datetime):
        return value.strftime(CSV_MOMENT)
    if isinstance(value, date):
        return value.strftime(CSV_DATE)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _safe(value: Any) -> Any:
    return neutralise(_plain(value))


# --------------------------------------------------------------------------- tables


def _label(question: Question | None, rubric: Rubric, value: str | None, na: bool) -> str:
    """Return what a person reads for an answer value: a level's label, Yes/No, or the text."""
    if na or value == NOT_APPLICABLE:
        return NOT_APPLICABLE_LABEL
    if value is None:
        return ""
    if question is not None and question.type == "grade":
        try:
            return rubric.scale.level(value).label
        except KeyError:
            return value  # a value the rubric no longer has: keep it rather than lose it
    if question is not None and question.type == "yes_no":
        return YES_NO_LABELS.get(value, value)
    return value


def _case_type_label(rubric: Rubric, case_type: str) -> str:
    try:
        return rubric.case_type(case_type).label
    except KeyError:
        return case_type


def _question_order(rubric: Rubric, case_type: str, answered: Iterable[str]) -> list[str]:
    """Return the questions asked for a case type in page order, then any other answered."""
    try:
        asked = [q.id for _section, questions in applicable(rubric, case_type) for q in questions]
    except KeyError:
        asked = []
    seen = set(asked)
    rubric_order = {q.id: n for n, q in enumerate(rubric.questions)}
    extra = sorted(
        (q for q in set(answered) if q not in seen),
        key=lambda q: (rubric_order.get(q, len(rubric_order)), q),
    )
    return asked + extra


def _sections_na(raw: Any) -> frozenset[str]:
    if not raw:
        return frozenset()
    if isinstance(raw, str):
        return frozenset(json.loads(raw))
    return frozenset(raw)


def answers_table(
    rubric: Rubric, rows: Iterable[Mapping[str, Any]]
) -> tuple[list[str], list[list[Any]]]:
    """Lay out one row per audit and question, in labels people read, with ids at the end.

    Every question the case type is asked appears (blank if not yet answered), so drafts
    show what is left; answers to questions the case type is not asked are kept too.
    """
    audits: dict[str, dict[str, Any]] = {}
    answers: dict[str, dict[str, Mapping[str, Any]]] = {}
    for row in rows:
        audit_id = row["audit_id"]
        audits.setdefault(audit_id, dict(row))
        by_question = answers.setdefault(audit_id, {})
        if row.get("question_id") is not None:
            by_question[row["question_id"]] = row
    out: list[list[Any]] = []
    for audit_id, audit in audits.items():
        case_type = audit["case_type"]
        sections_na = _sections_na(audit.get("sections_not_applicable"))
        for question_id in _question_order(rubric, case_type, answers[audit_id]):
            answer = answers[audit_id].get(question_id, {})
            try:
                section, question = rubric.section_of(question_id), rubric.question(question_id)
            except KeyError:
                section, question = None, None
            section_na = section is not None and section.id in sections_na
            if section_na:
                answer_label = SECTION_NOT_APPLICABLE_LABEL
            else:
                answer_label = _label(
                    question, rubric, answer.get("value"), bool(answer.get("not_applicable"))
                )
            moderated = answer.get("moderated_value")
            moderated_label = (
                "" if moderated is None else _label(question, rubric, moderated, False)
            )
            graded = (question is not None and question.type == "grade") or moderated is not None
            original = answer_label if graded else ""
            # As in the findings: a moderated grade wins, but not in a section that does not
            # apply (nothing there is counted).
            effective = original if section_na else (moderated_label or original)
            effective = effective if graded else ""
            out.append(
                [
                    audit["pseudonym"],
                    audit["reference"],
                    _case_type_label(rubric, case_type),
                    audit["team"],
                    section.title if section is not None else "",
                    " ".join(question.text.split()) if question is not None else question_id,
                    answer_label,
                    original,
                    moderated_label,
                    effective,
                    answer.get("evidence") or "",
                    PURPOSE_LABELS.get(audit["purpose"], audit["purpose"]),
                    STATUS_LABELS.get(audit["status"], audit["status"]),
                    audit["reviewer"],
                    date_cell(audit.get("submitted_at")),
                    answer.get("moderated_by") or "",
                    date_cell(answer.get("moderated_at")),
                    answer.get("moderation_reason") or "",
                    question_id,
                    audit_id,
                ]
            )
    return list(ANSWER_HEADER), out


def _question_ids(raw: Any) -> list[str]:
    if not raw:
        return []
    if isinstance(raw, str):
        return [str(q) for q in json.loads(raw)]
    return [str(q) for q in raw]


def _number(value: Any) -> Any:
    """Round a share for reading; keep counts as they are and missing numbers blank."""
    if isinstance(value, float):
        return round(value, 4)
    return value


def _unit(row: Mapping[str, Any]) -> str:
    """Say what a finding's numbers count; snapshots from before units were stored pooled
    answers exactly when they named several questions."""
    if row.get("n") is None:
        return ""
    if row.get("unit"):
        return str(row["unit"])
    return "answers" if len(_question_ids(row.get("question_ids"))) > 1 else "cases"


def findings_table(
    rows: Iterable[Mapping[str, Any]], threshold: str = "Good or better"
) -> tuple[list[str], list[list[Any]]]:
    """Lay out every finding with its numbers, so the lead's curation can be checked outside.

    ``threshold`` is the rubric's name for the share (``findings.threshold_label``); each
    row says whether its numbers count cases or answers.
    """
    out = [
        [
            KIND_LABELS.get(row["kind"], row["kind"]),
            FINDING_STATUS_LABELS.get(row["status"], row["status"]),
            ORIGIN_LABELS.get(row["origin"], row["origin"]),
            row["position"],
            row["text"],
            ", ".join(_question_ids(row.get("question_ids"))),
            row.get("count"),
            row.get("n"),
            _unit(row),
            _number(row.get("share")),
            _number(row.get("low")),
            _number(row.get("high")),
            row.get("id") or "",
            row.get("merged_into") or "",
        ]
        for row in rows
    ]
    return finding_header(threshold), out


CONVERSATION_HEADER = (
    "Case",
    "Host reference",
    "Audit purpose",
    "Status",
    "Reviewer",
    "Date of conversation",
    "Practitioner's role",
    "Practitioner's name",
    "Manager's role",
    "Section",
    "Grade discussed",
    "Practitioner agrees",
    "Practitioner's view",
    "What the worker will do differently",
    "Manager's response",
    "Recorded by",
    "Recorded at",
    "audit_id",
)
FAMILY_HEADER = (
    "Case",
    "Host reference",
    "Audit purpose",
    "Status",
    "Reviewer",
    "Consent to contact",
    "How contact was made",
    "What the family said",
    *(text for _key, text in collaboration.FAMILY_QUESTIONS),
    "Quote included",
    "Recorded by",
    "Recorded at",
    "audit_id",
)


def _audit_cells(audit: Mapping[str, Any]) -> list[Any]:
    return [
        audit["pseudonym"],
        audit["reference"],
        PURPOSE_LABELS.get(audit["purpose"], audit["purpose"]),
        STATUS_LABELS.get(audit["status"], audit["status"]),
        audit["reviewer"],
    ]


def conversations_table(
    rubric: Rubric,
    audit_rows: Iterable[Mapping[str, Any]],
    records: Iterable[collaboration.Conversation],
) -> tuple[list[str], list[list[Any]]]:
    """Lay out one row per audit and section grade discussed with the practitioner."""
    by_audit = {record.audit_id: record for record in records}
    titles = {section.id: section.title for section in rubric.sections}
    out: list[list[Any]] = []
    for audit in audit_rows:
        record = by_audit.get(audit["audit_id"])
        if record is None:
            continue
        views = record.sections or (None,)
        for view in views:
            grade = ""
            if view is not None:
                try:
                    grade = rubric.scale.level(view.grade).label
                except KeyError:
                    grade = view.grade
            out.append(
                [
                    *_audit_cells(audit),
                    date_cell(record.held_on),
                    record.worker_role,
                    record.worker_name,
                    record.manager_role,
                    "" if view is None else titles.get(view.section_id, view.section_id),
                    grade,
                    "" if view is None else ("Yes" if view.agrees else "No"),
                    "" if view is None else view.practitioner_view,
                    record.will_do_differently,
                    record.manager_response,
                    record.recorded_by,
                    date_cell(record.recorded_at),
                    record.audit_id,
                ]
            )
    return list(CONVERSATION_HEADER), out


def family_table(
    audit_rows: Iterable[Mapping[str, Any]], records: Iterable[collaboration.FamilyFeedback]
) -> tuple[list[str], list[list[Any]]]:
    """Lay out one row per audit with family feedback, answers in words."""
    by_audit = {record.audit_id: record for record in records}
    out: list[list[Any]] = []
    for audit in audit_rows:
        record = by_audit.get(audit["audit_id"])
        if record is None:
            continue
        out.append(
            [
                *_audit_cells(audit),
                "Given" if record.consent else "Not given",
                record.contact_label,
                record.family_said,
                *(
                    collaboration.FAMILY_ANSWERS[record.answer(key)] if record.consent else ""
                    for key, _text in collaboration.FAMILY_QUESTIONS
                ),
                "Yes" if record.quote_included else "No",
                record.recorded_by,
                date_cell(record.recorded_at),
                record.audit_id,
            ]
        )
    return list(FAMILY_HEADER), out


CALIBRATION_EXERCISE_HEADER = (
    "Exercise",
    "Case files",
    "Participants",
    "Submitted",
    "Results opened at",
    "Grades shown",
    "Alpha, grades (ordinal)",
    "Alpha, grades (nominal)",
    "Alpha, grades (interval)",
    "Alpha, yes/no questions (nominal)",
    "Grades matching the agreed grade",
    "Grades compared with the agreed grade",
    "Share matching the agreed grade",
    "Questions on the agenda",
    "exercise_id",
)
CALIBRATION_QUESTION_HEADER = (
    "Exercise",
    "Case",
    "Section",
    "Question",
    "Answers given",
    "Spread",
    "Agenda position",
    "Agreed answer",
    "Rationale",
    "exercise_id",
    "question_id",
)
CALIBRATION_GRADE_HEADER = (
    "Exercise",
    "Case",
    "Section",
    "Question",
    "Participant",
    "Answer",
    "Note",
    "Agreed answer",
    "exercise_id",
    "question_id",
)


def _alpha_cell(statistic: Statistic) -> Any:
    """Return alpha as the results page prints it (3 decimals), or why it cannot be computed."""
    if statistic.value is None:
        return f"Not computable: {statistic.reason}"
    return round(statistic.value, 3)


def calibration_tables(
    rubric: Rubric, shown: Sequence[calibration.Shown]
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Lay out calibration exercises (``calibration.Shown``) as three tables, blind as shown.

    Exercises: one row each with alpha and agreement (blank until everyone's grades may be
    shown). Questions: spread, agenda and agreed answer per case and question, only where
    everyone's grades are shown. Grades: one row per shown participant and answer.
    """
    exercises: list[list[Any]] = []
    questions: list[list[Any]] = []
    grades: list[list[Any]] = []
    for item in shown:
        result, everyone = item.results, item.everyone
        agreement = result.agreement_with_agreed
        exercises.append(
            [
                item.title,
                ", ".join(item.cases),
                ", ".join(name for name, _submitted in item.participants),
                sum(submitted is not None for _name, submitted in item.participants),
                date_cell(item.results_opened_at),
                _CALIBRATION_SHOWN[item.shown],
                *(
                    [_alpha_cell(result.alpha_grades[level]) for level in _ALPHA_LEVELS]
                    + [_alpha_cell(result.alpha_yes_no)]
                    if everyone
                    else ["", "", "", ""]
                ),
                *(
                    [
                        round(agreement.value * agreement.n) if agreement.value is not None else "",
                        agreement.n,
                        "" if agreement.value is None else round(agreement.value, 4),
                        len(result.agenda),
                    ]
                    if everyone
                    else ["", "", "", ""]
                ),
                item.exercise_id,
            ]
        )
        positions = calibration.agenda_positions(result)
        for unit in result.units:
            question = unit.question
            section = rubric.section_of(question.id).title
            text = " ".join(question.text.split())
            agreed = _label(question, rubric, unit.agreed, False)
            place = [item.title, unit.pseudonym, section, text]
            if everyone:
                questions.append(
                    [
                        *place,
                        len(unit.answered),
                        unit.spread,
                        positions.get((unit.case_id, question.id), ""),
                        agreed,
                        unit.rationale,
                        item.exercise_id,
                        question.id,
                    ]
                )
            for n, value in enumerate(unit.values):
                if value is None and not item.evidence(unit, n):
                    continue
                grades.append(
                    [
                        *place,
                        result.participants[n],
                        _label(question, rubric, value, False),
                        item.evidence(unit, n),
                        agreed,
                        item.exercise_id,
                        question.id,
                    ]
                )
    return {
        "calibration-exercises": (list(CALIBRATION_EXERCISE_HEADER), exercises),
        "calibration-questions": (list(CALIBRATION_QUESTION_HEADER), questions),
        "calibration-grades": (list(CALIBRATION_GRADE_HEADER), grades),
    }


_ALPHA_LEVELS = ("ordinal", "nominal", "interval")
_CALIBRATION_SHOWN = {
    "all": "Everyone's (results open)",
    "own": "Your own only (results not open)",
    "none": "None (results not open)",
}


THEME_HEADER = (
    "Theme",
    "Theme retired",
    "Tagged",
    "Case",
    "Host reference",
    "Question",
    "Evidence note or finding",
    "Tagged by",
    "Tagged at",
    "theme_id",
    "audit_id",
    "question_id",
    "finding_id",
)
TAGGED_LABELS = {
    "evidence": "Evidence note",
    "finding": "Finding",
    "conversation": "Conversation with the practitioner",
}


def themes_table(
    rubric: Rubric, rows: Iterable[Mapping[str, Any]]
) -> tuple[list[str], list[list[Any]]]:
    """Lay out one row per learning-theme tag: the theme, what carries it, and its words."""
    out: list[list[Any]] = []
    for row in rows:
        question_id = row.get("question_id") or ""
        try:
            question = " ".join(rubric.question(question_id).text.split()) if question_id else ""
        except KeyError:
            question = question_id
        out.append(
            [
                row["theme"],
                "Yes" if row.get("retired") else "No",
                TAGGED_LABELS.get(row["kind"], row["kind"]),
                row.get("pseudonym") or "",
                row.get("reference") or "",
                question,
                row.get("text") or "",
                row.get("tagged_by") or "",
                date_cell(row.get("tagged_at")),
                row["theme_id"],
                row.get("audit_id") or "",
                question_id,
                row.get("finding_id") or "",
            ]
        )
    return list(THEME_HEADER), out


# --------------------------------------------------------------------------- files


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Write CSV as Excel reads it best: UTF-8 with a BOM, CRLF, every text cell neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_safe(cell) for cell in header])
    for row in rows:
        writer.writerow(["" if cell is None else _safe(cell) for cell in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _xlsx_text(value: Any) -> Any:
    """Make a value one Excel can hold: no XML-illegal characters, no over-long text."""
    value = _safe(value)
    if isinstance(value, str):
        value = _ILLEGAL_XML.sub("\ufffd", value)
        if len(value) > EXCEL_CELL_LIMIT:
            value = value[: EXCEL_CELL_LIMIT - len(_TRUNCATED)] + _TRUNCATED
    return value


def _widths(header: Sequence[Any], rows: Sequence[Sequence[Any]], sample: int = 200) -> list[int]:
    """Return column widths from the header and the first rows: readable, never absurd."""
    widths = [len(str(h)) + 2 for h in header]
    for row in rows[:sample]:
        for n, cell in enumerate(row):
            if cell is None:
                continue
            longest = max((len(line) for line in str(cell).splitlines()), default=0)
            if n < len(widths):
                widths[n] = max(widths[n], longest + 2)
            else:
                widths.append(longest + 2)
    return [min(max(w, _MIN_WIDTH), _MAX_WIDTH) for w in widths]


def to_xlsx(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]) -> bytes:
    """Write one worksheet per (name, header, rows): bold frozen header, text never formulas."""
    names = [name for name, _header, _rows in sheets]
    for name in names:
        if not name or len(name) > 31 or set(name) & set("[]:*?/\\"):
            raise ValueError(f"not a usable worksheet name: {name!r}")
    if len({n.casefold() for n in names}) != len(names):
        raise ValueError("worksheet names must differ")
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, header, rows in sheets:
        sheet = workbook.create_sheet(title=name)
        for n, width in enumerate(_widths(header, rows), start=1):
            sheet.column_dimensions[get_column_letter(n)].width = width
        sheet.freeze_panes = "A2"
        if header:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
        cells = []
        for title in header:
            cell = WriteOnlyCell(sheet, value=_xlsx_text(title))
            cell.font = bold
            cells.append(_as_text(cell))
        sheet.append(cells)
        for row in rows:
            # Plain values are several times faster than a cell object each; they are safe
            # because a neutralised string never starts with "=", the only formula openpyxl
            # infers (the test suite reads every cell's type back to prove it). Dates are
            # the exception: a cell of their own, to carry the UK number format.
            sheet.append([_xlsx_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """Return a value to append: a dated cell for a date or datetime, else the plain value."""
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_MOMENT if isinstance(value, datetime) else XLSX_DATE
        return cell
    return _xlsx_text(value)


def _as_text(cell: WriteOnlyCell) -> WriteOnlyCell:
    """Store text as a string whatever it starts with: openpyxl would make "=..." a formula."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell
