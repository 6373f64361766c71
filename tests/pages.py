"""Read a PDF's pages as a reader sees them: size, text lines with positions, how full.

Used by tests/test_word_layout.py on the Word files (rendered by LibreOffice) and on the
PDF (WeasyPrint). Text comes from poppler's ``pdftotext -bbox-layout`` (words, lines and
blocks with their boxes, in points from the top left); how full a page is comes from its
image (``pdftoppm``), so charts count as much as text.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from PIL import Image

MM = 72 / 25.4
_NS = {"x": "http://www.w3.org/1999/xhtml"}
# Darker than this is ink; the DRAFT watermark (#ddd) is lighter, so it does not count.
INK = 200
RESOLUTION = 24  # dots per inch for measuring how full a page is: plenty for a third


@dataclass
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Line:
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def y0(self) -> float:
        return min(w.y0 for w in self.words)

    @property
    def y1(self) -> float:
        return max(w.y1 for w in self.words)


@dataclass
class Block:
    lines: list[Line]

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)

    @property
    def y0(self) -> float:
        return min(line.y0 for line in self.lines)

    @property
    def y1(self) -> float:
        return max(line.y1 for line in self.lines)


@dataclass
class Page:
    """One page: its size in points, its text blocks, and the lowest ink in its body."""

    number: int
    width: float
    height: float
    blocks: list[Block] = field(default_factory=list)
    ink_bottom: float | None = None  # points from the top; None when the body is blank
    body: tuple[float, float] = (0.0, 0.0)  # top and bottom of the text area, in points

    @property
    def landscape(self) -> bool:
        return self.width > self.height

    @property
    def a4(self) -> bool:
        size = sorted((round(self.width), round(self.height)))
        return abs(size[0] - 595) <= 1 and abs(size[1] - 842) <= 1

    def body_blocks(self) -> list[Block]:
        """Return the blocks between the margins (not the running header or footer)."""
        top, bottom = self.body
        return [b for b in self.blocks if b.y0 >= top - 2 and b.y1 <= bottom + 2]

    def body_lines(self) -> list[Line]:
        return sorted((line for b in self.body_blocks() for line in b.lines), key=lambda ln: ln.y0)

    def words(self) -> list[Word]:
        return [w for b in self.blocks for line in b.lines for w in line.words]

    @property
    def text(self) -> str:
        return " ".join(b.text for b in self.blocks)

    @property
    def fullness(self) -> float:
        """Return how far down the text area the page's content reaches, from 0 to 1."""
        top, bottom = self.body
        if self.ink_bottom is None:
            return 0.0
        return max(0.0, min(1.0, (self.ink_bottom - top) / (bottom - top)))


def _margins(page: Page, margins: dict[str, tuple[float, float]]) -> tuple[float, float]:
    top, bottom = margins["landscape" if page.landscape else "portrait"]
    return top * MM, page.height - bottom * MM


def read_pages(pdf: Path, margins: dict[str, tuple[float, float]]) -> list[Page]:
    """Read every page of ``pdf``; ``margins`` gives (top, bottom) in mm for each orientation."""
    xml = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, check=True
    ).stdout
    root = etree.fromstring(xml, etree.XMLParser(recover=True, huge_tree=True))
    pages = []
    for number, page_el in enumerate(root.iterfind(".//x:page", _NS), start=1):
        page = Page(number, float(page_el.get("width")), float(page_el.get("height")))
        for block_el in page_el.iterfind(".//x:block", _NS):
            lines = []
            for line_el in block_el.iterfind("x:line", _NS):
                words = [
                    Word(
                        w.text or "",
                        float(w.get("xMin")),
                        float(w.get("yMin")),
                        float(w.get("xMax")),
                        float(w.get("yMax")),
                    )
                    for w in line_el.iterfind("x:word", _NS)
                ]
                if words:
                    lines.append(Line(words))
            if lines:
                page.blocks.append(Block(lines))
        page.body = _margins(page, margins)
        pages.append(page)
    _measure_ink(pdf, pages)
    return pages


def _measure_ink(pdf: Path, pages: list[Page]) -> None:
    """Find the lowest ink between each page's margins, from a greyscale image of the page."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            ["pdftoppm", "-gray", "-r", str(RESOLUTION), str(pdf), f"{folder}/p"], check=True
        )
        images = sorted(
            Path(folder).glob("p*.pgm"), key=lambda p: int(re.findall(r"\d+", p.stem)[-1])
        )
        for page, path in zip(pages, images, strict=True):
            with Image.open(path) as image:
                scale = image.height / page.height
                top, bottom = (int(v * scale) for v in page.body)
                pixels = image.load()
                lowest = None
                for y in range(min(bottom, image.height) - 1, max(top, 0) - 1, -1):
                    if any(pixels[x, y] < INK for x in range(image.width)):
                        lowest = y
                        break
                page.ink_bottom = None if lowest is None else (lowest + 1) / scale


def split_words(pages: list[Page], targets: set[str]) -> list[str]:
    """Return each target word that a page splits across two lines ("Outstan" / "ding").

    A split is the word's start ending one line and its rest starting the line below, at or
    left of where the start began: the next line of the same table cell.
    """
    found = []
    for page in pages:
        tokens: dict[str, list[Word]] = {}
        for word in page.words():
            tokens.setdefault(word.text.strip(".,;:()“”\"'"), []).append(word)
            if word.text.endswith("-"):
                tokens.setdefault(word.text[:-1], []).append(word)
        for target in targets:
            for cut in range(1, len(target)):
                for head in tokens.get(target[:cut], ()):
                    for tail in tokens.get(target[cut:], ()):
                        height = head.y1 - head.y0
                        below = head.y0 + 0.5 * height < tail.y0 < head.y1 + 1.5 * height
                        if below and tail.x0 <= head.x0 + 2:
                            found.append(f"page {page.number}: {head.text} / {tail.text}")
    return found


def words_of(text: str) -> set[str]:
    """Return the words of a heading or label worth checking (letters only, three or more)."""
    return {w for w in re.findall(r"[A-Za-z][A-Za-z\u2019']+", text) if len(w) >= 3}
