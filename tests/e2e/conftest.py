"""Fixtures for the browser tests: real Chromium (Debian's, never a downloaded one) driven by
Playwright, in front of the real proxy and agents of tests/e2e/portal_site.py.

Each test gets a fresh practice database, its own agents and proxy, a fresh browser and one
browser context, on a phone or a desktop viewport (every test runs on both), with the office
linked to the portal in dial-out mode on the phone and in listen mode on the desktop.
Screenshots and the findings report go to tests/e2e/artifacts/<test>/.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from agent.db.pool import DatabaseSettings
from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_site import PortalSite, portal_site
from tests.support.database import MariaDB, fresh_database
from tests.support.logs import LogCapture
from tests.support.practice import seed_small_practice

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"

VIEWPORTS: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}


def chromium_executable() -> str:
    """Debian's Chromium. Missing, the browser tests fail in CI (a skipped browser test
    proves nothing there) and are skipped elsewhere, with the reason."""
    if not os.access(CHROMIUM, os.X_OK):
        message = (
            f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return str(CHROMIUM)


@pytest.fixture(autouse=True)
def _chromium_before_anything_else(request: pytest.FixtureRequest) -> None:
    """A browser test looks for Chromium first, before databases and agents are set up."""
    if "browser" in request.fixturenames:
        chromium_executable()


@pytest.fixture
def other_practice_db(mariadb: MariaDB) -> Iterator[DatabaseSettings]:
    """A second office's own database (same small practice, different rows' owner)."""
    with fresh_database(mariadb) as settings:
        seed_small_practice(settings)
        yield settings


# How the office is linked to the portal, by viewport: every browser test runs once in each
# install. On the phone, the recommended one (issue 15): the agent dials out to two proxy
# replicas behind HAProxy and listens on nothing; on the desktop, the port-forwarding one: one
# proxy dials the agent. Tied to the viewport so that both run without doubling the suite.
LINK_MODES = {"phone": "dial_out", "desktop": "listen"}


@pytest.fixture(params=sorted(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def link_mode(viewport: str) -> str:
    return LINK_MODES[viewport]


@pytest.fixture
async def site(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, logs: LogCapture, link_mode: str
) -> AsyncIterator[PortalSite]:
    async with portal_site(practice_db, link_keys, tmp_path, mode=link_mode) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_executable(), args=LAUNCH_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser: Browser, viewport: str) -> AsyncIterator[Page]:
    # A time zone far from the practice's: every time shown must still be New York time.
    context = await browser.new_context(
        **VIEWPORTS[viewport], locale="en-US", timezone_id="Asia/Tokyo"
    )
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """tests/e2e/artifacts/<test name>-<viewport>/."""
    return ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")


@pytest.fixture
def checks(page: Page, artifacts: Path, site: PortalSite) -> PageChecks:
    return PageChecks(page, artifacts, site.port)


@pytest.fixture
def patient(page: Page, checks: PageChecks, viewport: str) -> Patient:
    return Patient(page, checks, touch=bool(VIEWPORTS[viewport].get("has_touch")))
