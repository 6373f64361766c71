"""Read a moment a person types ("27/10/2026 14:30") into the ISO 8601 form stored and exported.

People in England type day-first dates and local (London) clock times; the database, bundles
and exports hold UTC ISO 8601 (docs/bundle.md), so the conversion happens once, where the
text comes in.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/London")
_TIME = r"(?:[ ,T]+(\d{1,2})[:.](\d{2})(?::(\d{2}))?)?"
_UK = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})" + _TIME)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})" + _TIME + r"(Z|[+-]00:?00)?")
# How dates and moments are stored: 2026-10-27, or 2026-10-27T14:30:00Z (seconds optional).
_STORED = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?"
)


def iso_moment(text: str) -> str | None:
    """Return the ISO 8601 form of a typed date or date and time, or None if it is not one.

    A date alone stays a date (``2026-10-27``); a time is read as London time, unless it
    already says UTC, and returned in UTC (``2026-10-27T14:30:00Z``).
    """
    value = text.strip()
    match = _ISO.fullmatch(value)
    if match:
        year, month, day = match.group(1, 2, 3)
        hour, minute, second = match.group(4, 5, 6)
        utc = match.group(7) is not None
    else:
        match = _UK.fullmatch(value)
        if not match:
            return None
        day, month, year = match.group(1, 2, 3)
        hour, minute, second = match.group(4, 5, 6)
        utc = False
    try:
        day_part = date(int(year), int(month), int(day))
        if hour is None:
            return day_part.isoformat()
        moment = datetime(
            day_part.year,
            day_part.month,
            day_part.day,
            int(hour),
            int(minute),
            int(second or 0),
            tzinfo=UTC if utc else LOCAL,
        )
    except ValueError:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def shown(value: str | None) -> str:
    """Return a stored moment as people type it into a form: London time, day first.

    ``27/10/2026 14:30``, or ``27/10/2026`` for a date alone: the form the hints ask for,
    so a value shown back in an input reads as the person typed it.
    """
    if not value:
        return ""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return moment.strftime("%d/%m/%Y %H:%M")
    return moment.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")


def day(value: str | date | datetime | None) -> str:
    """Return a date as people read it in prose and tables: "27 October 2026".

    Accepts an ISO date or moment (a moment is read in London time, so a late-evening UTC
    time lands on the London day) or a ``date``; anything else comes back as it was given.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is None else value.astimezone(LOCAL)
        when = moment.date()
    elif isinstance(value, date):
        when = value
    else:
        try:
            if len(value) == 10:
                when = date.fromisoformat(value)
            else:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                when = (moment if moment.tzinfo is None else moment.astimezone(LOCAL)).date()
        except ValueError:
            return value
    return f"{when.day} {when.strftime('%B %Y')}"


def local(value: str | date | datetime | None) -> date | datetime | None:
    """Return a stored date, or a moment as a London wall-clock time (naive), or None.

    For spreadsheets, which have no time zones: a moment stored in UTC becomes the time a
    person in England would have read on the clock. Text that is not a date gives None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.astimezone(LOCAL).replace(tzinfo=None)
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _STORED.fullmatch(value):
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is None else moment.astimezone(LOCAL).replace(tzinfo=None)


def clock(moment: datetime) -> str:
    """Return a time of day in GOV.UK style: "9am", "2:30pm", "midday", "midnight"."""
    if (moment.hour, moment.minute) == (12, 0):
        return "midday"
    if (moment.hour, moment.minute) == (0, 0):
        return "midnight"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def when(value: str | date | datetime | None) -> str:
    """Return a stored moment as people read it in prose: "27 October 2026 at 2:30pm".

    London time; a date alone reads as :func:`day`; anything else comes back as given.
    """
    moment = local(value)
    if moment is None:
        return "" if value is None else str(value)
    if not isinstance(moment, datetime):
        return day(moment)
    return f"{day(moment)} at {clock(moment)}"


def today() -> date:
    """Return today's date in London (the server's clock may keep UTC)."""
    return datetime.now(LOCAL).date()
