"""Every page of the crawl as the admin, 375 px wide: see narrow.py for what is checked and why."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from .conftest import LiveServer
from .narrow import crawl_narrow

pytestmark = pytest.mark.browser


def test_every_page_fits_a_phone_as_the_admin(browser: Browser, live_server: LiveServer) -> None:
    problems = crawl_narrow(browser, live_server, "admin")
    assert not problems, f"{len(problems)} problem(s) at 375 px:\n" + "\n".join(problems)
