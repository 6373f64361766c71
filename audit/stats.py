"""Statistics for findings pages, reports and exports: shares, agreement between auditors, change.

Pure Python, no Flask and no numpy, so the page, the report and the JSON export all show the
same numbers. Every figure is either a real value or ``None`` with a reason in plain words:
nothing here returns NaN, raises ZeroDivisionError or reports a misleading 1.0 when agreement
cannot be measured. Agreement statistics are computed in exact fractions and converted to a
float once, so perfect agreement is exactly 1.0 and published examples are reproduced exactly.

References (see docs/statistics.md for the plain-words guide):

* Wilson (1927), JASA 22:209-212; Newcombe (1998a), Stat Med 17:857-872 (single share).
* Newcombe (1998b), Stat Med 17:873-890, method 10 (difference between two shares).
* Cohen (1960), Educ Psychol Meas 20:37-46; Cohen (1968), Psychol Bull 70:213-220 (kappa).
* Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", Annenberg School for
  Communication departmental papers 43 (alpha).
* Kish (1965), Survey Sampling, section 8.2 (design effect); Cochran (1977), Sampling
  Techniques, section 6.11 (variance of a ratio estimate): shares of answers clustered in cases.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = [
    "KAPPA_WEIGHTS",
    "LEVELS",
    "REASON_FEW_PAIRS",
    "REASON_NO_PAIRABLE",
    "REASON_NO_PAIRS",
    "REASON_NO_RATINGS",
    "REASON_ONE_GRADE",
    "Z_95",
    "Interval",
    "Proportion",
    "Statistic",
    "clustered_share",
    "cohen_kappa",
    "exact_agreement",
    "krippendorff_alpha",
    "newcombe_difference",
    "share_of_answers",
    "wilson",
]

Z_95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95% interval."""

KAPPA_WEIGHTS = ("none", "linear", "quadratic")
LEVELS = ("nominal", "ordinal", "interval")

REASON_NO_RATINGS = "no ratings"
REASON_NO_PAIRS = "no case was rated by both auditors"
REASON_FEW_PAIRS = "fewer than 2 cases were rated by both auditors"
REASON_NO_PAIRABLE = "no case was rated by more than one auditor"
REASON_ONE_GRADE = "only one grade was used, so agreement beyond chance cannot be measured"


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class Proportion:
    """A share with its 95% interval; share and limits None when n is 0.

    ``unit`` says what ``count`` and ``n`` count: "cases" (one per case, a Wilson interval)
    or "answers" (several per case, an interval widened for clustering within cases, see
    :func:`clustered_share`; ``cases`` is then how many cases the answers came from).
    """

    count: int
    n: int
    share: float | None
    low: float | None
    high: float | None
    unit: str = "cases"
    cases: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the share as plain JSON-able values for the export."""
        out: dict[str, Any] = {
            "count": self.count,
            "n": self.n,
            "unit": self.unit,
            "share": self.share,
            "low": self.low,
            "high": self.high,
        }
        if self.cases is not None:
            out["cases"] = self.cases
        return out


@dataclass(frozen=True)
class Statistic:
    """A value, or None with the reason it cannot be computed; n is the pairs or cases used."""

    value: float | None
    reason: str | None = None
    n: int = 0

    def __post_init__(self) -> None:
        """Refuse NaN, infinity and unexplained gaps, so nothing misleading reaches a report."""
        if self.value is None:
            if not self.reason:
                raise ValueError("a statistic without a value needs a reason")
        elif not math.isfinite(self.value):
            raise ValueError(f"a statistic must be a finite number, not {self.value!r}")

    @property
    def computable(self) -> bool:
        """Tell whether there is a value to show, rather than a reason."""
        return self.value is not None

    def as_dict(self) -> dict[str, Any]:
        """Return the statistic as plain JSON-able values, the value unrounded."""
        return {"value": self.value, "reason": self.reason, "n": self.n}


@dataclass(frozen=True)
class Interval:
    """An estimate with a 95% interval; all three None when it cannot be computed."""

    estimate: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, Any]:
        """Return the interval as plain JSON-able values for the export."""
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


# --------------------------------------------------------------------------- shares


def _check_z(z: float) -> float:
    """Refuse a quantile that would give an empty, infinite or inverted interval."""
    if not (isinstance(z, numbers.Real) and math.isfinite(z) and z > 0):
        raise ValueError(f"z must be a positive finite number, not {z!r}")
    return float(z)


def _check_counts(count: int, n: int) -> tuple[int, int]:
    """Refuse counts that cannot describe cases, so a bug upstream is not shown as a share."""
    count, n = operator.index(count), operator.index(n)
    if n < 0:
        raise ValueError(f"n must not be negative, not {n}")
    if count < 0:
        raise ValueError(f"count must not be negative, not {count}")
    if count > n:
        raise ValueError(f"count ({count}) must not exceed n ({n})")
    return count, n


def wilson(count: int, n: int, z: float = Z_95) -> Proportion:
    """Return count/n with its Wilson interval, which stays in 0..1 and is honest at 0% and 100%."""
    count, n = _check_counts(count, n)
    z = _check_z(z)
    if n == 0:
        return Proportion(count, n, None, None, None)
    z2 = z * z
    centre = (count + z2 / 2) / (n + z2)
    half = z * math.sqrt(count * (n - count) / n + z2 / 4) / (n + z2)
    # At 0 and n one limit is exactly 0 or 1; pin it so rounding never shows -0.0 or 0.99999.
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == n else min(1.0, centre + half)
    return Proportion(count, n, count / n, low, high)


def _wilson_limits(share: float, n: float, z: float) -> tuple[float, float]:
    """Return Wilson's limits for a share over a (possibly fractional, effective) sample size."""
    z2 = z * z
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if share == 0 else max(0.0, centre - half)
    high = 1.0 if share == 1 else min(1.0, centre + half)
    return low, high


