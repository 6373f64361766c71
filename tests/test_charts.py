"""Server-drawn SVG charts: structure, accessibility, escaping, CSP safety and a real PDF render."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from markupsafe import Markup

from audit.reporting import charts
from audit.reporting.charts import (
    WIDTH,
    Bar,
    Segment,
    bar_table,
    level_colours,
    proportion_chart,
    stacked_bars,
)

NS = "{http://www.w3.org/2000/svg}"
LEVELS = (
    ("outstanding", "Outstanding"),
    ("good", "Good"),
    ("requires_improvement", "Requires improvement"),
    ("inadequate", "Inadequate"),
)
GOOD = ("outstanding", "good")
LONG_LABEL = (
    "Assessment and analysis of risk and need, including the impact of parental mental health "
    "on the child's day-to-day care"
)
EVIL = '<script>alert("x")</script> & "quoted"'


def make_bar(
    label: str, counts: Sequence[int], note: str = "", levels: Sequence[tuple[str, str]] = LEVELS
) -> Bar:
    """A bar with one segment per level, in level order."""
    return Bar(
        label,
        tuple(Segment(key, name, n) for (key, name), n in zip(levels, counts, strict=True)),
        note,
    )


BARS = (
    make_bar("Voice of the child", (5, 18, 10, 5), "n=38, 61% good or better"),
    make_bar(LONG_LABEL, (2, 9, 14, 7)),
    make_bar("Plans", (0, 0, 0, 0), "No cases"),
    make_bar("Management oversight", (1, 3, 20, 12)),
)
ITEMS = (
    ("Child seen alone", 0.61, 0.48, 0.73),
    ("Plan reviewed on time", 0.9, 0.8, 0.96),
    ("Chronology up to date", None, None, None),
    ("Dot without an interval", 0.25, None, None),
)


def sections_chart(chart_id: str = "sections") -> Markup:
    return stacked_bars(
        BARS, title="Grades by section", levels=LEVELS, chart_id=chart_id, good_keys=GOOD
    )


def parse(markup: str) -> ET.Element:
    """Parse chart or table markup as XML: it must be well-formed to parse at all."""
    return ET.fromstring(str(markup))


def by_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [el for el in root.iter(f"{NS}{tag}") if cls in el.get("class", "").split()]


def num(el: ET.Element, attr: str) -> float:
    return float(el.get(attr, "nan"))


def text_of(el: ET.Element) -> str:
    return "".join(el.itertext())


def axis_span(root: ET.Element) -> tuple[float, float]:
    """The plot's left and right edges, read from the 0-100% axis line."""
    (axis,) = by_class(root, "g", "app-chart__axis")
    line = axis.find(f"{NS}line")
    assert line is not None
    return num(line, "x1"), num(line, "x2")


def font_sizes(root: ET.Element) -> Iterator[float]:
    """Each text element's effective font size, inherited from ancestors as SVG does."""
    parents = {child: parent for parent in root.iter() for child in parent}
    for el in root.iter(f"{NS}text"):
        node: ET.Element | None = el
        while node is not None and node.get("font-size") is None:
            node = parents.get(node)
        assert node is not None, "text without a font size"
        yield float(node.get("font-size", "0"))


# --------------------------------------------------------------------------------------------
# Structure and accessibility


@pytest.mark.parametrize(
    "markup",
    [sections_chart(), proportion_chart(ITEMS, title="Key measures", chart_id="measures")],
    ids=["stacked", "proportion"],
)
def test_chart_is_an_accessible_scalable_image(markup: Markup) -> None:
    root = parse(markup)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert "app-chart" in root.get("class", "").split()
    assert root.get("width") == "100%" and root.get("height") is None
    assert root.get("viewBox", "").startswith(f"0 0 {WIDTH} ")
    assert root.get("font-family") == "Arial, Helvetica, sans-serif"
    ids = {el.get("id"): el for el in root.iter() if el.get("id")}
    title = ids[root.get("aria-labelledby")]
    assert title.tag == f"{NS}title" and (title.text or "").strip()
    assert root[0] is title, "the <title> comes first, as SVG's own accessible-name rule wants"
    desc = ids[root.get("aria-describedby")]
    assert desc.tag == f"{NS}desc" and len(desc.text or "") > 40
    assert min(font_sizes(root)) >= 12
    for text in root.iter(f"{NS}text"):
        # the app's CSS gives chart text fill: currentcolor, so color must say the same
        assert text.get("fill") and text.get("color") == text.get("fill")


