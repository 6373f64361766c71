"""Protect a :class:`~audit.reporting.disclosure.Model`: the exact attacker and least loss.

**The attacker.** For each withheld count, its smallest and largest possible value given
everything the public version prints: an integer programme over the model's inner cells
(non-negative whole numbers) with one row per published cell (a printed count is fixed, "<5"
is 1 to 4, "[c]" is 5 or more) and one per piece of reader knowledge. It is solved with
HiGHS: the linear relaxation first, warm-started from the last solve with only the objective
changed; where its optimal vertex is not whole, the integer programme itself. So the ranges
are exact, not the looser ones interval propagation or a bare linear programme would give.

**The protection rule.** No withheld small count may be narrowed to fewer than three
possible values (two when the threshold allows only two, as "<3" does), and no count
withheld to protect another may be pinned to its value.

**Least information lost.** While a withheld count breaks the rule, the cheapest printed
counts that free it are withheld too: a linear programme finds an *alternative table*, one
that keeps every other printed count, every withheld count in its printed range and all the
reader's knowledge, yet moves the failing count far enough; the printed counts it had to
change, weighted by what losing each costs, are withheld ("[c]"). Anchors (the cases
audited, the headline shares) are held fixed first and used only when nothing else will do;
where freeing a count in a part of the report that can be left out would cost an anchor,
that part is left out instead, and so is any part whose count no table can free. Withholding
more only widens every range, so a count that passes stays passing: each round looks again
only at the counts that failed and at the new complements.

HiGHS comes from ``highspy`` (MIT licence). Its low-level class is used where available,
because the wrapper prints a banner on construction, before any option can silence it, and
that would reach the command line's output.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from audit.reporting.disclosure import (
    LEFT_OUT,
    PRIMARY,
    PRINTED,
    SECONDARY,
    Model,
    needed_width,
)

IMPLIED = "implied"
_TOL = 1e-6
ANCHOR_WEIGHT = 10_000.0
"""An anchor's cost when nothing else will do: far above any other count's."""
_INF = math.inf


@dataclass
class Result:
    """The public version's statuses, by key, and what the attacker was left with."""

    status: dict[str, str]
    dropped: set[str]
    ranges: dict[str, tuple[int, float]]
    seconds: float
    solves: int = 0


@dataclass
class _Cell:
    """A distinct published sum (several keys may print the very same figure)."""

    keys: list[str]
    terms: list[tuple[int, int]]
    value: int
    sensitive: bool
    anchor: bool
    implied: bool
    weight: float
    groups: set[str] = field(default_factory=set)


def _core() -> Any:
    import highspy

    return getattr(highspy, "_core", highspy)


def _solver() -> Any:
    import highspy

    core = getattr(highspy, "_core", None)
    solver = core._Highs() if core is not None and hasattr(core, "_Highs") else highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("random_seed", 0)
    return solver


def _build(
    cost: Sequence[float],
    col_lower: Sequence[float],
    col_upper: Sequence[float],
    rows: Sequence[Sequence[tuple[int, float]]],
    row_lower: Sequence[float],
    row_upper: Sequence[float],
    *,
    integer: bool = False,
) -> Any:
    """Return a HiGHS solver holding the given linear (or integer) programme, row-wise."""
    import numpy as np

    core = _core()
    ncol = len(cost)
    lp = core.HighsLp()
    lp.num_col_ = ncol
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int32, count=len(rows))
    start = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(lengths, out=start[1:])
    flat = [term for row in rows for term in row]
    lp.a_matrix_.format_ = core.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = ncol
    lp.a_matrix_.num_row_ = len(rows)
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = np.fromiter((c for c, _ in flat), dtype=np.int32, count=len(flat))
    lp.a_matrix_.value_ = np.fromiter((v for _, v in flat), dtype=np.float64, count=len(flat))
    if integer:
        lp.integrality_ = [core.HighsVarType.kInteger] * ncol
    solver = _solver()
    solver.setOptionValue("presolve", "on" if integer else "off")
    solver.passModel(lp)
    return solver


