"""Timeliness: working days, bank holidays, on time / late / not recorded, review overrides."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit import timeliness
from audit.paths import RUBRICS_DIR
from audit.rubric import TimelinessMeasure, load_rubric_file
from audit.timeliness import (
    CaseTiming,
    Measure,
    bank_holidays,
    elapsed,
    evaluate,
    measures_for,
    shipped_bank_holidays,
    time_case,
    working_days_between,
)
from tests.helpers import REPO

HOLIDAYS = bank_holidays()
NONE: frozenset[date] = frozenset()

ASSESSMENT = Measure(
    "assessment_10_days",
    "Initial assessment completed within 10 working days of referral",
    "referral_date",
    "assessment_completed_date",
    10,
    "working_days",
    frozenset({"referral_assessment"}),
)
SUPERVISION = Measure(
    "supervision_28_days",
    "Supervision at least every four weeks",
    "previous_supervision_date",
    "last_supervision_date",
    28,
    "calendar_days",
)


def d(text: str) -> date:
    return date.fromisoformat(text)


def _referral(referral: str, completed: str | None) -> dict[str, str]:
    dates = {"referral_date": referral}
    if completed is not None:
        dates["assessment_completed_date"] = completed
    return dates


# --------------------------------------------------------------------------- each nation's days


def _weekday_holidays(nation: str, year: int) -> set[date]:
    """Return the nation's bank holidays in a year that fall on a working weekday."""
    return {day for day in bank_holidays(nation=nation) if day.year == year and day.weekday() < 5}


def test_england_and_wales_has_its_2024_bank_holidays() -> None:
    assert _weekday_holidays("england-and-wales", 2024) == {
        d("2024-01-01"),
        d("2024-03-29"),
        d("2024-04-01"),
        d("2024-05-06"),
        d("2024-05-27"),
        d("2024-08-26"),
        d("2024-12-25"),
        d("2024-12-26"),
    }
    assert shipped_bank_holidays()[d("2024-03-29")] == "Good Friday"


def test_scotland_has_2_january_st_andrews_day_and_no_easter_monday() -> None:
    assert _weekday_holidays("scotland", 2024) == {
        d("2024-01-01"),
        d("2024-01-02"),  # 2 January
        d("2024-03-29"),
        d("2024-05-06"),
        d("2024-05-27"),
        d("2024-08-05"),  # summer bank holiday: first Monday in August
        d("2024-12-02"),  # St Andrew's Day (30 November, a Saturday) moved to Monday
        d("2024-12-25"),
        d("2024-12-26"),
    }
    assert "Andrew" in shipped_bank_holidays("scotland")[d("2023-11-30")]
    # Counted in Scotland, 2 January and St Andrew's Day are not working days.
    assert working_days_between(d("2025-01-01"), d("2025-01-03"), bank_holidays()) == 2
    assert (
        working_days_between(d("2025-01-01"), d("2025-01-03"), bank_holidays(nation="scotland"))
        == 1
    )
    assert (
        working_days_between(d("2023-11-29"), d("2023-12-01"), bank_holidays(nation="scotland"))
        == 1
    )


def test_northern_ireland_has_st_patricks_day_and_12_july() -> None:
    holidays = bank_holidays(nation="northern-ireland")
    assert d("2024-03-18") in holidays  # St Patrick's Day (a Sunday) moved to Monday
    assert d("2025-03-17") in holidays and d("2025-07-14") in holidays  # 12 July a Saturday
    assert d("2024-07-12") in holidays and d("2024-07-12") not in bank_holidays()
    assert d("2024-04-01") in holidays  # Easter Monday, as in England and Wales
    assert working_days_between(d("2024-07-11"), d("2024-07-15"), holidays) == 1
    assert working_days_between(d("2024-07-11"), d("2024-07-15"), bank_holidays()) == 2