def test_desc_summarises_every_bar() -> None:
    root = parse(sections_chart())
    desc = root.find(f"{NS}desc")
    assert desc is not None and desc.text
    assert "Voice of the child: 38 answers; Outstanding 5 (13%), Good 18 (47%)" in desc.text
    assert "61% good or better" in desc.text
    assert "Plans: no answers." in desc.text


def test_one_group_per_bar_with_segments_in_level_order_and_proportional_widths() -> None:
    root = parse(sections_chart())
    groups = by_class(root, "g", "app-chart__bar")
    assert len(groups) == len(BARS)
    x0, x1 = axis_span(root)
    span = x1 - x0
    assert span > WIDTH / 2
    for group, bar in zip(groups, BARS, strict=True):
        counts = {s.key: s.count for s in bar.segments}
        total = sum(counts.values())
        assert group.get("data-total") == str(total)
        segments = by_class(group, "rect", "app-chart__segment")
        if not total:
            assert segments == []
            continue
        keys = [s.get("data-level") for s in segments]
        assert keys == [key for key, _ in LEVELS if counts[key]]
        x = x0
        for rect in segments:
            count = counts[rect.get("data-level", "")]
            assert rect.get("data-count") == str(count)
            assert num(rect, "x") == pytest.approx(x, abs=0.5)
            assert num(rect, "width") == pytest.approx(span * count / total, abs=0.5)
            x += num(rect, "width")
        assert x == pytest.approx(x1, abs=0.5)


def test_counts_are_written_in_segments_wide_enough_with_legible_colours() -> None:
    root = parse(sections_chart())
    oversight = by_class(root, "g", "app-chart__bar")[3]  # 1, 3, 20, 12 of 36
    counts = [text_of(t) for t in by_class(oversight, "text", "app-chart__count")]
    assert counts == ["3", "20", "12"], "the 1 (13 units wide) has no room; the rest do"
    for group in by_class(root, "g", "app-chart__bar"):
        segments = by_class(group, "rect", "app-chart__segment")
        for text in by_class(group, "text", "app-chart__count"):
            x = num(text, "x")
            (seg,) = [s for s in segments if num(s, "x") < x < num(s, "x") + num(s, "width")]
            assert text_of(text) == seg.get("data-count")
            # the app's CSS sets text fill to currentcolor, so color must match fill
            assert text.get("color") == text.get("fill")
            assert charts._contrast(seg.get("fill", ""), text.get("fill", "")) >= 4.5


def test_bar_without_answers_says_so_and_nothing_divides_by_zero() -> None:
    root = parse(sections_chart())
    plans = by_class(root, "g", "app-chart__bar")[2]
    assert "No answers" in [text_of(t) for t in plans.iter(f"{NS}text")]
    assert by_class(plans, "rect", "app-chart__empty")
    assert not by_class(plans, "path", "app-chart__good")
    only_empty = stacked_bars(
        [make_bar("Nothing yet", (0, 0, 0, 0))],
        title="Empty",
        levels=LEVELS,
        chart_id="empty",
        good_keys=GOOD,
    )
    assert "No answers" in only_empty
    assert parse(stacked_bars([], title="No rows", levels=LEVELS, chart_id="none"))
    table = parse(bar_table([make_bar("Nothing", (0, 0, 0, 0))], caption="c", levels=LEVELS))
    assert "%" not in text_of(table)