def _status_name(solver: Any) -> str:
    return str(solver.getModelStatus()).rsplit(".", 1)[-1]


class _Programme:
    """The model as rows over the inner cells a reader cannot already see are zero.

    A printed zero (or knowledge that a sum is zero) fixes every inner cell in it, so those
    cells are left out of the programmes. Should such a zero later be left out of the
    report with its part, its cells stay fixed: the attacker then knows a little more than
    the reader, which can only make the protection stricter.
    """

    def __init__(self, model: Model, cells: Sequence[_Cell], status: Sequence[str]) -> None:
        zero: set[int] = set()
        for cell, s in zip(cells, status, strict=True):
            if s == PRINTED and cell.value == 0 and all(c > 0 for _, c in cell.terms):
                zero.update(col for col, _ in cell.terms)
        for known in model.knowledge:
            coefs = list(known.terms.values())
            if known.lo == known.hi == 0 and all(c > 0 for c in coefs):
                zero.update(known.terms)
        kept = [col for col in range(model.size) if col not in zero]
        self.column = {col: j for j, col in enumerate(kept)}
        self.ncol = len(kept)
        self.cells = [self.terms(cell.terms) for cell in cells]
        self.knowledge = [
            (self.terms(known.terms.items()), known.lo, known.hi) for known in model.knowledge
        ]

    def terms(self, terms: Iterable[tuple[int, int]]) -> list[tuple[int, float]]:
        column = self.column
        return [(column[col], float(c)) for col, c in terms if col in column]


def bounds(value: int, status: str, threshold: int) -> tuple[float, float]:
    """Return what a reader knows of a published cell from how it is printed."""
    if status == PRINTED:
        return float(value), float(value)
    if status in (PRIMARY, SECONDARY):
        if 0 < value < threshold:
            return 1.0, float(threshold - 1)
        return float(threshold), _INF
    return -_INF, _INF


