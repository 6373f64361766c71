"""The statistics councils quote: published worked examples, edge cases and no NaN, ever."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections import Counter
from collections.abc import Hashable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import stats
from audit.stats import (
    KAPPA_WEIGHTS,
    LEVELS,
    REASON_FEW_PAIRS,
    REASON_NO_PAIRABLE,
    REASON_NO_PAIRS,
    REASON_NO_RATINGS,
    REASON_ONE_GRADE,
    Interval,
    Proportion,
    Statistic,
    cohen_kappa,
    exact_agreement,
    krippendorff_alpha,
    newcombe_difference,
    wilson,
)

GRADES = ["inadequate", "requires improvement", "good", "outstanding"]


def approx(expected: float) -> object:
    """Compare to the 4 decimal places published examples are printed to (3 dp is implied)."""
    return pytest.approx(expected, abs=5e-5)


def _json(payload: dict[str, object]) -> str:
    """Serialise as the export does: NaN or infinity would make this raise."""
    return json.dumps(payload, allow_nan=False)


# --------------------------------------------------------------------------- Wilson interval


@pytest.mark.parametrize(
    ("count", "n", "share", "low", "high"),
    [
        # Worked by hand from Wilson's (1927) formula with z = 1.96:
        # 0/10: high = z^2 / (n + z^2) = 3.8415 / 13.8415 = 0.2775.
        (0, 10, 0.0, 0.0, 0.2775),
        # 10/10: low = n / (n + z^2) = 10 / 13.8415 = 0.7225.
        (10, 10, 1.0, 0.7225, 1.0),
        # 30/40: centre (30 + 1.9207) / 43.8415 = 0.7281, half-width 0.1300.
        (30, 40, 0.75, 0.5981, 0.8581),
        # Newcombe (1998a) Table I, method 3 (score method without continuity correction).
        (81, 263, 81 / 263, 0.2553, 0.3662),
        (15, 148, 15 / 148, 0.0624, 0.1605),
    ],
)
def test_wilson_matches_worked_examples(
    count: int, n: int, share: float, low: float, high: float
) -> None:
    result = wilson(count, n)
    assert result.count == count and result.n == n
    assert result.share == pytest.approx(share)
    assert result.low == approx(low)
    assert result.high == approx(high)


def test_wilson_pins_the_limits_at_none_and_all() -> None:
    assert wilson(0, 10).low == 0.0
    assert wilson(0, 10).share == 0.0
    assert wilson(10, 10).high == 1.0
    assert wilson(1, 1).high == 1.0


def test_wilson_with_no_cases_has_no_share() -> None:
    result = wilson(0, 0)
    assert (result.share, result.low, result.high) == (None, None, None)
    assert result.as_dict() == {
        "count": 0,
        "n": 0,
        "unit": "cases",
        "share": None,
        "low": None,
        "high": None,
    }
    assert _json(result.as_dict())


@pytest.mark.parametrize(("count", "n"), [(-1, 10), (0, -1), (11, 10), (1, 0)])
def test_wilson_refuses_impossible_counts(count: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson(count, n)


@pytest.mark.parametrize("z", [0, -1.96, math.nan, math.inf])
def test_wilson_refuses_a_meaningless_z(z: float) -> None:
    with pytest.raises(ValueError):
        wilson(3, 10, z)


def test_wilson_refuses_fractional_counts() -> None:
    with pytest.raises(TypeError):
        wilson(2.5, 10)  # type: ignore[arg-type]


def test_proportion_as_dict_is_json_ready() -> None:
    result = wilson(30, 40)
    assert result.as_dict() == {
        "count": 30,
        "n": 40,
        "unit": "cases",
        "share": 0.75,
        "low": result.low,
        "high": result.high,
    }
    assert json.loads(_json(result.as_dict()))["share"] == 0.75
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.share = 0.5  # type: ignore[misc]


@given(st.integers(0, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_always_holds_the_share(count_n: tuple[int, int]) -> None:
    count, n = count_n
    result = wilson(count, n)
    if n == 0:
        assert result.share is None
        return
    assert result.share is not None and result.low is not None and result.high is not None
    assert 0.0 <= result.low <= result.share <= result.high <= 1.0
    assert result.low < result.high
    # Counting failures instead of successes mirrors the interval.
    mirror = wilson(n - count, n)
    assert mirror.low == pytest.approx(1 - result.high, abs=1e-12)
    assert mirror.high == pytest.approx(1 - result.low, abs=1e-12)


# --------------------------------------------------------------------------- Newcombe difference


@pytest.mark.parametrize(
    ("before", "after", "estimate", "low", "high"),
    [
        # Newcombe (1998b) Table II, method 10: 56/70 - 48/80 = 0.2000 (0.0524 to 0.3339)
        # and 9/10 - 3/10 = 0.6000 (0.1705 to 0.8090). Here p2 - p1 with the earlier review first.
        ((48, 80), (56, 70), 0.2, 0.0524, 0.3339),
        ((3, 10), (9, 10), 0.6, 0.1705, 0.8090),
        # Both shares 0: the limits are the Wilson upper limits of 0/10 (0.2775) on each side.
        ((0, 10), (0, 10), 0.0, -0.2775, 0.2775),
    ],
)
def test_newcombe_matches_published_examples(
    before: tuple[int, int], after: tuple[int, int], estimate: float, low: float, high: float
) -> None:
    result = newcombe_difference(*before, *after)
    assert result.estimate == pytest.approx(estimate)
    assert result.low == approx(low)
    assert result.high == approx(high)


def test_newcombe_reversed_order_mirrors_the_interval() -> None:
    forward = newcombe_difference(48, 80, 56, 70)
    backward = newcombe_difference(56, 70, 48, 80)
    assert backward.estimate == pytest.approx(-0.2)
    assert backward.low == approx(-0.3339)
    assert backward.high == approx(-0.0524)
    assert forward.as_dict() == {
        "estimate": forward.estimate,
        "low": forward.low,
        "high": forward.high,
    }


@pytest.mark.parametrize("counts", [(0, 0, 5, 10), (5, 10, 0, 0), (0, 0, 0, 0)])
def test_newcombe_without_cases_on_one_side_has_no_difference(
    counts: tuple[int, int, int, int],
) -> None:
    result = newcombe_difference(*counts)
    assert result == Interval(None, None, None)
    assert _json(result.as_dict())


def test_newcombe_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError):
        newcombe_difference(11, 10, 3, 10)
    with pytest.raises(ValueError):
        newcombe_difference(1, 10, -3, 10)


def test_newcombe_is_not_wald() -> None:
    # Wald gives a zero-width interval when both shares are 100%; Newcombe's does not.
    result = newcombe_difference(10, 10, 10, 10)
    assert result.estimate == 0.0
    assert result.low is not None and result.high is not None
    assert result.low < 0 < result.high


@given(
    st.integers(0, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(0, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_newcombe_interval_always_holds_the_estimate(
    first: tuple[int, int], second: tuple[int, int]
) -> None:
    result = newcombe_difference(*first, *second)
    if first[1] == 0 or second[1] == 0:
        assert result.estimate is None
        return
    assert result.low is not None and result.estimate is not None and result.high is not None
    assert -1.0 <= result.low <= result.estimate <= result.high <= 1.0
    assert result.low < result.high
    _json(result.as_dict())


# --------------------------------------------------------------------------- Statistic


def test_statistic_refuses_nan_infinity_and_unexplained_gaps() -> None:
    with pytest.raises(ValueError):
        Statistic(math.nan)
    with pytest.raises(ValueError):
        Statistic(math.inf)
    with pytest.raises(ValueError):
        Statistic(None)


def test_statistic_as_dict_keeps_the_full_value() -> None:
    value = Statistic(2 / 3, None, 12)
    assert value.computable
    assert value.as_dict() == {"value": 2 / 3, "reason": None, "n": 12}
    missing = Statistic(None, REASON_NO_RATINGS)
    assert not missing.computable
    assert missing.as_dict() == {"value": None, "reason": "no ratings", "n": 0}


# --------------------------------------------------------------------------- exact agreement


def test_exact_agreement_counts_only_cases_rated_twice() -> None:
    pairs = [("good", "good"), ("good", "inadequate"), (None, "good"), ("good", None), (1, 1)]
    result = exact_agreement(pairs)
    assert result.value == pytest.approx(2 / 3)
    assert result.n == 3


def test_exact_agreement_without_double_rated_cases_is_not_computable() -> None:
    for pairs in ([], [(None, "good"), ("good", None), (None, None)]):
        result = exact_agreement(pairs)
        assert result.value is None
        assert result.reason == REASON_NO_PAIRS == "no case was rated by both auditors"


def test_exact_agreement_refuses_nan_for_missing() -> None:
    with pytest.raises(ValueError, match="None, not NaN"):
        exact_agreement([(math.nan, 1.0), (1.0, 1.0)])


# --------------------------------------------------------------------------- Cohen's kappa

# The 3-category example: cross-table of (rater 1, rater 2) over 100 cases.
KAPPA_EXAMPLE = [(0, 0)] * 46 + [(1, 0)] * 4 + [(1, 1)] * 40 + [(2, 2)] * 10


@pytest.mark.parametrize(
    ("weights", "expected", "exact"),
    [
        # Worked by hand: p_o = 0.96, p_e = 0.46*0.50 + 0.44*0.40 + 0.10*0.10 = 0.416,
        # kappa = 0.544 / 0.584 = 68/73.
        ("none", 0.9315, 68 / 73),
        # Disagreement weights |i-j|/2: observed 0.02, expected 0.34, kappa = 16/17.
        ("linear", 0.9412, 16 / 17),
        # Disagreement weights ((i-j)/2)^2: observed 0.01, expected 0.218, kappa = 104/109.
        ("quadratic", 0.9541, 104 / 109),
    ],
)
def test_cohen_kappa_matches_worked_example(weights: str, expected: float, exact: float) -> None:
    result = cohen_kappa(KAPPA_EXAMPLE, [0, 1, 2], weights)
    assert result.value == approx(expected)
    assert result.value == pytest.approx(exact, abs=1e-15)
    assert result.n == 100
    assert result.reason is None


def test_cohen_kappa_defaults_to_quadratic_weights() -> None:
    assert cohen_kappa(KAPPA_EXAMPLE, [0, 1, 2]) == cohen_kappa(
        KAPPA_EXAMPLE, [0, 1, 2], "quadratic"
    )


def test_cohen_kappa_depends_on_order_not_direction() -> None:
    swapped = [(b, a) for a, b in KAPPA_EXAMPLE]
    for weights in KAPPA_WEIGHTS:
        base = cohen_kappa(KAPPA_EXAMPLE, [0, 1, 2], weights).value
        assert cohen_kappa(KAPPA_EXAMPLE, [2, 1, 0], weights).value == pytest.approx(base)
        assert cohen_kappa(swapped, [0, 1, 2], weights).value == pytest.approx(base)
    # The order of the scale matters once disagreements are weighted.
    assert cohen_kappa(KAPPA_EXAMPLE, [1, 0, 2], "quadratic").value != pytest.approx(
        cohen_kappa(KAPPA_EXAMPLE, [0, 1, 2], "quadratic").value
    )


@pytest.mark.parametrize("weights", KAPPA_WEIGHTS)
def test_cohen_kappa_perfect_agreement_is_exactly_one(weights: str) -> None:
    pairs = [("good", "good"), ("inadequate", "inadequate"), ("good", "good")]
    assert cohen_kappa(pairs, GRADES, weights) == Statistic(1.0, None, 3)


@pytest.mark.parametrize("weights", KAPPA_WEIGHTS)
def test_cohen_kappa_with_one_grade_used_is_not_computable(weights: str) -> None:
    pairs = [("good", "good")] * 20 + [("good", None)]
    result = cohen_kappa(pairs, GRADES, weights)
    assert result.value is None
    assert result.reason == REASON_ONE_GRADE
    assert "only one grade was used" in result.reason
    assert result.n == 20


def test_cohen_kappa_when_each_auditor_always_gives_a_different_grade_is_zero() -> None:
    pairs = [("good", "inadequate")] * 5
    assert cohen_kappa(pairs, GRADES).value == 0.0


def test_cohen_kappa_needs_two_double_rated_cases() -> None:
    one = cohen_kappa([("good", "inadequate"), ("good", None)], GRADES)
    assert (one.value, one.reason, one.n) == (None, REASON_FEW_PAIRS, 1)
    for pairs in ([], [(None, None), ("good", None), (None, "good")]):
        none = cohen_kappa(pairs, GRADES)
        assert (none.value, none.reason, none.n) == (None, REASON_NO_PAIRS, 0)


def test_cohen_kappa_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="not one of the categories"):
        cohen_kappa([("good", "great"), ("good", "good")], GRADES)
    with pytest.raises(ValueError, match="not one of the categories"):
        cohen_kappa([("great", None)], GRADES)  # a typo is refused even where it is skipped
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa(KAPPA_EXAMPLE, [0, 1, 2], "cubic")
    with pytest.raises(ValueError, match="twice"):
        cohen_kappa(KAPPA_EXAMPLE, [0, 1, 2, 1])
    with pytest.raises(ValueError, match="NaN"):
        cohen_kappa([(math.nan, 0), (0, 0)], [0, 1])


def _textbook_kappa(
    pairs: Sequence[tuple[Hashable | None, Hashable | None]],
    categories: Sequence[Hashable],
    weights: str,
) -> float | None:
    """Weighted kappa the textbook way: agreement weights, p_o and p_e as floats."""
    k = len(categories)
    index = {c: i for i, c in enumerate(categories)}
    used = [(index[a], index[b]) for a, b in pairs if a is not None and b is not None]
    n = len(used)

    def agreement(i: int, j: int) -> float:
        if weights == "none":
            return float(i == j)
        if weights == "linear":
            return 1 - abs(i - j) / (k - 1)
        return 1 - ((i - j) / (k - 1)) ** 2

    rows = Counter(i for i, _ in used)
    columns = Counter(j for _, j in used)
    p_o = sum(agreement(i, j) for i, j in used) / n
    p_e = sum(agreement(i, j) * rows[i] * columns[j] for i in range(k) for j in range(k)) / n**2
    if math.isclose(p_e, 1.0):
        return None
    return (p_o - p_e) / (1 - p_e)


ratings = st.sampled_from([*GRADES, None])
rating_pairs = st.lists(st.tuples(ratings, ratings), max_size=15)


@settings(deadline=None)
@given(rating_pairs, st.sampled_from(KAPPA_WEIGHTS))
def test_cohen_kappa_is_always_a_number_or_a_reason(
    pairs: list[tuple[str | None, str | None]], weights: str
) -> None:
    result = cohen_kappa(pairs, GRADES, weights)
    _json(result.as_dict())
    if result.value is None:
        assert result.reason
        return
    assert math.isfinite(result.value)
    assert -1.0 - 1e-12 <= result.value <= 1.0
    assert result.n >= 2
    assert result.value == pytest.approx(_textbook_kappa(pairs, GRADES, weights), abs=1e-9)
    swapped = cohen_kappa([(b, a) for a, b in pairs], GRADES, weights)
    assert swapped.value == pytest.approx(result.value, abs=1e-12)


# --------------------------------------------------------------------------- Krippendorff's alpha

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: observers A-D
# (rows) by units 1-12 (columns), None where an observer did not rate the unit.
_ = None
KRIPPENDORFF_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]
KRIPPENDORFF_UNITS = [list(unit) for unit in zip(*KRIPPENDORFF_C, strict=True)]
SCALE = [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("level", "categories", "expected"),
    [
        ("nominal", None, 0.743),
        ("nominal", SCALE, 0.743),
        ("ordinal", SCALE, 0.815),
        ("interval", None, 0.849),
        ("interval", SCALE, 0.849),  # ranks 0-4 differ from values 1-5 by a constant
    ],
)
def test_krippendorff_matches_published_example(
    level: str, categories: list[int] | None, expected: float
) -> None:
    result = krippendorff_alpha(KRIPPENDORFF_UNITS, level, categories)
    assert result.value == pytest.approx(expected, abs=5e-4)
    assert result.n == 11  # unit 12 has a single rating and cannot be paired
    assert result.reason is None


def test_krippendorff_example_to_four_places() -> None:
    # The same example one place further, so a change in method cannot hide in the rounding.
    assert krippendorff_alpha(KRIPPENDORFF_UNITS, "nominal").value == approx(0.7434)
    assert krippendorff_alpha(KRIPPENDORFF_UNITS, "ordinal", SCALE).value == approx(0.8154)
    assert krippendorff_alpha(KRIPPENDORFF_UNITS, "interval").value == approx(0.8491)


def test_krippendorff_binary_example() -> None:
    # Krippendorff (2011), section A: two observers, ten units, no missing data:
    # alpha = 1 - (20 - 1) * 4 / (14 * 6) = 0.095.
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    result = krippendorff_alpha(list(zip(a, b, strict=True)), "nominal")
    assert result.value == pytest.approx(0.095, abs=5e-4)
    assert result.value == pytest.approx(1 - 19 * 4 / (14 * 6), abs=1e-15)


def test_krippendorff_defaults_to_ordinal() -> None:
    assert krippendorff_alpha(KRIPPENDORFF_UNITS, categories=SCALE) == krippendorff_alpha(
        KRIPPENDORFF_UNITS, "ordinal", SCALE
    )


def test_krippendorff_ordinal_ignores_unused_grades_at_either_end() -> None:
    wide = ["none", *SCALE, "top"]
    assert krippendorff_alpha(KRIPPENDORFF_UNITS, "ordinal", wide).value == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_UNITS, "ordinal", SCALE).value
    )


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_perfect_agreement_is_exactly_one(level: str) -> None:
    units = [["good", "good", None], ["inadequate", None, "inadequate"], ["good", "good", "good"]]
    assert krippendorff_alpha(units, level, GRADES) == Statistic(1.0, None, 3)


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_with_one_grade_used_is_not_computable(level: str) -> None:
    units = [["good", "good"], ["good", None, "good"], ["good"]]
    result = krippendorff_alpha(units, level, GRADES)
    assert (result.value, result.reason, result.n) == (None, REASON_ONE_GRADE, 2)


def test_krippendorff_without_pairable_ratings_is_not_computable() -> None:
    assert krippendorff_alpha([], "nominal") == Statistic(None, REASON_NO_RATINGS, 0)
    assert krippendorff_alpha([[None, None], []], "nominal") == Statistic(
        None, REASON_NO_RATINGS, 0
    )
    single = krippendorff_alpha([["good", None], [None, "inadequate"]], "ordinal", GRADES)
    assert single == Statistic(None, REASON_NO_PAIRABLE, 0)


def test_krippendorff_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="categories in order"):
        krippendorff_alpha(KRIPPENDORFF_UNITS, "ordinal")
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(KRIPPENDORFF_UNITS, "ratio")
    with pytest.raises(ValueError, match="not one of the categories"):
        krippendorff_alpha([["good", "great"]], "ordinal", GRADES)
    with pytest.raises(ValueError, match="numbers"):
        krippendorff_alpha([["good", "good"]], "interval")
    with pytest.raises(ValueError, match="None, not NaN"):
        krippendorff_alpha([[1.0, math.nan]], "interval")
    with pytest.raises(ValueError, match="twice"):
        krippendorff_alpha(KRIPPENDORFF_UNITS, "ordinal", [1, 2, 2, 3])


def _pairwise_alpha(
    units: Sequence[Sequence[Hashable | None]], level: str, categories: Sequence[Hashable]
) -> float | None:
    """Alpha straight from its definition over pairs of values, in floats (no coincidences)."""
    rank = {c: i for i, c in enumerate(categories)}
    pairable = [[rank[v] for v in unit if v is not None] for unit in units]
    pairable = [unit for unit in pairable if len(unit) >= 2]
    values = [v for unit in pairable for v in unit]
    n = len(values)
    if n == 0:
        return None
    counts = Counter(values)

    def delta(c: int, k: int) -> float:
        if level == "nominal":
            return float(c != k)
        if level == "interval":
            return float((c - k) ** 2)
        lo, hi = min(c, k), max(c, k)
        return (sum(counts[g] for g in range(lo, hi + 1)) - (counts[c] + counts[k]) / 2) ** 2

    observed = (
        sum(
            sum(delta(a, b) for a, b in itertools.permutations(unit, 2)) / (len(unit) - 1)
            for unit in pairable
        )
        / n
    )
    expected = sum(delta(a, b) for a, b in itertools.permutations(values, 2)) / (n * (n - 1))
    return None if expected == 0 else 1 - observed / expected


rating_units = st.lists(st.lists(ratings, max_size=4), max_size=10)


@settings(deadline=None)
@given(rating_units, st.sampled_from(LEVELS), st.randoms(use_true_random=False))
def test_krippendorff_is_always_a_number_or_a_reason(
    units: list[list[str | None]], level: str, random: object
) -> None:
    result = krippendorff_alpha(units, level, GRADES)
    _json(result.as_dict())
    expected = _pairwise_alpha(units, level, GRADES)
    if result.value is None:
        assert result.reason
        assert expected is None
        return
    assert math.isfinite(result.value)
    assert result.value <= 1.0
    assert expected is not None
    assert result.value == pytest.approx(expected, abs=1e-9)
    # Neither the order of units, the order of auditors nor the direction of the scale counts.
    shuffled = [list(unit) for unit in reversed(units)]
    for unit in shuffled:
        random.shuffle(unit)  # type: ignore[attr-defined]
    again = krippendorff_alpha(shuffled, level, GRADES[::-1])
    assert again.value == pytest.approx(result.value, abs=1e-12)


numbers_or_missing = st.one_of(
    st.none(),
    st.integers(-3, 3),
    st.sampled_from([0.5, 2.25, -1.75, 1e-3]),
)


@settings(deadline=None)
@given(st.lists(st.lists(numbers_or_missing, max_size=4), max_size=10))
def test_krippendorff_interval_on_numbers_is_always_a_number_or_a_reason(
    units: list[list[float | None]],
) -> None:
    result = krippendorff_alpha(units, "interval")
    _json(result.as_dict())
    if result.value is not None:
        assert math.isfinite(result.value)
        assert result.value <= 1.0
        # Moving every value by the same amount changes nothing on an interval scale.
        moved = [[None if v is None else v + 10 for v in unit] for unit in units]
        assert krippendorff_alpha(moved, "interval").value == pytest.approx(result.value, abs=1e-12)
    else:
        assert result.reason


def test_two_auditors_quadratic_kappa_and_interval_alpha_are_close() -> None:
    # For two auditors with no gaps both measure squared distance beyond chance; they differ
    # only in how chance is modelled (each auditor's own habits, or pooled), so they are close.
    kappa = cohen_kappa(KAPPA_EXAMPLE, [0, 1, 2]).value
    alpha = krippendorff_alpha([list(pair) for pair in KAPPA_EXAMPLE], "interval").value
    assert kappa is not None and alpha is not None
    assert alpha == pytest.approx(kappa, abs=0.01)


def test_every_result_type_is_frozen_and_json_ready() -> None:
    results: list[Proportion | Statistic | Interval] = [
        wilson(3, 7),
        exact_agreement([(1, 1)]),
        cohen_kappa(KAPPA_EXAMPLE, [0, 1, 2]),
        krippendorff_alpha(KRIPPENDORFF_UNITS, "ordinal", SCALE),
        newcombe_difference(1, 2, 3, 4),
    ]
    for result in results:
        assert _json(result.as_dict())
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.n = 1  # type: ignore[misc, union-attr]


# --------------------------------------------------------------------------- clustered shares


def test_clustered_share_of_independent_looking_answers_is_wilsons() -> None:
    """Where cases vary no more than independent answers would, the interval is Wilson's."""
    # 40 cases answering 2 checks each; 20 met both, 20 met one: the spread within cases is
    # less than chance, so the design effect is 1 (never below) and the answers count fully.
    per_case = [(2, 2)] * 20 + [(1, 2)] * 20
    result = stats.clustered_share(per_case)
    plain = wilson(60, 80)
    assert (result.count, result.n, result.unit, result.cases) == (60, 80, "answers", 40)
    assert result.share == 0.75
    assert result.low == pytest.approx(plain.low, abs=1e-12)
    assert result.high == pytest.approx(plain.high, abs=1e-12)


