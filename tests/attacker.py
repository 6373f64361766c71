"""Play the attacker on a public report: read what it prints, solve for what it withholds.

The attacker reads the report's HTML the way a reader reads the page (tables by caption,
sentences by their words) and the chart images (each segment's label and count), turns each
printed figure into a range (a number is itself, "<5" is 1 to 4, "[c]" is 5 or more, "more
than 19 of 24" is 20 to 23 of 24) and then narrows the ranges through every sum a reader
could rely on: table rows and columns, totals, N/A plus answers making the cases audited,
pooled figures, the same figure printed twice. Some of those sums are guesses (a check asked
of every case, every case graded, no grade changed sideways at moderation): the attacker is
given the luck to guess right, as a guess is kept only if it is true (checked against the
internal version) and agrees with everything printed. Independent of
:mod:`audit.reporting.disclosure`: it knows only the page.
"""

from __future__ import annotations

import base64
import html as html_lib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

BIG = 10**9


def visible(fragment: str) -> str:
    """Return an HTML fragment's text as a reader sees it, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", fragment)
    return " ".join(html_lib.unescape(text).replace("\u00a0", " ").split())


@dataclass
class Attack:
    """Ranges for every figure the page prints, and the sums between them."""

    threshold: int = 5
    lo: dict[str, int] = field(default_factory=dict)
    hi: dict[str, int] = field(default_factory=dict)
    withheld: set[str] = field(default_factory=set)
    sums: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    guesses: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    exact: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, text: str) -> bool:
        """Read one printed count; return False if it is not a count at all."""
        text = text.strip()
        if text == f"<{self.threshold}":
            self._set(name, 1, self.threshold - 1, withheld=True)
        elif text == "[c]":
            self._set(name, self.threshold, BIG, withheld=True)
        else:
            match = re.match(r"^(\d+)\b", text)
            if not match:
                return False
            self._set(name, int(match[1]), int(match[1]))
        return True

    def share(self, name: str, text: str) -> bool:
        """Read a share ("50% (...; 12 of 24)", "more than 19 of 24", "<5 of 24")."""
        text = text.strip().rstrip(".")
        full = re.search(r"; (\d+) of (\d+)(?: (?:cases|answers)(?: from \S+ cases?)?)?\)$", text)
        more = re.match(r"^more than (\d+) of (\d+)(?: cases| answers)?$", text)
        bare = re.match(r"^(<\d+|\[c\]|\d+) of (<\d+|\[c\]|\d+)(?: cases| answers)?$", text)
        if full:
            self._set(f"{name}.count", int(full[1]), int(full[1]))
            self._set(f"{name}.n", int(full[2]), int(full[2]))
        elif more:
            n = int(more[2])
            self._set(f"{name}.count", int(more[1]) + 1, n - 1, withheld=True)
            self._set(f"{name}.n", n, n)
        elif bare:
            self.count(f"{name}.count", bare[1])
            self.count(f"{name}.n", bare[2])
        else:
            return False
        self._set(f"{name}.rest", 0, BIG)
        self.sum(f"{name}.n", [f"{name}.count", f"{name}.rest"])
        return True

    def _set(self, name: str, lo: int, hi: int, *, withheld: bool = False) -> None:
        if name in self.lo:  # printed twice: both must hold
            self.lo[name], self.hi[name] = max(self.lo[name], lo), min(self.hi[name], hi)
        else:
            self.lo[name], self.hi[name] = lo, hi
        if withheld:
            self.withheld.add(name)
        if lo == hi:
            self.exact[name] = lo

    def sum(self, total: str, parts: Iterable[str], *, guess: bool = False) -> None:
        """Add a sum the page implies (``guess``: kept only if it fits what is printed)."""
        parts = tuple(p for p in parts)
        if total not in self.lo or not parts or any(p not in self.lo for p in parts):
            return
        (self.guesses if guess else self.sums).append((total, parts))

    def solve(self, truth: dict[str, int] | None = None) -> dict[str, tuple[int, int]]:
        """Narrow every range through the sums; keep each guess only if it fits.

        With ``truth`` (the internal version's figures) the attacker guesses right every
        time: a guess is kept only if it is true, so every figure it pins is really found.
        """
        bounds = _propagate(dict(self.lo), dict(self.hi), self.sums)
        if bounds is None:
            raise AssertionError("the printed figures contradict each other")
        kept = list(self.sums)
        for guess in self.guesses:
            if truth is not None:
                total, parts = guess
                if any(k not in truth for k in (total, *parts)):
                    continue
                if truth[total] != sum(truth[p] for p in parts):
                    continue
            trial = _propagate(dict(self.lo), dict(self.hi), [*kept, guess])
            if trial is not None:
                kept.append(guess)
        result = _propagate(dict(self.lo), dict(self.hi), kept)
        assert result is not None
        return result


def _propagate(
    lo: dict[str, int], hi: dict[str, int], sums: list[tuple[str, tuple[str, ...]]]
) -> dict[str, tuple[int, int]] | None:
    for _ in range(300):
        changed = False
        for total, parts in sums:
            low = sum(lo[p] for p in parts)
            high = sum(hi[p] for p in parts)
            new = (max(lo[total], low), min(hi[total], high))
            if new != (lo[total], hi[total]):
                lo[total], hi[total] = new
                changed = True
            for p in parts:
                new = (
                    max(lo[p], lo[total] - (high - hi[p])),
                    min(hi[p], hi[total] - (low - lo[p])),
                )
                if new != (lo[p], hi[p]):
                    lo[p], hi[p] = new
                    changed = True
                    low = sum(lo[q] for q in parts)
                    high = sum(hi[q] for q in parts)
        if any(lo[k] > hi[k] for k in lo):
            return None
        if not changed:
            break
    return {k: (lo[k], hi[k]) for k in lo}


def tables(page: str) -> dict[str, list[list[str]]]:
    """Return each table's rows (header row first) by caption, cells as visible text."""
    out: dict[str, list[list[str]]] = {}
    for table in re.findall(r"<table\b.*?</table>", page, re.S):
        caption = re.search(r"<caption[^>]*>(.*?)</caption>", table, re.S)
        rows = [
            [visible(c) for c in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr\b.*?</tr>", table, re.S)
        ]
        out[visible(caption[1]) if caption else f"table {len(out)}"] = rows
    return out


def chart_segments(page: str) -> list[tuple[str, str, str, int]]:
    """Return (chart title, bar label, level, count) for every segment drawn in the charts."""
    out = []
    for data in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page):
        svg = base64.b64decode(data).decode("utf-8")
        title = re.search(r"<title id=\"[^\"]*-title\">(.*?)</title>", svg, re.S)
        chart = visible(title[1]) if title else ""
        for group in re.findall(r'<g class="app-chart__bar[^"]*".*?</g>', svg, re.S):
            label = " ".join(
                visible(t)
                for t in re.findall(r'<text[^>]*class="app-chart__label"[^>]*>(.*?)</text>', group)
            )
            for level, count in re.findall(r"<title>([^<:]+): (\d+)\b(?! \(withheld)", group):
                out.append((chart, label, html_lib.unescape(level), int(count)))
    return out


def read(page: str, threshold: int = 5) -> Attack:
    """Read a report page (public or internal) into an :class:`Attack`."""
    a = Attack(threshold)
    text = visible(page)
    number = r"(<\d+|\[c\]|\d+)"

    def grab(pattern: str, *names: str) -> re.Match[str] | None:
        match = re.search(pattern, text)
        if match:
            for name, value in zip(names, match.groups(), strict=False):
                a.count(name, value)
        return match

    grab(number + r" case files? (?:was|were) audited", "audited")
    if grab(number + r" of the " + number + r" case files in the review ha", "waiting", "cases"):
        a.sum("cases", ["audited", "waiting"])
    if grab(number + r" of the \S+ cases audited a child was found", "critical") and grab(
        r"For " + number + r" the escalation .*? recorded; " + number + " (?:is|are) still",
        "critical.recorded",
        "critical.waiting",
    ):
        a.sum("critical", ["critical.recorded", "critical.waiting"])
    if grab(
        r"The lead moderated "
        + number
        + " of the "
        + number
        + r" submitted audits: "
        + number
        + r" grades? changed \("
        + number
        + r" raised, "
        + number
        + r" lowered\)",
        "moderated",
        "submitted",
        "changed",
        "raised",
        "lowered",
    ):
        a.sum("changed", ["raised", "lowered"], guess=True)
    grab(number + r" cases? (?:was|were) chosen for an independent second audit", "second")
    grab(r"; " + number + r" ha(?:s|ve) both audits submitted", "twice")
    good_levels: list[str] = []
    sentence = re.search(r"“([^”]+)” counts (.*?)\.", text)
    if sentence:
        good_levels = [part.strip() for part in re.split(r",| and ", sentence[2]) if part.strip()]
    headline = re.search(r'class="report-headline">.*?<strong>(.*?)</strong>', page, re.S)
    if headline:
        a.share("overall", visible(headline[1]))

    found = tables(page)
    for caption, column in (
        ("Cases audited by case type", "type"),
        ("Cases audited by team", "team"),
    ):
        rows = found.get(caption, [])[1:]
        names = [
            f"{column}:{row[0]}"
            for row in rows
            if len(row) == 2 and a.count(f"{column}:{row[0]}", row[1])
        ]
        a.sum("audited", names)
    rows = found.get("Overall judgement of the cases audited", [])[1:]
    levels = [row[0] for row in rows]
    for row in rows:
        a.count(f"overall:{row[0]}", row[1])
    a.sum("overall.n", [f"overall:{lv}" for lv in levels])
    a.sum("overall.count", [f"overall:{lv}" for lv in levels if lv in good_levels])
    a.sum("overall.rest", [f"overall:{lv}" for lv in levels if lv not in good_levels])
    for caption, key in (
        ("Overall judgement by case type", "bytype"),
        ("Grades by section", "bysection"),
    ):
        table = found.get(caption)
        if not table:
            continue
        header, body = table[0], table[1:]
        cols = header[1:]
        row_names = []
        for row in body:
            name = f"{key}:{row[0]}"
            row_names.append(name)
            for col, cell in zip(cols, row[1:], strict=False):
                a.count(f"{name}:{col}", cell)
            lv = cols[:-2]  # the levels, then "Total answers" and the good-or-better column
            a.sum(f"{name}:Total answers", [f"{name}:{c}" for c in lv])
            a.sum(f"{name}:{cols[-1]}", [f"{name}:{c}" for c in lv if c in good_levels])
            if key == "bytype" and row[0] != "All audited cases":
                a.sum(f"type:{row[0]}", [f"{name}:Total answers"], guess=True)
        if key == "bytype" and f"{key}:All audited cases" in row_names:
            whole = f"{key}:All audited cases"
            others = [r for r in row_names if r != whole]
            for col in cols:
                a.sum(f"{whole}:{col}", [f"{r}:{col}" for r in others])
            for lv in levels:
                a.sum(f"overall:{lv}", [f"{whole}:{lv}"])
            a.sum("overall.n", [f"{whole}:Total answers"])
            a.sum("overall.count", [f"{whole}:{cols[-1]}"])
    # Section by section: the share, the grades chart's row, the checks and their N/A.
    for block in re.findall(r'<div class="report-section">(.*?)</div>', page, re.S):
        title = visible(re.search(r"<h\d[^>]*>(.*?)</h\d>", block, re.S)[1])
        para = visible(re.search(r"<p>(.*?)</p>", block, re.S)[1])
        share = para.split(": ", 1)[1] if ": " in para else ""
        a.share(f"section:{title}", share)
        row = f"bysection:{title}"
        a.sum(f"section:{title}.n", [f"{row}:Total answers"])
        grades = found.get("Grades by section")
        if grades:
            a.sum(f"section:{title}.count", [f"{row}:{grades[0][-1]}"])
        checks = found.get(f"{title}: compliance checks", [])[1:]
        names = []
        for check in checks:
            name = f"check:{title}:{check[0]}"
            if a.share(name, check[1]):
                names.append(name)
                a.count(f"{name}.na", check[2])
                a.sum("audited", [f"{name}.n", f"{name}.na"], guess=True)
        if para.startswith("Checks met") and names:
            a.sum(f"section:{title}.n", [f"{n}.n" for n in names])
            a.sum(f"section:{title}.count", [f"{n}.count" for n in names])
    timeliness = found.get("Timeliness measures and the quality of the same cases", [])[1:]
    for row in timeliness:
        name = f"time:{row[0]}"
        if a.share(name, row[1]):
            a.count(f"{name}.late", row[2])
            a.sum(f"{name}.n", [f"{name}.count", f"{name}.late"])
        a.count(f"{name}.unrecorded", row[3])
        a.share(f"{name}.quality", row[4])
    for row in found.get("Agreement between auditors", [])[1:]:
        a.count(f"pairs:{row[0]}", row[1])
        if row[0] == (found.get("Agreement between auditors") or [[""], [""]])[1][0]:
            a.sum("twice", [f"pairs:{row[0]}"], guess=True)
    for i, evidence in enumerate(re.findall(r"Evidence: (.*?)</span>", page)):
        a.share(f"evidence:{i}", visible(evidence))
    # What the charts draw: each segment's count belongs to its table's cell.
    for chart, label, level, count in chart_segments(page):
        key = {"Overall judgement by case type": "bytype", "Grades by section": "bysection"}.get(
            chart
        )
        if key:
            a.count(f"{key}:{label}:{level}:drawn", str(count))
            a.sum(f"{key}:{label}:{level}", [f"{key}:{label}:{level}:drawn"])
    return a


@dataclass(frozen=True)
class Finding:
    """A withheld figure the attacker pinned down to its true value."""

    name: str
    value: int


def attack(public: str, internal: str, threshold: int = 5) -> list[Finding]:
    """Return every withheld figure in ``public`` that its printed figures give away."""
    attacker = read(public, threshold)
    truth = read(internal, threshold).exact
    bounds = attacker.solve(truth)
    out = []
    for name in sorted(attacker.withheld):
        lo, hi = bounds[name]
        if lo == hi and truth.get(name) == lo:
            out.append(Finding(name, lo))
    return out