class Attacker:
    """Work out withheld counts' ranges from what is printed, exactly.

    The linear relaxation bounds each count (no whole-number table can go further). Where
    its optimal vertex is fractional, a second programme looks for the whole-number table
    nearest the true one that reaches the bound (the fewest counts moved, which on these
    tables is whole almost always); only if that fails too is the integer programme solved.
    """

    def __init__(
        self,
        model: Model,
        cells: Sequence[_Cell],
        status: Sequence[str],
        threshold: int,
    ) -> None:
        self.cells = cells
        self.threshold = threshold
        self.program = _Programme(model, cells, status)
        truth = model.truth()
        self.truth = [0.0] * self.program.ncol
        for col, j in self.program.column.items():
            self.truth[j] = float(truth[col])
        rows = list(self.program.cells)
        self.lower, self.upper = [], []
        for cell, s in zip(cells, status, strict=True):
            lo, hi = bounds(cell.value, s, threshold)
            self.lower.append(lo)
            self.upper.append(hi)
        for terms, lo, hi in self.program.knowledge:
            rows.append(terms)
            self.lower.append(lo)
            self.upper.append(hi)
        self.rows = rows
        n = self.program.ncol
        self.lp = _build([0.0] * n, [0.0] * n, [_INF] * n, rows, self.lower, self.upper)
        # Only the objective changes between solves: primal simplex from the last basis.
        self.lp.setOptionValue("simplex_strategy", 4)
        self._move: Any = None
        self._mip: Any = None
        self.solves = 0

    def set_status(self, index: int, status: str) -> None:
        """Change what the reader knows of one cell (it is now withheld)."""
        lo, hi = bounds(self.cells[index].value, status, self.threshold)
        self.lower[index], self.upper[index] = lo, hi
        for solver in (self.lp, self._move, self._mip):
            if solver is not None:
                solver.changeRowBounds(index, lo, hi)

    def _objective(self, solver: Any, terms: Sequence[tuple[int, float]], sign: float) -> None:
        import numpy as np

        n = self.program.ncol
        cost = np.zeros(n)
        for col, coef in terms:
            cost[col] = sign * coef
        solver.changeColsCost(n, np.arange(n, dtype=np.int32), cost)

    def extreme(self, index: int, sign: float) -> float:
        """Return the smallest (sign 1) or largest (sign -1) whole value of a cell."""
        import numpy as np

        terms = self.program.cells[index]
        if not terms:
            return 0.0
        self._objective(self.lp, terms, sign)
        self.lp.run()
        self.solves += 1
        status = _status_name(self.lp)
        if status in ("kUnbounded", "kUnboundedOrInfeasible"):
            return sign * -_INF
        if status != "kOptimal":
            raise RuntimeError(f"the attacker's programme ended {status}")
        value = sign * self.lp.getInfo().objective_function_value
        x = np.asarray(self.lp.getSolution().col_value)
        if np.all(np.abs(x - np.round(x)) < _TOL):
            return float(round(value))
        bound = math.ceil(value - _TOL) if sign > 0 else math.floor(value + _TOL)
        if self._reached(index, bound, sign):
            return float(bound)
        return sign * self._integer(terms, sign)

    def _reached(self, index: int, bound: float, sign: float) -> bool:
        """Tell whether a whole-number table reaches ``bound`` (fewest counts moved)."""
        import numpy as np

        n = self.program.ncol
        if self._move is None:
            rows = [list(r) for r in self.rows]
            lower, upper = list(self.lower), list(self.upper)
            for j in range(n):
                rows.append([(j, 1.0), (n + 2 * j, -1.0), (n + 2 * j + 1, 1.0)])
                lower.append(self.truth[j])
                upper.append(self.truth[j])
            cost = [0.0] * n + [1.0] * (2 * n)
            self._move = _build(cost, [0.0] * (3 * n), [_INF] * (3 * n), rows, lower, upper)
        lo, hi = self.lower[index], self.upper[index]
        new = (lo, min(hi, bound)) if sign > 0 else (max(lo, bound), hi)
        self._move.changeRowBounds(index, *new)
        try:
            self._move.run()
            self.solves += 1
            if _status_name(self._move) != "kOptimal":
                return False
            x = np.asarray(self._move.getSolution().col_value)[:n]
            return bool(np.all(np.abs(x - np.round(x)) < _TOL))
        finally:
            self._move.changeRowBounds(index, lo, hi)

    def _integer(self, terms: Sequence[tuple[int, float]], sign: float) -> float:
        n = self.program.ncol
        if self._mip is None:
            self._mip = _build(
                [0.0] * n, [0.0] * n, [_INF] * n, self.rows, self.lower, self.upper, integer=True
            )
        self._objective(self._mip, terms, sign)
        self._mip.run()
        self.solves += 1
        status = _status_name(self._mip)
        if status in ("kUnbounded", "kUnboundedOrInfeasible"):
            return -_INF
        if status != "kOptimal":
            raise RuntimeError(f"the attacker's integer programme ended {status}")
        return float(self._mip.getInfo().objective_function_value)

    def range(self, index: int) -> tuple[int, float]:
        """Return the smallest and largest value the cell can take given what is printed."""
        return int(max(self.extreme(index, 1.0), 0)), self.extreme(index, -1.0)

    def passes(self, index: int, status: str) -> tuple[bool, float, float]:
        """Tell whether a withheld cell keeps enough possible values; (ok, lo, hi) as found.

        The nearer side is solved first: often it alone shows the cell is wide enough.
        """
        cell = self.cells[index]
        v, t = cell.value, self.threshold
        need = needed_width(t) if status == PRIMARY else 1
        if need <= 0:
            return True, v, v
        upward_first = status != PRIMARY or v <= (t - 1) / 2
        if upward_first:
            hi = self.extreme(index, -1.0)
            if hi >= v + need:
                return True, v, hi
            lo = self.extreme(index, 1.0)
        else:
            lo = self.extreme(index, 1.0)
            if lo <= v - need:
                return True, lo, v
            hi = self.extreme(index, -1.0)
        return hi - lo >= need, lo, hi