def test_clustered_share_widens_when_answers_go_together_within_cases() -> None:
    """Cases that met both checks or neither: 80 answers carry only 40 cases' information."""
    per_case = [(2, 2)] * 30 + [(0, 2)] * 10
    result = stats.clustered_share(per_case)
    by_case = wilson(30, 40)
    # Hand: p = 0.75, cluster variance = 40/39 * (30 * 0.5^2 + 10 * 1.5^2) / 80^2, design
    # effect = that / (0.75 * 0.25 / 80) = 2.0513, effective n = 80 / 2.0513 = 39.0.
    deff = (40 / 39) * (30 * 0.25 + 10 * 2.25) / 80**2 / (0.75 * 0.25 / 80)
    assert deff == pytest.approx(2.0513, abs=1e-4)
    low, high = _hand_wilson_float(0.75, 80 / deff)
    assert result.low == pytest.approx(low, abs=1e-12)
    assert result.high == pytest.approx(high, abs=1e-12)
    assert result.low < wilson(60, 80).low and result.high > wilson(60, 80).high
    assert result.low == pytest.approx(by_case.low, abs=0.01)


@pytest.mark.parametrize(
    ("per_case", "count", "n", "cases"),
    [([(3, 3)] * 5, 15, 15, 5), ([(0, 2)] * 4, 0, 8, 4), ([(2, 4)], 2, 4, 1)],
)
def test_clustered_share_at_the_edges_takes_one_answer_per_case(per_case, count, n, cases) -> None:  # type: ignore[no-untyped-def]
    """At 0%, 100% or with one case the variance cannot be estimated: count cases, not answers."""
    result = stats.clustered_share(per_case)
    by_case = wilson(round(count / n * cases), cases) if count in (0, n) else None
    assert (result.count, result.n, result.cases) == (count, n, cases)
    if by_case is not None:
        assert result.low == pytest.approx(by_case.low, abs=1e-12)
        assert result.high == pytest.approx(by_case.high, abs=1e-12)
    assert result == stats.share_of_answers(count, n, cases)