def clustered_share(per_case: Iterable[tuple[int, int]], z: float = Z_95) -> Proportion:
    """Return a share of answers pooled over cases, its interval widened for clustering.

    ``per_case`` holds (good answers, answers) for each case. Answers from one case are not
    independent, so the share's variance is the ratio estimator's, with cases as clusters
    (Cochran 6.11, with the k/(k-1) small-sample factor); its ratio to the variance of
    independent answers is the design effect (Kish), and the Wilson interval is taken over the
    effective number of answers (answers / design effect, never more than the answers). Where
    the variance cannot be estimated (fewer than 2 cases, or a share of 0% or 100%) the design
    effect is the mean answers per case: the interval of one answer per case, the widest the
    clustering can make it. Deterministic: no resampling, no seed.
    """
    _check_z(z)
    pairs = []
    for good, answered in per_case:
        good, answered = _check_counts(good, answered)
        if answered:
            pairs.append((good, answered))
    count = sum(g for g, _ in pairs)
    n = sum(m for _, m in pairs)
    k = len(pairs)
    if k < 2 or count in (0, n):
        return share_of_answers(count, n, k, z)
    share = count / n
    clustered = k / (k - 1) * sum((g - share * m) ** 2 for g, m in pairs) / (n * n)
    independent = share * (1 - share) / n
    design_effect = max(1.0, clustered / independent)
    low, high = _wilson_limits(share, max(1.0, n / design_effect), z)
    return Proportion(count, n, share, low, high, unit="answers", cases=k)


def share_of_answers(count: int, n: int, cases: int, z: float = Z_95) -> Proportion:
    """Return a share of answers from ``cases`` cases, with the widest interval clustering allows.

    The ratio estimator's variance is at most that of one answer per case, so the Wilson
    interval over ``cases`` (not ``n``) is the conservative choice when the answers per case
    are not known (a finding linked to several questions).
    """
    count, n = _check_counts(count, n)
    z = _check_z(z)
    cases = operator.index(cases)
    if n == 0 or cases <= 0:
        return Proportion(count, n, None, None, None, unit="answers", cases=max(cases, 0))
    low, high = _wilson_limits(count / n, min(float(n), float(cases)), z)
    return Proportion(count, n, count / n, low, high, unit="answers", cases=cases)