class _Alternatives:
    """Find alternative tables: the cheapest printed counts to withhold to free a count."""

    def __init__(self, protector: _Protector, program: _Programme) -> None:
        self.p = protector
        self.program = program
        cells = protector.cells
        n = program.ncol
        self.first = n
        rows: list[list[tuple[int, float]]] = []
        for i, terms in enumerate(program.cells):
            p = n + 2 * i
            rows.append([*terms, (p, -1.0), (p + 1, 1.0)])
        lower, upper = [], []
        for i in range(len(cells)):
            lo, hi = bounds(cells[i].value, protector.status[i], protector.t)
            lower.append(lo)
            upper.append(hi)
        for terms, lo, hi in program.knowledge:
            rows.append(terms)
            lower.append(lo)
            upper.append(hi)
        self.lower, self.upper = lower, upper
        self.rows = rows
        ncols = n + 2 * len(cells)
        cost = [0.0] * ncols
        col_upper = [_INF] * n + [0.0] * (2 * len(cells))
        self.lp = _build(cost, [0.0] * ncols, col_upper, rows, lower, upper)
        self.anchors = False
        self.refresh_columns(range(len(cells)))

    def movable(self, i: int) -> tuple[float, float, float]:
        """Return (up, down, cost) a printed cell may move by if withheld (0, 0: it may not)."""
        cell, t = self.p.cells[i], self.p.t
        if self.p.status[i] != PRINTED or cell.value <= 0 or cell.implied:
            return 0.0, 0.0, 0.0
        if cell.anchor and not self.anchors:
            return 0.0, 0.0, 0.0
        if cell.value >= t:
            up, down = _INF, float(cell.value - t)
        else:  # a small count printed (not about children): withheld, it reads "<5"
            up, down = float(t - 1 - cell.value), float(cell.value - 1)
        return up, down, ANCHOR_WEIGHT if cell.anchor else cell.weight

    def refresh(self, i: int) -> None:
        """Bring cell ``i``'s row and deviation columns up to date with its status."""
        lo, hi = bounds(self.p.cells[i].value, self.p.status[i], self.p.t)
        self.lower[i], self.upper[i] = lo, hi
        self.lp.changeRowBounds(i, lo, hi)
        self.refresh_columns([i])

    def refresh_columns(self, cells: Sequence[int]) -> None:
        """Set the deviation columns of the given cells from what each may move by."""
        import numpy as np

        cols = np.empty(2 * len(cells), dtype=np.int32)
        upper = np.empty(2 * len(cells))
        cost = np.empty(2 * len(cells))
        for k, i in enumerate(cells):
            up, down, weight = self.movable(i)
            cols[2 * k], cols[2 * k + 1] = self.first + 2 * i, self.first + 2 * i + 1
            upper[2 * k], upper[2 * k + 1] = up, down
            cost[2 * k] = cost[2 * k + 1] = weight
        self.lp.changeColsBounds(len(cols), cols, np.zeros(len(cols)), upper)
        self.lp.changeColsCost(len(cols), cols, cost)

    def set_anchors(self, usable: bool) -> None:
        """Let anchors be withheld (at a high cost), or hold them fixed."""
        if usable != self.anchors:
            self.anchors = usable
            self.refresh_columns([i for i, cell in enumerate(self.p.cells) if cell.anchor])

    def find(
        self, target: int, up: bool, bound: float, *, integer: bool
    ) -> tuple[float, list[int]] | None:
        """Return (cost, cells to withhold) letting ``target`` reach ``bound``, or None."""
        lo, hi = self.lower[target], self.upper[target]
        new_lo, new_hi = (max(lo, bound), hi) if up else (lo, min(hi, bound))
        if new_lo > new_hi:
            return None
        if integer:
            lower = list(self.lower)
            upper = list(self.upper)
            lower[target], upper[target] = new_lo, new_hi
            n = self.first + 2 * len(self.p.cells)
            col_lower = [0.0] * n
            col_upper = [_INF] * self.first
            cost = [0.0] * self.first
            for i in range(len(self.p.cells)):
                u, d, c = self.movable(i)
                col_upper += [u, d]
                cost += [c, c]
            solver = _build(cost, col_lower, col_upper, self.rows, lower, upper, integer=True)
            solver.setOptionValue("time_limit", 10.0)
        else:
            solver = self.lp
            solver.changeRowBounds(target, new_lo, new_hi)
        try:
            solver.run()
            if _status_name(solver) != "kOptimal":
                return None
            moved = self._moved(solver)
            if not integer and len(moved) > 1:
                moved = self._sparser(moved)
            chosen = sorted(moved)
            return sum(self.p.cells[i].weight for i in chosen), chosen
        finally:
            if not integer:
                solver.changeRowBounds(target, lo, hi)

    def _moved(self, solver: Any) -> dict[int, float]:
        """Return the printed cells the solution moves, and by how much."""
        x = solver.getSolution().col_value
        first = self.first
        out = {}
        for i in range(len(self.p.cells)):
            amount = x[first + 2 * i] + x[first + 2 * i + 1]
            if amount > _TOL:
                out[i] = amount
        return out

    def _sparser(self, moved: dict[int, float]) -> dict[int, float]:
        """Move fewer cells where the cheapest table is not unique (reweighted L1, twice).

        A table of the same cost may spread its changes over more cells; weighting each
        cell's change by the inverse of how far it moved favours tables that move few.
        """
        import numpy as np

        cells = self.p.cells
        cols = np.array(
            [c for i in range(len(cells)) for c in (self.first + 2 * i, self.first + 2 * i + 1)],
            dtype=np.int32,
        )
        try:
            for _ in range(2):
                lower = np.zeros(len(cols))
                upper = np.zeros(len(cols))
                cost = np.zeros(len(cols))
                for i in range(len(cells)):
                    if i in moved:
                        up, down, weight = self.movable(i)
                        upper[2 * i], upper[2 * i + 1] = up, down
                        cost[2 * i] = cost[2 * i + 1] = weight / (moved[i] + 0.1)
                self.lp.changeColsBounds(len(cols), cols, lower, upper)
                self.lp.changeColsCost(len(cols), cols, cost)
                self.lp.run()
                if _status_name(self.lp) != "kOptimal":
                    break
                fewer = self._moved(self.lp)
                if len(fewer) >= len(moved):
                    break
                moved = fewer
        finally:
            self.refresh_columns(range(len(cells)))
        return moved


