"""Count working and calendar days between case dates and judge them against timescales.

Timeliness is the compliance half of an audit: was the assessment, conference, visit or
supervision done within its timescale? A measure names two date columns of the case list
and a limit; each case is on time, late, not recorded (a date is missing or unusable, so it
is never counted either way) or not applicable (the measure does not cover its case type).

Working days are Monday to Friday except bank holidays: those of the instance's nation
(England and Wales, Scotland or Northern Ireland, from the maintained ``holidays`` package)
plus any days an admin adds. Days are counted *after* the
start date up to and including the end date, so "completed within 10 working days of
referral" means ``working_days_between(referral, completed) <= 10``: a referral on a
Monday completed on the Monday two weeks later took exactly 10 working days and is on time.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from audit.caselist import as_date
from audit.rubric import TIMELINESS_UNITS, TimelinessMeasure

__all__ = [
    "DEFAULT_NATION",
    "LATE",
    "NATIONS",
    "NOT_APPLICABLE",
    "NOT_RECORDED",
    "ON_TIME",
    "STATUSES",
    "CaseTiming",
    "Measure",
    "MeasureResult",
    "bank_holidays",
    "check_nation",
    "elapsed",
    "evaluate",
    "measures_for",
    "shipped_bank_holidays",
    "time_case",
    "working_days_between",
]

ON_TIME = "on_time"
LATE = "late"
NOT_RECORDED = "not_recorded"
NOT_APPLICABLE = "not_applicable"
STATUSES = (ON_TIME, LATE, NOT_RECORDED, NOT_APPLICABLE)

# The same forms the rubric checker accepts, so a review's own measures obey the rubric's rules.
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_COLUMN = re.compile(r"[a-z][a-z0-9_]*")
_FIELDS = ("id", "name", "start", "end", "limit", "unit", "applies_to")
_REQUIRED = _FIELDS[:-1]


# --- measures


@dataclass(frozen=True)
class Measure:
    """A timescale between two case dates, from a rubric's defaults or a review's settings."""

    id: str
    name: str
    start: str
    end: str
    limit: int
    unit: str
    applies_to: frozenset[str] | None = None

    def __post_init__(self) -> None:
        problem = _measure_problem(self)
        if problem is not None:
            label = f'"{self.id}"' if isinstance(self.id, str) and self.id else "(no id)"
            raise ValueError(f"timeliness measure {label}: {problem}")

    @classmethod
    def from_rubric(cls, measure: TimelinessMeasure) -> Measure:
        """Copy a rubric's default measure so reviews and rubrics are judged by one type."""
        return cls(
            measure.id,
            measure.name,
            measure.start,
            measure.end,
            measure.limit,
            measure.unit,
            measure.applies_to,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measure:
        """Read a measure stored in a review's settings, refusing bad input with a clear reason."""
        if not isinstance(data, Mapping):
            raise ValueError(
                f"a timeliness measure must be a mapping of {', '.join(_FIELDS)};"
                f" got {type(data).__name__}"
            )
        raw_id = data.get("id")
        label = f'"{raw_id}"' if isinstance(raw_id, str) and raw_id else "(no id)"
        unknown = sorted(str(key) for key in data if key not in _FIELDS)
        if unknown:
            raise ValueError(
                f"timeliness measure {label}: unknown key(s) {', '.join(unknown)};"
                f" allowed keys are {', '.join(_FIELDS)}"
            )
        missing = [key for key in _REQUIRED if data.get(key) in (None, "")]
        if missing:
            raise ValueError(f"timeliness measure {label}: missing {', '.join(missing)}")
        return cls(
            data["id"],
            data["name"],
            data["start"],
            data["end"],
            _read_limit(data["limit"]),
            data["unit"],
            _read_applies_to(data.get("applies_to"), label),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the measure as JSON-able data that from_dict reads back unchanged."""
        return {
            "id": self.id,
            "name": self.name,
            "start": self.start,
            "end": self.end,
            "limit": self.limit,
            "unit": self.unit,
            "applies_to": None if self.applies_to is None else sorted(self.applies_to),
        }

    def applies(self, case_type_id: str) -> bool:
        """Tell whether this measure is counted for a case of this type."""
        return self.applies_to is None or case_type_id in self.applies_to


def _measure_problem(m: Measure) -> str | None:
    """Return what is wrong with a measure's fields, or None, so every source is checked alike."""
    if not isinstance(m.id, str) or not _ID.fullmatch(m.id):
        return (
            f"id {m.id!r} must be lower-case letters, digits, _ and -,"
            " starting with a letter or digit"
        )
    if not isinstance(m.name, str) or not m.name.strip():
        return "name must be some text"
    for key in ("start", "end"):
        column = getattr(m, key)
        if not isinstance(column, str) or not _COLUMN.fullmatch(column):
            return (
                f"{key} {column!r} is not a date column name: use lower-case letters, digits"
                ' and "_", such as referral_date'
            )
    if m.start == m.end:
        return "end must be a different date column from start"
    if not isinstance(m.limit, int) or isinstance(m.limit, bool) or m.limit < 1:
        return f"limit must be a whole number of at least 1; got {m.limit!r}"
    if m.unit not in TIMELINESS_UNITS:
        return f"unit {m.unit!r} must be one of: {', '.join(TIMELINESS_UNITS)}"
    if m.applies_to is not None:
        if not isinstance(m.applies_to, frozenset):
            return "applies_to must be a set of case type ids, or None for every case type"
        if not m.applies_to:
            return "applies_to must name at least one case type, or be left out for all"
        if not all(isinstance(item, str) and item for item in m.applies_to):
            return "applies_to must hold case type ids as text"
    return None


def _read_limit(value: Any) -> Any:
    """Accept a limit typed into a form as digits; leave anything else for the field check."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _read_applies_to(value: Any, label: str) -> frozenset[str] | None:
    """Read applies_to as None/"all" (every case type) or a list of case type ids."""
    if value is None or value == "all":
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(
            f"timeliness measure {label}: applies_to must be a list of case type ids or"
            f' "all"; got {value!r}'
        )
    return frozenset(value)


def measures_for(
    rubric_measures: Sequence[TimelinessMeasure], review_settings: Mapping[str, Any] | None
) -> tuple[Measure, ...]:
    """Return the review's own measures if its settings hold any, else the rubric's defaults.

    A ``timeliness`` key in the settings wins even when it is an empty list: the lead has
    chosen to report no timeliness measures for that review.
    """
    stored = (review_settings or {}).get("timeliness")
    if stored is None:
        return tuple(Measure.from_rubric(m) for m in rubric_measures)
    if isinstance(stored, (str, Mapping)) or not isinstance(stored, Sequence):
        raise ValueError(
            f"the review's timeliness settings must be a list of measures; got {stored!r}"
        )
    measures: list[Measure] = []
    seen: set[str] = set()
    for i, item in enumerate(stored):
        try:
            measure = Measure.from_dict(item)
        except ValueError as error:
            raise ValueError(f"timeliness[{i}]: {error}") from None
        if measure.id in seen:
            raise ValueError(f'timeliness[{i}]: duplicate timeliness measure id "{measure.id}"')
        seen.add(measure.id)
        measures.append(measure)
    return tuple(measures)


# --- bank holidays

# The UK nations an instance can be in: a stable id (stored and typed in config.toml), the name
# people read, and the subdivision code of the ``holidays`` package.
NATIONS: dict[str, tuple[str, str]] = {
    "england-and-wales": ("England and Wales", "ENG"),
    "scotland": ("Scotland", "SCT"),
    "northern-ireland": ("Northern Ireland", "NIR"),
}
DEFAULT_NATION = "england-and-wales"
# Years the holiday list covers: case files go back a decade, timescales run a few years ahead.
FIRST_YEAR = 2000
YEARS_AHEAD = 10


def check_nation(nation: str) -> str:
    """Return the nation id if it is one we know, else refuse it naming the choices."""
    if nation not in NATIONS:
        raise ValueError(f"unknown nation {nation!r}: use one of {', '.join(NATIONS)}")
    return nation


@lru_cache(maxsize=len(NATIONS) * 2)
def _shipped(nation: str, last_year: int) -> tuple[Mapping[date, str], frozenset[date]]:
    """Work out a nation's bank holidays once per process from the maintained package."""
    import holidays as holidays_package

    subdivision = NATIONS[check_nation(nation)][1]
    days = holidays_package.country_holidays(
        "GB", subdiv=subdivision, years=range(FIRST_YEAR, last_year + 1)
    )
    named = {day: name for day, name in sorted(days.items())}
    return named, frozenset(named)


def _last_year() -> int:
    return date.today().year + YEARS_AHEAD


def shipped_bank_holidays(nation: str = DEFAULT_NATION) -> dict[date, str]:
    """Return a nation's bank holidays (from the ``holidays`` package) with their names."""
    return dict(_shipped(nation, _last_year())[0])


def bank_holidays(
    extra: Mapping[date, str] | Iterable[date | str] = (), nation: str = DEFAULT_NATION
) -> frozenset[date]:
    """Return the days that are not working days besides weekends: the nation's plus added.

    ``extra`` holds days an admin added (a local closure, a newly announced bank holiday), as
    dates or ISO date text; a mapping contributes its keys.
    """
    shipped = _shipped(nation, _last_year())[1]
    added = {day if isinstance(day, date) else date.fromisoformat(day) for day in extra}
    return shipped | added if added else shipped


# --- counting days


def _weekdays_through(ordinal: int) -> int:
    """Count Monday-to-Friday days from 1 January of year 1 (a Monday) to this ordinal."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


@lru_cache(maxsize=16)
def _cached_weekday_holidays(holidays: frozenset[date]) -> tuple[int, ...]:
    return tuple(sorted(day.toordinal() for day in holidays if day.weekday() < 5))


def _weekday_holidays(holidays: Collection[date]) -> tuple[int, ...]:
    """Return the sorted ordinals of holidays on weekdays, cached for a frozenset."""
    if isinstance(holidays, frozenset):
        return _cached_weekday_holidays(holidays)
    return tuple(sorted(day.toordinal() for day in set(holidays) if day.weekday() < 5))


def working_days_between(start: date, end: date, holidays: Collection[date]) -> int:
    """Count working days after start up to and including end, so timescales read naturally.

    0 when end is start; negative (counted backwards) when end is before start. A case
    "within N working days" of start is one where this count is at most N.
    """
    if end < start:
        return -working_days_between(end, start, holidays)
    first, last = start.toordinal(), end.toordinal()
    weekdays = _weekdays_through(last) - _weekdays_through(first)
    closed = _weekday_holidays(holidays)
    return weekdays - (bisect.bisect_right(closed, last) - bisect.bisect_right(closed, first))


def elapsed(measure: Measure, start: date, end: date, holidays: Collection[date]) -> int:
    """Count the days from start to end in the measure's unit, working or calendar."""
    if measure.unit == "working_days":
        return working_days_between(start, end, holidays)
    return (end - start).days


# --- judging cases


@dataclass(frozen=True)
class CaseTiming:
    """How one case did against one measure; days is None unless both dates are usable."""

    case_id: str
    status: str
    days: int | None

    def as_dict(self) -> dict[str, Any]:
        """Return the timing as JSON-able data for exports."""
        return {"case_id": self.case_id, "status": self.status, "days": self.days}


def time_case(
    measure: Measure,
    case_id: str,
    case_type: str,
    dates: Mapping[str, Any] | None,
    holidays: Collection[date],
) -> CaseTiming:
    """Judge one case: missing or impossible dates are not recorded, never late or on time."""
    if not measure.applies(case_type):
        return CaseTiming(case_id, NOT_APPLICABLE, None)
    dates = dates or {}
    start = as_date(dates.get(measure.start))
    end = as_date(dates.get(measure.end))
    if start is None or end is None or end < start:
        return CaseTiming(case_id, NOT_RECORDED, None)
    days = elapsed(measure, start, end, holidays)
    return CaseTiming(case_id, ON_TIME if days <= measure.limit else LATE, days)


@dataclass(frozen=True)
class MeasureResult:
    """A measure's counts over a set of cases; cases holds every case in the order given."""

    measure: Measure
    applicable: int
    on_time: int
    late: int
    not_recorded: int
    cases: tuple[CaseTiming, ...]

    @property
    def share_on_time(self) -> float | None:
        """Return the share on time among cases with both dates, None if there are none."""
        recorded = self.on_time + self.late
        return self.on_time / recorded if recorded else None

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON-able data for reports and exports."""
        return {
            "measure": self.measure.to_dict(),
            "applicable": self.applicable,
            "on_time": self.on_time,
            "late": self.late,
            "not_recorded": self.not_recorded,
            "share_on_time": self.share_on_time,
            "cases": [timing.as_dict() for timing in self.cases],
        }


def evaluate(
    measure: Measure, cases: Iterable[Mapping[str, Any]], holidays: Collection[date]
) -> MeasureResult:
    """Judge every case against a measure and count the outcomes for the report."""
    if not isinstance(holidays, frozenset):
        holidays = frozenset(holidays)  # hashable, so the holiday index is built once
    timings = tuple(
        time_case(measure, str(case["id"]), case["case_type"], case.get("dates"), holidays)
        for case in cases
    )
    counts = {status: 0 for status in STATUSES}
    for timing in timings:
        counts[timing.status] += 1
    return MeasureResult(
        measure=measure,
        applicable=len(timings) - counts[NOT_APPLICABLE],
        on_time=counts[ON_TIME],
        late=counts[LATE],
        not_recorded=counts[NOT_RECORDED],
        cases=timings,
    )
