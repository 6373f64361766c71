"""Checks of the grading scale and which of its levels count as good."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.rubric.checks.base import BaseChecker, _at, _describe, _is_number, _line, _one_of
from audit.rubric.loading import _short
from audit.rubric.model import KEYS, NOT_APPLICABLE, Level, Scale


class ScaleChecks(BaseChecker):
    """Check the scale's levels and good_or_better."""

    def scale(self, root: Mapping[Any, Any]) -> Scale | None:
        """Return the grading scale, reporting every faulty level and good_or_better problem."""
        if "scale" not in root:
            return None
        m = self.mapping(root["scale"], "scale", _line(root, "scale"), *KEYS["scale"])
        if m is None:
            return None
        items = self.sequence(m, "scale", "levels", what="levels")
        levels: list[Level] = []
        seen: dict[str, str] = {}
        # Every id written, even on a faulty level, so references to it are not flagged too.
        named: list[str] = []
        labels: dict[str, str] = {}
        # Which level is best is unclear only when the values contradict the written order.
        order_known = True
        ok = items is not None
        ids_complete = ok
        for i, item in enumerate(items or ()):
            path = _at("scale.levels", i)
            lm = self.mapping(item, path, _line(items, i), *KEYS["level"])
            if lm is None:
                ok = ids_complete = False
                continue
            level_id = self.slug(lm, path)
            if level_id is None:
                ids_complete = False
            elif level_id not in named:
                named.append(level_id)
            label = self.text(lm, path, "label")
            if level_id is not None and label is not None:
                labels.setdefault(level_id, label)
            value = lm.get("value")
            if "value" in lm and not _is_number(value):
                self.add(
                    _at(path, "value"),
                    f"expected a number; got {_describe(value)}",
                    _line(lm, "value"),
                )
                ok = False
            if level_id == NOT_APPLICABLE:
                self.add(
                    _at(path, "id"),
                    f'"{NOT_APPLICABLE}" is kept for "not applicable" answers; choose another id',
                    _line(lm, "id"),
                )
                ok = False
                continue
            if not self.unique(seen, level_id, _at(path, "id"), "level", _line(lm, "id")):
                ok = False
                continue
            if not _is_number(value) or label is None:
                ok = False
                continue
            assert level_id is not None
            if levels and value >= levels[-1].value:
                self.add(
                    _at(path, "value"),
                    f"{value} is not lower than the level above"
                    f' ("{levels[-1].id}", {levels[-1].value:g}):'
                    " list levels best first with strictly decreasing values",
                    _line(lm, "value"),
                )
                ok = False
                order_known = False
            levels.append(Level(level_id, label, float(value)))
        self.level_ids = named if ids_complete and named else None
        good = self.good_levels(m, self.level_ids, labels, in_order=order_known)
        self.good_or_better = good
        if not ok or not levels or good is None:
            return None
        return Scale(tuple(levels), good)

    def good_levels(
        self,
        m: Mapping[Any, Any],
        level_ids: list[str] | None,
        labels: Mapping[str, str],
        *,
        in_order: bool,
    ) -> frozenset[str] | None:
        """Return the good-or-better level ids, checking they are the scale's best levels."""
        items = self.sequence(m, "scale", "good_or_better", what="level ids")
        if items is None:
            return None
        path = "scale.good_or_better"
        chosen: list[str] = []
        ok = True
        for i, item in enumerate(items):
            ip, il = _at(path, i), _line(items, i)
            if not isinstance(item, str):
                self.add(ip, f"expected a level id; got {_describe(item)}", il)
                ok = False
            elif level_ids is not None and item.strip() not in level_ids:
                self.add(
                    ip, f'unknown level "{_short(item)}"; levels are: {_one_of(level_ids)}', il
                )
                ok = False
            elif item.strip() in chosen:
                self.add(ip, f'level "{item.strip()}" is listed twice', il)
            else:
                chosen.append(item.strip())
        if not ok or level_ids is None:
            return None
        if not in_order:
            return frozenset(chosen)
        # Levels are listed best first, so the written order holds even when a value is wrong.
        top = level_ids[: len(chosen)]
        example = " and ".join(labels.get(level, level) for level in level_ids[:2])
        if set(chosen) != set(top):
            self.add(
                path,
                f"must be the best levels of the scale (for example {example}):"
                f" every level above a good one is good too; expected {_one_of(top)}",
                _line(m, "good_or_better"),
            )
            return None
        return frozenset(chosen)
