"""Trends over a programme's reviews: points, changes with Newcombe intervals, filters and
comparison across a rubric version change.

Aggregations are built directly with ``findings.aggregate`` from the groups of cases below,
so every expected count can be checked by hand from the tables; expected intervals are
computed here again from the Wilson limits with Newcombe's formula.

Review "Sep 2026" (rubric 1.0), 40 cases:

    group  cases  type  team   overall  visits  safe  seen   drift  chron  genogram
    A1     10     cp    North  good     good    yes   yes    no     yes    yes
    A2     10     cp    South  req_imp  good    yes   N/A    no     no     yes
    A3     14     cin   North  outst.   good    yes   yes    yes    yes    no
    A4      6     cin   South  inadeq.  inadeq. no    no     yes    no     no

Review "Oct 2026" (rubric 1.0), 40 cases:

    B1     16     cp    North  good     good    yes   yes    no     yes    yes
    B2      4     cp    South  req_imp  req_imp yes   N/A    no     yes    no
    B3     16     cin   North  good     req_imp yes   no     no     yes    yes
    B4      4     cin   East   inadeq.  good    yes   yes    no     no     no

Review "Nov 2026" (rubric 1.1: a level renamed, genogram removed, drift's good answer
flipped, voice_heard added), 20 cases:

    C1     12     cp    North  good     needs_i yes   yes    yes    no     (voice yes)
    C2      8     cin   West   outst.   good    yes   yes    no     yes    (voice no)
"""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from audit import findings, trends
from audit.findings import Aggregation
from audit.rubric import Rubric, parse_rubric
from audit.stats import Z_95, Interval, Proportion, newcombe_difference, wilson
from audit.trends import Change, Comparability, Point, Series

RUBRIC_1_0 = """\
id: trend-audit
version: "1.0"
title: Trend audit
case_types:
  - {id: cp, label: Child protection}
  - {id: cin, label: Child in need}
scale:
  levels:
    - {id: outstanding, label: Outstanding, value: 4}
    - {id: good, label: Good, value: 3}
    - {id: requires_improvement, label: Requires improvement, value: 2}
    - {id: inadequate, label: Inadequate, value: 1}
  good_or_better: [outstanding, good]
sections:
  - id: safety
    title: Safety
    compulsory: true
    questions:
      - id: child_safe
        text: Is the child adequately safeguarded?
        type: yes_no
        critical: true
        adverse_answer: "no"
  - id: visits
    title: Visits
    grade_question: visits_grade
    questions:
      - id: seen_alone
        text: Was the child seen alone?
        type: yes_no
        allow_na: true
      - id: drift
        text: Was there drift in the plan?
        type: yes_no
        good_answer: "no"
      - id: visits_grade
        text: How purposeful are visits?
        type: grade
  - id: records
    title: Records
    questions:
      - id: chronology
        text: Is there an up-to-date chronology?
        type: yes_no
      - id: genogram
        text: Is there a genogram?
        type: yes_no
  - id: overall
    title: Overall
    compulsory: true
    questions:
      - id: overall_grade
        text: Overall judgement
        type: grade
      - id: comments
        text: Comments
        type: text
        required: false
overall:
  question: overall_grade
"""

GENOGRAM = """\
      - id: genogram
        text: Is there a genogram?
        type: yes_no
"""
VOICE = """\
  - id: voice
    title: Voice of the child
    questions:
      - id: voice_heard
        text: Is the child's voice heard?
        type: yes_no
"""


def edit(text: str, *changes: tuple[str, str]) -> str:
    """Apply exact one-off replacements, failing loudly if a fragment is not there."""
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


# Version 1.1: one question removed, the scale changed (a level with a new id), a yes/no
# question's good answer flipped, a question added; a section title and a question's text
# reworded (wording alone does not stop a comparison).
RUBRIC_1_1 = edit(
    RUBRIC_1_0,
    ('version: "1.0"', 'version: "1.1"'),
    (
        "{id: requires_improvement, label: Requires improvement, value: 2}",
        "{id: needs_improvement, label: Needs improvement, value: 2}",
    ),
    (GENOGRAM, ""),
    ("text: Was there drift in the plan?", "text: Was the plan progressed without drift?"),
    ('good_answer: "no"', 'good_answer: "yes"'),
    ("title: Safety\n", "title: Keeping the child safe\n"),
    ("text: Is there an up-to-date chronology?", "text: Is the chronology up to date?"),
    ("  - id: overall\n", VOICE + "  - id: overall\n"),
)


