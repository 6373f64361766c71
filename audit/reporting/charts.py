"""Charts drawn on the server as inline SVG, shared by the lead's dashboard and the PDF report.

One drawing serves both: the dashboard's Content-Security-Policy (``style-src 'self'``) forbids
``style`` attributes and ``<style>`` elements, so charts use SVG presentation attributes
(``fill``, ``stroke``, ``font-size``) and class names only, and WeasyPrint renders the same
markup into the findings report. Nothing is fetched: no web fonts, no external images.

Charts must survive a greyscale printer. Grade levels run from dark (best) to light (worst), and
alternate levels are hatched so neighbouring segments differ in texture as well as lightness.
Counts are written inside segments wide enough to hold them, in white or near-black, whichever
contrasts more with the segment.

Every chart is ``role="img"`` with an accessible name (its ``<title>``, via
``aria-labelledby``) and a ``<desc>`` summarising the data; :func:`bar_table` gives the same
data as a GOV.UK table for screen-reader users and the report's readers.

Text colour is written twice, as ``fill`` and as ``color``: the app stylesheet gives chart text
``fill: currentcolor``, which beats presentation attributes in a browser, so ``color`` is what
keeps a white count white on a dark segment there (WeasyPrint ignores the page's CSS inside
SVG and uses ``fill``).

All text that comes from callers (labels, notes, titles) is escaped: it comes from rubric files
and could contain anything.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = [
    "FONT_FAMILY",
    "MAX_LEVELS",
    "WIDTH",
    "Bar",
    "DotRow",
    "Segment",
    "bar_table",
    "dot_plot",
    "level_colours",
    "proportion_chart",
    "stacked_bars",
]

WIDTH = 760
"""Width of every chart's coordinate system, in user units (about CSS pixels at full size)."""

FONT_FAMILY = "Arial, Helvetica, sans-serif"

MAX_LEVELS = 9

_TEXT = "#0b0c0c"  # GOV.UK text colour
_MUTED = "#484949"  # GOV.UK secondary text colour, 9:1 on white
_WHITE = "#ffffff"
_AXIS = "#505a5f"
_GRID = "#b1b4b6"

_FONT = 14  # labels, legend, counts
_SMALL = 12  # notes and axis labels: the smallest size drawn
_LINE = 17  # line height for wrapped labels
_MAX_LABEL_LINES = 3

# ColorBrewer "Blues" (9 classes), light to dark: every step is lighter than the one before
# in greyscale too, so a ramp picked from it keeps its order when printed without colour.
_BLUES = (
    "#f7fbff",
    "#deebf7",
    "#c6dbef",
    "#9ecae1",
    "#6baed6",
    "#4292c6",
    "#2171b5",
    "#08519c",
    "#08306b",
)

# Hatching for alternate levels, cycled: (lighter stripes, darker stripes) in an 8 x 8 tile.
# Each set of stripes covers a quarter of the tile, one lighter and one darker than the level by
# the same amount, so the texture shows in greyscale while the average lightness, which tells
# neighbouring levels apart, stays where the colour ramp put it. Every shape stays inside its
# tile (WeasyPrint does not clip tiles) and meets its neighbours' edges, so stripes run on.
_HATCHES = (
    (  # rising diagonal: 7 <= x + y <= 9 and the corners it wraps into; then 3..5 and 11..13
        "M7,0 H8 V1 L1,8 H0 V7 Z M0,0 H1 L0,1 Z M8,7 V8 H7 Z",
        "M3,0 H5 L0,5 V3 Z M8,3 V5 L5,8 H3 Z",
    ),
    (  # falling diagonal: |x - y| <= 1 and its corners; then 3 <= |x - y| <= 5
        "M0,0 H1 L8,7 V8 H7 L0,1 Z M7,0 H8 V1 Z M0,7 L1,8 H0 Z",
        "M3,0 H5 L8,3 V5 Z M0,3 L5,8 H3 L0,5 Z",
    ),
    (  # vertical
        "M1,0 H3 V8 H1 Z",
        "M5,0 H7 V8 H5 Z",
    ),
)

_CHART_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True)
class Segment:
    """One part of a bar: the number of answers at one level (``key`` is the level's id)."""

    key: str
    label: str
    count: int


@dataclass(frozen=True)
class Bar:
    """One bar, e.g. a rubric section, with its counts per level and an optional note."""

    label: str
    segments: tuple[Segment, ...]
    note: str = ""


# --------------------------------------------------------------------------------------------
# Colour


def _rgb(colour: str) -> tuple[float, float, float]:
    """Split ``#rrggbb`` into channels in 0..255 so colours can be mixed and compared."""
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def _hex(rgb: Sequence[float]) -> str:
    """Write channels back as ``#rrggbb`` for an SVG attribute."""
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def _mix(a: str, b: str, t: float) -> str:
    """Blend ``t`` of colour ``b`` into ``a``, to derive hatch colours from a level's colour."""
    return _hex([x + (y - x) * t for x, y in zip(_rgb(a), _rgb(b), strict=True)])


