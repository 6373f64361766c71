"""Play the attacker on a rendered public report: account for every number, then solve.

1. **Every number is accounted for.** The public report's HTML text is read as a reader
   sees it; the verbatim words it repeats (the rubric's questions, the lead's findings,
   names, titles) and the documented non-counts (dates, page numbers, the tool's version,
   the random seed, days, the threshold, the 95% of an interval, agreement statistics) are
   set aside, and every numeral left must be one the disclosure view wrote
   (:attr:`audit.reporting.disclosure.View.printed`): a modelled count, or a share or
   interval of modelled counts. The PDF (``pdftotext``) and the Word document (python-docx)
   must print no numeral the HTML does not, bar page numbers and the contents.
2. **The reader's constraints.** Each count the view wrote is read back *from its printed
   form* (digits, "<5", "fewer than 5", "[c]", "5 or more", "more than 19"), not from the
   view's own bookkeeping, and stands for its sum of inner cells in the model; the model's
   reader knowledge is added.
3. **The solve.** For every withheld count, its smallest and largest whole value: the
   linear relaxation over *all* the model's inner cells (none set aside), exact where its
   optimal vertex is whole, else the integer programme (HiGHS). A separate path from
   :mod:`audit.reporting.protection`, which presolves, warm-starts and certifies differently.

The rule: no count printed as small can be narrowed to fewer than three values (fewer than
``threshold - 1`` when the threshold allows fewer), and no other withheld count is pinned.
"""

from __future__ import annotations

import base64
import html as html_lib
import io
import math
import re
import subprocess
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.reporting.disclosure import Model, Printed, needed_width

NUMERAL = re.compile(r"<\s?\d+|\[c\]|-?\d+(?:\.\d+)?%?")
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# Documented non-counts (docs/report.md, "Every number accounted for").
NON_COUNTS = [
    rf"\b\d{{1,2}} (?:{MONTHS}) \d{{4}}(?:(?:, | at )\d{{1,2}}:\d{{2}}(?: UTC)?)?",  # a date
    rf"\b(?:{MONTHS}) \d{{4}}\b",  # a month
    r"\b\d{4}-\d{2}-\d{2}(?:T[\d:]+Z?)?",  # an ISO date
    r"\(\d+ days?\)|over \d+ days?",  # the review's length
    r"by \d+ reviewers?",  # how many reviewers
    r"version \S+?(?=[,.]?\s)",  # the audit tool's version
    r"random seed \d+",  # the sample's seed
    r"counts below \d+|“&lt;\d+”|“<\d+”|“\[c\]”",  # the threshold, in the legend
    r"fewer than \d+ cases audited are shown|are below \d+",  # ... and in the notes
    r"95% interval|The 95% interval",  # the interval's level
    r"\(1 is perfect agreement, 0 no better than chance\)",
    r"had \d+ or more cases audited",  # a breakdown left out: the threshold
]


def visible(fragment: str) -> str:
    """Return an HTML fragment's text as a reader sees it, spaces collapsed."""
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", fragment, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html_lib.unescape(text).replace("\u00a0", " ").split())


def numerals(text: str) -> Counter[str]:
    """Return the numerals a text prints ("<5" and "[c]" count as numerals)."""
    return Counter(re.sub(r"\s", "", m[0]) for m in NUMERAL.finditer(text))


def strip(text: str, verbatim: Iterable[str]) -> str:
    """Take out the verbatim words (longest first) and the documented non-counts."""
    flat = " ".join(text.split())
    for words in sorted(
        {" ".join(w.split()) for w in verbatim if w and w.strip()}, key=len, reverse=True
    ):
        flat = flat.replace(words, " ")
    for pattern in NON_COUNTS:
        flat = re.sub(pattern, " ", flat)
    return flat


def charts(page: str) -> list[str]:
    """Return each chart image's SVG source."""
    return [
        base64.b64decode(data).decode("utf-8")
        for data in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    ]


def chart_text(svg: str) -> str:
    """Return the text a chart draws (its labels), not its title or description."""
    return " ".join(visible(t) for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S))


def body(page: str) -> str:
    """Return the page's visible text, without the charts (images) and their alt text."""
    return visible(re.sub(r"<img\b[^>]*>", " ", page))


