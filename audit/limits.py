"""Limits on what an uploaded or imported file may hold, and the streaming checks that keep them.

Every reader of data from outside (review bundles, rubric YAML, case lists in CSV or Excel)
counts as it goes and stops at the first limit broken, before it builds anything large: a
hostile file (100,000 nested brackets, a YAML alias bomb, a spreadsheet row of 15 million
cells, a zip bomb) is refused whole, in about the time it takes to read up to the limit, with
a message that names the limit. Nothing in here knows what a bundle or a case list means;
the readers say what to call the file in messages.

The limits are module attributes, read when a check runs, so tests can lower them. The table
``LIMITS`` lists them for the documentation (docs/security.md), and a test keeps the two in
step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

MB = 1024 * 1024

# Review bundles (JSON): ``case-audit import`` and POST /reviews/import.
BUNDLE_BYTES = 50 * MB
JSON_DEPTH = 32
JSON_VALUES = 2_500_000
JSON_STRING_CHARS = 1_000_000
JSON_NUMBER_CHARS = 40

# Rubrics (YAML): uploads, ``case-audit rubric check`` and the rubric inside a bundle.
RUBRIC_BYTES = 1 * MB
YAML_DEPTH = 32
YAML_NODES = 100_000
YAML_SCALAR_CHARS = 100_000

# Case lists (CSV or .xlsx): import and sample, in the browser and on the command line.
CASE_LIST_BYTES = 20 * MB
CASE_LIST_ROWS = 20_000
CASE_LIST_BLANK_ROWS = 10_000
CASE_LIST_COLUMNS = 256
CASE_LIST_CELLS = 500_000
CELL_CHARS = 32_767  # Excel's own limit for one cell
XLSX_UNPACKED_BYTES = 50 * MB
XLSX_PARTS = 1_000
XML_TOKEN_BYTES = 1 * MB


@dataclass(frozen=True)
class Limit:
    """One documented limit: the attribute holding it, and what it bounds, in words."""

    name: str
    applies_to: str
    what: str
    unit: str = ""

    @property
    def value(self) -> int:
        """The limit now in force (read from the module, so a lowered test value shows)."""
        return int(globals()[self.name])

    def shown(self) -> str:
        """The value as a person reads it: "50 MB", "20,000 rows"."""
        value = self.value
        if self.unit == "bytes":
            return f"{value / MB:g} MB" if value >= MB else f"{value:,} bytes"
        return f"{value:,} {self.unit}".strip()


LIMITS: tuple[Limit, ...] = (
    Limit("BUNDLE_BYTES", "review bundle", "size of the file", "bytes"),
    Limit("JSON_DEPTH", "review bundle", "lists and objects inside each other", "levels"),
    Limit(
        "JSON_VALUES",
        "review bundle",
        "values in the file (texts, numbers, lists, objects)",
        "values",
    ),
    Limit(
        "JSON_STRING_CHARS",
        "review bundle",
        "length of one text, as written in the file",
        "characters",
    ),
    Limit("JSON_NUMBER_CHARS", "review bundle", "length of one number", "characters"),
    Limit("RUBRIC_BYTES", "rubric", "size of the file", "bytes"),
    Limit("YAML_DEPTH", "rubric", "lists and mappings inside each other", "levels"),
    Limit(
        "YAML_NODES",
        "rubric",
        "values in the file, counting each alias (*name) as everything it repeats",
        "values",
    ),
    Limit("YAML_SCALAR_CHARS", "rubric", "length of one value", "characters"),
    Limit("CASE_LIST_BYTES", "case list", "size of the file", "bytes"),
    Limit("CASE_LIST_ROWS", "case list", "cases (rows below the heading row)", "rows"),
    Limit("CASE_LIST_BLANK_ROWS", "case list", "empty rows", "rows"),
    Limit(
        "CASE_LIST_COLUMNS",
        "case list",
        "columns in a CSV row; columns read from a worksheet",
        "columns",
    ),
    Limit("CASE_LIST_CELLS", "case list", "cells read in all, empty ones included", "cells"),
    Limit("CELL_CHARS", "case list", "length of one cell", "characters"),
    Limit("XLSX_UNPACKED_BYTES", "case list", "size of an .xlsx workbook once unpacked", "bytes"),
    Limit("XLSX_PARTS", "case list", "files inside an .xlsx workbook", "files"),
    Limit("XML_TOKEN_BYTES", "case list", "one tag or text in a workbook's XML", "bytes"),
)
_BY_NAME = {limit.name: limit for limit in LIMITS}


class LimitExceeded(Exception):
    """A file broke one of the documented limits; nothing of it was used.

    ``message`` names the limit and says what was found ("nests 33 levels deep, more than the
    32 a review bundle may"); ``where`` locates it when known ("line 3", "cell B7").
    """

    def __init__(self, name: str, found: str, where: str = "") -> None:
        limit = _BY_NAME[name]
        self.limit = limit
        self.where = where
        self.message = (
            f"{found}: the limit for a {limit.applies_to} is {limit.shown()}"
            f" ({limit.what}; {limit.name})"
        )
        super().__init__(f"{where}: {self.message}" if where else self.message)


def over(name: str, count: int) -> bool:
    """Tell whether ``count`` is over the limit called ``name``."""
    return count > int(globals()[name])


# --------------------------------------------------------------------------- reading bytes


def read_stream(stream: IO[bytes], name: str) -> bytes:
    """Read a file-like object whole, refusing it once it is longer than the limit ``name``.

    Reads at most one byte more than the limit, so a huge or endless stream costs no more
    than a file at the limit.
    """
    limit = int(globals()[name])
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise LimitExceeded(name, "the file is larger")
    return data


def read_file(path: Path, name: str) -> bytes:
    """Read a file from disk whole, refusing it if it is longer than the limit ``name``."""
    with Path(path).open("rb") as handle:
        return read_stream(handle, name)


# --------------------------------------------------------------------------- JSON

# A JSON text is strings, numbers, literals and punctuation. Each match skips what cannot cost
# anything (spaces, commas, colons, true/false/null) in one go, then takes one token: a string
# matched whole (a bracket inside one is not counted), an opening or closing bracket, a number.
_JSON_TOKEN = re.compile(
    rb'[^"\[\]{}\-0-9]*(?:("[^"\\]*(?:\\.[^"\\]*)*")|([\[{])|([\]}])|(-?[0-9][-+.0-9eE]*))',
    re.DOTALL,
)
_STRING, _OPENING, _CLOSING, _NUMBER = 1, 2, 3, 4
NEWLINE = b"\n"
# \u0000 written as an escape, not itself escaped (\\u0000 is the six characters "\u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _line_of(data: bytes, offset: int) -> str:
    return f"line {data.count(NEWLINE, 0, offset) + 1}"


def check_json(data: bytes) -> None:
    """Check JSON text against the bundle limits before it is parsed.

    One pass over the bytes with a compiled pattern: depth is counted bracket by bracket,
    values (strings, numbers, lists, objects; object keys count too) as they come, and each
    string's and number's length as written. A malformed file is left for the JSON parser to
    describe; this only makes sure that parsing it is cheap. Raises :class:`LimitExceeded`.
    """
    max_depth, max_values = JSON_DEPTH, JSON_VALUES
    max_string, max_number = JSON_STRING_CHARS + 2, JSON_NUMBER_CHARS
    depth = values = 0
    for match in _JSON_TOKEN.finditer(data):
        kind = match.lastindex
        if kind == _CLOSING:
            depth -= 1
            continue
        values += 1
        start, end = match.span(kind)
        if kind == _STRING:
            if end - start > max_string:
                raise LimitExceeded(
                    "JSON_STRING_CHARS",
                    f"a text of {end - start - 2:,} characters",
                    _line_of(data, start),
                )
        elif kind == _OPENING:
            depth += 1
            if depth > max_depth:
                raise LimitExceeded(
                    "JSON_DEPTH",
                    "lists and objects nested deeper",
                    _line_of(data, start),
                )
        elif end - start > max_number:
            raise LimitExceeded(
                "JSON_NUMBER_CHARS",
                f"a number of {end - start:,} characters",
                _line_of(data, start),
            )
        if values > max_values:
            raise LimitExceeded(
                "JSON_VALUES",
                "more values",
                _line_of(data, start),
            )


def json_nul_line(data: bytes) -> int | None:
    """Return the line of the first NUL character written as ``\\u0000`` in JSON text, if any.

    Not a limit but never wanted: text with NUL in it is cut short by some programs that
    read the database or an export later.
    """
    if b"\\u0000" not in data:  # the usual case, found at memory speed
        return None
    nul = _JSON_NUL.search(data)
    return None if nul is None else data.count(NEWLINE, 0, nul.start()) + 1


# --------------------------------------------------------------------------- YAML


class YamlBudget:
    """Count a YAML document's values and depth as it is composed, aliases expanded.

    The composer reports each node as it starts (:meth:`enter`) and ends (:meth:`leave`,
    with the ids of its children). A node weighs one plus what its children weigh, and an
    alias (``*name``) weighs what its anchor weighs (:meth:`alias`), so a "billion laughs"
    of nested aliases is refused at the level whose expansion passes the limit, before
    anything builds or walks it. An alias to a value that contains it is refused too.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.sizes: dict[int, int] = {}

    def enter(self, line: int) -> None:
        """Start a node: refuse it if it is nested too deeply."""
        self.depth += 1
        if self.depth > YAML_DEPTH:
            raise LimitExceeded(
                "YAML_DEPTH",
                "lists and mappings nested deeper",
                f"line {line}",
            )

    def scalar(self, value: str, line: int) -> None:
        """Refuse a value longer than the limit."""
        if len(value) > YAML_SCALAR_CHARS:
            raise LimitExceeded(
                "YAML_SCALAR_CHARS", f"a value of {len(value):,} characters", f"line {line}"
            )

    def leave(self, node_id: int, child_ids: list[int], line: int) -> None:
        """End a node: weigh it, and refuse the document once it is too big."""
        self.depth -= 1
        self._weigh(node_id, 1 + sum(self.sizes[child] for child in child_ids), line)

    def alias(self, node_id: int, line: int) -> None:
        """Check an alias: its anchor must be complete (not an ancestor of the alias)."""
        if node_id not in self.sizes:
            raise LimitExceeded(
                "YAML_NODES",
                "an alias (*name) inside the value it repeats",
                f"line {line}",
            )

    def _weigh(self, node_id: int, size: int, line: int) -> None:
        self.sizes[node_id] = size
        if size > YAML_NODES:
            raise LimitExceeded(
                "YAML_NODES",
                "more values, counting what aliases repeat",
                f"line {line}",
            )


# --------------------------------------------------------------------------- XLSX


class Refused(Exception):
    """A file holds something no file of its kind needs (a formula, a DTD); nothing was used."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _local(name: str) -> str:
    """The local part of an expat name ("URI local" with namespaces on)."""
    return name.rpartition(" ")[2]


# Tags counted in a part's bytes, with or without a namespace prefix ("<c " or "<x:c ").
_CELL_TAGS = (b"<c ", b"<c>", b"<c/>", b":c ", b":c>", b":c/>")
_FORMULA_TAGS = (b"<f>", b"<f ", b"<f/>", b":f>", b":f ", b":f/>")
_STRING_TAGS = (b"<si>", b"<si ", b":si>", b":si ")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>]")
_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3}[0-9]{1,7})"')


class _XmlScan:
    """Stream one XML part of a workbook as bytes, counting what the limits bound.

    No DTD or entity is allowed (so nothing can expand), the part must be UTF-8, and no
    single tag or text may run longer than XML_TOKEN_BYTES. In a worksheet, cells are counted
    per row and in all, and in the first worksheet a formula is refused; in the shared
    strings, the strings are counted. Counting is done with ``bytes.count`` on each row's
    stretch of the stream, so even a sheet at the cell limit is refused in about a second;
    well-formedness is left to the spreadsheet library, which reads only a file that passed.
    """

    def __init__(self, part: str, *, worksheet: bool, first_sheet: bool, cells: list[int]):
        self.part = part
        self.worksheet = worksheet
        self.strings = part.endswith("sharedStrings.xml")
        self.first_sheet = first_sheet
        self.cells = cells  # [cells counted so far in the workbook], shared between parts
        self.rows = 0
        self.row_cells = 0
        self.checked = False

    def _check_encoding(self, head: bytes) -> None:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or re.match(
            rb"<\?xml[^>]*encoding=[\"'](?!utf-?8)", head[:200], re.IGNORECASE
        ):
            raise Refused(f"{self.part} is not UTF-8, as every workbook's XML is")
        self.checked = True

    def _stretch(self, stretch: bytes, new_row: bool) -> None:
        """Count one row's stretch of a worksheet (or the text before the first row)."""
        if new_row:
            self.rows += 1
            self.row_cells = 0
        cells = sum(stretch.count(tag) for tag in _CELL_TAGS)
        self.row_cells += cells
        self.cells[0] += cells
        if self.row_cells > CASE_LIST_COLUMNS:
            raise LimitExceeded("CASE_LIST_COLUMNS", f"row {self.rows} has more cells")
        if self.cells[0] > CASE_LIST_CELLS:
            raise LimitExceeded("CASE_LIST_CELLS", f"more cells by row {self.rows}")
        if self.first_sheet:
            at = min((i for tag in _FORMULA_TAGS if (i := stretch.find(tag)) >= 0), default=-1)
            if at >= 0:
                refs = _CELL_REF.findall(stretch, 0, at)
                where = f"cell {refs[-1].decode()}" if refs else f"a cell in row {self.rows}"
                raise Refused(
                    f"{where} holds a formula; a case list holds values only: copy the cells"
                    " and paste them as values (Paste Special, Values), then save it again"
                )

    def feed(self, stream: IO[bytes]) -> None:
        tail = b""
        while chunk := stream.read(256 * 1024):
            buf = tail + chunk
            if not self.checked:
                self._check_encoding(buf)
            if b"<!DOCTYPE" in buf or b"<!ENTITY" in buf:
                raise Refused(f"{self.part} declares a DTD or entities, which no workbook has")
            cut = buf.rfind(b"<")  # keep an unfinished tag for the next chunk
            if cut < 0 or len(buf) - cut > XML_TOKEN_BYTES:
                if len(buf) > XML_TOKEN_BYTES:
                    raise LimitExceeded("XML_TOKEN_BYTES", f"a longer tag or text in {self.part}")
                cut = 0
            whole, tail = buf[:cut], buf[cut:]
            if self.worksheet:
                stretches = _ROW_TAG.split(whole)
                self._stretch(stretches[0], new_row=False)
                for stretch in stretches[1:]:
                    self._stretch(stretch, new_row=True)
            elif self.strings:
                self.cells[0] += sum(whole.count(tag) for tag in _STRING_TAGS)
                if self.cells[0] > CASE_LIST_CELLS:
                    raise LimitExceeded("CASE_LIST_CELLS", f"more texts in {self.part}")
        if self.worksheet and tail:
            self._stretch(tail, new_row=False)


def _first_sheet(archive: Any) -> str | None:
    """Name the part holding the workbook's first worksheet, as a spreadsheet would open it."""
    import posixpath
    from xml.parsers import expat

    found: dict[str, str] = {}

    def collect(part: str, wanted: set[str]) -> list[dict[str, str]]:
        """The attributes of each ``wanted`` element of a small part (checked before)."""
        seen: list[dict[str, str]] = []
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.ordered_attributes = True

        def start(name: str, attrs: list[str]) -> None:
            if _local(name) in wanted and len(seen) < XLSX_PARTS:
                seen.append({_local(attrs[i]): attrs[i + 1] for i in range(0, len(attrs), 2)})

        parser.StartElementHandler = start
        with archive.open(part) as stream:
            _XmlScan(part, worksheet=False, first_sheet=False, cells=[0]).feed(stream)
        with archive.open(part) as stream:
            parser.ParseFile(stream)
        return seen

    names = set(archive.namelist())
    workbook = "xl/workbook.xml"
    if "_rels/.rels" in names:
        for rel in collect("_rels/.rels", {"Relationship"}):
            if rel.get("Type", "").endswith("/officeDocument"):
                workbook = rel.get("Target", workbook).lstrip("/")
    if workbook not in names:
        return None
    sheets = collect(workbook, {"sheet"})
    folder, base = posixpath.split(workbook)
    rels_part = posixpath.join(folder, "_rels", base + ".rels")
    if not sheets or rels_part not in names:
        return None
    for rel in collect(rels_part, {"Relationship"}):
        found[rel.get("Id", "")] = rel.get("Target", "")
    target = found.get(sheets[0].get("id", ""), "")
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target)) if target else None