@pytest.mark.parametrize(
    "day",
    [
        "2011-04-29",  # royal wedding
        "2012-06-05",  # Diamond Jubilee
        "2020-05-08",  # early May bank holiday moved for VE day
        "2022-06-03",  # Platinum Jubilee
        "2022-09-19",  # State Funeral of Queen Elizabeth II
        "2023-05-08",  # coronation of King Charles III
        "2010-12-27",  # substitute days
        "2021-12-28",
        "2022-01-03",
    ],
)
@pytest.mark.parametrize("nation", list(timeliness.NATIONS))
def test_every_nation_has_the_one_off_and_substitute_days(nation: str, day: str) -> None:
    assert d(day) in bank_holidays(nation=nation)


@pytest.mark.parametrize("day", ["2020-05-04", "2012-05-28", "2022-05-30"])
def test_days_moved_away_are_working_days(day: str) -> None:
    assert d(day) not in HOLIDAYS


def test_the_list_runs_from_2000_to_ten_years_ahead() -> None:
    years = {day.year for day in shipped_bank_holidays()}
    assert min(years) == timeliness.FIRST_YEAR
    assert max(years) == date.today().year + timeliness.YEARS_AHEAD


def test_shipped_list_is_worked_out_once_and_callers_cannot_change_it() -> None:
    first = shipped_bank_holidays()
    first.clear()
    assert d("2024-12-25") in shipped_bank_holidays()
    assert bank_holidays(nation="scotland") is bank_holidays(nation="scotland")


def test_an_unknown_nation_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown nation 'wales': use one of england-and-wales"):
        bank_holidays(nation="wales")


def test_extra_days_from_an_admin_are_honoured() -> None:
    closure = d("2024-07-12")  # a Friday: a local closure
    extra = bank_holidays({closure: "Local closure"})
    assert closure in extra and closure not in HOLIDAYS
    assert extra >= HOLIDAYS
    assert bank_holidays([closure]) == bank_holidays(["2024-07-12"]) == extra
    assert working_days_between(d("2024-07-11"), d("2024-07-15"), HOLIDAYS) == 2
    assert working_days_between(d("2024-07-11"), d("2024-07-15"), extra) == 1


def test_bank_holidays_without_extras_is_the_shipped_list() -> None:
    assert bank_holidays() == frozenset(shipped_bank_holidays())


# --------------------------------------------------------------------------- counting days


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-03-04", "2024-03-04", 0),  # same day
        ("2024-03-04", "2024-03-05", 1),  # Monday to Tuesday
        ("2024-03-08", "2024-03-11", 1),  # Friday to Monday: the weekend does not count
        ("2024-03-08", "2024-03-09", 0),  # Friday to Saturday
        ("2024-03-09", "2024-03-11", 1),  # Saturday to Monday
        ("2024-03-04", "2024-03-18", 10),  # two whole weeks
        # Thursday before Easter: Good Friday and Easter Monday are skipped.
        ("2024-03-28", "2024-04-12", 9),
        ("2024-03-28", "2024-04-15", 10),
        # Christmas 2024: 25 and 26 December, then the New Year's Day bank holiday.
        ("2024-12-20", "2025-01-03", 7),
        ("2024-12-24", "2024-12-27", 1),
        # 2022: spring bank holiday moved to Thursday 2 June, Platinum Jubilee Friday 3 June,
        # and Monday 30 May an ordinary working day.
        ("2022-05-27", "2022-06-10", 8),
        ("2022-05-27", "2022-05-30", 1),
        ("2022-06-01", "2022-06-06", 1),
    ],
)
def test_working_days_skip_weekends_and_bank_holidays(start: str, end: str, expected: int) -> None:
    assert working_days_between(d(start), d(end), HOLIDAYS) == expected
    assert working_days_between(d(end), d(start), HOLIDAYS) == -expected


def test_working_days_without_holidays_count_only_weekends() -> None:
    assert working_days_between(d("2024-03-28"), d("2024-04-12"), NONE) == 11


def test_holidays_given_as_a_list_or_set_count_each_day_once() -> None:
    days = [d("2024-03-29"), d("2024-03-29"), d("2024-04-01")]
    assert working_days_between(d("2024-03-28"), d("2024-04-12"), days) == 9
    assert working_days_between(d("2024-03-28"), d("2024-04-12"), set(days)) == 9