def test_good_or_better_bracket_spans_the_good_levels() -> None:
    root = parse(sections_chart())
    x0, x1 = axis_span(root)
    legend = text_of(by_class(root, "g", "app-chart__legend")[0])
    assert "Good or better" in legend
    for group, bar in zip(by_class(root, "g", "app-chart__bar"), BARS, strict=True):
        total = sum(s.count for s in bar.segments)
        brackets = by_class(group, "path", "app-chart__good")
        if not total:
            assert not brackets
            continue
        good = sum(s.count for s in bar.segments if s.key in GOOD)
        (bracket,) = brackets
        xs = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", bracket.get("d", ""))]
        left, right = xs[0], xs[3]  # M x,y V y H x V y
        assert left == pytest.approx(x0, abs=1.5)
        assert right == pytest.approx(x0 + (x1 - x0) * good / total, abs=1.5)
    plain = parse(stacked_bars(BARS, title="t", levels=LEVELS, chart_id="plain"))
    assert not by_class(plain, "path", "app-chart__good")
    assert "or better" not in text_of(by_class(plain, "g", "app-chart__legend")[0])


@pytest.mark.parametrize("good", [{"good"}, {"inadequate"}, {"outstanding", "nonsense"}])
def test_good_keys_must_be_the_best_levels(good: set[str]) -> None:
    with pytest.raises(ValueError, match="good_keys"):
        stacked_bars(BARS, title="t", levels=LEVELS, chart_id="c", good_keys=good)