def test_clustered_share_with_no_answers_and_bad_counts() -> None:
    empty = stats.clustered_share([(0, 0), (0, 0)])
    assert (empty.share, empty.low, empty.high, empty.cases, empty.unit) == (
        None,
        None,
        None,
        0,
        "answers",
    )
    with pytest.raises(ValueError, match="must not exceed"):
        stats.clustered_share([(3, 2)])
    assert stats.share_of_answers(0, 0, 0).as_dict()["unit"] == "answers"


def _hand_wilson_float(p: float, n: float) -> tuple[float, float]:
    z = stats.Z_95
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@settings(max_examples=200)
@given(
    st.lists(
        st.integers(min_value=1, max_value=6).flatmap(
            lambda m: st.tuples(st.integers(min_value=0, max_value=m), st.just(m))
        ),
        min_size=1,
        max_size=40,
    )
)
def test_clustered_share_is_a_share_of_answers_never_narrower_than_wilsons(per_case) -> None:  # type: ignore[no-untyped-def]
    """The interval holds the share, stays in 0..1, and is never narrower than independence."""
    result = stats.clustered_share(per_case)
    count, n = sum(g for g, _ in per_case), sum(m for _, m in per_case)
    plain = wilson(count, n)
    assert (result.count, result.n, result.cases, result.unit) == (
        count,
        n,
        len(per_case),
        "answers",
    )
    assert result.low is not None and result.high is not None
    assert 0.0 <= result.low <= result.share <= result.high <= 1.0
    assert plain.low is not None and plain.high is not None
    assert result.high - result.low >= plain.high - plain.low - 1e-9
