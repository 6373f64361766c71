"""The rubric library: every rubric file in a list of folders, re-read when it changes."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from audit.rubric.model import Problem, Rubric, RubricInvalid
from audit.rubric.parsing import load_rubric_file, version_sort_key

_Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class _LibraryState:
    """One consistent snapshot of the library, swapped in whole so readers never see a mix."""

    signature: tuple[tuple[Path, _Stamp], ...] | None = None
    results: Mapping[Path, tuple[_Stamp, Rubric | tuple[Problem, ...]]] = field(
        default_factory=dict, hash=False
    )
    valid: tuple[Rubric, ...] = ()
    invalid: tuple[tuple[Path, tuple[Problem, ...]], ...] = ()


class RubricLibrary:
    """The rubrics available to reviews: every *.yaml/*.yml file in a list of folders."""

    def __init__(self, dirs: Sequence[Path]) -> None:
        unique: list[Path] = []
        for folder in dirs:
            folder = Path(folder)
            if all(os.path.abspath(folder) != os.path.abspath(other) for other in unique):
                unique.append(folder)
        self.dirs: tuple[Path, ...] = tuple(unique)
        self._lock = threading.Lock()
        self._state = _LibraryState()

    def _scan(self) -> tuple[tuple[Path, _Stamp], ...]:
        found: list[tuple[Path, _Stamp]] = []
        for folder in self.dirs:
            try:
                with os.scandir(folder) as entries:
                    names = sorted(entry.name for entry in entries)
            except OSError:
                continue  # a missing folder just holds no rubrics
            for name in names:
                if name.startswith(".") or not name.endswith((".yaml", ".yml")):
                    continue
                path = folder / name
                try:
                    info = path.stat()
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    found.append((path, (info.st_mtime_ns, info.st_size, info.st_ino)))
        return tuple(found)

    def refresh(self) -> None:
        """Rescan the folders, re-reading only files whose time, size or inode changed."""
        with self._lock:
            signature = self._scan()
            old = self._state
            if signature == old.signature:
                return
            results: dict[Path, tuple[_Stamp, Rubric | tuple[Problem, ...]]] = {}
            for path, stamp in signature:
                previous = old.results.get(path)
                if previous is not None and previous[0] == stamp:
                    results[path] = previous
                    continue
                try:
                    result: Rubric | tuple[Problem, ...] = load_rubric_file(path)
                except RubricInvalid as error:
                    result = error.problems
                results[path] = (stamp, result)
            valid: list[Rubric] = []
            invalid: list[tuple[Path, tuple[Problem, ...]]] = []
            owners: dict[tuple[str, str], Path] = {}
            for path, _ in signature:
                result = results[path][1]
                if not isinstance(result, Rubric):
                    invalid.append((path, result))
                    continue
                if result.key in owners:
                    problem = Problem(
                        "version",
                        f'rubric "{result.id}" version "{result.version}" is already defined in'
                        f" {owners[result.key]}; change the version (or the id) of one of them",
                    )
                    invalid.append((path, (problem,)))
                    continue
                owners[result.key] = path
                valid.append(result)
            valid.sort(key=lambda r: (r.title.casefold(), version_sort_key(r.version)))
            self._state = _LibraryState(signature, results, tuple(valid), tuple(invalid))

    def rubrics(self) -> tuple[Rubric, ...]:
        """Return the valid rubrics, sorted by title then version."""
        self.refresh()
        return self._state.valid

    def invalid(self) -> tuple[tuple[Path, tuple[Problem, ...]], ...]:
        """Return the files that could not be used, each with its problems."""
        self.refresh()
        return self._state.invalid

    def get(self, rubric_id: str, version: str | None = None) -> Rubric:
        """Return a rubric by id, the latest version unless one is named."""
        matches = [r for r in self.rubrics() if r.id == rubric_id]
        if version is not None:
            matches = [r for r in matches if r.version == version]
        if not matches:
            shown = rubric_id if version is None else f"{rubric_id} version {version}"
            raise KeyError(f"no valid rubric {shown}")
        return max(matches, key=lambda r: version_sort_key(r.version))