class _Protector:
    def __init__(self, model: Model, threshold: int) -> None:
        self.model = model
        self.t = threshold
        by_signature: dict[tuple[tuple[int, int], ...], int] = {}
        self.cells: list[_Cell] = []
        for key, c in model.cells.items():
            if not c.public:
                continue
            signature = c.selection.signature()
            i = by_signature.get(signature)
            if i is None:
                i = by_signature[signature] = len(self.cells)
                self.cells.append(_Cell([], list(signature), c.value, False, False, True, 0.0))
            cell = self.cells[i]
            cell.keys.append(key)
            cell.sensitive |= c.sensitive
            cell.anchor |= c.anchor
            cell.implied &= c.implied
            cell.weight = max(cell.weight, c.weight)
            if c.group:
                cell.groups.add(c.group)
        self.status: list[str] = []
        for cell in self.cells:
            if cell.sensitive and 0 < cell.value < threshold:
                self.status.append(PRIMARY)
            elif cell.implied or not cell.terms:
                self.status.append(IMPLIED)
            else:
                self.status.append(PRINTED)
        self.dropped: set[str] = set()
        self.left: set[int] = set()
        self.solves = 0

    # -- leaving parts out

    def _key_dropped(self, key: str) -> bool:
        group = self.model.cells[key].group
        return bool(group) and group in self.dropped

    def _gone(self, i: int) -> bool:
        return i in self.left or all(self._key_dropped(k) for k in self.cells[i].keys)

    def droppable(self, i: int) -> bool:
        """Tell whether leaving out cell ``i``'s parts of the report would take it away."""
        groups = self.model.groups
        return all(
            self.model.cells[k].group in groups and groups[self.model.cells[k].group].droppable
            for k in self.cells[i].keys
        )

    def _drop_cost(self, i: int) -> float:
        """Return what leaving out cell ``i``'s parts of the report would lose."""
        groups = {self.model.cells[k].group for k in self.cells[i].keys}
        return sum(
            cell.weight
            for j, cell in enumerate(self.cells)
            if self.status[j] == PRINTED
            and all(self.model.cells[k].group in groups or self._key_dropped(k) for k in cell.keys)
        )

    def _drop(self, i: int) -> None:
        """Leave out cell ``i``'s groups if they may be left out, else the cell alone."""
        if self.droppable(i):
            self.dropped.update(self.model.cells[k].group for k in self.cells[i].keys)
        else:
            self.left.add(i)
        for j in range(len(self.cells)):
            if self.status[j] != LEFT_OUT and self._gone(j):
                self.status[j] = LEFT_OUT

    # -- freeing a count

    def _windows(self, i: int, lo: float, hi: float) -> list[list[tuple[bool, float]]]:
        """Return the ways to widen cell ``i``'s range enough: each a list of (up, bound)."""
        cell, t = self.cells[i], self.t
        v = cell.value
        if self.status[i] == PRIMARY:
            need = needed_width(t)
            out = []
            for a in range(max(1, v - need), min(v, t - 1 - need) + 1):
                wants = []
                if a + need > hi:
                    wants.append((True, float(a + need)))
                if a < lo:
                    wants.append((False, float(a)))
                out.append(wants)
            return out
        out = [[(True, float(v + 1))]]
        if v - 1 >= t:
            out.append([(False, float(v - 1))])
        return out

    def _cheapest(
        self, alternatives: _Alternatives, i: int, lo: float, hi: float, *, integer: bool
    ) -> tuple[float, set[int]] | None:
        best: tuple[float, set[int]] | None = None
        solved: dict[tuple[bool, float], tuple[float, list[int]] | None] = {}
        for wants in self._windows(i, lo, hi):
            total, chosen, ok = 0.0, set(), True
            for up, bound in wants:
                if (up, bound) not in solved:
                    solved[(up, bound)] = alternatives.find(i, up, bound, integer=integer)
                found = solved[(up, bound)]
                if found is None:
                    ok = False
                    break
                total += found[0]
                chosen.update(found[1])
            if ok and (best is None or total < best[0]):
                best = (total, chosen)
        return best

    def _free(self, i: int, lo: float, hi: float, alternatives: _Alternatives) -> list[int]:
        """Withhold what frees cell ``i`` (or leave a part out); return the cells withheld."""
        for anchors in (False, True):
            alternatives.set_anchors(anchors)
            for integer in (False, True):
                best = self._cheapest(alternatives, i, lo, hi, integer=integer)
                if best is None:
                    break  # no table at all this way; whole numbers will not help either
                chosen = best[1]
                if not chosen:
                    continue  # reachable only in fractions: ask for whole numbers
                if anchors and any(self.cells[j].anchor for j in chosen) and self.droppable(i):
                    break  # an anchor would go: leave this part out instead
                if self.droppable(i) and self._drop_cost(i) < sum(
                    self.cells[j].weight for j in chosen
                ):
                    break  # leaving this part out loses less than withholding all that
                for j in sorted(chosen):
                    self.status[j] = SECONDARY
                    alternatives.refresh(j)
                return sorted(chosen)
        alternatives.set_anchors(False)
        self._drop(i)
        return []

    def _order(self, cells: Iterable[int]) -> list[int]:
        # Parts that cannot be left out first: the anchors they cost are needed anyway, and
        # the counts in other parts may then be freed without them.
        return sorted(set(cells), key=lambda i: (self.droppable(i), self.cells[i].value, i))

    def run(self) -> Result:
        started = time.perf_counter()
        pending = self._order(i for i, s in enumerate(self.status) if s in (PRIMARY, SECONDARY))
        ranges: dict[int, tuple[int, float]] = {}
        attacker = Attacker(self.model, self.cells, self.status, self.t)
        alternatives = _Alternatives(self, attacker.program)
        while pending:
            i = pending.pop(0)
            if self.status[i] not in (PRIMARY, SECONDARY):
                continue
            ok, lo, hi = attacker.passes(i, self.status[i])
            ranges[i] = (int(max(lo, 0)), hi)
            if ok:
                continue
            before = list(self.status)
            new = self._free(i, lo, hi, alternatives)
            for j, status in enumerate(self.status):
                if status != before[j]:  # withheld, or left out: the reader knows less
                    attacker.set_status(j, status)
                    alternatives.refresh(j)
            pending = self._order([*pending, i, *new])
        self.solves += attacker.solves
        status: dict[str, str] = {}
        for i, cell in enumerate(self.cells):
            s = self.status[i]
            for key in cell.keys:
                if s == LEFT_OUT or self._key_dropped(key):
                    status[key] = LEFT_OUT
                elif s in (PRIMARY, SECONDARY):
                    status[key] = s
        for key, c in self.model.cells.items():
            if not c.public:
                status[key] = LEFT_OUT
        by_key = {
            key: ranges[i]
            for i, cell in enumerate(self.cells)
            if i in ranges and self.status[i] in (PRIMARY, SECONDARY)
            for key in cell.keys
        }
        return Result(status, self.dropped, by_key, time.perf_counter() - started, self.solves)


