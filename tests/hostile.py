"""A corpus of hostile files, made on the fly: each is refused whole, quickly, naming why.

Used by tests/test_hostile.py (each file through the web upload and the command line) and by
bench/hostile.py (each file in its own process, timed, with its peak memory). Nothing here is
committed as a file: the big ones are generated in a temporary folder when needed.

``scale`` shrinks the files that are big only to pass a limit (1.0 is the real thing); the
tests use a small scale together with lowered limits, the benchmark the real sizes.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_OOXML = "http://schemas.openxmlformats.org"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels"'
    ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SHEET_TYPE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SHEET_TYPE}.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_OOXML}/officeDocument/2006/relationships/officeDocument"'
    ' Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Cases" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_OOXML}/officeDocument/2006/relationships/worksheet"'
    ' Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>reference</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>case_type</t></is></c></row>'
)
_SHEET_END = "</sheetData></worksheet>"


def workbook(
    path: Path,
    sheet_body: Callable[[Callable[[str], None]], None],
    prolog: str = "",
    declared: int | None = None,
) -> None:
    """Write a minimal .xlsx whose first worksheet's rows come from ``sheet_body(write)``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:

            def write(text: str) -> None:
                sheet.write(text.encode("utf-8"))

            write(prolog + _SHEET_START)
            sheet_body(write)
            write(_SHEET_END)
    if declared is not None:
        _lie_about_size(path, "xl/worksheets/sheet1.xml", declared)


