"""Disclosure control: which counts the public report may print, and how it writes them.

Every public surface (the public PDF and its HTML, the public preview page) asks this module
how to write a count. The report registers every count it prints in a :class:`Table`, with
the sums that tie counts together ("the cases by case type add up to the cases audited",
"a check's good answers plus its other answers make its answers", "answers plus N/A plus
unanswered make the cases the check applies to"). :meth:`Table.protect` then applies the
method described in ``docs/report.md``, cell suppression as in the Government Statistical
Service's guidance on disclosure control for tables:

* **Primary suppression**: every count from 1 to ``threshold - 1`` is withheld and written
  "<5" (for the default threshold of 5). Zero is printed: it identifies no one.
* **Secondary (complementary) suppression**: a withheld count must not be recoverable from
  what is printed. The module plays the attacker: it works out, by interval propagation over
  every registered sum, the smallest and largest value each withheld count could take given
  everything printed (a "<5" is 1 to 4; a "[c]" is at least the threshold). While a withheld
  count is pinned to one value, another count in one of its sums is withheld too (written
  "[c]"), the one that frees it with the smallest value.

Shares are written only when their count, their denominator and the count left over are all
printed; otherwise "<5 of 24", "more than 19 of 24" or "[c] of 24" takes their place.

Nothing here knows the report's chapters: :mod:`audit.reporting.report` says what it prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from audit.findings import percent
from audit.stats import Proportion

DEFAULT_THRESHOLD = 5
WITHHELD = "[c]"
"""How a count withheld only so that a small count cannot be worked out is written."""
PRIMARY = "primary"
SECONDARY = "secondary"
UNBOUNDED = 10**9
"""An upper bound no count reaches: "at least the threshold, no more is known"."""
_MAX_ROUNDS = 200


class DisclosureError(Exception):
    """The figures cannot be protected (or are registered inconsistently)."""


@dataclass(frozen=True)
class Relation:
    """One sum the reader can rely on: ``total`` is the sum of ``parts``."""

    total: str
    parts: tuple[str, ...]


@dataclass
class Table:
    """Every count a report prints, with the sums that tie them together."""

    values: dict[str, int] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    known: set[str] = field(default_factory=set)
    """Counts a reader may know though the report does not print them (never withheld)."""
    unseen: set[str] = field(default_factory=set)
    """Counts that only tie sums together: not printed, not known, never withheld."""
    anchors: set[str] = field(default_factory=set)
    """Counts the whole report hangs on (cases audited): withheld only when small."""

    def cell(
        self,
        key: str,
        value: int,
        *,
        known: bool = False,
        unseen: bool = False,
        anchor: bool = False,
    ) -> str:
        """Register a count under ``key``; the same key must always carry the same count."""
        value = int(value)
        if value < 0:
            raise DisclosureError(f"{key}: a count cannot be negative ({value})")
        if key in self.values and self.values[key] != value:
            raise DisclosureError(f"{key}: registered as {self.values[key]} and as {value}")
        self.values[key] = value
        if known:
            self.known.add(key)
        if unseen:
            self.unseen.add(key)
        if anchor:
            self.anchors.add(key)
        return key

    def relate(self, total: str, parts: Iterable[str]) -> None:
        """Register that ``total`` is the sum of ``parts`` (all already registered)."""
        parts = tuple(parts)
        for key in (total, *parts):
            if key not in self.values:
                raise DisclosureError(f"{key}: not registered")
        if not parts:
            return
        if sum(self.values[p] for p in parts) != self.values[total]:
            raise DisclosureError(
                f"{total} = {self.values[total]} is not the sum of {', '.join(parts)}"
            )
        self.relations.append(Relation(total, parts))

    def same(self, a: str, b: str) -> None:
        """Register that two printed counts are the same figure (one truth per number)."""
        if a != b:
            self.relate(a, [b])

    def share(self, prefix: str, count: int, n: int) -> str:
        """Register a share's count, denominator and remainder: ``n = count + rest``."""
        self.cell(f"{prefix}:n", n)
        self.cell(f"{prefix}:count", count)
        self.cell(f"{prefix}:rest", n - count)
        self.relate(f"{prefix}:n", [f"{prefix}:count", f"{prefix}:rest"])
        return prefix

    def unprotected(self) -> View:
        """Return the internal view: every count as it is."""
        return View(self, threshold=0, withheld={})

    def protect(self, threshold: int = DEFAULT_THRESHOLD) -> View:
        """Return the public view: small counts withheld, and enough others that none is found."""
        if threshold <= 1:
            return View(self, threshold=threshold, withheld={})
        withheld = {
            key: PRIMARY
            for key, value in self.values.items()
            if 0 < value < threshold and key not in self.known and key not in self.unseen
        }
        touching: dict[str, list[Relation]] = {}
        for relation in self.relations:
            for key in (relation.total, *relation.parts):
                touching.setdefault(key, []).append(relation)
        for _ in range(len(self.values) + 1):
            pinned = [k for k, (lo, hi) in self.bounds(withheld, threshold).items() if lo == hi]
            pinned = [k for k in pinned if k in withheld]
            if not pinned:
                return View(self, threshold=threshold, withheld=withheld)
            target = pinned[0]
            choice = self._complement(target, withheld, threshold, touching)
            if choice is None:
                raise DisclosureError(
                    f"{target} cannot be protected by withholding other counts; "
                    "the public version cannot be made"
                )
            withheld[choice] = SECONDARY
        raise DisclosureError("complementary suppression did not settle")  # pragma: no cover

    def _complement(
        self,
        target: str,
        withheld: Mapping[str, str],
        threshold: int,
        touching: Mapping[str, list[Relation]],
    ) -> str | None:
        """Choose the count to withhold next so that ``target`` is no longer pinned."""
        candidates: list[str] = []
        frontier, seen = [target], {target}
        # Counts in the target's own sums first; then, if none will do, one sum further out.
        for _depth in range(3):
            found = []
            for key in frontier:
                for relation in touching.get(key, []):
                    for other in (relation.total, *relation.parts):
                        if other not in seen:
                            seen.add(other)
                            found.append(other)
            candidates = [
                k
                for k in found
                if k not in withheld
                and k not in self.known
                and k not in self.unseen
                and self.values[k] >= threshold
            ]
            # The counts the report hangs on only as a last resort.
            if any(k not in self.anchors for k in candidates):
                candidates = [k for k in candidates if k not in self.anchors]
            # Withhold the cheapest: a count in few sums (a total in many would cascade), then
            # the smallest, as the GSS guidance advises.
            candidates.sort(key=lambda k: (len(touching.get(k, ())), self.values[k], k))
            for key in candidates[:4]:
                trial = {**withheld, key: SECONDARY}
                lo, hi = self.bounds(trial, threshold)[target]
                if lo != hi:
                    return key
            if candidates:
                return candidates[0]
            frontier = found
        return None

    def bounds(self, withheld: Mapping[str, str], threshold: int) -> dict[str, tuple[int, int]]:
        """Return what a reader can work out: the range of each count, given what is printed."""
        lo: dict[str, int] = {}
        hi: dict[str, int] = {}
        for key, value in self.values.items():
            status = withheld.get(key)
            if status == PRIMARY:
                lo[key], hi[key] = 1, threshold - 1
            elif status == SECONDARY:
                lo[key], hi[key] = threshold, UNBOUNDED
            elif key in self.unseen:
                lo[key], hi[key] = 0, UNBOUNDED
            else:
                lo[key] = hi[key] = value
        return propagate(lo, hi, self.relations)