def alt_texts(page: str) -> list[str]:
    """Return every image's alternative text."""
    return [html_lib.unescape(a) for a in re.findall(r'<img\b[^>]*\balt="([^"]*)"', page)]


def pdf_text(pdf: bytes, folder: Path) -> str:
    """Return the PDF's text as ``pdftotext`` reads it (poppler-utils)."""
    path = folder / "attacked.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def docx_text(data: bytes) -> tuple[str, list[str]]:
    """Return the Word document's text (body, tables, headers, footers) and its alt texts."""
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    alts = [
        el.get("descr") or "" for el in document.element.body.iter() if el.tag.endswith("}docPr")
    ]
    return "\n".join(parts), alts


def unaccounted(found: Counter[str], allowed: Counter[str]) -> Counter[str]:
    """Return the numerals found more often than allowed."""
    return Counter({k: n - allowed.get(k, 0) for k, n in found.items() if n > allowed.get(k, 0)})


def ledger_numerals(printed: Sequence[Printed], kinds: Iterable[str] | None = None) -> Counter:
    """Return the numerals the view wrote (of the given kinds)."""
    out: Counter[str] = Counter()
    wanted = set(kinds) if kinds is not None else None
    for item in printed:
        if wanted is None or item.kind in wanted:
            out += numerals(item.text)
    return out


# --------------------------------------------------------------------------- the reading


@dataclass(frozen=True)
class Reading:
    """What the reader knows of one published cell from how it is printed."""

    key: str
    lo: float
    hi: float
    text: str

    @property
    def withheld(self) -> bool:
        return self.lo != self.hi


def read(text: str, key: str, threshold: int) -> Reading | None:
    """Read a printed count the way a reader would (None: it says nothing about the count)."""
    t = threshold
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return Reading(key, int(text), int(text), text)
    if text in (f"<{t}", f"fewer than {t}"):
        return Reading(key, 1, t - 1, text)
    if text in ("[c]", f"{t} or more"):
        return Reading(key, t, math.inf, text)
    more = re.fullmatch(r"more than (\d+)", text)
    if more:
        return Reading(key, int(more[1]) + 1, math.inf, text)
    return None


def readings(printed: Sequence[Printed], threshold: int) -> dict[str, Reading]:
    """Combine every printed form of every count (a count printed twice: both hold)."""
    out: dict[str, Reading] = {}
    for item in printed:
        if item.key is None:
            continue
        reading = read(item.text, item.key, threshold)
        if reading is None:
            continue
        old = out.get(item.key)
        if old is not None:
            reading = Reading(item.key, max(old.lo, reading.lo), min(old.hi, reading.hi), old.text)
        out[item.key] = reading
    return out


# --------------------------------------------------------------------------- the solve


class Solver:
    """The reader's programme: whole non-negative inner cells, one row per known sum.

    Each extreme is the linear relaxation's, which is exact when its optimal vertex is
    whole; otherwise the integer programme is solved (HiGHS's branch and bound).
    """

    def __init__(
        self,
        ncol: int,
        rows: Sequence[Sequence[tuple[int, float]]],
        lower: Sequence[float],
        upper: Sequence[float],
    ) -> None:
        import highspy
        import numpy as np

        core = highspy._core
        self.core, self.np, self.ncol = core, np, ncol
        lp = core.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, len(rows)
        lp.col_cost_ = np.zeros(ncol)
        lp.col_lower_ = np.zeros(ncol)
        lp.col_upper_ = np.full(ncol, highspy.kHighsInf)
        lp.row_lower_ = np.asarray(lower, dtype=float)
        lp.row_upper_ = np.asarray(upper, dtype=float)
        start, index, value = [0], [], []
        for row in rows:
            for col, coef in row:
                index.append(col)
                value.append(coef)
            start.append(len(index))
        lp.a_matrix_.format_ = core.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.asarray(start, dtype=np.int32)
        lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.asarray(value, dtype=float)
        self.relaxed = self._solver(lp)
        # Only the objective changes between solves: primal simplex from the last basis.
        self.relaxed.setOptionValue("presolve", "off")
        self.relaxed.setOptionValue("simplex_strategy", 4)
        lp.integrality_ = [core.HighsVarType.kInteger] * ncol
        self.whole = self._solver(lp)

    def _solver(self, lp: Any) -> Any:
        h = self.core._Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        return h

    def _run(self, h: Any, objective: Sequence[tuple[int, float]]) -> float | None:
        np = self.np
        cost = np.zeros(self.ncol)
        for col, coef in objective:
            cost[col] += coef
        h.changeColsCost(self.ncol, np.arange(self.ncol, dtype=np.int32), cost)
        h.run()
        status = str(h.getModelStatus()).rsplit(".", 1)[-1]
        if status in ("kUnbounded", "kUnboundedOrInfeasible"):
            return None
        assert status == "kOptimal", f"the reader's programme ended {status}"
        return float(h.getInfo().objective_function_value)

    def minimum(self, objective: Sequence[tuple[int, float]]) -> float | None:
        """Return the smallest whole value of the objective (None: unbounded below)."""
        value = self._run(self.relaxed, objective)
        if value is None:
            return None
        x = self.np.asarray(self.relaxed.getSolution().col_value)
        if self.np.all(self.np.abs(x - self.np.round(x)) < 1e-6):
            return value
        return self._run(self.whole, objective)


