"""How wide text is in Arial, so the Word writer can fit table columns to their content.

Word and LibreOffice lay a table out from the column widths the document gives them; a column
narrower than its longest word splits that word across lines ("Outstan / ding"). The widths
here are Arial's advance widths (identical in its metric twin Liberation Sans, which
LibreOffice uses on Linux), in thousandths of the font size, so a column can be made at least
as wide as its longest word.
"""

from __future__ import annotations

_CHARS = (
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
    "abcdefghijklmnopqrstuvwxyz{|}~\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2020\u2022\u00b7\u00a3\u20ac\u00e9"
)
_REGULAR = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722,
    722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722,
    667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556,
    556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500,
    500, 334, 260, 334, 584, 222, 222, 333, 333, 556, 1000, 1000, 556, 350, 278, 556, 556, 556,
)  # fmt: skip
_BOLD = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722,
    722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722,
    667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611,
    611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556,
    500, 389, 280, 389, 584, 278, 278, 500, 500, 556, 1000, 1000, 556, 350, 278, 556, 556, 556,
)  # fmt: skip
_WIDTHS = {
    False: dict(zip(_CHARS, _REGULAR, strict=True)),
    True: dict(zip(_CHARS, _BOLD, strict=True)),
}
# A character outside the table (an accented letter, a symbol) is counted as wide as the widest
# common letter, so a column is never made too narrow for it.
_UNKNOWN = 778


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Return the width of ``text`` on one line, in points, at ``size`` points."""
    widths = _WIDTHS[bold]
    return sum(widths.get(ch, _UNKNOWN) for ch in text) * size / 1000


def longest_word(text: str, size: float, *, bold: bool = False) -> float:
    """Return the width of the text's widest word: the narrowest a column can be unbroken."""
    return max((text_width(word, size, bold=bold) for word in text.split()), default=0.0)


def lines(text: str, width: float, size: float, *, bold: bool = False) -> int:
    """Return how many lines the text takes in ``width`` points, breaking only between words."""
    count, used = 1, 0.0
    space = text_width(" ", size, bold=bold)
    for word in text.split():
        needed = text_width(word, size, bold=bold)
        if used and used + space + needed > width:
            count, used = count + 1, needed
        else:
            used += (space if used else 0.0) + needed
    return count