def test_calendar_days_count_weekends_and_holidays() -> None:
    start, end = d("2024-12-20"), d("2025-01-03")
    assert elapsed(SUPERVISION, start, end, HOLIDAYS) == 14
    assert elapsed(ASSESSMENT, start, end, HOLIDAYS) == 7


_DAYS = st.dates(min_value=date(2009, 1, 1), max_value=date(2031, 12, 31))


@given(_DAYS, _DAYS)
def test_counting_backwards_is_the_negative_of_counting_forwards(a: date, b: date) -> None:
    assert working_days_between(a, b, HOLIDAYS) == -working_days_between(b, a, HOLIDAYS)


@given(_DAYS, _DAYS, st.sets(_DAYS, max_size=20), _DAYS)
def test_adding_a_holiday_never_adds_a_working_day(
    a: date, b: date, holidays: set[date], added: date
) -> None:
    before = working_days_between(a, b, holidays)
    after = working_days_between(a, b, holidays | {added})
    assert abs(after) <= abs(before)
    assert abs(before) - abs(after) in (0, 1)
    if a <= b:
        assert after <= before


@given(_DAYS, st.integers(min_value=0, max_value=400))
def test_working_days_match_a_day_by_day_count(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    slow = sum(
        1
        for offset in range(1, span + 1)
        if (day := start + timedelta(days=offset)).weekday() < 5 and day not in HOLIDAYS
    )
    assert working_days_between(start, end, HOLIDAYS) == slow


# --------------------------------------------------------------------------- judging one case


def test_exactly_the_limit_is_on_time_and_one_more_is_late() -> None:
    # Monday 4 March 2024 + 10 working days = Monday 18 March.
    on_time = time_case(
        ASSESSMENT, "c1", "referral_assessment", _referral("2024-03-04", "2024-03-18"), HOLIDAYS
    )
    late = time_case(
        ASSESSMENT, "c2", "referral_assessment", _referral("2024-03-04", "2024-03-19"), HOLIDAYS
    )
    assert on_time == CaseTiming("c1", "on_time", 10)
    assert late == CaseTiming("c2", "late", 11)


def test_bank_holidays_can_make_a_case_on_time() -> None:
    dates = _referral("2024-03-28", "2024-04-15")  # 18 calendar days, 10 working days
    assert time_case(ASSESSMENT, "c", "referral_assessment", dates, HOLIDAYS).status == "on_time"
    assert time_case(ASSESSMENT, "c", "referral_assessment", dates, NONE).status == "late"


def test_calendar_measure_boundary() -> None:
    dates = {"previous_supervision_date": "2024-01-01", "last_supervision_date": "2024-01-29"}
    assert time_case(SUPERVISION, "c", "cin", dates, HOLIDAYS) == CaseTiming("c", "on_time", 28)
    dates["last_supervision_date"] = "2024-01-30"
    assert time_case(SUPERVISION, "c", "cin", dates, HOLIDAYS) == CaseTiming("c", "late", 29)


@pytest.mark.parametrize(
    "dates",
    [
        {},
        {"referral_date": "2024-03-04"},
        {"assessment_completed_date": "2024-03-04"},
        {"referral_date": "", "assessment_completed_date": "2024-03-04"},
        {"referral_date": "   ", "assessment_completed_date": "2024-03-04"},
        {"referral_date": None, "assessment_completed_date": "2024-03-04"},
        {"referral_date": "soon", "assessment_completed_date": "2024-03-04"},
        {"referral_date": "2024-02-30", "assessment_completed_date": "2024-03-04"},
        {"referral_date": 20240304, "assessment_completed_date": "2024-03-04"},
        # The end before the start is a recording error, not a very quick assessment.
        {"referral_date": "2024-03-04", "assessment_completed_date": "2024-03-01"},
    ],
)
def test_missing_or_unusable_dates_are_not_recorded(dates: dict) -> None:  # type: ignore[type-arg]
    timing = time_case(ASSESSMENT, "c", "referral_assessment", dates, HOLIDAYS)
    assert timing == CaseTiming("c", "not_recorded", None)


def test_no_dates_at_all_is_not_recorded() -> None:
    assert time_case(ASSESSMENT, "c", "referral_assessment", None, HOLIDAYS).status == (
        "not_recorded"
    )


def test_dates_as_date_objects_are_read_too() -> None:
    dates = {"referral_date": d("2024-03-04"), "assessment_completed_date": d("2024-03-18")}
    assert time_case(ASSESSMENT, "c", "referral_assessment", dates, HOLIDAYS).days == 10


def test_a_case_type_the_measure_does_not_cover_is_not_applicable() -> None:
    dates = _referral("2024-03-04", "2024-04-30")
    assert time_case(ASSESSMENT, "c", "cla", dates, HOLIDAYS) == CaseTiming(
        "c", "not_applicable", None
    )
    # Without applies_to a measure covers every case type.
    assert SUPERVISION.applies("cla") and not ASSESSMENT.applies("cla")


# --------------------------------------------------------------------------- many cases


CASES = [
    {"id": "a", "case_type": "referral_assessment", "dates": _referral("2024-03-04", "2024-03-18")},
    {"id": "b", "case_type": "referral_assessment", "dates": _referral("2024-03-28", "2024-04-15")},
    {"id": "c", "case_type": "referral_assessment", "dates": _referral("2024-03-04", "2024-04-04")},
    {"id": "d", "case_type": "referral_assessment", "dates": _referral("2024-03-04", None)},
    {"id": "e", "case_type": "referral_assessment", "dates": {}},
    {"id": "f", "case_type": "cp", "dates": _referral("2024-03-04", "2024-03-05")},
]


def test_evaluate_counts_each_outcome() -> None:
    result = evaluate(ASSESSMENT, CASES, HOLIDAYS)
    assert (result.applicable, result.on_time, result.late, result.not_recorded) == (5, 2, 1, 2)
    assert [t.status for t in result.cases] == [
        "on_time",
        "on_time",
        "late",
        "not_recorded",
        "not_recorded",
        "not_applicable",
    ]
    # Not recorded cases are left out of the share, never counted as late.
    assert result.share_on_time == pytest.approx(2 / 3)


def test_evaluate_with_nothing_recorded_has_no_share() -> None:
    result = evaluate(ASSESSMENT, CASES[3:], HOLIDAYS)
    assert (result.on_time, result.late, result.not_recorded) == (0, 0, 2)
    assert result.share_on_time is None
    assert evaluate(ASSESSMENT, [], HOLIDAYS).share_on_time is None


def test_evaluate_accepts_holidays_as_a_plain_set() -> None:
    plain = evaluate(ASSESSMENT, CASES, set(HOLIDAYS))
    assert plain == evaluate(ASSESSMENT, CASES, HOLIDAYS)


def test_result_as_dict_is_json() -> None:
    data = json.loads(json.dumps(evaluate(ASSESSMENT, CASES, HOLIDAYS).as_dict()))
    assert data["measure"] == ASSESSMENT.to_dict()
    assert data["measure"]["applies_to"] == ["referral_assessment"]
    assert (data["applicable"], data["on_time"], data["late"], data["not_recorded"]) == (
        5,
        2,
        1,
        2,
    )
    assert data["share_on_time"] == pytest.approx(2 / 3)
    assert data["cases"][0] == {"case_id": "a", "status": "on_time", "days": 10}


# --------------------------------------------------------------------------- measures


def test_measure_round_trips_through_a_dict() -> None:
    for measure in (ASSESSMENT, SUPERVISION):
        data = json.loads(json.dumps(measure.to_dict()))
        assert Measure.from_dict(data) == measure
    assert SUPERVISION.to_dict()["applies_to"] is None


def test_measure_from_a_form_reads_digits_and_all() -> None:
    data = {**SUPERVISION.to_dict(), "limit": "28", "applies_to": "all"}
    assert Measure.from_dict(data) == SUPERVISION


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"limit": 0}, "limit must be a whole number of at least 1"),
        ({"limit": 1.5}, "limit must be a whole number"),
        ({"limit": True}, "limit must be a whole number"),
        ({"limit": "ten"}, "limit must be a whole number"),
        ({"unit": "weeks"}, "unit 'weeks' must be one of: working_days, calendar_days"),
        ({"start": "Referral date"}, "start 'Referral date' is not a date column name"),
        ({"end": "referral_date"}, "end must be a different date column from start"),
        ({"id": "Bad Id"}, "id 'Bad Id' must be lower-case"),
        ({"name": "  "}, "missing name|name must be some text"),
        ({"applies_to": []}, "applies_to must name at least one case type"),
        ({"applies_to": "cp"}, "applies_to must be a list of case type ids"),
        ({"applies_to": [3]}, "applies_to must hold case type ids as text"),
        ({"within": 3}, "unknown key.*within"),
    ],
)
def test_bad_measure_dicts_are_refused_clearly(change: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message) as caught:
        Measure.from_dict({**ASSESSMENT.to_dict(), **change})
    assert "timeliness measure" in str(caught.value)