def rubric(text: str = RUBRIC_1_0) -> Rubric:
    return parse_rubric(text, source="trend-audit.yaml")


def aggregate(rubric_: Rubric, groups) -> Aggregation:  # type: ignore[no-untyped-def]
    """Aggregate groups of identical cases: (count, case type, team, {question: answer})."""
    audits = []
    case_answers = {}
    counts: Counter[tuple[str, str | None, bool, str, str]] = Counter()
    for count, case_type, team, answers in groups:
        for _ in range(count):
            audit_id = f"a{len(audits) + 1}"
            audits.append(
                {"audit_id": audit_id, "case_type": case_type, "team": team, "sections_na": []}
            )
            case_answers[audit_id] = dict(answers)
        for question_id, value in answers.items():
            na = value == "na"
            counts[question_id, None if na else value, na, case_type, team] += count
    rows = [
        {
            "question_id": question_id,
            "value": value,
            "not_applicable": int(na),
            "case_type": case_type,
            "team": team,
            "n": n,
        }
        for (question_id, value, na, case_type, team), n in counts.items()
    ]
    return findings.aggregate(rubric_, audits, rows, case_answers=case_answers)


def answers(overall, visits, safe, seen, drift, chronology, genogram=None, voice=None):  # type: ignore[no-untyped-def]
    out = {
        "overall_grade": overall,
        "visits_grade": visits,
        "child_safe": safe,
        "seen_alone": seen,
        "drift": drift,
        "chronology": chronology,
    }
    if genogram is not None:
        out["genogram"] = genogram
    if voice is not None:
        out["voice_heard"] = voice
    return out


RI = "requires_improvement"
NI = "needs_improvement"
SEP = [
    (10, "cp", "North", answers("good", "good", "yes", "yes", "no", "yes", "yes")),
    (10, "cp", "South", answers(RI, "good", "yes", "na", "no", "no", "yes")),
    (14, "cin", "North", answers("outstanding", "good", "yes", "yes", "yes", "yes", "no")),
    (6, "cin", "South", answers("inadequate", "inadequate", "no", "no", "yes", "no", "no")),
]
OCT = [
    (16, "cp", "North", answers("good", "good", "yes", "yes", "no", "yes", "yes")),
    (4, "cp", "South", answers(RI, RI, "yes", "na", "no", "yes", "no")),
    (16, "cin", "North", answers("good", RI, "yes", "no", "no", "yes", "yes")),
    (4, "cin", "East", answers("inadequate", "good", "yes", "yes", "no", "no", "no")),
]
NOV = [
    (12, "cp", "North", answers("good", NI, "yes", "yes", "yes", "no", None, "yes")),
    (8, "cin", "West", answers("outstanding", "good", "yes", "yes", "no", "yes", None, "no")),
]


def two_reviews() -> list[tuple[str, str, Aggregation]]:
    r = rubric()
    return [("r1", "Sep 2026", aggregate(r, SEP)), ("r2", "Oct 2026", aggregate(r, OCT))]


def three_reviews() -> list[tuple[str, str, Aggregation]]:
    return [*two_reviews(), ("r3", "Nov 2026", aggregate(rubric(RUBRIC_1_1), NOV))]


def by_key(result: dict) -> dict[str, Series]:  # type: ignore[type-arg]
    return {s.key: s for s in [result["overall"], *result["sections"], *result["questions"]]}


def hand_newcombe(c1: int, n1: int, c2: int, n2: int) -> tuple[float, float, float]:
    """Newcombe (1998b) method 10 for p2 - p1, written out from the two Wilson intervals."""
    first, second = wilson(c1, n1), wilson(c2, n2)
    p1, l1, u1 = c1 / n1, first.low, first.high
    p2, l2, u2 = c2 / n2, second.low, second.high
    assert None not in (l1, u1, l2, u2)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)  # type: ignore[operator]
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)  # type: ignore[operator]
    return d, low, high


def hand_wilson(count: int, n: int) -> tuple[float, float]:
    """Wilson's score interval, written out (z = 1.96 to 15 places)."""
    z = Z_95
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def assert_change(change: Change, counts: tuple[int, int, int, int]) -> None:
    d, low, high = hand_newcombe(*counts)
    assert change.difference.estimate == pytest.approx(d, abs=1e-12)
    assert change.difference.low == pytest.approx(low, abs=1e-12)
    assert change.difference.high == pytest.approx(high, abs=1e-12)