def protect(model: Model, threshold: int) -> Result:
    """Withhold small counts and enough others that none can be worked out (never refuses)."""
    return _Protector(model, threshold).run()


_DONE: OrderedDict[str, Result] = OrderedDict()
_DONE_MAX = 32
_DONE_LOCK = threading.Lock()


def protect_once(model: Model, threshold: int) -> Result:
    """Protect, or return the result already worked out for an identical model.

    The preview, the PDF, the Word document and issuing each gather the same figures: the
    protection depends only on the model and the threshold, so it is worked out once.
    """
    key = model.fingerprint(threshold)
    with _DONE_LOCK:
        if key in _DONE:
            _DONE.move_to_end(key)
            done = _DONE[key]
            return Result(dict(done.status), set(done.dropped), dict(done.ranges), 0.0, done.solves)
    result = protect(model, threshold)
    with _DONE_LOCK:
        _DONE[key] = result
        while len(_DONE) > _DONE_MAX:
            _DONE.popitem(last=False)
    return result


def attack(model: Model, status: Mapping[str, str], threshold: int) -> dict[str, tuple[int, float]]:
    """Return each withheld count's exact range, given the statuses a public view printed."""
    protector = _Protector(model, threshold)
    for i, cell in enumerate(protector.cells):
        shown = [status.get(k, PRINTED) for k in cell.keys]
        if all(s == LEFT_OUT for s in shown):
            protector.status[i] = LEFT_OUT
        elif any(s in (PRIMARY, SECONDARY) for s in shown):
            protector.status[i] = PRIMARY if protector.status[i] == PRIMARY else SECONDARY
        elif protector.status[i] == PRIMARY:
            protector.status[i] = PRINTED  # printed though small: the attacker sees it
    attacker = Attacker(model, protector.cells, protector.status, threshold)
    out = {}
    for i, cell in enumerate(protector.cells):
        if protector.status[i] in (PRIMARY, SECONDARY):
            rng = attacker.range(i)
            for key in cell.keys:
                out[key] = rng
    return out