def propagate(
    lo: dict[str, int], hi: dict[str, int], relations: Sequence[Relation]
) -> dict[str, tuple[int, int]]:
    """Narrow integer bounds through sums until nothing changes (interval propagation).

    A worklist: a sum is looked at again only when one of its counts has narrowed.
    """
    touching: dict[str, list[int]] = {}
    for index, relation in enumerate(relations):
        for key in (relation.total, *relation.parts):
            touching.setdefault(key, []).append(index)
    queue = list(range(len(relations)))
    queued = set(queue)
    steps = 0
    while queue and steps < _MAX_ROUNDS * max(len(relations), 1):
        steps += 1
        index = queue.pop()
        queued.discard(index)
        relation = relations[index]
        parts, t = relation.parts, relation.total
        low_sum = sum(lo[p] for p in parts)
        high_sum = sum(hi[p] for p in parts)
        narrowed = []
        new_lo, new_hi = max(lo[t], low_sum), min(hi[t], high_sum)
        if (new_lo, new_hi) != (lo[t], hi[t]):
            lo[t], hi[t] = new_lo, new_hi
            narrowed.append(t)
        for p in parts:
            new_lo = max(lo[p], lo[t] - (high_sum - hi[p]))
            new_hi = min(hi[p], hi[t] - (low_sum - lo[p]))
            if (new_lo, new_hi) != (lo[p], hi[p]):
                low_sum += new_lo - lo[p]
                high_sum += new_hi - hi[p]
                lo[p], hi[p] = new_lo, new_hi
                narrowed.append(p)
        for key in narrowed:
            if lo[key] > hi[key]:
                raise DisclosureError(f"{key}: the printed figures contradict each other")
            for other in touching[key]:
                if other not in queued:
                    queued.add(other)
                    queue.append(other)
    return {key: (lo[key], min(hi[key], UNBOUNDED)) for key in lo}


