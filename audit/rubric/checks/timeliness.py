"""Checks of timeliness measures: date columns, limits and units."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from audit.rubric.checks.base import BaseChecker, _at, _describe, _line, _one_of
from audit.rubric.loading import _short
from audit.rubric.model import KEYS, TIMELINESS_UNITS, TimelinessMeasure

_COLUMN = re.compile(r"[a-z][a-z0-9_]*")


class TimelinessChecks(BaseChecker):
    """Check timeliness measures."""

    def timeliness(self, root: Mapping[Any, Any]) -> tuple[TimelinessMeasure, ...]:
        """Return the default timeliness measures, reporting bad columns, limits or units."""
        if root.get("timeliness") is None:
            return ()
        items = self.sequence(root, "", "timeliness", what="timeliness measures")
        result: list[TimelinessMeasure] = []
        seen: dict[str, str] = {}
        for i, item in enumerate(items or ()):
            path = _at("timeliness", i)
            m = self.mapping(
                item,
                path,
                _line(items, i),
                *KEYS["timeliness"],
            )
            if m is None:
                continue
            measure_id = self.slug(m, path)
            unique = self.unique(
                seen, measure_id, _at(path, "id"), "timeliness measure", _line(m, "id")
            )
            name = self.text(m, path, "name")
            columns = []
            for key in ("start", "end"):
                column = self.matching(
                    m,
                    path,
                    key,
                    _COLUMN,
                    'is not a date column name: use lower-case letters, digits and "_",'
                    " such as referral_date",
                )
                columns.append(column)
            if columns[0] is not None and columns[0] == columns[1]:
                self.add(
                    _at(path, "end"),
                    "end must be a different date column from start",
                    _line(m, "end"),
                )
            limit = m.get("limit")
            if "limit" in m and (
                not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
            ):
                self.add(
                    _at(path, "limit"),
                    f"expected a whole number of at least 1; got {_describe(limit)}",
                    _line(m, "limit"),
                )
                limit = None
            unit = self.text(m, path, "unit")
            if unit is not None and unit not in TIMELINESS_UNITS:
                self.add(
                    _at(path, "unit"),
                    f'unknown unit "{_short(unit)}"; expected one of: {_one_of(TIMELINESS_UNITS)}',
                    _line(m, "unit"),
                )
                unit = None
            applies_to = self.applies_to(m, path)
            if unique and measure_id is not None:
                result.append(
                    TimelinessMeasure(
                        measure_id,
                        name or "",
                        columns[0] or "",
                        columns[1] or "",
                        limit if isinstance(limit, int) else 0,
                        unit or "",
                        applies_to,
                    )
                )
        return tuple(result)
