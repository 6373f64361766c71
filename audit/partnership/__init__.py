"""Multi-agency case audit: agencies audit their own records, one panel agrees the story.

Plain Python, no Flask and no SQL: :mod:`.panel` lays the agencies' answers side by side for
the audit discussion, :mod:`.figures` gathers every figure partnership-wide and per agency
(each count defined by the records it counts), :mod:`.report` builds the partnership report,
:mod:`.bundle` carries agency answers in review bundles, :mod:`.demo` seeds the demo audit.
"""

from __future__ import annotations

from typing import Any


def is_multi_agency(review: Any) -> bool:
    """Tell whether a review is a multi-agency case audit (its rubric names agencies)."""
    return bool(review.rubric.multi_agency)