def _luminance(colour: str) -> float:
    """Return WCAG relative luminance, to choose text colours by contrast."""

    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _grey(colour: str) -> float:
    """Return the grey level (0..255) a greyscale printer would give, to balance hatching."""
    r, g, b = _rgb(colour)
    return 0.299 * r + 0.587 * g + 0.114 * b


def _contrast(a: str, b: str) -> float:
    """Return the WCAG contrast ratio of two colours, to keep counts readable."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def level_colours(count: int) -> list[tuple[str, str]]:
    """Return (fill, text colour) per level, darkest first, so any scale prints in order."""
    if not 1 <= count <= MAX_LEVELS:
        raise ValueError(f"charts draw 1 to {MAX_LEVELS} levels, not {count}")
    # Darkest to second-lightest Blues: the lightest is too close to the white page.
    top, bottom = len(_BLUES) - 1, 1
    colours = []
    for i in range(count):
        pos = top - (top - bottom) * (i / (count - 1) if count > 1 else 0)
        lo = int(pos)
        hi = min(lo + 1, len(_BLUES) - 1)
        fill = _mix(_BLUES[lo], _BLUES[hi], pos - lo)
        text = _WHITE if _contrast(fill, _WHITE) >= _contrast(fill, _TEXT) else _TEXT
        # Mid-blues can fall just short of 4.5:1 with either text colour: nudge them away
        # from the text (darker under white, lighter under black) until the count is legible.
        away = _BLUES[-1] if text == _WHITE else _WHITE
        while _contrast(fill, text) < 4.5:
            fill = _mix(fill, away, 0.05)
        colours.append((fill, text))
    return colours


# --------------------------------------------------------------------------------------------
# Text measurement and wrapping (an estimate from character classes: the server has no fonts)

_NARROW = set("fijlrtI.,;:'!|()[]{} -/")
_WIDE = set("mwMW@%&")


def _text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Estimate rendered width in user units, to size columns and decide what fits."""
    units = 0.0
    for ch in text:
        if ch in _NARROW:
            units += 0.32
        elif ch in _WIDE:
            units += 0.88
        elif ch.isupper():
            units += 0.70
        elif ch.isascii():
            units += 0.57
        else:
            units += 1.0  # accents are narrower, but CJK and symbols are wide: err safe
    return units * size * (1.08 if bold else 1.0)


def _wrap(text: str, width: float, size: float, max_lines: int) -> list[str]:
    """Break text into at most ``max_lines`` lines of ``width``, ending with an ellipsis if cut."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if _text_width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while _text_width(current, size) > width:  # a word longer than the line: split it
            cut = len(current) - 1
            while cut > 1 and _text_width(current[:cut] + "-", size) > width:
                cut -= 1
            lines.append(current[:cut] + "-")
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _text_width(last + "…", size) > width:
            last = last[:-1].rstrip()
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines or [""]


def _label_column(labels: Sequence[str], *, least: float = 80, most: float = 250) -> float:
    """Size the label column to the longest label, capped at ``most`` (longer ones wrap)."""
    longest = max((_text_width(" ".join(label.split()), _FONT) for label in labels), default=0)
    return max(least, min(most, longest + 4))


# --------------------------------------------------------------------------------------------
# Small SVG helpers


def _n(value: float) -> str:
    """Format a coordinate compactly (two decimals at most) for the markup."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = _FONT,
    colour: str = _TEXT,
    anchor: str = "start",
    bold: bool = False,
    cls: str = "",
) -> str:
    """Draw one line of escaped text with its colour set as both ``fill`` and ``color``."""
    attrs = [f'x="{_n(x)}"', f'y="{_n(y)}"', f'font-size="{size}"', f'fill="{colour}"']
    attrs.append(f'color="{colour}"')
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if bold:
        attrs.append('font-weight="bold"')
    if cls:
        attrs.append(f'class="{cls}"')
    return f"<text {' '.join(attrs)}>{escape(content)}</text>"


def _lines(x: float, centre: float, lines: Sequence[str], *, cls: str, colour: str = _TEXT) -> str:
    """Draw wrapped lines as one ``<text>`` whose block is centred on ``centre``."""
    first = centre - (len(lines) - 1) * _LINE / 2 + _FONT * 0.35
    spans = "".join(
        f'<tspan x="{_n(x)}" y="{_n(first + i * _LINE)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text class="{cls}" font-size="{_FONT}" fill="{colour}" color="{colour}">{spans}</text>'
    )


