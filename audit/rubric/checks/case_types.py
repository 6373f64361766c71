"""Checks of the case types a rubric declares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.rubric.checks.base import BaseChecker, _at, _describe, _line, _quote_hint
from audit.rubric.loading import _short
from audit.rubric.model import KEYS, CaseType, _normal_name


class CaseTypeChecks(BaseChecker):
    """Check case_types: ids, labels and aliases that no two types share."""

    def case_types(self, root: Mapping[Any, Any]) -> tuple[CaseType, ...]:
        """Return the declared case types, reporting ids or names that clash."""
        items = self.sequence(root, "", "case_types", what="case types")
        if items is None:
            return ()
        result: list[CaseType] = []
        seen: dict[str, str] = {}
        names: dict[str, tuple[str, str]] = {}
        for i, item in enumerate(items):
            path = _at("case_types", i)
            m = self.mapping(item, path, _line(items, i), *KEYS["case_type"])
            if m is None:
                continue
            ct_id = self.slug(m, path)
            label = self.text(m, path, "label")
            aliases: list[str] = []
            names_here: list[tuple[str | None, str, int | None]] = [
                (ct_id, "id", _line(m, "id")),
                (label, "label", _line(m, "label")),
            ]
            raw_aliases = m.get("aliases")
            if raw_aliases is not None and not isinstance(raw_aliases, list):
                self.add(
                    _at(path, "aliases"),
                    f"expected a list of names; got {_describe(raw_aliases)}",
                    _line(m, "aliases"),
                )
            elif raw_aliases:
                for j, alias in enumerate(raw_aliases):
                    ap = _at(_at(path, "aliases"), j)
                    if not isinstance(alias, str) or not alias.strip():
                        self.add(
                            ap,
                            f"expected a name; got {_describe(alias)}{_quote_hint(alias)}",
                            _line(raw_aliases, j),
                        )
                        continue
                    aliases.append(" ".join(alias.split()))
                    names_here.append((alias, f"aliases[{j}]", _line(raw_aliases, j)))
            if not self.unique(seen, ct_id, _at(path, "id"), "case type", _line(m, "id")):
                continue
            assert ct_id is not None
            for name, where, name_line in names_here:
                if name is None:
                    continue
                other = names.setdefault(_normal_name(name), (ct_id, _at(path, where)))
                if other[0] != ct_id:
                    self.add(
                        _at(path, where),
                        f'"{_short(name)}" already names case type "{other[0]}" ({other[1]});'
                        " imported case lists could not tell them apart",
                        name_line,
                    )
            result.append(CaseType(ct_id, label or "", tuple(aliases)))
        self.case_type_ids = [ct.id for ct in result]
        return tuple(result)