def test_missing_fields_are_named() -> None:
    with pytest.raises(ValueError, match=r"missing start, limit"):
        Measure.from_dict(
            {k: v for k, v in ASSESSMENT.to_dict().items() if k not in ("start", "limit")}
        )
    with pytest.raises(ValueError, match="must be a mapping"):
        Measure.from_dict(["assessment"])  # type: ignore[arg-type]


def test_from_rubric_copies_every_field() -> None:
    source = TimelinessMeasure(
        "visits",
        "Visits",
        "previous_visit_date",
        "last_visit_date",
        15,
        "working_days",
        frozenset({"cp"}),
    )
    measure = Measure.from_rubric(source)
    assert measure.to_dict() == {
        "id": "visits",
        "name": "Visits",
        "start": "previous_visit_date",
        "end": "last_visit_date",
        "limit": 15,
        "unit": "working_days",
        "applies_to": ["cp"],
    }


HEALTH_CHECK = load_rubric_file(RUBRICS_DIR / "peer-safeguarding-health-check.yaml")
HEALTH_CHECK_TYPES = frozenset(case_type.id for case_type in HEALTH_CHECK.case_types)


def test_measures_for_uses_the_rubric_defaults_without_review_settings() -> None:
    measures = measures_for(HEALTH_CHECK.timeliness, {})
    assert [m.id for m in measures] == [m.id for m in HEALTH_CHECK.timeliness]
    assert measures[0].limit == 10 and measures[0].unit == "working_days"
    assert measures_for(HEALTH_CHECK.timeliness, {"timeliness": None}) == measures
    assert measures_for(HEALTH_CHECK.timeliness, None) == measures


