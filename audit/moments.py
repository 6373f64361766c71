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
    """Return a stored moment as people read it: London time, day first."""
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
