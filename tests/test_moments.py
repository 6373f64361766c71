"""Dates and times as people type and read them: day first, London time."""

from __future__ import annotations

from datetime import date, datetime

from audit import moments


def test_typed_uk_date_and_time_is_stored_as_utc_iso() -> None:
    assert moments.iso_moment("28/10/2026") == "2026-10-28"
    # 28 October 2026 is after the clocks go back: London is UTC.
    assert moments.iso_moment("28/10/2026 14:30") == "2026-10-28T14:30:00Z"
    # In summer London is an hour ahead of UTC.
    assert moments.iso_moment("01/07/2026 14:30") == "2026-07-01T13:30:00Z"
    assert moments.iso_moment("31/02/2026") is None


def test_day_reads_as_a_uk_date_in_london_time() -> None:
    assert moments.day("2026-10-27") == "27 October 2026"
    assert moments.day(date(2026, 3, 5)) == "5 March 2026"
    # 23:30 UTC on 30 June is already 1 July in London.
    assert moments.day("2026-06-30T23:30:00Z") == "1 July 2026"
    assert moments.day(datetime(2026, 1, 2, 9, 0)) == "2 January 2026"
    assert moments.day(None) == ""
    assert moments.day("not a date") == "not a date"


def test_shown_moment_is_day_first_in_london_time() -> None:
    assert moments.shown("2026-07-01T13:30:00Z") == "01/07/2026 14:30"
    assert moments.shown("2026-10-27") == "27/10/2026"


def test_when_reads_a_moment_in_prose_in_london_time() -> None:
    # GOV.UK style: "2:30pm", "9am", "midday", "midnight"; BST in summer, GMT in winter.
    assert moments.when("2026-07-01T13:30:00Z") == "1 July 2026 at 2:30pm"
    assert moments.when("2026-10-28T09:00:00Z") == "28 October 2026 at 9am"
    assert moments.when("2026-12-24T12:00:00Z") == "24 December 2026 at midday"
    assert moments.when("2026-06-30T23:00:00Z") == "1 July 2026 at midnight"
    assert moments.when("2026-10-27") == "27 October 2026"
    assert moments.when(None) == moments.when("") == ""
    assert moments.when("next week") == "next week"


def test_local_gives_spreadsheets_the_london_wall_clock() -> None:
    assert moments.local("2026-07-01T13:30:00Z") == datetime(2026, 7, 1, 14, 30)
    assert moments.local("2026-10-27") == date(2026, 10, 27)
    # Only the stored forms are read: a team called "2026" or an ISO week is not a date.
    assert moments.local("2026") is None
    assert moments.local("2026-W43-2") is None
    assert moments.local("") is None


def test_clock_reads_every_hour_the_gov_uk_way() -> None:
    def at(hour: int, minute: int) -> str:
        return moments.clock(datetime(2026, 10, 27, hour, minute))

    assert [at(0, 30), at(1, 5), at(11, 59), at(12, 30), at(13, 0), at(23, 59)] == [
        "12:30am",
        "1:05am",
        "11:59am",
        "12:30pm",
        "1pm",
        "11:59pm",
    ]


def test_when_reads_the_clock_across_the_clock_changes() -> None:
    # 29 March 2026: the clocks go forward at 01:00 UTC. 25 October 2026: back at 01:00 UTC,
    # so 00:30 and 01:30 UTC both read 1:30am on a London clock (BST, then GMT).
    assert moments.when("2026-03-29T00:30:00Z") == "29 March 2026 at 12:30am"
    assert moments.when("2026-03-29T01:30:00Z") == "29 March 2026 at 2:30am"
    assert moments.when("2026-10-25T00:30:00Z") == "25 October 2026 at 1:30am"
    assert moments.when("2026-10-25T01:30:00Z") == "25 October 2026 at 1:30am"
    # Seconds, fractions and an explicit offset are read as well as the stored "Z" form.
    assert moments.when("2026-07-01T13:30:59.250000Z") == "1 July 2026 at 2:30pm"
    assert moments.when("2026-07-01T14:30:00+01:00") == "1 July 2026 at 2:30pm"


def test_when_and_local_take_python_dates_and_times_too() -> None:
    from zoneinfo import ZoneInfo

    utc_summer = datetime(2026, 7, 1, 13, 30, tzinfo=ZoneInfo("UTC"))
    assert moments.local(utc_summer) == datetime(2026, 7, 1, 14, 30)
    assert moments.when(utc_summer) == "1 July 2026 at 2:30pm"
    # A time without a zone is already a wall-clock time: it is not shifted.
    assert moments.local(datetime(2026, 7, 1, 13, 30)) == datetime(2026, 7, 1, 13, 30)
    assert moments.when(date(2026, 10, 27)) == "27 October 2026"
    assert moments.local(date(2026, 10, 27)) == date(2026, 10, 27)


def test_local_refuses_what_only_looks_like_a_date() -> None:
    # The right shape, an impossible day: no cell may claim to be a date that never was.
    assert moments.local("2026-02-30") is None
    assert moments.local("2026-13-01T10:00:00Z") is None
    assert moments.local(" 2026-10-27") is None
    assert moments.local("2026-10-27 and more") is None


def test_a_typed_date_or_time_is_shown_back_as_it_was_typed() -> None:
    for typed in ("27/10/2026", "01/07/2026 09:05", "28/10/2026 14:30", "29/03/2026 03:15"):
        stored = moments.iso_moment(typed)
        assert stored is not None and moments.shown(stored) == typed, (typed, stored)
    assert moments.shown(None) == moments.shown("") == ""
    assert moments.shown("2026-10-27T14:30:00") == "27/10/2026 14:30"  # no zone: as it is
    assert moments.shown("last week") == "last week"


def test_today_is_the_london_day_when_utc_is_still_yesterday(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    # 23:30 UTC on 30 June is 00:30 on 1 July in London: the server's UTC clock says June.
    instant = datetime(2026, 6, 30, 23, 30, tzinfo=ZoneInfo("UTC"))

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return instant.astimezone(tz) if tz else instant.replace(tzinfo=None)

    monkeypatch.setattr(moments, "datetime", Clock)
    assert moments.today() == date(2026, 7, 1)
