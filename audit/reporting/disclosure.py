"""Disclosure control: one model of every public number, and how the public version writes it.

A report says what it prints through a :class:`Model`, the way Statistics Norway's
GaussSuppression and tau-ARGUS build a table: the records it counts (case files, audits,
answers, alerts, ...) are cross-classified into **frames** whose combinations are the *inner
cells*, and every printed count is a **published cell**, a sum of inner cells (a column of a
sparse 0/1 model matrix). A reader's arithmetic needs no registering: any published cell that
is a combination of others is found from the matrix itself. What a careful reader also knows
(which case types a question applies to, that frames count the same records, that every
audited case has an overall judgement) is added as **knowledge**: linear constraints over the
inner cells, each kept only when it is true of the review (a guess that is right).

:meth:`Model.protect` makes the public :class:`View` (see :mod:`audit.reporting.protection`):

* **Primary suppression**: every sensitive count from 1 to ``threshold - 1`` is withheld.
* **The attacker**: for each withheld count, its smallest and largest value given everything
  printed, solved exactly as an integer programme with HiGHS.
* **Complementary suppression** that loses least: while a withheld small count can be
  narrowed to fewer than three values, or a complementary count pinned, the cheapest printed
  counts that free it are withheld too (an optimisation over the model); the counts the
  report hangs on (``anchor``) only when nothing else will do. Where no choice frees a count,
  its group (a breakdown, a row) is left out. The public version can always be made.

:class:`View` writes counts for one audience: digits, "<5" or "[c]" in tables, "fewer than 5
cases" or "5 or more cases" in sentences, shares only when their count, total and remainder
are all printed. Every number it writes is recorded in :attr:`View.printed`, so a test can
check that the rendered report prints no number the model does not know.

Nothing here knows the findings report: :mod:`audit.reporting.public_figures` defines its
numbers; another report (a partnership audit's) defines its own the same way.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from audit.findings import percent
from audit.stats import Proportion

DEFAULT_THRESHOLD = 5
WITHHELD = "[c]"
"""How a count withheld only so that a small count cannot be worked out is written."""
PRIMARY = "primary"
SECONDARY = "secondary"
LEFT_OUT = "left out"
PRINTED = "printed"
LEFT_OUT_WORDS = "not shown in the public version"
MIN_VALUES = 3
"""A withheld small count must keep at least this many possible values (fewer if the
threshold itself allows fewer: a "<3" has only two)."""


class DisclosureError(Exception):
    """The model is defined inconsistently (a programming error, never the review's data)."""


# --------------------------------------------------------------------------- the model


class Selection(Mapping[int, int]):
    """A linear combination of inner cells: column index -> coefficient (usually 1)."""

    __slots__ = ("_terms",)

    def __init__(self, terms: Mapping[int, int] | Iterable[tuple[int, int]] = ()) -> None:
        if isinstance(terms, Selection):
            self._terms: dict[int, int] = terms._terms
            return
        merged: dict[int, int] = {}
        for col, coef in terms.items() if isinstance(terms, Mapping) else terms:
            merged[col] = merged.get(col, 0) + coef
        self._terms = {c: v for c, v in merged.items() if v}

    @classmethod
    def ones(cls, cols: Iterable[int]) -> Selection:
        """Return the plain sum of distinct inner cells."""
        selection = cls.__new__(cls)
        selection._terms = dict.fromkeys(cols, 1)
        return selection

    def __getitem__(self, col: int) -> int:
        return self._terms[col]

    def __iter__(self) -> Iterator[int]:
        return iter(self._terms)

    def __len__(self) -> int:
        return len(self._terms)

    def __contains__(self, col: object) -> bool:
        return col in self._terms

    def items(self) -> Any:
        """Return (column, coefficient) pairs."""
        return self._terms.items()

    def __add__(self, other: Mapping[int, int]) -> Selection:
        return Selection(itertools.chain(self._terms.items(), other.items()))

    def __sub__(self, other: Mapping[int, int]) -> Selection:
        return Selection(itertools.chain(self._terms.items(), ((c, -v) for c, v in other.items())))

    def signature(self) -> tuple[tuple[int, int], ...]:
        """Return the combination in a canonical order (equal sums have equal signatures)."""
        return tuple(sorted(self._terms.items()))

    def __repr__(self) -> str:
        return f"Selection({self._terms})"


def total(selections: Iterable[Mapping[int, int]]) -> Selection:
    """Return the sum of several selections (a pooled figure, a row across frames)."""
    return Selection(itertools.chain.from_iterable(s.items() for s in selections))


class Frame:
    """Records of one kind cross-classified by some dimensions: the inner cells.

    Every combination of the dimensions' categories is an inner cell, except those
    ``possible`` rules out: combinations a reader knows cannot occur (a question asked of
    case types it does not apply to, a graded case that is still waiting for its audit).
    """

    def __init__(
        self,
        model: Model,
        name: str,
        dims: Mapping[str, Sequence[str]],
        possible: Callable[[Mapping[str, str]], bool] | None,
    ) -> None:
        self.model = model
        self.name = name
        self.dims = tuple(dims)
        self.domains = {dim: tuple(dict.fromkeys(values)) for dim, values in dims.items()}
        self.index: dict[tuple[str, ...], int] = {}
        for combo in itertools.product(*(self.domains[d] for d in self.dims)):
            if possible is None or possible(dict(zip(self.dims, combo, strict=True))):
                self.index[combo] = model._column(self, combo)

    def add(self, count: int = 1, **categories: str) -> None:
        """Count ``count`` records with these categories (one per dimension)."""
        combo = tuple(categories.get(d, "") for d in self.dims)
        if set(categories) != set(self.dims):
            raise DisclosureError(f"{self.name}: a record needs {self.dims}, got {categories}")
        col = self.index.get(combo)
        if col is None:
            raise DisclosureError(f"{self.name}: {categories} is not a possible combination")
        self.model._truth[col] += int(count)

    def where(self, **conditions: str | Collection[str]) -> Selection:
        """Select the inner cells whose categories meet the conditions (all, if none)."""
        allowed = []
        for dim in self.dims:
            wanted = conditions.pop(dim, None)
            domain = self.domains[dim]
            if wanted is None:
                allowed.append(domain)
                continue
            values = (wanted,) if isinstance(wanted, str) else tuple(wanted)
            unknown = [v for v in values if v not in domain]
            if unknown:
                raise DisclosureError(f"{self.name}.{dim}: unknown categories {unknown}")
            allowed.append(values)
        if conditions:
            raise DisclosureError(f"{self.name}: no dimensions {sorted(conditions)}")
        index = self.index
        return Selection.ones(
            index[combo] for combo in itertools.product(*allowed) if combo in index
        )

    def __repr__(self) -> str:
        return f"Frame({self.name!r}, {self.dims})"


@dataclass
class Cell:
    """A published cell: a sum of inner cells printed somewhere, under one key."""

    key: str
    selection: Selection
    value: int
    sensitive: bool = True
    """A count about children (withheld when small); False for counts of the review's own
    work (audits moderated, cases audited twice), printed whatever their size."""
    anchor: bool = False
    """A count the report hangs on: withheld only when small, or when nothing else will do."""
    group: str = ""
    """What is left out together when no suppression can protect a count in it."""
    weight: float = 1.0
    """How much withholding it costs: complementary suppression picks the cheapest."""
    implied: bool = False
    """Never printed itself: what is left of a share (its total minus its count)."""
    public: bool = True


@dataclass(frozen=True)
class Knowledge:
    """A linear constraint a careful reader knows: ``lo <= sum(coef * cell) <= hi``."""

    terms: Selection
    lo: float
    hi: float
    why: str


@dataclass(frozen=True)
class Group:
    """A part of the report that can be left out of the public version as a whole."""

    name: str
    label: str
    droppable: bool = True


class Model:
    """Every count a report prints, defined by the records it counts.

    ``knowledge=False`` makes a model for the internal version only: it writes every count
    as it is, so what a reader knows is never needed and is not worked out.
    """

    def __init__(self, *, knowledge: bool = True) -> None:
        self.wants_knowledge = knowledge
        self.frames: dict[str, Frame] = {}
        self.cells: dict[str, Cell] = {}
        self.knowledge: list[Knowledge] = []
        self.groups: dict[str, Group] = {}
        self.declined: list[str] = []
        """Knowledge not added because it is not true of this review (for the curious)."""
        self.notes: list[str] = []
        """Sentences about how the public version was redesigned (collapsed breakdowns)."""
        self._truth: list[int] = []
        self._columns: list[tuple[str, tuple[str, ...]]] = []

    # -- inner cells

    def _column(self, frame: Frame, combo: tuple[str, ...]) -> int:
        self._columns.append((frame.name, combo))
        self._truth.append(0)
        return len(self._truth) - 1

    def frame(
        self,
        name: str,
        dims: Mapping[str, Sequence[str]],
        records: Iterable[Mapping[str, str]] = (),
        *,
        possible: Callable[[Mapping[str, str]], bool] | None = None,
    ) -> Frame:
        """Add a frame of records cross-classified by ``dims`` (name -> categories)."""
        if name in self.frames:
            raise DisclosureError(f"frame {name} defined twice")
        frame = Frame(self, name, dims, possible)
        self.frames[name] = frame
        for record in records:
            frame.add(**record)
        return frame

    @property
    def size(self) -> int:
        """Return the number of inner cells."""
        return len(self._truth)

    def truth(self) -> list[int]:
        """Return the true count of every inner cell (for the attacker's tests)."""
        return list(self._truth)

    def column(self, col: int) -> tuple[str, tuple[str, ...]]:
        """Return (frame name, categories) of an inner cell."""
        return self._columns[col]

    def fingerprint(self, threshold: int) -> str:
        """Return a digest of everything protection depends on (equal models, equal views)."""
        import hashlib

        digest = hashlib.sha256(f"{threshold}|{self._truth}".encode())
        for key, c in self.cells.items():
            group = self.groups.get(c.group)
            digest.update(
                f"{key}|{c.selection.signature()}|{c.sensitive}|{c.anchor}|{c.group}|"
                f"{group.droppable if group else ''}|{c.weight}|{c.implied}|{c.public}\n".encode()
            )
        for known in self.knowledge:
            digest.update(f"{known.terms.signature()}|{known.lo}|{known.hi}\n".encode())
        return digest.hexdigest()

    def value(self, selection: Mapping[int, int]) -> int:
        """Return the true value of a combination of inner cells."""
        truth = self._truth
        return sum(truth[col] * coef for col, coef in selection.items())

    # -- published cells

    def group(self, name: str, label: str = "", *, droppable: bool = True) -> str:
        """Declare a part of the report that is left out whole when it cannot be protected."""
        self.groups.setdefault(name, Group(name, label or name, droppable))
        return name

    def cell(
        self,
        key: str,
        selection: Mapping[int, int],
        *,
        sensitive: bool = True,
        anchor: bool = False,
        group: str = "",
        weight: float = 1.0,
        implied: bool = False,
        public: bool = True,
    ) -> str:
        """Publish a count under ``key``: the sum of the selected inner cells."""
        selection = selection if isinstance(selection, Selection) else Selection(selection)
        value = self.value(selection)
        if value < 0:
            raise DisclosureError(f"{key}: a count cannot be negative ({value})")
        if key in self.cells:
            old = self.cells[key]
            if old.selection.signature() != selection.signature():
                raise DisclosureError(f"{key}: defined twice as different sums")
            return key
        if group and group not in self.groups:
            self.group(group)
        self.cells[key] = Cell(
            key, selection, value, sensitive, anchor, group, weight, implied, public
        )
        return key

    def share(
        self,
        prefix: str,
        count: Mapping[int, int],
        n: Mapping[int, int],
        *,
        anchor: bool = False,
        **options: Any,
    ) -> str:
        """Publish a share: ``prefix:count`` of ``prefix:n``, and what is left (``:rest``)."""
        count = count if isinstance(count, Selection) else Selection(count)
        n = n if isinstance(n, Selection) else Selection(n)
        weight = options.pop("weight", 1.0)
        # Withholding the total loses the whole share: the count goes first where either would do.
        self.cell(f"{prefix}:n", n, anchor=anchor, weight=weight * 1.5, **options)
        self.cell(f"{prefix}:count", count, anchor=anchor, weight=weight, **options)
        self.cell(f"{prefix}:rest", n - count, implied=True, weight=weight, **options)
        return prefix

    def same_as(self, key: str, other: str) -> None:
        """Publish ``key`` as the very figure ``other`` (printed twice, one truth)."""
        self.cell(key, self.cells[other].selection, **_options(self.cells[other]))

    # -- what a careful reader knows

    def know(
        self,
        lhs: Mapping[int, int],
        op: str = "==",
        rhs: Mapping[int, int] | int = 0,
        *,
        why: str,
    ) -> bool:
        """Add a constraint a reader may rely on, if it is true of this review.

        A reader's guess ("every case was graded", "no re-audits") helps them only when it
        is right: it is added exactly when it holds, so the attacker is given every right
        guess. Returns whether it was added.
        """
        if not self.wants_knowledge:
            return False
        terms = Selection(lhs)
        constant = 0
        if isinstance(rhs, int):
            constant = rhs
        else:
            terms = terms - rhs
        value = self.value(terms)
        if op == "==":
            holds, lo, hi = value == constant, float(constant), float(constant)
        elif op == "<=":
            holds, lo, hi = value <= constant, float("-inf"), float(constant)
        elif op == ">=":
            holds, lo, hi = value >= constant, float(constant), float("inf")
        else:
            raise DisclosureError(f"unknown comparison {op!r}")
        if not holds:
            self.declined.append(why)
            return False
        if terms:
            self.knowledge.append(Knowledge(terms, lo, hi, why))
        return True

    def link(
        self,
        a: Frame,
        b: Frame,
        on: Sequence[str],
        *,
        where_a: Mapping[str, str | Collection[str]] | None = None,
        where_b: Mapping[str, str | Collection[str]] | None = None,
        why: str,
    ) -> None:
        """Know that ``a`` and ``b`` count the same records: equal margins over ``on``.

        The margins are compared for each combination of ``b``'s categories of ``on``
        (``b`` may cover fewer, e.g. only the case types a question applies to).
        """
        if not self.wants_knowledge:
            return
        for combo in itertools.product(*(b.domains[d] for d in on)):
            cond = dict(zip(on, combo, strict=True))
            self.know(
                a.where(**{**(where_a or {}), **cond}),
                "==",
                b.where(**{**(where_b or {}), **cond}),
                why=f"{why} ({', '.join(combo)})",
            )

    # -- the two views

    def unprotected(self) -> View:
        """Return the internal view: every count as it is."""
        return View(self, threshold=0, status={})

    def protect(self, threshold: int = DEFAULT_THRESHOLD) -> View:
        """Return the public view: small counts withheld, and enough others that none is found."""
        if threshold <= 1:
            return View(self, threshold=threshold, status={})
        if not self.wants_knowledge:
            raise DisclosureError("a model made without the reader's knowledge cannot protect")
        from audit.reporting import protection  # HiGHS is imported only for the public version

        result = protection.protect_once(self, threshold)
        return View(
            self,
            threshold=threshold,
            status=result.status,
            dropped=frozenset(result.dropped),
            ranges=result.ranges,
            seconds=result.seconds,
        )


def _options(cell: Cell) -> dict[str, Any]:
    return {
        "sensitive": cell.sensitive,
        "anchor": cell.anchor,
        "group": cell.group,
        "weight": cell.weight,
        "implied": cell.implied,
        "public": cell.public,
    }


def needed_width(threshold: int) -> int:
    """Return how far apart a withheld small count's smallest and largest value must stay."""
    return max(0, min(MIN_VALUES, threshold - 1) - 1)


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class Printed:
    """One number-bearing piece of text the view wrote, and what it stands for."""

    text: str
    key: str | None
    kind: str  # "count", "words", "share", "part", "percent", "fact"


@dataclass(frozen=True)
class Phrase:
    """A phrase in the lead's words that gives a withheld count away, and a rewording."""

    text: str
    suggestion: str


@dataclass(frozen=True)
class Cost:
    """What protecting the public version cost, for the lead to see on the preview."""

    printed: int
    withheld: int
    primary: int
    secondary: int
    left_out: tuple[str, ...]
    notes: tuple[str, ...]
    protected: bool
    """The attacker's verdict: every withheld count keeps enough possible values."""
    seconds: float
    """How long protecting took (the attacker's programmes included)."""


@dataclass
class View:
    """Write the model's counts for one audience (threshold 0: the internal version)."""

    model: Model
    threshold: int
    status: Mapping[str, str]
    dropped: frozenset[str] = frozenset()
    ranges: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    seconds: float = 0.0
    printed: list[Printed] = field(default_factory=list)

    @property
    def public(self) -> bool:
        """Tell whether this is the protected (public) view."""
        return self.threshold > 1

    # -- what is shown

    def value(self, key: str) -> int:
        """Return a published cell's true value (for wording choices, never printed as is)."""
        return self.model.cells[key].value

    def hidden(self, key: str) -> bool:
        """Tell whether a count is withheld (or left out) in this view."""
        return self.status.get(key, PRINTED) != PRINTED

    def left_out(self, key_or_group: str) -> bool:
        """Tell whether a cell, or a whole group, is left out of this view."""
        if key_or_group in self.dropped:
            return True
        return self.status.get(key_or_group) == LEFT_OUT

    def _form(self, key: str) -> str:
        status = self.status.get(key, PRINTED)
        if status == PRINTED:
            return "digits"
        if status == LEFT_OUT:
            return "left out"
        return "small" if 0 < self.value(key) < self.threshold else "withheld"

    def _log(self, text: str, key: str | None, kind: str) -> str:
        self.printed.append(Printed(text, key, kind))
        return text

    # -- counts

    def _cell_text(self, key: str) -> str:
        form = self._form(key)
        if form == "digits":
            return str(self.value(key))
        if form == "small":
            return f"<{self.threshold}"
        return WITHHELD if form == "withheld" else "not shown"

    def count(self, key: str) -> str:
        """Write a count in a table: its digits, "<5" (a small count) or "[c]" (withheld)."""
        return self._log(self._cell_text(key), key, "count")

    def number(self, key: str) -> int | str:
        """Return a count for a chart: the number when printed, else how it is written."""
        text = self._log(self._cell_text(key), key, "chart")
        return int(text) if text.isdigit() else text

    def words(
        self, key: str, noun: str = "", plural: str | None = None, *, start: bool = False
    ) -> str:
        """Write a count in a sentence: "24 cases", "1 case", "fewer than 5 cases".

        With ``start`` the words open a sentence ("Fewer than 5 cases ...").
        """
        form = self._form(key)
        if form == "digits":
            value = self.value(key)
            number, many = str(value), value != 1
        elif form == "small":
            number, many = f"fewer than {self.threshold}", True
        elif form == "withheld":
            number, many = f"{self.threshold} or more", True
        else:
            number, many = "a number not shown", True
        if noun:
            number += " " + ((plural or noun + "s") if many else noun)
        if start:
            number = number[:1].upper() + number[1:]
        return self._log(number, key, "words")

    def one(self, key: str) -> bool:
        """Tell whether a sentence about this count takes the singular (a printed 1)."""
        return self._form(key) == "digits" and self.value(key) == 1

    def verb(self, key: str, singular: str, plural: str) -> str:
        """Return the verb that agrees with the count as written ("was" or "were")."""
        return singular if self.one(key) else plural

    def fact(self, value: Any, kind: str) -> str:
        """Write a documented non-count (days, a version, a statistic) and record it."""
        return self._log(str(value), None, kind)

    # -- shares

    def share(self, prefix: str, p: Proportion, *, none: str = "no answers") -> str:
        """Write a share, its interval and counts: "50% (95% interval 31% to 69%; 12 of 24)".

        Where the count, the total or the remainder is withheld, so is the share: "<5 of 24
        cases", "more than 19 of 24 cases" (fewer than the threshold left over) or "[c] of 24".
        """
        if p.share is None or p.n == 0:
            return none
        count, n, rest = (f"{prefix}:{part}" for part in ("count", "n", "rest"))
        if any(self.left_out(k) for k in (count, n)):
            return self._log(LEFT_OUT_WORDS, None, "fact")
        cells = self.model.cells
        if count in cells and (self.value(count), self.value(n)) != (p.count, p.n):
            raise DisclosureError(f"{prefix}: printed as {p.count} of {p.n}, modelled otherwise")
        unit = f" {p.unit}" if p.unit else ""
        if not any(self.hidden(k) for k in (count, n, rest)):
            if p.unit == "answers" and p.cases is not None:
                cases_key = f"{prefix}:cases"
                if cases_key in self.model.cells and self.value(cases_key) == p.cases:
                    unit += f" from {self.words(cases_key, 'case')}"
                elif not self.public:  # a count the model does not define: internal only
                    unit += f" from {p.cases} case{'' if p.cases == 1 else 's'}"
            shown = (
                f"{self._log(percent(p.share), None, 'percent')} (95% interval "
                f"{self._log(percent(p.low), None, 'percent')} to "
                f"{self._log(percent(p.high), None, 'percent')}; "
                f"{self.count(count)} of {self.count(n)}{unit})"
            )
            return shown
        if self._form(rest) == "small" and self._form(count) != "small" and not self.hidden(n):
            more = self._log(f"more than {p.n - self.threshold}", count, "share")
            return f"{more} of {self.count(n)}{unit}"
        return f"{self.count(count)} of {self.count(n)}{unit}"

    def share_words(self, prefix: str) -> tuple[str, str]:
        """Write a share's count and total for a sentence: ("fewer than 5", "24")."""
        count, n, rest = (f"{prefix}:{part}" for part in ("count", "n", "rest"))
        total = self.words(n)
        if self._form(rest) == "small" and self._form(count) != "small" and not self.hidden(n):
            return self._log(f"more than {self.value(n) - self.threshold}", count, "share"), total
        return self.words(count), total

    def part(self, key: str, total: str) -> str:
        """Write a table cell "count (share%)", the share left out when either is withheld."""
        n = self.value(total)
        if n == 0 or self.hidden(key) or self.hidden(total):
            return self.count(key)
        share = self._log(percent(self.value(key) / n), None, "percent")
        return f"{self.count(key)} ({share})"

    def shares_printed(self) -> set[tuple[int, int]]:
        """Return the (count, n) of every share printed in full (count, n and rest shown)."""
        out = set()
        for key, cell in self.model.cells.items():
            if key.endswith(":count") and cell.public:
                prefix = key[: -len(":count")]
                parts = (f"{prefix}:{part}" for part in ("count", "n", "rest"))
                if not any(self.hidden(k) for k in parts):
                    out.add((cell.value, self.value(f"{prefix}:n")))
        return out

    def shares_withheld(self) -> set[tuple[int, int]]:
        """Return the (count, n) of every share not printed in full."""
        out = set()
        for key, cell in self.model.cells.items():
            if key.endswith(":count") and cell.public and f"{key[:-6]}:n" in self.model.cells:
                prefix = key[: -len(":count")]
                if any(self.hidden(f"{prefix}:{part}") for part in ("count", "n", "rest")):
                    out.add((cell.value, self.value(f"{prefix}:n")))
        return out

    # -- what it cost

    def cost(self) -> Cost:
        """Say how many counts were withheld of how many printed, and the attacker's verdict."""
        shown = [
            k
            for k, c in self.model.cells.items()
            if c.public and not c.implied and self.status.get(k) != LEFT_OUT
        ]
        withheld = [k for k in shown if self.hidden(k)]
        primary = sum(1 for k in withheld if self.status.get(k) == PRIMARY)
        need = needed_width(self.threshold)
        protected = all(
            key in self.ranges
            and self.ranges[key][1] - self.ranges[key][0] >= (need if status == PRIMARY else 1)
            for key, status in self.status.items()
            if status in (PRIMARY, SECONDARY) and self.model.cells[key].public
        )
        return Cost(
            printed=len(shown),
            withheld=len(withheld),
            primary=primary,
            secondary=len(withheld) - primary,
            left_out=tuple(
                self.model.groups[g].label for g in sorted(self.dropped) if g in self.model.groups
            ),
            notes=tuple(self.model.notes),
            protected=protected,
            seconds=self.seconds,
        )

    # -- the lead's words

    def revealing(
        self,
        words: str,
        *,
        shares: Iterable[tuple[int, int]] = (),
        singular: bool = False,
        quantified: bool = False,
    ) -> list[Phrase]:
        """Return each phrase in ``words`` that gives a withheld count away, with a rewording.

        Flagged: a number from 1 to ``threshold - 1`` ("1 case", "3 of 20", "two
        children"); the value of a withheld count; "N of M" whose remainder is small or
        withheld; a percentage equal to a withheld share (``shares``: (count, n) pairs). With
        ``singular`` (the count of children found not safeguarded is withheld), a singular
        child and case ("a child ... the case"); with ``quantified`` (the words sit beside a
        withheld figure), "most", "few", "half", "all" and the like. Threshold phrases
        ("fewer than five", "under 5", "less than 5") are accepted, as are numbers of days,
        weeks, months or years.
        """
        if not self.public:
            return []
        t = self.threshold
        cleared = _accepted(words, t)
        values = {k: c.value for k, c in self.model.cells.items() if c.public}
        secret = {v for k, v in values.items() if self.hidden(k)}
        printed = {v for k, v in values.items() if not self.hidden(k)}
        shown = self.shares_printed()
        percents = {round(100 * c / n) for c, n in shares if n}
        shown_percents = {round(100 * c / n) for c, n in shown if n}
        found: list[Phrase] = []

        def small(n: int) -> bool:
            return 0 < n < t

        def bad(n: int) -> bool:
            return small(n) or (n in secret and n not in printed)

        def instead(n: int, noun: str = "") -> str:
            if small(n):
                return f"fewer than {t}{noun}"
            return f"{t} or more{noun}"

        for match in _PHRASE.finditer(cleared):
            phrase = match[0].strip()
            if match["of_n"] is not None:
                count, n = int(match["of_n"]), int(match["of_m"])
                if (count, n) in shown or not (bad(count) or bad(n) or bad(n - count)):
                    continue
                if small(n - count) and not small(count) and not bad(n):
                    better = f"more than {n - t} of {n}"
                elif bad(n):
                    better = "a share without its counts, e.g. “few” or “most”"
                else:
                    better = f"{instead(count)} of {n}"
                found.append(Phrase(phrase, f"write “{better}”"))
            elif match["pct"] is not None:
                pct = round(float(match["pct"]))
                if pct in percents and pct not in shown_percents:
                    found.append(
                        Phrase(phrase, "leave the percentage out: the evidence line gives it")
                    )
            elif match["word"] is not None:
                n = _WORDS[match["word"].lower()]
                if bad(n):
                    noun = match["noun"] or ""
                    found.append(
                        Phrase(phrase, f"write “{instead(n, ' ' + noun if noun else '')}”")
                    )
            elif match["num"] is not None:
                n = int(match["num"])
                if bad(n):
                    noun = match["dnoun"] or ""
                    found.append(
                        Phrase(phrase, f"write “{instead(n, ' ' + noun if noun else '')}”")
                    )
        if singular:
            for match in _SINGULAR.finditer(cleared):
                found.append(
                    Phrase(
                        match[0].strip(),
                        "write it in the plural (“where children were found not adequately "
                        "safeguarded, their cases were escalated”): the report says how many",
                    )
                )
        if quantified:
            for match in _QUANTITY.finditer(cleared):
                found.append(
                    Phrase(
                        match[0].strip(),
                        "leave the quantity to the evidence line, which gives the protected "
                        f"figure (“fewer than {t} of …”)",
                    )
                )
        return found


def _accepted(words: str, threshold: int) -> str:
    """Blank out threshold phrases ("fewer than five", "under 5"): they give nothing away."""
    number = rf"(?:{threshold}|{_WORD_OF.get(threshold, str(threshold))})"
    pattern = re.compile(
        rf"\b(?:fewer\s+than|less\s+than|under|below)\s+{number}\b"
        rf"|\b{number}\s+or\s+more\b|<\s?{threshold}\b",
        re.IGNORECASE,
    )
    return pattern.sub(lambda m: " " * len(m[0]), words)


_NOUNS = (
    r"(?:case\(s\)|cases?|child\(ren\)|children|child|families|family|young (?:people|person)"
    r"|audits?|files?|care leavers?|plans?|visits?|assessments?|records?|people|persons?)"
)
_TIME = r"(?:working\s+)?(?:days?|weeks?|months?|years?|hours?|minutes?)\b"
_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a single": 1,
    "only one": 1,
}
_WORD_OF = {v: k for k, v in _WORDS.items() if " " not in k}
_PHRASE = re.compile(
    r"(?P<of>\b(?P<of_n>\d+)\s+(?:out\s+)?of\s+(?:the\s+)?(?P<of_m>\d+)\b(?:\s+" + _NOUNS + r")?)"
    r"|(?P<p>\b(?P<pct>\d+(?:\.\d+)?)\s?%(?:\s+of\s+(?:the\s+)?" + _NOUNS + r")?)"
    r"|(?P<w>\b(?P<word>" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\s+"
    r"(?:(?:more|other|further|of\s+the)\s+)?(?P<noun>" + _NOUNS + r")\b)"
    r"|(?P<d>(?<![\d.,/:-])\b(?P<num>\d+)\b(?![\d.,/:-]\d)(?!\s*%)(?!\s+" + _TIME + r")"
    r"(?:\s+(?P<dnoun>" + _NOUNS + r"))?)",
    re.IGNORECASE,
)
_SINGULAR = re.compile(
    r"\b(?:a|one|the)\s+(?:child|young\s+person)\b[^.;]*?\b(?:the|this|that|their|its)\s+case\b",
    re.IGNORECASE,
)
_QUANTITY = re.compile(
    r"\b(?:most|(?:a\s+)?few|half|all|none|every|majority|minority|nearly\s+all|almost\s+all"
    r"|hardly\s+any|no\s+case)\b",
    re.IGNORECASE,
)