def test_a_reviews_own_measures_override_the_rubric() -> None:
    own = {**ASSESSMENT.to_dict(), "limit": 15}
    measures = measures_for(HEALTH_CHECK.timeliness, {"timeliness": [own], "other": 1})
    assert measures == (Measure.from_dict(own),)
    assert measures_for(HEALTH_CHECK.timeliness, {"timeliness": []}) == ()


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ("assessment", "must be a list of measures"),
        ({"id": "x"}, "must be a list of measures"),
        ([{"id": "x"}], r"timeliness\[0\]: timeliness measure \"x\": missing"),
        (
            [ASSESSMENT.to_dict(), ASSESSMENT.to_dict()],
            r'timeliness\[1\]: duplicate timeliness measure id "assessment_10_days"',
        ),
    ],
)
def test_bad_review_measures_are_refused(stored: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        measures_for(HEALTH_CHECK.timeliness, {"timeliness": stored})


def test_the_docs_example_settings_are_valid_measures() -> None:
    text = (REPO / "docs" / "timeliness.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 1
    measures = measures_for(HEALTH_CHECK.timeliness, json.loads(blocks[0]))
    assert [(m.limit, m.unit) for m in measures] == [
        (10, "working_days"),
        (35, "working_days"),
        (28, "calendar_days"),
    ]
    assert all(m.applies_to is None or m.applies_to <= HEALTH_CHECK_TYPES for m in measures)