def check_xlsx(data: bytes) -> None:
    """Check an .xlsx workbook against the case-list limits before a spreadsheet library reads it.

    The zip's declared sizes are summed first (Python's zipfile never unpacks more than a
    part declares, and checks each part's CRC), then every XML part is streamed through
    expat: no DTD, bounded token length, cells counted per row and in all, and no formula in
    the first worksheet. The length of each cell's text is checked as rows are read.
    Raises :class:`LimitExceeded` or :class:`Refused`; a damaged zip or XML raises the
    zipfile or expat error for the caller to describe.
    """
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if len(infos) > XLSX_PARTS:
            raise LimitExceeded("XLSX_PARTS", f"{len(infos):,} files inside")
        unpacked = sum(info.file_size for info in infos)
        if unpacked > XLSX_UNPACKED_BYTES:
            raise LimitExceeded("XLSX_UNPACKED_BYTES", f"{unpacked / MB:,.0f} MB unpacked")
        first = _first_sheet(archive)
        cells = [0]
        for info in infos:
            if not info.filename.endswith((".xml", ".rels")):
                continue
            worksheet = "worksheets/" in info.filename
            scan = _XmlScan(
                info.filename,
                worksheet=worksheet,
                first_sheet=info.filename == first,
                cells=cells,
            )
            with archive.open(info) as stream:
                scan.feed(stream)
