"""Parse rubric text and files into a Rubric, or every problem found in them."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from audit import limits
from audit.rubric.checks import Checker
from audit.rubric.loading import _load_yaml
from audit.rubric.model import Problem, Rubric, RubricInvalid


def parse_rubric(text: str, source: str = "<rubric>") -> Rubric:
    """Parse and validate rubric YAML so callers only ever hold a usable rubric."""
    data, problem = _load_yaml(text)
    if problem is not None:
        raise RubricInvalid(source, (problem,))
    checker = Checker()
    parts = checker.rubric(data)
    if checker.problems or parts is None:
        raise RubricInvalid(source, checker.problems)
    return Rubric(
        **parts,
        text=text,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=source,
    )


def validate_rubric_text(text: str, source: str = "<rubric>") -> tuple[Problem, ...]:
    """Return every problem in rubric YAML, or () when it is valid (for upload forms)."""
    try:
        parse_rubric(text, source)
    except RubricInvalid as error:
        return error.problems
    return ()


def _read_text(path: Path) -> str:
    """Read a rubric file as UTF-8, raising RubricInvalid with a located problem if unable."""
    try:
        data = limits.read_file(path, "RUBRIC_BYTES")
    except OSError as error:
        raise RubricInvalid(
            str(path), (Problem("", f"cannot read the file: {error.strerror or error}"),)
        ) from None
    except limits.LimitExceeded as error:
        raise RubricInvalid(str(path), (Problem("", f"not accepted: {error}"),)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        problem = Problem(
            "",
            f"not UTF-8 text: byte 0x{data[error.start]:02x} cannot be read;"
            " save the file as UTF-8",
            line,
            column,
        )
        raise RubricInvalid(str(path), (problem,)) from None


def load_rubric_file(path: Path) -> Rubric:
    """Read and parse one rubric file, naming the file in any problem."""
    path = Path(path)
    return parse_rubric(_read_text(path), str(path))


def check_rubric_file(path: Path) -> tuple[Problem, ...]:
    """Return every problem in a rubric file, or () when it is valid (for the CLI check)."""
    try:
        load_rubric_file(path)
    except RubricInvalid as error:
        return error.problems
    return ()


def version_sort_key(version: str) -> tuple[tuple[Any, ...], str]:
    """Return a key that orders versions numerically where they are numbers: 1.10 after 1.9."""
    parts = re.split(r"(\d+)", version.strip())
    natural = tuple(int(part) if i % 2 else part.casefold() for i, part in enumerate(parts))
    return natural, version