# --------------------------------------------------------------------------- points


def test_points_carry_counts_and_wilson_intervals() -> None:
    series = by_key(trends.trend(two_reviews()))
    overall = series["overall"]
    assert overall.label == "Overall judgement"
    assert [(p.review_id, p.label) for p in overall.points] == [
        ("r1", "Sep 2026"),
        ("r2", "Oct 2026"),
    ]
    # Sep: A1 good (10) + A3 outstanding (14) = 24 of 40; Oct: B1 + B3 good = 32 of 40.
    assert overall.points[0].good == wilson(24, 40)
    assert overall.points[1].good == wilson(32, 40)
    low, high = hand_wilson(24, 40)
    assert overall.points[0].good.low == pytest.approx(low, abs=1e-12)
    assert overall.points[0].good.high == pytest.approx(high, abs=1e-12)
    assert overall.points[0].good.low == pytest.approx(0.4460, abs=5e-5)
    assert overall.points[0].good.high == pytest.approx(0.7365, abs=5e-5)

    # N/A answers are not counted: Sep 24 yes of 30 answered (A2's 10 were N/A); Oct 20 of 36.
    seen = series["question:seen_alone"]
    assert [p.good for p in seen.points] == [wilson(24, 30), wilson(20, 36)]
    # drift is good when the answer is "no": Sep A1 + A2 = 20 of 40, Oct all 40.
    assert [p.good for p in series["question:drift"].points] == [wilson(20, 40), wilson(40, 40)]
    # A section with a grade question follows that question: visits 34/40 then 20/40.
    visits = series["section:visits"]
    assert visits.label == "Visits"
    assert [p.good for p in visits.points] == [wilson(34, 40), wilson(20, 40)]
    # A section without one counts cases with every check met (chronology and genogram):
    # A1's 10 in Sep, B1 + B3 = 32 in Oct, of 40 cases each (not 80 answers).
    records = series["section:records"]
    assert [p.good for p in records.points] == [wilson(10, 40), wilson(32, 40)]


def test_series_cover_comparable_sections_and_questions_in_rubric_order() -> None:
    result = trends.trend(two_reviews())
    # The overall section has no grade question and no checks: nothing to show.
    assert [s.key for s in result["sections"]] == [
        "section:safety",
        "section:visits",
        "section:records",
    ]
    # Every graded or yes/no question; the text question has no share.
    assert [s.key for s in result["questions"]] == [
        "question:child_safe",
        "question:seen_alone",
        "question:drift",
        "question:visits_grade",
        "question:chronology",
        "question:genogram",
        "question:overall_grade",
    ]
    assert result["questions"][0].label == "Is the child adequately safeguarded?"
    assert result["comparability"].left_out == ()
    assert result["filter"] == {"case_type": None, "team": None}


# --------------------------------------------------------------------------- changes


def test_change_uses_newcombe_interval_computed_by_hand() -> None:
    overall = trends.trend(two_reviews())["overall"]
    (change,) = overall.changes
    assert (change.from_review, change.to_review) == ("r1", "r2")
    assert_change(change, (24, 40, 32, 40))
    assert change.difference == newcombe_difference(24, 40, 32, 40)
    # docs/statistics.md: 24/40 -> 32/40 is a rise of 20 points, likely range -0.1 to +38.1.
    assert change.difference.estimate == pytest.approx(0.20, abs=1e-12)
    assert change.difference.low == pytest.approx(-0.0010, abs=5e-5)
    assert change.difference.high == pytest.approx(0.3810, abs=5e-5)
    # Wald's interval on the same counts (0.2 +/- 1.96 * 0.1) would exclude zero.
    se = math.sqrt(0.6 * 0.4 / 40 + 0.8 * 0.2 / 40)
    assert 0.2 - Z_95 * se > 0
    assert change.significant is False
    assert change.describe() == "up 20 points (95% interval -0.1 to +38): could be noise"