@pytest.mark.parametrize(
    ("bars", "levels", "chart_id", "message"),
    [
        ([Bar("b", (Segment("nope", "Nope", 1),))], LEVELS, "c", "unknown level"),
        ([Bar("b", (Segment("good", "G", 1), Segment("good", "G", 2)))], LEVELS, "c", "two"),
        ([Bar("b", (Segment("good", "G", -1),))], LEVELS, "c", "negative"),
        (BARS, LEVELS, 'c" onload="alert(1)', "chart_id"),
        (BARS, LEVELS, "1st", "chart_id"),
        (BARS, LEVELS, "", "chart_id"),
        ([], (), "c", "levels"),
        ([], [(f"l{i}", f"L{i}") for i in range(10)], "c", "levels"),
        ([], [("a", "A"), ("a", "B")], "c", "repeat"),
    ],
)
def test_bad_input_is_refused(
    bars: Sequence[Bar], levels: Sequence[tuple[str, str]], chart_id: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        stacked_bars(bars, title="t", levels=levels, chart_id=chart_id)


@pytest.mark.parametrize("n", range(2, 8))
def test_any_number_of_levels_alternates_solid_and_hatched(n: int) -> None:
    levels = [(f"level{i}", f"Level {i}") for i in range(n)]
    bar = make_bar("All levels", [3] * n, levels=levels)
    root = parse(stacked_bars([bar], title="t", levels=levels, chart_id=f"n{n}"))
    patterns = list(root.iter(f"{NS}pattern"))
    assert len(patterns) == n // 2
    pattern_ids = {p.get("id") for p in patterns}
    group = by_class(root, "g", "app-chart__bar")[0]
    hatched = by_class(group, "rect", "app-chart__hatch")
    assert len(hatched) == n // 2
    assert len(by_class(group, "rect", "app-chart__segment")) == n
    refs = re.findall(r"url\(#([^)]+)\)", str(ET.tostring(root, encoding="unicode")))
    assert refs and set(refs) <= pattern_ids, "every hatch refers to a pattern in this chart"
    solid = [s.get("fill", "") for s in by_class(group, "rect", "app-chart__segment")]
    assert solid == [fill for fill, _ in level_colours(n)]


@pytest.mark.parametrize("n", range(1, charts.MAX_LEVELS + 1))
def test_level_colours_run_dark_to_light_with_legible_text(n: int) -> None:
    colours = level_colours(n)
    assert len(colours) == n
    greys = [charts._grey(fill) for fill, _ in colours]
    assert greys == sorted(greys) and len(set(greys)) == n, "best is darkest, in greyscale too"
    for fill, text in colours:
        assert text in {"#ffffff", "#0b0c0c"}
        assert charts._contrast(fill, text) >= 4.5


def test_long_labels_wrap_inside_the_label_column() -> None:
    root = parse(sections_chart())
    x0, _ = axis_span(root)
    labels = by_class(root, "text", "app-chart__label")
    long_lines = [span.text or "" for span in labels[1].iter(f"{NS}tspan")]
    assert 2 <= len(long_lines) <= 3
    assert " ".join(long_lines).replace("…", "").startswith("Assessment and analysis")
    huge = stacked_bars(
        [make_bar("word " * 80, (1, 1, 1, 1)), make_bar("x" * 300, (1, 1, 1, 1))],
        title="t",
        levels=LEVELS,
        chart_id="huge",
    )
    root = parse(huge)
    x0, _ = axis_span(root)
    for label in by_class(root, "text", "app-chart__label"):
        lines = [span.text or "" for span in label.iter(f"{NS}tspan")]
        assert len(lines) == 3 and lines[-1].endswith("…")
        for line in lines:
            assert charts._text_width(line, 14) <= x0 - 10


# --------------------------------------------------------------------------------------------
# Escaping and the Content-Security-Policy


def evil_outputs() -> list[Markup]:
    levels = [("good", EVIL), ("bad", "Bad")]
    bar = Bar(EVIL, (Segment("good", EVIL, 3), Segment("bad", "Bad", 1)), note=EVIL)
    return [
        stacked_bars([bar], title=EVIL, levels=levels, chart_id="evil", good_keys=["good"]),
        bar_table([bar], caption=EVIL, levels=levels, good_keys=["good"], row_header=EVIL),
        proportion_chart([(EVIL, 0.5, 0.2, 0.8)], title=EVIL, chart_id="evil2"),
    ]


@pytest.mark.parametrize("markup", evil_outputs(), ids=["stacked", "table", "proportion"])
def test_labels_are_escaped(markup: Markup) -> None:
    assert isinstance(markup, Markup)
    assert "<script" not in markup
    assert "&lt;script&gt;" in markup
    root = parse(markup)  # still well-formed
    assert EVIL in text_of(root)  # and the reader sees the label as written
    assert all(not el.tag.endswith("script") for el in root.iter())


@pytest.mark.parametrize(
    "markup",
    [
        sections_chart(),
        bar_table(BARS, caption="c", levels=LEVELS, good_keys=GOOD),
        proportion_chart(ITEMS, title="t", chart_id="p"),
        *evil_outputs(),
    ],
)
def test_no_inline_styles_for_the_content_security_policy(markup: Markup) -> None:
    assert "style=" not in markup
    assert "<style" not in markup
    assert "<script" not in markup


def test_two_charts_on_one_page_have_unique_ids() -> None:
    page = parse(
        f"<div>{sections_chart('first')}{sections_chart('second')}"
        f"{proportion_chart(ITEMS, title='t', chart_id='third')}</div>"
    )
    ids = [el.get("id") for el in page.iter() if el.get("id")]
    assert len(ids) == len(set(ids)) and len(ids) >= 6
    for svg in page.iter(f"{NS}svg"):
        own = {el.get("id") for el in svg.iter() if el.get("id")}
        refs = {svg.get("aria-labelledby"), svg.get("aria-describedby")}
        refs |= set(re.findall(r"url\(#([^)]+)\)", ET.tostring(svg, encoding="unicode")))
        assert refs <= own, "each chart only refers to its own ids"


# --------------------------------------------------------------------------------------------
# The data table


def test_bar_table_gives_the_charts_data_as_a_govuk_table() -> None:
    table = parse(bar_table(BARS, caption="Grades by section", levels=LEVELS, good_keys=GOOD))
    assert table.tag == "table" and "govuk-table" in table.get("class", "").split()
    caption = table.find("caption")
    assert caption is not None and caption.text == "Grades by section"
    assert "govuk-table__caption" in caption.get("class", "").split()
    heads = table.findall("thead/tr/th")
    assert all(th.get("scope") == "col" for th in heads)
    assert [th.text for th in heads] == [
        "Section",
        *(label for _, label in LEVELS),
        "Total answers",
        "Good or better",
        "Notes",
    ]
    rows = table.findall("tbody/tr")
    assert len(rows) == len(BARS)
    for row, bar in zip(rows, BARS, strict=True):
        header = row.find("th")
        assert header is not None and header.get("scope") == "row" and header.text == bar.label
        cells = [td.text or "" for td in row.findall("td")]
        counts = [s.count for s in bar.segments]
        total = sum(counts)
        level_cells = cells[: len(LEVELS)]
        assert [int(c.split()[0]) for c in level_cells] == counts
        assert int(cells[len(LEVELS)]) == total
        assert cells[-1] == bar.note
        if total:
            shares = [int(m) for c in level_cells for m in re.findall(r"\((\d+)%\)", c)]
            assert len(shares) == len(LEVELS)
            assert abs(sum(shares) - 100) <= len(LEVELS) // 2, "off only by rounding"
            good = sum(s.count for s in bar.segments if s.key in GOOD)
            assert cells[len(LEVELS) + 1].startswith(f"{good}\u00a0(")
        else:
            assert cells[len(LEVELS) + 1] == "No answers"
    voice = [td.text for td in rows[0].findall("td")]
    assert voice[:4] == ["5\u00a0(13%)", "18\u00a0(47%)", "10\u00a0(26%)", "5\u00a0(13%)"]


def test_percentages_round_as_the_findings_notes_do() -> None:
    """Notes are written with Python's round (halves to even): 1 of 8 is 12%, 3 of 8 is 38%."""
    bar = make_bar("Eighths", (1, 3, 4, 0))
    table = parse(bar_table([bar], caption="c", levels=LEVELS, good_keys=GOOD))
    cells = [td.text for td in table.findall("tbody/tr/td")]
    assert cells[:4] == ["1\u00a0(12%)", "3\u00a0(38%)", "4\u00a0(50%)", "0\u00a0(0%)"]
    assert cells[-1] == "4\u00a0(50%)"


def test_bar_table_leaves_out_optional_columns() -> None:
    table = parse(
        bar_table([make_bar("A", (1, 1, 1, 1))], caption="c", levels=LEVELS, row_header="Team")
    )
    assert [th.text for th in table.findall("thead/tr/th")] == [
        "Team",
        *(label for _, label in LEVELS),
        "Total answers",
    ]


# --------------------------------------------------------------------------------------------
# Proportions


def test_proportion_chart_places_dots_and_intervals_on_the_axis() -> None:
    root = parse(proportion_chart(ITEMS, title="Key measures", chart_id="measures"))
    x0, x1 = axis_span(root)
    rows = by_class(root, "g", "app-chart__row")
    assert len(rows) == len(ITEMS)
    for row, (_, share, low, high) in zip(rows, ITEMS, strict=True):
        dots = by_class(row, "circle", "app-chart__dot")
        intervals = by_class(row, "path", "app-chart__interval")
        words = [text_of(t) for t in row.iter(f"{NS}text")]
        if share is None:
            assert not dots and not intervals and "No data" in words
            continue
        (dot,) = dots
        assert num(dot, "cx") == pytest.approx(x0 + (x1 - x0) * share, abs=0.5)
        if low is None or high is None:
            assert not intervals
            assert f"{round(share * 100)}%" in words
            continue
        (interval,) = intervals
        xs = [float(v) for v in re.findall(r"M(-?[\d.]+),", interval.get("d", ""))]
        assert xs[0] == pytest.approx(x0 + (x1 - x0) * low, abs=0.5)
        assert xs[-1] == pytest.approx(x0 + (x1 - x0) * high, abs=0.5)
    assert "61% (48% to 73%)" in text_of(root)
    desc = root.find(f"{NS}desc")
    assert desc is not None and "Chronology up to date: No data." in (desc.text or "")


@pytest.mark.parametrize(
    "item",
    [("a", 1.5, None, None), ("a", 0.5, 0.6, 0.8), ("a", 0.5, 0.2, None), ("a", 61.0, 48, 73)],
)
def test_proportion_chart_refuses_shares_that_are_not_fractions(
    item: tuple[str, float | None, float | None, float | None],
) -> None:
    with pytest.raises(ValueError):
        proportion_chart([item], title="t", chart_id="p")


# --------------------------------------------------------------------------------------------
# A real render, as the findings report does it


def read_pgm(path: Path) -> tuple[int, int, bytes]:
    """Read a binary PGM (what ``pdftoppm -gray`` writes): a P5 header, then one byte a pixel."""
    data = path.read_bytes()
    match = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert match, "not a binary PGM"
    width, height, maxval = (int(g) for g in match.groups())
    assert maxval == 255
    return width, height, data[match.end() : match.end() + width * height]


def no_fetching(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    """Refuse every fetch: a chart must render from its own markup alone."""
    raise ValueError(f"charts must not fetch anything, asked for {url}")


def test_render_in_weasyprint_is_legible_in_greyscale(tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        message = "pdftoppm (poppler-utils) is needed to rasterise the rendered PDF"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    import weasyprint

    even = make_bar("Even spread", (10, 10, 10, 10), "n=40")
    stacked = stacked_bars(
        [even, *BARS], title="Grades", levels=LEVELS, chart_id="grades", good_keys=GOOD
    )
    measures = proportion_chart(ITEMS, title="Measures", chart_id="measures")
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Charts</title>'
        "<style>@page { size: 760px 1400px; margin: 0 } body { margin: 0 }"
        " .app-chart { display: block; width: 100%; height: auto }</style></head>"
        f"<body>{stacked}{bar_table(BARS, caption='Grades', levels=LEVELS)}{measures}</body>"
        "</html>"
    )
    pdf = tmp_path / "charts.pdf"
    pdf.write_bytes(weasyprint.HTML(string=html, url_fetcher=no_fetching).write_pdf())
    subprocess.run(
        ["pdftoppm", "-r", "50", "-gray", "-f", "1", "-l", "1", "-singlefile", pdf, tmp_path / "p"],
        check=True,
        timeout=60,
    )
    width, _, pixels = read_pgm(tmp_path / "p.pgm")
    scale = 50 / 96  # one user unit is one CSS pixel: the chart fills the 760px page
    assert width == pytest.approx(WIDTH * scale, abs=1)

    root = parse(stacked)
    chart_height = float(root.get("viewBox", "").split()[3])
    area = pixels[: int(chart_height * scale) * width]
    dark = sum(1 for p in area if p < 90)
    mid = sum(1 for p in area if 90 <= p < 210)
    assert dark > 1000, f"only {dark} dark pixels: the chart did not render"
    assert mid > 1000, f"only {mid} mid-grey pixels: the lighter levels did not render"

    def mean(x: float, y: float, w: float, h: float) -> float:
        """Mean grey of a box given in user units, 3 units in from each edge."""
        left, right = int((x + 3) * scale), int((x + w - 3) * scale)
        top, bottom = int((y + 3) * scale), int((y + h - 3) * scale)
        values = [pixels[r * width + c] for r in range(top, bottom) for c in range(left, right)]
        assert len(values) >= 20
        return sum(values) / len(values)

    group = by_class(root, "g", "app-chart__bar")[0]
    segments = by_class(group, "rect", "app-chart__segment")
    assert len(segments) == 4
    # the left third of each quarter: clear of the count written in the middle
    greys = [
        mean(num(s, "x"), num(s, "y"), num(s, "width") / 3, num(s, "height")) for s in segments
    ]
    assert greys == sorted(greys), f"levels should print dark to light: {greys}"
    for darker, lighter in itertools.pairwise(greys):
        assert lighter - darker >= 20, f"neighbouring levels print too alike: {greys}"
