"""Keep the person's place after a form post: its result is shown, and focused, where they were.

A view that flashes a message and redirects to ``url#place`` has the message shown at
``place`` on the next page: the template calls ``flash_here(place)`` just before the thing
the person will want next (the next suggestion, the moderation queue, the case list), and the
GOV.UK notification banner takes focus there, so the result is in view and the next Tab
reaches the next item. Messages without a place, or whose place the page no longer has, show
at the top of the page as before.

The redirect's fragment is rewritten to name the banner itself (``#place-result``): Chromium
takes focus away from the page when it scrolls to a fragment that cannot take focus, but
focuses one that can, and the banner can. Without JavaScript the fragment still brings the
banner into view.
"""

from __future__ import annotations

import re

from flask import Flask, g, get_flashed_messages, request, session
from werkzeug.wrappers import Response

# An element id we make (letters, digits, "-" and "_"): anything else is never a place.
PLACE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,159}")
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Flashed categories carry their place after this mark: "message@suggestion-plan".
_AT = "@"
# The id of the banner shown at a place: the place's id and this.
RESULT = "-result"


def anchor(text: object) -> str:
    """Turn a key into a part of an element id: "section:plan" becomes "section-plan"."""
    return _NOT_ID.sub("-", str(text)).strip("-")


def at(url: str, place: str | None) -> str:
    """Return ``url`` with ``#place``, where the next page shows this request's messages."""
    return f"{url}#{place}" if place and PLACE.fullmatch(place) else url


def form_place(default: str | None = None) -> str | None:
    """Return the place a form asks its result to be shown at (its hidden ``place`` field).

    A list page knows what comes after the item acted on (the next suggestion, or the one
    before when it was the last); the view cannot, so the form says.
    """
    asked = (request.form.get("place") or "").strip()
    return asked if PLACE.fullmatch(asked) else default


def flashes_at(place: str | None = None) -> list[tuple[str, str]]:
    """Return, once, the flashed messages for ``place`` as (category, message).

    With no place: every message not already shown elsewhere on the page, so the top of the
    page (rendered last, see base.html) catches whatever found no place.
    """
    taken: set[int] = g.setdefault("_flashes_taken", set())
    out = []
    for index, (category, message) in enumerate(get_flashed_messages(with_categories=True)):
        kind, _mark, where = str(category).partition(_AT)
        if index in taken or (place is not None and where != place):
            continue
        taken.add(index)
        out.append((kind, message))
    return out


def _place_flashes(response: Response) -> Response:
    """Send this request's messages to the place its redirect names (its #fragment)."""
    if response.status_code not in _REDIRECTS:
        return response
    url, _mark, place = (response.headers.get("Location") or "").partition("#")
    flashed = session.get("_flashes")
    if flashed and PLACE.fullmatch(place):
        session["_flashes"] = [
            (category if _AT in category else f"{category}{_AT}{place}", message)
            for category, message in flashed
        ]
        response.headers["Location"] = f"{url}#{place}{RESULT}"
    return response


def init_app(app: Flask) -> None:
    """Place flashed messages at their redirect's fragment; give templates ``flashes_at``."""
    app.after_request(_place_flashes)
    app.add_template_global(flashes_at, "flashes_at")
    app.add_template_filter(anchor, "anchor")