def test_real_fall_and_real_rise() -> None:
    series = by_key(trends.trend(two_reviews()))
    visits = series["section:visits"].changes[0]
    assert_change(visits, (34, 40, 20, 40))
    assert visits.significant is True
    assert visits.describe() == "down 35 points (95% interval -52 to -15): a real fall"
    records = series["section:records"].changes[0]
    assert_change(records, (10, 40, 32, 40))
    assert records.significant is True
    assert records.describe() == "up 55 points (95% interval +34 to +69): a real rise"
    seen = series["question:seen_alone"].changes[0]
    assert_change(seen, (24, 30, 20, 36))
    assert seen.describe() == "down 24 points (95% interval -44 to -2): a real fall"


@pytest.mark.parametrize(
    ("interval", "significant", "words"),
    [
        (
            Interval(0.12, -0.08, 0.31),
            False,
            "up 12 points (95% interval -8 to +31): could be noise",
        ),
        (
            Interval(-0.25, -0.44, -0.04),
            True,
            "down 25 points (95% interval -44 to -4): a real fall",
        ),
        (Interval(0.01, -0.2, 0.2), False, "up 1 point (95% interval -20 to +20): could be noise"),
        (
            Interval(-0.004, -0.1, 0.09),
            False,
            "down less than 1 point (95% interval -10 to +9): could be noise",
        ),
        (Interval(0.3, 0.004, 0.5), True, "up 30 points (95% interval +0.4 to +50): a real rise"),
        (Interval(0.3, 0.0002, 0.5), True, "up 30 points (95% interval +0.02 to +50): a real rise"),
        (Interval(0.0, -0.1, 0.1), False, "no change (95% interval -10 to +10): could be noise"),
        (Interval(0.2, 0.0, 0.4), False, "up 20 points (95% interval 0 to +40): could be noise"),
        (Interval(None, None, None), None, "not computable: no answers in one review"),
    ],
)
def test_describe_wording(interval: Interval, significant: bool | None, words: str) -> None:
    change = Change("a", "b", interval)
    assert change.significant is significant
    assert change.describe() == words
    # The same change as a table cell: the amount and interval, the verdict apart.
    if significant is None:
        assert change.amount() is None and change.verdict is None
    else:
        amount, verdict = words.split(": ")
        assert change.amount() == amount.replace("95% interval ", "")
        assert change.verdict == verdict


# --------------------------------------------------------------------------- filters


def test_filter_by_case_type() -> None:
    result = trends.trend(two_reviews(), case_type="cp")
    assert result["filter"] == {"case_type": "cp", "team": None}
    series = by_key(result)
    # cp overall: Sep A1 10 good of 20; Oct B1 16 good of 20.
    overall = series["overall"]
    assert [p.good for p in overall.points] == [wilson(10, 20), wilson(16, 20)]
    assert_change(overall.changes[0], (10, 20, 16, 20))
    assert overall.changes[0].describe() == "up 30 points (95% interval +1 to +53): a real rise"

    cin = by_key(trends.trend(two_reviews(), case_type="cin"))
    # cin visits: Sep A3 14 good of 20; Oct B4 4 good of 20.
    assert [p.good for p in cin["section:visits"].points] == [wilson(14, 20), wilson(4, 20)]
    assert_change(cin["section:visits"].changes[0], (14, 20, 4, 20))
    assert cin["section:visits"].changes[0].significant is True


def test_filter_by_team_including_no_change() -> None:
    north = by_key(trends.trend(two_reviews(), team="North"))
    # North: every case good or better in both reviews, 24 of 24 then 32 of 32.
    overall = north["overall"]
    assert [p.good for p in overall.points] == [wilson(24, 24), wilson(32, 32)]
    assert_change(overall.changes[0], (24, 24, 32, 32))
    assert overall.changes[0].difference.estimate == 0
    assert overall.changes[0].significant is False
    assert overall.changes[0].describe().startswith("no change (95% interval -11 to +14)")


def test_team_missing_from_one_review_gives_an_empty_point() -> None:
    east = by_key(trends.trend(two_reviews(), team="East"))
    overall = east["overall"]
    assert overall.points[0].good == Proportion(0, 0, None, None, None)
    assert overall.points[1].good == wilson(0, 4)
    change = overall.changes[0]
    assert change.difference == Interval(None, None, None)
    assert change.significant is None
    assert change.describe() == "not computable: no answers in one review"
    # A team or case type in neither review: every point is empty, nothing is computed.
    nowhere = trends.trend(two_reviews(), case_type="looked_after")
    for series in by_key(nowhere).values():
        assert [p.good.n for p in series.points] == [0, 0]
        assert series.changes[0].significant is None


