"""Every page of the crawl as an agency auditor, 375 px wide (see narrow.py): two agencies.

The agency auditor is one role; social care and education between them open every page kind
(police and health open the same templates), and the suite stays within its time budget.

The demo's partnership audit has an auditor for each agency; each sees only the children their
agency knows, their own agency's audits, and the panels (audit discussions) once open.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from .conftest import LiveServer
from .narrow import crawl_narrow

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("username", ["social1", "school1"])
def test_every_page_fits_a_phone_as_an_agency_auditor(
    browser: Browser, live_server: LiveServer, username: str
) -> None:
    # The home page, reviews, account, two partnership audits, their agency audits and panels.
    problems = crawl_narrow(browser, live_server, username, least=10)
    assert not problems, f"{len(problems)} problem(s) at 375 px:\n" + "\n".join(problems)