def newcombe_difference(count1: int, n1: int, count2: int, n2: int, z: float = Z_95) -> Interval:
    """Return p2 - p1 with Newcombe's hybrid score interval, sound where Wald's is not."""
    first = wilson(count1, n1, z)
    second = wilson(count2, n2, z)
    if first.share is None or second.share is None:
        return Interval(None, None, None)
    assert first.low is not None and first.high is not None
    assert second.low is not None and second.high is not None
    p1, p2 = first.share, second.share
    estimate = p2 - p1
    # Newcombe (1998b) method 10, written for p2 - p1: each limit combines the distance from
    # each share to the Wilson limit on the side that moves the difference that way.
    low = estimate - math.sqrt((p2 - second.low) ** 2 + (first.high - p1) ** 2)
    high = estimate + math.sqrt((second.high - p2) ** 2 + (p1 - first.low) ** 2)
    return Interval(estimate, max(-1.0, low), min(1.0, high))


# --------------------------------------------------------------------------- agreement


def _is_nan(value: object) -> bool:
    """Tell whether a rating is a float NaN, which some exports use where None is meant."""
    return isinstance(value, float) and math.isnan(value)


def _check_rating(value: object) -> None:
    """Refuse NaN as a rating, because NaN never equals itself and would read as disagreement."""
    if _is_nan(value):
        raise ValueError("a missing rating must be None, not NaN")


def _category_index(categories: Iterable[Hashable]) -> dict[Hashable, int]:
    """Map each category to its position, refusing repeats and None that would blur the scale."""
    index: dict[Hashable, int] = {}
    for category in categories:
        if category is None or _is_nan(category):
            raise ValueError("categories must not include None or NaN")
        if category in index:
            raise ValueError(f"category {category!r} is listed twice")
        index[category] = len(index)
    return index


def _position(value: Hashable, index: dict[Hashable, int]) -> int:
    """Return a rating's place on the scale, refusing a value the scale does not have."""
    try:
        return index[value]
    except KeyError:
        raise ValueError(f"rating {value!r} is not one of the categories") from None


def exact_agreement(pairs: Sequence[tuple[Hashable | None, Hashable | None]]) -> Statistic:
    """Return the share of double-rated cases given the same rating, the plainest agreement."""
    agreed = used = 0
    for first, second in pairs:
        _check_rating(first)
        _check_rating(second)
        if first is None or second is None:
            continue
        used += 1
        agreed += first == second
    if used == 0:
        return Statistic(None, REASON_NO_PAIRS, 0)
    return Statistic(agreed / used, None, used)


def _kappa_weight(i: int, j: int, weights: str) -> int:
    """Return the disagreement weight, scaled to whole numbers: the scale cancels in kappa."""
    if weights == "none":
        return int(i != j)
    if weights == "linear":
        return abs(i - j)
    return (i - j) ** 2


def cohen_kappa(
    pairs: Sequence[tuple[Hashable | None, Hashable | None]],
    categories: Sequence[Hashable],
    weights: str = "quadratic",
) -> Statistic:
    """Return Cohen's (weighted) kappa, agreement between two auditors beyond chance."""
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(KAPPA_WEIGHTS)}, not {weights!r}")
    index = _category_index(categories)
    table: Counter[tuple[int, int]] = Counter()
    for first, second in pairs:
        _check_rating(first)
        _check_rating(second)
        i = None if first is None else _position(first, index)
        j = None if second is None else _position(second, index)
        if i is not None and j is not None:
            table[i, j] += 1
    total = sum(table.values())
    if total == 0:
        return Statistic(None, REASON_NO_PAIRS, 0)
    if total < 2:
        return Statistic(None, REASON_FEW_PAIRS, total)
    rows: Counter[int] = Counter()
    columns: Counter[int] = Counter()
    for (i, j), count in table.items():
        rows[i] += count
        columns[j] += count
    observed = sum(_kappa_weight(i, j, weights) * c for (i, j), c in table.items())
    expected = sum(
        _kappa_weight(i, j, weights) * r * c for i, r in rows.items() for j, c in columns.items()
    )
    if expected == 0:
        return Statistic(None, REASON_ONE_GRADE, total)
    # kappa = 1 - (observed disagreement / N) / (expected disagreement / N^2), exactly.
    return Statistic(float(1 - Fraction(total * observed, expected)), None, total)