def test_filter_by_case_type_and_team_together_is_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        trends.trend(two_reviews(), case_type="cp", team="North")


# --------------------------------------------------------------------------- rubric versions


def test_rubric_version_change_compares_only_the_same_questions() -> None:
    result = trends.trend(three_reviews())
    comp = result["comparability"]
    assert comp.rubric_versions == (
        ("Sep 2026", "trend-audit", "1.0"),
        ("Oct 2026", "trend-audit", "1.0"),
        ("Nov 2026", "trend-audit", "1.1"),
    )
    assert comp.comparable_questions == ("child_safe", "seen_alone", "chronology")
    assert comp.left_out == (
        (
            "drift",
            'good answer changed in review Nov 2026 (rubric version 1.1): was "no", now "yes"',
        ),
        # The scale belongs to the whole rubric: a changed level leaves out every graded question.
        ("visits_grade", "scale changed in review Nov 2026 (rubric version 1.1)"),
        ("genogram", "not in rubric version 1.1 of review Nov 2026"),
        ("overall_grade", "scale changed in review Nov 2026 (rubric version 1.1)"),
        ("voice_heard", "added in rubric version 1.1 of review Nov 2026"),
    )
    # Visits rests on a graded question left out; records lost genogram from its checks.
    assert [s.key for s in result["sections"]] == ["section:safety"]
    assert result["sections"][0].label == "Keeping the child safe"  # from the latest rubric
    assert [s.key for s in result["questions"]] == [
        "question:child_safe",
        "question:seen_alone",
        "question:chronology",
    ]
    series = by_key(result)
    chronology = series["question:chronology"]
    assert chronology.label == "Is the chronology up to date?"
    # Chronology: Sep 24/40, Oct 36/40, Nov C2 8 of 20.
    assert [p.good for p in chronology.points] == [wilson(24, 40), wilson(36, 40), wilson(8, 20)]
    assert [(c.from_review, c.to_review) for c in chronology.changes] == [
        ("r1", "r2"),
        ("r2", "r3"),
    ]
    assert_change(chronology.changes[0], (24, 40, 36, 40))
    assert_change(chronology.changes[1], (36, 40, 8, 20))
    assert chronology.changes[1].describe() == (
        "down 50 points (95% interval -69 to -25): a real fall"
    )
    # The overall line is each review's own headline: Nov 20 of 20 good or better.
    assert [p.good for p in series["overall"].points] == [
        wilson(24, 40),
        wilson(32, 40),
        wilson(20, 20),
    ]


def test_comparability_of_the_first_two_reviews_alone_is_complete() -> None:
    comp = trends.comparability([("Sep 2026", rubric()), ("Oct 2026", rubric())])
    assert comp == Comparability(
        comparable_questions=(
            "child_safe",
            "seen_alone",
            "drift",
            "visits_grade",
            "chronology",
            "genogram",
            "overall_grade",
        ),
        left_out=(),
        rubric_versions=(("Sep 2026", "trend-audit", "1.0"), ("Oct 2026", "trend-audit", "1.0")),
    )


@pytest.mark.parametrize(
    ("old", "new", "left_out"),
    [
        # Wording alone: a level's label, the rubric's title.
        ("label: Requires improvement,", "label: Requires improvement to be good,", ()),
        ("title: Trend audit", "title: Trend audit (revised)", ()),
        # A level's value, or which levels count as good or better.
        (
            "label: Requires improvement, value: 2",
            "label: Requires improvement, value: 2.5",
            ("visits_grade", "overall_grade"),
        ),
        (
            "good_or_better: [outstanding, good]",
            "good_or_better: [outstanding]",
            ("visits_grade", "overall_grade"),
        ),
    ],
)
def test_what_counts_as_a_changed_scale(old: str, new: str, left_out: tuple[str, ...]) -> None:
    comp = trends.comparability([("Sep", rubric()), ("Oct", rubric(edit(RUBRIC_1_0, (old, new))))])
    assert comp.left_out == tuple(
        (q, "scale changed in review Oct (rubric version 1.0)") for q in left_out
    )
    assert len(comp.comparable_questions) == 7 - len(left_out)