def _svg_open(chart_id: str, kind: str, height: float, title: str, desc: str) -> str:
    """Open a chart: sizing, accessible name and description, and the shared text defaults."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart app-chart--{kind}" '
        f'width="100%" viewBox="0 0 {WIDTH} {_n(height)}" '
        f'role="img" aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" '
        f'font-family="{FONT_FAMILY}" font-size="{_FONT}" fill="{_TEXT}" color="{_TEXT}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )


def _check_chart_id(chart_id: str) -> None:
    """Refuse ids that would not be valid, unescaped XML ids (they are used in url(#...))."""
    if not _CHART_ID.fullmatch(chart_id):
        raise ValueError(
            f"chart_id must be a letter then letters, digits, '-' or '_' (at most 64): {chart_id!r}"
        )


def _percent(part: float, whole: float) -> int:
    """Round a share to a whole percentage exactly as ``audit.findings.percent`` does.

    Bars' notes are written with that function, so the chart, its table and the notes must
    round alike (Python's ``round``: halves to even) or a reader would see 12% beside 13%.
    """
    return round(part / whole * 100)


# --------------------------------------------------------------------------------------------
# Stacked bars


def _check_levels(levels: Sequence[tuple[str, str]]) -> list[str]:
    """Validate the level scale and return its keys in order."""
    keys = [key for key, _ in levels]
    if not 1 <= len(keys) <= MAX_LEVELS:
        raise ValueError(f"charts draw 1 to {MAX_LEVELS} levels, not {len(keys)}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"level ids repeat: {keys}")
    return keys


def _counts(bar: Bar, keys: Sequence[str]) -> dict[str, int]:
    """Return the bar's count per level key, refusing unknown, repeated or negative counts."""
    counts = dict.fromkeys(keys, 0)
    seen: set[str] = set()
    for segment in bar.segments:
        if segment.key not in counts:
            raise ValueError(f"bar {bar.label!r} has a segment for unknown level {segment.key!r}")
        if segment.key in seen:
            raise ValueError(f"bar {bar.label!r} has two segments for level {segment.key!r}")
        if segment.count < 0:
            raise ValueError(f"bar {bar.label!r} has a negative count for {segment.key!r}")
        seen.add(segment.key)
        counts[segment.key] = segment.count
    return counts


def _good_count(keys: Sequence[str], good_keys: Collection[str]) -> int:
    """Return how many leading levels are "good or better", refusing gaps and unknown keys."""
    good = set(good_keys)
    if not good <= set(keys):
        raise ValueError(f"good_keys name unknown levels: {sorted(good - set(keys))}")
    leading = len(good)
    if set(keys[:leading]) != good:
        raise ValueError("good_keys must be the best (first) levels of the scale")
    return leading


def good_label(levels: Sequence[tuple[str, str]], leading: int) -> str:
    """Name the good-or-better group after its lowest level, e.g. "Good or better"."""
    if leading == len(levels):
        return "Any level"
    if leading == 1:
        return levels[0][1]
    return f"{levels[leading - 1][1]} or better"


def _patterns(chart_id: str, colours: Sequence[tuple[str, str]]) -> tuple[str, list[str | None]]:
    """Return ``<defs>`` with hatch patterns for odd levels, and each level's hatch fill or None.

    Patterns hold only the stripes; a hatched shape is drawn solid first and the stripes laid
    over it, so no tile seam can show the page through (PDF viewers anti-alias tile edges).
    """
    defs: list[str] = []
    hatches: list[str | None] = []
    for i, (fill, _) in enumerate(colours):
        if i % 2 == 0:
            hatches.append(None)
            continue
        grey = _grey(fill)
        step = max(28.0, min(60.0, 0.6 * min(grey, 255 - grey)))
        lighter = _mix(fill, _WHITE, min(1.0, step / max(255 - grey, 1)))
        darker = _mix(fill, "#000000", min(1.0, step / max(grey, 1)))
        light_path, dark_path = _HATCHES[(i // 2) % len(_HATCHES)]
        pattern_id = f"{chart_id}-level-{i}"
        defs.append(
            f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="8" height="8">'
            f'<path d="{light_path}" fill="{lighter}"/>'
            f'<path d="{dark_path}" fill="{darker}"/></pattern>'
        )
        hatches.append(f"url(#{pattern_id})")
    return (f"<defs>{''.join(defs)}</defs>" if defs else ""), hatches


def _box(
    x: float,
    y: float,
    width: float,
    height: float,
    fill: str,
    hatch: str | None,
    *,
    stroke: str,
    attrs: str = "",
    title: str = "",
) -> str:
    """Draw a solid rectangle, with its hatching laid over it when the level has one."""
    tooltip = f"<title>{escape(title)}</title>" if title else ""
    geometry = f'x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}"'
    solid = (
        f'<rect {attrs}{" " if attrs else ""}{geometry} fill="{fill}" stroke="{stroke}" '
        f'stroke-width="1">{tooltip}</rect>'
    )
    if hatch is None:
        return solid
    return solid + (
        f'<rect class="app-chart__hatch" {geometry} fill="{hatch}" stroke="{stroke}" '
        f'stroke-width="1"/>'
    )


def _legend(
    items: Sequence[tuple[str, str | None, str]], top: float, *, bracket_label: str = ""
) -> tuple[str, float]:
    """Draw swatches and labels, wrapping onto more rows; return markup and the height used.

    ``items`` are (fill, hatch or None, label); ``bracket_label`` adds the good-or-better key.
    """
    parts = ['<g class="app-chart__legend">']
    x, y, row = 0.0, top, 24
    # A label too long for a whole row is cut: the table and <desc> carry it in full.
    labels = [_wrap(label, WIDTH - 50, _FONT, 1)[0] for _, _, label in items]
    entries: list[tuple[float, str, str | None, str]] = [
        (18 + 6 + _text_width(label, _FONT) + 20, fill, hatch, label)
        for (fill, hatch, _), label in zip(items, labels, strict=True)
    ]
    if bracket_label:
        entries.append((26 + 6 + _text_width(bracket_label, _FONT) + 20, "", None, bracket_label))
    for width, fill, hatch, label in entries:
        if x > 0 and x + width - 20 > WIDTH:
            x, y = 0.0, y + row
        if fill:
            parts.append(_box(x, y, 18, 18, fill, hatch, stroke=_TEXT))
            label_x = x + 24
        else:
            parts.append(
                f'<path d="M{_n(x + 1)},{_n(y + 15)} V{_n(y + 7)} H{_n(x + 25)} V{_n(y + 15)}" '
                f'fill="none" stroke="{_TEXT}" stroke-width="2"/>'
            )
            label_x = x + 32
        parts.append(_text(label_x, y + 9 + _FONT * 0.35, label))
        x += width
    parts.append("</g>")
    return "".join(parts), y + row - top


def _axis(x0: float, x1: float, y: float) -> str:
    """Draw the 0-100% axis with ticks every 25%, under the bars or dots."""
    parts = [
        f'<g class="app-chart__axis"><line x1="{_n(x0)}" y1="{_n(y)}" x2="{_n(x1)}" '
        f'y2="{_n(y)}" stroke="{_AXIS}" stroke-width="1"/>'
    ]
    for pct in range(0, 101, 25):
        x = x0 + (x1 - x0) * pct / 100
        parts.append(
            f'<line x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x)}" y2="{_n(y + 5)}" '
            f'stroke="{_AXIS}" stroke-width="1"/>'
        )
        parts.append(_text(x, y + 19, f"{pct}%", size=_SMALL, colour=_MUTED, anchor="middle"))
    parts.append("</g>")
    return "".join(parts)


def _stacked_desc(
    bars: Sequence[Bar],
    levels: Sequence[tuple[str, str]],
    all_counts: Sequence[Mapping[str, int]],
    leading: int,
    unit: str = "answers",
) -> str:
    """Summarise a stacked-bar chart in words, one sentence per bar."""
    names = [label for _, label in levels]
    sentences = [
        f"Horizontal bars, one per row, each split into the share of {unit} at each level, "
        f"from {names[0]} on the left to {names[-1]} on the right."
    ]
    threshold = good_label(levels, leading) if leading else ""
    for bar, counts in zip(bars, all_counts, strict=True):
        total = sum(counts.values())
        if not total:
            sentences.append(f"{bar.label}: no {unit}.")
            continue
        parts = ", ".join(
            f"{label} {counts[key]} ({_percent(counts[key], total)}%)" for key, label in levels
        )
        sentence = f"{bar.label}: {total} {unit}; {parts}"
        if leading:
            good = sum(counts[key] for key, _ in levels[:leading])
            sentence += f"; {_percent(good, total)}% {threshold.lower()}"
        sentences.append(sentence + ".")
    return " ".join(sentences)


def stacked_bars(
    bars: Sequence[Bar],
    *,
    title: str,
    levels: Sequence[tuple[str, str]],
    chart_id: str,
    good_keys: Collection[str] = (),
    unit: str = "answers",
) -> Markup:
    """Draw horizontal 100% stacked bars, so each row's spread across levels is comparable.

    ``levels`` is the scale as (id, label), best first; segments are drawn in that order,
    darkest first, and a segment's count is written inside it when it fits. ``good_keys``
    (the best levels, e.g. outstanding and good) adds a bracket over each bar's good-or-better
    part. ``chart_id`` prefixes every id in the chart so several can share a page. ``title``
    is the accessible name; the page gives the visible heading. A bar with no answers is drawn
    as an outline reading "No answers". Segment labels are not drawn: ``levels`` names them.
    ``unit`` names what the bars count ("answers", or "cases" where each case answers once).
    """
    _check_chart_id(chart_id)
    keys = _check_levels(levels)
    leading = _good_count(keys, good_keys) if good_keys else 0
    all_counts = [_counts(bar, keys) for bar in bars]
    colours = level_colours(len(levels))
    defs, hatches = _patterns(chart_id, colours)

    bracket_label = good_label(levels, leading) if leading else ""
    legend, legend_height = _legend(
        [
            (fill, hatch, label)
            for (fill, _), hatch, (_, label) in zip(colours, hatches, levels, strict=True)
        ],
        0,
        bracket_label=bracket_label,
    )

    label_width = _label_column([bar.label for bar in bars])
    x0, x1 = label_width + 16, WIDTH - 20
    span = x1 - x0
    bar_height = 30
    top_gap = 12 if leading else 6
    y = legend_height + 8

    rows: list[str] = []
    for index, (bar, counts) in enumerate(zip(bars, all_counts, strict=True)):
        lines = _wrap(bar.label, label_width, _FONT, _MAX_LABEL_LINES)
        content = max(bar_height, len(lines) * _LINE)
        top = y + top_gap
        bar_y = top + (content - bar_height) / 2
        centre = bar_y + bar_height / 2
        total = sum(counts.values())
        row = [
            f'<g class="app-chart__bar" data-index="{index}" data-total="{total}">',
            _lines(0, centre, lines, cls="app-chart__label"),
        ]
        if total == 0:
            row.append(
                f'<rect class="app-chart__empty" x="{_n(x0)}" y="{_n(bar_y)}" '
                f'width="{_n(span)}" height="{bar_height}" fill="{_WHITE}" stroke="{_MUTED}" '
                f'stroke-width="1" stroke-dasharray="4 3"/>'
            )
            row.append(_text(x0 + 10, centre + _FONT * 0.35, "No answers", colour=_MUTED))
        else:
            x = x0
            for i, key in enumerate(keys):
                count = counts[key]
                if not count:
                    continue
                width = span * count / total
                fill, text_colour = colours[i]
                label = levels[i][1]
                row.append(
                    _box(
                        x,
                        bar_y,
                        width,
                        bar_height,
                        fill,
                        hatches[i],
                        stroke=_WHITE,
                        attrs=f'class="app-chart__segment" data-level="{escape(key)}" '
                        f'data-count="{count}"',
                        title=f"{label}: {count} of {total} ({_percent(count, total)}%)",
                    )
                )
                digits = str(count)
                text_width = _text_width(digits, _FONT, bold=True)
                if width >= text_width + 10:
                    if hatches[i]:  # hatched: a solid plate keeps the digits legible
                        row.append(
                            f'<rect x="{_n(x + width / 2 - text_width / 2 - 3)}" '
                            f'y="{_n(centre - 9)}" width="{_n(text_width + 6)}" height="18" '
                            f'rx="2" fill="{fill}"/>'
                        )
                    row.append(
                        _text(
                            x + width / 2,
                            centre + _FONT * 0.35,
                            digits,
                            colour=text_colour,
                            anchor="middle",
                            bold=True,
                            cls="app-chart__count",
                        )
                    )
                x += width
            if leading:
                good = sum(counts[key] for key in keys[:leading])
                if good:
                    edge = x0 + span * good / total
                    row.append(
                        f'<path class="app-chart__good" d="M{_n(x0 + 1)},{_n(bar_y - 1)} '
                        f'V{_n(bar_y - 7)} H{_n(edge - 1)} V{_n(bar_y - 1)}" fill="none" '
                        f'stroke="{_TEXT}" stroke-width="2"/>'
                    )
        below = bar_y + bar_height
        if bar.note.strip():
            for line in _wrap(bar.note, span, _SMALL, 2):
                row.append(
                    _text(x0, below + 15, line, size=_SMALL, colour=_MUTED, cls="app-chart__note")
                )
                below += 15
            below += 3
        row.append("</g>")
        rows.append("".join(row))
        y = max(top + content, below) + 6

    axis_y = y + 4
    height = axis_y + 26
    desc = _stacked_desc(bars, levels, all_counts, leading, unit)
    if not bars:
        desc = "No rows to show."
    return Markup(
        _svg_open(chart_id, "stacked", height, title, desc)
        + defs
        + legend
        + "".join(rows)
        + _axis(x0, x1, axis_y)
        + "</svg>"
    )


# --------------------------------------------------------------------------------------------
# Public stacked bars: drawn from protected counts only

WITHHELD_BAND = 44
"""The fixed width of a withheld count's band: its width says nothing about the count."""


def protected_bars(
    rows: Sequence[tuple[str, Sequence[int | str]]],
    *,
    title: str,
    levels: Sequence[tuple[str, str]],
    chart_id: str,
) -> Markup:
    """Draw stacked bars for the public report from protected counts, never raw ones.

    Each row is (label, one cell per level): a printed count (int) or the text a withheld
    count is written as ("<5", "[c]"). A withheld count is a hatched band of fixed width
    carrying its text; the printed counts share the rest of the bar in proportion, so no
    length encodes a withheld count. No good-or-better bracket: its length could.
    """
    _check_chart_id(chart_id)
    _check_levels(levels)
    colours = level_colours(len(levels))
    defs, hatches = _patterns(chart_id, colours)
    band_id = f"{chart_id}-withheld"
    band_defs = (
        f'<defs><pattern id="{band_id}" patternUnits="userSpaceOnUse" width="6" height="6">'
        f'<path d="M0,6 L6,0" stroke="{_WHITE}" stroke-width="2"/></pattern></defs>'
    )
    legend, legend_height = _legend(
        [
            (fill, hatch, label)
            for (fill, _), hatch, (_, label) in zip(colours, hatches, levels, strict=True)
        ],
        0,
    )
    label_width = _label_column([label for label, _ in rows])
    x0, x1 = label_width + 16, WIDTH - 20
    bar_height = 30
    y = legend_height + 8
    parts: list[str] = []
    sentences = [
        "Horizontal bars, one per row, each split by level. A hatched band of fixed width "
        "stands for a count withheld in this public version."
    ]
    for label, cells in rows:
        if len(cells) != len(levels):
            raise ValueError(f"{label}: {len(cells)} cells for {len(levels)} levels")
        lines = _wrap(label, label_width, _FONT, _MAX_LABEL_LINES)
        content = max(bar_height, len(lines) * _LINE)
        bar_y = y + 6 + (content - bar_height) / 2
        centre = bar_y + bar_height / 2
        withheld = [c for c in cells if isinstance(c, str)]
        printed = sum(c for c in cells if isinstance(c, int))
        free = (x1 - x0) - WITHHELD_BAND * len(withheld)
        row = ['<g class="app-chart__bar app-chart__bar--protected">']
        row.append(_lines(0, centre, lines, cls="app-chart__label"))
        x = x0
        words = []
        for i, cell in enumerate(cells):
            level = levels[i][1]
            if isinstance(cell, str):
                # The level's colour, white stripes over it, the text on a white plate.
                fill = colours[i][0]
                geometry = (
                    f'x="{_n(x)}" y="{_n(bar_y)}" width="{WITHHELD_BAND}" height="{bar_height}"'
                )
                row.append(
                    f'<rect class="app-chart__withheld" {geometry} fill="{fill}" '
                    f'stroke="{_WHITE}" stroke-width="1"><title>{escape(level)}: '
                    f"{escape(cell)} (withheld)</title></rect>"
                    f'<rect {geometry} fill="url(#{band_id})" stroke="{_MUTED}" '
                    f'stroke-width="1" stroke-dasharray="3 2"/>'
                )
                plate = _text_width(cell, _FONT, bold=True) + 6
                row.append(
                    f'<rect x="{_n(x + (WITHHELD_BAND - plate) / 2)}" y="{_n(centre - 9)}" '
                    f'width="{_n(plate)}" height="18" rx="2" fill="{_WHITE}"/>'
                )
                row.append(
                    _text(
                        x + WITHHELD_BAND / 2,
                        centre + _FONT * 0.35,
                        cell,
                        anchor="middle",
                        bold=True,
                    )
                )
                x += WITHHELD_BAND
                words.append(f"{level} {cell} (withheld)")
                continue
            words.append(f"{level} {cell}")
            if not cell or not printed:
                continue
            width = free * cell / printed
            fill, text_colour = colours[i]
            row.append(
                _box(
                    x,
                    bar_y,
                    width,
                    bar_height,
                    fill,
                    hatches[i],
                    stroke=_WHITE,
                    attrs='class="app-chart__segment"',
                    title=f"{level}: {cell}",
                )
            )
            if width >= _text_width(str(cell), _FONT, bold=True) + 10 and not hatches[i]:
                row.append(
                    _text(
                        x + width / 2,
                        centre + _FONT * 0.35,
                        str(cell),
                        colour=text_colour,
                        anchor="middle",
                        bold=True,
                        cls="app-chart__count",
                    )
                )
            x += width
        row.append("</g>")
        parts.append("".join(row))
        sentences.append(f"{label}: {', '.join(words)}.")
        y = y + 6 + content + 8
    height = y + 10
    return Markup(
        _svg_open(chart_id, "stacked", height, title, " ".join(sentences))
        + band_defs
        + defs
        + legend
        + "".join(parts)
        + "</svg>"
    )


# --------------------------------------------------------------------------------------------
# The data table


def bar_table(
    bars: Sequence[Bar],
    *,
    caption: str,
    levels: Sequence[tuple[str, str]],
    good_keys: Collection[str] = (),
    row_header: str = "Section",
) -> Markup:
    """Give a stacked-bar chart's data as a GOV.UK table, for screen readers and print.

    Each level's cell is the count and its percentage of the row's answers (rounded, so a
    row may add up to 99% or 101%); then the row's total, a good-or-better column when
    ``good_keys`` is given, and a notes column when any bar has a note.
    """
    keys = _check_levels(levels)
    leading = _good_count(keys, good_keys) if good_keys else 0
    with_notes = any(bar.note for bar in bars)
    head_num = "govuk-table__header govuk-table__header--numeric"
    cell_num = "govuk-table__cell govuk-table__cell--numeric"

    head = [f'<th scope="col" class="govuk-table__header">{escape(row_header)}</th>']
    head += [f'<th scope="col" class="{head_num}">{escape(label)}</th>' for _, label in levels]
    head.append(f'<th scope="col" class="{head_num}">Total answers</th>')
    if leading:
        head.append(
            f'<th scope="col" class="{head_num}">{escape(good_label(levels, leading))}</th>'
        )
    if with_notes:
        head.append('<th scope="col" class="govuk-table__header">Notes</th>')

    body = []
    for bar in bars:
        counts = _counts(bar, keys)
        total = sum(counts.values())
        cells = [f'<th scope="row" class="govuk-table__header">{escape(bar.label)}</th>']
        for key in keys:
            share = f"\u00a0({_percent(counts[key], total)}%)" if total else ""
            cells.append(f'<td class="{cell_num}">{counts[key]}{share}</td>')
        cells.append(f'<td class="{cell_num}">{total}</td>')
        if leading:
            good = sum(counts[key] for key in keys[:leading])
            value = f"{good}\u00a0({_percent(good, total)}%)" if total else "No answers"
            cells.append(f'<td class="{cell_num}">{value}</td>')
        if with_notes:
            cells.append(f'<td class="govuk-table__cell">{escape(bar.note)}</td>')
        body.append(f'<tr class="govuk-table__row">{"".join(cells)}</tr>')

    return Markup(
        '<table class="govuk-table app-chart-table">'
        f'<caption class="govuk-table__caption govuk-table__caption--m">{escape(caption)}'
        "</caption>"
        f'<thead class="govuk-table__head"><tr class="govuk-table__row">{"".join(head)}</tr>'
        "</thead>"
        f'<tbody class="govuk-table__body">{"".join(body)}</tbody>'
        "</table>"
    )


# --------------------------------------------------------------------------------------------
# Proportions with intervals


def _check_share(label: str, share: float | None, low: float | None, high: float | None) -> None:
    """Refuse shares outside 0..1 and intervals that do not contain their share."""
    for name, value in (("share", share), ("low", low), ("high", high)):
        if value is not None and not 0 <= value <= 1:
            raise ValueError(f"{label!r}: {name} must be a fraction from 0 to 1, not {value}")
    if share is not None and (low is None) != (high is None):
        raise ValueError(f"{label!r}: give both ends of the interval or neither")
    if share is not None and low is not None and high is not None and not low <= share <= high:
        raise ValueError(f"{label!r}: the interval {low}..{high} does not contain {share}")


def _share_text(share: float | None, low: float | None, high: float | None) -> str:
    """Write a share and its interval as whole percentages, e.g. "61% (48% to 73%)"."""
    if share is None:
        return "No data"
    text = f"{_percent(share, 1)}%"
    if low is not None and high is not None:
        text += f" ({_percent(low, 1)}% to {_percent(high, 1)}%)"
    return text


def proportion_chart(
    items: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    title: str,
    chart_id: str,
) -> Markup:
    """Draw shares as dots with 95% interval whiskers, so uncertainty is shown, not hidden.

    Each item is (label, share, low, high) with fractions from 0 to 1; low and high may both
    be None to draw the dot alone. A None share is drawn as the words "No data". Values are
    also written at the right of each row, so the chart reads without the axis.
    """
    _check_chart_id(chart_id)
    for label, share, low, high in items:
        _check_share(label, share, low, high)

    dark = level_colours(1)[0][0]
    legend_parts = [
        '<g class="app-chart__legend">',
        f'<circle cx="9" cy="9" r="6" fill="{dark}" stroke="{_WHITE}" stroke-width="2"/>',
        _text(24, 9 + _FONT * 0.35, "Share"),
    ]
    whisker_x = 24 + _text_width("Share", _FONT) + 24
    legend_parts += [
        f'<path d="M{_n(whisker_x)},4 v10 M{_n(whisker_x)},9 h30 M{_n(whisker_x + 30)},4 v10" '
        f'fill="none" stroke="{_TEXT}" stroke-width="2"/>',
        _text(whisker_x + 38, 9 + _FONT * 0.35, "95% confidence interval"),
        "</g>",
    ]

    values = [_share_text(share, low, high) for _, share, low, high in items]
    value_width = max((_text_width(v, _FONT) for v in values), default=0) + 4
    label_width = _label_column([label for label, *_ in items], most=220)
    x0 = label_width + 20
    x1 = WIDTH - value_width - 24
    span = x1 - x0
    row_height = 34
    top = 36

    rows: list[str] = []
    y = top
    for index, ((label, share, low, high), value) in enumerate(zip(items, values, strict=True)):
        lines = _wrap(label, label_width, _FONT, _MAX_LABEL_LINES)
        height = max(row_height, len(lines) * _LINE + 8)
        centre = y + height / 2
        row = [
            f'<g class="app-chart__row" data-index="{index}">',
            _lines(0, centre, lines, cls="app-chart__label"),
        ]
        if share is None:
            row.append(_text(x0 + 8, centre + _FONT * 0.35, "No data", colour=_MUTED))
        else:
            if low is not None and high is not None:
                lx, hx = x0 + span * low, x0 + span * high
                row.append(
                    f'<path class="app-chart__interval" d="M{_n(lx)},{_n(centre - 7)} '
                    f"v14 M{_n(lx)},{_n(centre)} H{_n(hx)} M{_n(hx)},{_n(centre - 7)} v14"
                    f'" fill="none" stroke="{_TEXT}" stroke-width="2"/>'
                )
            row.append(
                f'<circle class="app-chart__dot" cx="{_n(x0 + span * share)}" '
                f'cy="{_n(centre)}" r="6" fill="{dark}" stroke="{_WHITE}" stroke-width="2"/>'
            )
            row.append(
                _text(WIDTH, centre + _FONT * 0.35, value, anchor="end", cls="app-chart__value")
            )
        row.append("</g>")
        rows.append("".join(row))
        y += height

    grid = ['<g class="app-chart__grid">']
    for pct in range(0, 101, 25):
        x = x0 + span * pct / 100
        grid.append(
            f'<line x1="{_n(x)}" y1="{top - 4}" x2="{_n(x)}" y2="{_n(y + 4)}" '
            f'stroke="{_GRID}" stroke-width="1" stroke-dasharray="2 3"/>'
        )
    grid.append("</g>")

    axis_y = y + 6
    height = axis_y + 26
    words = [f"{label}: {value}." for (label, *_), value in zip(items, values, strict=True)]
    desc = " ".join(
        [
            "Shares as dots on a 0% to 100% scale, with lines showing 95% confidence intervals.",
            *words,
        ]
    )
    return Markup(
        _svg_open(chart_id, "proportion", height, title, desc)
        + "".join(legend_parts)
        + "".join(grid)
        + "".join(rows)
        + _axis(x0, x1, axis_y)
        + "</svg>"
    )


# --------------------------------------------------------------------------------------------
# Dot plots (calibration panels)


@dataclass(frozen=True)
class DotRow:
    """One question in a dot plot: how many participants chose each level, and the agreed one."""

    label: str
    counts: Mapping[str, int]
    agreed: str | None = None


_DOT = "#08519c"
_DOT_R = 6
_DOT_GAP = 15
_DOT_ROW = 42


def dot_plot(
    chart_id: str,
    rows: Sequence[DotRow],
    *,
    levels: Sequence[tuple[str, str]],
    title: str,
) -> Markup:
    """Draw every participant's answer to each question as a dot in its level's column.

    The panel's agreed answer, when recorded, is outlined with a square so it shows without
    colour. Give the same data as a table after the chart (the page does).
    """
    _check_chart_id(chart_id)
    keys = _check_levels(levels)
    label_w = _label_column([row.label for row in rows], most=260)
    left = label_w + 12
    column = (WIDTH - left - 8) / len(keys)
    headers = [_wrap(label, column - 6, _SMALL, 3) for _key, label in levels]
    head = 26 + 14 * max(len(lines) for lines in headers)
    height = head + _DOT_ROW * len(rows) + 28
    desc_parts = []
    for row in rows:
        chosen = ", ".join(
            f"{row.counts.get(key, 0)} {label}" for key, label in levels if row.counts.get(key, 0)
        )
        agreed = dict(levels).get(row.agreed or "", "")
        desc_parts.append(
            f"{row.label}: {chosen or 'no answers'}" + (f"; agreed {agreed}" if agreed else "")
        )
    parts = [_svg_open(chart_id, "dots", height, title, ". ".join(desc_parts) or "No questions")]
    for i, lines in enumerate(headers):
        centre = left + column * (i + 0.5)
        for j, line in enumerate(lines):
            parts.append(
                _text(centre, 14 + j * 14, line, size=_SMALL, colour=_MUTED, anchor="middle")
            )
        parts.append(
            f'<line x1="{_n(left + column * i)}" x2="{_n(left + column * i)}" y1="{head - 6}" '
            f'y2="{_n(height - 24)}" stroke="{_GRID}" stroke-width="1"/>'
        )
    for r, row in enumerate(rows):
        middle = head + _DOT_ROW * (r + 0.5)
        parts.append(_lines(0, middle, _wrap(row.label, label_w, _FONT, 2), cls="app-chart__label"))
        for i, key in enumerate(keys):
            centre = left + column * (i + 0.5)
            count = row.counts.get(key, 0)
            if key == row.agreed:
                half = max(count, 1) * _DOT_GAP / 2 + 4
                parts.append(
                    f'<rect x="{_n(centre - half)}" y="{_n(middle - 11)}" width="{_n(2 * half)}" '
                    f'height="22" fill="none" stroke="{_TEXT}" stroke-width="2"/>'
                )
            for d in range(count):
                x = centre + (d - (count - 1) / 2) * _DOT_GAP
                parts.append(f'<circle cx="{_n(x)}" cy="{_n(middle)}" r="{_DOT_R}" fill="{_DOT}"/>')
    legend_y = height - 8
    parts.append(
        f'<circle cx="{_n(left + 6)}" cy="{_n(legend_y - 4)}" r="{_DOT_R}" fill="{_DOT}"/>'
    )
    parts.append(_text(left + 16, legend_y, "one participant", size=_SMALL, colour=_MUTED))
    box_x = left + 150
    parts.append(
        f'<rect x="{_n(box_x)}" y="{_n(legend_y - 13)}" width="18" height="18" fill="none" '
        f'stroke="{_TEXT}" stroke-width="2"/>'
    )
    parts.append(_text(box_x + 24, legend_y, "agreed by the panel", size=_SMALL, colour=_MUTED))
    parts.append("</svg>")
    return Markup("".join(parts))