def _lie_about_size(path: Path, member: str, declared: int) -> None:
    """Rewrite a member's declared unpacked size (a zip bomb that hides its size)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (found := data.find(signature, start)) >= 0:
            start = found + 4
            header = 46 if signature == b"PK\x01\x02" else 30
            length = int.from_bytes(data[found + (28 if header == 46 else 26) :][:2], "little")
            if data[found + header : found + header + length] == name:
                data[found + size_at : found + size_at + 4] = declared.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def _repeat(block: str, times: int) -> Callable[[Callable[[str], None]], None]:
    def body(write: Callable[[str], None]) -> None:
        for _ in range(times):
            write(block)

    return body


def _one_wide_row(cells: int) -> Callable[[Callable[[str], None]], None]:
    def body(write: Callable[[str], None]) -> None:
        write('<row r="2">')
        block = '<c t="n"><v>1</v></c>' * 1000
        for _ in range(max(1, cells // 1000)):
            write(block)
        write("</row>")

    return body


def _bundle(**extra: object) -> bytes:
    doc = {"format": "case-audit-bundle", "format_version": 1, **extra}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Hostile:
    """One hostile file: what it is for, its name, how to make it, and a phrase of its refusal."""

    name: str
    kind: str  # "bundle", "rubric" or "caselist"
    filename: str
    make: Callable[[Path, float], None]
    refusal: str
    web_too_large: bool = False  # bigger than MAX_CONTENT_LENGTH: the web answers 413

    def write(self, folder: Path, scale: float = 1.0) -> Path:
        path = folder / self.filename
        self.make(path, scale)
        return path


def _bytes(data: Callable[[float], bytes]) -> Callable[[Path, float], None]:
    return lambda path, scale: path.write_bytes(data(scale))


def _n(count: int, scale: float) -> int:
    return max(1, int(count * scale))


CORPUS: tuple[Hostile, ...] = (
    # Found 1: 100,000 nested brackets made the JSON parser raise RecursionError (a 500).
    Hostile(
        "deep-json",
        "bundle",
        "deep.case-audit.json",
        _bytes(lambda s: b"[" * 100_000 + b"]" * 100_000),
        "JSON_DEPTH",
    ),
    Hostile(
        "many-values-json",
        "bundle",
        "values.case-audit.json",
        _bytes(lambda s: b"[" + b"{}," * _n(2_600_000, s) + b"{}]"),
        "JSON_VALUES",
    ),
    Hostile(
        "huge-text-json",
        "bundle",
        "text.case-audit.json",
        _bytes(lambda s: _bundle(exported_by="x" * _n(1_200_000, s))),
        "JSON_STRING_CHARS",
    ),
    Hostile(
        "huge-number-json",
        "bundle",
        "number.case-audit.json",
        _bytes(lambda s: b'{"format_version": ' + b"9" * 5000 + b"}"),
        "JSON_NUMBER_CHARS",
    ),
    Hostile(
        "invalid-utf8-json",
        "bundle",
        "latin.case-audit.json",
        _bytes(lambda s: _bundle(exported_by="caf\u00e9").replace(b"\xc3\xa9", b"\xe9")),
        "not UTF-8",
    ),
    Hostile(
        "nul-json",
        "bundle",
        "nul.case-audit.json",
        _bytes(lambda s: _bundle(exported_by="a\x00b")),
        "NUL character",
    ),
    Hostile(
        "oversized-json",
        "bundle",
        "big.case-audit.json",
        _bytes(lambda s: b" " * (_n(51 * 2**20, s)) + b"{}"),
        "BUNDLE_BYTES",
        web_too_large=True,
    ),
    # YAML: the "billion laughs" of nested aliases, the same with merge keys, and nesting.
    Hostile(
        "alias-bomb-yaml",
        "rubric",
        "laughs.yaml",
        _bytes(
            lambda s: (
                'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
                + "".join(
                    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n"
                    for i in range(9)
                )
            ).encode()
        ),
        "YAML_NODES",
    ),
    Hostile(
        "merge-bomb-yaml",
        "rubric",
        "merges.yaml",
        _bytes(
            lambda s: (
                "a: &a {x: 1, y: 2}\n"
                + "".join(
                    f"{chr(98 + i)}: &{chr(98 + i)} {{<<: [{','.join(['*' + chr(97 + i)] * 9)}]}}\n"
                    for i in range(9)
                )
            ).encode()
        ),
        "YAML_NODES",
    ),
    Hostile(
        "deep-yaml",
        "rubric",
        "deep.yaml",
        _bytes(lambda s: "".join(" " * i + "- \n" for i in range(100)).encode()),
        "YAML_DEPTH",
    ),
    Hostile(
        "deep-flow-yaml",
        "rubric",
        "flow.yaml",
        _bytes(lambda s: b"[" * 5_000 + b"]" * 5_000),
        "nesting depth",
    ),
    Hostile(
        "huge-value-yaml",
        "rubric",
        "value.yaml",
        _bytes(lambda s: b'id: x\ntitle: "' + b"x" * _n(200_000, s) + b'"\n'),
        "YAML_SCALAR_CHARS",
    ),
    Hostile(
        "invalid-utf8-yaml", "rubric", "latin.yaml", _bytes(lambda s: b"id: caf\xe9\n"), "UTF-8"
    ),
    Hostile("nul-yaml", "rubric", "nul.yaml", _bytes(lambda s: b"id: a\x00b\n"), "U+0000"),
    Hostile(
        "oversized-yaml",
        "rubric",
        "big.yaml",
        _bytes(lambda s: b"#" * _n(2 * 2**20, s) + b"\nid: x\n"),
        "RUBRIC_BYTES",
    ),
    # Found 2: one row of 15 million cells (427 KB packed) took 370 s and 5.5 GB.
    Hostile(
        "huge-row-xlsx",
        "caselist",
        "row.xlsx",
        lambda p, s: workbook(p, _one_wide_row(_n(15_000_000, s))),
        "XLSX_UNPACKED_BYTES",
    ),
    Hostile(
        "wide-row-xlsx",
        "caselist",
        "wide.xlsx",
        lambda p, s: workbook(p, _one_wide_row(20_000)),
        "CASE_LIST_COLUMNS",
    ),
    Hostile(
        "many-cells-xlsx",
        "caselist",
        "cells.xlsx",
        lambda p, s: workbook(
            p, _repeat('<row><c t="n"><v>1</v></c><c t="n"><v>2</v></c></row>', _n(300_000, s))
        ),
        "CASE_LIST_CELLS",
    ),
    Hostile(
        "zip-bomb-xlsx",
        "caselist",
        "bomb.xlsx",
        lambda p, s: workbook(p, _repeat(" " * 65536, _n(3200, s))),
        "XLSX_UNPACKED_BYTES",
    ),
    Hostile(
        "lying-zip-xlsx",
        "caselist",
        "liar.xlsx",
        lambda p, s: workbook(p, _repeat(" " * 65536, 200), declared=1000),
        "cannot be read",
    ),
    Hostile(
        "entity-bomb-xlsx",
        "caselist",
        "entities.xlsx",
        lambda p, s: workbook(
            p,
            _repeat("", 0),
            prolog='<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>',
        ),
        "DTD",
    ),
    Hostile(
        "formula-xlsx",
        "caselist",
        "formula.xlsx",
        lambda p, s: workbook(
            p,
            _repeat(
                '<row r="2"><c r="A2" t="str"><f>HYPERLINK("http://example.invalid","x")</f>'
                '<v>x</v></c><c r="B2" t="inlineStr"><is><t>cp</t></is></c></row>',
                1,
            ),
        ),
        "formula",
    ),
    Hostile(
        "nul-xlsx",
        "caselist",
        "nul.xlsx",
        lambda p, s: workbook(
            p, _repeat('<row r="2"><c r="A2" t="inlineStr"><is><t>a\x00b</t></is></c></row>', 1)
        ),
        "cannot be read",
    ),
    Hostile(
        "formula-csv",
        "caselist",
        "formula.csv",
        _bytes(lambda s: b'reference,case_type\n"=HYPERLINK(""http://x"",""y"")",cp\n'),
        "formula",
    ),
    Hostile(
        "huge-cell-csv",
        "caselist",
        "cell.csv",
        _bytes(lambda s: b"reference,case_type,notes\nA1,cp," + b"x" * 100_000 + b"\n"),
        "CELL_CHARS",
    ),
    Hostile(
        "wide-row-csv",
        "caselist",
        "wide.csv",
        _bytes(lambda s: b"reference,case_type\nA1,cp" + b",x" * 50_000 + b"\n"),
        "CASE_LIST_COLUMNS",
    ),
    Hostile(
        "invalid-utf8-csv",
        "caselist",
        "latin.csv",
        _bytes(lambda s: b"reference,case_type\nA\x81\x8d1,cp\n"),
        "neither UTF-8",
    ),
    Hostile(
        "nul-csv",
        "caselist",
        "nul.csv",
        _bytes(lambda s: b"reference,case_type\nA\x001,cp\n"),
        "not a text file",
    ),
    Hostile(
        "oversized-csv",
        "caselist",
        "big.csv",
        _bytes(lambda s: b"reference,case_type\n" + b"\n" * _n(21 * 2**20, s)),
        "CASE_LIST_BYTES",
        web_too_large=True,
    ),
)
