"""Every page of the crawl on a phone-sized window, as one person: what the person must see.

Used by the ``test_narrow_pages_*`` files, one per role so pytest-xdist (``--dist loadfile``)
spreads them over its workers. One browser context per role, signed in once, visits every page
``tests/crawl.py`` lists (downloads left out) at 375 px and checks, in one script per page:

- the page never scrolls sideways: ``document.documentElement.scrollWidth`` is at most the
  window's width (a wide table scrolls inside its own box instead);
- a box that does scroll sideways is a labelled region in the Tab order, its table's caption
  held inside it (a caption as wide as the table would be cut off unread);
- a chart shown keeps labels at least 9 px high (or gives way to its table);
- a row of buttons keeps its distance (10 px) from what follows it;
- nothing took focus as the page loaded, except the result of a post (a notification banner
  with role="alert" or an error summary);
- dates and times read the UK way: no ISO date (2026-10-27) and no "UTC" in the text shown
  (code, inputs and text areas aside);
- links with the same words go to the same place (visually hidden context tells them apart).

axe runs once per kind of page where the narrow layout differs (a box scrolls, a chart gave
way), so the regions' roles and names are checked too without running axe on every page.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page

from tests.crawl import urls_in

from .conftest import NARROW, LiveServer, console_log, recorded_page, sign_in

# Downloads: a browser would save them, not show them.
DOWNLOAD = re.compile(r"/export/|/bundle(?:/[^/]+)?$|\.json$")
# Ids in a path, so the pages of one kind are checked with axe once.
RECORD_ID = re.compile(r"/(?:[0-9a-f]{8}-[0-9a-f-]{27}|\d+)(?=/|$)")
SMALLEST_LABEL_PX = 9
# Buttons in a row wrap on a phone; the last must not touch the heading below it.
SMALLEST_GAP_PX = 10

PAGE_CHECKS = r"""() => {
    const problems = [];
    const width = window.innerWidth;
    const scroll = document.documentElement.scrollWidth;
    if (scroll > width) {
        const wide = [...document.querySelectorAll('main *')]
            .filter((el) => el.getBoundingClientRect().right > width + 1)
            .slice(0, 3).map((el) => el.tagName.toLowerCase() + '.' + el.classList[0]);
        problems.push(`the page is ${scroll} px wide in a ${width} px window (${wide})`);
    }
    let narrowLayout = false;
    for (const el of document.querySelectorAll('main *')) {
        // Cheap test first (layout is done once); the computed style only for overflowing boxes.
        if (el.scrollWidth <= el.clientWidth + 1) continue;
        if (!['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) continue;
        narrowLayout = true;
        const name = el.getAttribute('aria-label') || (el.getAttribute('aria-labelledby')
            ? (document.getElementById(el.getAttribute('aria-labelledby')) || {}).textContent
            : '');
        if (el.getAttribute('role') !== 'region' || el.tabIndex !== 0 || !(name || '').trim()) {
            problems.push('a box scrolls sideways but is not a labelled, focusable region: '
                + el.outerHTML.slice(0, 120));
        }
        // A caption as wide as its table would be cut off at the box's edge, unread.
        const caption = el.querySelector(':scope > table > caption');
        const outer = el.getBoundingClientRect();
        const inner = caption && caption.getBoundingClientRect();
        const outside = inner && (inner.left < outer.left - 1 || inner.right > outer.right + 1);
        if (outside && inner.width > 1) {
            problems.push(`the caption "${caption.textContent.trim().slice(0, 60)}" runs past `
                + `its scrolling box (${Math.round(inner.width)} px in ${outer.width} px)`);
        }
    }
    for (const chart of document.querySelectorAll('svg.app-chart')) {
        if (!chart.getBoundingClientRect().width) { narrowLayout = true; continue; }
        const small = [...chart.querySelectorAll('text')]
            .map((t) => t.getBoundingClientRect().height)
            .filter((h) => h > 0 && h < SMALLEST_LABEL);
        if (small.length) {
            problems.push(`a chart shows labels ${Math.min(...small).toFixed(1)} px high`);
        }
    }
    const buttonRows = 'main .app-inline-forms, main .govuk-button-group';
    for (const row of document.querySelectorAll(buttonRows)) {
        // Measured from the buttons themselves: GOV.UK's button group holds its buttons'
        // bottom margins inside its own box, so the box's edge is not where the eye sees it.
        const controls = [...row.querySelectorAll('.govuk-button, button, a')]
            .map((control) => control.getBoundingClientRect()).filter((box) => box.height);
        let next = row.nextElementSibling;
        while (next && !next.getBoundingClientRect().height) next = next.nextElementSibling;
        if (!next || !controls.length) continue;
        const bottom = Math.max(...controls.map((box) => box.bottom));
        const gap = next.getBoundingClientRect().top - bottom;
        if (gap < SMALLEST_GAP) {
            problems.push(`a row of buttons is ${Math.round(gap)} px from the `
                + `${next.tagName.toLowerCase()} after it: ${row.textContent.trim().slice(0, 60)}`);
        }
    }
    const focused = document.activeElement;
    if (focused && focused !== document.body && !focused.matches(
            '.govuk-notification-banner[role="alert"], .govuk-error-summary')) {
        problems.push('focus moved as the page loaded, to ' + focused.outerHTML.slice(0, 120));
    }
    const machine = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const found = node.data.match(/\b\d{4}-\d{2}-\d{2}\b|\bUTC\b/g);
        if (found && !node.parentElement.closest('code, pre, textarea, script, select')) {
            machine.push(...found);
        }
    }
    if (machine.length) {
        problems.push(`dates or times not in the UK form: ${[...new Set(machine)].slice(0, 3)}`);
    }
    const links = new Map();
    for (const a of document.querySelectorAll('a[href]')) {
        const words = (a.getAttribute('aria-label') || a.textContent).replace(/\s+/g, ' ').trim();
        if (!links.has(words)) links.set(words, new Set());
        links.get(words).add(a.href);
    }
    for (const [words, places] of links) {
        if (places.size > 1) problems.push(`${places.size} links read "${words}" but differ`);
    }
    return {problems, narrowLayout};
}""".replace("SMALLEST_LABEL", str(SMALLEST_LABEL_PX)).replace("SMALLEST_GAP", str(SMALLEST_GAP_PX))


def _kind(url: str) -> str:
    return RECORD_ID.sub("/…", url)


def _axe(page: Page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"axe {v['id']}: {v.get('help')} ({', '.join(' '.join(n['target']) for n in v['nodes'])})"
        for v in results.response["violations"]
    ]


def crawl_narrow(
    browser: Browser, live_server: LiveServer, username: str, least: int = 20
) -> list[str]:
    """Visit every page as ``username`` at 375 px; return the problems, one line per kind.

    ``least``: how many pages the person must be able to open, so a crawl that lost its way
    (signed out, or listing the wrong pages) fails instead of passing on nothing.

    A problem found on many pages of one kind (every audit page, say) is reported once, with
    the first page it was seen on and how many pages have it.
    """
    pages = urls_in(str(Path(live_server.instance) / "audit.db"))
    pages = [url for url in pages if not DOWNLOAD.search(url)]
    found_on: dict[tuple[str, str], list[str]] = {}
    seen_kinds: set[str] = set()
    visited = 0
    with recorded_page(browser, live_server, NARROW) as page:
        record = console_log(page)
        sign_in(page, live_server, username)
        for url in pages:
            response = page.goto(url, wait_until="domcontentloaded")
            if response is None or response.status >= 400:
                # A page this role may not see (access is tested elsewhere): the browser
                # logs the refusal as a console error, which is no fault of the page.
                page.wait_for_timeout(20)
                record.checked = len(record.errors)
                continue
            visited += 1
            found = page.evaluate(PAGE_CHECKS)
            kind = _kind(url)
            problems = list(found["problems"])
            if found["narrowLayout"] and kind not in seen_kinds:
                seen_kinds.add(kind)
                problems += _axe(page)
            problems += record.unchecked()
            record.checked = len(record.errors)
            for problem in problems:
                found_on.setdefault((kind, problem), []).append(url)
    assert visited >= least, f"{username} could open only {visited} pages: is the crawl right?"
    return [
        f"{username} {where[0]}"
        + (f" (and {len(where) - 1} more of its kind)" if len(where) > 1 else "")
        + f": {problem}"
        for (_kind_of, problem), where in found_on.items()
    ]