@dataclass(frozen=True)
class View:
    """Write the registered counts for one audience (threshold 0: the internal version)."""

    table: Table
    threshold: int
    withheld: Mapping[str, str]

    @property
    def public(self) -> bool:
        """Tell whether this is the protected (public) view."""
        return self.threshold > 1

    def hidden(self, key: str) -> bool:
        """Tell whether a count is withheld in this view."""
        return key in self.withheld

    def value(self, key: str) -> int:
        """Return a registered count's true value (for the report's own wording choices)."""
        return self.table.values[key]

    def count(self, key: str) -> str:
        """Write a count: its digits, "<5" (a small count) or "[c]" (withheld to protect one)."""
        status = self.withheld.get(key)
        if status == PRIMARY:
            return f"<{self.threshold}"
        if status == SECONDARY:
            return WITHHELD
        return str(self.table.values[key])

    def share(self, prefix: str, p: Proportion, *, none: str = "no answers") -> str:
        """Write a share, its interval and counts: "50% (95% interval 31% to 69%; 12 of 24)".

        Where the count, the total or the remainder is withheld, so is the share.
        """
        if p.share is None or p.n == 0:
            return none
        count, n, rest = (f"{prefix}:{part}" for part in ("count", "n", "rest"))
        unit = f" {p.unit}" if p.unit else ""
        if not any(self.hidden(k) for k in (count, n, rest)):
            if p.unit == "answers" and p.cases is not None:
                cases = self._mask(p.cases)
                unit += f" from {cases} case{'' if cases == '1' else 's'}"
            return (
                f"{percent(p.share)} (95% interval {percent(p.low)} to {percent(p.high)}; "
                f"{p.count} of {p.n}{unit})"
            )
        if (
            self.withheld.get(rest) == PRIMARY
            and self.withheld.get(count) != PRIMARY
            and not self.hidden(n)
        ):
            return f"more than {p.n - self.threshold} of {p.n}{unit}"
        return f"{self.count(count)} of {self.count(n)}{unit}"

    def part(self, key: str, total: str) -> str:
        """Write a table cell "count (share%)", the share left out when either is withheld."""
        n = self.table.values[total]
        if n == 0:
            return self.count(key)
        if self.hidden(key) or self.hidden(total):
            return self.count(key)
        return f"{self.table.values[key]} ({percent(self.table.values[key] / n)})"

    def text(self, words: str) -> str:
        """Hide small counts written into prose as "N of M" (belt and braces: see wording)."""
        if not self.public:
            return words

        def hide(match: re.Match[str]) -> str:
            count, n = int(match[1]), int(match[2])
            if self._small(n - count) and not self._small(count) and not self._small(n):
                return f"more than {n - self.threshold} of {n}"
            return f"{self._mask(count)} of {self._mask(n)}"

        return _OF.sub(hide, words)

    def _printed(self, key: str) -> bool:
        return (
            key not in self.withheld
            and key not in self.table.known
            and key not in self.table.unseen
        )

    def printed_shares(self) -> set[tuple[int, int]]:
        """Return the (count, n) of every share printed in full (count, n and rest shown)."""
        values = self.table.values
        out = set()
        for key in values:
            if key.endswith(":count"):
                prefix = key[: -len(":count")]
                if all(self._printed(f"{prefix}:{part}") for part in ("count", "n", "rest")):
                    out.add((values[key], values[f"{prefix}:n"]))
        return out

    def _small(self, n: int) -> bool:
        return 0 < n < self.threshold

    def _mask(self, n: int) -> str:
        return f"<{self.threshold}" if self._small(n) else str(n)

    def revealing(self, words: str, *, shares: Iterable[tuple[int, int]] = ()) -> list[str]:
        """Return each phrase in ``words`` that gives a withheld count away in this view.

        A phrase gives a count away when it writes a number from 1 to ``threshold - 1``
        ("1 case", "3 of 20", "two children"), the value of any withheld count, a remainder
        "N of M" whose M - N is small or withheld, or a percentage equal to a withheld share
        (``shares``: the (count, n) of each share whose figures are withheld). Numbers that
        are clearly not counts of cases (days, weeks, years, dates) are left alone.
        """
        if not self.public:
            return []
        values = self.table.values
        secret = {values[k] for k in self.withheld}
        printed = {v for k, v in values.items() if self._printed(k)}
        shown = self.printed_shares()
        percents = {round(100 * c / n) for c, n in shares if n}
        shown_percents = {round(100 * c / n) for c, n in shown if n}
        found: list[str] = []

        def bad(n: int) -> bool:
            return self._small(n) or (n in secret and n not in printed)

        for match in _PHRASE.finditer(words):
            phrase = match[0].strip()
            if match["of_n"] is not None:
                count, n = int(match["of_n"]), int(match["of_m"])
                if (count, n) not in shown and (bad(count) or bad(n) or bad(n - count)):
                    found.append(phrase)
            elif match["pct"] is not None:
                pct = round(float(match["pct"]))
                if pct in percents and pct not in shown_percents:
                    found.append(phrase)
            elif match["word"] is not None:
                if bad(_WORDS[match["word"].lower()]):
                    found.append(phrase)
            elif match["num"] is not None and bad(int(match["num"])):
                found.append(phrase)
        return found


_OF = re.compile(r"\b(\d+) of (\d+)\b")
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
_PHRASE = re.compile(
    r"(?P<of>\b(?P<of_n>\d+)\s+(?:out\s+)?of\s+(?:the\s+)?(?P<of_m>\d+)\b(?:\s+" + _NOUNS + r")?)"
    r"|(?P<p>\b(?P<pct>\d+(?:\.\d+)?)\s?%(?:\s+of\s+(?:the\s+)?" + _NOUNS + r")?)"
    r"|(?P<w>\b(?P<word>" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\s+"
    r"(?:(?:more|other|further|more|of\s+the)\s+)?" + _NOUNS + r"\b)"
    r"|(?P<d>(?<![\d.,/:-])\b(?P<num>\d+)\b(?![\d.,/:-]\d)(?!\s*%)(?!\s+" + _TIME + r")"
    r"(?:\s+" + _NOUNS + r")?)",
    re.IGNORECASE,
)