@dataclass(frozen=True)
class Narrowed:
    """A withheld count the reader narrows too far."""

    key: str
    printed: str
    lo: float
    hi: float
    value: int


def attack(model: Model, printed: Sequence[Printed], threshold: int) -> list[Narrowed]:
    """Return every withheld count the printed figures narrow beyond the protection rule."""
    found = readings(printed, threshold)
    rows: list[list[tuple[int, float]]] = []
    lower: list[float] = []
    upper: list[float] = []
    for key, reading in found.items():
        rows.append([(col, float(c)) for col, c in model.cells[key].selection.items()])
        lower.append(reading.lo)
        upper.append(reading.hi)
    for known in model.knowledge:
        rows.append([(col, float(c)) for col, c in known.terms.items()])
        lower.append(known.lo)
        upper.append(known.hi)
    narrowed = []
    solver = Solver(model.size, rows, lower, upper)
    for key, reading in found.items():
        if not reading.withheld:
            continue
        terms = [(col, float(c)) for col, c in model.cells[key].selection.items()]
        low = solver.minimum(terms)
        high = solver.minimum([(c, -v) for c, v in terms])
        lo = -math.inf if low is None else round(low)
        hi = math.inf if high is None else -round(high)
        value = model.cells[key].value
        assert lo <= value <= hi, (key, lo, value, hi)
        small = reading.hi < threshold
        need = needed_width(threshold) if small else 1
        if hi - lo < need:
            narrowed.append(Narrowed(key, reading.text, lo, hi, value))
    return narrowed


def verbatim(figures: Any, context: dict[str, Any]) -> list[str]:
    """Return the words the report repeats as they are: names, rubric text, the lead's words.

    Numbers in them are not counts the model defines: the rubric's own text, or the lead's
    words, which the wording check (``report.public_blockers``) has cleared.
    """
    rubric = figures.rubric
    review = figures.review
    words = [
        review.title,
        review.host_organisation,
        review.kind_label,
        rubric.title,
        *figures.leads,
        *figures.reviewers,
        context["service_name"],
        context["marking"],
        *context["rubric_sentences"],
        *context["summary"],
        *(s.title for s in rubric.sections),
        *(" ".join(q.text.split()) for q in rubric.questions),
        *(ct.label for ct in rubric.case_types),
        *(level.label for level in rubric.scale.levels),
        *(row.result.measure.name for row in figures.timeliness),
        *(c["team"] or "" for c in figures.case_files),
        *(f.text for f in figures.findings),
        *(a["what"] or "" for a in figures.actions),
        *(a["owner"] or "" for a in figures.actions),
    ]
    if context.get("trend"):
        for row in context["trend"]["rows"]:
            words.append(row["label"])
            words.extend(point["label"] for point in row["points"])
        for qid, reason in context["trend"]["left_out"]:
            words.extend([qid, reason])
    return words