def _alpha_metric(level: str, index: dict[Hashable, int] | None) -> Callable[[Hashable], Any]:
    """Return how a rating is placed on the scale, so ordinal and interval use its position."""
    if index is not None:
        return lambda value: _position(value, index)
    if level == "interval":

        def number(value: Hashable) -> Fraction:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"interval ratings must be numbers, not {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"interval ratings must be finite, not {value!r}")
            return Fraction(value)

        return number
    return lambda value: value


def krippendorff_alpha(
    units: Sequence[Sequence[Hashable | None]],
    level: str = "ordinal",
    categories: Sequence[Hashable] | None = None,
) -> Statistic:
    """Return Krippendorff's alpha, agreement among any number of auditors with gaps allowed."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if level == "ordinal" and categories is None:
        raise ValueError("ordinal alpha needs the categories in order")
    index = None if categories is None else _category_index(categories)
    place = _alpha_metric(level, index)

    # The coincidence matrix (Krippendorff 2011): each unit with m >= 2 ratings adds every
    # ordered pair of its ratings with weight 1 / (m - 1).
    coincidences: Counter[tuple[Any, Any]] = Counter()
    rated = units_used = 0
    for unit in units:
        values: Counter[Any] = Counter()
        for value in unit:
            _check_rating(value)
            if value is not None:
                values[place(value)] += 1
        m = sum(values.values())
        rated += m
        if m < 2:
            continue
        units_used += 1
        for c, n_c in values.items():
            for k, n_k in values.items():
                pairs = n_c * (n_c - 1) if c == k else n_c * n_k
                coincidences[c, k] += Fraction(pairs, m - 1)
    if rated == 0:
        return Statistic(None, REASON_NO_RATINGS, 0)
    if units_used == 0:
        return Statistic(None, REASON_NO_PAIRABLE, 0)

    totals: Counter[Any] = Counter()
    for (c, _k), o_ck in coincidences.items():
        totals[c] += o_ck
    margins = {value: int(total) for value, total in totals.items() if total}
    n = sum(margins.values())
    delta = _delta(level, margins)
    observed = sum(o_ck * delta(c, k) for (c, k), o_ck in coincidences.items())
    expected = sum(
        n_c * n_k * delta(c, k) for c, n_c in margins.items() for k, n_k in margins.items()
    )
    if expected == 0:
        return Statistic(None, REASON_ONE_GRADE, units_used)
    return Statistic(float(1 - (n - 1) * Fraction(observed) / expected), None, units_used)


def _delta(level: str, margins: dict[Any, int]) -> Callable[[Any, Any], int | Fraction]:
    """Return the squared difference between two values for the level of measurement."""
    if level == "nominal":
        return lambda c, k: int(c != k)
    if level == "interval":
        return lambda c, k: (c - k) ** 2
    # Ordinal: the distance between two ranks counts the values rated between them, each end
    # counting half: (sum of n_g for g from c to k - (n_c + n_k) / 2) squared.
    ranks = sorted(margins)
    cumulative: dict[int, int] = {}
    running = 0
    for rank in ranks:
        running += margins[rank]
        cumulative[rank] = running

    def ordinal(c: int, k: int) -> Fraction:
        if c == k:
            return Fraction(0)
        lo, hi = min(c, k), max(c, k)
        between = cumulative[hi] - cumulative[lo] + margins[lo]
        return (between - Fraction(margins[lo] + margins[hi], 2)) ** 2

    return ordinal