def test_type_change_is_left_out() -> None:
    changed = edit(
        RUBRIC_1_0,
        (
            "text: Is there an up-to-date chronology?\n        type: yes_no",
            "text: Is there an up-to-date chronology?\n        type: grade",
        ),
        ('version: "1.0"', 'version: "2.0"'),
    )
    comp = trends.comparability([("Sep", rubric()), ("Oct", rubric(changed))])
    assert comp.left_out == (
        ("chronology", "type changed in review Oct (rubric version 2.0): was yes/no, now graded"),
    )
    result = trends.trend(
        [("r1", "Sep", aggregate(rubric(), SEP)), ("r2", "Oct", aggregate(rubric(changed), OCT))]
    )
    # Records is now pooled from genogram alone, so it no longer counts the same way.
    assert "section:records" not in by_key(result)
    assert "question:genogram" in by_key(result)


def test_question_dropped_then_restored_names_the_review_without_it() -> None:
    without = edit(RUBRIC_1_0, (GENOGRAM, ""), ('version: "1.0"', 'version: "1.1"'))
    comp = trends.comparability([("Sep", rubric()), ("Oct", rubric(without)), ("Nov", rubric())])
    assert comp.left_out == (("genogram", "not in rubric version 1.1 of review Oct"),)
    assert [v for _l, _i, v in comp.rubric_versions] == ["1.0", "1.1", "1.0"]


def test_several_reasons_are_all_given_in_time_order() -> None:
    flipped = edit(RUBRIC_1_0, ('good_answer: "no"', 'good_answer: "yes"'))
    without = edit(
        RUBRIC_1_0,
        (
            "      - id: drift\n        text: Was there drift in the plan?\n"
            '        type: yes_no\n        good_answer: "no"\n',
            "",
        ),
    )
    comp = trends.comparability([("A", rubric()), ("B", rubric(flipped)), ("C", rubric(without))])
    assert comp.left_out == (
        (
            "drift",
            'good answer changed in review B (rubric version 1.0): was "no", now "yes"; '
            "not in rubric version 1.0 of review C",
        ),
    )


# --------------------------------------------------------------------------- edges and JSON


def test_one_review_has_points_and_no_changes() -> None:
    result = trends.trend(two_reviews()[:1])
    assert result["overall"].points == (Point("r1", "Sep 2026", wilson(24, 40)),)
    assert result["overall"].changes == ()
    assert len(result["questions"]) == 7


def test_no_reviews() -> None:
    result = trends.trend([])
    assert result["overall"] == Series("overall", "Overall judgement", (), ())
    assert result["sections"] == [] and result["questions"] == []
    assert result["comparability"] == Comparability((), (), ())
    assert json.loads(json.dumps(trends.as_dict(result)))["overall"]["points"] == []


def test_as_dict_is_json_without_nan() -> None:
    result = trends.trend(three_reviews(), team="East")
    data = json.loads(json.dumps(trends.as_dict(result), allow_nan=False))
    assert data["filter"] == {"case_type": None, "team": "East"}
    overall = data["overall"]
    assert overall["key"] == "overall"
    assert overall["points"][1] == {
        "review_id": "r2",
        "label": "Oct 2026",
        "good_or_better": wilson(0, 4).as_dict(),
    }
    # No cases at all: nulls, never NaN (the exact form is pinned in test_stats).
    assert overall["points"][0]["good_or_better"] == wilson(0, 0).as_dict()
    assert overall["changes"][0] == {
        "from_review": "r1",
        "to_review": "r2",
        "difference": {"estimate": None, "low": None, "high": None},
        "significant": None,
        "description": "not computable: no answers in one review",
    }
    assert overall["changes"][1]["difference"] == newcombe_difference(0, 4, 0, 0).as_dict()
    assert data["comparability"]["left_out"][0] == {
        "question_id": "drift",
        "reason": 'good answer changed in review Nov 2026 (rubric version 1.1): was "no", '
        'now "yes"',
    }
    assert data["comparability"]["rubric_versions"][2] == {
        "review": "Nov 2026",
        "rubric_id": "trend-audit",
        "version": "1.1",
    }
    assert [s["key"] for s in data["questions"]] == [
        "question:child_safe",
        "question:seen_alone",
        "question:chronology",
    ]

    full = trends.as_dict(trends.trend(two_reviews()))
    change = full["overall"]["changes"][0]
    assert change["significant"] is False
    assert change["difference"] == newcombe_difference(24, 40, 32, 40).as_dict()
    assert change["description"] == "up 20 points (95% interval -0.1 to +38): could be noise"
