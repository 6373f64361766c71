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


def test_today_is_the_london_day() -> None:
    from zoneinfo import ZoneInfo

    assert moments.today() == datetime.now(ZoneInfo("Europe/London")).date()
